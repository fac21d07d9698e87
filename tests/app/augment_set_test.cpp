#include "tessera/app/augment_set.hpp"

#include <gtest/gtest.h>

#include <set>

#include "tessera/app/annotations.hpp"
#include "tessera/app/upload.hpp"
#include "tessera/core/error.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/image/encode.hpp"
#include "tessera/ops/augment.hpp"
#include "test_util.hpp"

namespace tessera::app {
namespace {

Upload png_upload(const std::string& name, const cv::Mat& pixels) {
  Upload upload;
  upload.name = name;
  upload.bytes = image::encode(pixels, ".png");
  return upload;
}

TEST(AugmentScheme, FullEighthsSchemeGives113DistinctVariantsPerImage) {
  AugmentScheme full = parse_augment_scheme("0,90,180,270", true, "1/8:7/8", 0);
  EXPECT_EQ(full.eighths, (std::vector<int>{1, 2, 3, 4, 5, 6, 7}));
  std::vector<AugmentVariant> variants = augment_variants(full);
  ASSERT_EQ(variants.size(), 113u);  // the original + (4 rotations x 2 mirrors) x (7 eighths x 2 axes)
  EXPECT_TRUE(variants.front().is_identity());
  std::set<std::string> names;
  for (const auto& v : variants) names.insert(v.name());
  EXPECT_EQ(names.size(), 113u);
  // The variants really differ as images: an asymmetric 16x16 ramp gives 113 different results.
  cv::Mat ramp(16, 16, CV_16UC1);
  for (int r = 0; r < 16; ++r)
    for (int c = 0; c < 16; ++c) ramp.at<std::uint16_t>(r, c) = static_cast<std::uint16_t>(1 + r * 16 + c);
  std::set<std::string> distinct;
  for (const auto& v : variants) {
    cv::Mat m = apply_variant(ramp, v, 0, false);
    distinct.insert(std::string(reinterpret_cast<const char*>(m.data), m.total() * m.elemSize()));
  }
  EXPECT_EQ(distinct.size(), 113u);
  EXPECT_EQ(augment_variants(parse_augment_scheme("0,90,180,270", true, "", 0)).size(), 8u);
  EXPECT_EQ(augment_variants(parse_augment_scheme("0", false, "2/8,4/8", 0)).size(), 5u);
}

TEST(AugmentScheme, BadOptionsAreNamed) {
  test::expect_invalid([] { parse_augment_scheme("0,45", false, "", 0); }, "--rot: 45");
  test::expect_invalid([] { parse_augment_scheme("0,0", false, "", 0); }, "given twice");
  test::expect_invalid([] { parse_augment_scheme("0", false, "0/8:7/8", 0); }, "--translate");
  test::expect_invalid([] { parse_augment_scheme("0", false, "1/4", 0); }, "not an eighth");
  test::expect_invalid([] { parse_augment_scheme("0", false, "5/8:2/8", 0); }, "empty range");
}

TEST(AugmentScheme, ImageAndLabelsMoveIdenticallyAndLabelsStayExact) {
  cv::Mat image(64, 48, CV_8UC1);
  cv::randu(image, 0, 255);
  cv::Mat labels = cv::Mat::zeros(64, 48, CV_32SC1);
  labels(cv::Rect(5, 10, 12, 9)).setTo(7);
  labels(cv::Rect(30, 40, 10, 20)).setTo(300);
  AugmentVariant v{90, true, 3, 0};
  cv::Mat moved_image = apply_variant(image, v, 0, false);
  cv::Mat moved_labels = apply_variant(labels, v, 0, true);
  cv::Mat want = ops::translate(ops::flip(ops::rotate90(image, 1), ops::FlipAxis::horizontal), 64 * 3 / 8, 0);
  EXPECT_EQ(cv::countNonZero(moved_image != want), 0);
  // Where label 7 lands, the image moved the same pixels: compare through a marker image.
  cv::Mat marker = cv::Mat::zeros(64, 48, CV_8UC1);
  marker.setTo(1, labels == 7);
  EXPECT_EQ(cv::countNonZero((apply_variant(marker, v, 0, false) != 0) != (moved_labels == 7)), 0);
  // Resizing labels takes nearest values only.
  cv::Mat small = apply_variant(labels, AugmentVariant{}, 32, true);
  std::set<int> values(small.begin<int>(), small.end<int>());
  EXPECT_EQ(values, (std::set<int>{0, 7, 300}));
}

TEST(AugmentSet, WritesANewSetWithProvenanceAndMovedMasks) {
  test::TempDir dir("tessera-augment");
  Workspace ws = Workspace::init(dir.path(), "");
  catalog::Id project = ws.catalog().ensure_project("lab").id;
  cv::Mat pixels(40, 40, CV_8UC1, cv::Scalar(20));
  pixels(cv::Rect(4, 6, 10, 8)).setTo(200);
  UploadResult up = upload_image(ws, project, png_upload("cell.png", pixels));
  ws.catalog().ensure_set(project, "train");
  ws.catalog().add_to_set(project, "train", {up.record.id});
  Annotations annotations(ws);
  AnnotationDraft draft;
  draft.state.kind = "mask";
  draft.state.bbox = {4, 6, 14, 14};
  draft.mask_png = image::encode(cv::Mat(8, 10, CV_8UC1, cv::Scalar(255)), ".png");
  annotations.create(up.record, catalog::Actor{std::nullopt, "t"}, draft);

  AugmentSetOptions options;
  options.set = "train";
  options.scheme = parse_augment_scheme("0,90", false, "4/8", 0);
  AugmentSetResult r = augment_set(ws, project, options);
  EXPECT_EQ(r.variants_per_image, 5);  // original, r0 x4/8, r0 y4/8, r90 x4/8, r90 y4/8
  EXPECT_EQ(r.images_out, 5);
  // r0 shifts keep the object (cols 4..13 -> 24..33, rows 6..13 -> 26..33) and so does r90's x shift; r90 puts
  // it at rows 26..35, so its y shift moves it out of the frame: dropped.
  EXPECT_EQ(r.annotations_out, 3);
  catalog::ImageQuery query;
  query.project_id = project;
  query.set = "train_augmented";
  auto out = ws.catalog().list_images(query);
  ASSERT_EQ(out.size(), 5u);
  int with_provenance = 0;
  for (const auto& image : out) {
    if (!image.metadata.contains("augment")) continue;
    ++with_provenance;
    EXPECT_EQ(image.metadata["augment"]["source_image"], up.record.id);
    if (image.metadata["augment"]["variant"] == "r0_n_x4_y0") {
      catalog::ViewportQuery vq;
      vq.image_id = image.id;
      auto page = annotations.in_viewport(vq);
      ASSERT_EQ(page.annotations.size(), 1u);
      EXPECT_EQ(page.annotations[0].state.bbox, (catalog::BBox{24, 6, 34, 14}));
      EXPECT_EQ(page.annotations[0].state.source, "generated");
      cv::Mat moved = image::decode(ws.blobs().get(image.blob_hash)).frames.at(0);
      EXPECT_EQ(cv::countNonZero(moved(cv::Rect(24, 6, 10, 8)) != 200), 0);
    }
  }
  EXPECT_GE(with_provenance, 4);  // the original may re-encode to its own bytes, already recorded

  UploadResult plain = upload_image(ws, project, png_upload("plain.png", pixels * 0.5));
  ws.catalog().ensure_set(project, "plain");
  ws.catalog().add_to_set(project, "plain", {plain.record.id});
  options.set = "plain";
  test::expect_invalid([&] { augment_set(ws, project, options); }, "set 'plain' has no mask annotations");
  options.set = "missing";
  try {
    augment_set(ws, project, options);
    ADD_FAILURE() << "no error for a missing set";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
}

}  // namespace
}  // namespace tessera::app
