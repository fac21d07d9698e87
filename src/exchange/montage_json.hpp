#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace tessera::exchange {

// An integer member of a log object (Python writes ints, some tools floats with an integral value).
// Error{invalid_argument} naming source and key when missing, not a number or not integral.
int json_int(const nlohmann::json& log, std::string_view key, std::string_view source);

}  // namespace tessera::exchange
