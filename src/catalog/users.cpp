#include "tessera/catalog/users.hpp"

#include <sodium.h>

#include <fmt/format.h>

#include "catalog/access.hpp"
#include "catalog/sql_util.hpp"
#include "tessera/core/clock.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/sha256.hpp"

namespace tessera::catalog {
namespace {

constexpr std::size_t kMinPasswordLength = 8;
constexpr const char* kUserColumns = "id, name, COALESCE(display_name, ''), disabled, created_at";

void ensure_sodium() {
  static const int status = sodium_init();
  if (status < 0) throw Error(ErrorCode::internal, "libsodium could not initialise");
}

// argon2id with libsodium's interactive limits (about 0.1 s and 64 MiB per hash): a login stays quick
// while an offline guess per candidate costs the same.
std::string hash_password(const std::string& password) {
  ensure_sodium();
  if (password.size() < kMinPasswordLength) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("password must have at least {} characters", kMinPasswordLength));
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw Error(ErrorCode::unavailable, "not enough memory to hash the password");
  }
  return out;
}

User user_from(const Rows& r, size_t row) {
  return User{r.i64(row, 0), r.text(row, 1), r.text(row, 2), r.i64(row, 3) != 0, r.text(row, 4)};
}

void check_user_name(const std::string& name) {
  check_name("user", name);
  for (char c : name) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '@';
    if (!ok) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("user name '{}' may hold only letters, digits and . _ - @", name));
    }
  }
}

std::string token_hash(const std::string& token) { return sha256_hex(token); }

}  // namespace

std::string to_string(Role role) {
  switch (role) {
    case Role::viewer: return "viewer";
    case Role::editor: return "editor";
    case Role::owner: return "owner";
  }
  return "viewer";
}

Role role_from_string(const std::string& text) {
  if (text == "viewer") return Role::viewer;
  if (text == "editor") return Role::editor;
  if (text == "owner") return Role::owner;
  throw Error(ErrorCode::invalid_argument, fmt::format("role '{}' is not one of owner, editor, viewer", text));
}

User UserStore::create(const std::string& name, const std::string& password, const std::string& display_name) {
  check_user_name(name);
  const std::string hash = hash_password(password);
  return CatalogAccess::write(catalog_, [&](Connection& db) {
    if (!db.query("SELECT id FROM users WHERE name = ?", {name}).empty()) {
      throw Error(ErrorCode::conflict, fmt::format("user '{}' already exists", name));
    }
    Rows r = db.query(fmt::format("INSERT INTO users (name, display_name, password_hash, created_at) VALUES (?, ?, ?, ?) "
                                  "RETURNING {}",
                                  kUserColumns),
                      {name, display_name.empty() ? SqlValue(nullptr) : SqlValue(display_name), hash, utc_now_iso()});
    return user_from(r, 0);
  });
}

void UserStore::set_password(const std::string& name, const std::string& password) {
  const std::string hash = hash_password(password);
  CatalogAccess::write(catalog_, [&](Connection& db) {
    if (db.execute("UPDATE users SET password_hash = ? WHERE name = ?", {hash, name}) == 0) {
      throw Error(ErrorCode::not_found, fmt::format("no user '{}'", name));
    }
  });
}

void UserStore::set_disabled(const std::string& name, bool disabled) {
  CatalogAccess::write(catalog_, [&](Connection& db) {
    if (db.execute("UPDATE users SET disabled = ? WHERE name = ?", {std::int64_t{disabled ? 1 : 0}, name}) == 0) {
      throw Error(ErrorCode::not_found, fmt::format("no user '{}'", name));
    }
  });
}

std::optional<User> UserStore::find(const std::string& name) {
  return CatalogAccess::read(catalog_, [&](Connection& db) -> std::optional<User> {
    Rows r = db.query(fmt::format("SELECT {} FROM users WHERE name = ?", kUserColumns), {name});
    if (r.empty()) return std::nullopt;
    return user_from(r, 0);
  });
}

User UserStore::get(Id id) {
  return CatalogAccess::read(catalog_, [&](Connection& db) {
    Rows r = db.query(fmt::format("SELECT {} FROM users WHERE id = ?", kUserColumns), {id});
    if (r.empty()) throw Error(ErrorCode::not_found, fmt::format("no user with id {}", id));
    return user_from(r, 0);
  });
}

std::vector<User> UserStore::list() {
  return CatalogAccess::read(catalog_, [&](Connection& db) {
    Rows r = db.query(fmt::format("SELECT {} FROM users ORDER BY name", kUserColumns));
    std::vector<User> out;
    for (size_t i = 0; i < r.size(); ++i) out.push_back(user_from(r, i));
    return out;
  });
}

std::optional<User> UserStore::verify_password(const std::string& name, const std::string& password) {
  ensure_sodium();
  auto [user, hash] = CatalogAccess::read(catalog_, [&](Connection& db) {
    Rows r = db.query(fmt::format("SELECT {}, password_hash FROM users WHERE name = ?", kUserColumns), {name});
    if (r.empty()) return std::pair<std::optional<User>, std::string>{std::nullopt, ""};
    return std::pair<std::optional<User>, std::string>{user_from(r, 0), r.opt_text(0, 5).value_or("")};
  });
  // The hash is checked outside the catalog mutex: it takes ~0.1 s by design.
  if (!user || user->disabled || hash.empty()) return std::nullopt;
  if (crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) != 0) return std::nullopt;
  return user;
}

IssuedToken UserStore::issue_token(Id user_id, const std::string& label, std::int64_t ttl_seconds) {
  ensure_sodium();
  unsigned char random[32];
  randombytes_buf(random, sizeof random);
  std::string token = "tsr_";
  for (unsigned char b : random) token += fmt::format("{:02x}", b);
  std::optional<std::string> expires;
  if (ttl_seconds > 0) expires = utc_iso_in(static_cast<double>(ttl_seconds));
  const Id id = CatalogAccess::write(catalog_, [&](Connection& db) {
    if (db.query("SELECT id FROM users WHERE id = ?", {user_id}).empty()) {
      throw Error(ErrorCode::not_found, fmt::format("no user with id {}", user_id));
    }
    return db.query("INSERT INTO api_tokens (user_id, token_hash, label, created_at, expires_at) VALUES (?, ?, ?, ?, ?) "
                    "RETURNING id",
                    {user_id, token_hash(token), label, utc_now_iso(), opt(expires)})
        .i64(0, 0);
  });
  return IssuedToken{id, token, expires};
}

std::optional<User> UserStore::user_for_token(const std::string& token) {
  if (!token.starts_with("tsr_")) return std::nullopt;
  return CatalogAccess::read(catalog_, [&](Connection& db) -> std::optional<User> {
    Rows r = db.query(fmt::format("SELECT u.id, u.name, COALESCE(u.display_name, ''), u.disabled, u.created_at "
                                  "FROM api_tokens t JOIN users u ON u.id = t.user_id "
                                  "WHERE t.token_hash = ? AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?)"),
                      {token_hash(token), utc_now_iso()});
    if (r.empty()) return std::nullopt;
    User user = user_from(r, 0);
    if (user.disabled) return std::nullopt;
    return user;
  });
}

bool UserStore::revoke_token(const std::string& token) {
  return CatalogAccess::write(catalog_, [&](Connection& db) {
    return db.execute("UPDATE api_tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
                      {utc_now_iso(), token_hash(token)}) > 0;
  });
}

std::int64_t UserStore::revoke_all_tokens(Id user_id) {
  return CatalogAccess::write(catalog_, [&](Connection& db) {
    return db.execute("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                      {utc_now_iso(), user_id});
  });
}

void UserStore::set_role(Id project_id, Id user_id, Role role) {
  CatalogAccess::write(catalog_, [&](Connection& db) {
    if (db.query("SELECT id FROM projects WHERE id = ?", {project_id}).empty()) {
      throw Error(ErrorCode::not_found, fmt::format("no project with id {}", project_id));
    }
    if (db.query("SELECT id FROM users WHERE id = ?", {user_id}).empty()) {
      throw Error(ErrorCode::not_found, fmt::format("no user with id {}", user_id));
    }
    db.execute("DELETE FROM memberships WHERE project_id = ? AND user_id = ?", {project_id, user_id});
    db.execute("INSERT INTO memberships (project_id, user_id, role) VALUES (?, ?, ?)",
               {project_id, user_id, to_string(role)});
  });
}

void UserStore::remove_member(Id project_id, Id user_id) {
  CatalogAccess::write(catalog_, [&](Connection& db) {
    db.execute("DELETE FROM memberships WHERE project_id = ? AND user_id = ?", {project_id, user_id});
  });
}

std::optional<Role> UserStore::role_in(Id project_id, Id user_id) {
  return CatalogAccess::read(catalog_, [&](Connection& db) -> std::optional<Role> {
    Rows r = db.query("SELECT role FROM memberships WHERE project_id = ? AND user_id = ?", {project_id, user_id});
    if (r.empty()) return std::nullopt;
    return role_from_string(r.text(0, 0));
  });
}

std::vector<Member> UserStore::members(Id project_id) {
  return CatalogAccess::read(catalog_, [&](Connection& db) {
    Rows r = db.query("SELECT u.id, u.name, COALESCE(u.display_name, ''), u.disabled, u.created_at, m.role "
                      "FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.project_id = ? ORDER BY u.name",
                      {project_id});
    std::vector<Member> out;
    for (size_t i = 0; i < r.size(); ++i) out.push_back(Member{user_from(r, i), role_from_string(r.text(i, 5))});
    return out;
  });
}

std::vector<ProjectAccess> UserStore::projects_of(Id user_id) {
  return CatalogAccess::read(catalog_, [&](Connection& db) {
    Rows r = db.query("SELECT p.id, p.name, p.description, p.created_at, m.role "
                      "FROM memberships m JOIN projects p ON p.id = m.project_id WHERE m.user_id = ? ORDER BY p.name",
                      {user_id});
    std::vector<ProjectAccess> out;
    for (size_t i = 0; i < r.size(); ++i) {
      out.push_back(ProjectAccess{Project{r.i64(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3)},
                                  role_from_string(r.text(i, 4))});
    }
    return out;
  });
}

}  // namespace tessera::catalog
