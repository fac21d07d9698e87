#pragma once

// The catalog's connections: one writer, taken in arrival order, and a small pool of readers.
//
// Why: a server answers many people at once. With one connection under one mutex every read waited behind
// every write, and std::mutex is not fair, so under load a few requests waited hundreds of milliseconds while
// others went straight through. Writes stay serialised on one connection in this process (every store's
// read-check-write logic relies on that, and SQLite admits one writer anyway); reads run in parallel on their
// own connections (SQLite WAL readers see the last committed state; PostgreSQL READ COMMITTED likewise).

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

class ConnectionPool {
 public:
  using Factory = std::function<std::unique_ptr<Connection>()>;

  // `writer` is the connection migrations ran on; `open_reader` opens one more connection to the same
  // catalog, called lazily up to `max_readers` times.
  ConnectionPool(std::unique_ptr<Connection> writer, Factory open_reader, std::size_t max_readers);
  ~ConnectionPool();

  // Exclusive use of one connection until destroyed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(other.pool_), connection_(other.connection_), writer_(other.writer_) {
      other.pool_ = nullptr;
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
    Lease(ConnectionPool* pool, Connection* connection, bool writer)
        : pool_(pool), connection_(connection), writer_(writer) {}
    ConnectionPool* pool_;
    Connection* connection_;
    bool writer_;
  };

  Lease writer();  // waits its turn (FairMutex)
  Lease reader();  // an idle reader, a new one while fewer than max_readers exist, else waits for one

  Dialect dialect() const { return dialect_; }

 private:
  void give_back(Connection* reader);

  std::unique_ptr<Connection> writer_;
  FairMutex writer_turn_;
  Factory open_reader_;
  std::size_t max_readers_;
  Dialect dialect_;

  std::mutex readers_mutex_;
  std::condition_variable reader_free_;
  std::vector<std::unique_ptr<Connection>> readers_;  // every reader opened
  std::vector<Connection*> idle_;
};

}  // namespace tessera::catalog
