#include "tessera/exchange/rle.hpp"

#include <random>

#include <gtest/gtest.h>

#include "tessera/core/error.hpp"

namespace tessera::exchange {
namespace {

// The 4x5 worked example of formats.md 5.2.
cv::Mat worked_example() {
  cv::Mat m(4, 5, CV_8UC1, cv::Scalar(0));
  m(cv::Rect(1, 1, 3, 2)).setTo(1);
  m.at<std::uint8_t>(3, 3) = 1;
  return m;
}

TEST(Rle, EncodesTheWorkedExampleColumnMajor) {
  const CocoRle rle = rle_encode(worked_example());
  EXPECT_EQ(rle.height, 4);
  EXPECT_EQ(rle.width, 5);
  EXPECT_EQ(rle.counts, (std::vector<std::uint32_t>{5, 2, 2, 2, 2, 3, 4}));
  EXPECT_EQ(rle.area(), 7u);
  EXPECT_EQ(rle_compress(rle.counts), "5220012");
  EXPECT_EQ(rle_compress({2, 3, 1, 1}), "231N");
}

TEST(Rle, StartsWithAnEmptyRunWhenTheFirstPixelIsSet) {
  cv::Mat m(2, 2, CV_8UC1, cv::Scalar(255));
  EXPECT_EQ(rle_encode(m).counts, (std::vector<std::uint32_t>{0, 4}));
}

TEST(Rle, RandomMasksSurviveEncodeCompressDecompressDecode) {
  std::mt19937 random(7);
  for (int round = 0; round < 50; ++round) {
    const int rows = 1 + int(random() % 40), cols = 1 + int(random() % 40);
    cv::Mat m(rows, cols, CV_8UC1);
    const unsigned density = random() % 100;
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) m.at<std::uint8_t>(r, c) = (random() % 100) < density ? 255 : 0;
    CocoRle rle = rle_encode(m);
    rle.counts = rle_decompress(rle_compress(rle.counts));
    EXPECT_EQ(cv::countNonZero(rle_decode(rle) != m), 0) << "round " << round;
    EXPECT_EQ(rle.area(), std::uint64_t(cv::countNonZero(m)));
  }
}

TEST(Rle, CountsThatDoNotCoverTheMaskAreCorrupt) {
  try {
    rle_decode(CocoRle{4, 5, {5, 2}}, "annotation 9");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::corrupt);
    EXPECT_NE(std::string(e.what()).find("annotation 9"), std::string::npos) << e.what();
  }
  EXPECT_THROW(rle_decompress("5 2"), Error);  // ' ' is below the alphabet
  EXPECT_THROW(rle_decompress("o"), Error);    // continuation bit set, then the string ends
}

}  // namespace
}  // namespace tessera::exchange
