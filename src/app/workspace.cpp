#include "tessera/app/workspace.hpp"

#include <cstdlib>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"

namespace tessera::app {
namespace fs = std::filesystem;
namespace {

constexpr const char* kConfigFile = "tessera.json";

WorkspaceConfig read_config(const fs::path& root) {
  const fs::path path = root / kConfigFile;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::corrupt, fmt::format("{}: not valid JSON: {}", path.string(), e.what()));
  }
  WorkspaceConfig config;
  if (!j.is_object() || !j.contains("db") || !j["db"].is_string()) {
    throw Error(ErrorCode::corrupt, fmt::format("{}: field 'db' (catalog URL) is missing", path.string()));
  }
  config.db_url = j["db"].get<std::string>();
  if (j.contains("blobs")) {
    if (!j["blobs"].is_string()) throw Error(ErrorCode::corrupt, fmt::format("{}: field 'blobs' must be a string", path.string()));
    config.blob_root = j["blobs"].get<std::string>();
  }
  return config;
}

// A relative SQLite path in tessera.json is relative to the workspace, not the current directory.
std::string resolve_db_url(const fs::path& root, const std::string& url) {
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) return url;
  std::string path = url.starts_with("sqlite:") ? url.substr(7) : url;
  if (fs::path(path).is_relative()) path = (root / path).string();
  return "sqlite:" + path;
}

}  // namespace

std::string db_url_from_env() {
  const char* env = std::getenv("TESSERA_DB");
  return env ? env : "";
}

Workspace::Workspace(fs::path root, WorkspaceConfig config) : root_(std::move(root)), config_(std::move(config)) {
  fs::path blob_root = config_.blob_root;
  if (blob_root.is_relative()) blob_root = root_ / blob_root;
  blobs_ = std::make_shared<blob::BlobStore>(blob_root);
  catalog_ = std::shared_ptr<catalog::Catalog>(catalog::Catalog::open(resolve_db_url(root_, config_.db_url)));
}

Workspace Workspace::init(const fs::path& dir, const std::string& db_url) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(ErrorCode::io, fmt::format("cannot create workspace folder '{}': {}", dir.string(), ec.message()));
  const fs::path root = fs::canonical(dir);
  WorkspaceConfig config;
  config.db_url = db_url.empty() ? "sqlite:catalog.db" : db_url;
  if (fs::exists(root / kConfigFile)) {
    WorkspaceConfig existing = read_config(root);
    if (!db_url.empty() && existing.db_url != config.db_url) {
      throw Error(ErrorCode::conflict,
                  fmt::format("'{}' is already a workspace using catalog '{}'", root.string(), existing.db_url));
    }
    return Workspace(root, existing);  // init is idempotent
  }
  nlohmann::json j = {{"db", config.db_url}, {"blobs", config.blob_root}};
  Workspace workspace(root, config);  // connects and migrates before the config claims the folder
  write_file_atomic(root / kConfigFile, j.dump(2) + "\n");
  return workspace;
}

Workspace Workspace::open(const std::optional<fs::path>& dir, const std::string& db_override) {
  fs::path root;
  if (dir) {
    if (!fs::exists(*dir / kConfigFile)) {
      throw Error(ErrorCode::not_found,
                  fmt::format("'{}' is not a tessera workspace (no {}); run 'tessera init {}'", dir->string(),
                              kConfigFile, dir->string()));
    }
    root = fs::canonical(*dir);
  } else {
    for (fs::path p = fs::current_path(); !p.empty(); p = p.parent_path()) {
      if (fs::exists(p / kConfigFile)) {
        root = p;
        break;
      }
      if (p == p.parent_path()) break;
    }
    if (root.empty()) {
      throw Error(ErrorCode::not_found,
                  "no tessera workspace here or above; run 'tessera init DIR' or pass --dir / TESSERA_DIR");
    }
  }
  WorkspaceConfig config = read_config(root);
  if (!db_override.empty()) config.db_url = db_override;
  return Workspace(root, config);
}

std::string Workspace::catalog_url_for_display() const {
  static const std::regex password(R"((://[^:/@]+:)[^@]*@)");
  return std::regex_replace(config_.db_url, password, "$1***@");
}

}  // namespace tessera::app
