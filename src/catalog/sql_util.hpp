#pragma once

// Small SQL helpers every catalog source file shares (private to the catalog layer).

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "catalog/db.hpp"

namespace tessera::catalog {

// JSON parameter placeholder: PostgreSQL needs the text cast to jsonb.
inline const char* json_param(Dialect d) { return d == Dialect::postgresql ? "CAST(? AS jsonb)" : "?"; }

inline SqlValue opt(const std::optional<std::string>& v) { return v ? SqlValue(*v) : SqlValue(nullptr); }
inline SqlValue opt(const std::optional<std::int64_t>& v) { return v ? SqlValue(*v) : SqlValue(nullptr); }
inline SqlValue opt(const std::optional<double>& v) { return v ? SqlValue(*v) : SqlValue(nullptr); }

// An optional value as JSON: the value, or null.
template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

// "?, ?, ..., ?": n placeholders for an IN list or a VALUES row.
std::string placeholders(std::size_t n);

// A JSON column's text as a document; empty or NULL is {}. Error{corrupt} on malformed JSON.
nlohmann::json parse_json(const std::optional<std::string>& text);

// Error{invalid_argument} unless name is 1..200 characters; `what` names the kind of thing ("set").
void check_name(const std::string& what, const std::string& name);

// "#rrggbb"
bool is_hex_color(const std::string& c);

// Call in a write transaction right before inserting into events. Event ids are the feed's cursor
// (Last-Event-ID): a reader that has seen id N must never later find a committed event below N. On
// PostgreSQL, concurrent transactions (row writers, workers in other processes) take sequence ids in one order
// and commit in another; a transaction-scoped advisory lock taken before the insert and held until commit
// makes event-writing transactions take their ids in commit order. SQLite has one writer: nothing to do.
void order_event_ids(Connection& db);

// Inserts one event in the caller's write transaction (taking the order lock above first).
void insert_event(Connection& db, std::int64_t project_id, const std::string& at, const std::string& kind,
                  const std::string& actor, const std::string& subject_type, std::int64_t subject_id,
                  const nlohmann::json& payload);

}  // namespace tessera::catalog
