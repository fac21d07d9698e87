#include "tessera/core/clock.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace tessera {

std::string utc_iso(std::chrono::system_clock::time_point at) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()) % 1000;
  const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", fmt::gmtime(seconds), ms.count());
}

std::string utc_now_iso() { return utc_iso(std::chrono::system_clock::now()); }

std::string utc_iso_in(double seconds) {
  const auto delta = std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(seconds));
  return utc_iso(std::chrono::system_clock::now() + delta);
}

}  // namespace tessera
