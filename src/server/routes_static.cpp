#include <fmt/format.h>

#include "server/routes.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/file.hpp"

namespace tessera::server {

void add_static_routes(Router& router) {
  const auto& root = router.services().options.web_root;
  router.get(R"(/api/v1)", [](Context& ctx) {
    ctx.send_json({{"name", "tessera"}, {"api", "v1"}, {"docs", "docs/api.md"}});
  }, Access::open);
  if (root.empty()) return;
  if (!std::filesystem::is_directory(root)) {
    throw Error(ErrorCode::not_found, fmt::format("web UI folder '{}' does not exist (build it, or leave --web empty)", root.string()));
  }
  // httplib refuses paths that climb out of the mount ("..") before touching the file system.
  router.http().set_mount_point("/", root.string());
  // The single-page app answers its own routes: unknown non-API paths get index.html.
  const std::filesystem::path index = root / "index.html";
  router.http().Get(R"(/(?!api/)[^.]*)", [index](const httplib::Request&, httplib::Response& res) {
    std::error_code ec;
    if (!std::filesystem::exists(index, ec)) {
      res.status = 404;
      return;
    }
    res.set_content(read_file(index), "text/html; charset=utf-8");
  });
}

}  // namespace tessera::server
