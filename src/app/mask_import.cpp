#include "app/mask_import.hpp"

#include <fmt/format.h>

#include "app/annotations_mask.hpp"
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

}  // namespace

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
