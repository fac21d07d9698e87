#include "tessera/app/score.hpp"

#include <gtest/gtest.h>

#include "tessera/core/error.hpp"
#include "tessera/image/encode.hpp"
#include "test_util.hpp"

namespace tessera::app {
namespace {

namespace fs = std::filesystem;

TEST(Score, PixelAndObjectScoresOverFolders) {
  test::TempDir dir("tessera-score");
  fs::create_directories(dir / "gt");
  fs::create_directories(dir / "pred");
  // a.png: two 10x10 objects; the prediction finds one exactly and half of the other (IoU 0.5 -> matched).
  cv::Mat gt = cv::Mat::zeros(40, 40, CV_16UC1);
  gt(cv::Rect(0, 0, 10, 10)).setTo(1);
  gt(cv::Rect(20, 20, 10, 10)).setTo(2);
  cv::Mat pred = cv::Mat::zeros(40, 40, CV_16UC1);
  pred(cv::Rect(0, 0, 10, 10)).setTo(5);
  pred(cv::Rect(20, 20, 10, 5)).setTo(6);
  image::write_image(dir / "gt" / "a.png", gt);
  image::write_image(dir / "pred" / "a.png", pred);
  // b.png: one object missed, one false positive that does not overlap.
  cv::Mat gt_b = cv::Mat::zeros(40, 40, CV_16UC1);
  gt_b(cv::Rect(0, 0, 10, 10)).setTo(1);
  cv::Mat pred_b = cv::Mat::zeros(40, 40, CV_16UC1);
  pred_b(cv::Rect(30, 30, 10, 10)).setTo(1);
  image::write_image(dir / "gt" / "b.png", gt_b);
  image::write_image(dir / "pred" / "b.png", pred_b);

  ScoreSummary s = score_labels(dir / "pred", dir / "gt");
  ASSERT_EQ(s.images.size(), 2u);
  EXPECT_EQ(s.images[0].name, "a.png");
  EXPECT_DOUBLE_EQ(s.images[0].iou, 150.0 / 200.0);
  EXPECT_DOUBLE_EQ(s.images[0].dice, 300.0 / 350.0);
  EXPECT_DOUBLE_EQ(s.images[1].iou, 0.0);
  EXPECT_DOUBLE_EQ(s.mean_iou, 0.375);
  EXPECT_EQ(s.true_positives, 2);
  EXPECT_EQ(s.false_positives, 1);
  EXPECT_EQ(s.false_negatives, 1);
  EXPECT_DOUBLE_EQ(s.precision, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.recall, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.f1, 2.0 / 3.0);
  // At a stricter IoU the half object no longer counts.
  EXPECT_EQ(score_labels(dir / "pred", dir / "gt", 0.6).true_positives, 1);
  // Two files work too.
  EXPECT_DOUBLE_EQ(score_labels(dir / "pred" / "a.png", dir / "gt" / "a.png").mean_iou, 0.75);
}

TEST(Score, MissingPartnersAndMismatchedImagesAreNamed) {
  test::TempDir dir("tessera-score-bad");
  fs::create_directories(dir / "gt");
  fs::create_directories(dir / "pred");
  image::write_image(dir / "gt" / "a.png", cv::Mat::zeros(8, 8, CV_8UC1));
  image::write_image(dir / "gt" / "b.png", cv::Mat::zeros(8, 8, CV_8UC1));
  image::write_image(dir / "pred" / "a.png", cv::Mat::zeros(8, 9, CV_8UC1));
  test::expect_invalid([&] { score_labels(dir / "pred", dir / "gt"); }, "b.png has no prediction");
  image::write_image(dir / "pred" / "b.png", cv::Mat::zeros(8, 8, CV_8UC1));
  test::expect_invalid([&] { score_labels(dir / "pred", dir / "gt"); }, "is 9x8");
  image::write_image(dir / "pred" / "f.tif", cv::Mat::zeros(8, 8, CV_32FC1));
  image::write_image(dir / "gt" / "f.tif", cv::Mat::zeros(8, 8, CV_32FC1));
  image::write_image(dir / "pred" / "a.png", cv::Mat::zeros(8, 8, CV_8UC1));
  test::expect_invalid([&] { score_labels(dir / "pred", dir / "gt"); }, "not a label image");
  test::expect_invalid([&] { score_labels(dir / "pred", dir / "gt" / "a.png"); }, "both be files or both folders");
}

}  // namespace
}  // namespace tessera::app
