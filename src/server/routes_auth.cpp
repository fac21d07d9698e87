#include <fmt/format.h>

#include "server/json_records.hpp"
#include "server/routes.hpp"

namespace tessera::server {
namespace {

constexpr std::int64_t kDefaultTokenTtl = 7 * 24 * 3600;
constexpr std::int64_t kMaxTokenTtl = 365 * 24 * 3600;

std::int64_t token_ttl(const nlohmann::json& body) {
  const std::int64_t ttl = optional_int(body, "ttl_seconds").value_or(kDefaultTokenTtl);
  if (ttl < 60 || ttl > kMaxTokenTtl) {
    throw HttpError(400, "invalid_argument", fmt::format("field 'ttl_seconds' must be in [60, {}]", kMaxTokenTtl),
                    nlohmann::json{{"field", "ttl_seconds"}});
  }
  return ttl;
}

nlohmann::json token_json(const catalog::IssuedToken& token, const catalog::User& user) {
  return {{"token", token.token}, {"token_id", token.id}, {"expires_at", token.expires_at ? nlohmann::json(*token.expires_at) : nullptr},
          {"user", to_json(user)}};
}

}  // namespace

void add_auth_routes(Router& router) {
  // Password -> API token. Wrong name and wrong password answer alike.
  router.post(
      R"(/api/v1/auth/login)",
      [](Context& ctx) {
        const nlohmann::json body = ctx.json_body();
        const std::string name = require_string(body, "name");
        const std::string password = require_string(body, "password");
        const std::int64_t ttl = token_ttl(body);
        auto user = ctx.services.users.verify_password(name, password);
        if (!user) throw HttpError(401, "unauthenticated", "wrong user name or password");
        auto token = ctx.services.users.issue_token(user->id, optional_string(body, "label").value_or("login"), ttl);
        ctx.send_json(token_json(token, *user));
      },
      Access::open);

  // Revokes the token the request carries.
  router.post(R"(/api/v1/auth/logout)", [](Context& ctx) {
    const std::string header = ctx.req.get_header_value("Authorization");
    const std::string token = header.starts_with("Bearer ") ? header.substr(7) : ctx.query("access_token").value_or("");
    ctx.services.users.revoke_token(token);
    ctx.services.access.forget_token(token);
    ctx.res.status = 204;
  });

  // Another token for the same user (for scripts and the microscope laptop), with its own label and expiry.
  router.post(R"(/api/v1/auth/tokens)", [](Context& ctx) {
    const nlohmann::json body = ctx.json_body();
    auto token = ctx.services.users.issue_token(ctx.user().id, optional_string(body, "label").value_or("api"), token_ttl(body));
    ctx.send_json(token_json(token, ctx.user()), 201);
  });

  router.get(R"(/api/v1/me)", [](Context& ctx) {
    nlohmann::json projects = nlohmann::json::array();
    for (const auto& access : ctx.services.users.projects_of(ctx.user().id)) projects.push_back(to_json(access));
    nlohmann::json me = to_json(ctx.user());
    me["projects"] = projects;
    ctx.send_json(me);
  });
}

}  // namespace tessera::server
