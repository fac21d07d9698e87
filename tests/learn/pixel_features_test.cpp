#include "tessera/learn/pixel_features.hpp"

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
}
