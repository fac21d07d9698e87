#include "tessera/segment/object_edit.hpp"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <string>

#include "tessera/core/error.hpp"

namespace tessera::segment {
namespace {

cv::Mat rect_mask(cv::Size size, cv::Rect rect) {
  cv::Mat m(size, CV_8U, cv::Scalar(0));
  m(rect).setTo(255);
  return m;
}

int components(const cv::Mat& mask) {
  cv::Mat labels;
  return cv::connectedComponents(mask != 0, labels, 8) - 1;
}

// The field an Error names, failing the test when fn does not throw Error{invalid_argument}.
template <typename Fn>
std::string field_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.what();
    return e.details().value("field", std::string());
  }
  ADD_FAILURE() << "no error";
  return "";
}

const cv::Size kSize(80, 60);

TEST(MergeByStroke, JoinsTwoPartsAcrossTheGapButNotPastTheirEnds) {
  // Two halves of one object 6 px apart; the stroke runs past both ends.
  const std::vector<cv::Mat> masks = {rect_mask(kSize, {10, 20, 20, 20}), rect_mask(kSize, {36, 20, 20, 20}),
                                      rect_mask(kSize, {60, 2, 10, 10})};
  const MaskMerge merge = merge_masks_by_stroke(masks, {{{2, 30}, {75, 30}}, 3});
  EXPECT_EQ(merge.merged, (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(components(merge.mask), 1);
  EXPECT_EQ(merge.mask.at<std::uint8_t>(30, 33), 255);  // in the gap, on the stroke
  EXPECT_EQ(merge.mask.at<std::uint8_t>(22, 33), 0);    // in the gap, off the stroke
  EXPECT_EQ(merge.mask.at<std::uint8_t>(30, 5), 0);     // the stroke's overhang on the left
  EXPECT_EQ(merge.mask.at<std::uint8_t>(30, 70), 0);    // ... and on the right
  EXPECT_EQ(merge.mask.at<std::uint8_t>(5, 65), 0);     // the untouched third object
  EXPECT_GE(merge.bridge_pixels, 12);
  EXPECT_LE(merge.bridge_pixels, 30);
}

TEST(MergeByStroke, StrokeCurvingThroughAWideGapStillGivesOneObject) {
  // The stroke leaves the first part, swings far right and comes back to the second: the closing cannot
  // reach that far, so the stroke's span joins them.
  const std::vector<cv::Mat> masks = {rect_mask(kSize, {5, 5, 10, 10}), rect_mask(kSize, {5, 45, 10, 10})};
  const MaskMerge merge = merge_masks_by_stroke(masks, {{{10, 10}, {70, 10}, {70, 50}, {10, 50}}, 3});
  EXPECT_EQ(components(merge.mask), 1);
  EXPECT_EQ(merge.mask.at<std::uint8_t>(30, 70), 255);
}

TEST(MergeByStroke, RefusesAStrokeTouchingFewerThanTwoObjects) {
  const std::vector<cv::Mat> masks = {rect_mask(kSize, {10, 20, 20, 20}), rect_mask(kSize, {36, 20, 20, 20})};
  EXPECT_EQ(field_of([&] { merge_masks_by_stroke(masks, {{{12, 25}, {20, 25}}, 3}); }), "stroke");
  EXPECT_EQ(field_of([&] { merge_masks_by_stroke(masks, {{{2, 5}, {70, 5}}, 3}); }), "stroke");
}

TEST(MergeByStroke, RefusesPointsOutsideTheImageAndBadWidths) {
  const std::vector<cv::Mat> masks = {rect_mask(kSize, {10, 20, 20, 20}), rect_mask(kSize, {36, 20, 20, 20})};
  EXPECT_EQ(field_of([&] { merge_masks_by_stroke(masks, {{{12, 25}, {80, 25}}, 3}); }), "stroke.points[1]");
  EXPECT_EQ(field_of([&] { merge_masks_by_stroke(masks, {{{-1, 25}, {50, 25}}, 3}); }), "stroke.points[0]");
  EXPECT_EQ(field_of([&] { merge_masks_by_stroke(masks, {{{12, 25}, {50, 25}}, 0}); }), "stroke.width");
  EXPECT_EQ(field_of([&] { merge_masks_by_stroke(masks, {{}, 3}); }), "stroke.points");
}

TEST(MergeByStroke, LabelImageKeepsTheSmallestLabelAndLeavesOthersAlone) {
  cv::Mat labels(kSize, CV_32S, cv::Scalar(0));
  labels(cv::Rect(10, 20, 20, 20)).setTo(7);
  labels(cv::Rect(36, 20, 20, 20)).setTo(3);
  labels(cv::Rect(60, 2, 10, 10)).setTo(9);
  const LabelMerge merge = merge_labels_by_stroke(labels, {{{15, 30}, {50, 30}}, 3});
  EXPECT_EQ(merge.label, 3);
  EXPECT_EQ(merge.absorbed, (std::vector<std::int32_t>{7}));
  EXPECT_EQ(cv::countNonZero(merge.labels == 7), 0);
  EXPECT_EQ(merge.labels.at<std::int32_t>(25, 12), 3);
  EXPECT_EQ(merge.labels.at<std::int32_t>(30, 33), 3);
  EXPECT_EQ(cv::countNonZero(merge.labels == 9), 100);
  EXPECT_EQ(components(merge.labels == 3), 1);
}

// A big disk (r 20) and a small one (r 10) overlapping by a pixel: the neck is at x ~ 59.7, while halfway
// between the centres is x = 54.5, inside the big disk.
cv::Mat two_disks() {
  cv::Mat m(100, 100, CV_8U, cv::Scalar(0));
  cv::circle(m, {40, 50}, 20, cv::Scalar(255), cv::FILLED);
  cv::circle(m, {69, 50}, 10, cv::Scalar(255), cv::FILLED);
  return m;
}

TEST(SplitByMarkers, CutsTouchingDisksAtTheNeckNotHalfwayBetweenMarkers) {
  const cv::Mat object = two_disks();
  const ObjectSplit split = split_by_markers(object, {{40, 50}, {69, 50}});
  ASSERT_EQ(split.part_pixels.size(), 2U);
  EXPECT_EQ(split.part_pixels[0] + split.part_pixels[1], cv::countNonZero(object));
  for (int y = 0; y < object.rows; ++y) {
    for (int x = 0; x < object.cols; ++x) {
      if (!object.at<std::uint8_t>(y, x)) {
        ASSERT_EQ(split.labels.at<std::int32_t>(y, x), 0);
      } else if (x <= 58) {
        ASSERT_EQ(split.labels.at<std::int32_t>(y, x), 1) << x << "," << y;  // a geodesic Voronoi gives 2 at x 55-58
      } else if (x >= 61) {
        ASSERT_EQ(split.labels.at<std::int32_t>(y, x), 2) << x << "," << y;
      }
    }
  }
}

TEST(SplitByMarkers, OutlineStrokeMovesTheCutAndBecomesBackground) {
  const cv::Mat bar = rect_mask(kSize, {10, 20, 60, 20});  // x 10..69
  // Both markers on the distance map's ridge (distance 10): the floods meet halfway along it.
  const std::vector<cv::Point2d> markers = {{20, 30}, {59, 30}};
  const ObjectSplit plain = split_by_markers(bar, markers);
  EXPECT_EQ(plain.labels.at<std::int32_t>(30, 30), 1);  // without the outline the cut is near the middle
  EXPECT_EQ(plain.labels.at<std::int32_t>(30, 45), 2);

  const ObjectSplit cut = split_by_markers(bar, markers, Stroke{{{25, 15}, {25, 45}}, 3});
  EXPECT_GT(cut.removed_pixels, 0);
  EXPECT_EQ(cut.labels.at<std::int32_t>(30, 25), 0);
  for (int y = 20; y < 40; ++y) {
    EXPECT_EQ(cut.labels.at<std::int32_t>(y, 22), 1);
    EXPECT_EQ(cut.labels.at<std::int32_t>(y, 28), 2);
    EXPECT_EQ(cut.labels.at<std::int32_t>(y, 30), 2);
  }
  EXPECT_EQ(cut.part_pixels[0] + cut.part_pixels[1] + cut.removed_pixels, 60 * 20);
}

TEST(SplitByMarkers, PiecesCutOffWithoutAMarkerGoToTheNearestMarker) {
  const cv::Mat bar = rect_mask(kSize, {10, 20, 60, 20});
  const ObjectSplit split = split_by_markers(bar, {{12, 30}, {30, 30}}, Stroke{{{45, 15}, {45, 45}}, 3});
  EXPECT_EQ(split.labels.at<std::int32_t>(30, 60), 2);
  EXPECT_EQ(split.part_pixels[0] + split.part_pixels[1] + split.removed_pixels, 60 * 20);
}

TEST(SplitByMarkers, RefusesBadMarkers) {
  const cv::Mat bar = rect_mask(kSize, {10, 20, 60, 20});
  EXPECT_EQ(field_of([&] { split_by_markers(bar, {{15, 30}}); }), "markers");
  EXPECT_EQ(field_of([&] { split_by_markers(bar, {{15, 30}, {5, 5}}); }), "markers[1]");        // outside the object
  EXPECT_EQ(field_of([&] { split_by_markers(bar, {{80, 30}, {15, 30}}); }), "markers[0]");      // outside the image
  EXPECT_EQ(field_of([&] { split_by_markers(bar, {{15, 30}, {15.4, 30.2}}); }), "markers[1]");  // same pixel
  EXPECT_EQ(field_of([&] {
              split_by_markers(bar, {{15, 30}, {25, 30}}, Stroke{{{25, 15}, {25, 45}}, 3});
            }),
            "markers[1]");  // under the outline
  EXPECT_EQ(field_of([&] {
              split_by_markers(bar, {{15, 30}, {50, 30}}, Stroke{{{25, 15}, {25, 60}}, 3});
            }),
            "outline.points[1]");
}

TEST(SplitByMarkers, LabelImageKeepsTheLabelForTheFirstMarkerAndAddsNewOnes) {
  cv::Mat labels(kSize, CV_32S, cv::Scalar(0));
  labels(cv::Rect(10, 20, 60, 20)).setTo(5);
  labels(cv::Rect(0, 0, 5, 5)).setTo(9);
  const LabelSplit split = split_label_by_markers(labels, 5, {{15, 30}, {60, 30}, {40, 30}});
  EXPECT_EQ(split.parts, (std::vector<std::int32_t>{5, 10, 11}));
  EXPECT_EQ(split.labels.at<std::int32_t>(30, 15), 5);
  EXPECT_EQ(split.labels.at<std::int32_t>(30, 60), 10);
  EXPECT_EQ(split.labels.at<std::int32_t>(30, 40), 11);
  EXPECT_EQ(cv::countNonZero(split.labels == 9), 25);
  EXPECT_EQ(cv::countNonZero(split.labels != 0), 60 * 20 + 25);
  EXPECT_THROW(split_label_by_markers(labels, 4, {{15, 30}, {60, 30}}), Error);
}

}  // namespace
}  // namespace tessera::segment
