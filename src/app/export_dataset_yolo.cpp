// Ultralytics YOLO datasets (formats.md 4): images/{train,val}/, labels/{train,val}/, data.yaml.
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "app/export_dataset_items.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/core/sha256.hpp"

namespace tessera::app {
namespace {

namespace fs = std::filesystem;

// A previous YOLO export in `out` is replaced; any other non-empty folder is refused rather than mixed in.
void prepare_folder(const fs::path& out) {
  if (fs::exists(out)) {
    if (!fs::is_directory(out)) {
      throw Error(ErrorCode::conflict, fmt::format("yolo export: '{}' exists and is not a folder", out.string()),
                  {{"field", "out"}});
    }
    if (fs::exists(out / "data.yaml")) {
      fs::remove_all(out / "images");
      fs::remove_all(out / "labels");
      fs::remove(out / "data.yaml");
    } else if (!fs::is_empty(out)) {
      throw Error(ErrorCode::conflict,
                  fmt::format("yolo export: folder '{}' is not empty and holds no earlier YOLO export", out.string()),
                  {{"field", "out"}});
    }
  }
}

// The images in val: a seeded hash of each file name orders them, so the split depends on the names and
// the seed only (not on catalog ids: a re-imported dataset splits the same way).
std::vector<bool> validation_images(const DatasetContents& contents, const ExportDatasetOptions& options) {
  const size_t n = contents.images.size();
  std::vector<std::pair<std::string, size_t>> keyed;
  for (size_t i = 0; i < n; ++i) {
    keyed.emplace_back(sha256_hex(fmt::format("{}:{}", options.seed, contents.images[i].file_name)), i);
  }
  std::sort(keyed.begin(), keyed.end());
  const size_t val_count = std::min(n, size_t(std::llround(options.val_fraction * double(n))));
  std::vector<bool> in_val(n, false);
  for (size_t k = 0; k < val_count; ++k) in_val[keyed[k].second] = true;
  return in_val;
}

}  // namespace

void write_yolo_export(Workspace& workspace, const ExportDatasetOptions& options, const DatasetContents& contents,
                       ExportDatasetReport& report) {
  prepare_folder(options.out);
  const std::vector<bool> in_val = validation_images(contents, options);
  std::map<std::string, int> stem_uses;
  for (const auto& image : contents.images) ++stem_uses[fs::path(image.file_name).stem().string()];
  for (size_t i = 0; i < contents.images.size(); ++i) {
    const DatasetImage& image = contents.images[i];
    const std::string split = in_val[i] ? "val" : "train";
    std::string file_name = image.file_name;
    if (stem_uses[fs::path(file_name).stem().string()] > 1) file_name = fmt::format("{}_{}", image.record.id, file_name);
    const fs::path image_path = options.out / "images" / split / file_name;
    const fs::path label_path = (options.out / "labels" / split / file_name).replace_extension(".txt");
    fs::create_directories(image_path.parent_path());
    fs::create_directories(label_path.parent_path());
    write_file_atomic(image_path, workspace.blobs().get(image.record.blob_hash));
    std::string labels;
    const cv::Size size(image.record.width, image.record.height);
    for (const auto& object : image.objects) {
      const auto class_id = class_index(contents, object);
      if (!class_id) continue;
      for (const auto& line : exchange::yolo_lines(options.task, *class_id, object.mask, object.offset, size)) {
        labels += line;
        labels += '\n';
      }
    }
    write_file_atomic(label_path, labels);
    report.files.push_back(image_path);
    report.files.push_back(label_path);
    report_progress(options, 0.3 + 0.6 * double(i + 1) / double(contents.images.size()), "writing images and labels");
  }
  std::vector<std::string> names;
  for (const auto& tag : contents.classes) names.push_back(tag.name);
  const bool has_val = std::find(in_val.begin(), in_val.end(), true) != in_val.end();
  if (!has_val) fs::create_directories(options.out / "images" / "train");
  write_file_atomic(options.out / "data.yaml", exchange::write_yolo_data_yaml(names, has_val));
  report.files.push_back(options.out / "data.yaml");
}

}  // namespace tessera::app
