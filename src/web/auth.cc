#include "cascade/web/auth.h"

#include "cascade/deletion/audit.h"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "cascade/db/schema.h"
#include "cascade/error.h"
#include "cascade/model/registry.h"
#include "cascade/query/context.h"
#include "cascade/query/manager.h"
#include "cascade/query/queryset.h"
#include "model/own_fields.h"
#include "web/crypto.h"

namespace cascade::web {
namespace {

constexpr std::string_view kAlgorithm = "pbkdf2_sha256";
constexpr std::size_t kSaltLength = 22;  // Django: 128 bits of entropy over [A-Za-z0-9]

std::string pbkdf2(std::string_view password, std::string_view salt, int iterations) {
  unsigned char digest[32];
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(), sizeof digest,
                        digest) != 1) {
    throw Error("PBKDF2 failed (OpenSSL)");
  }
  unsigned char encoded[64];
  int n = EVP_EncodeBlock(encoded, digest, sizeof digest);
  return std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(n));
}

std::string encode(std::string_view password, std::string_view salt, int iterations) {
  return std::string(kAlgorithm) + "$" + std::to_string(iterations) + "$" + std::string(salt) +
         "$" + pbkdf2(password, salt, iterations);
}

using own_fields::field;
using own_fields::text;

Field flag(std::string name, bool default_value) {
  Field f = field(std::move(name), FieldType::Boolean);
  f.default_value = Value(default_value);
  return f;
}

Field key_to(std::string name, std::string to) {
  Field f = field(std::move(name), FieldType::ForeignKey);
  f.to = std::move(to);
  f.on_delete = OnDelete::Cascade;
  return f;
}

const ModelMeta& model(const std::string& name) {
  return auth_registry().get("cascade_auth." + name);
}

User user_of(const Instance& row) {
  User u;
  u.id = row.pk();
  u.username = row.get("username").as_text();
  u.email = row.get("email").is_null() ? std::string() : row.get("email").as_text();
  u.is_active = row.get("is_active").as_bool();
  u.is_staff = row.get("is_staff").as_bool();
  u.is_superuser = row.get("is_superuser").as_bool();
  return u;
}

}  // namespace

std::string make_password(std::string_view password, int iterations) {
  if (iterations < 1) throw ValueError("a password hash needs at least one iteration");
  return encode(password, crypto::random_string(kSaltLength), iterations);
}

PasswordCheck check_password(std::string_view password, std::string_view encoded,
                             int target_iterations) {
  // algorithm$iterations$salt$hash
  std::size_t a = encoded.find('$');
  std::size_t b = a == std::string_view::npos ? a : encoded.find('$', a + 1);
  std::size_t c = b == std::string_view::npos ? b : encoded.find('$', b + 1);
  if (c == std::string_view::npos || encoded.substr(0, a) != kAlgorithm) return {};
  std::string_view count = encoded.substr(a + 1, b - a - 1);
  std::string_view salt = encoded.substr(b + 1, c - b - 1);
  int iterations = 0;
  auto [p, ec] = std::from_chars(count.data(), count.data() + count.size(), iterations);
  if (ec != std::errc() || p != count.data() + count.size() || iterations < 1 || salt.empty()) {
    return {};
  }
  PasswordCheck out;
  out.valid = crypto::constant_time_equal(encode(password, salt, iterations), encoded);
  out.needs_rehash = out.valid && (iterations != target_iterations || salt.size() < kSaltLength);
  return out;
}

const Registry& auth_registry() {
  static const Registry* registry = [] {
    auto* r = new Registry();
    ModelMeta user("cascade_auth", "User");
    user.db_table = "cascade_user";
    Field username = text("username", 150);
    username.unique = true;
    Field email = text("email", 254);
    email.blank = true;
    Field last_login = field("last_login", FieldType::DateTime);
    last_login.null = true;
    user.fields = {username,
                   text("password", 128),
                   email,
                   flag("is_active", true),
                   flag("is_staff", false),
                   flag("is_superuser", false),
                   last_login,
                   field("date_joined", FieldType::DateTime)};
    r->add(std::move(user));

    ModelMeta group("cascade_auth", "Group");
    group.db_table = "cascade_group";
    Field name = text("name", 150);
    name.unique = true;
    group.fields = {name};
    r->add(std::move(group));

    ModelMeta member("cascade_auth", "UserGroup");
    member.db_table = "cascade_user_groups";
    member.fields = {key_to("user", "User"), key_to("group", "Group")};
    member.unique_together = {{"user", "group"}};
    r->add(std::move(member));

    ModelMeta group_perm("cascade_auth", "GroupPermission");
    group_perm.db_table = "cascade_group_permissions";
    group_perm.fields = {key_to("group", "Group"), text("codename", 255)};
    group_perm.unique_together = {{"group", "codename"}};
    r->add(std::move(group_perm));

    ModelMeta user_perm("cascade_auth", "UserPermission");
    user_perm.db_table = "cascade_user_permissions";
    user_perm.fields = {key_to("user", "User"), text("codename", 255)};
    user_perm.unique_together = {{"user", "codename"}};
    r->add(std::move(user_perm));
    r->finalize();
    return r;
  }();
  return *registry;
}

void migrate_auth(db::Connection& connection) { db::migrate(connection, auth_registry()); }

std::string permission_codename(std::string_view action, const ModelMeta& m) {
  std::string name = m.object_name;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return m.app_label + "." + std::string(action) + "_" + name;
}

User Users::create_user(const std::string& username, const std::string& password,
                        const std::string& email, int iterations) {
  if (username.empty()) throw ValueError("The given username must be set");
  if (password.empty()) throw ValueError("The password must not be empty");
  if (find(username)) throw ValueError("A user with that username already exists.");
  Instance row(model("User"));
  row.set("username", Value(username));
  row.set("password", Value(make_password(password, iterations)));
  row.set("email", Value(email));
  row.set("date_joined", Value(DateTime::now()));
  Manager(db_, model("User")).save(row);
  return user_of(row);
}

User Users::create_superuser(const std::string& username, const std::string& password,
                             const std::string& email, int iterations) {
  User u = create_user(username, password, email, iterations);
  set_flags(u, true, true, true);
  u.is_staff = u.is_superuser = true;
  return u;
}

std::optional<User> Users::find(const std::string& username) {
  auto rows = QuerySet(db_, model("User")).filter({{"username", username}}).fetch();
  if (rows.empty()) return std::nullopt;
  return user_of(rows.front());
}

std::optional<User> Users::find(const Value& id) {
  auto row = Manager(db_, model("User")).find(id);
  if (!row) return std::nullopt;
  return user_of(*row);
}

void Users::set_password(const User& user, const std::string& password, int iterations) {
  if (password.empty()) throw ValueError("The password must not be empty");
  QuerySet(db_, model("User"))
      .filter({{"pk", user.id}})
      .update({{"password", Value(make_password(password, iterations))}});
}

void Users::set_flags(const User& user, bool is_active, bool is_staff, bool is_superuser) {
  QuerySet(db_, model("User"))
      .filter({{"pk", user.id}})
      .update({{"is_active", Value(is_active)},
               {"is_staff", Value(is_staff)},
               {"is_superuser", Value(is_superuser)}});
}

std::optional<User> Users::authenticate(const std::string& username, const std::string& password,
                                        int iterations) {
  auto rows = QuerySet(db_, model("User")).filter({{"username", username}}).fetch();
  if (rows.empty()) {
    // The same work as a check, so the time does not tell that the user is missing.
    (void)make_password(password, iterations);
    return std::nullopt;
  }
  const Instance& row = rows.front();
  PasswordCheck check = check_password(password, row.get("password").as_text(), iterations);
  User user = user_of(row);
  if (!check.valid || !user.is_active) return std::nullopt;
  std::vector<std::pair<std::string, Value>> changes{{"last_login", Value(DateTime::now())}};
  if (check.needs_rehash) {
    // An outdated iteration count (or salt) is brought up to date at login, as Django does.
    changes.emplace_back("password", Value(make_password(password, iterations)));
  }
  QuerySet(db_, model("User")).filter({{"pk", user.id}}).update(changes);
  return user;
}

bool Users::has_perm(const User& user, const std::string& codename) {
  if (!user.is_active) return false;
  if (user.is_superuser) return true;
  if (QuerySet(db_, model("UserPermission"))
          .filter({{"user", user.id}, {"codename", codename}})
          .exists()) {
    return true;
  }
  auto groups =
      QuerySet(db_, model("UserGroup")).filter({{"user", user.id}}).values_list({"group"}, true);
  return QuerySet(db_, model("GroupPermission"))
      .filter({{"group__in", groups}, {"codename", codename}})
      .exists();
}

std::vector<std::string> Users::permissions(const User& user) {
  std::set<std::string> out;
  if (!user.is_active) return {};
  for (const auto& row : QuerySet(db_, model("UserPermission"))
                             .filter({{"user", user.id}})
                             .values_list({"codename"}, true)
                             .rows()) {
    out.insert(row[0].as_text());
  }
  auto groups =
      QuerySet(db_, model("UserGroup")).filter({{"user", user.id}}).values_list({"group"}, true);
  for (const auto& row : QuerySet(db_, model("GroupPermission"))
                             .filter({{"group__in", groups}})
                             .values_list({"codename"}, true)
                             .rows()) {
    out.insert(row[0].as_text());
  }
  return {out.begin(), out.end()};
}

void Users::grant(const User& user, const std::string& codename) {
  if (QuerySet(db_, model("UserPermission"))
          .filter({{"user", user.id}, {"codename", codename}})
          .exists()) {
    return;
  }
  Manager(db_, model("UserPermission")).create({{"user", user.id}, {"codename", Value(codename)}});
}

void Users::revoke(const User& user, const std::string& codename) {
  AuditScope housekeeping(db_, AuditSettings{});  // Cascade's own rows: not in the audit log
  QuerySet(db_, model("UserPermission"))
      .filter({{"user", user.id}, {"codename", codename}})
      .hard_remove();
}

Value Users::create_group(const std::string& name, const std::vector<std::string>& codenames) {
  Instance group = Manager(db_, model("Group")).create({{"name", Value(name)}});
  for (const auto& c : codenames) {
    Manager(db_, model("GroupPermission")).create({{"group", group.pk()}, {"codename", Value(c)}});
  }
  return group.pk();
}

void Users::add_to_group(const User& user, const Value& group) {
  Manager(db_, model("UserGroup")).create({{"user", user.id}, {"group", group}});
}

}  // namespace cascade::web
