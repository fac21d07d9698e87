#pragma once

// Checks every segmenter runs before touching pixels, so a bad prompt is an Error naming the field, never a
// crash inside OpenCV.

#include "tessera/segment/segmenter.hpp"

namespace tessera::segment {

// Error{invalid_argument} naming the field: an empty image or unsupported depth/channels, a point that is not
// finite or lies outside the image, no positive point and neither a prior mask nor a box, a box that does not
// overlap the image, a prior mask of another size or type.
void validate_prompts(const cv::Mat& image, const Prompts& prompts);

// The image as 8-bit (1 or 3 channels): 8-bit input as is (4 channels drop alpha), 16-bit and float stretched
// between their 0.5 and 99.5 percentiles, so faint fluorescence keeps its contrast.
cv::Mat to_display_8bit(const cv::Mat& image);

}  // namespace tessera::segment
