#pragma once

#include <optional>
#include <string>

#include "tessera/catalog/catalog.hpp"

namespace tessera::catalog {

// Who does something: a user of the catalog (user_id set), or a local actor known only by name (the CLI
// without a login). Leases and journal entries compare actors by user id when there is one, else by name.
struct Actor {
  std::optional<Id> user_id;
  std::string name;
};

// A lease on an image: one holder until expires_at (ISO 8601 UTC). The token proves the lease to renew
// or release it; it is only ever returned to the holder.
struct Lease {
  Id image_id = 0;
  std::optional<Id> holder_id;
  std::string holder;
  std::string token;  // empty when describing someone else's lease
  std::string acquired_at;
  std::string expires_at;
};

enum class LockStatus {
  acquired,       // a new lease for the caller
  renewed,        // the caller's lease, extended (acquire by the holder renews too)
  released,       // the caller's lease is gone
  held_by_other,  // someone else holds an unexpired lease: `lease` says who and until when
  not_held,       // renew/release of a lease that does not exist (or expired and was taken over)
};

struct LockResult {
  LockStatus status = LockStatus::not_held;
  std::optional<Lease> lease;  // acquired/renewed: the caller's lease with its token; held_by_other: theirs
};

// Image leases for coordinating annotators: acquire, renew, release. Locking is advisory for readers and
// for writers who never lock: an annotation write is refused (AnnotationStore: EditStatus::locked) only
// when someone ELSE holds an unexpired lease on its image. Expired leases free themselves: the next
// acquire takes them over, and they block no write. Every acquisition and release adds an event
// (lock.acquired, lock.released) in the same transaction. Thread-safe.
class LockStore {
 public:
  explicit LockStore(Catalog& catalog) : catalog_(catalog) {}

  // ttl_seconds: lease length, in (0, 86400]; Error{invalid_argument} otherwise. Error{not_found} for an
  // unknown image. Acquiring a lease one already holds renews it and keeps its token.
  LockResult acquire(Id image_id, const Actor& actor, double ttl_seconds);
  // Extends the lease when `token` is its token or `actor` is its holder (even when it has expired,
  // provided nobody took it over since).
  LockResult renew(Id image_id, const Actor& actor, const std::string& token, double ttl_seconds);
  // Ends the lease when `token` is its token or `actor` is its holder.
  LockResult release(Id image_id, const Actor& actor, const std::string& token);
  // The unexpired lease on an image, without its token.
  std::optional<Lease> find(Id image_id);

 private:
  Catalog& catalog_;
};

}  // namespace tessera::catalog
