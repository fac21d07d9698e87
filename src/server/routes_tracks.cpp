// Tracks over HTTP (docs/api/tracks.md): a series' tracks, tracking a series as a job (track.series),
// edits to tracks (merge, split, set/unset parent; editors, journaled) and a track's journal.

#include <fmt/format.h>

#include <algorithm>

#include "server/routes.hpp"
#include "tessera/app/job_kinds.hpp"
#include "tessera/app/track_series.hpp"
#include "tessera/catalog/tracks.hpp"
#include "tessera/core/error.hpp"

namespace tessera::server {
namespace {

using nlohmann::json;

catalog::TrackRecord visible_track(Context& ctx, Id track_id, Role min) {
  const auto missing = [&] { return HttpError(404, "not_found", fmt::format("no track with id {}", track_id)); };
  const std::optional<catalog::TrackRecord> track = catalog::TrackStore(ctx.catalog()).find(track_id);
  if (!track) throw missing();
  try {
    ctx.series(track->series_id, min);
  } catch (const HttpError& e) {
    if (e.status() == 404) throw missing();
    throw;
  }
  return *track;
}

void reject_unknown_fields(const json& body, std::initializer_list<const char*> known) {
  for (const auto& [key, value] : body.items()) {
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; })) {
      std::string names;
      for (const char* k : known) names += (names.empty() ? "" : ", ") + std::string(k);
      throw HttpError(400, "invalid_argument", fmt::format("field '{}' is not known here (known: {})", key, names),
                      json{{"field", key}});
    }
  }
}

json series_json(const catalog::Series& s) {
  return {{"id", s.id}, {"project_id", s.project_id}, {"name", s.name}, {"kind", s.kind}, {"images", s.frame_count}};
}

catalog::Actor actor_of(Context& ctx) { return {ctx.user().id, ctx.user().name}; }

// An applied edit: the journal entry and the tracks as they are now; the feed wakes for its event.
void send_edit(Context& ctx, const catalog::TrackEditResult& result) {
  json tracks = json::array();
  for (const catalog::TrackRecord& t : result.tracks) tracks.push_back(catalog::to_json(t));
  ctx.services.feed.notify();
  ctx.send_json({{"edit", catalog::to_json(result.edit)}, {"tracks", tracks}});
}

void list_tracks(Context& ctx) {
  const catalog::Series series = ctx.series(ctx.path_id(1, "series"), Role::viewer);
  json tracks = json::array();
  for (const catalog::TrackRecord& t : catalog::TrackStore(ctx.catalog()).list(series.id)) {
    tracks.push_back(catalog::to_json(t));
  }
  ctx.send_json({{"series", series_json(series)}, {"tracks", tracks}});
}

// Tracking takes seconds to minutes on long series: a track.series job, answered 202.
void queue_tracking(Context& ctx) {
  const catalog::Series series = ctx.series(ctx.path_id(1, "series"), Role::editor);
  const json body = ctx.req.body.empty() ? json::object() : ctx.json_body();
  reject_unknown_fields(body, {"run", "max_gap", "max_distance", "divisions"});
  json params = body;
  params["series_id"] = series.id;
  ctx.queue_job(series.project_id, "track.series", params);
}

void merge(Context& ctx) {
  const catalog::TrackRecord into = visible_track(ctx, ctx.path_id(1, "track"), Role::editor);
  const json body = ctx.json_body();
  reject_unknown_fields(body, {"from"});
  const catalog::TrackRecord from = visible_track(ctx, require_int(body, "from"), Role::editor);
  send_edit(ctx, app::merge_tracks(ctx.services.workspace, into.id, from.id, actor_of(ctx)));
}

void split(Context& ctx) {
  const catalog::TrackRecord track = visible_track(ctx, ctx.path_id(1, "track"), Role::editor);
  const json body = ctx.json_body();
  reject_unknown_fields(body, {"frame"});
  send_edit(ctx, app::split_track(ctx.services.workspace, track.id, require_int(body, "frame"), actor_of(ctx)));
}

// {"parent": ID} sets the parent, {"parent": null} removes it.
void parent(Context& ctx) {
  const catalog::TrackRecord child = visible_track(ctx, ctx.path_id(1, "track"), Role::editor);
  const json body = ctx.json_body();
  reject_unknown_fields(body, {"parent"});
  if (!body.contains("parent")) {
    throw HttpError(400, "invalid_argument", "field 'parent' is missing (a track id, or null to remove the parent)",
                    json{{"field", "parent"}});
  }
  if (body["parent"].is_null()) {
    send_edit(ctx, app::unset_track_parent(ctx.services.workspace, child.id, actor_of(ctx)));
    return;
  }
  const catalog::TrackRecord parent = visible_track(ctx, require_int(body, "parent"), Role::editor);
  send_edit(ctx, app::set_track_parent(ctx.services.workspace, child.id, parent.id, actor_of(ctx)));
}

// The journal outlives merged-away tracks, so a track that is gone still has a history (reached through
// the series its entries name).
void history(Context& ctx) {
  const Id id = ctx.path_id(1, "track");
  catalog::TrackStore store(ctx.catalog());
  const std::optional<catalog::TrackRecord> track = store.find(id);
  const std::vector<catalog::TrackEdit> edits = store.history(id, ctx.query_int("limit", 1000, 1, 100000));
  if (track) {
    visible_track(ctx, id, Role::viewer);
  } else if (edits.empty()) {
    throw HttpError(404, "not_found", fmt::format("no track with id {}", id));
  } else {
    try {
      ctx.series(edits.front().series_id, Role::viewer);
    } catch (const HttpError& e) {
      if (e.status() == 404) throw HttpError(404, "not_found", fmt::format("no track with id {}", id));
      throw;
    }
  }
  json out = json::array();
  for (const catalog::TrackEdit& e : edits) out.push_back(catalog::to_json(e));
  ctx.send_json({{"track", track ? catalog::to_json(*track) : json()}, {"edits", out}});
}

}  // namespace

void add_track_routes(Router& router) {
  router.get(R"(/api/v1/series/(\d+)/tracks)", list_tracks);
  router.post(R"(/api/v1/series/(\d+)/tracks)", queue_tracking);
  router.get(R"(/api/v1/tracks/(\d+))", [](Context& ctx) {
    ctx.send_json(catalog::to_json(visible_track(ctx, ctx.path_id(1, "track"), Role::viewer)));
  });
  router.get(R"(/api/v1/tracks/(\d+)/history)", history);
  router.post(R"(/api/v1/tracks/(\d+)/merge)", merge);
  router.post(R"(/api/v1/tracks/(\d+)/split)", split);
  router.post(R"(/api/v1/tracks/(\d+)/parent)", parent);
}

}  // namespace tessera::server
