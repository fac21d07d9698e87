#include "segment/blob_scale.hpp"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

namespace tessera::segment {

namespace {

// The smallest sigma (level pixels) evaluated on a level: below it the kernel is too coarse to be a LoG.
constexpr double kMinLevelSigma = 2.5;

double response_on_level(const cv::Mat& level, cv::Point at, double sigma) {
  const int half = static_cast<int>(std::ceil(3 * sigma));
  const double two_s2 = 2 * sigma * sigma;
  // Zero-mean over the support (sum k*v - mean(k) * sum v), so a flat field answers 0 whatever its level.
  double weighted = 0, kernel_sum = 0, value_sum = 0;
  for (int dy = -half; dy <= half; ++dy) {
    const uchar* row = level.ptr<uchar>(std::clamp(at.y + dy, 0, level.rows - 1));
    for (int dx = -half; dx <= half; ++dx) {
      const double r2 = (dx * dx + dy * dy) / two_s2;
      const double k = (1 - r2) * std::exp(-r2) / (CV_PI * sigma * sigma);
      const double v = row[std::clamp(at.x + dx, 0, level.cols - 1)];
      weighted += k * v;
      kernel_sum += k;
      value_sum += v;
    }
  }
  const double n = (2.0 * half + 1) * (2.0 * half + 1);
  return weighted - kernel_sum / n * value_sum;
}

}  // namespace

BlobScale::BlobScale(const cv::Mat& gray8) {
  levels_.push_back(gray8);
  while (std::min(levels_.back().cols, levels_.back().rows) >= 32) {
    cv::Mat down;
    cv::pyrDown(levels_.back(), down);
    levels_.push_back(down);
  }
}

double BlobScale::response(cv::Point at, double sigma) const {
  std::size_t level = 0;
  while (level + 1 < levels_.size() && sigma / std::pow(2.0, static_cast<double>(level + 1)) >= kMinLevelSigma)
    ++level;
  const double factor = std::pow(2.0, static_cast<double>(level));
  // pyrDown already smoothed level k by a Gaussian of variance ~1/3 (level pixels): only the rest is applied.
  const double level_sigma = level == 0 ? sigma : std::sqrt(std::max(1.0, std::pow(sigma / factor, 2) - 1.0 / 3));
  const cv::Point level_at(static_cast<int>(at.x / factor), static_cast<int>(at.y / factor));
  return response_on_level(levels_[level], level_at, level_sigma);
}

BlobEstimate BlobScale::estimate(cv::Point at, double max_radius) const {
  BlobEstimate best{1.5 * std::sqrt(2.0), 0.0};
  for (double sigma = 1.5; sigma * std::sqrt(2.0) < max_radius; sigma *= 1.2) {
    const double value = std::abs(response(at, sigma));
    if (value > best.response) best = {sigma * std::sqrt(2.0), value};
  }
  return best;
}

}  // namespace tessera::segment
