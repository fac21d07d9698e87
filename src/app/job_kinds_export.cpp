// The 'export.dataset' job: app::export_dataset over a set (or a series) of the job's project, written
// under the workspace's exports/job-ID/ (or at an absolute 'out' given by whoever queued it from the
// command line; the HTTP API never passes one). The result names the files and the one to download
// (a YOLO folder is also zipped for that).
#include <fmt/format.h>

#include "tessera/app/export_dataset.hpp"
#include "tessera/app/job_kinds.hpp"
#include "tessera/app/track_series.hpp"
#include "tessera/core/error.hpp"
#include "tessera/exchange/zip_writer.hpp"

namespace tessera::app {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

[[noreturn]] void bad(const std::string& field, const std::string& problem) {
  throw Error(ErrorCode::invalid_argument, fmt::format("job 'export.dataset': {}", problem), {{"field", field}});
}

ExportDatasetOptions options_of(const json& params) {
  if (params.contains("project")) bad("project", "parameter 'project' is not allowed: the job's project is used");
  try {
    return export_options_from_json(params);
  } catch (const Error& e) {
    const json& d = e.details();
    bad(d.is_object() && d.contains("field") ? d["field"].get<std::string>() : "params", e.what());
  }
}

void validate_export(Workspace& workspace, const std::optional<catalog::Project>& project, const json& params) {
  const ExportDatasetOptions options = options_of(params);
  if (!project) bad("project", "an export runs in a project");
  if (!options.out.empty() && !options.out.is_absolute()) bad("out", "parameter 'out' must be an absolute path");
  try {
    if (options.format == DatasetFormat::deepcell_label) {
      find_project_series(workspace, project->name, options.series);
    } else {
      workspace.catalog().get_set(project->id, options.set);
    }
  } catch (const Error& e) {
    if (e.code() == ErrorCode::not_found) bad(options.format == DatasetFormat::deepcell_label ? "series" : "set", e.what());
    throw;
  }
}

// The YOLO folder as one zip beside it, entries relative to the folder, images stored as they are.
fs::path zip_folder(const fs::path& folder) {
  fs::path zip_path = folder;
  zip_path += ".zip";
  exchange::ZipWriter zip(zip_path);
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    const std::string name = fs::relative(file, folder).generic_string();
    const bool text = file.extension() == ".txt" || file.extension() == ".yaml";
    zip.add_file(name, file, text ? exchange::ZipMethod::deflate : exchange::ZipMethod::store);
  }
  zip.finish();
  return zip_path;
}

json run_export(Workspace& workspace, const json& params, JobContext& context) {
  const catalog::Job& job = context.job();
  if (!job.project) throw Error(ErrorCode::invalid_argument, fmt::format("job {}: an export needs a project", job.id));
  ExportDatasetOptions options = options_of(params);
  options.project = *job.project;
  if (options.out.empty()) {
    options.out = workspace.root() / "exports" / fmt::format("job-{}", job.id) / default_export_name(options);
  }
  options.progress = [&](double fraction, const std::string& message) { context.progress(fraction * 0.95, message); };
  context.progress(0, "starting");
  const ExportDatasetReport report = export_dataset(workspace, options);
  json result = report.to_json();
  fs::path download = options.out;
  if (options.format == DatasetFormat::yolo) {
    context.progress(0.96, "zipping the dataset folder");
    download = zip_folder(options.out);
  }
  result["format"] = std::string(to_string(options.format));
  result["output"] = options.out.string();
  result["download"] = download.string();
  result["download_name"] = download.filename().string();
  return result;
}

}  // namespace

JobKind export_dataset_job_kind() {
  return {.name = "export.dataset",
          .summary = "Writes training data (params: format npz|yolo|coco|deepcell-label, set or series, dims, task, "
                     "val, seed, rle) under the workspace's exports/job-ID/; the result lists the files",
          .needs_project = true,
          .validate = validate_export,
          .run = run_export};
}

}  // namespace tessera::app
