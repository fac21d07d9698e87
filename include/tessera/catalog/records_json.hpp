#pragma once

// How catalog records look as JSON, in one place: the API's answers (docs/api.md) and the CLI's --json
// print the same keys. The server adds only what is its own (links to its endpoints).

#include <nlohmann/json.hpp>

#include "tessera/catalog/catalog.hpp"
#include "tessera/catalog/users.hpp"

namespace tessera::catalog {

nlohmann::json to_json(const Project& project);
nlohmann::json to_json(const ProjectAccess& access);  // project + "role"
nlohmann::json to_json(const User& user);
nlohmann::json to_json(const ImageRecord& image);
nlohmann::json to_json(const Series& series);
nlohmann::json to_json(const ImageSet& set);
nlohmann::json to_json(const Tag& tag);
nlohmann::json to_json(const Event& event);

}  // namespace tessera::catalog
