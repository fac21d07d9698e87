#include "commands.hpp"

namespace tessera::cli {

void add_export_commands(CLI::App& /*parent*/, GlobalOptions& /*global*/) {}  // being written

}  // namespace tessera::cli
