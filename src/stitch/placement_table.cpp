#include <cmath>
#include <string>

#include "tessera/core/csv.hpp"
#include "tessera/stitch/register.hpp"

namespace tessera::stitch {
namespace {

// Column order of the reports; the rows and the CSV agree on it.
constexpr const char* kPairColumns[] = {"tile_a",     "tile_b",     "overlap_w",   "overlap_h",
                                        "nominal_dx", "nominal_dy", "measured_dx", "measured_dy",
                                        "quality",    "response",   "status",      "residual"};
constexpr const char* kColumns[] = {
    "tile", "row",      "col",      "nominal_x",  "nominal_y",    "x",        "y", "dx",
    "dy",   "mosaic_x", "mosaic_y", "pairs_used", "max_residual", "fell_back"};

// Two decimals: registration is sub-pixel at best, and a stable text keeps reports diffable.
double round2(double v) { return std::round(v * 100.0) / 100.0; }

std::string csv_cell(const nlohmann::json& v) {
  if (v.is_string()) return csv_field(v.get<std::string>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return v.dump();
}

template <size_t N>
std::string to_csv(const nlohmann::json& rows, const char* const (&columns)[N]) {
  std::string out;
  for (size_t c = 0; c < N; ++c) out += (c ? "," : "") + std::string(columns[c]);
  out += "\n";
  for (const nlohmann::json& row : rows) {
    for (size_t c = 0; c < N; ++c) out += (c ? "," : "") + csv_cell(row.at(columns[c]));
    out += "\n";
  }
  return out;
}

}  // namespace

nlohmann::json placement_rows(const Placement& placement) {
  nlohmann::json rows = nlohmann::json::array();
  const std::vector<cv::Point> offsets = placement.mosaic_offsets();
  for (size_t i = 0; i < placement.placed.size(); ++i) {
    const TilePlacement& t = placement.placed[i];
    const Tile& tile = placement.tiles[i];
    rows.push_back({{"tile", tile.name},
                    {"row", tile.row},
                    {"col", tile.col},
                    {"nominal_x", round2(t.nominal.x)},
                    {"nominal_y", round2(t.nominal.y)},
                    {"x", round2(t.position.x)},
                    {"y", round2(t.position.y)},
                    {"dx", round2(t.position.x - t.nominal.x)},
                    {"dy", round2(t.position.y - t.nominal.y)},
                    {"mosaic_x", offsets[i].x},
                    {"mosaic_y", offsets[i].y},
                    {"pairs_used", t.pairs_used},
                    {"max_residual", round2(t.max_residual)},
                    {"fell_back", t.fell_back}});
  }
  return rows;
}

std::string placement_csv(const Placement& placement) {
  return to_csv(placement_rows(placement), kColumns);
}

nlohmann::json pair_rows(const Placement& placement) {
  nlohmann::json rows = nlohmann::json::array();
  for (const PairMeasurement& p : placement.pairs) {
    const bool solved = p.status == PairStatus::used || p.status == PairStatus::outlier;
    rows.push_back(
        {{"tile_a", placement.tiles[static_cast<size_t>(p.a)].name},
         {"tile_b", placement.tiles[static_cast<size_t>(p.b)].name},
         {"overlap_w", p.overlap.width},
         {"overlap_h", p.overlap.height},
         {"nominal_dx", round2(p.nominal.x)},
         {"nominal_dy", round2(p.nominal.y)},
         {"measured_dx", round2(p.measured.x)},
         {"measured_dy", round2(p.measured.y)},
         {"quality", round2(p.quality)},
         {"response", round2(p.response)},
         {"status", std::string(to_string(p.status))},
         {"residual", solved ? nlohmann::json(round2(cv::norm(p.residual))) : nlohmann::json("")}});
  }
  return rows;
}

std::string pairs_csv(const Placement& placement) {
  return to_csv(pair_rows(placement), kPairColumns);
}

}  // namespace tessera::stitch
