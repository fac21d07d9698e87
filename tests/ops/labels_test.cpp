#include "tessera/ops/labels.hpp"

#include <gtest/gtest.h>

#include "tessera/core/error.hpp"

namespace tessera::ops {
namespace {

cv::Mat mask_of(std::initializer_list<std::initializer_list<int>> rows) {
  cv::Mat m(static_cast<int>(rows.size()), static_cast<int>(rows.begin()->size()), CV_8UC1);
  int r = 0;
  for (const auto& row : rows) {
    int c = 0;
    for (int v : row) m.at<uint8_t>(r, c++) = static_cast<uint8_t>(v ? 255 : 0);
    ++r;
  }
  return m;
}

TEST(Label, NumbersComponentsInRasterOrderOfTheirFirstPixel) {
  const cv::Mat m = mask_of({{0, 0, 0, 1},
                             {1, 0, 0, 1},
                             {1, 0, 1, 0},
                             {0, 0, 1, 0}});
  const cv::Mat l4 = label(m, 1);
  EXPECT_EQ(l4.at<int>(0, 3), 1);
  EXPECT_EQ(l4.at<int>(1, 0), 2);
  EXPECT_EQ(l4.at<int>(2, 2), 3);
  EXPECT_EQ(label_count(l4), 3);
  const cv::Mat l8 = label(m, 2);  // the diagonal joins the right-hand pieces
  EXPECT_EQ(l8.at<int>(0, 3), 1);
  EXPECT_EQ(l8.at<int>(2, 2), 1);
  EXPECT_EQ(l8.at<int>(1, 0), 2);
  EXPECT_EQ(label_count(l8), 2);
}

TEST(Label, TouchingIdsOfALabelImageStaySeparate) {
  cv::Mat ids = (cv::Mat_<int>(2, 4) << 5, 5, 7, 7, 0, 5, 7, 0);
  const cv::Mat l = label(ids, 2);
  EXPECT_EQ(label_count(l), 2);
  EXPECT_EQ(l.at<int>(0, 0), 1);
  EXPECT_EQ(l.at<int>(0, 2), 2);
  EXPECT_EQ(l.at<int>(1, 1), 1);
}

TEST(Label, RejectsFloatAndColour) {
  EXPECT_THROW(label(cv::Mat(2, 2, CV_32F, cv::Scalar(1))), Error);
  EXPECT_THROW(label(cv::Mat(2, 2, CV_8UC3)), Error);
  EXPECT_THROW(label(cv::Mat(2, 2, CV_8UC1, cv::Scalar(1)), 3), Error);
}

TEST(RemoveSmallObjects, RemovesOnlyStrictlySmallerObjects) {
  const cv::Mat l = label(mask_of({{1, 1, 0, 1}, {0, 0, 0, 0}, {1, 1, 1, 0}}), 1);
  const cv::Mat kept = remove_small_objects(l, 2);
  EXPECT_EQ(kept.at<int>(0, 0), 1);   // area 2 stays
  EXPECT_EQ(kept.at<int>(0, 3), 0);   // area 1 goes
  EXPECT_EQ(kept.at<int>(2, 0), 3);   // ids unchanged
  EXPECT_EQ(relabel_sequential(kept).at<int>(2, 0), 2);
}

TEST(FillHoles, FillsEnclosedHolesOnlyWhenNoAreaIsGiven) {
  const cv::Mat m = mask_of({{1, 1, 1, 0},
                             {1, 0, 1, 0},
                             {1, 1, 1, 0}});
  const cv::Mat filled = fill_holes(m, 0);
  EXPECT_EQ(filled.at<uint8_t>(1, 1), 255);
  EXPECT_EQ(filled.at<uint8_t>(0, 3), 0);  // the border column is outside, not a hole
}

TEST(FillHoles, SmallHoleRuleFollowsScikitImageRemoveSmallHoles) {
  // remove_small_holes(area_threshold=4) in 0.19.3 fills every 4-connected background component with
  // fewer than 4 pixels, border-touching ones included.
  cv::Mat m(6, 6, CV_8UC1, cv::Scalar(255));
  m.at<uint8_t>(0, 2) = 0;
  m.at<uint8_t>(3, 3) = 0;
  EXPECT_EQ(cv::countNonZero(fill_holes(m, 4)), 36);
  EXPECT_EQ(cv::countNonZero(fill_holes(m, 1)), 34);  // nothing is smaller than 1
}

}  // namespace
}  // namespace tessera::ops

namespace tessera::ops {
namespace {

TEST(Label, MinSizeEqualsRemoveSmallObjectsThenRelabelSequential) {
  cv::Mat m(40, 50, CV_8UC1, cv::Scalar(0));
  cv::RNG rng(7);
  for (int i = 0; i < 400; ++i) m.at<uint8_t>(rng.uniform(0, 40), rng.uniform(0, 50)) = 255;
  for (int connectivity : {1, 2}) {
    for (int min_size : {2, 3, 5}) {
      const cv::Mat fused = label(m, connectivity, min_size);
      const cv::Mat stepwise = relabel_sequential(remove_small_objects(label(m, connectivity), min_size));
      EXPECT_EQ(cv::norm(fused, stepwise, cv::NORM_INF), 0.0) << connectivity << " " << min_size;
    }
  }
  cv::Mat ids = (cv::Mat_<int>(2, 5) << 3, 3, 9, 0, 4, 0, 3, 9, 0, 0);  // the equal-value path
  const cv::Mat fused = label(ids, 2, 2);
  EXPECT_EQ(fused.at<int>(0, 0), 1);
  EXPECT_EQ(fused.at<int>(0, 2), 2);
  EXPECT_EQ(fused.at<int>(0, 4), 0);
}

}  // namespace
}  // namespace tessera::ops
