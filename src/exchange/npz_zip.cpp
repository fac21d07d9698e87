#include "exchange/npz_zip.hpp"

#include <array>
#include <ctime>

namespace tessera::exchange {
namespace {

constexpr uint32_t kMax32 = 0xFFFFFFFFu;
constexpr uint16_t kVersion = 45;          // 4.5: ZIP64
constexpr uint16_t kMadeBy = (3 << 8) | 45;  // Unix, 4.5

// Slice-by-8 tables of the reflected polynomial 0xEDB88320.
struct CrcTables {
  std::array<std::array<uint32_t, 256>, 8> t{};
  CrcTables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
      for (size_t s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
    }
  }
};

const CrcTables& crc_tables() {
  static const CrcTables tables;
  return tables;
}

void put16(std::string& out, uint64_t v) {
  out.push_back(static_cast<char>(v & 0xFF));
  out.push_back(static_cast<char>((v >> 8) & 0xFF));
}

void put32(std::string& out, uint64_t v) {
  put16(out, v & 0xFFFF);
  put16(out, (v >> 16) & 0xFFFF);
}

void put64(std::string& out, uint64_t v) {
  put32(out, v & kMax32);
  put32(out, v >> 32);
}

uint16_t flags_of(std::string_view name) {
  for (const char c : name) {
    if (static_cast<unsigned char>(c) >= 0x80) return 1u << 11;  // name is UTF-8
  }
  return 0;
}

}  // namespace

uint32_t npz_crc32(uint32_t crc, const void* data, size_t size) {
  const auto& t = crc_tables().t;
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  while (size >= 8) {
    const uint32_t lo = crc ^ (uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24);
    crc = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^ t[3][p[4]] ^
          t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
    p += 8;
    size -= 8;
  }
  while (size-- > 0) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xFF];
  return ~crc;
}

NpzDosTime npz_dos_time(int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (localtime_r(&t, &tm) == nullptr || tm.tm_year < 80) return {0, (1 << 5) | 1};
  NpzDosTime out;
  out.time = static_cast<uint16_t>((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
  out.date = static_cast<uint16_t>(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
  return out;
}

size_t npz_local_header_size(std::string_view name) { return 30 + name.size() + 20; }

std::string npz_local_header(const NpzZipEntry& entry, NpzDosTime when) {
  std::string out;
  out.reserve(npz_local_header_size(entry.name));
  put32(out, 0x04034b50);
  put16(out, kVersion);
  put16(out, flags_of(entry.name));
  put16(out, 0);  // stored
  put16(out, when.time);
  put16(out, when.date);
  put32(out, entry.crc);
  put32(out, kMax32);  // sizes: in the ZIP64 extra field
  put32(out, kMax32);
  put16(out, entry.name.size());
  put16(out, 20);
  out += entry.name;
  put16(out, 0x0001);
  put16(out, 16);
  put64(out, entry.size);
  put64(out, entry.size);
  return out;
}

std::string npz_central_directory(const std::vector<NpzZipEntry>& entries, uint64_t cd_offset, NpzDosTime when,
                                  bool force_zip64) {
  std::string out;
  for (const auto& e : entries) {
    const bool big_size = force_zip64 || e.size >= kMax32;
    const bool big_offset = force_zip64 || e.offset >= kMax32;
    std::string extra;
    if (big_size || big_offset) {
      put16(extra, 0x0001);
      put16(extra, (big_size ? 16 : 0) + (big_offset ? 8 : 0));
      if (big_size) {
        put64(extra, e.size);
        put64(extra, e.size);
      }
      if (big_offset) put64(extra, e.offset);
    }
    put32(out, 0x02014b50);
    put16(out, kMadeBy);
    put16(out, kVersion);
    put16(out, flags_of(e.name));
    put16(out, 0);
    put16(out, when.time);
    put16(out, when.date);
    put32(out, e.crc);
    put32(out, big_size ? kMax32 : e.size);
    put32(out, big_size ? kMax32 : e.size);
    put16(out, e.name.size());
    put16(out, extra.size());
    put16(out, 0);               // comment
    put16(out, 0);               // disk
    put16(out, 0);               // internal attributes
    put32(out, 0100644u << 16);  // regular file, rw-r--r--
    put32(out, big_offset ? kMax32 : e.offset);
    out += e.name;
    out += extra;
  }
  const uint64_t cd_size = out.size();
  const uint64_t count = entries.size();
  const bool zip64 = force_zip64 || count >= 0xFFFF || cd_size >= kMax32 || cd_offset >= kMax32;
  if (zip64) {
    const uint64_t end64_offset = cd_offset + cd_size;
    put32(out, 0x06064b50);
    put64(out, 44);  // size of the rest of this record
    put16(out, kMadeBy);
    put16(out, kVersion);
    put32(out, 0);
    put32(out, 0);
    put64(out, count);
    put64(out, count);
    put64(out, cd_size);
    put64(out, cd_offset);
    put32(out, 0x07064b50);
    put32(out, 0);
    put64(out, end64_offset);
    put32(out, 1);
  }
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, zip64 ? 0xFFFF : count);
  put16(out, zip64 ? 0xFFFF : count);
  put32(out, zip64 ? kMax32 : cd_size);
  put32(out, zip64 ? kMax32 : cd_offset);
  put16(out, 0);
  return out;
}

}  // namespace tessera::exchange
