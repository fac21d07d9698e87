#pragma once

// The server's request plumbing shared by every routes_*.cpp: authentication, project access, JSON bodies,
// query parameters and error responses. A handler reads like the use case it calls: it asks the Context
// for what it needs (which throws the right 4xx when it cannot have it) and sends JSON.

#include <httplib.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <unordered_map>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tessera/app/job_runner.hpp"
#include "tessera/app/workspace.hpp"
#include "tessera/catalog/users.hpp"
#include "tessera/server/server.hpp"

namespace tessera::server {

using catalog::Id;
using catalog::Role;

// An error with the HTTP status ErrorCode cannot say on its own (401, 413, 415, 422, 423, ...). Body:
// {"error": {"code": code, "message": message, "details": details}}.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, std::string code, const std::string& message, nlohmann::json details = nullptr)
      : std::runtime_error(message), status_(status), code_(std::move(code)), details_(std::move(details)) {}
  int status() const { return status_; }
  const std::string& code() const { return code_; }
  const nlohmann::json& details() const { return details_; }

 private:
  int status_;
  std::string code_;
  nlohmann::json details_;
};

// Wakes the activity-feed streams of this process when something here added events; streams also poll the
// catalog (every 250 ms) so events written by other processes (workers, the CLI) arrive too.
class FeedSignal {
 public:
  void notify();
  // Waits until notify() or the timeout; returns the generation seen, to call again with.
  std::uint64_t wait(std::uint64_t seen, std::chrono::milliseconds timeout);
  std::uint64_t generation();

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::uint64_t generation_ = 0;
};

// Token -> user and (user, project) -> role answers kept for a few seconds: the tile hot path would
// otherwise pay two catalog queries per request. Revocations through this server drop entries at once;
// elsewhere (CLI, another server) they take effect within kTtl.
class AccessCache {
 public:
  static constexpr std::chrono::seconds kTtl{5};
  std::optional<catalog::User> user(catalog::UserStore& users, const std::string& token);
  std::optional<Role> role(catalog::UserStore& users, Id project_id, Id user_id);
  void forget_token(const std::string& token);
  void forget_user(Id user_id);  // after role changes

 private:
  struct TokenEntry {
    std::optional<catalog::User> user;
    std::chrono::steady_clock::time_point until;
  };
  struct RoleEntry {
    std::optional<Role> role;
    std::chrono::steady_clock::time_point until;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, TokenEntry> tokens_;
  std::map<std::pair<Id, Id>, RoleEntry> roles_;  // (user, project)
};

// What every handler can reach. One per server.
struct Services {
  app::Workspace& workspace;
  ServeOptions options;
  catalog::UserStore users;
  AccessCache access;
  FeedSignal feed;
  std::atomic<bool> stopping{false};
  // The in-process job runner (ServeOptions::run_jobs), or null when workers elsewhere run the jobs. After
  // queueing a job, call job_runner->wake() so it starts now rather than at the next poll.
  app::JobRunner* job_runner = nullptr;
};

class Context {
 public:
  Context(const httplib::Request& req, httplib::Response& res, Services& services)
      : req(req), res(res), services(services) {}

  const httplib::Request& req;
  httplib::Response& res;
  Services& services;

  catalog::Catalog& catalog() { return services.workspace.catalog(); }
  blob::BlobStore& blobs() { return services.workspace.blobs(); }

  // The authenticated user (the Router has checked the token for every non-public route).
  const catalog::User& user() const;
  void set_user(catalog::User user) { user_ = std::move(user); }
  bool has_user() const { return user_.has_value(); }

  // The caller's access to a project: 404 when the project does not exist or the caller is not a member
  // (so existence does not leak), 403 when the caller's role is below `min`.
  catalog::ProjectAccess project(Id project_id, Role min = Role::viewer);
  catalog::ProjectAccess project_named(const std::string& name, Role min = Role::viewer);
  // An image the caller may see (404 otherwise) with at least role `min` on its project.
  catalog::ImageRecord image(Id image_id, Role min = Role::viewer);
  // A series the caller may see (404 otherwise, alike for a missing one) with at least role `min` on its project.
  catalog::Series series(Id series_id, Role min = Role::viewer);

  // The n-th regex group of the route pattern.
  std::string path(std::size_t index) const;
  // The n-th group as a positive id; 404 naming `what` when it is not one.
  Id path_id(std::size_t index, std::string_view what) const;

  // The body as JSON: 415 unless the Content-Type is application/json, 400 when malformed or not an object.
  nlohmann::json json_body() const;
  std::optional<std::string> query(const std::string& name) const;
  // An integer query parameter in [min, max]; 400 naming the parameter otherwise.
  std::int64_t query_int(const std::string& name, std::int64_t fallback, std::int64_t min, std::int64_t max) const;

  void send_json(const nlohmann::json& body, int status = 200);
  // 201 with Location.
  void send_created(const nlohmann::json& body, const std::string& location);
  // Validates and queues a job (app::submit_job), wakes this process's runner if it runs jobs, and answers
  // 202 Accepted with Location: /api/v1/jobs/{id} and a {"job": {...}} body.
  void queue_job(Id project_id, const std::string& kind, const nlohmann::json& params);

  // Records an activity event for a project and wakes the feed streams.
  Id add_event(std::optional<Id> project_id, catalog::NewEvent event);

 private:
  std::optional<catalog::User> user_;
};

// Typed accessors for JSON bodies: 400 naming the field when missing or of the wrong type.
std::string require_string(const nlohmann::json& body, const std::string& field);
std::optional<std::string> optional_string(const nlohmann::json& body, const std::string& field);
std::int64_t require_int(const nlohmann::json& body, const std::string& field);
std::optional<std::int64_t> optional_int(const nlohmann::json& body, const std::string& field);
std::optional<double> optional_number(const nlohmann::json& body, const std::string& field);

enum class Access { open, user };
using Handler = std::function<void(Context&)>;
using StreamHandler = std::function<void(Context&, const httplib::ContentReader&)>;

// Registers handlers on the httplib server; each call runs in a wrapper that authenticates (Bearer token,
// or ?access_token= for EventSource and <img> which cannot send headers), maps every exception to a JSON
// error response (tessera::Error by its code, HttpError by its status, anything else 500 without internals)
// and never lets one escape into httplib.
class Router {
 public:
  Router(httplib::Server& http, Services& services) : http_(http), services_(services) {}

  void get(const std::string& pattern, Handler handler, Access access = Access::user);
  void post(const std::string& pattern, Handler handler, Access access = Access::user);
  void put(const std::string& pattern, Handler handler, Access access = Access::user);
  void patch(const std::string& pattern, Handler handler, Access access = Access::user);
  void del(const std::string& pattern, Handler handler, Access access = Access::user);
  // A POST whose body the handler reads itself as a stream (uploads), so it is never held twice.
  void post_stream(const std::string& pattern, StreamHandler handler, Access access = Access::user);

  Services& services() { return services_; }
  httplib::Server& http() { return http_; }

 private:
  void run(Context& ctx, Access access, const std::function<void()>& body);

  httplib::Server& http_;
  Services& services_;
};

// The JSON error body and status for an exception (also used by handlers that stream).
std::pair<int, nlohmann::json> error_response(const std::exception& e);

}  // namespace tessera::server
