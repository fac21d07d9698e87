#include "tessera/app/mask_edits.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

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

class MaskEditsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    workspace_ = std::make_unique<Workspace>(Workspace::init(dir_.path(), ""));
    auto& catalog = workspace_->catalog();
    project_ = catalog.ensure_project("lab").id;
    std::vector<catalog::NewImage> images;
    for (int i = 0; i < 4; ++i) {
      catalog::NewImage image;
      image.blob_hash = std::string(63, 'b') + std::to_string(i);
      image.source_path = fmt::format("frame_{}.tif", i);
      image.format = "tiff";
      image.width = 120;
      image.height = 80;
      image.channels = 1;
      image.pixel_type = "uint8";
      if (i > 0) {  // image 0 stands alone; 1..3 are the frames of a series
        image.series = catalog::SeriesRef{"movie"};
        image.frame_index = i - 1;
      }
      images.push_back(image);
    }
    for (Id id : catalog.add_images(project_, images).added) images_.push_back(catalog.get_image(id));
    series_ = *images_[1].series_id;
    const auto tags = catalog.upsert_tags(project_, {catalog::TagSpec{"nucleus", "#00ff00", "label", std::nullopt},
                                                     catalog::TagSpec{"debris", "#ff0000", "label", std::nullopt}});
    nucleus_ = tags.at(0).id;
    debris_ = tags.at(1).id;
    annotations_ = std::make_unique<Annotations>(*workspace_);
    edits_ = std::make_unique<MaskEdits>(*workspace_);
  }

  Annotation create_mask(const catalog::ImageRecord& image, const cv::Mat& full, Id tag) {
    const cv::Rect box = cv::boundingRect(full);
    const json body = {{"kind", "mask"},
                       {"bbox", {box.x, box.y, box.br().x, box.br().y}},
                       {"mask_png_base64", base64_encode(image::encode(cv::Mat(full(box) != 0), ".png"))},
                       {"tag_id", tag},
                       {"color", "#112233"},
                       {"source", "propagated"}};
    const catalog::EditResult r = annotations_->create(image, alice_, body);
    EXPECT_EQ(r.status, EditStatus::applied);
    return *r.annotation;
  }

  Annotation rect_annotation(const catalog::ImageRecord& image, cv::Rect rect, Id tag) {
    cv::Mat full(image.height, image.width, CV_8U, cv::Scalar(0));
    full(rect).setTo(255);
    return create_mask(image, full, tag);
  }

  // The stored mask of an annotation placed in an image-size canvas.
  cv::Mat full_mask(const Annotation& a) {
    const std::string png = annotations_->mask_png(a);
    const cv::Mat crop = cv::imdecode(cv::Mat(1, static_cast<int>(png.size()), CV_8U, const_cast<char*>(png.data())),
                                      cv::IMREAD_GRAYSCALE);
    cv::Mat full(images_[0].height, images_[0].width, CV_8U, cv::Scalar(0));
    const auto& b = a.state.bbox;
    crop.copyTo(full(cv::Rect(int(b.x0), int(b.y0), int(b.x1 - b.x0), int(b.y1 - b.y0))));
    return full;
  }

  template <typename Fn>
  std::string invalid_field(Fn&& fn) {
    try {
      fn();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.what();
      return e.details().value("field", std::string());
    }
    ADD_FAILURE() << "no error";
    return "";
  }

  test::TempDir dir_;
  std::unique_ptr<Workspace> workspace_;
  std::unique_ptr<Annotations> annotations_;
  std::unique_ptr<MaskEdits> edits_;
  Id project_ = 0, series_ = 0, nucleus_ = 0, debris_ = 0;
  std::vector<catalog::ImageRecord> images_;
  Actor alice_{std::nullopt, "alice"};
  Actor bob_{std::nullopt, "bob"};
};

TEST_F(MaskEditsTest, StrokeMergeKeepsTheOldestMaskAndDeletesTheOthersUndoably) {
  const auto& image = images_[0];
  const Annotation left = rect_annotation(image, {10, 20, 20, 20}, nucleus_);
  const Annotation right = rect_annotation(image, {36, 20, 20, 20}, nucleus_);
  const Annotation far = rect_annotation(image, {90, 50, 10, 10}, nucleus_);
  MergeRequest request;
  request.image_id = image.id;
  request.stroke = segment::Stroke{{{5, 30}, {70, 30}}, 3};
  const MaskEditOutcome out = edits_->merge(request, alice_);
  ASSERT_EQ(out.status, EditStatus::applied);
  ASSERT_EQ(out.updated.size(), 1U);
  ASSERT_EQ(out.deleted.size(), 1U);
  EXPECT_EQ(out.updated[0].id, left.id);
  EXPECT_EQ(out.deleted[0].id, right.id);
  EXPECT_EQ(out.updated[0].state.source, "manual");
  EXPECT_EQ(out.updated[0].state.tag_id, nucleus_);
  EXPECT_EQ(out.updated[0].state.bbox, (catalog::BBox{10, 20, 56, 40}));
  const cv::Mat merged = full_mask(annotations_->get(left.id));
  EXPECT_EQ(merged.at<std::uint8_t>(30, 33), 255);  // the bridge
  EXPECT_EQ(merged.at<std::uint8_t>(22, 33), 0);
  EXPECT_EQ(cv::countNonZero(merged), 800 + cv::countNonZero(merged(cv::Rect(30, 20, 6, 20))));
  EXPECT_TRUE(annotations_->get(right.id).deleted);
  EXPECT_EQ(annotations_->get(far.id).version, 1);
  EXPECT_EQ(annotations_->history(left.id).back().action, "update");

  // Both halves of the edit are ordinary journaled versions: undo brings the parts back.
  EXPECT_EQ(annotations_->undo(right.id, alice_, std::nullopt).status, EditStatus::applied);
  EXPECT_EQ(annotations_->undo(left.id, alice_, std::nullopt).status, EditStatus::applied);
  EXPECT_FALSE(annotations_->get(right.id).deleted);
  EXPECT_EQ(annotations_->get(left.id).state.bbox, left.state.bbox);
}

TEST_F(MaskEditsTest, MergeByIdsUnitesMasksThatDoNotTouch) {
  const auto& image = images_[0];
  const Annotation a = rect_annotation(image, {10, 10, 10, 10}, nucleus_);
  const Annotation b = rect_annotation(image, {50, 40, 10, 10}, nucleus_);
  MergeRequest request;
  request.image_id = image.id;
  request.annotation_ids = {b.id, a.id};
  const MaskEditOutcome out = edits_->merge(request, alice_);
  ASSERT_EQ(out.status, EditStatus::applied);
  EXPECT_EQ(out.updated.at(0).id, a.id);
  EXPECT_EQ(cv::countNonZero(full_mask(out.updated[0])), 200);
  EXPECT_TRUE(annotations_->get(b.id).deleted);
}

TEST_F(MaskEditsTest, BadMergesNameTheFieldAndChangeNothing) {
  const auto& image = images_[0];
  const Annotation a = rect_annotation(image, {10, 20, 20, 20}, nucleus_);
  const Annotation b = rect_annotation(image, {36, 20, 20, 20}, nucleus_);
  const Annotation polygon =
      *annotations_
           ->create(image, alice_, json{{"kind", "polygon"}, {"geometry", {{"points", {{1, 1}, {5, 1}, {5, 5}}}}}})
           .annotation;
  MergeRequest touch_one;
  touch_one.image_id = image.id;
  touch_one.stroke = segment::Stroke{{{12, 30}, {20, 30}}, 3};
  EXPECT_EQ(invalid_field([&] { edits_->merge(touch_one, alice_); }), "stroke");
  MergeRequest outside = touch_one;
  outside.stroke = segment::Stroke{{{12, 30}, {500, 30}}, 3};
  EXPECT_EQ(invalid_field([&] { edits_->merge(outside, alice_); }), "stroke.points[1]");
  MergeRequest ids;
  ids.image_id = image.id;
  ids.annotation_ids = {a.id};
  EXPECT_EQ(invalid_field([&] { edits_->merge(ids, alice_); }), "annotation_ids");
  ids.annotation_ids = {a.id, polygon.id};
  EXPECT_EQ(invalid_field([&] { edits_->merge(ids, alice_); }), "annotation_ids[1]");
  ids.annotation_ids = {a.id, a.id};
  EXPECT_EQ(invalid_field([&] { edits_->merge(ids, alice_); }), "annotation_ids[1]");
  ids.annotation_ids = {a.id, 999999};
  EXPECT_THROW(edits_->merge(ids, alice_), Error);
  EXPECT_EQ(annotations_->get(a.id).version, 1);
  EXPECT_EQ(annotations_->get(b.id).version, 1);
}

TEST_F(MaskEditsTest, AStaleVersionPartWayUndoesTheWritesBeforeIt) {
  const auto& image = images_[0];
  const Annotation a = rect_annotation(image, {10, 20, 20, 20}, nucleus_);
  const Annotation b = rect_annotation(image, {36, 20, 20, 20}, nucleus_);
  MergeRequest request;
  request.image_id = image.id;
  request.annotation_ids = {a.id, b.id};
  request.versions = {{b.id, 7}};  // a is updated first, then b's delete is refused
  const MaskEditOutcome out = edits_->merge(request, alice_);
  EXPECT_EQ(out.status, EditStatus::stale);
  ASSERT_TRUE(out.current.has_value());
  EXPECT_EQ(out.current->id, b.id);
  EXPECT_TRUE(out.updated.empty());
  const Annotation a_now = annotations_->get(a.id);
  EXPECT_EQ(a_now.state.bbox, a.state.bbox);
  EXPECT_EQ(a_now.state.source, "propagated");
  EXPECT_FALSE(annotations_->get(b.id).deleted);
}

TEST_F(MaskEditsTest, LockedImageRefusesEveryEditAndChangesNothing) {
  const auto& image = images_[0];
  const Annotation a = rect_annotation(image, {10, 20, 20, 20}, nucleus_);
  const Annotation b = rect_annotation(image, {36, 20, 20, 20}, nucleus_);
  ASSERT_EQ(annotations_->acquire_lock(image.id, bob_).status, catalog::LockStatus::acquired);
  MergeRequest merge;
  merge.image_id = image.id;
  merge.annotation_ids = {a.id, b.id};
  MaskEditOutcome out = edits_->merge(merge, alice_);
  EXPECT_EQ(out.status, EditStatus::locked);
  ASSERT_TRUE(out.lease.has_value());
  EXPECT_EQ(out.lease->holder, "bob");
  SplitRequest split;
  split.annotation_id = a.id;
  split.markers = {{12, 25}, {25, 35}};
  EXPECT_EQ(edits_->split(split, alice_).status, EditStatus::locked);
  EXPECT_EQ(edits_->remove(a.id, alice_).status, EditStatus::locked);
  EXPECT_EQ(annotations_->get(a.id).version, 1);
  EXPECT_EQ(annotations_->get(b.id).version, 1);
  EXPECT_EQ(edits_->list_in_image(image.id).masks.size(), 2U);
}

TEST_F(MaskEditsTest, SplitKeepsTheFirstPartAndCreatesTheOthersWithTheSameTag) {
  const auto& image = images_[0];
  cv::Mat dumbbell(image.height, image.width, CV_8U, cv::Scalar(0));
  cv::circle(dumbbell, {30, 40}, 15, cv::Scalar(255), cv::FILLED);
  cv::circle(dumbbell, {80, 40}, 15, cv::Scalar(255), cv::FILLED);
  cv::line(dumbbell, {30, 40}, {80, 40}, cv::Scalar(255), 3);
  const Annotation original = create_mask(image, dumbbell, nucleus_);
  SplitRequest request;
  request.annotation_id = original.id;
  request.markers = {{30, 40}, {80, 40}};
  const MaskEditOutcome out = edits_->split(request, alice_);
  ASSERT_EQ(out.status, EditStatus::applied);
  ASSERT_EQ(out.updated.size(), 1U);
  ASSERT_EQ(out.created.size(), 1U);
  const Annotation& kept = out.updated[0];
  const Annotation& part = out.created[0];
  EXPECT_EQ(kept.id, original.id);
  EXPECT_EQ(part.state.tag_id, nucleus_);
  EXPECT_EQ(part.state.color, "#112233");
  EXPECT_EQ(part.state.source, "manual");
  EXPECT_EQ(part.state.frame_index, original.state.frame_index);
  EXPECT_LT(kept.state.bbox.x1, 60);
  EXPECT_GT(part.state.bbox.x0, 50);
  const cv::Mat a = full_mask(kept), b = full_mask(part);
  EXPECT_EQ(cv::countNonZero(a & b), 0);
  EXPECT_EQ(cv::countNonZero(a | b), cv::countNonZero(dumbbell));
  EXPECT_EQ(a.at<std::uint8_t>(40, 20), 255);
  EXPECT_EQ(b.at<std::uint8_t>(40, 90), 255);
}

TEST_F(MaskEditsTest, BadSplitsNameTheFieldAndChangeNothing) {
  const auto& image = images_[0];
  const Annotation a = rect_annotation(image, {10, 20, 60, 20}, nucleus_);
  const Annotation polygon =
      *annotations_
           ->create(image, alice_, json{{"kind", "polygon"}, {"geometry", {{"points", {{1, 1}, {5, 1}, {5, 5}}}}}})
           .annotation;
  SplitRequest request;
  request.annotation_id = a.id;
  request.markers = {{15, 30}};
  EXPECT_EQ(invalid_field([&] { edits_->split(request, alice_); }), "markers");
  request.markers = {{15, 30}, {130, 30}};
  EXPECT_EQ(invalid_field([&] { edits_->split(request, alice_); }), "markers[1]");
  request.markers = {{15, 30}, {100, 70}};  // inside the image, outside the mask
  EXPECT_EQ(invalid_field([&] { edits_->split(request, alice_); }), "markers[1]");
  request.markers = {{15, 30}, {60, 30}};
  request.outline = segment::Stroke{{{40, 10}, {40, 90}}, 3};
  EXPECT_EQ(invalid_field([&] { edits_->split(request, alice_); }), "outline.points[1]");
  request.outline.reset();
  request.annotation_id = polygon.id;
  EXPECT_EQ(invalid_field([&] { edits_->split(request, alice_); }), "annotation_id");
  request.annotation_id = 999999;
  try {
    edits_->split(request, alice_);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
  EXPECT_EQ(annotations_->get(a.id).version, 1);
  EXPECT_EQ(edits_->list_in_image(image.id).masks.size(), 1U);
}

TEST_F(MaskEditsTest, SplitAlongAnOutlineCutsThere) {
  const auto& image = images_[0];
  const Annotation bar = rect_annotation(image, {10, 20, 60, 20}, nucleus_);
  SplitRequest request;
  request.annotation_id = bar.id;
  request.markers = {{15, 30}, {60, 30}};
  request.outline = segment::Stroke{{{25, 15}, {25, 45}}, 3};
  const MaskEditOutcome out = edits_->split(request, alice_);
  ASSERT_EQ(out.status, EditStatus::applied);
  EXPECT_LE(out.updated.at(0).state.bbox.x1, 25);
  EXPECT_GE(out.created.at(0).state.bbox.x0, 25);
}

TEST_F(MaskEditsTest, DeletingATagInASeriesDeletesEveryFrameAndOnlyThatTag) {
  std::vector<Id> nuclei;
  for (int f = 1; f <= 3; ++f) {
    nuclei.push_back(rect_annotation(images_[f], {10, 10, 10, 10}, nucleus_).id);
    nuclei.push_back(rect_annotation(images_[f], {40, 10, 10, 10}, nucleus_).id);
    rect_annotation(images_[f], {70, 10, 10, 10}, debris_);
  }
  const Annotation elsewhere = rect_annotation(images_[0], {10, 10, 10, 10}, nucleus_);
  EXPECT_EQ(edits_->list_in_series(series_, nucleus_).masks.size(), 6U);
  EXPECT_EQ(edits_->list_in_series(series_).masks.size(), 9U);

  const MaskEditOutcome out = edits_->remove_in_series(series_, nucleus_, alice_);
  ASSERT_EQ(out.status, EditStatus::applied);
  EXPECT_EQ(out.deleted.size(), 6U);
  EXPECT_TRUE(edits_->list_in_series(series_, nucleus_).masks.empty());
  EXPECT_EQ(edits_->list_in_series(series_, debris_).masks.size(), 3U);
  EXPECT_FALSE(annotations_->get(elsewhere.id).deleted);
  for (Id id : nuclei) EXPECT_EQ(annotations_->history(id).back().action, "delete");
  EXPECT_EQ(annotations_->undo(nuclei[3], alice_, std::nullopt).status, EditStatus::applied);
  EXPECT_EQ(edits_->list_in_series(series_, nucleus_).masks.size(), 1U);
}

TEST_F(MaskEditsTest, OneLockedFrameKeepsTheWholeSeriesUntouched) {
  for (int f = 1; f <= 3; ++f) rect_annotation(images_[f], {10, 10, 10, 10}, nucleus_);
  ASSERT_EQ(annotations_->acquire_lock(images_[3].id, bob_).status, catalog::LockStatus::acquired);
  const MaskEditOutcome out = edits_->remove_in_series(series_, nucleus_, alice_);
  EXPECT_EQ(out.status, EditStatus::locked);
  EXPECT_EQ(out.lease->image_id, images_[3].id);
  EXPECT_TRUE(out.deleted.empty());
  EXPECT_EQ(edits_->list_in_series(series_, nucleus_).masks.size(), 3U);
  // The holder may.
  EXPECT_EQ(edits_->remove_in_series(series_, nucleus_, bob_).deleted.size(), 3U);
}

TEST_F(MaskEditsTest, UnknownSeriesTagsAndImagesAreNotFound) {
  const auto code_of = [](auto&& fn) {
    try {
      fn();
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::internal;
  };
  EXPECT_EQ(code_of([&] { edits_->remove_in_series(999999, nucleus_, alice_); }), ErrorCode::not_found);
  EXPECT_EQ(code_of([&] { edits_->remove_in_series(series_, 999999, alice_); }), ErrorCode::not_found);
  EXPECT_EQ(code_of([&] { edits_->list_in_series(series_, 999999); }), ErrorCode::not_found);
  EXPECT_EQ(code_of([&] { edits_->list_in_image(999999); }), ErrorCode::not_found);
  EXPECT_EQ(code_of([&] { edits_->remove(999999, alice_); }), ErrorCode::not_found);
}

TEST_F(MaskEditsTest, ListingByTagInAnImage) {
  const auto& image = images_[0];
  rect_annotation(image, {10, 10, 10, 10}, nucleus_);
  rect_annotation(image, {40, 10, 10, 10}, debris_);
  annotations_->create(image, alice_, json{{"kind", "point"}, {"geometry", {{"points", {{1, 1}}}}}});
  EXPECT_EQ(edits_->list_in_image(image.id).masks.size(), 2U);
  const MaskList debris = edits_->list_in_image(image.id, debris_);
  ASSERT_EQ(debris.masks.size(), 1U);
  EXPECT_EQ(debris.masks[0].state.tag_id, debris_);
}

}  // namespace
}  // namespace tessera::app
