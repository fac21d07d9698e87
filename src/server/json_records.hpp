#pragma once

// How catalog records look in the API's JSON (docs/api.md). The records themselves are the catalog's
// (tessera/catalog/records_json.hpp, shared with the CLI's --json); the server adds links to its endpoints.

#include <nlohmann/json.hpp>

#include "tessera/catalog/catalog.hpp"
#include "tessera/catalog/locks.hpp"
#include "tessera/catalog/records_json.hpp"
#include "tessera/catalog/users.hpp"

namespace tessera::server {

using catalog::to_json;

// An image record with the links to its own, raw and tiles endpoints.
nlohmann::json image_json(const catalog::ImageRecord& image);
// Who holds a lease and until when: the details of every 409/423 answer a lease causes (never the token).
nlohmann::json lease_holder_json(const catalog::Lease& lease);

}  // namespace tessera::server
