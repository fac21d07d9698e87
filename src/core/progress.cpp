#include "tessera/core/progress.hpp"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace tessera {

Progress::Progress(std::string label, std::int64_t total)
    : label_(std::move(label)),
      total_(total),
      enabled_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() { finish(); }

void Progress::advance(std::int64_t n) {
  std::lock_guard lock(mutex_);
  done_ += n;
  draw_locked(false);
}

void Progress::set_total(std::int64_t total) {
  std::lock_guard lock(mutex_);
  total_ = total;
}

void Progress::finish() {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  finished_ = true;
  if (enabled_) std::fputs("\r\033[K", stderr);
}

void Progress::draw_locked(bool force) {
  if (!enabled_ || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0.0;
  constexpr int kWidth = 30;
  if (total_ > 0) {
    const double fraction = std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_));
    const int filled = static_cast<int>(fraction * kWidth);
    fmt::print(stderr, "\r\033[K{} [{}{}] {}/{} {:.0f}/s", label_, std::string(filled, '#'),
               std::string(kWidth - filled, '.'), done_, total_, rate);
  } else {
    fmt::print(stderr, "\r\033[K{} {} {:.0f}/s", label_, done_, rate);
  }
  std::fflush(stderr);
}

}  // namespace tessera
