#include <cmath>
#include <string>

#include "tessera/stitch/register.hpp"

namespace tessera::stitch {
namespace {

// Column order of the report; placement_rows() and placement_csv() agree on it.
constexpr const char* kColumns[] = {
    "tile", "row",      "col",      "nominal_x",  "nominal_y",    "x",        "y", "dx",
    "dy",   "mosaic_x", "mosaic_y", "pairs_used", "max_residual", "fell_back"};

// Two decimals: registration is sub-pixel at best, and a stable text keeps reports diffable.
double round2(double v) { return std::round(v * 100.0) / 100.0; }

std::string csv_cell(const nlohmann::json& v) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string quoted = "\"";
    for (char c : s) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
  }
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return v.dump();
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
  std::string out;
  for (size_t c = 0; c < std::size(kColumns); ++c) out += (c ? "," : "") + std::string(kColumns[c]);
  out += "\n";
  for (const nlohmann::json& row : placement_rows(placement)) {
    for (size_t c = 0; c < std::size(kColumns); ++c)
      out += (c ? "," : "") + csv_cell(row.at(kColumns[c]));
    out += "\n";
  }
  return out;
}

}  // namespace tessera::stitch
