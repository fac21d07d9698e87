#include <fmt/format.h>

#include <cmath>
#include <string>

#include "ops/builtin.hpp"
#include "tessera/core/error.hpp"
#include "tessera/stitch/mosaic.hpp"
#include "tessera/stitch/register.hpp"

namespace tessera::ops {
namespace {

// A tile's name for errors and the placement table: the row's own name if it has one.
std::string tile_name(const nlohmann::json& rows, size_t i) {
  if (rows.is_array() && i < rows.size() && rows[i].is_object()) {
    for (const char* key : {"tile", "name", "file", "path"}) {
      if (rows[i].contains(key) && rows[i][key].is_string()) return rows[i][key].get<std::string>();
    }
  }
  return fmt::format("images[{}]", i);
}

// Tiles from the facet: rows (one per image) give x/y or row/col; without rows the images fill a
// grid row by row, `columns` wide.
std::vector<stitch::Tile> tiles_from_facet(const Facet& facet, const OpCall& call) {
  const nlohmann::json& rows = facet.table;
  const bool has_rows = rows.is_array() && !rows.empty();
  if (has_rows && rows.size() != facet.mats.size()) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("stitch: input 'images' has {} images but {} table rows; give one row per tile",
                    facet.mats.size(), rows.size()));
  }
  std::vector<stitch::Tile> tiles;
  for (size_t i = 0; i < facet.mats.size(); ++i) {
    tiles.push_back(stitch::Tile::from_image(tile_name(rows, i), facet.mats[i]));
    if (has_rows)
      stitch::apply_layout_row(tiles.back(), rows[i],
                               fmt::format("stitch: input 'images' row {}", i));
  }
  if (!has_rows && !tiles.empty()) {
    int columns = call.param<int>("columns");
    if (columns == 0)
      columns = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(tiles.size()))));
    stitch::fill_grid(tiles, columns, call.param<bool>("snake"));
  }
  return tiles;
}

FacetMap run_stitch(const OpCall& call) {
  std::vector<stitch::Tile> tiles = tiles_from_facet(call.input("images"), call);
  const stitch::TileFormat format = stitch::probe_tiles(tiles);
  const double overlap = call.param<double>("overlap");
  stitch::place_on_grid(tiles, format.size, overlap, overlap);
  const stitch::RegisterOptions options{.max_shift = call.param<double>("max_shift"),
                                        .min_quality = call.param<double>("min_quality"),
                                        .max_residual = call.param<double>("max_residual"),
                                        .min_overlap = call.param<int>("min_overlap"),
                                        .anchor = call.param<int>("anchor"),
                                        .jobs = 1};
  const stitch::Placement placement = stitch::register_tiles(std::move(tiles), options);
  cv::Mat mosaic = stitch::compose(placement, {.feather = call.param<int>("feather")});
  return {{"image", Facet::image(std::move(mosaic))},
          {"table", Facet::rows(stitch::placement_rows(placement))}};
}

}  // namespace

void register_stitch_ops(OpRegistry& r) {
  r.add(
      {.name = "stitch",
       .summary = "Register overlapping tiles (phase correlation, global least squares) and "
                  "blend a mosaic",
       .inputs = {{"images", FacetKind::images,
                   "tiles of one size and type; table rows give each tile's x and y (pixels) "
                   "or row and col (grid indices); without rows the tiles fill a grid row by row"}},
       .outputs =
           {{"image", FacetKind::image, "the mosaic, tiles cross-faded linearly in their overlaps"},
            {"table", FacetKind::table,
             "one row per tile: tile, row, col, nominal_x/y, x, y, dx, dy, mosaic_x/y, pairs_used, "
             "max_residual, fell_back (true: no overlap signal, left at its nominal position)"}},
       .params = {ParamSpec::integer("columns", 0, {0, 1e6},
                                     "tiles per grid row without table rows (0 = square grid)"),
                  ParamSpec::boolean("snake", false,
                                     "without table rows: odd grid rows run right to left"),
                  ParamSpec::number(
                      "overlap", 0.1, {0.0, 0.9},
                      "nominal overlap of grid neighbours as a fraction of the tile size"),
                  ParamSpec::number(
                      "max_shift", 0, {0, 1e6},
                      "pixels a pair may be off its nominal offset (0 = 30% of its overlap)"),
                  ParamSpec::number(
                      "min_quality", 0.3, {-1.0, 1.0},
                      "normalised cross-correlation below which an overlap has no signal"),
                  ParamSpec::number(
                      "max_residual", 2.0, {0.01, 1e6},
                      "pixels a pair may disagree with the global solution before it is dropped"),
                  ParamSpec::integer("min_overlap", 16, {4, 1e6},
                                     "pixels of nominal overlap a pair needs to be measured"),
                  ParamSpec::integer("anchor", 0, {0, 1e9},
                                     "index of the tile kept at its nominal position"),
                  ParamSpec::integer("feather", 0, {0, 1e6},
                                     "blend ramp width in pixels (0 = the nominal overlap)")},
       .run = run_stitch});
}

}  // namespace tessera::ops
