#pragma once

#include <string>
#include <string_view>

namespace tessera {

// One CSV field as RFC 4180 writes it: as is, or in double quotes (inner quotes doubled) when it holds a
// comma, a quote or a line break.
inline std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace tessera
