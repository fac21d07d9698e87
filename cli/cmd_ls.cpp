#include <fmt/format.h>

#include "commands.hpp"
#include "tessera/catalog/records_json.hpp"
#include "tessera/core/error.hpp"

namespace tessera::cli {

void add_ls_command(CLI::App& app, GlobalOptions& global) {
  auto* ls = app.add_subcommand("ls", "List catalog contents");
  ls->require_subcommand(1);
  auto* images = ls->add_subcommand("images", "List images, filtered by metadata, set or annotation state");
  struct Args {
    std::string where, set, annotation_state;
    bool json = false;
    std::int64_t limit = -1;
    std::int64_t after = 0;
  };
  auto args = std::make_shared<Args>();
  images->add_option("--where", args->where, "Filter, e.g. \"well = 'A1' and time >= 10\"");
  images->add_option("--set", args->set, "Only images in this set");
  images->add_option("--annotation-state", args->annotation_state,
                     "Only images that are unannotated, annotated, suggested (learning-loop suggestions to review) "
                     "or review (masks flagged for review)");
  images->add_option("--limit", args->limit, "At most this many");
  images->add_option("--after", args->after, "Only ids greater than this (cursor)");
  images->add_flag("--json", args->json, "One JSON array with every field");
  images->callback([&global, args] {
    app::Workspace ws = global.open_workspace();
    const auto project = ws.catalog().get_project(global.project);
    catalog::ImageQuery q;
    q.project_id = project.id;
    q.where = args->where;
    if (!args->set.empty()) {
      ws.catalog().get_set(project.id, args->set);  // not_found for a misspelt set, not an empty list
      q.set = args->set;
    }
    if (!args->annotation_state.empty()) q.annotation_state = args->annotation_state;
    q.limit = args->limit;
    q.after_id = args->after;
    const auto list = ws.catalog().list_images(q);
    if (args->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& image : list) {
        nlohmann::json j = to_json(image);
        j["sets"] = ws.catalog().sets_of_image(image.id);
        out.push_back(std::move(j));
      }
      fmt::print("{}\n", out.dump(2));
      return;
    }
    for (const auto& i : list) {
      fmt::print("{:>6}  {:>5}x{:<5} {}x{:<3} {:<4} {:>7.4g}  {:<20} {}  {}\n", i.id, i.width, i.height, i.channels,
                 i.pixel_type, i.frames > 1 ? fmt::format("{}p", i.frames) : "", i.focus.value_or(0.0),
                 i.series_name ? fmt::format("{}#{}", *i.series_name, i.frame_index.value_or(0)) : "-",
                 i.source_path, i.metadata.dump());
    }
    fmt::print(stderr, "{} images\n", list.size());
  });
}

void add_events_command(CLI::App& app, GlobalOptions& global) {
  auto* cmd = app.add_subcommand("events", "Show the activity feed");
  auto after = std::make_shared<std::int64_t>(0);
  auto limit = std::make_shared<std::int64_t>(50);
  auto json = std::make_shared<bool>(false);
  cmd->add_option("--after", *after, "Only events with a greater id");
  cmd->add_option("--limit", *limit, "At most this many")->check(CLI::Range(1, 100000));
  cmd->add_flag("--json", *json, "JSON output");
  cmd->callback([&global, after, limit, json] {
    app::Workspace ws = global.open_workspace();
    const auto project = ws.catalog().get_project(global.project);
    const auto events = ws.catalog().list_events(project.id, *after, *limit);
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& e : events) out.push_back(to_json(e));
      fmt::print("{}\n", out.dump(2));
      return;
    }
    for (const auto& e : events) fmt::print("{:>6}  {}  {:<16} {}\n", e.id, e.at, e.kind, e.payload.dump());
  });
}

}  // namespace tessera::cli
