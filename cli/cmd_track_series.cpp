// `tessera track --series S` and the catalog side of `tessera track`: list, edit (merge, split, parent,
// unparent), history and export of a series' tracks. The file side (track files, track convert) is in
// cmd_track.cpp, which hands its `track` command here.
#include <fmt/format.h>

#include <cstdlib>

#include "commands.hpp"
#include "tessera/app/track_series.hpp"
#include "tessera/core/error.hpp"

namespace tessera::cli {
namespace {

using json = nlohmann::json;

// Who edits from the command line: the local user by name (the CLI has no login).
std::string opt_id(const std::optional<catalog::Id>& id) { return id ? std::to_string(*id) : "-"; }

void print_edit(const catalog::TrackEditResult& r) {
  fmt::print("{} (edit {}):", r.edit.action, r.edit.id);
  for (const catalog::TrackRecord& t : r.tracks) {
    fmt::print(" track {} frames {}-{} ({} objects, parent {})", t.id, t.start_frame, t.end_frame, t.objects,
               opt_id(t.parent_id));
  }
  if (r.edit.after.contains("deleted") && !r.edit.after["deleted"].empty()) {
    fmt::print("; removed track {}", r.edit.after["deleted"][0].get<catalog::Id>());
  }
  fmt::print("\n");
}

}  // namespace

void add_track_series_commands(CLI::App& track, GlobalOptions& global) {
  // tessera track --series S: on `track` itself, which otherwise takes a subcommand.
  auto series = std::make_shared<std::string>();
  auto request = std::make_shared<app::TrackSeriesRequest>();
  auto run = std::make_shared<catalog::Id>(0);
  track.add_option("--series", *series, "Track this catalog series (name, or id) of the project");
  track.add_option("--run", *run, "Track the objects of this run (default: the latest run that stored objects in it)");
  track.add_option("--max-gap", request->options.max_gap, "Frames an object may be missing and its track go on")
      ->capture_default_str();
  track.add_option("--max-distance", request->options.max_distance,
                   "Pixels a centroid may move per frame (0: 1.5 x the median object diameter)");
  track.add_flag("!--no-divisions", request->options.divisions, "Do not detect divisions");
  track.callback([&track, &global, series, request, run] {
    if (!track.get_subcommands().empty()) return;
    if (series->empty()) {
      throw Error(ErrorCode::invalid_argument,
                  "tessera track: give --series S, or one of files, convert, list, edit, history, export");
    }
    app::Workspace ws = global.open_workspace();
    request->series_id = app::find_project_series(ws, global.project, *series).id;
    if (*run > 0) request->objects_run = *run;
    request->actor = local_actor();
    const app::TrackSeriesReport r = app::track_series(ws, *request);
    fmt::print(
        "tracked series '{}' (frames {}-{}, {} images): {} objects of {} -> {} tracks, {} divisions; run {}, "
        "{:.2f} s{}\n",
        r.series, r.first_frame, r.last_frame, r.images, r.objects,
        r.objects_run ? fmt::format("run {}", *r.objects_run) : std::string("no run"), r.tracks, r.divisions, r.run_id,
        r.seconds, r.replaced_tracks > 0 ? fmt::format(" (replaced {} tracks)", r.replaced_tracks) : "");
  });

  auto* list = track.add_subcommand("list", "The tracks of a catalog series: id, frames, objects, parent");
  auto list_series = std::make_shared<std::string>();
  auto list_json = std::make_shared<bool>(false);
  list->add_option("--series", *list_series, "Series (name, or id)")->required();
  list->add_flag("--json", *list_json, "One JSON object per line");
  list->callback([&global, list_series, list_json] {
    app::Workspace ws = global.open_workspace();
    const catalog::Series s = app::find_project_series(ws, global.project, *list_series);
    const auto tracks = catalog::TrackStore(ws.catalog()).list(s.id);
    if (*list_json) {
      for (const auto& t : tracks) fmt::print("{}\n", catalog::to_json(t).dump());
      return;
    }
    fmt::print("{:>8} {:>7} {:>7} {:>8} {:>8}\n", "track", "start", "end", "objects", "parent");
    for (const auto& t : tracks) {
      fmt::print("{:>8} {:>7} {:>7} {:>8} {:>8}\n", t.id, t.start_frame, t.end_frame, t.objects, opt_id(t.parent_id));
    }
    fmt::print("{} tracks in series '{}'\n", tracks.size(), s.name);
  });

  auto* edit = track.add_subcommand("edit", "Edit tracks (journaled): merge, split, parent, unparent");
  edit->require_subcommand(1);
  auto* merge = edit->add_subcommand("merge", "Merge track FROM into track INTO (FROM disappears)");
  auto into = std::make_shared<catalog::Id>(0);
  auto from = std::make_shared<catalog::Id>(0);
  merge->add_option("INTO", *into, "Track that stays")->required();
  merge->add_option("FROM", *from, "Track whose objects join it")->required();
  merge->callback([&global, into, from] {
    app::Workspace ws = global.open_workspace();
    print_edit(app::merge_tracks(ws, *into, *from, local_actor()));
  });
  auto* split = edit->add_subcommand("split", "Split TRACK: its objects from FRAME on go to a new track");
  auto split_track = std::make_shared<catalog::Id>(0);
  auto frame = std::make_shared<std::int64_t>(0);
  split->add_option("TRACK", *split_track, "Track to split")->required();
  split->add_option("--frame", *frame, "First frame of the new track")->required();
  split->callback([&global, split_track, frame] {
    app::Workspace ws = global.open_workspace();
    print_edit(app::split_track(ws, *split_track, *frame, local_actor()));
  });
  auto* parent =
      edit->add_subcommand("parent", "Make PARENT the parent of CHILD (PARENT must end before CHILD begins)");
  auto child = std::make_shared<catalog::Id>(0);
  auto mother = std::make_shared<catalog::Id>(0);
  parent->add_option("CHILD", *child, "Daughter track")->required();
  parent->add_option("PARENT", *mother, "Mother track")->required();
  parent->callback([&global, child, mother] {
    app::Workspace ws = global.open_workspace();
    print_edit(app::set_track_parent(ws, *child, *mother, local_actor()));
  });
  auto* unparent = edit->add_subcommand("unparent", "Remove CHILD's parent");
  auto orphan = std::make_shared<catalog::Id>(0);
  unparent->add_option("CHILD", *orphan, "Track")->required();
  unparent->callback([&global, orphan] {
    app::Workspace ws = global.open_workspace();
    print_edit(app::unset_track_parent(ws, *orphan, local_actor()));
  });

  auto* history = track.add_subcommand("history", "The edit journal of a track (also of one merged away)");
  auto history_track = std::make_shared<catalog::Id>(0);
  auto history_json = std::make_shared<bool>(false);
  history->add_option("TRACK", *history_track, "Track id")->required();
  history->add_flag("--json", *history_json, "One JSON object per line (with before and after)");
  history->callback([&global, history_track, history_json] {
    app::Workspace ws = global.open_workspace();
    const auto edits = catalog::TrackStore(ws.catalog()).history(*history_track);
    if (edits.empty() && !catalog::TrackStore(ws.catalog()).find(*history_track)) {
      throw Error(ErrorCode::not_found, fmt::format("no track with id {}", *history_track));
    }
    for (const auto& e : edits) {
      if (*history_json) {
        fmt::print("{}\n", catalog::to_json(e).dump());
      } else {
        fmt::print("{}  {:<12} track {} {} by {}\n", e.at, e.action, e.track_id,
                   e.other_track_id ? fmt::format("(other {})", *e.other_track_id) : std::string(), e.actor);
      }
    }
  });

  auto* exp =
      track.add_subcommand("export", "Write a series' tracks as a Cell Tracking Challenge folder or a .trk file");
  auto exp_series = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("ctc");
  auto out = std::make_shared<std::filesystem::path>();
  auto no_raw = std::make_shared<bool>(false);
  exp->add_option("--series", *exp_series, "Series (name, or id)")->required();
  exp->add_option("--format", *format, "ctc (folder of mask###.tif + res_track.txt) or trk")
      ->check(CLI::IsMember({"ctc", "trk"}))
      ->capture_default_str();
  exp->add_option("OUT", *out, "Output folder (ctc) or .trk file")->required();
  exp->add_flag("--no-raw", *no_raw, "Leave the images' pixels out (labels and lineage only)");
  exp->callback([&global, exp_series, format, out, no_raw] {
    app::Workspace ws = global.open_workspace();
    const catalog::Series s = app::find_project_series(ws, global.project, *exp_series);
    const auto summary = app::export_series_tracks(
        ws, s.id, *out, *format == "trk" ? track::SeriesFormat::trk : track::SeriesFormat::ctc, !*no_raw);
    fmt::print("exported series '{}': {} frames, {} tracks, {} objects -> {}\n", s.name, summary.frames, summary.tracks,
               summary.objects, out->string());
  });
}

}  // namespace tessera::cli
