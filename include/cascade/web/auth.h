// Users, groups, permissions and passwords, as Django's django.contrib.auth (the admin's
// next step builds on them).
//
// Passwords are hashed in Django's format, "pbkdf2_sha256$<iterations>$<salt>$<base64 hash>"
// (PBKDF2-HMAC-SHA256, 32 bytes, through OpenSSL), so hashes made by Django verify here and the
// other way round. A hash with another iteration count still verifies; check_password() says it
// should be rehashed, and authenticate() does so.
//
// Permissions are codenames as Django writes them, "<app>.<action>_<model>" ("blog.delete_post";
// actions: view, delete, restore, purge). A superuser has every permission; an inactive user
// none; other users have theirs and their groups'. The tables (cascade_user, cascade_group,
// cascade_user_groups, cascade_group_permissions, cascade_user_permissions) are models of a
// registry of their own, created by migrate_auth().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cascade/value.h"

namespace cascade {
class Context;
class ModelMeta;
class Registry;
namespace db {
class Connection;
}
}  // namespace cascade

namespace cascade::web {

// The iteration count of Django 6.0's PBKDF2PasswordHasher (2024-12).
inline constexpr int kPasswordIterations = 1200000;

// A new hash of `password` with a random 22-character salt (Django's length).
std::string make_password(std::string_view password, int iterations = kPasswordIterations);

struct PasswordCheck {
  bool valid = false;         // the password matches
  bool needs_rehash = false;  // valid, but not made with `target_iterations` or has a short salt
};
// Compares in constant time; a malformed or unknown-algorithm hash never matches.
PasswordCheck check_password(std::string_view password, std::string_view encoded,
                             int target_iterations = kPasswordIterations);

struct User {
  Value id;
  std::string username;
  std::string email;
  bool is_active = true;
  bool is_staff = false;
  bool is_superuser = false;
};

// The auth tables' models, and their creation where missing.
const Registry& auth_registry();
void migrate_auth(db::Connection& connection);

class Users {
 public:
  explicit Users(Context& db) : db_(db) {}

  // Creates a user; ValueError for an empty or taken username or an empty password.
  User create_user(const std::string& username, const std::string& password,
                   const std::string& email = {}, int iterations = kPasswordIterations);
  // A staff superuser (`cascade createsuperuser`).
  User create_superuser(const std::string& username, const std::string& password,
                        const std::string& email = {}, int iterations = kPasswordIterations);

  std::optional<User> find(const std::string& username);
  std::optional<User> find(const Value& id);
  void set_password(const User& user, const std::string& password,
                    int iterations = kPasswordIterations);
  void set_flags(const User& user, bool is_active, bool is_staff, bool is_superuser);

  // The active user with this username and password, or nullopt. A missing user costs one
  // hash too, so that timing does not tell which usernames exist (as Django's ModelBackend).
  // A valid password hashed with another iteration count is rehashed; last_login is set.
  std::optional<User> authenticate(const std::string& username, const std::string& password,
                                   int iterations = kPasswordIterations);

  // ---- permissions ----
  bool has_perm(const User& user, const std::string& codename);
  std::vector<std::string> permissions(const User& user);  // sorted; superusers: none listed
  void grant(const User& user, const std::string& codename);
  void revoke(const User& user, const std::string& codename);
  Value create_group(const std::string& name, const std::vector<std::string>& codenames = {});
  void add_to_group(const User& user, const Value& group);

 private:
  Context& db_;
};

// "<app>.<action>_<model>", lower-case: permission_codename("delete", post_meta) ==
// "blog.delete_post".
std::string permission_codename(std::string_view action, const ModelMeta& model);

}  // namespace cascade::web
