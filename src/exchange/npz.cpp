#include "tessera/exchange/npz.hpp"

#include <limits>

#include <fmt/format.h>

#include "exchange/npy_owned.hpp"
#include "exchange/npy_stream.hpp"
#include "exchange/temp_file.hpp"
#include "exchange/zip_names.hpp"
#include "tessera/core/error.hpp"
#include "tessera/exchange/zip_reader.hpp"
#include "tessera/exchange/zip_writer.hpp"

namespace tessera::exchange {
namespace {

// Largest first axis a header may have to hold: 20 digits, all of uint64.
constexpr uint64_t kWidestLength = std::numeric_limits<uint64_t>::max();

}  // namespace

struct NpzWriter::State {
  State(std::filesystem::path p, std::filesystem::path scratch)
      : path(std::move(p)), scratch_dir(scratch.empty() ? path.parent_path() : std::move(scratch)), zip(path) {}

  std::filesystem::path path;
  std::filesystem::path scratch_dir;
  ZipWriter zip;
  struct Entry {
    std::string key;
    std::unique_ptr<TempFile> file;      // whole arrays (add)
    std::unique_ptr<NpyStream> stream;   // growing arrays (begin)
  };
  std::vector<Entry> entries;
  bool finished = false;

  std::unique_ptr<TempFile> new_entry(std::string_view key) {
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
    return std::make_unique<TempFile>(scratch_dir, path.filename().string() + "." + std::string(key));
  }
};

NpzWriter::NpzWriter(std::filesystem::path path, std::filesystem::path scratch_dir)
    : state_(std::make_unique<State>(std::move(path), std::move(scratch_dir))) {}

NpzWriter::~NpzWriter() = default;

const std::filesystem::path& NpzWriter::path() const { return state_->path; }

void NpzWriter::add(std::string_view key, const NpyArray& array) {
  auto file = state_->new_entry(key);
  if (array.data.size() != array.item_count() * npy_item_size(array.type)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("npz '{}': array '{}' has {} bytes of data, its shape and dtype '{}' need {}",
                            state_->path.string(), key, array.data.size(), npy_descr(array.type),
                            array.item_count() * npy_item_size(array.type)));
  }
  const std::string header = npy_header(array.type, array.shape);
  file->append(header);
  file->append(array.data);
  state_->entries.push_back({std::string(key), std::move(file), nullptr});
}

NpyStream& NpzWriter::begin(std::string_view key, NpyType type, std::vector<uint64_t> item_shape) {
  auto file = state_->new_entry(key);
  uint64_t item_bytes = npy_item_size(type);
  for (const uint64_t d : item_shape) {
    if (d == 0 || item_bytes > std::numeric_limits<uint64_t>::max() / d) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("npz '{}': array '{}' needs item dimensions > 0 and a size below 2^64",
                              state_->path.string(), key));
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
  // Placeholder until finalize() knows the first axis; spaces keep it a harmless text if ever read.
  file->append(std::string(s->header_size, ' '));
  s->file = std::move(file);
  auto stream = std::unique_ptr<NpyStream>(new NpyStream(std::move(s)));
  NpyStream& out = *stream;
  state_->entries.push_back({std::string(key), nullptr, std::move(stream)});
  return out;
}

void NpzWriter::finish() {
  State& s = *state_;
  if (s.finished) throw Error(ErrorCode::invalid_argument, fmt::format("npz '{}': finish() called twice", s.path.string()));
  s.finished = true;
  for (auto& e : s.entries) {
    TempFile* file;
    if (e.stream) {
      e.stream->state_->finalize();
      file = e.stream->state_->file.get();
    } else {
      file = e.file.get();
    }
    file->flush();
    s.zip.add_file(e.key + ".npy", file->path(), ZipMethod::store);
  }
  s.zip.finish();
  s.entries.clear();  // scratch files go now, not when the writer does
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
