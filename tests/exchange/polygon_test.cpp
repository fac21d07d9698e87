#include "tessera/exchange/polygon.hpp"

#include <random>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

namespace tessera::exchange {
namespace {

// Holes filled the way corner outlines fill them: pixels the outside cannot reach through unset pixels,
// moving diagonally too (set parts are 4-connected, so a diagonal gap does not close a ring).
cv::Mat holes_filled(const cv::Mat& mask) {
  cv::Mat padded;
  cv::copyMakeBorder(mask, padded, 1, 1, 1, 1, cv::BORDER_CONSTANT, cv::Scalar(0));
  cv::Mat outside = padded.clone();
  cv::floodFill(outside, cv::Point(0, 0), cv::Scalar(128), nullptr, cv::Scalar(0), cv::Scalar(0), 8);
  cv::Mat filled = outside != 128;
  return filled(cv::Rect(1, 1, mask.cols, mask.rows)).clone();
}

cv::Mat random_mask(std::mt19937& random, int rows, int cols) {
  cv::Mat m(rows, cols, CV_8UC1);
  const unsigned density = 20 + random() % 70;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) m.at<std::uint8_t>(r, c) = (random() % 100) < density ? 255 : 0;
  return m;
}

TEST(CornerOutlines, TraceTheWorkedExampleFromItsTopLeftCorner) {
  cv::Mat m(4, 5, CV_8UC1, cv::Scalar(0));
  m(cv::Rect(1, 1, 3, 2)).setTo(255);
  m.at<std::uint8_t>(3, 3) = 255;
  const auto outlines = corner_outlines(m);
  ASSERT_EQ(outlines.size(), 1u);
  const Polygon expected{{1, 1}, {4, 1}, {4, 4}, {3, 4}, {3, 3}, {1, 3}};
  EXPECT_EQ(outlines[0], expected);
}

TEST(CornerOutlines, LeaveHolesOutAndKeepPartsTouchingAtACornerApart) {
  cv::Mat ring(5, 5, CV_8UC1, cv::Scalar(255));
  ring.at<std::uint8_t>(2, 2) = 0;
  EXPECT_EQ(corner_outlines(ring).size(), 1u);
  cv::Mat diagonal(2, 2, CV_8UC1, cv::Scalar(0));
  diagonal.at<std::uint8_t>(0, 0) = 255;
  diagonal.at<std::uint8_t>(1, 1) = 255;
  const auto parts = corner_outlines(diagonal, {10, 20});
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0][0], cv::Point2d(10, 20));
  EXPECT_EQ(parts[1][0], cv::Point2d(11, 21));
}

TEST(CornerOutlines, RasterizeBackToTheMaskWithHolesFilledOnRandomMasks) {
  std::mt19937 random(3);
  for (int round = 0; round < 200; ++round) {
    const cv::Mat m = random_mask(random, 1 + int(random() % 30), 1 + int(random() % 30));
    const cv::Mat back = rasterize_corner_polygons(corner_outlines(m), m.size());
    ASSERT_EQ(cv::countNonZero(back != holes_filled(m)), 0) << "round " << round;
  }
}

// Ultralytics' own conversion is exact only to about a pixel (formats.md 4.2): OpenCV's contour of a
// shape with a one-pixel notch or an enclosed hole does not fill back to it. The pixels that differ are
// counted; what matters for round trips is that the filled mask gives the same contours again.
TEST(PixelContours, FillBackToBlobsAndTheSameContours) {
  std::mt19937 random(5);
  int differing = 0, total = 0;
  for (int round = 0; round < 100; ++round) {
    cv::Mat m(64, 80, CV_8UC1, cv::Scalar(0));
    for (int k = 0; k < 3; ++k) {
      const cv::Point centre(int(random() % 80), int(random() % 64));
      const cv::Size axes(1 + int(random() % 15), 1 + int(random() % 15));
      cv::ellipse(m, centre, axes, double(random() % 180), 0, 360, cv::Scalar(255), cv::FILLED);
    }
    const auto contours = pixel_contours(m);
    for (const auto& c : contours) EXPECT_GE(c.size(), 3u);
    const cv::Mat back = fill_pixel_contours(contours, m.size());
    differing += cv::countNonZero(back != m);
    total += cv::countNonZero(m);
    // What an import gives back exports to the same polygons: export -> import -> export is stable.
    ASSERT_EQ(pixel_contours(back), contours) << "round " << round;
  }
  EXPECT_LT(differing, total / 1000) << differing << " of " << total;
}

TEST(PixelContours, GiveSinglePixelsThreeVertices) {
  cv::Mat m(3, 3, CV_8UC1, cv::Scalar(0));
  m.at<std::uint8_t>(1, 2) = 255;
  const auto contours = pixel_contours(m);
  ASSERT_EQ(contours.size(), 1u);
  EXPECT_EQ(contours[0], (std::vector<cv::Point>{{2, 1}, {2, 1}, {2, 1}}));
  EXPECT_EQ(cv::countNonZero(fill_pixel_contours(contours, m.size()) != m), 0);
}

}  // namespace
}  // namespace tessera::exchange
