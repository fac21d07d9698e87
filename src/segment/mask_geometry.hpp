#pragma once

// Small geometry of masks and clicks that the cuts and the click edits share (one implementation each).

#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace tessera::segment {

// A filled disk of `radius` pixels as a structuring element ((2 radius + 1)² pixels).
cv::Mat disk_kernel(int radius);

// Distance (pixels, CV_32F of `size`) from every pixel to the nearest of `points`; `distance_mask` is
// cv::DistanceTransformMasks' 3, 5 or cv::DIST_MASK_PRECISE.
cv::Mat distance_to_points(cv::Size size, const std::vector<cv::Point>& points, int distance_mask);

// The radius of the largest disk inside `mask` (CV_8U, non-zero inside), the image border counting as outside;
// 0 for an empty mask.
double inscribed_radius(const cv::Mat& mask, int distance_mask);

}  // namespace tessera::segment
