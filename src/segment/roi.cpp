#include "segment/roi.hpp"

#include <algorithm>
#include <cmath>

namespace tessera::segment {

cv::Size WorkRegion::working_size() const {
  return {std::max(1, static_cast<int>(std::lround(roi.width * scale))),
          std::max(1, static_cast<int>(std::lround(roi.height * scale)))};
}

cv::Point2d WorkRegion::to_working(const cv::Point2d& p) const {
  const cv::Size size = working_size();
  const double sx = static_cast<double>(size.width) / roi.width;
  const double sy = static_cast<double>(size.height) / roi.height;
  return {std::clamp((p.x - roi.x + 0.5) * sx - 0.5, 0.0, size.width - 1.0),
          std::clamp((p.y - roi.y + 0.5) * sy - 0.5, 0.0, size.height - 1.0)};
}

std::vector<double> candidate_radii(cv::Size image_size) {
  const double largest = 0.5 * std::max(image_size.width, image_size.height);
  std::vector<double> radii;
  for (double r = 5.0; r <= largest || radii.empty(); r *= 1.6) radii.push_back(r);
  return radii;
}

namespace {

WorkRegion clipped(double x0, double y0, double x1, double y1, double radius, double working_radius,
                   cv::Size image_size) {
  const int left = std::max(0, static_cast<int>(std::floor(x0)));
  const int top = std::max(0, static_cast<int>(std::floor(y0)));
  const int right = std::min(image_size.width, static_cast<int>(std::ceil(x1)) + 1);
  const int bottom = std::min(image_size.height, static_cast<int>(std::ceil(y1)) + 1);
  WorkRegion region;
  region.roi = cv::Rect(left, top, std::max(1, right - left), std::max(1, bottom - top));
  region.scale = std::min(1.0, working_radius / std::max(radius, 1.0));
  return region;
}

}  // namespace

WorkRegion region_around_points(const std::vector<cv::Point2d>& positives, double radius, cv::Size image_size) {
  double x0 = positives.front().x, x1 = x0, y0 = positives.front().y, y1 = y0;
  for (const auto& p : positives) {
    x0 = std::min(x0, p.x), x1 = std::max(x1, p.x), y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
  }
  const double margin = kRoiRadiusFactor * radius + 3;
  return clipped(x0 - margin, y0 - margin, x1 + margin, y1 + margin, radius, kClickWorkingRadius, image_size);
}

WorkRegion region_around_rect(const cv::Rect& rect, int margin, cv::Size image_size) {
  const double radius = std::sqrt(static_cast<double>(rect.area()) / CV_PI);
  return clipped(rect.x - margin, rect.y - margin, rect.x + rect.width + margin, rect.y + rect.height + margin,
                 radius, kWorkingRadius, image_size);
}

cv::Rect clipped_box(cv::Point2d low, cv::Point2d high, double margin, cv::Size image_size) {
  const int left = std::max(0, static_cast<int>(low.x - margin)), top = std::max(0, static_cast<int>(low.y - margin));
  const int right = std::min(image_size.width, static_cast<int>(high.x + margin) + 1);
  const int bottom = std::min(image_size.height, static_cast<int>(high.y + margin) + 1);
  return {left, top, right - left, bottom - top};
}

WorkRegion region_around_box(const cv::Rect& box, int margin, cv::Size image_size, double max_working_side) {
  WorkRegion region;
  region.roi = clipped_box(box.tl(), box.br() - cv::Point(1, 1), margin, image_size);
  region.scale = std::min(1.0, max_working_side / std::max(region.roi.width, region.roi.height));
  return region;
}

std::vector<cv::Point2d> positive_points(const Prompts& prompts) {
  std::vector<cv::Point2d> out;
  for (const auto& p : prompts.points)
    if (p.positive) out.emplace_back(p.x, p.y);
  return out;
}

}  // namespace tessera::segment
