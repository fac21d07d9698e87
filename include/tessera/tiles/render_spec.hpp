#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/image/image.hpp"

namespace tessera::tiles {

enum class TileFormat { png, jpg, webp };

std::string_view to_string(TileFormat format);                       // "png", "jpg", "webp" (also the file extension)
std::string_view media_type(TileFormat format);                      // "image/png", "image/jpeg", "image/webp"
std::optional<TileFormat> parse_tile_format(std::string_view text);  // "png", "jpg"/"jpeg", "webp"

// The image a pyramid is cut from: its blob and what the catalog already knows of it, so that finding a
// cached tile needs no decode. width and height are those of one frame.
struct SourceImage {
  std::string blob_hash;
  int width = 0;
  int height = 0;
  int channels = 1;
  int frames = 1;
  image::PixelType pixel_type = image::PixelType::u8;
};

// Percentiles of the auto window when the request names none: ImageJ's "auto" saturates a similar share.
inline constexpr double kDefaultLowPercentile = 0.5;
inline constexpr double kDefaultHighPercentile = 99.5;

// How sample values become 8-bit display values: v -> round(255 * (v - min) / (max - min)), clipped.
struct WindowSpec {
  enum class Mode {
    identity,     // 8-bit samples shown as they are (the default for u8 images)
    range,        // min and max given by the caller
    percentiles,  // min and max are the low and high percentiles of the frame's selected samples
  };
  Mode mode = Mode::identity;
  double min = 0;
  double max = 255;
  double low = kDefaultLowPercentile;
  double high = kDefaultHighPercentile;
};

// A resolved window: the numbers a WindowSpec stands for on one image.
struct Window {
  double min = 0;
  double max = 255;
};

// Everything that decides the pixels of a tile besides its position.
struct RenderSpec {
  int frame = 0;
  std::vector<int> channels;  // 1 (grey), 3 (RGB) or 4 (RGBA) source channel indices
  WindowSpec window;
  TileFormat format = TileFormat::png;
};

// A request's query parameters as text; absent ones take their defaults.
struct RenderQuery {
  std::optional<std::string> frame;     // "0" .. frames-1; default 0
  std::optional<std::string> channels;  // "2" or "0,1,2" (1, 3 or 4 indices); default below
  std::optional<std::string> min;       // both min and max, or neither
  std::optional<std::string> max;
  std::optional<std::string> percentiles;  // "0.5,99.5": auto window from these percentiles
};

// Checks the query against the source and fills in defaults: channels = all when the image has 1, 3 or 4,
// else channel 0; window = identity for u8, the default percentiles for every other pixel type.
// Error{invalid_argument} naming the parameter and what was given, e.g. "tiles: parameter 'frame'
// must be an integer in [0, 2], got '7'".
RenderSpec resolve_render_spec(const SourceImage& source, const RenderQuery& query, TileFormat format);

// Canonical text naming the tiles of (source, spec): equal specs give equal keys, and the renderer's
// version is part of it so a change in rendering never serves stale tiles.
std::string pyramid_key(const SourceImage& source, const RenderSpec& spec);
// As pyramid_key, without the format: the key of the resolved window, shared by every format.
std::string window_key(const SourceImage& source, const RenderSpec& spec);

}  // namespace tessera::tiles
