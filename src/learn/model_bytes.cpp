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

}  // namespace

std::string pack_model(std::string_view magic, std::uint32_t version, const nlohmann::json& header,
                       std::string_view forest_bytes) {
  const std::string header_text = header.dump();
  std::string out(magic.substr(0, kMagicSize));
  append_u64(out, version);
  append_u64(out, header_text.size());
  out += header_text;
  out += forest_bytes;
  return out;
}

UnpackedModel unpack_model(std::string_view bytes, std::string_view magic, std::uint32_t version,
                           std::string_view kind) {
  if (bytes.size() < kMagicSize + 16 || bytes.substr(0, kMagicSize) != magic) {
    throw Error(ErrorCode::corrupt, fmt::format("{}: the bytes are not a tessera {} ({} bytes, no '{}' header)",
                                                kind, kind, bytes.size(), magic));
  }
  const std::uint64_t found = read_u64(bytes, kMagicSize);
  if (found != version) {
    throw Error(ErrorCode::unsupported,
                fmt::format("{}: format version {} cannot be read; this tessera reads version {}; retrain the model",
                            kind, found, version),
                {{"found_version", found}, {"supported_version", version}});
  }
  const std::uint64_t header_size = read_u64(bytes, kMagicSize + 8);
  const size_t header_start = kMagicSize + 16;
  if (header_size > bytes.size() - header_start) {
    throw Error(ErrorCode::corrupt, fmt::format("{}: header of {} bytes is truncated", kind, header_size));
  }
  UnpackedModel model;
  try {
    model.header = nlohmann::json::parse(bytes.substr(header_start, header_size));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::corrupt, fmt::format("{}: header is not JSON: {}", kind, e.what()));
  }
  if (!model.header.is_object()) throw Error(ErrorCode::corrupt, fmt::format("{}: header is not a JSON object", kind));
  model.forest_bytes = bytes.substr(header_start + header_size);
  return model;
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
