// Corrective clicks on the blob path (src/segment/blob_corrections.hpp) near the outline: a generated bright
// disc whose first mask is a few pixels off, so the stretch a click is about and the rest are both known.

#include <cmath>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "segment/blob_corrections.hpp"
#include "segment/blob_field.hpp"
#include "tessera/segment/propagate.hpp"

using tessera::segment::apply_blob_corrections;
using tessera::segment::BlobClick;
using tessera::segment::BlobField;
using tessera::segment::mask_iou;

namespace {

const cv::Point kCentre{60, 60};

cv::Mat disc(int radius) {
  cv::Mat out = cv::Mat::zeros(120, 120, CV_8U);
  cv::circle(out, kCentre, radius, 255, cv::FILLED);
  return out;
}

// The field the one-click cut would flood on for discs of `radius` at `centres` on a ground of 20: 200 at
// each centre, falling to 80 at its edge (a nucleus' rim is dimmer than its core: the level at a click says
// little about where the edge lies beyond it).
BlobField field_of_discs(cv::Size size, const std::vector<cv::Point>& centres, int radius) {
  cv::Mat raw(size, CV_32F, cv::Scalar(20));
  for (int y = 0; y < raw.rows; ++y)
    for (int x = 0; x < raw.cols; ++x)
      for (const auto& centre : centres) {
        const double r = std::hypot(x - centre.x, y - centre.y);
        if (r <= radius) raw.at<float>(y, x) = static_cast<float>(200 - 120 * r / radius);
      }
  BlobField field;
  field.signed_raw = raw;
  cv::GaussianBlur(raw, field.signed_smooth, cv::Size(), 1.0);
  field.ground_shade = 20;
  field.contrast = 180;
  field.radius = radius;
  tessera::segment::set_ground_level(field, 20 + 0.45 * 180);
  cv::Mat gx, gy;
  cv::Sobel(field.signed_smooth, gx, CV_32F, 1, 0);
  cv::Sobel(field.signed_smooth, gy, CV_32F, 0, 1);
  cv::magnitude(gx, gy, field.elevation);
  return field;
}

BlobField field_of_disc(int radius) { return field_of_discs({120, 120}, {kCentre}, radius); }

bool inside(const cv::Mat& mask, int dx, int dy) { return mask.at<uchar>(kCentre + cv::Point(dx, dy)) != 0; }

TEST(BlobCorrections, APositiveJustOutsideMovesThatStretchOfTheOutlinePastIt) {
  const BlobField field = field_of_disc(20);
  const cv::Mat first = disc(13);  // the first mask 7 px short all round
  cv::Mat object = first.clone();
  apply_blob_corrections(field, kCentre, {BlobClick{kCentre + cv::Point(16, 0), true}}, object);
  EXPECT_TRUE(inside(object, 16, 0)) << "the click itself";
  EXPECT_TRUE(inside(object, 18, 0)) << "a margin beyond the click, as far as the outline was from it";
  EXPECT_FALSE(inside(object, -15, 0)) << "the opposite stretch of the outline stays where it was";
  EXPECT_FALSE(inside(object, 0, 15)) << "a quarter turn away the outline stays where it was";
  EXPECT_EQ(cv::countNonZero(first & ~object), 0) << "a '+' only adds";
  EXPECT_EQ(cv::countNonZero(object & ~disc(21)), 0) << "nothing added beyond the bright disc";
}

TEST(BlobCorrections, ANegativeJustInsideMovesThatStretchOfTheOutlineInsideIt) {
  const BlobField field = field_of_disc(16);
  const cv::Mat first = disc(20);  // the first mask 4 px too wide all round
  cv::Mat object = first.clone();
  apply_blob_corrections(field, kCentre, {BlobClick{kCentre + cv::Point(0, 18), false}}, object);
  EXPECT_FALSE(inside(object, 0, 18)) << "the click itself";
  EXPECT_FALSE(inside(object, 0, 17)) << "a margin inside the click";
  EXPECT_TRUE(inside(object, 0, -18)) << "the opposite stretch of the outline stays where it was";
  EXPECT_TRUE(inside(object, 18, 0)) << "a quarter turn away the outline stays where it was";
  EXPECT_TRUE(inside(object, 0, 0)) << "the first click's core";
  EXPECT_EQ(cv::countNonZero(object & ~first), 0) << "a '-' only removes";
}

TEST(BlobCorrections, ANegativeOnePixelInsideTakesTheDimExcessAlongTheOutlineFarBeyondTheClick) {
  const BlobField field = field_of_disc(16);
  const cv::Mat first = disc(17);  // the first mask one pixel too wide all round, on the dark ground
  const cv::Point click = kCentre + cv::Point(0, 17);
  cv::Mat object = first.clone();
  apply_blob_corrections(field, kCentre, {BlobClick{click, false}}, object);
  const cv::Mat excess = first & ~disc(16);
  int far_excess = 0;
  int far_removed = 0;
  for (int y = 0; y < excess.rows; ++y)
    for (int x = 0; x < excess.cols; ++x) {
      const double from_click = std::hypot(x - click.x, y - click.y);
      if (excess.at<uchar>(y, x) == 0 || from_click < 8 || from_click > 12) continue;
      ++far_excess;
      if (object.at<uchar>(y, x) == 0) ++far_removed;
    }
  EXPECT_FALSE(inside(object, 0, 17)) << "the click itself";
  ASSERT_GT(far_excess, 0);
  EXPECT_GE(far_removed, far_excess / 2) << "the dim excess half a radius and more along the outline goes too";
  EXPECT_TRUE(inside(object, 0, -17)) << "the opposite stretch of the outline stays where it was";
  EXPECT_EQ(cv::countNonZero(disc(14) & ~object), 0) << "the bright disc stays";
  EXPECT_EQ(cv::countNonZero(object & ~first), 0) << "a '-' only removes";
}

TEST(BlobCorrections, APositiveOnASeparateDiscAddsThatDiscWhole) {
  // A '+' far outside is no stretch of the outline to move: a band around the first disc clipped the second.
  for (const int apart : {60, 90, 140}) {
    const cv::Point near_centre{60, 100};
    const cv::Point far_centre = near_centre + cv::Point(apart, 0);
    const BlobField field = field_of_discs({300, 200}, {near_centre, far_centre}, 20);
    cv::Mat first_disc = cv::Mat::zeros(200, 300, CV_8U);
    cv::circle(first_disc, near_centre, 20, 255, cv::FILLED);
    cv::Mat object = first_disc.clone();
    apply_blob_corrections(field, near_centre, {BlobClick{far_centre, true}}, object);
    cv::Mat far_side = cv::Mat::zeros(200, 300, CV_8U);
    far_side(cv::Rect(near_centre.x + apart / 2, 0, 300 - near_centre.x - apart / 2, 200)).setTo(255);
    // The second disc as far as it is not ground (its dim rim is below the field's ground level).
    const cv::Mat second_disc = ~field.ground & far_side;
    EXPECT_GT(mask_iou(object & far_side, second_disc), 0.9) << "the second disc, centres " << apart << " px apart";
    EXPECT_EQ(cv::countNonZero(first_disc & ~object), 0) << "a '+' only adds";
  }
}

// Two flat-topped discs merged into one first mask: the '-' at the second one's centre, deeper than any band,
// marks it as a body. Its marker was a one-pixel disk inside the gradient ring of a speck under the click: the
// flood takes the lowest pixels first, so the first click's core took the whole flat top before the '-' rose
// over its ring, and 3 of the 930 pixels only the second disc covers went.
TEST(BlobCorrections, ANegativeDeepInAFlatMergedNeighbourRemovesThatNeighbour) {
  const cv::Point first_centre{60, 100}, second_centre{90, 100};
  cv::Mat raw(200, 200, CV_32F, cv::Scalar(20));
  cv::Mat first_disc = cv::Mat::zeros(raw.size(), CV_8U), second_disc = first_disc.clone();
  cv::circle(first_disc, first_centre, 18, 255, cv::FILLED);
  cv::circle(second_disc, second_centre, 18, 255, cv::FILLED);
  raw.setTo(200, first_disc | second_disc);
  cv::circle(raw, second_centre, 1, 255, cv::FILLED);  // a bright speck under the '-': a ring of gradient around it
  BlobField field;
  field.signed_raw = raw;
  cv::GaussianBlur(raw, field.signed_smooth, cv::Size(), 1.0);
  field.ground_shade = 20;
  field.contrast = 180;
  field.radius = 12;  // the object's radius as the cut measures it: smaller than the merged plateau's
  tessera::segment::set_ground_level(field, 20 + 0.45 * 180);
  // The cut's elevation: the gradient plus a shape term rising towards the ground within a radius of it, so the
  // plateau's middle is one flat basin.
  cv::Mat gx, gy, shape;
  cv::Sobel(field.signed_smooth, gx, CV_32F, 1, 0);
  cv::Sobel(field.signed_smooth, gy, CV_32F, 0, 1);
  cv::magnitude(gx, gy, field.elevation);
  cv::min(field.to_ground / field.radius, 1.0, shape);
  field.elevation += 0.4 * field.contrast * (1.0 - shape);
  const cv::Mat first = first_disc | second_disc;
  cv::Mat object = first.clone();
  apply_blob_corrections(field, first_centre, {BlobClick{second_centre, false}}, object);
  const cv::Mat second_only = second_disc & ~first_disc;
  EXPECT_LT(cv::countNonZero(object & second_only), cv::countNonZero(second_only) / 5)
      << "most of the second disc goes";
  const cv::Mat first_only = first_disc & ~second_disc;
  EXPECT_GT(cv::countNonZero(object & first_only), 4 * cv::countNonZero(first_only) / 5) << "the first disc stays";
  EXPECT_EQ(cv::countNonZero(object & ~first), 0) << "a '-' only removes";
}

// An elongated nucleus whose first mask stopped at its middle: a '+' deep in the missed half (deeper than any
// band) adds that half beyond the band's taper, and nothing off the nucleus.
TEST(BlobCorrections, APositiveDeepInTheMissedHalfOfAnElongatedNucleusAddsItBeyondTheBand) {
  const cv::Point centre{60, 70};
  const cv::Size axes{10, 40};
  cv::Mat raw(140, 120, CV_32F, cv::Scalar(20));
  for (int y = 0; y < raw.rows; ++y)
    for (int x = 0; x < raw.cols; ++x) {
      const double r = std::hypot((x - centre.x) / double(axes.width), (y - centre.y) / double(axes.height));
      if (r <= 1) raw.at<float>(y, x) = static_cast<float>(200 - 120 * r);
    }
  BlobField field;
  field.signed_raw = raw;
  cv::GaussianBlur(raw, field.signed_smooth, cv::Size(), 1.0);
  field.ground_shade = 20;
  field.contrast = 180;
  field.radius = 12;
  tessera::segment::set_ground_level(field, 20 + 0.45 * 180);
  cv::Mat gx, gy;
  cv::Sobel(field.signed_smooth, gx, CV_32F, 1, 0);
  cv::Sobel(field.signed_smooth, gy, CV_32F, 0, 1);
  cv::magnitude(gx, gy, field.elevation);
  const cv::Mat nucleus = ~field.ground;
  cv::Mat first = nucleus.clone();
  first(cv::Rect(0, 0, first.cols, centre.y)).setTo(0);  // the first mask: the lower half only
  cv::Mat object = first.clone();
  apply_blob_corrections(field, centre, {BlobClick{centre - cv::Point(0, 10), true}}, object);
  EXPECT_TRUE(object.at<uchar>(centre - cv::Point(0, 10)) != 0) << "the click itself";
  EXPECT_TRUE(object.at<uchar>(centre - cv::Point(0, 20)) != 0) << "the missed half beyond the band's reach";
  EXPECT_EQ(cv::countNonZero(first & ~object), 0) << "a '+' only adds";
  EXPECT_EQ(cv::countNonZero(object & ~nucleus), 0) << "nothing added off the nucleus";
}

TEST(BlobCorrections, ANegativeOnePixelFromTheFirstClickNeverRemovesIt) {
  // A '-' deep inside, a pixel from the '+': its marker once overwrote the '+' and the first click's side went.
  const BlobField field = field_of_disc(20);
  for (const cv::Point offset : {cv::Point(1, 0), cv::Point(0, -1), cv::Point(1, 1), cv::Point(2, 0)}) {
    const cv::Mat first = disc(20);
    cv::Mat object = first.clone();
    apply_blob_corrections(field, kCentre, {BlobClick{kCentre + offset, false}}, object);
    EXPECT_TRUE(inside(object, 0, 0)) << "the first click, '-' at offset " << offset;
    EXPECT_GT(cv::countNonZero(object), cv::countNonZero(first) / 2) << "offset " << offset;
    EXPECT_EQ(cv::countNonZero(object & ~first), 0) << "a '-' only removes";
  }
}

TEST(BlobCorrections, APositiveInANotchFillsTheNotchAndLeavesTheOutlineAroundItAlone) {
  // The bright disc runs 4 px beyond the annotated outline (a nucleus' dim rim): the band along the outline
  // from a click in a narrow notch once pushed the outline on both sides of the notch out onto that rim.
  const BlobField field = field_of_disc(24);
  cv::Mat first = disc(20);
  first(cv::Rect(kCentre.x + 14, kCentre.y - 2, 8, 5)).setTo(0);  // a notch 5 px wide, 6 deep
  cv::Mat object = first.clone();
  apply_blob_corrections(field, kCentre, {BlobClick{kCentre + cv::Point(17, 0), true}}, object);
  EXPECT_TRUE(inside(object, 17, 0)) << "the click itself";
  EXPECT_TRUE(inside(object, 15, 2) && inside(object, 19, -2)) << "the notch filled";
  EXPECT_EQ(cv::countNonZero(first & ~object), 0) << "a '+' only adds";
  EXPECT_EQ(cv::countNonZero(object & ~disc(20)), 0) << "nothing added beside the notch, past the outline";
}

TEST(BlobCorrections, ANegativeOnASpurRemovesTheSpurAndLeavesTheOutlineAroundItAlone) {
  // The band along the outline from a click on a narrow spur once ran on along the disc's rim beside it.
  const BlobField field = field_of_disc(16);
  cv::Mat first = disc(16);
  first(cv::Rect(kCentre.x + 15, kCentre.y - 2, 10, 5)).setTo(255);  // a spur 5 px wide, 9 long
  cv::Mat object = first.clone();
  apply_blob_corrections(field, kCentre, {BlobClick{kCentre + cv::Point(20, 0), false}}, object);
  EXPECT_FALSE(inside(object, 20, 0)) << "the click itself";
  EXPECT_FALSE(inside(object, 18, 2) || inside(object, 22, -2)) << "the spur's sides around the click";
  EXPECT_EQ(cv::countNonZero(object & ~first), 0) << "a '-' only removes";
  EXPECT_EQ(cv::countNonZero(disc(16) & ~object), 0) << "the disc beside the spur stays whole";
}

TEST(BlobCorrections, ANegativeOnASpurNearItsRootTakesTheBandAroundTheClick) {
  // The click sits on a spur where it joins the disc, so the opening that finds the spur keeps the disc's rim
  // right next to the click: the band there was clipped, and the excess beside the click stayed.
  const BlobField field = field_of_disc(14);
  cv::Mat first = disc(16);  // 2 px too wide all round
  first(cv::Rect(kCentre.x + 15, kCentre.y - 2, 10, 5)).setTo(255);  // and a spur 5 px wide
  cv::Mat object = first.clone();
  apply_blob_corrections(field, kCentre, {BlobClick{kCentre + cv::Point(17, 0), false}}, object);
  EXPECT_FALSE(inside(object, 17, 0)) << "the click itself";
  EXPECT_FALSE(inside(object, 15, 0)) << "the excess two pixels from the click, at the spur's root";
  EXPECT_EQ(cv::countNonZero(object & ~first), 0) << "a '-' only removes";
  EXPECT_EQ(cv::countNonZero(disc(13) & ~object), 0) << "the bright disc stays";
}


// The first click marks the nucleus' middle: a too-small first mask off-centre (a crescent missed on one side)
// and a '+' in the crescent's widest part take the crescent on round the outline, further than the band's
// taper alone, since that brings the object's centroid back to the first click.
TEST(BlobCorrections, APositiveOnTheMissedCrescentOfAnOffCentreMaskTakesItOnTowardsTheFirstClicksCentre) {
  const BlobField field = field_of_disc(20);
  cv::Mat first = disc(12);
  first(cv::Rect(0, 0, kCentre.x, 120)) |= disc(20)(cv::Rect(0, 0, kCentre.x, 120));  // the right half 8 px short
  cv::Mat object = first.clone();
  apply_blob_corrections(field, kCentre, {BlobClick{kCentre + cv::Point(15, 0), true}}, object);
  EXPECT_TRUE(inside(object, 15, 0)) << "the click itself";
  EXPECT_TRUE(inside(object, 0, 14)) << "the crescent a quarter turn round, beyond the band's own taper";
  EXPECT_TRUE(inside(object, 0, -14)) << "and on the other side";
  EXPECT_EQ(cv::countNonZero(first & ~object), 0) << "a '+' only adds";
  EXPECT_EQ(cv::countNonZero(object & ~disc(21)), 0) << "nothing added beyond the bright disc";
}

}  // namespace
