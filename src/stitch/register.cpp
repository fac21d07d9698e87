#include "tessera/stitch/register.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>

#include "stitch/pair_measure.hpp"
#include "stitch/parallel_each.hpp"
#include "stitch/solve.hpp"
#include "tessera/core/error.hpp"
#include "tessera/image/focus.hpp"

namespace tessera::stitch {
namespace {

using detail::OverlapWindows;

[[noreturn]] void invalid(const std::string& what) {
  throw Error(ErrorCode::invalid_argument, "stitch: " + what);
}

void validate(const RegisterOptions& o, const std::vector<Tile>& tiles) {
  const int n = static_cast<int>(tiles.size());
  if (!(o.max_shift >= 0))
    invalid(fmt::format("parameter 'max_shift' must be >= 0, got {}", o.max_shift));
  if (!(o.min_quality >= -1 && o.min_quality <= 1)) {
    invalid(fmt::format("parameter 'min_quality' must be in [-1, 1], got {}", o.min_quality));
  }
  if (!(o.max_residual > 0))
    invalid(fmt::format("parameter 'max_residual' must be > 0, got {}", o.max_residual));
  if (o.min_overlap < 4)
    invalid(fmt::format("parameter 'min_overlap' must be at least 4, got {}", o.min_overlap));
  if (o.jobs < 1) invalid(fmt::format("parameter 'jobs' must be at least 1, got {}", o.jobs));
  if (n > 0 && (o.anchor < 0 || o.anchor >= n)) {
    invalid(
        fmt::format("parameter 'anchor' must be a tile index in [0, {}], got {}", n - 1, o.anchor));
  }
  for (const Tile& t : tiles) {
    if (!t.nominal) invalid(fmt::format("tile '{}' has no nominal position", t.name));
    if (!std::isfinite(t.nominal->x) || !std::isfinite(t.nominal->y)) {
      invalid(fmt::format("tile '{}' has a non-finite nominal position", t.name));
    }
  }
}

// Every pair of tiles whose nominal rectangles overlap by at least min_overlap on both axes.
// Quadratic in the number of tiles, which stays well under a second for thousands of tiles.
std::vector<PairMeasurement> find_pairs(const std::vector<Tile>& tiles, cv::Size size,
                                        int min_overlap, std::vector<OverlapWindows>& windows) {
  std::vector<PairMeasurement> pairs;
  const int n = static_cast<int>(tiles.size());
  for (int a = 0; a < n; ++a) {
    for (int b = a + 1; b < n; ++b) {
      const cv::Point2d nominal = *tiles[b].nominal - *tiles[a].nominal;
      const cv::Point rounded(cvRound(nominal.x), cvRound(nominal.y));
      const auto win = detail::overlap_windows(rounded, size, min_overlap);
      if (!win) continue;
      PairMeasurement p;
      p.a = a;
      p.b = b;
      p.overlap = win->in_a.size();
      p.nominal = nominal;
      pairs.push_back(p);
      windows.push_back(*win);
    }
  }
  return pairs;
}

// Decodes tiles a few at a time and measures each pair once both of its tiles have been seen. Only
// the overlap windows of tiles that still have an unmeasured pair are held, so memory follows one
// row of a grid listed row by row rather than the whole set.
void measure_pairs(const std::vector<Tile>& tiles, std::vector<PairMeasurement>& pairs,
                   const std::vector<OverlapWindows>& windows, int jobs) {
  const size_t n = tiles.size();
  std::vector<std::vector<size_t>> pairs_of(n);
  for (size_t p = 0; p < pairs.size(); ++p) {
    pairs_of[static_cast<size_t>(pairs[p].a)].push_back(p);
    pairs_of[static_cast<size_t>(pairs[p].b)].push_back(p);
  }
  std::vector<cv::Mat> cut_a(pairs.size()), cut_b(pairs.size());
  const size_t chunk = static_cast<size_t>(jobs);
  for (size_t first = 0; first < n; first += chunk) {
    const size_t last = std::min(n, first + chunk);
    detail::parallel_each(last - first, jobs, [&](size_t k) {
      const size_t t = first + k;
      if (pairs_of[t].empty()) return;
      const cv::Mat pixels = load_tile(tiles[t]);
      for (size_t p : pairs_of[t]) {
        // Windows wait in the tile's own pixel type (a quarter of grey floats for 8-bit tiles)
        // until their pair is measured. Each pair's two windows belong to different tiles, so no
        // two threads write the same Mat.
        if (static_cast<size_t>(pairs[p].a) == t)
          cut_a[p] = pixels(windows[p].in_a).clone();
        else
          cut_b[p] = pixels(windows[p].in_b).clone();
      }
    });
    std::vector<size_t> ready;
    for (size_t p = 0; p < pairs.size(); ++p) {
      const size_t b = static_cast<size_t>(pairs[p].b);  // b > a: the pair completes when b is read
      if (b >= first && b < last) ready.push_back(p);
    }
    detail::parallel_each(ready.size(), jobs, [&](size_t k) {
      const size_t p = ready[k];
      const detail::ShiftEstimate est =
          detail::estimate_shift(image::to_unit_gray(cut_a[p]), image::to_unit_gray(cut_b[p]));
      PairMeasurement& m = pairs[p];
      // Windows were cut at the rounded nominal offset; b sits at that offset plus the measured
      // shift.
      const cv::Point2d cut_offset = windows[p].in_a.tl() - windows[p].in_b.tl();
      m.measured = cut_offset + est.shift;
      m.quality = est.quality;
      m.response = est.response;
      cut_a[p].release();
      cut_b[p].release();
    });
  }
}

void classify(std::vector<PairMeasurement>& pairs, const RegisterOptions& o) {
  for (PairMeasurement& p : pairs) {
    const double limit =
        o.max_shift > 0 ? o.max_shift : 0.3 * std::min(p.overlap.width, p.overlap.height);
    if (!(p.quality >= o.min_quality)) {
      p.status = PairStatus::no_signal;
    } else if (cv::norm(p.measured - p.nominal) > limit) {
      p.status = PairStatus::beyond_max_shift;
    } else {
      p.status = PairStatus::used;
    }
  }
}

// Weighted least squares over the used pairs, dropping outliers (see detail::solve_robust); pairs
// get their residuals, and the dropped ones the status outlier.
std::vector<cv::Point2d> place_tiles(const std::vector<Tile>& tiles,
                                     std::vector<PairMeasurement>& pairs,
                                     const RegisterOptions& o) {
  std::vector<cv::Point2d> nominal;
  for (const Tile& t : tiles) nominal.push_back(*t.nominal);
  std::vector<detail::Edge> edges;
  std::vector<size_t> edge_pair;
  for (size_t p = 0; p < pairs.size(); ++p) {
    if (pairs[p].status != PairStatus::used) continue;
    // Weight by confidence; a floor keeps a barely accepted pair from being ignored outright.
    edges.push_back({pairs[p].a, pairs[p].b, pairs[p].measured, std::max(0.05, pairs[p].quality)});
    edge_pair.push_back(p);
  }
  detail::RobustSolution solved = detail::solve_robust(nominal, edges, o.anchor, o.max_residual);
  for (size_t e = 0; e < edges.size(); ++e) {
    PairMeasurement& m = pairs[edge_pair[e]];
    m.residual = solved.residuals[e];
    if (solved.dropped[e]) m.status = PairStatus::outlier;
  }
  return std::move(solved.positions);
}

}  // namespace

std::string_view to_string(PairStatus status) {
  switch (status) {
    case PairStatus::used:
      return "used";
    case PairStatus::no_signal:
      return "no_signal";
    case PairStatus::beyond_max_shift:
      return "beyond_max_shift";
    case PairStatus::outlier:
      return "outlier";
  }
  return "unknown";
}

int Placement::fallbacks() const {
  return static_cast<int>(std::count_if(placed.begin(), placed.end(),
                                        [](const TilePlacement& t) { return t.fell_back; }));
}

int Placement::pairs_used() const {
  return static_cast<int>(std::count_if(pairs.begin(), pairs.end(), [](const PairMeasurement& p) {
    return p.status == PairStatus::used;
  }));
}

std::vector<cv::Point> Placement::mosaic_offsets() const {
  std::vector<cv::Point> out;
  if (placed.empty()) return out;
  cv::Point low(INT_MAX, INT_MAX);
  for (const TilePlacement& t : placed) {
    const cv::Point p(cvRound(t.position.x), cvRound(t.position.y));
    out.push_back(p);
    low.x = std::min(low.x, p.x);
    low.y = std::min(low.y, p.y);
  }
  for (cv::Point& p : out) p -= low;
  return out;
}

cv::Size Placement::mosaic_size() const {
  cv::Size size;
  for (const cv::Point& p : mosaic_offsets()) {
    size.width = std::max(size.width, p.x + format.size.width);
    size.height = std::max(size.height, p.y + format.size.height);
  }
  return size;
}

Placement register_tiles(std::vector<Tile> tiles, const RegisterOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  Placement out;
  out.format =
      probe_tiles(tiles);  // first: an empty list or mismatched tiles are the likelier mistakes
  validate(options, tiles);
  std::vector<OverlapWindows> windows;
  out.pairs = find_pairs(tiles, out.format.size, options.min_overlap, windows);
  measure_pairs(tiles, out.pairs, windows, options.jobs);
  classify(out.pairs, options);
  const std::vector<cv::Point2d> pos = place_tiles(tiles, out.pairs, options);
  out.placed.resize(tiles.size());
  for (size_t i = 0; i < tiles.size(); ++i) {
    out.placed[i].position = pos[i];
    out.placed[i].nominal = *tiles[i].nominal;
  }
  for (const PairMeasurement& p : out.pairs) {
    if (p.status != PairStatus::used) continue;
    for (int t : {p.a, p.b}) {
      TilePlacement& tp = out.placed[static_cast<size_t>(t)];
      ++tp.pairs_used;
      tp.max_residual = std::max(tp.max_residual, cv::norm(p.residual));
    }
  }
  for (TilePlacement& t : out.placed) t.fell_back = t.pairs_used == 0;
  out.tiles = std::move(tiles);
  out.anchor = options.anchor;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace tessera::stitch
