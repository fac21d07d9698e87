#pragma once

#include <filesystem>
#include <random>
#include <string>

#include <fmt/format.h>

namespace tessera::test {

// A fresh folder under the system temp dir, removed when the object goes out of scope.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "tessera-test") {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / fmt::format("{}-{:08x}{:08x}", prefix, rd(), rd());
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace tessera::test
