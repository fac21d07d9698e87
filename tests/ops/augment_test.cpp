#include "tessera/ops/augment.hpp"

#include <string>

#include <gtest/gtest.h>

#include "tessera/core/error.hpp"
#include "tessera/ops/registry.hpp"

namespace tessera::ops {
namespace {

bool same_pixels(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

const cv::Mat& two_by_three() {
  static const cv::Mat m = (cv::Mat_<int>(2, 3) << 1, 2, 3, 4, 5, 6);
  return m;
}

TEST(Rotate90, TurnsCounterclockwiseLikeNumpyRot90) {
  const cv::Mat& m = two_by_three();
  EXPECT_TRUE(same_pixels(rotate90(m, 1), (cv::Mat_<int>(3, 2) << 3, 6, 2, 5, 1, 4)));
  EXPECT_TRUE(same_pixels(rotate90(m, 2), (cv::Mat_<int>(2, 3) << 6, 5, 4, 3, 2, 1)));
  EXPECT_TRUE(same_pixels(rotate90(m, 3), (cv::Mat_<int>(3, 2) << 4, 1, 5, 2, 6, 3)));
  EXPECT_TRUE(same_pixels(rotate90(m, -1), rotate90(m, 3)));
  EXPECT_TRUE(same_pixels(rotate90(m, 4), m));
  EXPECT_TRUE(same_pixels(rotate90(m, -6), rotate90(m, 2)));
}

TEST(Rotate90, ResultDoesNotShareThePixels) {
  cv::Mat m = two_by_three().clone();
  const cv::Mat same = rotate90(m, 0);
  m.at<int>(0, 0) = 99;
  EXPECT_EQ(same.at<int>(0, 0), 1);
}

TEST(Rotate90, HandlesPixelsWiderThanFourChannels) {
  cv::Mat wide(2, 3, CV_64FC(6));
  for (int i = 0; i < 36; ++i) reinterpret_cast<double*>(wide.data)[i] = i;
  const cv::Mat turned = rotate90(wide, 1);
  ASSERT_EQ(turned.size(), cv::Size(2, 3));
  ASSERT_EQ(turned.type(), CV_64FC(6));
  // out(0, 0) = in(0, 2): the top-right pixel, whose channels are 12..17.
  const double* p = turned.ptr<double>(0, 0);
  for (int c = 0; c < 6; ++c) EXPECT_EQ(p[c], 12 + c);
}

TEST(Flip, MirrorsAlongEachAxis) {
  const cv::Mat& m = two_by_three();
  EXPECT_TRUE(
      same_pixels(flip(m, FlipAxis::horizontal), (cv::Mat_<int>(2, 3) << 3, 2, 1, 6, 5, 4)));
  EXPECT_TRUE(same_pixels(flip(m, FlipAxis::vertical), (cv::Mat_<int>(2, 3) << 4, 5, 6, 1, 2, 3)));
  EXPECT_TRUE(same_pixels(flip(m, FlipAxis::both), (cv::Mat_<int>(2, 3) << 6, 5, 4, 3, 2, 1)));
}

TEST(Translate, FillsTheUncoveredSideByEachBorderRule) {
  const cv::Mat row = (cv::Mat_<uchar>(1, 4) << 1, 2, 3, 4);
  struct Case {
    int dx;
    Border border;
    std::vector<uchar> expected;
  };
  const std::vector<Case> cases = {
      {1, Border::constant, {9, 1, 2, 3}},
      {1, Border::reflect, {1, 1, 2, 3}},
      {1, Border::wrap, {4, 1, 2, 3}},
      {-2, Border::constant, {3, 4, 9, 9}},
      {-2, Border::reflect, {3, 4, 4, 3}},
      {-2, Border::wrap, {3, 4, 1, 2}},
      {0, Border::constant, {1, 2, 3, 4}},
      // Shifts longer than the image: wrap is periodic, reflect repeats abcd dcba.
      {5, Border::wrap, {4, 1, 2, 3}},
      {6, Border::reflect, {3, 4, 4, 3}},
      {-9, Border::constant, {9, 9, 9, 9}},
  };
  for (const Case& c : cases) {
    const cv::Mat out = translate(row, c.dx, 0, c.border, 9);
    EXPECT_TRUE(same_pixels(out, cv::Mat(c.expected).reshape(1, 1)))
        << "dx " << c.dx << " border " << static_cast<int>(c.border) << ": " << out;
  }
}

TEST(Translate, ShiftsRowsDownAndKeepsLabelsExact) {
  const cv::Mat labels = (cv::Mat_<int>(3, 2) << 2000000001, 7, -5, 0, 3, 4);
  EXPECT_TRUE(same_pixels(translate(labels, 0, 1, Border::constant),
                          (cv::Mat_<int>(3, 2) << 0, 0, 2000000001, 7, -5, 0)));
  EXPECT_TRUE(same_pixels(translate(labels, 1, -1, Border::wrap),
                          (cv::Mat_<int>(3, 2) << 0, -5, 4, 3, 7, 2000000001)));
}

TEST(Translate, SaturatesTheFillValueOnEveryChannel) {
  const cv::Mat rgb(2, 2, CV_8UC3, cv::Scalar(1, 2, 3));
  const cv::Mat out = translate(rgb, 1, 0, Border::constant, 300);
  EXPECT_EQ(out.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 255, 255));
  EXPECT_EQ(out.at<cv::Vec3b>(1, 1), cv::Vec3b(1, 2, 3));
}

TEST(AugmentOps, RunThroughTheRegistryKeepingTheFacetKind) {
  const cv::Mat labels = two_by_three();
  FacetMap out = builtin_ops().run("rotate90", {{"image", Facet::labels(labels)}}, {{"k", -1}});
  EXPECT_EQ(out.at("image").kind, FacetKind::labels);
  EXPECT_TRUE(same_pixels(out.at("image").mat, rotate90(labels, 3)));

  const cv::Mat mask = (cv::Mat_<uchar>(2, 2) << 255, 0, 0, 0);
  out = builtin_ops().run("flip", {{"image", Facet::mask(mask)}}, {{"axis", "both"}});
  EXPECT_EQ(out.at("image").kind, FacetKind::mask);
  EXPECT_EQ(out.at("image").mat.at<uchar>(1, 1), 255);

  out = builtin_ops().run("translate", {{"image", Facet::image(labels)}},
                          {{"dx", "1"}, {"border", "wrap"}});
  EXPECT_TRUE(same_pixels(out.at("image").mat, (cv::Mat_<int>(2, 3) << 3, 1, 2, 6, 4, 5)));

  for (const std::string name : {"rotate90", "flip", "translate"}) {
    EXPECT_NO_THROW(builtin_ops().run(
        name, {{"image", Facet::image(cv::Mat(3, 4, CV_16UC3, cv::Scalar(1, 2, 3)))}}))
        << name;
  }
}

TEST(AugmentOps, RejectBadParametersNamingThem) {
  const FacetMap in = {{"image", Facet::image(two_by_three())}};
  try {
    builtin_ops().run("flip", in, {{"axis", "diagonal"}});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "flip: parameter 'axis' must be one of horizontal, vertical, both, got \"diagonal\"");
  }
  EXPECT_THROW(builtin_ops().run("rotate90", in, {{"k", 1.5}}), Error);
  EXPECT_THROW(builtin_ops().run("translate", in, {{"border", "mirror"}}), Error);
}

}  // namespace
}  // namespace tessera::ops
