// The 'crowd.ingest' job: app::ingest_crowd_report (optionally into the catalog) on a job report, logs and
// raw frames that are server-side paths inside the workspace (relative to its root, or absolute within
// it); outputs go under <workspace>/crowd/job-ID/ unless 'out' (also inside the workspace) is given.
// Annotation URLs are fetched when they are file:// URLs; a worker has no HTTP client here, so http(s)
// rows are named in the result's problems (the CLI fetches those).
#include <algorithm>

#include <fmt/format.h>

#include "tessera/app/crowd_ingest.hpp"
#include "tessera/app/job_actor.hpp"
#include "tessera/app/job_kinds.hpp"
#include "tessera/core/error.hpp"

namespace tessera::app {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

[[noreturn]] void bad(const std::string& field, const std::string& problem) {
  throw Error(ErrorCode::invalid_argument, fmt::format("job 'crowd.ingest': {}", problem), {{"field", field}});
}

// A path parameter resolved inside the workspace; one that climbs out (.., an absolute path elsewhere, a
// symlink leading away) is refused.
fs::path inside_workspace(const Workspace& workspace, const json& params, const std::string& field) {
  const json& value = params.at(field);
  if (!value.is_string() || value.get<std::string>().empty()) bad(field, fmt::format("'{}' must be a non-empty path", field));
  const fs::path root = fs::weakly_canonical(workspace.root());
  const fs::path given(value.get<std::string>());
  const fs::path resolved = fs::weakly_canonical(given.is_absolute() ? given : root / given);
  const fs::path relative = resolved.lexically_relative(root);
  if (relative.empty() || *relative.begin() == "..") {
    bad(field, fmt::format("'{}' ({}) is outside the workspace", field, given.string()));
  }
  return resolved;
}

std::int64_t int_param(const json& params, const std::string& field, std::int64_t fallback, std::int64_t lo,
                       std::int64_t hi) {
  if (!params.contains(field)) return fallback;
  const json& v = params[field];
  if (!v.is_number_integer()) bad(field, fmt::format("'{}' must be an integer", field));
  const auto n = v.get<std::int64_t>();
  if (n < lo || n > hi) bad(field, fmt::format("'{}' must be in [{}, {}], got {}", field, lo, hi, n));
  return n;
}

bool bool_param(const json& params, const std::string& field, bool fallback) {
  if (!params.contains(field)) return fallback;
  if (!params[field].is_boolean()) bad(field, fmt::format("'{}' must be true or false", field));
  return params[field].get<bool>();
}

std::optional<std::string> text_param(const json& params, const std::string& field) {
  if (!params.contains(field)) return std::nullopt;
  if (!params[field].is_string() || params[field].get<std::string>().empty()) {
    bad(field, fmt::format("'{}' must be a non-empty string", field));
  }
  return params[field].get<std::string>();
}

struct JobOptions {
  CrowdIngestOptions ingest;
  std::optional<CrowdCatalogOptions> catalog;
};

// Every parameter checked, named when wrong; files and folders must exist.
JobOptions options_of(const Workspace& workspace, const json& params) {
  static const char* kKnown[] = {"report", "logs", "raw", "out", "catalog", "tag", "series_prefix",
                                 "hole_area", "min_size", "attempts", "timeout", "npz"};
  for (const auto& [key, value] : params.items()) {
    if (std::none_of(std::begin(kKnown), std::end(kKnown), [&](const char* k) { return key == k; })) {
      bad(key, fmt::format("parameter '{}' is not known (known: report, logs, raw, out, catalog, tag, series_prefix, "
                           "hole_area, min_size, attempts, timeout, npz)", key));
    }
  }
  for (const char* required : {"report", "logs", "raw"}) {
    if (!params.contains(required)) bad(required, fmt::format("parameter '{}' is required", required));
  }
  JobOptions o;
  o.ingest.report = inside_workspace(workspace, params, "report");
  o.ingest.logs = inside_workspace(workspace, params, "logs");
  o.ingest.raw = inside_workspace(workspace, params, "raw");
  if (!fs::is_regular_file(o.ingest.report)) bad("report", fmt::format("'report' {} is not a file", o.ingest.report.string()));
  if (!fs::is_directory(o.ingest.logs)) bad("logs", fmt::format("'logs' {} is not a folder", o.ingest.logs.string()));
  if (!fs::is_directory(o.ingest.raw)) bad("raw", fmt::format("'raw' {} is not a folder", o.ingest.raw.string()));
  if (params.contains("out")) o.ingest.out = inside_workspace(workspace, params, "out");
  o.ingest.clean.hole_area = int_param(params, "hole_area", o.ingest.clean.hole_area, 0, 1 << 30);
  o.ingest.clean.min_size = int_param(params, "min_size", o.ingest.clean.min_size, 0, 1 << 30);
  o.ingest.download.attempts = static_cast<int>(int_param(params, "attempts", 4, 1, 100));
  o.ingest.download.timeout = std::chrono::seconds(int_param(params, "timeout", 30, 1, 3600));
  o.ingest.write_npz = bool_param(params, "npz", true);
  const std::optional<std::string> tag = text_param(params, "tag");
  const std::optional<std::string> prefix = text_param(params, "series_prefix");
  if (bool_param(params, "catalog", false)) {
    o.catalog = CrowdCatalogOptions{};
    o.catalog->tag = tag;
    o.catalog->series_prefix = prefix;
  } else if (tag || prefix) {
    bad(tag ? "tag" : "series_prefix", "'tag' and 'series_prefix' need \"catalog\": true");
  }
  return o;
}

void validate_crowd(Workspace& workspace, const std::optional<catalog::Project>& project, const json& params) {
  if (!project) bad("project", "a crowd ingest runs in a project");
  options_of(workspace, params);
}

json run_crowd(Workspace& workspace, const json& params, JobContext& context) {
  const catalog::Job& job = context.job();
  if (!job.project) throw Error(ErrorCode::invalid_argument, fmt::format("job {}: a crowd ingest needs a project", job.id));
  JobOptions o = options_of(workspace, params);
  if (o.ingest.out.empty()) o.ingest.out = workspace.root() / "crowd" / fmt::format("job-{}", job.id);
  context.progress(0, "reading the report and fetching annotations");
  int frames = 0;
  // The ingest reports no fraction of its own; each frame cut is a sign of life and a cancellation point.
  o.ingest.on_frame = [&](const CrowdFrameTile&) { context.progress(0.5, fmt::format("{} frames cut", ++frames)); };
  CrowdIngestReport report;
  if (o.catalog) {
    o.catalog->project = *job.project;
    o.catalog->actor = job_actor(workspace, job);
    report = ingest_crowd_report_to_catalog(workspace, o.ingest, *o.catalog);
  } else {
    report.ingest = ingest_crowd_report(o.ingest);
  }
  json result = report.to_json();
  result["output"] = o.ingest.out.string();
  if (!o.catalog) result.erase("catalog");
  context.progress(1, "done");
  return result;
}

}  // namespace

JobKind crowd_ingest_job_kind() {
  return {.name = "crowd.ingest",
          .summary = "Ingests a crowd job report (params: report, logs, raw as paths inside the workspace; out, "
                     "catalog, tag, series_prefix, hole_area, min_size, attempts, timeout, npz): cleaned movies, "
                     ".npz, broken-links and re-upload CSVs, optionally masks in the catalog",
          .needs_project = true,
          .validate = validate_crowd,
          .run = run_crowd};
}

}  // namespace tessera::app
