#include "tessera/exchange/polygon.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <opencv2/imgproc.hpp>

#include "tessera/core/error.hpp"

namespace tessera::exchange {
namespace {

// Directions of boundary edges, clockwise on screen: a right turn is +1.
enum Direction : int { kRight = 0, kDown = 1, kLeft = 2, kUp = 3 };
constexpr int kDx[4] = {1, 0, -1, 0};
constexpr int kDy[4] = {0, 1, 0, -1};

// Boundary edges between set and unset pixels, directed so the set pixel is on the right of travel
// (rows down), indexed by their start corner: bit d of edges[v] = an edge leaving corner v in direction d.
class BoundaryEdges {
 public:
  explicit BoundaryEdges(const cv::Mat& set) : width_(set.cols), height_(set.rows) {
    edges_.assign(size_t(width_ + 1) * size_t(height_ + 1), 0);
    visited_.assign(edges_.size(), 0);
    auto is_set = [&](int c, int r) {
      return c >= 0 && r >= 0 && c < width_ && r < height_ && set.at<std::uint8_t>(r, c) != 0;
    };
    for (int r = 0; r < height_; ++r) {
      for (int c = 0; c < width_; ++c) {
        if (!is_set(c, r)) continue;
        if (!is_set(c, r - 1)) add(c, r, kRight);
        if (!is_set(c + 1, r)) add(c + 1, r, kDown);
        if (!is_set(c, r + 1)) add(c + 1, r + 1, kLeft);
        if (!is_set(c - 1, r)) add(c, r + 1, kUp);
      }
    }
  }

  size_t corner(int x, int y) const { return size_t(y) * size_t(width_ + 1) + size_t(x); }
  bool has(size_t v, int d) const { return (edges_[v] >> d) & 1; }
  bool is_visited(size_t v, int d) const { return (visited_[v] >> d) & 1; }
  void visit(size_t v, int d) { visited_[v] |= std::uint8_t(1 << d); }

  // The loop through the edge leaving (x, y) in direction d, turning right first so that parts touching
  // only at a corner stay apart (4-connectivity); its corners, starting at (x, y) when that is one.
  Polygon trace(int x, int y, int d) {
    const int start_x = x, start_y = y, start_d = d;
    std::vector<cv::Point> corners;
    int previous = -1;
    do {
      visit(corner(x, y), d);
      if (d != previous) corners.emplace_back(x, y);
      previous = d;
      x += kDx[d];
      y += kDy[d];
      const size_t v = corner(x, y);
      for (int turn : {1, 0, 3}) {
        const int next = (d + turn) % 4;
        if (has(v, next)) {
          d = next;
          break;
        }
      }
    } while (!(x == start_x && y == start_y && d == start_d));
    // The start is not a corner when the loop arrives there going the same way: drop it.
    if (previous == start_d && corners.size() > 1) corners.erase(corners.begin());
    Polygon polygon;
    polygon.reserve(corners.size());
    for (const auto& p : corners) polygon.emplace_back(p.x, p.y);
    return polygon;
  }

 private:
  int width_, height_;
  std::vector<std::uint8_t> edges_, visited_;
  void add(int x, int y, int d) { edges_[corner(x, y)] |= std::uint8_t(1 << d); }
};

double signed_area(const Polygon& polygon) {
  double sum = 0;
  for (size_t i = 0; i < polygon.size(); ++i) {
    const auto& a = polygon[i];
    const auto& b = polygon[(i + 1) % polygon.size()];
    sum += a.x * b.y - b.x * a.y;
  }
  return sum / 2;
}

void check_mask(const cv::Mat& mask, const char* what) {
  if (mask.type() != CV_8UC1) {
    throw Error(ErrorCode::invalid_argument, std::string(what) + ": the mask must be 8-bit single-channel");
  }
}

}  // namespace

std::vector<Polygon> corner_outlines(const cv::Mat& mask, cv::Point offset) {
  check_mask(mask, "corner_outlines");
  BoundaryEdges edges(mask);
  std::vector<Polygon> outlines;
  for (int r = 0; r < mask.rows; ++r) {
    for (int c = 0; c < mask.cols; ++c) {
      const size_t v = edges.corner(c, r);
      if (!edges.has(v, kRight) || edges.is_visited(v, kRight)) continue;
      Polygon loop = edges.trace(c, r, kRight);
      // Outer outlines run clockwise on screen (positive area with rows down); holes the other way.
      if (signed_area(loop) <= 0) continue;
      for (auto& p : loop) p += cv::Point2d(offset.x, offset.y);
      outlines.push_back(std::move(loop));
    }
  }
  return outlines;
}

cv::Mat rasterize_corner_polygons(const std::vector<Polygon>& polygons, cv::Size size) {
  cv::Mat out(size, CV_8UC1, cv::Scalar(0));
  std::vector<double> crossings;
  for (const auto& polygon : polygons) {
    if (polygon.size() < 3) continue;
    double top = polygon[0].y, bottom = polygon[0].y;
    for (const auto& p : polygon) {
      top = std::min(top, p.y);
      bottom = std::max(bottom, p.y);
    }
    const int first_row = std::max(0, int(std::ceil(top - 0.5)));
    const int last_row = std::min(size.height - 1, int(std::floor(bottom - 0.5)));
    for (int r = first_row; r <= last_row; ++r) {
      const double y = r + 0.5;
      crossings.clear();
      for (size_t i = 0; i < polygon.size(); ++i) {
        const auto& a = polygon[i];
        const auto& b = polygon[(i + 1) % polygon.size()];
        if ((a.y > y) == (b.y > y)) continue;
        crossings.push_back(a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y));
      }
      std::sort(crossings.begin(), crossings.end());
      std::uint8_t* row = out.ptr<std::uint8_t>(r);
      for (size_t i = 0; i + 1 < crossings.size(); i += 2) {
        // Pixel c's centre c + 0.5 lies in [left, right).
        const int c0 = std::max(0, int(std::ceil(crossings[i] - 0.5)));
        const int c1 = std::min(size.width, int(std::ceil(crossings[i + 1] - 0.5)));
        for (int c = c0; c < c1; ++c) row[c] = 255;
      }
    }
  }
  return out;
}

std::vector<std::vector<cv::Point>> pixel_contours(const cv::Mat& mask) {
  check_mask(mask, "pixel_contours");
  std::vector<std::vector<cv::Point>> contours;
  cv::Mat binary = mask != 0;
  cv::findContours(binary, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
  for (auto& contour : contours) {
    while (!contour.empty() && contour.size() < 3) contour.push_back(contour.back());
  }
  auto first_pixel = [](const std::vector<cv::Point>& contour) {
    cv::Point best = contour.front();
    for (const auto& p : contour) {
      if (p.y < best.y || (p.y == best.y && p.x < best.x)) best = p;
    }
    return best;
  };
  std::sort(contours.begin(), contours.end(), [&](const auto& a, const auto& b) {
    const cv::Point pa = first_pixel(a), pb = first_pixel(b);
    return pa.y != pb.y ? pa.y < pb.y : pa.x < pb.x;
  });
  return contours;
}

cv::Mat fill_pixel_contours(const std::vector<std::vector<cv::Point>>& contours, cv::Size size) {
  cv::Mat out(size, CV_8UC1, cv::Scalar(0));
  // One part at a time: fillPoly over several would apply the even-odd rule across parts that overlap.
  for (const auto& contour : contours) {
    if (contour.empty()) continue;
    std::vector<std::vector<cv::Point>> one{contour};
    cv::fillPoly(out, one, cv::Scalar(255), cv::LINE_8);
  }
  return out;
}

}  // namespace tessera::exchange
