#pragma once

// Single-pass ZIP records for NpzWriter: stored entries whose bytes go straight into the archive file,
// CRC-32 computed on the way. Local headers always carry a ZIP64 extra field (as numpy.savez writes them,
// zipfile's force_zip64), so their size can be fixed before an entry's length is known and patched in
// place afterwards; the central directory and end records switch to ZIP64 only where a value needs it.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::exchange {

// CRC-32 of the ZIP format (polynomial 0xEDB88320, as zlib's crc32): start with 0, feed pieces in order.
uint32_t npz_crc32(uint32_t crc, const void* data, size_t size);

struct NpzZipEntry {
  std::string name;     // entry path inside the archive (UTF-8)
  uint64_t offset = 0;  // of its local header
  uint64_t size = 0;    // bytes stored (= uncompressed: entries are stored)
  uint32_t crc = 0;
};

// MS-DOS time and date of a Unix time, local time (as zip tools show it); 1980-01-01 for earlier times.
struct NpzDosTime {
  uint16_t time = 0;
  uint16_t date = 0;
};
NpzDosTime npz_dos_time(int64_t unix_seconds);

// Bytes a local header for `name` takes (30 + name + 20 for the ZIP64 extra field).
size_t npz_local_header_size(std::string_view name);

// The local header of a stored entry: version 4.5, sizes 0xFFFFFFFF in the fixed part and the real
// ones in a ZIP64 extra field.
std::string npz_local_header(const NpzZipEntry& entry, NpzDosTime when);

// Central directory of `entries`, starting at cd_offset, with the end-of-central-directory record, and
// ZIP64 records (per-entry extra fields, the ZIP64 end record and its locator) where a size, offset or
// count does not fit the classic fields, or always when force_zip64.
std::string npz_central_directory(const std::vector<NpzZipEntry>& entries, uint64_t cd_offset, NpzDosTime when,
                                  bool force_zip64 = false);

}  // namespace tessera::exchange
