#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace tessera {

// A progress bar on stderr, drawn only when stderr is a terminal (so logs and CI output stay clean), at
// most ten times a second. Thread-safe: workers may call advance() concurrently.
class Progress {
 public:
  Progress(std::string label, std::int64_t total);
  ~Progress();

  void advance(std::int64_t n = 1);
  void set_total(std::int64_t total);
  void finish();  // clears the bar line; the caller prints its one-line summary afterwards

 private:
  void draw_locked(bool force);

  std::mutex mutex_;
  std::string label_;
  std::int64_t total_;
  std::int64_t done_ = 0;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace tessera
