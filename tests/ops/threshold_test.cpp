#include "tessera/ops/threshold.hpp"

#include <limits>

#include <gtest/gtest.h>

#include "tessera/core/error.hpp"

namespace tessera::ops {
namespace {

cv::Mat example_u8() { return (cv::Mat_<uint8_t>(3, 4) << 0, 0, 1, 2, 10, 11, 12, 12, 3, 250, 251, 252); }

TEST(ThresholdOtsu, MatchesScikitImageOnItsDocumentedExamples) {
  EXPECT_EQ(threshold_otsu(example_u8()), 12.0);
  cv::Mat f64;
  example_u8().convertTo(f64, CV_64F, 1.0 / 255.0);
  EXPECT_EQ(threshold_otsu(f64), 0.04825367647058824);
}

TEST(ThresholdOtsu, SixteenBitUsesOneBinPerInteger) {
  cv::Mat m = (cv::Mat_<uint16_t>(1, 6) << 1000, 1001, 1002, 40000, 40001, 40002);
  const double t = threshold_otsu(m);
  EXPECT_GE(t, 1002.0);
  EXPECT_LT(t, 40000.0);
  EXPECT_EQ(t, std::floor(t));  // integer images give an integer threshold
}

TEST(ThresholdOtsu, ConstantImageReturnsItsValueAndHasNoForeground) {
  cv::Mat m(5, 5, CV_16UC1, cv::Scalar(700));
  EXPECT_EQ(threshold_otsu(m), 700.0);
  EXPECT_EQ(cv::countNonZero(threshold_mask(m, threshold_otsu(m))), 0);
}

TEST(ThresholdOtsu, RejectsNaNAndColour) {
  cv::Mat f(2, 2, CV_32FC1, cv::Scalar(1));
  f.at<float>(0, 0) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(threshold_otsu(f), Error);
  EXPECT_THROW(threshold_otsu(cv::Mat(2, 2, CV_8UC3, cv::Scalar(1, 2, 3))), Error);
  EXPECT_THROW(threshold_otsu(cv::Mat()), Error);
}

TEST(ThresholdMask, ForegroundIsStrictlyAboveOrBelow) {
  cv::Mat m = (cv::Mat_<uint8_t>(1, 3) << 11, 12, 13);
  cv::Mat bright = threshold_mask(m, 12);
  EXPECT_EQ(bright.at<uint8_t>(0, 0), 0);
  EXPECT_EQ(bright.at<uint8_t>(0, 1), 0);
  EXPECT_EQ(bright.at<uint8_t>(0, 2), 255);
  cv::Mat dark = threshold_mask(m, 12, true);
  EXPECT_EQ(dark.at<uint8_t>(0, 0), 255);
  EXPECT_EQ(dark.at<uint8_t>(0, 1), 255);  // dark = the complement of bright: <= t
  EXPECT_EQ(dark.at<uint8_t>(0, 2), 0);
  // A fractional threshold on an integer image is not rounded.
  EXPECT_EQ(cv::countNonZero(threshold_mask(m, 12.5)), 1);
  EXPECT_EQ(cv::countNonZero(threshold_mask(m, 11.5)), 2);
}

TEST(ThresholdQuantile, InterpolatesLinearlyLikeNumpy) {
  cv::Mat m = (cv::Mat_<uint8_t>(1, 5) << 10, 20, 30, 40, 50);
  EXPECT_DOUBLE_EQ(threshold_quantile(m, 0.5), 30.0);
  EXPECT_DOUBLE_EQ(threshold_quantile(m, 0.3), 22.0);  // numpy.quantile([10..50], 0.3) = 22.0
  EXPECT_DOUBLE_EQ(threshold_quantile(m, 1.0), 50.0);
  EXPECT_THROW(threshold_quantile(m, 1.5), Error);
}

}  // namespace
}  // namespace tessera::ops
