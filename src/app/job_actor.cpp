#include "tessera/app/job_actor.hpp"

#include <fmt/format.h>

#include "tessera/catalog/users.hpp"
#include "tessera/core/error.hpp"

namespace tessera::app {

catalog::Actor job_actor(Workspace& workspace, const catalog::Job& job) {
  catalog::Actor actor{job.created_by, fmt::format("job {}", job.id)};
  if (!job.created_by) return actor;
  try {
    actor.name = catalog::UserStore(workspace.catalog()).get(*job.created_by).name;
  } catch (const Error&) {
    // Deleted since: the job still runs for them, and its id names it.
  }
  return actor;
}

}  // namespace tessera::app
