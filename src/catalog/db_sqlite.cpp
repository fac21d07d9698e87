#include <sqlite3.h>

#include <unordered_map>

#include <fmt/format.h>

#include "catalog/db.hpp"
#include "tessera/core/error.hpp"

namespace tessera::catalog {
namespace {

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(const std::string& path) : path_(path) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      db_ = nullptr;
      throw Error(ErrorCode::unavailable, fmt::format("cannot open SQLite catalog '{}': {}", path, message));
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 30000);
    // WAL lets readers (`tessera ls`, the server) work while an import writes; NORMAL sync is durable
    // against process crashes and keeps the file consistent on power loss.
    execute_script("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  }

  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  Dialect dialect() const override { return Dialect::sqlite; }

  Rows query(std::string_view sql, const SqlParams& params) override {
    sqlite3_stmt* stmt = prepare(sql, params);
    const int columns = sqlite3_column_count(stmt);
    std::vector<std::string> names;
    names.reserve(static_cast<size_t>(columns));
    for (int c = 0; c < columns; ++c) names.emplace_back(sqlite3_column_name(stmt, c));
    std::vector<SqlValue> cells;
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) fail(rc, sql, stmt);
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_NULL: cells.emplace_back(nullptr); break;
          case SQLITE_INTEGER: cells.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(stmt, c))); break;
          case SQLITE_FLOAT: cells.emplace_back(sqlite3_column_double(stmt, c)); break;
          default: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
            cells.emplace_back(std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
          }
        }
      }
    }
    sqlite3_reset(stmt);
    return Rows(std::move(names), std::move(cells));
  }

  std::int64_t execute(std::string_view sql, const SqlParams& params) override {
    sqlite3_stmt* stmt = prepare(sql, params);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) fail(rc, sql, stmt);
    sqlite3_reset(stmt);
    return sqlite3_changes64(db_);
  }

  void execute_script(std::string_view sql) override {
    char* message = nullptr;
    const std::string text(sql);
    const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
    if (rc != SQLITE_OK) {
      std::string what = message ? message : sqlite3_errstr(rc);
      sqlite3_free(message);
      throw Error(code_for(rc), fmt::format("SQLite catalog '{}': {}", path_, what), {{"sqlite_code", rc}});
    }
  }

  // IMMEDIATE takes the write lock up front, so two writers wait on busy_timeout instead of deadlocking
  // on a read-to-write upgrade.
  void begin() override { execute_script("BEGIN IMMEDIATE"); }
  void commit() override { execute_script("COMMIT"); }
  void rollback() override {
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

  bool is_transient(const std::exception& e) const override {
    const auto* error = dynamic_cast<const Error*>(&e);
    if (error == nullptr || !error->details().contains("sqlite_code")) return false;
    const int rc = error->details()["sqlite_code"].get<int>() & 0xff;
    return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
  }

 private:
  static ErrorCode code_for(int rc) {
    switch (rc & 0xff) {
      case SQLITE_CONSTRAINT: return ErrorCode::conflict;
      case SQLITE_BUSY:
      case SQLITE_LOCKED: return ErrorCode::unavailable;
      case SQLITE_CORRUPT:
      case SQLITE_NOTADB: return ErrorCode::corrupt;
      case SQLITE_IOERR:
      case SQLITE_FULL:
      case SQLITE_CANTOPEN: return ErrorCode::io;
      default: return ErrorCode::internal;
    }
  }

  [[noreturn]] void fail(int rc, std::string_view sql, sqlite3_stmt* stmt) {
    std::string message = sqlite3_errmsg(db_);
    if (stmt) sqlite3_reset(stmt);
    throw Error(code_for(rc), fmt::format("SQLite catalog: {} (in: {})", message, sql.substr(0, 120)),
                {{"sqlite_code", rc}});
  }

  sqlite3_stmt* prepare(std::string_view sql, const SqlParams& params) {
    sqlite3_stmt* stmt = nullptr;
    auto it = cache_.find(std::string(sql));
    if (it != cache_.end()) {
      stmt = it->second;
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
    } else {
      const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
      if (rc != SQLITE_OK) fail(rc, sql, nullptr);
      if (cache_.size() > 256) {
        for (auto& [text, cached] : cache_) sqlite3_finalize(cached);
        cache_.clear();
      }
      cache_.emplace(std::string(sql), stmt);
    }
    if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(stmt)) {
      throw Error(ErrorCode::internal, fmt::format("catalog: {} parameters for {} placeholders in: {}", params.size(),
                                                   sqlite3_bind_parameter_count(stmt), sql.substr(0, 120)));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::nullptr_t>) sqlite3_bind_null(stmt, index);
            else if constexpr (std::is_same_v<T, std::int64_t>) sqlite3_bind_int64(stmt, index, v);
            else if constexpr (std::is_same_v<T, double>) sqlite3_bind_double(stmt, index, v);
            else sqlite3_bind_text(stmt, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
          },
          params[i]);
    }
    return stmt;
  }

  std::string path_;
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace

std::unique_ptr<Connection> connect_sqlite(const std::string& path) {
  return std::make_unique<SqliteConnection>(path);
}

}  // namespace tessera::catalog
