#pragma once

// How the per-concern stores (users.cpp, annotations.cpp, jobs.cpp, ...) reach the catalog's connections
// (src/catalog/pool.hpp): reads on a reader, writes on the one writer (or, where safe, a PostgreSQL row writer)
// in a retrying transaction. Private to the catalog layer, so
// the public Catalog class does not grow one method per table.

#include <chrono>
#include <mutex>
#include <thread>
#include <type_traits>

#include "catalog/db.hpp"
#include "catalog/pool.hpp"
#include "tessera/catalog/catalog.hpp"

namespace tessera::catalog {

// Runs fn in a transaction on db: commit on return, roll back on exception; transient conflicts (SQLite
// busy, PostgreSQL serialization failures) are retried a few times. The caller holds the connection.
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
  // Runs fn(Connection&) on a reader connection, outside a transaction: reads, and single statements that
  // are atomic by themselves. Never a read-check-write sequence: that belongs in write().
  template <typename Fn>
  static auto read(Catalog& catalog, Fn&& fn) {
    auto db = catalog.pool_->reader();
    return fn(*db);
  }
  // Runs fn(Connection&) on the writer connection (one at a time, in arrival order) in one retrying
  // transaction.
  template <typename Fn>
  static auto write(Catalog& catalog, Fn&& fn) {
    auto lease = catalog.pool_->writer();
    Connection& db = *lease;
    return in_transaction(db, [&] { return fn(db); });
  }
  // Like write(), for transactions that are safe against concurrent write transactions by themselves (row
  // locks, writes conditional on what was read) - as every write must be where several processes share a
  // PostgreSQL catalog. On PostgreSQL it runs on one of several row writers, in parallel with other writes;
  // on SQLite it is write().
  template <typename Fn>
  static auto write_concurrently(Catalog& catalog, Fn&& fn) {
    auto lease = catalog.pool_->row_writer();
    Connection& db = *lease;
    return in_transaction(db, [&] { return fn(db); });
  }
};

}  // namespace tessera::catalog
