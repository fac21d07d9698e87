#include "tessera/ops/metrics.hpp"

#include <string>

#include <gtest/gtest.h>

#include "tessera/core/error.hpp"
#include "tessera/ops/registry.hpp"

namespace tessera::ops {
namespace {

cv::Mat square_mask(cv::Rect area, cv::Size size = {10, 10}) {
  cv::Mat m(size, CV_8UC1, cv::Scalar(0));
  m(area) = 255;
  return m;
}

TEST(MaskOverlap, IouAndDiceOfKnownOverlaps) {
  struct Case {
    cv::Rect a, b;
    double iou, dice;
  };
  const std::vector<Case> cases = {
      {{0, 0, 4, 4}, {2, 0, 4, 4}, 8.0 / 24.0, 16.0 / 32.0},  // half of each overlaps
      {{0, 0, 4, 4}, {0, 0, 4, 4}, 1.0, 1.0},
      {{0, 0, 2, 2}, {5, 5, 2, 2}, 0.0, 0.0},
      {{0, 0, 4, 4}, {0, 0, 2, 2}, 4.0 / 16.0, 8.0 / 20.0},  // b inside a
  };
  for (const Case& c : cases) {
    const MaskOverlap o = mask_overlap(square_mask(c.a), square_mask(c.b));
    EXPECT_DOUBLE_EQ(o.iou(), c.iou) << c.a << " " << c.b;
    EXPECT_DOUBLE_EQ(o.dice(), c.dice) << c.a << " " << c.b;
  }
}

TEST(MaskOverlap, TwoEmptyMasksMatchPerfectlyOneEmptyNotAtAll) {
  const cv::Mat empty(5, 5, CV_8UC1, cv::Scalar(0));
  EXPECT_EQ(mask_overlap(empty, empty).iou(), 1.0);
  EXPECT_EQ(mask_overlap(empty, empty).dice(), 1.0);
  const cv::Mat full(5, 5, CV_8UC1, cv::Scalar(255));
  EXPECT_EQ(mask_overlap(empty, full).iou(), 0.0);
  EXPECT_EQ(mask_overlap(full, empty).dice(), 0.0);
}

TEST(MetricOps, IouAndDiceReturnOneRowTables) {
  const FacetMap in = {{"a", Facet::mask(square_mask({0, 0, 4, 4}))},
                       {"b", Facet::mask(square_mask({2, 0, 4, 4}))}};
  const FacetMap iou = builtin_ops().run("iou", in);
  ASSERT_EQ(iou.at("table").kind, FacetKind::table);
  ASSERT_EQ(iou.at("table").table.size(), 1u);
  const nlohmann::json& row = iou.at("table").table[0];
  EXPECT_DOUBLE_EQ(row.at("iou").get<double>(), 1.0 / 3.0);
  EXPECT_EQ(row.at("intersection"), 8);
  EXPECT_EQ(row.at("union"), 24);
  const FacetMap dice = builtin_ops().run("dice", in);
  EXPECT_DOUBLE_EQ(dice.at("table").table[0].at("dice").get<double>(), 0.5);
}

TEST(MetricOps, RejectMasksOfDifferentSizesOrKinds) {
  const FacetMap sizes = {{"a", Facet::mask(square_mask({0, 0, 2, 2}))},
                          {"b", Facet::mask(square_mask({0, 0, 2, 2}, {10, 11}))}};
  try {
    builtin_ops().run("dice", sizes);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_EQ(std::string(e.what()), "dice: inputs differ in size: 10x10 and 10x11");
  }
  const FacetMap kinds = {{"a", Facet::mask(square_mask({0, 0, 2, 2}))},
                          {"b", Facet::mask(cv::Mat(10, 10, CV_32SC1, cv::Scalar(1)))}};
  EXPECT_THROW(builtin_ops().run("iou", kinds), Error);
}

TEST(MatchObjects, CountsMatchesMissesAndExtras) {
  cv::Mat truth(20, 20, CV_32SC1, cv::Scalar(0));
  cv::Mat pred(20, 20, CV_32SC1, cv::Scalar(0));
  truth(cv::Rect(0, 0, 4, 4)) = 1;  // found: pred 7 is 4 x 3 inside it, IoU 0.75
  pred(cv::Rect(0, 0, 4, 3)) = 7;
  truth(cv::Rect(10, 10, 4, 4)) = 2;  // missed: pred 8 shares 8 of 24 pixels, IoU 1/3
  pred(cv::Rect(12, 10, 4, 4)) = 8;
  pred(cv::Rect(0, 15, 3, 3)) = 9;  // extra
  const ObjectMatching m = match_objects(truth, pred, 0.5);
  ASSERT_EQ(m.matches.size(), 1u);
  EXPECT_EQ(m.matches[0].truth, 1);
  EXPECT_EQ(m.matches[0].pred, 7);
  EXPECT_DOUBLE_EQ(m.matches[0].iou, 0.75);
  EXPECT_EQ(m.true_objects, 2);
  EXPECT_EQ(m.predicted_objects, 3);
  EXPECT_EQ(m.true_positives, 1);
  EXPECT_EQ(m.false_positives, 2);
  EXPECT_EQ(m.false_negatives, 1);
  EXPECT_DOUBLE_EQ(m.precision, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.recall, 0.5);
  EXPECT_DOUBLE_EQ(m.f1, 2.0 / 5.0);
  EXPECT_DOUBLE_EQ(m.mean_matched_iou, 0.75);

  const ObjectMatching loose = match_objects(truth, pred, 0.3);
  EXPECT_EQ(loose.true_positives, 2);
  EXPECT_DOUBLE_EQ(loose.mean_matched_iou, (0.75 + 1.0 / 3.0) / 2);
}

TEST(MatchObjects, EachObjectIsUsedOnceBestFirst) {
  // Truth 1 overlaps pred 3 (IoU 0.5) and pred 4 (IoU 0.25); a low threshold still pairs it with 3
  // only.
  cv::Mat truth(4, 8, CV_32SC1, cv::Scalar(0));
  cv::Mat pred(4, 8, CV_32SC1, cv::Scalar(0));
  truth(cv::Rect(0, 0, 4, 4)) = 1;
  pred(cv::Rect(0, 0, 2, 4)) = 3;
  pred(cv::Rect(2, 0, 1, 4)) = 4;
  const ObjectMatching m = match_objects(truth, pred, 0.1);
  ASSERT_EQ(m.matches.size(), 1u);
  EXPECT_EQ(m.matches[0].pred, 3);
  EXPECT_EQ(m.false_positives, 1);
}

TEST(MatchObjects, OpReturnsSummaryAndMatchesAndEmptyImagesScoreOne) {
  const cv::Mat empty(3, 3, CV_32SC1, cv::Scalar(0));
  const FacetMap out = builtin_ops().run(
      "match_objects", {{"truth", Facet::labels(empty)}, {"pred", Facet::labels(empty)}});
  const nlohmann::json& s = out.at("summary").table.at(0);
  EXPECT_EQ(s.at("f1"), 1.0);
  EXPECT_EQ(s.at("precision"), 1.0);
  EXPECT_EQ(s.at("tp"), 0);
  EXPECT_TRUE(out.at("matches").table.empty());
}

}  // namespace
}  // namespace tessera::ops
