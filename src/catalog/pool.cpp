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

ConnectionPool::ConnectionPool(std::unique_ptr<Connection> writer, Factory open_reader, std::size_t max_readers)
    : writer_(std::move(writer)),
      open_reader_(std::move(open_reader)),
      max_readers_(max_readers),
      dialect_(writer_->dialect()) {}

ConnectionPool::~ConnectionPool() = default;

ConnectionPool::Lease::~Lease() {
  if (pool_ == nullptr) return;
  if (writer_) {
    pool_->writer_turn_.unlock();
  } else {
    pool_->give_back(connection_);
  }
}

ConnectionPool::Lease ConnectionPool::writer() {
  writer_turn_.lock();
  return Lease(this, writer_.get(), true);
}

ConnectionPool::Lease ConnectionPool::reader() {
  std::unique_lock guard(readers_mutex_);
  for (;;) {
    if (!idle_.empty()) {
      Connection* connection = idle_.back();
      idle_.pop_back();
      return Lease(this, connection, false);
    }
    if (readers_.size() < max_readers_) {
      // Opened outside any lock the writer needs; a reader that cannot be opened (e.g. PostgreSQL out of
      // connection slots) caps the pool at what exists, and with none the writer serves reads as before.
      try {
        readers_.push_back(open_reader_());
        return Lease(this, readers_.back().get(), false);
      } catch (const std::exception&) {
        max_readers_ = readers_.size();
        if (readers_.empty()) {
          guard.unlock();
          return writer();
        }
      }
      continue;
    }
    reader_free_.wait(guard);
  }
}

void ConnectionPool::give_back(Connection* reader) {
  {
    std::lock_guard guard(readers_mutex_);
    idle_.push_back(reader);
  }
  reader_free_.notify_one();
}

}  // namespace tessera::catalog
