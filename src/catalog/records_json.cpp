#include "tessera/catalog/records_json.hpp"

#include "catalog/sql_util.hpp"

namespace tessera::catalog {

nlohmann::json to_json(const Project& p) {
  return {{"id", p.id}, {"name", p.name}, {"description", p.description}, {"created_at", p.created_at}};
}

nlohmann::json to_json(const ProjectAccess& a) {
  nlohmann::json j = to_json(a.project);
  j["role"] = to_string(a.role);
  return j;
}

nlohmann::json to_json(const User& u) {
  return {{"id", u.id}, {"name", u.name}, {"display_name", u.display_name}, {"created_at", u.created_at}};
}

nlohmann::json to_json(const ImageRecord& i) {
  return {{"id", i.id},
          {"project_id", i.project_id},
          {"blob_hash", i.blob_hash},
          {"source_path", i.source_path},
          {"format", i.format},
          {"byte_size", i.byte_size},
          {"width", i.width},
          {"height", i.height},
          {"channels", i.channels},
          {"pixel_type", i.pixel_type},
          {"frames", i.frames},
          {"acquired_at", or_null(i.acquired_at)},
          {"imported_at", i.imported_at},
          {"metadata", i.metadata},
          {"focus", or_null(i.focus)},
          {"series_id", or_null(i.series_id)},
          {"series", or_null(i.series_name)},
          {"frame_index", or_null(i.frame_index)}};
}

nlohmann::json to_json(const Series& s) {
  return {{"id", s.id}, {"project_id", s.project_id}, {"name", s.name}, {"kind", s.kind}, {"key", s.key},
          {"frame_count", s.frame_count}};
}

nlohmann::json to_json(const ImageSet& s) {
  return {{"id", s.id},           {"project_id", s.project_id}, {"name", s.name},
          {"description", s.description}, {"query", or_null(s.query)}, {"created_at", s.created_at},
          {"image_count", s.image_count}};
}

nlohmann::json to_json(const Tag& t) {
  return {{"id", t.id}, {"project_id", t.project_id}, {"name", t.name}, {"color", t.color}, {"kind", t.kind},
          {"parent", or_null(t.parent)}};
}

nlohmann::json to_json(const Event& e) {
  return {{"id", e.id},
          {"project_id", or_null(e.project_id)},
          {"at", e.at},
          {"kind", e.kind},
          {"actor", or_null(e.actor)},
          {"subject_type", or_null(e.subject_type)},
          {"subject_id", or_null(e.subject_id)},
          {"payload", e.payload}};
}

}  // namespace tessera::catalog
