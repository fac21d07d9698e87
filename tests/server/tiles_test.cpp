// Tiles over real loopback HTTP: the pyramid description, tiles in every format, ETag/304, windows and
// selections from the query, absurd coordinates and other projects' images.

#include <opencv2/imgcodecs.hpp>

#include "server/server_fixture.hpp"
#include "tessera/tiles/tile_cache.hpp"

namespace tessera::server::testing {
namespace {

class TilesTest : public ServerFixture {
 protected:
  // A 600 x 300 image: zoom 0 (150 x 75), 1 (300 x 150, 2 x 1 tiles), 2 (full, 3 x 2 tiles).
  catalog::ImageRecord add_picture(catalog::Id project, int depth = CV_8U, int seed = 1) {
    app::Upload upload;
    upload.name = fmt::format("picture_{}.png", seed);
    upload.bytes = png(seed, 600, 300, depth);
    return app::upload_image(workspace(), project, upload).record;
  }

  static std::string tiles_of(const catalog::ImageRecord& image) {
    return fmt::format("/api/v1/images/{}/tiles", image.id);
  }

  static cv::Mat decode(const std::string& bytes) {
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
    return cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
  }

  tiles::TileCacheStats stats() { return tiles::TileCache(workspace().blobs()).stats(); }
};

TEST_F(TilesTest, DescriptionGivesTheGridAndTheUrlTemplate) {
  const auto image = add_picture(lab(), CV_16U);
  auto r = get(tiles_of(image), "carol");
  ASSERT_EQ(r->status, 200) << r->body;
  const json d = body(r);
  EXPECT_EQ(d["width"], 600);
  EXPECT_EQ(d["height"], 300);
  EXPECT_EQ(d["tile_size"], 256);
  EXPECT_EQ(d["max_zoom"], 2);
  EXPECT_EQ(d["levels"].size(), 3u);
  EXPECT_EQ(d["pixel_type"], "u16");
  EXPECT_EQ(d["window"]["mode"], "percentiles");
  EXPECT_LT(d["window"]["min"].get<double>(), d["window"]["max"].get<double>());
  EXPECT_EQ(d["url"], fmt::format("/api/v1/images/{}/tiles/{{z}}/{{x}}/{{y}}.png", image.id));
}

TEST_F(TilesTest, TilesComeInEveryFormatWithTheirContentType) {
  const auto image = add_picture(lab());
  for (auto [extension, type] : {std::pair{"png", "image/png"}, std::pair{"jpg", "image/jpeg"},
                                 std::pair{"jpeg", "image/jpeg"}, std::pair{"webp", "image/webp"}}) {
    auto r = get(fmt::format("{}/2/2/1.{}", tiles_of(image), extension), "carol");
    ASSERT_EQ(r->status, 200) << extension << ": " << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), type);
    const cv::Mat tile = decode(r->body);
    ASSERT_FALSE(tile.empty()) << extension;
    EXPECT_EQ(tile.size(), cv::Size(256, 256)) << extension;
  }
}

TEST_F(TilesTest, EtagAnswers304AndCachedTilesAreNotRenderedAgain) {
  const auto image = add_picture(lab());
  const std::string path = fmt::format("{}/2/0/0.png", tiles_of(image));
  auto first = get(path);
  ASSERT_EQ(first->status, 200) << first->body;
  const std::string etag = first->get_header_value("ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(first->get_header_value("Cache-Control"), "private, max-age=31536000, immutable");
  const auto reads = stats().source_reads;

  auto again = get(path);
  EXPECT_EQ(again->body, first->body);
  EXPECT_EQ(again->get_header_value("ETag"), etag);
  auto neighbour = get(fmt::format("{}/2/1/1.png", tiles_of(image)));
  EXPECT_NE(neighbour->get_header_value("ETag"), etag);
  EXPECT_EQ(stats().source_reads, reads) << "a cached tile must not read the image";

  auto revalidated = client().Get(path, {{"Authorization", "Bearer " + token("alice")}, {"If-None-Match", etag}});
  EXPECT_EQ(revalidated->status, 304);
  EXPECT_TRUE(revalidated->body.empty());
  auto listed =
      client().Get(path, {{"Authorization", "Bearer " + token("alice")}, {"If-None-Match", "\"x\", W/" + etag}});
  EXPECT_EQ(listed->status, 304);
  auto stale = client().Get(path, {{"Authorization", "Bearer " + token("alice")}, {"If-None-Match", "\"other\""}});
  EXPECT_EQ(stale->status, 200);
  // Revalidation still checks access.
  auto outsider = client().Get(path, {{"Authorization", "Bearer " + token("mallory")}, {"If-None-Match", etag}});
  EXPECT_EQ(outsider->status, 404);
}

TEST_F(TilesTest, AbsurdCoordinatesAre404) {
  const auto image = add_picture(lab());
  const std::string base = tiles_of(image);
  for (std::string tail : {"/3/0/0.png", "/2/3/0.png", "/2/0/2.png", "/0/1/0.png", "/99/0/0.png",
                           "/99999999999999999999999/0/0.png", "/0/99999999999999999999/0.png", "/-1/0/0.png",
                           "/0/0/0.gif", "/0/0/0", "/0/0.png", "/a/0/0.png", "/0/0/0.png/x"}) {
    auto r = get(base + tail);
    ASSERT_TRUE(r) << tail;
    EXPECT_EQ(r->status, 404) << tail << ": " << r->body;
  }
  EXPECT_EQ(get("/api/v1/images/999999/tiles/0/0/0.png")->status, 404);
  EXPECT_EQ(get("/api/v1/images/999999/tiles")->status, 404);
  EXPECT_EQ(stats().source_reads, 0u);
}

TEST_F(TilesTest, OtherProjectsImagesDoNotExistAndStrangersMustLogIn) {
  const auto image = add_picture(lab());
  const std::string tile = fmt::format("{}/0/0/0.png", tiles_of(image));
  EXPECT_EQ(get(tile, "mallory")->status, 404);
  EXPECT_EQ(get(tiles_of(image), "mallory")->status, 404);
  EXPECT_EQ(get(tile, "")->status, 401);
  EXPECT_EQ(get(tile, "carol")->status, 200);
  // <img> and OpenLayers tile loads cannot send headers.
  auto with_query_token = client().Get(fmt::format("{}?access_token={}", tile, token("bob")));
  EXPECT_EQ(with_query_token->status, 200);
  EXPECT_EQ(stats().source_reads, 1u);
}

TEST_F(TilesTest, BadQueryParametersAre400NamingThem) {
  const auto image = add_picture(lab(), CV_16U);
  const std::string tile = fmt::format("{}/0/0/0.png", tiles_of(image));
  for (auto [query, field] :
       {std::pair{"frame=1", "frame"}, std::pair{"channels=1", "channels"}, std::pair{"min=5", "max"},
        std::pair{"min=9&max=3", "max"}, std::pair{"percentiles=50", "percentiles"}, std::pair{"min=x&max=3", "min"}}) {
    auto r = get(fmt::format("{}?{}", tile, query));
    ASSERT_EQ(r->status, 400) << query << ": " << r->body;
    EXPECT_EQ(body(r)["error"]["details"]["field"], field) << query;
    EXPECT_NE(body(r)["error"]["message"].get<std::string>().find(field), std::string::npos) << r->body;
    EXPECT_EQ(get(fmt::format("{}?{}", tiles_of(image), query))->status, 400) << query;
  }
}

TEST_F(TilesTest, WindowFromTheQueryChangesTheTile) {
  const auto image = add_picture(lab(), CV_16U);
  const std::string tile = fmt::format("{}/2/0/0.png", tiles_of(image));
  auto automatic = get(tile);
  auto dark = get(tile + "?min=0&max=65535");
  auto bright = get(tile + "?min=0&max=1000");
  ASSERT_EQ(automatic->status, 200);
  ASSERT_EQ(dark->status, 200);
  ASSERT_EQ(bright->status, 200);
  EXPECT_NE(automatic->get_header_value("ETag"), dark->get_header_value("ETag"));
  // Samples reach 62500 (250 x 250): a window up to 65535 keeps them below 245, one up to 1000 saturates most.
  EXPECT_LT(cv::mean(decode(dark->body))[0], cv::mean(decode(automatic->body))[0]);
  EXPECT_GT(cv::mean(decode(bright->body))[0], 200);
  auto described = body(get(tiles_of(image) + "?min=0&max=1000"));
  EXPECT_EQ(described["window"]["mode"], "range");
  EXPECT_EQ(described["window"]["max"], 1000);
}

TEST_F(TilesTest, PyramidJobRendersEveryTileAhead) {
  const auto image = add_picture(lab(), CV_16U);
  auto queued = post(fmt::format("{}/pyramid?format=webp&min=0&max=20000", tiles_of(image)), json::object(), "bob");
  ASSERT_EQ(queued->status, 202) << queued->body;
  const std::string location = queued->get_header_value("Location");
  ASSERT_FALSE(location.empty());
  json job;
  for (int i = 0; i < 500; ++i) {
    job = body(get(location, "bob"));
    if (job.value("state", "") == "succeeded" || job.value("state", "") == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(job["state"], "succeeded") << job.dump();
  EXPECT_EQ(job["result"]["tiles"], 1 + 2 + 6);  // zoom 1 is 300 px wide: two tiles
  EXPECT_EQ(job["result"]["written"], 9);
  EXPECT_EQ(stats().tiles_written, 9u);

  const auto reads = stats().source_reads;
  for (auto [z, x, y] : {std::tuple{0, 0, 0}, std::tuple{1, 0, 0}, std::tuple{2, 2, 1}}) {
    auto r = get(fmt::format("{}/{}/{}/{}.webp?min=0&max=20000", tiles_of(image), z, x, y), "carol");
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(stats().source_reads, reads) << "the job rendered them all";
  EXPECT_EQ(stats().tiles_written, 9u);
}

TEST_F(TilesTest, PyramidJobsNeedAnEditorAndGoodParameters) {
  const auto image = add_picture(lab());
  const std::string path = fmt::format("{}/pyramid", tiles_of(image));
  EXPECT_EQ(post(path, json::object(), "carol")->status, 403);
  EXPECT_EQ(post(path, json::object(), "mallory")->status, 404);
  auto bad_frame = post(path + "?frame=3", json::object(), "bob");
  EXPECT_EQ(bad_frame->status, 400);
  EXPECT_EQ(body(bad_frame)["error"]["details"]["field"], "frame") << bad_frame->body;
  auto bad_format = post(path + "?format=gif", json::object(), "bob");
  EXPECT_EQ(bad_format->status, 400);
  EXPECT_EQ(body(bad_format)["error"]["details"]["field"], "format") << bad_format->body;
}

TEST_F(TilesTest, PyramidJobsTakeTypedParametersAndOnlyImagesOfTheirProject) {
  const auto ours = add_picture(lab(), CV_16U);
  const auto theirs = add_picture(other(), CV_8U, 2);
  const std::string jobs = fmt::format("/api/v1/projects/{}/jobs", lab());
  auto typed = post(jobs, json{{"kind", "tiles.pyramid"},
                               {"params", {{"image", ours.id}, {"channels", {0}}, {"percentiles", {1, 99}}}}});
  EXPECT_EQ(typed->status, 202) << typed->body;
  auto foreign = post(jobs, json{{"kind", "tiles.pyramid"}, {"params", {{"image", theirs.id}}}});
  EXPECT_EQ(foreign->status, 404) << foreign->body;
  auto unknown = post(jobs, json{{"kind", "tiles.pyramid"}, {"params", {{"image", ours.id}, {"zoom", 3}}}});
  EXPECT_EQ(unknown->status, 400);
  EXPECT_EQ(body(unknown)["error"]["details"]["field"], "zoom") << unknown->body;
  auto bad_window = post(jobs, json{{"kind", "tiles.pyramid"}, {"params", {{"image", ours.id}, {"min", 5}}}});
  EXPECT_EQ(bad_window->status, 400);
  EXPECT_EQ(body(bad_window)["error"]["details"]["field"], "max") << bad_window->body;
  auto no_image = post(jobs, json{{"kind", "tiles.pyramid"}, {"params", json::object()}});
  EXPECT_EQ(no_image->status, 400);
  EXPECT_EQ(body(no_image)["error"]["details"]["field"], "image") << no_image->body;
}

}  // namespace
}  // namespace tessera::server::testing
