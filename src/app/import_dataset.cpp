// COCO and YOLO datasets into the catalog: images by content hash, annotations as imported masks, classes
// as tags by name. Shared steps here; the format readers below.
#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "app/mask_import.hpp"
#include "tessera/app/annotations.hpp"
#include "tessera/app/export_dataset.hpp"
#include "tessera/app/import.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/core/sha256.hpp"
#include "tessera/exchange/coco.hpp"
#include "tessera/exchange/yolo.hpp"

namespace tessera::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The catalog side of an import: images found or added by content, tags by name, masks as annotations.
class DatasetImporter {
 public:
  DatasetImporter(Workspace& workspace, const ImportDatasetOptions& options, ImportDatasetReport& report)
      : workspace_(workspace), options_(options), report_(report), masks_(workspace, options.actor) {
    if (options.set.empty()) throw Error(ErrorCode::invalid_argument, "dataset import: 'set' is required", {{"field", "set"}});
    project_ = workspace.catalog().ensure_project(options.project);
    workspace.catalog().ensure_set(project_.id, options.set);
  }

  // Tag ids for class names, creating the missing tags in the order given (so their ids follow it).
  std::vector<catalog::Id> tags_for(const std::vector<std::string>& names) {
    auto& catalog = workspace_.catalog();
    std::map<std::string, catalog::Id> existing;
    for (const auto& tag : catalog.list_tags(project_.id)) existing[tag.name] = tag.id;
    std::vector<catalog::TagSpec> missing;
    for (const auto& name : names) {
      if (!existing.count(name) &&
          std::none_of(missing.begin(), missing.end(), [&](const auto& t) { return t.name == name; })) {
        missing.push_back({name, "#ff0000", "label", std::nullopt});
      }
    }
    if (!missing.empty()) {
      for (const auto& tag : catalog.upsert_tags(project_.id, missing)) {
        existing[tag.name] = tag.id;
        report_.tags_created.push_back(tag.name);
      }
    }
    std::vector<catalog::Id> ids;
    for (const auto& name : names) ids.push_back(existing.at(name));
    return ids;
  }

  // The image with these bytes in the project, imported from `file` when none has them; joins the set.
  // nullopt (and a problem) when the file is missing or does not decode.
  std::optional<catalog::ImageRecord> image_for(const fs::path& file, const std::string& entry) {
    CatalogImageMatch match = find_or_import_image(workspace_, project_, file, entry);
    if (!match.image) {
      report_.problems.push_back(match.problem);
      return std::nullopt;
    }
    report_.images_imported += match.imported ? 1 : 0;
    workspace_.catalog().add_to_set(project_.id, options_.set, {match.image->id});
    ++report_.images;
    return match.image;
  }

  // A mask over the whole image as an imported mask annotation (cropped to its pixels); one the image already
  // holds from an earlier run (same pixels, tag and frame) is counted, not added again.
  void add_mask(const catalog::ImageRecord& image, const cv::Mat& mask, catalog::Id tag_id, const std::string& entry) {
    const cv::Rect box = cv::boundingRect(mask);
    if (box.empty()) {
      report_.problems.push_back(fmt::format("{}: covers no pixel of its image", entry));
      return;
    }
    try {
      if (masks_.add(image, mask(box), box, tag_id) == MaskImporter::Outcome::created) {
        ++report_.annotations;
      } else {
        ++report_.annotations_existing;
      }
    } catch (const Error& e) {
      report_.problems.push_back(fmt::format("{}: {}", entry, e.what()));
    }
  }

 private:
  Workspace& workspace_;
  const ImportDatasetOptions& options_;
  ImportDatasetReport& report_;
  MaskImporter masks_;
  catalog::Project project_;
};

}  // namespace

json ImportDatasetReport::to_json() const {
  return {{"images", images},           {"images_imported", images_imported}, {"annotations", annotations},
          {"annotations_existing", annotations_existing},
          {"tags_created", tags_created}, {"problems", problems}};
}

ImportDatasetReport import_coco(Workspace& workspace, const fs::path& json_path, const fs::path& images_dir,
                                const ImportDatasetOptions& options) {
  const exchange::CocoDataset dataset = exchange::read_coco_json(read_file(json_path), json_path.string());
  ImportDatasetReport report;
  DatasetImporter importer(workspace, options, report);
  std::vector<std::string> names;
  for (const auto& c : dataset.categories) names.push_back(c.name);
  const std::vector<catalog::Id> tag_ids = importer.tags_for(names);
  std::map<std::int64_t, catalog::Id> tag_of_category;
  for (size_t i = 0; i < dataset.categories.size(); ++i) tag_of_category[dataset.categories[i].id] = tag_ids[i];
  std::map<std::int64_t, std::vector<const exchange::CocoAnnotation*>> by_image;
  for (const auto& a : dataset.annotations) by_image[a.image_id].push_back(&a);
  for (size_t i = 0; i < dataset.images.size(); ++i) {
    const auto& image = dataset.images[i];
    const std::string entry = fmt::format("{}: images[{}] '{}'", json_path.string(), i, image.file_name);
    const auto record = importer.image_for(images_dir / image.file_name, entry);
    if (!record) continue;
    if (record->width != image.width || record->height != image.height) {
      report.problems.push_back(fmt::format("{}: is {}x{} on disk but {}x{} in the JSON; its annotations are left out",
                                            entry, record->width, record->height, image.width, image.height));
      continue;
    }
    for (const exchange::CocoAnnotation* a : by_image[image.id]) {
      const std::string where = fmt::format("{}: annotation {}", json_path.string(), a->id);
      try {
        const cv::Mat mask = exchange::coco_annotation_mask(*a, {image.width, image.height});
        importer.add_mask(*record, mask, tag_of_category.at(a->category_id), where);
      } catch (const Error& e) {
        report.problems.push_back(fmt::format("{}: {}", where, e.what()));
      }
    }
  }
  return report;
}

ImportDatasetReport import_yolo(Workspace& workspace, const fs::path& dir, const ImportDatasetOptions& options) {
  const fs::path yaml = dir / "data.yaml";
  if (!fs::is_regular_file(yaml)) {
    throw Error(ErrorCode::not_found, fmt::format("dataset import yolo: '{}' is missing", yaml.string()));
  }
  const std::vector<std::string> names = exchange::read_yolo_names(read_file(yaml), yaml.string());
  ImportDatasetReport report;
  DatasetImporter importer(workspace, options, report);
  const std::vector<catalog::Id> tag_ids = importer.tags_for(names);
  for (const char* split : {"train", "val", "test"}) {
    const fs::path images = dir / "images" / split;
    if (!fs::is_directory(images)) continue;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(images)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      const std::string entry = fmt::format("{}", file.string());
      const auto record = importer.image_for(file, entry);
      if (!record) continue;
      const fs::path label_file = (dir / "labels" / split / file.filename()).replace_extension(".txt");
      if (!fs::exists(label_file)) continue;  // no label file: a background image
      std::vector<exchange::YoloObject> objects;
      try {
        objects = exchange::parse_yolo_labels(read_file(label_file), label_file.string());
      } catch (const Error& e) {
        report.problems.push_back(e.what());
        continue;
      }
      for (size_t k = 0; k < objects.size(); ++k) {
        const std::string where = fmt::format("{} object {}", label_file.string(), k + 1);
        if (objects[k].class_id >= int(names.size())) {
          report.problems.push_back(
              fmt::format("{}: class {} is not in data.yaml's {} names", where, objects[k].class_id, names.size()));
          continue;
        }
        const cv::Mat mask = exchange::yolo_object_mask(objects[k], {record->width, record->height});
        importer.add_mask(*record, mask, tag_ids[size_t(objects[k].class_id)], where);
      }
    }
  }
  return report;
}

}  // namespace tessera::app
