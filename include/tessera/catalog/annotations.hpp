#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tessera/catalog/catalog.hpp"
#include "tessera/catalog/locks.hpp"

namespace tessera::catalog {

// A box in image pixel coordinates, half-open: [x0, x1) x [y0, y1).
struct BBox {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool operator==(const BBox&) const = default;
};

// What an annotation says: everything a create sets and an update may change. The catalog stores it as
// given; app/annotations.hpp validates it (geometry per kind, bbox, mask size, colour, ranges).
struct AnnotationState {
  std::int64_t frame_index = 0;
  std::optional<Id> tag_id;              // a tag of the image's project (checked on write: Error{invalid_argument})
  std::string kind;                      // mask | polygon | box | point | polyline | skeleton | scribble
  nlohmann::json geometry;               // JSON geometry in image pixels; null for masks
  std::optional<std::string> mask_blob;  // masks: blob hash of the 8-bit PNG (0/255) cropped to bbox
  BBox bbox;
  std::optional<std::string> color;  // "#rrggbb"
  std::string source = "manual";     // manual | generated | propagated | suggested | imported
  nlohmann::json source_ref;         // where a generated annotation came from; null when none
  std::optional<double> confidence;
  bool needs_review = false;
  nlohmann::json attributes = nlohmann::json::object();  // free-form, e.g. counters, notes, track ids
};

// The state as a JSON object with one member per field (bbox as [x0, y0, x1, y1]); the journal's diffs
// and undo are written in these names.
nlohmann::json state_to_json(const AnnotationState& state);
// [x0, y0, x1, y1], whole numbers as JSON integers.
nlohmann::json bbox_json(const BBox& bbox);
// Sets the fields present in `fields` (other fields keep their values). Error{corrupt} on a bad value.
void apply_state_fields(AnnotationState& state, const nlohmann::json& fields);

struct Annotation {
  Id id = 0;
  Id image_id = 0;
  Id project_id = 0;
  AnnotationState state;
  std::optional<Id> author_id;        // who created it
  std::optional<std::string> author;  // their user name
  std::int64_t version = 1;           // +1 on every change, undo included
  std::string created_at;
  std::string updated_at;
  bool deleted = false;  // deletes are soft so that undo can restore them
};

// One entry of the edit journal: who changed what, when, from which version to which.
struct AnnotationEdit {
  Id id = 0;
  Id annotation_id = 0;
  std::optional<Id> user_id;
  std::string user;  // the actor's name at the time
  std::string at;
  std::string action;  // create | update | delete | undo
  std::optional<std::int64_t> before_version;
  std::int64_t after_version = 0;
  // {"before": {field: value, ...}, "after": {...}} over the fields that changed (state_to_json names plus
  // "deleted"); an undo adds "undoes": the id of the edit it reverted.
  nlohmann::json diff = nlohmann::json::object();
  std::optional<Id> undoes_edit_id;
  bool undone = false;  // a later undo reverted this edit
};

enum class EditStatus {
  applied,  // the change is stored: `annotation` is the new state
  stale,    // the annotation changed since the expected version: `annotation` is the current state
  locked,   // someone else holds a lease on the image: `lease` says who and until when
};

struct EditResult {
  EditStatus status = EditStatus::applied;
  std::optional<Annotation> annotation;  // applied: new state; stale/locked: the current one (if any)
  std::optional<Lease> lease;            // locked: the blocking lease (without its token)
  std::optional<Id> edit_id;             // applied: the journal entry
};

// A viewport query: the annotations (or objects) of one image whose box meets `bbox`.
struct ViewportQuery {
  Id image_id = 0;
  std::optional<BBox> bbox;  // none: the whole image
  std::optional<std::int64_t> frame_index;
  std::optional<Id> tag_id;
  std::int64_t limit = 1000;  // at most this many; `truncated` says whether more matched
};

struct AnnotationPage {
  std::vector<Annotation> annotations;  // by id
  bool truncated = false;
};

// An object (a measured region) as a viewport returns it.
struct ObjectHit {
  Id id = 0;
  Id image_id = 0;
  std::int64_t frame_index = 0;
  std::int64_t label = 0;
  std::int64_t bbox_x0 = 0, bbox_y0 = 0, bbox_x1 = 0, bbox_y1 = 0;
  std::optional<Id> tag_id;
  std::optional<Id> parent_id;
  std::optional<std::string> mask_blob;
  nlohmann::json features = nlohmann::json::object();
};

struct ObjectPage {
  std::vector<ObjectHit> objects;  // by id
  bool truncated = false;
};

// Annotations, their edit journal and undo, and viewport queries over the spatial index of annotations
// and objects (SQLite R*Tree, PostgreSQL GiST; migration 0003).
//
// Every write is one transaction holding the change, its journal entry and its activity event
// (annotation.created | annotation.updated | annotation.deleted | annotation.restored), so nothing is lost
// by a crash and there is no separate save. A write is refused with EditStatus::locked when another actor
// holds an unexpired lease on the image (LockStore), and with EditStatus::stale when the annotation's
// version is not the one the caller based the change on. Thread-safe.
class AnnotationStore {
 public:
  explicit AnnotationStore(Catalog& catalog) : catalog_(catalog) {}

  // Error{not_found} for an unknown image, Error{invalid_argument} for a tag of another project.
  EditResult create(Id image_id, const Actor& actor, const AnnotationState& state);
  // Applies `change` to the stored state inside the transaction, when the stored version is
  // expected_version. `change` must only assign fields: it runs under the catalog's lock.
  EditResult update(Id id, const Actor& actor, std::int64_t expected_version,
                    const std::function<void(AnnotationState&)>& change);
  // Soft delete (a new version with deleted = true). Deleting a deleted annotation is Error{not_found}.
  EditResult remove(Id id, const Actor& actor, std::int64_t expected_version);

  // Reverts the actor's most recent change to this annotation that no undo has reverted yet, as a new
  // version (journal action "undo"). Stale when another actor changed the annotation after that edit, or
  // when expected_version is given and differs. Error{conflict} (details.reason "nothing_to_undo") when
  // the actor has no such change.
  EditResult undo(Id id, const Actor& actor, std::optional<std::int64_t> expected_version = std::nullopt);
  // The same for the actor's most recent change to any annotation of the image.
  EditResult undo_in_image(Id image_id, const Actor& actor);

  std::optional<Annotation> find(Id id);                                  // deleted ones too
  Annotation get(Id id);                                                  // Error{not_found}
  std::vector<AnnotationEdit> history(Id id, std::int64_t limit = 1000);  // oldest first

  // Non-deleted annotations of an image meeting the viewport (spatial index).
  AnnotationPage in_viewport(const ViewportQuery& query);
  // Objects of an image meeting the viewport (spatial index).
  ObjectPage objects_in_viewport(const ViewportQuery& query);
  // The same answer as objects_in_viewport through the (image, frame) b-tree index and a filter on the
  // box columns, without the spatial index: the benchmark's anchor.
  ObjectPage objects_in_viewport_by_scan(const ViewportQuery& query);

 private:
  Catalog& catalog_;
};

}  // namespace tessera::catalog
