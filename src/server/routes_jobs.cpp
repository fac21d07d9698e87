// Jobs over HTTP (docs/api/jobs.md): queue one (202 + Location), read its state and progress, list a
// project's jobs, cancel; a pipeline run as a job. Long work never runs inside a request.

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "server/routes.hpp"
#include "tessera/app/job_kinds.hpp"
#include "tessera/catalog/jobs.hpp"
#include "tessera/core/error.hpp"

namespace tessera::server {
namespace {

using catalog::Job;
using nlohmann::json;

// A job the caller may see with at least `min` on its project; 404 otherwise, worded the same whether the
// job does not exist or belongs to a project the caller is not in.
Job visible_job(Context& ctx, Id id, Role min) {
  auto job = catalog::JobStore(ctx.catalog()).find(id);
  const auto missing = [&] { return HttpError(404, "not_found", fmt::format("no job with id {}", id)); };
  if (!job || !job->project_id) throw missing();
  try {
    ctx.project(*job->project_id, min);
  } catch (const HttpError& e) {
    if (e.status() == 404) throw missing();
    throw;
  }
  return *job;
}

void reject_unknown_fields(const json& body, std::initializer_list<const char*> known) {
  for (const auto& [key, value] : body.items()) {
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; })) {
      std::string names;
      for (const char* k : known) names += (names.empty() ? "" : ", ") + std::string(k);
      throw HttpError(400, "invalid_argument", fmt::format("field '{}' is not known here (known: {})", key, names),
                      json{{"field", key}});
    }
  }
}

}  // namespace

void add_job_routes(Router& router) {
  router.get(R"(/api/v1/jobs/(\d+))", [](Context& ctx) {
    ctx.send_json(app::job_to_json(visible_job(ctx, ctx.path_id(1, "job"), Role::viewer)));
  });

  router.get(R"(/api/v1/projects/(\d+)/jobs)", [](Context& ctx) {
    const catalog::ProjectAccess access = ctx.project(ctx.path_id(1, "project"), Role::viewer);
    catalog::JobQuery query;
    query.project_id = access.project.id;
    if (auto state = ctx.query("state")) {
      try {
        query.state = catalog::job_state_from_string(*state);
      } catch (const Error& e) {
        throw HttpError(400, "invalid_argument", fmt::format("query parameter 'state': {}", e.what()),
                        json{{"field", "state"}});
      }
    }
    query.before_id = ctx.query_int("before", 0, 0, std::numeric_limits<std::int64_t>::max());
    query.limit = ctx.query_int("limit", 50, 1, 1000);
    // One more than asked tells whether a next page exists.
    ++query.limit;
    std::vector<Job> jobs = catalog::JobStore(ctx.catalog()).list(query);
    const bool more = static_cast<std::int64_t>(jobs.size()) == query.limit;
    if (more) jobs.pop_back();
    json out = json::array();
    for (const Job& job : jobs) out.push_back(app::job_to_json(job));
    ctx.send_json({{"jobs", out}, {"next", more ? json(jobs.back().id) : json()}});
  });

  router.post(R"(/api/v1/projects/(\d+)/jobs)", [](Context& ctx) {
    const catalog::ProjectAccess access = ctx.project(ctx.path_id(1, "project"), Role::editor);
    const json body = ctx.json_body();
    reject_unknown_fields(body, {"kind", "params"});
    const std::string kind = require_string(body, "kind");
    ctx.queue_job(access.project.id, kind, body.contains("params") ? body["params"] : json::object());
  });

  router.post(R"(/api/v1/jobs/(\d+)/cancel)", [](Context& ctx) {
    const Job job = visible_job(ctx, ctx.path_id(1, "job"), Role::editor);
    const Job after = catalog::JobStore(ctx.catalog()).request_cancel(job.id, ctx.user().name);
    ctx.services.feed.notify();
    ctx.send_json(app::job_to_json(after));
  });

  // A pipeline run as a job. The body is the pipeline document itself (as `tessera run` reads it, its
  // "input" choosing the images), or {"pipeline": {...}, "input": {...}, "fail_fast": ..., "threads": ...}.
  router.post(R"(/api/v1/projects/(\d+)/runs)", [](Context& ctx) {
    const catalog::ProjectAccess access = ctx.project(ctx.path_id(1, "project"), Role::editor);
    const json body = ctx.json_body();
    const json params = body.contains("pipeline") ? body : json{{"pipeline", body}};
    ctx.queue_job(access.project.id, "pipeline.run", params);
  });
}

}  // namespace tessera::server
