#include "app/mask_import.hpp"

#include <fmt/format.h>

#include "app/annotations_mask.hpp"
#include "tessera/app/import.hpp"
#include "tessera/core/file.hpp"
#include "tessera/core/sha256.hpp"

namespace tessera::app {
namespace {

// What makes two imported masks the same annotation; the source_ref is left out on purpose, so a re-run
// from another folder or report still finds the masks it stored before.
std::string mask_key(std::int64_t frame_index, const std::optional<catalog::Id>& tag_id, const catalog::BBox& box,
                     const std::string& mask_hash) {
  return fmt::format("{}|{}|{},{},{},{}|{}", frame_index, tag_id ? *tag_id : -1, box.x0, box.y0, box.x1, box.y1,
                     mask_hash);
}

std::optional<catalog::ImageRecord> image_with_bytes(Workspace& workspace, catalog::Id project_id,
                                                     const std::string& hash,
                                                     const std::optional<std::string>& series_prefix) {
  catalog::ImageQuery query;
  query.project_id = project_id;
  query.blob_hash = hash;
  query.limit = series_prefix ? 1000 : 1;
  for (auto& image : workspace.catalog().list_images(query)) {
    if (!series_prefix || (image.series_name && image.series_name->rfind(*series_prefix, 0) == 0)) return image;
  }
  return std::nullopt;
}

}  // namespace

CatalogImageMatch find_or_import_image(Workspace& workspace, const catalog::Project& project,
                                       const std::filesystem::path& file, const std::string& entry,
                                       const std::optional<std::string>& series_prefix) {
  CatalogImageMatch match;
  if (!std::filesystem::is_regular_file(file)) {
    match.problem = fmt::format("{}: image file '{}' is missing", entry, file.string());
    return match;
  }
  const std::string hash = sha256_hex(read_file(file));
  match.image = image_with_bytes(workspace, project.id, hash, series_prefix);
  if (match.image) return match;
  if (series_prefix) {
    match.problem = fmt::format("{}: no image of a series named '{}...' has the bytes of '{}'", entry, *series_prefix,
                                file.string());
    return match;
  }
  ImportOptions import;
  import.sources = {file};
  import.project = project.name;
  import.jobs = 1;
  import.progress = false;
  const ImportReport imported = import_images(workspace, import);
  if (!imported.failed.empty()) {
    match.problem = fmt::format("{}: image file '{}' is not imported: {}", entry, file.string(),
                                imported.failed.front().reason);
    return match;
  }
  match.image = image_with_bytes(workspace, project.id, hash, std::nullopt);
  if (!match.image) throw Error(ErrorCode::internal, fmt::format("imported '{}' but cannot find it", file.string()));
  match.imported = imported.imported > 0;
  return match;
}

MaskImporter::MaskImporter(Workspace& workspace, catalog::Actor actor)
    : annotations_(workspace), actor_(std::move(actor)) {}

const std::set<std::string>& MaskImporter::keys_of(catalog::Id image_id) {
  auto found = keys_.find(image_id);
  if (found != keys_.end()) return found->second;
  std::set<std::string>& keys = keys_[image_id];
  catalog::ViewportQuery query;
  query.image_id = image_id;
  query.limit = 1'000'000;  // every annotation of the image: an import may have put thousands there
  for (const auto& a : annotations_.in_viewport(query).annotations) {
    if (a.state.kind == "mask" && a.state.source == "imported" && a.state.mask_blob) {
      keys.insert(mask_key(a.state.frame_index, a.state.tag_id, a.state.bbox, *a.state.mask_blob));
    }
  }
  return keys;
}

MaskImporter::Outcome MaskImporter::add(const catalog::ImageRecord& image, const cv::Mat& pixels, const cv::Rect& box,
                                        std::optional<catalog::Id> tag_id, const nlohmann::json& source_ref,
                                        std::int64_t frame_index) {
  nlohmann::json body = {{"kind", "mask"},
                         {"bbox", {box.x, box.y, box.x + box.width, box.y + box.height}},
                         {"mask_rle", mask_to_rle(pixels)},
                         {"frame_index", frame_index},
                         {"source", "imported"}};
  if (tag_id) body["tag_id"] = *tag_id;
  if (!source_ref.is_null()) body["source_ref"] = source_ref;
  const AnnotationDraft draft = parse_annotation(body, image);
  const std::string key = mask_key(frame_index, tag_id, draft.state.bbox, sha256_hex(*draft.mask_png));
  keys_of(image.id);
  std::set<std::string>& keys = keys_[image.id];
  if (keys.count(key) != 0) return Outcome::already_there;
  annotations_.create(image, actor_, draft);
  keys.insert(key);
  return Outcome::created;
}

}  // namespace tessera::app
