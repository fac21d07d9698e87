#include <malloc.h>

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "commands.hpp"
#include "tessera/core/error.hpp"

namespace tessera::cli {

app::Workspace GlobalOptions::open_workspace() const {
  std::optional<std::filesystem::path> where;
  if (!dir.empty()) where = dir;
  return app::Workspace::open(where, db);
}

catalog::Actor local_actor() {
  const char* user = std::getenv("USER");
  return {std::nullopt, user != nullptr && *user != '\0' ? user : "cli"};
}

}  // namespace tessera::cli

int main(int argc, char** argv) {
  using namespace tessera;
  // Images are decoded into multi-megabyte buffers again and again; keeping such blocks in the heap
  // instead of fresh mmaps avoids re-faulting and zeroing every page for every image.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  CLI::App app{"tessera: manage, annotate and process large image sets"};
  app.require_subcommand(1);
  app.fallthrough();  // global options (--dir, --db, --project) may follow the subcommand
  cli::GlobalOptions global;
  app.add_option("--dir", global.dir, "Workspace folder (default: search upward from here)")->envname("TESSERA_DIR");
  app.add_option("--db", global.db, "Catalog URL: sqlite:PATH or postgresql://... (overrides the workspace's)")
      ->envname("TESSERA_DB");
  app.add_option("--project", global.project, "Project name")->envname("TESSERA_PROJECT");

  cli::add_workspace_commands(app, global);
  cli::add_import_command(app, global);
  cli::add_ls_command(app, global);
  cli::add_set_commands(app, global);
  cli::add_tags_commands(app, global);
  cli::add_events_command(app, global);
  cli::add_synth_commands(app, global);
  cli::add_ops_commands(app, global);
  cli::add_measure_command(app, global);
  cli::add_track_commands(app, global);
  cli::add_run_commands(app, global);
  cli::add_stitch_command(app, global);
  cli::add_worker_commands(app, global);
  cli::add_serve_command(app, global);
  cli::add_user_commands(app, global);
  cli::add_annotate_commands(app, global);
  cli::add_export_commands(app, global);
  cli::add_crowd_commands(app, global);
  cli::add_learn_commands(app, global);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const Error& e) {
    fmt::print(stderr, "tessera: error: {}\n", e.what());
    return exit_code_for(e.code());
  } catch (const std::exception& e) {
    fmt::print(stderr, "tessera: internal error: {}\n", e.what());
    return 1;
  }
  return 0;
}
