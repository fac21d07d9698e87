#include "tessera/exchange/npz.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>

#include <fmt/format.h>

#include "exchange/npy_owned.hpp"
#include "exchange/npy_stream.hpp"
#include "exchange/npz_zip.hpp"
#include "exchange/temp_file.hpp"
#include "exchange/zip_names.hpp"
#include "tessera/core/error.hpp"
#include "tessera/exchange/zip_reader.hpp"

namespace tessera::exchange {
namespace {

// Largest first axis a header may have to hold: 20 digits, all of uint64.
constexpr uint64_t kWidestLength = std::numeric_limits<uint64_t>::max();

constexpr size_t kChunk = 8 << 20;  // read/copy unit when finishing

[[noreturn]] void throw_io(const std::string& what, const std::filesystem::path& path) {
  throw Error(ErrorCode::io, fmt::format("{} '{}': {}", what, path.string(), std::strerror(errno)));
}

void pwrite_all(int fd, const char* p, size_t left, uint64_t offset, const std::filesystem::path& path) {
  while (left > 0) {
    const ssize_t n = ::pwrite(fd, p, left, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io("cannot write archive", path);
    }
    p += n;
    left -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
}

// Reads [offset, offset + length) of fd in chunks, passing each to `use(data, size, at)`.
template <typename Use>
void read_range(int fd, uint64_t offset, uint64_t length, std::string& buffer, const std::filesystem::path& path,
                Use&& use) {
  buffer.resize(kChunk);
  uint64_t done = 0;
  while (done < length) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, length - done));
    const ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io("cannot read", path);
    }
    if (n == 0) throw Error(ErrorCode::corrupt, fmt::format("'{}' is shorter than expected", path.string()));
    use(buffer.data(), static_cast<size_t>(n), done);
    done += static_cast<uint64_t>(n);
  }
}

void sync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Permissions a newly created file gets (0666 less the umask), as the libzip-written archives had; the
// scratch file the archive is built in was created 0600. The umask is read from /proc: umask() would
// have to change it to read it, which races with other threads.
mode_t new_file_mode() {
  mode_t mask = 022;
  if (FILE* f = std::fopen("/proc/self/status", "re")) {
    char line[256];
    while (std::fgets(line, sizeof line, f) != nullptr) {
      unsigned value = 0;
      if (std::sscanf(line, "Umask: %o", &value) == 1) {
        mask = static_cast<mode_t>(value);
        break;
      }
    }
    std::fclose(f);
  }
  return static_cast<mode_t>(0666 & ~mask);
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

// The archive is built in one pass in a scratch file beside the output (a TempFile, so it goes if the
// writer is abandoned): entries are written into it in order, straight from the caller's data while
// nothing earlier is still growing. The first streamed array (begin()) is written there directly; its
// local header and .npy header are placeholders of fixed size, patched at finish() once its length is
// known (the CRC is then read back from the page cache). Arrays begun or added while it still grows
// are spooled to scratch files as before and copied in after it. finish() writes the central directory,
// fsyncs, renames the file into place and syncs the folder.
struct NpzWriter::State {
  State(std::filesystem::path p, std::filesystem::path scratch)
      : path(std::move(p)), scratch_dir(scratch.empty() ? path.parent_path() : std::move(scratch)) {}

  std::filesystem::path path;
  std::filesystem::path scratch_dir;
  struct Entry {
    std::string key;
    std::unique_ptr<TempFile> file;      // spooled whole arrays (add)
    std::unique_ptr<NpyStream> stream;   // growing arrays (begin); direct ones write into the archive
    bool direct = false;                 // bytes already in the archive (stream: still growing)
    NpzZipEntry zip;                     // direct entries: offset (and, when complete, size and crc)
  };
  std::vector<Entry> entries;
  std::unique_ptr<TempFile> archive_owner;  // the archive until a direct stream takes it over
  TempFile* archive = nullptr;
  bool streaming_direct = false;  // a direct stream is growing at the archive's end
  bool finished = false;
  NpzDosTime when = npz_dos_time(std::time(nullptr));

  void open_archive() {
    if (archive != nullptr) return;
    const auto dir = path.parent_path();
    archive_owner = std::make_unique<TempFile>(dir, path.filename().string());
    archive = archive_owner.get();
  }

  void check_key(std::string_view key) const {
    if (finished) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("npz '{}': cannot add '{}' after finish()", path.string(), key));
    }
    const std::string entry = std::string(key) + ".npy";
    if (const auto problem = zip_name_problem(entry); !problem.empty()) {
      throw Error(ErrorCode::invalid_argument, fmt::format("npz '{}': key '{}' {}", path.string(), key, problem));
    }
    for (const auto& e : entries) {
      if (e.key == key) {
        throw Error(ErrorCode::invalid_argument, fmt::format("npz '{}': key '{}' is used twice", path.string(), key));
      }
    }
  }

  std::unique_ptr<TempFile> scratch_file(std::string_view key) const {
    return std::make_unique<TempFile>(scratch_dir, path.filename().string() + "." + std::string(key));
  }
};

NpzWriter::NpzWriter(std::filesystem::path path, std::filesystem::path scratch_dir)
    : state_(std::make_unique<State>(std::move(path), std::move(scratch_dir))) {}

NpzWriter::~NpzWriter() = default;

const std::filesystem::path& NpzWriter::path() const { return state_->path; }

void NpzWriter::add(std::string_view key, const NpyArray& array) {
  State& s = *state_;
  s.check_key(key);
  if (array.data.size() != array.item_count() * npy_item_size(array.type)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("npz '{}': array '{}' has {} bytes of data, its shape and dtype '{}' need {}",
                            s.path.string(), key, array.data.size(), npy_descr(array.type),
                            array.item_count() * npy_item_size(array.type)));
  }
  const std::string header = npy_header(array.type, array.shape);
  if (!s.streaming_direct) {
    // Nothing is growing: the entry goes into the archive now, complete.
    s.open_archive();
    State::Entry e{std::string(key), nullptr, nullptr, true, {}};
    e.zip.name = std::string(key) + ".npy";
    e.zip.offset = s.archive->size();
    e.zip.size = header.size() + array.data.size();
    e.zip.crc = npz_crc32(npz_crc32(0, header.data(), header.size()), array.data.data(), array.data.size());
    s.archive->append(npz_local_header(e.zip, s.when));
    s.archive->append(header);
    s.archive->append(array.data);
    s.entries.push_back(std::move(e));
    return;
  }
  auto file = s.scratch_file(key);
  file->append(header);
  file->append(array.data);
  s.entries.push_back({std::string(key), std::move(file), nullptr, false, {}});
}

NpyStream& NpzWriter::begin(std::string_view key, NpyType type, std::vector<uint64_t> item_shape) {
  State& st = *state_;
  st.check_key(key);
  uint64_t item_bytes = npy_item_size(type);
  for (const uint64_t d : item_shape) {
    if (d == 0 || item_bytes > std::numeric_limits<uint64_t>::max() / d) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("npz '{}': array '{}' needs item dimensions > 0 and a size below 2^64",
                              st.path.string(), key));
    }
    item_bytes *= d;
  }
  auto s = std::make_unique<NpyStream::State>();
  s->key = std::string(key);
  s->type = type;
  s->item_bytes = item_bytes;
  std::vector<uint64_t> widest{kWidestLength};
  widest.insert(widest.end(), item_shape.begin(), item_shape.end());
  s->header_size = npy_header(type, widest).size();
  s->item_shape = std::move(item_shape);
  State::Entry e{std::string(key), nullptr, nullptr, false, {}};
  if (!st.streaming_direct) {
    // Straight into the archive: placeholders for the local header and the .npy header, then the data
    // as appended (NpyStream writes to its file's end, which is the archive's).
    st.open_archive();
    e.direct = true;
    e.zip.name = std::string(key) + ".npy";
    e.zip.offset = st.archive->size();
    st.archive->append(std::string(npz_local_header_size(e.zip.name), '\0'));
    st.archive->append(std::string(s->header_size, ' '));
    s->file = std::move(st.archive_owner);  // the stream appends to the archive from now on
    st.streaming_direct = true;
  } else {
    // Placeholder until finalize() knows the first axis; spaces keep it a harmless text if ever read.
    s->file = st.scratch_file(key);
    s->file->append(std::string(s->header_size, ' '));
  }
  auto stream = std::unique_ptr<NpyStream>(new NpyStream(std::move(s)));
  NpyStream& out = *stream;
  e.stream = std::move(stream);
  st.entries.push_back(std::move(e));
  return out;
}

void NpzWriter::finish() {
  State& s = *state_;
  if (s.finished) throw Error(ErrorCode::invalid_argument, fmt::format("npz '{}': finish() called twice", s.path.string()));
  s.finished = true;
  // Every stream must end on an item boundary before anything is written (finalize()'s message).
  for (auto& e : s.entries) {
    if (!e.stream) continue;
    NpyStream::State& st = *e.stream->state_;
    if (e.direct) {
      if (st.data_bytes % st.item_bytes != 0) st.finalize();  // throws, naming the key
    } else {
      st.finalize();
    }
  }
  s.open_archive();
  s.archive->flush();
  const std::filesystem::path temp = s.archive->path();
  Fd fd;
  fd.fd = ::open(temp.c_str(), O_RDWR | O_CLOEXEC);
  if (fd.fd < 0) throw_io("cannot open archive", temp);
  uint64_t end = s.archive->size();
  std::string buffer;
  std::vector<NpzZipEntry> zip;
  for (auto& e : s.entries) {
    if (e.direct && e.stream) {
      // The one direct stream: its final .npy header over the placeholder, CRC read back, local header.
      NpyStream::State& st = *e.stream->state_;
      std::vector<uint64_t> shape{st.data_bytes / st.item_bytes};
      shape.insert(shape.end(), st.item_shape.begin(), st.item_shape.end());
      const std::string header = npy_header(st.type, shape, st.header_size);
      if (header.size() != st.header_size) {
        throw Error(ErrorCode::internal, fmt::format("npz array '{}': header outgrew its reserved space", st.key));
      }
      const uint64_t header_at = e.zip.offset + npz_local_header_size(e.zip.name);
      pwrite_all(fd.fd, header.data(), header.size(), header_at, temp);
      uint32_t crc = npz_crc32(0, header.data(), header.size());
      read_range(fd.fd, header_at + header.size(), st.data_bytes, buffer, temp,
                 [&](const char* p, size_t n, uint64_t) { crc = npz_crc32(crc, p, n); });
      e.zip.size = header.size() + st.data_bytes;
      e.zip.crc = crc;
      const std::string local = npz_local_header(e.zip, s.when);
      pwrite_all(fd.fd, local.data(), local.size(), e.zip.offset, temp);
      st.closed = true;
    } else if (!e.direct) {
      // Spooled: copied in after the entries before it, CRC on the way.
      TempFile* file = e.stream ? e.stream->state_->file.get() : e.file.get();
      file->flush();
      Fd in;
      in.fd = ::open(file->path().c_str(), O_RDONLY | O_CLOEXEC);
      if (in.fd < 0) throw_io("cannot open scratch file", file->path());
      e.zip.name = e.key + ".npy";
      e.zip.offset = end;
      e.zip.size = file->size();
      const uint64_t data_at = end + npz_local_header_size(e.zip.name);
      uint32_t crc = 0;
      read_range(in.fd, 0, e.zip.size, buffer, file->path(), [&](const char* p, size_t n, uint64_t at) {
        crc = npz_crc32(crc, p, n);
        pwrite_all(fd.fd, p, n, data_at + at, temp);
      });
      e.zip.crc = crc;
      const std::string local = npz_local_header(e.zip, s.when);
      pwrite_all(fd.fd, local.data(), local.size(), e.zip.offset, temp);
      end = data_at + e.zip.size;
      // The scratch copy goes now, before its pages are written back.
      if (e.stream) e.stream->state_->file.reset();
      e.file.reset();
    }
    zip.push_back(e.zip);
  }
  const std::string central = npz_central_directory(zip, end, s.when);
  pwrite_all(fd.fd, central.data(), central.size(), end, temp);
  if (::ftruncate(fd.fd, static_cast<off_t>(end + central.size())) != 0) throw_io("cannot write archive", temp);
  if (::fchmod(fd.fd, new_file_mode()) != 0) throw_io("cannot set permissions of archive", temp);
  if (::fsync(fd.fd) != 0) throw_io("cannot sync archive", temp);
  if (::rename(temp.c_str(), s.path.c_str()) != 0) {
    throw Error(ErrorCode::io, fmt::format("cannot rename archive into '{}': {}", s.path.string(), std::strerror(errno)));
  }
  sync_dir(s.path.parent_path().empty() ? std::filesystem::path(".") : s.path.parent_path());
  s.entries.clear();  // scratch files go now, not when the writer does
  s.archive_owner.reset();
  s.archive = nullptr;
}

struct NpzReader::State {
  explicit State(std::filesystem::path path) : zip(std::move(path)) {}
  ZipReader zip;
};

NpzReader::NpzReader(std::filesystem::path path) : state_(std::make_unique<State>(std::move(path))) {}

NpzReader::~NpzReader() = default;

std::vector<std::string> NpzReader::keys() const {
  std::vector<std::string> out;
  for (const auto& e : state_->zip.entries()) {
    if (e.name.size() > 4 && e.name.ends_with(".npy")) out.push_back(e.name.substr(0, e.name.size() - 4));
  }
  return out;
}

bool NpzReader::contains(std::string_view key) const {
  return state_->zip.find(std::string(key) + ".npy").has_value();
}

NpyArray NpzReader::read(std::string_view key) const {
  const std::string entry = std::string(key) + ".npy";
  if (!contains(key)) {
    throw Error(ErrorCode::not_found,
                fmt::format("npz '{}' has no array '{}'", state_->zip.path().string(), key));
  }
  return decode_npy_owned(state_->zip.read(entry), fmt::format("{}:{}", state_->zip.path().string(), entry));
}

}  // namespace tessera::exchange
