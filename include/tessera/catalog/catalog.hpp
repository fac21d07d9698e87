#pragma once

#include <memory>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tessera/catalog/records.hpp"

namespace tessera::catalog {

class Connection;      // private: src/catalog/db.hpp
class ConnectionPool;  // private: src/catalog/pool.hpp
struct CatalogAccess;  // private: src/catalog/access.hpp, for the per-concern stores (users, annotations, ...)

// The catalog of projects, images, series, sets, tags, annotations, locks, events, jobs, runs and
// objects. One interface, two backends chosen by URL: a SQLite file (the default) or PostgreSQL
// ("postgresql://..." or "postgres://..."). Migrations run on open. Every method that writes more than
// one row does so in one transaction. Thread-safe: writes are serialised on one connection, taken in arrival
// order; reads run in parallel on a few more.
class Catalog {
 public:
  // url: "sqlite:PATH", a plain file path, or a PostgreSQL URL. Error{unavailable} when it cannot connect.
  static std::unique_ptr<Catalog> open(const std::string& url);
  ~Catalog();

  std::string backend() const;  // "sqlite" or "postgresql"
  int schema_version() const { return schema_version_; }

  // Projects
  Project ensure_project(const std::string& name);  // creates it (and a 'project.created' event) if new
  std::optional<Project> find_project(const std::string& name);
  Project get_project(const std::string& name);  // Error{not_found}
  Project get_project(Id id);                     // Error{not_found}
  // Error{conflict} when the name is taken.
  Project create_project(const std::string& name, const std::string& description = "");
  std::vector<Project> list_projects();

  // Images
  // Adds images (and their series, set membership and one 'image.imported' event each) in one
  // transaction. Images whose (path, content) are already in the project are reported, not duplicated.
  AddImagesResult add_images(Id project_id, const std::vector<NewImage>& images,
                             const std::optional<std::string>& set_name = std::nullopt);
  std::optional<Id> find_image(Id project_id, const std::string& source_path, const std::string& blob_hash);
  ImageRecord get_image(Id id);  // Error{not_found}
  std::vector<ImageRecord> list_images(const ImageQuery& query);
  std::int64_t count_images(const ImageQuery& query);
  std::vector<std::string> sets_of_image(Id image_id);
  // Every (project, source path) -> hash pair, for fast re-import skipping.
  std::vector<std::pair<std::string, std::string>> image_paths(Id project_id);
  std::vector<std::string> referenced_blobs();

  // Series
  std::vector<Series> list_series(Id project_id);

  // Sets. A set made from a filter stores the filter text in `query`.
  ImageSet create_set(Id project_id, const std::string& name, const std::string& where,
                      const std::string& description = "");
  ImageSet ensure_set(Id project_id, const std::string& name);  // creates an empty set if missing
  std::int64_t add_to_set(Id project_id, const std::string& name, const std::vector<Id>& image_ids);
  std::int64_t add_to_set_where(Id project_id, const std::string& name, const std::string& where);
  std::int64_t remove_from_set(Id project_id, const std::string& name, const std::vector<Id>& image_ids);
  std::int64_t remove_from_set_where(Id project_id, const std::string& name, const std::string& where);
  std::vector<ImageSet> list_sets(Id project_id);
  ImageSet get_set(Id project_id, const std::string& name);  // Error{not_found}
  void delete_set(Id project_id, const std::string& name);

  // Tags: inserted or updated by name in one transaction; parents may be defined later in the same list.
  std::vector<Tag> upsert_tags(Id project_id, const std::vector<TagSpec>& tags);
  std::vector<Tag> list_tags(Id project_id);
  void delete_tag(Id project_id, const std::string& name);  // Error{not_found}
  // Whole-image tags (kind 'image' or any): on=true adds, false removes; Error{not_found} for an unknown tag.
  void set_image_tag(Id project_id, Id image_id, const std::string& tag, bool on);
  std::vector<std::string> tags_of_image(Id image_id);
  // Focus scores of a series' latest images (by frame, then id), newest first, excluding `except_image`.
  std::vector<double> recent_focus(Id series_id, Id except_image, int count);

  // Runs (how objects and exports were made) and their objects.
  Id start_run(Id project_id, const nlohmann::json& spec, const std::string& tessera_version,
               const nlohmann::json& params, const nlohmann::json& inputs);
  void finish_run(Id run_id, const std::string& status, const nlohmann::json& counts,
                  const std::optional<std::string>& error, double duration_s);
  std::vector<Run> list_runs(Id project_id);
  Run get_run(Id run_id);  // Error{not_found}
  // Stores the objects of one image in one transaction; returns their ids in order.
  std::vector<Id> add_objects(Id project_id, std::optional<Id> run_id, Id image_id, const std::vector<NewObject>& objects);
  std::vector<ObjectRecord> list_objects(Id image_id, std::optional<Id> run_id = std::nullopt);

  // Activity feed
  Id add_event(std::optional<Id> project_id, const NewEvent& event);
  std::vector<Event> list_events(std::optional<Id> project_id, Id after_id = 0, std::int64_t limit = 100);
  Id last_event_id(std::optional<Id> project_id);  // 0 when there are none

  Summary summary(std::optional<Id> project_id = std::nullopt);

 private:
  friend struct CatalogAccess;
  Catalog(std::unique_ptr<Connection> writer, std::function<std::unique_ptr<Connection>()> open_reader);

  // Helpers for methods that already hold a connection.
  ImageSet get_set_locked(Connection* db, Id project_id, const std::string& name);
  std::vector<ImageRecord> select_images(Connection* db, const ImageQuery& query);
  std::vector<Tag> list_tags_locked(Connection* db, Id project_id);

  std::unique_ptr<ConnectionPool> pool_;  // one writer, a few readers (src/catalog/pool.hpp)
  int schema_version_ = 0;
};

}  // namespace tessera::catalog
