#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tessera::exchange {

// How an entry's bytes are kept in the archive.
enum class ZipMethod {
  store,    // as is: already-compressed images, .npy arrays (numpy.savez does the same)
  deflate,  // DEFLATE at level 1 (fast; text still shrinks 4x or more): TSV, JSON, CSV
};

// Writes a ZIP archive through libzip, atomically: nothing appears at `path` until finish() has written
// the whole archive under a temporary name in the same folder, synced it and renamed it into place.
// Destroying the writer without finish(), or a finish() that throws, leaves no archive (an existing
// file at `path` is left as it was) and no temporary file.
//
// Entries are read when finish() runs, not when they are added: add_bytes() keeps its copy in memory
// until then; add_file() keeps only the path, so archives larger than memory are built from files on
// disk, which must stay unchanged until finish() returns. libzip switches to ZIP64 records by itself
// when an entry or the archive passes 4 GiB or 65,535 entries. Not thread-safe.
//
// Errors are tessera::Error naming the archive and the entry: invalid_argument for a bad or duplicate
// entry name, io for a source or target that cannot be read or written.
class ZipWriter {
 public:
  explicit ZipWriter(std::filesystem::path path);
  ~ZipWriter();
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;

  // `name` is the entry path inside the archive: relative, '/'-separated, no '.' or '..' parts, no '\'.
  void add_bytes(std::string_view name, std::string bytes, ZipMethod method = ZipMethod::deflate);

  // Adds `length` bytes of `source` from `offset` (to its end when length is empty). The file must
  // already hold that range (flush buffered writes first).
  void add_file(std::string_view name, const std::filesystem::path& source,
                ZipMethod method = ZipMethod::store, uint64_t offset = 0,
                std::optional<uint64_t> length = std::nullopt);

  bool contains(std::string_view name) const;
  uint64_t entry_count() const;
  const std::filesystem::path& path() const { return path_; }

  // Writes the archive (an empty archive is valid), fsyncs it, renames it to path() and syncs the
  // folder. Call once; afterwards no entry can be added.
  void finish();

 private:
  struct Archive;
  void check_open(std::string_view name) const;
  void add_source(std::string_view name, void* source, ZipMethod method);

  std::filesystem::path path_;
  std::filesystem::path temp_path_;
  std::unique_ptr<Archive> archive_;
  bool finished_ = false;
};

}  // namespace tessera::exchange
