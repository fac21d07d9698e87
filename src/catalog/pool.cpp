#include "catalog/pool.hpp"

namespace tessera::catalog {

void FairMutex::lock() {
  std::unique_lock guard(state_);
  if (!held_ && queue_.empty()) {
    held_ = true;
    return;
  }
  Waiter me;
  queue_.push_back(&me);
  me.wake.wait(guard, [&] { return me.granted; });  // held_ stays true: the lock was handed to us
}

void FairMutex::unlock() {
  std::lock_guard guard(state_);
  if (queue_.empty()) {
    held_ = false;
    return;
  }
  Waiter* next = queue_.front();
  queue_.pop_front();
  next->granted = true;
  next->wake.notify_one();
}

Connection* ConnectionSet::take() {
  std::unique_lock guard(mutex_);
  for (;;) {
    if (!idle_.empty()) {
      Connection* connection = idle_.back();
      idle_.pop_back();
      return connection;
    }
    if (all_.size() < max_) {
      try {
        all_.push_back(open_());
        return all_.back().get();
      } catch (const std::exception&) {
        max_ = all_.size();
      }
      continue;
    }
    if (max_ == 0) return nullptr;
    free_.wait(guard);
  }
}

void ConnectionSet::give_back(Connection* connection) {
  {
    std::lock_guard guard(mutex_);
    idle_.push_back(connection);
  }
  free_.notify_one();
}

ConnectionPool::ConnectionPool(std::unique_ptr<Connection> writer, Factory open, std::size_t max_readers,
                               std::size_t max_row_writers)
    : writer_(std::move(writer)),
      dialect_(writer_->dialect()),
      readers_(open, max_readers),
      // SQLite admits one writer at a time: row writers there would only wait on its file lock.
      row_writers_(open, dialect_ == Dialect::postgresql ? max_row_writers : 0) {}

ConnectionPool::~ConnectionPool() = default;

ConnectionPool::Lease::~Lease() {
  if (owner_ == nullptr) return;
  if (set_ == nullptr) {
    owner_->writer_turn_.unlock();
  } else {
    set_->give_back(connection_);
  }
}

ConnectionPool::Lease ConnectionPool::writer() {
  writer_turn_.lock();
  return Lease(this, writer_.get(), nullptr);
}

ConnectionPool::Lease ConnectionPool::from(ConnectionSet& set) {
  if (Connection* connection = set.take()) return Lease(this, connection, &set);
  return writer();  // none could be opened: the writer serves, as before the pool existed
}

ConnectionPool::Lease ConnectionPool::reader() { return from(readers_); }

ConnectionPool::Lease ConnectionPool::row_writer() { return from(row_writers_); }

}  // namespace tessera::catalog
