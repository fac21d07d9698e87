#include "tessera/app/generate_mask.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tessera/app/annotations.hpp"
#include "tessera/core/base64.hpp"
#include "tessera/core/error.hpp"
#include "tessera/image/encode.hpp"
#include "test_util.hpp"

namespace tessera::app {
namespace {

using catalog::Actor;
using catalog::Annotation;
using catalog::EditStatus;
using catalog::Id;
using nlohmann::json;

double iou(const cv::Mat& a, const cv::Mat& b) {
  return static_cast<double>(cv::countNonZero(a & b)) / std::max(1, cv::countNonZero(a | b));
}

// One 240x180 grey image in the catalog with its pixels in the blob store: a bright disk (the object) on a
// noisy background.
class GenerateMaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    workspace_ = std::make_unique<Workspace>(Workspace::init(dir_.path(), ""));
    auto& catalog = workspace_->catalog();
    project_ = catalog.ensure_project("lab").id;
    truth_ = cv::Mat::zeros(180, 240, CV_8U);
    cv::circle(truth_, {120, 90}, 30, 255, cv::FILLED);
    cv::Mat pixels(truth_.size(), CV_8U, cv::Scalar(50));
    pixels.setTo(180, truth_);
    cv::Mat noise(pixels.size(), CV_8U);
    cv::RNG(5).fill(noise, cv::RNG::UNIFORM, 0, 30);
    pixels += noise;
    catalog::NewImage image;
    image.blob_hash = workspace_->blobs().put(image::encode(pixels, ".png"));
    image.source_path = "cells.png";
    image.format = "png";
    image.width = pixels.cols;
    image.height = pixels.rows;
    image.channels = 1;
    image.pixel_type = "uint8";
    image_ = catalog.get_image(catalog.add_images(project_, {image}).added.at(0));
    tag_ = catalog.upsert_tags(project_, {catalog::TagSpec{"nucleus", "#00ff00", "label", std::nullopt}}).at(0).id;
    annotations_ = std::make_unique<Annotations>(*workspace_);
  }

  GenerateMaskRequest click(double x, double y) {
    GenerateMaskRequest r;
    r.image_id = image_.id;
    r.points = {{x, y, true}};
    return r;
  }

  std::vector<Annotation> stored() {
    catalog::ViewportQuery q;
    q.image_id = image_.id;
    return annotations_->in_viewport(q).annotations;
  }

  Annotation rect_mask(cv::Rect rect) {
    cv::Mat full = cv::Mat::zeros(truth_.size(), CV_8U);
    full(rect).setTo(255);
    const json body = {{"kind", "mask"},
                       {"bbox", {rect.x, rect.y, rect.br().x, rect.br().y}},
                       {"mask_png_base64", base64_encode(image::encode(cv::Mat(full(rect)), ".png"))}};
    return *annotations_->create(image_, alice_, body).annotation;
  }

  cv::Mat full_mask(const Annotation& a) {
    const std::string png = annotations_->mask_png(a);
    const cv::Mat crop = cv::imdecode(cv::Mat(1, static_cast<int>(png.size()), CV_8U, const_cast<char*>(png.data())),
                                      cv::IMREAD_GRAYSCALE);
    cv::Mat full = cv::Mat::zeros(truth_.size(), CV_8U);
    const auto& b = a.state.bbox;
    crop.copyTo(full(cv::Rect(static_cast<int>(b.x0), static_cast<int>(b.y0), crop.cols, crop.rows)));
    return full;
  }

  ErrorCode error_of(const GenerateMaskRequest& request, std::string* field) {
    try {
      generate_mask(*workspace_, request, alice_);
    } catch (const Error& e) {
      *field = e.details().is_object() && e.details().contains("field") ? e.details()["field"].get<std::string>() : "";
      return e.code();
    }
    ADD_FAILURE() << "no error";
    return ErrorCode::internal;
  }

  test::TempDir dir_;
  std::unique_ptr<Workspace> workspace_;
  std::unique_ptr<Annotations> annotations_;
  Id project_ = 0;
  Id tag_ = 0;
  catalog::ImageRecord image_;
  cv::Mat truth_;
  Actor alice_{std::nullopt, "alice"};
  Actor bob_{std::nullopt, "bob"};
};

TEST_F(GenerateMaskTest, PreviewReturnsTheMaskAndStoresNothing) {
  const GenerateMaskOutcome out = generate_mask(*workspace_, click(120, 90), alice_);
  EXPECT_EQ(out.status, EditStatus::applied);
  EXPECT_GT(iou(out.mask, truth_), 0.85);
  EXPECT_EQ(out.bbox, cv::boundingRect(out.mask));
  EXPECT_EQ(out.segmenter, "graph_cut");
  EXPECT_GT(out.confidence, 0.5);
  EXPECT_FALSE(out.annotation);
  EXPECT_TRUE(stored().empty());
  const json j = generated_mask_json(out, "rle");
  EXPECT_EQ(j["bbox"][2].get<int>() - j["bbox"][0].get<int>(), out.bbox.width);
  EXPECT_TRUE(j.contains("mask_rle"));
}

TEST_F(GenerateMaskTest, SaveStoresAGeneratedMaskWithItsPromptsTagAndColour) {
  GenerateMaskRequest r = click(120, 90);
  r.points.push_back({10, 10, false});
  r.tag_id = tag_;
  r.color = "#AABBCC";
  r.save = true;
  const GenerateMaskOutcome out = generate_mask(*workspace_, r, alice_);
  ASSERT_TRUE(out.annotation);
  const Annotation& a = *out.annotation;
  EXPECT_EQ(a.state.kind, "mask");
  EXPECT_EQ(a.state.source, "generated");
  EXPECT_EQ(a.state.source_ref["segmenter"], "graph_cut");
  EXPECT_EQ(a.state.source_ref["points"], json::parse(R"([[120.0, 90.0, "+"], [10.0, 10.0, "-"]])"));
  EXPECT_EQ(a.state.tag_id, tag_);
  EXPECT_EQ(a.state.color, "#aabbcc");
  EXPECT_NEAR(*a.state.confidence, out.confidence, 1e-9);
  EXPECT_EQ(full_mask(a).size(), truth_.size());
  EXPECT_GT(iou(full_mask(a), truth_), 0.85);
  EXPECT_EQ(annotations_->history(a.id).size(), 1u);
}

TEST_F(GenerateMaskTest, TakeMovesPixelsFromOtherMasksAndJournalsTheirChange) {
  const Annotation other = rect_mask({130, 60, 60, 60});  // overlaps the disk's right part
  const Annotation covered = rect_mask({110, 85, 10, 10});  // inside the disk: it disappears
  GenerateMaskRequest r = click(120, 90);
  r.overlap = MaskOverlap::take;
  r.save = true;
  const GenerateMaskOutcome out = generate_mask(*workspace_, r, alice_);
  ASSERT_TRUE(out.annotation);
  ASSERT_EQ(out.updated.size(), 1u);
  EXPECT_EQ(out.updated[0].id, other.id);
  EXPECT_EQ(out.updated[0].version, 2);
  EXPECT_EQ(out.deleted, std::vector<Id>{covered.id});
  const cv::Mat now = full_mask(annotations_->get(other.id));
  EXPECT_EQ(cv::countNonZero(now & full_mask(*out.annotation)), 0);
  EXPECT_GT(cv::countNonZero(now), 0);
  EXPECT_TRUE(annotations_->get(covered.id).deleted);
}

TEST_F(GenerateMaskTest, ClipKeepsOtherMasksAndCutsTheNewOne) {
  const Annotation other = rect_mask({130, 60, 60, 60});
  GenerateMaskRequest r = click(120, 90);
  r.overlap = MaskOverlap::clip;
  r.save = true;
  const GenerateMaskOutcome out = generate_mask(*workspace_, r, alice_);
  ASSERT_TRUE(out.annotation);
  EXPECT_TRUE(out.updated.empty());
  EXPECT_EQ(annotations_->get(other.id).version, 1);
  EXPECT_EQ(cv::countNonZero(full_mask(*out.annotation) & full_mask(other)), 0);
  EXPECT_EQ(cv::countNonZero(out.mask(cv::Rect(130, 60, 60, 60))), 0);
}

TEST_F(GenerateMaskTest, LockedImageStoresNothingAndChangesNoOtherMask) {
  const Annotation other = rect_mask({130, 60, 60, 60});
  ASSERT_EQ(annotations_->acquire_lock(image_.id, bob_).status, catalog::LockStatus::acquired);
  GenerateMaskRequest r = click(120, 90);
  r.overlap = MaskOverlap::take;
  r.save = true;
  const GenerateMaskOutcome out = generate_mask(*workspace_, r, alice_);
  EXPECT_EQ(out.status, EditStatus::locked);
  ASSERT_TRUE(out.lease);
  EXPECT_EQ(out.lease->holder, "bob");
  EXPECT_FALSE(out.annotation);
  EXPECT_EQ(stored().size(), 1u);
  EXPECT_EQ(annotations_->get(other.id).version, 1);
}

TEST_F(GenerateMaskTest, BadRequestsNameTheFieldAndStoreNothing) {
  std::string field;
  GenerateMaskRequest outside = click(240, 10);  // x == width
  outside.save = true;
  EXPECT_EQ(error_of(outside, &field), ErrorCode::invalid_argument);
  EXPECT_EQ(field, "points");
  GenerateMaskRequest negative = click(120, 90);
  negative.points[0].positive = false;
  negative.save = true;
  EXPECT_EQ(error_of(negative, &field), ErrorCode::invalid_argument);
  EXPECT_EQ(field, "points");
  GenerateMaskRequest tag = click(120, 90);
  tag.tag_id = tag_ + 100;
  tag.save = true;
  EXPECT_EQ(error_of(tag, &field), ErrorCode::not_found);
  EXPECT_EQ(field, "tag_id");
  GenerateMaskRequest color = click(120, 90);
  color.color = "#12345";
  color.save = true;
  EXPECT_EQ(error_of(color, &field), ErrorCode::invalid_argument);
  EXPECT_EQ(field, "mask_color");
  GenerateMaskRequest frame = click(120, 90);
  frame.frame_index = 1;
  frame.save = true;
  EXPECT_EQ(error_of(frame, &field), ErrorCode::invalid_argument);
  EXPECT_EQ(field, "frame_index");
  GenerateMaskRequest image = click(120, 90);
  image.image_id = image_.id + 100;
  EXPECT_EQ(error_of(image, &field), ErrorCode::not_found);
  EXPECT_THROW(parse_overlap("merge"), Error);
  EXPECT_TRUE(stored().empty());
}

TEST_F(GenerateMaskTest, PromptPointsParseBothJsonForms) {
  const auto points = parse_prompt_points(json::parse(R"([{"x": 1, "y": 2, "positive": false}, [3, 4, "+"], [5, 6]])"));
  ASSERT_EQ(points.size(), 3u);
  EXPECT_FALSE(points[0].positive);
  EXPECT_TRUE(points[1].positive);
  EXPECT_EQ(points[2].x, 5);
  EXPECT_THROW(parse_prompt_points(json::parse(R"([[1, 2, "?"]])")), Error);
  EXPECT_THROW(parse_prompt_points(json::parse(R"({"x": 1})")), Error);
}

}  // namespace
}  // namespace tessera::app
