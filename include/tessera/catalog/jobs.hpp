#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/catalog/catalog.hpp"

namespace tessera::catalog {

enum class JobState { queued, running, succeeded, failed, cancelled };
std::string to_string(JobState state);
// Error{invalid_argument} naming the accepted states.
JobState job_state_from_string(const std::string& text);

// One row of the job queue.
struct Job {
  Id id = 0;
  std::optional<Id> project_id;
  std::optional<std::string> project;  // the project's name
  std::string kind;
  nlohmann::json params = nlohmann::json::object();
  JobState state = JobState::queued;
  double progress = 0;                 // 0..1
  std::optional<std::string> message;  // last progress message, or why it failed / was requeued
  nlohmann::json result;               // null until it succeeded
  std::optional<Id> created_by;
  std::string created_at;
  std::optional<std::string> started_at;  // of the latest attempt
  std::optional<std::string> finished_at;
  std::optional<std::string> worker;  // who holds (or last held) it
  std::optional<std::string> heartbeat_at;
  int attempts = 0;  // claims so far; also fences a claim's later updates
  bool cancel_requested = false;

  bool is_finished() const {
    return state == JobState::succeeded || state == JobState::failed || state == JobState::cancelled;
  }
};

struct NewJob {
  std::optional<Id> project_id;
  std::string kind;
  nlohmann::json params = nlohmann::json::object();
  std::optional<Id> created_by;
  std::optional<std::string> actor;  // named on the 'job.queued' event
};

// Which jobs to list: newest first, `before` is the cursor (ids smaller than it).
struct JobQuery {
  std::optional<Id> project_id;  // nullopt: every project
  std::optional<JobState> state;
  Id before_id = 0;          // 0: from the newest
  std::int64_t limit = 100;  // -1: all
};

// A claim's view of its job after a heartbeat or progress report.
struct ClaimStatus {
  bool owned = false;  // false: the job was reclaimed or finished by someone else; stop working on it
  bool cancel_requested = false;
};

// What one reclaim pass did with the jobs whose worker stopped heartbeating.
struct ReclaimResult {
  std::vector<Id> requeued;
  std::vector<Id> failed;     // attempts used up
  std::vector<Id> cancelled;  // cancel had been requested
};

// The job queue in the catalog. Every state change writes its activity event (job.queued, job.started,
// job.progress, job.requeued, job.succeeded, job.failed, job.cancelled; subject 'job') in the same
// transaction. A claim is identified by (worker, attempt): heartbeat, progress, finish and release only
// touch a job still running under that claim, so a worker presumed dead that comes back cannot overwrite
// the rerun's outcome. Times are the caller's UTC clock (workers on many machines need synchronised
// clocks, to well within reclaim_after). Thread-safe like Catalog.
class JobStore {
 public:
  explicit JobStore(Catalog& catalog) : catalog_(catalog) {}

  // Queues a job (params must be an object; kind 1..200 characters). Validation of params against the kind
  // is the caller's (app::submit_job).
  Job enqueue(const NewJob& job);
  // Several jobs in one transaction (one event each), in order.
  std::vector<Job> enqueue_many(const std::vector<NewJob>& jobs);

  std::optional<Job> find(Id id);
  Job get(Id id);  // Error{not_found}
  std::vector<Job> list(const JobQuery& query);
  std::int64_t count(std::optional<Id> project_id, std::optional<JobState> state);
  bool has_queued();  // a cheap read, so idle workers do not take the write lock to find nothing

  // Marks the oldest queued job running under `worker` (attempts + 1) and returns it, or nullopt when
  // none is queued. Concurrent claimers never get the same job: PostgreSQL skips rows another claim has
  // locked (FOR UPDATE SKIP LOCKED); SQLite's write transaction is exclusive.
  std::optional<Job> try_claim(const std::string& worker);

  ClaimStatus heartbeat(Id id, const std::string& worker, int attempt);
  // Records progress (clamped to [0, 1]) and counts as a heartbeat; emit_event adds a 'job.progress' event
  // (the runner throttles those).
  ClaimStatus report_progress(Id id, const std::string& worker, int attempt, double fraction,
                              const std::optional<std::string>& message, bool emit_event);
  // Ends a claimed job: succeeded (with result, progress 1), failed or cancelled (with message). Returns
  // false (and changes nothing) if the claim is no longer the job's. Error{invalid_argument} for a state
  // that is not an outcome.
  bool finish(Id id, const std::string& worker, int attempt, JobState outcome, const nlohmann::json& result,
              const std::optional<std::string>& message);
  // Gives a claimed job back to the queue (a worker shutting down), not counting the attempt.
  bool release(Id id, const std::string& worker, int attempt, const std::string& reason);

  // Cancels: a queued job ends cancelled at once; a running one gets cancel_requested (its runner ends it).
  // Error{not_found} for an unknown id, Error{conflict} naming the state when it already finished.
  Job request_cancel(Id id, const std::optional<std::string>& actor);

  // Running jobs whose heartbeat is older than stale_after_s go back to the queue, or end failed when they
  // have used max_attempts claims, or cancelled when cancel was requested. Cheap when nothing is stale.
  ReclaimResult reclaim_stale(double stale_after_s, int max_attempts);

 private:
  Catalog& catalog_;
};

}  // namespace tessera::catalog
