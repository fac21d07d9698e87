#include "tessera/exchange/npy.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "exchange/npy_dict.hpp"
#include "exchange/npy_owned.hpp"
#include "tessera/core/error.hpp"

namespace tessera::exchange {
namespace {

struct TypeInfo {
  NpyType type;
  std::string_view descr;
  size_t size;
};

constexpr TypeInfo kTypes[] = {
    {NpyType::u8, "|u1", 1},  {NpyType::i8, "|i1", 1},  {NpyType::u16, "<u2", 2}, {NpyType::i16, "<i2", 2},
    {NpyType::u32, "<u4", 4}, {NpyType::i32, "<i4", 4}, {NpyType::u64, "<u8", 8}, {NpyType::i64, "<i8", 8},
    {NpyType::f32, "<f4", 4}, {NpyType::f64, "<f8", 8}, {NpyType::boolean, "|b1", 1},
};

const TypeInfo& info(NpyType type) {
  for (const auto& t : kTypes) {
    if (t.type == type) return t;
  }
  throw Error(ErrorCode::internal, "unknown NpyType");
}

// Items of shape, or nothing when the product overflows 64 bits.
std::optional<uint64_t> product(std::span<const uint64_t> shape) {
  uint64_t n = 1;
  for (const uint64_t d : shape) {
    if (d != 0 && n > std::numeric_limits<uint64_t>::max() / d) return std::nullopt;
    n *= d;
  }
  return n;
}

std::string shape_text(std::span<const uint64_t> shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

// Fortran order (first axis fastest) to C order (last axis fastest), for any number of axes.
std::string fortran_to_c(std::string_view data, std::span<const uint64_t> shape, size_t item) {
  std::string out(data.size(), '\0');
  const size_t n = shape.size();
  if (n < 2 || data.empty()) return std::string(data);
  std::vector<uint64_t> stride(n);  // source stride of each axis, in items
  uint64_t s = 1;
  for (size_t k = 0; k < n; ++k) {
    stride[k] = s;
    s *= shape[k];
  }
  std::vector<uint64_t> index(n, 0);
  uint64_t src = 0;
  const uint64_t count = data.size() / item;
  for (uint64_t dst = 0; dst < count; ++dst) {
    std::memcpy(out.data() + dst * item, data.data() + src * item, item);
    // Odometer over C order: bump the last axis, carrying into the earlier ones.
    for (size_t k = n; k-- > 0;) {
      if (++index[k] < shape[k]) {
        src += stride[k];
        break;
      }
      src -= stride[k] * (shape[k] - 1);
      index[k] = 0;
    }
  }
  return out;
}

}  // namespace

std::string_view npy_descr(NpyType type) { return info(type).descr; }

size_t npy_item_size(NpyType type) { return info(type).size; }

uint64_t NpyArray::item_count() const { return product(shape).value_or(0); }

std::string npy_header(NpyType type, std::span<const uint64_t> shape, size_t min_size) {
  const std::string dict =
      fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", npy_descr(type), shape_text(shape));
  auto total = [&](size_t prefix) {
    size_t size = prefix + dict.size() + 1;  // + '\n'
    size = std::max(size, min_size);
    return (size + 63) / 64 * 64;
  };
  const bool v1 = total(10) - 10 <= 0xFFFF;
  const size_t prefix = v1 ? 10 : 12;
  const size_t size = total(prefix);
  const size_t header_len = size - prefix;
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(v1 ? 1 : 2);
  out += '\0';
  for (size_t i = 0; i < (v1 ? 2u : 4u); ++i) out += static_cast<char>((header_len >> (8 * i)) & 0xFF);
  out += dict;
  out.append(size - out.size() - 1, ' ');
  out += '\n';
  return out;
}

NpyHeader parse_npy_header(std::string_view bytes, std::string_view name) {
  auto corrupt = [&](const std::string& what) {
    return Error(ErrorCode::corrupt, fmt::format("{}: not a valid .npy: {}", name, what));
  };
  if (bytes.size() < 10 || bytes.substr(0, 6) != std::string_view("\x93NUMPY", 6)) {
    throw corrupt("no \\x93NUMPY magic");
  }
  const auto major = static_cast<unsigned char>(bytes[6]);
  if (major < 1 || major > 3) {
    throw Error(ErrorCode::unsupported, fmt::format("{}: .npy format version {} is not supported", name, major));
  }
  const size_t len_bytes = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + len_bytes) throw corrupt("truncated header");
  size_t header_len = 0;
  for (size_t i = 0; i < len_bytes; ++i) header_len |= size_t{static_cast<unsigned char>(bytes[8 + i])} << (8 * i);
  const size_t start = 8 + len_bytes;
  if (bytes.size() < start + header_len) throw corrupt("header is longer than the data");
  const NpyDict dict = parse_npy_dict(bytes.substr(start, header_len), name);

  NpyHeader header;
  header.fortran_order = dict.fortran_order;
  header.shape = dict.shape;
  header.data_offset = start + header_len;
  const std::string& d = dict.descr;
  if (d.size() >= 2 && (d[1] == 'O' || d == "O")) {
    throw Error(ErrorCode::unsupported,
                fmt::format("{}: dtype '{}' is an object array (Python objects, readable only with pickle); "
                            "store numbers instead", name, d));
  }
  if (d.size() == 3) {
    const char order = d[0];
    const std::string_view code = std::string_view(d).substr(1);
    for (const auto& t : kTypes) {
      if (t.descr.substr(1) != code) continue;
      if (order == '>' && t.size > 1) {
        throw Error(ErrorCode::unsupported,
                    fmt::format("{}: dtype '{}' is big-endian; save it little-endian (numpy: "
                                "a.astype(a.dtype.newbyteorder('<')))", name, d));
      }
      if (order == '<' || order == '|' || order == '=' || order == '>') {
        header.type = t.type;
        return header;
      }
    }
  }
  throw Error(ErrorCode::unsupported,
              fmt::format("{}: dtype '{}' is not supported (u1 i1 u2 i2 u4 i4 u8 i8 f4 f8 b1 are)", name, d));
}

std::string encode_npy(const NpyArray& array) {
  const auto items = product(array.shape);
  if (!items || *items > std::numeric_limits<uint64_t>::max() / npy_item_size(array.type) ||
      array.data.size() != *items * npy_item_size(array.type)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("array of shape {} and dtype '{}' needs {} bytes of data, has {}", shape_text(array.shape),
                            npy_descr(array.type), items ? *items * npy_item_size(array.type) : 0,
                            array.data.size()));
  }
  std::string out = npy_header(array.type, array.shape);
  out += array.data;
  return out;
}

NpyArray decode_npy_owned(std::string bytes, std::string_view name) {
  const NpyHeader header = parse_npy_header(bytes, name);
  const size_t item = npy_item_size(header.type);
  const auto items = product(header.shape);
  const size_t data_size = bytes.size() - header.data_offset;
  if (!items || *items > std::numeric_limits<uint64_t>::max() / item || data_size != *items * item) {
    throw Error(ErrorCode::corrupt,
                fmt::format("{}: shape {} of '{}' needs {} bytes of data, the file has {}", name,
                            shape_text(header.shape), npy_descr(header.type), items ? *items * item : 0,
                            data_size));
  }
  NpyArray array;
  array.type = header.type;
  array.shape = header.shape;
  if (header.fortran_order) {
    array.data = fortran_to_c(std::string_view(bytes).substr(header.data_offset), header.shape, item);
  } else {
    bytes.erase(0, header.data_offset);
    array.data = std::move(bytes);
  }
  return array;
}

NpyArray decode_npy(std::string_view bytes, std::string_view name) {
  return decode_npy_owned(std::string(bytes), name);
}

}  // namespace tessera::exchange
