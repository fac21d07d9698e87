// `tessera export npz|yolo|coco|deepcell-label` (training data from a set or series) and
// `tessera dataset import coco|yolo` (datasets into the catalog). Both only parse and print: the work is
// app::export_dataset / app::import_coco / app::import_yolo, which jobs and the server call too.
#include <fmt/format.h>

#include <cstdlib>
#include <memory>

#include "commands.hpp"
#include "tessera/app/export_dataset.hpp"
#include "tessera/core/error.hpp"

namespace tessera::cli {
namespace {

void print_export(const app::ExportDatasetReport& report, bool as_json) {
  if (as_json) {
    fmt::print("{}\n", report.to_json().dump(2));
  } else {
    for (const auto& p : report.problems) fmt::print(stderr, "problem: {}\n", p.reason);
    fmt::print("exported {} images, {} objects{} ({} files, {:.1f} MB)\n", report.images, report.objects,
               report.untagged > 0 ? fmt::format(" ({} untagged left out)", report.untagged) : "",
               report.files.size(), double(report.bytes) / 1e6);
    if (!report.classes.empty()) fmt::print("classes: {}\n", fmt::join(report.classes, ", "));
  }
  if (!report.ok()) {
    throw Error(ErrorCode::internal,
                fmt::format("{} annotation(s) could not be exported (listed above); the rest was written",
                            report.problems.size()));
  }
}

void print_import(const app::ImportDatasetReport& report, bool as_json) {
  if (as_json) {
    fmt::print("{}\n", report.to_json().dump(2));
  } else {
    for (const auto& p : report.problems) fmt::print(stderr, "problem: {}\n", p);
    fmt::print("imported {} annotations on {} images ({} already there; {} new images, {} new tags)\n",
               report.annotations, report.images, report.annotations_existing, report.images_imported,
               report.tags_created.size());
  }
  if (!report.ok()) {
    throw Error(ErrorCode::internal,
                fmt::format("{} image(s) or object(s) could not be imported (listed above); the rest was",
                            report.problems.size()));
  }
}

struct ExportArgs {
  app::ExportDatasetOptions options;
  std::string task = "detect";
  std::string out;
  bool json = false;
};

CLI::App* add_export(CLI::App& parent, GlobalOptions& global, const char* name, const char* help,
                     app::DatasetFormat format, const std::function<void(CLI::App&, ExportArgs&)>& options) {
  auto args = std::make_shared<ExportArgs>();
  auto* sub = parent.add_subcommand(name, help);
  if (format == app::DatasetFormat::deepcell_label) {
    sub->add_option("--series", args->options.series, "Series (name or id)")->required();
  } else {
    sub->add_option("--set", args->options.set, "Set of images to export")->required();
  }
  options(*sub, *args);
  sub->add_option("--out", args->out, "Output file or folder")->required();
  sub->add_flag("--json", args->json, "Print the report as JSON");
  sub->callback([&global, args, format] {
    app::Workspace ws = global.open_workspace();
    args->options.project = global.project;
    args->options.format = format;
    args->options.out = args->out;
    if (format == app::DatasetFormat::yolo) args->options.task = exchange::parse_yolo_task(args->task);
    print_export(app::export_dataset(ws, args->options), args->json);
  });
  return sub;
}

}  // namespace

void add_export_commands(CLI::App& parent, GlobalOptions& global) {
  auto* exporter = parent.add_subcommand("export", "Write training data from a set: npz, yolo, coco, deepcell-label");
  exporter->require_subcommand(1);
  add_export(*exporter, global, "npz", "DeepCell .npz: X float32, y int32 (instance labels), channels last",
             app::DatasetFormat::npz, [](CLI::App& sub, ExportArgs& a) {
               sub.add_option("--dims", a.options.dims, "2d: one entry per image; 3d: one movie per series")
                   ->check(CLI::IsMember({"2d", "3d"}))
                   ->capture_default_str();
             });
  add_export(*exporter, global, "yolo", "Ultralytics YOLO dataset folder (images, labels, data.yaml)",
             app::DatasetFormat::yolo, [](CLI::App& sub, ExportArgs& a) {
               sub.add_option("--task", a.task, "detect (boxes) or segment (polygons)")
                   ->check(CLI::IsMember({"detect", "segment"}))
                   ->capture_default_str();
               sub.add_option("--val", a.options.val_fraction, "Share of images in val")
                   ->check(CLI::Range(0.0, 1.0))
                   ->capture_default_str();
               sub.add_option("--seed", a.options.seed, "Seed of the train/val split")->capture_default_str();
             });
  add_export(*exporter, global, "coco", "COCO instance segmentation JSON", app::DatasetFormat::coco,
             [](CLI::App& sub, ExportArgs& a) {
               sub.add_flag("--rle", a.options.rle, "Masks as compressed RLE (holes kept) instead of polygons");
             });
  add_export(*exporter, global, "deepcell-label", "A series as a DeepCell Label project zip (X.npy, y.npy, cells.json)",
             app::DatasetFormat::deepcell_label, [](CLI::App&, ExportArgs&) {});

  auto* dataset = parent.add_subcommand("dataset", "Datasets in other tools' formats");
  dataset->require_subcommand(1);
  auto* importer = dataset->add_subcommand("import", "Read a COCO or YOLO dataset into the catalog");
  importer->require_subcommand(1);
  struct ImportArgs {
    std::string path, images, set;
    bool json = false;
  };
  auto args = std::make_shared<ImportArgs>();
  auto options = [&global, args] {
    app::ImportDatasetOptions o;
    o.project = global.project;
    o.set = args->set;
    o.actor = local_actor();
    return o;
  };
  auto* coco = importer->add_subcommand("coco", "COCO JSON; images read from --images");
  coco->add_option("FILE", args->path, "COCO JSON file")->required()->check(CLI::ExistingFile);
  coco->add_option("--images", args->images, "Folder the file_names are relative to")->required();
  coco->add_option("--set", args->set, "Set the images join (default: the JSON file's name without extension)");
  coco->add_flag("--json", args->json, "Print the report as JSON");
  coco->callback([&global, args, options] {
    if (args->set.empty()) args->set = std::filesystem::path(args->path).stem().string();
    app::Workspace ws = global.open_workspace();
    print_import(app::import_coco(ws, args->path, args->images, options()), args->json);
  });
  auto* yolo = importer->add_subcommand("yolo", "YOLO dataset folder (data.yaml, images/, labels/)");
  yolo->add_option("DIR", args->path, "Dataset folder")->required()->check(CLI::ExistingDirectory);
  yolo->add_option("--set", args->set, "Set the images join (default: the folder's name)");
  yolo->add_flag("--json", args->json, "Print the report as JSON");
  yolo->callback([&global, args, options] {
    if (args->set.empty()) args->set = std::filesystem::weakly_canonical(args->path).filename().string();
    app::Workspace ws = global.open_workspace();
    print_import(app::import_yolo(ws, args->path, options()), args->json);
  });
}

}  // namespace tessera::cli
