#include "stitch/pair_measure.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include <opencv2/imgproc.hpp>

namespace tessera::stitch::detail {
namespace {

// Hill climbing on NCC over integer shifts, remembering every value it computed: neighbouring steps share
// most of their 3x3 neighbourhoods, and each NCC is a full pass over the window.
class NccSurface {
 public:
  NccSurface(const cv::Mat& a, const cv::Mat& b) : a_(a), b_(b), limit_(a.cols / 2, a.rows / 2) {}

  bool in_range(cv::Point s) const { return std::abs(s.x) <= limit_.x && std::abs(s.y) <= limit_.y; }

  double at(cv::Point s) {
    const auto key = std::make_pair(s.x, s.y);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    const double v = in_range(s) ? ncc_at(a_, b_, s) : -1.0;
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
  const cv::Mat& a_;
  const cv::Mat& b_;
  cv::Point limit_;
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

double ncc_at(const cv::Mat& a, const cv::Mat& b, cv::Point s) {
  const int w = a.cols - std::abs(s.x);
  const int h = a.rows - std::abs(s.y);
  if (w <= 1 || h <= 1) return 0.0;
  const cv::Mat ca = a(cv::Rect(std::max(0, s.x), std::max(0, s.y), w, h));
  const cv::Mat cb = b(cv::Rect(std::max(0, -s.x), std::max(0, -s.y), w, h));
  cv::Scalar mean_a, sd_a, mean_b, sd_b;
  cv::meanStdDev(ca, mean_a, sd_a);
  cv::meanStdDev(cb, mean_b, sd_b);
  const double n = static_cast<double>(w) * h;
  // Flat content (a blank field, a saturated area) correlates with anything; it carries no signal.
  if (sd_a[0] < 1e-6 || sd_b[0] < 1e-6) return 0.0;
  const double cross = ca.dot(cb) / n - mean_a[0] * mean_b[0];
  return cross / (sd_a[0] * sd_b[0]);
}

ShiftEstimate estimate_shift(const cv::Mat& a, const cv::Mat& b) {
  CV_Assert(a.type() == CV_32FC1 && b.type() == CV_32FC1 && a.size() == b.size());
  cv::Mat window;
  cv::createHanningWindow(window, a.size(), CV_32F);
  ShiftEstimate out;
  // The window is applied here, not by phaseCorrelate: OpenCV 4.6 multiplies it into its inputs in place
  // when they need no padding, which would corrupt the windows the NCC below reads.
  const cv::Mat wa = a.mul(window);
  const cv::Mat wb = b.mul(window);
  // phaseCorrelate(b, a) returns how far a's content sits from b's: the s of a(q) = b(q - s).
  const cv::Point2d proposed = cv::phaseCorrelate(wb, wa, cv::noArray(), &out.response);
  NccSurface surface(a, b);
  cv::Point best = surface.climb(cv::Point(cvRound(proposed.x), cvRound(proposed.y)));
  const cv::Point from_nominal = surface.climb(cv::Point(0, 0));
  if (surface.at(from_nominal) > surface.at(best)) best = from_nominal;
  out.quality = surface.at(best);
  const double sx = parabola_peak(surface.at(best - cv::Point(1, 0)), out.quality, surface.at(best + cv::Point(1, 0)));
  const double sy = parabola_peak(surface.at(best - cv::Point(0, 1)), out.quality, surface.at(best + cv::Point(0, 1)));
  out.shift = cv::Point2d(best.x + sx, best.y + sy);
  return out;
}

}  // namespace tessera::stitch::detail
