#include "learn/features_kernels.hpp"

#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "learn/features_bands.hpp"
#include "learn/features_gaussian.hpp"
#include "learn/features_structure.hpp"

using namespace tessera::learn::features;

namespace {

std::vector<float> random_row(int width, std::mt19937& rng) {
  std::uniform_real_distribution<float> value(-2.0f, 3.0f);
  std::vector<float> row(static_cast<size_t>(width));
  for (float& v : row) v = value(rng);
  return row;
}

// Every output of derivative_row for one input, on one path.
struct RowOutputs {
  std::vector<float> laplacian, gradient, hessian1, hessian2, xx, yy, xy;
  explicit RowOutputs(int width)
      : laplacian(width), gradient(width), hessian1(width), hessian2(width), xx(width), yy(width), xy(width) {}
};

RowOutputs run_derivatives(const std::vector<float>& above, const std::vector<float>& center,
                           const std::vector<float>& below, Simd simd) {
  const int width = static_cast<int>(center.size());
  RowOutputs out(width);
  derivative_row({.above = above.data(), .center = center.data(), .below = below.data(), .width = width,
                  .sigma = 1.6f, .sigma_squared = 2.56f, .laplacian = out.laplacian.data(),
                  .gradient = out.gradient.data(), .hessian1 = out.hessian1.data(), .hessian2 = out.hessian2.data(),
                  .structure_xx = out.xx.data(), .structure_yy = out.yy.data(), .structure_xy = out.xy.data()},
                 simd);
  return out;
}

}  // namespace

TEST(FeatureKernels, Avx2AndPortablePathsAgreeBitForBit) {
  if (best_simd() != Simd::avx2) GTEST_SKIP() << "this CPU has no AVX2";
  std::mt19937 rng(3);
  // Widths around the 8-pixel vector step, so every tail length is covered.
  for (int width = 1; width <= 42; ++width) {
    const auto above = random_row(width, rng), center = random_row(width, rng), below = random_row(width, rng);
    const RowOutputs portable = run_derivatives(above, center, below, Simd::portable);
    const RowOutputs avx2 = run_derivatives(above, center, below, Simd::avx2);
    EXPECT_EQ(portable.laplacian, avx2.laplacian) << width;
    EXPECT_EQ(portable.gradient, avx2.gradient) << width;
    EXPECT_EQ(portable.hessian1, avx2.hessian1) << width;
    EXPECT_EQ(portable.hessian2, avx2.hessian2) << width;
    EXPECT_EQ(portable.xx, avx2.xx) << width;
    EXPECT_EQ(portable.yy, avx2.yy) << width;
    EXPECT_EQ(portable.xy, avx2.xy) << width;
    std::vector<float> first_p(width), second_p(width), first_v(center), second_v(below);
    eigenvalue_row(center.data(), above.data(), below.data(), width, 0.5f, first_p.data(), second_p.data(),
                   Simd::portable);
    // In place, as the structure tensor phase runs it.
    eigenvalue_row(first_v.data(), above.data(), second_v.data(), width, 0.5f, first_v.data(), second_v.data(),
                   Simd::avx2);
    EXPECT_EQ(first_p, first_v) << width;
    EXPECT_EQ(second_p, second_v) << width;
  }
}

TEST(FeatureKernels, DerivativesOfAQuadraticAreExactAndBordersReflect) {
  // f(x, y) = x^2 + 3xy - y^2 sampled on rows y = -1, 0, 1 at x = 0..5.
  auto row = [](int y) {
    std::vector<float> r;
    for (int x = 0; x < 6; ++x) r.push_back(static_cast<float>(x * x + 3 * x * y - y * y));
    return r;
  };
  for (const Simd simd : {Simd::portable, best_simd()}) {
    const RowOutputs out = run_derivatives(row(-1), row(0), row(1), simd);
    for (int x = 1; x < 5; ++x) {
      // Ixx = 2, Iyy = -2, Ixy = 3: Laplacian 0, Hessian eigenvalues +-sqrt(4 + 9), times sigma^2 = 2.56.
      EXPECT_FLOAT_EQ(out.laplacian[x], 0.0f);
      EXPECT_FLOAT_EQ(out.hessian1[x], 2.56f * std::sqrt(13.0f));
      EXPECT_FLOAT_EQ(out.hessian2[x], -2.56f * std::sqrt(13.0f));
      const float ix = 2.0f * x, iy = 3.0f * x;
      EXPECT_FLOAT_EQ(out.xx[x], ix * ix);
      EXPECT_FLOAT_EQ(out.xy[x], ix * iy);
      EXPECT_FLOAT_EQ(out.gradient[x], 1.6f * std::sqrt(ix * ix + iy * iy));
    }
    // At x = 0 the reflected neighbour is pixel 0 itself: Ix = (f(1) - f(0)) / 2 = 0.5.
    EXPECT_FLOAT_EQ(out.xx[0], 0.25f);
  }
}

TEST(FeatureBlur, BandedBlursMatchOpenCvAndBothPathsAgreeBitForBit) {
  cv::Mat image(701, 45, CV_32F);  // tall enough that the largest blurs are cut into bands; 45 = 32 + 8 + 5
  cv::RNG(5).fill(image, cv::RNG::UNIFORM, 0.0, 1.0);
  for (const double sigma : {0.35, 1.0, 5.0, 10.0, 30.0}) {  // 30: a kernel wider than the image reflects twice
    const int radius = gaussian_radius(sigma);
    const std::vector<float> kernel = gaussian_half_kernel(sigma, radius);
    std::vector<cv::Mat> outputs;
    for (const Simd simd : {Simd::portable, best_simd()}) {
      cv::Mat output(image.size(), CV_32F);
      run_in_bands({{.rows = image.rows, .cost = 1, .margin = radius, .run = [&](int first, int end) {
                       gaussian_blur_rows(image, output, kernel, first, end, simd);
                     }}});
      outputs.push_back(output);
    }
    cv::Mat expected;
    cv::GaussianBlur(image, expected, cv::Size(2 * radius + 1, 2 * radius + 1), sigma, sigma, cv::BORDER_REFLECT);
    EXPECT_LE(cv::norm(outputs[0], expected, cv::NORM_INF), 1e-6) << sigma;
    EXPECT_EQ(cv::norm(outputs[0], outputs[1], cv::NORM_INF), 0.0) << sigma;
  }
}

TEST(FeatureBlur, ImagesTooWideForOneScratchBufferAreBlurredInPieces) {
  cv::Mat image(500, 3000, CV_32F);
  cv::RNG(6).fill(image, cv::RNG::UNIFORM, 0.0, 1.0);
  const double sigma = 10;
  const int radius = gaussian_radius(sigma);
  ASSERT_LT(rows_per_scratch(image.cols, radius), image.rows);
  cv::Mat output(image.size(), CV_32F);
  gaussian_blur_rows(image, output, gaussian_half_kernel(sigma, radius), 0, image.rows, best_simd());
  cv::Mat expected;
  cv::GaussianBlur(image, expected, cv::Size(2 * radius + 1, 2 * radius + 1), sigma, sigma, cv::BORDER_REFLECT);
  EXPECT_LE(cv::norm(output, expected, cv::NORM_INF), 1e-6);
}

namespace {

// The fused structure tensor of a smooth random image of `size` on each path in `paths`: the paths agree bit
// for bit, and the first matches the eigenvalues of blurred whole product images, as the features were made
// before the passes were fused.
void check_structure_tensor(cv::Size size, const std::vector<Simd>& paths) {
  cv::Mat smooth(size, CV_32F);
  cv::RNG(8).fill(smooth, cv::RNG::UNIFORM, 0.0, 1.0);
  cv::GaussianBlur(smooth, smooth, cv::Size(5, 5), 1.0);
  const double sigma = 2.5;
  const int radius = gaussian_radius(sigma);
  const std::vector<float> kernel = gaussian_half_kernel(sigma, radius);
  std::vector<cv::Mat> firsts, seconds;
  for (const Simd simd : paths) {
    cv::Mat first(smooth.size(), CV_32F), second(smooth.size(), CV_32F);
    run_in_bands({{.rows = smooth.rows, .cost = 1, .margin = radius, .run = [&](int a, int b) {
                     structure_tensor_rows(smooth, kernel, 4.0f, first, second, a, b, simd);
                   }}});
    firsts.push_back(first);
    seconds.push_back(second);
  }
  for (size_t i = 1; i < paths.size(); ++i) {
    EXPECT_EQ(cv::norm(firsts[0], firsts[i], cv::NORM_INF), 0.0) << size;
    EXPECT_EQ(cv::norm(seconds[0], seconds[i], cv::NORM_INF), 0.0) << size;
  }
  cv::Mat dx, dy, xx, yy, xy;
  cv::Sobel(smooth, dx, CV_32F, 1, 0, 1, 0.5, 0, cv::BORDER_REFLECT);
  cv::Sobel(smooth, dy, CV_32F, 0, 1, 1, 0.5, 0, cv::BORDER_REFLECT);
  const cv::Size kernel_size(2 * radius + 1, 2 * radius + 1);
  cv::GaussianBlur(dx.mul(dx), xx, kernel_size, sigma, sigma, cv::BORDER_REFLECT);
  cv::GaussianBlur(dy.mul(dy), yy, kernel_size, sigma, sigma, cv::BORDER_REFLECT);
  cv::GaussianBlur(dx.mul(dy), xy, kernel_size, sigma, sigma, cv::BORDER_REFLECT);
  cv::Mat radius_plane;
  cv::magnitude(0.5f * (xx - yy), xy, radius_plane);
  const cv::Mat mean = 0.5f * (xx + yy);
  const double scale_of_values = cv::norm(firsts[0], cv::NORM_INF);
  EXPECT_LE(cv::norm(firsts[0], 4.0f * (mean + radius_plane), cv::NORM_INF), 1e-5 * scale_of_values) << size;
  EXPECT_LE(cv::norm(seconds[0], 4.0f * (mean - radius_plane), cv::NORM_INF), 1e-5 * scale_of_values) << size;
}

}  // namespace

TEST(FeatureStructureTensor, EqualsBlurredProductImagesAndBothPathsAgreeBitForBit) {
  check_structure_tensor({51, 300}, {Simd::portable, best_simd()});
}

TEST(FeatureStructureTensor, ImagesTooWideForOneScratchBufferAreDoneInPieces) {
  ASSERT_LT(rows_per_scratch(3000, gaussian_radius(2.5)), 700);
  check_structure_tensor({3000, 700}, {best_simd()});
}
