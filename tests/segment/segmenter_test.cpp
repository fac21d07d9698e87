// The default (graph cut) segmenter on generated images where the right answer is known, and its refusals.

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "tessera/core/error.hpp"
#include "tessera/segment/propagate.hpp"
#include "tessera/segment/segmenter.hpp"

using tessera::Error;
using tessera::ErrorCode;
using tessera::segment::make_segmenter;
using tessera::segment::Prompts;

namespace {

using tessera::segment::mask_iou;

// Bright ellipses on a noisy dark background, 8- or 16-bit.
struct Scene {
  cv::Mat image;
  cv::Mat small_truth, large_truth;
};

Scene make_scene(int depth) {
  Scene s;
  cv::Mat canvas(300, 400, CV_32F, cv::Scalar(60));
  s.small_truth = cv::Mat::zeros(canvas.size(), CV_8U);
  s.large_truth = cv::Mat::zeros(canvas.size(), CV_8U);
  cv::ellipse(s.small_truth, {80, 80}, {14, 10}, 20, 0, 360, 255, cv::FILLED);
  cv::ellipse(s.large_truth, {250, 180}, {90, 70}, -10, 0, 360, 255, cv::FILLED);
  canvas.setTo(170, s.small_truth | s.large_truth);
  cv::Mat noise(canvas.size(), CV_32F);
  cv::RNG rng(7);
  rng.fill(noise, cv::RNG::NORMAL, 0, 18);
  canvas += noise;
  canvas.convertTo(s.image, depth, depth == CV_16U ? 40.0 : 1.0);  // 16-bit: a range the 8-bit stretch must find
  return s;
}

template <typename F>
ErrorCode code_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::internal;
}

TEST(GraphCutSegmenter, OneClickFindsSmallAndLargeObjectsAtTheirScale) {
  const auto segmenter = make_segmenter();
  EXPECT_EQ(segmenter->name(), "graph_cut");
  for (int depth : {CV_8U, CV_16U}) {
    const Scene s = make_scene(depth);
    Prompts small;
    small.points = {{80, 80, true}};
    const auto a = segmenter->segment(s.image, small);
    ASSERT_EQ(a.mask.size(), s.image.size());
    ASSERT_EQ(a.mask.type(), CV_8UC1);
    EXPECT_GT(mask_iou(a.mask, s.small_truth), 0.85) << "depth " << depth;
    Prompts large;
    large.points = {{250, 180, true}};
    const auto b = segmenter->segment(s.image, large);
    EXPECT_GT(mask_iou(b.mask, s.large_truth), 0.9) << "depth " << depth;
    EXPECT_GT(b.confidence, 0.5);
  }
}

TEST(GraphCutSegmenter, ConfidenceIsLowerOnAFlatNoisyField) {
  const auto segmenter = make_segmenter();
  const Scene s = make_scene(CV_8U);
  Prompts on_object;
  on_object.points = {{250, 180, true}};
  cv::Mat flat(300, 400, CV_8U, cv::Scalar(100));
  cv::Mat noise(flat.size(), CV_8U);
  cv::RNG(3).fill(noise, cv::RNG::UNIFORM, 0, 40);
  flat += noise;
  const double object = segmenter->segment(s.image, on_object).confidence;
  const double nothing = segmenter->segment(flat, on_object).confidence;
  EXPECT_LT(nothing, object);
  EXPECT_LT(nothing, 0.5);
}

TEST(GraphCutSegmenter, NegativeClickRemovesATouchingObject) {
  const auto segmenter = make_segmenter();
  cv::Mat image(200, 300, CV_8UC3, cv::Scalar(30, 30, 30));
  cv::Mat truth = cv::Mat::zeros(image.size(), CV_8U);
  cv::circle(truth, {120, 100}, 30, 255, cv::FILLED);
  image.setTo(cv::Scalar(40, 180, 200), truth);
  cv::circle(image, {175, 100}, 28, cv::Scalar(40, 180, 200), cv::FILLED);  // a twin touching it
  Prompts prompts;
  prompts.points = {{120, 100, true}, {180, 100, false}};
  const auto result = segmenter->segment(image, prompts);
  EXPECT_EQ(result.mask.at<uchar>(100, 120), 255);
  EXPECT_EQ(result.mask.at<uchar>(100, 185), 0);
  EXPECT_GT(mask_iou(result.mask, truth), 0.75);
}

TEST(GraphCutSegmenter, BoxAloneSegmentsTheObjectInside) {
  const Scene s = make_scene(CV_8U);
  Prompts prompts;
  prompts.box = cv::Rect(150, 100, 200, 160);
  EXPECT_GT(mask_iou(make_segmenter()->segment(s.image, prompts).mask, s.large_truth), 0.85);
}

TEST(GraphCutSegmenter, PriorMaskIsRefinedOntoTheObject) {
  const Scene s = make_scene(CV_8U);
  cv::Mat shifted = cv::Mat::zeros(s.image.size(), CV_8U);
  cv::Mat m = (cv::Mat_<double>(2, 3) << 1, 0, 8, 0, 1, -6);
  cv::warpAffine(s.large_truth, shifted, m, s.image.size(), cv::INTER_NEAREST);  // last frame's mask, moved
  Prompts prompts;
  prompts.prior_mask = shifted;
  const auto result = make_segmenter()->segment(s.image, prompts);
  EXPECT_GT(mask_iou(result.mask, s.large_truth), mask_iou(shifted, s.large_truth));
  EXPECT_GT(mask_iou(result.mask, s.large_truth), 0.9);
}

TEST(GraphCutSegmenter, BadPromptsAreInvalidArguments) {
  const auto segmenter = make_segmenter();
  const Scene s = make_scene(CV_8U);
  const auto run = [&](Prompts p) { return code_of([&] { segmenter->segment(s.image, p); }); };
  Prompts outside;
  outside.points = {{400, 10, true}};  // x == width
  EXPECT_EQ(run(outside), ErrorCode::invalid_argument);
  Prompts negative_only;
  negative_only.points = {{10, 10, false}};
  EXPECT_EQ(run(negative_only), ErrorCode::invalid_argument);
  Prompts none;
  EXPECT_EQ(run(none), ErrorCode::invalid_argument);
  Prompts nan;
  nan.points = {{std::nan(""), 10, true}};
  EXPECT_EQ(run(nan), ErrorCode::invalid_argument);
  Prompts bad_prior;
  bad_prior.points = {{10, 10, true}};
  bad_prior.prior_mask = cv::Mat::ones(10, 10, CV_8U);
  EXPECT_EQ(run(bad_prior), ErrorCode::invalid_argument);
  Prompts bad_box;
  bad_box.box = cv::Rect(1000, 1000, 5, 5);
  EXPECT_EQ(run(bad_box), ErrorCode::invalid_argument);
  EXPECT_EQ(code_of([&] { segmenter->segment(cv::Mat(), outside); }), ErrorCode::invalid_argument);
}

}  // namespace
