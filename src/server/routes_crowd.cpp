// Crowd-annotation intake over HTTP (docs/api/crowd.md): POST /api/v1/projects/{id}/crowd/ingest queues a
// 'crowd.ingest' job (editors; 202 + Location of the job). The report, logs and raw frames are paths on the
// server inside the workspace; the job kind validates every parameter (a path that climbs out: 400).
#include "server/routes.hpp"

namespace tessera::server {
namespace {

void queue_crowd_ingest(Context& ctx) {
  const Id project_id = ctx.path_id(1, "project");
  ctx.project(project_id, Role::editor);
  ctx.queue_job(project_id, "crowd.ingest", ctx.json_body());
}

}  // namespace

void add_crowd_routes(Router& router) { router.post(R"(/api/v1/projects/(\d+)/crowd/ingest)", queue_crowd_ingest); }

}  // namespace tessera::server
