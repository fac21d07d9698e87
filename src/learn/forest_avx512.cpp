// The AVX-512 prediction kernel. The build targets baseline x86-64, so only this file's functions carry the
// AVX-512 target and they run only after cpu_has_avx512() said yes.
//
// Per tree and block of 16 rows: the top four levels cost one column load and one compare per node (15),
// giving a 16-bit "went right" mask per node; masks combined level by level say which of the 16 outcomes
// each lane reached, and one permute turns outcomes into subtree roots. The rest of the walk (two to
// three levels on average) is scalar, eight lanes stepping together so their loads overlap. The leaves'
// probabilities are gathered per class and added in tree order, the order the portable walk adds them.

#include <immintrin.h>

#include <cstring>
#include <utility>

#include "forest_layout.hpp"

namespace tessera::learn::detail {
namespace {

// Walks eight lanes from their nodes in `at` to their leaves, every lane stepping each round until a round
// advances none (leaves have left_delta 0 and threshold +inf). `columns` points at the first of the eight
// lanes' values of feature 0, so a lane's value sits at a constant displacement from the node's column.
template <std::size_t... Lane>
inline void walk_lanes(const WalkNode* nodes, const char* columns, std::int32_t* at,
                       std::index_sequence<Lane...>) {
  std::int32_t node_at[sizeof...(Lane)] = {at[Lane]...};
  std::uint32_t advanced = 0;
  auto step = [&](std::size_t lane) {
    const WalkNode node = nodes[node_at[lane]];
    float value;
    std::memcpy(&value, columns + node.column_offset + lane * sizeof(float), sizeof(float));
    const std::uint32_t advance = node.left_delta + (value > node.threshold ? 1u : 0u);
    node_at[lane] += static_cast<std::int32_t>(advance);
    advanced |= advance;
  };
  do {
    advanced = 0;
    (step(Lane), ...);
  } while (advanced != 0);
  ((at[Lane] = node_at[Lane]), ...);
}

// The top levels of one tree for the whole block: each lane's subtree root, as 16 node indices. The loop
// is unrolled so the masks stay in registers.
__attribute__((target("avx512f"), always_inline)) inline __m512i top_level_outcomes(const TopLevels& top,
                                                                                 const char* columns) {
  std::uint32_t lanes_at[kTopNodes] = {0xFFFFu};  // lanes that reach each position
  std::uint32_t went_right[kTopLevels] = {};      // per level: lanes whose node there sent them right
#pragma GCC unroll 16
  for (int position = 0; position < kTopNodes; ++position) {
    const __m512 column = _mm512_loadu_ps(reinterpret_cast<const float*>(columns + top.column_offset[position]));
    const std::uint32_t right = _mm512_cmp_ps_mask(column, _mm512_set1_ps(top.threshold[position]), _CMP_GT_OQ);
    const std::uint32_t here_right = lanes_at[position] & right;
    went_right[31 - __builtin_clz(static_cast<unsigned>(position) + 1)] |= here_right;
    if (position < kTopNodes / 2) {
      lanes_at[2 * position + 1] = lanes_at[position] & ~right;
      lanes_at[2 * position + 2] = here_right;
    }
  }
  __m512i outcome = _mm512_setzero_si512();
#pragma GCC unroll 4
  for (int level = 0; level < kTopLevels; ++level) {
    outcome = _mm512_mask_add_epi32(outcome, static_cast<__mmask16>(went_right[level]), outcome,
                                    _mm512_set1_epi32(1 << (kTopLevels - 1 - level)));
  }
  // The masked forms here and below: GCC 12's unmasked ones start from an "undefined" register that
  // -Wmaybe-uninitialized reports.
  return _mm512_maskz_permutexvar_epi32(0xFFFF, outcome, _mm512_load_si512(top.subtree));
}

}  // namespace

bool cpu_has_avx512() {
  // GCC's check also asks the operating system (XGETBV) whether it saves the AVX-512 registers.
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
}

__attribute__((target("avx512f"))) void predict_block_avx512(const ForestLayout& layout, const float* probabilities,
                                                             const float* block, float* class_means) {
  static_assert(kBlockLanes == 16 && kTopNodes == 15);
  const int classes = layout.class_count;
  const char* columns = reinterpret_cast<const char*>(block);
  const WalkNode* nodes = layout.nodes.data();
  for (int c = 0; c < classes; ++c) _mm512_storeu_ps(class_means + c * kBlockLanes, _mm512_setzero_ps());
  alignas(64) std::int32_t at[kBlockLanes];
  for (const TopLevels& top : layout.trees) {
    _mm512_store_si512(at, top_level_outcomes(top, columns));
    walk_lanes(nodes, columns, at, std::make_index_sequence<8>{});
    walk_lanes(nodes, columns + 8 * sizeof(float), at + 8, std::make_index_sequence<8>{});
    const __m512i first_class = _mm512_mullo_epi32(_mm512_load_si512(at), _mm512_set1_epi32(classes));
    for (int c = 0; c < classes; ++c) {
      float* sums = class_means + c * kBlockLanes;
      const __m512 leaf = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), 0xFFFF, first_class, probabilities + c,
                                                   sizeof(float));
      _mm512_storeu_ps(sums, _mm512_add_ps(_mm512_loadu_ps(sums), leaf));
    }
  }
  const __m512 scale = _mm512_set1_ps(1.0f / static_cast<float>(layout.trees.size()));
  for (int c = 0; c < classes; ++c) {
    float* sums = class_means + c * kBlockLanes;
    _mm512_storeu_ps(sums, _mm512_mul_ps(_mm512_loadu_ps(sums), scale));
  }
}

}  // namespace tessera::learn::detail
