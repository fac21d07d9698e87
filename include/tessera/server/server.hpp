#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "tessera/app/workspace.hpp"

namespace tessera::server {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                             // 0: any free port (tests); see Server::port()
  std::size_t max_body_bytes = 512u << 20;     // larger bodies get 413
  int threads = 0;                             // 0: max(16, 4 x cores)
  std::filesystem::path web_root;              // the built web UI (web/dist); empty: API only
  bool run_jobs = true;                        // run queued jobs in this process (the SQLite default)
};

// `tessera serve`: the REST API under /api/v1 (docs/api.md), the activity feed as server-sent events,
// tiles and the web UI's files, over one workspace.
class Server {
 public:
  Server(app::Workspace& workspace, ServeOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket; Error{unavailable} if it cannot. Returns the port (useful with port 0).
  int bind();
  int port() const;
  // Serves until stop() (from another thread or a signal handler's thread).
  void run();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::server
