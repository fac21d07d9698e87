// The AVX2 prediction kernel, for CPUs without AVX-512. The build targets baseline x86-64, so only this
// file's functions carry the AVX2 target and they run only after cpu_runs_forest_kernel(ForestKernel::avx2)
// said yes. Same layout, same scalar walk (forest_walk.hpp) and same sums in the same order as the AVX-512
// kernel, so the same floats as the portable walk.
//
// A block of 16 rows is two vectors of 8. AVX2 has neither mask registers nor unsigned compares, so a top
// level node costs, per vector, a signed compare of keys with their top bit flipped, a compare of the lanes'
// positions with the node and an and/or into the level's decisions. Outcome tables of 32 entries are read
// with four in-register permutes and blends by the outcome's high bits (no gathers, slow on many AVX2 CPUs).

#include <immintrin.h>

#include <cstdint>
#include <limits>
#include <utility>

#include "forest_layout.hpp"
#include "forest_walk.hpp"

namespace tessera::learn::detail {
namespace {

constexpr int kVectorLanes = 8;  // int32 lanes of an AVX2 register
static_assert(kBlockLanes == 2 * kVectorLanes);
static_assert(kTopOutcomes % kVectorLanes == 0);

// Both halves' outcomes after the top levels of one tree (each lane's path decisions as binary digits).
struct Outcomes {
  __m256i low, high;
};

// The top levels of one tree for the block. signed_columns holds the block's order keys with the top bit
// flipped, so that the signed compare orders them as the unsigned keys.
__attribute__((target("avx2"), always_inline)) inline Outcomes top_level_outcomes(const TopLevels& top,
                                                                                 const char* signed_columns) {
  const __m256i one = _mm256_set1_epi32(1);
  __m256i position_low = _mm256_setzero_si256(), position_high = _mm256_setzero_si256();
#pragma GCC unroll 8
  for (int level = 0; level < kTopLevels; ++level) {
    const int first = (1 << level) - 1;
    __m256i right_low = _mm256_setzero_si256(), right_high = _mm256_setzero_si256();
#pragma GCC unroll 16
    for (int node = first; node <= 2 * first; ++node) {
      const char* column = signed_columns + top.column_offset[node];
      const __m256i threshold = _mm256_set1_epi32(static_cast<int>(top.threshold_key[node] ^ 0x80000000u));
      const __m256i greater_low =
          _mm256_cmpgt_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(column)), threshold);
      const __m256i greater_high = _mm256_cmpgt_epi32(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(column + kVectorLanes * sizeof(float))), threshold);
      if (level == 0) {  // every lane is at the root
        right_low = greater_low;
        right_high = greater_high;
      } else {
        const __m256i here = _mm256_set1_epi32(node);
        right_low = _mm256_or_si256(right_low, _mm256_and_si256(_mm256_cmpeq_epi32(position_low, here), greater_low));
        right_high =
            _mm256_or_si256(right_high, _mm256_and_si256(_mm256_cmpeq_epi32(position_high, here), greater_high));
      }
    }
    // Left child 2p + 1; a right decision is -1, so subtracting it gives the right child 2p + 2.
    position_low = _mm256_sub_epi32(_mm256_add_epi32(_mm256_add_epi32(position_low, position_low), one), right_low);
    position_high =
        _mm256_sub_epi32(_mm256_add_epi32(_mm256_add_epi32(position_high, position_high), one), right_high);
  }
  const __m256i first_outcome = _mm256_set1_epi32(kTopNodes);
  return {_mm256_sub_epi32(position_low, first_outcome), _mm256_sub_epi32(position_high, first_outcome)};
}

// Each lane's entry of a per-outcome table: a permute per 8 entries, then blends on the outcome's bits
// above the low three, pairing the pieces.
__attribute__((target("avx2"), always_inline)) inline __m256i outcome_lookup(__m256i outcome,
                                                                           const std::int32_t* table) {
  constexpr int kPieces = kTopOutcomes / kVectorLanes;
  __m256 pieces[kPieces];
  for (int i = 0; i < kPieces; ++i) {
    const __m256i entries = _mm256_load_si256(reinterpret_cast<const __m256i*>(table + i * kVectorLanes));
    pieces[i] = _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(entries, outcome));
  }
  int bit = 3;
  for (int count = kPieces; count > 1; count /= 2, ++bit) {
    const __m256 take_upper = _mm256_castsi256_ps(_mm256_sll_epi32(outcome, _mm_cvtsi32_si128(31 - bit)));
    for (int i = 0; i < count / 2; ++i) pieces[i] = _mm256_blendv_ps(pieces[2 * i], pieces[2 * i + 1], take_upper);
  }
  return _mm256_castps_si256(pieces[0]);
}

// The largest of the 8 lanes.
__attribute__((target("avx2"), always_inline)) inline int lane_maximum(__m256i values) {
  __m256i maxima = _mm256_max_epi32(values, _mm256_shuffle_epi32(values, _MM_SHUFFLE(1, 0, 3, 2)));
  maxima = _mm256_max_epi32(maxima, _mm256_shuffle_epi32(maxima, _MM_SHUFFLE(2, 3, 0, 1)));
  maxima = _mm256_max_epi32(maxima, _mm256_permute2x128_si256(maxima, maxima, 1));
  return _mm_cvtsi128_si32(_mm256_castsi256_si128(maxima));
}

// Two classes' leaf values of 8 lanes, given as (class 0, class 1) pairs, split into a vector per class.
// The lanes come out in the order 0 1 4 5 2 3 6 7 (the shuffles work within 128-bit halves); sums kept in
// that order are put back once per block by restore_lane_order.
__attribute__((target("avx2"), always_inline)) inline void unpair(const float* pairs, __m256& class0, __m256& class1) {
  const __m256 first = _mm256_load_ps(pairs), second = _mm256_load_ps(pairs + kVectorLanes);
  class0 = _mm256_shuffle_ps(first, second, _MM_SHUFFLE(2, 0, 2, 0));
  class1 = _mm256_shuffle_ps(first, second, _MM_SHUFFLE(3, 1, 3, 1));
}

__attribute__((target("avx2"), always_inline)) inline __m256 restore_lane_order(__m256 values) {
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(values), _MM_SHUFFLE(3, 1, 2, 0)));
}

// The block's class sums over every tree, with `classes` a constant in the common two-class case.
template <int kClasses>
__attribute__((target("avx2"), always_inline)) inline void sum_trees(const ForestLayout& layout,
                                                                      const float* probabilities, const char* columns,
                                                                      const char* signed_columns, float* class_means) {
  const int classes = kClasses > 0 ? kClasses : layout.class_count;
  const WalkNode* nodes = layout.nodes.data();
  for (int c = 0; c < classes * 2; ++c) _mm256_storeu_ps(class_means + c * kVectorLanes, _mm256_setzero_ps());
  alignas(32) std::int32_t at[kBlockLanes];
  alignas(32) float leaf_values[kBlockLanes * kMaxVectorClasses];
  // Two classes: sums kept in registers, per class and half.
  __m256 sum0_low = _mm256_setzero_ps(), sum1_low = _mm256_setzero_ps();
  __m256 sum0_high = _mm256_setzero_ps(), sum1_high = _mm256_setzero_ps();
  // The next tree's top levels are computed before this tree's walks, as in the AVX-512 kernel, so the
  // vector work overlaps the walks' chains of dependent loads.
  const TopLevels* trees = layout.trees.data();
  const std::size_t tree_count = layout.trees.size();
  Outcomes next_outcomes = top_level_outcomes(trees[0], signed_columns);
  for (std::size_t t = 0; t < tree_count; ++t) {
    const TopLevels& top = trees[t];
    const Outcomes outcomes = next_outcomes;
    _mm256_store_si256(reinterpret_cast<__m256i*>(at), outcome_lookup(outcomes.low, top.subtree));
    _mm256_store_si256(reinterpret_cast<__m256i*>(at + kVectorLanes), outcome_lookup(outcomes.high, top.subtree));
    const int rounds_low = lane_maximum(outcome_lookup(outcomes.low, top.height));
    const int rounds_high = lane_maximum(outcome_lookup(outcomes.high, top.height));
    if (t + 1 < tree_count) next_outcomes = top_level_outcomes(trees[t + 1], signed_columns);
    const int second_half = kClasses == 2 ? 2 * kVectorLanes : kVectorLanes;
    walk_lanes<kClasses>(nodes, columns, at, rounds_low, probabilities, classes, leaf_values,
                         std::make_index_sequence<kVectorLanes>{});
    walk_lanes<kClasses>(nodes, columns + kVectorLanes * sizeof(float), at + kVectorLanes, rounds_high,
                         probabilities, classes, leaf_values + second_half, std::make_index_sequence<kVectorLanes>{});
    if constexpr (kClasses == 2) {
      __m256 class0, class1;
      unpair(leaf_values, class0, class1);
      sum0_low = _mm256_add_ps(sum0_low, class0);
      sum1_low = _mm256_add_ps(sum1_low, class1);
      unpair(leaf_values + 2 * kVectorLanes, class0, class1);
      sum0_high = _mm256_add_ps(sum0_high, class0);
      sum1_high = _mm256_add_ps(sum1_high, class1);
    } else {
      for (int i = 0; i < classes * 2; ++i) {
        float* sums = class_means + i * kVectorLanes;
        _mm256_storeu_ps(sums, _mm256_add_ps(_mm256_loadu_ps(sums), _mm256_load_ps(leaf_values + i * kVectorLanes)));
      }
    }
  }
  if constexpr (kClasses == 2) {
    _mm256_storeu_ps(class_means, restore_lane_order(sum0_low));
    _mm256_storeu_ps(class_means + kVectorLanes, restore_lane_order(sum0_high));
    _mm256_storeu_ps(class_means + kBlockLanes, restore_lane_order(sum1_low));
    _mm256_storeu_ps(class_means + kBlockLanes + kVectorLanes, restore_lane_order(sum1_high));
  }
  const __m256 scale = _mm256_set1_ps(1.0f / static_cast<float>(tree_count));
  for (int i = 0; i < classes * 2; ++i) {
    float* sums = class_means + i * kVectorLanes;
    _mm256_storeu_ps(sums, _mm256_mul_ps(_mm256_loadu_ps(sums), scale));
  }
}

}  // namespace

__attribute__((target("avx2"))) void predict_block_avx2(const ForestLayout& layout, const float* probabilities,
                                                        float* block, float* class_means) {
  // The values' order keys, as order_key computes them (NaN as -inf, -0 as +0, negative floats bit-flipped,
  // positive ones given the top bit), and beside them the same keys with the top bit flipped back for the
  // signed compares of the top levels, in the block's second half: one conversion per block instead of one
  // per node and tree.
  const std::size_t values = static_cast<std::size_t>(layout.feature_count) * kBlockLanes;
  float* signed_keys = block + values;
  const __m256i sign = _mm256_set1_epi32(std::numeric_limits<std::int32_t>::min());
  for (std::size_t i = 0; i < values; i += kVectorLanes) {
    __m256 value = _mm256_add_ps(_mm256_loadu_ps(block + i), _mm256_setzero_ps());
    value = _mm256_blendv_ps(value, _mm256_set1_ps(-std::numeric_limits<float>::infinity()),
                             _mm256_cmp_ps(value, value, _CMP_UNORD_Q));
    const __m256i bits = _mm256_castps_si256(value);
    const __m256i key = _mm256_xor_si256(bits, _mm256_or_si256(_mm256_srai_epi32(bits, 31), sign));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(block + i), key);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(signed_keys + i), _mm256_xor_si256(key, sign));
  }
  const char* columns = reinterpret_cast<const char*>(block);
  const char* signed_columns = reinterpret_cast<const char*>(signed_keys);
  if (layout.class_count == 2) {
    sum_trees<2>(layout, probabilities, columns, signed_columns, class_means);
  } else {
    sum_trees<0>(layout, probabilities, columns, signed_columns, class_means);
  }
}

}  // namespace tessera::learn::detail
