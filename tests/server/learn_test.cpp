// Active learning over real loopback HTTP: an editor starts a round on a set (202 + Location of a
// 'learn.round' job), a job runner trains the ensemble with progress on the feed, and the result is
// the recorded round: the set '<set>-round-1' of the chosen images with suggested masks on them, the round
// in the set's list, the ensemble among the project's models with its provenance. Bad requests are 400
// naming the field and queue nothing; viewers get 403 on starting one, strangers 404 everywhere.

#include <gmock/gmock.h>

#include <array>

#include <opencv2/imgproc.hpp>

#include "server/server_fixture.hpp"
#include "tessera/app/annotations.hpp"
#include "tessera/app/job_runner.hpp"
#include "tessera/catalog/jobs.hpp"
#include "tessera/catalog/learn.hpp"
#include "tessera/image/encode.hpp"

namespace tessera::server::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kSide = 128;
constexpr int kImages = 10;

// Project "lab" with tags nucleus and background and a set "cells" of ten images (bright disks on a noisy
// background), scribbles of both classes on the first two; a set "bare" of two images without annotations,
// and a set "nuclei-only" whose one image has nucleus scribbles only.
class LearnApiTest : public ServerFixture {
 protected:
  // Jobs run on the test's own runner, which stores every progress report (the server's keeps one per half
  // second): a quick round still shows its progress on the feed, however fast the machine.
  void configure(ServeOptions& options) override { options.run_jobs = false; }

  void SetUp() override {
    ServerFixture::SetUp();
    app::WorkerOptions worker;
    worker.name = "learn-test";
    worker.progress_every_s = 0;
    runner_ = std::make_unique<app::JobRunner>(workspace(), worker);
    runner_->start();
    auto& c = workspace().catalog();
    for (const catalog::Tag& t :
         c.upsert_tags(lab(), {{"nucleus", "#00ff00", "scribble", std::nullopt}, {"background", "#0000ff", "scribble", std::nullopt}})) {
      tags_[t.name] = t.id;
    }
    std::vector<catalog::Id> cells;
    for (int i = 0; i < kImages; ++i) cells.push_back(upload(i).id);
    c.ensure_set(lab(), "cells");
    c.add_to_set(lab(), "cells", cells);
    cells_ = c.get_set(lab(), "cells").id;
    for (int i = 0; i < 2; ++i) {
      const catalog::ImageRecord image = c.get_image(cells[static_cast<std::size_t>(i)]);
      const int x = 30 + 5 * i;
      scribble(image, "nucleus", {{x - 8, 40}, {x + 8, 40}});
      scribble(image, "nucleus", {{84, 86 - 2 * i}, {94, 86 - 2 * i}});
      scribble(image, "background", {{5, 120}, {120, 120}});
      scribble(image, "background", {{5, 5}, {120, 10}});
    }
    c.ensure_set(lab(), "bare");
    c.add_to_set(lab(), "bare", {upload(50).id, upload(51).id});
    bare_ = c.get_set(lab(), "bare").id;
    const catalog::ImageRecord lonely = upload(60);
    c.ensure_set(lab(), "nuclei-only");
    c.add_to_set(lab(), "nuclei-only", {lonely.id});
    nuclei_only_ = c.get_set(lab(), "nuclei-only").id;
    scribble(lonely, "nucleus", {{20, 40}, {40, 40}});
  }

  // Two disks, their place and the noise depending on i.
  catalog::ImageRecord upload(int i) {
    cv::Mat pixels(kSide, kSide, CV_8U, cv::Scalar(60));
    cv::circle(pixels, {30 + 5 * (i % 8), 40}, 14, 170, cv::FILLED);
    cv::circle(pixels, {90, 86 - 2 * (i % 8)}, 11, 170, cv::FILLED);
    cv::Mat noise(pixels.size(), CV_8U);
    cv::RNG(100 + i).fill(noise, cv::RNG::UNIFORM, 0, 20 + 8 * (i % 8));
    pixels += noise;
    app::Upload u;
    u.name = fmt::format("cell_{}.png", i);
    u.bytes = image::encode(pixels, ".png");
    return app::upload_image(workspace(), lab(), u).record;
  }

  void scribble(const catalog::ImageRecord& image, const std::string& tag, const std::vector<std::array<int, 2>>& points) {
    json pts = json::array();
    for (const auto& p : points) pts.push_back({p[0], p[1]});
    const json draft = {{"kind", "scribble"}, {"tag_id", tags_.at(tag)}, {"geometry", {{"points", pts}, {"width", 3}}}};
    ASSERT_EQ(app::Annotations(workspace()).create(image, {user_id("alice"), "alice"}, draft).status,
              catalog::EditStatus::applied);
  }

  void TearDown() override {
    if (runner_) runner_->stop();
    runner_.reset();
    ServerFixture::TearDown();
  }

  static std::string rounds_path(catalog::Id set) { return fmt::format("/api/v1/sets/{}/learn/rounds", set); }

  // Small and quick, but a real round: two models, the two most uncertain images chosen.
  static json round_request() {
    return {{"tags", {"nucleus", "background"}}, {"models", 2}, {"trees", 10}, {"patch", 64}, {"top", 2}, {"seed", 3}};
  }

  std::vector<catalog::Annotation> suggested_on(catalog::Id image_id) {
    catalog::ViewportQuery q;
    q.image_id = image_id;
    std::vector<catalog::Annotation> out;
    for (auto& a : app::Annotations(workspace()).in_viewport(q).annotations) {
      if (a.state.source == "suggested") out.push_back(a);
    }
    return out;
  }

  // What a refused request must not have left behind.
  struct Stored {
    std::int64_t jobs = 0, models = 0, sets = 0;
    friend bool operator==(const Stored&, const Stored&) = default;
  };
  Stored stored() {
    auto& c = workspace().catalog();
    return {catalog::JobStore(c).count(std::nullopt, std::nullopt),
            static_cast<std::int64_t>(catalog::LearnStore(c).list_models(lab()).size()),
            static_cast<std::int64_t>(c.list_sets(lab()).size())};
  }

  std::unique_ptr<app::JobRunner> runner_;
  std::map<std::string, catalog::Id> tags_;
  catalog::Id cells_ = 0, bare_ = 0, nuclei_only_ = 0;
};

TEST_F(LearnApiTest, AnEditorRunsARoundAsAJobAndReadsTheRoundAndModels) {
  const auto queued = post(rounds_path(cells_), round_request(), "bob");
  ASSERT_TRUE(queued);
  ASSERT_EQ(queued->status, 202) << queued->body;
  const json job = body(queued)["job"];
  EXPECT_EQ(job["kind"], "learn.round");
  EXPECT_EQ(job["params"]["set"], "cells");
  const catalog::Id job_id = job["id"].get<catalog::Id>();
  EXPECT_EQ(queued->get_header_value("Location"), fmt::format("/api/v1/jobs/{}", job_id));
  const catalog::Job done = wait_for_job(job_id);
  ASSERT_EQ(catalog::to_string(done.state), "succeeded") << done.message.value_or("");

  // The result is the round.
  const json& round = done.result;
  EXPECT_EQ(round["number"], 1);
  EXPECT_EQ(round["set_id"], cells_);
  EXPECT_EQ(round["round_set"], "cells-round-1");
  EXPECT_EQ(round["job_id"], job_id);
  EXPECT_EQ(round["actor"], "bob");
  EXPECT_EQ(round["model_ids"].size(), 2u);
  EXPECT_EQ(round["metrics"]["annotated_images"], 2);
  EXPECT_EQ(round["metrics"]["scored_images"], kImages - 2);
  EXPECT_EQ(round["metrics"]["chosen_images"], 2);
  EXPECT_EQ(round["ranking"].size(), static_cast<std::size_t>(kImages - 2));
  EXPECT_EQ(round["parameters"]["models"], 2);
  EXPECT_GE(round["suggested"].get<int>(), 2);  // a nucleus mask on each chosen image

  // The chosen images are the new set, and carry the ensemble's masks as suggestions.
  auto& c = workspace().catalog();
  catalog::ImageQuery in_round;
  in_round.project_id = lab();
  in_round.set = "cells-round-1";
  const auto chosen = c.list_images(in_round);
  ASSERT_EQ(chosen.size(), 2u);
  for (const catalog::ImageRecord& image : chosen) {
    const auto suggestions = suggested_on(image.id);
    ASSERT_EQ(suggestions.size(), 1u) << "image " << image.id;
    EXPECT_EQ(suggestions[0].state.kind, "mask");
    EXPECT_EQ(suggestions[0].state.tag_id, tags_["nucleus"]);
    EXPECT_EQ(suggestions[0].state.source_ref["round_id"], round["id"]);
  }

  // Progress went to the feed while it ran, then the outcome.
  std::vector<std::string> kinds;
  std::int64_t progress_events = 0;
  for (const auto& e : c.list_events(lab(), 0, 10000)) {
    if (e.subject_type != "job" || e.subject_id != job_id) continue;
    kinds.push_back(e.kind);
    progress_events += e.kind == "job.progress";
  }
  EXPECT_GE(progress_events, 1) << ::testing::PrintToString(kinds);
  EXPECT_EQ(kinds.back(), "job.succeeded") << ::testing::PrintToString(kinds);

  // Viewers read the rounds and the models.
  const auto listed = get(rounds_path(cells_), "carol");
  ASSERT_EQ(listed->status, 200) << listed->body;
  ASSERT_EQ(body(listed)["rounds"].size(), 1u);
  EXPECT_EQ(body(listed)["rounds"][0]["id"], round["id"]);
  const auto one = get(fmt::format("{}/{}", rounds_path(cells_), round["id"].get<catalog::Id>()), "carol");
  ASSERT_EQ(one->status, 200) << one->body;
  EXPECT_EQ(body(one)["metrics"], round["metrics"]);

  const auto models = get(fmt::format("/api/v1/projects/{}/models", lab()), "carol");
  ASSERT_EQ(models->status, 200) << models->body;
  const json list = body(models)["models"];
  ASSERT_EQ(list.size(), 2u);
  for (std::size_t m = 0; m < list.size(); ++m) {
    EXPECT_EQ(list[m]["kind"], "pixel_classifier");
    EXPECT_EQ(list[m]["name"], fmt::format("cells-round-1-model-{}", m + 1));
    EXPECT_EQ(list[m]["round_id"], round["id"]);
    const json& provenance = list[m]["provenance"];
    EXPECT_EQ(provenance["set"], "cells");
    EXPECT_EQ(provenance["tags"], json({"nucleus", "background"}));
    EXPECT_EQ(provenance["user"], "bob");
    EXPECT_EQ(provenance["ensemble_member"], m + 1);
    EXPECT_EQ(provenance["images"].size(), 2u);
    EXPECT_TRUE(provenance.contains("format_version")) << provenance.dump();
  }

  // A second round numbers on.
  const auto again = post(rounds_path(cells_), round_request(), "alice");
  ASSERT_EQ(again->status, 202) << again->body;
  const catalog::Job second = wait_for_job(body(again)["job"]["id"].get<catalog::Id>());
  ASSERT_EQ(catalog::to_string(second.state), "succeeded") << second.message.value_or("");
  EXPECT_EQ(second.result["round_set"], "cells-round-2");
  EXPECT_EQ(body(get(rounds_path(cells_)))["rounds"].size(), 2u);
}

TEST_F(LearnApiTest, BadRequestsAre400NamingTheFieldAndStoreNothing) {
  auto with = [](const std::string& key, const json& value) {
    json r = round_request();
    r[key] = value;
    return r;
  };
  json no_tags = round_request();
  no_tags.erase("tags");
  const Stored before = stored();
  struct Case {
    catalog::Id set;
    json request;
    std::string field;
    std::string says;
  };
  const std::vector<Case> cases = {
      {cells_, with("tags", {"nucleus"}), "tags", "at least two"},
      {cells_, with("tags", {"nucleus", "mitochondrion"}), "tags", "no tag 'mitochondrion'"},
      {cells_, no_tags, "tags", "tags"},
      {cells_, with("tags", "nucleus,background"), "tags", "list of tag names"},
      {bare_, round_request(), "set", "no annotated pixels"},
      {nuclei_only_, round_request(), "tags", "class 'background' has no annotated pixels"},
      {cells_, with("set", "bare"), "set", "the one in the path"},
      {cells_, with("models", 1), "models", "[2, 50]"},
      {cells_, with("patch", 8), "patch", "[16, 4096]"},
      {cells_, with("top", "ten"), "top", "integer"},
      {cells_, with("held_out", 0.95), "held_out", "[0, 0.9]"},
      {cells_, with("seed", -1), "seed", ">= 0"},
      {cells_, with("with_masks", "yes"), "with_masks", "true or false"},
      {cells_, with("colour", 1), "colour", "not a parameter"},
  };
  for (const Case& c : cases) {
    const auto r = post(rounds_path(c.set), c.request, "bob");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << c.field << ": " << r->body;
    EXPECT_EQ(body(r)["error"]["details"]["field"], c.field) << r->body;
    EXPECT_THAT(body(r)["error"]["message"].get<std::string>(), HasSubstr(c.says)) << r->body;
  }
  const auto not_json = client().Post(rounds_path(cells_), auth(token("bob")), "{tags", "application/json");
  EXPECT_EQ(not_json->status, 400) << not_json->body;
  // An unknown set is not found, as is a round of another set.
  EXPECT_EQ(post(rounds_path(999999), round_request(), "bob")->status, 404);
  EXPECT_EQ(get(rounds_path(999999), "bob")->status, 404);
  EXPECT_EQ(get(rounds_path(cells_) + "/12345", "bob")->status, 404);

  EXPECT_EQ(stored(), before) << "a refused request queued a job, stored a model or made a set";
  EXPECT_TRUE(body(get(rounds_path(bare_)))["rounds"].empty());
}

TEST_F(LearnApiTest, ViewersMayNotStartARoundAndStrangersSeeNothing) {
  const Stored before = stored();
  EXPECT_EQ(post(rounds_path(cells_), round_request(), "carol")->status, 403);
  EXPECT_EQ(post(rounds_path(cells_), round_request(), "mallory")->status, 404);
  EXPECT_EQ(post(rounds_path(cells_), round_request(), "")->status, 401);
  EXPECT_EQ(get(rounds_path(cells_), "mallory")->status, 404);
  EXPECT_EQ(get(fmt::format("/api/v1/projects/{}/models", lab()), "mallory")->status, 404);
  EXPECT_EQ(get(fmt::format("/api/v1/projects/{}/models", other()), "alice")->status, 404);
  EXPECT_EQ(stored(), before);
}

}  // namespace
}  // namespace tessera::server::testing
