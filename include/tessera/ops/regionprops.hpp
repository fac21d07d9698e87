#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

namespace tessera::ops {

// One region's measurements, with scikit-image 0.19's definitions (../shared/docs/formats.md section 6).
// Coordinates are (row, col); bbox is half-open (min_row, min_col, max_row, max_col).
struct RegionProps {
  std::int32_t label = 0;
  std::int64_t area = 0;
  std::int32_t bbox[4] = {0, 0, 0, 0};
  double centroid[2] = {0, 0};
  double perimeter = 0;
  double perimeter_crofton = 0;
  double eccentricity = 0;
  double solidity = 0;
  double extent = 0;
  double orientation = 0;
  double axis_major_length = 0;
  double axis_minor_length = 0;
  double equivalent_diameter_area = 0;
  double intensity_mean = 0;  // NaN when no intensity image was given
  double intensity_max = 0;
  double intensity_min = 0;
  std::int32_t euler_number = 0;
  std::int64_t area_convex = 0;
  std::int64_t area_filled = 0;
  double feret_diameter_max = 0;
};

// scikit-image's regionprops_table column names, in tessera's CSV order:
// label, area, bbox-0..bbox-3, centroid-0, centroid-1, perimeter, perimeter_crofton, eccentricity,
// solidity, extent, orientation, axis_major_length, axis_minor_length, equivalent_diameter_area,
// intensity_mean, intensity_max, intensity_min, euler_number, area_convex, area_filled, feret_diameter_max.
const std::vector<std::string>& regionprops_columns();

// Measures every region (label > 0) of a CV_32SC1 label image, in ascending label order. intensity: empty,
// or a one-channel image of the same size (any depth; float32 means are rounded to float32 as in numpy).
// Error{invalid_argument} for mismatched sizes or a non-CV_32S label image.
std::vector<RegionProps> regionprops(const cv::Mat& labels, const cv::Mat& intensity = cv::Mat());

// The row as CSV fields in regionprops_columns() order: integers as integers, floats with 17 significant
// digits ("%.17g"), as in tessera's CSV output.
std::vector<std::string> format_row(const RegionProps& r);
nlohmann::json to_json(const RegionProps& r);

}  // namespace tessera::ops
