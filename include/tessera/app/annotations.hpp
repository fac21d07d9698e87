#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tessera/app/workspace.hpp"
#include "tessera/catalog/annotations.hpp"
#include "tessera/catalog/locks.hpp"
#include "tessera/core/error.hpp"

namespace tessera::app {

// How annotations travel as JSON (HTTP bodies, files), documented in docs/api/annotations.md:
//   {"kind": "polygon", "geometry": {"points": [[x, y], ...]}, "tag_id": 3, "frame_index": 0, ...}
//   {"kind": "mask", "bbox": [x0, y0, x1, y1], "mask_png_base64": "..."}      (8-bit PNG, 0/255)
//   {"kind": "mask", "bbox": [x0, y0, x1, y1], "mask_rle": {"size": [h, w], "counts": [...]}}
// The RLE is COCO's uncompressed form: column-major run lengths over the bbox, starting with a run of 0s.
// Coordinates are image pixels; a bbox is half-open. Geometry kinds get the bbox of the pixels they touch.

// A validated annotation state and, for masks, the canonical PNG to store (not stored yet).
struct AnnotationDraft {
  catalog::AnnotationState state;
  std::optional<std::string> mask_png;
};

// Validates a create body (base == nullptr) or a partial update over `base` against the annotation's image.
// Error{invalid_argument} names the field in the message and in details.field; problems with a mask's
// content (its size disagrees with its bbox, values other than 0/255, no foreground) also set
// details.unprocessable = true (HTTP 422).
AnnotationDraft parse_annotation(const nlohmann::json& body, const catalog::ImageRecord& image,
                                 const catalog::AnnotationState* base = nullptr);

// True for the errors parse_annotation marks unprocessable.
bool is_unprocessable(const Error& error);

// The API's JSON for an annotation (mask_rle / mask_png_base64 are added by the caller when asked for).
nlohmann::json annotation_json(const catalog::Annotation& annotation);
nlohmann::json edit_json(const catalog::AnnotationEdit& edit);
nlohmann::json object_json(const catalog::ObjectHit& object);
nlohmann::json lease_json(const catalog::Lease& lease);  // the token only when the lease carries one

// The mask of the bbox as COCO uncompressed RLE (column-major, first run of 0s), from its 8-bit PNG.
nlohmann::json mask_png_to_rle(const std::string& png);

// An RGBA colour from "#rrggbb", "rrggbb", "#rrggbbaa" or "rrggbbaa"; Error{invalid_argument} naming
// `field` otherwise.
std::array<std::uint8_t, 4> parse_rgba(const std::string& text, const std::string& field, std::uint8_t alpha = 255);

inline constexpr double kDefaultLeaseSeconds = 300;

// The annotation use cases the CLI, the server and assisted annotation share, over one workspace: JSON
// validation, masks in the blob store (before the catalog record that names them, so a crash leaves no
// record without its mask), the catalog's versioned writes, journal and undo, image leases and viewport
// queries. Thread-safe.
class Annotations {
 public:
  explicit Annotations(Workspace& workspace);

  // Creates from a JSON body; Error as parse_annotation.
  catalog::EditResult create(const catalog::ImageRecord& image, const catalog::Actor& actor,
                             const nlohmann::json& body);
  // Creates from a draft (assisted annotation builds drafts directly).
  catalog::EditResult create(const catalog::ImageRecord& image, const catalog::Actor& actor,
                             const AnnotationDraft& draft);
  // Applies a partial update based on version if_match: stale when the annotation is at another version.
  catalog::EditResult update(catalog::Id id, const catalog::Actor& actor, std::int64_t if_match,
                             const nlohmann::json& patch);
  // The same on an annotation and its image the caller has just read (the server reads them to check access),
  // sparing two reads.
  catalog::EditResult update(const catalog::Annotation& current, const catalog::ImageRecord& image,
                             const catalog::Actor& actor, std::int64_t if_match, const nlohmann::json& patch);
  catalog::EditResult remove(catalog::Id id, const catalog::Actor& actor, std::int64_t if_match);
  catalog::EditResult undo(catalog::Id id, const catalog::Actor& actor, std::optional<std::int64_t> if_match);
  catalog::EditResult undo_in_image(catalog::Id image_id, const catalog::Actor& actor);

  catalog::Annotation get(catalog::Id id);  // Error{not_found}
  std::vector<catalog::AnnotationEdit> history(catalog::Id id);
  catalog::AnnotationPage in_viewport(const catalog::ViewportQuery& query);
  catalog::ObjectPage objects_in_viewport(const catalog::ViewportQuery& query);

  // The stored 8-bit mask PNG of a mask annotation; Error{invalid_argument} for other kinds.
  std::string mask_png(const catalog::Annotation& annotation);
  // An RGBA PNG of the annotation's bbox: its pixels (masks; polygons and boxes filled; lines, points and
  // skeletons drawn) in `color`, transparent elsewhere.
  std::string overlay_png(const catalog::Annotation& annotation, const std::array<std::uint8_t, 4>& color);

  // Image leases (see catalog::LockStore): locking coordinates annotators; it is not needed to write.
  catalog::LockResult acquire_lock(catalog::Id image_id, const catalog::Actor& actor,
                                   double ttl_seconds = kDefaultLeaseSeconds);
  catalog::LockResult renew_lock(catalog::Id image_id, const catalog::Actor& actor, const std::string& token,
                                 double ttl_seconds = kDefaultLeaseSeconds);
  catalog::LockResult release_lock(catalog::Id image_id, const catalog::Actor& actor, const std::string& token);
  std::optional<catalog::Lease> find_lock(catalog::Id image_id);

 private:
  Workspace& workspace_;
  catalog::AnnotationStore store_;
  catalog::LockStore locks_;
};

}  // namespace tessera::app
