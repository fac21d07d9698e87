#include "track/lap.hpp"

#include <fmt/format.h>

#include "tessera/core/error.hpp"

namespace tessera::track {

std::vector<int> solve_assignment(const CostMatrix& m) {
  if (m.rows > m.cols) {
    throw Error(ErrorCode::internal,
                fmt::format("assignment: {} rows cannot be assigned to {} columns", m.rows, m.cols));
  }
  const auto rows = static_cast<size_t>(m.rows);
  const auto cols = static_cast<size_t>(m.cols);
  std::vector<double> u(rows, 0.0);  // row potentials
  std::vector<double> v(cols, 0.0);  // column potentials
  std::vector<int> col4row(rows, -1);
  std::vector<int> row4col(cols, -1);
  std::vector<double> shortest(cols);
  std::vector<int> path(cols);
  std::vector<int> remaining(cols);
  std::vector<char> row_seen(rows);
  std::vector<char> col_seen(cols);

  for (size_t current = 0; current < rows; ++current) {
    // Dijkstra over the reduced costs from `current` to the nearest free column.
    std::fill(shortest.begin(), shortest.end(), kForbidden);
    std::fill(path.begin(), path.end(), -1);
    std::fill(row_seen.begin(), row_seen.end(), 0);
    std::fill(col_seen.begin(), col_seen.end(), 0);
    for (size_t j = 0; j < cols; ++j) remaining[j] = static_cast<int>(cols - 1 - j);
    size_t unvisited = cols;
    double min_value = 0.0;
    int sink = -1;
    auto i = static_cast<int>(current);
    while (sink < 0) {
      row_seen[static_cast<size_t>(i)] = 1;
      size_t best = 0;
      double lowest = kForbidden;
      for (size_t k = 0; k < unvisited; ++k) {
        const auto j = static_cast<size_t>(remaining[k]);
        const double c = m.at(i, static_cast<int>(j));
        if (c != kForbidden) {
          const double reduced = min_value + c - u[static_cast<size_t>(i)] - v[j];
          if (reduced < shortest[j]) {
            path[j] = i;
            shortest[j] = reduced;
          }
        }
        // Ties go to a free column: it ends the search sooner.
        if (shortest[j] < lowest || (shortest[j] == lowest && lowest != kForbidden && row4col[j] < 0)) {
          lowest = shortest[j];
          best = k;
        }
      }
      if (lowest == kForbidden) {
        throw Error(ErrorCode::internal,
                    fmt::format("assignment: row {} of {}x{} has no feasible column", current, m.rows, m.cols));
      }
      min_value = lowest;
      const auto j = static_cast<size_t>(remaining[best]);
      col_seen[j] = 1;
      remaining[best] = remaining[--unvisited];
      if (row4col[j] < 0)
        sink = static_cast<int>(j);
      else
        i = row4col[j];
    }
    // Update the potentials so every reduced cost stays >= 0, then flip the augmenting path.
    u[current] += min_value;
    for (size_t r = 0; r < rows; ++r) {
      if (row_seen[r] && r != current) u[r] += min_value - shortest[static_cast<size_t>(col4row[r])];
    }
    for (size_t j = 0; j < cols; ++j) {
      if (col_seen[j]) v[j] -= min_value - shortest[j];
    }
    for (auto j = static_cast<size_t>(sink);;) {
      const int r = path[j];
      row4col[j] = r;
      const int previous = col4row[static_cast<size_t>(r)];
      col4row[static_cast<size_t>(r)] = static_cast<int>(j);
      if (static_cast<size_t>(r) == current) break;
      j = static_cast<size_t>(previous);
    }
  }
  return col4row;
}

}  // namespace tessera::track
