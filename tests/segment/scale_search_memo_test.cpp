// The scale-search memo (scale_search_memo.hpp): a request repeating earlier clicks gets their searches back
// unchanged and does not run them again; the memo stays within its byte budget.

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "segment/scale_search_memo.hpp"
#include "tessera/segment/propagate.hpp"
#include "tessera/segment/segmenter.hpp"

using tessera::segment::pixels_key;
using tessera::segment::Prompts;
using tessera::segment::ScaleSearchMemo;
using tessera::segment::SegmentResult;

namespace {

Prompts click(double x, double y) {
  Prompts p;
  p.points = {{x, y, true}};
  return p;
}

SegmentResult disk_result(cv::Size size, cv::Point centre, int radius) {
  SegmentResult r{cv::Mat::zeros(size, CV_8U), 0.6, "grabcut_scales"};
  cv::circle(r.mask, centre, radius, 255, cv::FILLED);
  return r;
}

TEST(ScaleSearchMemo, ASecondAskIsServedFromTheMemoWithTheSameMask) {
  ScaleSearchMemo memo(1u << 20);
  const cv::Size size(200, 150);
  int computed = 0;
  const auto compute = [&] {
    ++computed;
    return disk_result(size, {60, 70}, 20);
  };
  const SegmentResult first = memo.find_or_compute("img", click(60, 70), size, compute);
  SegmentResult second = memo.find_or_compute("img", click(60, 70), size, compute);
  EXPECT_EQ(computed, 1);
  EXPECT_EQ(cv::countNonZero(first.mask != second.mask), 0);
  EXPECT_EQ(second.confidence, first.confidence);
  EXPECT_EQ(second.method, first.method);
  // The caller owns its copy: editing it leaves the stored mask as it was.
  second.mask.setTo(0);
  const SegmentResult third = memo.find_or_compute("img", click(60, 70), size, compute);
  EXPECT_EQ(cv::countNonZero(third.mask != first.mask), 0);
  EXPECT_EQ(memo.stats().hits, 2u);
  EXPECT_EQ(memo.stats().misses, 1u);
}

TEST(ScaleSearchMemo, OtherPixelsOrOtherPromptsAreOtherSearches) {
  ScaleSearchMemo memo(1u << 20);
  const cv::Size size(200, 150);
  int computed = 0;
  const auto compute = [&] {
    ++computed;
    return disk_result(size, {60, 70}, 20);
  };
  memo.find_or_compute("img", click(60, 70), size, compute);
  memo.find_or_compute("other", click(60, 70), size, compute);
  memo.find_or_compute("img", click(60.001, 70), size, compute);
  Prompts with_minus = click(60, 70);
  with_minus.points.push_back({90, 70, false});
  memo.find_or_compute("img", with_minus, size, compute);
  with_minus.points.back().positive = true;
  memo.find_or_compute("img", with_minus, size, compute);
  EXPECT_EQ(computed, 5);
}

TEST(ScaleSearchMemo, StaysWithinItsBudgetDroppingTheLeastRecentlyUsed) {
  const cv::Size size(400, 400);
  // Each entry holds a 101 x 101 crop (~10 kB): the budget holds three.
  ScaleSearchMemo memo(3 * 101 * 101 + 3 * 1024);
  int computed = 0;
  const auto compute_at = [&](int x) {
    return [&, x] {
      ++computed;
      return disk_result(size, {x, 200}, 50);
    };
  };
  for (int x : {60, 170, 280}) memo.find_or_compute("img", click(x, 200), size, compute_at(x));
  memo.find_or_compute("img", click(60, 200), size, compute_at(60));   // used again: now the most recent
  memo.find_or_compute("img", click(330, 200), size, compute_at(330));  // drops 170, the least recent
  EXPECT_EQ(computed, 4);
  EXPECT_EQ(memo.stats().entries, 3u);
  EXPECT_LE(memo.stats().bytes, 3u * 101 * 101 + 3 * 1024);
  memo.find_or_compute("img", click(60, 200), size, compute_at(60));
  EXPECT_EQ(computed, 4);
  memo.find_or_compute("img", click(170, 200), size, compute_at(170));
  EXPECT_EQ(computed, 5);
}

TEST(ScaleSearchMemo, AnEmptyMaskComesBackEmpty) {
  ScaleSearchMemo memo(1u << 20);
  const cv::Size size(50, 40);
  const auto empty = [&] { return SegmentResult{cv::Mat::zeros(size, CV_8U), 0.1, "grabcut_scales"}; };
  memo.find_or_compute("img", click(5, 5), size, empty);
  const SegmentResult again = memo.find_or_compute("img", click(5, 5), size, empty);
  EXPECT_EQ(memo.stats().hits, 1u);
  EXPECT_EQ(again.mask.size(), size);
  EXPECT_EQ(cv::countNonZero(again.mask), 0);
}

TEST(ScaleSearchMemo, PixelsKeyTellsImagesApartAndIgnoresStrides) {
  cv::Mat a(30, 40, CV_8U, cv::Scalar(7));
  cv::Mat b = a.clone();
  b.at<uchar>(29, 39) = 8;
  EXPECT_NE(pixels_key(a), pixels_key(b));
  EXPECT_NE(pixels_key(a), pixels_key(cv::Mat(40, 30, CV_8U, cv::Scalar(7))));
  EXPECT_NE(pixels_key(a), pixels_key(cv::Mat(30, 40, CV_8UC3, cv::Scalar::all(7))));
  cv::Mat big(60, 80, CV_8U, cv::Scalar(1));
  a.copyTo(big(cv::Rect(10, 10, 40, 30)));
  EXPECT_EQ(pixels_key(big(cv::Rect(10, 10, 40, 30))), pixels_key(a));  // a view with a stride: same pixels
}

// Through the default segmenter on the GrabCut path (a colour object): the client's second request repeats the
// first click, whose search comes from the memo, and the masks equal those of a memo that was empty.
TEST(ScaleSearchMemo, TheSegmentersSecondRequestReusesTheFirstClicksSearch) {
  cv::Mat image(200, 300, CV_8UC3, cv::Scalar(30, 30, 30));
  cv::circle(image, {120, 100}, 30, cv::Scalar(40, 180, 200), cv::FILLED);
  cv::circle(image, {175, 100}, 28, cv::Scalar(40, 180, 200), cv::FILLED);
  const auto segmenter = tessera::segment::make_segmenter();
  auto& memo = tessera::segment::scale_search_memo();
  Prompts prompts = click(120, 100);
  Prompts corrected = prompts;
  corrected.points.push_back({180, 100, false});

  memo.clear();
  const SegmentResult cold = segmenter->segment(image, corrected);
  memo.clear();
  const SegmentResult first = segmenter->segment(image, prompts);
  const auto after_first = memo.stats();
  const SegmentResult warm = segmenter->segment(image, corrected);
  const auto after_second = memo.stats();
  EXPECT_EQ(after_first.misses, 1u);
  EXPECT_EQ(after_second.hits, after_first.hits + 1);  // the first '+' click's search
  EXPECT_EQ(cv::countNonZero(cold.mask != warm.mask), 0);
  EXPECT_EQ(cold.confidence, warm.confidence);
  EXPECT_EQ(warm.mask.at<uchar>(100, 120), 255);
  // The same request again: every search it needs is stored.
  const SegmentResult again = segmenter->segment(image, corrected);
  EXPECT_EQ(memo.stats().misses, after_second.misses);
  EXPECT_EQ(cv::countNonZero(again.mask != warm.mask), 0);
  memo.clear();
}

}  // namespace
