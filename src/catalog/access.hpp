#pragma once

// How the per-concern stores (users.cpp, annotations.cpp, jobs.cpp, ...) reach the catalog's one
// connection: under its mutex, and writes in its retrying transaction. Private to the catalog layer, so
// the public Catalog class does not grow one method per table.

#include <chrono>
#include <mutex>
#include <thread>
#include <type_traits>

#include "catalog/db.hpp"
#include "tessera/catalog/catalog.hpp"

namespace tessera::catalog {

// Runs fn in a transaction on db: commit on return, roll back on exception; transient conflicts (SQLite
// busy, PostgreSQL serialization failures) are retried a few times. The caller holds the catalog mutex.
template <typename Fn>
auto in_transaction(Connection& db, Fn&& fn) {
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    db.begin();
    try {
      if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        db.commit();
        return;
      } else {
        auto result = fn();
        db.commit();
        return result;
      }
    } catch (const std::exception& e) {
      db.rollback();
      if (attempt < kAttempts && db.is_transient(e)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
        continue;
      }
      throw;
    }
  }
}

struct CatalogAccess {
  // Runs fn(Connection&) under the catalog's mutex, outside a transaction (single statements, reads).
  template <typename Fn>
  static auto read(Catalog& catalog, Fn&& fn) {
    std::lock_guard lock(catalog.mutex_);
    return fn(*catalog.db_);
  }
  // Runs fn(Connection&) under the catalog's mutex in one retrying transaction.
  template <typename Fn>
  static auto write(Catalog& catalog, Fn&& fn) {
    std::lock_guard lock(catalog.mutex_);
    Connection& db = *catalog.db_;
    return in_transaction(db, [&] { return fn(db); });
  }
};

}  // namespace tessera::catalog
