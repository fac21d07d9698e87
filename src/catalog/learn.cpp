#include "tessera/catalog/learn.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "catalog/access.hpp"
#include "catalog/sql_util.hpp"
#include "tessera/core/clock.hpp"
#include "tessera/core/error.hpp"

namespace tessera::catalog {
namespace {

using json = nlohmann::json;

// Ids per IN (...) list: far below both backends' parameter limits.
constexpr std::size_t kChunk = 500;

constexpr const char* kModelSelect =
    "SELECT id, project_id, kind, name, blob_hash, provenance, created_at, round_id FROM models ";

constexpr const char* kRoundSelect =
    "SELECT r.id, r.project_id, r.set_id, s.name, r.number, r.round_set_id, rs.name, r.parameters, r.metrics, "
    "r.ranking, r.job_id, r.user_id, r.actor, r.created_at FROM learn_rounds r "
    "JOIN image_sets s ON s.id = r.set_id LEFT JOIN image_sets rs ON rs.id = r.round_set_id ";

std::vector<ModelRecord> select_models(Connection& db, const std::string& where, const SqlParams& params) {
  Rows r = db.query(kModelSelect + where, params);
  std::vector<ModelRecord> out;
  out.reserve(r.size());
  for (size_t i = 0; i < r.size(); ++i) {
    out.push_back({r.i64(i, 0), r.i64(i, 1), r.text(i, 2), r.text(i, 3), r.text(i, 4), parse_json(r.opt_text(i, 5)),
                   r.text(i, 6), r.opt_i64(i, 7)});
  }
  return out;
}

std::vector<RoundRecord> select_rounds(Connection& db, const std::string& where, const SqlParams& params) {
  Rows r = db.query(kRoundSelect + where, params);
  std::vector<RoundRecord> out;
  out.reserve(r.size());
  for (size_t i = 0; i < r.size(); ++i) {
    RoundRecord round;
    round.id = r.i64(i, 0);
    round.project_id = r.i64(i, 1);
    round.set_id = r.i64(i, 2);
    round.set_name = r.text(i, 3);
    round.number = r.i64(i, 4);
    round.round_set_id = r.opt_i64(i, 5);
    round.round_set_name = r.opt_text(i, 6);
    round.parameters = parse_json(r.opt_text(i, 7));
    round.metrics = parse_json(r.opt_text(i, 8));
    const std::optional<std::string> ranking = r.opt_text(i, 9);
    round.ranking = ranking && !ranking->empty() ? parse_json(ranking) : json::array();
    round.job_id = r.opt_i64(i, 10);
    round.user_id = r.opt_i64(i, 11);
    round.actor = r.text(i, 12);
    round.created_at = r.text(i, 13);
    out.push_back(std::move(round));
  }
  for (RoundRecord& round : out) {
    Rows models = db.query("SELECT id FROM models WHERE round_id = ? ORDER BY id", {round.id});
    for (size_t i = 0; i < models.size(); ++i) round.model_ids.push_back(models.i64(i, 0));
  }
  return out;
}


void check_new_model(const NewModel& model) {
  check_name("model", model.name);
  if (model.kind.empty()) throw Error(ErrorCode::invalid_argument, fmt::format("model '{}': kind is empty", model.name));
  if (model.blob_hash.empty())
    throw Error(ErrorCode::invalid_argument, fmt::format("model '{}': blob hash is empty", model.name));
}

Id insert_model(Connection& db, Id project_id, const NewModel& model, std::optional<Id> round_id,
                const std::string& now) {
  if (!db.query("SELECT id FROM models WHERE project_id = ? AND name = ?", {project_id, model.name}).empty()) {
    throw Error(ErrorCode::conflict, fmt::format("a model named '{}' already exists", model.name),
                {{"field", "name"}});
  }
  return db
      .query(fmt::format("INSERT INTO models (project_id, kind, name, blob_hash, provenance, created_at, round_id) "
                         "VALUES (?, ?, ?, ?, {}, ?, ?) RETURNING id",
                         json_param(db.dialect())),
             {project_id, model.kind, model.name, model.blob_hash, model.provenance.dump(), now, opt(round_id)})
      .i64(0, 0);
}

// The set's name and project, with the set row locked on PostgreSQL so that two rounds of one set take
// turns for their number (SQLite's write transactions are exclusive already).
std::pair<std::string, Id> lock_set(Connection& db, Id set_id) {
  const char* lock = db.dialect() == Dialect::postgresql ? " FOR UPDATE" : "";
  Rows r = db.query(fmt::format("SELECT name, project_id FROM image_sets WHERE id = ?{}", lock), {set_id});
  if (r.empty()) throw Error(ErrorCode::not_found, fmt::format("no set with id {}", set_id));
  return {r.text(0, 0), r.i64(0, 1)};
}

void check_project_images(Connection& db, Id project_id, const std::vector<Id>& ids) {
  for (std::size_t begin = 0; begin < ids.size(); begin += kChunk) {
    const std::size_t count = std::min(kChunk, ids.size() - begin);
    SqlParams params{project_id};
    params.insert(params.end(), ids.begin() + static_cast<std::ptrdiff_t>(begin),
                  ids.begin() + static_cast<std::ptrdiff_t>(begin + count));
    Rows r = db.query(
        fmt::format("SELECT id FROM images WHERE project_id = ? AND id IN ({})", placeholders(count)), params);
    std::set<Id> found;
    for (size_t i = 0; i < r.size(); ++i) found.insert(r.i64(i, 0));
    for (std::size_t k = begin; k < begin + count; ++k) {
      if (!found.count(ids[k]))
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("chosen image {} is not an image of project {}", ids[k], project_id));
    }
  }
}

}  // namespace

json to_json(const ModelRecord& model) {
  return {{"id", model.id},
          {"project_id", model.project_id},
          {"kind", model.kind},
          {"name", model.name},
          {"blob_hash", model.blob_hash},
          {"provenance", model.provenance},
          {"created_at", model.created_at},
          {"round_id", or_null(model.round_id)}};
}

json to_json(const RoundRecord& round) {
  return {{"id", round.id},
          {"project_id", round.project_id},
          {"set_id", round.set_id},
          {"set", round.set_name},
          {"number", round.number},
          {"round_set_id", or_null(round.round_set_id)},
          {"round_set", or_null(round.round_set_name)},
          {"parameters", round.parameters},
          {"metrics", round.metrics},
          {"ranking", round.ranking},
          {"model_ids", round.model_ids},
          {"job_id", or_null(round.job_id)},
          {"user_id", or_null(round.user_id)},
          {"actor", round.actor},
          {"created_at", round.created_at}};
}

ModelRecord LearnStore::add_model(Id project_id, const NewModel& model, const Actor& actor) {
  check_new_model(model);
  return CatalogAccess::write(catalog_, [&](Connection& db) {
    if (db.query("SELECT id FROM projects WHERE id = ?", {project_id}).empty())
      throw Error(ErrorCode::not_found, fmt::format("no project with id {}", project_id));
    const std::string now = utc_now_iso();
    const Id id = insert_model(db, project_id, model, std::nullopt, now);
    insert_event(db, project_id, now, "model.created", actor.name, "model", id, {{"name", model.name}, {"kind", model.kind}});
    return select_models(db, "WHERE id = ?", {id}).at(0);
  });
}

std::optional<ModelRecord> LearnStore::find_model(Id project_id, const std::string& name) {
  auto found = CatalogAccess::read(
      catalog_, [&](Connection& db) { return select_models(db, "WHERE project_id = ? AND name = ?", {project_id, name}); });
  if (found.empty()) return std::nullopt;
  return found.front();
}

ModelRecord LearnStore::get_model(Id model_id) {
  auto found = CatalogAccess::read(catalog_, [&](Connection& db) { return select_models(db, "WHERE id = ?", {model_id}); });
  if (found.empty()) throw Error(ErrorCode::not_found, fmt::format("no model with id {}", model_id));
  return found.front();
}

std::vector<ModelRecord> LearnStore::list_models(Id project_id) {
  return CatalogAccess::read(
      catalog_, [&](Connection& db) { return select_models(db, "WHERE project_id = ? ORDER BY id", {project_id}); });
}

RoundRecord LearnStore::record_round(Id project_id, const NewRound& round, const Actor& actor) {
  for (const NewModel& model : round.models) check_new_model(model);
  return CatalogAccess::write(catalog_, [&](Connection& db) {
    const auto [set_name, set_project] = lock_set(db, round.set_id);
    if (set_project != project_id)
      throw Error(ErrorCode::not_found, fmt::format("no set with id {} in project {}", round.set_id, project_id));
    check_project_images(db, project_id, round.chosen_images);
    const std::int64_t number =
        db.query("SELECT COALESCE(MAX(number), 0) FROM learn_rounds WHERE set_id = ?", {round.set_id}).i64(0, 0) + 1;
    const std::string prefix = fmt::format("{}-round-{}", set_name, number);
    check_name("set", prefix);
    const std::string now = utc_now_iso();

    if (!db.query("SELECT id FROM image_sets WHERE project_id = ? AND name = ?", {project_id, prefix}).empty())
      throw Error(ErrorCode::conflict, fmt::format("a set named '{}' already exists", prefix));
    const Id round_set_id =
        db.query("INSERT INTO image_sets (project_id, name, description, created_by, created_at) "
                 "VALUES (?, ?, ?, ?, ?) RETURNING id",
                 {project_id, prefix, fmt::format("images chosen by learning round {} of set '{}'", number, set_name),
                  opt(actor.user_id), now})
            .i64(0, 0);
    std::set<Id> members;
    for (Id image : round.chosen_images) {
      if (!members.insert(image).second) continue;
      db.execute("INSERT INTO image_set_members (set_id, image_id, added_at) VALUES (?, ?, ?)",
                 {round_set_id, image, now});
    }
    insert_event(db, project_id, now, "set.created", actor.name, "set", round_set_id, {{"name", prefix}, {"query", ""}});

    const Id round_id =
        db.query(fmt::format("INSERT INTO learn_rounds (project_id, set_id, number, round_set_id, parameters, metrics, "
                             "ranking, job_id, user_id, actor, created_at) VALUES (?, ?, ?, ?, {0}, {0}, {0}, ?, ?, ?, ?) "
                             "RETURNING id",
                             json_param(db.dialect())),
                 {project_id, round.set_id, number, round_set_id, round.parameters.dump(), round.metrics.dump(),
                  round.ranking.dump(), opt(round.job_id), opt(actor.user_id), actor.name, now})
            .i64(0, 0);
    for (const NewModel& model : round.models) {
      NewModel named = model;
      named.name = prefix + "-" + model.name;
      check_name("model", named.name);
      insert_model(db, project_id, named, round_id, now);
    }
    insert_event(db, project_id, now, "learn.round", actor.name, "learn_round", round_id,
              {{"set", set_name}, {"number", number}, {"round_set", prefix}, {"metrics", round.metrics}});
    return select_rounds(db, "WHERE r.id = ?", {round_id}).at(0);
  });
}

std::vector<RoundRecord> LearnStore::list_rounds(Id set_id) {
  return CatalogAccess::read(
      catalog_, [&](Connection& db) { return select_rounds(db, "WHERE r.set_id = ? ORDER BY r.number", {set_id}); });
}

std::optional<RoundRecord> LearnStore::find_round(Id round_id) {
  auto found =
      CatalogAccess::read(catalog_, [&](Connection& db) { return select_rounds(db, "WHERE r.id = ?", {round_id}); });
  if (found.empty()) return std::nullopt;
  return found.front();
}

RoundRecord LearnStore::get_round(Id round_id) {
  if (auto round = find_round(round_id)) return *round;
  throw Error(ErrorCode::not_found, fmt::format("no learning round with id {}", round_id));
}

std::optional<ImageSet> LearnStore::find_set(Id set_id) {
  return CatalogAccess::read(catalog_, [&](Connection& db) -> std::optional<ImageSet> {
    Rows r = db.query("SELECT s.id, s.project_id, s.name, s.description, s.query, s.created_at, "
                      "(SELECT COUNT(*) FROM image_set_members m WHERE m.set_id = s.id) FROM image_sets s WHERE s.id = ?",
                      {set_id});
    if (r.empty()) return std::nullopt;
    return ImageSet{r.i64(0, 0), r.i64(0, 1), r.text(0, 2), r.text(0, 3), r.opt_text(0, 4), r.text(0, 5), r.i64(0, 6)};
  });
}

std::vector<AnnotatedImageCount> LearnStore::annotated_images(Id set_id, const std::vector<std::string>& kinds,
                                                              const std::vector<Id>& tag_ids) {
  if (kinds.empty() || tag_ids.empty()) return {};
  SqlParams params{set_id};
  for (const std::string& kind : kinds) params.emplace_back(kind);
  for (Id tag : tag_ids) params.emplace_back(tag);
  const std::string sql = fmt::format(
      "SELECT a.image_id, COUNT(*) FROM annotations a JOIN image_set_members m ON m.image_id = a.image_id "
      "WHERE m.set_id = ? AND a.deleted = 0 AND a.source <> 'suggested' AND a.kind IN ({}) AND a.tag_id IN ({}) "
      "GROUP BY a.image_id ORDER BY a.image_id",
      placeholders(kinds.size()), placeholders(tag_ids.size()));
  return CatalogAccess::read(catalog_, [&](Connection& db) {
    Rows r = db.query(sql, params);
    std::vector<AnnotatedImageCount> out;
    out.reserve(r.size());
    for (size_t i = 0; i < r.size(); ++i) out.push_back({r.i64(i, 0), r.i64(i, 1)});
    return out;
  });
}

std::vector<LearnObject> LearnStore::set_objects(Id set_id, std::optional<Id> run_id) {
  SqlParams params{set_id};
  std::string where;
  if (run_id) {
    where = " AND o.run_id = ?";
    params.emplace_back(*run_id);
  }
  return CatalogAccess::read(catalog_, [&](Connection& db) {
    Rows r = db.query("SELECT o.id, o.image_id, o.frame_index, o.bbox_x0, o.bbox_y0, o.bbox_x1, o.bbox_y1, o.features, "
                      "o.tag_id, o.class_probabilities FROM objects o JOIN image_set_members m ON m.image_id = o.image_id "
                      "WHERE m.set_id = ? AND o.parent_id IS NULL" + where + " ORDER BY o.id",
                      params);
    std::vector<LearnObject> out;
    out.reserve(r.size());
    for (size_t i = 0; i < r.size(); ++i) {
      out.push_back({r.i64(i, 0), r.i64(i, 1), r.i64(i, 2), r.opt_i64(i, 3).value_or(0), r.opt_i64(i, 4).value_or(0),
                     r.opt_i64(i, 5).value_or(0), r.opt_i64(i, 6).value_or(0), parse_json(r.opt_text(i, 7)),
                     r.opt_i64(i, 8), !r.is_null(i, 9)});
    }
    return out;
  });
}

std::vector<ClassMark> LearnStore::class_marks(Id set_id, const std::vector<Id>& tag_ids) {
  if (tag_ids.empty()) return {};
  SqlParams params{set_id};
  for (Id tag : tag_ids) params.emplace_back(tag);
  const std::string sql = fmt::format(
      "SELECT a.image_id, a.frame_index, (a.bbox_x0 + a.bbox_x1) / 2, (a.bbox_y0 + a.bbox_y1) / 2, a.tag_id "
      "FROM annotations a JOIN image_set_members m ON m.image_id = a.image_id WHERE m.set_id = ? AND a.deleted = 0 "
      "AND a.source <> 'suggested' AND a.bbox_x0 IS NOT NULL AND a.tag_id IN ({}) ORDER BY a.id",
      placeholders(tag_ids.size()));
  return CatalogAccess::read(catalog_, [&](Connection& db) {
    Rows r = db.query(sql, params);
    std::vector<ClassMark> out;
    for (size_t i = 0; i < r.size(); ++i) out.push_back({r.i64(i, 0), r.i64(i, 1), r.f64(i, 2), r.f64(i, 3), r.i64(i, 4)});
    return out;
  });
}

std::int64_t LearnStore::classify_objects(Id project_id, const std::vector<ObjectClassification>& classes,
                                          const Actor& actor, const json& summary) {
  return CatalogAccess::write(catalog_, [&](Connection& db) {
    std::int64_t written = 0;
    const std::string update = fmt::format(
        "UPDATE objects SET tag_id = ?, class_probabilities = {} WHERE id = ? AND project_id = ?", json_param(db.dialect()));
    for (const ObjectClassification& c : classes) {
      if (db.execute(update, {opt(c.tag_id), c.class_probabilities.dump(), c.object_id, project_id}) != 1)
        throw Error(ErrorCode::not_found, fmt::format("no object with id {} in project {}", c.object_id, project_id));
      ++written;
    }
    insert_event(db, project_id, utc_now_iso(), "objects.classified", actor.name, "project", project_id, summary);
    return written;
  });
}

}  // namespace tessera::catalog
