// The AVX-512 prediction kernel. The build targets baseline x86-64, so only this file's functions carry the
// AVX-512 target and they run only after cpu_runs_forest_kernel(ForestKernel::avx512) said yes.
//
// Per tree and block of 16 rows: the top five levels cost one column load and one masked compare per node
// (31), level by level on a vector of each lane's position, giving each lane's outcome (which of the 32
// nodes below those levels it reached); permutes turn outcomes into subtree roots and subtree heights. The
// rest of the walk (one to two levels on average) is scalar, eight lanes stepping together so their loads
// overlap, for as many rounds as the deepest of their subtrees needs (no test per step); values and
// thresholds are order keys, so a step is compare + add-with-carry. The next tree's top levels are
// computed before this tree's walks so the two overlap. The leaves' probabilities are added in tree order,
// the order the portable walk adds them, so the sums are the same floats.
// Measured on 1024^2 (100 trees, depth 12, one thread, load ~5): 0.73 s against the portable walk's 1.44 s.
// 4 top levels cost the same as 5, 6 levels more (63 compares per tree and block outweigh the steps saved);
// AVX-512 gathers (for the walk or the leaf sums) are slow here, about 30 cycles for 16 values.

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>

#include "forest_layout.hpp"
#include "forest_walk.hpp"

// GCC 12's AVX-512 intrinsics start many results from an "undefined" register, which
// -Wmaybe-uninitialized reports once they are inlined here; the values are always written before use.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace tessera::learn::detail {
namespace {

// The top levels of one tree for the whole block: each lane's outcome (its path's decisions as binary
// digits). Level by level, every node of the level is compared for the lanes at that node (a masked
// compare), so the masks never leave the mask registers; the loops are unrolled.
__attribute__((target("avx512f"), always_inline)) inline __m512i top_level_outcomes(const TopLevels& top,
                                                                                 const char* columns) {
  const __m512i one = _mm512_set1_epi32(1);
  __m512i position = _mm512_setzero_si512();  // each lane's node, as a position of the perfect tree
#pragma GCC unroll 8
  for (int level = 0; level < kTopLevels; ++level) {
    const int first = (1 << level) - 1;
    __mmask16 right = 0;
#pragma GCC unroll 16
    for (int node = first; node <= 2 * first; ++node) {
      const __mmask16 here = level == 0 ? 0xFFFF : _mm512_cmpeq_epi32_mask(position, _mm512_set1_epi32(node));
      const __m512i column = _mm512_loadu_si512(columns + top.column_offset[node]);
      const __m512i threshold = _mm512_set1_epi32(static_cast<int>(top.threshold_key[node]));
      right |= _mm512_mask_cmpgt_epu32_mask(here, column, threshold);
    }
    position = _mm512_add_epi32(_mm512_add_epi32(position, position), one);  // left child: 2p + 1
    position = _mm512_mask_add_epi32(position, right, position, one);        // right child: 2p + 2
  }
  return _mm512_sub_epi32(position, _mm512_set1_epi32(kTopNodes));
}

// Each lane's entry of a per-outcome table.
__attribute__((target("avx512f"), always_inline)) inline __m512i outcome_lookup(__m512i outcome,
                                                                                const std::int32_t* table) {
  static_assert(kTopOutcomes == 16 || kTopOutcomes == 32);
  if constexpr (kTopOutcomes == 16) {
    return _mm512_permutexvar_epi32(outcome, _mm512_load_si512(table));
  } else {
    return _mm512_permutex2var_epi32(_mm512_load_si512(table), outcome, _mm512_load_si512(table + 16));
  }
}

// The maximum of lanes 0-7 in lane 0 and of lanes 8-15 in lane 8.
__attribute__((target("avx512f"), always_inline)) inline __m512i half_maxima(__m512i values) {
  __m512i maxima = _mm512_max_epi32(values, _mm512_shuffle_epi32(values, _MM_PERM_BADC));
  maxima = _mm512_max_epi32(maxima, _mm512_shuffle_epi32(maxima, _MM_PERM_CDAB));
  return _mm512_max_epi32(maxima, _mm512_shuffle_i32x4(maxima, maxima, _MM_SHUFFLE(2, 3, 0, 1)));
}

// The block's class sums over every tree, with `classes` a constant in the common two-class case.
template <int kClasses>
__attribute__((target("avx512f"), always_inline)) inline void sum_trees(const ForestLayout& layout,
                                                                        const float* probabilities,
                                                                        const char* columns, float* class_means) {
  const int classes = kClasses > 0 ? kClasses : layout.class_count;
  const WalkNode* nodes = layout.nodes.data();
  for (int c = 0; c < classes; ++c) _mm512_storeu_ps(class_means + c * kBlockLanes, _mm512_setzero_ps());
  alignas(64) std::int32_t at[kBlockLanes];
  alignas(64) float leaf_values[kBlockLanes * kMaxVectorClasses];
  __m512 class_sum0 = _mm512_setzero_ps(), class_sum1 = _mm512_setzero_ps();  // two classes: kept in registers
  // The next tree's top levels are computed before this tree's walks, so the vector work overlaps the
  // walks' chains of dependent loads instead of waiting behind them.
  const TopLevels* trees = layout.trees.data();
  const std::size_t tree_count = layout.trees.size();
  __m512i next_outcome = top_level_outcomes(trees[0], columns);
  for (std::size_t t = 0; t < tree_count; ++t) {
    const TopLevels& top = trees[t];
    const __m512i outcome = next_outcome;
    _mm512_store_si512(at, outcome_lookup(outcome, top.subtree));
    const __m512i height = outcome_lookup(outcome, top.height);
    if (t + 1 < tree_count) next_outcome = top_level_outcomes(trees[t + 1], columns);
    const __m512i round_max = half_maxima(height);
    const int rounds_low = _mm_cvtsi128_si32(_mm512_castsi512_si128(round_max));
    const int rounds_high = _mm_cvtsi128_si32(_mm512_extracti32x4_epi32(round_max, 2));
    // Two classes: the leaves' values arrive as (class 0, class 1) pairs, lane after lane.
    const int second_half = kClasses == 2 ? 16 : 8;
    walk_lanes<kClasses>(nodes, columns, at, rounds_low, probabilities, classes, leaf_values,
                         std::make_index_sequence<8>{});
    walk_lanes<kClasses>(nodes, columns + 8 * sizeof(float), at + 8, rounds_high, probabilities, classes,
                         leaf_values + second_half, std::make_index_sequence<8>{});
    if constexpr (kClasses == 2) {
      const __m512 low = _mm512_load_ps(leaf_values), high = _mm512_load_ps(leaf_values + 16);
      const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
      const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
      class_sum0 = _mm512_add_ps(class_sum0, _mm512_permutex2var_ps(low, even, high));
      class_sum1 = _mm512_add_ps(class_sum1, _mm512_permutex2var_ps(low, odd, high));
    } else {
      for (int c = 0; c < classes; ++c) {
        float* sums = class_means + c * kBlockLanes;
        _mm512_storeu_ps(sums, _mm512_add_ps(_mm512_loadu_ps(sums), _mm512_load_ps(leaf_values + c * kBlockLanes)));
      }
    }
  }
  if constexpr (kClasses == 2) {
    _mm512_storeu_ps(class_means, class_sum0);
    _mm512_storeu_ps(class_means + kBlockLanes, class_sum1);
  }
  const __m512 scale = _mm512_set1_ps(1.0f / static_cast<float>(layout.trees.size()));
  for (int c = 0; c < classes; ++c) {
    float* sums = class_means + c * kBlockLanes;
    _mm512_storeu_ps(sums, _mm512_mul_ps(_mm512_loadu_ps(sums), scale));
  }
}

}  // namespace

__attribute__((target("avx512f"))) void predict_block_avx512(const ForestLayout& layout, const float* probabilities,
                                                             float* block, float* class_means) {
  static_assert(kBlockLanes == 16);
  // The values' order keys, as order_key computes them: NaN as -inf, -0 as +0 (on the bits, not by adding 0:
  // with flush-to-zero set that add would also zero denormals), then negative floats bit-flipped and positive
  // ones given the top bit.
  const __m512i sign = _mm512_set1_epi32(std::numeric_limits<std::int32_t>::min());
  for (int f = 0; f < layout.feature_count; ++f) {
    float* column = block + f * kBlockLanes;
    const __m512 loaded = _mm512_loadu_ps(column);
    __m512i bits = _mm512_castps_si512(loaded);
    bits = _mm512_mask_mov_epi32(bits, _mm512_cmpeq_epi32_mask(bits, sign), _mm512_setzero_si512());
    bits = _mm512_mask_mov_epi32(bits, _mm512_cmp_ps_mask(loaded, loaded, _CMP_UNORD_Q),
                                 _mm512_castps_si512(_mm512_set1_ps(-std::numeric_limits<float>::infinity())));
    const __m512i flip = _mm512_or_si512(_mm512_srai_epi32(bits, 31), _mm512_set1_epi32(INT32_MIN));
    _mm512_storeu_si512(column, _mm512_xor_si512(bits, flip));
  }
  const char* columns = reinterpret_cast<const char*>(block);
  if (layout.class_count == 2) {
    sum_trees<2>(layout, probabilities, columns, class_means);
  } else {
    sum_trees<0>(layout, probabilities, columns, class_means);
  }
}

}  // namespace tessera::learn::detail
