#pragma once

// What the annotation and lock stores share inside the catalog layer.

#include <optional>
#include <string>

#include "catalog/db.hpp"
#include "tessera/catalog/locks.hpp"

namespace tessera::catalog {

// The unexpired lease on image_id held by someone other than actor, read in the caller's transaction so
// that the check and the write it guards commit together.
std::optional<Lease> blocking_lease(Connection& db, Id image_id, const Actor& actor, const std::string& now);

// True when a lease or journal entry recorded as (user_id, name) was made by actor.
bool is_same_actor(const std::optional<Id>& user_id, const std::string& name, const Actor& actor);

// " FOR UPDATE" on PostgreSQL (row lock for the rest of the transaction); nothing on SQLite, whose
// BEGIN IMMEDIATE already holds the database's write lock.
inline const char* for_update(Dialect d) { return d == Dialect::postgresql ? " FOR UPDATE" : ""; }

}  // namespace tessera::catalog
