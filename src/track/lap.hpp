#pragma once

#include <cstddef>
#include <limits>
#include <vector>

namespace tessera::track {

// Cost of a pair that may not be assigned.
inline constexpr double kForbidden = std::numeric_limits<double>::infinity();

// A dense rows x cols cost matrix, row-major, rows <= cols.
struct CostMatrix {
  int rows = 0;
  int cols = 0;
  std::vector<double> cost;
  CostMatrix(int r, int c) : rows(r), cols(c), cost(index(r, 0), kForbidden) {}
  double& at(int r, int c) { return cost[index(r, c)]; }
  double at(int r, int c) const { return cost[index(r, c)]; }

 private:
  std::size_t index(int r, int c) const {
    return static_cast<std::size_t>(r) * static_cast<std::size_t>(cols) + static_cast<std::size_t>(c);
  }
};

// Minimum-cost assignment of every row to a distinct column (linear sum assignment), by shortest
// augmenting paths with dual potentials (Jonker-Volgenant's scheme as refined by Crouse, the method of
// scipy's linear_sum_assignment): O(rows^2 * cols). Returns the column of each row. Costs may be
// negative; kForbidden entries are never chosen. Error{internal} when no complete assignment exists
// (callers add a private "no link" column per row, so that cannot happen for them).
//
// Written here because neither OpenCV nor a Debian package offers one: OpenCV's Hungarian solver is
// private to its shape module, and Debian ships LAP solvers only as Python modules.
std::vector<int> solve_assignment(const CostMatrix& matrix);

}  // namespace tessera::track
