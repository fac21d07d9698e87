// Annotations over real loopback HTTP: CRUD with If-Match versions (409 stale, 428 missing), the journal and
// undo, locks refusing writes (423), viewports over annotations and objects, mask overlays, and hostile input
// (other projects, viewers, malformed JSON, SQL metacharacters, absurd boxes, masks that do not fit).

#include "tessera/catalog/annotations.hpp"

#include <gmock/gmock.h>

#include <opencv2/imgcodecs.hpp>

#include "server/server_fixture.hpp"
#include "tessera/catalog/catalog.hpp"
#include "tessera/core/base64.hpp"

namespace tessera::server::testing {
namespace {

using ::testing::HasSubstr;

class AnnotationsApiTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    image_ = add_image(lab(), 1);  // 64 x 48
    foreign_image_ = add_image(other(), 2);
  }

  std::string image_path(const std::string& suffix = "") const {
    return fmt::format("/api/v1/images/{}/annotations{}", image_.id, suffix);
  }
  static std::string annotation_path(std::int64_t id, const std::string& suffix = "") {
    return fmt::format("/api/v1/annotations/{}{}", id, suffix);
  }

  httplib::Headers headers(const std::string& who, std::optional<std::string> version) {
    httplib::Headers h = auth(token(who));
    if (version) h.emplace("If-Match", *version);
    return h;
  }
  httplib::Result patch_at(std::int64_t id, const json& body, std::optional<std::string> version,
                           const std::string& who = "alice") {
    return client().Patch(annotation_path(id), headers(who, version), body.dump(), "application/json");
  }
  httplib::Result delete_at(std::int64_t id, std::optional<std::string> version, const std::string& who = "alice") {
    return client().Delete(annotation_path(id), headers(who, version));
  }

  static json triangle(double x = 10, double y = 10) {
    return {{"kind", "polygon"}, {"geometry", {{"points", {{x, y}, {x + 10, y}, {x, y + 10}}}}}};
  }

  // Creates over HTTP; returns the created annotation's JSON.
  json create(const json& annotation, const std::string& who = "alice") {
    auto r = post(image_path(), annotation, who);
    EXPECT_EQ(r->status, 201) << r->body;
    return body(r);
  }

  std::int64_t annotation_rows() {
    catalog::ViewportQuery all;
    all.image_id = image_.id;
    all.limit = 100000;
    catalog::AnnotationStore store(workspace().catalog());
    return static_cast<std::int64_t>(store.in_viewport(all).annotations.size());
  }

  std::vector<std::string> annotation_event_kinds() {
    std::vector<std::string> out;
    for (const auto& e : workspace().catalog().list_events(lab(), 0, 1000)) {
      if (e.kind.starts_with("annotation.")) out.push_back(e.kind);
    }
    return out;
  }

  catalog::ImageRecord image_, foreign_image_;
};

TEST_F(AnnotationsApiTest, CreateReadUpdateDeleteWithVersions) {
  auto created = post(image_path(), triangle(), "bob");
  ASSERT_EQ(created->status, 201) << created->body;
  const json a = body(created);
  const std::int64_t id = a["id"];
  EXPECT_EQ(created->get_header_value("Location"), annotation_path(id));
  EXPECT_EQ(created->get_header_value("ETag"), "\"1\"");
  EXPECT_EQ(a["version"], 1);
  EXPECT_EQ(a["author"], "bob");
  EXPECT_EQ(a["bbox"], json({10, 10, 21, 21}));

  auto read = get(annotation_path(id), "carol");
  ASSERT_EQ(read->status, 200);
  EXPECT_EQ(read->get_header_value("ETag"), "\"1\"");
  EXPECT_EQ(body(read)["geometry"], a["geometry"]);

  auto updated = patch_at(id, {{"attributes", {{"count", 1}}}}, "\"1\"");
  ASSERT_EQ(updated->status, 200) << updated->body;
  EXPECT_EQ(body(updated)["version"], 2);
  EXPECT_EQ(updated->get_header_value("ETag"), "\"2\"");

  // A write based on version 1 now is stale: 409 with the current version, and nothing changes.
  auto stale = patch_at(id, {{"attributes", {{"count", 99}}}}, "1");
  ASSERT_EQ(stale->status, 409) << stale->body;
  EXPECT_EQ(body(stale)["error"]["details"]["current_version"], 2);
  EXPECT_EQ(body(stale)["error"]["details"]["annotation"]["attributes"]["count"], 1);
  EXPECT_EQ(patch_at(id, {{"color", "#00ff00"}}, std::nullopt)->status, 428);
  EXPECT_EQ(patch_at(id, {{"color", "#00ff00"}}, "\"two\"")->status, 400);
  EXPECT_EQ(body(get(annotation_path(id)))["attributes"]["count"], 1);

  EXPECT_EQ(delete_at(id, std::nullopt)->status, 428);
  EXPECT_EQ(delete_at(id, "\"1\"")->status, 409);
  auto deleted = delete_at(id, "W/\"2\"");
  ASSERT_EQ(deleted->status, 200) << deleted->body;
  EXPECT_EQ(body(deleted)["deleted"], true);
  EXPECT_EQ(body(get(annotation_path(id)))["deleted"], true);
  EXPECT_EQ(delete_at(id, "\"3\"")->status, 404);
  EXPECT_EQ(get(annotation_path(id, "/mask.png"))->status, 404);

  auto history = get(annotation_path(id, "/history"), "carol");
  ASSERT_EQ(history->status, 200);
  const json edits = body(history)["edits"];
  std::vector<std::string> actions;
  for (const auto& e : edits) actions.push_back(e["action"]);
  EXPECT_THAT(actions, ::testing::ElementsAre("create", "update", "delete"));
  EXPECT_EQ(body(history)["edits"][1]["user"], "alice");
  EXPECT_EQ(body(history)["edits"][1]["diff"]["after"]["attributes"]["count"], 1);
  EXPECT_THAT(annotation_event_kinds(),
              ::testing::ElementsAre("annotation.created", "annotation.updated", "annotation.deleted"));
}

TEST_F(AnnotationsApiTest, UndoRestoresAsANewVersionAndConflictsAfterSomeoneElsesChange) {
  const json a = create(triangle(), "bob");
  const std::int64_t id = a["id"];
  ASSERT_EQ(patch_at(id, {{"color", "#123456"}}, "1", "bob")->status, 200);
  auto undone = post(annotation_path(id, "/undo"), json::object(), "bob");
  ASSERT_EQ(undone->status, 200) << undone->body;
  EXPECT_EQ(body(undone)["version"], 3);
  EXPECT_TRUE(body(undone)["color"].is_null());

  ASSERT_EQ(patch_at(id, {{"color", "#654321"}}, "3", "bob")->status, 200);
  ASSERT_EQ(patch_at(id, {{"needs_review", true}}, "4", "alice")->status, 200);
  auto conflict = post(annotation_path(id, "/undo"), json::object(), "bob");
  EXPECT_EQ(conflict->status, 409) << conflict->body;
  EXPECT_EQ(body(conflict)["error"]["details"]["current_version"], 5);

  // Alice undoes her own change, in the image, as "undo my last change here".
  auto mine = post(image_path("/undo"), json::object(), "alice");
  ASSERT_EQ(mine->status, 200) << mine->body;
  EXPECT_EQ(body(mine)["needs_review"], false);
  auto nothing = post(image_path("/undo"), json::object(), "alice");
  EXPECT_EQ(nothing->status, 409);
  EXPECT_EQ(body(nothing)["error"]["details"]["reason"], "nothing_to_undo");
}

TEST_F(AnnotationsApiTest, WritesOnAnImageLockedBySomeoneElseAre423) {
  const json a = create(triangle(), "alice");
  auto lock = post(fmt::format("/api/v1/images/{}/lock", image_.id), json{{"ttl_seconds", 60}}, "bob");
  ASSERT_EQ(lock->status, 201) << lock->body;

  auto refused = post(image_path(), triangle(30, 30), "alice");
  ASSERT_EQ(refused->status, 423) << refused->body;
  EXPECT_EQ(body(refused)["error"]["details"]["holder"], "bob");
  EXPECT_EQ(body(refused)["error"]["details"]["expires_at"], body(lock)["expires_at"]);
  EXPECT_THAT(body(refused)["error"]["message"].get<std::string>(), HasSubstr("bob"));
  EXPECT_EQ(patch_at(a["id"], {{"color", "#000000"}}, "1", "alice")->status, 423);
  EXPECT_EQ(delete_at(a["id"], "1", "alice")->status, 423);
  EXPECT_EQ(annotation_rows(), 1);

  EXPECT_EQ(post(image_path(), triangle(30, 30), "bob")->status, 201);
  httplib::Headers release = auth(token("bob"));
  release.emplace("X-Lock-Token", body(lock)["token"].get<std::string>());
  ASSERT_EQ(client().Delete(fmt::format("/api/v1/images/{}/lock", image_.id), release)->status, 200);
  EXPECT_EQ(patch_at(a["id"], {{"color", "#000000"}}, "1", "alice")->status, 200);
}

TEST_F(AnnotationsApiTest, OtherProjectsAndAnonymousCallersSeeNothingAndViewersCannotWrite) {
  const json a = create(triangle());
  const std::int64_t id = a["id"];
  const std::string missing = body(get(annotation_path(999999), "mallory"))["error"]["message"];
  for (const std::string& path :
       {annotation_path(id), annotation_path(id, "/history"), annotation_path(id, "/mask.png"), image_path(),
        fmt::format("/api/v1/images/{}/objects", image_.id)}) {
    auto r = get(path, "mallory");
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_EQ(client().Get(path)->status, 401) << path;
  }
  // Someone else's annotation reads exactly like one that does not exist.
  EXPECT_EQ(body(get(annotation_path(id), "mallory"))["error"]["message"], fmt::format("no annotation with id {}", id));
  EXPECT_EQ(missing, "no annotation with id 999999");
  EXPECT_EQ(post(image_path(), triangle(), "mallory")->status, 404);
  EXPECT_EQ(patch_at(id, {{"color", "#000000"}}, "1", "mallory")->status, 404);
  EXPECT_EQ(delete_at(id, "1", "mallory")->status, 404);
  EXPECT_EQ(post(annotation_path(id, "/undo"), json::object(), "mallory")->status, 404);
  // Alice cannot annotate mallory's image either.
  EXPECT_EQ(post(fmt::format("/api/v1/images/{}/annotations", foreign_image_.id), triangle(), "alice")->status, 404);

  EXPECT_EQ(post(image_path(), triangle(), "carol")->status, 403);
  EXPECT_EQ(patch_at(id, {{"color", "#000000"}}, "1", "carol")->status, 403);
  EXPECT_EQ(delete_at(id, "1", "carol")->status, 403);
  EXPECT_EQ(post(annotation_path(id, "/undo"), json::object(), "carol")->status, 403);
  EXPECT_EQ(get(annotation_path(id), "carol")->status, 200);
  EXPECT_EQ(annotation_rows(), 1);
  EXPECT_EQ(body(get(annotation_path(id)))["version"], 1);
}

TEST_F(AnnotationsApiTest, BadBodiesAreRefusedNamingTheFieldAndWriteNothing) {
  auto malformed = client().Post(image_path(), auth(token("alice")), "{\"kind\": \"polygon\",", "application/json");
  EXPECT_EQ(malformed->status, 400);
  EXPECT_EQ(client().Post(image_path(), auth(token("alice")), triangle().dump(), "text/plain")->status, 415);
  EXPECT_EQ(client().Post(image_path(), auth(token("alice")), "[1, 2]", "application/json")->status, 400);

  struct Case {
    json body;
    int status;
    std::string field;
  } cases[] = {
      {{{"kind", "polygon"}}, 400, "geometry"},
      {{{"kind", "polygon"}, {"geometry", {{"points", {{1, 1}, {2, 2}, {1e300, 3}}}}}}, 400, "geometry.points[2]"},
      {{{"kind", "box"}, {"geometry", {{"box", {50, 40, -3, -3}}}}}, 400, "geometry.box"},
      {{{"kind", "mask"}, {"bbox", {0, 0, 1000000, 1000000}}, {"mask_rle", {{"size", {1, 1}}, {"counts", {1}}}}},
       400,
       "bbox"},
      {{{"kind", "mask"}, {"bbox", {0, 0, 4, 4}}, {"mask_rle", {{"size", {4, 5}}, {"counts", {0, 20}}}}},
       422,
       "mask_rle.size"},
      {{{"kind", "mask"}, {"bbox", {0, 0, 4, 4}}, {"mask_png_base64", base64_encode(png(3, 5, 4))}},
       422,
       "mask_png_base64"},
      {{{"kind", "mask"}, {"bbox", {0, 0, 4, 4}}, {"mask_png_base64", "not base64 !"}}, 400, "mask_png_base64"},
      {{{"kind", "polygon"}, {"geometry", triangle()["geometry"]}, {"tag_id", 999999}}, 400, "tag_id"},
      {{{"kind", "polygon"}, {"geometry", triangle()["geometry"]}, {"confidence", "high"}}, 400, "confidence"},
  };
  for (const auto& c : cases) {
    auto r = post(image_path(), c.body);
    EXPECT_EQ(r->status, c.status) << c.body.dump() << " -> " << r->body;
    EXPECT_EQ(body(r)["error"]["details"]["field"], c.field) << r->body;
  }
  EXPECT_EQ(annotation_rows(), 0);
  EXPECT_TRUE(annotation_event_kinds().empty());
}

TEST_F(AnnotationsApiTest, SqlMetacharactersInEveryStringFieldAreJustText) {
  const std::string nasty = "x'); DELETE FROM annotations; --\"\\%_?";
  json a = triangle();
  a["attributes"] = {{nasty, nasty}};
  a["source_ref"] = {{"model", nasty}};
  const json created = create(a);
  auto r = get(annotation_path(created["id"]));
  EXPECT_EQ(body(r)["attributes"][nasty], nasty);
  EXPECT_EQ(body(r)["source_ref"]["model"], nasty);
  for (const json& bad : {json{{"color", nasty}}, json{{"source", nasty}}, json{{"kind", nasty}}, json{{nasty, 1}}}) {
    EXPECT_EQ(patch_at(created["id"], bad, "1")->status, 400) << bad.dump();
  }
  const std::string encoded = "x%27%29%3B%20DELETE%20FROM%20annotations%3B%20--";
  EXPECT_EQ(get(image_path("?tag=" + encoded))->status, 400);
  EXPECT_EQ(get(image_path("?bbox=" + encoded))->status, 400);
  EXPECT_EQ(client().Patch(annotation_path(created["id"]), headers("alice", nasty), "{}", "application/json")->status,
            400);
  EXPECT_EQ(annotation_rows(), 1);
  EXPECT_EQ(body(get(annotation_path(created["id"])))["version"], 1);
}

TEST_F(AnnotationsApiTest, ViewportsFilterByBoxTagAndFrameAndAbsurdBoxesAre400) {
  catalog::Catalog& catalog = workspace().catalog();
  const auto tag = catalog.upsert_tags(lab(), {catalog::TagSpec{"nucleus", "#00ff00", "label", std::nullopt}}).at(0);
  json tagged = triangle(40, 30);
  tagged["tag_id"] = tag.id;
  const std::int64_t left = create(triangle(0, 0))["id"];
  const std::int64_t right = create(tagged)["id"];

  auto ids = [&](const std::string& query) {
    auto r = get(image_path(query));
    EXPECT_EQ(r->status, 200) << query << ": " << r->body;
    const json found = body(r)["annotations"];
    std::vector<std::int64_t> out;
    for (const auto& a : found) out.push_back(a["id"]);
    return out;
  };
  EXPECT_THAT(ids(""), ::testing::ElementsAre(left, right));
  EXPECT_THAT(ids("?bbox=0,0,20,20"), ::testing::ElementsAre(left));
  EXPECT_THAT(ids("?bbox=5,5,45.5,35"), ::testing::ElementsAre(left, right));
  EXPECT_THAT(ids("?bbox=5,5,64,48&tag=nucleus"), ::testing::ElementsAre(right));
  EXPECT_THAT(ids(fmt::format("?bbox=5,5,64,48&tag={}", tag.id)), ::testing::ElementsAre(right));
  EXPECT_THAT(ids("?frame=0&limit=1"), ::testing::SizeIs(1));
  EXPECT_EQ(body(get(image_path("?limit=1")))["truncated"], true);

  for (const char* bad : {"?bbox=1,2,3", "?bbox=nan,0,1,1", "?bbox=0,0,1e400,1", "?bbox=10,10,0,0", "?bbox=0,0,1,1,5",
                          "?bbox=-1e12,0,1,1", "?limit=0", "?limit=100001", "?frame=7", "?tag=nope"}) {
    auto r = get(image_path(bad));
    EXPECT_EQ(r->status, 400) << bad << ": " << r->body;
  }

  std::vector<catalog::NewObject> objects;
  for (int i = 0; i < 4; ++i) {
    catalog::NewObject o;
    o.label = i + 1;
    o.bbox_x0 = i * 10;
    o.bbox_y0 = 0;
    o.bbox_x1 = i * 10 + 5;
    o.bbox_y1 = 5;
    objects.push_back(o);
  }
  const auto object_ids = catalog.add_objects(lab(), std::nullopt, image_.id, objects);
  auto r = get(fmt::format("/api/v1/images/{}/objects?bbox=12,0,30,2", image_.id), "carol");
  ASSERT_EQ(r->status, 200) << r->body;
  ASSERT_EQ(body(r)["objects"].size(), 2u);
  EXPECT_EQ(body(r)["objects"][0]["id"], object_ids[1]);
  EXPECT_EQ(body(r)["objects"][1]["bbox"], json({20, 0, 25, 5})) << "half-open: the box starting at 30 is out";
  EXPECT_EQ(get(fmt::format("/api/v1/images/{}/objects?bbox=1,2", image_.id))->status, 400);
}

TEST_F(AnnotationsApiTest, MasksTravelAsPngOrRleAndOverlayInTheirColour) {
  cv::Mat mask(2, 3, CV_8U, cv::Scalar(0));
  mask.at<std::uint8_t>(0, 1) = 255;
  mask.at<std::uint8_t>(1, 2) = 255;
  const json created = create({{"kind", "mask"},
                               {"bbox", {10, 20, 13, 22}},
                               {"mask_png_base64", base64_encode(image::encode(mask, ".png"))},
                               {"color", "#ff0000"}});
  const std::int64_t id = created["id"];
  EXPECT_EQ(body(get(annotation_path(id, "?mask=rle")))["mask_rle"],
            json::parse(R"({"size":[2,3],"counts":[2,1,2,1]})"));
  EXPECT_FALSE(body(get(annotation_path(id, "?mask=png")))["mask_png_base64"].get<std::string>().empty());
  EXPECT_EQ(get(annotation_path(id, "?mask=jpeg"))->status, 400);

  auto overlay = get(annotation_path(id, "/mask.png?color=%2300ff00"), "carol");
  ASSERT_EQ(overlay->status, 200) << overlay->body;
  EXPECT_EQ(overlay->get_header_value("Content-Type"), "image/png");
  EXPECT_EQ(overlay->get_header_value("X-Tessera-Bbox"), "10,20,13,22");
  const cv::Mat rgba = cv::imdecode(cv::Mat(1, static_cast<int>(overlay->body.size()), CV_8U, overlay->body.data()),
                                    cv::IMREAD_UNCHANGED);
  ASSERT_EQ(rgba.type(), CV_8UC4);
  EXPECT_EQ(rgba.at<cv::Vec4b>(0, 1), cv::Vec4b(0, 255, 0, 128));  // BGRA, default alpha 128
  EXPECT_EQ(rgba.at<cv::Vec4b>(0, 0)[3], 0);
  // <img> tags cannot send headers: the token may come as a parameter.
  EXPECT_EQ(client().Get(annotation_path(id, "/mask.png?access_token=" + token("bob")))->status, 200);
  EXPECT_EQ(get(annotation_path(id, "/mask.png?color=chartreuse"))->status, 400);
}

}  // namespace
}  // namespace tessera::server::testing
