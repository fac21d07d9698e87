#include "stitch/pair_measure.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <opencv2/imgproc.hpp>
#include <utility>

namespace tessera::stitch::detail {
namespace {

// NCC above which a phase-correlation proposal is taken as found: unrelated content stays far below
// it
// (~0.01 for noise), while overlaps of real images at the right offset reach 0.9 and more.
constexpr double kConfident = 0.5;

// Window size above which phase correlation runs on a reduced copy (pixels).
constexpr double kMaxCorrelationPixels = 128.0 * 1024;

// Normalised cross-correlation of a(q) and b(q - s) as a function of the integer shift s, for a
// hill climb. Each window's sums and sums of squares come from integral images, so a value costs
// one dot product over the common part; values are cached, as neighbouring steps share most of
// their 3x3 neighbourhoods.
class NccSurface {
 public:
  NccSurface(const cv::Mat& a, const cv::Mat& b) : a_(a), b_(b), limit_(a.cols / 2, a.rows / 2) {
    cv::integral(a, sum_a_, sq_a_, CV_64F, CV_64F);
    cv::integral(b, sum_b_, sq_b_, CV_64F, CV_64F);
  }

  bool in_range(cv::Point s) const {
    return std::abs(s.x) <= limit_.x && std::abs(s.y) <= limit_.y;
  }

  double at(cv::Point s) {
    const auto key = std::make_pair(s.x, s.y);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    const double v = in_range(s) ? compute(s) : -1.0;
    cache_.emplace(key, v);
    return v;
  }

  // The local maximum reached from start, by steps to the best of the 8 neighbours.
  cv::Point climb(cv::Point start) {
    start.x = std::clamp(start.x, -limit_.x, limit_.x);
    start.y = std::clamp(start.y, -limit_.y, limit_.y);
    cv::Point best = start;
    for (int step = 0; step < 64; ++step) {
      cv::Point next = best;
      for (int dy = -1; dy <= 1; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) {
          const cv::Point c = best + cv::Point(dx, dy);
          if (at(c) > at(next)) next = c;
        }
      }
      if (next == best) break;
      best = next;
    }
    return best;
  }

 private:
  static double rect_sum(const cv::Mat& integral, const cv::Rect& r) {
    return integral.at<double>(r.y + r.height, r.x + r.width) -
           integral.at<double>(r.y, r.x + r.width) - integral.at<double>(r.y + r.height, r.x) +
           integral.at<double>(r.y, r.x);
  }

  double compute(cv::Point s) const {
    const int w = a_.cols - std::abs(s.x);
    const int h = a_.rows - std::abs(s.y);
    if (w <= 1 || h <= 1) return 0.0;
    const cv::Rect ra(std::max(0, s.x), std::max(0, s.y), w, h);
    const cv::Rect rb(std::max(0, -s.x), std::max(0, -s.y), w, h);
    const double n = static_cast<double>(w) * h;
    const double mean_a = rect_sum(sum_a_, ra) / n, mean_b = rect_sum(sum_b_, rb) / n;
    const double var_a = rect_sum(sq_a_, ra) / n - mean_a * mean_a;
    const double var_b = rect_sum(sq_b_, rb) / n - mean_b * mean_b;
    // Flat content (a blank field, a saturated area) correlates with anything; it carries no
    // signal.
    if (var_a < 1e-12 || var_b < 1e-12) return 0.0;
    const double cross = a_(ra).dot(b_(rb)) / n - mean_a * mean_b;
    return cross / std::sqrt(var_a * var_b);
  }

  const cv::Mat& a_;
  const cv::Mat& b_;
  cv::Point limit_;
  cv::Mat sum_a_, sq_a_, sum_b_, sq_b_;
  std::map<std::pair<int, int>, double> cache_;
};

// Vertex of the parabola through (-1, l), (0, c), (1, r), kept within half a pixel.
double parabola_peak(double l, double c, double r) {
  const double curvature = l - 2 * c + r;
  if (!(curvature < 0)) return 0.0;
  return std::clamp(0.5 * (l - r) / curvature, -0.5, 0.5);
}

}  // namespace

std::optional<OverlapWindows> overlap_windows(cv::Point offset, cv::Size tile, int min_overlap) {
  const cv::Rect a(0, 0, tile.width, tile.height);
  const cv::Rect b(offset.x, offset.y, tile.width, tile.height);
  const cv::Rect common = a & b;
  if (common.width < min_overlap || common.height < min_overlap) return std::nullopt;
  return OverlapWindows{common, common - offset};
}

double ncc_at(const cv::Mat& a, const cv::Mat& b, cv::Point s) { return NccSurface(a, b).at(s); }

ShiftEstimate estimate_shift(const cv::Mat& a, const cv::Mat& b) {
  CV_Assert(a.type() == CV_32FC1 && b.type() == CV_32FC1 && a.size() == b.size());
  // Large windows are correlated at reduced resolution: OpenCV's DFT makes phase correlation of a
  // 205 x 2048 overlap cost 35-45 ms here, a quarter of that at half size, and the NCC climb below
  // settles the shift at full resolution from the scaled-up proposal.
  int factor = 1;
  cv::Mat small_a = a, small_b = b;
  while (static_cast<double>(small_a.total()) > kMaxCorrelationPixels &&
         std::min(small_a.rows, small_a.cols) >= 64) {
    cv::pyrDown(small_a, small_a);
    cv::pyrDown(small_b, small_b);
    factor *= 2;
  }
  cv::Mat window;
  cv::createHanningWindow(window, small_a.size(), CV_32F);
  ShiftEstimate out;
  // The window is applied here, not by phaseCorrelate: OpenCV 4.6 multiplies it into its inputs in
  // place when they need no padding, which would corrupt the windows the NCC below reads.
  const cv::Mat wa = small_a.mul(window);
  const cv::Mat wb = small_b.mul(window);
  // phaseCorrelate(b, a) returns how far a's content sits from b's: the s of a(q) = b(q - s).
  const cv::Point2d proposed = cv::phaseCorrelate(wb, wa, cv::noArray(), &out.response) * factor;
  NccSurface surface(a, b);
  cv::Point best = surface.climb(cv::Point(cvRound(proposed.x), cvRound(proposed.y)));
  // A strong correlation confirms the proposal; below that, the peak may be a wrong one, and the
  // climb from the nominal offset (where a good stage puts the answer) gets its chance.
  if (surface.at(best) < kConfident) {
    const cv::Point from_nominal = surface.climb(cv::Point(0, 0));
    if (surface.at(from_nominal) > surface.at(best)) best = from_nominal;
  }
  out.quality = surface.at(best);
  const double sx = parabola_peak(surface.at(best - cv::Point(1, 0)), out.quality,
                                  surface.at(best + cv::Point(1, 0)));
  const double sy = parabola_peak(surface.at(best - cv::Point(0, 1)), out.quality,
                                  surface.at(best + cv::Point(0, 1)));
  out.shift = cv::Point2d(best.x + sx, best.y + sy);
  return out;
}

}  // namespace tessera::stitch::detail
