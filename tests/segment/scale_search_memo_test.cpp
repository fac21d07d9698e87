// The scale-search memo (scale_search_memo.hpp): a request repeating earlier clicks gets their searches back
// unchanged and does not run them again; the memo stays within its byte budget.

#include <stdexcept>

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

// A search that counts how often it runs.
struct CountedSearch {
  cv::Size size;
  int runs = 0;
  SegmentResult operator()() {
    ++runs;
    return disk_result(size, {60, 70}, 20);
  }
};

TEST(ScaleSearchMemo, ASecondAskIsServedFromTheMemoWithTheSameMask) {
  ScaleSearchMemo memo(1u << 20);
  const cv::Size size(200, 150);
  CountedSearch search{size};
  const auto compute = [&] { return search(); };
  const SegmentResult first = memo.find_or_compute("img", click(60, 70), size, compute);
  SegmentResult second = memo.find_or_compute("img", click(60, 70), size, compute);
  EXPECT_EQ(search.runs, 1);
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
  CountedSearch search{size};
  const auto compute = [&] { return search(); };
  memo.find_or_compute("img", click(60, 70), size, compute);
  memo.find_or_compute("other", click(60, 70), size, compute);
  memo.find_or_compute("img", click(60.001, 70), size, compute);
  Prompts with_minus = click(60, 70);
  with_minus.points.push_back({90, 70, false});
  memo.find_or_compute("img", with_minus, size, compute);
  with_minus.points.back().positive = true;
  memo.find_or_compute("img", with_minus, size, compute);
  memo.find_or_compute("img", click(60, 70), cv::Size(150, 200), [&] {
    ++search.runs;
    return disk_result(cv::Size(150, 200), {60, 70}, 20);
  });
  EXPECT_EQ(search.runs, 6);
}

// The result of a miss is the caller's too: the server clips it to the other masks in place.
TEST(ScaleSearchMemo, EditingTheComputedMaskLeavesTheStoredOneAlone) {
  ScaleSearchMemo memo(1u << 20);
  const cv::Size size(200, 150);
  CountedSearch search{size};
  SegmentResult first = memo.find_or_compute("img", click(60, 70), size, [&] { return search(); });
  first.mask.setTo(0);
  const SegmentResult again = memo.find_or_compute("img", click(60, 70), size, [&] { return search(); });
  EXPECT_EQ(search.runs, 1);
  EXPECT_EQ(cv::countNonZero(again.mask != disk_result(size, {60, 70}, 20).mask), 0);
}

TEST(ScaleSearchMemo, AThrowingSearchStoresNothing) {
  ScaleSearchMemo memo(1u << 20);
  const cv::Size size(200, 150);
  EXPECT_THROW(memo.find_or_compute("img", click(60, 70), size,
                                    []() -> SegmentResult { throw std::runtime_error("cut failed"); }),
               std::runtime_error);
  CountedSearch search{size};
  memo.find_or_compute("img", click(60, 70), size, [&] { return search(); });
  EXPECT_EQ(search.runs, 1);
  EXPECT_EQ(memo.stats().entries, 1u);
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

TEST(ScaleSearchMemo, PixelsKeyTellsImagesApart) {
  cv::Mat a(30, 40, CV_8U, cv::Scalar(7));
  cv::Mat b = a.clone();
  b.at<uchar>(29, 39) = 8;
  EXPECT_NE(pixels_key(a), pixels_key(b));
  EXPECT_NE(pixels_key(a), pixels_key(cv::Mat(40, 30, CV_8U, cv::Scalar(7))));
  EXPECT_NE(pixels_key(a), pixels_key(cv::Mat(30, 40, CV_8UC3, cv::Scalar::all(7))));
  cv::Mat big(60, 80, CV_8U, cv::Scalar(1));
  a.copyTo(big(cv::Rect(10, 10, 40, 30)));
  EXPECT_EQ(pixels_key(big(cv::Rect(10, 10, 40, 30))), pixels_key(a));  // strides aside, the same pixels
}

// An image passed as a view into a larger buffer gives the mask of its own pixels (filters on a submatrix would
// read the pixels around it), whether or not the same pixels in other surroundings were searched before.
TEST(ScaleSearchMemo, AViewIsSegmentedAsItsOwnPixels) {
  cv::Mat image(180, 240, CV_8UC3, cv::Scalar(40, 60, 50));
  cv::circle(image, {30, 90}, 28, cv::Scalar(40, 180, 200), cv::FILLED);  // at the left edge
  cv::Mat noise(image.size(), CV_8UC3);
  cv::RNG(5).fill(noise, cv::RNG::UNIFORM, 0, 40);
  image += noise;
  cv::Mat framed(220, 300, CV_8UC3, cv::Scalar(0, 0, 0));
  image.copyTo(framed(cv::Rect(30, 20, 240, 180)));
  const cv::Mat view = framed(cv::Rect(30, 20, 240, 180));
  const auto segmenter = tessera::segment::make_segmenter();
  auto& memo = tessera::segment::scale_search_memo();
  const Prompts prompts = click(30, 90);
  memo.clear();
  const SegmentResult own = segmenter->segment(image, prompts);
  memo.clear();
  const SegmentResult of_view = segmenter->segment(view, prompts);
  EXPECT_EQ(cv::countNonZero(own.mask != of_view.mask), 0);
  EXPECT_EQ(own.confidence, of_view.confidence);
  memo.clear();
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
