#include <fmt/format.h>

#include "commands.hpp"
#include "tessera/app/summary.hpp"
#include "tessera/core/error.hpp"

namespace tessera::cli {

void add_workspace_commands(CLI::App& app, GlobalOptions& global) {
  auto* init = app.add_subcommand("init", "Create a workspace: catalog (SQLite by default) and blob store");
  auto dir = std::make_shared<std::string>(".");
  init->add_option("DIR", *dir, "Workspace folder (created if missing)");
  init->callback([&global, dir] {
    app::Workspace ws = app::Workspace::init(*dir, global.db);
    fmt::print("initialised {} (catalog {}: {}, schema v{})\n", ws.root().string(), ws.catalog().backend(),
               ws.catalog_url_for_display(), ws.catalog().schema_version());
  });

  auto* info = app.add_subcommand("info", "Summarise the workspace: catalog, counts, series and sets");
  info->callback([&global] {
    app::Workspace ws = global.open_workspace();
    fmt::print("{}", app::describe_workspace(ws));
  });

  auto* check = app.add_subcommand("check", "Verify the catalog against the blob store");
  auto quick = std::make_shared<bool>(false);
  check->add_flag("--quick", *quick, "Check presence only, do not re-hash blob contents");
  check->callback([&global, quick] {
    app::Workspace ws = global.open_workspace();
    const app::CheckReport r = app::check_workspace(ws, !*quick);
    fmt::print("blobs referenced {}  stored {}  missing {}  damaged {}  unreferenced {}  temp files {}\n",
               r.blobs_referenced, r.blobs_stored, r.missing.size(), r.damaged.size(), r.unreferenced.size(),
               r.temp_files);
    for (const auto& h : r.missing) fmt::print(stderr, "missing blob {}\n", h);
    for (const auto& h : r.damaged) fmt::print(stderr, "damaged blob {}\n", h);
    if (!r.ok()) throw Error(ErrorCode::corrupt, "the workspace has missing or damaged blobs");
  });
}

}  // namespace tessera::cli
