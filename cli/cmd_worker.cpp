// tessera worker (run queued jobs until SIGINT/SIGTERM) and tessera jobs (list, show, add, cancel).
#include <pthread.h>
#include <signal.h>

#include <cstdio>

#include <fmt/format.h>

#include "commands.hpp"
#include "tessera/app/job_kinds.hpp"
#include "tessera/app/job_runner.hpp"
#include "tessera/catalog/jobs.hpp"
#include "tessera/core/error.hpp"

namespace tessera::cli {
namespace {

using json = nlohmann::json;
using catalog::Job;

json parse_params(const std::string& text) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error(ErrorCode::invalid_argument, fmt::format("--params: not valid JSON: {}", e.what()));
  }
}

void print_end(const app::JobReport& r) {
  std::string line =
      fmt::format("job {} {} {} (attempt {}, {:.2f} s)", r.job.id, r.job.kind, r.outcome, r.job.attempts, r.seconds);
  if (!r.message.empty()) line += ": " + r.message;
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);  // one line per job, visible at once when piped to a log
}

// Runs jobs until SIGINT or SIGTERM. The signals are blocked before the runner's threads start (they
// inherit the mask) and taken here with sigwait, so shutdown runs on this thread as ordinary code.
void run_worker(app::Workspace& ws, app::WorkerOptions options) {
  sigset_t signals, previous;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, &previous);
  options.on_job_end = print_end;
  int received = 0;
  {
    app::JobRunner runner(ws, options);
    fmt::print(stderr, "worker {}: running jobs from {} on {} thread{}; SIGINT or SIGTERM stops it\n", runner.name(),
               ws.catalog_url_for_display(), options.threads, options.threads == 1 ? "" : "s");
    runner.start();
    sigwait(&signals, &received);
    fmt::print(stderr, "worker {}: {} received; giving back running jobs and stopping\n", runner.name(),
               received == SIGINT ? "SIGINT" : "SIGTERM");
    runner.stop();
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  fmt::print(stderr, "worker stopped\n");
}

std::string short_time(const std::optional<std::string>& at) { return at ? at->substr(0, 19) : "-"; }

void print_table(const std::vector<Job>& jobs) {
  fmt::print("{:>6}  {:<9}  {:<14}  {:>5}  {:>3}  {:<19}  {:<20}  {}\n", "id", "state", "kind", "done", "try",
             "created", "worker", "message");
  for (const Job& j : jobs) {
    fmt::print("{:>6}  {:<9}  {:<14}  {:>4.0f}%  {:>3}  {:<19}  {:<20}  {}\n", j.id, catalog::to_string(j.state),
               j.kind, 100 * j.progress, j.attempts, short_time(j.created_at), j.worker.value_or("-"),
               j.message.value_or(""));
  }
}

void add_worker(CLI::App& app, GlobalOptions& global) {
  auto* cmd =
      app.add_subcommand("worker", "Run queued jobs (pipelines, pyramids, ...) from the catalog until SIGINT/SIGTERM");
  auto options = std::make_shared<app::WorkerOptions>();
  cmd->add_option("--threads", options->threads, "Jobs run at once")->check(CLI::Range(1, 256));
  cmd->add_option("--name", options->name, "Worker name stored on the jobs it claims (default: host:pid)");
  cmd->add_option("--heartbeat", options->heartbeat_s, "Seconds between heartbeats of running jobs")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--reclaim-after", options->reclaim_after_s,
                  "Seconds without a heartbeat after which any worker requeues a running job");
  cmd->add_option("--poll", options->poll_s, "Seconds between looks for queued jobs when idle")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-attempts", options->max_attempts, "Claims after which a job whose worker keeps dying fails")
      ->check(CLI::Range(1, 1000));
  cmd->callback([&global, options] {
    app::Workspace ws = global.open_workspace();
    run_worker(ws, *options);
  });
}

void add_jobs(CLI::App& app, GlobalOptions& global) {
  auto* cmd = app.add_subcommand("jobs", "List the project's jobs (newest first); show, add or cancel one");
  auto state = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto all_projects = std::make_shared<bool>(false);
  auto limit = std::make_shared<std::int64_t>(50);
  cmd->add_option("--state", *state, "Only jobs in this state (queued, running, succeeded, failed, cancelled)");
  cmd->add_flag("--json", *as_json, "JSON lines instead of a table");
  cmd->add_flag("--all-projects", *all_projects, "Jobs of every project (and of none)");
  cmd->add_option("--limit", *limit, "At most this many (-1: all)")
      ->check(CLI::Range(std::int64_t{-1}, std::int64_t{1000000}));
  cmd->callback([cmd, &global, state, as_json, all_projects, limit] {
    if (!cmd->get_subcommands().empty()) return;
    app::Workspace ws = global.open_workspace();
    catalog::JobQuery query;
    if (!*all_projects) query.project_id = ws.catalog().get_project(global.project).id;
    if (!state->empty()) query.state = catalog::job_state_from_string(*state);
    query.limit = *limit;
    const auto jobs = catalog::JobStore(ws.catalog()).list(query);
    if (*as_json) {
      for (const Job& j : jobs) fmt::print("{}\n", app::job_to_json(j).dump());
    } else {
      print_table(jobs);
    }
  });

  auto* show = cmd->add_subcommand("show", "Everything about one job (JSON)");
  auto show_id = std::make_shared<std::int64_t>(0);
  show->add_option("ID", *show_id, "Job id")->required();
  show->callback([&global, show_id] {
    app::Workspace ws = global.open_workspace();
    fmt::print("{}\n", app::job_to_json(catalog::JobStore(ws.catalog()).get(*show_id)).dump(2));
  });

  auto* cancel = cmd->add_subcommand("cancel", "Cancel a queued job, or ask a running one to stop");
  auto cancel_id = std::make_shared<std::int64_t>(0);
  cancel->add_option("ID", *cancel_id, "Job id")->required();
  cancel->callback([&global, cancel_id] {
    app::Workspace ws = global.open_workspace();
    const Job job = catalog::JobStore(ws.catalog()).request_cancel(*cancel_id, std::nullopt);
    fmt::print("job {}: {}\n", job.id,
               job.state == catalog::JobState::cancelled ? "cancelled"
                                                         : "cancel requested; its worker stops it at its next report");
  });

  auto* add = cmd->add_subcommand("add", "Queue jobs of a kind in the project (validated first)");
  auto kind = std::make_shared<std::string>();
  auto params = std::make_shared<std::string>("{}");
  auto count = std::make_shared<int>(1);
  add->add_option("KIND", *kind, "Job kind (pipeline.run, wait, ...)")->required();
  add->add_option("--params", *params, "Parameters as a JSON object");
  add->add_option("--count", *count, "Queue this many identical jobs (in one transaction)")
      ->check(CLI::Range(1, 100000));
  add->callback([&global, kind, params, count] {
    app::Workspace ws = global.open_workspace();
    app::JobRequest request;
    request.project_id = ws.catalog().ensure_project(global.project).id;
    request.kind = *kind;
    request.params = parse_params(*params);
    const auto jobs = app::submit_jobs(ws, std::vector<app::JobRequest>(static_cast<size_t>(*count), request));
    if (jobs.size() == 1) {
      fmt::print("queued job {}\n", jobs.front().id);
    } else {
      fmt::print("queued {} jobs ({}..{})\n", jobs.size(), jobs.front().id, jobs.back().id);
    }
  });
}

}  // namespace

void add_worker_commands(CLI::App& app, GlobalOptions& global) {
  add_worker(app, global);
  add_jobs(app, global);
}

}  // namespace tessera::cli
