#pragma once

// The envelope both classifiers save in: magic, format version, a JSON header (class names, options,
// provenance), then the forest's bytes. Kept in one place so both models check versions the same way.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tessera/learn/random_forest.hpp"

namespace tessera::learn::detail {

// magic: six ASCII characters naming the model kind ("TSRPXM").
std::string pack_model(std::string_view magic, std::uint32_t version, const nlohmann::json& header,
                       std::string_view forest_bytes);

struct UnpackedModel {
  nlohmann::json header;
  std::string_view forest_bytes;  // points into the bytes given to unpack_model
};

// Error{corrupt} naming `kind` when the magic is not `magic` or the bytes are truncated or the header is not
// JSON; Error{unsupported} naming both versions when the version differs from `version`.
UnpackedModel unpack_model(std::string_view bytes, std::string_view magic, std::uint32_t version,
                           std::string_view kind);

// Forest options as recorded in a model's header and provenance; from_json: Error{corrupt} naming `kind`.
nlohmann::json forest_options_json(const ForestOptions& options);
ForestOptions forest_options_from_json(const nlohmann::json& json, std::string_view kind);

}  // namespace tessera::learn::detail
