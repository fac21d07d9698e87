// The GrabCut-path policy's choice for a '-' inside the mask (click_corrections.cpp): the edit of the first mask,
// or the scale search run again with the '-' as sure background when that search refines the edit's object and
// its outline is clearly sharper. The searches are supplied by the test (ClickPaths), so each case holds the
// masks the choice is between.

#include <optional>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "segment/click_corrections.hpp"
#include "tessera/segment/propagate.hpp"

using tessera::segment::ClickPaths;
using tessera::segment::Prompts;
using tessera::segment::SegmentResult;

namespace {

// A bright disk (the object) and, 10 px above it, a bright band along the image's top edge with the object's grey
// level (a neighbouring structure): the first mask took both across the dark gap, as an EM nucleus' first mask
// took a band along the image border.
struct Scene {
  cv::Mat image, object, first;
};

Scene make_scene() {
  Scene s;
  s.object = cv::Mat::zeros(240, 240, CV_8U);
  cv::circle(s.object, {120, 110}, 60, 255, cv::FILLED);
  cv::Mat band = cv::Mat::zeros(s.object.size(), CV_8U);
  cv::rectangle(band, cv::Rect(0, 0, 240, 40), 255, cv::FILLED);
  cv::Mat grey(s.object.size(), CV_8U, cv::Scalar(60));
  grey.setTo(170, s.object | band);
  cv::Mat noise(grey.size(), CV_8S);
  cv::RNG rng(11);
  rng.fill(noise, cv::RNG::NORMAL, 0, 12);
  cv::add(grey, noise, s.image, cv::noArray(), CV_8U);
  s.first = s.object | band;
  cv::rectangle(s.first, cv::Rect(100, 36, 40, 18), 255, cv::FILLED);  // the bridge across the gap
  return s;
}

// One '+' at the object's centre and the automatic '-' in the band (the error's deepest pixel).
Prompts plus_then_minus() {
  Prompts prompts;
  prompts.points = {{120, 110, true}, {200, 20, false}};
  return prompts;
}

ClickPaths paths_with(const cv::Mat& first, const cv::Mat& searched) {
  return {[](const Prompts&) { return std::optional<SegmentResult>(); },
          [first, searched](const Prompts& p) {
            return SegmentResult{p.points.size() == 1 ? first : searched, 0.7, "grabcut_scales"};
          }};
}

TEST(ClickSearchChoice, ASearchThatFindsTheObjectsOwnOutlineReplacesTheEdit) {
  const Scene s = make_scene();
  const SegmentResult out = segment_clicks(s.image, plus_then_minus(), paths_with(s.first, s.object));
  EXPECT_EQ(cv::countNonZero(out.mask != s.object), 0) << "the search's mask, taken whole";
}

TEST(ClickSearchChoice, ASearchThatKeepsLessThanHalfTheEditIsNotTaken) {
  const Scene s = make_scene();
  cv::Mat part = cv::Mat::zeros(s.object.size(), CV_8U);
  cv::circle(part, {120, 110}, 30, 255, cv::FILLED);  // a quarter of the object, its outline as sharp
  cv::Mat part_image = s.image.clone();
  part_image.setTo(250, part);
  const SegmentResult out = segment_clicks(part_image, plus_then_minus(), paths_with(s.first, part));
  EXPECT_GT(cv::countNonZero(out.mask), 2 * cv::countNonZero(part));
  EXPECT_EQ(out.mask.at<uchar>(20, 200), 0) << "the edit still removed the '-'";
}

TEST(ClickSearchChoice, ASearchThatTakesTheNegativeIsNotTaken) {
  const Scene s = make_scene();
  cv::Mat with_negative = s.object.clone();
  cv::Mat speck = cv::Mat::zeros(s.object.size(), CV_8U);
  cv::circle(speck, {200, 20}, 12, 255, cv::FILLED);  // a speck under the '-' with the object's own outline
  with_negative |= speck;
  cv::Mat ring = cv::Mat::zeros(s.object.size(), CV_8U);
  cv::circle(ring, {200, 20}, 18, 255, cv::FILLED);
  cv::Mat image = s.image.clone();
  image.setTo(60, ring & ~speck);
  const SegmentResult out = segment_clicks(image, plus_then_minus(), paths_with(s.first, with_negative));
  EXPECT_EQ(out.mask.at<uchar>(20, 200), 0);
}

}  // namespace
