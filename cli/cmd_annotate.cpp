#include "commands.hpp"

namespace tessera::cli {

// The parts of assisted annotation (generate, propagate, edits) each live in their own file; this only
// groups them under one command so `tessera annotate --help` lists them together.
void add_annotate_commands(CLI::App& app, GlobalOptions& global) {
  CLI::App* annotate = app.add_subcommand("annotate", "Assisted annotation: point-prompted masks, propagation, edits");
  annotate->require_subcommand(1);
  add_annotate_generate_command(*annotate, global);
  add_annotate_propagate_command(*annotate, global);
  add_annotate_edit_commands(*annotate, global);
}

}  // namespace tessera::cli
