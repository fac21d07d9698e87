#include "commands.hpp"

namespace tessera::cli {

void add_crowd_commands(CLI::App& /*parent*/, GlobalOptions& /*global*/) {}  // being written

}  // namespace tessera::cli
