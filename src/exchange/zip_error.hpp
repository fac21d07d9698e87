#pragma once

#include <string>

#include <zip.h>

namespace tessera::exchange {

// libzip's text for an error code (zip_open fails before there is an archive to ask).
inline std::string zip_error_text(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string text = zip_error_strerror(&error);
  zip_error_fini(&error);
  return text;
}

}  // namespace tessera::exchange
