#include "tessera/server/server.hpp"

#include <fmt/format.h>

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "server/http.hpp"
#include "server/open_connections.hpp"
#include "server/routes.hpp"
#include "tessera/core/error.hpp"

namespace tessera::server {
namespace {

// An Accept-Encoding value without its brotli coding(s). httplib picks brotli when "br" appears anywhere in
// the value, so every element holding it goes.
std::string without_brotli(const std::string& accept_encoding) {
  std::string out;
  std::size_t start = 0;
  while (start <= accept_encoding.size()) {
    std::size_t end = accept_encoding.find(',', start);
    if (end == std::string::npos) end = accept_encoding.size();
    const std::string element = accept_encoding.substr(start, end - start);
    if (element.find("br") == std::string::npos && element.find_first_not_of(' ') != std::string::npos) {
      out += (out.empty() ? "" : ",") + element;
    }
    start = end + 1;
  }
  return out;
}

}  // namespace

struct Server::Impl {
  Impl(app::Workspace& workspace, ServeOptions options)
      : services{workspace, options, catalog::UserStore(workspace.catalog()), {}, {}, {}}, router(http, services) {}

  httplib::Server http;
  Services services;
  Router router;
  std::unique_ptr<app::JobRunner> jobs;
  int port = 0;
  std::atomic<int> listen_socket{-1};
  std::atomic<bool> running{false};  // run() is between its start and its return
};

Server::Server(app::Workspace& workspace, ServeOptions options) : impl_(std::make_unique<Impl>(workspace, options)) {
  auto& http = impl_->http;
  const ServeOptions& opts = impl_->services.options;
  // Each keep-alive connection and each feed stream holds a thread while open, so the pool is sized for
  // many clients at once rather than for the cores.
  const int threads = opts.threads > 0 ? opts.threads : std::max(128, 16 * static_cast<int>(std::thread::hardware_concurrency()));
  http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http.set_payload_max_length(opts.max_body_bytes);
  http.set_keep_alive_max_count(10000);
  http.set_keep_alive_timeout(30);
  http.set_read_timeout(30);
  http.set_write_timeout(30);
  http.set_tcp_nodelay(true);
  // Debian's compiled cpp-httplib listens with a backlog of 5: 64 clients connecting at once overflow it and
  // wait for TCP's 1 s / 3 s retries. Remember the listening socket so bind() can raise the backlog.
  http.set_socket_options([impl = impl_.get()](socket_t sock) {
    httplib::default_socket_options(sock);
    impl->listen_socket = static_cast<int>(sock);
  });

  // Debian's compiled cpp-httplib compresses with brotli whenever the client offers it, at the encoder's default
  // quality 11, and has no setting for it: measured, a 500-image list page took 3.4-4.4 s as brotli and 0.1 s
  // as gzip, and the web UI's 400 kB map chunk seconds. So the server hides "br" from the library's choice and
  // browsers get gzip (zlib's default level). The request object is the server's own, not const: the cast is
  // safe, and the pre-routing handler runs before static files and routes pick an encoding.
  http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
    auto& headers = const_cast<httplib::Request&>(req).headers;
    auto [first, last] = headers.equal_range("Accept-Encoding");
    for (auto it = first; it != last; ++it) it->second = without_brotli(it->second);
    return httplib::Server::HandlerResponse::Unhandled;
  });

  // Errors httplib answers itself (no route, 413, bad request line) get the same JSON body as ours.
  http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string code = "error";
    std::string message = fmt::format("HTTP status {}", res.status);
    if (res.status == 404) {
      code = "not_found";
      message = fmt::format("no such resource: {} {}", req.method, req.path);
    } else if (res.status == 400) {
      code = "bad_request";
      message = "malformed HTTP request (a POST, PUT or PATCH without a body must send 'Content-Length: 0')";
    } else if (res.status == 413) {
      code = "payload_too_large";
      message = "the request body is larger than the server accepts (tessera serve --max-body)";
    }
    res.set_content(nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump(), "application/json");
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      auto [status, body] = error_response(e);
      res.status = status;
      res.set_content(body.dump(), "application/json");
    } catch (...) {
      res.status = 500;
      res.set_content(R"({"error":{"code":"internal","message":"internal error"}})", "application/json");
    }
  });

  if (opts.run_jobs) {
    // SQLite's default: this process runs the queue. Two threads keep one long job from blocking the rest.
    app::WorkerOptions worker;
    worker.name = app::default_worker_name() + ":serve";
    worker.threads = 2;
    impl_->jobs = std::make_unique<app::JobRunner>(workspace, worker);
    impl_->services.job_runner = impl_->jobs.get();
  }

  Router& router = impl_->router;
  add_tile_routes(router);  // first: routes are matched by regex in order, and tiles are the hot path
  add_auth_routes(router);
  add_project_routes(router);
  add_image_routes(router);
  add_feed_routes(router);
  add_ops_routes(router);
  add_annotation_routes(router);
  add_lock_routes(router);
  add_job_routes(router);
  add_track_routes(router);
  add_mask_routes(router);
  add_propagation_routes(router);
  add_mask_edit_routes(router);
  add_export_routes(router);
  add_crowd_routes(router);
  add_learn_routes(router);
  add_static_routes(router);
}

Server::~Server() { stop(); }

int Server::bind() {
  const ServeOptions& opts = impl_->services.options;
  if (opts.port == 0) {
    impl_->port = impl_->http.bind_to_any_port(opts.host);
    if (impl_->port < 0) throw Error(ErrorCode::unavailable, fmt::format("cannot listen on {}", opts.host));
  } else {
    if (!impl_->http.bind_to_port(opts.host, opts.port)) {
      throw Error(ErrorCode::unavailable,
                  fmt::format("cannot listen on {}:{} (in use, or not an address of this machine)", opts.host, opts.port));
    }
    impl_->port = opts.port;
  }
  // listen() again on a listening socket only changes its backlog (Linux).
  if (impl_->listen_socket >= 0) ::listen(impl_->listen_socket, SOMAXCONN);
  return impl_->port;
}

int Server::port() const { return impl_->port; }

void Server::run() {
  // `running` is set before `stopping` is read, and stop() sets `stopping` before it reads `running`: a stop
  // that comes while run() is starting is seen by one side or the other (httplib's own stop() does nothing
  // before its accept loop runs, and the loop then served forever: `tessera serve` had to be killed).
  impl_->running = true;
  struct Finished {
    std::atomic<bool>& running;
    ~Finished() { running = false; }
  } finished{impl_->running};
  if (impl_->services.stopping) return;
  if (impl_->port == 0) bind();
  if (impl_->jobs) impl_->jobs->start();
  impl_->http.listen_after_bind();
}

void Server::stop() {
  impl_->services.stopping = true;
  impl_->services.feed.notify();
  // run() has started but its accept loop may not be up yet: wait for it, or for run() to give up.
  while (impl_->running && !impl_->http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl_->http.stop();
  end_idle_connections(impl_->port);
  if (impl_->jobs) impl_->jobs->stop();
}

}  // namespace tessera::server
