#include "server/json_records.hpp"

#include <fmt/format.h>

namespace tessera::server {

nlohmann::json image_json(const catalog::ImageRecord& image) {
  nlohmann::json j = to_json(image);
  j["links"] = {{"self", fmt::format("/api/v1/images/{}", image.id)},
                {"raw", fmt::format("/api/v1/images/{}/raw", image.id)},
                {"tiles", fmt::format("/api/v1/images/{}/tiles", image.id)}};
  return j;
}

nlohmann::json lease_holder_json(const catalog::Lease& lease) {
  return {{"image_id", lease.image_id},
          {"holder", lease.holder},
          {"holder_id", lease.holder_id ? nlohmann::json(*lease.holder_id) : nlohmann::json(nullptr)},
          {"expires_at", lease.expires_at}};
}

}  // namespace tessera::server
