#pragma once

#include <nlohmann/json.hpp>

#include "tessera/catalog/records.hpp"

namespace tessera::cli {

nlohmann::json to_json(const catalog::ImageRecord& image);
nlohmann::json to_json(const catalog::ImageSet& set);
nlohmann::json to_json(const catalog::Tag& tag);
nlohmann::json to_json(const catalog::Event& event);

}  // namespace tessera::cli
