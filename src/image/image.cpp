#include "tessera/image/image.hpp"

#include <fmt/format.h>

#include "tessera/core/error.hpp"

namespace tessera::image {

std::string_view to_string(PixelType type) {
  switch (type) {
    case PixelType::u8: return "u8";
    case PixelType::i8: return "i8";
    case PixelType::u16: return "u16";
    case PixelType::i16: return "i16";
    case PixelType::u32: return "u32";
    case PixelType::i32: return "i32";
    case PixelType::f32: return "f32";
    case PixelType::f64: return "f64";
  }
  return "u8";
}

std::optional<PixelType> parse_pixel_type(std::string_view text) {
  for (PixelType t : {PixelType::u8, PixelType::i8, PixelType::u16, PixelType::i16, PixelType::u32,
                      PixelType::i32, PixelType::f32, PixelType::f64}) {
    if (to_string(t) == text) return t;
  }
  return std::nullopt;
}

PixelType pixel_type_of(const cv::Mat& mat) {
  switch (mat.depth()) {
    case CV_8U: return PixelType::u8;
    case CV_8S: return PixelType::i8;
    case CV_16U: return PixelType::u16;
    case CV_16S: return PixelType::i16;
    case CV_32S: return PixelType::i32;
    case CV_32F: return PixelType::f32;
    case CV_64F: return PixelType::f64;
    default:
      throw Error(ErrorCode::unsupported, fmt::format("unsupported OpenCV depth {}", mat.depth()));
  }
}

}  // namespace tessera::image
