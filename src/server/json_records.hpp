#pragma once

// How catalog records look in the API's JSON (docs/api.md). One place, so every endpoint agrees.

#include <nlohmann/json.hpp>

#include "tessera/catalog/catalog.hpp"
#include "tessera/catalog/locks.hpp"
#include "tessera/catalog/users.hpp"

namespace tessera::server {

nlohmann::json to_json(const catalog::Project& project);
nlohmann::json to_json(const catalog::ProjectAccess& access);  // project + "role"
nlohmann::json to_json(const catalog::User& user);
nlohmann::json to_json(const catalog::ImageRecord& image);
nlohmann::json to_json(const catalog::Series& series);
nlohmann::json to_json(const catalog::ImageSet& set);
nlohmann::json to_json(const catalog::Tag& tag);
nlohmann::json to_json(const catalog::Event& event);
// Who holds a lease and until when: the details of every 409/423 answer a lease causes (never the token).
nlohmann::json lease_holder_json(const catalog::Lease& lease);

}  // namespace tessera::server
