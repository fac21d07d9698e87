// Multiscale pixel features. Every scale needs one Gaussian blur of the image; its derivatives come from
// central differences of the blurred image (as scikit-image's multiscale_basic_features), and the
// structure tensor adds three blurs at half the scale. The work runs in two phases over all scales at once
// (blurs, then everything made from them), each phase one parallel loop over bands of rows.

#include "tessera/learn/pixel_features.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include <fmt/format.h>

#include "features_bands.hpp"
#include "features_gaussian.hpp"
#include "features_kernels.hpp"
#include "features_structure.hpp"
#include "tessera/core/error.hpp"

namespace tessera::learn {
namespace {

int features_per_scale(const PixelFeatureOptions& o) {
  return (o.gaussian ? 1 : 0) + (o.laplacian ? 1 : 0) + (o.gradient ? 1 : 0) + (o.hessian ? 2 : 0) +
         (o.structure_tensor ? 2 : 0);
}

// One channel, float32, finite.
cv::Mat to_gray_float(const cv::Mat& image) {
  if (image.empty()) throw Error(ErrorCode::invalid_argument, "pixel features: 'image' is empty");
  const int channels = image.channels();
  if (channels != 1 && channels != 3 && channels != 4) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("pixel features: 'image' must have 1, 3 or 4 channels, got {}", channels));
  }
  cv::Mat as_float;
  image.convertTo(as_float, CV_MAKETYPE(CV_32F, channels));
  // Integer pixels are always finite; only floating-point ones (incl. doubles beyond float's range) are checked.
  const bool floating = image.depth() == CV_32F || image.depth() == CV_64F || image.depth() == CV_16F;
  if (floating && !cv::checkRange(as_float, true, nullptr, -FLT_MAX, FLT_MAX)) {
    throw Error(ErrorCode::invalid_argument, "pixel features: 'image' holds NaN or infinite values");
  }
  if (channels == 1) return as_float;
  // The colour channels are averaged (alpha ignored): features describe intensity structure.
  std::vector<cv::Mat> planes;
  cv::split(as_float, planes);
  cv::Mat gray = (planes[0] + planes[1] + planes[2]) / 3.0;
  return gray;
}

// The image's low/high percentiles from at most ~256k evenly strided pixels.
std::pair<float, float> percentiles(const cv::Mat& gray, double low, double high) {
  const size_t total = gray.total();
  const size_t stride = std::max<size_t>(1, total / 262144);
  std::vector<float> values;
  values.reserve(total / stride + 1);
  const cv::Mat flat = gray.isContinuous() ? gray.reshape(1, 1) : gray.clone().reshape(1, 1);
  const float* data = flat.ptr<float>(0);
  for (size_t i = 0; i < total; i += stride) values.push_back(data[i]);
  auto at = [&](double percentile) {
    const auto k = static_cast<size_t>(std::lround(percentile / 100.0 * static_cast<double>(values.size() - 1)));
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
    return values[k];
  };
  const float lo = at(low);
  const float hi = at(high);
  return {lo, hi};
}

cv::Mat normalized(const cv::Mat& gray, const PixelFeatureOptions& options) {
  if (options.normalization == IntensityNormalization::none) return gray;
  const auto [lo, hi] = percentiles(gray, options.percentile_low, options.percentile_high);
  // A flat image keeps its offset removed but is not blown up by a near-zero range.
  const double range = hi - lo > 1e-6f ? hi - lo : 1.0;
  cv::Mat out;
  gray.convertTo(out, CV_32F, 1.0 / range, -lo / range);
  return out;
}

// The planes of one scale. Planes of features that are off stay empty.
struct ScalePlanes {
  double sigma = 1;
  cv::Mat smooth, laplacian, gradient, hessian1, hessian2, structure1, structure2;
};

ScalePlanes allocate_scale(cv::Size size, double sigma, const PixelFeatureOptions& options) {
  auto plane = [&](bool on) { return on ? cv::Mat(size, CV_32F) : cv::Mat(); };
  return {.sigma = sigma,
          .smooth = plane(true),
          .laplacian = plane(options.laplacian),
          .gradient = plane(options.gradient),
          .hessian1 = plane(options.hessian),
          .hessian2 = plane(options.hessian),
          .structure1 = plane(options.structure_tensor),
          .structure2 = plane(options.structure_tensor)};
}

float* row_or_null(cv::Mat& m, int y) { return m.empty() ? nullptr : m.ptr<float>(y); }

// Rows [first, end) of the Laplacian, gradient and Hessian planes of one scale, by central differences of its
// smoothed image (as scikit-image's multiscale_basic_features).
void derivative_rows(ScalePlanes& p, int first, int end, features::Simd simd) {
  const int rows = p.smooth.rows;
  for (int y = first; y < end; ++y) {
    features::DerivativeRow row;
    row.above = p.smooth.ptr<float>(y > 0 ? y - 1 : 0);
    row.center = p.smooth.ptr<float>(y);
    row.below = p.smooth.ptr<float>(y + 1 < rows ? y + 1 : rows - 1);
    row.width = p.smooth.cols;
    // Scale normalisation (sigma^n for n-th derivatives) keeps responses of one structure comparable
    // across scales.
    row.sigma = static_cast<float>(p.sigma);
    row.sigma_squared = static_cast<float>(p.sigma * p.sigma);
    row.laplacian = row_or_null(p.laplacian, y);
    row.gradient = row_or_null(p.gradient, y);
    row.hessian1 = row_or_null(p.hessian1, y);
    row.hessian2 = row_or_null(p.hessian2, y);
    features::derivative_row(row, simd);
  }
}

// Every scale's planes in two parallel phases: the blurs of the image, then everything made from them.
std::vector<ScalePlanes> compute_scales(const cv::Mat& image, const PixelFeatureOptions& options) {
  const features::Simd simd = features::best_simd();
  const double pixels = static_cast<double>(image.total());
  std::vector<ScalePlanes> scales;
  std::vector<std::vector<float>> kernels, outer_kernels;
  for (const double sigma : options.sigmas) {
    scales.push_back(allocate_scale(image.size(), sigma, options));
    kernels.push_back(features::gaussian_half_kernel(sigma, features::gaussian_radius(sigma)));
    // The structure tensor's outer scale is half the inner one.
    outer_kernels.push_back(features::gaussian_half_kernel(0.5 * sigma, features::gaussian_radius(0.5 * sigma)));
  }
  // Costs in multiply-adds per pixel, roughly: a blur's taps, a few for the per-pixel derivatives.
  std::vector<features::BandedTask> tasks;
  for (size_t s = 0; s < scales.size(); ++s) {
    const int radius = static_cast<int>(kernels[s].size()) - 1;
    tasks.push_back({image.rows, pixels * (2 * radius + 1), radius, [&, s](int first, int end) {
                       features::gaussian_blur_rows(image, scales[s].smooth, kernels[s], first, end, simd);
                     }});
  }
  features::run_in_bands(tasks);
  tasks.clear();
  for (size_t s = 0; s < scales.size(); ++s) {
    if (options.laplacian || options.gradient || options.hessian) {
      tasks.push_back({image.rows, pixels * 8, 0, [&, s](int first, int end) {
                         derivative_rows(scales[s], first, end, simd);
                       }});
    }
    if (options.structure_tensor) {
      const int radius = static_cast<int>(outer_kernels[s].size()) - 1;
      const auto scale = static_cast<float>(scales[s].sigma * scales[s].sigma);
      tasks.push_back({image.rows, pixels * (3 * (2 * radius + 1) + 4), radius, [&, s, scale](int first, int end) {
                         features::structure_tensor_rows(scales[s].smooth, outer_kernels[s], scale,
                                                         scales[s].structure1, scales[s].structure2, first, end,
                                                         simd);
                       }});
    }
  }
  features::run_in_bands(tasks);
  return scales;
}

}  // namespace

void validate(const PixelFeatureOptions& options) {
  auto bad = [](const std::string& field, const std::string& problem) {
    return Error(ErrorCode::invalid_argument, fmt::format("pixel features: '{}' {}", field, problem));
  };
  if (options.sigmas.empty() && features_per_scale(options) > 0) {
    throw bad("sigmas", "is empty; give at least one scale");
  }
  for (size_t i = 0; i < options.sigmas.size(); ++i) {
    const double s = options.sigmas[i];
    if (!(s >= 0.3 && s <= 20.0)) throw bad(fmt::format("sigmas[{}]", i), fmt::format("must be in [0.3, 20], got {}", s));
    if (i > 0 && !(s > options.sigmas[i - 1])) {
      throw bad(fmt::format("sigmas[{}]", i), fmt::format("must be above sigmas[{}] = {}, got {}", i - 1,
                                                          options.sigmas[i - 1], s));
    }
  }
  if (!options.intensity && (features_per_scale(options) == 0 || options.sigmas.empty())) {
    throw bad("features", "are all switched off");
  }
  if (!(options.percentile_low >= 0 && options.percentile_low < 100)) {
    throw bad("percentile_low", fmt::format("must be in [0, 100), got {}", options.percentile_low));
  }
  if (!(options.percentile_high > options.percentile_low && options.percentile_high <= 100)) {
    throw bad("percentile_high", fmt::format("must be in (percentile_low, 100], got {}", options.percentile_high));
  }
}

std::vector<std::string> pixel_feature_names(const PixelFeatureOptions& options) {
  validate(options);
  std::vector<std::string> names;
  if (options.intensity) names.emplace_back("intensity");
  for (const double sigma : options.sigmas) {
    const std::string s = fmt::format("_s{:g}", sigma);
    if (options.gaussian) names.push_back("gaussian" + s);
    if (options.laplacian) names.push_back("laplacian" + s);
    if (options.gradient) names.push_back("gradient" + s);
    if (options.hessian) {
      names.push_back("hessian_eig1" + s);
      names.push_back("hessian_eig2" + s);
    }
    if (options.structure_tensor) {
      names.push_back("structure_eig1" + s);
      names.push_back("structure_eig2" + s);
    }
  }
  return names;
}

PixelFeatures compute_pixel_features(const cv::Mat& image, const PixelFeatureOptions& options) {
  PixelFeatures features;
  features.names = pixel_feature_names(options);
  const cv::Mat base = normalized(to_gray_float(image), options);
  features.size = base.size();
  features.planes.resize(features.names.size());
  const int first_scale_plane = options.intensity ? 1 : 0;
  if (options.intensity) features.planes[0] = base;
  if (features_per_scale(options) == 0) return features;
  int next = first_scale_plane;
  for (ScalePlanes& s : compute_scales(base, options)) {
    if (options.gaussian) features.planes[next++] = s.smooth;
    for (const cv::Mat& m : {s.laplacian, s.gradient, s.hessian1, s.hessian2, s.structure1, s.structure2}) {
      if (!m.empty()) features.planes[next++] = m;
    }
  }
  return features;
}

}  // namespace tessera::learn
