#include "exchange/zip_names.hpp"

namespace tessera::exchange {

std::string zip_name_problem(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name.size() > 65535) return "is longer than 65535 bytes";
  if (name.front() == '/') return "starts with '/'";
  if (name.back() == '/') return "ends with '/' (folders are implied by their files)";
  for (const char c : name) {
    if (c == '\\') return "contains '\\' (use '/')";
    if (static_cast<unsigned char>(c) < 0x20) return "contains a control character";
  }
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    const std::string_view part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return "has an empty, '.' or '..' part";
    start = end + 1;
  }
  return {};
}

}  // namespace tessera::exchange
