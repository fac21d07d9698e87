#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tessera/app/workspace.hpp"
#include "tessera/pipeline/engine.hpp"

namespace tessera::app {

// Which images a pipeline runs on. Given on the command line it replaces the pipeline file's "input".
struct PipelineInput {
  std::optional<std::string> set;      // a catalog set
  std::string where;                   // a catalog filter (alone, or narrowing the set)
  std::optional<std::filesystem::path> dir;  // a folder of image files (walked recursively)
  std::string pattern;                 // with dir: a path pattern whose fields become the objects' fields
  bool empty() const { return !set && where.empty() && !dir; }
  static PipelineInput from_json(const nlohmann::json& input);  // Error{invalid_argument} naming the field
  nlohmann::json to_json() const;
};

struct PipelineRunOptions {
  int jobs = 1;
  bool fail_fast = false;
  bool progress = true;
  // After each source item (done, total); may throw to stop the run (a job being cancelled).
  std::function<void(std::int64_t done, std::int64_t total)> on_progress;
};

struct PipelineRunReport {
  catalog::Id run_id = 0;
  std::string status;  // succeeded | partial | failed
  pipeline::RunStats stats;
  nlohmann::json outputs = nlohmann::json::array();  // each writer's summary
};

// Every writer kind a pipeline may name: the file writers and "catalog" (objects with parent, box,
// features and mask blob, linked to the run).
std::vector<pipeline::WriterKind> pipeline_writers(Workspace& workspace, const std::string& project);

// Parses and checks a pipeline file without running it (Error{invalid_argument} listing every problem).
pipeline::PipelineSpec check_pipeline(Workspace& workspace, const std::string& project, const nlohmann::json& pipeline);

// Checks the pipeline, resolves its input (the override, else the file's "input"), records a run (spec,
// tessera version, parameters, the resolved inputs), streams the images through it and finishes the run
// with its counts, outputs and status: succeeded, partial (some objects failed; counted, first errors
// kept) or failed (stopped by an error, which is rethrown after the run is recorded).
PipelineRunReport run_pipeline(Workspace& workspace, const std::string& project, const nlohmann::json& pipeline,
                               const PipelineInput& input, const PipelineRunOptions& options);

// Runs a recorded pipeline run again on exactly the same inputs: the same catalog images (by id), or the
// same folder, which must still hold the same files (Error{conflict} otherwise).
PipelineRunReport repeat_run(Workspace& workspace, const std::string& project, catalog::Id run_id,
                             const PipelineRunOptions& options);

}  // namespace tessera::app
