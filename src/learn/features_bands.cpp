// Each task is cut so that no piece is larger than a quarter of one thread's share of the total: with the
// pool taking pieces in order, the small ones fill in behind the large ones. Per-pixel tasks (no margin) are
// cut into bands of at least 32 rows, blurs into bands of at least four radii, since every band repeats its
// margins' horizontal pass.

#include "features_bands.hpp"

#include <algorithm>
#include <cstdint>
#include <cmath>

#include <opencv2/core/utility.hpp>

namespace tessera::learn::features {
namespace {

struct Band {
  const BandedTask* task;
  int first_row;
  int end_row;
  double cost;
};

}  // namespace

void run_in_bands(const std::vector<BandedTask>& tasks) {
  double total = 0;
  for (const BandedTask& task : tasks) total += task.cost;
  const double piece = total / (4.0 * std::max(1, cv::getNumThreads()));
  std::vector<Band> bands;
  for (const BandedTask& task : tasks) {
    if (task.rows <= 0) continue;
    const int min_rows = std::max(32, 4 * task.margin);
    const int wanted = piece > 0 ? static_cast<int>(std::ceil(task.cost / piece)) : 1;
    const int count = std::clamp(std::min(wanted, task.rows / min_rows), 1, task.rows);
    for (int b = 0; b < count; ++b) {
      // In 64 bits: rows x band count can pass 2^31 on tall images with many threads.
      const auto row_at = [&](int k) { return static_cast<int>(std::int64_t{task.rows} * k / count); };
      bands.push_back({&task, row_at(b), row_at(b + 1), task.cost / count});
    }
  }
  std::stable_sort(bands.begin(), bands.end(), [](const Band& a, const Band& b) { return a.cost > b.cost; });
  cv::parallel_for_(cv::Range(0, static_cast<int>(bands.size())), [&](const cv::Range& range) {
    for (int i = range.start; i < range.end; ++i) bands[i].task->run(bands[i].first_row, bands[i].end_row);
  });
}

}  // namespace tessera::learn::features
