#include "track/lap.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "tessera/core/error.hpp"

namespace tessera::track {
namespace {

// The cheapest complete assignment by trying every injective map of rows to columns.
double brute_force(const CostMatrix& m) {
  std::vector<int> cols(static_cast<size_t>(m.cols));
  std::iota(cols.begin(), cols.end(), 0);
  double best = kForbidden;
  do {
    double total = 0.0;
    for (int r = 0; r < m.rows; ++r) total += m.at(r, cols[static_cast<size_t>(r)]);
    best = std::min(best, total);
  } while (std::next_permutation(cols.begin(), cols.end()));
  return best;
}

TEST(Assignment, MatchesBruteForceOnRandomMatricesWithForbiddenPairs) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> cost(-2.0, 5.0);
  for (int trial = 0; trial < 300; ++trial) {
    const int rows = 1 + static_cast<int>(rng() % 5);
    const int cols = rows + static_cast<int>(rng() % 3);
    CostMatrix m(rows, cols);
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < cols; ++c) m.at(r, c) = rng() % 4 == 0 ? kForbidden : cost(rng);
    }
    const double best = brute_force(m);
    if (best == kForbidden) continue;
    const std::vector<int> chosen = solve_assignment(m);
    double total = 0.0;
    std::vector<int> used = chosen;
    std::sort(used.begin(), used.end());
    EXPECT_EQ(std::adjacent_find(used.begin(), used.end()), used.end()) << "a column used twice";
    for (int r = 0; r < rows; ++r) total += m.at(r, chosen[static_cast<size_t>(r)]);
    EXPECT_NEAR(total, best, 1e-9) << "trial " << trial;
  }
}

TEST(Assignment, PrefersTheGlobalOptimumOverGreedyChoices) {
  // Greedy takes (0,0) = 1 and is left with (1,1) = 10; the optimum is 2 + 2.
  CostMatrix m(2, 2);
  m.at(0, 0) = 1;
  m.at(0, 1) = 2;
  m.at(1, 0) = 2;
  m.at(1, 1) = 10;
  EXPECT_EQ(solve_assignment(m), (std::vector<int>{1, 0}));
}

TEST(Assignment, ReportsAnInfeasibleMatrix) {
  CostMatrix m(2, 2);
  m.at(0, 0) = 1;
  m.at(1, 0) = 1;
  EXPECT_THROW(solve_assignment(m), Error);
}

}  // namespace
}  // namespace tessera::track
