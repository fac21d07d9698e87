// Track edits through the catalog: the snapshot of the tracks an edit names becomes a track::TrackSet
// (catalog ids as track ids, object ids as labels, frame numbers as frames), the editing primitive of
// track/edit.hpp checks and applies the change, and the difference is the plan the store writes.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "tessera/app/track_series.hpp"
#include "tessera/core/error.hpp"
#include "tessera/track/edit.hpp"
#include "track_series_frames.hpp"

namespace tessera::app {
namespace {

// Highest frame number an edit may hold (the track set is indexed by frame number).
constexpr std::int64_t kMaxFrame = 10'000'000;

struct EditSet {
  track::TrackSet set;
  // Parents outside the snapshot (a named track's parent's own parent): the set holds 0 for them, and
  // they are kept as they were.
  std::map<catalog::Id, catalog::Id> outside_parent;
};

EditSet to_track_set(const catalog::TrackSnapshot& s) {
  EditSet out;
  std::set<catalog::Id> ids;
  for (const catalog::TrackRecord& t : s.tracks) ids.insert(t.id);
  for (const catalog::TrackRecord& t : s.tracks) {
    track::Track track;
    track.id = as_track_id(t.id, "track");
    track.begin = static_cast<std::int32_t>(t.start_frame);
    track.end = static_cast<std::int32_t>(t.end_frame);
    if (t.parent_id && ids.count(*t.parent_id)) {
      track.parent = as_track_id(*t.parent_id, "track");
    } else if (t.parent_id) {
      out.outside_parent[t.id] = *t.parent_id;
    }
    out.set.tracks.push_back(track);
  }
  for (const catalog::TrackedObject& o : s.objects) {
    if (o.frame < 0 || o.frame > kMaxFrame) {
      throw Error(ErrorCode::unsupported, fmt::format("object {} of track {} is at frame {}; track edits handle frames "
                                                      "0 to {}",
                                                      o.id, o.track_id, o.frame, kMaxFrame));
    }
    if (out.set.frames.size() <= static_cast<size_t>(o.frame)) out.set.frames.resize(static_cast<size_t>(o.frame) + 1);
    out.set.frames[static_cast<size_t>(o.frame)].push_back(
        {as_track_id(o.id, "object"), as_track_id(o.track_id, "track")});
  }
  for (auto& frame : out.set.frames) {
    std::sort(frame.begin(), frame.end(), [](const auto& a, const auto& b) { return a.label < b.label; });
  }
  // Extents come from the objects (an image deleted since tracking takes its objects with it).
  track::refresh_extents(out.set);
  track::validate(out.set);
  return out;
}

// The plan that turns the snapshot into `after`.
catalog::TrackPlan plan_from(const catalog::TrackSnapshot& s, const EditSet& before, const track::TrackSet& after) {
  std::set<catalog::Id> existing;
  for (const catalog::TrackRecord& t : s.tracks) existing.insert(t.id);
  catalog::TrackPlan plan;
  std::map<std::int32_t, std::size_t> row_of;
  for (const track::Track& t : after.tracks) {
    row_of[t.id] = plan.rows.size();
    catalog::TrackPlan::Row row;
    if (existing.count(t.id)) row.id = t.id;
    row.start_frame = t.begin;
    row.end_frame = t.end;
    plan.rows.push_back(row);
  }
  for (const track::Track& t : after.tracks) {
    catalog::TrackPlan::Row& row = plan.rows[row_of.at(t.id)];
    if (t.parent != 0) {
      if (existing.count(t.parent)) {
        row.parent_id = t.parent;
      } else {
        row.parent_row = row_of.at(t.parent);
      }
    } else if (auto outside = before.outside_parent.find(t.id); outside != before.outside_parent.end()) {
      row.parent_id = outside->second;
    }
  }
  std::map<catalog::Id, catalog::Id> track_of;
  for (const catalog::TrackedObject& o : s.objects) track_of[o.id] = o.track_id;
  for (const auto& frame : after.frames) {
    for (const track::ObjectTrack& o : frame) {
      if (track_of.at(o.label) != o.track) plan.moves.emplace_back(o.label, row_of.at(o.track));
    }
  }
  return plan;
}

std::int32_t edit_id(catalog::Id id) { return as_track_id(id, "track"); }

}  // namespace

catalog::TrackEditResult merge_tracks(Workspace& workspace, catalog::Id into, catalog::Id from,
                                      const catalog::Actor& actor) {
  if (into == from) throw Error(ErrorCode::invalid_argument, fmt::format("cannot merge track {} into itself", into));
  return catalog::TrackStore(workspace.catalog()).edit({into, from}, actor, [&](const catalog::TrackSnapshot& s) {
    const EditSet before = to_track_set(s);
    catalog::TrackPlan plan = plan_from(s, before, track::merge_tracks(before.set, edit_id(into), edit_id(from)));
    plan.action = "merge";
    plan.track_id = into;
    plan.other_track_id = from;
    return plan;
  });
}

catalog::TrackEditResult split_track(Workspace& workspace, catalog::Id id, std::int64_t frame,
                                     const catalog::Actor& actor) {
  return catalog::TrackStore(workspace.catalog()).edit({id}, actor, [&](const catalog::TrackSnapshot& s) {
    const EditSet before = to_track_set(s);
    const track::Track* track = before.set.find_track(edit_id(id));
    if (track == nullptr) throw Error(ErrorCode::not_found, fmt::format("track {} holds no objects", id));
    if (frame <= track->begin || frame > track->end) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("track {} runs from frame {} to {}: a split frame must be in [{}, {}], got {}", id,
                              track->begin, track->end, track->begin + 1, track->end, frame));
    }
    const track::SplitResult split = track::split_track(before.set, edit_id(id), static_cast<int>(frame));
    catalog::TrackPlan plan = plan_from(s, before, split.set);
    plan.action = "split";
    plan.track_id = id;
    plan.arguments = {{"frame", frame}};
    for (std::size_t r = 0; r < plan.rows.size(); ++r) {
      if (!plan.rows[r].id && split.set.tracks[r].id == split.new_track) plan.other_track_row = r;
    }
    return plan;
  });
}

catalog::TrackEditResult set_track_parent(Workspace& workspace, catalog::Id child, catalog::Id parent,
                                          const catalog::Actor& actor) {
  if (child == parent)
    throw Error(ErrorCode::invalid_argument, fmt::format("track {} cannot be its own parent", child));
  return catalog::TrackStore(workspace.catalog()).edit({child, parent}, actor, [&](const catalog::TrackSnapshot& s) {
    const EditSet before = to_track_set(s);
    catalog::TrackPlan plan = plan_from(s, before, track::set_parent(before.set, edit_id(child), edit_id(parent)));
    plan.action = "set_parent";
    plan.track_id = child;
    plan.other_track_id = parent;
    return plan;
  });
}

catalog::TrackEditResult unset_track_parent(Workspace& workspace, catalog::Id child, const catalog::Actor& actor) {
  return catalog::TrackStore(workspace.catalog()).edit({child}, actor, [&](const catalog::TrackSnapshot& s) {
    const EditSet before = to_track_set(s);
    // The parent is in the snapshot (parents of named tracks always are), so the set knows it.
    catalog::TrackPlan plan = plan_from(s, before, track::unset_parent(before.set, edit_id(child)));
    plan.action = "unset_parent";
    plan.track_id = child;
    for (const catalog::TrackRecord& t : s.tracks) {
      if (t.id == child) plan.other_track_id = t.parent_id;
    }
    return plan;
  });
}

}  // namespace tessera::app
