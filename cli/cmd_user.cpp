#include <sodium.h>

#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "tessera/catalog/users.hpp"
#include "tessera/core/error.hpp"

namespace tessera::cli {
namespace {

std::string read_password_stdin() {
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) throw Error(ErrorCode::invalid_argument, "no password on standard input");
  return password;
}

// 16 characters from an alphabet without look-alikes (0/O, 1/l): about 90 bits.
std::string generate_password() {
  static constexpr char kAlphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  if (sodium_init() < 0) throw Error(ErrorCode::internal, "libsodium could not initialise");
  std::string out;
  for (int i = 0; i < 16; ++i) out += kAlphabet[randombytes_uniform(sizeof kAlphabet - 1)];
  return out;
}

}  // namespace

void add_user_commands(CLI::App& app, GlobalOptions& global) {
  auto* user = app.add_subcommand("user", "Users, passwords, API tokens and project roles");
  user->require_subcommand(1);
  struct Args {
    std::string name, display, role, label = "cli";
    bool password_stdin = false, generate = false, reset = false;
    std::int64_t ttl = 0;
  };
  auto args = std::make_shared<Args>();

  auto* add = user->add_subcommand("add", "Add a user (password from stdin, or generated and printed once)");
  add->add_option("NAME", args->name)->required();
  add->add_option("--display-name", args->display);
  add->add_flag("--password-stdin", args->password_stdin, "Read the password from standard input");
  add->add_flag("--generate", args->generate, "Generate a password and print it");
  add->add_flag("--reset", args->reset, "If the user exists, set the new password instead of failing");
  add->add_option("--role", args->role, "Also give this role (owner, editor, viewer) in --project");
  add->callback([&global, args] {
    if (args->password_stdin == args->generate) throw Error(ErrorCode::invalid_argument, "give --password-stdin or --generate");
    const std::string password = args->generate ? generate_password() : read_password_stdin();
    app::Workspace ws = global.open_workspace();
    catalog::UserStore users(ws.catalog());
    if (args->reset && users.find(args->name)) {
      users.set_password(args->name, password);
    } else {
      users.create(args->name, password, args->display);
    }
    if (!args->role.empty()) {
      const auto role = catalog::role_from_string(args->role);
      users.set_role(ws.catalog().ensure_project(global.project).id, users.find(args->name)->id, role);
    }
    if (args->generate) {
      fmt::print("user '{}' password: {}\n", args->name, password);
    } else {
      fmt::print("user '{}' ready\n", args->name);
    }
  });

  auto* passwd = user->add_subcommand("passwd", "Set a user's password (from stdin)");
  passwd->add_option("NAME", args->name)->required();
  passwd->callback([&global, args] {
    const std::string password = read_password_stdin();
    app::Workspace ws = global.open_workspace();
    catalog::UserStore(ws.catalog()).set_password(args->name, password);
    fmt::print("password of '{}' changed\n", args->name);
  });

  auto* token = user->add_subcommand("token", "Issue an API token for a user and print it (for scripts and uploaders)");
  token->add_option("NAME", args->name)->required();
  token->add_option("--ttl", args->ttl, "Lifetime in seconds (0: no expiry)")->check(CLI::Range(std::int64_t{0}, std::int64_t{10} * 365 * 24 * 3600));
  token->add_option("--label", args->label, "What the token is for");
  token->callback([&global, args] {
    app::Workspace ws = global.open_workspace();
    catalog::UserStore users(ws.catalog());
    auto u = users.find(args->name);
    if (!u) throw Error(ErrorCode::not_found, fmt::format("no user '{}'", args->name));
    fmt::print("{}\n", users.issue_token(u->id, args->label, args->ttl).token);
  });

  auto* revoke = user->add_subcommand("revoke", "Revoke every token of a user");
  revoke->add_option("NAME", args->name)->required();
  revoke->callback([&global, args] {
    app::Workspace ws = global.open_workspace();
    catalog::UserStore users(ws.catalog());
    auto u = users.find(args->name);
    if (!u) throw Error(ErrorCode::not_found, fmt::format("no user '{}'", args->name));
    fmt::print("{} token(s) revoked\n", users.revoke_all_tokens(u->id));
  });

  auto* role = user->add_subcommand("role", "Give a user a role in --project (owner, editor, viewer; 'none' removes)");
  role->add_option("NAME", args->name)->required();
  role->add_option("ROLE", args->role)->required();
  role->callback([&global, args] {
    app::Workspace ws = global.open_workspace();
    catalog::UserStore users(ws.catalog());
    auto u = users.find(args->name);
    if (!u) throw Error(ErrorCode::not_found, fmt::format("no user '{}'", args->name));
    const auto project = ws.catalog().ensure_project(global.project);
    if (args->role == "none") {
      users.remove_member(project.id, u->id);
    } else {
      users.set_role(project.id, u->id, catalog::role_from_string(args->role));
    }
    fmt::print("'{}' in project '{}': {}\n", args->name, project.name, args->role);
  });

  auto* list = user->add_subcommand("list", "List users");
  list->callback([&global] {
    app::Workspace ws = global.open_workspace();
    for (const auto& u : catalog::UserStore(ws.catalog()).list()) {
      fmt::print("{}\t{}{}\n", u.name, u.display_name, u.disabled ? "\t(disabled)" : "");
    }
  });
}

}  // namespace tessera::cli
