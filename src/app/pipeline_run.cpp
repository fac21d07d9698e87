#include "tessera/app/pipeline_run.hpp"

#include <chrono>

#include <fmt/format.h>

#include "catalog_writer.hpp"
#include "pipeline_sources.hpp"
#include "track_series_writer.hpp"
#include "tessera/app/job_kinds.hpp"
#include "tessera/catalog/catalog.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/progress.hpp"
#include "tessera/version.hpp"

namespace tessera::app {
namespace fs = std::filesystem;
using json = nlohmann::json;

PipelineInput PipelineInput::from_json(const json& input) {
  PipelineInput in;
  if (input.is_null()) return in;
  if (!input.is_object()) throw Error(ErrorCode::invalid_argument, "pipeline input: must be an object");
  for (const auto& [key, value] : input.items()) {
    if (key != "set" && key != "where" && key != "dir" && key != "pattern")
      throw Error(ErrorCode::invalid_argument, fmt::format("pipeline input: unknown field '{}' (known: set, where, dir, pattern)", key));
    if (!value.is_string()) throw Error(ErrorCode::invalid_argument, fmt::format("pipeline input: '{}' must be text", key));
  }
  if (input.contains("set")) in.set = input["set"].get<std::string>();
  in.where = input.value("where", "");
  if (input.contains("dir")) in.dir = input["dir"].get<std::string>();
  in.pattern = input.value("pattern", "");
  if (in.dir && (in.set || !in.where.empty()))
    throw Error(ErrorCode::invalid_argument, "pipeline input: 'dir' reads files; it cannot be combined with 'set' or 'where'");
  if (!in.pattern.empty() && !in.dir) throw Error(ErrorCode::invalid_argument, "pipeline input: 'pattern' needs 'dir'");
  return in;
}

json PipelineInput::to_json() const {
  json j = json::object();
  if (set) j["set"] = *set;
  if (!where.empty()) j["where"] = where;
  if (dir) j["dir"] = fs::absolute(*dir).lexically_normal().string();
  if (!pattern.empty()) j["pattern"] = pattern;
  return j;
}

namespace {

std::vector<pipeline::WriterKind> writers_for(std::shared_ptr<CatalogTarget> target) {
  std::vector<pipeline::WriterKind> kinds = pipeline::file_writers();
  kinds.push_back(catalog_writer_kind(target));
  kinds.push_back(tracks_writer_kind(std::move(target)));
  return kinds;
}

bool writes_catalog(const pipeline::PipelineSpec& spec) {
  return std::any_of(spec.nodes.begin(), spec.nodes.end(),
                     [](const pipeline::Node& n) { return n.kind == pipeline::Node::Kind::write && n.name == "catalog"; });
}

// The part shared by a first run and a repeat: sources are resolved by the caller, which also says how
// they are recorded.
PipelineRunReport execute(Workspace& workspace, catalog::Id project_id, const json& pipeline_json,
                          const pipeline::Source& source, const json& inputs, const PipelineRunOptions& options) {
  auto target = std::make_shared<CatalogTarget>();
  target->workspace = &workspace;
  target->project_id = project_id;
  const auto kinds = writers_for(target);
  const pipeline::PipelineSpec spec = pipeline::parse_pipeline(pipeline_json, ops::builtin_ops(), kinds);
  if (writes_catalog(spec) && !inputs.contains("image_ids"))
    throw Error(ErrorCode::invalid_argument,
                "the catalog writer stores objects of catalog images: run on --set or --where (import the folder first)");

  std::vector<std::unique_ptr<pipeline::Writer>> writers;
  for (const pipeline::Node& node : spec.nodes) {
    if (node.kind != pipeline::Node::Kind::write) continue;
    auto kind = std::find_if(kinds.begin(), kinds.end(), [&](const auto& k) { return k.name == node.name; });
    writers.push_back(kind->create(node.params));
  }
  std::vector<pipeline::Writer*> raw;
  for (auto& w : writers) raw.push_back(w.get());

  const json run_spec = {{"kind", "pipeline"}, {"name", spec.name}, {"pipeline", pipeline_json}};
  const json params = {{"jobs", options.jobs}, {"fail_fast", options.fail_fast}};
  PipelineRunReport report;
  auto& catalog = workspace.catalog();
  report.run_id = catalog.start_run(project_id, run_spec, kTesseraVersion, params, inputs);
  target->run_id = report.run_id;

  Progress progress("run", static_cast<std::int64_t>(source.size()));
  pipeline::RunOptions run_options;
  run_options.jobs = options.jobs;
  run_options.fail_fast = options.fail_fast;
  std::int64_t items_done = 0;
  run_options.on_item = [&] {
    if (options.progress) progress.advance();
    if (options.on_progress) options.on_progress(++items_done, static_cast<std::int64_t>(source.size()));
  };
  const auto start = std::chrono::steady_clock::now();
  try {
    report.stats = pipeline::run_pipeline(spec, ops::builtin_ops(), source, raw, run_options);
  } catch (const std::exception& e) {
    progress.finish();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // A job cancelled by request leaves through the progress callback: the run did not fail, it was stopped.
    const bool cancelled = dynamic_cast<const JobCancelled*>(&e) != nullptr;
    catalog.finish_run(report.run_id, cancelled ? "cancelled" : "failed", {{"items", source.size()}},
                       std::string(e.what()), seconds);
    throw;
  }
  progress.finish();
  for (auto* w : raw) report.outputs.push_back(w->summary());
  report.status = report.stats.failed == 0 ? "succeeded" : "partial";
  json counts = report.stats.counts();
  counts["outputs"] = report.outputs;
  json errors = json::array();
  for (size_t i = 0; i < std::min<size_t>(report.stats.errors.size(), 100); ++i) {
    const auto& e = report.stats.errors[i];
    errors.push_back({{"object", e.object}, {"node", e.node}, {"message", e.message}});
  }
  if (!errors.empty()) counts["errors"] = errors;
  std::optional<std::string> error;
  if (report.stats.failed > 0)
    error = fmt::format("{} object{} failed; first: {}: {}: {}", report.stats.failed, report.stats.failed == 1 ? "" : "s",
                        report.stats.errors.front().object, report.stats.errors.front().node, report.stats.errors.front().message);
  catalog.finish_run(report.run_id, report.status, counts, error, report.stats.seconds);
  return report;
}

}  // namespace

std::vector<pipeline::WriterKind> pipeline_writers(Workspace& workspace, const std::string& project) {
  auto target = std::make_shared<CatalogTarget>();
  target->workspace = &workspace;
  target->project_id = workspace.catalog().get_project(project).id;
  return writers_for(target);
}

pipeline::PipelineSpec check_pipeline(Workspace& workspace, const std::string& project, const json& pipeline_json) {
  return pipeline::parse_pipeline(pipeline_json, ops::builtin_ops(), pipeline_writers(workspace, project));
}

PipelineRunReport run_pipeline(Workspace& workspace, const std::string& project, const json& pipeline_json,
                               const PipelineInput& override_input, const PipelineRunOptions& options) {
  const catalog::Project p = workspace.catalog().ensure_project(project);
  check_pipeline(workspace, project, pipeline_json);  // every problem before the input is even read
  PipelineInput input = override_input;
  if (input.empty() && pipeline_json.is_object()) input = PipelineInput::from_json(pipeline_json.value("input", json()));
  if (input.empty()) throw Error(ErrorCode::invalid_argument, "no input: give --set, --where or --input DIR (or 'input' in the pipeline)");
  if (input.dir) {
    DirectorySource source(*input.dir, input.pattern);
    json inputs = input.to_json();
    inputs["files"] = source.size();
    inputs["unmatched"] = source.unmatched();
    inputs["digest"] = source.digest();
    return execute(workspace, p.id, pipeline_json, source, inputs, options);
  }
  CatalogSource source(workspace, resolve_image_ids(workspace, p.id, input));
  json inputs = input.to_json();
  inputs["images"] = source.size();
  inputs["image_ids"] = id_ranges(source.ids());
  return execute(workspace, p.id, pipeline_json, source, inputs, options);
}

PipelineRunReport repeat_run(Workspace& workspace, const std::string& project, catalog::Id run_id,
                             const PipelineRunOptions& options) {
  const catalog::Project p = workspace.catalog().get_project(project);
  const catalog::Run run = workspace.catalog().get_run(run_id);
  if (run.project_id != p.id) throw Error(ErrorCode::not_found, fmt::format("run {} is not in project {}", run_id, project));
  if (run.kind != "pipeline" || !run.spec.contains("pipeline"))
    throw Error(ErrorCode::invalid_argument, fmt::format("run {} is a {} run, not a pipeline run", run_id, run.kind));
  const json& pipeline_json = run.spec["pipeline"];
  json inputs = run.inputs;
  inputs["repeat_of"] = run_id;
  if (run.inputs.contains("image_ids")) {
    CatalogSource source(workspace, ids_from_ranges(run.inputs["image_ids"]));
    return execute(workspace, p.id, pipeline_json, source, inputs, options);
  }
  const PipelineInput input = PipelineInput::from_json(json{{"dir", run.inputs.value("dir", "")}, {"pattern", run.inputs.value("pattern", "")}});
  DirectorySource source(*input.dir, input.pattern);
  if (source.digest() != run.inputs.value("digest", ""))
    throw Error(ErrorCode::conflict, fmt::format("run {}: the files under {} changed since it ran (names, sizes or times differ); "
                                                 "it cannot be repeated exactly", run_id, input.dir->string()));
  return execute(workspace, p.id, pipeline_json, source, inputs, options);
}

}  // namespace tessera::app
