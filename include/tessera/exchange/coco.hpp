#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

#include "tessera/exchange/polygon.hpp"
#include "tessera/exchange/rle.hpp"

namespace tessera::exchange {

// COCO instance segmentation JSON (formats.md 5): what tessera writes and reads back.
struct CocoImage {
  std::int64_t id = 0;
  int width = 0;
  int height = 0;
  std::string file_name;
};

struct CocoCategory {
  std::int64_t id = 0;
  std::string name;
  std::string supercategory;
};

// How an annotation's pixels are given: polygons in pixel-corner coordinates (parts unioned), or RLE
// (compressed counts string when written with compressed = true; uncompressed list otherwise).
struct CocoSegmentation {
  std::vector<Polygon> polygons;  // used when rle is empty
  std::optional<CocoRle> rle;
  bool compressed = true;
};

struct CocoAnnotation {
  std::int64_t id = 0;
  std::int64_t image_id = 0;
  std::int64_t category_id = 0;
  int iscrowd = 0;
  double area = 0;                     // set pixels
  std::array<double, 4> bbox{};        // [x, y, width, height], pixel corners
  CocoSegmentation segmentation;
};

struct CocoDataset {
  std::string description;
  std::vector<CocoImage> images;
  std::vector<CocoAnnotation> annotations;
  std::vector<CocoCategory> categories;
};

// An annotation for one object: `mask` is the object's pixels (8-bit, non-zero set) over the box whose
// top-left pixel is `offset` in an image of image_size. The segmentation is compressed RLE over the whole
// image with use_rle, else the corner outlines of the mask with its holes filled (polygons cannot carry
// holes); area and bbox follow COCO (pixel count; tight box in corner coordinates) over the pixels the
// segmentation gives back.
// Error{invalid_argument} for a mask with no set pixel.
CocoAnnotation coco_annotation_from_mask(const cv::Mat& mask, cv::Point offset, cv::Size image_size, bool use_rle);

// The whole-image mask (CV_8UC1, 255 = set) of an annotation on an image of `size`; Error{corrupt}
// naming the annotation when its RLE size disagrees with the image or its counts are damaged.
cv::Mat coco_annotation_mask(const CocoAnnotation& annotation, cv::Size size);

// The dataset as JSON text: the keys in the order of formats.md 5.1, fixed info/licenses (no dates,
// so the same data gives the same bytes), whole numbers without a fraction.
std::string write_coco_json(const CocoDataset& dataset);

// Parses COCO JSON. Error{corrupt} naming `name` and the member (e.g. "annotations[3].segmentation")
// for anything missing or of the wrong type, duplicate ids or an annotation naming an unknown image or
// category.
CocoDataset read_coco_json(std::string_view text, std::string_view name = "coco");

}  // namespace tessera::exchange
