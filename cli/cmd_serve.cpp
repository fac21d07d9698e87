#include <csignal>
#include <pthread.h>

#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "commands.hpp"
#include "tessera/core/error.hpp"
#include "tessera/server/server.hpp"

namespace tessera::cli {

void add_serve_command(CLI::App& app, GlobalOptions& global) {
  auto* cmd = app.add_subcommand("serve", "Serve the REST API, the activity feed, tiles and the web UI (docs/api.md)");
  auto options = std::make_shared<server::ServeOptions>();
  auto web = std::make_shared<std::string>();
  auto max_body_mb = std::make_shared<double>(512);
  auto no_jobs = std::make_shared<bool>(false);
  cmd->add_option("--host", options->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", options->port, "Port (0: any free port, printed)")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--web", *web, "Folder of the built web UI (default: web/dist beside the workspace's project, if built)");
  cmd->add_option("--max-body", *max_body_mb, "Largest request body in MiB (larger: 413)")->capture_default_str()->check(CLI::Range(0.001, 65536.0));
  cmd->add_option("--threads", options->threads, "Connection threads (0: max(128, 16 x cores))")->check(CLI::Range(0, 4096));
  cmd->add_flag("--no-jobs", *no_jobs, "Do not run queued jobs in this process (leave them to `tessera worker`)");
  cmd->callback([&global, options, web, max_body_mb, no_jobs] {
    app::Workspace ws = global.open_workspace();
    options->max_body_bytes = static_cast<std::size_t>(*max_body_mb * 1024 * 1024);
    options->run_jobs = !*no_jobs;
    if (!web->empty()) options->web_root = *web;

    // Signals are taken by one thread with sigwait, so the server stops cleanly (no work in a handler).
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    server::Server server(ws, *options);
    const int port = server.bind();
    fmt::print("tessera serve: http://{}:{}/ (catalog {}, workspace {})\n", options->host, port,
               ws.catalog_url_for_display(), ws.root().string());
    std::fflush(stdout);
    std::thread stopper([&server, signals] {
      int received = 0;
      sigwait(&signals, &received);
      fmt::print(stderr, "tessera serve: stopping (signal {})\n", received);
      server.stop();
    });
    server.run();
    // run() returned without a signal (stop from elsewhere): wake the waiting thread.
    pthread_kill(stopper.native_handle(), SIGTERM);
    stopper.join();
  });
}

}  // namespace tessera::cli
