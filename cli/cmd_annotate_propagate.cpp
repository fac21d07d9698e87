// `tessera annotate propagate --series S --frame F --tag T`: app::propagate_masks from the command line,
// the same use case the masks.propagate job and POST /api/v1/series/{id}/masks:propagate run.
#include <fmt/format.h>

#include <cstdlib>

#include "commands.hpp"
#include "tessera/app/propagate_masks.hpp"
#include "tessera/app/track_series.hpp"
#include "tessera/core/error.hpp"

namespace tessera::cli {
namespace {

struct PropagateArgs {
  std::string series;
  std::int64_t frame = -1;
  std::string tag;
  std::string direction = "both";
  double min_confidence = segment::PropagateOptions{}.min_confidence;
  std::string flow = "dis";
  bool stop_on_review = false;
  bool no_refine = false;
  bool json = false;
};

// The tag by name (or id, when the text is a number naming no tag) in the project.
catalog::Id tag_of(app::Workspace& ws, catalog::Id project_id, const std::string& name_or_id) {
  const std::vector<catalog::Tag> tags = ws.catalog().list_tags(project_id);
  for (const catalog::Tag& t : tags) {
    if (t.name == name_or_id) return t.id;
  }
  for (const catalog::Tag& t : tags) {
    if (std::to_string(t.id) == name_or_id) return t.id;
  }
  throw Error(ErrorCode::not_found, fmt::format("--tag: no tag '{}' in the project", name_or_id), {{"field", "tag"}});
}

}  // namespace

void add_annotate_propagate_command(CLI::App& annotate, GlobalOptions& global) {
  auto args = std::make_shared<PropagateArgs>();
  CLI::App* cmd = annotate.add_subcommand(
      "propagate", "Carry the masks of a tag on one frame through its series (optical flow + refinement)");
  cmd->add_option("--series", args->series, "Series (name, or id) of the project")->required();
  cmd->add_option("--frame", args->frame, "Frame index of the annotated source frame")->required();
  cmd->add_option("--tag", args->tag, "Tag of the source masks (name, or id)")->required();
  cmd->add_option("--direction", args->direction, "both, forward or backward")
      ->check(CLI::IsMember({"both", "forward", "backward"}))
      ->capture_default_str();
  cmd->add_option("--min-confidence", args->min_confidence, "Below this a frame is flagged needs_review")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--flow", args->flow, "Optical flow: dis or farneback")
      ->check(CLI::IsMember({"dis", "farneback"}))
      ->capture_default_str();
  cmd->add_flag("--stop-on-review", args->stop_on_review, "Stop a direction at its first flagged frame");
  cmd->add_flag("--no-refine", args->no_refine, "Keep the flow-warped masks (no segmenter refinement)");
  cmd->add_flag("--json", args->json, "Print the report as JSON");
  cmd->callback([&global, args] {
    app::Workspace ws = global.open_workspace();
    const catalog::Series series = app::find_project_series(ws, global.project, args->series);
    app::PropagateMasksRequest request;
    request.series_id = series.id;
    request.frame = args->frame;
    request.tag_id = tag_of(ws, series.project_id, args->tag);
    request.forward = args->direction != "backward";
    request.backward = args->direction != "forward";
    request.stop_on_review = args->stop_on_review;
    request.options.min_confidence = args->min_confidence;
    request.options.flow = segment::parse_flow_method(args->flow, "--flow");
    request.options.refine = !args->no_refine;
    request.actor = local_actor();
    const app::PropagateMasksReport r = app::propagate_masks(ws, request);
    if (args->json) {
      fmt::print("{}\n", app::report_json(r).dump());
      return;
    }
    for (const app::PropagatedFrame& s : r.steps) {
      fmt::print("frame {:>5}  {:<12} {}  confidence {:.2f}{}{}\n", s.frame, s.action,
                 s.annotation_id ? fmt::format("annotation {}", *s.annotation_id) : std::string("-"), s.confidence,
                 s.needs_review ? "  NEEDS REVIEW" : "", s.reason.empty() ? "" : fmt::format(" ({})", s.reason));
    }
    fmt::print("series '{}' from frame {}: {} source masks, {} frames, {} created, {} updated, {} kept, {} flagged, "
               "{:.2f} s\n",
               r.series, r.frame, r.sources.size(), r.frames, r.created, r.updated, r.kept, r.flagged, r.seconds);
  });
}

}  // namespace tessera::cli
