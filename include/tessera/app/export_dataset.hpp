#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/app/workspace.hpp"
#include "tessera/catalog/locks.hpp"
#include "tessera/catalog/records.hpp"
#include "tessera/exchange/yolo.hpp"

namespace tessera::app {

// Training data written from a set of catalog images (docs/api/exports.md).
//
// What counts as an object: the image's annotations (not deleted, frame 0) of kind mask, polygon or box,
// each rasterized to its pixels; measured objects of pipeline runs are not exported. Objects are taken in
// annotation id order. Classes (YOLO, COCO) are the tags the exported annotations carry, in tag id order;
// untagged annotations are left out of YOLO and COCO (counted in the report), kept in npz.
enum class DatasetFormat { npz, yolo, coco, deepcell_label };

std::string_view to_string(DatasetFormat format);
DatasetFormat parse_dataset_format(std::string_view text);  // Error{invalid_argument} naming 'format'

struct ExportDatasetOptions {
  std::string project = "default";
  DatasetFormat format = DatasetFormat::npz;
  std::string set;     // npz, yolo, coco: the set's name
  std::string series;  // deepcell_label: the series' name (or id)
  // npz: "2d" = X (images, rows, cols, channels), y (images, rows, cols, 1); "3d" = one movie per series
  // of the set, X (series, frames, rows, cols, channels), frames in frame-index order.
  std::string dims = "2d";
  exchange::YoloTask task = exchange::YoloTask::detect;
  double val_fraction = 0.2;  // yolo: share of images in val, chosen by a seeded hash of their file names
  std::uint64_t seed = 1;
  bool rle = false;                // coco: compressed RLE instead of polygons
  std::filesystem::path out;       // a file (npz, coco, deepcell_label .zip) or a folder (yolo)
  std::function<void(double fraction, const std::string& message)> progress;  // optional
};

// Something left out of an export; the rest was written.
struct ExportProblem {
  catalog::Id image_id = 0;
  std::optional<catalog::Id> annotation_id;
  std::string reason;
};

struct ExportDatasetReport {
  std::vector<std::filesystem::path> files;  // every file written, in writing order
  std::int64_t images = 0;
  std::int64_t objects = 0;
  std::int64_t untagged = 0;  // annotations without a tag, not in YOLO or COCO
  std::vector<std::string> classes;
  std::vector<ExportProblem> problems;
  std::int64_t bytes = 0;
  bool ok() const { return problems.empty(); }
  nlohmann::json to_json() const;
};

// Writes the export. Error{not_found} for an unknown project, set or series; Error{invalid_argument} for
// a set with no images or no annotations (naming it), images of different sizes in one npz, bad options.
// An annotation that cannot be decoded is reported in `problems` and left out; the rest is written.
ExportDatasetReport export_dataset(Workspace& workspace, const ExportDatasetOptions& options);

// Options from a job's or request's JSON: {"format", "set" | "series", "dims", "task", "val", "seed", "rle",
// "out"}; Error{invalid_argument} naming the field. `out` may be missing (the caller chooses one).
ExportDatasetOptions export_options_from_json(const nlohmann::json& params);

// The default file or folder name of an export: "<set>.npz", "<set>-yolo-<task>", "<set>-coco.json",
// "<series>-deepcell-label.zip" (unsafe characters replaced).
std::string default_export_name(const ExportDatasetOptions& options);

// Datasets read into the catalog: images by content hash (an image whose bytes are already in the
// project is reused, others are imported), annotations as masks with source "imported", classes as tags
// by name (created when missing). Every image joins `set`. Imported annotations come in file order, so
// export -> import -> export gives the same bytes.
struct ImportDatasetOptions {
  std::string project = "default";
  std::string set;  // required
  catalog::Actor actor{std::nullopt, "import"};
};

struct ImportDatasetReport {
  std::int64_t images = 0;           // images of the dataset in the set
  std::int64_t images_imported = 0;  // new image records
  std::int64_t annotations = 0;           // added in this run
  std::int64_t annotations_existing = 0;  // already imported before (same image, frame, tag and pixels): kept
  std::vector<std::string> tags_created;
  std::vector<std::string> problems;  // objects or images left out, each naming the file and entry
  bool ok() const { return problems.empty(); }
  nlohmann::json to_json() const;
};

// COCO JSON whose file_names are relative to images_dir. Error{corrupt} for a document that is not COCO
// (naming the member); images missing on disk and undecodable annotations are problems.
ImportDatasetReport import_coco(Workspace& workspace, const std::filesystem::path& json_path,
                                const std::filesystem::path& images_dir, const ImportDatasetOptions& options);

// A YOLO dataset folder: data.yaml (names) and images/<split>/ with labels/<split>/<stem>.txt.
ImportDatasetReport import_yolo(Workspace& workspace, const std::filesystem::path& dir,
                                const ImportDatasetOptions& options);

}  // namespace tessera::app
