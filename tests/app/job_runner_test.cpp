// The job runner on a SQLite workspace: kinds run to their outcome (succeeded, failed, cancelled), a
// stopping runner gives its job back, runners sharing a catalog run each job once, a dead worker's job is
// reclaimed and rerun, a runner whose claim was reclaimed drops its outcome, and submit_job refuses bad
// requests before anything is queued.
#include "tessera/app/job_runner.hpp"

#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tessera/app/import.hpp"
#include "tessera/app/job_kinds.hpp"
#include "tessera/core/error.hpp"
#include "test_util.hpp"

namespace tessera::app {
namespace {

namespace fs = std::filesystem;
using catalog::Job;
using catalog::JobState;
using json = nlohmann::json;
using ::testing::HasSubstr;

// Quick periods so the tests do not wait on the production defaults.
WorkerOptions quick(const std::string& name) {
  WorkerOptions o;
  o.name = name;
  o.heartbeat_s = 0.05;
  o.reclaim_after_s = 0.5;
  o.poll_s = 0.02;
  o.progress_every_s = 0.05;
  o.log = [](const std::string&) {};
  return o;
}

struct Lab {
  tessera::test::TempDir dir{"tessera-jobs"};
  Workspace ws = Workspace::init(dir / "ws", "");
  catalog::Project project = ws.catalog().ensure_project("lab");
  catalog::JobStore jobs{ws.catalog()};

  Job submit(const std::string& kind, json params) {
    JobRequest request;
    request.project_id = project.id;
    request.kind = kind;
    request.params = std::move(params);
    request.actor = "ada";
    return submit_job(ws, request);
  }

  // Polls until the job is in `state` or has finished otherwise (or `until` passes: then the test fails on
  // the state it reports).
  Job wait_for(catalog::Id id, JobState state, std::chrono::seconds until = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + until;
    Job job = jobs.get(id);
    while (job.state != state && !job.is_finished() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      job = jobs.get(id);
    }
    return job;
  }

  std::vector<catalog::Event> events_of(catalog::Id job_id, const std::string& kind) {
    std::vector<catalog::Event> out;
    for (const auto& e : ws.catalog().list_events(project.id, 0, 1000000)) {
      if (e.kind == kind && e.subject_id == job_id) out.push_back(e);
    }
    return out;
  }
};

// Collects the runner's per-job reports.
struct Ends {
  std::mutex mutex;
  std::vector<JobReport> reports;
  void attach(WorkerOptions& o) {
    o.on_job_end = [this](const JobReport& r) {
      std::lock_guard lock(mutex);
      reports.push_back(r);
    };
  }
  std::vector<JobReport> all() {
    std::lock_guard lock(mutex);
    return reports;
  }
};

TEST(JobRunner, RunsAWaitJobToSuccessWithItsEvents) {
  Lab lab;
  const Job queued = lab.submit("wait", {{"ms", 30}});
  Ends ends;
  WorkerOptions options = quick("w1");
  ends.attach(options);
  JobRunner runner(lab.ws, options);
  runner.start();
  const Job done = lab.wait_for(queued.id, JobState::succeeded);
  runner.stop();
  EXPECT_EQ(done.state, JobState::succeeded);
  EXPECT_EQ(done.result["slept_ms"], 30);
  EXPECT_EQ(done.result["worker"], "w1");
  EXPECT_EQ(done.worker, "w1");
  EXPECT_EQ(done.attempts, 1);
  EXPECT_EQ(done.progress, 1.0);
  EXPECT_EQ(lab.events_of(queued.id, "job.queued").size(), 1u);
  EXPECT_EQ(lab.events_of(queued.id, "job.started").size(), 1u);
  EXPECT_EQ(lab.events_of(queued.id, "job.succeeded").size(), 1u);
  const auto reports = ends.all();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].outcome, "succeeded");
  EXPECT_EQ(reports[0].job.id, queued.id);
}

TEST(JobRunner, LongJobsReportThrottledProgressOnTheFeed) {
  Lab lab;
  const Job queued = lab.submit("wait", {{"ms", 600}});
  WorkerOptions options = quick("w1");
  options.progress_every_s = 0.1;
  JobRunner runner(lab.ws, options);
  runner.start();
  const Job done = lab.wait_for(queued.id, JobState::succeeded);
  runner.stop();
  ASSERT_EQ(done.state, JobState::succeeded);
  const auto progress = lab.events_of(queued.id, "job.progress");
  // 20+ reports over 600 ms, stored at most every 100 ms.
  EXPECT_GE(progress.size(), 2u);
  EXPECT_LE(progress.size(), 7u);
  double last = 0;
  for (const auto& e : progress) {
    EXPECT_GE(e.payload["progress"].get<double>(), last);
    last = e.payload["progress"].get<double>();
    EXPECT_THAT(e.payload["message"].get<std::string>(), HasSubstr("of 600 ms"));
  }
}

TEST(JobRunner, AFailingJobEndsFailedWithItsMessage) {
  Lab lab;
  const Job queued = lab.submit("wait", {{"ms", 1}, {"fail", "detector unplugged"}});
  JobRunner runner(lab.ws, quick("w1"));
  runner.start();
  const Job done = lab.wait_for(queued.id, JobState::failed);
  runner.stop();
  EXPECT_EQ(done.state, JobState::failed);
  EXPECT_EQ(done.message, "detector unplugged");
  EXPECT_TRUE(done.result.is_null());
}

TEST(JobRunner, AJobOfAnUnknownKindFailsNamingIt) {
  Lab lab;
  catalog::NewJob job;
  job.project_id = lab.project.id;
  job.kind = "teleport";
  const catalog::Id id = lab.jobs.enqueue(job).id;  // queued by a newer tessera, say
  JobRunner runner(lab.ws, quick("w1"));
  runner.start();
  const Job done = lab.wait_for(id, JobState::failed);
  runner.stop();
  EXPECT_EQ(done.state, JobState::failed);
  EXPECT_THAT(done.message.value_or(""), HasSubstr("unknown job kind 'teleport'"));
}

TEST(JobRunner, CancellingARunningJobEndsItCancelled) {
  Lab lab;
  const Job queued = lab.submit("wait", {{"ms", 60000}});
  Ends ends;
  WorkerOptions options = quick("w1");
  ends.attach(options);
  JobRunner runner(lab.ws, options);
  runner.start();
  ASSERT_EQ(lab.wait_for(queued.id, JobState::running).state, JobState::running);
  lab.jobs.request_cancel(queued.id, "bob");
  const Job done = lab.wait_for(queued.id, JobState::cancelled);
  runner.stop();
  EXPECT_EQ(done.state, JobState::cancelled);
  EXPECT_EQ(done.message, "cancelled by request");
  EXPECT_LT(done.progress, 1.0);
  ASSERT_EQ(ends.all().size(), 1u);
  EXPECT_EQ(ends.all()[0].outcome, "cancelled");
}

TEST(JobRunner, StoppingGivesARunningJobBackToTheQueue) {
  Lab lab;
  const Job queued = lab.submit("wait", {{"ms", 60000}});
  Ends ends;
  WorkerOptions options = quick("w1");
  ends.attach(options);
  JobRunner runner(lab.ws, options);
  runner.start();
  ASSERT_EQ(lab.wait_for(queued.id, JobState::running).state, JobState::running);
  runner.stop();
  const Job back = lab.jobs.get(queued.id);
  EXPECT_EQ(back.state, JobState::queued);
  EXPECT_EQ(back.attempts, 0);
  EXPECT_THAT(back.message.value_or(""), HasSubstr("worker w1 stopping"));
  EXPECT_EQ(lab.events_of(queued.id, "job.requeued").size(), 1u);
  ASSERT_EQ(ends.all().size(), 1u);
  EXPECT_EQ(ends.all()[0].outcome, "requeued");
  EXPECT_EQ(runner.running_jobs(), 0);
}

// Two runners on their own connections (as two processes would be) share one queue.
TEST(JobRunner, TwoRunnersRunEveryJobExactlyOnce) {
  Lab lab;
  std::vector<JobRequest> requests(60);
  for (JobRequest& r : requests) {
    r.project_id = lab.project.id;
    r.kind = "wait";
    r.params = {{"ms", 2}};
  }
  const std::vector<Job> queued = submit_jobs(lab.ws, requests);
  ASSERT_EQ(queued.size(), 60u);
  Workspace other = Workspace::open(lab.ws.root());
  WorkerOptions a = quick("a");
  WorkerOptions b = quick("b");
  a.threads = 2;
  b.threads = 2;
  JobRunner first(lab.ws, a), second(other, b);
  first.start();
  second.start();
  lab.wait_for(queued.back().id, JobState::succeeded);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (lab.jobs.count(lab.project.id, JobState::succeeded) < 60 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  first.stop();
  second.stop();
  EXPECT_EQ(lab.jobs.count(lab.project.id, JobState::succeeded), 60);
  std::map<std::string, int> by_worker;
  for (const Job& job : queued) {
    EXPECT_EQ(lab.events_of(job.id, "job.started").size(), 1u) << "job " << job.id;
    const Job done = lab.jobs.get(job.id);
    EXPECT_EQ(done.attempts, 1);
    ++by_worker[done.worker.value_or("")];
  }
  EXPECT_EQ(by_worker["a"] + by_worker["b"], 60);
}

TEST(JobRunner, ReclaimsAndRerunsTheJobOfAWorkerThatStoppedHeartbeating) {
  Lab lab;
  const Job queued = lab.submit("wait", {{"ms", 5}});
  ASSERT_EQ(lab.jobs.try_claim("ghost")->id, queued.id);  // claimed by a worker that then died
  JobRunner runner(lab.ws, quick("w1"));
  runner.start();
  const Job done = lab.wait_for(queued.id, JobState::succeeded);
  runner.stop();
  EXPECT_EQ(done.state, JobState::succeeded);
  EXPECT_EQ(done.worker, "w1");
  EXPECT_EQ(done.attempts, 2);
  const auto requeued = lab.events_of(queued.id, "job.requeued");
  ASSERT_EQ(requeued.size(), 1u);
  EXPECT_EQ(requeued[0].payload["worker"], "ghost");
}

TEST(JobRunner, GivesUpOnAJobAfterMaxAttempts) {
  Lab lab;
  const Job queued = lab.submit("wait", {{"ms", 5}});
  ASSERT_TRUE(lab.jobs.try_claim("ghost").has_value());
  WorkerOptions options = quick("w1");
  options.max_attempts = 1;
  JobRunner runner(lab.ws, options);
  runner.start();
  const Job done = lab.wait_for(queued.id, JobState::failed);
  runner.stop();
  EXPECT_EQ(done.state, JobState::failed);
  EXPECT_THAT(done.message.value_or(""), HasSubstr("gave up after 1 attempts"));
}

// The runner was alive but looked dead (e.g. a long pause): once another worker has the job, this one
// stops at its next progress report and stores nothing.
TEST(JobRunner, ARunnerWhoseClaimWasReclaimedDropsItsOutcome) {
  Lab lab;
  const Job queued = lab.submit("wait", {{"ms", 60000}});
  Ends ends;
  WorkerOptions options = quick("slow");
  options.heartbeat_s = 30;  // its heartbeats will not save it
  options.reclaim_after_s = 60;
  ends.attach(options);
  JobRunner runner(lab.ws, options);
  runner.start();
  ASSERT_EQ(lab.wait_for(queued.id, JobState::running).state, JobState::running);
  // Another worker judges it stale (any heartbeat older than a second from now) and takes it.
  EXPECT_EQ(lab.jobs.reclaim_stale(-1, 3).requeued.size(), 1u);
  const Job rerun = *lab.jobs.try_claim("fast");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (ends.all().empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  runner.stop();
  ASSERT_EQ(ends.all().size(), 1u);
  EXPECT_EQ(ends.all()[0].outcome, "lost");
  const Job now = lab.jobs.get(queued.id);
  EXPECT_EQ(now.state, JobState::running);
  EXPECT_EQ(now.worker, "fast");
  EXPECT_TRUE(lab.jobs.finish(queued.id, "fast", rerun.attempts, JobState::succeeded, {{"ok", true}}, std::nullopt));
}

TEST(JobRunner, RefusesOptionsThatWouldReclaimLiveJobs) {
  Lab lab;
  WorkerOptions options = quick("w1");
  options.reclaim_after_s = options.heartbeat_s;
  tessera::test::expect_invalid([&] { JobRunner runner(lab.ws, options); }, "must be longer than the heartbeat");
  options = quick("w1");
  options.threads = 0;
  tessera::test::expect_invalid([&] { JobRunner runner(lab.ws, options); }, "threads must be in [1, 256]");
  EXPECT_FALSE(default_worker_name().empty());
}

TEST(SubmitJob, RefusesBadRequestsBeforeQueueingAnything) {
  Lab lab;
  using tessera::test::expect_invalid;
  expect_invalid([&] { lab.submit("teleport", json::object()); },
                 "unknown job kind 'teleport' (known: pipeline.run, wait");
  expect_invalid([&] { lab.submit("wait", json::array()); }, "params must be a JSON object");
  expect_invalid([&] { lab.submit("wait", json::object()); }, "parameter 'ms' must be an integer");
  expect_invalid([&] { lab.submit("wait", {{"ms", -5}}); }, "got -5");
  expect_invalid([&] { lab.submit("wait", {{"ms", "5"}}); }, "parameter 'ms'");
  expect_invalid([&] { lab.submit("wait", {{"ms", 5}, {"sleep", 1}}); }, "unknown parameter 'sleep'");
  expect_invalid([&] { lab.submit("wait", {{"ms", 5}, {"fail", 3}}); }, "'fail' must be a message");
  expect_invalid([&] { lab.submit("pipeline.run", json::object()); },
                 "parameter 'pipeline' must be the pipeline document");
  const json nodes = json::array({{{"op", "threshold_otsu"}, {"in", {{"image", "raw"}}}, {"out", {{"mask", "mask"}}}},
                                  {{"write", "csv"}, {"path", "objects.csv"}}});
  expect_invalid([&] { lab.submit("pipeline.run", {{"pipeline", {{"nodes", nodes}}}}); }, "no input");
  expect_invalid(
      [&] {
        lab.submit("pipeline.run", {{"pipeline", {{"nodes", nodes}}}, {"input", {{"dir", "/data"}}}});
      },
      "not 'dir'");
  json escaping = nodes;
  escaping[1]["path"] = "../../etc/objects.csv";
  expect_invalid(
      [&] {
        lab.submit("pipeline.run", {{"pipeline", {{"nodes", escaping}}}, {"input", {{"set", "all"}}}});
      },
      "must be a relative path inside the job's output folder");
  escaping[1]["path"] = "/tmp/objects.csv";
  expect_invalid(
      [&] {
        lab.submit("pipeline.run", {{"pipeline", {{"nodes", escaping}}}, {"input", {{"set", "all"}}}});
      },
      "got '/tmp/objects.csv'");
  json unknown_op = nodes;
  unknown_op[0]["op"] = "threshold_otsux";
  expect_invalid(
      [&] {
        lab.submit("pipeline.run", {{"pipeline", {{"nodes", unknown_op}}}, {"input", {{"set", "all"}}}});
      },
      "threshold_otsux");
  expect_invalid(
      [&] {
        lab.submit("pipeline.run", {{"pipeline", {{"nodes", nodes}}}, {"input", {{"set", "all"}}}, {"threads", 0}});
      },
      "'threads' must be an integer in [1, 64]");
  JobRequest no_project;
  no_project.kind = "pipeline.run";
  no_project.params = {{"pipeline", {{"nodes", nodes}}}, {"input", {{"set", "all"}}}};
  expect_invalid([&] { submit_job(lab.ws, no_project); }, "runs in a project");
  no_project.project_id = lab.project.id + 100;
  try {
    submit_job(lab.ws, no_project);
    ADD_FAILURE() << "an unknown project was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
  EXPECT_EQ(lab.jobs.count(std::nullopt, std::nullopt), 0);
}

TEST(JobKinds, NamesAreUniqueAndEveryKindIsComplete) {
  std::set<std::string> names;
  for (const JobKind& kind : job_kinds()) {
    EXPECT_TRUE(names.insert(kind.name).second) << kind.name;
    EXPECT_FALSE(kind.summary.empty()) << kind.name;
    EXPECT_TRUE(kind.validate) << kind.name;
    EXPECT_TRUE(kind.run) << kind.name;
    EXPECT_EQ(find_job_kind(kind.name), &kind);
  }
  EXPECT_EQ(find_job_kind("nope"), nullptr);
}

// `count` small images with a bright disk each, imported into set "all" of the lab project.
void import_spots(Lab& lab, int count) {
  const fs::path images = lab.dir / "images";
  fs::create_directories(images);
  for (int i = 0; i < count; ++i) {
    cv::Mat image(64, 64, CV_8UC1, cv::Scalar(20));
    cv::circle(image, {16 + i % 30, 32}, 8, cv::Scalar(220), -1);
    ASSERT_TRUE(cv::imwrite((images / fmt::format("frame_{}.png", i)).string(), image));
  }
  ImportOptions io;
  io.sources = {images};
  io.set = "all";
  io.project = "lab";
  io.progress = false;
  io.jobs = 1;
  ASSERT_EQ(import_images(lab.ws, io).imported, count);
}

json spots_pipeline() {
  return {
      {"name", "spots"},
      {"nodes", json::array({{{"op", "threshold_otsu"}, {"in", {{"image", "raw"}}}, {"out", {{"mask", "mask"}}}},
                             {{"op", "label"}, {"in", {{"mask", "mask"}}}, {"out", {{"labels", "labels"}}}},
                             {{"op", "regionprops"}, {"in", {{"labels", "labels"}}}, {"out", {{"table", "features"}}}},
                             {{"write", "csv"}, {"path", "out/objects.csv"}}})}};
}

// A JobContext that requests cancellation at the n-th progress report, as a runner would after a cancel.
class CancelAt final : public JobContext {
 public:
  CancelAt(Job job, int at) : job_(std::move(job)), at_(at) {}
  const Job& job() const override { return job_; }
  const std::string& worker() const override { return name_; }
  void progress(double, const std::string&) override {
    if (++reports_ >= at_) throw JobCancelled("cancelled");
  }
  void check() override {}
  int reports() const { return reports_; }

 private:
  Job job_;
  std::string name_ = "fake";
  int at_;
  int reports_ = 0;
};

// A pipeline run as a job: its run record, its files under the workspace's exports/job-ID/, the result.
TEST(JobRunner, RunsAPipelineOverCatalogImagesWritingUnderTheJobsFolder) {
  Lab lab;
  import_spots(lab, 3);
  const json pipeline = spots_pipeline();
  const Job queued = lab.submit("pipeline.run", {{"pipeline", pipeline}, {"input", {{"set", "all"}}}});
  JobRunner runner(lab.ws, quick("w1"));
  runner.start();
  const Job done = lab.wait_for(queued.id, JobState::succeeded, std::chrono::seconds(60));
  runner.stop();
  ASSERT_EQ(done.state, JobState::succeeded) << done.message.value_or("");
  EXPECT_EQ(done.result["status"], "succeeded");
  EXPECT_EQ(done.result["items"], 3);
  const fs::path csv = lab.ws.root() / "exports" / fmt::format("job-{}", queued.id) / "out" / "objects.csv";
  EXPECT_TRUE(fs::exists(csv)) << csv;
  EXPECT_EQ(done.result["output_dir"], csv.parent_path().parent_path().string());
  const catalog::Run run = lab.ws.catalog().get_run(done.result["run_id"].get<catalog::Id>());
  EXPECT_EQ(run.status, "succeeded");
  EXPECT_EQ(run.inputs["images"], 3);
}

// Cancelling a pipeline job stops it between images: the cancellation leaves the run through
// run_pipeline's progress callback, and the run record says it was cancelled (not failed).
TEST(JobRunner, ACancelledPipelineStopsBetweenImagesAndItsRunIsRecordedCancelled) {
  Lab lab;
  import_spots(lab, 12);
  const Job queued = lab.submit("pipeline.run", {{"pipeline", spots_pipeline()}, {"input", {{"set", "all"}}}});
  CancelAt context(lab.jobs.get(queued.id), 4);  // "starting", then images 1, 2, 3
  EXPECT_THROW(get_job_kind("pipeline.run").run(lab.ws, queued.params, context), JobCancelled);
  EXPECT_EQ(context.reports(), 4);
  const auto runs = lab.ws.catalog().list_runs(lab.project.id);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, "cancelled");
  EXPECT_EQ(runs[0].error, "cancelled");
}

}  // namespace
}  // namespace tessera::app
