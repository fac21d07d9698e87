#pragma once

// Reading and writing annotation rows, journal entries and their events: shared by annotations.cpp
// (create, update, delete), annotations_undo.cpp and spatial_viewport.cpp. Private to the catalog layer.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "catalog/db.hpp"
#include "tessera/catalog/annotations.hpp"

namespace tessera::catalog {

// SELECT list and FROM clause of an annotation with its project and author name; the annotation is `a`.
extern const char* const kAnnotationSelect;
Annotation annotation_from(const Rows& r, size_t row);

// The annotation (deleted or not); with lock_row, locked for the rest of the transaction on PostgreSQL.
std::optional<Annotation> select_annotation(Connection& db, Id id, bool lock_row);

// Error{invalid_argument} unless tag_id (when set) is a tag of project_id.
void check_tag_in_project(Connection& db, Id project_id, const std::optional<Id>& tag_id);

// The annotation as write_annotation_row leaves it: built here rather than read back, which on PostgreSQL
// would plan the three-table select once more per write.
Annotation after_write(const Annotation& current, const AnnotationState& state, bool deleted, const std::string& now);

// Writes the state, deleted flag, version + 1 and updated_at of an existing annotation.
void write_annotation_row(Connection& db, Id id, const AnnotationState& state, bool deleted, const std::string& now);

// {"before": {...}, "after": {...}} over the fields (state_to_json names and "deleted") that differ.
nlohmann::json state_diff(const AnnotationState& before, bool before_deleted, const AnnotationState& after,
                          bool after_deleted);

// Appends a journal entry; returns its id.
Id add_journal_entry(Connection& db, Id annotation_id, const Actor& actor, const std::string& now,
                     const std::string& action, std::optional<std::int64_t> before_version, std::int64_t after_version,
                     const nlohmann::json& diff, std::optional<Id> undoes_edit_id = std::nullopt);

// Adds the activity event of an annotation change (kind "annotation.created", ...).
void add_annotation_event(Connection& db, const Annotation& annotation, const std::string& kind, const Actor& actor,
                          const std::string& now, nlohmann::json extra = nlohmann::json::object());

}  // namespace tessera::catalog
