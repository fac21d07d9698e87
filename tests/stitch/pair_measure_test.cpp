#include "stitch/pair_measure.hpp"

#include <gtest/gtest.h>

#include "stitch/stitch_fixture.hpp"
#include "tessera/image/focus.hpp"

namespace tessera::stitch::detail {
namespace {

// Windows a and b of a textured image with a(q) = b(q - s).
std::pair<cv::Mat, cv::Mat> shifted_windows(cv::Point s, cv::Size size) {
  const cv::Mat gray = image::to_unit_gray(test::textured_image(size + cv::Size(100, 100), 31));
  const cv::Point b_at(50, 50);
  return {gray(cv::Rect(b_at - s, size)).clone(), gray(cv::Rect(b_at, size)).clone()};
}

TEST(EstimateShift, FindsTheShiftInLargeWindowsCorrelatedAtReducedResolution) {
  // 200 x 2000 (a 10% overlap of 2000 px tiles) is above the size correlated at full resolution.
  for (const cv::Point s : {cv::Point(9, -21), cv::Point(-3, 40), cv::Point(1, 1)}) {
    SCOPED_TRACE(testing::Message() << s);
    const auto [a, b] = shifted_windows(s, {200, 2000});
    const ShiftEstimate e = estimate_shift(a, b);
    EXPECT_LE(cv::norm(e.shift - cv::Point2d(s)), 0.25);
    EXPECT_GT(e.quality, 0.99);
  }
}

TEST(EstimateShift, FindsTheShiftWithItsSign) {
  for (const cv::Point s :
       {cv::Point(0, 0), cv::Point(7, -3), cv::Point(-12, 25), cv::Point(30, 0)}) {
    SCOPED_TRACE(testing::Message() << s);
    const auto [a, b] = shifted_windows(s, {80, 300});
    const ShiftEstimate e = estimate_shift(a, b);
    EXPECT_LE(cv::norm(e.shift - cv::Point2d(s)), 0.25);
    EXPECT_GT(e.quality, 0.99);
    EXPECT_GT(e.response, 0.1);
  }
}

// Regression: OpenCV 4.6's phaseCorrelate multiplies its window into inputs that need no padding,
// in place; the NCC that follows then read windowed data and settled on wrong shifts.
TEST(EstimateShift, LeavesItsInputsUntouched) {
  const auto [a, b] = shifted_windows({5, 5}, {64, 256});  // sizes phaseCorrelate does not pad
  const cv::Mat a0 = a.clone(), b0 = b.clone();
  estimate_shift(a, b);
  EXPECT_EQ(cv::norm(a, a0, cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(b, b0, cv::NORM_INF), 0.0);
}

TEST(EstimateShift, FlatOrUnrelatedContentHasNoQuality) {
  const auto [a, b] = shifted_windows({3, 3}, {80, 300});
  EXPECT_EQ(estimate_shift(a, cv::Mat(a.size(), CV_32F, cv::Scalar(0.5))).quality, 0.0);
  cv::Mat noise(a.size(), CV_32F);
  cv::RNG(1).fill(noise, cv::RNG::UNIFORM, 0.0, 1.0);
  EXPECT_LT(estimate_shift(a, noise).quality, 0.15);
}

TEST(OverlapWindows, CutTheCommonPartInEachTile) {
  const auto w = overlap_windows({90, -5}, {100, 50}, 4);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->in_a, cv::Rect(90, 0, 10, 45));
  EXPECT_EQ(w->in_b, cv::Rect(0, 5, 10, 45));
  EXPECT_FALSE(overlap_windows({97, 0}, {100, 50}, 4));   // 3 px wide
  EXPECT_FALSE(overlap_windows({100, 0}, {100, 50}, 1));  // touching, not overlapping
}

}  // namespace
}  // namespace tessera::stitch::detail
