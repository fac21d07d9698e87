#include <algorithm>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <opencv2/core.hpp>

#include "commands.hpp"
#include "tessera/app/measure.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/image/decode.hpp"
#include "tessera/image/encode.hpp"
#include "tessera/ops/registry.hpp"

namespace tessera::cli {
namespace fs = std::filesystem;
namespace {

cv::Mat read_first_frame(const fs::path& path) {
  return image::decode(read_file(path), path.string()).frames.front();
}

ops::Facet load_facet(const ops::FacetSpec& spec, const fs::path& path) {
  switch (spec.kind) {
    case ops::FacetKind::image: return ops::Facet::image(read_first_frame(path));
    case ops::FacetKind::mask: {
      const cv::Mat m = read_first_frame(path);
      if (m.channels() != 1) {
        throw Error(ErrorCode::invalid_argument, fmt::format("{}: a mask must have one channel, got {}", path.string(), m.channels()));
      }
      return ops::Facet::mask(m != 0);
    }
    case ops::FacetKind::labels: {
      const cv::Mat m = read_first_frame(path);
      if (m.channels() != 1) {
        throw Error(ErrorCode::invalid_argument, fmt::format("{}: a label image must have one channel", path.string()));
      }
      cv::Mat labels;
      m.convertTo(labels, CV_32S);
      return ops::Facet::labels(labels);
    }
    case ops::FacetKind::images: {
      if (!fs::is_directory(path)) {
        throw Error(ErrorCode::invalid_argument, fmt::format("{}: input '{}' needs a folder of images", path.string(), spec.name));
      }
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(path)) {
        if (e.is_regular_file() && image::has_image_extension(e.path())) files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      std::vector<cv::Mat> mats;
      for (const auto& f : files) mats.push_back(read_first_frame(f));
      return ops::Facet::list(std::move(mats));
    }
    case ops::FacetKind::table: return ops::Facet::rows(nlohmann::json::parse(read_file(path)));
  }
  return {};
}

void write_matrix(const fs::path& path, const ops::Facet& facet) {
  if (facet.kind == ops::FacetKind::labels) {
    double lo = 0, hi = 0;
    cv::minMaxIdx(facet.mat, &lo, &hi);
    cv::Mat out;
    if (hi <= 65535 && lo >= 0) {
      facet.mat.convertTo(out, CV_16U);  // 16-bit PNG/TIFF label images load everywhere
    } else {
      facet.mat.convertTo(out, CV_32F);
    }
    image::write_image(path, out);
    return;
  }
  image::write_image(path, facet.mat);
}

void write_facet(const fs::path& out, const ops::Facet& facet) {
  if (facet.kind == ops::FacetKind::images) {
    fs::create_directories(out);
    for (size_t i = 0; i < facet.mats.size(); ++i) image::write_image(out / fmt::format("{:05d}.png", i), facet.mats[i]);
    if (facet.table.is_array()) write_file_atomic(out / "items.json", facet.table.dump(2) + "\n");
    return;
  }
  write_matrix(out, facet);
}

void add_op_subcommand(CLI::App& parent, const ops::OpDescriptor& op) {
  auto* cmd = parent.add_subcommand(op.name, op.summary);
  auto values = std::make_shared<std::map<std::string, std::string>>();
  for (const ops::ParamSpec& p : op.params) {
    std::string help = p.help;
    if (p.min && p.max) help += fmt::format(" [{} .. {}]", *p.min, *p.max);
    if (!p.choices.empty()) {
      help += " (";
      for (size_t i = 0; i < p.choices.size(); ++i) help += (i ? "|" : "") + p.choices[i];
      help += ")";
    }
    if (!p.default_value.is_null()) help += " default " + p.default_value.dump();
    cmd->add_option("--" + p.name, (*values)[p.name], help);
  }
  auto files = std::make_shared<std::vector<std::string>>();
  std::string usage;
  for (const auto& f : op.inputs) usage += (f.optional ? "[" : "") + f.name + (f.optional ? "] " : " ");
  const auto writes_file = std::find_if(op.outputs.begin(), op.outputs.end(), [](const ops::FacetSpec& f) {
    return f.kind != ops::FacetKind::table;
  });
  if (writes_file != op.outputs.end()) usage += "OUT";
  cmd->add_option("FILES", *files, "inputs in order, then the output: " + usage)->required();
  cmd->callback([&op, values, files, writes_file] {
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [name, text] : *values) {
      if (!text.empty()) params[name] = text;
    }
    std::vector<std::string> args = *files;
    std::optional<fs::path> out;
    if (writes_file != op.outputs.end()) {
      if (args.size() < 2) throw Error(ErrorCode::invalid_argument, fmt::format("{}: give the input file(s) and OUT", op.name));
      out = args.back();
      args.pop_back();
    }
    size_t required = 0;
    for (const auto& f : op.inputs) required += f.optional ? 0 : 1;
    if (args.size() < required || args.size() > op.inputs.size()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: expected {} input file(s), got {}", op.name, required, args.size()));
    }
    const nlohmann::json valid = ops::builtin_ops().validate(op.name, params);  // before reading any file
    ops::FacetMap inputs;
    for (size_t i = 0; i < args.size(); ++i) inputs[op.inputs[i].name] = load_facet(op.inputs[i], args[i]);
    ops::FacetMap result = ops::builtin_ops().run(op.name, inputs, valid);
    nlohmann::json tables = nlohmann::json::object();
    for (const auto& spec : op.outputs) {
      auto it = result.find(spec.name);
      if (it == result.end()) continue;
      if (spec.kind == ops::FacetKind::table) {
        tables[spec.name] = it->second.table;
      } else if (out && spec.name == writes_file->name) {
        write_facet(*out, it->second);
      }
    }
    if (!tables.empty()) fmt::print("{}\n", tables.dump(2));
  });
}

}  // namespace

void add_ops_commands(CLI::App& app, GlobalOptions&) {
  auto* list = app.add_subcommand("ops", "List the operations with their parameters");
  auto json = std::make_shared<bool>(false);
  list->add_flag("--json", *json, "Descriptors as JSON");
  list->callback([json] {
    if (*json) {
      fmt::print("{}\n", ops::builtin_ops().describe().dump(2));
      return;
    }
    for (const ops::OpDescriptor* op : ops::builtin_ops().list()) {
      fmt::print("{:<22} {}\n", op->name, op->summary);
      for (const auto& p : op->params) {
        std::string range;
        if (p.min && p.max) range = fmt::format(" [{} .. {}]", *p.min, *p.max);
        if (!p.choices.empty()) {
          for (size_t i = 0; i < p.choices.size(); ++i) range += (i ? "|" : " ") + p.choices[i];
        }
        fmt::print("    --{:<18} {:<8} default {}{}  {}\n", p.name, ops::to_string(p.type), p.default_value.dump(), range, p.help);
      }
    }
  });

  auto* op = app.add_subcommand("op", "Run one operation on files: tessera op NAME [--param v] IN... OUT");
  op->require_subcommand(1);
  for (const ops::OpDescriptor* d : ops::builtin_ops().list()) add_op_subcommand(*op, *d);
}

void add_measure_command(CLI::App& app, GlobalOptions& global) {
  auto* cmd = app.add_subcommand("measure", "Threshold, label and measure objects (scikit-image regionprops columns)");
  auto options = std::make_shared<app::MeasureOptions>();
  auto files = std::make_shared<std::vector<std::string>>();
  auto csv = std::make_shared<std::string>();
  auto set = std::make_shared<std::string>();
  cmd->add_option("IMAGE", *files, "Image files (the first frame of each)");
  cmd->add_option("--set", *set, "Measure every image of this catalog set and store the objects");
  cmd->add_option("--threshold", options->threshold, "otsu, quantile:Q or a value");
  cmd->add_flag("--dark-objects", options->dark_objects, "Objects darker than the background");
  cmd->add_option("--min-area", options->min_area, "Drop objects with fewer pixels");
  cmd->add_option("--connectivity", options->connectivity, "1 = 4-neighbours, 2 = 8-neighbours");
  cmd->add_option("--csv", *csv, "Write the CSV here (default: standard output)");
  cmd->add_option("--jobs,-j", options->jobs, "Worker threads");
  cmd->callback([&global, options, files, csv, set] {
    app::validate_measure_options(*options);
    if (files->empty() == set->empty()) throw Error(ErrorCode::invalid_argument, "give image files or --set, not both");
    std::ofstream file;
    std::ostream* out = &std::cout;
    const fs::path csv_path = *csv;
    const fs::path partial = csv_path.string() + ".partial";
    if (!csv->empty()) {
      // Written beside the target and renamed at the end: a failed run never leaves a half CSV under the name.
      file.open(partial, std::ios::binary | std::ios::trunc);
      if (!file) throw Error(ErrorCode::io, fmt::format("cannot write '{}'", partial.string()));
      out = &file;
    }
    app::MeasureReport report;
    if (!set->empty()) {
      app::Workspace ws = global.open_workspace();
      report = app::measure_set(ws, global.project, *set, *options, csv->empty() ? nullptr : out);
    } else {
      std::vector<fs::path> paths(files->begin(), files->end());
      report = app::measure_files(paths, *options, *out);
    }
    out->flush();
    if (!csv->empty()) {
      file.close();
      fs::rename(partial, csv_path);
    }
    for (const auto& p : report.failed) fmt::print(stderr, "failed: {}: {}\n", p.source, p.reason);
    fmt::print(stderr, "measured {} objects in {} images in {:.2f} s, {} failed{}\n", report.objects, report.images,
               report.seconds, report.failed.size(), report.run_id ? fmt::format(" (run {})", *report.run_id) : "");
    if (!report.failed.empty()) {
      throw Error(ErrorCode::internal, fmt::format("{} image(s) could not be measured (listed above)", report.failed.size()));
    }
  });
}

}  // namespace tessera::cli
