// Multiscale pixel features. Every scale needs one Gaussian blur of the image; its derivatives come from
// central differences of the blurred image (as scikit-image's multiscale_basic_features), and the
// structure tensor adds three blurs at half the scale. The work runs in phases over all scales at once, each
// phase one parallel loop cut into pieces small enough to keep every thread busy.

#include "tessera/learn/pixel_features.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include <fmt/format.h>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

#include "features_blur.hpp"
#include "features_kernels.hpp"
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
  if (!cv::checkRange(as_float, true, nullptr, -FLT_MAX, FLT_MAX)) {
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

// The planes of one scale while the phases fill them in. Planes of features that are off stay empty.
struct ScalePlanes {
  double sigma = 1;
  cv::Mat smooth;
  cv::Mat laplacian, gradient, hessian1, hessian2;
  cv::Mat product_xx, product_yy, product_xy;  // the structure tensor before its outer blur
  cv::Mat structure1, structure2;              // its blurred xx and yy, then its eigenvalues in place
  cv::Mat blurred_xy;
};

ScalePlanes allocate_scale(cv::Size size, double sigma, const PixelFeatureOptions& options) {
  auto plane = [&](bool on) { return on ? cv::Mat(size, CV_32F) : cv::Mat(); };
  ScalePlanes s;
  s.sigma = sigma;
  s.smooth = plane(true);
  s.laplacian = plane(options.laplacian);
  s.gradient = plane(options.gradient);
  s.hessian1 = plane(options.hessian);
  s.hessian2 = plane(options.hessian);
  const bool structure = options.structure_tensor;
  s.product_xx = plane(structure);
  s.product_yy = plane(structure);
  s.product_xy = plane(structure);
  s.structure1 = plane(structure);
  s.structure2 = plane(structure);
  s.blurred_xy = plane(structure);
  return s;
}

// Runs body(scale, first_row, end_row) over every scale in bands of rows, in parallel: the per-pixel phases
// cost the same at every scale, so equal bands balance the threads.
template <typename Body>
void for_each_band(int scales, int rows, const Body& body) {
  constexpr int kBandRows = 32;
  const int bands = (rows + kBandRows - 1) / kBandRows;
  cv::parallel_for_(cv::Range(0, scales * bands), [&](const cv::Range& range) {
    for (int i = range.start; i < range.end; ++i) {
      const int first = (i % bands) * kBandRows;
      body(i / bands, first, std::min(rows, first + kBandRows));
    }
  });
}

float* row_or_null(cv::Mat& m, int y) { return m.empty() ? nullptr : m.ptr<float>(y); }

// Derivatives by central differences of each scale's smoothed image (as scikit-image's
// multiscale_basic_features), straight into the feature planes and the structure tensor's products.
void derivative_phase(std::vector<ScalePlanes>& scales, int rows) {
  const features::Simd simd = features::best_simd();
  for_each_band(static_cast<int>(scales.size()), rows, [&](int s, int first, int end) {
    ScalePlanes& p = scales[s];
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
      row.structure_xx = row_or_null(p.product_xx, y);
      row.structure_yy = row_or_null(p.product_yy, y);
      row.structure_xy = row_or_null(p.product_xy, y);
      features::derivative_row(row, simd);
    }
  });
}

void structure_eigenvalue_phase(std::vector<ScalePlanes>& scales, int rows) {
  const features::Simd simd = features::best_simd();
  for_each_band(static_cast<int>(scales.size()), rows, [&](int s, int first, int end) {
    ScalePlanes& p = scales[s];
    const auto scale = static_cast<float>(p.sigma * p.sigma);
    for (int y = first; y < end; ++y) {
      float* xx = p.structure1.ptr<float>(y);
      float* yy = p.structure2.ptr<float>(y);
      features::eigenvalue_row(xx, p.blurred_xy.ptr<float>(y), yy, p.structure1.cols, scale, xx, yy, simd);
    }
  });
}

// Every scale's planes, in phases (blur, derivatives, outer blur of the structure tensor, its eigenvalues),
// each phase one parallel loop over all scales.
std::vector<ScalePlanes> compute_scales(const cv::Mat& image, const PixelFeatureOptions& options) {
  std::vector<ScalePlanes> scales;
  for (const double sigma : options.sigmas) scales.push_back(allocate_scale(image.size(), sigma, options));
  std::vector<features::BlurJob> blurs;
  for (ScalePlanes& s : scales) blurs.push_back({&image, &s.smooth, s.sigma});
  features::run_gaussian_blurs(blurs);
  if (options.laplacian || options.gradient || options.hessian || options.structure_tensor) {
    derivative_phase(scales, image.rows);
  }
  if (options.structure_tensor) {
    blurs.clear();
    for (ScalePlanes& s : scales) {
      const double outer = 0.5 * s.sigma;
      blurs.push_back({&s.product_xx, &s.structure1, outer});
      blurs.push_back({&s.product_yy, &s.structure2, outer});
      blurs.push_back({&s.product_xy, &s.blurred_xy, outer});
    }
    features::run_gaussian_blurs(blurs);
    structure_eigenvalue_phase(scales, image.rows);
  }
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
