// app::clean_crowd_labels on the cases where a fast labeller most easily parts from scikit-image: holes on
// the border, holes between two labels, single-pixel specks, repeated and sparse ids, diagonal contacts,
// objects that reach min_size only with their filled hole; then random images against the scikit-image
// chain itself (tests/app/crowd_clean_reference.py).
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "exchange/python.hpp"
#include "tessera/app/crowd_ingest.hpp"
#include "tessera/core/error.hpp"

namespace tessera::app {
namespace {

namespace fs = std::filesystem;

cv::Mat u8(int rows, int cols, std::initializer_list<int> values) {
  cv::Mat m(rows, cols, CV_8UC1);
  auto it = values.begin();
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) m.at<std::uint8_t>(r, c) = static_cast<std::uint8_t>(*it++);
  return m;
}

bool same(const cv::Mat& a, const cv::Mat& b) {
  return a.type() == b.type() && a.size() == b.size() && cv::countNonZero(a != b) == 0;
}

TEST(CrowdClean, HoleOnTheBorderIsFilledLikeScikitImage) {
  cv::Mat labels(6, 6, CV_8UC1, cv::Scalar(9));
  labels.at<std::uint8_t>(0, 2) = 0;  // a one-pixel background component on the top edge
  labels.at<std::uint8_t>(5, 5) = 0;  // and one in a corner
  cv::Mat expected(6, 6, CV_8UC1, cv::Scalar(1));
  EXPECT_TRUE(same(clean_crowd_labels(labels), expected));
}

TEST(CrowdClean, HoleBetweenTwoLabelsTakesTheMoreFrequentNeighbourAndTheSmallerOnATie) {
  // Hole (2 px at row 1, cols 2-3): neighbours 5 (left, above x2) vs 7 (right, below x2) -> a tie 3:3 -> 5.
  cv::Mat tie = u8(3, 6, {5, 5, 5, 5, 7, 7,  //
                          5, 5, 0, 0, 7, 7,  //
                          5, 5, 7, 7, 7, 7});
  cv::Mat tie_out = clean_crowd_labels(tie, {.hole_area = 64, .min_size = 1});
  EXPECT_EQ(tie_out.at<std::uint8_t>(1, 2), 1);
  EXPECT_EQ(tie_out.at<std::uint8_t>(1, 3), 1);
  // Same hole with one more 7 above: 7 wins 4:2, and 7 renumbers to 2.
  cv::Mat more = tie.clone();
  more.at<std::uint8_t>(0, 3) = 7;
  cv::Mat more_out = clean_crowd_labels(more, {.hole_area = 64, .min_size = 1});
  EXPECT_EQ(more_out.at<std::uint8_t>(1, 2), 2);
  EXPECT_EQ(more_out.at<std::uint8_t>(1, 3), 2);
}

TEST(CrowdClean, SpecksGoAndSparseOrRepeatedIdsAreRenumberedInOrder) {
  cv::Mat labels = cv::Mat::zeros(12, 30, CV_16UC1);
  labels(cv::Rect(0, 0, 4, 4)).setTo(500);    // kept -> 3
  labels(cv::Rect(10, 0, 4, 4)).setTo(17);    // kept -> 1
  labels(cv::Rect(20, 0, 2, 2)).setTo(17);    // the same id elsewhere, 4 px: removed, 17 stays from above
  labels(cv::Rect(0, 8, 4, 4)).setTo(230);    // kept -> 2
  labels.at<std::uint16_t>(10, 20) = 999;     // a one-pixel speck: removed, 999 leaves the numbering
  labels(cv::Rect(24, 6, 3, 3)).setTo(4);     // 9 px touching 8 only diagonally: both removed
  labels(cv::Rect(27, 9, 3, 3)).setTo(8);
  cv::Mat out = clean_crowd_labels(labels);
  ASSERT_EQ(out.type(), CV_8UC1);
  EXPECT_EQ(out.at<std::uint8_t>(1, 1), 3);
  EXPECT_EQ(out.at<std::uint8_t>(1, 11), 1);
  EXPECT_EQ(out.at<std::uint8_t>(9, 1), 2);
  EXPECT_EQ(out.at<std::uint8_t>(0, 20), 0);
  EXPECT_EQ(out.at<std::uint8_t>(10, 20), 0);
  EXPECT_EQ(cv::countNonZero(out(cv::Rect(24, 6, 6, 6))), 0);
  double max_id = 0;
  cv::minMaxLoc(out, nullptr, &max_id);
  EXPECT_EQ(max_id, 3);
}

TEST(CrowdClean, AnObjectReachesMinSizeOnlyWithItsFilledHole) {
  // 11 labelled pixels around a one-pixel hole: 12 with the hole, so kept at min_size 12, not at 13.
  cv::Mat labels = cv::Mat::zeros(16, 16, CV_8UC1);
  labels(cv::Rect(2, 2, 4, 3)).setTo(3);
  labels.at<std::uint8_t>(3, 3) = 0;
  EXPECT_EQ(cv::countNonZero(clean_crowd_labels(labels, {.hole_area = 64, .min_size = 12})), 12);
  EXPECT_EQ(cv::countNonZero(clean_crowd_labels(labels, {.hole_area = 64, .min_size = 13})), 0);
}

TEST(CrowdClean, AllBackgroundSmallerThanTheHoleAreaStaysZero) {
  // The whole image is one small background component: scikit-image fills it, but it has no neighbour to
  // take a label from, and it is a 25 px object of zeros.
  cv::Mat out = clean_crowd_labels(cv::Mat::zeros(5, 5, CV_8UC1));
  EXPECT_EQ(out.type(), CV_8UC1);
  EXPECT_EQ(cv::countNonZero(out), 0);
  EXPECT_THROW(clean_crowd_labels(cv::Mat(3, 3, CV_32SC1, cv::Scalar(-1))), Error);
}

// Random label images with every hard case mixed in, 8- and 16-bit, against the scikit-image chain.
TEST(CrowdClean, RandomImagesMatchTheScikitImageChainPixelForPixel) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("tessera-crowd-clean-{}", ::getpid());
  fs::create_directories(dir);
  std::mt19937 rng(11);
  std::vector<cv::Mat> images;
  for (int i = 0; i < 24; ++i) {
    const int rows = 40 + static_cast<int>(rng() % 60);
    const int cols = 40 + static_cast<int>(rng() % 60);
    const bool wide = i % 3 == 0;
    cv::Mat m = cv::Mat::zeros(rows, cols, wide ? CV_16UC1 : CV_8UC1);
    for (int k = 0; k < 25; ++k) {
      const int value = wide ? 1 + static_cast<int>(rng() % 60000) : 1 + static_cast<int>(rng() % 250);
      cv::ellipse(m, cv::Point(static_cast<int>(rng() % cols), static_cast<int>(rng() % rows)),
                  cv::Size(1 + static_cast<int>(rng() % 9), 1 + static_cast<int>(rng() % 9)),
                  static_cast<double>(rng() % 180), 0, 360, cv::Scalar(value), cv::FILLED);
    }
    for (int k = 0; k < 40; ++k) {  // specks of either kind, on the border too
      const int r = static_cast<int>(rng() % rows);
      const int c = static_cast<int>(rng() % cols);
      const int w = 1 + static_cast<int>(rng() % 3);
      const int h = 1 + static_cast<int>(rng() % 3);
      const int value = k % 2 == 0 ? 0 : 1 + static_cast<int>(rng() % 200);
      m(cv::Rect(c, r, std::min(w, cols - c), std::min(h, rows - r))).setTo(value);
    }
    images.push_back(m);
    cv::imwrite((dir / fmt::format("{:02}.png", i)).string(), m);
  }
  const std::string script = fmt::format(R"(
import os, sys
import cv2, numpy as np
sys.path.insert(0, "{}")
from crowd_clean_reference import clean
d = sys.argv[1]
for n in sorted(x for x in os.listdir(d) if x.endswith('.png') and not x.startswith('ref_')):
    cv2.imwrite(os.path.join(d, 'ref_' + n), clean(cv2.imread(os.path.join(d, n), cv2.IMREAD_UNCHANGED)))
)",
                                         std::string(TESSERA_SOURCE_DIR) + "/tests/app");
  tessera::test::run_python(script, {dir.string()});
  for (size_t i = 0; i < images.size(); ++i) {
    cv::Mat reference = cv::imread((dir / fmt::format("ref_{:02}.png", i)).string(), cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(reference.empty()) << i;
    cv::Mat ours = clean_crowd_labels(images[i]);
    EXPECT_TRUE(same(ours, reference)) << "image " << i << " (" << images[i].rows << "x" << images[i].cols << ")";
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tessera::app
