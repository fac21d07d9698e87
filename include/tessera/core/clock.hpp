#pragma once

#include <string>

namespace tessera {

// Current UTC time as ISO 8601 with milliseconds ("2026-11-21T23:54:03.123Z"); sorts as text.
std::string utc_now_iso();

}  // namespace tessera
