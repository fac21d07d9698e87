#pragma once

// The envelope both classifiers save in: magic, format version, a JSON header (class names, options,
// provenance), then the forest's bytes. Kept in one place so both models check versions, translate header
// errors and match the forest to the header the same way.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tessera/learn/random_forest.hpp"

namespace tessera::learn::detail {

// What one kind of model is called in its bytes and in messages.
struct ModelKind {
  std::string_view magic;  // six ASCII characters, e.g. "TSRPXM"
  std::uint32_t version;   // the format version this tessera writes and reads
  std::string_view name;   // e.g. "pixel model"
};

// Envelope, header and forest. Error{invalid_argument} naming 'model' when the forest is empty.
std::string save_model(const ModelKind& kind, const nlohmann::json& header, const RandomForest& forest);

// The forest a header describes: how many features it reads and classes it predicts.
struct ForestShape {
  int features = 0;
  int classes = 0;
};

// Unpacks bytes of `kind`, hands the header to read_header (which fills the caller's model and returns the
// forest shape the header implies), then loads the forest and checks it has that shape. Error{corrupt}
// naming the kind for bytes that are not such a model, are truncated, a header read_header rejects (JSON
// errors or Error{invalid_argument}) or a forest of another shape; Error{unsupported} naming both versions
// for another format version.
RandomForest load_model(std::string_view bytes, const ModelKind& kind,
                        const std::function<ForestShape(const nlohmann::json& header)>& read_header);

// Forest options as recorded in a model's header and provenance; from_json: Error{corrupt} naming `kind`.
nlohmann::json forest_options_json(const ForestOptions& options);
ForestOptions forest_options_from_json(const nlohmann::json& json, std::string_view kind);

}  // namespace tessera::learn::detail
