#include "server/routes.hpp"

namespace tessera::server {

void add_export_routes(Router& /*router*/) {}  // being written

}  // namespace tessera::server
