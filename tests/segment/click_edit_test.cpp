// Corrective clicks as mask edits (src/segment/click_edit.hpp) on generated masks where the right edit is known.

#include <cmath>
#include <optional>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "segment/click_corrections.hpp"
#include "segment/click_edit.hpp"
#include "tessera/segment/propagate.hpp"

using tessera::segment::ClickPaths;
using tessera::segment::Prompts;
using tessera::segment::remove_around;
using tessera::segment::SegmentResult;

namespace {

using tessera::segment::mask_iou;

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

TEST(RemoveAround, NegativeClickOnTheLeakedTwinRemovesItAlongTheSeam) {
  for (int channels : {1, 3}) {
    const Twins t = make_twins(channels);
    const cv::Mat edited = remove_around(t.image, t.mask, {{70, 60}}, {135, 60});
    EXPECT_GT(mask_iou(edited, t.left), 0.9) << channels << " channel(s)";
    EXPECT_EQ(cv::countNonZero(edited & ~t.mask), 0) << "an edit by a '-' only removes pixels";
  }
}

// A mask larger than the split's grid (kMaxSplitSide): the split runs on a coarser grid and its removed part is
// scaled back. Before, the mask's pixels the coarse grid had counted outside stayed: a ring 1-3 px wide along the
// removed body's outline (EM image 8 nucleus 3: a neighbour nucleus removed by its '-' left its outline behind,
// 0.670 -> 0.674 without it; polyps 1 and 2 +0.003 / +0.001).
TEST(RemoveAround, ABodyRemovedOnTheCoarserGridLeavesNoRingBehind) {
  const Twins small = make_twins(1);
  Twins t;
  for (auto [from, to] : {std::pair{&small.image, &t.image}, {&small.left, &t.left}, {&small.right, &t.right}})
    cv::resize(*from, *to, {}, 5, 5, cv::INTER_NEAREST);
  t.mask = t.left | t.right;
  const cv::Mat edited = remove_around(t.image, t.mask, {{350, 300}}, {675, 300});
  EXPECT_GT(mask_iou(edited, t.left), 0.9);
  EXPECT_LT(cv::countNonZero(edited & t.right), cv::countNonZero(t.right) / 200) << "the removed disc's outline";
}

// A mask that took in a neighbour (right, where the '-' is) and ran into a strip of ground on the other side (left):
// the '-' also bounds the object's reach, so the strip beyond 1.2x the '+'-to-'-' distance goes with the neighbour.
// Before, the watershed flooded the strip from the '+' and kept it (EM image 8 nucleus 3: a leak on the far side
// kept, 0.674; with the bound 0.749; polyp 2's whole-frame mask 0.510 -> 0.600).
TEST(RemoveAround, NegativeOutsideThePositivesCoreAlsoRemovesALeakBeyondItsDistance) {
  for (int channels : {1, 3}) {
    cv::Mat grey(200, 300, CV_8U, cv::Scalar(30));
    cv::Mat object = cv::Mat::zeros(grey.size(), CV_8U), neighbour = object.clone(), strip = object.clone();
    cv::circle(object, {150, 100}, 40, 255, cv::FILLED);
    cv::circle(neighbour, {240, 100}, 40, 255, cv::FILLED);
    neighbour.setTo(0, object);
    cv::rectangle(strip, cv::Rect(10, 90, 110, 20), 255, cv::FILLED);
    strip.setTo(0, object);
    grey.setTo(120, strip);
    grey.setTo(180, object | neighbour);
    cv::line(grey, {195, 60}, {195, 140}, 90, 3);  // the seam between the two bodies
    cv::Mat image = grey;
    if (channels == 3) cv::cvtColor(grey, image, cv::COLOR_GRAY2BGR);
    const cv::Mat mask = object | neighbour | strip;
    const cv::Mat edited = remove_around(image, mask, {{150, 100}}, {240, 100});
    EXPECT_GT(mask_iou(edited, object), 0.9) << channels << " channel(s)";
    EXPECT_LT(cv::countNonZero(edited & strip), cv::countNonZero(strip) / 10) << channels << " channel(s)";
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
// A '-' two pixels from the '+' (an annotator's slip) on a mask filling a featureless image: the '+' stays in the
// mask. The markers were speck-sized disks there (3 px), the '-' disk was drawn last over the '+' and the '+'
// went out with the rest.
TEST(RemoveAround, NegativeNextToThePositiveKeepsThePositive) {
  for (int channels : {1, 3}) {
    const cv::Mat image(120, 120, channels == 1 ? CV_8UC1 : CV_8UC3, cv::Scalar::all(77));
    const cv::Mat mask(image.size(), CV_8U, cv::Scalar(255));
    const cv::Mat edited = remove_around(image, mask, {{50, 50}}, {52, 50});
    EXPECT_NE(edited.at<uchar>(50, 50), 0) << channels << " channel(s)";
  }
}

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
  EXPECT_GT(mask_iou(edited, object), 0.9);
  EXPECT_EQ(cv::countNonZero(edited & ~(object | strip)), 0) << "an edit by a '-' only removes pixels";
}

}  // namespace
