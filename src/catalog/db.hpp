#pragma once

// A thin SQL access layer over the two catalog backends' C APIs (sqlite3, libpq).
// Why not SOCI: SOCI 4.0's row access demands the exact backend-reported column type, which differs between
// SQLite (declared affinity) and PostgreSQL (OIDs), so one portable query path would need per-backend
// casts everywhere. Materialised rows of tagged values keep every query written once.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tessera::catalog {

enum class Dialect { sqlite, postgresql };

using SqlValue = std::variant<std::nullptr_t, std::int64_t, double, std::string>;
using SqlParams = std::vector<SqlValue>;

// A fully read result. Accessors convert between the backends' representations (PostgreSQL returns
// text; SQLite typed values) and throw Error{internal} on a value that cannot convert.
class Rows {
 public:
  Rows() = default;
  Rows(std::vector<std::string> columns, std::vector<SqlValue> cells)
      : columns_(std::move(columns)), cells_(std::move(cells)) {}

  size_t size() const { return columns_.empty() ? 0 : cells_.size() / columns_.size(); }
  bool empty() const { return size() == 0; }
  size_t column_count() const { return columns_.size(); }
  const std::vector<std::string>& columns() const { return columns_; }

  bool is_null(size_t row, size_t col) const;
  std::int64_t i64(size_t row, size_t col) const;
  double f64(size_t row, size_t col) const;
  std::string text(size_t row, size_t col) const;
  std::optional<std::int64_t> opt_i64(size_t row, size_t col) const;
  std::optional<double> opt_f64(size_t row, size_t col) const;
  std::optional<std::string> opt_text(size_t row, size_t col) const;

 private:
  const SqlValue& cell(size_t row, size_t col) const { return cells_[row * columns_.size() + col]; }
  std::vector<std::string> columns_;
  std::vector<SqlValue> cells_;
};

// One database connection. SQL uses '?' placeholders; the PostgreSQL adapter numbers them. Not
// thread-safe: the catalog serialises access.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;
  virtual Rows query(std::string_view sql, const SqlParams& params = {}) = 0;
  virtual std::int64_t execute(std::string_view sql, const SqlParams& params = {}) = 0;  // rows affected
  virtual void execute_script(std::string_view sql) = 0;  // several statements, no parameters
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() = 0;
  // True for errors worth retrying the whole transaction for (SQLite busy, PostgreSQL serialization).
  virtual bool is_transient(const std::exception& e) const = 0;
};

std::unique_ptr<Connection> connect_sqlite(const std::string& path);
std::unique_ptr<Connection> connect_postgresql(const std::string& url);

}  // namespace tessera::catalog
