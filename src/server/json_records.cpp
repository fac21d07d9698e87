#include "server/json_records.hpp"

#include <fmt/format.h>

namespace tessera::server {
namespace {
template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}
}  // namespace

nlohmann::json to_json(const catalog::Project& p) {
  return {{"id", p.id}, {"name", p.name}, {"description", p.description}, {"created_at", p.created_at}};
}

nlohmann::json to_json(const catalog::ProjectAccess& a) {
  nlohmann::json j = to_json(a.project);
  j["role"] = catalog::to_string(a.role);
  return j;
}

nlohmann::json to_json(const catalog::User& u) {
  return {{"id", u.id}, {"name", u.name}, {"display_name", u.display_name}, {"created_at", u.created_at}};
}

nlohmann::json to_json(const catalog::ImageRecord& i) {
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
          {"frame_index", or_null(i.frame_index)},
          {"links",
           {{"self", fmt::format("/api/v1/images/{}", i.id)},
            {"raw", fmt::format("/api/v1/images/{}/raw", i.id)},
            {"tiles", fmt::format("/api/v1/images/{}/tiles", i.id)}}}};
}

nlohmann::json to_json(const catalog::Series& s) {
  return {{"id", s.id}, {"project_id", s.project_id}, {"name", s.name}, {"kind", s.kind}, {"key", s.key},
          {"frame_count", s.frame_count}};
}

nlohmann::json to_json(const catalog::ImageSet& s) {
  return {{"id", s.id},           {"project_id", s.project_id}, {"name", s.name},
          {"description", s.description}, {"query", or_null(s.query)}, {"created_at", s.created_at},
          {"image_count", s.image_count}};
}

nlohmann::json to_json(const catalog::Tag& t) {
  return {{"id", t.id}, {"project_id", t.project_id}, {"name", t.name}, {"color", t.color}, {"kind", t.kind},
          {"parent", or_null(t.parent)}};
}

nlohmann::json to_json(const catalog::Event& e) {
  return {{"id", e.id},
          {"project_id", or_null(e.project_id)},
          {"at", e.at},
          {"kind", e.kind},
          {"actor", or_null(e.actor)},
          {"subject_type", or_null(e.subject_type)},
          {"subject_id", or_null(e.subject_id)},
          {"payload", e.payload}};
}

nlohmann::json lease_holder_json(const catalog::Lease& lease) {
  return {{"image_id", lease.image_id},
          {"holder", lease.holder},
          {"holder_id", or_null(lease.holder_id)},
          {"expires_at", lease.expires_at}};
}

}  // namespace tessera::server
