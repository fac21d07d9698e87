// Multiscale pixel features. Every scale needs one Gaussian blur of the image; its derivatives come from
// central differences of the blurred image (as scikit-image's multiscale_basic_features), and the
// structure tensor adds three blurs at half the scale. Scales run in parallel on OpenCV's pool.

#include "tessera/learn/pixel_features.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include <fmt/format.h>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

#include "tessera/core/error.hpp"

namespace tessera::learn {
namespace {

constexpr double kTruncate = 4.0;  // Gaussian kernels reach 4 sigma, as scipy.ndimage's default
constexpr int kBorder = cv::BORDER_REFLECT;  // scipy.ndimage's 'reflect'

int features_per_scale(const PixelFeatureOptions& o) {
  return (o.gaussian ? 1 : 0) + (o.laplacian ? 1 : 0) + (o.gradient ? 1 : 0) + (o.hessian ? 2 : 0) +
         (o.structure_tensor ? 2 : 0);
}

cv::Mat gaussian(const cv::Mat& image, double sigma) {
  const int radius = std::max(1, static_cast<int>(std::lround(kTruncate * sigma)));
  cv::Mat out;
  cv::GaussianBlur(image, out, cv::Size(2 * radius + 1, 2 * radius + 1), sigma, sigma, kBorder);
  return out;
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

// Larger eigenvalue first of the symmetric 2x2 matrix [[a, b], [b, c]].
inline void eigenvalues(float a, float b, float c, float& first, float& second) {
  const float mean = 0.5f * (a + c);
  const float half_diff = 0.5f * (a - c);
  const float radius = std::sqrt(half_diff * half_diff + b * b);
  first = mean + radius;
  second = mean - radius;
}

// Writes scale `sigma`'s planes into planes[first ...] in the order of pixel_feature_names().
void scale_features(const cv::Mat& image, double sigma, const PixelFeatureOptions& options,
                    std::vector<cv::Mat>& planes, int first) {
  const cv::Mat smooth = gaussian(image, sigma);
  int next = first;
  if (options.gaussian) planes[next++] = smooth;
  const bool need_second = options.laplacian || options.hessian;
  const bool need_first = options.gradient || options.structure_tensor;
  cv::Mat dx, dy, dxx, dyy, dxy;
  if (need_first) {
    cv::Sobel(smooth, dx, CV_32F, 1, 0, 1, 0.5, 0, kBorder);
    cv::Sobel(smooth, dy, CV_32F, 0, 1, 1, 0.5, 0, kBorder);
  }
  if (need_second) {
    cv::Sobel(smooth, dxx, CV_32F, 2, 0, 1, 1.0, 0, kBorder);
    cv::Sobel(smooth, dyy, CV_32F, 0, 2, 1, 1.0, 0, kBorder);
    if (options.hessian) cv::Sobel(smooth, dxy, CV_32F, 1, 1, 1, 0.25, 0, kBorder);
  }
  cv::Mat jxx, jyy, jxy;
  if (options.structure_tensor) {
    const double outer = 0.5 * sigma;
    jxx = gaussian(dx.mul(dx), outer);
    jyy = gaussian(dy.mul(dy), outer);
    jxy = gaussian(dx.mul(dy), outer);
  }
  const cv::Size size = image.size();
  auto plane = [&](bool on) { return on ? cv::Mat(size, CV_32F) : cv::Mat(); };
  cv::Mat laplacian = plane(options.laplacian), gradient = plane(options.gradient);
  cv::Mat hessian1 = plane(options.hessian), hessian2 = plane(options.hessian);
  cv::Mat structure1 = plane(options.structure_tensor), structure2 = plane(options.structure_tensor);
  // Scale normalisation (sigma^n for n-th derivatives) keeps responses of one structure comparable
  // across scales.
  const auto s1 = static_cast<float>(sigma);
  const auto s2 = static_cast<float>(sigma * sigma);
  // One row at a time through plain pointers: the per-pixel work is a few multiplies, so access costs dominate.
  auto row = [](cv::Mat m, int y) -> float* { return m.empty() ? nullptr : m.ptr<float>(y); };
  for (int y = 0; y < size.height; ++y) {
    const float *gx = row(dx, y), *gy = row(dy, y), *gxx = row(dxx, y), *gyy = row(dyy, y), *gxy = row(dxy, y);
    const float *txx = row(jxx, y), *tyy = row(jyy, y), *txy = row(jxy, y);
    float *lap = row(laplacian, y), *grad = row(gradient, y), *h1 = row(hessian1, y), *h2 = row(hessian2, y);
    float *t1 = row(structure1, y), *t2 = row(structure2, y);
    if (lap) {
      for (int x = 0; x < size.width; ++x) lap[x] = s2 * (gxx[x] + gyy[x]);
    }
    if (grad) {
      for (int x = 0; x < size.width; ++x) grad[x] = s1 * std::sqrt(gx[x] * gx[x] + gy[x] * gy[x]);
    }
    if (h1) {
      for (int x = 0; x < size.width; ++x) {
        eigenvalues(gxx[x], gxy[x], gyy[x], h1[x], h2[x]);
        h1[x] *= s2;
        h2[x] *= s2;
      }
    }
    if (t1) {
      for (int x = 0; x < size.width; ++x) {
        eigenvalues(txx[x], txy[x], tyy[x], t1[x], t2[x]);
        t1[x] *= s2;
        t2[x] *= s2;
      }
    }
  }
  for (const cv::Mat& m : {laplacian, gradient, hessian1, hessian2, structure1, structure2}) {
    if (!m.empty()) planes[next++] = m;
  }
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
  const int per_scale = features_per_scale(options);
  if (per_scale == 0) return features;
  // Largest scale first: it costs most, so the pool's threads finish together.
  const int scales = static_cast<int>(options.sigmas.size());
  cv::parallel_for_(cv::Range(0, scales), [&](const cv::Range& range) {
    for (int k = range.start; k < range.end; ++k) {
      const int s = scales - 1 - k;
      scale_features(base, options.sigmas[s], options, features.planes, first_scale_plane + s * per_scale);
    }
  });
  return features;
}

}  // namespace tessera::learn
