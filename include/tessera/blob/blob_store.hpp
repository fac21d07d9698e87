#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::blob {

// Content-addressed bytes under <root>/blobs/ab/cd/<sha256>. A put writes an unnamed (O_TMPFILE) file in
// the target folder, fsyncs it, links it under its hash and fsyncs the folder; where the file system has no
// O_TMPFILE it uses a named temp file in <root>/tmp and a rename. Either way a crash leaves the old state
// or the new blob, never a part of one. Thread-safe and safe across processes sharing the root.
class BlobStore {
 public:
  // Creates the folders when missing and deletes temp files left by dead writers on this host.
  explicit BlobStore(std::filesystem::path root);

  // Stores bytes and returns their hash; idempotent: the same bytes are stored once.
  std::string put(std::string_view bytes);
  // As put(), when the caller has already hashed the bytes (the import hashes once for dedup and storage).
  void put_hashed(std::string_view bytes, const std::string& hash);

  bool contains(const std::string& hash) const;
  // The bytes, verified against their hash. nullopt when absent; Error{corrupt} when the bytes on disk no
  // longer hash to their name (such a blob is never served).
  std::optional<std::string> find(const std::string& hash) const;
  // As find(), but Error{not_found} when absent.
  std::string get(const std::string& hash) const;
  // Re-hashes one blob on disk: true when intact, false when missing or damaged.
  bool verify(const std::string& hash) const;

  std::filesystem::path path_of(const std::string& hash) const;  // Error{invalid_argument} for a bad hash
  const std::filesystem::path& root() const { return root_; }

  // Every stored hash, in no particular order.
  void for_each(const std::function<void(const std::string& hash)>& visit) const;
  // Temp files currently in <root>/tmp (after a crash and before the next open, they are the leftovers).
  std::vector<std::filesystem::path> temp_files() const;

 private:
  void remove_dead_temp_files();
  bool put_unnamed(const std::filesystem::path& dir, const std::filesystem::path& target, std::string_view bytes);

  std::filesystem::path root_;
  std::filesystem::path tmp_;
};

}  // namespace tessera::blob
