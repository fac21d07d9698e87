#include "server/routes.hpp"

namespace tessera::server {

void add_mask_edit_routes(Router& /*router*/) {}  // being written

}  // namespace tessera::server
