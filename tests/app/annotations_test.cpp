#include "tessera/app/annotations.hpp"

#include <algorithm>

#include "tessera/app/summary.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "tessera/core/base64.hpp"
#include "tessera/core/error.hpp"
#include "tessera/image/encode.hpp"
#include "test_util.hpp"

namespace tessera::app {
namespace {

using catalog::Actor;
using catalog::EditStatus;
using nlohmann::json;

std::string png_of(const cv::Mat& mask) { return image::encode(mask, ".png"); }

cv::Mat decode(const std::string& png) {
  return cv::imdecode(cv::Mat(1, static_cast<int>(png.size()), CV_8U, const_cast<char*>(png.data())),
                      cv::IMREAD_UNCHANGED);
}

// A 3-wide, 2-high mask whose column-major order is 0 0 | 1 0 | 1 1: COCO counts [2, 1, 1, 2].
cv::Mat small_mask() {
  cv::Mat m(2, 3, CV_8U, cv::Scalar(0));
  m.at<std::uint8_t>(0, 1) = 255;
  m.at<std::uint8_t>(0, 2) = 255;
  m.at<std::uint8_t>(1, 2) = 255;
  return m;
}

class AnnotationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    workspace_ = std::make_unique<Workspace>(Workspace::init(dir_.path(), ""));
    project_ = workspace_->catalog().ensure_project("lab").id;
    catalog::NewImage image;
    image.blob_hash = std::string(64, 'b');
    image.source_path = "cells.tif";
    image.format = "tiff";
    image.width = 200;
    image.height = 100;
    image.channels = 1;
    image.pixel_type = "uint8";
    image.frames = 2;
    image_ = workspace_->catalog().get_image(workspace_->catalog().add_images(project_, {image}).added.at(0));
    tag_ = workspace_->catalog()
               .upsert_tags(project_, {catalog::TagSpec{"nucleus", "#00ff00", "label", std::nullopt}})
               .at(0)
               .id;
    other_tag_ = workspace_->catalog()
                     .upsert_tags(workspace_->catalog().ensure_project("other").id,
                                  {catalog::TagSpec{"nucleus", "#00ff00", "label", std::nullopt}})
                     .at(0)
                     .id;
    annotations_ = std::make_unique<Annotations>(*workspace_);
  }

  Annotations& annotations() { return *annotations_; }

  catalog::Annotation create(const json& body) {
    catalog::EditResult r = annotations().create(image_, alice_, body);
    EXPECT_EQ(r.status, EditStatus::applied);
    return *r.annotation;
  }

  // The error parse_annotation raises for body; fails the test when none.
  Error error_for(const json& body) {
    try {
      parse_annotation(body, image_);
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "accepted: " << body.dump();
    return Error(ErrorCode::internal, "accepted");
  }

  test::TempDir dir_{"tessera-annotations"};
  std::unique_ptr<Workspace> workspace_;
  std::unique_ptr<Annotations> annotations_;
  catalog::Id project_ = 0, tag_ = 0, other_tag_ = 0;
  catalog::ImageRecord image_;
  Actor alice_{std::nullopt, "alice"};
  Actor bob_{std::nullopt, "bob"};
};

TEST_F(AnnotationsTest, GeometryKindsGetTheBoxOfThePixelsTheyTouch) {
  struct Case {
    json body;
    std::vector<double> bbox;
  } cases[] = {
      {{{"kind", "polygon"}, {"geometry", {{"points", {{10.5, 20}, {30, 20.2}, {29.9, 40.7}}}}}}, {10, 20, 31, 41}},
      {{{"kind", "box"}, {"geometry", {{"box", {4.5, 5, 9.2, 7}}}}}, {4, 5, 10, 7}},
      {{{"kind", "point"}, {"geometry", {{"points", {{3.7, 8.1}}}}}}, {3, 8, 4, 9}},
      {{{"kind", "polyline"}, {"geometry", {{"points", {{0, 0}, {200, 100}}}}}}, {0, 0, 200, 100}},
      {{{"kind", "scribble"}, {"geometry", {{"points", {{50, 50}, {60, 50}}}, {"width", 6}}}}, {47, 47, 64, 54}},
      {{{"kind", "skeleton"}, {"geometry", {{"nodes", {{5, 5}, {15, 25}}}, {"edges", {{0, 1}}}}}}, {5, 5, 16, 26}},
  };
  for (const auto& c : cases) {
    const AnnotationDraft draft = parse_annotation(c.body, image_);
    const catalog::BBox& b = draft.state.bbox;
    EXPECT_EQ((std::vector<double>{b.x0, b.y0, b.x1, b.y1}), c.bbox) << c.body.dump();
    EXPECT_FALSE(draft.mask_png);
  }
}

TEST_F(AnnotationsTest, MasksFromPngAndFromRleAreTheSameCanonicalBlob) {
  const cv::Mat mask = small_mask();
  const json rle = mask_png_to_rle(png_of(mask));
  EXPECT_EQ(rle, json::parse(R"({"size": [2, 3], "counts": [2, 1, 1, 2]})"));

  const auto from_png = create({{"kind", "mask"},
                                {"bbox", {10, 20, 13, 22}},
                                {"mask_png_base64", base64_encode(png_of(mask))},
                                {"tag_id", tag_}});
  const auto from_rle = create({{"kind", "mask"}, {"bbox", {50, 60, 53, 62}}, {"mask_rle", rle}});
  ASSERT_TRUE(from_png.state.mask_blob);
  EXPECT_EQ(from_png.state.mask_blob, from_rle.state.mask_blob);
  EXPECT_TRUE(from_png.state.geometry.is_null());
  const cv::Mat stored = decode(annotations().mask_png(from_rle));
  EXPECT_EQ(cv::countNonZero(stored != mask), 0);
  EXPECT_EQ(annotation_json(from_png)["mask_blob"], *from_png.state.mask_blob);
  EXPECT_FALSE(annotation_json(from_png).contains("geometry"));
}

TEST_F(AnnotationsTest, MaskContentProblemsAreUnprocessableAndNameTheField) {
  cv::Mat grey = small_mask();
  grey.at<std::uint8_t>(0, 0) = 7;
  struct Case {
    json body;
    std::string field;
    bool unprocessable;
  } cases[] = {
      {{{"kind", "mask"}, {"bbox", {0, 0, 4, 2}}, {"mask_png_base64", base64_encode(png_of(small_mask()))}},
       "mask_png_base64",
       true},
      {{{"kind", "mask"}, {"bbox", {0, 0, 3, 2}}, {"mask_png_base64", base64_encode(png_of(grey))}},
       "mask_png_base64",
       true},
      {{{"kind", "mask"},
        {"bbox", {0, 0, 3, 2}},
        {"mask_png_base64", base64_encode(png_of(cv::Mat::zeros(2, 3, CV_8U)))}},
       "mask_png_base64",
       true},
      {{{"kind", "mask"}, {"bbox", {0, 0, 3, 2}}, {"mask_rle", {{"size", {3, 2}}, {"counts", {6}}}}},
       "mask_rle.size",
       true},
      {{{"kind", "mask"}, {"bbox", {0, 0, 3, 2}}, {"mask_rle", {{"size", {2, 3}}, {"counts", {2, 1}}}}},
       "mask_rle.counts",
       true},
      {{{"kind", "mask"}, {"bbox", {0, 0, 3, 2}}, {"mask_rle", {{"size", {2, 3}}, {"counts", {2, 9}}}}},
       "mask_rle.counts",
       true},
      {{{"kind", "mask"}, {"bbox", {0, 0, 3, 2}}, {"mask_png_base64", base64_encode("not a png at all, really")}},
       "mask_png_base64",
       false},
      {{{"kind", "mask"}, {"bbox", {0, 0, 3, 2}}, {"mask_png_base64", "%%%"}}, "mask_png_base64", false},
      {{{"kind", "mask"}, {"bbox", {0, 0, 3, 2}}}, "mask_png_base64", false},
      {{{"kind", "mask"}, {"mask_rle", {{"size", {2, 3}}, {"counts", {6}}}}}, "bbox", false},
      {{{"kind", "mask"}, {"bbox", {0, 0, 3, 2}}, {"mask_rle", {{"size", {2, 3}}, {"counts", {-1, 7}}}}},
       "mask_rle.counts[0]",
       false},
  };
  for (const auto& c : cases) {
    const Error e = error_for(c.body);
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.what();
    EXPECT_EQ(e.details().value("field", ""), c.field) << e.what();
    EXPECT_EQ(is_unprocessable(e), c.unprocessable) << e.what();
    EXPECT_THAT(e.what(), ::testing::HasSubstr(c.field));
  }
}

TEST_F(AnnotationsTest, BadFieldsAndAbsurdBoxesAreRefusedNamingTheField) {
  const json square = {{"points", {{1, 1}, {5, 1}, {5, 5}}}};
  struct Case {
    json body;
    std::string field;
  } cases[] = {
      {json::object(), "kind"},
      {{{"kind", "hexagon"}, {"geometry", square}}, "kind"},
      {{{"kind", "polygon"}}, "geometry"},
      {{{"kind", "polygon"}, {"geometry", {{"points", {{1, 1}, {2, 2}}}}}}, "geometry.points"},
      {{{"kind", "polygon"}, {"geometry", {{"points", {{1, 1}, {2, 2}, {500, 2}}}}}}, "geometry.points[2]"},
      {{{"kind", "polygon"}, {"geometry", {{"points", {{1, 1}, {2, 2}, {"a", 2}}}}}}, "geometry.points[2]"},
      {{{"kind", "polygon"}, {"geometry", {{"points", {{1, 1}, {2, 2}, {-1e308, 2}}}}}}, "geometry.points[2]"},
      {{{"kind", "polygon"}, {"geometry", square}, {"colour", "#ffffff"}}, "colour"},
      {{{"kind", "polygon"}, {"geometry", {{"points", square["points"]}, {"holes", json::array()}}}}, "geometry.holes"},
      {{{"kind", "polygon"}, {"geometry", square}, {"bbox", {0, 0, 1, 1}}}, "bbox"},
      {{{"kind", "box"}, {"geometry", {{"box", {5, 5, 5, 9}}}}}, "geometry.box"},
      {{{"kind", "box"}, {"geometry", {{"box", {5, 5, 1e9, 9}}}}}, "geometry.box"},
      {{{"kind", "skeleton"}, {"geometry", {{"nodes", {{1, 1}}}, {"edges", {{0, 3}}}}}}, "geometry.edges[0]"},
      {{{"kind", "scribble"}, {"geometry", {{"points", {{1, 1}}}, {"width", -2}}}}, "geometry.width"},
      {{{"kind", "polygon"}, {"geometry", square}, {"frame_index", 2}}, "frame_index"},
      {{{"kind", "polygon"}, {"geometry", square}, {"tag_id", "nucleus"}}, "tag_id"},
      {{{"kind", "polygon"}, {"geometry", square}, {"color", "red"}}, "color"},
      {{{"kind", "polygon"}, {"geometry", square}, {"source", "robot"}}, "source"},
      {{{"kind", "polygon"}, {"geometry", square}, {"confidence", 1.5}}, "confidence"},
      {{{"kind", "polygon"}, {"geometry", square}, {"needs_review", "yes"}}, "needs_review"},
      {{{"kind", "polygon"}, {"geometry", square}, {"attributes", {1, 2}}}, "attributes"},
      {{{"kind", "mask"}, {"bbox", {-5, 0, 3, 2}}, {"mask_rle", {{"size", {2, 8}}, {"counts", {16}}}}}, "bbox"},
      {{{"kind", "mask"}, {"bbox", {0, 0, 300, 2}}, {"mask_rle", {{"size", {2, 300}}, {"counts", {600}}}}}, "bbox"},
      {{{"kind", "mask"}, {"bbox", {3, 0, 1, 2}}, {"mask_rle", {{"size", {2, 2}}, {"counts", {4}}}}}, "bbox"},
      {{{"kind", "mask"}, {"bbox", {0.5, 0, 3, 2}}, {"mask_rle", {{"size", {2, 3}}, {"counts", {6}}}}}, "bbox"},
      {{{"kind", "mask"}, {"bbox", {0, 0, 3, 2}}, {"geometry", square}}, "geometry"},
  };
  for (const auto& c : cases) {
    const Error e = error_for(c.body);
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.what();
    EXPECT_EQ(e.details().value("field", ""), c.field) << c.body.dump() << " -> " << e.what();
    EXPECT_FALSE(is_unprocessable(e)) << e.what();
  }
  // Nothing reached the catalog.
  catalog::ViewportQuery all;
  all.image_id = image_.id;
  EXPECT_TRUE(annotations().in_viewport(all).annotations.empty());
}

TEST_F(AnnotationsTest, ATagOfAnotherProjectIsRefused) {
  const json body = {{"kind", "point"}, {"geometry", {{"points", {{1, 1}}}}}, {"tag_id", other_tag_}};
  test::expect_invalid([&] { annotations().create(image_, alice_, body); }, "tag_id");
}

TEST_F(AnnotationsTest, APatchChangesOnlyWhatItNamesAndRecomputesTheBox) {
  const auto a = create({{"kind", "polygon"},
                         {"geometry", {{"points", {{10, 10}, {20, 10}, {20, 20}}}}},
                         {"color", "#00ff00"},
                         {"attributes", {{"count", 0}}}});
  auto r = annotations().update(a.id, bob_, 1, {{"attributes", {{"count", 1}}}, {"version", 1}, {"id", a.id}});
  ASSERT_EQ(r.status, EditStatus::applied);
  EXPECT_EQ(r.annotation->state.color, "#00ff00");
  EXPECT_EQ(r.annotation->state.geometry, a.state.geometry);
  EXPECT_EQ(r.annotation->state.attributes["count"], 1);
  r = annotations().update(a.id, bob_, 2, {{"geometry", {{"points", {{100, 50}, {120, 50}, {110, 70}}}}}});
  ASSERT_EQ(r.status, EditStatus::applied);
  EXPECT_EQ(r.annotation->state.bbox, (catalog::BBox{100, 50, 121, 71}));
  // A stale version is refused before the patch is even looked at.
  r = annotations().update(a.id, alice_, 1, {{"geometry", "garbage"}});
  EXPECT_EQ(r.status, EditStatus::stale);
  EXPECT_EQ(r.annotation->version, 3);
  // Turning it into a mask needs a bbox and the mask.
  test::expect_invalid([&] { annotations().update(a.id, alice_, 3, {{"kind", "mask"}}); }, "bbox");
  r = annotations().update(
      a.id, alice_, 3,
      {{"kind", "mask"}, {"bbox", {0, 0, 3, 2}}, {"mask_png_base64", base64_encode(png_of(small_mask()))}});
  ASSERT_EQ(r.status, EditStatus::applied);
  EXPECT_TRUE(r.annotation->state.geometry.is_null());
  EXPECT_TRUE(r.annotation->state.mask_blob);
  // A mask's new bbox of another size needs a new mask.
  test::expect_invalid([&] { annotations().update(a.id, alice_, 4, {{"bbox", {0, 0, 4, 2}}}); }, "mask_png_base64");
  // Undo walks back to the polygon.
  r = annotations().undo(a.id, alice_, 4);
  ASSERT_EQ(r.status, EditStatus::applied);
  EXPECT_EQ(r.annotation->state.kind, "polygon");
  EXPECT_EQ(r.annotation->state.bbox, (catalog::BBox{100, 50, 121, 71}));
  EXPECT_FALSE(r.annotation->state.mask_blob);
}

TEST_F(AnnotationsTest, OverlaysPaintTheAnnotationInTheColourAndLeaveTheRestTransparent) {
  const auto mask =
      create({{"kind", "mask"}, {"bbox", {10, 20, 13, 22}}, {"mask_png_base64", base64_encode(png_of(small_mask()))}});
  const cv::Mat overlay = decode(annotations().overlay_png(mask, parse_rgba("#ff8000", "color", 200)));
  ASSERT_EQ(overlay.type(), CV_8UC4);
  ASSERT_EQ(overlay.size(), cv::Size(3, 2));
  // OpenCV decodes to BGRA.
  EXPECT_EQ(overlay.at<cv::Vec4b>(0, 1), cv::Vec4b(0, 128, 255, 200));
  EXPECT_EQ(overlay.at<cv::Vec4b>(1, 2), cv::Vec4b(0, 128, 255, 200));
  EXPECT_EQ(overlay.at<cv::Vec4b>(0, 0), cv::Vec4b(0, 0, 0, 0));
  EXPECT_EQ(overlay.at<cv::Vec4b>(1, 1), cv::Vec4b(0, 0, 0, 0));

  const auto triangle = create({{"kind", "polygon"}, {"geometry", {{"points", {{0, 0}, {40, 0}, {0, 40}}}}}});
  const cv::Mat drawn = decode(annotations().overlay_png(triangle, parse_rgba("00ff00ff", "color")));
  ASSERT_EQ(drawn.size(), cv::Size(41, 41));
  EXPECT_EQ(drawn.at<cv::Vec4b>(5, 5), cv::Vec4b(0, 255, 0, 255)) << "inside the triangle";
  EXPECT_EQ(drawn.at<cv::Vec4b>(35, 35)[3], 0) << "beyond its hypotenuse";

  test::expect_invalid([&] { parse_rgba("#12345", "color"); }, "color");
  test::expect_invalid([&] { parse_rgba("zzzzzz", "color"); }, "color");
  test::expect_invalid([&] { annotations().mask_png(triangle); }, "not a mask");
}

TEST_F(AnnotationsTest, LeasesGoThroughTheSameUseCases) {
  const auto lease = annotations().acquire_lock(image_.id, bob_, 60);
  ASSERT_EQ(lease.status, catalog::LockStatus::acquired);
  EXPECT_EQ(lease_json(*lease.lease)["token"], lease.lease->token);
  const auto refused = annotations().create(image_, alice_, {{"kind", "point"}, {"geometry", {{"points", {{1, 1}}}}}});
  EXPECT_EQ(refused.status, EditStatus::locked);
  EXPECT_EQ(refused.lease->holder, "bob");
  EXPECT_FALSE(lease_json(*refused.lease).contains("token"));
  EXPECT_EQ(annotations().release_lock(image_.id, bob_, lease.lease->token).status, catalog::LockStatus::released);
  EXPECT_FALSE(annotations().find_lock(image_.id));
  EXPECT_EQ(annotations().create(image_, alice_, {{"kind", "point"}, {"geometry", {{"points", {{1, 1}}}}}}).status,
            EditStatus::applied);
}

// A mask replaced by an update is still the journal's: undo brings it back, so the workspace check must count
// it as referenced (or a clean-up of "unreferenced" blobs would break undo).
TEST_F(AnnotationsTest, MasksOnlyTheJournalHoldsAreReferencedBlobs) {
  const cv::Mat first = small_mask();
  const auto a = create({{"kind", "mask"}, {"bbox", {50, 60, 53, 62}}, {"mask_png_base64", base64_encode(png_of(first))}});
  cv::Mat second = first.clone();
  second.at<std::uint8_t>(0, 0) = 255;
  const auto r = annotations().update(a.id, alice_, a.version,
                                      {{"bbox", {50, 60, 53, 62}}, {"mask_png_base64", base64_encode(png_of(second))}});
  ASSERT_EQ(r.status, EditStatus::applied);
  ASSERT_NE(r.annotation->state.mask_blob, a.state.mask_blob);
  const auto referenced = workspace_->catalog().referenced_blobs();
  EXPECT_NE(std::find(referenced.begin(), referenced.end(), *a.state.mask_blob), referenced.end());
  EXPECT_NE(std::find(referenced.begin(), referenced.end(), *r.annotation->state.mask_blob), referenced.end());
  // Only sets and tags name an image's sets and tags, not the journal's masks.
  workspace_->catalog().ensure_set(project_, "picked");
  workspace_->catalog().add_to_set(project_, "picked", {image_.id});
  EXPECT_EQ(workspace_->catalog().sets_of_image(image_.id), std::vector<std::string>{"picked"});
  workspace_->catalog().set_image_tag(project_, image_.id, "nucleus", true);
  EXPECT_EQ(workspace_->catalog().tags_of_image(image_.id), std::vector<std::string>{"nucleus"});
  const app::CheckReport check = app::check_workspace(*workspace_, false);
  EXPECT_EQ(std::find(check.unreferenced.begin(), check.unreferenced.end(), *a.state.mask_blob), check.unreferenced.end());
}

}  // namespace
}  // namespace tessera::app
