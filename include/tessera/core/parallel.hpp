#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace tessera {

// Runs work(i) for i in [0, n) on `jobs` threads and hands each result to consume(i, result) on the
// calling thread in index order, so output is deterministic however the work is scheduled. At most
// `window` results wait for their turn (a ring of `window` slots), which keeps memory flat however many
// items there are and when one item is slow. The first
// exception (from work or consume) stops the run and is rethrown here.
template <typename T>
void ordered_parallel_for(size_t n, int jobs, const std::function<T(size_t)>& work,
                          const std::function<void(size_t, T&&)>& consume, size_t window = 64) {
  jobs = std::max(1, jobs);
  window = std::max<size_t>(window, 1);
  std::vector<std::optional<T>> slots(std::min(n, window));  // item i lives in slot i % window
  std::mutex mutex;
  std::condition_variable changed;
  size_t next = 0;      // next index to hand to a worker
  size_t consumed = 0;  // results handed to consume
  bool stop = false;
  std::exception_ptr error;
  auto worker = [&] {
    for (;;) {
      size_t i;
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return stop || next >= n || next < consumed + window; });
        if (stop || next >= n) return;
        i = next++;
      }
      try {
        T result = work(i);
        std::lock_guard lock(mutex);
        slots[i % window] = std::move(result);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!error) error = std::current_exception();
        stop = true;
      }
      changed.notify_all();
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::min<int>(jobs, static_cast<int>(std::max<size_t>(n, 1))); ++t) threads.emplace_back(worker);
  try {
    while (consumed < n) {
      T item;
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return stop || slots[consumed % window].has_value(); });
        if (stop) break;
        item = std::move(*slots[consumed % window]);
        slots[consumed % window].reset();
      }
      consume(consumed, std::move(item));
      {
        std::lock_guard lock(mutex);
        ++consumed;
      }
      changed.notify_all();
    }
  } catch (...) {
    std::lock_guard lock(mutex);
    if (!error) error = std::current_exception();
    stop = true;
  }
  changed.notify_all();
  {
    std::lock_guard lock(mutex);
    stop = true;
  }
  changed.notify_all();
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace tessera
