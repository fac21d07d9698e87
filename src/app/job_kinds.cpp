#include "tessera/app/job_kinds.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "tessera/core/error.hpp"

namespace tessera::app {

const std::vector<JobKind>& job_kinds() {
  // The one table of job kinds: a new kind is one line here and its factory beside its use case.
  static const std::vector<JobKind> kinds = {
      pipeline_run_job_kind(),
      wait_job_kind(),
      track_series_job_kind(),
      tiles_pyramid_job_kind(),
      masks_propagate_job_kind(),
      export_dataset_job_kind(),
      learn_round_job_kind(),
      crowd_ingest_job_kind(),
  };
  return kinds;
}

const JobKind* find_job_kind(const std::string& name) {
  const auto& kinds = job_kinds();
  auto it = std::find_if(kinds.begin(), kinds.end(), [&](const JobKind& k) { return k.name == name; });
  return it == kinds.end() ? nullptr : &*it;
}

const JobKind& get_job_kind(const std::string& name) {
  if (const JobKind* kind = find_job_kind(name)) return *kind;
  std::string known;
  for (const JobKind& k : job_kinds()) known += (known.empty() ? "" : ", ") + k.name;
  throw Error(ErrorCode::invalid_argument, fmt::format("unknown job kind '{}' (known: {})", name, known),
              {{"field", "kind"}});
}

namespace {

std::optional<catalog::Project> project_with_id(Workspace& workspace, catalog::Id id) {
  for (catalog::Project& p : workspace.catalog().list_projects()) {
    if (p.id == id) return p;
  }
  return std::nullopt;
}

catalog::NewJob checked(Workspace& workspace, const JobRequest& request) {
  const JobKind& kind = get_job_kind(request.kind);
  if (!request.params.is_object())
    throw Error(ErrorCode::invalid_argument,
                fmt::format("job '{}': params must be a JSON object, got {}", kind.name, request.params.type_name()),
                {{"field", "params"}});
  std::optional<catalog::Project> project;
  if (request.project_id) {
    project = project_with_id(workspace, *request.project_id);
    if (!project) throw Error(ErrorCode::not_found, fmt::format("no project with id {}", *request.project_id));
  } else if (kind.needs_project) {
    throw Error(ErrorCode::invalid_argument, fmt::format("job '{}' runs in a project: name one", kind.name));
  }
  kind.validate(workspace, project, request.params);
  catalog::NewJob job;
  job.project_id = request.project_id;
  job.kind = kind.name;
  job.params = request.params;
  job.created_by = request.created_by;
  job.actor = request.actor;
  return job;
}

}  // namespace

catalog::Job submit_job(Workspace& workspace, const JobRequest& request) {
  return catalog::JobStore(workspace.catalog()).enqueue(checked(workspace, request));
}

std::vector<catalog::Job> submit_jobs(Workspace& workspace, const std::vector<JobRequest>& requests) {
  std::vector<catalog::NewJob> jobs;
  jobs.reserve(requests.size());
  for (const JobRequest& request : requests) jobs.push_back(checked(workspace, request));
  return catalog::JobStore(workspace.catalog()).enqueue_many(jobs);
}

namespace {
template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json();
}
}  // namespace

nlohmann::json job_to_json(const catalog::Job& job) {
  return {{"id", job.id},
          {"project_id", or_null(job.project_id)},
          {"project", or_null(job.project)},
          {"kind", job.kind},
          {"params", job.params},
          {"state", catalog::to_string(job.state)},
          {"progress", job.progress},
          {"message", or_null(job.message)},
          {"result", job.result},
          {"created_by", or_null(job.created_by)},
          {"created_at", job.created_at},
          {"started_at", or_null(job.started_at)},
          {"finished_at", or_null(job.finished_at)},
          {"worker", or_null(job.worker)},
          {"heartbeat_at", or_null(job.heartbeat_at)},
          {"attempts", job.attempts},
          {"cancel_requested", job.cancel_requested}};
}

}  // namespace tessera::app
