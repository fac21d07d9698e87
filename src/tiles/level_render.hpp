#pragma once

#include <filesystem>
#include <functional>
#include <string_view>

#include <opencv2/core.hpp>

#include "image/vips_session.hpp"
#include "tessera/tiles/render_spec.hpp"
#include "tessera/tiles/tile_grid.hpp"

namespace tessera::tiles::detail {

// The spec's frame and channels of the source file at full resolution in the source's pixel type, opened
// lazily for top-to-bottom reading: libvips streams it, so a level of a 100k x 100k image is made without
// holding the image. Error{corrupt} when the file cannot be opened or its size differs from the catalog's.
image::detail::VipsRef open_selection(const std::filesystem::path& file, const SourceImage& source,
                                      const RenderSpec& spec);

// One level as 8-bit display samples (lazy): the selection box-averaged by level.scale (edge pixels with
// the edge repeated), then mapped through the window.
image::detail::VipsRef display_level(image::detail::VipsRef selection, const Level& level, const WindowSpec& spec,
                                     const Window& window, std::string_view name);

// Computes an area of a display level (level pixels) into an 8-bit cv::Mat with the level's channels.
cv::Mat render_area(VipsImage* level, cv::Rect area, std::string_view name);

// Streams a whole display level through one pipeline from top to bottom (a sequentially read source
// cannot serve a second pass), handing `row` each strip of up to 256 full-width rows with its tile row.
// Holds one strip at a time. An exception thrown by `row` stops the stream and is rethrown.
void for_each_tile_row(VipsImage* level, const std::function<void(int tile_row, const cv::Mat& strip)>& row,
                       std::string_view name);

}  // namespace tessera::tiles::detail
