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

std::string placeholders(std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += i == 0 ? "?" : ", ?";
  return out;
}

void insert_event(Connection& db, std::int64_t project_id, const std::string& at, const std::string& kind,
                  const std::string& actor, const std::string& subject_type, std::int64_t subject_id,
                  const nlohmann::json& payload) {
  order_event_ids(db);
  db.execute(fmt::format("INSERT INTO events (project_id, at, kind, actor, subject_type, subject_id, payload) "
                         "VALUES (?, ?, ?, ?, ?, ?, {})",
                         json_param(db.dialect())),
             {project_id, at, kind, actor, subject_type, subject_id, payload.dump()});
}

}  // namespace tessera::catalog
