#pragma once

// Every resource's routes, one file each (src/server/routes_*.cpp). docs/api.md documents them.

#include "server/http.hpp"

namespace tessera::server {

void add_auth_routes(Router& router);        // login, logout, me, tokens
void add_project_routes(Router& router);     // projects and members
void add_image_routes(Router& router);       // images: list, metadata, raw, upload; series; sets; tags
void add_feed_routes(Router& router);        // activity feed: server-sent events and paging
void add_ops_routes(Router& router);         // the operation registry over HTTP
void add_annotation_routes(Router& router);  // annotations, their journal and undo; object viewport queries
void add_lock_routes(Router& router);        // image leases
void add_job_routes(Router& router);         // jobs: status, progress, cancel
void add_track_routes(Router& router);       // tracks of series: list, tracking jobs, edits, journal
void add_tile_routes(Router& router);        // tiles and mask overlays
void add_mask_routes(Router& router);         // masks:generate (point-prompted masks)
void add_propagation_routes(Router& router);  // series masks:propagate jobs
void add_mask_edit_routes(Router& router);    // object edits (merge/split), bulk delete and listing by tag
void add_export_routes(Router& router);       // training-data exports as jobs (npz, YOLO, COCO)
void add_crowd_routes(Router& router);        // crowd-annotation intake as a job
void add_learn_routes(Router& router);        // active-learning rounds as jobs, rounds and models
void add_static_routes(Router& router);      // the web UI's built files

}  // namespace tessera::server
