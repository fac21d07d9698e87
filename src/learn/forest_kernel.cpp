// Which prediction kernel runs: what the CPU offers, the TESSERA_FOREST_KERNEL override (read here only)
// and what a forest's shape allows.

#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

#include "forest_layout.hpp"
#include "tessera/core/error.hpp"
#include "tessera/learn/random_forest.hpp"

namespace tessera::learn {

bool cpu_runs_forest_kernel(ForestKernel kernel) {
  // GCC's checks also ask the operating system (XGETBV) whether it saves the wider registers.
  static const bool has_avx2 = __builtin_cpu_supports("avx2");
  static const bool has_avx512 = __builtin_cpu_supports("avx512f");
  switch (kernel) {
    case ForestKernel::avx2: return has_avx2;
    case ForestKernel::avx512: return has_avx512;
    case ForestKernel::fastest:
    case ForestKernel::portable: return true;
  }
  return false;
}

const char* forest_kernel_name(ForestKernel kernel) {
  switch (kernel) {
    case ForestKernel::fastest: return "fastest";
    case ForestKernel::portable: return "portable";
    case ForestKernel::avx2: return "avx2";
    case ForestKernel::avx512: return "avx512";
  }
  return "unknown";
}

namespace {

ForestKernel kernel_from_environment() {
  const char* named = std::getenv("TESSERA_FOREST_KERNEL");
  if (named == nullptr || *named == '\0') {
    if (cpu_runs_forest_kernel(ForestKernel::avx512)) return ForestKernel::avx512;
    return cpu_runs_forest_kernel(ForestKernel::avx2) ? ForestKernel::avx2 : ForestKernel::portable;
  }
  for (const ForestKernel kernel : {ForestKernel::portable, ForestKernel::avx2, ForestKernel::avx512}) {
    if (std::string_view(named) != forest_kernel_name(kernel)) continue;
    if (!cpu_runs_forest_kernel(kernel)) {
      throw Error(ErrorCode::unsupported,
                  fmt::format("TESSERA_FOREST_KERNEL: this CPU does not run the '{}' kernel", named));
    }
    return kernel;
  }
  throw Error(ErrorCode::invalid_argument,
              fmt::format("TESSERA_FOREST_KERNEL: must be portable, avx2 or avx512, got '{}'", named));
}

}  // namespace

ForestKernel fastest_forest_kernel() {
  // A throwing initialiser leaves the static uninitialised, so a bad value fails every call, not just the first.
  static const ForestKernel kernel = kernel_from_environment();
  return kernel;
}

ForestKernel RandomForest::kernel(ForestKernel requested) const {
  const ForestKernel wanted = requested == ForestKernel::fastest ? fastest_forest_kernel() : requested;
  if (wanted == ForestKernel::portable) return wanted;
  if (!cpu_runs_forest_kernel(wanted)) {
    throw Error(ErrorCode::unsupported,
                fmt::format("random forest: this CPU does not run the '{}' kernel", forest_kernel_name(wanted)));
  }
  return vector_layout_ != nullptr ? wanted : ForestKernel::portable;
}

}  // namespace tessera::learn
