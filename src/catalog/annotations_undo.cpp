// Undo and the edit journal. An undo never rewrites history: it applies the "before" values of the edit
// it reverts as a new version, journaled as action "undo" naming that edit (undoes_edit_id), so a second
// undo finds the change before it, and the journal always tells how the current state came about.

#include <fmt/format.h>

#include "catalog/access.hpp"
#include "catalog/annotations_internal.hpp"
#include "catalog/annotations_rows.hpp"
#include "catalog/sql_util.hpp"
#include "tessera/catalog/annotations.hpp"
#include "tessera/core/clock.hpp"
#include "tessera/core/error.hpp"

namespace tessera::catalog {
namespace {

// SQL condition (on journal alias e) for "made by actor", and its parameters.
std::string by_actor(const Actor& actor, SqlParams& params) {
  if (actor.user_id) {
    params.emplace_back(*actor.user_id);
    return "e.user_id = ?";
  }
  params.emplace_back(actor.name);
  return "e.user_id IS NULL AND e.actor = ?";
}

// The opposite of by_actor, NULL-safe: edits of other users and of other (or unnamed) local actors.
std::string by_someone_else(const Actor& actor, SqlParams& params) {
  if (actor.user_id) {
    params.emplace_back(*actor.user_id);
    return "(e.user_id IS NULL OR e.user_id <> ?)";
  }
  params.emplace_back(actor.name);
  return "(e.user_id IS NOT NULL OR e.actor IS NULL OR e.actor <> ?)";
}

constexpr const char* kNotUndone =
    "e.action <> 'undo' AND NOT EXISTS (SELECT 1 FROM annotation_edits r WHERE r.undoes_edit_id = e.id)";

struct UndoTarget {
  Id edit_id = 0;
  Id annotation_id = 0;
  nlohmann::json before;  // the values the edit replaced
};

std::optional<UndoTarget> last_undoable(Connection& db, const std::string& scope_sql, Id scope_id, const Actor& actor) {
  SqlParams params{scope_id};
  const std::string who = by_actor(actor, params);
  Rows r = db.query(fmt::format("SELECT e.id, e.annotation_id, e.diff FROM annotation_edits e {} AND {} AND {} "
                                "ORDER BY e.id DESC LIMIT 1",
                                scope_sql, who, kNotUndone),
                    params);
  if (r.empty()) return std::nullopt;
  nlohmann::json diff = parse_json(r.opt_text(0, 2));
  return UndoTarget{r.i64(0, 0), r.i64(0, 1), diff.value("before", nlohmann::json::object())};
}

Error nothing_to_undo(const std::string& where, const Actor& actor) {
  return Error(ErrorCode::conflict, fmt::format("'{}' has no change to undo on {}", actor.name, where),
               {{"reason", "nothing_to_undo"}});
}

// Reverts one edit on its annotation (already locked by the caller's transaction).
EditResult revert(Connection& db, const UndoTarget& target, const Actor& actor,
                  std::optional<std::int64_t> expected_version) {
  const std::string now = utc_now_iso();
  std::optional<Annotation> current = select_annotation(db, target.annotation_id, true);
  if (!current) throw Error(ErrorCode::not_found, fmt::format("no annotation with id {}", target.annotation_id));
  if (auto lease = blocking_lease(db, current->image_id, actor, now)) {
    return {EditStatus::locked, std::move(current), std::move(lease), std::nullopt};
  }
  if (expected_version && *expected_version != current->version) {
    return {EditStatus::stale, std::move(current), std::nullopt, std::nullopt};
  }
  // Someone else's later change was made on top of this edit: reverting it would silently discard or
  // mangle theirs, so the caller must look first.
  SqlParams params{target.annotation_id, target.edit_id};
  const std::string others_sql = by_someone_else(actor, params);
  Rows others = db.query(
      fmt::format("SELECT COUNT(*) FROM annotation_edits e WHERE e.annotation_id = ? AND e.id > ? AND {}", others_sql),
      params);
  if (others.i64(0, 0) > 0) return {EditStatus::stale, std::move(current), std::nullopt, std::nullopt};

  AnnotationState restored = current->state;
  apply_state_fields(restored, target.before);
  const bool deleted = target.before.contains("deleted") ? target.before["deleted"].get<bool>() : current->deleted;
  if (restored.tag_id != current->state.tag_id) check_tag_in_project(db, current->project_id, restored.tag_id);
  nlohmann::json diff = state_diff(current->state, current->deleted, restored, deleted);
  diff["undoes"] = target.edit_id;
  write_annotation_row(db, current->id, restored, deleted, now);
  Annotation after = after_write(*current, restored, deleted, now);
  const Id edit =
      add_journal_entry(db, after.id, actor, now, "undo", current->version, after.version, diff, target.edit_id);
  const char* kind = deleted == current->deleted ? "annotation.updated"
                     : deleted                   ? "annotation.deleted"
                                                 : "annotation.restored";
  add_annotation_event(db, after, kind, actor, now, {{"undo", true}, {"undoes_edit", target.edit_id}});
  return {EditStatus::applied, std::move(after), std::nullopt, edit};
}

}  // namespace

EditResult AnnotationStore::undo(Id id, const Actor& actor, std::optional<std::int64_t> expected_version) {
  check_name("actor", actor.name);
  return CatalogAccess::write(catalog_, [&](Connection& db) -> EditResult {
    // Lock the annotation first so that the edit chosen is still the last one when it is reverted.
    if (!select_annotation(db, id, true))
      throw Error(ErrorCode::not_found, fmt::format("no annotation with id {}", id));
    std::optional<UndoTarget> target = last_undoable(db, "WHERE e.annotation_id = ?", id, actor);
    if (!target) throw nothing_to_undo(fmt::format("annotation {}", id), actor);
    return revert(db, *target, actor, expected_version);
  });
}

EditResult AnnotationStore::undo_in_image(Id image_id, const Actor& actor) {
  check_name("actor", actor.name);
  return CatalogAccess::write(catalog_, [&](Connection& db) -> EditResult {
    Rows image = db.query("SELECT id FROM images WHERE id = ?", {image_id});
    if (image.empty()) throw Error(ErrorCode::not_found, fmt::format("no image with id {}", image_id));
    std::optional<UndoTarget> target =
        last_undoable(db, "JOIN annotations ea ON ea.id = e.annotation_id WHERE ea.image_id = ?", image_id, actor);
    if (!target) throw nothing_to_undo(fmt::format("image {}", image_id), actor);
    return revert(db, *target, actor, std::nullopt);
  });
}

std::vector<AnnotationEdit> AnnotationStore::history(Id id, std::int64_t limit) {
  return CatalogAccess::read(catalog_, [&](Connection& db) {
    if (db.query("SELECT 1 FROM annotations WHERE id = ?", {id}).empty()) {
      throw Error(ErrorCode::not_found, fmt::format("no annotation with id {}", id));
    }
    Rows r = db.query(
        "SELECT e.id, e.annotation_id, e.user_id, COALESCE(e.actor, u.name, ''), e.at, e.action, "
        "e.before_version, e.after_version, e.diff, e.undoes_edit_id, "
        "EXISTS (SELECT 1 FROM annotation_edits r WHERE r.undoes_edit_id = e.id) "
        "FROM annotation_edits e LEFT JOIN users u ON u.id = e.user_id "
        "WHERE e.annotation_id = ? ORDER BY e.id LIMIT ?",
        {id, limit});
    std::vector<AnnotationEdit> out;
    out.reserve(r.size());
    for (size_t i = 0; i < r.size(); ++i) {
      AnnotationEdit edit;
      edit.id = r.i64(i, 0);
      edit.annotation_id = r.i64(i, 1);
      edit.user_id = r.opt_i64(i, 2);
      edit.user = r.text(i, 3);
      edit.at = r.text(i, 4);
      edit.action = r.text(i, 5);
      edit.before_version = r.opt_i64(i, 6);
      edit.after_version = r.i64(i, 7);
      edit.diff = parse_json(r.opt_text(i, 8));
      edit.undoes_edit_id = r.opt_i64(i, 9);
      const std::string undone = r.text(i, 10);  // SQLite: 0/1; PostgreSQL: f/t
      edit.undone = undone == "1" || undone == "t" || undone == "true";
      out.push_back(std::move(edit));
    }
    return out;
  });
}

}  // namespace tessera::catalog
