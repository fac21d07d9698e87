#include "tessera/app/job_runner.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "tessera/app/job_kinds.hpp"
#include "tessera/core/error.hpp"

namespace tessera::app {

using catalog::Job;
using catalog::JobState;
using Clock = std::chrono::steady_clock;

namespace {

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

void check_options(const WorkerOptions& o) {
  auto bad = [](const std::string& what) { throw Error(ErrorCode::invalid_argument, "worker: " + what); };
  if (o.threads < 1 || o.threads > 256) bad(fmt::format("threads must be in [1, 256], got {}", o.threads));
  if (!(o.heartbeat_s > 0)) bad(fmt::format("heartbeat must be positive, got {} s", o.heartbeat_s));
  if (!(o.poll_s > 0)) bad(fmt::format("poll must be positive, got {} s", o.poll_s));
  if (!(o.progress_every_s >= 0))
    bad(fmt::format("progress interval must not be negative, got {} s", o.progress_every_s));
  // A live job must get several heartbeats in before anyone may call it dead.
  if (!(o.reclaim_after_s > o.heartbeat_s))
    bad(fmt::format("reclaim-after ({} s) must be longer than the heartbeat ({} s)", o.reclaim_after_s, o.heartbeat_s));
  if (o.max_attempts < 1) bad(fmt::format("max attempts must be at least 1, got {}", o.max_attempts));
}

}  // namespace

std::string default_worker_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "localhost");
  return fmt::format("{}:{}", host, ::getpid());
}

struct JobRunner::Impl {
  // One claimed job while it runs: the context the job function sees, and the flags the heartbeat thread
  // and progress reports set.
  class Running final : public JobContext {
   public:
    Running(Impl& runner, Job job) : runner_(runner), job_(std::move(job)), last_write_(Clock::now()) {}

    const Job& job() const override { return job_; }
    const std::string& worker() const override { return runner_.options.name; }

    void progress(double fraction, const std::string& message) override {
      check();
      const auto now = Clock::now();
      if (now - last_write_ < millis(runner_.options.progress_every_s)) return;
      last_write_ = now;
      std::optional<std::string> text;
      if (!message.empty()) text = message;
      try {
        apply(runner_.store.report_progress(job_.id, worker(), job_.attempts, fraction, text, true));
      } catch (const Error& e) {
        // The catalog is unreachable for a moment: keep working; heartbeats retry and, if it stays away,
        // the job is reclaimed.
        runner_.log_line(fmt::format("job {}: progress not stored: {}", job_.id, e.what()));
      }
      check();
    }

    void check() override {
      if (lost) throw JobInterrupted(fmt::format("job {} was reclaimed by another worker", job_.id));
      if (cancel_requested) throw JobCancelled(fmt::format("job {} cancelled", job_.id));
      if (runner_.stopping) throw JobInterrupted(fmt::format("worker {} stopping", worker()));
    }

    void apply(const catalog::ClaimStatus& status) {
      if (!status.owned) lost = true;
      if (status.cancel_requested) cancel_requested = true;
    }

    std::atomic<bool> lost{false};
    std::atomic<bool> cancel_requested{false};

   private:
    Impl& runner_;
    Job job_;
    Clock::time_point last_write_;  // only the job's own thread reports progress
  };

  Impl(Workspace& ws, WorkerOptions o) : workspace(ws), options(std::move(o)), store(ws.catalog()) {
    if (options.name.empty()) options.name = default_worker_name();
    check_options(options);
  }

  void log_line(const std::string& line) {
    if (options.log) {
      options.log(line);
    } else {
      fmt::print(stderr, "tessera worker {}: {}\n", options.name, line);
    }
  }

  // An idle job thread waits up to `period` for stop or a wake().
  void idle(std::chrono::milliseconds period) {
    std::unique_lock lock(mutex);
    const std::uint64_t seen = wakes;
    changed.wait_for(lock, period, [&] { return stopping.load() || wakes != seen; });
  }

  void job_loop() {
    while (!stopping) {
      std::optional<Job> job;
      try {
        if (store.has_queued()) job = store.try_claim(options.name);
      } catch (const std::exception& e) {
        log_line(fmt::format("cannot claim jobs: {}", e.what()));
      }
      if (job) {
        run_one(std::move(*job));
      } else {
        idle(millis(options.poll_s));
      }
    }
  }

  void run_one(Job job) {
    auto running = std::make_shared<Running>(*this, job);
    {
      std::lock_guard lock(mutex);
      active[job.id] = running;
    }
    const auto start = Clock::now();
    JobReport report{job, "", "", 0};
    try {
      const JobKind& kind = get_job_kind(job.kind);
      const nlohmann::json result = kind.run(workspace, job.params, *running);
      running->check();  // a job reclaimed meanwhile must not report over its rerun
      report.outcome = "succeeded";
      if (!store.finish(job.id, options.name, job.attempts, JobState::succeeded, result, std::nullopt))
        report.outcome = "lost";
    } catch (const JobCancelled&) {
      report.outcome = "cancelled";
      report.message = "cancelled by request";
      record(job, JobState::cancelled, report);
    } catch (const JobInterrupted& e) {
      report.message = e.what();
      if (running->lost) {
        report.outcome = "lost";
      } else {
        report.outcome = "requeued";
        give_back(job, report);
      }
    } catch (const std::exception& e) {
      report.outcome = "failed";
      report.message = e.what();
      record(job, JobState::failed, report);
    } catch (...) {
      // Nothing may escape a runner thread (std::terminate would take the whole server down).
      report.outcome = "failed";
      report.message = "the job threw something that is not an exception";
      record(job, JobState::failed, report);
    }
    report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    {
      std::lock_guard lock(mutex);
      active.erase(job.id);
    }
    if (options.on_job_end) {
      try {
        options.on_job_end(report);
      } catch (const std::exception& e) {
        log_line(fmt::format("job {}: on_job_end failed: {}", job.id, e.what()));
      }
    }
  }

  // Stores a failed or cancelled outcome; when the catalog cannot take it, the job stays running and its
  // missing heartbeats get it reclaimed and rerun.
  void record(const Job& job, JobState outcome, JobReport& report) {
    try {
      if (!store.finish(job.id, options.name, job.attempts, outcome, nullptr, report.message)) report.outcome = "lost";
    } catch (const std::exception& e) {
      log_line(fmt::format("job {}: outcome '{}' not stored: {}", job.id, report.outcome, e.what()));
    }
  }

  void give_back(const Job& job, JobReport& report) {
    try {
      if (!store.release(job.id, options.name, job.attempts, report.message)) report.outcome = "lost";
    } catch (const std::exception& e) {
      log_line(fmt::format("job {}: not given back: {}", job.id, e.what()));
    }
  }

  void heartbeat_loop() {
    for (;;) {
      {
        std::unique_lock lock(mutex);
        if (changed.wait_for(lock, millis(options.heartbeat_s), [&] { return heartbeats_stopping; })) return;
      }
      std::vector<std::pair<catalog::Id, std::shared_ptr<Running>>> snapshot;
      {
        std::lock_guard lock(mutex);
        snapshot.assign(active.begin(), active.end());
      }
      for (auto& [id, running] : snapshot) {
        try {
          running->apply(store.heartbeat(id, options.name, running->job().attempts));
        } catch (const std::exception& e) {
          log_line(fmt::format("job {}: heartbeat not stored: {}", id, e.what()));
        }
      }
      try {
        const catalog::ReclaimResult r = store.reclaim_stale(options.reclaim_after_s, options.max_attempts);
        for (catalog::Id id : r.requeued)
          log_line(fmt::format("job {}: its worker stopped heartbeating; requeued", id));
        for (catalog::Id id : r.failed)
          log_line(fmt::format("job {}: its worker stopped heartbeating; attempts used up, failed", id));
        for (catalog::Id id : r.cancelled)
          log_line(fmt::format("job {}: its worker stopped heartbeating; cancelled", id));
        if (!r.requeued.empty()) wake_all();
      } catch (const std::exception& e) {
        log_line(fmt::format("cannot reclaim stale jobs: {}", e.what()));
      }
    }
  }

  int running_count() {
    std::lock_guard lock(mutex);
    return static_cast<int>(active.size());
  }

  void wake_all() {
    {
      std::lock_guard lock(mutex);
      ++wakes;
    }
    changed.notify_all();
  }

  Workspace& workspace;
  WorkerOptions options;
  catalog::JobStore store;

  std::mutex mutex;
  std::condition_variable changed;
  std::atomic<bool> stopping{false};
  bool heartbeats_stopping = false;  // set once the job threads have ended
  std::uint64_t wakes = 0;
  std::map<catalog::Id, std::shared_ptr<Running>> active;
  std::vector<std::thread> job_threads;
  std::thread heartbeat_thread;
};

JobRunner::JobRunner(Workspace& workspace, WorkerOptions options)
    : impl_(std::make_unique<Impl>(workspace, std::move(options))) {}

JobRunner::~JobRunner() { stop(); }

void JobRunner::start() {
  if (!impl_->job_threads.empty()) return;
  impl_->stopping = false;
  impl_->heartbeats_stopping = false;
  for (int t = 0; t < impl_->options.threads; ++t) impl_->job_threads.emplace_back([this] { impl_->job_loop(); });
  impl_->heartbeat_thread = std::thread([this] { impl_->heartbeat_loop(); });
}

void JobRunner::stop() {
  if (impl_->job_threads.empty()) return;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->changed.notify_all();
  for (auto& t : impl_->job_threads) t.join();
  impl_->job_threads.clear();
  // The heartbeat thread outlives the job threads so a job finishing during shutdown keeps its claim.
  {
    std::lock_guard lock(impl_->mutex);
    impl_->heartbeats_stopping = true;
  }
  impl_->changed.notify_all();
  impl_->heartbeat_thread.join();
}

void JobRunner::wake() { impl_->wake_all(); }

const std::string& JobRunner::name() const { return impl_->options.name; }

int JobRunner::running_jobs() const { return impl_->running_count(); }

}  // namespace tessera::app
