// The blob path's cut (src/segment/blob_cut.hpp) through the default segmenter, on generated nuclei where what
// a later click may change is known.

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "tessera/segment/segmenter.hpp"

using tessera::segment::make_segmenter;
using tessera::segment::Prompts;

namespace {

// A soft-edged elongated nucleus on a flat ground that darkens to black some way right of it: a ROI that
// reaches further right sees a darker ground quantile than the first click's own.
cv::Mat nucleus_before_a_dark_ground() {
  cv::Mat canvas(240, 320, CV_32F, cv::Scalar(60));
  for (int x = 150; x < canvas.cols; ++x) canvas.col(x).setTo(std::max(0, 60 - 3 * (x - 150)));
  cv::ellipse(canvas, {100, 120}, {22, 10}, 0, 0, 360, 220, cv::FILLED);
  cv::GaussianBlur(canvas, canvas, cv::Size(), 4.0);
  cv::Mat noise(canvas.size(), CV_32F);
  cv::RNG rng(11);
  rng.fill(noise, cv::RNG::NORMAL, 0, 2);
  canvas += noise;
  cv::Mat image;
  canvas.convertTo(image, CV_8U);
  return image;
}

TEST(BlobCut, APlusInsideTheObjectChangesNothingEvenWhereItWidensTheField) {
  const cv::Mat image = nucleus_before_a_dark_ground();
  const auto segmenter = make_segmenter();
  Prompts one;
  one.points.push_back({100, 120, true});
  const cv::Mat first = segmenter->segment(image, one).mask > 0;
  ASSERT_GT(first.at<uchar>(120, 118), 0);
  Prompts two = one;
  two.points.push_back({118, 120, true});  // inside the first mask, near its right end: the ROI grows right
  const cv::Mat again = segmenter->segment(image, two).mask > 0;
  EXPECT_EQ(cv::countNonZero(first != again), 0)
      << "first " << cv::countNonZero(first) << " px, with the inner '+' " << cv::countNonZero(again) << " px";
}

}  // namespace
