#include "segment/prompt_validation.hpp"

#include <cmath>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "tessera/core/error.hpp"

namespace tessera::segment {

namespace {

void fail(const std::string& message) { throw Error(ErrorCode::invalid_argument, message); }

}  // namespace

void validate_prompts(const cv::Mat& image, const Prompts& prompts) {
  if (image.empty()) fail("segment: image is empty");
  const int depth = image.depth();
  if (depth != CV_8U && depth != CV_16U && depth != CV_32F && depth != CV_64F)
    fail(fmt::format("segment: image depth must be 8-bit, 16-bit or float, got OpenCV depth {}", depth));
  if (image.channels() != 1 && image.channels() != 3 && image.channels() != 4)
    fail(fmt::format("segment: image must have 1, 3 or 4 channels, got {}", image.channels()));
  bool has_positive = false;
  for (std::size_t i = 0; i < prompts.points.size(); ++i) {
    const PromptPoint& p = prompts.points[i];
    if (!std::isfinite(p.x) || !std::isfinite(p.y))
      fail(fmt::format("segment: points[{}] is not a finite coordinate", i));
    if (p.x < 0 || p.y < 0 || p.x >= image.cols || p.y >= image.rows)
      fail(fmt::format("segment: points[{}] = ({}, {}) lies outside the {}x{} image", i, p.x, p.y, image.cols,
                       image.rows));
    has_positive = has_positive || p.positive;
  }
  if (prompts.box) {
    const cv::Rect& b = *prompts.box;
    if (b.width <= 0 || b.height <= 0)
      fail(fmt::format("segment: box must have a positive width and height, got {}x{}", b.width, b.height));
    if ((b & cv::Rect(0, 0, image.cols, image.rows)).area() == 0)
      fail(fmt::format("segment: box ({}, {}, {}x{}) does not overlap the {}x{} image", b.x, b.y, b.width,
                       b.height, image.cols, image.rows));
  }
  if (!prompts.prior_mask.empty()) {
    if (prompts.prior_mask.size() != image.size() || prompts.prior_mask.type() != CV_8UC1)
      fail(fmt::format("segment: prior_mask must be 8-bit single-channel {}x{}, got {}x{} type {}", image.cols,
                       image.rows, prompts.prior_mask.cols, prompts.prior_mask.rows, prompts.prior_mask.type()));
  }
  const bool has_prior = !prompts.prior_mask.empty() && cv::countNonZero(prompts.prior_mask) > 0;
  if (!has_positive && !has_prior && !prompts.box)
    fail("segment: points need at least one positive point (or a box or a prior mask)");
}

cv::Mat to_display_8bit(const cv::Mat& image) {
  cv::Mat source = image;
  if (image.channels() == 4) cv::cvtColor(image, source, cv::COLOR_BGRA2BGR);
  if (source.depth() == CV_8U) return source;
  // Percentiles from a subsample: a 1024x1024 frame needs no more than ~64k samples for a stable stretch.
  cv::Mat flat = source.reshape(1, 1);
  const int step = std::max(1, static_cast<int>(flat.total() / 65536));
  std::vector<float> samples;
  samples.reserve(flat.total() / step + 1);
  cv::Mat as_float;
  flat.convertTo(as_float, CV_32F);
  const float* data = as_float.ptr<float>();
  for (std::size_t i = 0; i < as_float.total(); i += step)
    if (std::isfinite(data[i])) samples.push_back(data[i]);
  if (samples.empty()) return cv::Mat::zeros(source.size(), CV_8UC(source.channels()));
  const auto at = [&](double q) {
    auto nth = samples.begin() + static_cast<std::ptrdiff_t>(q * (samples.size() - 1));
    std::nth_element(samples.begin(), nth, samples.end());
    return static_cast<double>(*nth);
  };
  const double lo = at(0.005);
  const double hi = at(0.995);
  const double scale = hi > lo ? 255.0 / (hi - lo) : 1.0;
  cv::Mat out;
  source.convertTo(out, CV_8U, scale, -lo * scale);  // saturate_cast clips below 0 and above 255; NaN -> 0
  return out;
}

}  // namespace tessera::segment
