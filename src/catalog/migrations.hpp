#pragma once

#include <string>
#include <vector>

#include "catalog/db.hpp"

namespace tessera::catalog {

struct EmbeddedMigration {
  const char* name;  // "0001_init.sql": the number is the schema version it brings
  const char* sql;
};

// Generated from src/catalog/migrations/*.sql at build time, in version order.
const std::vector<EmbeddedMigration>& embedded_migrations();

// The SQL of a migration for one backend (placeholders {{pk}}, {{json}} expanded).
std::string render_migration(const std::string& sql, Dialect dialect);

// Applies every migration newer than the stored schema version, each in its own transaction, and
// records it in schema_migrations. Safe when two processes open the same catalog at once.
// Returns the schema version after migration. Error{unsupported} if the catalog is newer than this binary.
int migrate(Connection& db);

int latest_schema_version();

}  // namespace tessera::catalog
