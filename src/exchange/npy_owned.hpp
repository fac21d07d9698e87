#pragma once

#include <string>
#include <string_view>

#include "tessera/exchange/npy.hpp"

namespace tessera::exchange {

// decode_npy() that reuses the buffer of `bytes` for the array's data (the header is cut off in
// place), so reading a large .npy out of an archive holds it in memory once.
NpyArray decode_npy_owned(std::string bytes, std::string_view name);

}  // namespace tessera::exchange
