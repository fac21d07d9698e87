#include "format.hpp"

namespace tessera::cli {

nlohmann::json to_json(const catalog::ImageRecord& i) {
  nlohmann::json j = {{"id", i.id},
                      {"path", i.source_path},
                      {"hash", i.blob_hash},
                      {"format", i.format},
                      {"size", i.byte_size},
                      {"width", i.width},
                      {"height", i.height},
                      {"channels", i.channels},
                      {"pixel_type", i.pixel_type},
                      {"frames", i.frames},
                      {"imported_at", i.imported_at},
                      {"metadata", i.metadata}};
  j["acquired_at"] = i.acquired_at ? nlohmann::json(*i.acquired_at) : nlohmann::json(nullptr);
  j["focus"] = i.focus ? nlohmann::json(*i.focus) : nlohmann::json(nullptr);
  j["series"] = i.series_name ? nlohmann::json(*i.series_name) : nlohmann::json(nullptr);
  j["frame"] = i.frame_index ? nlohmann::json(*i.frame_index) : nlohmann::json(nullptr);
  return j;
}

nlohmann::json to_json(const catalog::ImageSet& s) {
  return {{"id", s.id},
          {"name", s.name},
          {"description", s.description},
          {"query", s.query ? nlohmann::json(*s.query) : nlohmann::json(nullptr)},
          {"created_at", s.created_at},
          {"images", s.image_count}};
}

nlohmann::json to_json(const catalog::Tag& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"color", t.color},
          {"kind", t.kind},
          {"parent", t.parent ? nlohmann::json(*t.parent) : nlohmann::json(nullptr)}};
}

nlohmann::json to_json(const catalog::Event& e) {
  nlohmann::json j = {{"id", e.id}, {"at", e.at}, {"kind", e.kind}, {"payload", e.payload}};
  j["subject_type"] = e.subject_type ? nlohmann::json(*e.subject_type) : nlohmann::json(nullptr);
  j["subject_id"] = e.subject_id ? nlohmann::json(*e.subject_id) : nlohmann::json(nullptr);
  return j;
}

}  // namespace tessera::cli
