#pragma once

#include "tessera/app/workspace.hpp"
#include "tessera/catalog/locks.hpp"  // Actor
#include "tessera/catalog/jobs.hpp"

namespace tessera::app {

// Who a job's catalog writes are attributed to: the user who submitted it, by name, so journals and the
// feed read "alice" rather than an id. A job without a user (CLI, scripts), or whose user has been deleted
// since, is named "job N".
catalog::Actor job_actor(Workspace& workspace, const catalog::Job& job);

}  // namespace tessera::app
