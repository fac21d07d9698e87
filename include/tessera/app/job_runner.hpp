#pragma once

#include <functional>
#include <memory>
#include <string>

#include "tessera/app/workspace.hpp"
#include "tessera/catalog/jobs.hpp"

namespace tessera::app {

// How one job a runner claimed ended on it.
struct JobReport {
  catalog::Job job;     // as claimed (attempts = this claim's attempt)
  std::string outcome;  // succeeded | failed | cancelled | requeued (given back: the runner is stopping)
                        // | lost (another worker reclaimed it; this run's outcome was dropped)
  std::string message;  // why it failed, was cancelled or given back
  double seconds = 0;
};

struct WorkerOptions {
  std::string name;               // names the claims (jobs.worker); empty: "<host>:<pid>"
  int threads = 1;                // jobs run at once
  double heartbeat_s = 2;         // how often running jobs' heartbeats are stored (and cancel requests read)
  double reclaim_after_s = 10;    // a running job whose heartbeat is older is requeued (by any runner)
  double poll_s = 0.25;           // an idle thread looks for queued jobs this often (see wake())
  int max_attempts = 3;           // a job reclaimed after this many claims ends failed instead
  double progress_every_s = 0.5;  // at most one stored progress update and 'job.progress' event per job this often
  // Called on a runner thread when a job it claimed ends (however it ended). An exception from it is logged.
  std::function<void(const JobReport&)> on_job_end;
  // One line for what is worth a log: jobs it reclaimed, catalog errors it rode out. Empty: stderr.
  std::function<void(const std::string&)> log;
};

// Claims queued jobs from the workspace's catalog and runs them (the kinds in job_kinds.hpp) on `threads`
// threads until stop(); a heartbeat thread keeps its claims alive, passes cancel requests to the jobs and
// reclaims jobs whose worker stopped heartbeating (every runner does, so a crashed worker's jobs come back
// while any runner lives). Used in-process by `tessera serve` and by `tessera worker` processes. A catalog
// error while claiming or reporting is logged and retried after poll_s; a job whose outcome could not be
// stored stays running and is reclaimed and rerun. Thread-safe.
class JobRunner {
 public:
  // Error{invalid_argument} naming the option for threads outside [1, 256], non-positive periods,
  // reclaim_after_s not above heartbeat_s, or max_attempts < 1.
  JobRunner(Workspace& workspace, WorkerOptions options);
  ~JobRunner();  // stop()
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  void start();  // launches the threads (no-op when running)
  // Stops claiming; running jobs are interrupted at their next progress report and given back to the queue
  // (jobs that do not report finish first). Returns when every thread has ended.
  void stop();
  void wake();  // a job was just queued: look now rather than at the next poll

  const std::string& name() const;
  int running_jobs() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "<host>:<pid>"
std::string default_worker_name();

}  // namespace tessera::app
