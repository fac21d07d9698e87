#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "tessera/exchange/npy.hpp"

namespace tessera::exchange {

// One cells.json entry of a DeepCell Label project: pixel `value` in frame t, feature c, means `cell`.
struct DeepCellLabelCell {
  std::int32_t value = 0;
  std::int32_t cell = 0;
  std::int64_t frame = 0;
  std::int64_t feature = 0;
};

// A project for DeepCell Label as the zip it accepts for import (formats.md 2.2): X.npy raw
// (frames, rows, cols, channels), y.npy int32 labels (frames, rows, cols, features) and cells.json
// (divisions.json is written empty: lineage is not known here). Atomic like ZipWriter.
// Error{invalid_argument} when y is not int32 or the arrays' leading axes differ.
void write_deepcell_label_zip(const std::filesystem::path& path, const NpyArray& x, const NpyArray& y,
                              const std::vector<DeepCellLabelCell>& cells);

// The cells of a label array: one entry per (frame, feature, value > 0), the cell id being the value.
std::vector<DeepCellLabelCell> cells_of_labels(const NpyArray& y);

}  // namespace tessera::exchange
