// Corrective clicks as mask edits (src/segment/click_edit.hpp) on generated masks where the right edit is known.

#include <cmath>
#include <optional>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "segment/click_corrections.hpp"
#include "segment/click_edit.hpp"

using tessera::segment::ClickPaths;
using tessera::segment::Prompts;
using tessera::segment::remove_around;
using tessera::segment::SegmentResult;

namespace {

// Two touching discs of one grey level on a dark ground, with a darker seam where they meet (the edge a '-'
// on the right disc should cut along); the mask wrongly holds both, as a cut that leaked into a twin would.
struct Twins {
  cv::Mat image;
  cv::Mat left, right, mask;
};

Twins make_twins(int channels) {
  Twins t;
  t.left = cv::Mat::zeros(120, 200, CV_8U);
  t.right = cv::Mat::zeros(t.left.size(), CV_8U);
  cv::circle(t.left, {70, 60}, 32, 255, cv::FILLED);
  cv::circle(t.right, {130, 60}, 32, 255, cv::FILLED);
  t.right.setTo(0, t.left);
  cv::Mat grey(t.left.size(), CV_8U, cv::Scalar(30));
  grey.setTo(180, t.left | t.right);
  cv::line(grey, {100, 20}, {100, 100}, 90, 3);  // the seam
  t.image = grey;
  if (channels == 3) cv::cvtColor(grey, t.image, cv::COLOR_GRAY2BGR);
  t.mask = t.left | t.right;
  return t;
}

double iou(const cv::Mat& a, const cv::Mat& b) {
  return static_cast<double>(cv::countNonZero(a & b)) / std::max(1, cv::countNonZero(a | b));
}

TEST(RemoveAround, NegativeClickOnTheLeakedTwinRemovesItAlongTheSeam) {
  for (int channels : {1, 3}) {
    const Twins t = make_twins(channels);
    const cv::Mat edited = remove_around(t.image, t.mask, {{70, 60}}, {135, 60});
    EXPECT_GT(iou(edited, t.left), 0.9) << channels << " channel(s)";
    EXPECT_EQ(cv::countNonZero(edited & ~t.mask), 0) << "an edit by a '-' only removes pixels";
  }
}

TEST(RemoveAround, ClicksTheMaskAlreadyAgreesWithOrCannotAnchorChangeNothing) {
  const Twins t = make_twins(1);
  // The '-' is outside the mask already.
  EXPECT_EQ(cv::countNonZero(remove_around(t.image, t.mask, {{70, 60}}, {190, 110}) != t.mask), 0);
  // No '+' inside the mask: nothing says which part to keep.
  EXPECT_EQ(cv::countNonZero(remove_around(t.image, t.mask, {{190, 5}}, {135, 60}) != t.mask), 0);
}

// A textured object whose '+' sits on a dark clump ringed by strong edges, with a strip of ground the mask
// wrongly holds along its top. The '-' in the strip must take the strip only: a marker no bigger than a speck
// under the '+' stays walled in by the clump's edges while the '-' floods the rest of the object.
TEST(RemoveAround, NegativeClickInALeakedStripKeepsTheObjectAroundAWalledInPositive) {
  cv::Mat image(200, 200, CV_8U, cv::Scalar(60));
  cv::Mat object = cv::Mat::zeros(image.size(), CV_8U);
  cv::circle(object, {100, 120}, 60, 255, cv::FILLED);
  image.setTo(150, object);
  cv::circle(image, {100, 120}, 14, 20, cv::FILLED);  // the clump under the '+'
  for (int y = 70; y < 180; y += 9)                   // texture: fine dark specks all over the object
    for (int x = 45; x < 160; x += 9)
      if (object.at<uchar>(y, x) && cv::norm(cv::Point(x, y) - cv::Point(100, 120)) > 20)
        cv::circle(image, {x, y}, 1, 110, cv::FILLED);
  cv::Mat strip = cv::Mat::zeros(image.size(), CV_8U);
  cv::rectangle(strip, cv::Rect(20, 40, 160, 24), 255, cv::FILLED);
  strip.setTo(0, object);
  image.setTo(120, strip);
  const cv::Mat edited = remove_around(image, object | strip, {{100, 120}}, {40, 52});
  EXPECT_GT(iou(edited, object), 0.9);
  EXPECT_EQ(cv::countNonZero(edited & ~(object | strip)), 0) << "an edit by a '-' only removes pixels";
}

// The policy around the cuts (click_corrections.hpp), with cuts that record what they were asked: the first
// '+' searches every scale; a '+' outside the mask may assume at most 5x its distance to the mask; a '+' the
// mask already holds and a '-' outside it change nothing.
TEST(ClickCorrections, APositiveOutsideTheMaskAddsACutNoLargerThanItsDistanceAllows) {
  const cv::Mat image(200, 200, CV_8U, cv::Scalar(60));
  std::vector<double> asked_radii;
  const ClickPaths paths{[](const Prompts&) { return std::optional<SegmentResult>(); },
                         [&](const Prompts& prompts, double max_radius) {
                           asked_radii.push_back(max_radius);
                           SegmentResult r;
                           r.mask = cv::Mat::zeros(image.size(), CV_8U);
                           const auto& p = prompts.points.front();
                           cv::circle(r.mask, {static_cast<int>(p.x), static_cast<int>(p.y)}, 20, 255, cv::FILLED);
                           return r;
                         }};
  Prompts prompts;
  prompts.points = {{60, 100, true}, {110, 100, true}, {65, 100, true}, {190, 10, false}};
  const SegmentResult result = segment_clicks(image, prompts, paths);
  ASSERT_EQ(asked_radii.size(), 2u) << "the '+' inside and the '-' outside cut nothing";
  EXPECT_TRUE(std::isinf(asked_radii[0]));
  EXPECT_NEAR(asked_radii[1], 5.0 * (110 - 80), 1.0) << "5x the click's distance to the first disk's edge";
  EXPECT_EQ(result.mask.at<uchar>(100, 110), 255);
  EXPECT_EQ(result.mask.at<uchar>(100, 60), 255);
  EXPECT_EQ(result.method, "grabcut_edited");
}

}  // namespace
