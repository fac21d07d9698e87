#pragma once

// The size and "blobness" of the object under a click, from the scale-normalised Laplacian of Gaussian
// evaluated at that one point over a pyramid: no full-image filtering per scale, so a 1024x1024 image costs
// about a millisecond, and enough to size a region of interest for compact objects such as nuclei.

#include <vector>

#include <opencv2/core.hpp>

namespace tessera::segment {

struct BlobEstimate {
  double radius = 0;    // image pixels: sqrt(2) * the sigma where |normalised LoG| peaks
  double response = 0;  // |normalised LoG| there (grey levels; about half the contrast of a clean disk)
};

// Scale estimates around clicks of one image. Holds a Gaussian pyramid of it, so large sigmas are evaluated
// on a coarse level with a small kernel.
class BlobScale {
 public:
  explicit BlobScale(const cv::Mat& gray8);  // CV_8UC1
  // Sigmas from 1.5 px in steps of x1.2 while sqrt(2) * sigma < max_radius; the strongest response wins.
  BlobEstimate estimate(cv::Point at, double max_radius) const;
  // Scale-normalised LoG (sigma^2 * Laplacian of Gaussian, sign flipped: a bright blob is positive) at one
  // image pixel; pixels beyond the border are replicated.
  double response(cv::Point at, double sigma) const;

 private:
  std::vector<cv::Mat> levels_;  // levels_[k]: the image downsampled by 2^k (cv::pyrDown)
};

}  // namespace tessera::segment
