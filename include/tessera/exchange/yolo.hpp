#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

namespace tessera::exchange {

// Ultralytics YOLO datasets (formats.md 4): label lines for detection and instance segmentation, and
// data.yaml. Pure: masks in, text out, and back.

enum class YoloTask { detect, segment };

std::string_view to_string(YoloTask task);
YoloTask parse_yolo_task(std::string_view text);  // Error{invalid_argument} naming 'task'

// One label line: a class and normalised numbers (4 for a box: x_centre y_centre width height; 2n for a
// polygon of n >= 3 vertices x y in pixel-index coordinates divided by the image size).
struct YoloObject {
  int class_id = 0;
  std::vector<double> values;
};

// The lines of one object given as a mask (8-bit, non-zero = set) over the box whose top-left pixel is
// `offset` in an image of image_size. detect: one box line (pixel-corner box, formats.md 4.2);
// segment: one polygon line per 8-connected part (pixel_contours()). Numbers are written "%.6f".
// Error{invalid_argument} for an empty mask.
std::vector<std::string> yolo_lines(YoloTask task, int class_id, const cv::Mat& mask, cv::Point offset,
                                    cv::Size image_size);

// The objects of a label file. Error{corrupt} naming `name` and the line for a bad class, a number that
// does not parse, a box that is not 4 numbers, a polygon of fewer than 3 points or an odd count.
std::vector<YoloObject> parse_yolo_labels(std::string_view text, std::string_view name = "labels");

// The pixels of an object on an image of `size` (CV_8UC1, 255 = set): a box's pixels, or the polygon
// filled as Ultralytics does (vertices rounded to the nearest pixel index, boundary included).
cv::Mat yolo_object_mask(const YoloObject& object, cv::Size size);

// data.yaml: train/val folders relative to the yaml, nc and names as a 0-based map. Names are quoted
// when YAML would otherwise read them as something else.
std::string write_yolo_data_yaml(const std::vector<std::string>& names, bool has_val);

// The class names of a data.yaml (names as a list or a 0.. map; block or flow style).
// Error{corrupt} naming `name` when names is missing or its keys are not 0..n-1.
std::vector<std::string> read_yolo_names(std::string_view yaml, std::string_view name = "data.yaml");

}  // namespace tessera::exchange
