// tessera run PIPELINE.json | --repeat RUN, and tessera runs: declarative pipelines and their records.
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "tessera/app/pipeline_run.hpp"
#include "tessera/catalog/catalog.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"

namespace tessera::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

json read_pipeline(const std::string& path) {
  const std::string text = read_file(path);
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: not valid JSON: {}", path, e.what()));
  }
}

void print_report(const app::PipelineRunReport& report, bool verbose) {
  const auto& s = report.stats;
  std::string objects;
  for (size_t stage = 1; stage < s.objects.size(); ++stage) objects += fmt::format(", {} objects (stage {})", s.objects[stage], stage);
  fmt::print(stderr, "run {}: {} — {} items, {} roots{}, {} failed, {:.2f} s\n", report.run_id, report.status, s.items, s.roots,
             objects, s.failed, s.seconds);
  for (const json& out : report.outputs) fmt::print(stderr, "  wrote {}\n", out.dump());
  if (verbose) {
    double total = 0;
    for (const auto& [name, seconds] : s.node_seconds) total += seconds;
    for (const auto& [name, seconds] : s.node_seconds)
      fmt::print(stderr, "  {:<48} {:8.3f} s  {:5.1f}%\n", name, seconds, total > 0 ? 100 * seconds / total : 0.0);
  }
  const size_t shown = std::min<size_t>(s.errors.size(), 10);
  for (size_t i = 0; i < shown; ++i) fmt::print(stderr, "  failed: {}: {}: {}\n", s.errors[i].object, s.errors[i].node, s.errors[i].message);
  if (s.failed > static_cast<std::int64_t>(shown))
    fmt::print(stderr, "  ... {} more failures (tessera runs show {})\n", s.failed - static_cast<std::int64_t>(shown), report.run_id);
}

void finish(const app::PipelineRunReport& report, bool verbose) {
  print_report(report, verbose);
  if (report.status != "succeeded")
    throw Error(ErrorCode::internal, fmt::format("run {} ended {}: {} object(s) failed", report.run_id, report.status, report.stats.failed));
}

json run_json(const catalog::Run& run, bool full) {
  json j = {{"id", run.id},
            {"kind", run.kind},
            {"name", run.spec.value("name", "")},
            {"status", run.status},
            {"started_at", run.started_at},
            {"duration_s", run.duration_s ? json(*run.duration_s) : json()},
            {"tessera_version", run.tessera_version},
            {"counts", run.counts}};
  if (run.error) j["error"] = *run.error;
  if (full) {
    j["spec"] = run.spec;
    j["params"] = run.params;
    j["inputs"] = run.inputs;
  }
  return j;
}

}  // namespace

void add_run_commands(CLI::App& app, GlobalOptions& global) {
  auto* run = app.add_subcommand("run", "Run a pipeline file over catalog images or a folder, recording the run");
  auto file = std::make_shared<std::string>();
  auto input = std::make_shared<app::PipelineInput>();
  auto set = std::make_shared<std::string>();
  auto dir = std::make_shared<std::string>();
  auto options = std::make_shared<app::PipelineRunOptions>();
  auto repeat = std::make_shared<std::int64_t>(0);
  auto check_only = std::make_shared<bool>(false);
  auto timings = std::make_shared<bool>(false);
  run->add_option("PIPELINE", *file, "Pipeline JSON file (see examples/)");
  run->add_option("--set", *set, "Run on the images of this catalog set");
  run->add_option("--where", input->where, "Run on catalog images matching this filter (narrows --set)");
  run->add_option("--input", *dir, "Run on the image files under this folder");
  run->add_option("--pattern", input->pattern, "With --input: a path pattern; its fields become the objects' fields");
  run->add_option("--jobs,-j", options->jobs, "Worker threads")->check(CLI::Range(1, 256));
  run->add_flag("--fail-fast", options->fail_fast, "Stop at the first object that fails (default: record it and go on)");
  run->add_option("--repeat", *repeat, "Run a recorded pipeline run again on exactly its inputs");
  run->add_flag("--check", *check_only, "Only check the pipeline file and list every problem");
  run->add_flag("--timings", *timings, "Print the time spent in loading, each node and each writer (summed over workers)");
  run->callback([&global, file, input, set, dir, options, repeat, check_only, timings] {
    app::Workspace ws = global.open_workspace();
    if (*repeat > 0) {
      if (!file->empty() || !set->empty() || !dir->empty() || !input->where.empty())
        throw Error(ErrorCode::invalid_argument, "--repeat takes its pipeline and inputs from the run record: give nothing else");
      finish(app::repeat_run(ws, global.project, *repeat, *options), *timings);
      return;
    }
    if (file->empty()) throw Error(ErrorCode::invalid_argument, "give a PIPELINE file (or --repeat RUN)");
    const json pipeline = read_pipeline(*file);
    if (*check_only) {
      ws.catalog().ensure_project(global.project);
      const auto spec = app::check_pipeline(ws, global.project, pipeline);
      fmt::print("{}: {} nodes, {} stage(s), ok\n", *file, spec.nodes.size(), spec.stages);
      return;
    }
    if (!set->empty()) input->set = *set;
    if (!dir->empty()) input->dir = *dir;
    if (input->dir && (input->set || !input->where.empty()))
      throw Error(ErrorCode::invalid_argument, "--input reads files: it cannot be combined with --set or --where");
    if (!input->pattern.empty() && !input->dir) throw Error(ErrorCode::invalid_argument, "--pattern needs --input");
    finish(app::run_pipeline(ws, global.project, pipeline, *input, *options), *timings);
  });

  auto* runs = app.add_subcommand("runs", "List recorded runs (pipelines, measurements)");
  auto as_json = std::make_shared<bool>(false);
  runs->add_flag("--json", *as_json, "JSON lines instead of a table");
  auto* show = runs->add_subcommand("show", "Everything recorded about one run (spec, parameters, inputs, counts, errors)");
  auto show_id = std::make_shared<std::int64_t>(0);
  show->add_option("RUN", *show_id, "Run id")->required();
  show->callback([&global, show_id] {
    app::Workspace ws = global.open_workspace();
    const catalog::Run run = ws.catalog().get_run(*show_id);
    if (run.project_id != ws.catalog().get_project(global.project).id)
      throw Error(ErrorCode::not_found, fmt::format("run {} is not in project {}", *show_id, global.project));
    fmt::print("{}\n", run_json(run, true).dump(2));
  });
  runs->callback([&global, as_json, runs] {
    if (runs->got_subcommand("show")) return;
    app::Workspace ws = global.open_workspace();
    const auto list = ws.catalog().list_runs(ws.catalog().get_project(global.project).id);
    if (*as_json) {
      for (const auto& r : list) fmt::print("{}\n", run_json(r, false).dump());
      return;
    }
    fmt::print("{:>5}  {:<9} {:<20} {:<10} {:>9}  {}\n", "id", "kind", "name", "status", "seconds", "counts");
    for (const auto& r : list) {
      fmt::print("{:>5}  {:<9} {:<20} {:<10} {:>9}  {}\n", r.id, r.kind, r.spec.value("name", ""), r.status,
                 r.duration_s ? fmt::format("{:.2f}", *r.duration_s) : "-", r.counts.is_object() ? [&] {
                   json c = r.counts;
                   c.erase("errors");
                   c.erase("outputs");
                   c.erase("seconds_by_node");
                   return c.dump();
                 }() : "");
    }
  });
}

}  // namespace tessera::cli
