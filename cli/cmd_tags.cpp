#include <fmt/format.h>

#include "commands.hpp"
#include "tessera/catalog/records_json.hpp"
#include "tessera/app/tags_csv.hpp"

namespace tessera::cli {

void add_tags_commands(CLI::App& app, GlobalOptions& global) {
  auto* tags = app.add_subcommand("tags", "Annotation tags with colours");
  tags->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* import = tags->add_subcommand("import", "Insert or update tags from a CSV (name, color, kind, parent)");
  import->add_option("FILE", *file)->required()->check(CLI::ExistingFile);
  import->callback([&global, file] {
    const auto specs = app::read_tags_csv(*file);  // parse fully before touching the catalog
    app::Workspace ws = global.open_workspace();
    const auto project = ws.catalog().ensure_project(global.project);
    const auto all = ws.catalog().upsert_tags(project.id, specs);
    fmt::print("imported {} tags; the project has {}\n", specs.size(), all.size());
  });
  auto* list = tags->add_subcommand("list", "List tags");
  list->add_flag("--json", *json);
  list->callback([&global, json] {
    app::Workspace ws = global.open_workspace();
    const auto project = ws.catalog().get_project(global.project);
    const auto all = ws.catalog().list_tags(project.id);
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& t : all) out.push_back(to_json(t));
      fmt::print("{}\n", out.dump(2));
      return;
    }
    for (const auto& t : all) fmt::print("{:<24} {}  {:<8} {}\n", t.name, t.color, t.kind, t.parent.value_or(""));
  });
}

}  // namespace tessera::cli
