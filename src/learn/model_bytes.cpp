#include "model_bytes.hpp"

#include <fmt/format.h>

#include "tessera/core/error.hpp"

namespace tessera::learn::detail {
namespace {

constexpr size_t kMagicSize = 6;

void append_u64(std::string& out, std::uint64_t value) {
  for (int b = 0; b < 8; ++b) out.push_back(static_cast<char>((value >> (8 * b)) & 0xff));
}

std::uint64_t read_u64(std::string_view bytes, size_t pos) {
  std::uint64_t value = 0;
  for (int b = 0; b < 8; ++b) value |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[pos + b])) << (8 * b);
  return value;
}

// The envelope's parts, not yet checked against the caller's expectations.
struct Envelope {
  nlohmann::json header;
  std::string_view forest_bytes;  // points into the bytes given to open_envelope
};

Envelope open_envelope(std::string_view bytes, const ModelKind& kind) {
  if (bytes.size() < kMagicSize + 16 || bytes.substr(0, kMagicSize) != kind.magic) {
    throw Error(ErrorCode::corrupt, fmt::format("{}: the bytes are not a tessera {} ({} bytes, no '{}' header)",
                                                kind.name, kind.name, bytes.size(), kind.magic));
  }
  const std::uint64_t found = read_u64(bytes, kMagicSize);
  if (found != kind.version) {
    throw Error(ErrorCode::unsupported,
                fmt::format("{}: format version {} cannot be read; this tessera reads version {}; retrain the model",
                            kind.name, found, kind.version),
                {{"found_version", found}, {"supported_version", kind.version}});
  }
  const std::uint64_t header_size = read_u64(bytes, kMagicSize + 8);
  const size_t header_start = kMagicSize + 16;
  if (header_size > bytes.size() - header_start) {
    throw Error(ErrorCode::corrupt, fmt::format("{}: header of {} bytes is truncated", kind.name, header_size));
  }
  Envelope envelope;
  try {
    envelope.header = nlohmann::json::parse(bytes.substr(header_start, header_size));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::corrupt, fmt::format("{}: header is not JSON: {}", kind.name, e.what()));
  }
  if (!envelope.header.is_object()) {
    throw Error(ErrorCode::corrupt, fmt::format("{}: header is not a JSON object", kind.name));
  }
  envelope.forest_bytes = bytes.substr(header_start + header_size);
  return envelope;
}

}  // namespace

std::string save_model(const ModelKind& kind, const nlohmann::json& header, const RandomForest& forest) {
  if (forest.empty()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{}: 'model' is empty (not trained or loaded); nothing to save", kind.name));
  }
  const std::string header_text = header.dump();
  std::string out(kind.magic.substr(0, kMagicSize));
  append_u64(out, kind.version);
  append_u64(out, header_text.size());
  out += header_text;
  out += forest.to_bytes();
  return out;
}

RandomForest load_model(std::string_view bytes, const ModelKind& kind,
                        const std::function<ForestShape(const nlohmann::json& header)>& read_header) {
  const Envelope envelope = open_envelope(bytes, kind);
  ForestShape shape;
  try {
    shape = read_header(envelope.header);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::corrupt, fmt::format("{}: header is damaged: {}", kind.name, e.what()));
  } catch (const Error& e) {
    if (e.code() != ErrorCode::invalid_argument) throw;
    throw Error(ErrorCode::corrupt, fmt::format("{}: header is inconsistent: {}", kind.name, e.what()));
  }
  RandomForest forest = RandomForest::from_bytes(envelope.forest_bytes);
  if (forest.feature_count() != shape.features || forest.class_count() != shape.classes) {
    throw Error(ErrorCode::corrupt,
                fmt::format("{}: the forest has {} features and {} classes but the header describes {} and {}",
                            kind.name, forest.feature_count(), forest.class_count(), shape.features, shape.classes));
  }
  return forest;
}

nlohmann::json forest_options_json(const ForestOptions& options) {
  return {{"trees", options.trees},
          {"max_depth", options.max_depth},
          {"min_samples_leaf", options.min_samples_leaf},
          {"features_per_split", options.features_per_split},
          {"bootstrap", options.bootstrap},
          {"seed", options.seed}};
}

ForestOptions forest_options_from_json(const nlohmann::json& json, std::string_view kind) {
  try {
    ForestOptions options;
    options.trees = json.at("trees").get<int>();
    options.max_depth = json.at("max_depth").get<int>();
    options.min_samples_leaf = json.at("min_samples_leaf").get<int>();
    options.features_per_split = json.at("features_per_split").get<int>();
    options.bootstrap = json.at("bootstrap").get<bool>();
    options.seed = json.at("seed").get<std::uint64_t>();
    return options;
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::corrupt, fmt::format("{}: forest options in the header are damaged: {}", kind, e.what()));
  }
}

}  // namespace tessera::learn::detail
