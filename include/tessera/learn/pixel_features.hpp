#pragma once

// Multiscale per-pixel features for pixel classification (ilastik-style): at each scale sigma, the
// Gaussian-smoothed intensity, the Laplacian of Gaussian, the gradient magnitude, the two eigenvalues of the
// Hessian and the two eigenvalues of the structure tensor. Pure and thread-safe.

#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace tessera::learn {

// How the input intensities are brought to a common range before filtering, so one model applies to images
// of different exposure or bit depth.
enum class IntensityNormalization {
  none,        // raw values (converted to float)
  percentile,  // (v - p_low) / (p_high - p_low) with the image's own percentiles (StarDist/csbdeep style)
};

// Which features at which scales. validate() checks the ranges.
struct PixelFeatureOptions {
  // Scales in pixels, each in [0.3, 20], strictly ascending. ilastik's default scale set.
  std::vector<double> sigmas = {0.7, 1.0, 1.6, 3.5, 5.0, 10.0};
  bool intensity = true;         // the normalised pixel value itself (one feature, not per scale)
  bool gaussian = true;          // per scale: G_sigma * I
  bool laplacian = true;         // per scale: sigma^2 (Ixx + Iyy), scale-normalised LoG
  bool gradient = true;          // per scale: sigma |grad G_sigma * I|
  bool hessian = true;           // per scale: sigma^2 x the two Hessian eigenvalues, larger first
  bool structure_tensor = true;  // per scale: eigenvalues of the structure tensor (inner sigma, outer sigma/2)
  IntensityNormalization normalization = IntensityNormalization::percentile;
  double percentile_low = 1.0;    // [0, 100), below percentile_high
  double percentile_high = 99.8;  // (0, 100]
};

// Error{invalid_argument} naming the first bad field ("sigmas[2]", "percentile_high", ...) and its value, or
// "features" when every feature family is switched off.
void validate(const PixelFeatureOptions& options);

// Feature names in plane order, e.g. "intensity", "gaussian_s1.6", "laplacian_s1.6", "gradient_s1.6",
// "hessian_eig1_s1.6", "hessian_eig2_s1.6", "structure_eig1_s1.6", "structure_eig2_s1.6" (scale by scale).
std::vector<std::string> pixel_feature_names(const PixelFeatureOptions& options);

// The features of one image: one CV_32F plane of the image's size per feature, in names order.
struct PixelFeatures {
  cv::Size size;
  std::vector<std::string> names;
  std::vector<cv::Mat> planes;
};

// Computes every feature of `image` (one channel of any depth; 3 or 4 channels are averaged to one; NaN or
// infinite pixels are an Error). Separable filters, scales computed in parallel. Borders are reflected.
// Error{invalid_argument} naming "image" for an empty image, a channel count other than 1/3/4, or
// non-finite pixel values; as validate() for bad options.
PixelFeatures compute_pixel_features(const cv::Mat& image, const PixelFeatureOptions& options = {});

}  // namespace tessera::learn
