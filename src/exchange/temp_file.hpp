#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace tessera::exchange {

// A scratch file with a unique name in a chosen folder, for data that is spooled to disk and later
// added to an archive by path. Appends go through a 1 MiB buffer; flush() makes them visible to other
// readers of the path (libzip reads sources when the archive is closed). The file is removed when the
// object goes. Not thread-safe.
class TempFile {
 public:
  // Creates <dir>/.tmp-<stem>-<random> exclusively; Error{io} naming the path if that fails.
  TempFile(const std::filesystem::path& dir, std::string_view stem);
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  uint64_t size() const { return written_ + buffer_.size(); }  // bytes appended so far

  void append(std::string_view bytes);
  void flush();                                              // buffered bytes to the file
  void write_at(uint64_t offset, std::string_view bytes);    // overwrite in place (after flush())
  std::string read_at(uint64_t offset, uint64_t length) const;  // after flush()

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  uint64_t written_ = 0;
  std::string buffer_;
};

// Sequential reader of a flushed TempFile (or any file), buffered. Not thread-safe.
class FileCursor {
 public:
  explicit FileCursor(const std::filesystem::path& path);
  ~FileCursor();
  FileCursor(const FileCursor&) = delete;
  FileCursor& operator=(const FileCursor&) = delete;

  bool at_end();
  // Exactly n bytes into out (replacing its content); Error{corrupt} if the file ends first.
  void read(size_t n, std::string& out);
  uint32_t read_u32();

 private:
  bool fill();
  std::filesystem::path path_;
  int fd_ = -1;
  std::string buffer_;
  size_t pos_ = 0;
};

}  // namespace tessera::exchange
