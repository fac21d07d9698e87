#pragma once

// Catalog backends for typed test suites (see tests/catalog/catalog_test.cpp): each test gets an
// empty catalog of its own, on SQLite always and on PostgreSQL when TESSERA_TEST_PG_URL names a
// server.

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "catalog/db.hpp"
#include "tessera/catalog/catalog.hpp"

namespace tessera::catalog::fixture {

// A name no other test (in this process or a parallel ctest process) uses: pid, counter, random.
inline std::string unique_suffix() {
  static std::atomic<int> counter{0};
  static std::mt19937_64 random{std::random_device{}()};
  return fmt::format("{}_{}_{:08x}", ::getpid(), counter++, random() & 0xffffffffu);
}

// A fresh SQLite catalog file under the temp directory per test; the file and its WAL are removed
// after.
class SqliteBackend {
 public:
  static constexpr const char* kName = "Sqlite";
  static constexpr const char* kBackend = "sqlite";

  std::optional<std::string> skip_reason() const { return std::nullopt; }

  // Returns the catalog URL.
  std::string create() {
    path_ = std::filesystem::temp_directory_path() /
            fmt::format("tessera_catalog_test_{}.db", unique_suffix());
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

// The URL with a libpq `options` parameter making `schema` the only schema searched, so every
// unqualified table the catalog creates and reads lives there:
// postgresql://u@h:p/db?options=-csearch_path%3Dschema.
inline std::string with_search_path(const std::string& url, const std::string& schema) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
         schema;
}

// A fresh PostgreSQL schema per test in the database named by TESSERA_TEST_PG_URL, dropped
// (CASCADE) after. A schema rather than a database per test: CREATE DATABASE costs more than the
// migrations themselves and needs template1 idle, while every catalog table is unqualified and so
// follows search_path. Tests skip, saying why, when the variable is unset; they fail when it is set
// and the server cannot be reached.
class PostgresBackend {
 public:
  static constexpr const char* kName = "Postgresql";
  static constexpr const char* kBackend = "postgresql";

  std::optional<std::string> skip_reason() const {
    const char* url = std::getenv("TESSERA_TEST_PG_URL");
    if (url == nullptr || *url == '\0') {
      return "TESSERA_TEST_PG_URL is not set; start a server with `scripts/pg-test-server.sh "
             "start` and export "
             "the URL it prints to run the PostgreSQL catalog tests";
    }
    return std::nullopt;
  }

  std::string create() {
    admin_url_ = std::getenv("TESSERA_TEST_PG_URL");
    schema_ = "tessera_t_" + unique_suffix();
    connect_postgresql(admin_url_)->execute_script(fmt::format("CREATE SCHEMA {}", schema_));
    url_ = with_search_path(admin_url_, schema_);
    return url_;
  }

  std::unique_ptr<Connection> raw() const { return connect_postgresql(url_); }

  void destroy() {
    if (schema_.empty()) return;
    connect_postgresql(admin_url_)
        ->execute_script(fmt::format("DROP SCHEMA IF EXISTS {} CASCADE", schema_));
    schema_.clear();
  }

 private:
  std::string admin_url_;
  std::string schema_;
  std::string url_;
};

// Names typed-test instantiations after their backend: CatalogTest/Sqlite.*,
// CatalogTest/Postgresql.*.
struct BackendNames {
  template <typename Backend>
  static std::string GetName(int) {
    return Backend::kName;
  }
};

// The base of a typed catalog suite: an empty catalog on Backend for each test (skipped, saying why, when the
// backend is not available), closed and destroyed after. A derived SetUp calls this one first and returns
// when IsSkipped(); a derived TearDown drops what holds the catalog, then calls this one.
template <typename Backend>
class CatalogOn : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = backend_.skip_reason()) GTEST_SKIP() << *why;
    url_ = backend_.create();
    catalog_ = Catalog::open(url_);
  }

  void TearDown() override {
    catalog_.reset();
    backend_.destroy();
  }

  // Rows in a table, read over a second connection (rows the Catalog API does not expose).
  std::int64_t count_rows(const std::string& table) {
    return backend_.raw()->query("SELECT COUNT(*) FROM " + table).i64(0, 0);
  }

  Backend backend_;
  std::string url_;
  std::unique_ptr<Catalog> catalog_;
};

// A one-channel 8-bit image record for `path`, its content hash made from the path (one blob per path).
inline NewImage named_image(const std::string& path, int width = 64, int height = 48) {
  NewImage image;
  image.blob_hash = fmt::format("{:064x}", std::hash<std::string>{}(path));
  image.source_path = path;
  image.format = "tiff";
  image.width = width;
  image.height = height;
  image.channels = 1;
  image.pixel_type = "uint8";
  return image;
}

}  // namespace tessera::catalog::fixture
