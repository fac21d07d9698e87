#include "tessera/track/objects.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "test_util.hpp"

namespace tessera::track {
namespace {

TEST(Objects, MeasuresEachLabelWithRunsAndIntensity) {
  cv::Mat labels = (cv::Mat_<std::uint16_t>(3, 5) << 0, 7, 7, 0, 2,  //
                    0, 7, 0, 0, 2,                                   //
                    7, 7, 0, 0, 0);
  cv::Mat intensity = (cv::Mat_<float>(3, 5) << 0, 1, 3, 0, 10,  //
                       0, 5, 0, 0, 20,                           //
                       7, 9, 0, 0, 0);
  const auto objects = objects_from_labels(labels, intensity);
  ASSERT_EQ(objects.size(), 2u);
  const ObjectDesc& two = objects[0];
  EXPECT_EQ(two.label, 2);
  EXPECT_EQ(two.area, 2);
  EXPECT_DOUBLE_EQ(two.row, 0.5);
  EXPECT_DOUBLE_EQ(two.col, 4.0);
  EXPECT_DOUBLE_EQ(two.intensity_mean, 15.0);
  EXPECT_EQ(two.bbox, (std::array<std::int32_t, 4>{0, 4, 2, 5}));
  const ObjectDesc& seven = objects[1];
  EXPECT_EQ(seven.label, 7);
  EXPECT_EQ(seven.area, 5);
  EXPECT_DOUBLE_EQ(seven.row, (0 + 0 + 1 + 2 + 2) / 5.0);
  EXPECT_DOUBLE_EQ(seven.col, (1 + 2 + 1 + 0 + 1) / 5.0);
  EXPECT_DOUBLE_EQ(seven.intensity_mean, 5.0);
  EXPECT_EQ(seven.bbox, (std::array<std::int32_t, 4>{0, 0, 3, 3}));
  EXPECT_EQ(seven.runs, (std::vector<track::Run>{{0, 1, 3}, {1, 1, 2}, {2, 0, 2}}));
  EXPECT_TRUE(std::isnan(objects_from_labels(labels)[0].intensity_mean));
}

TEST(Objects, OverlapAndIouFromRunsAndFromDiscs) {
  cv::Mat a(10, 10, CV_32S, cv::Scalar(0));
  cv::Mat b(10, 10, CV_32S, cv::Scalar(0));
  a(cv::Rect(0, 0, 4, 4)).setTo(1);  // 16 px
  b(cv::Rect(2, 2, 4, 4)).setTo(1);  // 16 px, 4 shared
  const ObjectDesc oa = objects_from_labels(a)[0];
  const ObjectDesc ob = objects_from_labels(b)[0];
  EXPECT_EQ(overlap_area(oa.runs, ob.runs), 4);
  EXPECT_DOUBLE_EQ(iou(oa, ob), 4.0 / 28.0);
  EXPECT_DOUBLE_EQ(iou(oa, oa), 1.0);

  ObjectDesc p = oa;
  p.runs.clear();
  ObjectDesc q = p;
  EXPECT_NEAR(iou(p, q), 1.0, 1e-12);  // same disc
  q.col += 100;
  EXPECT_EQ(iou(p, q), 0.0);
  q.col = p.col + 1.0;
  EXPECT_GT(iou(p, q), 0.5);
  EXPECT_LT(iou(p, q), 1.0);
}

TEST(Objects, BorderAndBadInput) {
  cv::Mat labels(5, 5, CV_32S, cv::Scalar(0));
  labels.at<std::int32_t>(2, 2) = 1;
  labels.at<std::int32_t>(0, 3) = 2;
  const auto objects = objects_from_labels(labels);
  EXPECT_FALSE(touches_border(objects[0], labels.size()));
  EXPECT_TRUE(touches_border(objects[1], labels.size()));
  EXPECT_FALSE(touches_border(objects[1], cv::Size()));

  labels.at<std::int32_t>(4, 1) = -3;
  tessera::test::expect_invalid([&] { objects_from_labels(labels, cv::Mat(), "frame 9"); },
                                "frame 9: negative label -3 at row 4, column 1");
  tessera::test::expect_invalid([&] { objects_from_labels(cv::Mat(2, 2, CV_32F, cv::Scalar(0))); }, "one channel");
  tessera::test::expect_invalid(
      [&] { objects_from_labels(cv::Mat(2, 2, CV_8U, cv::Scalar(0)), cv::Mat(3, 2, CV_8U, cv::Scalar(0))); },
      "intensity image is 2x3");
}

}  // namespace
}  // namespace tessera::track
