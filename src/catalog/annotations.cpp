#include "tessera/catalog/annotations.hpp"

#include <fmt/format.h>

#include "catalog/access.hpp"
#include "catalog/annotations_internal.hpp"
#include "catalog/annotations_rows.hpp"
#include "catalog/sql_util.hpp"
#include "tessera/core/clock.hpp"
#include "tessera/core/error.hpp"

namespace tessera::catalog {
namespace {

Error no_annotation(Id id) { return Error(ErrorCode::not_found, fmt::format("no annotation with id {}", id)); }

EditResult stale(Annotation current) { return {EditStatus::stale, std::move(current), std::nullopt, std::nullopt}; }

// The current annotation, locked for this transaction, and the lease refusing the actor's write (if any).
struct Target {
  Annotation current;
  std::optional<Lease> lease;
};

Target lock_target(Connection& db, Id id, const Actor& actor, const std::string& now) {
  std::optional<Annotation> current = select_annotation(db, id, true);
  if (!current) throw no_annotation(id);
  std::optional<Lease> lease = blocking_lease(db, current->image_id, actor, now);
  return {std::move(*current), std::move(lease)};
}

}  // namespace

EditResult AnnotationStore::create(Id image_id, const Actor& actor, const AnnotationState& state) {
  check_name("actor", actor.name);
  return CatalogAccess::write_concurrently(catalog_, [&](Connection& db) -> EditResult {
    Rows image = db.query("SELECT project_id FROM images WHERE id = ?", {image_id});
    if (image.empty()) throw Error(ErrorCode::not_found, fmt::format("no image with id {}", image_id));
    const Id project_id = image.i64(0, 0);
    const std::string now = utc_now_iso();
    if (auto lease = blocking_lease(db, image_id, actor, now)) {
      return {EditStatus::locked, std::nullopt, std::move(lease), std::nullopt};
    }
    check_tag_in_project(db, project_id, state.tag_id);
    const char* j = json_param(db.dialect());
    const auto& s = state;
    const Id id =
        db.query(
              fmt::format("INSERT INTO annotations (image_id, frame_index, tag_id, kind, geometry, mask_blob, bbox_x0, "
                          "bbox_y0, bbox_x1, bbox_y1, color, author_id, source, source_ref, confidence, needs_review, "
                          "version, created_at, updated_at, deleted, attributes) "
                          "VALUES (?, ?, ?, ?, {}, ?, ?, ?, ?, ?, ?, ?, ?, {}, ?, ?, 1, ?, ?, 0, {}) RETURNING id",
                          j, j, j),
              {image_id, s.frame_index, opt(s.tag_id), s.kind,
               s.geometry.is_null() ? SqlValue(nullptr) : SqlValue(s.geometry.dump()), opt(s.mask_blob), s.bbox.x0,
               s.bbox.y0, s.bbox.x1, s.bbox.y1, opt(s.color), opt(actor.user_id), s.source,
               s.source_ref.is_null() ? SqlValue(nullptr) : SqlValue(s.source_ref.dump()), opt(s.confidence),
               std::int64_t{s.needs_review ? 1 : 0}, now, now, s.attributes.dump()})
            .i64(0, 0);
    Annotation created;
    created.id = id;
    created.image_id = image_id;
    created.project_id = project_id;
    created.state = state;
    created.author_id = actor.user_id;
    // The author's name as the select would join it from users (local actors have no user row).
    if (actor.user_id) created.author = actor.name;
    created.version = 1;
    created.created_at = now;
    created.updated_at = now;
    // Undoing a create deletes: its "before" is the deleted state.
    nlohmann::json after = state_to_json(created.state);
    after["deleted"] = false;
    const nlohmann::json diff = {{"before", {{"deleted", true}}}, {"after", after}};
    const Id edit = add_journal_entry(db, id, actor, now, "create", std::nullopt, created.version, diff);
    add_annotation_event(db, created, "annotation.created", actor, now);
    return {EditStatus::applied, std::move(created), std::nullopt, edit};
  });
}

EditResult AnnotationStore::update(Id id, const Actor& actor, std::int64_t expected_version,
                                   const std::function<void(AnnotationState&)>& change) {
  check_name("actor", actor.name);
  return CatalogAccess::write_concurrently(catalog_, [&](Connection& db) -> EditResult {
    const std::string now = utc_now_iso();
    Target target = lock_target(db, id, actor, now);
    Annotation& current = target.current;
    if (target.lease) return {EditStatus::locked, std::move(current), std::move(target.lease), std::nullopt};
    if (current.version != expected_version) return stale(std::move(current));
    if (current.deleted) {
      throw Error(ErrorCode::conflict, fmt::format("annotation {} is deleted; undo restores it", id),
                  {{"reason", "deleted"}, {"current_version", current.version}});
    }
    AnnotationState next = current.state;
    change(next);
    if (next.tag_id != current.state.tag_id) check_tag_in_project(db, current.project_id, next.tag_id);
    const nlohmann::json diff = state_diff(current.state, false, next, false);
    if (diff["after"].empty()) return {EditStatus::applied, std::move(current), std::nullopt, std::nullopt};
    write_annotation_row(db, id, next, false, now);
    Annotation updated = after_write(current, next, false, now);
    const Id edit = add_journal_entry(db, id, actor, now, "update", current.version, updated.version, diff);
    add_annotation_event(db, updated, "annotation.updated", actor, now);
    return {EditStatus::applied, std::move(updated), std::nullopt, edit};
  });
}

EditResult AnnotationStore::remove(Id id, const Actor& actor, std::int64_t expected_version) {
  check_name("actor", actor.name);
  return CatalogAccess::write_concurrently(catalog_, [&](Connection& db) -> EditResult {
    const std::string now = utc_now_iso();
    Target target = lock_target(db, id, actor, now);
    Annotation& current = target.current;
    if (current.deleted) throw no_annotation(id);
    if (target.lease) return {EditStatus::locked, std::move(current), std::move(target.lease), std::nullopt};
    if (current.version != expected_version) return stale(std::move(current));
    write_annotation_row(db, id, current.state, true, now);
    Annotation deleted = after_write(current, current.state, true, now);
    const Id edit = add_journal_entry(db, id, actor, now, "delete", current.version, deleted.version,
                                      state_diff(current.state, false, current.state, true));
    add_annotation_event(db, deleted, "annotation.deleted", actor, now);
    return {EditStatus::applied, std::move(deleted), std::nullopt, edit};
  });
}

std::optional<Annotation> AnnotationStore::find(Id id) {
  return CatalogAccess::read(catalog_, [&](Connection& db) { return select_annotation(db, id, false); });
}

Annotation AnnotationStore::get(Id id) {
  std::optional<Annotation> found = find(id);
  if (!found) throw no_annotation(id);
  return std::move(*found);
}

}  // namespace tessera::catalog
