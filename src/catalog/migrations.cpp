#include "catalog/migrations.hpp"

#include <fmt/format.h>

#include "tessera/core/clock.hpp"
#include "tessera/core/error.hpp"

namespace tessera::catalog {
namespace {

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (size_t pos = 0; (pos = text.find(from, pos)) != std::string::npos; pos += to.size()) {
    text.replace(pos, from.size(), to);
  }
}

int version_of(const char* name) { return std::atoi(name); }

int stored_version(Connection& db) {
  Rows rows = db.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  return static_cast<int>(rows.i64(0, 0));
}

}  // namespace

std::string render_migration(const std::string& sql, Dialect dialect) {
  // Lines after "--@sqlite" or "--@postgresql" belong to that backend only, up to the next marker
  // ("--@all" returns to shared lines).
  std::string out;
  bool keep = true;
  size_t start = 0;
  while (start < sql.size()) {
    size_t end = sql.find('\n', start);
    if (end == std::string::npos) end = sql.size();
    const std::string_view line(sql.data() + start, end - start);
    if (line.starts_with("--@")) {
      const std::string_view which = line.substr(3);
      keep = which.starts_with("all") || (which.starts_with("sqlite") && dialect == Dialect::sqlite) ||
             (which.starts_with("postgresql") && dialect == Dialect::postgresql);
    } else if (keep) {
      out.append(line);
      out += '\n';
    }
    start = end + 1;
  }
  if (dialect == Dialect::sqlite) {
    replace_all(out, "{{pk}}", "INTEGER PRIMARY KEY AUTOINCREMENT");
    replace_all(out, "{{json}}", "TEXT");
  } else {
    replace_all(out, "{{pk}}", "BIGSERIAL PRIMARY KEY");
    replace_all(out, "{{json}}", "JSONB");
  }
  return out;
}

int latest_schema_version() {
  const auto& all = embedded_migrations();
  return all.empty() ? 0 : version_of(all.back().name);
}

int migrate(Connection& db) {
  db.execute_script(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
      "applied_at TEXT NOT NULL)");
  int version = stored_version(db);
  if (version > latest_schema_version()) {
    throw Error(ErrorCode::unsupported,
                fmt::format("catalog schema version {} is newer than this tessera understands ({}); upgrade tessera",
                            version, latest_schema_version()));
  }
  // Every migration not yet recorded is applied, in order: a catalog missing one in the middle (restored
  // from an old copy of one table, or the upgrade tests' simulated old catalogs) gets exactly that one.
  auto applied = [&db](int number) {
    return !db.query("SELECT version FROM schema_migrations WHERE version = ?", {std::int64_t{number}}).empty();
  };
  for (const auto& migration : embedded_migrations()) {
    const int number = version_of(migration.name);
    if (applied(number)) continue;
    db.begin();
    try {
      if (db.dialect() == Dialect::postgresql) {
        // Two processes opening a fresh catalog at once: the advisory lock makes the second wait and
        // then see the version the first one applied.
        db.execute_script("SELECT pg_advisory_xact_lock(7365721)");
      }
      if (applied(number)) {
        db.rollback();
        continue;
      }
      const std::string script = render_migration(migration.sql, db.dialect());
      if (db.dialect() == Dialect::sqlite && script.find("writable_schema") != std::string::npos) {
        // An edited stored definition takes effect once the schema cookie changes: bump it in the same
        // transaction so this and every other open connection reload the schema.
        const std::int64_t cookie = db.query("PRAGMA schema_version").i64(0, 0);
        db.execute_script(script);
        db.execute_script(fmt::format("PRAGMA schema_version = {}", cookie + 1));
      } else {
        db.execute_script(script);
      }
      db.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                 {std::int64_t{number}, std::string(migration.name), utc_now_iso()});
      db.commit();
    } catch (...) {
      db.rollback();
      throw;
    }
  }
  version = stored_version(db);
  return version;
}

}  // namespace tessera::catalog
