#include "tessera/catalog/locks.hpp"

#include <fmt/format.h>
#include <sodium.h>

#include <cmath>

#include "catalog/access.hpp"
#include "catalog/annotations_internal.hpp"
#include "catalog/sql_util.hpp"
#include "tessera/core/clock.hpp"
#include "tessera/core/error.hpp"

namespace tessera::catalog {
namespace {

constexpr double kMaxTtlSeconds = 86400;

void check_ttl(double ttl_seconds) {
  if (!std::isfinite(ttl_seconds) || ttl_seconds <= 0 || ttl_seconds > kMaxTtlSeconds) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("lease 'ttl_seconds' must be in (0, {}], got {}", kMaxTtlSeconds, ttl_seconds));
  }
}

void check_actor(const Actor& actor) { check_name("lock holder", actor.name); }

// 128 random bits as hex: unguessable, so holding the token proves holding the lease.
std::string new_token() {
  if (sodium_init() < 0) throw Error(ErrorCode::internal, "libsodium failed to initialise");
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  char hex[sizeof bytes * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return hex;
}

bool same_token(const std::string& given, const std::string& stored) {
  return !given.empty() && given.size() == stored.size() &&
         sodium_memcmp(given.data(), stored.data(), given.size()) == 0;
}

constexpr const char* kLeaseColumns = "holder_id, holder, token, acquired_at, expires_at";

Lease lease_from(const Rows& r, Id image_id) {
  return Lease{image_id, r.opt_i64(0, 0), r.text(0, 1), r.text(0, 2), r.text(0, 3), r.text(0, 4)};
}

Lease without_token(Lease lease) {
  lease.token.clear();
  return lease;
}

void add_lock_event(Connection& db, Id project_id, const std::string& kind, const Actor& actor, const Lease& lease,
                    nlohmann::json extra = nlohmann::json::object()) {
  nlohmann::json payload = {{"image_id", lease.image_id}, {"holder", lease.holder}, {"expires_at", lease.expires_at}};
  payload.update(extra);
  order_event_ids(db);
  db.execute(fmt::format("INSERT INTO events (project_id, at, kind, actor, subject_type, subject_id, payload) "
                         "VALUES (?, ?, ?, ?, 'image', ?, {})",
                         json_param(db.dialect())),
             {project_id, utc_now_iso(), kind, actor.name, lease.image_id, payload.dump()});
}

// The image's project (for events) and its lease row, expired or not, in one read; Error{not_found} for an
// unknown image. No row lock: every write below is conditional on the token read here, so a lease that
// changed in between is noticed (0 rows) instead of overwritten.
struct ImageLease {
  Id project_id = 0;
  std::optional<Lease> lease;
};

ImageLease read_image_lease(Connection& db, Id image_id) {
  Rows r = db.query(
      "SELECT i.project_id, l.holder_id, l.holder, l.token, l.acquired_at, l.expires_at "
      "FROM images i LEFT JOIN locks l ON l.image_id = i.id WHERE i.id = ?",
      {image_id});
  if (r.empty()) throw Error(ErrorCode::not_found, fmt::format("no image with id {}", image_id));
  ImageLease out{r.i64(0, 0), std::nullopt};
  if (!r.is_null(0, 3))
    out.lease = Lease{image_id, r.opt_i64(0, 1), r.text(0, 2), r.text(0, 3), r.text(0, 4), r.text(0, 5)};
  return out;
}

// When a conditional write found the lease changed: what it is now, from the caller's point of view.
LockResult lease_changed(Connection& db, Id image_id, const std::string& now) {
  std::optional<Lease> lease = read_image_lease(db, image_id).lease;
  if (lease && lease->expires_at > now) return {LockStatus::held_by_other, without_token(*lease)};
  return {LockStatus::not_held, std::nullopt};
}

}  // namespace

bool is_same_actor(const std::optional<Id>& user_id, const std::string& name, const Actor& actor) {
  if (user_id || actor.user_id) return user_id == actor.user_id;
  return name == actor.name;
}

std::optional<Lease> blocking_lease(Connection& db, Id image_id, const Actor& actor, const std::string& now) {
  Rows r = db.query(fmt::format("SELECT {} FROM locks WHERE image_id = ? AND expires_at > ?", kLeaseColumns),
                    {image_id, now});
  if (r.empty()) return std::nullopt;
  Lease lease = lease_from(r, image_id);
  if (is_same_actor(lease.holder_id, lease.holder, actor)) return std::nullopt;
  return without_token(std::move(lease));
}

LockResult LockStore::acquire(Id image_id, const Actor& actor, double ttl_seconds) {
  check_ttl(ttl_seconds);
  check_actor(actor);
  return CatalogAccess::write_concurrently(catalog_, [&](Connection& db) -> LockResult {
    const ImageLease current = read_image_lease(db, image_id);
    const std::string now = utc_now_iso();
    const std::string until = utc_iso_in(ttl_seconds);
    const std::optional<Lease>& previous = current.lease;
    if (previous && previous->expires_at > now) {
      if (!is_same_actor(previous->holder_id, previous->holder, actor)) {
        return {LockStatus::held_by_other, without_token(*previous)};
      }
      if (db.execute("UPDATE locks SET expires_at = ? WHERE image_id = ? AND token = ?",
                     {until, image_id, previous->token}) == 1) {
        Lease renewed = *previous;
        renewed.expires_at = until;
        return {LockStatus::renewed, renewed};
      }
      // Released since the read: acquire afresh below.
    }
    Lease lease{image_id, actor.user_id, actor.name, new_token(), now, until};
    // The conflict clause is the arbiter between processes: a lease inserted by another transaction since
    // the read above is only replaced if it has expired.
    Rows taken = db.query(
        "INSERT INTO locks (image_id, holder_id, holder, token, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (image_id) DO UPDATE SET holder_id = excluded.holder_id, holder = excluded.holder, "
        "token = excluded.token, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at "
        "WHERE locks.expires_at <= ? RETURNING image_id",
        {image_id, opt(actor.user_id), actor.name, lease.token, now, until, now});
    if (taken.empty()) return lease_changed(db, image_id, now);
    nlohmann::json extra = nlohmann::json::object();
    if (previous && previous->expires_at <= now) extra["expired_holder"] = previous->holder;
    add_lock_event(db, current.project_id, "lock.acquired", actor, lease, extra);
    return {LockStatus::acquired, lease};
  });
}

LockResult LockStore::renew(Id image_id, const Actor& actor, const std::string& token, double ttl_seconds) {
  check_ttl(ttl_seconds);
  check_actor(actor);
  return CatalogAccess::write_concurrently(catalog_, [&](Connection& db) -> LockResult {
    std::optional<Lease> lease = read_image_lease(db, image_id).lease;
    const std::string now = utc_now_iso();
    if (!lease) return {LockStatus::not_held, std::nullopt};
    if (!same_token(token, lease->token) && !is_same_actor(lease->holder_id, lease->holder, actor)) {
      if (lease->expires_at > now) return {LockStatus::held_by_other, without_token(*lease)};
      return {LockStatus::not_held, std::nullopt};
    }
    lease->expires_at = utc_iso_in(ttl_seconds);
    if (db.execute("UPDATE locks SET expires_at = ? WHERE image_id = ? AND token = ?",
                   {lease->expires_at, image_id, lease->token}) != 1) {
      return lease_changed(db, image_id, now);
    }
    return {LockStatus::renewed, lease};
  });
}

LockResult LockStore::release(Id image_id, const Actor& actor, const std::string& token) {
  check_actor(actor);
  return CatalogAccess::write_concurrently(catalog_, [&](Connection& db) -> LockResult {
    const ImageLease current = read_image_lease(db, image_id);
    const std::string now = utc_now_iso();
    const std::optional<Lease>& lease = current.lease;
    if (!lease) return {LockStatus::not_held, std::nullopt};
    if (!same_token(token, lease->token) && !is_same_actor(lease->holder_id, lease->holder, actor)) {
      if (lease->expires_at > now) return {LockStatus::held_by_other, without_token(*lease)};
      return {LockStatus::not_held, std::nullopt};
    }
    if (db.execute("DELETE FROM locks WHERE image_id = ? AND token = ?", {image_id, lease->token}) != 1) {
      return lease_changed(db, image_id, now);
    }
    add_lock_event(db, current.project_id, "lock.released", actor, *lease, {{"expired", lease->expires_at <= now}});
    return {LockStatus::released, without_token(*lease)};
  });
}

std::optional<Lease> LockStore::find(Id image_id) {
  return CatalogAccess::read(catalog_, [&](Connection& db) -> std::optional<Lease> {
    Rows r = db.query(fmt::format("SELECT {} FROM locks WHERE image_id = ? AND expires_at > ?", kLeaseColumns),
                      {image_id, utc_now_iso()});
    if (r.empty()) return std::nullopt;
    return without_token(lease_from(r, image_id));
  });
}

}  // namespace tessera::catalog
