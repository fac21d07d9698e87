#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include <fmt/format.h>

#include "catalog/db.hpp"

namespace tessera::catalog::fixture {

// A name no other test (in this process or a parallel ctest process) uses: pid, counter, random.
inline std::string unique_suffix() {
  static std::atomic<int> counter{0};
  static std::mt19937_64 random{std::random_device{}()};
  return fmt::format("{}_{}_{:08x}", ::getpid(), counter++, random() & 0xffffffffu);
}

// A fresh SQLite catalog file under the temp directory per test; the file and its WAL are removed after.
class SqliteBackend {
 public:
  static constexpr const char* kName = "Sqlite";
  static constexpr const char* kBackend = "sqlite";

  std::optional<std::string> skip_reason() const { return std::nullopt; }

  // Returns the catalog URL.
  std::string create() {
    path_ = std::filesystem::temp_directory_path() / fmt::format("tessera_catalog_test_{}.db", unique_suffix());
    return "sqlite:" + path_.string();
  }

  // A second connection to the same catalog, to check rows the Catalog API does not expose.
  std::unique_ptr<Connection> raw() const { return connect_sqlite(path_.string()); }

  void destroy() {
    if (path_.empty()) return;
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(path_.string() + suffix, ignored);
    }
    path_.clear();
  }

 private:
  std::filesystem::path path_;
};

// The URL with its database name replaced: postgresql://user@host:port/DB?options.
inline std::string with_database(const std::string& url, const std::string& database) {
  const size_t scheme = url.find("://");
  const size_t authority = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t query = url.find('?', authority);
  const size_t slash = url.find('/', authority);
  const size_t end = query == std::string::npos ? url.size() : query;
  if (slash == std::string::npos || slash > end) return url.substr(0, end) + "/" + database + url.substr(end);
  return url.substr(0, slash + 1) + database + url.substr(end);
}

// A fresh PostgreSQL database per test on the server named by TESSERA_TEST_PG_URL (whose role may create
// databases), dropped WITH (FORCE) after. Tests skip, saying why, when the variable is unset.
class PostgresBackend {
 public:
  static constexpr const char* kName = "Postgresql";
  static constexpr const char* kBackend = "postgresql";

  std::optional<std::string> skip_reason() const {
    const char* url = std::getenv("TESSERA_TEST_PG_URL");
    if (url == nullptr || *url == '\0') {
      return "TESSERA_TEST_PG_URL is not set; start a server with `scripts/pg-test-server.sh start` and export "
             "the URL it prints to run the PostgreSQL catalog tests";
    }
    return std::nullopt;
  }

  std::string create() {
    admin_url_ = std::getenv("TESSERA_TEST_PG_URL");
    database_ = "tessera_t_" + unique_suffix();
    // CREATE DATABASE cannot run in a transaction; execute_script sends it alone, in autocommit.
    connect_postgresql(admin_url_)->execute_script(fmt::format("CREATE SCHEMA {}", database_));
    url_ = admin_url_ + (admin_url_.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + database_;
    return url_;
  }

  std::unique_ptr<Connection> raw() const { return connect_postgresql(url_); }

  void destroy() {
    if (database_.empty()) return;
    connect_postgresql(admin_url_)->execute_script(fmt::format("DROP SCHEMA IF EXISTS {} CASCADE", database_));
    database_.clear();
  }

 private:
  std::string admin_url_;
  std::string database_;
  std::string url_;
};

// Names typed-test instantiations after their backend: CatalogTest/Sqlite.*, CatalogTest/Postgresql.*.
struct BackendNames {
  template <typename Backend>
  static std::string GetName(int) {
    return Backend::kName;
  }
};

}  // namespace tessera::catalog::fixture
