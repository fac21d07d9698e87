#include "catalog/sql_util.hpp"

#include <cctype>

#include <fmt/format.h>

#include "tessera/core/error.hpp"

namespace tessera::catalog {

nlohmann::json parse_json(const std::optional<std::string>& text) {
  if (!text || text->empty()) return nlohmann::json::object();
  try {
    return nlohmann::json::parse(*text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::corrupt, fmt::format("catalog holds malformed JSON: {}", e.what()));
  }
}

void check_name(const std::string& what, const std::string& name) {
  if (name.empty()) throw Error(ErrorCode::invalid_argument, fmt::format("{} name must not be empty", what));
  if (name.size() > 200) throw Error(ErrorCode::invalid_argument, fmt::format("{} name is longer than 200 characters", what));
}

bool is_hex_color(const std::string& c) {
  if (c.size() != 7 || c[0] != '#') return false;
  for (size_t i = 1; i < 7; ++i) {
    if (!std::isxdigit(static_cast<unsigned char>(c[i]))) return false;
  }
  return true;
}

void order_event_ids(Connection& db) {
  // Any fixed key: the lock only orders event writers among themselves ("tsev" in ASCII).
  constexpr std::int64_t kEventOrderLock = 0x74736576;
  if (db.dialect() == Dialect::postgresql) db.execute("SELECT pg_advisory_xact_lock(?)", {kEventOrderLock});
}

}  // namespace tessera::catalog
