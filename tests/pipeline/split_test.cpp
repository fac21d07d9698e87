// The split node on drawn shapes whose boxes are known exactly: boxes and crops in root coordinates,
// padding clipped at the borders, crops and masks pixel-exact, features attached by label, and nested
// regions counted, emitted as children or ignored.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "pipeline_fixtures.hpp"
#include "tessera/core/error.hpp"

namespace tessera::pipeline {
namespace {

using json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Runs every node of the pipeline on one frame and returns the batch.
Batch process(const json& pipeline, const cv::Mat& raw, const std::string& id = "root") {
  const PipelineSpec spec = test::parse(pipeline);
  test::VectorSource source({{id, raw, "", {}}});
  Batch batch = source.load(0);
  process_batch(spec, ops::builtin_ops(), batch);
  return batch;
}

json split_pipeline(int padding, const std::string& nested = "count") {
  return test::with_nodes(test::split_nodes(padding, nested), json::array({{{"write", "record"}}}));
}

std::vector<const Object*> children_of(const Batch& batch, int stage) {
  std::vector<const Object*> out;
  for (const Object& o : batch.objects) {
    if (o.stage == stage) out.push_back(&o);
  }
  return out;
}

json box_json(const cv::Rect& r) { return {r.x, r.y, r.br().x, r.br().y}; }

TEST(PipelineSplit, BoxesAndCropsAreExactInRootCoordinatesWithPaddingClippedAtBorders) {
  // B touches the top-left corner, C the bottom-right one; D sits inside A's padded crop but apart from A.
  const cv::Rect b(0, 0, 6, 4), a(10, 20, 8, 5), d(20, 21, 2, 2), c(74, 50, 6, 10);
  const cv::Mat raw = test::rects_image({80, 60}, {a, b, c, d});
  const Batch batch = process(split_pipeline(3), raw);
  ASSERT_TRUE(batch.objects[0].error.empty()) << batch.objects[0].error;
  const auto kids = children_of(batch, 1);
  ASSERT_EQ(kids.size(), 4u);
  // Raster order of first pixels: B (row 0), A (row 20, x 10), D (row 21), C (row 50).
  const cv::Rect boxes[] = {b, a, d, c};
  const cv::Rect crops[] = {{0, 0, 9, 7}, {7, 17, 14, 11}, {17, 18, 8, 8}, {71, 47, 9, 13}};
  for (size_t k = 0; k < 4; ++k) {
    const Object& o = *kids[k];
    SCOPED_TRACE(o.id);
    EXPECT_EQ(o.id, fmt::format("root_{}", k + 1));
    EXPECT_EQ(o.parent, 0);
    EXPECT_EQ(o.box, boxes[k]);
    EXPECT_EQ(o.crop, crops[k]);
    EXPECT_EQ(o.metadata["label"], static_cast<int>(k) + 1);
    EXPECT_EQ(o.metadata["bbox"], box_json(boxes[k]));
    EXPECT_EQ(o.metadata["crop"], box_json(crops[k]));
    EXPECT_EQ(o.metadata["parent"], "root");
    EXPECT_EQ(o.metadata["nested_count"], 0);
    // The crop is the root's pixels at the crop box, exactly.
    ASSERT_TRUE(o.facets.count("raw"));
    EXPECT_TRUE(test::same_pixels(o.facets.at("raw").mat, raw(crops[k])));
    // The mask is the region's own pixels (not its neighbour's), placed at the box inside the crop.
    ASSERT_TRUE(o.facets.count("mask"));
    const cv::Mat& mask = o.facets.at("mask").mat;
    EXPECT_EQ(o.facets.at("mask").kind, ops::FacetKind::mask);
    ASSERT_EQ(mask.size(), crops[k].size());
    EXPECT_EQ(cv::countNonZero(mask), boxes[k].area());
    EXPECT_EQ(cv::countNonZero(mask(boxes[k] - crops[k].tl())), boxes[k].area());
    // The features row is the region's own (areas differ, so a row given to the wrong label shows).
    ASSERT_TRUE(o.metadata.contains("features"));
    EXPECT_EQ(o.metadata["features"]["label"], static_cast<int>(k) + 1);
    EXPECT_EQ(o.metadata["features"]["area"].get<double>(), boxes[k].area());
  }
}

TEST(PipelineSplit, ZeroPaddingCropsAreTheBoxes) {
  const cv::Rect a(5, 6, 7, 3);
  const Batch batch = process(split_pipeline(0), test::rects_image({30, 20}, {a}));
  const auto kids = children_of(batch, 1);
  ASSERT_EQ(kids.size(), 1u);
  EXPECT_EQ(kids[0]->crop, a);
  EXPECT_EQ(cv::countNonZero(kids[0]->facets.at("mask").mat), a.area());
}

// A split of a split: the grandchildren's boxes are in the root's coordinates, not their parent's crop's.
TEST(PipelineSplit, SecondSplitReportsBoxesInRootCoordinates) {
  cv::Mat raw(50, 70, CV_8UC1, cv::Scalar(20));
  raw(cv::Rect(20, 10, 30, 20)).setTo(120);
  const cv::Rect spot(30, 15, 4, 3);
  raw(spot).setTo(230);
  json nodes = test::split_nodes(4);
  nodes[0]["params"]["value"] = 60;
  for (const json& n : json::array({
           {{"op", "threshold_fixed"}, {"in", "raw"}, {"out", "bright"}, {"params", {{"value", 180}}}},
           {{"op", "label"}, {"in", "bright"}, {"out", "spots"}},
           {{"split", "extract_regions"}, {"labels", "spots"}, {"crop", {"raw"}}, {"padding", 1}, {"mask", "spot_mask"}},
           {{"write", "record"}},
       }))
    nodes.push_back(n);
  const Batch batch = process({{"nodes", nodes}}, raw);
  const auto outer = children_of(batch, 1);
  ASSERT_EQ(outer.size(), 1u);
  EXPECT_EQ(outer[0]->box, cv::Rect(20, 10, 30, 20));
  EXPECT_EQ(outer[0]->crop, cv::Rect(16, 6, 38, 28));
  const auto inner = children_of(batch, 2);
  ASSERT_EQ(inner.size(), 1u);
  EXPECT_EQ(inner[0]->id, "root_1_1");
  EXPECT_EQ(inner[0]->box, spot);
  EXPECT_EQ(inner[0]->crop, cv::Rect(29, 14, 6, 5));
  EXPECT_EQ(inner[0]->metadata["bbox"], box_json(spot));
  EXPECT_TRUE(test::same_pixels(inner[0]->facets.at("raw").mat, raw(cv::Rect(29, 14, 6, 5))));
  EXPECT_EQ(cv::countNonZero(inner[0]->facets.at("spot_mask").mat), spot.area());
  EXPECT_EQ(batch.objects[inner[0]->parent].id, "root_1");
}

// A ring (an aggregate with a hollow interior) holding a particle, a square outside the ring but inside its
// bounding box, and a lone square. Raster order: lone 1, ring 2, corner square 3, particle 4.
cv::Mat ring_image() {
  cv::Mat m(64, 64, CV_8UC1, cv::Scalar(20));
  m(cv::Rect(2, 2, 4, 4)).setTo(200);
  cv::circle(m, cv::Point(32, 34), 15, cv::Scalar(200), 3, cv::LINE_8);
  cv::circle(m, cv::Point(32, 34), 3, cv::Scalar(200), cv::FILLED, cv::LINE_8);
  m(cv::Rect(17, 19, 2, 2)).setTo(200);
  return m;
}

TEST(PipelineSplit, RingImageHasTheRegionsTheNestedTestsAssume) {
  const Batch batch = process(split_pipeline(2, "ignore"), ring_image());
  const auto kids = children_of(batch, 1);
  ASSERT_EQ(kids.size(), 4u);
  EXPECT_EQ(kids[0]->box, cv::Rect(2, 2, 4, 4));
  EXPECT_EQ(kids[1]->box.width, kids[1]->box.height);  // the ring
  EXPECT_TRUE(kids[1]->box.contains({17, 19})) << "the corner square lies in the ring's box";
  EXPECT_EQ(kids[2]->box, cv::Rect(17, 19, 2, 2));
  EXPECT_TRUE((kids[1]->box & kids[3]->box) == kids[3]->box) << "the particle lies in the ring's box";
}

TEST(PipelineSplit, NestedCountKeepsTheOuterRegionWithItsCount) {
  const Batch batch = process(split_pipeline(2, "count"), ring_image());
  const auto kids = children_of(batch, 1);
  ASSERT_EQ(kids.size(), 3u);
  std::vector<std::string> ids;
  for (const Object* o : kids) ids.push_back(o->id);
  EXPECT_THAT(ids, ElementsAre("root_1", "root_2", "root_3"));
  EXPECT_EQ(kids[0]->metadata["nested_count"], 0);
  EXPECT_EQ(kids[1]->metadata["nested_count"], 1);
  EXPECT_EQ(kids[2]->metadata["nested_count"], 0) << "a region outside the ring, though inside its box, is not nested";
  for (const Object* o : kids) EXPECT_EQ(o->parent, 0);
  // The ring keeps its own features row and its own mask (the particle is not part of it).
  EXPECT_EQ(kids[1]->metadata["features"]["label"], 2);
  const cv::Mat& mask = kids[1]->facets.at("mask").mat;
  const cv::Point centre = cv::Point(32, 34) - kids[1]->crop.tl();
  EXPECT_EQ(mask.at<std::uint8_t>(centre), 0);
  EXPECT_EQ(cv::countNonZero(mask), kids[1]->metadata["features"]["area"].get<int>());
}

TEST(PipelineSplit, NestedChildrenAreEmittedUnderTheirOuterRegion) {
  const Batch batch = process(split_pipeline(2, "children"), ring_image());
  const auto kids = children_of(batch, 1);
  ASSERT_EQ(kids.size(), 4u);
  const Object* ring = nullptr;
  const Object* particle = nullptr;
  for (const Object* o : kids) {
    if (o->metadata["label"] == 2) ring = o;
    if (o->metadata["label"] == 4) particle = o;
  }
  ASSERT_TRUE(ring && particle);
  EXPECT_EQ(ring->metadata["nested_count"], 1);
  EXPECT_EQ(ring->parent, 0);
  EXPECT_EQ(batch.objects.at(particle->parent).id, ring->id) << "the particle's parent is the ring";
  EXPECT_LT(particle->parent, static_cast<int>(particle - batch.objects.data())) << "parents come before children";
  EXPECT_EQ(particle->id, "root_2_4");
  EXPECT_EQ(particle->metadata["parent"], "root_2");
  EXPECT_EQ(particle->metadata["nested_in"], 2);
  EXPECT_EQ(particle->metadata["nested_count"], 0);
  // Still in root coordinates, with its own crop, mask and features.
  EXPECT_EQ(particle->box, cv::Rect(29, 31, 7, 7));
  EXPECT_EQ(particle->crop, cv::Rect(27, 29, 11, 11));
  EXPECT_EQ(particle->metadata["features"]["label"], 4);
  EXPECT_TRUE(test::same_pixels(particle->facets.at("raw").mat, ring_image()(particle->crop)));
  // The other regions are plain.
  for (const Object* o : kids) {
    if (o != particle) {
      EXPECT_EQ(o->parent, 0) << o->id;
    }
  }
}

TEST(PipelineSplit, NestedIgnoreTreatsEveryRegionAlike) {
  const Batch batch = process(split_pipeline(2, "ignore"), ring_image());
  const auto kids = children_of(batch, 1);
  ASSERT_EQ(kids.size(), 4u);
  for (size_t k = 0; k < kids.size(); ++k) {
    EXPECT_EQ(kids[k]->id, fmt::format("root_{}", k + 1));
    EXPECT_EQ(kids[k]->parent, 0);
    EXPECT_FALSE(kids[k]->metadata.contains("nested_count")) << kids[k]->id;
    EXPECT_FALSE(kids[k]->metadata.contains("nested_in")) << kids[k]->id;
  }
}

// Two particles in one ring, and a ring inside a ring's hole: the count covers everything inside the
// outermost region.
TEST(PipelineSplit, NestedCountCountsEveryRegionInsideTheOutermost) {
  cv::Mat m(80, 80, CV_8UC1, cv::Scalar(20));
  cv::circle(m, cv::Point(40, 40), 30, cv::Scalar(200), 3, cv::LINE_8);
  cv::circle(m, cv::Point(40, 40), 14, cv::Scalar(200), 3, cv::LINE_8);
  cv::circle(m, cv::Point(40, 40), 3, cv::Scalar(200), cv::FILLED, cv::LINE_8);
  m(cv::Rect(18, 38, 3, 3)).setTo(200);  // between the rings
  const Batch counted = process(split_pipeline(2, "count"), m);
  const auto kids = children_of(counted, 1);
  ASSERT_EQ(kids.size(), 1u);
  EXPECT_EQ(kids[0]->metadata["nested_count"], 3);
  const Batch emitted = process(split_pipeline(2, "children"), m);
  const auto all = children_of(emitted, 1);
  ASSERT_EQ(all.size(), 4u);
  for (size_t k = 1; k < all.size(); ++k) EXPECT_EQ(emitted.objects.at(all[k]->parent).id, all[0]->id) << all[k]->id;
}

TEST(PipelineSplit, MissingFeaturesRowsLeaveTheRegionWithoutFeatures) {
  // The features table comes from another label image (only the first region survives min_size), so the
  // second region has no row: it is still emitted, without features.
  json nodes = test::split_nodes(1);
  const json filter = {{"op", "remove_small_objects"}, {"in", "labels"}, {"out", "big"}, {"params", {{"min_size", 20}}}};
  nodes.insert(nodes.begin() + 2, filter);
  nodes[3]["in"]["labels"] = "big";
  nodes.push_back({{"write", "record"}});
  const Batch batch = process({{"nodes", nodes}}, test::rects_image({40, 20}, {{2, 2, 6, 6}, {20, 2, 3, 3}}));
  const auto kids = children_of(batch, 1);
  ASSERT_EQ(kids.size(), 2u);
  EXPECT_EQ(kids[0]->metadata["features"]["area"], 36.0);
  EXPECT_FALSE(kids[1]->metadata.contains("features"));
}

TEST(PipelineSplit, CropOfAnotherSizeFailsTheObjectWithAClearMessage) {
  json nodes = test::split_nodes(1);
  const json resize = {{"op", "resize"}, {"in", "raw"}, {"out", "small"}, {"params", {{"width", 10}, {"height", 10}}}};
  nodes.insert(nodes.begin() + 3, resize);
  nodes[4]["crop"] = {"raw", "small"};
  nodes.push_back({{"write", "record"}});
  const Batch batch = process({{"nodes", nodes}}, test::rects_image({40, 20}, {{2, 2, 6, 6}}));
  EXPECT_THAT(batch.objects[0].error, HasSubstr("'small'"));
  EXPECT_EQ(batch.objects[0].failed_node, 4);
  EXPECT_EQ(batch.objects.size(), 1u) << "no half-made children of a failed split";
}

}  // namespace
}  // namespace tessera::pipeline
