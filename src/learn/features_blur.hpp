#pragma once

// Many Gaussian blurs of float images run together on OpenCV's thread pool, the largest cut into row bands so
// that the threads finish together. Each blur's result is the same as one cv::GaussianBlur of the whole image
// (a band reads its neighbours' rows as its border).

#include <vector>

#include <opencv2/core.hpp>

namespace tessera::learn::features {

constexpr double kTruncate = 4.0;            // kernels reach 4 sigma, as scipy.ndimage's default
constexpr int kBorder = cv::BORDER_REFLECT;  // scipy.ndimage's 'reflect'

// Kernel radius in pixels for `sigma` (at least 1).
int gaussian_radius(double sigma);

// One blur: `output` (allocated by the caller, input's size, CV_32F) = G_sigma * `input` (CV_32F).
struct BlurJob {
  const cv::Mat* input = nullptr;
  cv::Mat* output = nullptr;
  double sigma = 1;
};

// Runs every job, in parallel. Outputs must not alias inputs.
void run_gaussian_blurs(const std::vector<BlurJob>& jobs);

}  // namespace tessera::learn::features
