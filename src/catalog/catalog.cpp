#include "tessera/catalog/catalog.hpp"

#include <fmt/format.h>

#include <set>
#include <unordered_map>

#include "catalog/access.hpp"
#include "catalog/annotation_state_sql.hpp"
#include "catalog/db.hpp"
#include "catalog/sql_util.hpp"
#include "catalog/migrations.hpp"
#include "catalog/pool.hpp"
#include "catalog/where.hpp"
#include "tessera/core/clock.hpp"
#include "tessera/core/error.hpp"

namespace tessera::catalog {
namespace {

bool is_postgres_url(const std::string& url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

constexpr const char* kImageColumns =
    "i.id, i.project_id, i.blob_hash, i.source_path, i.format, i.byte_size, i.width, i.height, i.channels, "
    "i.pixel_type, i.frames, i.acquired_at, i.imported_at, i.metadata, i.focus, i.series_id, "
    "(SELECT s.name FROM series s WHERE s.id = i.series_id), i.frame_index";

ImageRecord image_from(const Rows& r, size_t row) {
  ImageRecord image;
  image.id = r.i64(row, 0);
  image.project_id = r.i64(row, 1);
  image.blob_hash = r.text(row, 2);
  image.source_path = r.text(row, 3);
  image.format = r.text(row, 4);
  image.byte_size = r.i64(row, 5);
  image.width = static_cast<int>(r.i64(row, 6));
  image.height = static_cast<int>(r.i64(row, 7));
  image.channels = static_cast<int>(r.i64(row, 8));
  image.pixel_type = r.text(row, 9);
  image.frames = static_cast<int>(r.i64(row, 10));
  image.acquired_at = r.opt_text(row, 11);
  image.imported_at = r.text(row, 12);
  image.metadata = parse_json(r.opt_text(row, 13));
  image.focus = r.opt_f64(row, 14);
  image.series_id = r.opt_i64(row, 15);
  image.series_name = r.opt_text(row, 16);
  image.frame_index = r.opt_i64(row, 17);
  return image;
}

struct SortKey {
  std::string expr;  // SQL expression with NULLs mapped to a value that sorts first
  bool numeric = false;
};

SortKey sort_key(const std::string& order_by) {
  static const std::unordered_map<std::string, SortKey> keys = {
      {"id", {"i.id", true}},
      {"source_path", {"i.source_path", false}},
      {"acquired_at", {"COALESCE(i.acquired_at, '')", false}},
      {"imported_at", {"i.imported_at", false}},
      {"focus", {"COALESCE(i.focus, -1e300)", true}},
      {"frame_index", {"COALESCE(i.frame_index, -1)", true}},
      {"width", {"i.width", true}},
      {"height", {"i.height", true}},
      {"byte_size", {"i.byte_size", true}},
  };
  auto it = keys.find(order_by);
  if (it == keys.end()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("cannot sort by '{}': use id, source_path, acquired_at, imported_at, focus, frame_index, "
                            "width, height or byte_size",
                            order_by),
                nlohmann::json{{"field", "sort"}});
  }
  return it->second;
}

// WHERE clause (without the keyword) selecting images of a query; appends its parameters.
std::string image_filter(Dialect dialect, const ImageQuery& query, SqlParams& params) {
  std::string sql = "1=1";
  if (query.project_id) {
    sql += " AND i.project_id = ?";
    params.emplace_back(*query.project_id);
  }
  if (query.series_id) {
    sql += " AND i.series_id = ?";
    params.emplace_back(*query.series_id);
  }
  if (query.set) {
    sql += " AND i.id IN (SELECT m.image_id FROM image_set_members m JOIN image_sets st ON st.id = m.set_id "
           "WHERE st.name = ? AND st.project_id = i.project_id)";
    params.emplace_back(*query.set);
  }
  if (query.tag) {
    sql += " AND i.id IN (SELECT it.image_id FROM image_tags it JOIN tags t ON t.id = it.tag_id "
           "WHERE t.name = ? AND t.project_id = i.project_id)";
    params.emplace_back(*query.tag);
  }
  if (query.blob_hash) {
    sql += " AND i.blob_hash = ?";
    params.emplace_back(*query.blob_hash);
  }
  if (query.annotation_state) sql += " AND " + annotation_state_sql(*query.annotation_state);
  const SortKey key = sort_key(query.order_by);
  const char* op = query.descending ? "<" : ">";
  if (key.expr == "i.id") {
    if (query.after_id > 0) {
      sql += fmt::format(" AND i.id {} ?", op);
      params.emplace_back(query.after_id);
    }
  } else if (query.after_id > 0) {
    SqlValue value = key.numeric ? SqlValue(query.after_value.is_number() ? query.after_value.get<double>() : -1e300)
                                 : SqlValue(query.after_value.is_string() ? query.after_value.get<std::string>() : "");
    // A row-value comparison, not "k > ? OR (k = ? AND id > ?)": both backends turn it into one range scan
    // of the (project, key, id) index (migration 0006); the OR form made them sort the whole project.
    sql += fmt::format(" AND ({0}, i.id) {1} (?, ?)", key.expr, op);
    params.push_back(value);
    params.emplace_back(query.after_id);
  }
  if (!query.where.empty()) {
    SqlFilter filter = compile_where(query.where, dialect);
    sql += " AND (" + filter.sql + ")";
    for (auto& p : filter.params) params.push_back(std::move(p));
  }
  return sql;
}

}  // namespace

std::unique_ptr<Catalog> Catalog::open(const std::string& url) {
  std::function<std::unique_ptr<Connection>()> connect;
  if (is_postgres_url(url)) {
    connect = [url] { return connect_postgresql(url); };
  } else {
    std::string path = url.starts_with("sqlite:") ? url.substr(7) : url;
    if (path.empty()) throw Error(ErrorCode::invalid_argument, "catalog URL names no SQLite file");
    connect = [path] { return connect_sqlite(path); };
  }
  std::unique_ptr<Connection> writer = connect();
  return std::unique_ptr<Catalog>(new Catalog(std::move(writer), std::move(connect)));
}

// Readers and PostgreSQL row writers: enough for the server's concurrent requests on two to four cores
// without holding many PostgreSQL backends per process.
constexpr std::size_t kMaxReaders = 4;
constexpr std::size_t kMaxRowWriters = 4;

Catalog::Catalog(std::unique_ptr<Connection> writer, std::function<std::unique_ptr<Connection>()> open_reader) {
  schema_version_ = migrate(*writer);  // before any reader exists: readers see the migrated schema
  pool_ = std::make_unique<ConnectionPool>(std::move(writer), std::move(open_reader), kMaxReaders, kMaxRowWriters);
}
Catalog::~Catalog() = default;

std::string Catalog::backend() const { return pool_->dialect() == Dialect::sqlite ? "sqlite" : "postgresql"; }


Project Catalog::ensure_project(const std::string& name) {
  check_name("project", name);
  auto db = pool_->writer();
  return in_transaction(*db, [&] {
    Rows found = db->query("SELECT id, name, description, created_at FROM projects WHERE name = ?", {name});
    if (found.empty()) {
      const std::string now = utc_now_iso();
      found = db->query("INSERT INTO projects (name, created_at) VALUES (?, ?) RETURNING id, name, description, created_at",
                         {name, now});
      order_event_ids(*db);
      db->execute(fmt::format("INSERT INTO events (project_id, at, kind, subject_type, subject_id, payload) "
                               "VALUES (?, ?, 'project.created', 'project', ?, {})",
                               json_param(db->dialect())),
                   {found.i64(0, 0), now, found.i64(0, 0), nlohmann::json{{"name", name}}.dump()});
    }
    return Project{found.i64(0, 0), found.text(0, 1), found.text(0, 2), found.text(0, 3)};
  });
}

Project Catalog::get_project(Id id) {
  auto db = pool_->reader();
  Rows r = db->query("SELECT id, name, description, created_at FROM projects WHERE id = ?", {id});
  if (r.empty()) throw Error(ErrorCode::not_found, fmt::format("no project with id {}", id));
  return Project{r.i64(0, 0), r.text(0, 1), r.text(0, 2), r.text(0, 3)};
}

Project Catalog::create_project(const std::string& name, const std::string& description) {
  check_name("project", name);
  auto db = pool_->writer();
  return in_transaction(*db, [&] {
    if (!db->query("SELECT id FROM projects WHERE name = ?", {name}).empty()) {
      throw Error(ErrorCode::conflict, fmt::format("project '{}' already exists", name));
    }
    const std::string now = utc_now_iso();
    Rows r = db->query("INSERT INTO projects (name, description, created_at) VALUES (?, ?, ?) "
                        "RETURNING id, name, description, created_at",
                        {name, description, now});
    order_event_ids(*db);
    db->execute(fmt::format("INSERT INTO events (project_id, at, kind, subject_type, subject_id, payload) "
                             "VALUES (?, ?, 'project.created', 'project', ?, {})",
                             json_param(db->dialect())),
                 {r.i64(0, 0), now, r.i64(0, 0), nlohmann::json{{"name", name}}.dump()});
    return Project{r.i64(0, 0), r.text(0, 1), r.text(0, 2), r.text(0, 3)};
  });
}

std::optional<Project> Catalog::find_project(const std::string& name) {
  auto db = pool_->reader();
  Rows r = db->query("SELECT id, name, description, created_at FROM projects WHERE name = ?", {name});
  if (r.empty()) return std::nullopt;
  return Project{r.i64(0, 0), r.text(0, 1), r.text(0, 2), r.text(0, 3)};
}

Project Catalog::get_project(const std::string& name) {
  auto p = find_project(name);
  if (!p) throw Error(ErrorCode::not_found, fmt::format("no project named '{}'", name));
  return *p;
}

std::vector<Project> Catalog::list_projects() {
  auto db = pool_->reader();
  Rows r = db->query("SELECT id, name, description, created_at FROM projects ORDER BY name");
  std::vector<Project> out;
  for (size_t i = 0; i < r.size(); ++i) out.push_back({r.i64(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3)});
  return out;
}

AddImagesResult Catalog::add_images(Id project_id, const std::vector<NewImage>& images,
                                    const std::optional<std::string>& set_name) {
  auto db = pool_->writer();
  const Dialect d = db->dialect();
  const char* j = json_param(d);
  return in_transaction(*db, [&] {
    AddImagesResult result;
    const std::string now = utc_now_iso();
    std::unordered_map<std::string, Id> series_ids;
    std::optional<Id> set_id;
    if (set_name) {
      check_name("set", *set_name);
      db->execute("INSERT INTO image_sets (project_id, name, created_at) VALUES (?, ?, ?) "
                   "ON CONFLICT (project_id, name) DO NOTHING",
                   {project_id, *set_name, now});
      set_id = db->query("SELECT id FROM image_sets WHERE project_id = ? AND name = ?", {project_id, *set_name})
                   .i64(0, 0);
    }
    std::vector<std::optional<Id>> series_of(images.size());
    for (size_t k = 0; k < images.size(); ++k) {
      const NewImage& image = images[k];
      if (!image.series) continue;
      auto it = series_ids.find(image.series->name);
      if (it == series_ids.end()) {
        db->execute(fmt::format("INSERT INTO series (project_id, name, kind, key, created_at) VALUES (?, ?, ?, {}, ?) "
                                 "ON CONFLICT (project_id, name) DO NOTHING",
                                 j),
                     {project_id, image.series->name, image.series->kind, image.series->key.dump(), now});
        const Id id = db->query("SELECT id FROM series WHERE project_id = ? AND name = ?",
                                 {project_id, image.series->name})
                          .i64(0, 0);
        it = series_ids.emplace(image.series->name, id).first;
      }
      series_of[k] = it->second;
    }
    // Multi-row statements: one round trip per chunk instead of three per image, which is what a
    // PostgreSQL server sharing the cores with the decoders needs to keep up.
    constexpr size_t kChunk = 100;
    std::vector<Id> ids(images.size(), 0);
    std::vector<bool> is_new(images.size(), false);
    for (size_t begin = 0; begin < images.size(); begin += kChunk) {
      const size_t end = std::min(images.size(), begin + kChunk);
      std::string sql =
          "INSERT INTO images (project_id, blob_hash, source_path, format, byte_size, width, height, channels, "
          "pixel_type, frames, acquired_at, imported_at, metadata, focus, series_id, frame_index) VALUES ";
      SqlParams params;
      std::unordered_map<std::string, size_t> index_of;  // path + '\n' + hash -> position in images
      for (size_t k = begin; k < end; ++k) {
        const NewImage& image = images[k];
        sql += fmt::format("{}(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {}, ?, ?, ?)", k == begin ? "" : ", ", j);
        for (SqlValue v : {SqlValue(project_id), SqlValue(image.blob_hash), SqlValue(image.source_path),
                           SqlValue(image.format), SqlValue(image.byte_size), SqlValue(std::int64_t{image.width}),
                           SqlValue(std::int64_t{image.height}), SqlValue(std::int64_t{image.channels}),
                           SqlValue(image.pixel_type), SqlValue(std::int64_t{image.frames}), opt(image.acquired_at),
                           SqlValue(now), SqlValue(image.metadata.dump()), opt(image.focus), opt(series_of[k]),
                           opt(image.frame_index)}) {
          params.push_back(std::move(v));
        }
        index_of.emplace(image.source_path + '\n' + image.blob_hash, k);
      }
      sql += " ON CONFLICT (project_id, source_path, blob_hash) DO NOTHING RETURNING id, source_path, blob_hash";
      const Rows inserted = db->query(sql, params);
      for (size_t r = 0; r < inserted.size(); ++r) {
        auto it = index_of.find(inserted.text(r, 1) + '\n' + inserted.text(r, 2));
        if (it == index_of.end()) continue;
        ids[it->second] = inserted.i64(r, 0);
        is_new[it->second] = true;
      }
      for (size_t k = begin; k < end; ++k) {
        if (is_new[k]) continue;
        ids[k] = db->query("SELECT id FROM images WHERE project_id = ? AND source_path = ? AND blob_hash = ?",
                            {project_id, images[k].source_path, images[k].blob_hash})
                     .i64(0, 0);
      }
      order_event_ids(*db);
      std::string events = "INSERT INTO events (project_id, at, kind, subject_type, subject_id, payload) VALUES ";
      SqlParams event_params;
      std::string members = "INSERT INTO image_set_members (set_id, image_id, added_at) VALUES ";
      SqlParams member_params;
      for (size_t k = begin; k < end; ++k) {
        const NewImage& image = images[k];
        if (is_new[k]) {
          nlohmann::json payload = {{"path", image.source_path}, {"width", image.width}, {"height", image.height}};
          if (image.focus) payload["focus"] = *image.focus;
          if (image.series) payload["series"] = image.series->name;
          if (image.frame_index) payload["frame"] = *image.frame_index;
          events += fmt::format("{}(?, ?, 'image.imported', 'image', ?, {})", event_params.empty() ? "" : ", ", j);
          event_params.insert(event_params.end(), {project_id, now, ids[k], payload.dump()});
        }
        if (set_id) {
          members += member_params.empty() ? "(?, ?, ?)" : ", (?, ?, ?)";
          member_params.insert(member_params.end(), {*set_id, ids[k], now});
        }
      }
      if (!event_params.empty()) db->execute(events, event_params);
      if (!member_params.empty()) {
        db->execute(members + " ON CONFLICT (set_id, image_id) DO NOTHING", member_params);
      }
    }
    for (size_t k = 0; k < images.size(); ++k) (is_new[k] ? result.added : result.already_present).push_back(ids[k]);
    return result;
  });
}

std::optional<Id> Catalog::find_image(Id project_id, const std::string& source_path, const std::string& blob_hash) {
  auto db = pool_->reader();
  Rows r = db->query("SELECT id FROM images WHERE project_id = ? AND source_path = ? AND blob_hash = ?",
                      {project_id, source_path, blob_hash});
  if (r.empty()) return std::nullopt;
  return r.i64(0, 0);
}

ImageRecord Catalog::get_image(Id id) {
  auto db = pool_->reader();
  Rows r = db->query(fmt::format("SELECT {} FROM images i WHERE i.id = ?", kImageColumns), {id});
  if (r.empty()) throw Error(ErrorCode::not_found, fmt::format("no image with id {}", id));
  return image_from(r, 0);
}

std::vector<ImageRecord> Catalog::select_images(Connection* db, const ImageQuery& query) {
  SqlParams params;
  const SortKey key = sort_key(query.order_by);
  const char* direction = query.descending ? "DESC" : "ASC";
  const std::string order = key.expr == "i.id" ? fmt::format("i.id {}", direction)
                                               : fmt::format("{0} {1}, i.id {1}", key.expr, direction);
  std::string sql = fmt::format("SELECT {} FROM images i WHERE {} ORDER BY {}", kImageColumns,
                                image_filter(db->dialect(), query, params), order);
  if (query.limit >= 0) {
    sql += " LIMIT ?";
    params.emplace_back(query.limit);
  }
  Rows r = db->query(sql, params);
  std::vector<ImageRecord> out;
  out.reserve(r.size());
  for (size_t i = 0; i < r.size(); ++i) out.push_back(image_from(r, i));
  return out;
}

nlohmann::json image_sort_value(const ImageRecord& image, const std::string& order_by) {
  if (order_by == "id") return image.id;
  if (order_by == "source_path") return image.source_path;
  if (order_by == "acquired_at") return image.acquired_at.value_or("");
  if (order_by == "imported_at") return image.imported_at;
  if (order_by == "focus") return image.focus.value_or(-1e300);
  if (order_by == "frame_index") return image.frame_index.value_or(-1);
  if (order_by == "width") return image.width;
  if (order_by == "height") return image.height;
  if (order_by == "byte_size") return image.byte_size;
  sort_key(order_by);  // throws the error naming the accepted keys
  return nullptr;
}

std::vector<ImageRecord> Catalog::list_images(const ImageQuery& query) {
  auto db = pool_->reader();
  return select_images(db.get(), query);
}

std::int64_t Catalog::count_images(const ImageQuery& query) {
  auto db = pool_->reader();
  SqlParams params;
  const std::string sql = "SELECT COUNT(*) FROM images i WHERE " + image_filter(db->dialect(), query, params);
  return db->query(sql, params).i64(0, 0);
}

std::vector<std::string> Catalog::sets_of_image(Id image_id) {
  auto db = pool_->reader();
  Rows r = db->query("SELECT st.name FROM image_sets st JOIN image_set_members m ON m.set_id = st.id "
                      "WHERE m.image_id = ? ORDER BY st.name",
                      {image_id});
  std::vector<std::string> out;
  for (size_t i = 0; i < r.size(); ++i) out.push_back(r.text(i, 0));
  return out;
}

std::vector<std::pair<std::string, std::string>> Catalog::image_paths(Id project_id) {
  auto db = pool_->reader();
  Rows r = db->query("SELECT source_path, blob_hash FROM images WHERE project_id = ?", {project_id});
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(r.size());
  for (size_t i = 0; i < r.size(); ++i) out.emplace_back(r.text(i, 0), r.text(i, 1));
  return out;
}

std::vector<std::string> Catalog::referenced_blobs() {
  auto db = pool_->reader();
  Rows r = db->query(
      "SELECT blob_hash FROM images UNION SELECT mask_blob FROM annotations WHERE mask_blob IS NOT NULL "
      "UNION SELECT mask_blob FROM objects WHERE mask_blob IS NOT NULL UNION SELECT blob_hash FROM models");
  std::set<std::string> out;
  for (size_t i = 0; i < r.size(); ++i) out.insert(r.text(i, 0));
  // Masks an annotation no longer shows are still referenced by its edit journal: undo restores them.
  Rows edits = db->query("SELECT diff FROM annotation_edits WHERE CAST(diff AS TEXT) LIKE '%mask_blob%'");
  for (size_t i = 0; i < edits.size(); ++i) {
    const nlohmann::json diff = nlohmann::json::parse(edits.text(i, 0), nullptr, false);
    if (!diff.is_object()) continue;
    for (const char* side : {"before", "after"}) {
      const auto state = diff.find(side);
      if (state == diff.end() || !state->is_object()) continue;
      const auto mask = state->find("mask_blob");
      if (mask != state->end() && mask->is_string()) out.insert(mask->get<std::string>());
    }
  }
  return {out.begin(), out.end()};
}

std::vector<Series> Catalog::list_series(Id project_id) {
  auto db = pool_->reader();
  Rows r = db->query("SELECT s.id, s.project_id, s.name, s.kind, s.key, "
                      "(SELECT COUNT(*) FROM images i WHERE i.series_id = s.id) FROM series s "
                      "WHERE s.project_id = ? ORDER BY s.name",
                      {project_id});
  std::vector<Series> out;
  for (size_t i = 0; i < r.size(); ++i) {
    out.push_back({r.i64(i, 0), r.i64(i, 1), r.text(i, 2), r.text(i, 3), parse_json(r.opt_text(i, 4)), r.i64(i, 5)});
  }
  return out;
}

ImageSet Catalog::get_set_locked(Connection* db, Id project_id, const std::string& name) {
  Rows r = db->query("SELECT st.id, st.project_id, st.name, st.description, st.query, st.created_at, "
                      "(SELECT COUNT(*) FROM image_set_members m WHERE m.set_id = st.id) "
                      "FROM image_sets st WHERE st.project_id = ? AND st.name = ?",
                      {project_id, name});
  if (r.empty()) throw Error(ErrorCode::not_found, fmt::format("no set named '{}'", name));
  return {r.i64(0, 0), r.i64(0, 1), r.text(0, 2), r.text(0, 3), r.opt_text(0, 4), r.text(0, 5), r.i64(0, 6)};
}

ImageSet Catalog::get_set(Id project_id, const std::string& name) {
  auto db = pool_->reader();
  return get_set_locked(db.get(), project_id, name);
}

ImageSet Catalog::create_set(Id project_id, const std::string& name, const std::string& where,
                             const std::string& description) {
  check_name("set", name);
  auto db = pool_->writer();
  // Compile first: a malformed filter is reported before anything is written.
  SqlParams params;
  ImageQuery query;
  query.project_id = project_id;
  query.where = where;
  const std::string filter = image_filter(db->dialect(), query, params);
  return in_transaction(*db, [&] {
    const std::string now = utc_now_iso();
    Rows existing = db->query("SELECT id FROM image_sets WHERE project_id = ? AND name = ?", {project_id, name});
    if (!existing.empty()) throw Error(ErrorCode::conflict, fmt::format("a set named '{}' already exists", name));
    const Id id = db->query("INSERT INTO image_sets (project_id, name, description, query, created_at) "
                             "VALUES (?, ?, ?, ?, ?) RETURNING id",
                             {project_id, name, description, where.empty() ? SqlValue(nullptr) : SqlValue(where), now})
                      .i64(0, 0);
    SqlParams all{id, now};
    for (auto& p : params) all.push_back(p);
    if (!where.empty()) {
      db->execute("INSERT INTO image_set_members (set_id, image_id, added_at) SELECT ?, i.id, ? FROM images i WHERE " +
                       filter,
                   all);
    }
    order_event_ids(*db);
    db->execute(fmt::format("INSERT INTO events (project_id, at, kind, subject_type, subject_id, payload) "
                             "VALUES (?, ?, 'set.created', 'set', ?, {})",
                             json_param(db->dialect())),
                 {project_id, now, id, nlohmann::json{{"name", name}, {"query", where}}.dump()});
    return get_set_locked(db.get(), project_id, name);
  });
}

ImageSet Catalog::ensure_set(Id project_id, const std::string& name) {
  check_name("set", name);
  auto db = pool_->writer();
  return in_transaction(*db, [&] {
    db->execute("INSERT INTO image_sets (project_id, name, created_at) VALUES (?, ?, ?) "
                 "ON CONFLICT (project_id, name) DO NOTHING",
                 {project_id, name, utc_now_iso()});
    return get_set_locked(db.get(), project_id, name);
  });
}

std::int64_t Catalog::add_to_set(Id project_id, const std::string& name, const std::vector<Id>& image_ids) {
  auto db = pool_->writer();
  return in_transaction(*db, [&] {
    const ImageSet set = get_set_locked(db.get(), project_id, name);
    const std::string now = utc_now_iso();
    std::int64_t added = 0;
    for (Id image : image_ids) {
      Rows found = db->query("SELECT id FROM images WHERE id = ? AND project_id = ?", {image, project_id});
      if (found.empty()) throw Error(ErrorCode::not_found, fmt::format("no image with id {} in this project", image));
      added += db->execute("INSERT INTO image_set_members (set_id, image_id, added_at) VALUES (?, ?, ?) "
                            "ON CONFLICT (set_id, image_id) DO NOTHING",
                            {set.id, image, now});
    }
    return added;
  });
}

std::int64_t Catalog::add_to_set_where(Id project_id, const std::string& name, const std::string& where) {
  auto db = pool_->writer();
  SqlParams params;
  ImageQuery query;
  query.project_id = project_id;
  query.where = where;
  const std::string filter = image_filter(db->dialect(), query, params);
  return in_transaction(*db, [&] {
    const ImageSet set = get_set_locked(db.get(), project_id, name);
    SqlParams all{set.id, utc_now_iso()};
    for (auto& p : params) all.push_back(p);
    return db->execute("INSERT INTO image_set_members (set_id, image_id, added_at) SELECT ?, i.id, ? FROM images i "
                        "WHERE " + filter + " ON CONFLICT (set_id, image_id) DO NOTHING",
                        all);
  });
}

std::int64_t Catalog::remove_from_set(Id project_id, const std::string& name, const std::vector<Id>& image_ids) {
  auto db = pool_->writer();
  return in_transaction(*db, [&] {
    const ImageSet set = get_set_locked(db.get(), project_id, name);
    std::int64_t removed = 0;
    for (Id image : image_ids) {
      removed += db->execute("DELETE FROM image_set_members WHERE set_id = ? AND image_id = ?", {set.id, image});
    }
    return removed;
  });
}

std::int64_t Catalog::remove_from_set_where(Id project_id, const std::string& name, const std::string& where) {
  auto db = pool_->writer();
  SqlParams params;
  ImageQuery query;
  query.project_id = project_id;
  query.where = where;
  const std::string filter = image_filter(db->dialect(), query, params);
  return in_transaction(*db, [&] {
    const ImageSet set = get_set_locked(db.get(), project_id, name);
    SqlParams all{set.id};
    for (auto& p : params) all.push_back(p);
    return db->execute("DELETE FROM image_set_members WHERE set_id = ? AND image_id IN (SELECT i.id FROM images i WHERE " +
                            filter + ")",
                        all);
  });
}

std::vector<ImageSet> Catalog::list_sets(Id project_id) {
  auto db = pool_->reader();
  Rows r = db->query("SELECT st.id, st.project_id, st.name, st.description, st.query, st.created_at, "
                      "(SELECT COUNT(*) FROM image_set_members m WHERE m.set_id = st.id) "
                      "FROM image_sets st WHERE st.project_id = ? ORDER BY st.name",
                      {project_id});
  std::vector<ImageSet> out;
  for (size_t i = 0; i < r.size(); ++i) {
    out.push_back({r.i64(i, 0), r.i64(i, 1), r.text(i, 2), r.text(i, 3), r.opt_text(i, 4), r.text(i, 5), r.i64(i, 6)});
  }
  return out;
}

void Catalog::delete_set(Id project_id, const std::string& name) {
  auto db = pool_->writer();
  in_transaction(*db, [&] {
    const ImageSet set = get_set_locked(db.get(), project_id, name);
    db->execute("DELETE FROM image_set_members WHERE set_id = ?", {set.id});
    db->execute("DELETE FROM image_sets WHERE id = ?", {set.id});
  });
}

std::vector<Tag> Catalog::upsert_tags(Id project_id, const std::vector<TagSpec>& tags) {
  std::set<std::string> names;
  for (const TagSpec& t : tags) {
    check_name("tag", t.name);
    if (!is_hex_color(t.color)) {
      throw Error(ErrorCode::invalid_argument, fmt::format("tag '{}': colour must be #RRGGBB, got '{}'", t.name, t.color));
    }
    if (t.parent && *t.parent == t.name) {
      throw Error(ErrorCode::invalid_argument, fmt::format("tag '{}' cannot be its own parent", t.name));
    }
    if (!names.insert(t.name).second) {
      throw Error(ErrorCode::invalid_argument, fmt::format("tag '{}' is listed twice", t.name));
    }
  }
  auto db = pool_->writer();
  in_transaction(*db, [&] {
    const std::string now = utc_now_iso();
    // Two passes: rows first, then parents, so a child may precede its parent in the list.
    for (const TagSpec& t : tags) {
      db->execute("INSERT INTO tags (project_id, name, color, kind, created_at) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT (project_id, name) DO UPDATE SET color = excluded.color, kind = excluded.kind",
                   {project_id, t.name, t.color, t.kind, now});
    }
    for (const TagSpec& t : tags) {
      std::optional<Id> parent_id;
      if (t.parent) {
        Rows p = db->query("SELECT id FROM tags WHERE project_id = ? AND name = ?", {project_id, *t.parent});
        if (p.empty()) {
          throw Error(ErrorCode::invalid_argument,
                      fmt::format("tag '{}': parent '{}' is neither in the file nor in the project", t.name, *t.parent));
        }
        parent_id = p.i64(0, 0);
      }
      db->execute("UPDATE tags SET parent_id = ? WHERE project_id = ? AND name = ?", {opt(parent_id), project_id, t.name});
    }
    // A parent chain must end: walk up from every tag and reject cycles (a -> b -> a).
    Rows all = db->query("SELECT id, parent_id FROM tags WHERE project_id = ?", {project_id});
    std::unordered_map<Id, std::optional<Id>> parent_of;
    for (size_t i = 0; i < all.size(); ++i) parent_of[all.i64(i, 0)] = all.opt_i64(i, 1);
    for (const auto& [id, parent] : parent_of) {
      std::set<Id> seen{id};
      for (auto p = parent; p; p = parent_of[*p]) {
        if (!seen.insert(*p).second) throw Error(ErrorCode::invalid_argument, "tag parents form a cycle");
      }
    }
  });
  return list_tags_locked(db.get(), project_id);
}

std::vector<Tag> Catalog::list_tags(Id project_id) {
  auto db = pool_->reader();
  return list_tags_locked(db.get(), project_id);
}

void Catalog::delete_tag(Id project_id, const std::string& name) {
  auto db = pool_->writer();
  in_transaction(*db, [&] {
    if (db->execute("DELETE FROM tags WHERE project_id = ? AND name = ?", {project_id, name}) == 0) {
      throw Error(ErrorCode::not_found, fmt::format("no tag named '{}'", name));
    }
  });
}

void Catalog::set_image_tag(Id project_id, Id image_id, const std::string& tag, bool on) {
  auto db = pool_->writer();
  in_transaction(*db, [&] {
    Rows t = db->query("SELECT id FROM tags WHERE project_id = ? AND name = ?", {project_id, tag});
    if (t.empty()) throw Error(ErrorCode::not_found, fmt::format("no tag named '{}'", tag));
    if (db->query("SELECT id FROM images WHERE id = ? AND project_id = ?", {image_id, project_id}).empty()) {
      throw Error(ErrorCode::not_found, fmt::format("no image with id {}", image_id));
    }
    if (on) {
      db->execute("INSERT INTO image_tags (image_id, tag_id) VALUES (?, ?) ON CONFLICT (image_id, tag_id) DO NOTHING",
                   {image_id, t.i64(0, 0)});
    } else {
      db->execute("DELETE FROM image_tags WHERE image_id = ? AND tag_id = ?", {image_id, t.i64(0, 0)});
    }
  });
}

std::vector<std::string> Catalog::tags_of_image(Id image_id) {
  auto db = pool_->reader();
  Rows r = db->query("SELECT t.name FROM tags t JOIN image_tags it ON it.tag_id = t.id WHERE it.image_id = ? ORDER BY t.name",
                      {image_id});
  std::vector<std::string> out;
  for (size_t i = 0; i < r.size(); ++i) out.push_back(r.text(i, 0));
  return out;
}

std::vector<double> Catalog::recent_focus(Id series_id, Id except_image, int count) {
  auto db = pool_->reader();
  Rows r = db->query("SELECT focus FROM images WHERE series_id = ? AND id <> ? AND focus IS NOT NULL "
                      "ORDER BY frame_index DESC, id DESC LIMIT ?",
                      {series_id, except_image, std::int64_t{count}});
  std::vector<double> out;
  for (size_t i = 0; i < r.size(); ++i) out.push_back(r.f64(i, 0));
  return out;
}

Id Catalog::start_run(Id project_id, const nlohmann::json& spec, const std::string& tessera_version,
                      const nlohmann::json& params, const nlohmann::json& inputs) {
  auto db = pool_->writer();
  const char* j = json_param(db->dialect());
  return in_transaction(*db, [&] {
    const std::string now = utc_now_iso();
    const Id id = db->query(fmt::format("INSERT INTO pipeline_runs (project_id, spec, tessera_version, params, inputs, "
                                         "status, started_at) VALUES (?, {0}, ?, {0}, {0}, 'running', ?) RETURNING id",
                                         j),
                             {project_id, spec.dump(), tessera_version, params.dump(), inputs.dump(), now})
                         .i64(0, 0);
    order_event_ids(*db);
    db->execute(fmt::format("INSERT INTO events (project_id, at, kind, subject_type, subject_id, payload) "
                             "VALUES (?, ?, 'run.started', 'run', ?, {})",
                             j),
                 {project_id, now, id, nlohmann::json{{"kind", spec.value("kind", "")}}.dump()});
    return id;
  });
}

void Catalog::finish_run(Id run_id, const std::string& status, const nlohmann::json& counts,
                         const std::optional<std::string>& error, double duration_s) {
  auto db = pool_->writer();
  const char* j = json_param(db->dialect());
  in_transaction(*db, [&] {
    const std::string now = utc_now_iso();
    db->execute(fmt::format("UPDATE pipeline_runs SET status = ?, counts = {}, error = ?, finished_at = ?, "
                             "duration_s = ? WHERE id = ?",
                             j),
                 {status, counts.dump(), opt(error), now, duration_s, run_id});
    order_event_ids(*db);
    db->execute(fmt::format("INSERT INTO events (project_id, at, kind, subject_type, subject_id, payload) "
                             "SELECT project_id, ?, 'run.finished', 'run', id, {} FROM pipeline_runs WHERE id = ?",
                             j),
                 {now, nlohmann::json{{"status", status}, {"counts", counts}}.dump(), run_id});
  });
}

namespace {

constexpr const char* kRunColumns =
    "SELECT id, spec, tessera_version, status, counts, error, started_at, duration_s, params, inputs, project_id "
    "FROM pipeline_runs ";

std::vector<Run> runs_from(Rows& r) {
  std::vector<Run> out;
  for (size_t i = 0; i < r.size(); ++i) {
    Run run;
    run.id = r.i64(i, 0);
    run.spec = parse_json(r.opt_text(i, 1));
    run.kind = run.spec.value("kind", "");
    run.tessera_version = r.text(i, 2);
    run.status = r.text(i, 3);
    run.counts = parse_json(r.opt_text(i, 4));
    run.error = r.opt_text(i, 5);
    run.started_at = r.text(i, 6);
    run.duration_s = r.opt_f64(i, 7);
    run.params = parse_json(r.opt_text(i, 8));
    run.inputs = parse_json(r.opt_text(i, 9));
    run.project_id = r.i64(i, 10);
    out.push_back(std::move(run));
  }
  return out;
}

}  // namespace

std::vector<Run> Catalog::list_runs(Id project_id) {
  auto db = pool_->reader();
  Rows r = db->query(std::string(kRunColumns) + "WHERE project_id = ? ORDER BY id", {project_id});
  return runs_from(r);
}

Run Catalog::get_run(Id run_id) {
  auto db = pool_->reader();
  Rows r = db->query(std::string(kRunColumns) + "WHERE id = ?", {run_id});
  auto runs = runs_from(r);
  if (runs.empty()) throw Error(ErrorCode::not_found, fmt::format("run {} does not exist", run_id));
  return std::move(runs.front());
}

std::vector<Id> Catalog::add_objects(Id project_id, std::optional<Id> run_id, Id image_id,
                                     const std::vector<NewObject>& objects) {
  auto db = pool_->writer();
  const std::string sql = fmt::format(
      "INSERT INTO objects (project_id, image_id, frame_index, parent_id, run_id, label, bbox_x0, bbox_y0, bbox_x1, "
      "bbox_y1, mask_blob, features, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {}, ?) RETURNING id",
      json_param(db->dialect()));
  return in_transaction(*db, [&] {
    const std::string now = utc_now_iso();
    std::vector<Id> ids;
    ids.reserve(objects.size());
    for (const NewObject& o : objects) {
      ids.push_back(db->query(sql, {project_id, image_id, o.frame_index, opt(o.parent_id), opt(run_id), o.label,
                                     o.bbox_x0, o.bbox_y0, o.bbox_x1, o.bbox_y1, opt(o.mask_blob), o.features.dump(), now})
                        .i64(0, 0));
    }
    return ids;
  });
}

std::vector<ObjectRecord> Catalog::list_objects(Id image_id, std::optional<Id> run_id) {
  auto db = pool_->reader();
  SqlParams params{image_id};
  std::string sql = "SELECT id, image_id, frame_index, run_id, label, bbox_x0, bbox_y0, bbox_x1, bbox_y1, features "
                    "FROM objects WHERE image_id = ?";
  if (run_id) {
    sql += " AND run_id = ?";
    params.emplace_back(*run_id);
  }
  sql += " ORDER BY id";
  Rows r = db->query(sql, params);
  std::vector<ObjectRecord> out;
  for (size_t i = 0; i < r.size(); ++i) {
    out.push_back({r.i64(i, 0), r.i64(i, 1), r.i64(i, 2), r.opt_i64(i, 3), r.i64(i, 4), r.i64(i, 5), r.i64(i, 6),
                   r.i64(i, 7), r.i64(i, 8), parse_json(r.opt_text(i, 9))});
  }
  return out;
}

std::vector<Tag> Catalog::list_tags_locked(Connection* db, Id project_id) {
  Rows r = db->query("SELECT t.id, t.project_id, t.name, t.color, t.kind, p.name FROM tags t "
                      "LEFT JOIN tags p ON p.id = t.parent_id WHERE t.project_id = ? ORDER BY t.name",
                      {project_id});
  std::vector<Tag> out;
  for (size_t i = 0; i < r.size(); ++i) {
    out.push_back({r.i64(i, 0), r.i64(i, 1), r.text(i, 2), r.text(i, 3), r.text(i, 4), r.opt_text(i, 5)});
  }
  return out;
}

Id Catalog::add_event(std::optional<Id> project_id, const NewEvent& event) {
  auto db = pool_->writer();
  // A transaction, so the ordering lock is held until the event is committed.
  return in_transaction(*db, [&] {
    order_event_ids(*db);
    return db->query(fmt::format("INSERT INTO events (project_id, at, kind, actor, subject_type, subject_id, payload) "
                                  "VALUES (?, ?, ?, ?, ?, ?, {}) RETURNING id",
                                  json_param(db->dialect())),
                      {opt(project_id), utc_now_iso(), event.kind, opt(event.actor), opt(event.subject_type),
                       opt(event.subject_id), event.payload.dump()})
        .i64(0, 0);
  });
}

std::vector<Event> Catalog::list_events(std::optional<Id> project_id, Id after_id, std::int64_t limit) {
  auto db = pool_->reader();
  SqlParams params{after_id};
  std::string sql = "SELECT id, project_id, at, kind, actor, subject_type, subject_id, payload FROM events WHERE id > ?";
  if (project_id) {
    sql += " AND project_id = ?";
    params.emplace_back(*project_id);
  }
  sql += " ORDER BY id LIMIT ?";
  params.emplace_back(limit);
  Rows r = db->query(sql, params);
  std::vector<Event> out;
  for (size_t i = 0; i < r.size(); ++i) {
    out.push_back({r.i64(i, 0), r.opt_i64(i, 1), r.text(i, 2), r.text(i, 3), r.opt_text(i, 4), r.opt_text(i, 5),
                   r.opt_i64(i, 6), parse_json(r.opt_text(i, 7))});
  }
  return out;
}

Id Catalog::last_event_id(std::optional<Id> project_id) {
  auto db = pool_->reader();
  Rows r = project_id ? db->query("SELECT MAX(id) FROM events WHERE project_id = ?", {*project_id})
                      : db->query("SELECT MAX(id) FROM events");
  return r.opt_i64(0, 0).value_or(0);
}

Summary Catalog::summary(std::optional<Id> project_id) {
  auto db = pool_->reader();
  const std::string p = project_id ? " WHERE project_id = ?" : "";
  SqlParams params;
  if (project_id) params.emplace_back(*project_id);
  auto count = [&](const std::string& sql) { return db->query(sql, params).i64(0, 0); };
  Summary s;
  s.projects = project_id ? 1 : count("SELECT COUNT(*) FROM projects");
  s.images = count("SELECT COUNT(*) FROM images" + p);
  s.bytes = count("SELECT COALESCE(SUM(byte_size), 0) FROM images" + p);
  s.series = count("SELECT COUNT(*) FROM series" + p);
  s.sets = count("SELECT COUNT(*) FROM image_sets" + p);
  s.tags = count("SELECT COUNT(*) FROM tags" + p);
  s.objects = count("SELECT COUNT(*) FROM objects" + p);
  s.events = count("SELECT COUNT(*) FROM events" + p);
  s.annotations = count(project_id ? "SELECT COUNT(*) FROM annotations a JOIN images i ON i.id = a.image_id "
                                     "WHERE a.deleted = 0 AND i.project_id = ?"
                                   : "SELECT COUNT(*) FROM annotations WHERE deleted = 0");
  return s;
}

}  // namespace tessera::catalog
