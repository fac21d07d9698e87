#include "tiles/level_render.hpp"

#include <fmt/format.h>

#include <cstring>
#include <exception>
#include <vector>

#include "tessera/core/error.hpp"

namespace tessera::tiles::detail {
namespace {

using image::detail::VipsRef;

[[noreturn]] void fail(std::string_view name, std::string_view doing) {
  throw Error(ErrorCode::corrupt,
              fmt::format("tiles: {}: cannot {}: {}", name, doing, image::detail::take_vips_error()));
}

bool is_all_in_order(const std::vector<int>& channels, int bands) {
  if (static_cast<int>(channels.size()) != bands) return false;
  for (int c = 0; c < bands; ++c) {
    if (channels[static_cast<size_t>(c)] != c) return false;
  }
  return true;
}

bool is_contiguous(const std::vector<int>& channels) {
  for (size_t i = 1; i < channels.size(); ++i) {
    if (channels[i] != channels[i - 1] + 1) return false;
  }
  return true;
}

VipsRef select_bands(VipsRef in, const std::vector<int>& channels, std::string_view name) {
  const int bands = vips_image_get_bands(in.get());
  for (int c : channels) {
    if (c < 0 || c >= bands) {
      throw Error(ErrorCode::corrupt,
                  fmt::format("tiles: {}: has {} channels, channel {} was asked for", name, bands, c));
    }
  }
  if (is_all_in_order(channels, bands)) return in;
  VipsRef out;
  if (is_contiguous(channels)) {
    if (vips_extract_band(in.get(), out.out(), channels.front(), "n", static_cast<int>(channels.size()), nullptr) !=
        0) {
      fail(name, "select channels");
    }
    return out;
  }
  std::vector<VipsRef> singles;
  std::vector<VipsImage*> pointers;
  for (int c : channels) {
    VipsRef one;
    if (vips_extract_band(in.get(), one.out(), c, nullptr) != 0) fail(name, "select channels");
    pointers.push_back(one.get());
    singles.push_back(std::move(one));
  }
  if (vips_bandjoin(pointers.data(), out.out(), static_cast<int>(pointers.size()), nullptr) != 0) {
    fail(name, "join channels");
  }
  return out;
}

}  // namespace

Selection open_selection(const std::filesystem::path& file, const SourceImage& source, const RenderSpec& spec) {
  image::detail::ensure_vips();
  const std::string name = fmt::format("image {}", source.blob_hash.substr(0, 12));
  const char* loader = vips_foreign_find_load(file.c_str());
  if (loader == nullptr) fail(name, "recognise the image file");
  // TIFF reads tiles and strips where asked, so a block far down needs no rows above it (measured on a
  // 20000^2 tiled TIFF: 0.8 s for its last block, in 80 MB); the other loaders only read from the top.
  const bool random_access = std::string_view(loader).find("Tiff") != std::string_view::npos;
  const VipsAccess access = random_access ? VIPS_ACCESS_RANDOM : VIPS_ACCESS_SEQUENTIAL;
  VipsRef opened;
  // Only multi-page loaders know "page"; a single-frame file must not be asked for one.
  if (source.frames > 1) {
    opened = VipsRef(vips_image_new_from_file(file.c_str(), "access", access, "fail_on", VIPS_FAIL_ON_ERROR, "page",
                                              spec.frame, nullptr));
  } else {
    opened = VipsRef(vips_image_new_from_file(file.c_str(), "access", access, "fail_on", VIPS_FAIL_ON_ERROR, nullptr));
  }
  if (!opened) fail(name, "open the image file");
  const int width = vips_image_get_width(opened.get());
  const int height = vips_image_get_height(opened.get());
  if (width != source.width || height != source.height) {
    throw Error(ErrorCode::corrupt, fmt::format("tiles: {}: the file is {}x{} but the catalog says {}x{}", name, width,
                                                height, source.width, source.height));
  }
  return {select_bands(std::move(opened), spec.channels, name), random_access};
}

VipsRef display_level(VipsRef selection, const Level& level, const WindowSpec& spec, const Window& window,
                      std::string_view name) {
  VipsRef shrunk = std::move(selection);
  if (level.scale > 1) {
    VipsRef out;
    const auto factor = static_cast<double>(level.scale);
    if (vips_shrink(shrunk.get(), out.out(), factor, factor, "ceil", TRUE, nullptr) != 0) fail(name, "shrink");
    shrunk = std::move(out);
  }
  if (vips_image_get_width(shrunk.get()) != level.width || vips_image_get_height(shrunk.get()) != level.height) {
    throw Error(ErrorCode::internal, fmt::format("tiles: {}: level {} came out {}x{} instead of {}x{}", name, level.z,
                                                 vips_image_get_width(shrunk.get()),
                                                 vips_image_get_height(shrunk.get()), level.width, level.height));
  }
  const bool is_uchar = vips_image_get_format(shrunk.get()) == VIPS_FORMAT_UCHAR;
  if (spec.mode == WindowSpec::Mode::identity && is_uchar) return shrunk;
  // v -> (v - min) * 255 / (max - min), plus 0.5 because the cast to 8 bits truncates (and clips).
  const double gain = 255.0 / (window.max - window.min);
  VipsRef mapped;
  if (vips_linear1(shrunk.get(), mapped.out(), gain, 0.5 - window.min * gain, nullptr) != 0) fail(name, "window");
  VipsRef display;
  if (vips_cast(mapped.get(), display.out(), VIPS_FORMAT_UCHAR, nullptr) != 0) fail(name, "convert to 8 bits");
  return display;
}

cv::Mat render_area(VipsImage* level, cv::Rect area, std::string_view name) {
  VipsRef part;
  if (vips_extract_area(level, part.out(), area.x, area.y, area.width, area.height, nullptr) != 0) {
    fail(name, "cut an area");
  }
  size_t size = 0;
  void* memory = vips_image_write_to_memory(part.get(), &size);
  if (memory == nullptr) fail(name, "decode pixels");
  const int bands = vips_image_get_bands(part.get());
  cv::Mat pixels(area.height, area.width, CV_8UC(bands));
  const size_t expected = pixels.total() * pixels.elemSize();
  if (size != expected) {
    g_free(memory);
    throw Error(ErrorCode::internal, fmt::format("tiles: {}: area of {} bytes, expected {}", name, size, expected));
  }
  std::memcpy(pixels.data, memory, expected);
  g_free(memory);
  return pixels;
}

namespace {

struct StripSink {
  const std::function<void(int, const cv::Mat&)>& row;
  cv::Rect area;
  cv::Mat strip;  // up to kTileSize rows of the area's columns
  std::exception_ptr failure;
  bool finished = false;
};

// vips_sink_disc hands over full-width areas in top-to-bottom order; their heights need not line up with
// tile rows, so rows are gathered until a tile row of the area is complete. Returning -1 stops the sink:
// for a failure, or once the area is done (finished), which is no failure.
int gather_rows(VipsRegion* region, VipsRect* rect, void* user) {
  auto* sink = static_cast<StripSink*>(user);
  try {
    const size_t row_bytes = sink->strip.cols * sink->strip.elemSize();
    const int bottom = sink->area.y + sink->area.height;
    for (int y = std::max(rect->top, sink->area.y); y < std::min(rect->top + rect->height, bottom); ++y) {
      const int in_strip = (y - sink->area.y) % kTileSize;
      std::memcpy(sink->strip.ptr(in_strip), VIPS_REGION_ADDR(region, sink->area.x, y), row_bytes);
      if (in_strip == kTileSize - 1 || y == bottom - 1) {
        sink->row(y / kTileSize, sink->strip.rowRange(0, in_strip + 1));
      }
    }
    if (rect->top + rect->height >= bottom) {
      sink->finished = true;
      return -1;
    }
    return 0;
  } catch (...) {
    sink->failure = std::current_exception();
    return -1;
  }
}

}  // namespace

void stream_rows(VipsImage* level, cv::Rect area, const std::function<void(int, const cv::Mat&)>& row,
                 std::string_view name) {
  if (area.y % kTileSize != 0 || area.empty() ||
      (area & cv::Rect(0, 0, vips_image_get_width(level), vips_image_get_height(level))) != area) {
    throw Error(ErrorCode::internal, fmt::format("tiles: {}: cannot stream area {}x{}+{}+{} of the level", name,
                                                 area.width, area.height, area.x, area.y));
  }
  StripSink sink{row, area, cv::Mat(std::min(kTileSize, area.height), area.width, CV_8UC(vips_image_get_bands(level))),
                 nullptr, false};
  if (vips_sink_disc(level, gather_rows, &sink) != 0) {
    if (sink.finished && !sink.failure) {
      image::detail::take_vips_error();  // the stop we asked for
      return;
    }
    if (sink.failure) {
      image::detail::take_vips_error();
      std::rethrow_exception(sink.failure);
    }
    fail(name, "stream the level");
  }
}

}  // namespace tessera::tiles::detail
