// The core API over real loopback HTTP: authentication, project isolation, images, uploads, sets, tags, the
// activity feed, ops, and hostile input.

#include <gmock/gmock.h>

#include "server/server_fixture.hpp"
#include "tessera/catalog/catalog.hpp"

namespace tessera::server::testing {
namespace {

using ::testing::HasSubstr;

class ApiTest : public ServerFixture {};

TEST_F(ApiTest, LoginGivesATokenThatWorksAndLogoutRevokesIt) {
  auto wrong = client().Post("/api/v1/auth/login", json{{"name", "alice"}, {"password", "nope-nope"}}.dump(), "application/json");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto unknown = client().Post("/api/v1/auth/login", json{{"name", "zed"}, {"password", "nope-nope"}}.dump(), "application/json");
  EXPECT_EQ(body(unknown), body(wrong)) << "wrong name and wrong password must answer alike";

  auto login = client().Post("/api/v1/auth/login", json{{"name", "bob"}, {"password", "password-of-bob"}}.dump(), "application/json");
  ASSERT_EQ(login->status, 200) << login->body;
  const std::string token = body(login)["token"];
  auto me = client().Get("/api/v1/me", auth(token));
  ASSERT_EQ(me->status, 200);
  EXPECT_EQ(body(me)["name"], "bob");
  EXPECT_EQ(body(me)["projects"][0]["role"], "editor");

  EXPECT_EQ(client().Post("/api/v1/auth/logout", auth(token), "", "application/json")->status, 204);
  auto after = client().Get("/api/v1/me", auth(token));
  EXPECT_EQ(after->status, 401);
}

TEST_F(ApiTest, RequestsWithoutOrWithBadTokensAre401) {
  EXPECT_EQ(client().Get("/api/v1/projects")->status, 401);
  EXPECT_EQ(client().Get("/api/v1/projects", auth("tsr_0000"))->status, 401);
  EXPECT_EQ(client().Get("/api/v1/projects", {{"Authorization", "Basic YWxpY2U6eA=="}})->status, 401);
  EXPECT_EQ(client().Get(fmt::format("/api/v1/projects?access_token={}", token("alice")))->status, 200);
}

TEST_F(ApiTest, NonMembersSeeNothingAndViewersCannotWrite) {
  const auto image = add_image(lab(), 1);
  for (const std::string& path : {fmt::format("/api/v1/projects/{}", lab()), fmt::format("/api/v1/projects/{}/images", lab()),
                                 fmt::format("/api/v1/images/{}", image.id), fmt::format("/api/v1/images/{}/raw", image.id)}) {
    auto r = get(path, "mallory");
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_EQ(get(path, "carol")->status, 200) << path;
  }
  // A project that does not exist and one mallory is not in answer alike.
  EXPECT_EQ(get("/api/v1/projects/999999", "alice")->status, 404);
  EXPECT_EQ(get(fmt::format("/api/v1/projects/{}", other()), "alice")->status, 404);

  auto viewer_write = post(fmt::format("/api/v1/projects/{}/sets", lab()), json{{"name", "s"}}, "carol");
  EXPECT_EQ(viewer_write->status, 403);
  EXPECT_EQ(post(fmt::format("/api/v1/projects/{}/sets", lab()), json{{"name", "s"}}, "bob")->status, 201);
  // Only owners manage members.
  EXPECT_EQ(put(fmt::format("/api/v1/projects/{}/members/carol", lab()), json{{"role", "editor"}}, "bob")->status, 403);
  EXPECT_EQ(put(fmt::format("/api/v1/projects/{}/members/carol", lab()), json{{"role", "editor"}}, "alice")->status, 200);
  EXPECT_EQ(post(fmt::format("/api/v1/projects/{}/sets", lab()), json{{"name", "t"}}, "carol")->status, 201);
}

TEST_F(ApiTest, TheLastOwnerCannotLeave) {
  auto r = del(fmt::format("/api/v1/projects/{}/members/alice", lab()));
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(put(fmt::format("/api/v1/projects/{}/members/alice", lab()), json{{"role", "viewer"}})->status, 409);
}

TEST_F(ApiTest, CreatingAProjectMakesTheCreatorItsOwner) {
  auto r = post("/api/v1/projects", json{{"name", "plankton"}, {"description", "cruise 7"}}, "carol");
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(body(r)["role"], "owner");
  EXPECT_EQ(post("/api/v1/projects", json{{"name", "plankton"}}, "bob")->status, 409);
  EXPECT_EQ(get(r->get_header_value("Location"), "bob")->status, 404);
  EXPECT_EQ(get(r->get_header_value("Location"), "carol")->status, 200);
}

TEST_F(ApiTest, UploadRawAndMultipartAndDuplicates) {
  const std::string bytes = png(7);
  auto r = client().Post(fmt::format("/api/v1/projects/{}/images?name=a.png&series=s1&frame=0&metadata={}", lab(),
                                     httplib::detail::encode_query_param(R"({"well":"A1"})")),
                         auth(token("bob")), bytes, "image/png");
  ASSERT_EQ(r->status, 201) << r->body;
  const json created = body(r);
  EXPECT_EQ(created["width"], 64);
  EXPECT_EQ(created["series"], "s1");
  EXPECT_EQ(created["metadata"]["well"], "A1");
  EXPECT_EQ(r->get_header_value("Location"), fmt::format("/api/v1/images/{}", created["id"].get<int>()));

  auto again = client().Post(fmt::format("/api/v1/projects/{}/images?name=other-name.png", lab()), auth(token("bob")), bytes, "image/png");
  ASSERT_EQ(again->status, 200) << again->body;
  EXPECT_EQ(body(again)["id"], created["id"]);
  EXPECT_EQ(body(again)["created"], false);

  httplib::MultipartFormDataItems items{{"file", png(8), "b.png", "image/png"},
                                        {"metadata", R"({"station":"st3"})", "", ""},
                                        {"series", "s1", "", ""},
                                        {"frame", "1", "", ""}};
  auto multi = client().Post(fmt::format("/api/v1/projects/{}/images", lab()), auth(token("bob")), items);
  ASSERT_EQ(multi->status, 201) << multi->body;
  EXPECT_EQ(body(multi)["metadata"]["station"], "st3");
  EXPECT_EQ(body(multi)["frame_index"], 1);

  auto raw = get(fmt::format("/api/v1/images/{}/raw", created["id"].get<int>()), "carol");
  ASSERT_EQ(raw->status, 200);
  EXPECT_EQ(raw->body, bytes);
  EXPECT_EQ(raw->get_header_value("Content-Type"), "image/png");
  auto cached = client().Get(fmt::format("/api/v1/images/{}/raw", created["id"].get<int>()),
                             {{"Authorization", "Bearer " + token("carol")}, {"If-None-Match", raw->get_header_value("ETag")}});
  EXPECT_EQ(cached->status, 304);
}

TEST_F(ApiTest, BadUploadsAreRefusedAndLeaveNoRecord) {
  const std::string path = fmt::format("/api/v1/projects/{}/images?name=x.png", lab());
  std::string truncated = png(3);
  truncated.resize(truncated.size() / 2);
  EXPECT_EQ(client().Post(path, auth(token("bob")), truncated, "image/png")->status, 422);
  EXPECT_EQ(client().Post(path, auth(token("bob")), std::string("just some text, not an image"), "image/png")->status, 415);
  EXPECT_EQ(client().Post(path, auth(token("bob")), png(3), "text/plain")->status, 415);
  EXPECT_EQ(client().Post(path, auth(token("bob")), std::string(), "image/png")->status, 422);
  EXPECT_EQ(client().Post(fmt::format("/api/v1/projects/{}/images", lab()), auth(token("bob")), png(3), "image/png")->status, 400);
  EXPECT_EQ(client().Post(path + "&frame=abc&series=s", auth(token("bob")), png(3), "image/png")->status, 400);
  EXPECT_EQ(client().Post(path + "&metadata=%5B1%5D", auth(token("bob")), png(3), "image/png")->status, 400);
  EXPECT_EQ(client().Post(path, auth(token("carol")), png(3), "image/png")->status, 403);
  EXPECT_EQ(client().Post(fmt::format("/api/v1/projects/{}/images?name=x.png", other()), auth(token("bob")), png(3), "image/png")->status, 404);
  catalog::ImageQuery all;
  EXPECT_EQ(workspace().catalog().count_images(all), 0);
}

TEST_F(ApiTest, ListingFiltersSortsAndPagesWithCursors) {
  for (int i = 0; i < 25; ++i) add_image(lab(), i, "s", i);
  add_image(other(), 99);
  std::vector<int> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto r = get(fmt::format("/api/v1/projects/{}/images?limit=10&sort=frame_index&order=desc{}", lab(),
                             cursor.empty() ? "" : "&cursor=" + cursor),
                 "carol");
    ASSERT_EQ(r->status, 200) << r->body;
    const json page_body = body(r);
    for (const auto& image : page_body["images"]) seen.push_back(image["frame_index"]);
    if (page_body["next_cursor"].is_null()) break;
    cursor = page_body["next_cursor"];
  }
  ASSERT_EQ(seen.size(), 25u);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(seen[i], 24 - i);

  auto filtered = get(fmt::format("/api/v1/projects/{}/images?where={}&count=true", lab(), httplib::detail::encode_query_param("frame < 5")));
  ASSERT_EQ(filtered->status, 200) << filtered->body;
  EXPECT_EQ(body(filtered)["total"], 5);
  EXPECT_EQ(get(fmt::format("/api/v1/projects/{}/images?where=frame%20%3C%3C", lab()))->status, 400);
  EXPECT_EQ(get(fmt::format("/api/v1/projects/{}/images?sort=password", lab()))->status, 400);
  EXPECT_EQ(get(fmt::format("/api/v1/projects/{}/images?limit=0", lab()))->status, 400);
  EXPECT_EQ(get(fmt::format("/api/v1/projects/{}/images?cursor=zz", lab()))->status, 400);
}

TEST_F(ApiTest, SetsFromFiltersAndListsAndTags) {
  std::vector<catalog::Id> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(add_image(lab(), i, "s", i).id);
  const auto foreign = add_image(other(), 50).id;
  auto from_filter = post(fmt::format("/api/v1/projects/{}/sets", lab()), json{{"name", "early"}, {"where", "frame < 3"}}, "bob");
  ASSERT_EQ(from_filter->status, 201) << from_filter->body;
  EXPECT_EQ(body(from_filter)["image_count"], 3);
  EXPECT_EQ(body(from_filter)["query"], "frame < 3");
  auto from_list = post(fmt::format("/api/v1/projects/{}/sets", lab()), json{{"name", "picked"}, {"image_ids", {ids[4], ids[5]}}}, "bob");
  ASSERT_EQ(from_list->status, 201) << from_list->body;
  EXPECT_EQ(body(from_list)["image_count"], 2);
  // Ids of another project are unknown here, and nothing is created.
  EXPECT_EQ(post(fmt::format("/api/v1/projects/{}/sets", lab()), json{{"name", "sneaky"}, {"image_ids", {foreign}}}, "bob")->status, 404);
  EXPECT_EQ(get(fmt::format("/api/v1/projects/{}/sets/sneaky", lab()))->status, 404);
  auto removed = post(fmt::format("/api/v1/projects/{}/sets/picked/remove", lab()), json{{"image_ids", {ids[4]}}}, "bob");
  EXPECT_EQ(body(removed)["image_count"], 1);
  EXPECT_EQ(post(fmt::format("/api/v1/projects/{}/sets", lab()), json{{"name", "early"}}, "bob")->status, 409);

  auto tag = post(fmt::format("/api/v1/projects/{}/tags", lab()), json{{"name", "blurry"}, {"color", "#00ff00"}, {"kind", "image"}}, "bob");
  ASSERT_EQ(tag->status, 201) << tag->body;
  EXPECT_EQ(post(fmt::format("/api/v1/projects/{}/tags", lab()), json{{"name", "bad"}, {"color", "green"}}, "bob")->status, 400);
  EXPECT_EQ(patch(fmt::format("/api/v1/projects/{}/tags/blurry", lab()), json{{"color", "#0000ff"}}, "bob")->status, 200);
  EXPECT_EQ(put(fmt::format("/api/v1/images/{}/tags/blurry", ids[0]), json::object(), "bob")->status, 200);
  auto tagged = get(fmt::format("/api/v1/projects/{}/images?tag=blurry", lab()));
  ASSERT_EQ(body(tagged)["images"].size(), 1u);
  EXPECT_EQ(body(get(fmt::format("/api/v1/images/{}", ids[0])))["tags"], json::array({"blurry"}));
  EXPECT_EQ(body(get(fmt::format("/api/v1/images/{}", ids[0])))["sets"], json::array({"early"}));
  EXPECT_EQ(put(fmt::format("/api/v1/images/{}/tags/nosuch", ids[0]), json::object(), "bob")->status, 404);
}

TEST_F(ApiTest, MalformedBodiesNameTheProblem) {
  const std::string path = fmt::format("/api/v1/projects/{}/sets", lab());
  auto broken = client().Post(path, auth(token("bob")), std::string("{\"name\": "), "application/json");
  EXPECT_EQ(broken->status, 400);
  EXPECT_THAT(broken->body, HasSubstr("not valid JSON"));
  auto wrong_type = post(path, json{{"name", 12}}, "bob");
  EXPECT_EQ(wrong_type->status, 400);
  EXPECT_EQ(body(wrong_type)["error"]["details"]["field"], "name");
  EXPECT_EQ(client().Post(path, auth(token("bob")), std::string("name=x"), "application/x-www-form-urlencoded")->status, 415);
  EXPECT_EQ(post(path, json::array({1, 2}), "bob")->status, 400);
}

TEST_F(ApiTest, SqlMetacharactersAreJustText) {
  const std::string evil = "x'); DROP TABLE images; --\"\\%_";
  auto set = post(fmt::format("/api/v1/projects/{}/sets", lab()), json{{"name", evil}, {"description", evil}}, "bob");
  ASSERT_EQ(set->status, 201) << set->body;
  EXPECT_EQ(body(set)["name"], evil);
  auto tag = post(fmt::format("/api/v1/projects/{}/tags", lab()), json{{"name", evil}}, "bob");
  ASSERT_EQ(tag->status, 201) << tag->body;
  auto where = get(fmt::format("/api/v1/projects/{}/images?where={}", lab(), httplib::detail::encode_query_param("source_path = '" + evil)));
  EXPECT_EQ(where->status, 400);
  auto login = client().Post("/api/v1/auth/login", json{{"name", "alice' OR '1'='1"}, {"password", "' OR '1'='1"}}.dump(), "application/json");
  EXPECT_EQ(login->status, 401);
  add_image(lab(), 1);
  EXPECT_EQ(body(get(fmt::format("/api/v1/projects/{}", lab())))["counts"]["images"], 1);
}

TEST_F(ApiTest, PathTraversalAndAbsurdPathsAreNotFound) {
  for (const char* path : {"/api/v1/images/../../etc/passwd", "/api/v1/images/%2e%2e%2fetc%2fpasswd", "/../../etc/passwd",
                           "/api/v1/images/-1", "/api/v1/images/99999999999999999999999", "/api/v1/projects/0"}) {
    auto r = get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path << " " << r->body;
    EXPECT_THAT(r->body, ::testing::Not(HasSubstr("root:")));
  }
}

TEST_F(ApiTest, FeedStreamsUploadsAndResumesAfterLastEventId) {
  std::vector<std::string> chunks;
  std::string stream;
  std::atomic<bool> got_upload{false};
  std::thread listener([&] {
    httplib::Client c("127.0.0.1", port());
    c.set_read_timeout(10, 0);
    c.Get(fmt::format("/api/v1/projects/{}/feed", lab()), auth(token("carol")), [&](const char* data, size_t n) {
      stream.append(data, n);
      if (stream.find("event: image.imported") != std::string::npos) {
        got_upload = true;
        return false;
      }
      return true;
    });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto r = client().Post(fmt::format("/api/v1/projects/{}/images?name=live.png", lab()), auth(token("bob")), png(11), "image/png");
  ASSERT_EQ(r->status, 201);
  listener.join();
  ASSERT_TRUE(got_upload) << stream;
  EXPECT_THAT(stream, HasSubstr("\"focus\""));

  // Resume: events after a given id are replayed from the table.
  const auto first = add_image(lab(), 12);
  const auto events = workspace().catalog().list_events(lab(), 0, 1000);
  ASSERT_GE(events.size(), 2u);
  const auto before_last = events[events.size() - 2].id;
  std::string replay;
  httplib::Client c("127.0.0.1", port());
  c.Get(fmt::format("/api/v1/projects/{}/feed", lab()),
        {{"Authorization", "Bearer " + token("carol")}, {"Last-Event-ID", std::to_string(before_last)}},
        [&](const char* data, size_t n) {
          replay.append(data, n);
          return replay.find(fmt::format("id: {}", events.back().id)) == std::string::npos;
        });
  EXPECT_THAT(replay, HasSubstr(fmt::format("id: {}", events.back().id)));
  EXPECT_THAT(replay, ::testing::Not(HasSubstr(fmt::format("id: {}\n", before_last))));
  (void)first;
  EXPECT_EQ(get(fmt::format("/api/v1/projects/{}/feed", lab()), "mallory")->status, 404);
}

TEST_F(ApiTest, AFocusDropInASeriesRaisesAnAlert) {
  for (int i = 0; i < 5; ++i) add_image(lab(), i, "run1", i);
  // A flat image has no focus at all.
  cv::Mat flat(48, 64, CV_8U, cv::Scalar(90));
  auto r = client().Post(fmt::format("/api/v1/projects/{}/images?name=blur.png&series=run1&frame=5", lab()), auth(token("bob")),
                         image::encode(flat, ".png"), "image/png");
  ASSERT_EQ(r->status, 201) << r->body;
  ASSERT_TRUE(body(r).contains("focus_alert")) << r->body;
  const auto events = workspace().catalog().list_events(lab(), 0, 1000);
  EXPECT_TRUE(std::any_of(events.begin(), events.end(), [](const auto& e) { return e.kind == "qc.focus_drop"; }));
}

TEST_F(ApiTest, OpsAreListedAndRunOnImages) {
  auto list = get("/api/v1/ops", "carol");
  ASSERT_EQ(list->status, 200);
  EXPECT_GT(body(list)["ops"].size(), 5u);
  const auto image = add_image(lab(), 4);
  auto run = post("/api/v1/ops/threshold_otsu", json{{"inputs", {{"image", image.id}}}}, "carol");
  ASSERT_EQ(run->status, 200) << run->body;
  EXPECT_EQ(body(run)["outputs"]["mask"]["kind"], "mask");
  auto png_out = post("/api/v1/ops/threshold_otsu?output=mask", json{{"inputs", {{"image", image.id}}}}, "carol");
  EXPECT_EQ(png_out->get_header_value("Content-Type"), "image/png");
  EXPECT_EQ(post("/api/v1/ops/threshold_otsu", json{{"inputs", {{"image", image.id}}}}, "mallory")->status, 404);
  EXPECT_EQ(post("/api/v1/ops/no_such_op", json::object())->status, 404);
  EXPECT_EQ(post("/api/v1/ops/threshold_otsu", json{{"inputs", {{"image", "x"}}}})->status, 400);
}

class SmallBodyApiTest : public ServerFixture {
  void configure(ServeOptions& options) override { options.max_body_bytes = 10000; }
};

TEST_F(SmallBodyApiTest, OversizedBodiesAre413) {
  cv::Mat noise(400, 400, CV_8U);
  cv::randu(noise, 0, 255);  // incompressible: the PNG stays far above the 10 kB limit
  auto r = client().Post(fmt::format("/api/v1/projects/{}/images?name=big.png", lab()), auth(token("bob")),
                         image::encode(noise, ".png"), "image/png");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  catalog::ImageQuery all;
  EXPECT_EQ(workspace().catalog().count_images(all), 0);
}

}  // namespace
}  // namespace tessera::server::testing
