#pragma once

// Where and at what scale the default segmenter works: a region of interest around the prompts, resampled so the
// assumed object radius spans a fixed number of working pixels. Big objects are cut on a small grid (fast), small
// ones at full resolution (accurate), and the graph cut sees the same geometry at every scale.

#include <vector>

#include <opencv2/core.hpp>

#include "tessera/segment/segmenter.hpp"

namespace tessera::segment {

// An image rectangle and the factor from image to working pixels (<= 1: never upsampled).
struct WorkRegion {
  cv::Rect roi;
  double scale = 1.0;
  cv::Size working_size() const;
  cv::Point2d to_working(const cv::Point2d& image_point) const;
};

// Working radius of the object: the graph cut's ROI is ~2 * (kRoiRadiusFactor * kWorkingRadius) working pixels.
// For a box or a prior mask (one cut at a known scale, and propagation's per-frame budget).
inline constexpr double kWorkingRadius = 22.0;
// For the scale search around clicks (region_around_points): GrabCut's smoothness cost grows with the boundary's
// length in working pixels and its colour term with the area, so on a coarse grid the cut shrinks to the sure
// seed under the click whenever the colours differ little (EM nuclei, polyps). Measured (one click, mean IoU):
// 22 (kWorkingRadius) EM nuclei 0.689, polyps 0.303; 60: EM 0.720, polyps 0.463 (after one correction EM
// 0.780 -> 0.767, polyps 0.424 -> 0.657); a Python prototype of the same cuts: 33 EM 0.704 / polyps 0.392,
// 44 0.718 / 0.391, 90 0.628 / 0.569. The price: a GrabCut-path click on a 1024^2 EM image costs 2.0 s CPU
// instead of 0.33 s (up to 270^2 working pixels per assumed radius instead of 100^2); clean blobs never get here.
inline constexpr double kClickWorkingRadius = 60.0;
inline constexpr double kRoiRadiusFactor = 2.2;

// Object radii worth trying around clicks, smallest first: a geometric series from a few pixels to about half
// the image (factor 1.6), each checked against the image by the cut itself.
std::vector<double> candidate_radii(cv::Size image_size);

// The ROI holding every positive point plus kRoiRadiusFactor * radius around them, clipped to the image.
WorkRegion region_around_points(const std::vector<cv::Point2d>& positives, double radius, cv::Size image_size);

// `rect` grown by `margin` image pixels on each side, clipped; working scale from the rect's equivalent radius.
WorkRegion region_around_rect(const cv::Rect& rect, int margin, cv::Size image_size);

// The box from `low` to `high` (image pixels, both inside it) grown by `margin` on every side (truncated to whole
// pixels), clipped to the image.
cv::Rect clipped_box(cv::Point2d low, cv::Point2d high, double margin, cv::Size image_size);

// `box` grown by `margin` image pixels on each side and clipped to the image, resampled so its longer side
// spans at most `max_working_side` working pixels (the corrections' re-cut and their outline comparison).
WorkRegion region_around_box(const cv::Rect& box, int margin, cv::Size image_size, double max_working_side);

// The positive points of the prompts as image coordinates.
std::vector<cv::Point2d> positive_points(const Prompts& prompts);

}  // namespace tessera::segment
