#pragma once

// Work on whole images cut into bands of rows and run as one parallel loop on OpenCV's thread pool, largest
// pieces first, so that the threads finish together even when the tasks differ tenfold in cost.

#include <functional>
#include <vector>

namespace tessera::learn::features {

// One image-sized task: run(first_row, end_row) does rows [first_row, end_row) and may run concurrently with
// other bands of the same task. A band also pays for `margin` rows above and below it (a blur's radius), so
// bands are cut no thinner than four margins.
struct BandedTask {
  int rows = 0;
  double cost = 0;  // relative: only the ratios between tasks matter
  int margin = 0;
  std::function<void(int first_row, int end_row)> run;
};

// Runs every task, cut into bands, in parallel; returns when all are done.
void run_in_bands(const std::vector<BandedTask>& tasks);

}  // namespace tessera::learn::features
