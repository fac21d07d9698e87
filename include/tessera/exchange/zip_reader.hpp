#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/exchange/zip_writer.hpp"

namespace tessera::exchange {

// One member of an archive, as its central directory describes it.
struct ZipEntry {
  std::string name;
  uint64_t size = 0;             // uncompressed bytes
  uint64_t compressed_size = 0;  // bytes in the archive
  ZipMethod method = ZipMethod::store;  // store or deflate (other methods are rejected on read)
};

// Reads a ZIP archive (stored or deflated entries, ZIP64 included) through libzip: lists entries and
// returns an entry's bytes, checked against its CRC. Used by tests and imports. Not thread-safe (one
// libzip handle); open one reader per thread.
class ZipReader {
 public:
  // Error{not_found} if the file is missing, Error{corrupt} if it is not a readable ZIP archive.
  explicit ZipReader(std::filesystem::path path);
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  const std::vector<ZipEntry>& entries() const { return entries_; }  // archive order
  std::optional<ZipEntry> find(std::string_view name) const;
  const std::filesystem::path& path() const { return path_; }

  // The whole entry. Error{not_found} naming the archive and entry if absent, Error{unsupported} for a
  // compression method other than store/deflate, Error{corrupt} for a CRC mismatch or damaged data.
  std::string read(std::string_view name) const;

 private:
  struct Archive;
  std::filesystem::path path_;
  std::unique_ptr<Archive> archive_;
  std::vector<ZipEntry> entries_;
};

}  // namespace tessera::exchange
