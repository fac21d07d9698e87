#pragma once

// The catalog's connections: one writer, taken in arrival order, a small pool of readers and, on PostgreSQL,
// a small pool of row writers.
//
// Why: a server answers many people at once. With one connection under one mutex every read waited behind
// every write, and std::mutex is not fair, so under load a few requests waited hundreds of milliseconds while
// others went straight through. Most writes stay serialised on one connection in this process (SQLite admits
// one writer anyway); reads run in parallel on their own connections (SQLite WAL readers see the last
// committed state; PostgreSQL READ COMMITTED likewise). The hot per-image writes (leases, annotation edits)
// are written to be safe against concurrent transactions - they must be, since several processes share a
// PostgreSQL catalog - so on PostgreSQL they run on row writers in parallel: a write transaction is mostly
// round trips, and serialising them all on one connection capped the server at one round trip at a time.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "catalog/db.hpp"

namespace tessera::catalog {

// A mutex that admits waiters first come, first served: the lock is handed to the longest waiter on unlock,
// so no request starves behind a stream of newer ones (bounded tail latency at the cost of one hand-off).
class FairMutex {
 public:
  void lock();
  void unlock();

 private:
  struct Waiter {
    std::condition_variable wake;
    bool granted = false;
  };
  std::mutex state_;
  bool held_ = false;
  std::deque<Waiter*> queue_;
};

using ConnectionFactory = std::function<std::unique_ptr<Connection>()>;

// Up to `max` connections opened lazily by one factory, each used by one caller at a time.
class ConnectionSet {
 public:
  ConnectionSet(ConnectionFactory open, std::size_t max) : open_(std::move(open)), max_(max) {}

  // An idle connection, a new one while fewer than max exist, else waits for one. nullptr when none can be
  // opened at all (e.g. PostgreSQL out of connection slots): the caller falls back to the writer. A failed
  // open caps the set at what exists.
  Connection* take();
  void give_back(Connection* connection);

 private:
  ConnectionFactory open_;
  std::size_t max_;
  std::mutex mutex_;
  std::condition_variable free_;
  std::vector<std::unique_ptr<Connection>> all_;
  std::vector<Connection*> idle_;
};

class ConnectionPool {
 public:
  using Factory = ConnectionFactory;

  // `writer` is the connection migrations ran on; `open` opens one more connection to the same catalog,
  // called lazily up to `max_readers` times for readers and, on PostgreSQL, `max_row_writers` times.
  ConnectionPool(std::unique_ptr<Connection> writer, Factory open, std::size_t max_readers,
                 std::size_t max_row_writers);
  ~ConnectionPool();

  // Exclusive use of one connection until destroyed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept : owner_(other.owner_), connection_(other.connection_), set_(other.set_) {
      other.owner_ = nullptr;
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Connection& operator*() const { return *connection_; }
    Connection* operator->() const { return connection_; }
    Connection* get() const { return connection_; }

   private:
    friend class ConnectionPool;
    // set == nullptr: the writer, whose turn is handed on at the end.
    Lease(ConnectionPool* owner, Connection* connection, ConnectionSet* set)
        : owner_(owner), connection_(connection), set_(set) {}
    ConnectionPool* owner_;
    Connection* connection_;
    ConnectionSet* set_;
  };

  Lease writer();      // waits its turn (FairMutex)
  Lease reader();      // an idle reader, a new one while fewer than max_readers exist, else waits for one
  Lease row_writer();  // PostgreSQL: one of the row writers; SQLite: the writer

  Dialect dialect() const { return dialect_; }

 private:
  Lease from(ConnectionSet& set);

  std::unique_ptr<Connection> writer_;
  FairMutex writer_turn_;
  Dialect dialect_;
  ConnectionSet readers_;
  ConnectionSet row_writers_;
};

}  // namespace tessera::catalog
