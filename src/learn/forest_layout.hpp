#pragma once

// The random forest rearranged for the vector prediction kernels (forest_avx512.cpp, forest_avx2.cpp). Rows
// are predicted in blocks of 16, stored feature by feature (a feature's 16 values are one AVX-512 load, or
// two AVX2 loads). The top levels of
// every tree are evaluated for the whole block at once: one vector compare per node and no gathers, since
// every lane reads the same feature there. Below them each lane walks its own path through 8-byte nodes.
// Built from the breadth-first nodes when a forest is trained or loaded; node indices are the same, so a
// leaf's index still selects its class probabilities. Values and thresholds are compared as order keys
// (unsigned integers in the floats' order), so a walk step is an integer compare whose carry moves the
// node index: fewer instructions than a float compare turned into 0 or 1.

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace tessera::learn::detail {

constexpr int kBlockLanes = 16;                       // rows per block: one AVX-512 register of floats
constexpr int kTopLevels = 5;  // levels evaluated for the whole block at once (measured: 4 and 6 are slower)
constexpr int kTopNodes = (1 << kTopLevels) - 1;      // nodes of those levels in a perfect tree
constexpr int kTopOutcomes = 1 << kTopLevels;         // where a lane can be after them
constexpr int kMaxVectorFeatures = 65535 / (kBlockLanes * 4);  // a column's byte offset fits 16 bits
constexpr int kMaxVectorClasses = 64;                 // the kernel keeps a block's leaf values on its stack

// A node of the per-lane walk below the top levels; 8 bytes, so a cache line holds eight.
struct WalkNode {
  std::uint16_t column_offset = 0;  // byte offset of the node's feature column in a block (feature * 64)
  std::uint16_t left_delta = 0;     // left child = this index + left_delta, right child one further; 0: leaf
  std::uint32_t threshold_key = 0;  // go right when the value's key is greater; order_key(+inf) for a leaf
};
static_assert(sizeof(WalkNode) == 8);

// One tree's top kTopLevels levels as a perfect binary tree, positions breadth-first. A position below a
// leaf has threshold +inf (every lane goes left), so the leaf's lanes reach its leftmost outcome, whose
// subtree root is the leaf itself.
struct alignas(64) TopLevels {
  std::int32_t subtree[kTopOutcomes] = {};  // node index each outcome continues from (outcome = the path's
                                            // decisions as binary digits, first level highest, right = 1)
  std::int32_t height[kTopOutcomes] = {};   // steps from that node to its deepest leaf
  std::uint32_t threshold_key[kTopNodes] = {};
  std::uint16_t column_offset[kTopNodes] = {};
};

// The same for the AVX2 kernel, which evaluates fewer levels for the whole block (its compares and blends
// cost more than AVX-512's masked compares; measured: 4 levels beat 5) and compares signed integers only,
// so its thresholds are the order keys with the top bit flipped.
constexpr int kShallowTopLevels = 4;
constexpr int kShallowTopNodes = (1 << kShallowTopLevels) - 1;
constexpr int kShallowTopOutcomes = 1 << kShallowTopLevels;
static_assert(kShallowTopLevels <= kTopLevels);
struct alignas(64) ShallowTopLevels {
  std::int32_t subtree[kShallowTopOutcomes] = {};
  std::int32_t height[kShallowTopOutcomes] = {};
  std::int32_t signed_threshold_key[kShallowTopNodes] = {};
  std::uint16_t column_offset[kShallowTopNodes] = {};
};

struct ForestLayout {
  int feature_count = 0;
  int class_count = 0;
  std::vector<TopLevels> trees;
  std::vector<WalkNode> nodes;  // indexed like the forest's nodes and node probabilities
  std::vector<ShallowTopLevels> shallow_trees;  // the AVX2 kernel's, kept apart so `trees` stay as compact
};

// An unsigned integer in the order of the floats: key(a) > key(b) exactly when a > b, for b not NaN.
// NaN takes the key of -inf (it never goes right, as in the portable walk) and -0 that of +0 (they are
// equal as floats). predict_block_avx512 computes the same keys for the block's values.
inline std::uint32_t order_key(float value) {
  if (std::isnan(value)) value = -std::numeric_limits<float>::infinity();
  auto bits = std::bit_cast<std::uint32_t>(value);
  if (bits == 0x80000000u) bits = 0;  // -0 as +0, on the bits: `value == 0` would also catch denormals under DAZ
  return (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
}

// Mean class probabilities of one block: block holds feature_count columns of kBlockLanes floats
// (block[f * 16 + lane]), which the kernel overwrites with their order keys, followed by as many floats of
// scratch (block_floats() in all); class_means receives class_count columns of kBlockLanes floats
// (class_means[c * 16 + lane]). The same sums in the same tree order as the portable walk, so the same
// floats. Requires: cpu_runs_forest_kernel(ForestKernel::avx512) (or avx2 for predict_block_avx2);
// probabilities = the forest's node probabilities.
void predict_block_avx512(const ForestLayout& layout, const float* probabilities, float* block,
                          float* class_means);
void predict_block_avx2(const ForestLayout& layout, const float* probabilities, float* block, float* class_means);
using PredictBlock = decltype(&predict_block_avx512);  // either of them

// The floats a block passed to a kernel holds: the columns and the scratch after them.
inline std::size_t block_floats(int feature_count) {
  return 2 * static_cast<std::size_t>(feature_count) * kBlockLanes;
}

}  // namespace tessera::learn::detail
