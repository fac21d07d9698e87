#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "exchange/temp_file.hpp"
#include "tessera/exchange/npz.hpp"

namespace tessera::exchange {

// A growing .npy in a scratch file: a header placeholder sized for any first-axis length, then the
// data as appended. finalize() writes the real header over the placeholder.
struct NpyStream::State {
  std::string key;
  NpyType type = NpyType::u8;
  std::vector<uint64_t> item_shape;
  uint64_t item_bytes = 0;     // bytes of one item (product of item_shape times the item size)
  size_t header_size = 0;      // bytes reserved for the header at the start of the file
  uint64_t data_bytes = 0;     // bytes appended after the header
  std::unique_ptr<TempFile> file;
  bool closed = false;

  // Error{invalid_argument} naming the key if the data stops inside an item.
  void finalize();
};

}  // namespace tessera::exchange
