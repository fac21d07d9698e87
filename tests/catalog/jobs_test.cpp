#include "tessera/catalog/jobs.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog/catalog_fixture.hpp"
#include "catalog/db.hpp"
#include "tessera/core/error.hpp"

namespace tessera::catalog {
namespace {

using fixture::PostgresBackend;
using fixture::SqliteBackend;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

template <typename Fn>
std::string expect_error(ErrorCode code, Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "did not throw";
  return "";
}

template <typename Backend>
class JobStoreTest : public fixture::CatalogOn<Backend> {
 protected:
  using fixture::CatalogOn<Backend>::catalog_;
  using fixture::CatalogOn<Backend>::url_;
  using fixture::CatalogOn<Backend>::backend_;

  void SetUp() override {
    fixture::CatalogOn<Backend>::SetUp();
    if (this->IsSkipped()) return;
    project_ = catalog_->ensure_project("lab");
    jobs_ = std::make_unique<JobStore>(*catalog_);
  }

  void TearDown() override {
    jobs_.reset();
    fixture::CatalogOn<Backend>::TearDown();
  }

  JobStore& jobs() { return *jobs_; }

  Job enqueue(const std::string& kind = "wait", nlohmann::json params = {{"ms", 1}}) {
    NewJob job;
    job.project_id = project_.id;
    job.kind = kind;
    job.params = std::move(params);
    job.actor = "ada";
    return jobs().enqueue(job);
  }

  // Makes a running job look as if its worker stopped heartbeating long ago.
  void age_heartbeat(Id id) {
    backend_.raw()->execute("UPDATE jobs SET heartbeat_at = '2000-01-01T00:00:00.000Z' WHERE id = ?", {id});
  }

  std::vector<Event> job_events(Id job_id, const std::string& kind) {
    std::vector<Event> out;
    for (const Event& e : catalog_->list_events(project_.id, 0, 100000)) {
      if (e.kind == kind && e.subject_id == job_id) out.push_back(e);
    }
    return out;
  }

  std::unique_ptr<JobStore> jobs_;
  Project project_;
};

using Backends = ::testing::Types<SqliteBackend, PostgresBackend>;
TYPED_TEST_SUITE(JobStoreTest, Backends, fixture::BackendNames);

TYPED_TEST(JobStoreTest, EnqueueStoresAQueuedJobAndItsEvent) {
  const Job job = this->enqueue("wait", {{"ms", 20}});
  EXPECT_GT(job.id, 0);
  EXPECT_EQ(job.state, JobState::queued);
  EXPECT_EQ(job.project, "lab");
  EXPECT_EQ(job.params["ms"], 20);
  EXPECT_EQ(job.attempts, 0);
  EXPECT_TRUE(job.result.is_null());
  EXPECT_FALSE(job.worker.has_value());
  const auto events = this->job_events(job.id, "job.queued");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].actor, "ada");
  EXPECT_EQ(events[0].subject_type, "job");
  EXPECT_EQ(events[0].payload["kind"], "wait");
  EXPECT_EQ(this->jobs().get(job.id).params, job.params);
}

TYPED_TEST(JobStoreTest, EnqueueRefusesParamsThatAreNotAnObjectAndAnEmptyKind) {
  EXPECT_THAT(expect_error(ErrorCode::invalid_argument, [&] { this->enqueue("wait", nlohmann::json::array()); }),
              HasSubstr("params must be a JSON object"));
  EXPECT_THAT(expect_error(ErrorCode::invalid_argument, [&] { this->enqueue("", nlohmann::json::object()); }),
              HasSubstr("job kind name must not be empty"));
  EXPECT_EQ(this->jobs().count(std::nullopt, std::nullopt), 0);
}

TYPED_TEST(JobStoreTest, ListIsNewestFirstFilteredByStateAndPagedByCursor) {
  std::vector<Id> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(this->enqueue().id);
  ASSERT_TRUE(this->jobs().try_claim("w1").has_value());  // the oldest, ids[0]
  JobQuery query;
  query.project_id = this->project_.id;
  query.limit = 2;
  auto page = this->jobs().list(query);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].id, ids[4]);
  EXPECT_EQ(page[1].id, ids[3]);
  query.before_id = page[1].id;
  page = this->jobs().list(query);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].id, ids[2]);
  query = {};
  query.state = JobState::running;
  page = this->jobs().list(query);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].id, ids[0]);
  EXPECT_EQ(this->jobs().count(this->project_.id, JobState::queued), 4);
  EXPECT_EQ(this->jobs().count(this->project_.id + 1000, std::nullopt), 0);
}

TYPED_TEST(JobStoreTest, ClaimTakesTheOldestQueuedJobAndMarksItRunning) {
  EXPECT_FALSE(this->jobs().has_queued());
  EXPECT_FALSE(this->jobs().try_claim("w1").has_value());
  const Id first = this->enqueue().id;
  const Id second = this->enqueue().id;
  EXPECT_TRUE(this->jobs().has_queued());
  auto claimed = this->jobs().try_claim("w1");
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->id, first);
  EXPECT_EQ(claimed->state, JobState::running);
  EXPECT_EQ(claimed->worker, "w1");
  EXPECT_EQ(claimed->attempts, 1);
  EXPECT_TRUE(claimed->started_at.has_value());
  EXPECT_TRUE(claimed->heartbeat_at.has_value());
  EXPECT_EQ(this->jobs().try_claim("w2")->id, second);
  EXPECT_FALSE(this->jobs().try_claim("w2").has_value());
  const auto started = this->job_events(first, "job.started");
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].payload["worker"], "w1");
  EXPECT_EQ(started[0].payload["attempt"], 1);
}

// Several connections (as several worker processes would have) claim from one queue at once: every job is
// claimed by exactly one of them.
TYPED_TEST(JobStoreTest, ConcurrentClaimersEachGetDistinctJobsAndDrainTheQueue) {
  constexpr int kJobs = 120;
  constexpr int kClaimers = 4;
  std::vector<NewJob> batch(kJobs);
  for (NewJob& job : batch) {
    job.project_id = this->project_.id;
    job.kind = "wait";
  }
  ASSERT_EQ(this->jobs().enqueue_many(batch).size(), static_cast<size_t>(kJobs));
  std::mutex mutex;
  std::map<Id, std::vector<std::string>> claims;
  std::vector<std::thread> threads;
  for (int c = 0; c < kClaimers; ++c) {
    threads.emplace_back([&, c] {
      auto catalog = Catalog::open(this->url_);
      JobStore store(*catalog);
      const std::string name = fmt::format("w{}", c);
      while (auto job = store.try_claim(name)) {
        EXPECT_TRUE(store.finish(job->id, name, job->attempts, JobState::succeeded, {{"by", name}}, std::nullopt));
        std::lock_guard lock(mutex);
        claims[job->id].push_back(name);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(claims.size(), static_cast<size_t>(kJobs));
  for (const auto& [id, names] : claims) EXPECT_EQ(names.size(), 1u) << "job " << id << " claimed more than once";
  EXPECT_EQ(this->jobs().count(this->project_.id, JobState::succeeded), kJobs);
  for (const auto& [id, names] : claims) {
    EXPECT_EQ(this->job_events(id, "job.started").size(), 1u);
    EXPECT_EQ(this->jobs().get(id).result["by"], names.front());
  }
}

TYPED_TEST(JobStoreTest, FinishRecordsTheOutcomeOnceAndOnlyForTheClaimHolder) {
  const Id id = this->enqueue().id;
  const Job job = *this->jobs().try_claim("w1");
  EXPECT_FALSE(this->jobs().finish(id, "w2", job.attempts, JobState::succeeded, {}, std::nullopt));
  EXPECT_FALSE(this->jobs().finish(id, "w1", job.attempts + 1, JobState::succeeded, {}, std::nullopt));
  EXPECT_TRUE(this->jobs().finish(id, "w1", job.attempts, JobState::succeeded, {{"n", 3}}, "done"));
  EXPECT_FALSE(this->jobs().finish(id, "w1", job.attempts, JobState::failed, {}, "late"));
  const Job done = this->jobs().get(id);
  EXPECT_EQ(done.state, JobState::succeeded);
  EXPECT_EQ(done.progress, 1.0);
  EXPECT_EQ(done.result["n"], 3);
  EXPECT_EQ(done.message, "done");
  EXPECT_TRUE(done.finished_at.has_value());
  EXPECT_EQ(this->job_events(id, "job.succeeded").size(), 1u);
  EXPECT_TRUE(this->job_events(id, "job.failed").empty());
  expect_error(ErrorCode::invalid_argument,
               [&] { this->jobs().finish(id, "w1", job.attempts, JobState::running, {}, std::nullopt); });
}

TYPED_TEST(JobStoreTest, FailedJobKeepsItsMessageAndNoResult) {
  const Id id = this->enqueue().id;
  const Job job = *this->jobs().try_claim("w1");
  ASSERT_TRUE(this->jobs().finish(id, "w1", job.attempts, JobState::failed, {{"ignored", true}}, "disk full"));
  const Job failed = this->jobs().get(id);
  EXPECT_EQ(failed.state, JobState::failed);
  EXPECT_EQ(failed.message, "disk full");
  EXPECT_TRUE(failed.result.is_null());
  const auto events = this->job_events(id, "job.failed");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload["message"], "disk full");
}

TYPED_TEST(JobStoreTest, ProgressIsClampedStoredAndItsEventOptional) {
  const Id id = this->enqueue().id;
  const Job job = *this->jobs().try_claim("w1");
  ClaimStatus status = this->jobs().report_progress(id, "w1", job.attempts, 0.25, "a quarter", false);
  EXPECT_TRUE(status.owned);
  EXPECT_FALSE(status.cancel_requested);
  EXPECT_TRUE(this->job_events(id, "job.progress").empty());
  EXPECT_EQ(this->jobs().get(id).progress, 0.25);
  status = this->jobs().report_progress(id, "w1", job.attempts, 7.0, "over", true);
  EXPECT_TRUE(status.owned);
  const Job now = this->jobs().get(id);
  EXPECT_EQ(now.progress, 1.0);
  EXPECT_EQ(now.message, "over");
  const auto events = this->job_events(id, "job.progress");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload["progress"], 1.0);
  EXPECT_FALSE(this->jobs().report_progress(id, "other", job.attempts, 0.5, std::nullopt, true).owned);
}

TYPED_TEST(JobStoreTest, CancellingAQueuedJobEndsItAtOnce) {
  const Id id = this->enqueue().id;
  const Job cancelled = this->jobs().request_cancel(id, "bob");
  EXPECT_EQ(cancelled.state, JobState::cancelled);
  EXPECT_TRUE(cancelled.finished_at.has_value());
  EXPECT_FALSE(this->jobs().try_claim("w1").has_value());
  const auto events = this->job_events(id, "job.cancelled");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].actor, "bob");
  EXPECT_THAT(expect_error(ErrorCode::conflict, [&] { this->jobs().request_cancel(id, "bob"); }),
              HasSubstr("already finished (cancelled)"));
  expect_error(ErrorCode::not_found, [&] { this->jobs().request_cancel(id + 1000, "bob"); });
}

TYPED_TEST(JobStoreTest, CancellingARunningJobFlagsItForItsRunner) {
  const Id id = this->enqueue().id;
  const Job job = *this->jobs().try_claim("w1");
  const Job flagged = this->jobs().request_cancel(id, "bob");
  EXPECT_EQ(flagged.state, JobState::running);
  EXPECT_TRUE(flagged.cancel_requested);
  EXPECT_EQ(this->job_events(id, "job.cancel_requested").size(), 1u);
  EXPECT_TRUE(this->jobs().heartbeat(id, "w1", job.attempts).cancel_requested);
  EXPECT_TRUE(this->jobs().report_progress(id, "w1", job.attempts, 0.5, std::nullopt, false).cancel_requested);
  ASSERT_TRUE(this->jobs().finish(id, "w1", job.attempts, JobState::cancelled, {}, "cancelled by request"));
  EXPECT_EQ(this->jobs().get(id).state, JobState::cancelled);
  expect_error(ErrorCode::conflict, [&] { this->jobs().request_cancel(id, "bob"); });
}

TYPED_TEST(JobStoreTest, ReclaimRequeuesAJobWhoseWorkerStoppedHeartbeatingAndFencesTheOldClaim) {
  const Id stale = this->enqueue().id;
  const Id fresh = this->enqueue().id;
  const Job old_claim = *this->jobs().try_claim("w1");
  ASSERT_EQ(old_claim.id, stale);
  ASSERT_EQ(this->jobs().try_claim("w2")->id, fresh);
  EXPECT_TRUE(this->jobs().reclaim_stale(10, 3).requeued.empty()) << "fresh heartbeats are not stale";
  this->age_heartbeat(stale);
  const ReclaimResult result = this->jobs().reclaim_stale(10, 3);
  EXPECT_THAT(result.requeued, ElementsAre(stale));
  EXPECT_THAT(result.failed, IsEmpty());
  const Job requeued = this->jobs().get(stale);
  EXPECT_EQ(requeued.state, JobState::queued);
  EXPECT_FALSE(requeued.worker.has_value());
  EXPECT_THAT(requeued.message.value_or(""), HasSubstr("worker w1 stopped heartbeating"));
  EXPECT_EQ(this->jobs().get(fresh).state, JobState::running);
  EXPECT_EQ(this->job_events(stale, "job.requeued").size(), 1u);

  const Job rerun = *this->jobs().try_claim("w3");
  EXPECT_EQ(rerun.id, stale);
  EXPECT_EQ(rerun.attempts, 2);
  // The first worker comes back: none of its updates touch the rerun.
  EXPECT_FALSE(this->jobs().heartbeat(stale, "w1", old_claim.attempts).owned);
  EXPECT_FALSE(this->jobs().finish(stale, "w1", old_claim.attempts, JobState::succeeded, {}, std::nullopt));
  EXPECT_TRUE(this->jobs().finish(stale, "w3", rerun.attempts, JobState::succeeded, {}, std::nullopt));
  EXPECT_EQ(this->job_events(stale, "job.started").size(), 2u);
}

TYPED_TEST(JobStoreTest, ReclaimFailsAJobThatUsedUpItsAttempts) {
  const Id id = this->enqueue().id;
  for (int attempt = 1; attempt <= 2; ++attempt) {
    ASSERT_EQ(this->jobs().try_claim("w1")->attempts, attempt);
    this->age_heartbeat(id);
    const ReclaimResult result = this->jobs().reclaim_stale(5, 2);
    if (attempt < 2) {
      EXPECT_THAT(result.requeued, ElementsAre(id));
    } else {
      EXPECT_THAT(result.failed, ElementsAre(id));
    }
  }
  const Job failed = this->jobs().get(id);
  EXPECT_EQ(failed.state, JobState::failed);
  EXPECT_THAT(failed.message.value_or(""), HasSubstr("gave up after 2 attempts"));
  EXPECT_FALSE(this->jobs().try_claim("w1").has_value());
  EXPECT_EQ(this->job_events(id, "job.failed").size(), 1u);
}

TYPED_TEST(JobStoreTest, ReclaimEndsAStaleJobCancelledWhenCancelWasRequested) {
  const Id id = this->enqueue().id;
  ASSERT_TRUE(this->jobs().try_claim("w1").has_value());
  this->jobs().request_cancel(id, "bob");
  this->age_heartbeat(id);
  EXPECT_THAT(this->jobs().reclaim_stale(5, 3).cancelled, ElementsAre(id));
  EXPECT_EQ(this->jobs().get(id).state, JobState::cancelled);
}

TYPED_TEST(JobStoreTest, ReleaseRequeuesWithoutCountingTheAttempt) {
  const Id id = this->enqueue().id;
  const Job job = *this->jobs().try_claim("w1");
  EXPECT_FALSE(this->jobs().release(id, "w2", job.attempts, "not mine"));
  EXPECT_TRUE(this->jobs().release(id, "w1", job.attempts, "worker w1 stopping"));
  const Job queued = this->jobs().get(id);
  EXPECT_EQ(queued.state, JobState::queued);
  EXPECT_EQ(queued.attempts, 0);
  EXPECT_EQ(queued.message, "worker w1 stopping");
  EXPECT_EQ(this->jobs().try_claim("w2")->attempts, 1);
}

TYPED_TEST(JobStoreTest, StatesConvertToAndFromText) {
  for (JobState s : {JobState::queued, JobState::running, JobState::succeeded, JobState::failed, JobState::cancelled}) {
    EXPECT_EQ(job_state_from_string(to_string(s)), s);
  }
  EXPECT_THAT(expect_error(ErrorCode::invalid_argument, [] { job_state_from_string("done"); }),
              HasSubstr("'done' is not one of queued"));
}

}  // namespace
}  // namespace tessera::catalog
