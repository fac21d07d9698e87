#include "tessera/stitch/tile.hpp"

#include <fmt/format.h>

#include <cmath>
#include <system_error>

#include "image/vips_session.hpp"
#include "stitch/vips_format.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/image/decode.hpp"

namespace tessera::stitch {
namespace {

[[noreturn]] void invalid(const std::string& what) {
  throw Error(ErrorCode::invalid_argument, "stitch: " + what);
}

std::string describe(const TileFormat& f) {
  return fmt::format("{}x{} {}", f.size.width, f.size.height, cv::typeToString(f.type));
}

// Header only: libvips opens lazily, so a 2 GB tile costs a few reads here.
TileFormat probe_file(const Tile& tile) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(tile.path, ec)) {
    throw Error(ErrorCode::io,
                fmt::format("stitch: cannot read tile '{}': no such file", tile.path.string()));
  }
  image::detail::ensure_vips();
  image::detail::VipsRef header(
      vips_image_new_from_file(tile.path.c_str(), "access", VIPS_ACCESS_SEQUENTIAL, nullptr));
  if (!header) {
    throw Error(ErrorCode::corrupt,
                fmt::format("stitch: cannot read tile '{}': {}", tile.path.string(),
                            image::detail::take_vips_error()));
  }
  VipsImage* im = header.get();
  const int depth = cv_depth_of(vips_image_get_format(im));
  if (depth < 0) {
    throw Error(ErrorCode::unsupported,
                fmt::format("stitch: tile '{}' has complex-valued pixels", tile.path.string()));
  }
  return {{vips_image_get_width(im), vips_image_get_height(im)},
          CV_MAKETYPE(depth, vips_image_get_bands(im))};
}

TileFormat probe_one(const Tile& tile) {
  if (!tile.image.empty()) return {tile.image.size(), tile.image.type()};
  if (tile.path.empty()) invalid(fmt::format("tile '{}' has neither pixels nor a file", tile.name));
  return probe_file(tile);
}

// A number, or text holding one (CSV cells and pattern fields arrive as text).
std::optional<double> number_field(const nlohmann::json& row, const char* key,
                                   const std::string& where) {
  if (!row.contains(key) || row[key].is_null()) return std::nullopt;
  const nlohmann::json& v = row[key];
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string text = v.get<std::string>();
    try {
      size_t used = 0;
      const double value = std::stod(text, &used);
      if (used == text.size() && std::isfinite(value)) return value;
    } catch (const std::exception&) {
      // falls through to the error below
    }
  }
  invalid(fmt::format("{}: field '{}' must be a number, got {}", where, key, v.dump()));
}

}  // namespace

Tile Tile::from_file(std::filesystem::path path) {
  Tile t;
  t.name = path.string();
  t.path = std::move(path);
  return t;
}

Tile Tile::from_image(std::string name, cv::Mat image) {
  Tile t;
  t.name = std::move(name);
  t.image = std::move(image);
  return t;
}

TileFormat probe_tiles(const std::vector<Tile>& tiles) {
  if (tiles.empty()) invalid("no tiles given");
  const TileFormat first = probe_one(tiles.front());
  if (first.size.empty()) invalid(fmt::format("tile '{}' is empty", tiles.front().name));
  for (size_t i = 1; i < tiles.size(); ++i) {
    const TileFormat f = probe_one(tiles[i]);
    if (f.size != first.size || f.type != first.type) {
      invalid(fmt::format(
          "tile '{}' is {}, but '{}' is {}: every tile must have the same size and type",
          tiles[i].name, describe(f), tiles.front().name, describe(first)));
    }
  }
  return first;
}

cv::Mat load_tile(const Tile& tile) {
  if (!tile.image.empty()) return tile.image;
  image::Image decoded = image::decode(read_file(tile.path), tile.path.string());
  return std::move(decoded.frames.front());
}

void fill_grid(std::vector<Tile>& tiles, int columns, bool snake) {
  if (columns < 1) invalid(fmt::format("parameter 'columns' must be at least 1, got {}", columns));
  for (size_t i = 0; i < tiles.size(); ++i) {
    const int row = static_cast<int>(i) / columns;
    const int step = static_cast<int>(i) % columns;
    tiles[i].row = row;
    tiles[i].col = snake && row % 2 == 1 ? columns - 1 - step : step;
  }
}

void place_on_grid(std::vector<Tile>& tiles, cv::Size tile_size, double overlap_x,
                   double overlap_y) {
  for (const auto& [name, value] :
       {std::pair{"overlap_x", overlap_x}, std::pair{"overlap_y", overlap_y}}) {
    if (!(value >= 0.0 && value <= 0.9)) {
      invalid(fmt::format("parameter '{}' must be in [0, 0.9], got {}", name, value));
    }
  }
  const double step_x = tile_size.width * (1.0 - overlap_x);
  const double step_y = tile_size.height * (1.0 - overlap_y);
  for (Tile& t : tiles) {
    if (t.nominal) continue;
    if (t.row < 0 || t.col < 0)
      invalid(fmt::format("tile '{}' has neither a position nor a grid row and column", t.name));
    // Rounded: a stage grid is in whole pixels, and fractional nominals would only blur the report.
    t.nominal = cv::Point2d(std::round(t.col * step_x), std::round(t.row * step_y));
  }
}

void apply_layout_row(Tile& tile, const nlohmann::json& row, const std::string& where) {
  if (!row.is_object())
    invalid(fmt::format("{}: expected an object with x and y or row and col, got {}", where,
                        row.dump()));
  const auto x = number_field(row, "x", where);
  const auto y = number_field(row, "y", where);
  const auto r = number_field(row, "row", where);
  const auto c = number_field(row, "col", where);
  if (x.has_value() != y.has_value())
    invalid(fmt::format("{}: give both 'x' and 'y', not one", where));
  if (r.has_value() != c.has_value())
    invalid(fmt::format("{}: give both 'row' and 'col', not one", where));
  if (!x && !r)
    invalid(fmt::format("{}: needs 'x' and 'y' (pixels) or 'row' and 'col' (grid indices)", where));
  if (x) tile.nominal = cv::Point2d(*x, *y);
  if (r) {
    if (*r < 0 || *c < 0 || *r != std::floor(*r) || *c != std::floor(*c)) {
      invalid(fmt::format("{}: 'row' and 'col' must be whole numbers >= 0, got {} and {}", where,
                          *r, *c));
    }
    tile.row = static_cast<int>(*r);
    tile.col = static_cast<int>(*c);
  }
}

}  // namespace tessera::stitch
