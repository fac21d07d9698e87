// The AVX2 prediction kernel, for CPUs without AVX-512. The build targets baseline x86-64, so only this
// file's functions carry the AVX2 target and they run only after cpu_runs_forest_kernel(ForestKernel::avx2)
// said yes. Same blocks, walk nodes, scalar walk (forest_walk.hpp) and sums in the same order as the
// AVX-512 kernel, so the same floats as the portable walk; the top levels are its own (ShallowTopLevels).
//
// A block of 16 rows is two vectors of 8. AVX2 has neither mask registers nor unsigned compares: a top
// level node costs, per vector, a signed compare of keys with their top bit flipped, and each lane's own
// node's result is picked by blends on its earlier decisions (one blend per node). Outcome tables of 16
// entries are read with two in-register permutes and a blend on the first decision (no gathers, which are
// slow on many AVX2 CPUs). Measured on 1024^2 (100 trees, depth 12, one thread, load ~4.5): 0.91 s against
// the portable walk's 1.58 s and the AVX-512 kernel's 0.79 s; 5 top levels took 1.03 s, 3 took 0.96 s;
// picking each lane's node by comparing its position with every node (as the AVX-512 kernel does with
// mask registers) took 1.11 s.

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
static_assert(kShallowTopOutcomes % kVectorLanes == 0);

// Where 8 lanes went in the top levels of one tree: per level, all ones in the lanes that went right.
struct Decisions {
  __m256i level[kShallowTopLevels];
};

// The right-going mask of each lane's own node among the kSpan nodes from `node`: the nodes at one level
// of the subtree the lanes' earlier decisions chose, decisions[0] being the decision that splits the span
// in halves. Depth first, so few masks are live at once and they stay in registers.
template <int kSpan>
__attribute__((target("avx2"), always_inline)) inline __m256i own_node_goes_right(const ShallowTopLevels& top,
                                                                                 const char* signed_columns,
                                                                                 int node, const __m256i* decisions) {
  if constexpr (kSpan == 1) {
    const char* column_start = signed_columns + top.column_offset[node];
    const __m256i column = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(column_start));
    return _mm256_cmpgt_epi32(column, _mm256_set1_epi32(top.signed_threshold_key[node]));
  } else {
    const __m256i left = own_node_goes_right<kSpan / 2>(top, signed_columns, node, decisions + 1);
    const __m256i right = own_node_goes_right<kSpan / 2>(top, signed_columns, node + kSpan / 2, decisions + 1);
    return _mm256_blendv_epi8(left, right, decisions[0]);  // masks are whole lanes, so a byte blend serves
  }
}

// The top levels of one tree for 8 lanes: every node's compare, each lane's own chosen by blends on its
// earlier decisions (no position vector, no per-node equality test). signed_columns holds the lanes' order
// keys with the top bit flipped, so the signed compare orders them as the unsigned keys.
template <std::size_t... Level>
__attribute__((target("avx2"), always_inline)) inline Decisions top_level_decisions(const ShallowTopLevels& top,
                                                                                   const char* signed_columns,
                                                                                   std::index_sequence<Level...>) {
  Decisions decisions;
  ((decisions.level[Level] = own_node_goes_right<(1 << Level)>(top, signed_columns, (1 << Level) - 1, decisions.level)),
   ...);
  return decisions;
}

// Each lane's entry of a per-outcome table (outcome = the decisions as binary digits, first level highest):
// a permute per 8 entries on the last three decisions, then blends on the earlier ones pairing the pieces.
__attribute__((target("avx2"), always_inline)) inline __m256i outcome_lookup(const Decisions& decisions,
                                                                           __m256i outcome,
                                                                           const std::int32_t* table) {
  constexpr int kPieces = kShallowTopOutcomes / kVectorLanes;
  __m256i pieces[kPieces];
  for (int i = 0; i < kPieces; ++i) {
    const __m256i entries = _mm256_load_si256(reinterpret_cast<const __m256i*>(table + i * kVectorLanes));
    pieces[i] = _mm256_permutevar8x32_epi32(entries, outcome);
  }
  int level = kShallowTopLevels - 4;  // the decision just above the permute's three
  for (int count = kPieces; count > 1; count /= 2, --level) {
    for (int i = 0; i < count / 2; ++i) {
      pieces[i] = _mm256_blendv_epi8(pieces[2 * i], pieces[2 * i + 1], decisions.level[level]);
    }
  }
  return pieces[0];
}

// The outcome as a number: the decisions (-1 for right) as binary digits, first level highest.
__attribute__((target("avx2"), always_inline)) inline __m256i outcome_of(const Decisions& decisions) {
  __m256i outcome = _mm256_setzero_si256();
  for (int level = 0; level < kShallowTopLevels; ++level) {
    outcome = _mm256_sub_epi32(_mm256_add_epi32(outcome, outcome), decisions.level[level]);
  }
  return outcome;
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
  const ShallowTopLevels* trees = layout.shallow_trees.data();
  const std::size_t tree_count = layout.shallow_trees.size();
  const char* signed_high = signed_columns + kVectorLanes * sizeof(float);
  const auto levels = std::make_index_sequence<kShallowTopLevels>{};
  Decisions next_low = top_level_decisions(trees[0], signed_columns, levels);
  Decisions next_high = top_level_decisions(trees[0], signed_high, levels);
  for (std::size_t t = 0; t < tree_count; ++t) {
    const ShallowTopLevels& top = trees[t];
    const Decisions low = next_low, high = next_high;
    const __m256i outcome_low = outcome_of(low), outcome_high = outcome_of(high);
    _mm256_store_si256(reinterpret_cast<__m256i*>(at), outcome_lookup(low, outcome_low, top.subtree));
    _mm256_store_si256(reinterpret_cast<__m256i*>(at + kVectorLanes), outcome_lookup(high, outcome_high, top.subtree));
    const int rounds_low = lane_maximum(outcome_lookup(low, outcome_low, top.height));
    const int rounds_high = lane_maximum(outcome_lookup(high, outcome_high, top.height));
    if (t + 1 < tree_count) {
      next_low = top_level_decisions(trees[t + 1], signed_columns, levels);
      next_high = top_level_decisions(trees[t + 1], signed_high, levels);
    }
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
    // -0 to +0 on the bits, not by adding 0: with flush-to-zero set that add would also zero denormals.
    const __m256 loaded = _mm256_loadu_ps(block + i);
    __m256i bits = _mm256_castps_si256(loaded);
    bits = _mm256_andnot_si256(_mm256_cmpeq_epi32(bits, sign), bits);
    bits = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(bits),
                                                _mm256_set1_ps(-std::numeric_limits<float>::infinity()),
                                                _mm256_cmp_ps(loaded, loaded, _CMP_UNORD_Q)));
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
