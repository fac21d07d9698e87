#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tessera {

// What went wrong, coarse enough for every boundary to map it once: the CLI to an exit code, the server
// to an HTTP status, the job runner to a failed job.
enum class ErrorCode {
  invalid_argument,
  not_found,
  conflict,
  forbidden,
  unsupported,
  corrupt,
  io,
  unavailable,
  internal,
};

std::string_view to_string(ErrorCode code);

// The one exception type code above image/ and catalog/ sees. Third-party exceptions are wrapped where
// the library is called, with what we were doing.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message, nlohmann::json details = nullptr)
      : std::runtime_error(message), code_(code), details_(std::move(details)) {}

  ErrorCode code() const { return code_; }
  const nlohmann::json& details() const { return details_; }

 private:
  ErrorCode code_;
  nlohmann::json details_;
};

// CLI exit status for an error code: 2 for usage problems, 3 not found, 4 conflict, 5 corrupt/io, 1 else.
int exit_code_for(ErrorCode code);

}  // namespace tessera
