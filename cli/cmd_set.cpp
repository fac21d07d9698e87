#include <fmt/format.h>

#include "commands.hpp"
#include "tessera/catalog/records_json.hpp"
#include "tessera/core/error.hpp"

namespace tessera::cli {
namespace {

std::vector<catalog::Id> parse_ids(const std::vector<std::string>& texts) {
  std::vector<catalog::Id> ids;
  for (const auto& t : texts) {
    try {
      size_t used = 0;
      const long long id = std::stoll(t, &used);
      if (used != t.size() || id <= 0) throw std::invalid_argument(t);
      ids.push_back(id);
    } catch (const std::exception&) {
      throw Error(ErrorCode::invalid_argument, fmt::format("'{}' is not an image id", t));
    }
  }
  return ids;
}

}  // namespace

void add_set_commands(CLI::App& app, GlobalOptions& global) {
  auto* set = app.add_subcommand("set", "Create and edit image sets");
  set->require_subcommand(1);
  struct Args {
    std::string name, where, description;
    std::vector<std::string> ids;
    bool json = false;
  };
  auto args = std::make_shared<Args>();

  auto* create = set->add_subcommand("create", "Create a set, from a filter or empty");
  create->add_option("NAME", args->name)->required();
  create->add_option("--where", args->where, "Filter whose matches become the members (stored with the set)");
  create->add_option("--description", args->description);
  create->callback([&global, args] {
    app::Workspace ws = global.open_workspace();
    const auto project = ws.catalog().ensure_project(global.project);
    const auto s = ws.catalog().create_set(project.id, args->name, args->where, args->description);
    fmt::print("set '{}' created with {} images\n", s.name, s.image_count);
  });

  for (const char* verb : {"add", "remove"}) {
    const bool adding = std::string(verb) == "add";
    auto* sub = set->add_subcommand(verb, adding ? "Add images (by id or filter) to a set" : "Remove images from a set");
    sub->add_option("NAME", args->name)->required();
    sub->add_option("IDS", args->ids, "Image ids");
    sub->add_option("--where", args->where, "Filter selecting the images");
    sub->callback([&global, args, adding] {
      if (args->ids.empty() == args->where.empty()) {
        throw Error(ErrorCode::invalid_argument, "give image ids or --where, not both and not neither");
      }
      app::Workspace ws = global.open_workspace();
      const auto project = ws.catalog().get_project(global.project);
      auto& c = ws.catalog();
      std::int64_t n = 0;
      if (!args->where.empty()) {
        n = adding ? c.add_to_set_where(project.id, args->name, args->where)
                   : c.remove_from_set_where(project.id, args->name, args->where);
      } else {
        const auto ids = parse_ids(args->ids);
        n = adding ? c.add_to_set(project.id, args->name, ids) : c.remove_from_set(project.id, args->name, ids);
      }
      fmt::print("{} {} image(s); set '{}' now holds {}\n", adding ? "added" : "removed", n, args->name,
                 c.get_set(project.id, args->name).image_count);
    });
  }

  auto* list = set->add_subcommand("list", "List sets");
  list->add_flag("--json", args->json);
  list->callback([&global, args] {
    app::Workspace ws = global.open_workspace();
    const auto project = ws.catalog().get_project(global.project);
    const auto sets = ws.catalog().list_sets(project.id);
    if (args->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& s : sets) out.push_back(to_json(s));
      fmt::print("{}\n", out.dump(2));
      return;
    }
    for (const auto& s : sets) {
      fmt::print("{:<24} {:>7} images  {}\n", s.name, s.image_count, s.query ? "where " + *s.query : "");
    }
  });

  auto* show = set->add_subcommand("show", "Show a set and its images");
  show->add_option("NAME", args->name)->required();
  show->add_flag("--json", args->json);
  show->callback([&global, args] {
    app::Workspace ws = global.open_workspace();
    const auto project = ws.catalog().get_project(global.project);
    const auto s = ws.catalog().get_set(project.id, args->name);
    catalog::ImageQuery q;
    q.project_id = project.id;
    q.set = s.name;
    const auto images = ws.catalog().list_images(q);
    if (args->json) {
      nlohmann::json out = to_json(s);
      out["image_ids"] = nlohmann::json::array();
      for (const auto& i : images) out["image_ids"].push_back(i.id);
      fmt::print("{}\n", out.dump(2));
      return;
    }
    fmt::print("set '{}': {} images, created {}{}\n", s.name, s.image_count, s.created_at,
               s.query ? ", from filter: " + *s.query : "");
    for (const auto& i : images) fmt::print("{:>6}  {}\n", i.id, i.source_path);
  });

  auto* remove_set = set->add_subcommand("delete", "Delete a set (its images stay in the catalog)");
  remove_set->add_option("NAME", args->name)->required();
  remove_set->callback([&global, args] {
    app::Workspace ws = global.open_workspace();
    const auto project = ws.catalog().get_project(global.project);
    ws.catalog().delete_set(project.id, args->name);
    fmt::print("set '{}' deleted\n", args->name);
  });
}

}  // namespace tessera::cli
