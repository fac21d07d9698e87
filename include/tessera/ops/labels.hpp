#pragma once

#include <cstdint>

#include <opencv2/core.hpp>

namespace tessera::ops {

// scikit-image's label(): connected components of the non-zero pixels of a mask (any one-channel integer
// image; for a label image, touching pixels join only when they hold the same value). connectivity 1 =
// 4-neighbours, 2 = 8-neighbours (scikit-image's default). Returns CV_32SC1 with ids 1..N in raster order
// of each component's first pixel. With min_size > 1, components with fewer pixels are dropped in the same
// pass and the rest numbered 1..N in the same order: scikit-image's label -> remove_small_objects ->
// relabel_sequential in one. Error{invalid_argument} for an image that is not one-channel integer.
cv::Mat label(const cv::Mat& image, int connectivity = 2, std::int64_t min_size = 0);

// Number of objects (the maximum label) of a CV_32S label image.
int label_count(const cv::Mat& labels);

// Removes objects with fewer than min_size pixels (scikit-image remove_small_objects: strictly smaller),
// keeping the other ids unchanged. Works on a label image (CV_32S) in place of a copy.
cv::Mat remove_small_objects(const cv::Mat& labels, std::int64_t min_size);

// In place: removes objects with fewer than min_size pixels and, when relabel is set, renumbers the rest
// 1..N keeping their order. One pass to count, one to rewrite; the measurement chain's fast path for
// remove_small_objects followed by relabel_sequential.
void drop_small_objects(cv::Mat& labels, std::int64_t min_size, bool relabel);

// Fills holes of a mask (CV_8U 0/255) with fewer than max_hole_area pixels (scikit-image
// remove_small_holes(area_threshold): strictly smaller; a hole is background 4-connected... see .cpp);
// max_hole_area <= 0 fills every hole. A hole touching the image border is never a hole.
cv::Mat fill_holes(const cv::Mat& mask, std::int64_t max_hole_area = 0);

// Renumbers the ids of a label image to 1..N in ascending order of the old ids (scikit-image
// relabel_sequential), so gaps left by removed objects close.
cv::Mat relabel_sequential(const cv::Mat& labels);

}  // namespace tessera::ops
