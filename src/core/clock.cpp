#include "tessera/core/clock.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>

namespace tessera {

std::string utc_now_iso() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", fmt::gmtime(seconds), ms.count());
}

}  // namespace tessera
