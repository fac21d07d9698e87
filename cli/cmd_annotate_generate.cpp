#include "commands.hpp"

namespace tessera::cli {

void add_annotate_generate_command(CLI::App& /*parent*/, GlobalOptions& /*global*/) {}  // being written

}  // namespace tessera::cli
