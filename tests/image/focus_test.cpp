#include "tessera/image/focus.hpp"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "image/fixtures.hpp"

namespace tessera::image {
namespace {

TEST(Focus, FlatImageScoresZero) {
  EXPECT_DOUBLE_EQ(focus_score(cv::Mat(32, 32, CV_8UC1, cv::Scalar(77))), 0.0);
}

TEST(Focus, BlurLowersTheScoreMonotonically) {
  const cv::Mat sharp = test::pattern_image(128, 128, CV_8UC1);
  double previous = focus_score(sharp);
  for (double sigma : {0.8, 1.5, 3.0, 6.0}) {
    cv::Mat blurred;
    cv::GaussianBlur(sharp, blurred, cv::Size(0, 0), sigma);
    const double score = focus_score(blurred);
    EXPECT_LT(score, previous) << "sigma " << sigma;
    previous = score;
  }
}

TEST(Focus, EightAndSixteenBitVersionsOfOneImageScoreAlike) {
  const cv::Mat eight = test::pattern_image(64, 64, CV_8UC1);
  cv::Mat sixteen;
  eight.convertTo(sixteen, CV_16U, 257.0);
  EXPECT_NEAR(focus_score(eight), focus_score(sixteen), 1e-6 * focus_score(eight));
}

TEST(Focus, MatchesTheDocumentedDefinition) {
  // Variance of the 4-neighbour Laplacian of grey/255, computed by hand on a 3x3 image (reflected borders).
  cv::Mat m = (cv::Mat_<uchar>(3, 3) << 0, 0, 0, 0, 255, 0, 0, 0, 0);
  // Reflect-101 borders: the centre pixel's neighbours are all 0 -> -4; each edge pixel sees the centre
  // twice (itself reflected) -> 2 for edge centres; corners see 0 -> 0.
  const double values[9] = {0, 2, 0, 2, -4, 2, 0, 2, 0};
  double mean = 0;
  for (double v : values) mean += v / 9.0;
  double var = 0;
  for (double v : values) var += (v - mean) * (v - mean) / 9.0;
  EXPECT_NEAR(focus_score(m), var, 1e-6);
}

TEST(Focus, ColourUsesLuma) {
  cv::Mat rgb(8, 8, CV_8UC3, cv::Scalar(0, 0, 0));
  rgb.at<cv::Vec3b>(4, 4) = cv::Vec3b(255, 255, 255);
  cv::Mat gray(8, 8, CV_8UC1, cv::Scalar(0));
  gray.at<uchar>(4, 4) = 255;
  EXPECT_NEAR(focus_score(rgb), focus_score(gray), 1e-4 * focus_score(gray));
}

}  // namespace
}  // namespace tessera::image
