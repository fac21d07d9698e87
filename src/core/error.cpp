#include "tessera/core/error.hpp"

namespace tessera {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::conflict: return "conflict";
    case ErrorCode::forbidden: return "forbidden";
    case ErrorCode::unsupported: return "unsupported";
    case ErrorCode::corrupt: return "corrupt";
    case ErrorCode::io: return "io";
    case ErrorCode::unavailable: return "unavailable";
    case ErrorCode::internal: return "internal";
  }
  return "internal";
}

int exit_code_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument:
    case ErrorCode::unsupported: return 2;
    case ErrorCode::not_found: return 3;
    case ErrorCode::conflict:
    case ErrorCode::forbidden: return 4;
    case ErrorCode::corrupt:
    case ErrorCode::io: return 5;
    case ErrorCode::unavailable:
    case ErrorCode::internal: return 1;
  }
  return 1;
}

}  // namespace tessera
