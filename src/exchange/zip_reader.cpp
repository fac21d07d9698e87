#include "tessera/exchange/zip_reader.hpp"

#include <fmt/format.h>
#include <zip.h>

#include "exchange/zip_error.hpp"
#include "tessera/core/error.hpp"

namespace tessera::exchange {

struct ZipReader::Archive {
  zip_t* zip = nullptr;
};

ZipReader::ZipReader(std::filesystem::path path) : path_(std::move(path)), archive_(std::make_unique<Archive>()) {
  int code = 0;
  archive_->zip = zip_open(path_.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (archive_->zip == nullptr) {
    const ErrorCode kind = code == ZIP_ER_NOENT ? ErrorCode::not_found
                           : code == ZIP_ER_OPEN || code == ZIP_ER_READ ? ErrorCode::io
                                                                        : ErrorCode::corrupt;
    throw Error(kind, fmt::format("cannot open archive '{}': {}", path_.string(), zip_error_text(code)));
  }
  const zip_int64_t count = zip_get_num_entries(archive_->zip, 0);
  entries_.reserve(static_cast<size_t>(count));
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive_->zip, static_cast<zip_uint64_t>(i), 0, &st) != 0) {
      throw Error(ErrorCode::corrupt, fmt::format("archive '{}': cannot read entry #{}: {}", path_.string(), i,
                                                  zip_strerror(archive_->zip)));
    }
    ZipEntry entry;
    entry.name = st.name;
    entry.size = st.size;
    entry.compressed_size = st.comp_size;
    entry.method = st.comp_method == ZIP_CM_STORE ? ZipMethod::store : ZipMethod::deflate;
    entries_.push_back(std::move(entry));
  }
}

ZipReader::~ZipReader() {
  if (archive_ && archive_->zip != nullptr) zip_discard(archive_->zip);
}

std::optional<ZipEntry> ZipReader::find(std::string_view name) const {
  const std::string wanted(name);
  const zip_int64_t index = zip_name_locate(archive_->zip, wanted.c_str(), 0);
  if (index < 0) return std::nullopt;
  return entries_.at(static_cast<size_t>(index));
}

std::string ZipReader::read(std::string_view name) const {
  const std::string wanted(name);
  const zip_int64_t index = zip_name_locate(archive_->zip, wanted.c_str(), 0);
  if (index < 0) {
    throw Error(ErrorCode::not_found, fmt::format("archive '{}' has no entry '{}'", path_.string(), name));
  }
  const ZipEntry& entry = entries_.at(static_cast<size_t>(index));
  zip_stat_t st;
  zip_stat_init(&st);
  zip_stat_index(archive_->zip, static_cast<zip_uint64_t>(index), 0, &st);
  if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE) {
    throw Error(ErrorCode::unsupported,
                fmt::format("archive '{}': entry '{}' uses compression method {} (only stored and deflated "
                            "entries are read)", path_.string(), name, st.comp_method));
  }
  zip_file_t* file = zip_fopen_index(archive_->zip, static_cast<zip_uint64_t>(index), 0);
  if (file == nullptr) {
    throw Error(ErrorCode::corrupt, fmt::format("archive '{}': cannot open entry '{}': {}", path_.string(), name,
                                                zip_strerror(archive_->zip)));
  }
  std::string out(entry.size, '\0');
  uint64_t done = 0;
  std::string failure;
  // Reading one byte past the declared size makes libzip reach the end and check the CRC.
  char probe;
  while (done < entry.size) {
    const zip_int64_t n = zip_fread(file, out.data() + done, entry.size - done);
    if (n < 0) {
      failure = zip_file_strerror(file);
      break;
    }
    if (n == 0) {
      failure = fmt::format("data ends after {} of {} bytes", done, entry.size);
      break;
    }
    done += static_cast<uint64_t>(n);
  }
  if (failure.empty()) {
    const zip_int64_t n = zip_fread(file, &probe, 1);
    if (n < 0) failure = zip_file_strerror(file);
    else if (n > 0) failure = fmt::format("data is longer than the declared {} bytes", entry.size);
  }
  zip_fclose(file);
  if (!failure.empty()) {
    throw Error(ErrorCode::corrupt, fmt::format("archive '{}': entry '{}' is damaged: {}", path_.string(), name,
                                                failure));
  }
  return out;
}

}  // namespace tessera::exchange
