#include "tessera/ops/threshold.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <fmt/format.h>
#include <opencv2/core.hpp>

#include "ops/builtin.hpp"
#include "tessera/core/error.hpp"

namespace tessera::ops {
namespace {

void require_gray(const cv::Mat& gray, const char* op) {
  if (gray.empty()) throw Error(ErrorCode::invalid_argument, fmt::format("{}: the image is empty", op));
  if (gray.channels() != 1) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: needs a one-channel image, got {} channels (use to_gray first)", op, gray.channels()));
  }
}

bool is_float(const cv::Mat& m) { return m.depth() == CV_32F || m.depth() == CV_64F; }

void require_finite(const cv::Mat& gray, const char* op) {
  if (is_float(gray) && !cv::checkRange(gray, true, nullptr, -std::numeric_limits<double>::max(),
                                        std::numeric_limits<double>::max())) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: the image holds NaN or infinite values", op));
  }
}

// Otsu over a histogram exactly as scikit-image 0.19 computes it: float64 counts, running sums in plain
// left-to-right (and right-to-left) order, first index of the maximum.
double otsu_from_histogram(const std::vector<double>& counts, const std::vector<double>& centres) {
  const size_t k = counts.size();
  std::vector<double> w1(k), m1(k), w2(k), m2(k);
  double w = 0, s = 0;
  for (size_t i = 0; i < k; ++i) {
    w += counts[i];
    s += counts[i] * centres[i];
    w1[i] = w;
    m1[i] = s / w;
  }
  w = 0;
  s = 0;
  for (size_t i = k; i-- > 0;) {
    w += counts[i];
    s += counts[i] * centres[i];
    w2[i] = w;
    m2[i] = s / w;
  }
  size_t best = 0;
  double best_value = -1;
  for (size_t i = 0; i + 1 < k; ++i) {
    const double d = m1[i] - m2[i + 1];
    const double v = w1[i] * w2[i + 1] * (d * d);
    if (v > best_value) {  // strict: the first index of the maximum wins, as numpy.argmax
      best_value = v;
      best = i;
    }
  }
  return centres[best];
}

template <typename T>
double otsu_integer(const cv::Mat& gray) {
  double lo = 0, hi = 0;
  cv::minMaxIdx(gray, &lo, &hi);
  const auto min = static_cast<long long>(lo);
  const auto bins = static_cast<long long>(hi) - min + 1;
  if (bins > (1LL << 27)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("threshold_otsu: value range {}..{} is too wide for one bin per integer", lo, hi));
  }
  std::vector<long long> count(static_cast<size_t>(bins), 0);
  for (int r = 0; r < gray.rows; ++r) {
    const T* row = gray.ptr<T>(r);
    for (int c = 0; c < gray.cols; ++c) ++count[static_cast<size_t>(static_cast<long long>(row[c]) - min)];
  }
  std::vector<double> counts(count.begin(), count.end()), centres(count.size());
  for (size_t i = 0; i < centres.size(); ++i) centres[i] = static_cast<double>(min + static_cast<long long>(i));
  return otsu_from_histogram(counts, centres);
}

// numpy.histogram(image, bins=nbins, range=(min, max)) with edges cast to the image's float type T; a
// value v lands in bin i with edge[i] <= v < edge[i+1], the last bin also taking the maximum.
template <typename T>
double otsu_float(const cv::Mat& gray, int nbins) {
  double lo = 0, hi = 0;
  cv::minMaxIdx(gray, &lo, &hi);
  std::vector<T> edges(static_cast<size_t>(nbins) + 1);
  const double step = (hi - lo) / nbins;
  for (int i = 0; i < nbins; ++i) edges[static_cast<size_t>(i)] = static_cast<T>(lo + i * step);
  edges[static_cast<size_t>(nbins)] = static_cast<T>(hi);
  std::vector<double> counts(static_cast<size_t>(nbins), 0.0);
  const double norm = nbins / (hi - lo);
  for (int r = 0; r < gray.rows; ++r) {
    const T* row = gray.ptr<T>(r);
    for (int c = 0; c < gray.cols; ++c) {
      const T v = row[c];
      long long i = static_cast<long long>((static_cast<double>(v) - lo) * norm);
      i = std::clamp<long long>(i, 0, nbins - 1);
      while (i > 0 && v < edges[static_cast<size_t>(i)]) --i;
      while (i < nbins - 1 && v >= edges[static_cast<size_t>(i) + 1]) ++i;
      counts[static_cast<size_t>(i)] += 1.0;
    }
  }
  std::vector<double> centres(static_cast<size_t>(nbins));
  for (size_t i = 0; i < centres.size(); ++i) {
    const T centre = static_cast<T>((edges[i] + edges[i + 1]) / T(2));  // computed in T, as numpy does
    centres[i] = static_cast<double>(centre);
  }
  return otsu_from_histogram(counts, centres);
}

FacetMap run_otsu(const OpCall& call) {
  const cv::Mat& gray = call.mat("image");
  const double t = threshold_otsu(gray, static_cast<int>(call.param<long long>("bins")));
  return {{"mask", Facet::mask(threshold_mask(gray, t, call.param<bool>("dark_objects")))},
          {"threshold", Facet::rows(nlohmann::json::array({{{"threshold", t}}}))}};
}

FacetMap run_quantile(const OpCall& call) {
  const cv::Mat& gray = call.mat("image");
  const double t = threshold_quantile(gray, call.param<double>("quantile"));
  return {{"mask", Facet::mask(threshold_mask(gray, t, call.param<bool>("dark_objects")))},
          {"threshold", Facet::rows(nlohmann::json::array({{{"threshold", t}}}))}};
}

FacetMap run_fixed(const OpCall& call) {
  const double t = call.param<double>("value");
  return {{"mask", Facet::mask(threshold_mask(call.mat("image"), t, call.param<bool>("dark_objects")))},
          {"threshold", Facet::rows(nlohmann::json::array({{{"threshold", t}}}))}};
}

}  // namespace

double threshold_otsu(const cv::Mat& gray, int nbins) {
  require_gray(gray, "threshold_otsu");
  require_finite(gray, "threshold_otsu");
  if (nbins < 2) throw Error(ErrorCode::invalid_argument, fmt::format("threshold_otsu: nbins must be >= 2, got {}", nbins));
  double lo = 0, hi = 0;
  cv::minMaxIdx(gray, &lo, &hi);
  if (lo == hi) return lo;  // scikit-image returns the value of a constant image
  switch (gray.depth()) {
    case CV_8U: return otsu_integer<uint8_t>(gray);
    case CV_8S: return otsu_integer<int8_t>(gray);
    case CV_16U: return otsu_integer<uint16_t>(gray);
    case CV_16S: return otsu_integer<int16_t>(gray);
    case CV_32S: return otsu_integer<int32_t>(gray);
    case CV_32F: return otsu_float<float>(gray, nbins);
    case CV_64F: return otsu_float<double>(gray, nbins);
    default: throw Error(ErrorCode::invalid_argument, "threshold_otsu: unsupported pixel type");
  }
}

double threshold_quantile(const cv::Mat& gray, double q) {
  require_gray(gray, "threshold_quantile");
  require_finite(gray, "threshold_quantile");
  if (!(q >= 0 && q <= 1)) throw Error(ErrorCode::invalid_argument, fmt::format("threshold_quantile: q must be in [0, 1], got {}", q));
  cv::Mat values;
  gray.reshape(1, 1).convertTo(values, CV_64F);
  std::vector<double> v(values.begin<double>(), values.end<double>());
  // numpy.quantile's default 'linear' method: position q*(n-1) between the two neighbouring order statistics.
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(pos));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(below), v.end());
  const double a = v[below];
  if (below + 1 >= v.size()) return a;
  const double b = *std::min_element(v.begin() + static_cast<long>(below) + 1, v.end());
  const double frac = pos - static_cast<double>(below);
  return a + (b - a) * frac;
}

cv::Mat threshold_mask(const cv::Mat& gray, double t, bool dark_objects) {
  require_gray(gray, "threshold");
  cv::Mat mask;
  // compare() against a double scalar is exact for every depth (no rounding of t to the pixel type).
  cv::compare(gray, cv::Scalar(t), mask, dark_objects ? cv::CMP_LE : cv::CMP_GT);
  return mask;
}

void register_threshold_ops(OpRegistry& r) {
  const FacetSpec in{"image", FacetKind::image, "one-channel image"};
  const std::vector<FacetSpec> out = {{"mask", FacetKind::mask, "foreground"},
                                      {"threshold", FacetKind::table, "the threshold used"}};
  const ParamSpec dark = ParamSpec::boolean("dark_objects", false, "objects darker than the background (pixels <= t, the complement of the bright mask)");
  r.add({.name = "threshold_otsu",
         .summary = "Foreground mask from Otsu's threshold (scikit-image 0.19 exact; pixels > t)",
         .inputs = {in},
         .outputs = out,
         .params = {ParamSpec::integer("bins", 256, {2, 65536}, "histogram bins for float images"), dark},
         .run = run_otsu});
  r.add({.name = "threshold_quantile",
         .summary = "Foreground mask above the q-quantile of the pixel values",
         .inputs = {in},
         .outputs = out,
         .params = {ParamSpec::number("quantile", 0.99, {0, 1}, "fraction of pixels below the threshold"), dark},
         .run = run_quantile});
  r.add({.name = "threshold_fixed",
         .summary = "Foreground mask from a fixed value",
         .inputs = {in},
         .outputs = out,
         .params = {ParamSpec::number("value", 128, {-1e300, 1e300}, "threshold in pixel units"), dark},
         .run = run_fixed});
}

}  // namespace tessera::ops
