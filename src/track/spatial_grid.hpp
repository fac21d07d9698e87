#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace tessera::track {

// Points bucketed in square cells, for "which points lie within r of (row, col)" without all-pairs.
// Built once per frame: sort by cell, then binary search per visited cell.
class SpatialGrid {
 public:
  SpatialGrid(const std::vector<std::pair<double, double>>& points, double cell) : cell_(std::max(cell, 1.0)) {
    entries_.reserve(points.size());
    for (size_t i = 0; i < points.size(); ++i) {
      entries_.push_back({key(cell_of(points[i].first), cell_of(points[i].second)), static_cast<int>(i)});
    }
    std::sort(entries_.begin(), entries_.end());
  }

  // Calls visit(index) for every point whose cell lies within r of (row, col) (a superset of the
  // points within r; the caller checks the distance).
  template <typename Visit>
  void near(double row, double col, double r, Visit visit) const {
    const std::int64_t r0 = cell_of(row - r);
    const std::int64_t r1 = cell_of(row + r);
    const std::int64_t c0 = cell_of(col - r);
    const std::int64_t c1 = cell_of(col + r);
    for (std::int64_t cr = r0; cr <= r1; ++cr) {
      const std::int64_t lo = key(cr, c0);
      const std::int64_t hi = key(cr, c1);
      auto it = std::lower_bound(entries_.begin(), entries_.end(), Entry{lo, -1});
      for (; it != entries_.end() && it->key <= hi; ++it) visit(it->index);
    }
  }

 private:
  struct Entry {
    std::int64_t key;
    int index;
    friend bool operator<(const Entry& a, const Entry& b) {
      return a.key < b.key || (a.key == b.key && a.index < b.index);
    }
  };
  std::int64_t cell_of(double v) const { return static_cast<std::int64_t>(std::floor(v / cell_)); }
  // Row-major cell key; columns of one cell row are contiguous, so a row of cells is one key range.
  static std::int64_t key(std::int64_t cr, std::int64_t cc) { return (cr << 32) + (cc + (1LL << 31)); }

  double cell_;
  std::vector<Entry> entries_;
};

}  // namespace tessera::track
