#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace tessera::track {

// A horizontal run of one object's pixels: row `row`, columns [col_begin, col_end).
struct Run {
  std::int32_t row = 0;
  std::int32_t col_begin = 0;
  std::int32_t col_end = 0;
  friend bool operator==(const Run&, const Run&) = default;
};

// One segmented object in one frame, as the tracker sees it: what a label image gives (via
// objects_from_labels) or what the catalog stores per object. Coordinates are (row, col) pixels as in
// ops::RegionProps; bbox is half-open (min_row, min_col, max_row, max_col).
struct ObjectDesc {
  std::int32_t label = 0;  // > 0, unique within its frame (pixel value or catalog object number)
  double row = 0.0;        // centroid
  double col = 0.0;
  std::int64_t area = 0;  // pixels, > 0
  std::array<std::int32_t, 4> bbox{0, 0, 0, 0};
  double intensity_mean = std::numeric_limits<double>::quiet_NaN();  // NaN when unknown
  // The pixel set, sorted by (row, col_begin), for overlap (IoU). Empty when only the descriptor is
  // known: the tracker then estimates overlap from discs of the same area at the same centroids.
  std::vector<Run> runs;
};

// Every object (value > 0) of a one-channel label image (CV_8U, CV_16U or CV_32S), in ascending label
// order, with its runs; intensity: empty, or a one-channel image of the same size (any depth) whose
// mean over each object fills intensity_mean. One raster pass. Error{invalid_argument} naming `what`
// (e.g. "frame 3 (mask003.tif)") for another type, negative labels or mismatched sizes.
std::vector<ObjectDesc> objects_from_labels(const cv::Mat& labels, const cv::Mat& intensity = cv::Mat(),
                                            const std::string& what = "label image");

// Pixels the two run lists share (both sorted by row, col_begin).
std::int64_t overlap_area(const std::vector<Run>& a, const std::vector<Run>& b);

// Pixels the two objects share: from their runs when both have them, otherwise the overlap of discs of
// their areas centred at their centroids (a smooth stand-in: all of the smaller one for concentric
// objects, 0 once the discs no longer touch).
double shared_area(const ObjectDesc& a, const ObjectDesc& b);

// Intersection over union, from shared_area().
double iou(const ObjectDesc& a, const ObjectDesc& b);

// Whether the object's bounding box reaches the edge of a frame of this size (size empty: never).
bool touches_border(const ObjectDesc& object, cv::Size frame);

}  // namespace tessera::track
