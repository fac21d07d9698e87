#pragma once

#include <string>

#include "tessera/app/workspace.hpp"

namespace tessera::app {

// Human-readable overview of a workspace: catalog backend and schema, counts, series and sets.
std::string describe_workspace(Workspace& workspace);

// Integrity check of catalog and blob store: every referenced blob present and intact, no temp leftovers.
struct CheckReport {
  std::int64_t blobs_referenced = 0;
  std::int64_t blobs_stored = 0;
  std::vector<std::string> missing;       // referenced, not stored
  std::vector<std::string> damaged;       // stored, content does not match the hash
  std::vector<std::string> unreferenced;  // stored, referenced by nothing (left by an interrupted import)
  std::int64_t temp_files = 0;
  bool ok() const { return missing.empty() && damaged.empty(); }
};
CheckReport check_workspace(Workspace& workspace, bool verify_content);

}  // namespace tessera::app
