// Mask edits over HTTP: merge by stroke and by ids, split at markers (If-Match, locks), deleting and listing
// a tag's masks over a series, and bad input naming its field with nothing stored.

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "server_fixture.hpp"
#include "tessera/core/base64.hpp"

namespace tessera::server::testing {
namespace {

class MaskEditsApi : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    const auto tags =
        workspace().catalog().upsert_tags(lab(), {catalog::TagSpec{"nucleus", "#00ff00", "label", std::nullopt},
                                                  catalog::TagSpec{"debris", "#ff0000", "label", std::nullopt}});
    nucleus_ = tags.at(0).id;
    debris_ = tags.at(1).id;
  }

  // A mask annotation covering `rect` of a 64x48 image, created over HTTP.
  json create_mask(catalog::Id image, cv::Rect rect, catalog::Id tag) {
    const cv::Mat pixels(rect.size(), CV_8U, cv::Scalar(255));
    const auto r = post(fmt::format("/api/v1/images/{}/annotations", image),
                        {{"kind", "mask"},
                         {"bbox", {rect.x, rect.y, rect.br().x, rect.br().y}},
                         {"mask_png_base64", base64_encode(image::encode(pixels, ".png"))},
                         {"tag_id", tag}});
    EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no answer");
    return body(r);
  }

  json annotation(std::int64_t id) { return body(get(fmt::format("/api/v1/annotations/{}", id))); }

  static std::string field(const httplib::Result& r) {
    const json details = body(r)["error"]["details"];
    return details.is_object() ? details.value("field", "") : "(no field: " + (r ? r->body : "no answer") + ")";
  }

  catalog::Id nucleus_ = 0, debris_ = 0;
};

TEST_F(MaskEditsApi, StrokeMergeUpdatesTheOldestAndDeletesTheOther) {
  const auto image = add_image(lab(), 1);
  const json a = create_mask(image.id, {5, 10, 15, 15}, nucleus_);
  const json b = create_mask(image.id, {24, 10, 15, 15}, nucleus_);
  const auto r = post(fmt::format("/api/v1/images/{}/masks:merge", image.id),
                      {{"stroke", {{"points", {{2, 17}, {50, 17}}}, {"width", 3}}}}, "bob");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json out = body(r);
  ASSERT_EQ(out["updated"].size(), 1U);
  EXPECT_EQ(out["updated"][0]["id"], a["id"]);
  EXPECT_EQ(out["updated"][0]["bbox"], json({5, 10, 39, 25}));
  EXPECT_EQ(out["updated"][0]["version"], 2);
  ASSERT_EQ(out["deleted"].size(), 1U);
  EXPECT_EQ(out["deleted"][0]["id"], b["id"]);
  EXPECT_EQ(annotation(b["id"])["deleted"], true);
}

TEST_F(MaskEditsApi, MergeByIdsWithAStaleVersionIs409AndChangesNothing) {
  const auto image = add_image(lab(), 1);
  const json a = create_mask(image.id, {5, 5, 10, 10}, nucleus_);
  const json b = create_mask(image.id, {40, 30, 10, 10}, nucleus_);
  const std::string path = fmt::format("/api/v1/images/{}/masks:merge", image.id);
  const auto stale = post(path, {{"annotation_ids", {a["id"], b["id"]}}, {"versions", {{b["id"].dump(), 4}}}});
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->status, 409) << stale->body;
  EXPECT_EQ(annotation(a["id"])["bbox"], a["bbox"]);
  EXPECT_EQ(annotation(b["id"])["deleted"], false);
  const auto ok = post(path, {{"annotation_ids", {a["id"], b["id"]}}, {"versions", {{b["id"].dump(), 1}}}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

TEST_F(MaskEditsApi, BadMergesAre400NamingTheFieldAndOthersSeeNothing) {
  const auto image = add_image(lab(), 1);
  const json a = create_mask(image.id, {5, 10, 15, 15}, nucleus_);
  create_mask(image.id, {24, 10, 15, 15}, nucleus_);
  const std::string path = fmt::format("/api/v1/images/{}/masks:merge", image.id);
  auto r = post(path, {{"stroke", {{"points", {{6, 17}, {12, 17}}}}}});
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(field(r), "stroke");
  r = post(path, {{"stroke", {{"points", {{6, 17}, {64, 17}}}}}});
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(field(r), "stroke.points[1]");
  r = post(path, {{"stroke", {{"points", {{6, 17}, {"a", 17}}}}}});
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(field(r), "stroke.points[1]");
  r = post(path, {{"annotation_ids", {a["id"]}}});
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(field(r), "annotation_ids");
  r = post(path, json::object());
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(field(r), "stroke");
  r = post(path, {{"brush", 1}});
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(field(r), "brush");
  EXPECT_EQ(post(path, {{"annotation_ids", {a["id"], 999999}}})->status, 404);
  EXPECT_EQ(post("/api/v1/images/999999/masks:merge", {{"annotation_ids", {1, 2}}})->status, 404);
  EXPECT_EQ(post(path, {{"stroke", {{"points", {{2, 17}, {50, 17}}}}}}, "carol")->status, 403);
  EXPECT_EQ(post(path, {{"stroke", {{"points", {{2, 17}, {50, 17}}}}}}, "mallory")->status, 404);
  EXPECT_EQ(annotation(a["id"])["version"], 1);
}

TEST_F(MaskEditsApi, SplitCreatesTheOtherPartsAndHonoursIfMatchAndLocks) {
  const auto image = add_image(lab(), 1);
  const json bar = create_mask(image.id, {4, 10, 50, 12}, nucleus_);
  const std::string path = fmt::format("/api/v1/annotations/{}:split", bar["id"].get<std::int64_t>());
  const json markers = {{"markers", {{8, 15}, {48, 15}}}};

  httplib::Headers stale = auth(token("alice"));
  stale.emplace("If-Match", "\"3\"");
  auto r = client().Post(path, stale, markers.dump(), "application/json");
  EXPECT_EQ(r->status, 409) << r->body;

  ASSERT_EQ(post(fmt::format("/api/v1/images/{}/lock", image.id), json::object(), "bob")->status, 201);
  r = post(path, markers);
  EXPECT_EQ(r->status, 423) << r->body;
  EXPECT_EQ(body(r)["error"]["details"]["holder"], "bob");
  EXPECT_EQ(annotation(bar["id"])["version"], 1);

  r = post(path, {{"markers", {{8, 15}, {48, 15}}}, {"outline", {{"points", {{20, 5}, {20, 30}}}, {"width", 3}}}},
           "bob");
  ASSERT_EQ(r->status, 200) << r->body;
  const json out = body(r);
  EXPECT_EQ(out["updated"][0]["id"], bar["id"]);
  EXPECT_LE(out["updated"][0]["bbox"][2].get<int>(), 20);
  ASSERT_EQ(out["created"].size(), 1U);
  EXPECT_EQ(out["created"][0]["tag_id"], nucleus_);
  EXPECT_GE(out["created"][0]["bbox"][0].get<int>(), 20);
}

TEST_F(MaskEditsApi, BadSplitsAre400NamingTheField) {
  const auto image = add_image(lab(), 1);
  const json bar = create_mask(image.id, {4, 10, 50, 12}, nucleus_);
  const auto point = body(post(fmt::format("/api/v1/images/{}/annotations", image.id),
                               {{"kind", "point"}, {"geometry", {{"points", {{3, 3}}}}}}));
  const std::string path = fmt::format("/api/v1/annotations/{}:split", bar["id"].get<std::int64_t>());
  auto r = post(path, {{"markers", {{8, 15}}}});
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(field(r), "markers");
  r = post(path, {{"markers", {{8, 15}, {70, 15}}}});
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(field(r), "markers[1]");
  r = post(path, {{"markers", {{8, 15}, {60, 40}}}});
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(field(r), "markers[1]");
  r = post(fmt::format("/api/v1/annotations/{}:split", point["id"].get<std::int64_t>()),
           {{"markers", {{8, 15}, {48, 15}}}});
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(field(r), "annotation_id");
  EXPECT_EQ(post("/api/v1/annotations/999999:split", {{"markers", {{8, 15}, {48, 15}}}})->status, 404);
  EXPECT_EQ(post(path, {{"markers", {{8, 15}, {48, 15}}}}, "mallory")->status, 404);
  EXPECT_EQ(annotation(bar["id"])["version"], 1);
}

TEST_F(MaskEditsApi, SeriesMasksOfATagAreListedAndDeletedInOneCall) {
  std::vector<catalog::ImageRecord> frames;
  for (int f = 0; f < 3; ++f) frames.push_back(add_image(lab(), 10 + f, std::string("movie"), f));
  const catalog::Id series = *frames[0].series_id;
  for (const auto& frame : frames) {
    create_mask(frame.id, {5, 5, 10, 10}, nucleus_);
    create_mask(frame.id, {30, 5, 10, 10}, debris_);
  }
  const std::string masks = fmt::format("/api/v1/series/{}/masks", series);
  EXPECT_EQ(body(get(masks))["masks"].size(), 6U);
  EXPECT_EQ(body(get(fmt::format("{}?tag_id={}", masks, nucleus_)))["masks"].size(), 3U);

  EXPECT_EQ(del(masks)->status, 400);
  EXPECT_EQ(del(fmt::format("{}?tag_id=999999", masks))->status, 404);
  EXPECT_EQ(del(fmt::format("{}?tag_id={}", masks, nucleus_), "carol")->status, 403);
  EXPECT_EQ(del(fmt::format("{}?tag_id={}", masks, nucleus_), "mallory")->status, 404);
  EXPECT_EQ(get(masks, "mallory")->status, 404);
  EXPECT_EQ(get("/api/v1/series/999999/masks")->status, 404);

  const auto r = del(fmt::format("{}?tag_id={}", masks, nucleus_), "bob");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(body(r)["deleted"].size(), 3U);
  EXPECT_TRUE(body(get(fmt::format("{}?tag_id={}", masks, nucleus_)))["masks"].empty());
  EXPECT_EQ(body(get(fmt::format("{}?tag_id={}", masks, debris_)))["masks"].size(), 3U);
  // Each delete is an ordinary journaled edit: its author can undo it.
  const auto undone = post(fmt::format("/api/v1/annotations/{}/undo", body(r)["deleted"][0]["id"].get<std::int64_t>()),
                           json::object(), "bob");
  EXPECT_EQ(undone->status, 200) << undone->body;
  EXPECT_EQ(body(get(fmt::format("{}?tag_id={}", masks, nucleus_)))["masks"].size(), 1U);
}

}  // namespace
}  // namespace tessera::server::testing
