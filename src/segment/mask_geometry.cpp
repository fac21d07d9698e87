#include "segment/mask_geometry.hpp"

namespace tessera::segment {

cv::Mat disk_kernel(int radius) {
  return cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * radius + 1, 2 * radius + 1));
}

cv::Mat distance_to_points(cv::Size size, const std::vector<cv::Point>& points, int distance_mask) {
  cv::Mat seeds(size, CV_8U, cv::Scalar(255));
  for (const auto& p : points) seeds.at<uchar>(p) = 0;
  cv::Mat distance;
  cv::distanceTransform(seeds, distance, cv::DIST_L2, distance_mask);
  return distance;
}

double inscribed_radius(const cv::Mat& mask, int distance_mask) {
  const cv::Rect bounds = cv::boundingRect(mask);
  if (bounds.empty()) return 0;
  // The mask's bounding box and a one-pixel frame hold every pixel's nearest outside pixel.
  cv::Mat padded, distance;
  cv::copyMakeBorder(mask(bounds), padded, 1, 1, 1, 1, cv::BORDER_CONSTANT, 0);
  cv::distanceTransform(padded, distance, cv::DIST_L2, distance_mask);
  double largest = 0;
  cv::minMaxLoc(distance, nullptr, &largest);
  return largest;
}

}  // namespace tessera::segment
