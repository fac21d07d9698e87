#pragma once

#include <opencv2/core.hpp>

namespace tessera::image {

// Focus score: the variance of the Laplacian (3x3 kernel [0 1 0; 1 -4 1; 0 1 0], borders reflected) of the
// image as grey levels scaled to [0, 1] by the pixel type's full range (u8 /255, u16 /65535, signed types
// by their positive maximum, floats as they are). Sharp images have strong second derivatives, so the
// score falls when a microscope drifts out of focus; scaling makes 8- and 16-bit series comparable.
// Grey is the first channel for 1, 2 or >4 channels, and Rec.601 luma of the first three for 3 or 4.
double focus_score(const cv::Mat& image);

// The grey-level view used by focus_score (CV_32F, scaled as above). Exposed for tests and ops.
cv::Mat to_unit_gray(const cv::Mat& image);

}  // namespace tessera::image
