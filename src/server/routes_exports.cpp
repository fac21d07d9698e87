// Training-data exports over HTTP (docs/api/exports.md): an export of a set is an 'export.dataset' job
// (editors start it, 202), and its file is downloaded through the job (viewers of the project).
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <memory>

#include "server/routes.hpp"
#include "tessera/app/job_kinds.hpp"
#include "tessera/catalog/jobs.hpp"
#include "tessera/core/error.hpp"

namespace tessera::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The set with this id and its project, if the caller has at least `min` there; 404 alike for a missing
// set and one of a project the caller is not in.
std::pair<catalog::ImageSet, catalog::Project> visible_set(Context& ctx, Id set_id, Role min) {
  for (const catalog::Project& project : ctx.catalog().list_projects()) {
    for (const catalog::ImageSet& set : ctx.catalog().list_sets(project.id)) {
      if (set.id != set_id) continue;
      try {
        ctx.project(project.id, min);
      } catch (const HttpError& e) {
        if (e.status() == 404) break;
        throw;
      }
      return {set, project};
    }
  }
  throw HttpError(404, "not_found", fmt::format("no set with id {}", set_id));
}

void queue_export(Context& ctx) {
  const auto [set, project] = visible_set(ctx, ctx.path_id(1, "set"), Role::editor);
  const json body = ctx.json_body();
  for (const auto& [key, value] : body.items()) {
    static const char* kKnown[] = {"format", "dims", "task", "val", "seed", "rle"};
    if (std::none_of(std::begin(kKnown), std::end(kKnown), [&](const char* k) { return key == k; })) {
      throw HttpError(400, "invalid_argument",
                      fmt::format("field '{}' is not known here (known: format, dims, task, val, seed, rle)", key),
                      json{{"field", key}});
    }
  }
  const std::string format = require_string(body, "format");
  if (format == "deepcell-label") {
    throw HttpError(400, "invalid_argument", "format 'deepcell-label' exports a series, not a set",
                    json{{"field", "format"}});
  }
  json params = body;
  params["set"] = set.name;
  ctx.queue_job(project.id, "export.dataset", params);
}

// Streams the job's file: a finished export of a project the caller can see.
void download(Context& ctx) {
  const Id job_id = ctx.path_id(1, "export");
  const auto missing = [&] { return HttpError(404, "not_found", fmt::format("no export with id {}", job_id)); };
  const std::optional<catalog::Job> job = catalog::JobStore(ctx.catalog()).find(job_id);
  if (!job || job->kind != "export.dataset" || !job->project_id) throw missing();
  try {
    ctx.project(*job->project_id, Role::viewer);
  } catch (const HttpError& e) {
    if (e.status() == 404) throw missing();
    throw;
  }
  if (job->state != catalog::JobState::succeeded) {
    throw HttpError(409, "conflict", fmt::format("export {} is {}, not finished", job_id, catalog::to_string(job->state)),
                    json{{"state", catalog::to_string(job->state)}});
  }
  const fs::path file = job->result.value("download", std::string());
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (file.empty() || ec) throw HttpError(410, "gone", fmt::format("the file of export {} is no longer there", job_id));
  auto stream = std::make_shared<std::ifstream>(file, std::ios::binary);
  if (!*stream) throw HttpError(410, "gone", fmt::format("the file of export {} cannot be read", job_id));
  const std::string name = job->result.value("download_name", file.filename().string());
  const std::string ext = file.extension().string();
  const char* type = ext == ".json" ? "application/json" : ext == ".zip" ? "application/zip" : "application/octet-stream";
  ctx.res.set_header("Content-Disposition", fmt::format("attachment; filename=\"{}\"", name));
  ctx.res.set_content_provider(size, type, [stream](size_t offset, size_t length, httplib::DataSink& sink) {
    std::vector<char> buffer(std::min<size_t>(length, 1 << 20));
    stream->seekg(std::streamoff(offset));
    stream->read(buffer.data(), std::streamsize(buffer.size()));
    const auto got = stream->gcount();
    if (got <= 0) return false;
    sink.write(buffer.data(), size_t(got));
    return true;
  });
}

}  // namespace

void add_export_routes(Router& router) {
  router.post(R"(/api/v1/sets/(\d+)/exports)", queue_export);
  router.get(R"(/api/v1/exports/(\d+)/download)", download);
}

}  // namespace tessera::server
