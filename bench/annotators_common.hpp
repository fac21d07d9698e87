#pragma once

// Shared by the annotators benchmark's two modes (annotators.cpp: concurrent annotators over HTTP and
// in-process; annotators_viewport.cpp: viewport queries over a million objects): a fresh workspace on
// SQLite or PostgreSQL, users with tokens, a server on a loopback port, latency percentiles.

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "catalog/db.hpp"
#include "tessera/app/workspace.hpp"
#include "tessera/catalog/users.hpp"
#include "tessera/server/server.hpp"

namespace tessera::bench {

using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The p-th percentile (0..100) by nearest rank; 0 for no samples.
inline double percentile(std::vector<double> samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(samples.size())));
  return samples[std::clamp<size_t>(rank, 1, samples.size()) - 1];
}

struct BenchUser {
  catalog::Id id = 0;
  std::string name;
  std::string token;
};

// A workspace in `dir` on db_url (empty: SQLite in the workspace), with one project.
class BenchWorkspace {
 public:
  BenchWorkspace(const std::filesystem::path& dir, const std::string& db_url)
      : dir_(dir), db_url_(db_url), workspace_(app::Workspace::init(dir, db_url)) {
    project_ = workspace_.catalog().ensure_project("bench").id;
  }

  app::Workspace& workspace() { return workspace_; }
  catalog::Id project() const { return project_; }
  std::string backend() { return workspace_.catalog().backend(); }

  // A second connection for bulk loading (what the public API does one row at a time).
  std::unique_ptr<catalog::Connection> raw() const {
    if (db_url_.empty()) return catalog::connect_sqlite((dir_ / "catalog.db").string());
    return catalog::connect_postgresql(db_url_);
  }

  // Editors of the project with API tokens. Inserted directly: hashing 100 passwords with argon2id
  // would take longer than the benchmark, and tokens are all the clients need.
  std::vector<BenchUser> add_editors(int count) {
    auto db = raw();
    catalog::UserStore users(workspace_.catalog());
    std::vector<BenchUser> out;
    for (int i = 0; i < count; ++i) {
      const std::string name = fmt::format("annotator{:03d}", i);
      const catalog::Id id =
          db->query("INSERT INTO users (name, created_at) VALUES (?, '2026-01-01T00:00:00.000Z') RETURNING id", {name})
              .i64(0, 0);
      users.set_role(project_, id, catalog::Role::editor);
      out.push_back({id, name, users.issue_token(id, "bench").token});
    }
    return out;
  }

  // Image records (no pixels: annotations and objects never read them).
  std::vector<catalog::Id> add_images(int count, int width, int height) {
    std::vector<catalog::NewImage> images;
    for (int i = 0; i < count; ++i) {
      catalog::NewImage image;
      image.blob_hash = fmt::format("{:064x}", i + 1);
      image.source_path = fmt::format("bench/{:05d}.tif", i);
      image.format = "tiff";
      image.width = width;
      image.height = height;
      image.channels = 1;
      image.pixel_type = "uint8";
      images.push_back(image);
    }
    return workspace_.catalog().add_images(project_, images).added;
  }

 private:
  std::filesystem::path dir_;
  std::string db_url_;
  app::Workspace workspace_;
  catalog::Id project_ = 0;
};

// `tessera serve` on a loopback port in this process, stopped on destruction.
class BenchServer {
 public:
  explicit BenchServer(app::Workspace& workspace) {
    server::ServeOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.run_jobs = false;
    server_ = std::make_unique<server::Server>(workspace, options);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->run(); });
  }
  ~BenchServer() {
    server_->stop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  std::unique_ptr<server::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace tessera::bench
