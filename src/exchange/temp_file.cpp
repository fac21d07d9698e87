#include "exchange/temp_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include <fmt/format.h>

#include "tessera/core/error.hpp"

namespace tessera::exchange {
namespace {

constexpr size_t kBufferSize = 1 << 20;

[[noreturn]] void throw_io(const std::string& what, const std::filesystem::path& path) {
  throw Error(ErrorCode::io, fmt::format("{} '{}': {}", what, path.string(), std::strerror(errno)));
}

void write_all(int fd, const char* p, size_t left, off_t offset, const std::filesystem::path& path) {
  while (left > 0) {
    const ssize_t n = offset < 0 ? ::write(fd, p, left) : ::pwrite(fd, p, left, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io("cannot write", path);
    }
    p += n;
    left -= static_cast<size_t>(n);
    if (offset >= 0) offset += n;
  }
}

}  // namespace

TempFile::TempFile(const std::filesystem::path& dir, std::string_view stem) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  path_ = (dir.empty() ? std::filesystem::path(".") : dir) / fmt::format(".tmp-{}-{:016x}", stem, rng());
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd_ < 0) throw_io("cannot create scratch file", path_);
  buffer_.reserve(kBufferSize);
}

TempFile::~TempFile() {
  if (fd_ >= 0) ::close(fd_);
  ::unlink(path_.c_str());
}

void TempFile::append(std::string_view bytes) {
  if (buffer_.size() + bytes.size() > kBufferSize) {
    flush();
    // Large pieces bypass the buffer: copying them first would only cost time.
    if (bytes.size() >= kBufferSize) {
      write_all(fd_, bytes.data(), bytes.size(), -1, path_);
      written_ += bytes.size();
      return;
    }
  }
  buffer_.append(bytes);
}

void TempFile::flush() {
  if (buffer_.empty()) return;
  write_all(fd_, buffer_.data(), buffer_.size(), -1, path_);
  written_ += buffer_.size();
  buffer_.clear();
}

void TempFile::write_at(uint64_t offset, std::string_view bytes) {
  write_all(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset), path_);
}

std::string TempFile::read_at(uint64_t offset, uint64_t length) const {
  std::string out(length, '\0');
  size_t done = 0;
  while (done < length) {
    const ssize_t n = ::pread(fd_, out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io("cannot read", path_);
    }
    if (n == 0) throw Error(ErrorCode::corrupt, fmt::format("scratch file '{}' is shorter than expected", path_.string()));
    done += static_cast<size_t>(n);
  }
  return out;
}

FileCursor::FileCursor(const std::filesystem::path& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw_io("cannot open", path);
}

FileCursor::~FileCursor() {
  if (fd_ >= 0) ::close(fd_);
}

bool FileCursor::fill() {
  buffer_.erase(0, pos_);
  pos_ = 0;
  const size_t old = buffer_.size();
  buffer_.resize(old + kBufferSize);
  ssize_t n;
  do {
    n = ::read(fd_, buffer_.data() + old, kBufferSize);
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw_io("cannot read", path_);
  buffer_.resize(old + static_cast<size_t>(n));
  return n > 0;
}

bool FileCursor::at_end() { return pos_ == buffer_.size() && !fill(); }

void FileCursor::read(size_t n, std::string& out) {
  while (buffer_.size() - pos_ < n) {
    if (!fill()) {
      throw Error(ErrorCode::corrupt, fmt::format("'{}' ends in the middle of a record", path_.string()));
    }
  }
  out.assign(buffer_, pos_, n);
  pos_ += n;
}

uint32_t FileCursor::read_u32() {
  std::string bytes;
  read(4, bytes);
  uint32_t v = 0;
  std::memcpy(&v, bytes.data(), 4);
  return v;
}

}  // namespace tessera::exchange
