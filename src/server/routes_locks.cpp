// Image leases over HTTP (docs/api/annotations.md): acquire, renew, release, look. A conflicting acquire
// is 409 naming the holder and until when. Locking coordinates annotators; writes on an unlocked image
// are allowed, and only a lease held by someone else refuses them (423, in routes_annotations.cpp).

#include <fmt/format.h>

#include "server/json_records.hpp"
#include "server/routes.hpp"
#include "tessera/app/annotations.hpp"

namespace tessera::server {
namespace {

using catalog::LockResult;
using catalog::LockStatus;
using nlohmann::json;

catalog::Actor actor_of(Context& ctx) { return catalog::Actor{ctx.user().id, ctx.user().name}; }

// A lock request's body is optional (POST with no body acquires with the default lease length).
json optional_body(Context& ctx) {
  if (ctx.req.body.empty()) return json::object();
  return ctx.json_body();
}

double ttl_of(const json& body) { return optional_number(body, "ttl_seconds").value_or(app::kDefaultLeaseSeconds); }

// The lease token from the body, the X-Lock-Token header or ?token=; empty when none was sent (the
// holder may renew or release without it).
std::string token_of(Context& ctx, const json& body) {
  if (auto token = optional_string(body, "token")) return *token;
  if (ctx.req.has_header("X-Lock-Token")) return ctx.req.get_header_value("X-Lock-Token");
  return ctx.query("token").value_or("");
}

[[noreturn]] void held_by_other(const catalog::Lease& lease) {
  throw HttpError(409, "conflict",
                  fmt::format("image {} is locked by '{}' until {}", lease.image_id, lease.holder, lease.expires_at),
                  lease_holder_json(lease));
}

[[noreturn]] void not_held(Id image_id) {
  throw HttpError(404, "not_found",
                  fmt::format("image {} has no lease of yours (it was released or expired and taken)", image_id));
}

// Invalid TTLs come from the catalog as invalid_argument: 400 naming the field.
template <typename Fn>
LockResult with_ttl_errors(Fn&& fn) {
  try {
    return fn();
  } catch (const Error& e) {
    if (e.code() == ErrorCode::invalid_argument) {
      throw HttpError(400, "invalid_argument", e.what(), json{{"field", "ttl_seconds"}});
    }
    throw;
  }
}

}  // namespace

void add_lock_routes(Router& router) {
  auto annotations = std::make_shared<app::Annotations>(router.services().workspace);

  router.get(R"(/api/v1/images/(\d+)/lock)", [annotations](Context& ctx) {
    const catalog::ImageRecord image = ctx.image(ctx.path_id(1, "image"), Role::viewer);
    if (auto lease = annotations->find_lock(image.id)) {
      json out = app::lease_json(*lease);
      out["locked"] = true;
      ctx.send_json(out);
    } else {
      ctx.send_json({{"image_id", image.id}, {"locked", false}});
    }
  });

  router.post(R"(/api/v1/images/(\d+)/lock)", [annotations](Context& ctx) {
    const catalog::ImageRecord image = ctx.image(ctx.path_id(1, "image"), Role::editor);
    const json body = optional_body(ctx);
    const LockResult r =
        with_ttl_errors([&] { return annotations->acquire_lock(image.id, actor_of(ctx), ttl_of(body)); });
    if (r.status == LockStatus::held_by_other) held_by_other(*r.lease);
    json out = app::lease_json(*r.lease);
    out["locked"] = true;
    if (r.status == LockStatus::acquired) {
      ctx.services.feed.notify();
      ctx.send_created(out, fmt::format("/api/v1/images/{}/lock", image.id));
    } else {
      ctx.send_json(out);
    }
  });

  router.post(R"(/api/v1/images/(\d+)/lock/renew)", [annotations](Context& ctx) {
    const catalog::ImageRecord image = ctx.image(ctx.path_id(1, "image"), Role::editor);
    const json body = optional_body(ctx);
    const LockResult r = with_ttl_errors(
        [&] { return annotations->renew_lock(image.id, actor_of(ctx), token_of(ctx, body), ttl_of(body)); });
    if (r.status == LockStatus::held_by_other) held_by_other(*r.lease);
    if (r.status == LockStatus::not_held) not_held(image.id);
    json out = app::lease_json(*r.lease);
    out["locked"] = true;
    ctx.send_json(out);
  });

  router.del(R"(/api/v1/images/(\d+)/lock)", [annotations](Context& ctx) {
    const catalog::ImageRecord image = ctx.image(ctx.path_id(1, "image"), Role::editor);
    const json body = optional_body(ctx);
    const LockResult r = annotations->release_lock(image.id, actor_of(ctx), token_of(ctx, body));
    if (r.status == LockStatus::held_by_other) held_by_other(*r.lease);
    if (r.status == LockStatus::not_held) not_held(image.id);
    ctx.services.feed.notify();
    json out = app::lease_json(*r.lease);
    out["locked"] = false;
    ctx.send_json(out);
  });
}

}  // namespace tessera::server
