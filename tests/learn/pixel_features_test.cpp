#include "tessera/learn/pixel_features.hpp"

#include <limits>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "../test_util.hpp"

using namespace tessera::learn;

TEST(PixelFeatures, NamesFollowScalesAndFamilies) {
  const auto names = pixel_feature_names({.sigmas = {0.7, 1.6}});
  ASSERT_EQ(names.size(), 1u + 2 * 7);
  EXPECT_EQ(names[0], "intensity");
  EXPECT_EQ(names[1], "gaussian_s0.7");
  EXPECT_EQ(names[7], "structure_eig2_s0.7");
  EXPECT_EQ(names[12], "hessian_eig2_s1.6");
  EXPECT_EQ(pixel_feature_names({.sigmas = {2}, .intensity = false, .laplacian = false, .gradient = false,
                                 .hessian = false, .structure_tensor = false}),
            std::vector<std::string>{"gaussian_s2"});
}

TEST(PixelFeatures, RespondToABrightBlobAsExpected) {
  cv::Mat image(64, 64, CV_8U, cv::Scalar(10));
  cv::circle(image, {32, 32}, 6, cv::Scalar(250), cv::FILLED);
  const PixelFeatures f = compute_pixel_features(image, {.sigmas = {1.0, 3.5}});
  ASSERT_EQ(f.planes.size(), f.names.size());
  auto at = [&](const std::string& name, int y, int x) {
    const auto i = std::find(f.names.begin(), f.names.end(), name) - f.names.begin();
    return f.planes[i].at<float>(y, x);
  };
  // Percentile normalisation maps background ~0 and the blob ~1.
  EXPECT_NEAR(at("intensity", 2, 2), 0.0f, 1e-3f);
  EXPECT_NEAR(at("intensity", 32, 32), 1.0f, 1e-3f);
  // A bright blob is a minimum of the LoG and of both Hessian eigenvalues at its centre at the blob's scale.
  EXPECT_LT(at("laplacian_s3.5", 32, 32), -0.1f);
  EXPECT_LT(at("hessian_eig1_s3.5", 32, 32), 0.0f);
  // The gradient peaks on the rim, not at the centre or far away.
  EXPECT_GT(at("gradient_s1", 32, 38), 10 * at("gradient_s1", 32, 32));
  EXPECT_GT(at("gradient_s1", 32, 38), 10 * at("gradient_s1", 2, 2) + 0.1f);
  EXPECT_GE(at("structure_eig1_s1", 32, 38), at("structure_eig2_s1", 32, 38));
  EXPECT_GE(at("hessian_eig1_s1", 20, 20), at("hessian_eig2_s1", 20, 20));
}

TEST(PixelFeatures, BadOptionsAndImagesAreNamed) {
  tessera::test::expect_invalid([] { validate(PixelFeatureOptions{.sigmas = {1.0, 0.5}}); }, "sigmas[1]");
  tessera::test::expect_invalid([] { validate(PixelFeatureOptions{.sigmas = {30}}); }, "sigmas[0]");
  tessera::test::expect_invalid([] { validate(PixelFeatureOptions{.percentile_high = 0.5}); }, "percentile_high");
  tessera::test::expect_invalid([] { compute_pixel_features(cv::Mat()); }, "'image' is empty");
  tessera::test::expect_invalid([] { compute_pixel_features(cv::Mat(8, 8, CV_8UC2)); }, "channels");
  cv::Mat with_nan(8, 8, CV_32F, cv::Scalar(1));
  with_nan.at<float>(2, 3) = std::numeric_limits<float>::quiet_NaN();
  tessera::test::expect_invalid([&] { compute_pixel_features(with_nan); }, "NaN or infinite");
  // A double beyond float's range would become infinite.
  cv::Mat huge(8, 8, CV_64FC3, cv::Scalar(1, 1, 1));
  huge.at<cv::Vec3d>(5, 5)[1] = 1e300;
  tessera::test::expect_invalid([&] { compute_pixel_features(huge); }, "NaN or infinite");
}

namespace {

// A reproducible image with structure at every scale: noise plus blobs of several sizes.
cv::Mat textured_image(int rows, int cols) {
  cv::Mat image(rows, cols, CV_32F);
  cv::RNG rng(17);
  rng.fill(image, cv::RNG::UNIFORM, 0.0, 0.2);
  for (int i = 0; i < rows * cols / 400 + 1; ++i) {
    const cv::Point centre(rng.uniform(0, cols), rng.uniform(0, rows));
    cv::circle(image, centre, rng.uniform(1, 12), cv::Scalar(rng.uniform(0.3, 1.0)), cv::FILLED);
  }
  return image;
}

// The features written the plain way (one OpenCV call per derivative), as a reference for the fused kernels.
std::vector<cv::Mat> reference_scale(const cv::Mat& image, double sigma) {
  auto blur = [](const cv::Mat& m, double s) {
    const int radius = std::max(1, static_cast<int>(std::lround(4 * s)));
    cv::Mat out;
    cv::GaussianBlur(m, out, cv::Size(2 * radius + 1, 2 * radius + 1), s, s, cv::BORDER_REFLECT);
    return out;
  };
  const cv::Mat smooth = blur(image, sigma);
  cv::Mat dx, dy, dxx, dyy, dxy;
  cv::Sobel(smooth, dx, CV_32F, 1, 0, 1, 0.5, 0, cv::BORDER_REFLECT);
  cv::Sobel(smooth, dy, CV_32F, 0, 1, 1, 0.5, 0, cv::BORDER_REFLECT);
  cv::Sobel(smooth, dxx, CV_32F, 2, 0, 1, 1.0, 0, cv::BORDER_REFLECT);
  cv::Sobel(smooth, dyy, CV_32F, 0, 2, 1, 1.0, 0, cv::BORDER_REFLECT);
  cv::Sobel(smooth, dxy, CV_32F, 1, 1, 1, 0.25, 0, cv::BORDER_REFLECT);
  const cv::Mat jxx = blur(dx.mul(dx), sigma / 2), jyy = blur(dy.mul(dy), sigma / 2), jxy = blur(dx.mul(dy), sigma / 2);
  const auto s2 = static_cast<float>(sigma * sigma);
  cv::Mat gradient;
  cv::magnitude(dx, dy, gradient);
  std::vector<cv::Mat> planes = {smooth, s2 * (dxx + dyy), static_cast<float>(sigma) * gradient};
  for (const auto& [a, b, c] : {std::tuple{dxx, dxy, dyy}, std::tuple{jxx, jxy, jyy}}) {
    cv::Mat radius;
    cv::magnitude(0.5f * (a - c), b, radius);
    planes.push_back(s2 * (0.5f * (a + c) + radius));
    planes.push_back(s2 * (0.5f * (a + c) - radius));
  }
  return planes;
}

}  // namespace

TEST(PixelFeatures, MatchThePlainOneCallPerDerivativeComputation) {
  // Odd sizes and a one-pixel-wide image exercise the row ends, band edges and the SIMD tails.
  for (const cv::Size size : {cv::Size(203, 77), cv::Size(1, 40), cv::Size(37, 1), cv::Size(9, 300)}) {
    const cv::Mat image = textured_image(size.height, size.width);
    const PixelFeatureOptions options{.sigmas = {0.7, 1.6, 5.0}, .normalization = IntensityNormalization::none};
    const PixelFeatures f = compute_pixel_features(image, options);
    ASSERT_EQ(f.planes.size(), 1u + 3 * 7);
    EXPECT_EQ(cv::norm(f.planes[0], image, cv::NORM_INF), 0.0);
    for (size_t s = 0; s < options.sigmas.size(); ++s) {
      const std::vector<cv::Mat> expected = reference_scale(image, options.sigmas[s]);
      for (size_t k = 0; k < expected.size(); ++k) {
        const size_t plane = 1 + 7 * s + k;
        double low, high;
        cv::minMaxLoc(expected[k], &low, &high);
        // Float rounding of the blur (its sum order differs from OpenCV's), amplified by the sigma^2 of the
        // second-derivative features.
        const double sigma = options.sigmas[s];
        const double tolerance = 2e-6 * std::max(1.0, sigma * sigma) * std::max({1.0, std::abs(low), std::abs(high)});
        EXPECT_LE(cv::norm(f.planes[plane], expected[k], cv::NORM_INF), tolerance)
            << f.names[plane] << " at " << size;
      }
    }
  }
}

TEST(PixelFeatures, SwitchedOffFamiliesLeaveTheOthersUnchanged) {
  const cv::Mat image = textured_image(64, 80);
  const PixelFeatures all = compute_pixel_features(image, {.sigmas = {1.0, 3.5}});
  const PixelFeatures some = compute_pixel_features(image, {.sigmas = {1.0, 3.5}, .gaussian = false,
                                                             .gradient = false, .hessian = false});
  ASSERT_EQ(some.names, (std::vector<std::string>{"intensity", "laplacian_s1", "structure_eig1_s1",
                                                  "structure_eig2_s1", "laplacian_s3.5", "structure_eig1_s3.5",
                                                  "structure_eig2_s3.5"}));
  for (size_t i = 0; i < some.names.size(); ++i) {
    const auto j = std::find(all.names.begin(), all.names.end(), some.names[i]) - all.names.begin();
    EXPECT_EQ(cv::norm(some.planes[i], all.planes[j], cv::NORM_INF), 0.0) << some.names[i];
  }
}
