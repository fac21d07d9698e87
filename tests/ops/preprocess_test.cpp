#include "tessera/ops/preprocess.hpp"

#include <cmath>
#include <string>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "tessera/core/error.hpp"
#include "test_util.hpp"
#include "tessera/ops/registry.hpp"

namespace tessera::ops {
namespace {

using test::expect_invalid;

bool same_pixels(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

// A 1 x n ramp 0, 1, ..., n - 1 of the given depth.
cv::Mat ramp(int n, int depth) {
  cv::Mat m(1, n, CV_64F);
  for (int i = 0; i < n; ++i) m.at<double>(i) = i;
  m.convertTo(m, depth);
  return m;
}

cv::Mat random_image(int type, double high, int seed = 7) {
  cv::Mat m(17, 23, type);
  cv::RNG rng(static_cast<std::uint64_t>(seed));
  rng.fill(m, cv::RNG::UNIFORM, 0, high);
  return m;
}


// A radial vignette level * (1 - falloff * r^2), r = 1 at the corners.
cv::Mat vignette(cv::Size size, double level, double falloff, int depth) {
  cv::Mat m(size, CV_64F);
  const double cx = (size.width - 1) / 2.0, cy = (size.height - 1) / 2.0;
  const double r2max = cx * cx + cy * cy;
  for (int y = 0; y < size.height; ++y) {
    for (int x = 0; x < size.width; ++x) {
      const double r2 = ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / r2max;
      m.at<double>(y, x) = level * (1.0 - falloff * r2);
    }
  }
  m.convertTo(m, depth);
  return m;
}

// Largest relative deviation from the mean.
double unevenness(const cv::Mat& image) {
  cv::Mat values;
  image.convertTo(values, CV_64F);
  const double mean = cv::mean(values)[0];
  double lo = 0, hi = 0;
  cv::minMaxLoc(values, &lo, &hi);
  return std::max(hi - mean, mean - lo) / mean;
}

TEST(ToGray, GivesRec601LumaOnKnownPixels) {
  const cv::Mat rgb = (cv::Mat_<cv::Vec3b>(1, 4) << cv::Vec3b(255, 0, 0), cv::Vec3b(0, 255, 0),
                       cv::Vec3b(0, 0, 255), cv::Vec3b(255, 255, 255));
  const cv::Mat gray = to_gray(rgb);
  ASSERT_EQ(gray.type(), CV_8UC1);
  EXPECT_EQ(gray.at<uchar>(0), 76);   // 0.299 * 255 = 76.2
  EXPECT_EQ(gray.at<uchar>(1), 150);  // 0.587 * 255 = 149.7
  EXPECT_EQ(gray.at<uchar>(2), 29);   // 0.114 * 255 = 29.1
  EXPECT_EQ(gray.at<uchar>(3), 255);
}

TEST(ToGray, MatchesCvtColorFor8And16BitAndFloat) {
  for (const auto& [type, high] :
       {std::pair{CV_8UC3, 256.0}, {CV_16UC3, 65536.0}, {CV_32FC3, 1.0}, {CV_8UC4, 256.0}}) {
    const cv::Mat image = random_image(type, high);
    cv::Mat expected;
    cv::cvtColor(image, expected, image.channels() == 3 ? cv::COLOR_RGB2GRAY : cv::COLOR_RGBA2GRAY);
    EXPECT_TRUE(same_pixels(to_gray(image), expected)) << cv::typeToString(type);
  }
}

TEST(ToGray, OtherDepthsRoundTheLumaToNearest) {
  const cv::Mat rgb =
      (cv::Mat_<cv::Vec3s>(1, 2) << cv::Vec3s(100, 50, 10), cv::Vec3s(1000, 2000, 3000));
  const cv::Mat gray = to_gray(rgb);
  ASSERT_EQ(gray.type(), CV_16SC1);
  EXPECT_EQ(gray.at<short>(0), 60);    // 29.9 + 29.35 + 1.14 = 60.39
  EXPECT_EQ(gray.at<short>(1), 1815);  // 299 + 1174 + 342
}

TEST(ToGray, PassesGreyThroughTakesFirstOfTwoChannelsAndIgnoresAlpha) {
  const cv::Mat grey = random_image(CV_16UC1, 65536.0);
  EXPECT_TRUE(same_pixels(to_gray(grey), grey));
  cv::Mat pair;
  cv::merge(std::vector<cv::Mat>{grey, cv::Mat(grey.size(), CV_16UC1, cv::Scalar(9))}, pair);
  EXPECT_TRUE(same_pixels(to_gray(pair), grey));
  const cv::Mat rgb = random_image(CV_8UC3, 256.0);
  cv::Mat rgba;
  cv::cvtColor(rgb, rgba, cv::COLOR_RGB2RGBA);
  rgba.forEach<cv::Vec4b>([](cv::Vec4b& p, const int*) { p[3] = 17; });
  EXPECT_TRUE(same_pixels(to_gray(rgba), to_gray(rgb)));
}

TEST(ToGray, RejectsMoreThanFourChannels) {
  expect_invalid([] { to_gray(cv::Mat(2, 2, CV_8UC(5))); }, "to_gray: expects 1 to 4 channels");
}

TEST(Percentile, MatchesNumpyLinearInterpolationOnRamps) {
  for (int depth : {CV_8U, CV_16U, CV_32F, CV_32S}) {
    const cv::Mat r = ramp(101, depth);
    EXPECT_DOUBLE_EQ(percentile(r, 0), 0) << depth;
    EXPECT_NEAR(percentile(r, 1), 1, 1e-12) << depth;
    EXPECT_NEAR(percentile(r, 99.8), 99.8, 1e-9) << depth;
    EXPECT_DOUBLE_EQ(percentile(r, 100), 100) << depth;
    EXPECT_NEAR(percentile(ramp(10, depth), 25), 2.25, 1e-12) << depth;  // numpy: position 0.25 * 9
  }
}

TEST(Normalize, PercentileModeMapsLowAndHighPercentilesToBlackAndWhite) {
  const cv::Mat r = ramp(101, CV_8U);  // percentiles 1 and 99 are the values 1 and 99
  NormalizeOptions o{NormalizeMode::percentile, 1.0, 99.0, CV_32F, false};
  const cv::Mat unclipped = normalize_intensity(r, o);
  ASSERT_EQ(unclipped.type(), CV_32FC1);
  EXPECT_NEAR(unclipped.at<float>(1), 0.0, 1e-6);
  EXPECT_NEAR(unclipped.at<float>(50), 49.0 / 98.0, 1e-6);
  EXPECT_NEAR(unclipped.at<float>(99), 1.0, 1e-6);
  EXPECT_NEAR(unclipped.at<float>(0), -1.0 / 98.0, 1e-6);
  EXPECT_NEAR(unclipped.at<float>(100), 99.0 / 98.0, 1e-6);
  o.clip = true;
  const cv::Mat clipped = normalize_intensity(r, o);
  EXPECT_FLOAT_EQ(clipped.at<float>(0), 0.0f);
  EXPECT_FLOAT_EQ(clipped.at<float>(100), 1.0f);
  o.depth = -1;  // same: 8-bit, saturated
  const cv::Mat same = normalize_intensity(r, o);
  ASSERT_EQ(same.type(), CV_8UC1);
  EXPECT_EQ(same.at<uchar>(0), 0);
  EXPECT_EQ(same.at<uchar>(99), 255);
  EXPECT_EQ(same.at<uchar>(100), 255);
  EXPECT_NEAR(same.at<uchar>(50), 127.5, 0.5);
}

TEST(Normalize, MinMaxModeStretchesToTheOutputDepth) {
  const cv::Mat m = (cv::Mat_<uchar>(1, 3) << 10, 15, 20);
  const cv::Mat out = normalize_intensity(m, {NormalizeMode::min_max, 1, 99.8, CV_16U, true});
  ASSERT_EQ(out.type(), CV_16UC1);
  EXPECT_EQ(out.at<ushort>(0), 0);
  EXPECT_NEAR(out.at<ushort>(1), 32767.5, 0.5);
  EXPECT_EQ(out.at<ushort>(2), 65535);
}

TEST(Normalize, ColourChannelsAreStretchedTogether) {
  const cv::Mat rgb = (cv::Mat_<cv::Vec3b>(1, 2) << cv::Vec3b(50, 110, 150), cv::Vec3b(90, 90, 90));
  const cv::Mat out = normalize_intensity(rgb, {NormalizeMode::min_max, 0, 100, CV_8U, true});
  EXPECT_EQ(out.at<cv::Vec3b>(0), cv::Vec3b(0, 153, 255));  // (v - 50) * 255 / 100
  EXPECT_EQ(out.at<cv::Vec3b>(1), cv::Vec3b(102, 102, 102));
}

TEST(Normalize, ConstantImageGivesZeros) {
  const cv::Mat out = normalize_intensity(cv::Mat(3, 3, CV_16UC1, cv::Scalar(500)), {});
  EXPECT_EQ(cv::countNonZero(out), 0);
}

TEST(Normalize, RejectsLowAboveHighThroughTheRegistry) {
  expect_invalid(
      [] {
        builtin_ops().run("normalize", {{"image", Facet::image(ramp(10, CV_8U))}},
                          {{"low", 60}, {"high", 40}});
      },
      "normalize: the low percentile (60) must not exceed the high one (40)");
}

TEST(Resize, NearestReplicatesLabelsExactly) {
  const cv::Mat labels = (cv::Mat_<int>(2, 2) << 1, 70000, -3, 0);
  const cv::Mat big = resize_image(labels, cv::Size(4, 4), Interpolation::nearest);
  const cv::Mat expected =
      (cv::Mat_<int>(4, 4) << 1, 1, 70000, 70000, 1, 1, 70000, 70000, -3, -3, 0, 0, -3, -3, 0, 0);
  EXPECT_TRUE(same_pixels(big, expected));
}

TEST(Resize, AreaAveragesBlocks) {
  const cv::Mat m = (cv::Mat_<uchar>(2, 4) << 0, 10, 20, 40, 10, 20, 60, 80);
  const cv::Mat half = resize_image(m, cv::Size(2, 1), Interpolation::area);
  EXPECT_EQ(half.at<uchar>(0), 10);
  EXPECT_EQ(half.at<uchar>(1), 50);
}

TEST(Resize, InterpolatesDepthsOpenCvLacksThroughDoubles) {
  const cv::Mat m(5, 5, CV_32SC1, cv::Scalar(1000000007));
  const cv::Mat out = resize_image(m, cv::Size(3, 7), Interpolation::cubic);
  ASSERT_EQ(out.type(), CV_32SC1);
  EXPECT_TRUE(same_pixels(out, cv::Mat(7, 3, CV_32SC1, cv::Scalar(1000000007))));
  const cv::Mat wide = cv::Mat(4, 24, CV_8UC1, cv::Scalar(0)).reshape(6);
  EXPECT_EQ(resize_image(wide, cv::Size(2, 2), Interpolation::area).type(), CV_8UC(6));
}

TEST(Resize, OpComputesTheMissingSideFromTheAspectAndKeepsTheFacetKind) {
  const cv::Mat mask(10, 20, CV_8UC1, cv::Scalar(255));
  FacetMap out = builtin_ops().run("resize", {{"image", Facet::mask(mask)}},
                                   {{"width", 10}, {"interpolation", "nearest"}});
  EXPECT_EQ(out.at("image").mat.size(), cv::Size(10, 5));
  EXPECT_EQ(out.at("image").kind, FacetKind::mask);
  out = builtin_ops().run("resize", {{"image", Facet::image(mask)}}, {{"scale", 0.25}});
  EXPECT_EQ(out.at("image").mat.size(), cv::Size(5, 3));  // 2.5 rounds to 3 (away from zero)
  expect_invalid(
      [&] {
        builtin_ops().run("resize",
                          {{"image", Facet::labels(cv::Mat(4, 4, CV_32SC1, cv::Scalar(1)))}},
                          {{"scale", 2}});
      },
      "resize: a labels input must be resized with interpolation=nearest");
  expect_invalid(
      [&] {
        builtin_ops().run("resize", {{"image", Facet::image(mask)}}, {{"scale", 2}, {"width", 3}});
      },
      "resize: give width and/or height, or scale, not both");
}

TEST(Gamma, WorksOnTheTypesFullRange) {
  const cv::Mat eight = (cv::Mat_<uchar>(1, 3) << 0, 128, 255);
  const cv::Mat e = adjust_gamma(eight, 2.0);
  EXPECT_EQ(e.at<uchar>(0), 0);
  EXPECT_EQ(e.at<uchar>(1), 64);  // 255 * (128/255)^2 = 64.25
  EXPECT_EQ(e.at<uchar>(2), 255);
  const cv::Mat sixteen = (cv::Mat_<ushort>(1, 2) << 16384, 65535);
  const cv::Mat s = adjust_gamma(sixteen, 0.5);
  EXPECT_EQ(s.at<ushort>(0), 32768);  // sqrt(16384 * 65535) = 32767.75
  EXPECT_EQ(s.at<ushort>(1), 65535);
  const cv::Mat f = adjust_gamma((cv::Mat_<float>(1, 2) << 0.25f, 1.0f), 0.5);
  EXPECT_FLOAT_EQ(f.at<float>(0), 0.5f);
  EXPECT_FLOAT_EQ(f.at<float>(1), 1.0f);
}

TEST(Gamma, RejectsNegativeValues) {
  expect_invalid([] { adjust_gamma((cv::Mat_<float>(1, 2) << -0.5f, 0.5f), 2.0); },
                 "gamma: the image has negative values");
}

TEST(Clahe, SpreadsALowContrastImage) {
  cv::Mat low(64, 64, CV_8UC1);
  for (int y = 0; y < 64; ++y) {
    for (int x = 0; x < 64; ++x) low.at<uchar>(y, x) = static_cast<uchar>(100 + (x + y) % 11);
  }
  for (int depth : {CV_8U, CV_16U}) {
    cv::Mat input;
    low.convertTo(input, depth, depth == CV_8U ? 1.0 : 257.0);
    const cv::Mat out = clahe(input, 2.0, 4);
    ASSERT_EQ(out.type(), input.type());
    cv::Scalar mean_in, sd_in, mean_out, sd_out;
    cv::meanStdDev(input, mean_in, sd_in);
    cv::meanStdDev(out, mean_out, sd_out);
    EXPECT_GT(sd_out[0], 1.5 * sd_in[0]) << depth;
  }
}

TEST(Clahe, ColourImagesChangeLightnessOnly) {
  cv::Mat grey(32, 32, CV_8UC1);
  cv::randu(grey, 90, 130);
  cv::Mat rgb;
  cv::cvtColor(grey, rgb, cv::COLOR_GRAY2RGB);  // neutral: a = b = 0
  for (int depth : {CV_8U, CV_16U}) {
    cv::Mat input;
    rgb.convertTo(input, depth, depth == CV_8U ? 1.0 : 257.0);
    const cv::Mat out = clahe(input, 2.0, 2);
    ASSERT_EQ(out.type(), input.type());
    std::vector<cv::Mat> c;
    cv::split(out, c);
    const double tolerance = depth == CV_8U ? 2.0 : 2.0 * 257;
    EXPECT_LE(cv::norm(c[0], c[1], cv::NORM_INF), tolerance) << depth;
    EXPECT_LE(cv::norm(c[1], c[2], cv::NORM_INF), tolerance) << depth;
    cv::Scalar m_in, s_in, m_out, s_out;
    cv::meanStdDev(input.reshape(1), m_in, s_in);
    cv::meanStdDev(c[1], m_out, s_out);
    EXPECT_GT(s_out[0], 1.5 * s_in[0]) << depth;
  }
}

TEST(Clahe, RejectsFloatAndTwoChannelImages) {
  expect_invalid([] { clahe(cv::Mat(8, 8, CV_32FC1, cv::Scalar(0.5))); },
                 "clahe: needs 8- or 16-bit unsigned pixels, got CV_32FC1");
  expect_invalid([] { clahe(cv::Mat(8, 8, CV_8UC2, cv::Scalar(1, 2))); },
                 "clahe: expects a grey, RGB or RGBA image, got 2 channels");
}

TEST(VignetteCorrect, BlurModeFlattensAVignettedFlatImage) {
  for (int depth : {CV_16U, CV_32F, CV_8U}) {
    const cv::Mat image = vignette(cv::Size(160, 120),
                                   depth == CV_32F  ? 0.8
                                   : depth == CV_8U ? 200
                                                    : 40000,
                                   0.3, depth);
    ASSERT_GT(unevenness(image), 0.15);
    const cv::Mat corrected = divide_flat_field(image, flat_field_blur(image));
    ASSERT_EQ(corrected.type(), image.type());
    EXPECT_LT(unevenness(corrected), 0.02) << depth;
    EXPECT_NEAR(cv::mean(corrected)[0] / cv::mean(image)[0], 1.0, 0.02)
        << depth;  // brightness kept
  }
}

TEST(VignetteCorrect, BlurModeCorrectsEachColourChannel) {
  const cv::Mat r = vignette(cv::Size(96, 64), 200, 0.3, CV_8U);
  const cv::Mat g = vignette(cv::Size(96, 64), 150, 0.2, CV_8U);
  const cv::Mat b = vignette(cv::Size(96, 64), 100, 0.1, CV_8U);
  cv::Mat rgb;
  cv::merge(std::vector<cv::Mat>{r, g, b}, rgb);
  const FacetMap out = builtin_ops().run("vignette_correct", {{"image", Facet::image(rgb)}});
  const cv::Mat& corrected = out.at("image").mat;
  ASSERT_EQ(corrected.type(), CV_8UC3);
  std::vector<cv::Mat> planes;
  cv::split(corrected, planes);
  for (const cv::Mat& p : planes) EXPECT_LT(unevenness(p), 0.025);
  EXPECT_EQ(out.at("flat").mat.type(), CV_32FC3);
}

TEST(VignetteCorrect, StackMedianIgnoresMovingObjects) {
  const cv::Mat clean = vignette(cv::Size(64, 48), 30000, 0.4, CV_16U);
  std::vector<cv::Mat> stack;
  for (int i = 0; i < 5; ++i) {
    cv::Mat frame = clean.clone();
    cv::circle(frame, cv::Point(8 + 12 * i, 10 + 6 * i), 5, cv::Scalar(2000),
               cv::FILLED);  // a dark, moving object
    stack.push_back(frame);
  }
  const FacetMap out = builtin_ops().run(
      "vignette_correct", {{"image", Facet::image(clean)}, {"stack", Facet::list(stack)}},
      {{"mode", "stack_median"}});
  EXPECT_LT(unevenness(out.at("image").mat), 0.001);
  EXPECT_NEAR(cv::mean(out.at("flat").mat)[0], 1.0, 1e-6);
  ASSERT_EQ(out.at("images").mats.size(), 5u);
  // Away from its object, every corrected frame is flat too.
  const cv::Mat& last = out.at("images").mats[4];
  EXPECT_NEAR(last.at<ushort>(0, 63), last.at<ushort>(24, 32), 0.001 * last.at<ushort>(24, 32));
}

TEST(VignetteCorrect, MedianOfAnEvenStackAveragesTheMiddleTwo) {
  std::vector<cv::Mat> stack;
  for (uchar v : {10, 40, 20, 30}) stack.emplace_back(1, 2, CV_8UC1, cv::Scalar(v));
  stack[0].at<uchar>(1) = 50;  // second pixel: 50, 40, 20, 30 -> median 35; first: 25
  const cv::Mat flat = flat_field_median(stack);
  EXPECT_NEAR(flat.at<float>(0), 25.0 / 30.0, 1e-6);
  EXPECT_NEAR(flat.at<float>(1), 35.0 / 30.0, 1e-6);
}

TEST(VignetteCorrect, ReportsMissingAndMismatchedInputs) {
  const cv::Mat image(8, 8, CV_8UC1, cv::Scalar(10));
  expect_invalid(
      [&] {
        builtin_ops().run("vignette_correct", {{"image", Facet::image(image)}},
                          {{"mode", "stack_median"}});
      },
      "vignette_correct: mode stack_median needs the input 'stack'");
  expect_invalid([&] { builtin_ops().run("vignette_correct", {}); },
                 "vignette_correct: needs an input 'image'");
  expect_invalid(
      [&] {
        flat_field_median({image, cv::Mat(8, 9, CV_8UC1, cv::Scalar(1))});
      },
      "stack image 1 is 9x8 CV_8UC1, but image 0 is 8x8 CV_8UC1");
  expect_invalid([&] { divide_flat_field(image, cv::Mat(4, 4, CV_32FC1, cv::Scalar(1))); },
                 "the image is 8x8 with 1 channels but the flat field is 4x4 with 1");
}

TEST(Crop, CopiesTheArea) {
  cv::Mat m(4, 5, CV_8UC1);
  for (int i = 0; i < 20; ++i) m.at<uchar>(i / 5, i % 5) = static_cast<uchar>(i);
  const cv::Mat c = crop(m, cv::Rect(1, 2, 3, 2));
  EXPECT_TRUE(same_pixels(c, (cv::Mat_<uchar>(2, 3) << 11, 12, 13, 16, 17, 18)));
  const FacetMap out =
      builtin_ops().run("crop", {{"image", Facet::labels(m)}}, {{"x", 3}, {"y", 1}});
  EXPECT_EQ(out.at("image").mat.size(), cv::Size(2, 3));  // width and height 0 reach the edges
  EXPECT_EQ(out.at("image").kind, FacetKind::labels);
  EXPECT_EQ(out.at("image").mat.at<uchar>(0, 0), 8);
}

TEST(Crop, RejectsAreasOutsideTheImage) {
  const cv::Mat m(4, 5, CV_8UC1, cv::Scalar(0));
  expect_invalid([&] { crop(m, cv::Rect(3, 0, 3, 2)); },
                 "crop: area x=3 y=0 width=3 height=2 reaches past the 5x4 image");
  expect_invalid([&] { crop(m, cv::Rect(1, 1, 0, 2)); },
                 "crop: width and height must be positive, got 0x2");
  expect_invalid(
      [&] {
        builtin_ops().run("crop", {{"image", Facet::image(m)}}, {{"x", 10}});
      },
      "crop: the corner x=10 y=0 is outside the 5x4 image");
  expect_invalid(
      [&] {
        builtin_ops().run("crop", {{"image", Facet::image(m)}}, {{"x", -1}});
      },
      "crop: parameter 'x' must be in [0, 1000000000], got -1");
}

TEST(PreprocessOps, EachRunsThroughTheRegistryWithDefaults) {
  cv::Mat rgb(24, 32, CV_8UC3);
  cv::randu(rgb, 0, 256);
  for (const std::string name :
       {"to_gray", "normalize", "resize", "gamma", "clahe", "vignette_correct", "crop"}) {
    SCOPED_TRACE(name);
    const OpDescriptor& op = builtin_ops().get(name);
    EXPECT_FALSE(op.summary.empty());
    const FacetMap out = builtin_ops().run(name, {{"image", Facet::image(rgb)}});
    ASSERT_TRUE(out.count("image"));
    EXPECT_EQ(out.at("image").mat.size(), rgb.size());
    EXPECT_EQ(out.at("image").mat.depth(), CV_8U);
  }
}

TEST(PreprocessOps, HandleTinyImages) {
  for (const cv::Size size : {cv::Size(1, 1), cv::Size(5, 1), cv::Size(1, 4), cv::Size(3, 2)}) {
    for (const int type : {CV_8UC1, CV_16UC3}) {
      cv::Mat image(size, type);
      cv::randu(image, 0, 200);
      for (const std::string name :
           {"to_gray", "normalize", "resize", "gamma", "clahe", "vignette_correct", "crop"}) {
        EXPECT_NO_THROW(builtin_ops().run(name, {{"image", Facet::image(image)}}))
            << name << " " << size;
      }
    }
  }
}

TEST(VignetteCorrect, BlurModeKeepsASmallObjectOutOfTheFlatField) {
  cv::Mat image = vignette(cv::Size(160, 120), 0.8, 0.3, CV_32F);
  cv::Mat object(image.size(), CV_8UC1, cv::Scalar(0));
  cv::circle(object, cv::Point(60, 50), 3, cv::Scalar(255), cv::FILLED);
  image.setTo(0.15, object);
  const cv::Mat corrected = divide_flat_field(image, flat_field_blur(image));
  cv::Mat background;
  cv::dilate(object, background, cv::Mat(), cv::Point(-1, -1), 3);
  background = background == 0;
  double lo = 0, hi = 0;
  cv::minMaxLoc(corrected, &lo, &hi, nullptr, nullptr, background);
  const double mean = cv::mean(corrected, background)[0];
  EXPECT_LT(std::max(hi - mean, mean - lo) / mean, 0.02);
  EXPECT_LT(cv::mean(corrected, object)[0], 0.3);  // the object stays dark
}

}  // namespace
}  // namespace tessera::ops
