#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tessera::catalog {

using Id = std::int64_t;

struct Project {
  Id id = 0;
  std::string name;
  std::string description;
  std::string created_at;
};

struct Series {
  Id id = 0;
  Id project_id = 0;
  std::string name;
  std::string kind;  // timelapse | zstack | video | other
  nlohmann::json key = nlohmann::json::object();
  std::int64_t frame_count = 0;
};

struct ImageRecord {
  Id id = 0;
  Id project_id = 0;
  std::string blob_hash;
  std::string source_path;
  std::string format;
  std::int64_t byte_size = 0;
  int width = 0;
  int height = 0;
  int channels = 0;
  std::string pixel_type;
  int frames = 1;
  std::optional<std::string> acquired_at;
  std::string imported_at;
  nlohmann::json metadata = nlohmann::json::object();
  std::optional<double> focus;
  std::optional<Id> series_id;
  std::optional<std::string> series_name;
  std::optional<std::int64_t> frame_index;
};

// A series an image should join, identified by name within the project (created on first use).
struct SeriesRef {
  std::string name;
  std::string kind = "timelapse";
  nlohmann::json key = nlohmann::json::object();
};

// An image to add. blob_hash names bytes already in the blob store.
struct NewImage {
  std::string blob_hash;
  std::string source_path;
  std::string format;
  std::int64_t byte_size = 0;
  int width = 0;
  int height = 0;
  int channels = 0;
  std::string pixel_type;
  int frames = 1;
  std::optional<std::string> acquired_at;
  nlohmann::json metadata = nlohmann::json::object();
  std::optional<double> focus;
  std::optional<SeriesRef> series;
  std::optional<std::int64_t> frame_index;
};

struct AddImagesResult {
  std::vector<Id> added;            // ids of new records, in input order of the new ones
  std::vector<Id> already_present;  // same project, path and content were already catalogued
};

struct ImageQuery {
  std::optional<Id> project_id;
  std::string where;               // the --where filter language (see src/catalog/where.hpp)
  std::optional<std::string> set;  // only members of this set (within project_id)
  std::optional<Id> series_id;
  std::optional<std::string> tag;  // only images carrying this whole-image tag (by name)
  std::optional<std::string> blob_hash;  // only images with these bytes
  std::optional<std::string> annotation_state;  // unannotated, annotated, ... (annotation_state.hpp)
  // Sort key: id (default), source_path, acquired_at, imported_at, focus, frame_index, width, height,
  // byte_size. Missing values (no acquisition time, no focus) sort first.
  std::string order_by = "id";
  bool descending = false;
  // Keyset cursor: rows after (after_value, after_id) in the sort order. With order_by "id" only after_id
  // counts; otherwise after_value is the previous page's last sort value (string or number).
  Id after_id = 0;
  nlohmann::json after_value;
  std::int64_t limit = -1;         // -1: no limit
};

// The value an image sorts by under ImageQuery::order_by (for building the next cursor).
nlohmann::json image_sort_value(const ImageRecord& image, const std::string& order_by);

struct ImageSet {
  Id id = 0;
  Id project_id = 0;
  std::string name;
  std::string description;
  std::optional<std::string> query;  // the filter it was created from, if any
  std::string created_at;
  std::int64_t image_count = 0;
};

struct Tag {
  Id id = 0;
  Id project_id = 0;
  std::string name;
  std::string color;
  std::string kind;
  std::optional<std::string> parent;  // parent tag's name
};

struct TagSpec {
  std::string name;
  std::string color = "#ff0000";
  std::string kind = "label";
  std::optional<std::string> parent;
};

struct Event {
  Id id = 0;
  std::optional<Id> project_id;
  std::string at;
  std::string kind;
  std::optional<std::string> actor;
  std::optional<std::string> subject_type;
  std::optional<Id> subject_id;
  nlohmann::json payload = nlohmann::json::object();
};

struct NewEvent {
  std::string kind;
  std::optional<std::string> actor;
  std::optional<std::string> subject_type;
  std::optional<Id> subject_id;
  nlohmann::json payload = nlohmann::json::object();
};

// A measured object to store: a region of an image (or of a parent object), with its features.
struct NewObject {
  std::int64_t label = 0;
  std::int64_t frame_index = 0;
  std::int64_t bbox_x0 = 0, bbox_y0 = 0, bbox_x1 = 0, bbox_y1 = 0;  // pixels, half-open
  nlohmann::json features = nlohmann::json::object();
  std::optional<std::string> mask_blob;
  std::optional<Id> parent_id;
};

struct ObjectRecord {
  Id id = 0;
  Id image_id = 0;
  std::int64_t frame_index = 0;
  std::optional<Id> run_id;
  std::int64_t label = 0;
  std::int64_t bbox_x0 = 0, bbox_y0 = 0, bbox_x1 = 0, bbox_y1 = 0;
  nlohmann::json features = nlohmann::json::object();
};

struct Run {
  Id id = 0;
  Id project_id = 0;
  std::string kind;  // spec["kind"]: "measure", "pipeline", ...
  nlohmann::json spec;
  std::string tessera_version;
  nlohmann::json params;
  nlohmann::json inputs;
  std::string status;  // running | succeeded | partial | failed | cancelled
  nlohmann::json counts;
  std::optional<std::string> error;
  std::string started_at;
  std::optional<double> duration_s;
};

struct Summary {
  std::int64_t projects = 0;
  std::int64_t images = 0;
  std::int64_t series = 0;
  std::int64_t sets = 0;
  std::int64_t tags = 0;
  std::int64_t annotations = 0;
  std::int64_t objects = 0;
  std::int64_t events = 0;
  std::int64_t bytes = 0;  // sum of image file sizes
};

}  // namespace tessera::catalog
