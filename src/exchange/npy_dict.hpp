#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::exchange {

// The three keys of a .npy header's Python dict literal.
struct NpyDict {
  std::string descr;
  bool fortran_order = false;
  std::vector<uint64_t> shape;
};

// Parses "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" and its variations: keys in any
// order, '…' or "…" strings, optional trailing commas, Python 2 long suffixes (3L), padding spaces and
// the final newline. A list-valued descr (structured dtype) is Error{unsupported}; anything else that
// is not this dict, or lacks a key, is Error{corrupt} naming `name`.
NpyDict parse_npy_dict(std::string_view text, std::string_view name);

}  // namespace tessera::exchange
