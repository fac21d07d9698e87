// Jobs over real loopback HTTP: queueing (202 + Location) and the in-process runner taking the job to its
// outcome, progress and outcome on the feed, listing with filters and paging, cancelling (running, queued,
// already finished: 409), pipeline runs as jobs, bad requests refused before anything is queued, and
// callers without the role (403) or outside the project (404).

#include <chrono>
#include <thread>

#include <gmock/gmock.h>

#include "server/server_fixture.hpp"
#include "tessera/catalog/catalog.hpp"
#include "tessera/catalog/jobs.hpp"

namespace tessera::server::testing {
namespace {

using ::testing::HasSubstr;

class JobsApiTest : public ServerFixture {
 protected:
  std::string jobs_path() const { return fmt::format("/api/v1/projects/{}/jobs", lab()); }

  httplib::Result queue_wait(int ms, const std::string& who = "alice") {
    return post(jobs_path(), {{"kind", "wait"}, {"params", {{"ms", ms}}}}, who);
  }

  // GETs the job until it is in `state` or finished otherwise (or `until` passes); returns the last body.
  json wait_for(catalog::Id id, const std::string& state, std::chrono::seconds until = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + until;
    json job;
    for (;;) {
      job = body(get(fmt::format("/api/v1/jobs/{}", id)));
      const std::string now = job.value("state", "");
      if (now == state || now == "succeeded" || now == "failed" || now == "cancelled") return job;
      if (std::chrono::steady_clock::now() > deadline) return job;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  std::int64_t queued_jobs() { return catalog::JobStore(workspace().catalog()).count(std::nullopt, std::nullopt); }

  std::vector<std::string> job_event_kinds(catalog::Id job_id) {
    std::vector<std::string> out;
    const json page = body(get(fmt::format("/api/v1/projects/{}/events?limit=1000", lab())));
    for (const auto& e : page["events"]) {
      // job.progress depends on how long the job took; the others are certain.
      if (e["subject_type"] == "job" && e["subject_id"] == job_id && e["kind"] != "job.progress")
        out.push_back(e["kind"]);
    }
    return out;
  }
};

// The queue without a runner, so jobs stay where the test puts them.
class QueuedJobsApiTest : public JobsApiTest {
 protected:
  void configure(ServeOptions& options) override { options.run_jobs = false; }
};

TEST_F(JobsApiTest, QueueingAnswers202WithLocationAndTheServerRunsTheJob) {
  auto r = queue_wait(30, "bob");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  const json accepted = body(r)["job"];
  EXPECT_EQ(accepted["kind"], "wait");
  EXPECT_EQ(accepted["state"], "queued");
  EXPECT_EQ(accepted["created_by"], user_id("bob"));
  const catalog::Id id = accepted["id"];
  EXPECT_EQ(r->get_header_value("Location"), fmt::format("/api/v1/jobs/{}", id));
  const json done = wait_for(id, "succeeded");
  EXPECT_EQ(done["state"], "succeeded") << done.dump();
  EXPECT_EQ(done["progress"], 1.0);
  EXPECT_EQ(done["result"]["slept_ms"], 30);
  EXPECT_EQ(done["attempts"], 1);
  EXPECT_EQ(done["project"], "lab");
  EXPECT_THAT(job_event_kinds(id), ::testing::ElementsAre("job.queued", "job.started", "job.succeeded"));
  // Viewers read jobs too.
  EXPECT_EQ(get(fmt::format("/api/v1/jobs/{}", id), "carol")->status, 200);
}

TEST_F(JobsApiTest, AFailingJobReportsWhy) {
  auto r = post(jobs_path(), {{"kind", "wait"}, {"params", {{"ms", 1}, {"fail", "stage drifted"}}}});
  ASSERT_EQ(r->status, 202);
  const json done = wait_for(body(r)["job"]["id"], "failed");
  EXPECT_EQ(done["state"], "failed");
  EXPECT_EQ(done["message"], "stage drifted");
}

TEST_F(JobsApiTest, CancellingARunningJobStopsIt) {
  auto r = queue_wait(60000);
  ASSERT_EQ(r->status, 202);
  const catalog::Id id = body(r)["job"]["id"];
  ASSERT_EQ(wait_for(id, "running")["state"], "running");
  auto cancel = post(fmt::format("/api/v1/jobs/{}/cancel", id), json::object(), "bob");
  ASSERT_EQ(cancel->status, 200) << cancel->body;
  EXPECT_EQ(body(cancel)["cancel_requested"], true);
  const json done = wait_for(id, "cancelled");
  EXPECT_EQ(done["state"], "cancelled");
  auto again = post(fmt::format("/api/v1/jobs/{}/cancel", id), json::object(), "bob");
  EXPECT_EQ(again->status, 409);
  EXPECT_THAT(body(again)["error"]["message"].get<std::string>(), HasSubstr("already finished (cancelled)"));
}

TEST_F(QueuedJobsApiTest, CancellingAQueuedJobEndsItAtOnce) {
  const catalog::Id id = body(queue_wait(5))["job"]["id"];
  auto cancel = post(fmt::format("/api/v1/jobs/{}/cancel", id), json::object());
  ASSERT_EQ(cancel->status, 200);
  EXPECT_EQ(body(cancel)["state"], "cancelled");
  EXPECT_EQ(body(get(fmt::format("/api/v1/jobs/{}", id)))["state"], "cancelled");
}

TEST_F(QueuedJobsApiTest, ListsNewestFirstWithStateFilterAndPaging) {
  std::vector<catalog::Id> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(body(queue_wait(i))["job"]["id"]);
  post(fmt::format("/api/v1/jobs/{}/cancel", ids[0]), json::object());
  json page = body(get(jobs_path() + "?limit=2"));
  ASSERT_EQ(page["jobs"].size(), 2u);
  EXPECT_EQ(page["jobs"][0]["id"], ids[4]);
  EXPECT_EQ(page["jobs"][1]["id"], ids[3]);
  ASSERT_EQ(page["next"], ids[3]);
  page = body(get(fmt::format("{}?limit=2&before={}", jobs_path(), page["next"].get<catalog::Id>())));
  ASSERT_EQ(page["jobs"].size(), 2u);
  EXPECT_EQ(page["jobs"][0]["id"], ids[2]);
  page = body(get(fmt::format("{}?limit=2&before={}", jobs_path(), page["next"].get<catalog::Id>())));
  ASSERT_EQ(page["jobs"].size(), 1u);
  EXPECT_TRUE(page["next"].is_null());
  page = body(get(jobs_path() + "?state=cancelled"));
  ASSERT_EQ(page["jobs"].size(), 1u);
  EXPECT_EQ(page["jobs"][0]["id"], ids[0]);
  auto bad = get(jobs_path() + "?state=done");
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(body(bad)["error"]["details"]["field"], "state");
  EXPECT_EQ(get(jobs_path() + "?limit=0")->status, 400);
  EXPECT_EQ(get(jobs_path(), "carol")->status, 200);
}

TEST_F(QueuedJobsApiTest, BadRequestsAre400NamingTheFieldAndQueueNothing) {
  const std::pair<json, std::string> cases[] = {
      {{{"kind", "teleport"}}, "kind"},
      {{{"params", {{"ms", 1}}}}, "kind"},
      {{{"kind", 7}}, "kind"},
      {{{"kind", "wait"}, {"params", "ms=1"}}, "params"},
      {{{"kind", "wait"}, {"params", json::object()}}, "ms"},
      {{{"kind", "wait"}, {"params", {{"ms", -1}}}}, "ms"},
      {{{"kind", "wait"}, {"params", {{"ms", 1}, {"sleep", 2}}}}, "sleep"},
      {{{"kind", "wait"}, {"priority", 1}}, "priority"},
      {{{"kind", "wait"}, {"params", {{"ms", "1'; DROP TABLE jobs; --"}}}}, "ms"},
  };
  for (const auto& [request, field] : cases) {
    auto r = post(jobs_path(), request);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << request.dump() << " -> " << r->body;
    EXPECT_EQ(body(r)["error"]["details"]["field"], field) << request.dump() << " -> " << r->body;
  }
  auto malformed = client().Post(jobs_path(), auth(token("alice")), "{\"kind\": \"wait\",", "application/json");
  EXPECT_EQ(malformed->status, 400);
  auto wrong_type = client().Post(jobs_path(), auth(token("alice")), "kind=wait", "text/plain");
  EXPECT_EQ(wrong_type->status, 415);
  EXPECT_EQ(queued_jobs(), 0);
}

TEST_F(QueuedJobsApiTest, RolesAndMembershipGuardEveryRoute) {
  const catalog::Id id = body(queue_wait(5))["job"]["id"];
  const std::string job = fmt::format("/api/v1/jobs/{}", id);
  EXPECT_EQ(queue_wait(5, "carol")->status, 403);
  EXPECT_EQ(post(job + "/cancel", json::object(), "carol")->status, 403);
  EXPECT_EQ(post(fmt::format("/api/v1/projects/{}/runs", lab()), json::object(), "carol")->status, 403);
  // Outside the project: the job and the project do not exist.
  auto hidden = get(job, "mallory");
  EXPECT_EQ(hidden->status, 404);
  EXPECT_EQ(body(hidden)["error"]["message"], fmt::format("no job with id {}", id)) << "worded as for a missing job";
  EXPECT_EQ(body(get("/api/v1/jobs/999999", "mallory"))["error"]["message"], "no job with id 999999");
  EXPECT_EQ(post(job + "/cancel", json::object(), "mallory")->status, 404);
  EXPECT_EQ(get(jobs_path(), "mallory")->status, 404);
  EXPECT_EQ(queue_wait(5, "mallory")->status, 404);
  EXPECT_EQ(get(job, "")->status, 401);
  EXPECT_EQ(body(get(job))["state"], "queued") << "nothing refused changed the job";
  EXPECT_EQ(queued_jobs(), 1);
}

TEST_F(JobsApiTest, APipelinePostedToRunsBecomesAJobThatRecordsARun) {
  std::vector<catalog::Id> images;
  for (int seed = 1; seed <= 3; ++seed) images.push_back(add_image(lab(), seed).id);
  workspace().catalog().ensure_set(lab(), "all");
  workspace().catalog().add_to_set(lab(), "all", images);
  const json pipeline = {
      {"name", "spots"},
      {"input", {{"set", "all"}}},
      {"nodes", json::array({{{"op", "threshold_otsu"}, {"in", {{"image", "raw"}}}, {"out", {{"mask", "mask"}}}},
                             {{"op", "label"}, {"in", {{"mask", "mask"}}}, {"out", {{"labels", "labels"}}}},
                             {{"write", "csv"}, {"path", "spots.csv"}}})}};
  const std::string runs = fmt::format("/api/v1/projects/{}/runs", lab());
  auto r = post(runs, pipeline, "bob");
  ASSERT_EQ(r->status, 202) << r->body;
  EXPECT_EQ(body(r)["job"]["kind"], "pipeline.run");
  const json done = wait_for(body(r)["job"]["id"], "succeeded", std::chrono::seconds(60));
  ASSERT_EQ(done["state"], "succeeded") << done.dump();
  EXPECT_EQ(done["result"]["items"], 3);
  const catalog::Run run = workspace().catalog().get_run(done["result"]["run_id"].get<catalog::Id>());
  EXPECT_EQ(run.status, "succeeded");
  EXPECT_TRUE(
      std::filesystem::exists(std::filesystem::path(done["result"]["output_dir"].get<std::string>()) / "spots.csv"));

  // The {"pipeline": ..., "input": ...} form, and refusals before anything is queued.
  json wrapped = {{"pipeline", pipeline}, {"input", {{"where", "width > 0"}}}, {"threads", 2}};
  wrapped["pipeline"].erase("input");
  EXPECT_EQ(post(runs, wrapped)->status, 202);
  const std::int64_t before = queued_jobs();
  json typo = pipeline;
  typo["nodes"][0]["op"] = "threshold_otsux";
  auto refused = post(runs, typo);
  EXPECT_EQ(refused->status, 400);
  EXPECT_THAT(body(refused)["error"]["message"].get<std::string>(), HasSubstr("threshold_otsux"));
  json folder = pipeline;
  folder["input"] = {{"dir", "/etc"}};
  EXPECT_EQ(post(runs, folder)->status, 400);
  json escape = pipeline;
  escape["nodes"][2]["path"] = "../../spots.csv";
  auto escaped = post(runs, escape);
  EXPECT_EQ(escaped->status, 400);
  EXPECT_THAT(body(escaped)["error"]["message"].get<std::string>(),
              HasSubstr("relative path inside the job's output folder"));
  EXPECT_EQ(queued_jobs(), before);
}

}  // namespace
}  // namespace tessera::server::testing
