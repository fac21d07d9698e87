#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "tessera/app/workspace.hpp"
#include "tessera/catalog/locks.hpp"

namespace tessera::cli {

// Options every command shares: where the workspace is and which catalog to use.
struct GlobalOptions {
  std::string dir;      // --dir or TESSERA_DIR; empty = search upward from the current directory
  std::string db;       // --db or TESSERA_DB; empty = the workspace's configured catalog
  std::string project = "default";

  app::Workspace open_workspace() const;
};

// Who the CLI's catalog writes are attributed to in journals and the feed: $USER, else "cli".
catalog::Actor local_actor();

void add_workspace_commands(CLI::App& app, GlobalOptions& global);  // init, info, check
void add_import_command(CLI::App& app, GlobalOptions& global);
void add_ls_command(CLI::App& app, GlobalOptions& global);
void add_set_commands(CLI::App& app, GlobalOptions& global);
void add_tags_commands(CLI::App& app, GlobalOptions& global);
void add_events_command(CLI::App& app, GlobalOptions& global);
void add_synth_commands(CLI::App& app, GlobalOptions& global);
void add_ops_commands(CLI::App& app, GlobalOptions& global);     // ops, op NAME
void add_measure_command(CLI::App& app, GlobalOptions& global);
void add_track_commands(CLI::App& app, GlobalOptions& global);   // track files, track convert
void add_run_commands(CLI::App& app, GlobalOptions& global);        // run, runs
void add_stitch_command(CLI::App& app, GlobalOptions& global);
void add_worker_commands(CLI::App& app, GlobalOptions& global);  // worker, jobs
void add_serve_command(CLI::App& app, GlobalOptions& global);
void add_user_commands(CLI::App& app, GlobalOptions& global);      // user add|passwd|token|revoke|role|list
void add_export_commands(CLI::App& app, GlobalOptions& global);    // export npz|yolo|coco|deepcell-label; dataset import
void add_crowd_commands(CLI::App& app, GlobalOptions& global);     // montage make, crowd ingest, augment, score
void add_learn_commands(CLI::App& app, GlobalOptions& global);     // learn pixels|objects train|predict, round, rounds

// `tessera annotate ...`: one parent command (cmd_annotate.cpp); each part adds its own subcommands to it.
void add_annotate_commands(CLI::App& app, GlobalOptions& global);
void add_annotate_generate_command(CLI::App& annotate, GlobalOptions& global);   // annotate generate
void add_annotate_propagate_command(CLI::App& annotate, GlobalOptions& global);  // annotate propagate
void add_annotate_edit_commands(CLI::App& annotate, GlobalOptions& global);      // annotate merge|split|delete|list

}  // namespace tessera::cli
