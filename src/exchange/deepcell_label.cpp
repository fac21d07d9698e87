#include "tessera/exchange/deepcell_label.hpp"

#include <cstring>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tessera/core/error.hpp"
#include "tessera/exchange/zip_writer.hpp"

namespace tessera::exchange {

void write_deepcell_label_zip(const std::filesystem::path& path, const NpyArray& x, const NpyArray& y,
                              const std::vector<DeepCellLabelCell>& cells) {
  if (y.type != NpyType::i32 || y.shape.size() != 4) {
    throw Error(ErrorCode::invalid_argument, "deepcell-label: y must be int32 (frames, rows, cols, features)");
  }
  if (x.shape.size() != 4 || !std::equal(x.shape.begin(), x.shape.end() - 1, y.shape.begin())) {
    throw Error(ErrorCode::invalid_argument, "deepcell-label: X and y must agree on (frames, rows, cols)");
  }
  nlohmann::ordered_json cells_json = nlohmann::ordered_json::array();
  for (const auto& c : cells) {
    cells_json.push_back({{"value", c.value}, {"cell", c.cell}, {"t", c.frame}, {"c", c.feature}});
  }
  ZipWriter zip(path);
  zip.add_bytes("X.npy", encode_npy(x), ZipMethod::store);
  zip.add_bytes("y.npy", encode_npy(y), ZipMethod::store);
  zip.add_bytes("cells.json", cells_json.dump());
  zip.add_bytes("divisions.json", "[]");
  zip.finish();
}

std::vector<DeepCellLabelCell> cells_of_labels(const NpyArray& y) {
  if (y.type != NpyType::i32 || y.shape.size() != 4) {
    throw Error(ErrorCode::invalid_argument, "deepcell-label: y must be int32 (frames, rows, cols, features)");
  }
  const uint64_t frames = y.shape[0], features = y.shape[3];
  const uint64_t per_frame = y.shape[1] * y.shape[2] * features;
  std::vector<DeepCellLabelCell> cells;
  for (uint64_t t = 0; t < frames; ++t) {
    std::set<std::pair<uint64_t, std::int32_t>> seen;  // (feature, value), sorted
    for (uint64_t i = 0; i < per_frame; ++i) {
      std::int32_t v;
      std::memcpy(&v, y.data.data() + (t * per_frame + i) * sizeof v, sizeof v);
      if (v > 0) seen.emplace(i % features, v);
    }
    for (const auto& [feature, value] : seen) {
      cells.push_back({value, value, std::int64_t(t), std::int64_t(feature)});
    }
  }
  return cells;
}

}  // namespace tessera::exchange
