#pragma once

#include <string>

#include <vips/vips.h>

namespace tessera::image::detail {

// Starts libvips once per process, with its operation cache off: the import streams many small images
// and a cache would only grow the resident set.
void ensure_vips();

// The text of libvips' error buffer, cleared, with trailing newlines removed.
std::string take_vips_error();

// Owns one VipsImage reference.
class VipsRef {
 public:
  VipsRef() = default;
  explicit VipsRef(VipsImage* image) : image_(image) {}
  VipsRef(const VipsRef&) = delete;
  VipsRef& operator=(const VipsRef&) = delete;
  VipsRef(VipsRef&& other) noexcept : image_(other.image_) { other.image_ = nullptr; }
  VipsRef& operator=(VipsRef&& other) noexcept {
    std::swap(image_, other.image_);
    return *this;
  }
  ~VipsRef() {
    if (image_ != nullptr) g_object_unref(image_);
  }
  VipsImage* get() const { return image_; }
  VipsImage** out() { return &image_; }
  explicit operator bool() const { return image_ != nullptr; }

 private:
  VipsImage* image_ = nullptr;
};

}  // namespace tessera::image::detail
