#include "tessera/catalog/tracks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "catalog/access.hpp"
#include "catalog/sql_util.hpp"
#include "tessera/core/clock.hpp"
#include "tessera/core/error.hpp"

namespace tessera::catalog {
namespace {

using json = nlohmann::json;

// Ids per IN (...) list: far below both backends' parameter limits (SQLite 32766, PostgreSQL 65535).
constexpr std::size_t kChunk = 500;

constexpr const char* kTrackSelect =
    "SELECT t.id, t.series_id, t.parent_track_id, t.start_frame, t.end_frame, t.run_id, t.created_at, "
    "(SELECT COUNT(*) FROM objects o WHERE o.track_id = t.id) FROM tracks t ";

constexpr const char* kObjectSelect =
    "SELECT o.id, o.image_id, i.frame_index, o.label, o.bbox_x0, o.bbox_y0, o.bbox_x1, o.bbox_y1, {}, o.mask_blob, "
    "o.run_id, o.track_id FROM objects o JOIN images i ON i.id = o.image_id ";

// Calls fn(first, count) for consecutive chunks of [0, n).
template <typename Fn>
void for_chunks(std::size_t n, Fn&& fn) {
  for (std::size_t begin = 0; begin < n; begin += kChunk) fn(begin, std::min(kChunk, n - begin));
}

TrackRecord track_from(const Rows& r, size_t i) {
  return {r.i64(i, 0), r.i64(i, 1),     r.opt_i64(i, 2), r.i64(i, 3),
          r.i64(i, 4), r.opt_i64(i, 5), r.text(i, 6),    r.i64(i, 7)};
}

std::vector<TrackRecord> select_tracks(Connection& db, const std::string& where, const SqlParams& params) {
  Rows r = db.query(kTrackSelect + where, params);
  std::vector<TrackRecord> out;
  out.reserve(r.size());
  for (size_t i = 0; i < r.size(); ++i) out.push_back(track_from(r, i));
  return out;
}

std::vector<TrackRecord> select_tracks_by_id(Connection& db, const std::vector<Id>& ids) {
  std::vector<TrackRecord> out;
  for_chunks(ids.size(), [&](std::size_t begin, std::size_t count) {
    SqlParams params(ids.begin() + static_cast<std::ptrdiff_t>(begin),
                     ids.begin() + static_cast<std::ptrdiff_t>(begin + count));
    for (TrackRecord& t : select_tracks(db, fmt::format("WHERE t.id IN ({})", placeholders(count)), params)) {
      out.push_back(std::move(t));
    }
  });
  std::sort(out.begin(), out.end(), [](const TrackRecord& a, const TrackRecord& b) { return a.id < b.id; });
  return out;
}

SeriesObject object_from(const Rows& r, size_t i, bool with_features) {
  SeriesObject o;
  o.id = r.i64(i, 0);
  o.image_id = r.i64(i, 1);
  o.frame = r.opt_i64(i, 2).value_or(0);
  o.label = r.opt_i64(i, 3).value_or(0);
  o.bbox_x0 = r.opt_i64(i, 4).value_or(0);
  o.bbox_y0 = r.opt_i64(i, 5).value_or(0);
  o.bbox_x1 = r.opt_i64(i, 6).value_or(0);
  o.bbox_y1 = r.opt_i64(i, 7).value_or(0);
  if (with_features) o.features = parse_json(r.opt_text(i, 8));
  o.mask_blob = r.opt_text(i, 9);
  o.run_id = r.opt_i64(i, 10);
  o.track_id = r.opt_i64(i, 11);
  return o;
}

// The series' project, with the series row locked for this transaction on PostgreSQL (SQLite's write
// transactions are exclusive already), so that edits and trackings of one series take turns.
Id lock_series(Connection& db, Id series_id) {
  const char* lock = db.dialect() == Dialect::postgresql ? " FOR UPDATE" : "";
  Rows r = db.query(fmt::format("SELECT project_id FROM series WHERE id = ?{}", lock), {series_id});
  if (r.empty()) throw Error(ErrorCode::not_found, fmt::format("no series with id {}", series_id));
  return r.i64(0, 0);
}


// Objects that are not top-level objects of the series, among ids (for a clear error).
void check_series_objects(Connection& db, Id series_id, const std::vector<Id>& ids) {
  for_chunks(ids.size(), [&](std::size_t begin, std::size_t count) {
    SqlParams params{series_id};
    params.insert(params.end(), ids.begin() + static_cast<std::ptrdiff_t>(begin),
                  ids.begin() + static_cast<std::ptrdiff_t>(begin + count));
    Rows r = db.query(fmt::format("SELECT o.id FROM objects o JOIN images i ON i.id = o.image_id "
                                  "WHERE i.series_id = ? AND o.parent_id IS NULL AND o.id IN ({})",
                                  placeholders(count)),
                      params);
    if (r.size() == count) return;
    std::set<Id> found;
    for (size_t i = 0; i < r.size(); ++i) found.insert(r.i64(i, 0));
    for (std::size_t k = begin; k < begin + count; ++k) {
      if (!found.count(ids[k])) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("object {} is not a top-level object of series {}", ids[k], series_id));
      }
    }
  });
}

void set_track_of(Connection& db, Id track_id, const std::vector<Id>& objects) {
  for_chunks(objects.size(), [&](std::size_t begin, std::size_t count) {
    SqlParams params{track_id};
    params.insert(params.end(), objects.begin() + static_cast<std::ptrdiff_t>(begin),
                  objects.begin() + static_cast<std::ptrdiff_t>(begin + count));
    db.execute(fmt::format("UPDATE objects SET track_id = ? WHERE id IN ({})", placeholders(count)), params);
  });
}

Id insert_track(Connection& db, Id series_id, std::int64_t start, std::int64_t end, std::optional<Id> run_id,
                const std::string& now) {
  return db
      .query(
          "INSERT INTO tracks (series_id, start_frame, end_frame, run_id, created_at) VALUES (?, ?, ?, ?, ?) "
          "RETURNING id",
          {series_id, start, end, opt(run_id), now})
      .i64(0, 0);
}

std::string event_kind(const std::string& action) {
  if (action == "merge") return "track.merged";
  if (action == "split") return "track.split";
  if (action == "set_parent") return "track.parent_set";
  if (action == "unset_parent") return "track.parent_unset";
  throw Error(ErrorCode::internal, fmt::format("track edit: unknown action '{}'", action));
}

bool same_state(const TrackRecord& a, const TrackRecord& b) {
  return a.start_frame == b.start_frame && a.end_frame == b.end_frame && a.parent_id == b.parent_id &&
         a.objects == b.objects;
}

TrackEdit edit_from(const Rows& r, size_t i) {
  TrackEdit e;
  e.id = r.i64(i, 0);
  e.series_id = r.i64(i, 1);
  e.track_id = r.i64(i, 2);
  e.other_track_id = r.opt_i64(i, 3);
  e.user_id = r.opt_i64(i, 4);
  e.actor = r.text(i, 5);
  e.at = r.text(i, 6);
  e.action = r.text(i, 7);
  e.before = parse_json(r.opt_text(i, 8));
  e.after = parse_json(r.opt_text(i, 9));
  return e;
}

constexpr const char* kEditSelect =
    "SELECT id, series_id, track_id, other_track_id, user_id, actor, at, action, before_state, after_state "
    "FROM track_edits ";

TrackSnapshot read_snapshot(Connection& db, const std::vector<Id>& track_ids) {
  std::vector<TrackRecord> named = select_tracks_by_id(db, track_ids);
  for (Id id : track_ids) {
    if (std::none_of(named.begin(), named.end(), [&](const TrackRecord& t) { return t.id == id; })) {
      throw Error(ErrorCode::not_found, fmt::format("no track with id {}", id));
    }
  }
  if (named.empty()) throw Error(ErrorCode::invalid_argument, "a track edit names no track");
  for (const TrackRecord& t : named) {
    if (t.series_id != named.front().series_id) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("tracks {} and {} belong to different series ({} and {})", named.front().id, t.id,
                              named.front().series_id, t.series_id));
    }
  }
  TrackSnapshot s;
  s.series_id = named.front().series_id;
  s.project_id = lock_series(db, s.series_id);
  // Read again under the lock: a concurrent edit may have changed them since.
  named = select_tracks_by_id(db, track_ids);
  if (named.size() != std::set<Id>(track_ids.begin(), track_ids.end()).size()) {
    throw Error(ErrorCode::not_found, "a track of this edit was deleted by a concurrent edit");
  }
  std::set<Id> ids;
  for (const TrackRecord& t : named) {
    ids.insert(t.id);
    if (t.parent_id) ids.insert(*t.parent_id);
  }
  const std::vector<Id> named_ids(track_ids.begin(), track_ids.end());
  for (const TrackRecord& child :
       select_tracks(db, fmt::format("WHERE t.parent_track_id IN ({})", placeholders(named_ids.size())),
                     SqlParams(named_ids.begin(), named_ids.end()))) {
    ids.insert(child.id);
  }
  s.tracks = select_tracks_by_id(db, std::vector<Id>(ids.begin(), ids.end()));
  const std::vector<Id> all(ids.begin(), ids.end());
  for_chunks(all.size(), [&](std::size_t begin, std::size_t count) {
    Rows r = db.query(fmt::format("SELECT o.id, i.frame_index, o.track_id FROM objects o JOIN images i ON i.id = "
                                  "o.image_id WHERE o.track_id IN ({})",
                                  placeholders(count)),
                      SqlParams(all.begin() + static_cast<std::ptrdiff_t>(begin),
                                all.begin() + static_cast<std::ptrdiff_t>(begin + count)));
    for (size_t i = 0; i < r.size(); ++i) s.objects.push_back({r.i64(i, 0), r.opt_i64(i, 1).value_or(0), r.i64(i, 2)});
  });
  std::sort(s.objects.begin(), s.objects.end(), [](const TrackedObject& a, const TrackedObject& b) {
    return std::tie(a.frame, a.id) < std::tie(b.frame, b.id);
  });
  return s;
}

void check_plan(Connection& db, const TrackSnapshot& s, const TrackPlan& plan) {
  std::set<Id> snapshot_ids;
  for (const TrackRecord& t : s.tracks) snapshot_ids.insert(t.id);
  std::set<Id> seen;
  for (std::size_t r = 0; r < plan.rows.size(); ++r) {
    const TrackPlan::Row& row = plan.rows[r];
    if (row.id && (!snapshot_ids.count(*row.id) || !seen.insert(*row.id).second)) {
      throw Error(ErrorCode::internal,
                  fmt::format("track edit: row {} names track {} twice or outside the edit", r, *row.id));
    }
    if (row.start_frame > row.end_frame) {
      throw Error(ErrorCode::internal, fmt::format("track edit: row {} ends before it starts", r));
    }
    if (row.parent_row && (*row.parent_row >= plan.rows.size() || *row.parent_row == r)) {
      throw Error(ErrorCode::internal,
                  fmt::format("track edit: row {} has parent row {} out of range", r, *row.parent_row));
    }
    if (row.parent_id && !snapshot_ids.count(*row.parent_id)) {
      Rows p = db.query("SELECT series_id FROM tracks WHERE id = ?", {*row.parent_id});
      if (p.empty() || p.i64(0, 0) != s.series_id) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("track {} is not a track of series {}", *row.parent_id, s.series_id));
      }
    }
  }
  std::set<Id> objects;
  for (const TrackedObject& o : s.objects) objects.insert(o.id);
  for (const auto& [object, row] : plan.moves) {
    if (!objects.count(object) || row >= plan.rows.size()) {
      throw Error(ErrorCode::internal, fmt::format("track edit: object {} is outside the edit", object));
    }
  }
  if (plan.other_track_row && *plan.other_track_row >= plan.rows.size()) {
    throw Error(ErrorCode::internal, "track edit: other track row out of range");
  }
}

}  // namespace

json to_json(const TrackRecord& t) {
  return {{"id", t.id},
          {"series_id", t.series_id},
          {"start_frame", t.start_frame},
          {"end_frame", t.end_frame},
          {"parent_id", or_null(t.parent_id)},
          {"run_id", or_null(t.run_id)},
          {"created_at", t.created_at},
          {"objects", t.objects}};
}

json to_json(const TrackEdit& e) {
  return {{"id", e.id},
          {"series_id", e.series_id},
          {"track_id", e.track_id},
          {"other_track_id", or_null(e.other_track_id)},
          {"user_id", or_null(e.user_id)},
          {"actor", e.actor},
          {"at", e.at},
          {"action", e.action},
          {"before", e.before},
          {"after", e.after}};
}

Series TrackStore::get_series(Id series_id) {
  return CatalogAccess::read(catalog_, [&](Connection& db) {
    Rows r = db.query(
        "SELECT s.id, s.project_id, s.name, s.kind, s.key, "
        "(SELECT COUNT(*) FROM images i WHERE i.series_id = s.id) FROM series s WHERE s.id = ?",
        {series_id});
    if (r.empty()) throw Error(ErrorCode::not_found, fmt::format("no series with id {}", series_id));
    return Series{r.i64(0, 0), r.i64(0, 1), r.text(0, 2), r.text(0, 3), parse_json(r.opt_text(0, 4)), r.i64(0, 5)};
  });
}

std::optional<Series> TrackStore::find_series(Id project_id, const std::string& name) {
  const std::optional<Id> id = CatalogAccess::read(catalog_, [&](Connection& db) -> std::optional<Id> {
    Rows r = db.query("SELECT id FROM series WHERE project_id = ? AND name = ?", {project_id, name});
    if (r.empty()) return std::nullopt;
    return r.i64(0, 0);
  });
  if (!id) return std::nullopt;
  return get_series(*id);
}

std::vector<SeriesImage> TrackStore::series_images(Id series_id) {
  std::vector<SeriesImage> out = CatalogAccess::read(catalog_, [&](Connection& db) {
    Rows r = db.query(
        "SELECT id, frame_index, width, height, frames, source_path, blob_hash FROM images "
        "WHERE series_id = ?",
        {series_id});
    std::vector<SeriesImage> images;
    for (size_t i = 0; i < r.size(); ++i) {
      images.push_back({r.i64(i, 0), r.opt_i64(i, 1), static_cast<int>(r.i64(i, 2)), static_cast<int>(r.i64(i, 3)),
                        static_cast<int>(r.i64(i, 4)), r.text(i, 5), r.text(i, 6)});
    }
    return images;
  });
  // Sorted here: the backends put NULLs at opposite ends of ORDER BY.
  std::sort(out.begin(), out.end(), [](const SeriesImage& a, const SeriesImage& b) {
    if (a.frame_index.has_value() != b.frame_index.has_value()) return a.frame_index.has_value();
    return std::tie(a.frame_index, a.id) < std::tie(b.frame_index, b.id);
  });
  return out;
}

std::vector<ObjectRunCount> TrackStore::object_runs(Id series_id) {
  std::vector<ObjectRunCount> out = CatalogAccess::read(catalog_, [&](Connection& db) {
    Rows r = db.query(
        "SELECT o.run_id, COUNT(*), COUNT(DISTINCT o.image_id) FROM objects o "
        "JOIN images i ON i.id = o.image_id WHERE i.series_id = ? AND o.parent_id IS NULL "
        "GROUP BY o.run_id",
        {series_id});
    std::vector<ObjectRunCount> runs;
    for (size_t i = 0; i < r.size(); ++i) runs.push_back({r.opt_i64(i, 0), r.i64(i, 1), r.i64(i, 2)});
    return runs;
  });
  std::sort(out.begin(), out.end(), [](const ObjectRunCount& a, const ObjectRunCount& b) {
    if (a.run_id.has_value() != b.run_id.has_value()) return a.run_id.has_value();
    return a.run_id > b.run_id;
  });
  return out;
}

std::vector<SeriesObject> TrackStore::image_objects(Id image_id, std::optional<Id> run_id) {
  return CatalogAccess::read(catalog_, [&](Connection& db) {
    SqlParams params{image_id};
    std::string sql = fmt::format(kObjectSelect, "o.features") + "WHERE o.image_id = ? AND o.parent_id IS NULL AND ";
    if (run_id) {
      sql += "o.run_id = ?";
      params.emplace_back(*run_id);
    } else {
      sql += "o.run_id IS NULL";
    }
    Rows r = db.query(sql + " ORDER BY o.id", params);
    std::vector<SeriesObject> out;
    out.reserve(r.size());
    for (size_t i = 0; i < r.size(); ++i) out.push_back(object_from(r, i, true));
    return out;
  });
}

std::vector<SeriesObject> TrackStore::tracked_objects(Id series_id) {
  return CatalogAccess::read(catalog_, [&](Connection& db) {
    // Features are left out: exports need boxes, masks and tracks, and a long series' features are large.
    Rows r = db.query(fmt::format(kObjectSelect, "NULL") +
                          "WHERE i.series_id = ? AND o.track_id IS NOT NULL ORDER BY i.frame_index, o.id",
                      {series_id});
    std::vector<SeriesObject> out;
    out.reserve(r.size());
    for (size_t i = 0; i < r.size(); ++i) out.push_back(object_from(r, i, false));
    return out;
  });
}

ReplacedTracks TrackStore::replace_tracks(Id series_id, std::optional<Id> run_id, const std::vector<NewTrack>& tracks,
                                          const Actor& actor, const json& summary) {
  check_name("actor", actor.name);
  std::vector<Id> all_objects;
  for (std::size_t k = 0; k < tracks.size(); ++k) {
    const NewTrack& t = tracks[k];
    if (t.parent && (*t.parent >= tracks.size() || *t.parent == k)) {
      throw Error(ErrorCode::invalid_argument, fmt::format("track {} of {}: parent index {} is out of range or itself",
                                                           k, tracks.size(), *t.parent));
    }
    if (t.start_frame > t.end_frame) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("track {}: start frame {} is after end frame {}", k, t.start_frame, t.end_frame));
    }
    all_objects.insert(all_objects.end(), t.objects.begin(), t.objects.end());
  }
  std::sort(all_objects.begin(), all_objects.end());
  if (auto twice = std::adjacent_find(all_objects.begin(), all_objects.end()); twice != all_objects.end()) {
    throw Error(ErrorCode::invalid_argument, fmt::format("object {} is in two tracks", *twice));
  }
  return CatalogAccess::write(catalog_, [&](Connection& db) {
    const Id project_id = lock_series(db, series_id);
    check_series_objects(db, series_id, all_objects);
    const std::string now = utc_now_iso();
    db.execute("UPDATE objects SET track_id = NULL WHERE track_id IN (SELECT id FROM tracks WHERE series_id = ?)",
               {series_id});
    const std::int64_t replaced = db.execute("DELETE FROM tracks WHERE series_id = ?", {series_id});
    std::vector<Id> ids;
    ids.reserve(tracks.size());
    for (const NewTrack& t : tracks)
      ids.push_back(insert_track(db, series_id, t.start_frame, t.end_frame, run_id, now));
    for (std::size_t k = 0; k < tracks.size(); ++k) {
      if (tracks[k].parent) {
        db.execute("UPDATE tracks SET parent_track_id = ? WHERE id = ?", {ids[*tracks[k].parent], ids[k]});
      }
      set_track_of(db, ids[k], tracks[k].objects);
    }
    json payload = summary.is_object() ? summary : json::object();
    payload["series_id"] = series_id;
    payload["tracks"] = tracks.size();
    payload["replaced_tracks"] = replaced;
    if (run_id) payload["run_id"] = *run_id;
    insert_event(db, project_id, now, "series.tracked", actor.name, "series", series_id, payload);
    return ReplacedTracks{std::move(ids), replaced};
  });
}

std::vector<TrackRecord> TrackStore::list(Id series_id) {
  return CatalogAccess::read(catalog_, [&](Connection& db) {
    return select_tracks(db, "WHERE t.series_id = ? ORDER BY t.start_frame, t.id", {series_id});
  });
}

std::optional<TrackRecord> TrackStore::find(Id track_id) {
  return CatalogAccess::read(catalog_, [&](Connection& db) -> std::optional<TrackRecord> {
    auto found = select_tracks(db, "WHERE t.id = ?", {track_id});
    if (found.empty()) return std::nullopt;
    return found.front();
  });
}

TrackRecord TrackStore::get(Id track_id) {
  std::optional<TrackRecord> found = find(track_id);
  if (!found) throw Error(ErrorCode::not_found, fmt::format("no track with id {}", track_id));
  return std::move(*found);
}

TrackEditResult TrackStore::edit(const std::vector<Id>& track_ids, const Actor& actor,
                                 const std::function<TrackPlan(const TrackSnapshot&)>& plan_edit) {
  check_name("actor", actor.name);
  return CatalogAccess::write(catalog_, [&](Connection& db) {
    const TrackSnapshot snapshot = read_snapshot(db, track_ids);
    const TrackPlan plan = plan_edit(snapshot);
    check_plan(db, snapshot, plan);
    event_kind(plan.action);  // an unknown action fails before anything is written
    const std::string now = utc_now_iso();
    std::map<Id, const TrackRecord*> before_by_id;
    for (const TrackRecord& t : snapshot.tracks) before_by_id[t.id] = &t;

    // New tracks first (their ids are needed by parents and moves), then every row's fields.
    std::optional<Id> run_of_edited;
    if (auto it = before_by_id.find(plan.track_id); it != before_by_id.end()) run_of_edited = it->second->run_id;
    std::vector<Id> row_ids(plan.rows.size(), 0);
    for (std::size_t r = 0; r < plan.rows.size(); ++r) {
      const TrackPlan::Row& row = plan.rows[r];
      row_ids[r] =
          row.id ? *row.id : insert_track(db, snapshot.series_id, row.start_frame, row.end_frame, run_of_edited, now);
    }
    for (std::size_t r = 0; r < plan.rows.size(); ++r) {
      const TrackPlan::Row& row = plan.rows[r];
      const std::optional<Id> parent = row.parent_row ? std::optional<Id>(row_ids[*row.parent_row]) : row.parent_id;
      if (row.id) {
        const TrackRecord& was = *before_by_id.at(*row.id);
        if (was.start_frame == row.start_frame && was.end_frame == row.end_frame && was.parent_id == parent) continue;
      }
      db.execute("UPDATE tracks SET start_frame = ?, end_frame = ?, parent_track_id = ? WHERE id = ?",
                 {row.start_frame, row.end_frame, opt(parent), row_ids[r]});
    }
    std::map<std::size_t, std::vector<Id>> moved_to;
    std::vector<Id> moved;
    for (const auto& [object, row] : plan.moves) {
      moved_to[row].push_back(object);
      moved.push_back(object);
    }
    for (const auto& [row, objects] : moved_to) set_track_of(db, row_ids[row], objects);
    std::vector<Id> deleted;
    for (const TrackRecord& t : snapshot.tracks) {
      if (std::find(row_ids.begin(), row_ids.end(), t.id) == row_ids.end()) deleted.push_back(t.id);
    }
    for_chunks(deleted.size(), [&](std::size_t begin, std::size_t count) {
      db.execute(fmt::format("DELETE FROM tracks WHERE id IN ({})", placeholders(count)),
                 SqlParams(deleted.begin() + static_cast<std::ptrdiff_t>(begin),
                           deleted.begin() + static_cast<std::ptrdiff_t>(begin + count)));
    });

    TrackEditResult result;
    const std::vector<TrackRecord> after = select_tracks_by_id(db, row_ids);
    std::map<Id, const TrackRecord*> after_by_id;
    for (const TrackRecord& t : after) after_by_id[t.id] = &t;
    for (Id id : row_ids) result.tracks.push_back(*after_by_id.at(id));

    json before_tracks = json::array();
    json after_tracks = json::array();
    for (const TrackRecord& t : snapshot.tracks) {
      auto now_state = after_by_id.find(t.id);
      if (now_state == after_by_id.end() || !same_state(t, *now_state->second)) before_tracks.push_back(to_json(t));
    }
    for (const TrackRecord& t : result.tracks) {
      auto was = before_by_id.find(t.id);
      if (was == before_by_id.end() || !same_state(*was->second, t)) after_tracks.push_back(to_json(t));
    }
    json after_state = plan.arguments.is_object() ? plan.arguments : json::object();
    after_state["tracks"] = after_tracks;
    after_state["deleted"] = deleted;
    after_state["moved_objects"] = moved;
    const std::optional<Id> other =
        plan.other_track_row ? std::optional<Id>(row_ids[*plan.other_track_row]) : plan.other_track_id;
    const char* j = json_param(db.dialect());
    Rows r =
        db.query(fmt::format("INSERT INTO track_edits (series_id, track_id, other_track_id, user_id, actor, at, "
                             "action, before_state, after_state) VALUES (?, ?, ?, ?, ?, ?, ?, {}, {}) RETURNING id",
                             j, j),
                 {snapshot.series_id, plan.track_id, opt(other), opt(actor.user_id), actor.name, now, plan.action,
                  json{{"tracks", before_tracks}}.dump(), after_state.dump()});
    result.edit = edit_from(db.query(std::string(kEditSelect) + "WHERE id = ?", {r.i64(0, 0)}), 0);
    insert_event(db, snapshot.project_id, now, event_kind(plan.action), actor.name, "track", plan.track_id,
              {{"series_id", snapshot.series_id}, {"edit_id", result.edit.id}, {"other_track_id", or_null(other)}});
    return result;
  });
}

std::vector<TrackEdit> TrackStore::history(Id track_id, std::int64_t limit) {
  return CatalogAccess::read(catalog_, [&](Connection& db) {
    Rows r = db.query(std::string(kEditSelect) + "WHERE track_id = ? OR other_track_id = ? ORDER BY id LIMIT ?",
                      {track_id, track_id, limit});
    std::vector<TrackEdit> out;
    for (size_t i = 0; i < r.size(); ++i) out.push_back(edit_from(r, i));
    return out;
  });
}

}  // namespace tessera::catalog
