// Propagation over real loopback HTTP: POST /api/v1/series/{id}/masks:propagate queues a masks.propagate
// job the in-process runner finishes; bad frames, tags and fields (400/404), viewers (403), outsiders
// (404) and a lease held by someone else (423) are refused up front with nothing queued or stored.

#include <gmock/gmock.h>

#include <chrono>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "server/server_fixture.hpp"
#include "tessera/app/annotations.hpp"
#include "tessera/catalog/jobs.hpp"
#include "tessera/synth/timelapse.hpp"

namespace tessera::server::testing {
namespace {

using ::testing::HasSubstr;

// Series "movie" of project lab: four 128x128 synthetic frames, the nuclei of frame 0 annotated (tag
// "nucleus") from the ground truth; tag "debris" has no masks.
class PropagationApiTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    for (const catalog::Tag& t : workspace().catalog().upsert_tags(
             lab(), {catalog::TagSpec{"nucleus", "#ff0000", "label", std::nullopt},
                     catalog::TagSpec{"debris", "#00ff00", "label", std::nullopt}})) {
      (t.name == "nucleus" ? tag_ : debris_) = t.id;
    }
    synth::TimelapseOptions o;
    o.positions = 1;
    o.frames = 4;
    o.size = 128;
    o.nuclei = 4;
    o.seed = 7;
    o.cycle_frames = 0;
    o.touching_fraction = 0;
    const synth::TimelapseFrames movie = synth::generate_position(o, 1);
    for (int t = 0; t < o.frames; ++t) {
      app::Upload u;
      u.name = fmt::format("t{:03}.png", t);
      u.bytes = image::encode(movie.images[static_cast<size_t>(t)], ".png");
      u.series = "movie";
      u.frame_index = t;
      images_.push_back(app::upload_image(workspace(), lab(), u).record);
    }
    series_ = *images_.front().series_id;
    for (const synth::NucleusGeometry& n : movie.nuclei[0]) {
      const cv::Mat truth = movie.labels[0] == n.label;
      if (cv::countNonZero(truth) < 30) continue;
      const cv::Rect box = cv::boundingRect(truth);
      app::AnnotationDraft draft;
      draft.state.kind = "mask";
      draft.state.tag_id = tag_;
      draft.state.geometry = nullptr;
      draft.state.bbox = {static_cast<double>(box.x), static_cast<double>(box.y),
                          static_cast<double>(box.x + box.width), static_cast<double>(box.y + box.height)};
      draft.mask_png = image::encode(truth(box), ".png");
      app::Annotations(workspace()).create(images_.front(), {user_id("alice"), "alice"}, draft);
      ++sources_;
    }
    ASSERT_GT(sources_, 0);
  }

  std::string path(catalog::Id series) const { return fmt::format("/api/v1/series/{}/masks:propagate", series); }

  std::size_t stored_on(int frame) {
    catalog::ViewportQuery q;
    q.image_id = images_[static_cast<size_t>(frame)].id;
    return app::Annotations(workspace()).in_viewport(q).annotations.size();
  }

  void expect_nothing_stored() {
    for (int t = 1; t < 4; ++t) EXPECT_EQ(stored_on(t), 0u) << "frame " << t;
    const json jobs = body(get(fmt::format("/api/v1/projects/{}/jobs", lab())));
    ASSERT_TRUE(jobs.contains("jobs")) << jobs.dump();
    EXPECT_TRUE(jobs["jobs"].empty()) << jobs.dump();
  }

  std::vector<catalog::ImageRecord> images_;
  catalog::Id series_ = 0, tag_ = 0, debris_ = 0;
  int sources_ = 0;
};

TEST_F(PropagationApiTest, PropagationIsAJobTheServerFinishes) {
  const auto queued = post(path(series_), {{"frame", 0}, {"tag_id", tag_}, {"direction", "forward"}}, "bob");
  ASSERT_TRUE(queued);
  ASSERT_EQ(queued->status, 202) << queued->body;
  const json job = body(queued)["job"];
  EXPECT_EQ(job["kind"], "masks.propagate");
  EXPECT_EQ(job["params"]["series_id"], series_);
  EXPECT_EQ(queued->get_header_value("Location"), fmt::format("/api/v1/jobs/{}", job["id"].get<catalog::Id>()));
  const catalog::Job done = wait_for_job(job["id"].get<catalog::Id>());
  ASSERT_EQ(catalog::to_string(done.state), "succeeded") << done.message.value_or("");
  EXPECT_EQ(done.result["created"], 3 * sources_);
  EXPECT_EQ(done.result["frames"], 3);
  for (int t = 1; t < 4; ++t) EXPECT_EQ(stored_on(t), static_cast<std::size_t>(sources_)) << "frame " << t;
  catalog::ViewportQuery q;
  q.image_id = images_[1].id;
  const catalog::Annotation a = app::Annotations(workspace()).in_viewport(q).annotations.front();
  EXPECT_EQ(a.state.source, "propagated");
  EXPECT_EQ(a.state.source_ref["from_frame"], 0);
  EXPECT_EQ(a.author, "bob");
}

TEST_F(PropagationApiTest, BadRequestsAreRefusedUpFront) {
  const auto outside = post(path(series_), {{"frame", 9}, {"tag_id", tag_}});
  ASSERT_EQ(outside->status, 400) << outside->body;
  EXPECT_EQ(body(outside)["error"]["details"]["field"], "frame");
  const auto no_mask = post(path(series_), {{"frame", 0}, {"tag_id", debris_}});
  ASSERT_EQ(no_mask->status, 400) << no_mask->body;
  EXPECT_THAT(body(no_mask)["error"]["message"].get<std::string>(), HasSubstr("holds no mask"));
  EXPECT_EQ(post(path(series_), {{"tag_id", tag_}})->status, 400);
  EXPECT_EQ(post(path(series_), {{"frame", 0}, {"tag_id", tag_}, {"colour", 1}})->status, 400);
  EXPECT_EQ(post(path(series_), {{"frame", 0}, {"tag_id", tag_}, {"direction", "up"}})->status, 400);
  EXPECT_EQ(post(path(series_), {{"frame", 0}, {"tag_id", tag_}, {"min_confidence", 2}})->status, 400);
  EXPECT_EQ(post(path(series_), {{"frame", 0}, {"tag_id", 9999}})->status, 404);
  EXPECT_EQ(post(path(9999), {{"frame", 0}, {"tag_id", tag_}})->status, 404);
  EXPECT_EQ(post(path(series_), {{"frame", 0}, {"tag_id", tag_}}, "mallory")->status, 404);
  EXPECT_EQ(post(path(series_), {{"frame", 0}, {"tag_id", tag_}}, "carol")->status, 403);
  expect_nothing_stored();
}

TEST_F(PropagationApiTest, ALeaseHeldBySomeoneElseIs423AndNothingIsQueued) {
  app::Annotations(workspace()).acquire_lock(images_[2].id, {user_id("bob"), "bob"});
  const auto refused = post(path(series_), {{"frame", 0}, {"tag_id", tag_}}, "alice");
  ASSERT_EQ(refused->status, 423) << refused->body;
  EXPECT_EQ(body(refused)["error"]["details"]["image_id"], images_[2].id);
  EXPECT_EQ(body(refused)["error"]["details"]["holder"], "bob");
  expect_nothing_stored();
}

}  // namespace
}  // namespace tessera::server::testing
