#pragma once

#include <filesystem>
#include <functional>
#include <opencv2/core.hpp>
#include <string_view>

#include "image/vips_session.hpp"
#include "tessera/tiles/render_spec.hpp"
#include "tessera/tiles/tile_grid.hpp"

namespace tessera::tiles::detail {

// The spec's frame and channels of the source file at full resolution in the source's pixel type, opened
// lazily: libvips reads the file as pixels are asked for, so a level of a 100k x 100k image is made
// without holding the image.
struct Selection {
  image::detail::VipsRef image;
  // TIFF (tiled or in strips) is read where asked; other formats (PNG, JPEG, ...) only from the top down,
  // so an area of them must be reached by streaming past the rows above it (stream_rows).
  bool random_access = false;
};
// Error{corrupt} when the file cannot be opened or its size differs from the catalog's.
Selection open_selection(const std::filesystem::path& file, const SourceImage& source, const RenderSpec& spec);

// One level as 8-bit display samples (lazy): the selection box-averaged by level.scale (edge pixels with
// the edge repeated), then mapped through the window.
image::detail::VipsRef display_level(image::detail::VipsRef selection, const Level& level, const WindowSpec& spec,
                                     const Window& window, std::string_view name);

// Computes an area of a display level (level pixels) into an 8-bit cv::Mat with the level's channels, in
// one request to libvips: for sources with random access.
cv::Mat render_area(VipsImage* level, cv::Rect area, std::string_view name);

// Streams a display level through one pipeline from the top (as a sequentially read source requires) down
// to the bottom of `area`, whose top is on a tile row, handing `row` each tile row's strip of the area (up
// to 256 rows, the area's columns) with its tile row index. Holds one strip at a time and stops reading
// below the area. An exception thrown by `row` stops the stream and is rethrown.
void stream_rows(VipsImage* level, cv::Rect area, const std::function<void(int tile_row, const cv::Mat& strip)>& row,
                 std::string_view name);

}  // namespace tessera::tiles::detail
