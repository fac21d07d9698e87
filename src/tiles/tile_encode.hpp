#pragma once

#include <opencv2/core.hpp>
#include <string>
#include <string_view>

#include "tessera/tiles/render_spec.hpp"

namespace tessera::tiles::detail {

// Encodes one tile. pixels: 8-bit, 1 (grey), 3 (RGB) or 4 (RGBA) channels, at most 256 x 256. A tile
// on the right or bottom edge of a level is padded to 256 x 256: with transparent pixels in PNG and WebP
// (grey and RGB tiles gain an alpha channel), with black in JPEG (which has no alpha; RGBA loses it), so
// that every tile of the grid has the same size as map viewers expect.
std::string encode_tile(const cv::Mat& pixels, TileFormat format);

// Cheap check that bytes are a whole tile file of the format (its end marker or declared length), so a
// file cut short by a crash is rendered again instead of being served.
bool is_complete_tile(std::string_view bytes, TileFormat format);

}  // namespace tessera::tiles::detail
