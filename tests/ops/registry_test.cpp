#include "tessera/ops/registry.hpp"

#include <cctype>
#include <regex>

#include <gmock/gmock.h>
#include <opencv2/imgproc.hpp>
#include <gtest/gtest.h>

#include "tessera/core/error.hpp"

namespace tessera::ops {
namespace {

using ::testing::HasSubstr;

// A 32x32 8-bit image with two bright blobs (one with a hole) on a gradient.
cv::Mat tiny_image() {
  cv::Mat m(32, 32, CV_8UC1);
  for (int r = 0; r < 32; ++r)
    for (int c = 0; c < 32; ++c) m.at<uint8_t>(r, c) = static_cast<uint8_t>(20 + r + c / 2);
  cv::rectangle(m, cv::Rect(4, 4, 8, 8), cv::Scalar(220), cv::FILLED);
  m.at<uint8_t>(7, 7) = 20;
  cv::circle(m, cv::Point(22, 22), 5, cv::Scalar(200), cv::FILLED);
  return m;
}

Facet facet_for(FacetKind kind) {
  const cv::Mat image = tiny_image();
  const cv::Mat mask = image > 150;
  cv::Mat labels;
  cv::connectedComponents(mask, labels, 8, CV_32S);
  switch (kind) {
    case FacetKind::image: return Facet::image(image);
    case FacetKind::mask: return Facet::mask(mask);
    case FacetKind::labels: return Facet::labels(labels);
    case FacetKind::table: return Facet::rows(nlohmann::json::array());
    case FacetKind::images: return Facet::list({image, image + 5, image + 10});
  }
  return Facet::image(image);
}

TEST(OpRegistry, EveryOpIsWellDeclared) {
  const std::regex snake("^[a-z][a-z0-9]*(_[a-z0-9]+)*$");
  const auto ops = builtin_ops().list();
  ASSERT_GE(ops.size(), 7u);
  for (const OpDescriptor* op : ops) {
    SCOPED_TRACE(op->name);
    EXPECT_TRUE(std::regex_match(op->name, snake));
    EXPECT_FALSE(op->summary.empty());
    EXPECT_TRUE(op->run);
    EXPECT_FALSE(op->outputs.empty());
    for (const ParamSpec& p : op->params) {
      EXPECT_TRUE(std::regex_match(p.name, snake)) << p.name;
      EXPECT_FALSE(p.help.empty()) << p.name;
    }
    // Defaults pass validation (add() checks too) and fill every parameter.
    const auto params = builtin_ops().validate(op->name, nlohmann::json::object());
    EXPECT_EQ(params.size(), op->params.size());
  }
}

TEST(OpRegistry, EveryOpRunsOnATinyGeneratedImage) {
  for (const OpDescriptor* op : builtin_ops().list()) {
    SCOPED_TRACE(op->name);
    FacetMap inputs;
    for (const FacetSpec& f : op->inputs) inputs[f.name] = facet_for(f.kind);
    FacetMap out;
    ASSERT_NO_THROW(out = builtin_ops().run(op->name, inputs));
    for (const FacetSpec& f : op->outputs) {
      if (f.optional) continue;
      ASSERT_TRUE(out.count(f.name)) << "missing output " << f.name;
      EXPECT_EQ(out[f.name].kind, f.kind) << f.name;
    }
  }
}

TEST(OpRegistry, ValidationErrorsNameTheOpAndTheParameter) {
  struct Case {
    const char* op;
    nlohmann::json params;
    const char* message;
  } cases[] = {
      {"threshold_otsu", {{"bins", 1}}, "threshold_otsu: parameter 'bins' must be in [2, 65536], got 1"},
      {"threshold_otsu", {{"bins", 2.5}}, "threshold_otsu: parameter 'bins' must be an integer, got 2.5"},
      {"threshold_otsu", {{"bins", "many"}}, "threshold_otsu: parameter 'bins' must be a number, got 'many'"},
      {"threshold_otsu", {{"bogus", 1}}, "threshold_otsu: unknown parameter 'bogus' (parameters: bins, dark_objects)"},
      {"threshold_otsu", {{"dark_objects", "maybe"}}, "threshold_otsu: parameter 'dark_objects' must be true or false"},
      {"label", {{"connectivity", 3}}, "label: parameter 'connectivity' must be in [1, 2], got 3"},
      {"threshold_quantile", {{"quantile", -0.1}}, "threshold_quantile: parameter 'quantile' must be in [0, 1], got -0.1"},
  };
  for (const auto& c : cases) {
    try {
      builtin_ops().validate(c.op, c.params);
      FAIL() << "accepted " << c.params.dump();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
      EXPECT_THAT(e.what(), HasSubstr(c.message));
    }
  }
}

TEST(OpRegistry, CommandLineTextIsConvertedToTheDeclaredType) {
  const auto p = builtin_ops().validate("threshold_otsu", {{"bins", "128"}, {"dark_objects", "true"}});
  EXPECT_EQ(p["bins"], 128);
  EXPECT_TRUE(p["bins"].is_number_integer());
  EXPECT_EQ(p["dark_objects"], true);
}

TEST(OpRegistry, UnknownOpIsNotFound) {
  try {
    builtin_ops().get("threshold_otsuu");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_THAT(e.what(), HasSubstr("threshold_otsu"));
  }
}

TEST(OpRegistry, MissingOrWrongInputsAreReported) {
  EXPECT_THROW(builtin_ops().run("label", {}), Error);
  FacetMap wrong{{"mask", Facet::mask(cv::Mat(4, 4, CV_8UC3))}};
  EXPECT_THROW(builtin_ops().run("label", wrong), Error);
}

TEST(OpRegistry, OtsuThroughTheRegistryGivesTheSameMaskAsTheFunction) {
  FacetMap in{{"image", Facet::image(tiny_image())}};
  auto out = builtin_ops().run("threshold_otsu", in);
  EXPECT_GT(cv::countNonZero(out["mask"].mat), 0);
  EXPECT_TRUE(out["threshold"].table[0].contains("threshold"));
}

}  // namespace
}  // namespace tessera::ops
