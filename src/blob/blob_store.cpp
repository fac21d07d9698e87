#include "tessera/blob/blob_store.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

#include <fmt/format.h>

#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"
#include "tessera/core/sha256.hpp"

namespace tessera::blob {
namespace fs = std::filesystem;
namespace {

std::string host_name() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof buffer - 1) != 0) return "host";
  return buffer;
}

[[noreturn]] void throw_io(const std::string& what, const fs::path& path) {
  throw Error(ErrorCode::io, fmt::format("blob store: {} '{}': {}", what, path.string(), std::strerror(errno)));
}

void fsync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

void write_synced(const fs::path& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw_io("cannot create", path);
  try {
    write_and_sync(fd, bytes, path);
  } catch (...) {
    ::close(fd);
    ::unlink(path.c_str());
    throw;
  }
  ::close(fd);
}

}  // namespace

BlobStore::BlobStore(fs::path root) : root_(std::move(root)), tmp_(root_ / "tmp") {
  std::error_code ec;
  fs::create_directories(root_ / "blobs", ec);
  if (ec) throw Error(ErrorCode::io, fmt::format("blob store: cannot create '{}': {}", (root_ / "blobs").string(), ec.message()));
  fs::create_directories(tmp_, ec);
  if (ec) throw Error(ErrorCode::io, fmt::format("blob store: cannot create '{}': {}", tmp_.string(), ec.message()));
  remove_dead_temp_files();
}

fs::path BlobStore::path_of(const std::string& hash) const {
  if (!is_sha256_hex(hash)) {
    throw Error(ErrorCode::invalid_argument, fmt::format("not a blob hash: '{}'", hash));
  }
  return root_ / "blobs" / hash.substr(0, 2) / hash.substr(2, 2) / hash;
}

std::string BlobStore::put(std::string_view bytes) {
  std::string hash = sha256_hex(bytes);
  put_hashed(bytes, hash);
  return hash;
}

void BlobStore::put_hashed(std::string_view bytes, const std::string& hash) {
  const fs::path target = path_of(hash);
  std::error_code ec;
  // Same name means same content; a size mismatch means a damaged copy, which is replaced.
  const bool present = fs::exists(target, ec);
  if (present && fs::file_size(target, ec) == bytes.size() && !ec) return;
  const fs::path dir = target.parent_path();
  if (!present && !fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) throw Error(ErrorCode::io, fmt::format("blob store: cannot create '{}': {}", dir.string(), ec.message()));
    fsync_directory(dir.parent_path());
  }
  if (!present && put_unnamed(dir, target, bytes)) return;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const std::string host = host_name();
  const fs::path temp = tmp_ / fmt::format("{}-{:016x}-{}", ::getpid(), rng(), host);
  write_synced(temp, bytes);
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temp.c_str());
    errno = saved;
    throw_io("cannot rename into", target);
  }
  fsync_directory(dir);
}

// An O_TMPFILE inode has no name until linkat gives it its final one, so a crash at any point leaves
// nothing behind for anyone to clean, and no shared temp folder serialises the writers. Returns false
// where the file system has no O_TMPFILE (some network file systems): the caller then uses a named temp.
bool BlobStore::put_unnamed(const fs::path& dir, const fs::path& target, std::string_view bytes) {
  const int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) return false;
    throw_io("cannot create a file in", dir);
  }
  try {
    write_and_sync(fd, bytes, dir);
  } catch (...) {
    ::close(fd);
    throw;
  }
  const std::string proc = fmt::format("/proc/self/fd/{}", fd);
  const int linked = ::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, target.c_str(), AT_SYMLINK_FOLLOW);
  const int saved = errno;
  ::close(fd);
  if (linked != 0 && saved != EEXIST) {  // EEXIST: another writer stored the same bytes meanwhile
    errno = saved;
    throw_io("cannot name blob", target);
  }
  fsync_directory(dir);
  return true;
}

bool BlobStore::contains(const std::string& hash) const {
  std::error_code ec;
  return fs::exists(path_of(hash), ec);
}

std::optional<std::string> BlobStore::find(const std::string& hash) const {
  const fs::path path = path_of(hash);
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  std::string bytes = read_file(path);
  if (sha256_hex(bytes) != hash) {
    throw Error(ErrorCode::corrupt, fmt::format("blob {} is damaged: its content no longer matches its hash", hash),
                {{"hash", hash}, {"path", path.string()}});
  }
  return bytes;
}

std::string BlobStore::get(const std::string& hash) const {
  auto bytes = find(hash);
  if (!bytes) throw Error(ErrorCode::not_found, fmt::format("blob {} is not in the store", hash));
  return std::move(*bytes);
}

bool BlobStore::verify(const std::string& hash) const {
  try {
    return find(hash).has_value();
  } catch (const Error&) {
    return false;
  }
}

void BlobStore::for_each(const std::function<void(const std::string&)>& visit) const {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root_ / "blobs", ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (ec) break;
    if (it->is_regular_file() && is_sha256_hex(it->path().filename().string())) visit(it->path().filename().string());
  }
}

std::vector<fs::path> BlobStore::temp_files() const {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(tmp_, ec)) out.push_back(entry.path());
  return out;
}

void BlobStore::remove_dead_temp_files() {
  // Temp names are <pid>-<random>-<host>: a file from this host whose process is gone was left by a crash.
  // Files from other hosts (shared storage) are removed only when a day old.
  const std::string host = host_name();
  std::error_code ec;
  const auto now = fs::file_time_type::clock::now();
  for (const auto& entry : fs::directory_iterator(tmp_, ec)) {
    const std::string name = entry.path().filename().string();
    bool dead = false;
    const auto first = name.find('-');
    const auto second = name.find('-', first == std::string::npos ? 0 : first + 1);
    if (first != std::string::npos && second != std::string::npos && name.substr(second + 1) == host) {
      const pid_t pid = static_cast<pid_t>(std::atol(name.substr(0, first).c_str()));
      dead = pid <= 0 || (::kill(pid, 0) != 0 && errno == ESRCH);
    } else {
      std::error_code tec;
      const auto modified = fs::last_write_time(entry.path(), tec);
      dead = !tec && now - modified > std::chrono::hours(24);
    }
    if (dead) fs::remove(entry.path(), ec);
  }
}

}  // namespace tessera::blob
