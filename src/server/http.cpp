#include "server/http.hpp"

#include <fmt/format.h>

#include <charconv>

#include "tessera/app/job_kinds.hpp"
#include "tessera/catalog/tracks.hpp"
#include "tessera/core/error.hpp"

namespace tessera::server {
namespace {

int status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument: return 400;
    case ErrorCode::not_found: return 404;
    case ErrorCode::conflict: return 409;
    case ErrorCode::forbidden: return 403;
    case ErrorCode::unsupported: return 415;
    case ErrorCode::corrupt: return 422;
    case ErrorCode::unavailable: return 503;
    case ErrorCode::io:
    case ErrorCode::internal: return 500;
  }
  return 500;
}

nlohmann::json error_body(const std::string& code, const std::string& message, const nlohmann::json& details) {
  nlohmann::json error{{"code", code}, {"message", message}};
  if (!details.is_null()) error["details"] = details;
  return nlohmann::json{{"error", error}};
}

std::string bearer_token(const httplib::Request& req) {
  const std::string header = req.get_header_value("Authorization");
  if (header.starts_with("Bearer ")) return header.substr(7);
  // EventSource and <img> cannot send headers.
  if (req.has_param("access_token")) return req.get_param_value("access_token");
  return "";
}

}  // namespace

std::pair<int, nlohmann::json> error_response(const std::exception& e) {
  if (const auto* http = dynamic_cast<const HttpError*>(&e)) {
    return {http->status(), error_body(http->code(), http->what(), http->details())};
  }
  if (const auto* error = dynamic_cast<const Error*>(&e)) {
    const int status = status_for(error->code());
    if (status >= 500) fmt::print(stderr, "tessera serve: request failed: {}\n", error->what());
    // Internal failures are logged, not shown: messages may name server paths.
    const std::string message = status == 500 ? "internal error (see the server log)" : error->what();
    return {status, error_body(std::string(to_string(error->code())), message, status == 500 ? nullptr : error->details())};
  }
  if (dynamic_cast<const nlohmann::json::exception*>(&e)) {
    return {400, error_body("invalid_argument", fmt::format("malformed JSON value: {}", e.what()), nullptr)};
  }
  fmt::print(stderr, "tessera serve: request failed: {}\n", e.what());
  return {500, error_body("internal", "internal error (see the server log)", nullptr)};
}

// --- FeedSignal ---

void FeedSignal::notify() {
  {
    std::lock_guard lock(mutex_);
    ++generation_;
  }
  cv_.notify_all();
}

std::uint64_t FeedSignal::wait(std::uint64_t seen, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, timeout, [&] { return generation_ != seen; });
  return generation_;
}

std::uint64_t FeedSignal::generation() {
  std::lock_guard lock(mutex_);
  return generation_;
}

// --- AccessCache ---

std::optional<catalog::User> AccessCache::user(catalog::UserStore& users, const std::string& token) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    auto it = tokens_.find(token);
    if (it != tokens_.end() && it->second.until > now) return it->second.user;
  }
  auto user = users.user_for_token(token);
  std::lock_guard lock(mutex_);
  if (tokens_.size() > 100000) tokens_.clear();  // bounded: guessed tokens must not grow it forever
  tokens_[token] = TokenEntry{user, now + kTtl};
  return user;
}

std::optional<Role> AccessCache::role(catalog::UserStore& users, Id project_id, Id user_id) {
  const auto now = std::chrono::steady_clock::now();
  const auto key = std::make_pair(user_id, project_id);
  {
    std::lock_guard lock(mutex_);
    auto it = roles_.find(key);
    if (it != roles_.end() && it->second.until > now) return it->second.role;
  }
  auto role = users.role_in(project_id, user_id);
  std::lock_guard lock(mutex_);
  if (roles_.size() > 100000) roles_.clear();
  roles_[key] = RoleEntry{role, now + kTtl};
  return role;
}

void AccessCache::forget_token(const std::string& token) {
  std::lock_guard lock(mutex_);
  tokens_.erase(token);
}

void AccessCache::forget_user(Id user_id) {
  std::lock_guard lock(mutex_);
  for (auto it = roles_.begin(); it != roles_.end();) {
    it = it->first.first == user_id ? roles_.erase(it) : std::next(it);
  }
  for (auto it = tokens_.begin(); it != tokens_.end();) {
    it = it->second.user && it->second.user->id == user_id ? tokens_.erase(it) : std::next(it);
  }
}

// --- Context ---

const catalog::User& Context::user() const {
  if (!user_) throw HttpError(401, "unauthenticated", "log in first: send 'Authorization: Bearer TOKEN'");
  return *user_;
}

catalog::ProjectAccess Context::project(Id project_id, Role min) {
  const catalog::User& who = user();
  auto role = services.access.role(services.users, project_id, who.id);
  if (!role) throw HttpError(404, "not_found", fmt::format("no project with id {}", project_id));
  if (static_cast<int>(*role) < static_cast<int>(min)) {
    throw HttpError(403, "forbidden",
                    fmt::format("this needs the {} role in the project; you are {}", catalog::to_string(min),
                                catalog::to_string(*role)));
  }
  return catalog::ProjectAccess{catalog().get_project(project_id), *role};
}

catalog::ProjectAccess Context::project_named(const std::string& name, Role min) {
  auto found = catalog().find_project(name);
  if (!found) throw HttpError(404, "not_found", fmt::format("no project named '{}'", name));
  return project(found->id, min);
}

catalog::ImageRecord Context::image(Id image_id, Role min) {
  catalog::ImageRecord record;
  try {
    record = catalog().get_image(image_id);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::not_found) throw HttpError(404, "not_found", fmt::format("no image with id {}", image_id));
    throw;
  }
  try {
    project(record.project_id, min);
  } catch (const HttpError& e) {
    // Not a member: the image does not exist for this caller.
    if (e.status() == 404) throw HttpError(404, "not_found", fmt::format("no image with id {}", image_id));
    throw;
  }
  return record;
}

catalog::Series Context::series(Id series_id, Role min) {
  const auto missing = [&] { return HttpError(404, "not_found", fmt::format("no series with id {}", series_id)); };
  catalog::Series record;
  try {
    record = catalog::TrackStore(catalog()).get_series(series_id);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::not_found) throw missing();
    throw;
  }
  try {
    project(record.project_id, min);
  } catch (const HttpError& e) {
    if (e.status() == 404) throw missing();  // not a member: the series does not exist for this caller
    throw;
  }
  return record;
}

std::string Context::path(std::size_t index) const {
  if (index >= req.matches.size()) throw Error(ErrorCode::internal, "route has fewer groups than the handler reads");
  return req.matches[index].str();
}

Id Context::path_id(std::size_t index, std::string_view what) const {
  const std::string text = path(index);
  Id id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) {
    throw HttpError(404, "not_found", fmt::format("no {} with id '{}'", what, text));
  }
  return id;
}

nlohmann::json Context::json_body() const {
  const std::string type = req.get_header_value("Content-Type");
  if (!type.starts_with("application/json")) {
    throw HttpError(415, "unsupported_media_type",
                    fmt::format("send the body as application/json (got '{}')", type.empty() ? "no Content-Type" : type));
  }
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(req.body);
  } catch (const nlohmann::json::parse_error& e) {
    throw HttpError(400, "invalid_argument", fmt::format("body is not valid JSON: {}", e.what()),
                    nlohmann::json{{"byte", e.byte}});
  }
  if (!body.is_object()) throw HttpError(400, "invalid_argument", "body must be a JSON object");
  return body;
}

std::optional<std::string> Context::query(const std::string& name) const {
  if (!req.has_param(name.c_str())) return std::nullopt;
  return req.get_param_value(name.c_str());
}

std::int64_t Context::query_int(const std::string& name, std::int64_t fallback, std::int64_t min, std::int64_t max) const {
  auto text = query(name);
  if (!text) return fallback;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < min || value > max) {
    throw HttpError(400, "invalid_argument",
                    fmt::format("query parameter '{}' must be an integer in [{}, {}] (got '{}')", name, min, max, *text),
                    nlohmann::json{{"field", name}});
  }
  return value;
}

void Context::send_json(const nlohmann::json& body, int status) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

void Context::send_created(const nlohmann::json& body, const std::string& location) {
  res.set_header("Location", location);
  send_json(body, 201);
}

void Context::queue_job(Id project_id, const std::string& kind, const nlohmann::json& params) {
  app::JobRequest request;
  request.project_id = project_id;
  request.kind = kind;
  request.params = params;
  request.created_by = user().id;
  request.actor = user().name;
  const catalog::Job job = app::submit_job(services.workspace, request);
  if (services.job_runner != nullptr) services.job_runner->wake();
  services.feed.notify();
  res.set_header("Location", fmt::format("/api/v1/jobs/{}", job.id));
  send_json(nlohmann::json{{"job", app::job_to_json(job)}}, 202);
}

Id Context::add_event(std::optional<Id> project_id, catalog::NewEvent event) {
  if (!event.actor && user_) event.actor = user_->name;
  const Id id = catalog().add_event(project_id, event);
  services.feed.notify();
  return id;
}

// --- body fields ---

namespace {
[[noreturn]] void bad_field(const std::string& field, const std::string& problem) {
  throw HttpError(400, "invalid_argument", fmt::format("field '{}' {}", field, problem), nlohmann::json{{"field", field}});
}
}  // namespace

std::string require_string(const nlohmann::json& body, const std::string& field) {
  auto it = body.find(field);
  if (it == body.end()) bad_field(field, "is missing");
  if (!it->is_string()) bad_field(field, "must be a string");
  return it->get<std::string>();
}

std::optional<std::string> optional_string(const nlohmann::json& body, const std::string& field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) bad_field(field, "must be a string");
  return it->get<std::string>();
}

std::int64_t require_int(const nlohmann::json& body, const std::string& field) {
  auto value = optional_int(body, field);
  if (!value) bad_field(field, "is missing");
  return *value;
}

std::optional<std::int64_t> optional_int(const nlohmann::json& body, const std::string& field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) bad_field(field, "must be an integer");
  return it->get<std::int64_t>();
}

std::optional<double> optional_number(const nlohmann::json& body, const std::string& field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) bad_field(field, "must be a number");
  return it->get<double>();
}

// --- Router ---

void Router::run(Context& ctx, Access access, const std::function<void()>& body) {
  try {
    const std::string token = bearer_token(ctx.req);
    if (!token.empty()) {
      if (auto user = services_.access.user(services_.users, token)) ctx.set_user(std::move(*user));
    }
    if (access == Access::user && !ctx.has_user()) {
      ctx.res.set_header("WWW-Authenticate", "Bearer");
      throw HttpError(401, "unauthenticated",
                      token.empty() ? "log in first: send 'Authorization: Bearer TOKEN'"
                                    : "the token is unknown, revoked or expired: log in again");
    }
    body();
  } catch (const std::exception& e) {
    auto [status, json] = error_response(e);
    ctx.res.status = status;
    ctx.res.set_content(json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
  }
}

#define TESSERA_ROUTE(METHOD, NAME)                                                            \
  void Router::NAME(const std::string& pattern, Handler handler, Access access) {              \
    http_.METHOD(pattern, [this, handler = std::move(handler), access](const httplib::Request& req, \
                                                                      httplib::Response& res) { \
      Context ctx(req, res, services_);                                                        \
      run(ctx, access, [&] { handler(ctx); });                                                 \
    });                                                                                        \
  }
TESSERA_ROUTE(Get, get)
TESSERA_ROUTE(Post, post)
TESSERA_ROUTE(Put, put)
TESSERA_ROUTE(Patch, patch)
TESSERA_ROUTE(Delete, del)
#undef TESSERA_ROUTE

void Router::post_stream(const std::string& pattern, StreamHandler handler, Access access) {
  http_.Post(pattern, [this, handler = std::move(handler), access](const httplib::Request& req, httplib::Response& res,
                                                                  const httplib::ContentReader& reader) {
    Context ctx(req, res, services_);
    run(ctx, access, [&] { handler(ctx, reader); });
  });
}

}  // namespace tessera::server
