#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "tessera/blob/blob_store.hpp"
#include "tessera/catalog/catalog.hpp"

namespace tessera::app {

// A tessera workspace: a folder holding tessera.json (catalog URL and blob root), the SQLite catalog
// (catalog.db, the default) and the blob store (blobs/). The catalog may instead be PostgreSQL, shared
// by many machines that mount the same blob folder.
struct WorkspaceConfig {
  std::string db_url;             // "sqlite:catalog.db" (relative to the workspace) or a PostgreSQL URL
  std::string blob_root = "blobs";  // relative to the workspace or absolute
};

class Workspace {
 public:
  // Creates DIR (if needed), tessera.json, the catalog (migrated) and the blob store. db_url empty = SQLite.
  // Error{conflict} if DIR is already a workspace with a different catalog.
  static Workspace init(const std::filesystem::path& dir, const std::string& db_url);

  // Opens the workspace at dir, or the first folder upward from the current directory holding
  // tessera.json. db_override (from --db or TESSERA_DB) replaces the configured catalog URL.
  static Workspace open(const std::optional<std::filesystem::path>& dir, const std::string& db_override = "");

  const std::filesystem::path& root() const { return root_; }
  const WorkspaceConfig& config() const { return config_; }
  catalog::Catalog& catalog() { return *catalog_; }
  blob::BlobStore& blobs() { return *blobs_; }
  std::string catalog_url_for_display() const;  // password hidden

 private:
  Workspace(std::filesystem::path root, WorkspaceConfig config);

  std::filesystem::path root_;
  WorkspaceConfig config_;
  std::shared_ptr<catalog::Catalog> catalog_;
  std::shared_ptr<blob::BlobStore> blobs_;
};

// The catalog URL from the environment (TESSERA_DB), or empty.
std::string db_url_from_env();

}  // namespace tessera::app
