// The 'pipeline.run' job: app::run_pipeline over catalog images, its progress reported per image.
#include <fmt/format.h>

#include "tessera/app/job_kinds.hpp"
#include "tessera/app/pipeline_run.hpp"
#include "tessera/core/error.hpp"

namespace tessera::app {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Write-node fields that name files or folders.
constexpr const char* kPathFields[] = {"path", "dir", "image_dir"};

[[noreturn]] void bad(const std::string& field, const std::string& problem) {
  throw Error(ErrorCode::invalid_argument, fmt::format("job 'pipeline.run': {}", problem), {{"field", field}});
}

// The input the run will use: params["input"], else the pipeline's own "input".
PipelineInput input_of(const json& params) {
  const json& given = params.contains("input") ? params["input"] : params["pipeline"].value("input", json());
  PipelineInput input = PipelineInput::from_json(given);
  // A job runs on whichever worker claims it, on another machine perhaps: a folder named by the
  // submitter means nothing there, while catalog images are everywhere the catalog is.
  if (input.dir)
    bad("input", "runs on catalog images: give 'input' as {\"set\": ...} and/or {\"where\": ...}, not 'dir'");
  if (input.empty())
    bad("input", "no input: give 'input' ({\"set\": ...} and/or {\"where\": ...}) or put one in the pipeline");
  return input;
}

// Where a job's files go: under the workspace (which every worker mounts), one folder per job, so a
// request cannot write anywhere else and two jobs never write over each other. Creates the folders.
json with_outputs_under(json pipeline, const fs::path& root) {
  for (json& node : pipeline["nodes"]) {
    if (!node.is_object() || !node.contains("write")) continue;
    for (const char* field : kPathFields) {
      if (!node.contains(field) || !node[field].is_string()) continue;
      const fs::path path = root / node[field].get<std::string>();
      // Writers create their files, not the folders they sit in.
      fs::create_directories(std::string(field) == "path" ? path.parent_path() : path);
      node[field] = path.string();
    }
  }
  return pipeline;
}

void check_output_paths(const json& pipeline) {
  if (!pipeline.contains("nodes") || !pipeline["nodes"].is_array()) return;  // check_pipeline names it
  for (size_t i = 0; i < pipeline["nodes"].size(); ++i) {
    const json& node = pipeline["nodes"][i];
    if (!node.is_object() || !node.contains("write")) continue;
    for (const char* field : kPathFields) {
      if (!node.contains(field) || !node[field].is_string()) continue;
      const fs::path path(node[field].get<std::string>());
      const bool escapes = std::any_of(path.begin(), path.end(), [](const fs::path& part) { return part == ".."; });
      if (path.is_absolute() || escapes || path.empty())
        bad("pipeline", fmt::format("node {}: '{}' must be a relative path inside the job's output folder, got '{}'", i,
                                    field, path.string()));
    }
  }
}

void validate_pipeline_run(Workspace& workspace, const std::optional<catalog::Project>& project, const json& params) {
  for (const auto& [key, value] : params.items()) {
    if (key != "pipeline" && key != "input" && key != "fail_fast" && key != "threads")
      bad(key, fmt::format("unknown parameter '{}' (known: pipeline, input, fail_fast, threads)", key));
  }
  if (!params.contains("pipeline") || !params["pipeline"].is_object())
    bad("pipeline", "parameter 'pipeline' must be the pipeline document (an object)");
  if (params.contains("fail_fast") && !params["fail_fast"].is_boolean())
    bad("fail_fast", "parameter 'fail_fast' must be true or false");
  if (params.contains("threads") &&
      (!params["threads"].is_number_integer() || params["threads"].get<int>() < 1 || params["threads"].get<int>() > 64))
    bad("threads", "parameter 'threads' must be an integer in [1, 64]");
  input_of(params);
  check_output_paths(params["pipeline"]);
  check_pipeline(workspace, project->name, params["pipeline"]);
}

json run_pipeline_job(Workspace& workspace, const json& params, JobContext& context) {
  const catalog::Job& job = context.job();
  if (!job.project)
    throw Error(ErrorCode::invalid_argument, fmt::format("job {}: pipeline.run needs a project", job.id));
  const fs::path outputs = workspace.root() / "exports" / fmt::format("job-{}", job.id);
  const json pipeline = with_outputs_under(params["pipeline"], outputs);
  PipelineRunOptions options;
  options.jobs = params.value("threads", 1);
  options.fail_fast = params.value("fail_fast", false);
  options.progress = false;
  options.on_progress = [&](std::int64_t done, std::int64_t total) {
    context.progress(total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0,
                     fmt::format("{} of {} images", done, total));
  };
  context.progress(0, "starting");
  const PipelineRunReport report = run_pipeline(workspace, *job.project, pipeline, input_of(params), options);
  return {{"run_id", report.run_id},       {"status", report.status},   {"items", report.stats.items},
          {"failed", report.stats.failed}, {"outputs", report.outputs}, {"output_dir", outputs.string()}};
}

}  // namespace

JobKind pipeline_run_job_kind() {
  return {.name = "pipeline.run",
          .summary =
              "Runs a pipeline (params: pipeline, input {set, where}, fail_fast, threads) over catalog images; "
              "files go under the workspace's exports/job-ID/",
          .needs_project = true,
          .validate = validate_pipeline_run,
          .run = run_pipeline_job};
}

}  // namespace tessera::app
