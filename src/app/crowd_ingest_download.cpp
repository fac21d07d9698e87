// Downloads of crowd annotations: file:// here, http(s) through the front end's HttpGet; retries with
// doubling backoff, resumable ".part" files, and a verification before the final rename.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "tessera/app/crowd_ingest.hpp"
#include "tessera/core/error.hpp"

namespace tessera::app {
namespace {

namespace fs = std::filesystem;

std::string lower_prefix(const std::string& url, size_t n) {
  std::string out = url.substr(0, n);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// file:///abs/path or file://localhost/abs/path, percent-escapes decoded.
fs::path file_url_path(const std::string& url) {
  std::string rest = url.substr(7);
  if (rest.starts_with("localhost/")) rest = rest.substr(9);
  if (!rest.starts_with("/")) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: a file URL needs an absolute path (file:///...)", url));
  }
  std::string path;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%' && i + 2 < rest.size() && hex_value(rest[i + 1]) >= 0 && hex_value(rest[i + 2]) >= 0) {
      path += static_cast<char>(hex_value(rest[i + 1]) * 16 + hex_value(rest[i + 2]));
      i += 2;
    } else {
      path += rest[i];
    }
  }
  return path;
}

void copy_file_url(const std::string& url, const fs::path& partial) {
  fs::path source = file_url_path(url);
  std::error_code ec;
  if (!fs::is_regular_file(source, ec)) {
    throw Error(ErrorCode::not_found, fmt::format("{}: no such file", url));
  }
  fs::copy_file(source, partial, fs::copy_options::overwrite_existing, ec);
  if (ec) throw Error(ErrorCode::io, fmt::format("{}: copying to {} failed: {}", url, partial.string(), ec.message()));
}

}  // namespace

void download(const std::string& url, const fs::path& dest, const DownloadOptions& options,
              const std::function<void(const fs::path&)>& verify) {
  if (options.attempts < 1) {
    throw Error(ErrorCode::invalid_argument, fmt::format("download: attempts must be >= 1, got {}", options.attempts));
  }
  std::string scheme = lower_prefix(url, 8);
  bool is_file = scheme.starts_with("file://");
  bool is_http = scheme.starts_with("http://") || scheme.starts_with("https://");
  if (!is_file && !is_http) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: not an http://, https:// or file:// URL", url));
  }
  if (is_http && !options.http) {
    throw Error(ErrorCode::unsupported, fmt::format("{}: no HTTP client configured for this download", url));
  }
  fs::create_directories(dest.parent_path());
  fs::path partial = dest;
  partial += ".part";
  auto backoff = options.first_backoff;
  std::string last_reason;
  for (int attempt = 1; attempt <= options.attempts; ++attempt) {
    try {
      if (is_file) {
        copy_file_url(url, partial);
      } else {
        std::error_code ec;
        std::uint64_t offset = fs::exists(partial, ec) ? fs::file_size(partial, ec) : 0;
        if (ec) offset = 0;
        options.http(url, partial, offset, options.timeout);
      }
      try {
        verify(partial);
      } catch (const Error&) {
        // A resumed file that does not verify may hold stale bytes from another version: start over.
        fs::remove(partial);
        throw;
      }
      fs::rename(partial, dest);
      return;
    } catch (const Error& e) {
      last_reason = e.what();
      bool transient = e.code() == ErrorCode::unavailable || e.code() == ErrorCode::io;
      if (!transient || attempt == options.attempts) {
        throw Error(e.code(), fmt::format("download of {} failed after {} attempt(s): {}", url, attempt, last_reason));
      }
    }
    std::this_thread::sleep_for(backoff);
    backoff *= 2;
  }
}

}  // namespace tessera::app
