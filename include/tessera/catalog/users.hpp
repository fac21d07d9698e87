#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tessera/catalog/catalog.hpp"

namespace tessera::catalog {

struct User {
  Id id = 0;
  std::string name;
  std::string display_name;
  bool disabled = false;
  std::string created_at;
};

enum class Role { viewer = 1, editor = 2, owner = 3 };
std::string to_string(Role role);
Role role_from_string(const std::string& text);  // Error{invalid_argument} naming the accepted roles

struct Member {
  User user;
  Role role = Role::viewer;
};

struct ProjectAccess {
  Project project;
  Role role = Role::viewer;
};

struct IssuedToken {
  Id id = 0;
  std::string token;  // shown once; only its SHA-256 is stored
  std::optional<std::string> expires_at;
};

// Users, their passwords (argon2id through libsodium, never stored in clear), API tokens (random 256-bit,
// stored as SHA-256 so a leaked catalog holds no usable token) and project memberships.
class UserStore {
 public:
  explicit UserStore(Catalog& catalog) : catalog_(catalog) {}

  // Error{conflict} if the name is taken; Error{invalid_argument} for an empty name or a password shorter
  // than 8 characters.
  User create(const std::string& name, const std::string& password, const std::string& display_name = "");
  void set_password(const std::string& name, const std::string& password);
  void set_disabled(const std::string& name, bool disabled);
  std::optional<User> find(const std::string& name);
  User get(Id id);  // Error{not_found}
  std::vector<User> list();
  // The user if the password matches and the account is enabled; otherwise nullopt (no hint which part
  // was wrong).
  std::optional<User> verify_password(const std::string& name, const std::string& password);

  // ttl_seconds <= 0: no expiry.
  IssuedToken issue_token(Id user_id, const std::string& label, std::int64_t ttl_seconds = 0);
  // The enabled user a token belongs to, unless it is unknown, revoked or expired.
  std::optional<User> user_for_token(const std::string& token);
  bool revoke_token(const std::string& token);  // false if unknown
  std::int64_t revoke_all_tokens(Id user_id);

  // Memberships. Setting a role for a member replaces it.
  void set_role(Id project_id, Id user_id, Role role);
  void remove_member(Id project_id, Id user_id);
  std::optional<Role> role_in(Id project_id, Id user_id);
  std::vector<Member> members(Id project_id);
  std::vector<ProjectAccess> projects_of(Id user_id);

 private:
  Catalog& catalog_;
};

}  // namespace tessera::catalog
