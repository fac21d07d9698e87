#include <fmt/format.h>

#include "server/json_records.hpp"
#include "server/routes.hpp"
#include "tessera/core/error.hpp"

namespace tessera::server {

void add_project_routes(Router& router) {
  router.get(R"(/api/v1/projects)", [](Context& ctx) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& access : ctx.services.users.projects_of(ctx.user().id)) out.push_back(to_json(access));
    ctx.send_json({{"projects", out}});
  });

  // Any user may start a project; they become its owner.
  router.post(R"(/api/v1/projects)", [](Context& ctx) {
    const nlohmann::json body = ctx.json_body();
    const std::string name = require_string(body, "name");
    catalog::Project project = ctx.catalog().create_project(name, optional_string(body, "description").value_or(""));
    ctx.services.users.set_role(project.id, ctx.user().id, Role::owner);
    ctx.services.access.forget_user(ctx.user().id);
    ctx.services.feed.notify();
    ctx.send_created(to_json(catalog::ProjectAccess{project, Role::owner}), fmt::format("/api/v1/projects/{}", project.id));
  });

  router.get(R"(/api/v1/projects/(\d+))", [](Context& ctx) {
    auto access = ctx.project(ctx.path_id(1, "project"));
    const catalog::Summary s = ctx.catalog().summary(access.project.id);
    nlohmann::json out = to_json(access);
    out["counts"] = {{"images", s.images}, {"series", s.series}, {"sets", s.sets}, {"tags", s.tags},
                     {"annotations", s.annotations}, {"objects", s.objects}, {"bytes", s.bytes}};
    ctx.send_json(out);
  });

  router.get(R"(/api/v1/projects/(\d+)/members)", [](Context& ctx) {
    auto access = ctx.project(ctx.path_id(1, "project"));
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : ctx.services.users.members(access.project.id)) {
      nlohmann::json j = to_json(m.user);
      j["role"] = catalog::to_string(m.role);
      out.push_back(j);
    }
    ctx.send_json({{"members", out}});
  });

  // Owners set roles by user name: {"role": "owner" | "editor" | "viewer"}.
  router.put(R"(/api/v1/projects/(\d+)/members/([^/]+))", [](Context& ctx) {
    auto access = ctx.project(ctx.path_id(1, "project"), Role::owner);
    const nlohmann::json body = ctx.json_body();
    Role role;
    try {
      role = catalog::role_from_string(require_string(body, "role"));
    } catch (const Error& e) {
      throw HttpError(400, "invalid_argument", e.what(), nlohmann::json{{"field", "role"}});
    }
    auto user = ctx.services.users.find(ctx.path(2));
    if (!user) throw HttpError(404, "not_found", fmt::format("no user named '{}'", ctx.path(2)));
    auto members = ctx.services.users.members(access.project.id);
    const bool last_owner = role != Role::owner &&
                            std::count_if(members.begin(), members.end(), [](auto& m) { return m.role == Role::owner; }) == 1 &&
                            std::any_of(members.begin(), members.end(),
                                        [&](auto& m) { return m.role == Role::owner && m.user.id == user->id; });
    if (last_owner) throw HttpError(409, "conflict", "a project keeps at least one owner");
    ctx.services.users.set_role(access.project.id, user->id, role);
    ctx.services.access.forget_user(user->id);
    ctx.add_event(access.project.id, catalog::NewEvent{"member.set", std::nullopt, "user", user->id,
                                                       {{"user", user->name}, {"role", catalog::to_string(role)}}});
    nlohmann::json out = to_json(*user);
    out["role"] = catalog::to_string(role);
    ctx.send_json(out);
  });

  router.del(R"(/api/v1/projects/(\d+)/members/([^/]+))", [](Context& ctx) {
    auto access = ctx.project(ctx.path_id(1, "project"), Role::owner);
    auto user = ctx.services.users.find(ctx.path(2));
    if (!user) throw HttpError(404, "not_found", fmt::format("no user named '{}'", ctx.path(2)));
    auto members = ctx.services.users.members(access.project.id);
    const auto owners = std::count_if(members.begin(), members.end(), [](auto& m) { return m.role == Role::owner; });
    const bool is_owner = std::any_of(members.begin(), members.end(),
                                      [&](auto& m) { return m.role == Role::owner && m.user.id == user->id; });
    if (is_owner && owners == 1) throw HttpError(409, "conflict", "a project keeps at least one owner");
    ctx.services.users.remove_member(access.project.id, user->id);
    ctx.services.access.forget_user(user->id);
    ctx.add_event(access.project.id, catalog::NewEvent{"member.removed", std::nullopt, "user", user->id, {{"user", user->name}}});
    ctx.res.status = 204;
  });
}

}  // namespace tessera::server
