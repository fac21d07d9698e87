#include "tessera/ops/regions.hpp"

#include <string>

#include <gtest/gtest.h>

#include "tessera/core/error.hpp"
#include "test_util.hpp"
#include "tessera/ops/registry.hpp"

namespace tessera::ops {
namespace {

using test::expect_invalid;

bool same_pixels(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}


// 20 x 10 with object 5 in the middle, object 1 near the left edge, object 2 in the top-right
// corner.
cv::Mat three_objects() {
  cv::Mat labels(10, 20, CV_32SC1, cv::Scalar(0));
  labels(cv::Rect(1, 2, 3, 3)) = 1;
  labels(cv::Rect(15, 0, 5, 2)) = 2;
  labels(cv::Rect(8, 4, 2, 3)) = 5;
  labels.at<int>(6, 10) = 5;  // object 5 is not a rectangle
  return labels;
}

cv::Mat gradient_image() {
  cv::Mat image(10, 20, CV_8UC3);
  for (int y = 0; y < 10; ++y) {
    for (int x = 0; x < 20; ++x) {
      image.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(x), static_cast<uchar>(y), 7);
    }
  }
  return image;
}

TEST(ExtractRegions, CropsEachObjectWithPaddingClippedAtTheBorders) {
  const cv::Mat image = gradient_image();
  const cv::Mat labels = three_objects();
  const std::vector<RegionCrop> crops = extract_regions(image, labels, 2);
  ASSERT_EQ(crops.size(), 3u);
  EXPECT_EQ(crops[0].label, 1);
  EXPECT_EQ(crops[1].label, 2);
  EXPECT_EQ(crops[2].label, 5);

  EXPECT_EQ(crops[0].object, cv::Rect(1, 2, 3, 3));
  EXPECT_EQ(crops[0].box, cv::Rect(0, 0, 6, 7));  // left padding clipped to 1, top to 2
  EXPECT_EQ(crops[0].padding, (std::array<int, 4>{1, 2, 2, 2}));

  EXPECT_EQ(crops[1].object, cv::Rect(15, 0, 5, 2));
  EXPECT_EQ(crops[1].box, cv::Rect(13, 0, 7, 4));
  EXPECT_EQ(crops[1].padding, (std::array<int, 4>{2, 0, 0, 2}));

  EXPECT_EQ(crops[2].object, cv::Rect(8, 4, 3, 3));
  EXPECT_EQ(crops[2].box, cv::Rect(6, 2, 7, 7));
  EXPECT_EQ(crops[2].padding, (std::array<int, 4>{2, 2, 2, 2}));

  for (const RegionCrop& c : crops) {
    EXPECT_TRUE(same_pixels(c.image, image(c.box))) << c.label;
    EXPECT_TRUE(same_pixels(c.mask, labels(c.box) == c.label)) << c.label;
  }
  EXPECT_EQ(cv::countNonZero(crops[2].mask), 7);  // 2 x 3 block plus one pixel
  EXPECT_EQ(crops[2].mask.at<uchar>(4, 4), 255);  // (10, 6) in the parent
  EXPECT_EQ(crops[2].mask.at<uchar>(3, 4), 0);    // (10, 5) is background
}

TEST(ExtractRegions, OpReturnsCropsMasksAndRows) {
  const FacetMap out = builtin_ops().run(
      "extract_regions",
      {{"image", Facet::image(gradient_image())}, {"labels", Facet::labels(three_objects())}},
      {{"padding", 1}});
  const Facet& images = out.at("images");
  const Facet& masks = out.at("masks");
  ASSERT_EQ(images.kind, FacetKind::images);
  ASSERT_EQ(images.mats.size(), 3u);
  ASSERT_EQ(masks.mats.size(), 3u);
  EXPECT_EQ(masks.mats[1].type(), CV_8UC1);
  const nlohmann::json expected = {{"label", 2},
                                   {"bbox", {14, 0, 20, 3}},
                                   {"object_bbox", {15, 0, 20, 2}},
                                   {"padding", {1, 0, 0, 1}}};
  EXPECT_EQ(images.table.at(1), expected);
  EXPECT_EQ(masks.table, images.table);
  EXPECT_EQ(images.mats[1].size(), cv::Size(6, 3));
}

TEST(ExtractRegions, ZeroPaddingGivesTheObjectBoxAndAnEmptyLabelImageNoCrops) {
  const std::vector<RegionCrop> crops = extract_regions(gradient_image(), three_objects(), 0);
  for (const RegionCrop& c : crops) EXPECT_EQ(c.box, c.object);
  EXPECT_TRUE(extract_regions(gradient_image(), cv::Mat(10, 20, CV_32SC1, cv::Scalar(0))).empty());
}

TEST(ExtractRegions, RejectsMismatchedOrFloatLabels) {
  expect_invalid(
      [] { extract_regions(gradient_image(), cv::Mat(10, 21, CV_32SC1, cv::Scalar(0))); },
      "extract_regions: the image is 20x10 but the label image is 21x10");
  expect_invalid(
      [] { extract_regions(gradient_image(), cv::Mat(10, 20, CV_32FC1, cv::Scalar(0))); },
      "extract_regions: labels must be a one-channel integer image, got CV_32FC1");
}

TEST(FadeBackground, BlendsOnlyTheBackgroundTowardsTheColour) {
  cv::Mat grey(2, 2, CV_8UC1, cv::Scalar(101));
  cv::Mat mask(2, 2, CV_8UC1, cv::Scalar(0));
  mask.at<uchar>(0, 0) = 255;
  const cv::Mat out = fade_background(grey, mask, 0.5, {1, 1, 1});
  EXPECT_TRUE(
      same_pixels(out, (cv::Mat_<uchar>(2, 2) << 101, 178, 178, 178)));  // 0.5 * 255 + 0.5 * 101

  cv::Mat rgba(1, 2, CV_16UC4, cv::Scalar(1000, 2000, 3000, 4000));
  const cv::Mat bg_only = (cv::Mat_<uchar>(1, 2) << 0, 255);
  const cv::Mat red =
      fade_background(rgba, bg_only, 1.0, parse_color("#FF0000", "fade_background"));
  EXPECT_EQ(red.at<cv::Vec4w>(0), cv::Vec4w(65535, 0, 0, 4000));  // alpha kept
  EXPECT_EQ(red.at<cv::Vec4w>(1), cv::Vec4w(1000, 2000, 3000, 4000));
}

TEST(FadeBackground, OpParsesTheColourAndReportsBadOnes) {
  const cv::Mat grey(2, 2, CV_8UC1, cv::Scalar(100));
  const cv::Mat mask(2, 2, CV_8UC1, cv::Scalar(0));
  const FacetMap out = builtin_ops().run(
      "fade_background", {{"image", Facet::image(grey)}, {"mask", Facet::mask(mask)}},
      {{"factor", 0.25}, {"color", "black"}});
  EXPECT_EQ(out.at("image").mat.at<uchar>(1, 1), 75);
  expect_invalid(
      [&] {
        builtin_ops().run("fade_background",
                          {{"image", Facet::image(grey)}, {"mask", Facet::mask(mask)}},
                          {{"color", "#12345"}});
      },
      "fade_background: parameter 'color' must be a colour name");
  expect_invalid(
      [&] {
        fade_background(grey, cv::Mat(3, 2, CV_8UC1, cv::Scalar(0)), 0.5, {1, 1, 1});
      },
      "fade_background: the image is 2x2 but the mask is 2x3");
}

TEST(DrawContours, OutlinesEachLabelledObjectOnItsOwn) {
  const cv::Mat grey(7, 8, CV_8UC1, cv::Scalar(0));
  cv::Mat labels(7, 8, CV_32SC1, cv::Scalar(0));
  labels(cv::Rect(1, 1, 3, 5)) = 1;  // two touching 3 x 5 objects
  labels(cv::Rect(4, 1, 3, 5)) = 2;
  const cv::Mat out = draw_contours(grey, labels, {1, 0, 0}, 1);
  ASSERT_EQ(out.type(), CV_8UC3);
  std::vector<cv::Mat> planes;
  cv::split(out, planes);
  // Every pixel of each object's own boundary is red; the interior columns 2 and 5 are not, nor any
  // background.
  cv::Mat expected(7, 8, CV_8UC1, cv::Scalar(0));
  expected(cv::Rect(1, 1, 6, 5)) = 255;
  expected(cv::Rect(2, 2, 1, 3)) = 0;
  expected(cv::Rect(5, 2, 1, 3)) = 0;
  EXPECT_TRUE(same_pixels(planes[0], expected)) << planes[0];
  EXPECT_EQ(cv::countNonZero(planes[1]), 0);

  // As one mask the seam between the objects is inside, so it stays dark.
  const cv::Mat from_mask = draw_contours(grey, labels != 0, {1, 0, 0}, 1);
  cv::split(from_mask, planes);
  expected(cv::Rect(2, 2, 4, 3)) = 0;
  EXPECT_TRUE(same_pixels(planes[0], expected)) << planes[0];
}

TEST(DrawContours, OpTakesLabelsOrAMaskAndKeepsTheDepth) {
  const cv::Mat rgb16(6, 6, CV_16UC3, cv::Scalar(100, 200, 300));
  cv::Mat mask(6, 6, CV_8UC1, cv::Scalar(0));
  mask(cv::Rect(2, 2, 2, 2)) = 255;
  FacetMap out = builtin_ops().run("draw_contours",
                                   {{"image", Facet::image(rgb16)}, {"mask", Facet::mask(mask)}},
                                   {{"color", "#00ff00"}, {"thickness", 1}});
  ASSERT_EQ(out.at("image").mat.type(), CV_16UC3);
  EXPECT_EQ(out.at("image").mat.at<cv::Vec3w>(2, 2), cv::Vec3w(0, 65535, 0));
  EXPECT_EQ(out.at("image").mat.at<cv::Vec3w>(0, 0), cv::Vec3w(100, 200, 300));
  out = builtin_ops().run("draw_contours",
                          {{"image", Facet::image(rgb16)}, {"labels", Facet::labels(mask / 255)}});
  EXPECT_EQ(out.at("image").mat.at<cv::Vec3w>(3, 3), cv::Vec3w(65535, 0, 0));
  expect_invalid(
      [&] {
        builtin_ops().run("draw_contours", {{"image", Facet::image(rgb16)}});
      },
      "draw_contours: needs an input 'labels' or 'mask'");
}

TEST(ParseColor, KnowsNamesAndHexInAnyCase) {
  EXPECT_EQ(parse_color("White", "x"), cv::Scalar(1, 1, 1));
  EXPECT_EQ(parse_color("#00FF00", "x"), cv::Scalar(0, 1, 0));
  const cv::Scalar c = parse_color("#336699", "x");
  EXPECT_NEAR(c[0], 0x33 / 255.0, 1e-12);
  EXPECT_NEAR(c[2], 0x99 / 255.0, 1e-12);
  EXPECT_THROW(parse_color("#gg0000", "x"), Error);
}

}  // namespace
}  // namespace tessera::ops
