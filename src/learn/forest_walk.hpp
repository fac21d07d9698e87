#pragma once

// The scalar part of the vector kernels (forest_avx512.cpp, forest_avx2.cpp): below the top levels each
// lane walks its own path through the layout's 8-byte nodes. Target-neutral, inlined into each kernel.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include "forest_layout.hpp"

namespace tessera::learn::detail {

// Walks eight lanes from their nodes in `at` to their leaves: `rounds` = the largest height of their
// subtrees, every lane stepping each round (a leaf has left_delta 0 and the key of +inf, so a lane that
// reached its leaf stays there). Then copies each lane's leaf probabilities to leaf_values: as (class 0,
// class 1) pairs lane after lane for two classes, else at [c * kBlockLanes + lane]. `columns` points at the
// first of the eight lanes' order keys of feature 0, so a lane's key sits at a constant displacement from
// the node's column. Copying here, with the leaf indices still in registers, is far cheaper than a gather
// per class (measured with AVX-512: gathers took a fifth of the kernel's time).
template <int kClasses, std::size_t... Lane>
__attribute__((always_inline)) inline void walk_lanes(const WalkNode* nodes, const char* columns,
                                                      const std::int32_t* at, int rounds, const float* probabilities,
                                                      int classes, float* leaf_values, std::index_sequence<Lane...>) {
  std::size_t node_at[sizeof...(Lane)] = {static_cast<std::size_t>(at[Lane])...};
  auto step = [&](std::size_t lane) {
    const WalkNode node = nodes[node_at[lane]];
    std::uint32_t value_key;
    std::memcpy(&value_key, columns + node.column_offset + lane * sizeof(float), sizeof(value_key));
    // GCC turns this into compare + add-with-carry.
    const std::size_t advance = node.left_delta + static_cast<std::size_t>(node.threshold_key < value_key);
    node_at[lane] += advance;
  };
  for (int round = 0; round < rounds; ++round) (step(Lane), ...);
  auto copy_leaf = [&](std::size_t lane) {
    const float* leaf = probabilities + node_at[lane] * classes;
    if constexpr (kClasses == 2) {
      std::memcpy(leaf_values + 2 * lane, leaf, 2 * sizeof(float));  // one 8-byte move; the kernel unpairs
    } else {
      for (int c = 0; c < classes; ++c) leaf_values[c * kBlockLanes + lane] = leaf[c];
    }
  };
  (copy_leaf(Lane), ...);
}

}  // namespace tessera::learn::detail
