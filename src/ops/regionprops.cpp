#include "tessera/ops/regionprops.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <limits>
#include <span>
#include <type_traits>
#include <unordered_map>

#include <fmt/format.h>

#include "ops/builtin.hpp"
#include "tessera/core/error.hpp"

// scikit-image 0.19.3's regionprops, reproduced operation for operation wherever the result depends
// on rounding (../shared/docs/formats.md section 6). One raster pass over the label image gathers
// each label's runs, area, bounding box, coordinate sums and integer intensity statistics;
// everything else is computed from the runs inside the label's bounding box, with buffers reused
// from region to region.
//
// "Operation for operation" means:
// * Central moments: scikit-image multiplies the mask by matrices of coordinate powers (numpy
//   `delta ** arange(4)`, then two BLAS dot products). With the reference BLAS that is, per column,
//   a sequential sum down the rows, then a sequential sum over the columns; the powers come from
//   libm's pow, which is not always x * x. The orientation's `a - c == 0` branch and the
//   eigenvalues of round or straight regions depend on those last bits, so we sum in the same order
//   with the same powers. numpy on CPUs with AVX-512 (AVX512_SKX) evaluates `**` with Intel SVML
//   instead, which is not correctly rounded (there pow(51.0, 1.0) != 51.0): scikit-image's last
//   bits then differ from the portable result computed here, and for exactly symmetric regions so
//   may its orientation.
// * Eigenvalues: numpy's eigvalsh is LAPACK dsyevd, which for 2x2 reduces to dsterf's split test
//   and dlae2 (not the closed form).
// * Histogram sums (perimeter, Crofton) are BLAS dot products: sequential, no fused multiply-add.
// * intensity_mean of float images is numpy's pairwise summation in the image's own precision.
namespace tessera::ops {
namespace {

constexpr double kPi = 3.141592653589793;  // math.pi

// Read at run time so that GCC cannot turn pow(x, 2.0) into x * x or pow(x, 0.5) into sqrt(x):
// numpy calls libm's pow, which differs from both in the last bit for some x.
volatile double g_two = 2.0;
volatile double g_half = 0.5;

[[noreturn]] void fail(const std::string& what) {
  throw Error(ErrorCode::invalid_argument, "regionprops: " + what, {{"op", "regionprops"}});
}

// -------------------------------------------------------------------------------------------------
// numpy and LAPACK numerics

// numpy's pairwise summation (loops_utils.h.src) over one inner-loop call.
template <typename T>
T pairwise_sum(const T* a, std::size_t n) {
  if (n < 8) {
    T res = 0;
    for (std::size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    T r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    T res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::size_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

// np.sum's reduction: the iterator hands the add loop 8192 elements at a time (its buffer size);
// each chunk is summed pairwise and added to the running total.
template <typename T>
T numpy_sum(const std::vector<T>& v) {
  constexpr std::size_t kBuffer = 8192;
  T total = 0;
  for (std::size_t i = 0; i < v.size(); i += kBuffer) {
    total += pairwise_sum(v.data() + i, std::min(kBuffer, v.size() - i));
  }
  return total;
}

// LAPACK dlae2: eigenvalues of [[a, b], [b, c]]; rt1 has the larger absolute value.
void dlae2(double a, double b, double c, double& rt1, double& rt2) {
  const double sm = a + c;
  const double adf = std::fabs(a - c);
  const double ab = std::fabs(b + b);
  const double acmx = std::fabs(a) > std::fabs(c) ? a : c;
  const double acmn = std::fabs(a) > std::fabs(c) ? c : a;
  double rt;
  if (adf > ab) {
    const double q = ab / adf;
    rt = adf * std::sqrt(1.0 + q * q);
  } else if (adf < ab) {
    const double q = adf / ab;
    rt = ab * std::sqrt(1.0 + q * q);
  } else {
    rt = ab * std::sqrt(2.0);
  }
  if (sm < 0) {
    rt1 = 0.5 * (sm - rt);
    rt2 = (acmx / rt1) * acmn - (b / rt1) * b;
  } else if (sm > 0) {
    rt1 = 0.5 * (sm + rt);
    rt2 = (acmx / rt1) * acmn - (b / rt1) * b;
  } else {
    rt1 = 0.5 * rt;
    rt2 = -0.5 * rt;
  }
}

// numpy.linalg.eigvalsh of [[a, b], [b, c]] (dsyevd, jobz='N': dsytrd leaves d = {a, c}, e = {b};
// dsterf splits off a negligible b or solves the block with dlae2; dsterf's scaling never triggers
// for these values), then scikit-image's clipping to >= 0. Returns l1 >= l2.
void inertia_eigvals(double a, double b, double c, double& l1, double& l2) {
  constexpr double kEps = 0x1p-53;  // dlamch('E')
  double e0 = a, e1 = c;
  if (!(a == 0 && b == 0 && c == 0) &&
      !(std::fabs(b) <= (std::sqrt(std::fabs(a)) * std::sqrt(std::fabs(c))) * kEps)) {
    const double e2 = b * b;
    if (!(std::fabs(e2) <= kEps * kEps * std::fabs(a * c))) dlae2(a, std::sqrt(e2), c, e0, e1);
  }
  const double hi = std::max(e0, e1), lo = std::min(e0, e1);
  l1 = hi < 0 ? 0.0 : hi;
  l2 = lo < 0 ? 0.0 : lo;
}

// -------------------------------------------------------------------------------------------------
// Raster pass

struct LabelStats {
  std::int32_t label = 0;
  std::int64_t area = 0;
  std::int32_t r0 = 0, c0 = 0, r1 = 0, c1 = 0;  // half-open bounding box
  std::int64_t sum_r = 0, sum_c = 0;
  std::int64_t isum = 0, imin = 0, imax = 0;  // integer intensity images only
  std::size_t first_run = 0, runs = 0;        // the label's runs in Scan::runs
};

// A horizontal run of one label: row, columns [c0, c1). slot is the label's index in Scan::stats.
struct Run {
  std::int32_t row, c0, c1, slot;
};

// What the raster pass gathers: per-label statistics in ascending label order and every run,
// grouped by label, each group in raster order.
struct Scan {
  std::vector<LabelStats> stats;
  std::vector<Run> runs;
};

enum class IntensityKind { none, integer, floating };

IntensityKind intensity_kind(const cv::Mat& intensity) {
  if (intensity.empty()) return IntensityKind::none;
  const int d = intensity.depth();
  return (d == CV_32F || d == CV_64F || d == CV_16F) ? IntensityKind::floating
                                                     : IntensityKind::integer;
}

// Label value -> slot in order of first appearance: a direct table when the ids are dense enough.
class LabelIndex {
 public:
  LabelIndex(std::int64_t max_label, std::int64_t pixels) {
    if (max_label <= std::max<std::int64_t>(1 << 16, 2 * pixels)) table_.assign(max_label + 1, -1);
  }
  std::int32_t get(std::int32_t label, std::vector<LabelStats>& stats) {
    std::int32_t& slot = table_.empty() ? map_.try_emplace(label, -1).first->second : table_[label];
    if (slot < 0) {
      slot = static_cast<std::int32_t>(stats.size());
      stats.emplace_back().label = label;
    }
    return slot;
  }

 private:
  std::vector<std::int32_t> table_;
  std::unordered_map<std::int32_t, std::int32_t> map_;
};

struct NoPixel {};

bool all_zero8(const std::int32_t* p) {
  std::uint64_t v[4];
  std::memcpy(v, p, sizeof v);
  return (v[0] | v[1] | v[2] | v[3]) == 0;
}

// One pass over the label image in runs of equal labels. T is the intensity pixel type when integer
// intensity statistics are gathered here, NoPixel otherwise. Labels <= 0 are background.
template <typename T>
void raster_pass(const cv::Mat& labels, const cv::Mat& intensity, LabelIndex& index, Scan& scan) {
  const int rows = labels.rows, cols = labels.cols;
  for (int r = 0; r < rows; ++r) {
    const std::int32_t* lab = labels.ptr<std::int32_t>(r);
    const T* val = nullptr;
    if constexpr (!std::is_same_v<T, NoPixel>) val = intensity.ptr<T>(r);
    int c = 0;
    while (c < cols) {
      const std::int32_t v = lab[c];
      if (v <= 0) {
        ++c;
        while (c + 8 <= cols && all_zero8(lab + c)) c += 8;
        continue;
      }
      int e = c + 1;
      while (e < cols && lab[e] == v) ++e;
      const std::int32_t slot = index.get(v, scan.stats);
      scan.runs.push_back({r, c, e, slot});
      LabelStats& s = scan.stats[slot];
      const std::int64_t len = e - c;
      if (s.area == 0) {
        s.r0 = r;
        s.c0 = c;
        s.c1 = e;
      } else {
        s.c0 = std::min(s.c0, c);
        s.c1 = std::max(s.c1, e);
      }
      s.r1 = r + 1;
      s.area += len;
      s.sum_r += len * r;
      s.sum_c += len * (c + e - 1) / 2;
      ++s.runs;
      if constexpr (!std::is_same_v<T, NoPixel>) {
        std::int64_t sum = 0, lo = val[c], hi = val[c];
        for (int k = c; k < e; ++k) {
          const std::int64_t x = val[k];
          sum += x;
          lo = std::min(lo, x);
          hi = std::max(hi, x);
        }
        s.imin = s.area == len ? lo : std::min(s.imin, lo);
        s.imax = s.area == len ? hi : std::max(s.imax, hi);
        s.isum += sum;
      }
      c = e;
    }
  }
}

Scan scan_labels(const cv::Mat& labels, const cv::Mat& intensity, std::int64_t max_label) {
  Scan scan;
  LabelIndex index(max_label, static_cast<std::int64_t>(labels.total()));
  if (intensity_kind(intensity) != IntensityKind::integer) {
    raster_pass<NoPixel>(labels, intensity, index, scan);
  } else {
    switch (intensity.depth()) {
      case CV_8U: raster_pass<std::uint8_t>(labels, intensity, index, scan); break;
      case CV_8S: raster_pass<std::int8_t>(labels, intensity, index, scan); break;
      case CV_16U: raster_pass<std::uint16_t>(labels, intensity, index, scan); break;
      case CV_16S: raster_pass<std::int16_t>(labels, intensity, index, scan); break;
      default: raster_pass<std::int32_t>(labels, intensity, index, scan); break;
    }
  }
  // Group the runs by label with a stable counting sort, which keeps each group in raster order.
  std::vector<std::size_t> next(scan.stats.size());
  std::size_t offset = 0;
  for (std::size_t i = 0; i < scan.stats.size(); ++i) {
    scan.stats[i].first_run = next[i] = offset;
    offset += scan.stats[i].runs;
  }
  std::vector<Run> grouped(scan.runs.size());
  for (const Run& run : scan.runs) grouped[next[run.slot]++] = run;
  scan.runs = std::move(grouped);
  std::sort(scan.stats.begin(), scan.stats.end(),
            [](const LabelStats& x, const LabelStats& y) { return x.label < y.label; });
  return scan;
}

// -------------------------------------------------------------------------------------------------
// Per-region work, inside the bounding box

struct Point {
  std::int64_t r, c;  // doubled coordinates: pixel centres are even, edge midpoints odd
};

// Buffers reused from one region to the next. The mask holds the region (1) in its h x w bounding
// box with a 2-pixel zero border: pixel (r, c) is at index(r, c), row stride w + 4. The masks carry
// kSlack bytes more so that 8-byte loads and stores may run past the last row.
struct Workspace {
  int h = 0, w = 0;
  std::ptrdiff_t stride = 0;
  std::vector<std::uint8_t> mask;
  std::vector<std::uint8_t> border;  // perimeter's border pixels, same layout
  // The region's first and last column and pixel count per row (-1, -1, 0 for an empty row).
  std::vector<std::int32_t> row_lo, row_hi, row_count;
  std::vector<std::int32_t> col_count;
  std::vector<double> col_s1, col_s2;
  std::vector<std::ptrdiff_t> stack;
  std::vector<std::int32_t> hull_lo, hull_hi;  // the convex hull image's columns per row
  std::vector<Point> level_lo, level_hi, chain_lo, chain_hi;
  std::vector<float> values_f;
  std::vector<double> values_d;
  std::vector<cv::float16_t> values_h;

  std::ptrdiff_t index(int r, int c) const { return (r + 2) * stride + c + 2; }
};

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::size_t kSlack = 16;

std::uint64_t load8(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

void store8(std::uint8_t* p, std::uint64_t v) { std::memcpy(p, &v, 8); }

// Fills the mask and the row extents from the runs and returns the central moments mu20, mu02, mu11
// as scikit-image computes them: mu[i][j] = sum over columns c of S_i(c) * dc^j, where S_i(c) sums
// dr^i down column c; dr and dc are measured from centroid_local = M[1,0] / M[0,0], whose sums are
// exact (libm's pow(x, 1) is x).
void build_mask(const LabelStats& s, std::span<const Run> runs, Workspace& ws, double mu[3]) {
  const int h = s.r1 - s.r0, w = s.c1 - s.c0;
  ws.h = h;
  ws.w = w;
  ws.stride = w + 4;
  ws.mask.assign(static_cast<std::size_t>(h + 4) * ws.stride + kSlack, 0);
  ws.row_lo.assign(h, -1);
  ws.row_hi.assign(h, -1);
  ws.row_count.assign(h, 0);
  ws.col_count.assign(w, 0);
  ws.col_s1.assign(w, 0.0);
  ws.col_s2.assign(w, 0.0);
  const double two = g_two;
  const double dn = static_cast<double>(s.area);
  const double cr = static_cast<double>(s.sum_r - s.area * s.r0) / dn;
  const double cc = static_cast<double>(s.sum_c - s.area * s.c0) / dn;
  std::int32_t* col_count = ws.col_count.data();
  double* col_s1 = ws.col_s1.data();
  double* col_s2 = ws.col_s2.data();
  int row = -1;
  double dr = 0, dr2 = 0;
  for (const Run& run : runs) {  // raster order, so each column adds its rows top to bottom
    const int r = run.row - s.r0, c0 = run.c0 - s.c0, c1 = run.c1 - s.c0;
    if (r != row) {
      row = r;
      dr = static_cast<double>(r) - cr;
      dr2 = std::pow(dr, two);
      ws.row_lo[r] = c0;
    }
    ws.row_hi[r] = c1 - 1;
    ws.row_count[r] += c1 - c0;
    std::memset(ws.mask.data() + ws.index(r, c0), 1, static_cast<std::size_t>(c1 - c0));
    for (int c = c0; c < c1; ++c) {
      ++col_count[c];
      col_s1[c] += dr;
      col_s2[c] += dr2;
    }
  }
  double mu20 = 0, mu02 = 0, mu11 = 0;
  for (int c = 0; c < w; ++c) {
    const double dc = static_cast<double>(c) - cc;
    mu20 += col_s2[c];
    mu02 += static_cast<double>(col_count[c]) * std::pow(dc, two);
    mu11 += col_s1[c] * dc;
  }
  mu[0] = mu20;
  mu[1] = mu02;
  mu[2] = mu11;
}

// inertia_tensor T = [[a, b], [b, c]]: diagonal (sum of the second moments - each) / mu00,
// off-diagonal -mu11 / mu00; then its eigenvalues, eccentricity, axes and orientation.
void moment_props(const double mu[3], double dn, RegionProps& p) {
  const double mu20 = mu[0], mu02 = mu[1], mu11 = mu[2];
  const double trace = mu20 + mu02;
  const double a = (trace - mu20) / dn, b = -mu11 / dn, c = (trace - mu02) / dn;
  double l1, l2;
  inertia_eigvals(a, b, c, l1, l2);
  p.eccentricity = l1 == 0 ? 0.0 : std::sqrt(1 - l2 / l1);
  p.axis_major_length = 4 * std::sqrt(l1);
  p.axis_minor_length = 4 * std::sqrt(l2);
  if (a - c == 0) {
    p.orientation = b < 0 ? -kPi / 4 : kPi / 4;
  } else {
    p.orientation = 0.5 * std::atan2(-2 * b, c - a);
  }
}

// skimage.measure.perimeter(image, 4): border = mask minus its erosion by the 4-cross; each border
// pixel gets code = 1 + 2 * (4-neighbours in the border) + 10 * (diagonal ones), weighted by code.
// The border is computed 8 pixels at a time; stores past a row's end write the border values of the
// pad and next-row pixels they cover, which are computed the same way, so they do no harm.
double perimeter(Workspace& ws) {
  const int h = ws.h, w = ws.w;
  const std::ptrdiff_t stride = ws.stride;
  const std::uint8_t* m = ws.mask.data();
  ws.border.assign(ws.mask.size(), 0);
  std::uint8_t* b = ws.border.data();
  for (int r = 0; r < h; ++r) {
    for (int c = 0; c < w; c += 8) {
      const std::ptrdiff_t i = ws.index(r, c);
      const std::uint64_t inner =
          load8(m + i - stride) & load8(m + i + stride) & load8(m + i - 1) & load8(m + i + 1);
      store8(b + i, load8(m + i) & ~inner & kOnes);
    }
  }
  std::int64_t hist[50] = {};
  for (int r = 0; r < h; ++r) {
    for (int c0 = 0; c0 < w; c0 += 8) {
      if (load8(b + ws.index(r, c0)) == 0) continue;
      for (int c = c0; c < std::min(c0 + 8, w); ++c) {
        const std::ptrdiff_t i = ws.index(r, c);
        if (!b[i]) continue;
        const int code =
            1 + 2 * (b[i - stride] + b[i + stride] + b[i - 1] + b[i + 1]) +
            10 * (b[i - stride - 1] + b[i - stride + 1] + b[i + stride - 1] + b[i + stride + 1]);
        ++hist[code];
      }
    }
  }
  double weights[50] = {};
  for (int k : {5, 7, 15, 17, 25, 27}) weights[k] = 1;
  for (int k : {21, 33}) weights[k] = std::sqrt(2.0);
  for (int k : {13, 23}) weights[k] = (1 + std::sqrt(2.0)) / 2;
  double total = 0;  // histogram @ weights
  for (int k = 0; k < 50; ++k) total += static_cast<double>(hist[k]) * weights[k];
  return total;
}

// Histogram of the 2x2 windows of the zero-padded mask, as euler_number and perimeter_crofton build
// it (convolution with [[0,0,0],[0,1,4],[0,2,8]]):
//   code = p(r,c) + 2 p(r-1,c) + 4 p(r,c-1) + 8 p(r-1,c-1).
// Both weigh uniform windows (codes 0 and 15) by 0, so those are skipped, 8 at a time, and not
// counted.
void window_histogram(const Workspace& ws, std::int64_t hist[16]) {
  const std::uint8_t* m = ws.mask.data();
  std::fill(hist, hist + 16, 0);
  for (int r = 0; r <= ws.h; ++r) {
    const std::uint8_t* cur = m + ws.index(r, 0);
    const std::uint8_t* up = cur - ws.stride;
    for (int c0 = 0; c0 <= ws.w; c0 += 8) {
      const std::uint64_t a = load8(cur + c0), b = load8(up + c0), a1 = load8(cur + c0 - 1),
                          b1 = load8(up + c0 - 1);
      if ((a | b | a1 | b1) == 0 || (a & b & a1 & b1) == kOnes) continue;
      for (int c = c0; c < std::min(c0 + 8, ws.w + 1); ++c) {
        ++hist[cur[c] + 2 * up[c] + 4 * cur[c - 1] + 8 * up[c - 1]];
      }
    }
  }
}

double crofton_perimeter(const std::int64_t hist[16]) {
  const double s2 = std::sqrt(2.0);
  // clang-format off
  const double coefs[16] = {0,       kPi / 4 * (1 + 1 / s2), kPi / (4 * s2), kPi / (2 * s2),
                            0,       kPi / 4 * (1 + 1 / s2), 0,              kPi / (4 * s2),
                            kPi / 4, kPi / 2,                kPi / (4 * s2), kPi / (4 * s2),
                            kPi / 4, kPi / 2,                0,              0};
  // clang-format on
  double total = 0;  // coefs @ histogram
  for (int k = 0; k < 16; ++k) total += coefs[k] * static_cast<double>(hist[k]);
  return total;
}

// Lower (left) and upper (right) convex chains of points given per level in ascending r with their
// smallest and largest c (Andrew's monotone chain).
void convex_chains(Workspace& ws) {
  ws.chain_lo.clear();
  ws.chain_hi.clear();
  auto cross = [](const Point& o, const Point& a, const Point& b) {
    return (a.r - o.r) * (b.c - o.c) - (a.c - o.c) * (b.r - o.r);
  };
  for (const Point& p : ws.level_lo) {
    auto& h = ws.chain_lo;
    while (h.size() >= 2 && cross(h[h.size() - 2], h.back(), p) <= 0) h.pop_back();
    h.push_back(p);
  }
  for (const Point& p : ws.level_hi) {
    auto& h = ws.chain_hi;
    while (h.size() >= 2 && cross(h[h.size() - 2], h.back(), p) >= 0) h.pop_back();
    h.push_back(p);
  }
}

// Integer division rounding down / up, for b > 0.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}
std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

// The pixel column where a convex chain crosses doubled row y, rounded inwards: the first column at
// or right of the left chain (left = true), or the last at or left of the right chain. i walks the
// chain.
std::int64_t chain_column(const std::vector<Point>& chain, std::size_t& i, std::int64_t y,
                          bool left) {
  while (chain[i + 1].r < y) ++i;
  const Point& p = chain[i];
  const Point& q = chain[i + 1];
  const std::int64_t den = q.r - p.r;
  const std::int64_t num = p.c * den + (y - p.r) * (q.c - p.c);  // doubled column times den
  return left ? ceil_div(num, 2 * den) : floor_div(num, 2 * den);
}

// convex_hull_image: the pixels whose centres lie inside or on the convex hull of the edge
// midpoints of the region's pixels, computed exactly in doubled integer coordinates (scikit-image's
// point-in-polygon test is exact for these half-integer vertices). Fills ws.hull_lo/hi and returns
// the pixel count. No row of the hull image is empty: every region pixel contributes a diamond one
// pixel wide.
std::int64_t convex_image(Workspace& ws) {
  const int h = ws.h;
  ws.level_lo.clear();
  ws.level_hi.clear();
  auto add_level = [&](std::int64_t r, std::int64_t lo, std::int64_t hi) {
    ws.level_lo.push_back({r, lo});
    ws.level_hi.push_back({r, hi});
  };
  for (int r = -1; r < h; ++r) {
    if (r >= 0 && ws.row_count[r] > 0) add_level(2 * r, 2 * ws.row_lo[r] - 1, 2 * ws.row_hi[r] + 1);
    // Level 2r + 1: the bottom midpoints of row r and the top midpoints of row r + 1.
    int lo = std::numeric_limits<int>::max(), hi = -1;
    for (int rr : {r, r + 1}) {
      if (rr < 0 || rr >= h || ws.row_count[rr] == 0) continue;
      lo = std::min(lo, ws.row_lo[rr]);
      hi = std::max(hi, ws.row_hi[rr]);
    }
    if (hi >= 0) add_level(2 * r + 1, 2 * lo, 2 * hi);
  }
  convex_chains(ws);
  ws.hull_lo.resize(h);
  ws.hull_hi.resize(h);
  std::size_t li = 0, ri = 0;
  std::int64_t count = 0;
  for (int r = 0; r < h; ++r) {
    const std::int64_t lo = chain_column(ws.chain_lo, li, 2 * r, true);
    const std::int64_t hi = chain_column(ws.chain_hi, ri, 2 * r, false);
    ws.hull_lo[r] = static_cast<std::int32_t>(lo);
    ws.hull_hi[r] = static_cast<std::int32_t>(hi);
    count += hi - lo + 1;
  }
  return count;
}

// feret_diameter_max: the largest distance between points of the 0.5 iso-contour of the convex hull
// image (find_contours), i.e. between midpoints of 4-adjacent (inside, outside) pixel pairs. Every
// row and column of the hull image is one interval, so per doubled row only the outermost of those
// midpoints can be on their convex hull, and the farthest pair is among its vertices.
double feret_diameter(Workspace& ws) {
  const int h = ws.h;
  const auto& a = ws.hull_lo;
  const auto& b = ws.hull_hi;
  ws.level_lo.clear();
  ws.level_hi.clear();
  auto add_level = [&](std::int64_t r, std::int64_t lo, std::int64_t hi) {
    ws.level_lo.push_back({r, lo});
    ws.level_hi.push_back({r, hi});
  };
  add_level(-1, 2 * std::int64_t{a[0]}, 2 * std::int64_t{b[0]});
  for (int r = 0; r < h; ++r) {
    add_level(2 * r, 2 * std::int64_t{a[r]} - 1, 2 * std::int64_t{b[r]} + 1);
    if (r + 1 == h) break;
    // Vertical transitions between rows r and r + 1: the symmetric difference of their intervals.
    const std::int32_t p = a[r], q = b[r], s = a[r + 1], t = b[r + 1];
    if (p == s && q == t) continue;
    const std::int64_t lo = p != s ? std::min(p, s) : std::min(q, t) + 1;
    const std::int64_t hi = q != t ? std::max(q, t) : std::max(p, s) - 1;
    add_level(2 * r + 1, 2 * lo, 2 * hi);
  }
  add_level(2 * h - 1, 2 * std::int64_t{a[h - 1]}, 2 * std::int64_t{b[h - 1]});
  convex_chains(ws);
  auto& pts = ws.chain_lo;
  pts.insert(pts.end(), ws.chain_hi.begin(), ws.chain_hi.end());
  std::int64_t best = 0;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    for (std::size_t j = i + 1; j < pts.size(); ++j) {
      const std::int64_t dr = pts[i].r - pts[j].r, dc = pts[i].c - pts[j].c;
      best = std::max(best, dr * dr + dc * dc);
    }
  }
  // pdist's squared distance between half-pixel points is exact: best / 4.
  return std::sqrt(static_cast<double>(best) * 0.25);
}

// Background pixels of the bounding box not 8-connected to its outside (scipy's binary_fill_holes
// with a full 3x3 structure). Background left or right of a row's pixels sees the outside along the
// row, so only the inner background between a row's first and last pixel can be a hole; it is
// flooded from the inner pixels that touch outer background. Overwrites the mask.
std::int64_t hole_pixels(Workspace& ws) {
  const int h = ws.h, w = ws.w;
  std::int64_t inner = 0;
  for (int r = 0; r < h; ++r) {
    if (ws.row_count[r] > 0) inner += ws.row_hi[r] - ws.row_lo[r] + 1 - ws.row_count[r];
  }
  if (inner == 0) return 0;
  const std::ptrdiff_t stride = ws.stride;
  std::uint8_t* m = ws.mask.data();
  // Outer background (pad included) becomes 2, reached inner background 3.
  std::memset(m, 2, static_cast<std::size_t>(2 * stride));
  std::memset(m + ws.index(h, -2), 2, static_cast<std::size_t>(2 * stride));
  for (int r = 0; r < h; ++r) {
    if (ws.row_count[r] == 0) {
      std::memset(m + ws.index(r, -2), 2, static_cast<std::size_t>(stride));
    } else {
      std::memset(m + ws.index(r, -2), 2, static_cast<std::size_t>(ws.row_lo[r] + 2));
      std::memset(m + ws.index(r, ws.row_hi[r] + 1), 2,
                  static_cast<std::size_t>(w - ws.row_hi[r] + 1));
    }
  }
  const std::ptrdiff_t offsets[8] = {-stride - 1, -stride,    -stride + 1, -1,
                                     1,           stride - 1, stride,      stride + 1};
  auto& stack = ws.stack;
  stack.clear();
  for (int r = 0; r < h; ++r) {
    for (int c = ws.row_lo[r] + 1; c < ws.row_hi[r]; ++c) {
      const std::ptrdiff_t i = ws.index(r, c);
      if (m[i] == 0 && std::any_of(std::begin(offsets), std::end(offsets),
                                   [&](auto off) { return m[i + off] == 2; })) {
        stack.push_back(i);
      }
    }
  }
  for (const std::ptrdiff_t i : stack) m[i] = 3;
  std::int64_t reached = static_cast<std::int64_t>(stack.size());
  while (!stack.empty()) {
    const std::ptrdiff_t i = stack.back();
    stack.pop_back();
    for (const std::ptrdiff_t off : offsets) {
      if (m[i + off] == 0) {
        m[i + off] = 3;
        ++reached;
        stack.push_back(i + off);
      }
    }
  }
  return inner - reached;
}

// The region's intensity values in raster order, the order of `intensity_image[slice][image]`.
template <typename T>
void collect_values(const cv::Mat& intensity, std::span<const Run> runs, std::vector<T>& out) {
  out.clear();
  for (const Run& run : runs) {
    const T* val = intensity.ptr<T>(run.row);
    out.insert(out.end(), val + run.c0, val + run.c1);
  }
}

// np.min / np.max as float64: NaN if any value is NaN.
template <typename T>
void min_max(const std::vector<T>& v, double& lo, double& hi) {
  lo = hi = static_cast<double>(v[0]);
  for (const T x : v) {
    const double d = static_cast<double>(x);
    if (std::isnan(d)) {
      lo = hi = d;
      return;
    }
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
}

// intensity_mean / _max / _min of a float image: np.mean in the image's precision (float16 is
// summed in float32 and the mean rounded back to float16, as numpy does).
void float_intensity(const cv::Mat& intensity, std::span<const Run> runs, std::int64_t n,
                     Workspace& ws, RegionProps& p) {
  if (intensity.depth() == CV_64F) {
    collect_values(intensity, runs, ws.values_d);
    p.intensity_mean = numpy_sum(ws.values_d) / static_cast<double>(n);
    min_max(ws.values_d, p.intensity_min, p.intensity_max);
    return;
  }
  if (intensity.depth() == CV_32F) {
    collect_values(intensity, runs, ws.values_f);
  } else {
    collect_values(intensity, runs, ws.values_h);
    ws.values_f.assign(ws.values_h.begin(), ws.values_h.end());
  }
  float mean = numpy_sum(ws.values_f) / static_cast<float>(n);
  if (intensity.depth() == CV_16F) mean = static_cast<float>(cv::float16_t(mean));
  p.intensity_mean = mean;
  min_max(ws.values_f, p.intensity_min, p.intensity_max);
}

void measure_region(const cv::Mat& intensity, const LabelStats& s, std::span<const Run> runs,
                    Workspace& ws, RegionProps& p) {
  const std::int64_t n = s.area;
  const double dn = static_cast<double>(n);
  p.label = s.label;
  p.area = n;
  p.bbox[0] = s.r0;
  p.bbox[1] = s.c0;
  p.bbox[2] = s.r1;
  p.bbox[3] = s.c1;
  p.centroid[0] = static_cast<double>(s.sum_r) / dn;  // coords.mean(axis=0): exact sums
  p.centroid[1] = static_cast<double>(s.sum_c) / dn;
  p.equivalent_diameter_area =
      std::pow(static_cast<double>(4 * n) / kPi, static_cast<double>(g_half));
  p.extent = dn / (static_cast<double>(s.r1 - s.r0) * (s.c1 - s.c0));

  double mu[3];
  build_mask(s, runs, ws, mu);
  moment_props(mu, dn, p);
  p.perimeter = perimeter(ws);
  std::int64_t windows[16];
  window_histogram(ws, windows);
  p.perimeter_crofton = crofton_perimeter(windows);
  p.euler_number =
      static_cast<std::int32_t>(windows[8] - windows[6] - windows[14]);  // EULER_COEFS2D_8
  p.area_convex = convex_image(ws);
  p.solidity = dn / static_cast<double>(p.area_convex);
  p.feret_diameter_max = feret_diameter(ws);
  p.area_filled = n + hole_pixels(ws);

  switch (intensity_kind(intensity)) {
    case IntensityKind::none:
      p.intensity_mean = p.intensity_max = p.intensity_min =
          std::numeric_limits<double>::quiet_NaN();
      break;
    case IntensityKind::integer:
      p.intensity_mean = static_cast<double>(s.isum) / dn;  // float64 sum of integers: exact
      p.intensity_max = static_cast<double>(s.imax);
      p.intensity_min = static_cast<double>(s.imin);
      break;
    case IntensityKind::floating: float_intensity(intensity, runs, n, ws, p); break;
  }
}

// The same characters as printf("%.17g") (checked on 2 million random doubles), four times faster than
// glibc's multi-precision printf, which dominated CSV output.
std::string format_double(double v) {
  if (std::isnan(v)) return "nan";
  return fmt::format("{:.17g}", v);
}

FacetMap run_regionprops(const OpCall& call) {
  const cv::Mat intensity = call.has("intensity") ? call.mat("intensity") : cv::Mat();
  nlohmann::json rows = nlohmann::json::array();
  for (const RegionProps& p : regionprops(call.mat("labels"), intensity))
    rows.push_back(to_json(p));
  return {{"table", Facet::rows(std::move(rows))}};
}

}  // namespace

const std::vector<std::string>& regionprops_columns() {
  static const std::vector<std::string> columns = {
      "label",          "area",          "bbox-0",           "bbox-1",
      "bbox-2",         "bbox-3",        "centroid-0",       "centroid-1",
      "perimeter",      "perimeter_crofton", "eccentricity", "solidity",
      "extent",         "orientation",   "axis_major_length", "axis_minor_length",
      "equivalent_diameter_area",        "intensity_mean",   "intensity_max",
      "intensity_min",  "euler_number",  "area_convex",      "area_filled",
      "feret_diameter_max"};
  return columns;
}

std::vector<RegionProps> regionprops(const cv::Mat& labels, const cv::Mat& intensity) {
  if (labels.type() != CV_32SC1 || labels.dims != 2) {
    fail(fmt::format("labels must be a 2-D CV_32SC1 image, got {}",
                     cv::typeToString(labels.type())));
  }
  if (!intensity.empty()) {
    if (intensity.channels() != 1 || intensity.dims != 2) {
      fail(fmt::format("intensity must be a 2-D one-channel image, got {}",
                       cv::typeToString(intensity.type())));
    }
    if (intensity.size() != labels.size()) {
      fail(fmt::format("intensity is {}x{} but labels are {}x{}", intensity.cols, intensity.rows,
                       labels.cols, labels.rows));
    }
  }
  if (labels.empty()) return {};
  double max_label = 0;
  cv::minMaxLoc(labels, nullptr, &max_label);
  if (max_label <= 0) return {};

  const Scan scan = scan_labels(labels, intensity, static_cast<std::int64_t>(max_label));
  std::vector<RegionProps> out(scan.stats.size());
  Workspace ws;
  for (std::size_t i = 0; i < scan.stats.size(); ++i) {
    const LabelStats& s = scan.stats[i];
    measure_region(intensity, s, std::span<const Run>(scan.runs).subspan(s.first_run, s.runs), ws,
                   out[i]);
  }
  return out;
}

std::vector<std::string> format_row(const RegionProps& r) {
  return {std::to_string(r.label),
          std::to_string(r.area),
          std::to_string(r.bbox[0]),
          std::to_string(r.bbox[1]),
          std::to_string(r.bbox[2]),
          std::to_string(r.bbox[3]),
          format_double(r.centroid[0]),
          format_double(r.centroid[1]),
          format_double(r.perimeter),
          format_double(r.perimeter_crofton),
          format_double(r.eccentricity),
          format_double(r.solidity),
          format_double(r.extent),
          format_double(r.orientation),
          format_double(r.axis_major_length),
          format_double(r.axis_minor_length),
          format_double(r.equivalent_diameter_area),
          format_double(r.intensity_mean),
          format_double(r.intensity_max),
          format_double(r.intensity_min),
          std::to_string(r.euler_number),
          std::to_string(r.area_convex),
          std::to_string(r.area_filled),
          format_double(r.feret_diameter_max)};
}

// The same columns; the intensity columns are null without an intensity image (JSON has no NaN).
nlohmann::json to_json(const RegionProps& r) {
  auto number = [](double v) {
    return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v);
  };
  return {{"label", r.label},
          {"area", r.area},
          {"bbox-0", r.bbox[0]},
          {"bbox-1", r.bbox[1]},
          {"bbox-2", r.bbox[2]},
          {"bbox-3", r.bbox[3]},
          {"centroid-0", r.centroid[0]},
          {"centroid-1", r.centroid[1]},
          {"perimeter", r.perimeter},
          {"perimeter_crofton", r.perimeter_crofton},
          {"eccentricity", r.eccentricity},
          {"solidity", r.solidity},
          {"extent", r.extent},
          {"orientation", r.orientation},
          {"axis_major_length", r.axis_major_length},
          {"axis_minor_length", r.axis_minor_length},
          {"equivalent_diameter_area", r.equivalent_diameter_area},
          {"intensity_mean", number(r.intensity_mean)},
          {"intensity_max", number(r.intensity_max)},
          {"intensity_min", number(r.intensity_min)},
          {"euler_number", r.euler_number},
          {"area_convex", r.area_convex},
          {"area_filled", r.area_filled},
          {"feret_diameter_max", r.feret_diameter_max}};
}

void register_measure_ops(OpRegistry& r) {
  r.add({.name = "regionprops",
         .summary = "Per-object measurements of a label image (scikit-image 0.19 regionprops)",
         .inputs = {{"labels", FacetKind::labels, "0 = background, 1..N objects", false},
                    {"intensity", FacetKind::image, "one channel, for intensity_*", true}},
         .outputs = {{"table", FacetKind::table, "one row per label, ascending", false}},
         .params = {},
         .run = run_regionprops});
}

}  // namespace tessera::ops
