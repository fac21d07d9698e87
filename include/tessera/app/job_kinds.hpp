#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/app/workspace.hpp"
#include "tessera/catalog/jobs.hpp"

namespace tessera::app {

// Thrown by JobContext::progress/check when cancel was requested: the runner ends the job 'cancelled'.
class JobCancelled : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown by JobContext::progress/check when the job must stop without an outcome: its worker is shutting
// down (the job goes back to the queue) or the claim was lost (another worker reran it).
class JobInterrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a running job sees of its runner. Reporting progress is also where a cancellation reaches the job,
// so a job should report (or check) regularly, at least every second or so.
class JobContext {
 public:
  virtual ~JobContext() = default;
  virtual const catalog::Job& job() const = 0;
  virtual const std::string& worker() const = 0;
  // fraction in [0, 1] (clamped) and an optional one-line message. The runner stores and announces it
  // (throttled). Throws JobCancelled or JobInterrupted as described above.
  virtual void progress(double fraction, const std::string& message = "") = 0;
  // Throws like progress() without reporting anything.
  virtual void check() = 0;
};

// One kind of job. validate runs at enqueue time (so a bad request fails before anything is queued) and
// throws Error{invalid_argument} naming the parameter; run does the work on a worker and returns the
// result document. Both may rely on params being a JSON object.
struct JobKind {
  std::string name;
  std::string summary;
  bool needs_project = true;  // run in a project (the job's); false: may be queued without one
  std::function<void(Workspace&, const std::optional<catalog::Project>& project, const nlohmann::json& params)>
      validate;
  std::function<nlohmann::json(Workspace&, const nlohmann::json& params, JobContext&)> run;
};

// The kinds, one factory each, defined beside their use case and listed in the table in
// src/app/job_kinds.cpp (a new kind: its factory here, one line there).
JobKind pipeline_run_job_kind();  // pipeline.run: a pipeline over catalog images (src/app/job_kinds_pipeline.cpp)
JobKind wait_job_kind();          // wait: sleeps, reporting progress; a diagnostic for workers (job_kinds_wait.cpp)
JobKind track_series_job_kind();  // track.series: tracks one series' objects (job_kinds_track.cpp)
JobKind masks_propagate_job_kind();  // masks.propagate: a mask through a series (job_kinds_propagate.cpp)
JobKind export_dataset_job_kind();   // export.dataset: npz / YOLO / COCO from a set (job_kinds_export.cpp)
JobKind tiles_pyramid_job_kind();  // tiles.pyramid: every tile of an image's pyramid, ahead of viewers (job_kinds_tiles.cpp)
JobKind learn_round_job_kind();  // learn.round: an active-learning round over a set (job_kinds_learn.cpp)
JobKind crowd_ingest_job_kind();  // crowd.ingest: a crowd job report into movies, .npz and the catalog (job_kinds_crowd.cpp)

// Every job kind, from the one table in src/app/job_kinds.cpp.
const std::vector<JobKind>& job_kinds();
const JobKind* find_job_kind(const std::string& name);
const JobKind& get_job_kind(const std::string& name);  // Error{invalid_argument} listing the known kinds

// A job someone asks for. kind and params are checked by the kind's validator before anything is stored.
struct JobRequest {
  std::optional<catalog::Id> project_id;
  std::string kind;
  nlohmann::json params = nlohmann::json::object();
  std::optional<catalog::Id> created_by;
  std::optional<std::string> actor;
};

// Validates and queues a job ('job.queued' event). Error{invalid_argument} naming what is wrong (unknown
// kind, params not an object, a bad parameter), Error{not_found} for an unknown project.
catalog::Job submit_job(Workspace& workspace, const JobRequest& request);
// The same for many jobs in one transaction (all or none).
std::vector<catalog::Job> submit_jobs(Workspace& workspace, const std::vector<JobRequest>& requests);

// A job as the API and the CLI show it: every column, times as ISO 8601 text, absent values null.
nlohmann::json job_to_json(const catalog::Job& job);

}  // namespace tessera::app
