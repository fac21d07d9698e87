#pragma once

#include <opencv2/core.hpp>

#include "image/vips_session.hpp"
#include "tessera/stitch/tile.hpp"

namespace tessera::stitch::detail {

// A tile as a libvips image of the mosaic's band format: `pixels` (continuous, the tile's own
// image) wrapped without a copy when given, else the tile's file opened for top-to-bottom reading.
// Thread-safe. Throws Error{corrupt} naming the tile when the file cannot be opened,
// Error{invalid_argument} when its size or bands differ from `format` (the file changed since
// registration).
image::detail::VipsRef open_tile_image(const Tile& tile, const cv::Mat& pixels,
                                       const TileFormat& format);

}  // namespace tessera::stitch::detail
