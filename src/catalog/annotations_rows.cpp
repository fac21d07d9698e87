#include "catalog/annotations_rows.hpp"

#include <fmt/format.h>

#include <cmath>

#include "catalog/annotations_internal.hpp"
#include "catalog/sql_util.hpp"
#include "tessera/core/error.hpp"

namespace tessera::catalog {
namespace {

// A JSON column that may be NULL (geometry, source_ref): NULL stays null, unlike parse_json's {}.
nlohmann::json nullable_json(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  return parse_json(text);
}

SqlValue json_or_null(const nlohmann::json& value) {
  return value.is_null() ? SqlValue(nullptr) : SqlValue(value.dump());
}


template <typename T>
std::optional<T> optional_field(const nlohmann::json& value) {
  if (value.is_null()) return std::nullopt;
  return value.get<T>();
}

}  // namespace

nlohmann::json bbox_json(const BBox& b) {
  // Whole pixels print as integers ([10, 20, 31, 41], not [10.0, ...]): what clients sent and expect back.
  auto number = [](double v) {
    return std::floor(v) == v && std::abs(v) < 9.0e15 ? nlohmann::json(static_cast<std::int64_t>(v))
                                                      : nlohmann::json(v);
  };
  return {number(b.x0), number(b.y0), number(b.x1), number(b.y1)};
}

const char* const kAnnotationSelect =
    "SELECT a.id, a.image_id, i.project_id, a.frame_index, a.tag_id, a.kind, a.geometry, a.mask_blob, a.bbox_x0, "
    "a.bbox_y0, a.bbox_x1, a.bbox_y1, a.color, a.author_id, u.name, a.source, a.source_ref, a.confidence, "
    "a.needs_review, a.version, a.created_at, a.updated_at, a.deleted, a.attributes "
    "FROM annotations a JOIN images i ON i.id = a.image_id LEFT JOIN users u ON u.id = a.author_id";

Annotation annotation_from(const Rows& r, size_t row) {
  Annotation a;
  a.id = r.i64(row, 0);
  a.image_id = r.i64(row, 1);
  a.project_id = r.i64(row, 2);
  AnnotationState& s = a.state;
  s.frame_index = r.i64(row, 3);
  s.tag_id = r.opt_i64(row, 4);
  s.kind = r.text(row, 5);
  s.geometry = nullable_json(r.opt_text(row, 6));
  s.mask_blob = r.opt_text(row, 7);
  s.bbox = {r.opt_f64(row, 8).value_or(0), r.opt_f64(row, 9).value_or(0), r.opt_f64(row, 10).value_or(0),
            r.opt_f64(row, 11).value_or(0)};
  s.color = r.opt_text(row, 12);
  a.author_id = r.opt_i64(row, 13);
  a.author = r.opt_text(row, 14);
  s.source = r.text(row, 15);
  s.source_ref = nullable_json(r.opt_text(row, 16));
  s.confidence = r.opt_f64(row, 17);
  s.needs_review = r.i64(row, 18) != 0;
  a.version = r.i64(row, 19);
  a.created_at = r.text(row, 20);
  a.updated_at = r.text(row, 21);
  a.deleted = r.i64(row, 22) != 0;
  s.attributes = parse_json(r.opt_text(row, 23));
  return a;
}

std::optional<Annotation> select_annotation(Connection& db, Id id, bool lock_row) {
  const std::string sql = fmt::format("{} WHERE a.id = ?{}", kAnnotationSelect,
                                      lock_row && db.dialect() == Dialect::postgresql ? " FOR UPDATE OF a" : "");
  Rows r = db.query(sql, {id});
  if (r.empty()) return std::nullopt;
  return annotation_from(r, 0);
}

void check_tag_in_project(Connection& db, Id project_id, const std::optional<Id>& tag_id) {
  if (!tag_id) return;
  Rows r = db.query("SELECT 1 FROM tags WHERE id = ? AND project_id = ?", {*tag_id, project_id});
  if (r.empty()) {
    throw Error(ErrorCode::invalid_argument, fmt::format("'tag_id' {} is not a tag of this project", *tag_id),
                {{"field", "tag_id"}});
  }
}

nlohmann::json state_to_json(const AnnotationState& s) {
  return {{"frame_index", s.frame_index},
          {"tag_id", or_null(s.tag_id)},
          {"kind", s.kind},
          {"geometry", s.geometry},
          {"mask_blob", or_null(s.mask_blob)},
          {"bbox", bbox_json(s.bbox)},
          {"color", or_null(s.color)},
          {"source", s.source},
          {"source_ref", s.source_ref},
          {"confidence", or_null(s.confidence)},
          {"needs_review", s.needs_review},
          {"attributes", s.attributes}};
}

void apply_state_fields(AnnotationState& s, const nlohmann::json& fields) {
  try {
    for (const auto& [name, value] : fields.items()) {
      if (name == "frame_index")
        s.frame_index = value.get<std::int64_t>();
      else if (name == "tag_id")
        s.tag_id = optional_field<Id>(value);
      else if (name == "kind")
        s.kind = value.get<std::string>();
      else if (name == "geometry")
        s.geometry = value;
      else if (name == "mask_blob")
        s.mask_blob = optional_field<std::string>(value);
      else if (name == "bbox")
        s.bbox = {value.at(0).get<double>(), value.at(1).get<double>(), value.at(2).get<double>(),
                  value.at(3).get<double>()};
      else if (name == "color")
        s.color = optional_field<std::string>(value);
      else if (name == "source")
        s.source = value.get<std::string>();
      else if (name == "source_ref")
        s.source_ref = value;
      else if (name == "confidence")
        s.confidence = optional_field<double>(value);
      else if (name == "needs_review")
        s.needs_review = value.get<bool>();
      else if (name == "attributes")
        s.attributes = value;
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::corrupt, fmt::format("annotation journal holds a malformed field: {}", e.what()));
  }
}

void write_annotation_row(Connection& db, Id id, const AnnotationState& s, bool deleted, const std::string& now) {
  const char* j = json_param(db.dialect());
  db.execute(fmt::format("UPDATE annotations SET frame_index = ?, tag_id = ?, kind = ?, geometry = {}, mask_blob = ?, "
                         "bbox_x0 = ?, bbox_y0 = ?, bbox_x1 = ?, bbox_y1 = ?, color = ?, source = ?, source_ref = {}, "
                         "confidence = ?, needs_review = ?, attributes = {}, deleted = ?, version = version + 1, "
                         "updated_at = ? WHERE id = ?",
                         j, j, j),
             {s.frame_index, opt(s.tag_id), s.kind, json_or_null(s.geometry), opt(s.mask_blob), s.bbox.x0, s.bbox.y0,
              s.bbox.x1, s.bbox.y1, opt(s.color), s.source, json_or_null(s.source_ref), opt(s.confidence),
              std::int64_t{s.needs_review ? 1 : 0}, s.attributes.dump(), std::int64_t{deleted ? 1 : 0}, now, id});
}

Annotation after_write(const Annotation& current, const AnnotationState& state, bool deleted, const std::string& now) {
  Annotation after = current;
  after.state = state;
  after.deleted = deleted;
  after.version = current.version + 1;
  after.updated_at = now;
  return after;
}

nlohmann::json state_diff(const AnnotationState& before, bool before_deleted, const AnnotationState& after,
                          bool after_deleted) {
  nlohmann::json b = state_to_json(before);
  nlohmann::json a = state_to_json(after);
  nlohmann::json diff = {{"before", nlohmann::json::object()}, {"after", nlohmann::json::object()}};
  for (const auto& [name, value] : a.items()) {
    if (b[name] == value) continue;
    diff["before"][name] = b[name];
    diff["after"][name] = value;
  }
  if (before_deleted != after_deleted) {
    diff["before"]["deleted"] = before_deleted;
    diff["after"]["deleted"] = after_deleted;
  }
  return diff;
}

Id add_journal_entry(Connection& db, Id annotation_id, const Actor& actor, const std::string& now,
                     const std::string& action, std::optional<std::int64_t> before_version, std::int64_t after_version,
                     const nlohmann::json& diff, std::optional<Id> undoes_edit_id) {
  return db
      .query(fmt::format("INSERT INTO annotation_edits (annotation_id, user_id, actor, at, action, before_version, "
                         "after_version, diff, undoes_edit_id) VALUES (?, ?, ?, ?, ?, ?, ?, {}, ?) RETURNING id",
                         json_param(db.dialect())),
             {annotation_id, opt(actor.user_id), actor.name, now, action, opt(before_version), after_version,
              diff.dump(), opt(undoes_edit_id)})
      .i64(0, 0);
}

void add_annotation_event(Connection& db, const Annotation& annotation, const std::string& kind, const Actor& actor,
                          const std::string& now, nlohmann::json extra) {
  nlohmann::json payload = {{"annotation_id", annotation.id},
                            {"image_id", annotation.image_id},
                            {"frame_index", annotation.state.frame_index},
                            {"kind", annotation.state.kind},
                            {"tag_id", or_null(annotation.state.tag_id)},
                            {"version", annotation.version}};
  payload.update(extra);
  order_event_ids(db);
  db.execute(fmt::format("INSERT INTO events (project_id, at, kind, actor, subject_type, subject_id, payload) "
                         "VALUES (?, ?, ?, ?, 'annotation', ?, {})",
                         json_param(db.dialect())),
             {annotation.project_id, now, kind, actor.name, annotation.id, payload.dump()});
}

}  // namespace tessera::catalog
