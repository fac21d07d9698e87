// `tessera annotate merge|split|delete|list`: object edits and management of mask annotations, over
// app::MaskEdits (the same use case as the HTTP routes in src/server/routes_mask_edits.cpp).

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <memory>

#include "commands.hpp"
#include "tessera/app/mask_edits.hpp"
#include "tessera/app/track_series.hpp"
#include "tessera/core/error.hpp"

namespace tessera::cli {
namespace {

// Who edits from the command line: the local user by name (the CLI has no login).
// "x,y" in image pixels; Error naming the option otherwise.
cv::Point2d parse_xy(const std::string& text, const std::string& option) {
  cv::Point2d p;
  const char* end = text.data() + text.size();
  auto [comma, ec] = std::from_chars(text.data(), end, p.x);
  if (ec == std::errc() && comma != end && *comma == ',') {
    auto [last, ec2] = std::from_chars(comma + 1, end, p.y);
    if (ec2 == std::errc() && last == end) return p;
  }
  throw Error(ErrorCode::invalid_argument, fmt::format("{}: '{}' is not a point x,y", option, text));
}

std::vector<cv::Point2d> parse_xys(const std::vector<std::string>& texts, const std::string& option) {
  std::vector<cv::Point2d> points;
  for (const std::string& t : texts) points.push_back(parse_xy(t, option));
  return points;
}

// --tag: a tag name or id of the project.
catalog::Id find_tag(app::Workspace& ws, const std::string& project, const std::string& tag) {
  const catalog::Project p = ws.catalog().get_project(project);
  for (const catalog::Tag& t : ws.catalog().list_tags(p.id)) {
    if (t.name == tag || std::to_string(t.id) == tag) return t.id;
  }
  throw Error(ErrorCode::not_found, fmt::format("--tag: no tag '{}' in project '{}'", tag, project));
}

std::string describe(const catalog::Annotation& a) {
  const auto& b = a.state.bbox;
  return fmt::format("annotation {} (image {}, frame {}, bbox [{:g}, {:g}, {:g}, {:g}], version {})", a.id, a.image_id,
                     a.state.frame_index, b.x0, b.y0, b.x1, b.y1, a.version);
}

// Applied: what changed, one line each. Refused: an error saying why (nothing was changed).
void print_outcome(const app::MaskEditOutcome& outcome) {
  if (outcome.status == catalog::EditStatus::locked) {
    const catalog::Lease& lease = *outcome.lease;
    throw Error(ErrorCode::conflict, fmt::format("image {} is locked by '{}' until {}; nothing was changed",
                                                 lease.image_id, lease.holder, lease.expires_at));
  }
  if (outcome.status == catalog::EditStatus::stale) {
    throw Error(ErrorCode::conflict,
                fmt::format("annotation {} changed meanwhile (now version {}); nothing was changed",
                            outcome.current->id, outcome.current->version));
  }
  for (const auto& a : outcome.updated) fmt::print("updated {}\n", describe(a));
  for (const auto& a : outcome.created) fmt::print("created {}\n", describe(a));
  for (const auto& a : outcome.deleted) fmt::print("deleted annotation {} (image {})\n", a.id, a.image_id);
}

struct MergeArgs {
  catalog::Id image = 0;
  std::vector<std::string> stroke;
  double width = 3;
  std::int64_t frame = 0;
  std::string tag;
  std::vector<catalog::Id> ids;
};

struct SplitArgs {
  catalog::Id annotation = 0;
  std::vector<std::string> markers;
  std::vector<std::string> outline;
  double outline_width = 3;
};

struct DeleteArgs {
  catalog::Id annotation = 0;
  std::string series;
  std::string tag;
};

struct ListArgs {
  catalog::Id image = 0;
  std::string series;
  std::string tag;
  bool json = false;
};

void add_merge(CLI::App& annotate, GlobalOptions& global) {
  auto args = std::make_shared<MergeArgs>();
  auto* cmd = annotate.add_subcommand("merge", "Merge the masks a skeleton stroke touches (or --ids) into one");
  cmd->add_option("IMAGE", args->image, "Image id")->required();
  cmd->add_option("--stroke", args->stroke, "Stroke points x,y x,y ... over the parts to join");
  cmd->add_option("--width", args->width, "Stroke width in pixels")->capture_default_str();
  cmd->add_option("--frame", args->frame, "Frame of a multi-page image")->capture_default_str();
  cmd->add_option("--tag", args->tag, "Only masks of this tag (name or id)");
  cmd->add_option("--ids", args->ids, "Merge these mask annotations instead of a stroke");
  cmd->callback([&global, args] {
    app::Workspace ws = global.open_workspace();
    app::MergeRequest request;
    request.image_id = args->image;
    request.frame_index = args->frame;
    request.annotation_ids = args->ids;
    if (!args->stroke.empty()) request.stroke = segment::Stroke{parse_xys(args->stroke, "--stroke"), args->width};
    if (!args->tag.empty()) request.tag_id = find_tag(ws, global.project, args->tag);
    print_outcome(app::MaskEdits(ws).merge(request, local_actor()));
  });
}

void add_split(CLI::App& annotate, GlobalOptions& global) {
  auto args = std::make_shared<SplitArgs>();
  auto* cmd = annotate.add_subcommand("split", "Split a mask at markers on object centres (marker watershed)");
  cmd->add_option("ANNOTATION", args->annotation, "Mask annotation id")->required();
  cmd->add_option("--marker", args->markers, "A marker x,y (at least two)")->required();
  cmd->add_option("--outline", args->outline, "Outline stroke x,y x,y ...: certain background, the cut follows it");
  cmd->add_option("--outline-width", args->outline_width, "Outline stroke width in pixels")->capture_default_str();
  cmd->callback([&global, args] {
    app::Workspace ws = global.open_workspace();
    app::SplitRequest request;
    request.annotation_id = args->annotation;
    request.markers = parse_xys(args->markers, "--marker");
    if (!args->outline.empty())
      request.outline = segment::Stroke{parse_xys(args->outline, "--outline"), args->outline_width};
    print_outcome(app::MaskEdits(ws).split(request, local_actor()));
  });
}

void add_delete(CLI::App& annotate, GlobalOptions& global) {
  auto args = std::make_shared<DeleteArgs>();
  auto* cmd = annotate.add_subcommand("delete", "Delete one mask, or every mask of a tag in a series (--series --tag)");
  cmd->add_option("ANNOTATION", args->annotation, "Mask annotation id");
  cmd->add_option("--series", args->series, "Series (name, or id)");
  cmd->add_option("--tag", args->tag, "Tag (name or id) whose masks to delete in the series");
  cmd->callback([&global, args] {
    app::Workspace ws = global.open_workspace();
    app::MaskEdits edits(ws);
    if (args->annotation > 0) {
      if (!args->series.empty()) {
        throw Error(ErrorCode::invalid_argument, "annotate delete: give ANNOTATION or --series with --tag, not both");
      }
      print_outcome(edits.remove(args->annotation, local_actor()));
      return;
    }
    if (args->series.empty() || args->tag.empty()) {
      throw Error(ErrorCode::invalid_argument, "annotate delete: give ANNOTATION, or --series S and --tag T");
    }
    const catalog::Series series = app::find_project_series(ws, global.project, args->series);
    const app::MaskEditOutcome outcome =
        edits.remove_in_series(series.id, find_tag(ws, global.project, args->tag), local_actor());
    print_outcome(outcome);
    fmt::print("{} masks deleted in series '{}' (each undoable)\n", outcome.deleted.size(), series.name);
  });
}

void add_list(CLI::App& annotate, GlobalOptions& global) {
  auto args = std::make_shared<ListArgs>();
  auto* cmd = annotate.add_subcommand("list", "Mask annotations of an image or a series (--series), by tag");
  cmd->add_option("IMAGE", args->image, "Image id");
  cmd->add_option("--series", args->series, "Series (name, or id)");
  cmd->add_option("--tag", args->tag, "Only masks of this tag (name or id)");
  cmd->add_flag("--json", args->json, "One JSON object per line");
  cmd->callback([&global, args] {
    app::Workspace ws = global.open_workspace();
    if ((args->image > 0) == !args->series.empty()) {
      throw Error(ErrorCode::invalid_argument, "annotate list: give IMAGE or --series S (one of them)");
    }
    std::optional<catalog::Id> tag;
    if (!args->tag.empty()) tag = find_tag(ws, global.project, args->tag);
    app::MaskEdits edits(ws);
    const app::MaskList list =
        args->image > 0 ? edits.list_in_image(args->image, tag)
                        : edits.list_in_series(app::find_project_series(ws, global.project, args->series).id, tag);
    if (args->json) {
      for (const auto& a : list.masks) fmt::print("{}\n", app::annotation_json(a).dump());
      return;
    }
    fmt::print("{:>10} {:>8} {:>6} {:>6} {:>22} {:>10}\n", "annotation", "image", "frame", "tag", "bbox", "source");
    for (const auto& a : list.masks) {
      const auto& b = a.state.bbox;
      fmt::print("{:>10} {:>8} {:>6} {:>6} {:>22} {:>10}\n", a.id, a.image_id, a.state.frame_index,
                 a.state.tag_id ? std::to_string(*a.state.tag_id) : "-",
                 fmt::format("{:g},{:g},{:g},{:g}", b.x0, b.y0, b.x1, b.y1), a.state.source);
    }
    fmt::print("{} masks{}\n", list.masks.size(), list.truncated ? " (truncated: an image has more)" : "");
  });
}

}  // namespace

void add_annotate_edit_commands(CLI::App& annotate, GlobalOptions& global) {
  add_merge(annotate, global);
  add_split(annotate, global);
  add_delete(annotate, global);
  add_list(annotate, global);
}

}  // namespace tessera::cli
