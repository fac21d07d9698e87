#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace tessera::ops {

// Working with the objects of a label image or mask on top of their image: cutting them out, fading
// their background (EcoTaxa vignettes) and outlining them. Registered as the ops `extract_regions`,
// `fade_background` and `draw_contours`; errors are Error{invalid_argument} naming the op.
// Thread-safe.

// One object cut out of its image.
struct RegionCrop {
  std::int32_t label = 0;
  cv::Rect box;     // the crop in the parent: the object's box grown by padding, clipped
  cv::Rect object;  // the object's own bounding box in the parent
  std::array<int, 4>
      padding{};  // padding actually applied left, top, right, bottom (less at borders)
  cv::Mat image;  // a copy of image(box)
  cv::Mat mask;   // CV_8UC1 of box's size: 255 where the object is, 0 elsewhere (neighbours too)
};

// One crop per object (label > 0; negative values count as background) in ascending label order.
// labels: one-channel integer image of the image's size (CV_32S usually; 8U/16U are read as ids).
// padding
// >= 0 pixels on each side, clipped to the image. Error for mismatched sizes or a float label
// image.
std::vector<RegionCrop> extract_regions(const cv::Mat& image, const cv::Mat& labels,
                                        int padding = 10);

// Blends the background (mask == 0) towards a colour: out = factor * color + (1 - factor) * pixel,
// object pixels kept. color holds R, G, B as fractions of white_level(depth) (so {1, 1, 1} is white
// at any depth); grey images use its Rec.601 luma; an alpha channel (grey+alpha, RGBA) is kept.
// factor in [0, 1]. mask: CV_8UC1 of the image's size, non-zero = object. Error for more than four
// channels.
cv::Mat fade_background(const cv::Mat& image, const cv::Mat& mask, double factor,
                        const cv::Scalar& color);

// An RGB copy of the image (same depth; grey replicated, alpha dropped) with object outlines drawn
// in color (fractions of white as above). objects: a mask (CV_8U, every outer and hole boundary of
// the non-zero pixels) or a label image (other integer depths, each object's own boundaries, so
// touching objects are told apart). thickness 1 paints exactly the objects' boundary pixels
// (8-connected); thicker lines are centred on them.
cv::Mat draw_contours(const cv::Mat& image, const cv::Mat& objects, const cv::Scalar& color,
                      int thickness = 1);

// Colour names for ops' colour parameters: white, black, gray/grey, red, green, blue, yellow, cyan,
// magenta, or "#rrggbb" (case-insensitive). Returns R, G, B fractions in [0, 1]; Error naming op
// otherwise.
cv::Scalar parse_color(const std::string& text, const std::string& op);

}  // namespace tessera::ops
