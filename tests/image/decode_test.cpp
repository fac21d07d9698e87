#include "tessera/image/decode.hpp"

#include <gtest/gtest.h>

#include "image/fixtures.hpp"
#include "tessera/core/error.hpp"
#include "tessera/image/encode.hpp"

namespace tessera::image {
namespace {

ErrorCode code_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::internal;
}

TEST(Decode, ReadsEightAndSixteenBitPngExactly) {
  for (int type : {CV_8UC1, CV_16UC1, CV_8UC3, CV_8UC4, CV_16UC3}) {
    const cv::Mat m = test::pattern_image(37, 23, type);
    const Image image = decode(encode(m, ".png"), "t.png");
    ASSERT_EQ(image.frames.size(), 1u);
    EXPECT_EQ(image.info.format, "png");
    EXPECT_EQ(image.info.width, 37);
    EXPECT_EQ(image.info.height, 23);
    EXPECT_EQ(image.info.channels, m.channels());
    EXPECT_EQ(image.info.pixel_type, m.depth() == CV_16U ? PixelType::u16 : PixelType::u8);
    EXPECT_EQ(cv::norm(image.frames[0], m, cv::NORM_INF), 0.0) << "type " << type;
  }
}

TEST(Decode, KeepsChannelsInFileOrder) {
  cv::Mat rgb(4, 4, CV_8UC3, cv::Scalar(10, 20, 30));  // R=10 G=20 B=30 in tessera's order
  const Image image = decode(encode(rgb, ".png"), "rgb.png");
  EXPECT_EQ(image.frames[0].at<cv::Vec3b>(0, 0), cv::Vec3b(10, 20, 30));
}

TEST(Decode, ReadsMultiPageTiffAsFramesWithTheirDateTime) {
  std::vector<cv::Mat> pages;
  for (int i = 0; i < 4; ++i) pages.push_back(test::pattern_image(16, 12, CV_16UC1, i));
  const std::string bytes = test::write_tiff(pages, "2024:05:06 07:08:09");
  const Image image = decode(bytes, "stack.tif");
  EXPECT_EQ(image.info.format, "tiff");
  EXPECT_EQ(image.info.frames, 4);
  EXPECT_EQ(image.info.width, 16);
  EXPECT_EQ(image.info.height, 12);
  EXPECT_EQ(image.info.pixel_type, PixelType::u16);
  ASSERT_EQ(image.frames.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(cv::norm(image.frames[i], pages[i], cv::NORM_INF), 0.0) << "page " << i;
  ASSERT_TRUE(image.info.acquired_at.has_value());
  EXPECT_EQ(*image.info.acquired_at, "2024-05-06T07:08:09");
  EXPECT_EQ(probe(bytes).frames, 4);
}

TEST(Decode, ReadsFloatTiff) {
  const cv::Mat m = test::pattern_image(9, 7, CV_32FC1);
  const Image image = decode(test::write_tiff({m}), "f.tif");
  EXPECT_EQ(image.info.pixel_type, PixelType::f32);
  EXPECT_EQ(cv::norm(image.frames[0], m, cv::NORM_INF), 0.0);
}

TEST(Decode, ReadsExifDateFromJpeg) {
  const cv::Mat m = test::pattern_image(64, 48, CV_8UC3);
  const std::string bytes = test::jpeg_with_exif_date(m, "2023:12:31 23:59:58");
  const ImageInfo info = probe(bytes);
  EXPECT_EQ(info.format, "jpeg");
  ASSERT_TRUE(info.acquired_at.has_value());
  EXPECT_EQ(*info.acquired_at, "2023-12-31T23:59:58");
}

TEST(Decode, ImageWithoutDateHasNoAcquisitionTime) {
  EXPECT_FALSE(probe(encode(test::pattern_image(8, 8, CV_8UC1), ".png")).acquired_at.has_value());
}

TEST(Decode, TruncatedPngIsCorruptNotAGreyImage) {
  const std::string png = encode(test::pattern_image(200, 200, CV_8UC1), ".png");
  EXPECT_EQ(code_of([&] { decode_for_import(png.substr(0, png.size() / 2), "half.png"); }), ErrorCode::corrupt);
}

TEST(Decode, TruncatedJpegIsCorrupt) {
  const std::string jpg = test::encode_with_opencv(test::pattern_image(200, 200, CV_8UC3), ".jpg");
  EXPECT_EQ(code_of([&] { decode_for_import(jpg.substr(0, jpg.size() / 2), "half.jpg"); }), ErrorCode::corrupt);
}

TEST(Decode, TextFileIsUnsupportedAndEmptyFileIsCorrupt) {
  EXPECT_EQ(code_of([] { decode("this is not an image at all", "notes.tif"); }), ErrorCode::unsupported);
  EXPECT_EQ(code_of([] { decode("", "empty.png"); }), ErrorCode::corrupt);
}

TEST(Decode, ErrorMessageNamesTheFile) {
  try {
    decode("garbage", "plate1/A01.tif");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("plate1/A01.tif"), std::string::npos);
  }
}

TEST(Decode, ImportDecodeReportsInfoAndFocus) {
  const cv::Mat m = test::pattern_image(64, 64, CV_8UC1);
  const ImportDecode d = decode_for_import(encode(m, ".png"), "x.png");
  EXPECT_EQ(d.info.width, 64);
  EXPECT_GT(d.focus, 0.0);
}

TEST(Decode, RecognisesImageExtensionsCaseInsensitively) {
  EXPECT_TRUE(has_image_extension("a/b/C.TIF"));
  EXPECT_TRUE(has_image_extension("x.jpeg"));
  EXPECT_FALSE(has_image_extension("notes.txt"));
  EXPECT_FALSE(has_image_extension("noext"));
}

}  // namespace
}  // namespace tessera::image

namespace tessera::image {
namespace {

TEST(Decode, LargeImagesAreStreamedAndScoredOnAThumbnail) {
  const cv::Mat m = test::pattern_image(3000, 2000, CV_8UC1);
  const std::string png = encode(m, ".png");
  const ImportDecode streamed = decode_for_import(png, "big.png", 1000 * 1000);
  EXPECT_EQ(streamed.info.width, 3000);
  EXPECT_EQ(streamed.info.height, 2000);
  EXPECT_GT(streamed.focus, 0.0);
  // A damaged large file is still caught by the streaming pass.
  EXPECT_THROW(decode_for_import(png.substr(0, png.size() * 3 / 4), "big.png", 1000 * 1000), Error);
}

}  // namespace
}  // namespace tessera::image
