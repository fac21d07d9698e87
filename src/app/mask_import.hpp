#pragma once

// Imported masks as annotations, once: the dataset imports (COCO, YOLO) and the crowd intake store masks
// through this, so running an import again adds nothing. Private to the app layer.

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "tessera/app/annotations.hpp"

namespace tessera::app {

// An image file matched to the catalog: the project's image with the same bytes (the lowest id; when
// series_prefix is given, only among images of a series whose name starts with it), else the file imported
// (without a series) when no prefix is given. On failure, image is empty and problem says why, naming entry.
struct CatalogImageMatch {
  std::optional<catalog::ImageRecord> image;
  bool imported = false;
  std::string problem;
};
CatalogImageMatch find_or_import_image(Workspace& workspace, const catalog::Project& project,
                                       const std::filesystem::path& file, const std::string& entry,
                                       const std::optional<std::string>& series_prefix = std::nullopt);

// Creates mask annotations with source "imported", skipping a mask the image already holds from an import:
// same frame, tag, bbox and pixels (the stored PNG's hash). Not thread-safe: one per import.
class MaskImporter {
 public:
  MaskImporter(Workspace& workspace, catalog::Actor actor);

  enum class Outcome { created, already_there };

  // pixels: the mask over box (non-zero = inside), box in image coordinates. source_ref says where it came
  // from (stored as given). Error as Annotations::create (e.g. a mask with no pixel, a tag of another project).
  Outcome add(const catalog::ImageRecord& image, const cv::Mat& pixels, const cv::Rect& box,
              std::optional<catalog::Id> tag_id, const nlohmann::json& source_ref = nullptr,
              std::int64_t frame_index = 0);

 private:
  const std::set<std::string>& keys_of(catalog::Id image_id);

  Annotations annotations_;
  catalog::Actor actor_;
  std::map<catalog::Id, std::set<std::string>> keys_;  // per image, loaded on first use
};

}  // namespace tessera::app
