#include "stitch/vips_tile.hpp"

#include <fmt/format.h>

#include "stitch/vips_format.hpp"
#include "tessera/core/error.hpp"

namespace tessera::stitch::detail {

using image::detail::take_vips_error;
using image::detail::VipsRef;

VipsRef open_tile_image(const Tile& tile, const cv::Mat& pixels, const TileFormat& format) {
  const int depth = CV_MAT_DEPTH(format.type);
  VipsRef in;
  if (!pixels.empty()) {
    in = VipsRef(vips_image_new_from_memory(pixels.data, pixels.total() * pixels.elemSize(),
                                            pixels.cols, pixels.rows, pixels.channels(),
                                            vips_format_of(depth)));
  } else {
    in = VipsRef(vips_image_new_from_file(tile.path.c_str(), "access", VIPS_ACCESS_SEQUENTIAL,
                                          "fail_on", VIPS_FAIL_ON_ERROR, nullptr));
  }
  if (!in)
    throw Error(ErrorCode::corrupt,
                fmt::format("stitch: cannot read tile '{}': {}", tile.name, take_vips_error()));
  if (vips_image_get_width(in.get()) != format.size.width ||
      vips_image_get_height(in.get()) != format.size.height ||
      vips_image_get_bands(in.get()) != CV_MAT_CN(format.type)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("stitch: tile '{}' changed since it was registered", tile.name));
  }
  if (vips_image_get_format(in.get()) !=
      vips_format_of(depth)) {  // an unsigned 32-bit file: widened as decode does
    VipsRef cast;
    if (vips_cast(in.get(), cast.out(), vips_format_of(depth), nullptr) != 0) {
      throw Error(ErrorCode::corrupt,
                  fmt::format("stitch: tile '{}': {}", tile.name, take_vips_error()));
    }
    in = std::move(cast);
  }
  return in;
}

}  // namespace tessera::stitch::detail
