#pragma once

// Marker-controlled watershed on a float elevation (e.g. a gradient magnitude): every unlabelled pixel joins
// the marker whose flood reaches it first, lowest elevation first, ties in arrival order. OpenCV's
// cv::watershed floods on colour differences of an 8-bit image and leaves ridge lines; this keeps the
// elevation we choose and labels every pixel.

#include <opencv2/core.hpp>

namespace tessera::segment {

// `elevation`: CV_32FC1. `labels`: CV_32SC1 of the same size, > 0 = marker, 0 = to flood; filled in place
// (pixels no marker can reach stay 0). 4-connected.
void flood_from_markers(const cv::Mat& elevation, cv::Mat& labels);

}  // namespace tessera::segment
