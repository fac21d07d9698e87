#pragma once

#include <chrono>
#include <string>

namespace tessera {

// Current UTC time as ISO 8601 with milliseconds ("2026-11-21T23:54:03.123Z"); sorts as text.
std::string utc_now_iso();
// Any time point in the same form (leases and token expiries: now + ttl).
std::string utc_iso(std::chrono::system_clock::time_point at);
// Now plus (or minus) a number of seconds, in the same form.
std::string utc_iso_in(double seconds);

}  // namespace tessera
