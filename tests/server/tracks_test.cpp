// Tracks over real loopback HTTP: tracking a series as a job the in-process runner finishes, listing
// tracks, journaled edits (split, parent, unparent, merge) and a track's history, bad requests, and
// callers without the role (403) or outside the project (404).

#include "tessera/catalog/tracks.hpp"

#include <gmock/gmock.h>

#include <chrono>
#include <thread>

#include "server/server_fixture.hpp"
#include "tessera/app/track_series.hpp"
#include "tessera/catalog/jobs.hpp"

namespace tessera::server::testing {
namespace {

using ::testing::HasSubstr;

// Series "movie" of project lab: five 64x48 frames, each with two square cells drifting right (masks
// stored), and series "other" of project other with one.
class TracksApiTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    const catalog::Id run = workspace().catalog().start_run(lab(), {{"kind", "measure"}}, "test", {}, {});
    for (int t = 0; t < 5; ++t) {
      const catalog::ImageRecord image = add_image(lab(), 100 + t, "movie", t);
      add_cell(image.id, run, 4 + 2 * t, 6);
      add_cell(image.id, run, 36 + 2 * t, 30);
      if (t == 0) series_ = *image.series_id;
    }
    for (int t = 0; t < 2; ++t) {
      const catalog::ImageRecord image = add_image(other(), 200 + t, "other", t);
      add_cell(image.id, std::nullopt, 10, 10);
      if (t == 0) other_series_ = *image.series_id;
    }
  }

  void add_cell(catalog::Id image, std::optional<catalog::Id> run, int x, int y) {
    catalog::NewObject o;
    o.label = x;
    o.bbox_x0 = x;
    o.bbox_y0 = y;
    o.bbox_x1 = x + 8;
    o.bbox_y1 = y + 8;
    o.mask_blob = workspace().blobs().put(image::encode(cv::Mat(8, 8, CV_8UC1, cv::Scalar(255)), ".png"));
    const catalog::Id project = workspace().catalog().get_image(image).project_id;
    workspace().catalog().add_objects(project, run, image, {o});
  }

  void track_directly(catalog::Id series) {
    app::TrackSeriesRequest request;
    request.series_id = series;
    app::track_series(workspace(), request);
  }

  std::string tracks_path(catalog::Id series) const { return fmt::format("/api/v1/series/{}/tracks", series); }

  catalog::Id series_ = 0, other_series_ = 0;
};

TEST_F(TracksApiTest, TrackingASeriesIsAJobTheServerFinishes) {
  const auto queued = post(tracks_path(series_), {{"max_gap", 1}}, "bob");
  ASSERT_TRUE(queued);
  ASSERT_EQ(queued->status, 202) << queued->body;
  const json job = body(queued)["job"];
  EXPECT_EQ(job["kind"], "track.series");
  EXPECT_EQ(job["params"]["series_id"], series_);
  EXPECT_EQ(queued->get_header_value("Location"), fmt::format("/api/v1/jobs/{}", job["id"].get<catalog::Id>()));
  const catalog::Job done = wait_for_job(job["id"].get<catalog::Id>());
  ASSERT_EQ(catalog::to_string(done.state), "succeeded") << done.message.value_or("");
  EXPECT_EQ(done.result["tracks"], 2);
  EXPECT_EQ(done.result["objects"], 10);
  const catalog::Run run = workspace().catalog().get_run(done.result["run_id"].get<catalog::Id>());
  EXPECT_EQ(run.kind, "track");
  EXPECT_EQ(run.params["max_gap"], 1);

  const auto listed = get(tracks_path(series_), "carol");
  ASSERT_EQ(listed->status, 200);
  const json page = body(listed);
  EXPECT_EQ(page["series"]["name"], "movie");
  ASSERT_EQ(page["tracks"].size(), 2u);
  for (const json& t : page["tracks"]) {
    EXPECT_EQ(t["start_frame"], 0);
    EXPECT_EQ(t["end_frame"], 4);
    EXPECT_EQ(t["objects"], 5);
    EXPECT_TRUE(t["parent_id"].is_null());
  }
  const auto one = get(fmt::format("/api/v1/tracks/{}", page["tracks"][0]["id"].get<catalog::Id>()), "carol");
  ASSERT_EQ(one->status, 200);
  EXPECT_EQ(body(one)["objects"], 5);
  // The tracking is on the project's feed, by the user who asked.
  bool seen = false;
  for (const auto& e : workspace().catalog().list_events(lab(), 0, 1000)) {
    if (e.kind == "series.tracked") seen = e.actor == std::optional<std::string>("bob");
  }
  EXPECT_TRUE(seen);
}

TEST_F(TracksApiTest, TrackingRequestsAreCheckedBeforeAnythingIsQueued) {
  const auto bad_field = post(tracks_path(series_), {{"gap", 1}}, "bob");
  EXPECT_EQ(bad_field->status, 400);
  EXPECT_EQ(body(bad_field)["error"]["details"]["field"], "gap");
  const auto bad_gap = post(tracks_path(series_), {{"max_gap", 500}}, "bob");
  EXPECT_EQ(bad_gap->status, 400);
  EXPECT_THAT(body(bad_gap)["error"]["message"].get<std::string>(), HasSubstr("max_gap"));
  const auto bad_run = post(tracks_path(series_), {{"run", "latest"}}, "bob");
  EXPECT_EQ(bad_run->status, 400);
  EXPECT_EQ(post(tracks_path(series_), json::object(), "carol")->status, 403);
  EXPECT_EQ(post(tracks_path(other_series_), json::object(), "alice")->status, 404);
  EXPECT_EQ(get(tracks_path(other_series_), "alice")->status, 404);
  EXPECT_EQ(get(tracks_path(999999), "alice")->status, 404);
  EXPECT_EQ(catalog::JobStore(workspace().catalog()).count(std::nullopt, std::nullopt), 0);
}

TEST_F(TracksApiTest, EditsAreJournaledAndTheHistoryOutlivesAMergedTrack) {
  track_directly(series_);
  const json tracks = body(get(tracks_path(series_)))["tracks"];
  ASSERT_EQ(tracks.size(), 2u);
  const catalog::Id a = tracks[0]["id"].get<catalog::Id>(), b = tracks[1]["id"].get<catalog::Id>();

  const auto split = post(fmt::format("/api/v1/tracks/{}/split", a), {{"frame", 2}}, "bob");
  ASSERT_EQ(split->status, 200) << split->body;
  const json edit = body(split)["edit"];
  EXPECT_EQ(edit["action"], "split");
  EXPECT_EQ(edit["actor"], "bob");
  EXPECT_EQ(edit["after"]["frame"], 2);
  const catalog::Id piece = edit["other_track_id"].get<catalog::Id>();
  ASSERT_EQ(body(split)["tracks"].size(), 2u);
  EXPECT_EQ(body(split)["tracks"][0]["end_frame"], 1);
  EXPECT_EQ(body(split)["tracks"][1]["start_frame"], 2);

  const auto parent = post(fmt::format("/api/v1/tracks/{}/parent", piece), {{"parent", a}}, "bob");
  ASSERT_EQ(parent->status, 200) << parent->body;
  EXPECT_EQ(body(get(fmt::format("/api/v1/tracks/{}", piece)))["parent_id"], a);
  ASSERT_EQ(post(fmt::format("/api/v1/tracks/{}/parent", piece), {{"parent", nullptr}}, "bob")->status, 200);
  EXPECT_TRUE(body(get(fmt::format("/api/v1/tracks/{}", piece)))["parent_id"].is_null());

  // Lineage-breaking edits are refused, naming the frame.
  const auto overlap = post(fmt::format("/api/v1/tracks/{}/merge", b), {{"from", a}}, "bob");
  EXPECT_EQ(overlap->status, 400);
  EXPECT_THAT(body(overlap)["error"]["message"].get<std::string>(), HasSubstr("frame"));
  EXPECT_EQ(post(fmt::format("/api/v1/tracks/{}/split", b), {{"frame", 0}}, "bob")->status, 400);
  EXPECT_EQ(post(fmt::format("/api/v1/tracks/{}/split", b), {{"at", 2}}, "bob")->status, 400);

  const auto merged = post(fmt::format("/api/v1/tracks/{}/merge", a), {{"from", piece}}, "bob");
  ASSERT_EQ(merged->status, 200) << merged->body;
  EXPECT_EQ(body(merged)["tracks"][0]["end_frame"], 4);
  EXPECT_EQ(body(merged)["edit"]["after"]["deleted"], json::array({piece}));
  EXPECT_EQ(get(fmt::format("/api/v1/tracks/{}", piece))->status, 404);

  const json history = body(get(fmt::format("/api/v1/tracks/{}/history", a), "carol"));
  ASSERT_EQ(history["edits"].size(), 4u);
  EXPECT_EQ(history["edits"][0]["action"], "split");
  EXPECT_EQ(history["edits"][3]["action"], "merge");
  EXPECT_EQ(history["track"]["objects"], 5);
  const auto gone = get(fmt::format("/api/v1/tracks/{}/history", piece), "carol");
  ASSERT_EQ(gone->status, 200);
  EXPECT_TRUE(body(gone)["track"].is_null());
  EXPECT_EQ(body(gone)["edits"].size(), 4u);
  EXPECT_TRUE(body(get(fmt::format("/api/v1/tracks/{}/history", b)))["edits"].empty());

  std::vector<std::string> kinds;
  for (const auto& e : workspace().catalog().list_events(lab(), 0, 1000)) {
    if (e.kind.starts_with("track.")) kinds.push_back(e.kind);
  }
  EXPECT_THAT(kinds, ::testing::ElementsAre("track.split", "track.parent_set", "track.parent_unset", "track.merged"));
}

TEST_F(TracksApiTest, EditsNeedTheEditorRoleAndTracksOfOtherProjectsDoNotExist) {
  track_directly(series_);
  track_directly(other_series_);
  const json tracks = body(get(tracks_path(series_)))["tracks"];
  const catalog::Id a = tracks[0]["id"].get<catalog::Id>();
  const catalog::Id foreign = catalog::TrackStore(workspace().catalog()).list(other_series_).at(0).id;
  EXPECT_EQ(post(fmt::format("/api/v1/tracks/{}/split", a), {{"frame", 2}}, "carol")->status, 403);
  EXPECT_EQ(post(fmt::format("/api/v1/tracks/{}/split", a), {{"frame", 2}}, "mallory")->status, 404);
  EXPECT_EQ(get(fmt::format("/api/v1/tracks/{}/history", a), "mallory")->status, 404);
  EXPECT_EQ(get(fmt::format("/api/v1/tracks/{}", foreign), "alice")->status, 404);
  // A track of another project is as unknown as a missing one, also as the other side of an edit.
  const auto across = post(fmt::format("/api/v1/tracks/{}/merge", a), {{"from", foreign}}, "alice");
  EXPECT_EQ(across->status, 404);
  EXPECT_THAT(body(across)["error"]["message"].get<std::string>(),
              HasSubstr(fmt::format("no track with id {}", foreign)));
  EXPECT_EQ(post(fmt::format("/api/v1/tracks/{}/parent", a), {{"parent", foreign}}, "alice")->status, 404);
  EXPECT_EQ(post(fmt::format("/api/v1/tracks/{}/parent", a), json::object(), "alice")->status, 400);
  EXPECT_EQ(post("/api/v1/tracks/987654/merge", {{"from", a}}, "alice")->status, 404);
  EXPECT_EQ(catalog::TrackStore(workspace().catalog()).history(a).size(), 0u);
}

}  // namespace
}  // namespace tessera::server::testing
