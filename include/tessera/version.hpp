#pragma once

namespace tessera {

// Recorded with every run so any output can be traced to the code that made it.
inline constexpr const char* kTesseraVersion = "0.1.0";

}  // namespace tessera
