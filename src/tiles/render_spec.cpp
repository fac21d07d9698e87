#include "tessera/tiles/render_spec.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "tessera/core/error.hpp"

namespace tessera::tiles {
namespace {

// Bumped whenever rendering changes (filters, rounding, padding, encoder settings): old tiles then live
// under other keys and are never served for new requests.
constexpr std::string_view kRendererVersion = "tiles-v1";

[[noreturn]] void bad_parameter(std::string_view name, std::string_view problem, std::string_view given) {
  throw Error(ErrorCode::invalid_argument, fmt::format("tiles: parameter '{}' {}, got '{}'", name, problem, given),
              nlohmann::json{{"field", name}});
}

std::optional<long long> parse_integer(std::string_view text) {
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_number(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::vector<std::string_view> split_commas(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) return parts;
    start = comma + 1;
  }
}

std::vector<int> default_channels(int channels) {
  if (channels == 1 || channels == 3 || channels == 4) {
    std::vector<int> all(static_cast<size_t>(channels));
    for (int c = 0; c < channels; ++c) all[static_cast<size_t>(c)] = c;
    return all;
  }
  return {0};
}

std::vector<int> parse_channels(std::string_view text, int channels) {
  const std::string problem =
      fmt::format("must list 1, 3 or 4 channel indices in [0, {}] separated by commas", channels - 1);
  std::vector<int> picked;
  for (std::string_view part : split_commas(text)) {
    auto index = parse_integer(part);
    if (!index || *index < 0 || *index >= channels) bad_parameter("channels", problem, text);
    picked.push_back(static_cast<int>(*index));
  }
  if (picked.size() != 1 && picked.size() != 3 && picked.size() != 4) bad_parameter("channels", problem, text);
  return picked;
}

WindowSpec parse_window(const SourceImage& source, const RenderQuery& query) {
  WindowSpec window;
  if (query.min || query.max) {
    if (query.percentiles) {
      bad_parameter("percentiles", "cannot be combined with 'min' and 'max'", *query.percentiles);
    }
    if (!query.min) bad_parameter("min", "is required with 'max'", "");
    if (!query.max) bad_parameter("max", "is required with 'min'", "");
    auto min = parse_number(*query.min);
    if (!min) bad_parameter("min", "must be a finite number", *query.min);
    auto max = parse_number(*query.max);
    if (!max) bad_parameter("max", "must be a finite number", *query.max);
    if (!(*max > *min)) bad_parameter("max", fmt::format("must be greater than 'min' ({})", *min), *query.max);
    window.mode = WindowSpec::Mode::range;
    window.min = *min;
    window.max = *max;
    return window;
  }
  if (query.percentiles) {
    const auto parts = split_commas(*query.percentiles);
    const std::string_view problem = "must be two percentiles 'low,high' with 0 <= low < high <= 100";
    if (parts.size() != 2) bad_parameter("percentiles", problem, *query.percentiles);
    auto low = parse_number(parts[0]);
    auto high = parse_number(parts[1]);
    if (!low || !high || *low < 0 || *high > 100 || !(*low < *high)) {
      bad_parameter("percentiles", problem, *query.percentiles);
    }
    window.mode = WindowSpec::Mode::percentiles;
    window.low = *low;
    window.high = *high;
    return window;
  }
  window.mode = source.pixel_type == image::PixelType::u8 ? WindowSpec::Mode::identity : WindowSpec::Mode::percentiles;
  return window;
}

std::string window_text(const WindowSpec& window) {
  switch (window.mode) {
    case WindowSpec::Mode::identity:
      return "identity";
    // fmt's {} is the shortest text that reads back as the same double, so equal numbers spell alike.
    case WindowSpec::Mode::range:
      return fmt::format("range:{}:{}", window.min, window.max);
    case WindowSpec::Mode::percentiles:
      return fmt::format("percentiles:{}:{}", window.low, window.high);
  }
  return "identity";
}

}  // namespace

std::string_view to_string(TileFormat format) {
  switch (format) {
    case TileFormat::png:
      return "png";
    case TileFormat::jpg:
      return "jpg";
    case TileFormat::webp:
      return "webp";
  }
  return "png";
}

std::string_view media_type(TileFormat format) {
  switch (format) {
    case TileFormat::png:
      return "image/png";
    case TileFormat::jpg:
      return "image/jpeg";
    case TileFormat::webp:
      return "image/webp";
  }
  return "application/octet-stream";
}

std::optional<TileFormat> parse_tile_format(std::string_view text) {
  if (text == "png") return TileFormat::png;
  if (text == "jpg" || text == "jpeg") return TileFormat::jpg;
  if (text == "webp") return TileFormat::webp;
  return std::nullopt;
}

RenderSpec resolve_render_spec(const SourceImage& source, const RenderQuery& query, TileFormat format) {
  if (source.width < 1 || source.height < 1 || source.channels < 1 || source.frames < 1) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("tiles: image {} has no pixels ({}x{}, {} channels, {} frames)", source.blob_hash,
                            source.width, source.height, source.channels, source.frames));
  }
  RenderSpec spec;
  spec.format = format;
  if (query.frame) {
    auto frame = parse_integer(*query.frame);
    if (!frame || *frame < 0 || *frame >= source.frames) {
      bad_parameter("frame", fmt::format("must be an integer in [0, {}]", source.frames - 1), *query.frame);
    }
    spec.frame = static_cast<int>(*frame);
  }
  spec.channels = query.channels ? parse_channels(*query.channels, source.channels) : default_channels(source.channels);
  spec.window = parse_window(source, query);
  return spec;
}

std::string window_key(const SourceImage& source, const RenderSpec& spec) {
  return fmt::format("{}|{}|frame={}|channels={}|window={}", kRendererVersion, source.blob_hash, spec.frame,
                     fmt::join(spec.channels, ","), window_text(spec.window));
}

std::string pyramid_key(const SourceImage& source, const RenderSpec& spec) {
  return fmt::format("{}|format={}", window_key(source, spec), to_string(spec.format));
}

}  // namespace tessera::tiles
