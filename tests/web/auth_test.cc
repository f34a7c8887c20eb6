// Passwords in Django's format (checked against hashes Debian's Django 3.2 made), users, groups
// and permissions, on each backend.
#include "cascade/web/auth.h"

#include <gtest/gtest.h>

#include "cascade/error.h"
#include "cascade/model/registry.h"
#include "support/assertions.h"
#include "support/backends.h"

namespace cascade::testing {
namespace {

constexpr int kFast = 1000;  // iterations for tests that are not about the count itself

TEST(Passwords, HashesDjangoMadeVerify) {
  // django.contrib.auth.hashers.PBKDF2PasswordHasher().encode('correct horse',
  // 'Zx9ad0gGJPh4Dr3qQy1aJk') in Django 3.2 (260,000 iterations).
  const std::string django =
      "pbkdf2_sha256$260000$Zx9ad0gGJPh4Dr3qQy1aJk$01izhitmZpii9b2CrmdwDnMw4GOOIoVb/RlkABaY/pQ=";
  auto ok = web::check_password("correct horse", django);
  EXPECT_TRUE(ok.valid);
  EXPECT_TRUE(ok.needs_rehash);  // an older count than Cascade's
  EXPECT_FALSE(web::check_password("correct horse ", django).valid);
  EXPECT_FALSE(web::check_password("", django).valid);
  // Non-ASCII passwords are hashed as UTF-8, as Django's force_bytes does.
  EXPECT_TRUE(
      web::check_password(
          "pässwörd ✓",
          "pbkdf2_sha256$1000$c2FsdHNhbHRzYWx0c2FsdA$cvTENSpLodbTGMapJLtTO8JG6SWr3YwjMFmy2kJ3r0M=")
          .valid);
}

TEST(Passwords, NewHashesUseDjangosFormatAndTheCurrentCount) {
  std::string h = web::make_password("s3cret");
  EXPECT_EQ(h.rfind("pbkdf2_sha256$" + std::to_string(web::kPasswordIterations) + "$", 0), 0u);
  auto check = web::check_password("s3cret", h);
  EXPECT_TRUE(check.valid);
  EXPECT_FALSE(check.needs_rehash);
  EXPECT_NE(web::make_password("s3cret", kFast), web::make_password("s3cret", kFast));  // salts
  for (const std::string bad :
       {"", "pbkdf2_sha256", "pbkdf2_sha256$x$salt$hash", "pbkdf2_sha256$0$salt$hash", "md5$$abc",
        "pbkdf2_sha256$1000$$h", "argon2$argon2id$v=19$m=1,t=1,p=1$x$y"}) {
    EXPECT_FALSE(web::check_password("s3cret", bad).valid) << bad;
  }
}

class Auth : public BackendTest {
 protected:
  void SetUp() override {
    db.emplace(Database::open(web::auth_registry(), scratch.url()));
    web::migrate_auth(db->connection());
  }
  std::optional<Database> db;
};
CASCADE_ON_EVERY_BACKEND(Auth);

TEST_P(Auth, UsersAuthenticateAndOutdatedHashesAreRehashedAtLogin) {
  web::Users users(*db);
  web::User ann = users.create_user("ann", "pw-ann", "ann@example.com", kFast);
  EXPECT_FALSE(ann.is_staff);
  EXPECT_THROW(users.create_user("ann", "x", "", kFast), ValueError);
  EXPECT_THROW(users.create_user("", "x", "", kFast), ValueError);
  EXPECT_THROW(users.create_user("bob", "", "", kFast), ValueError);
  EXPECT_FALSE(users.authenticate("ann", "wrong", kFast).has_value());
  EXPECT_FALSE(users.authenticate("nobody", "pw-ann", kFast).has_value());
  auto in = users.authenticate("ann", "pw-ann", 2000);
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->username, "ann");
  // The hash was made with 1,000 iterations; logging in with 2,000 as the target rehashed it.
  auto row = db->objects(web::auth_registry().get("cascade_auth.User")).get(ann.id);
  EXPECT_EQ(row.get("password").as_text().rfind("pbkdf2_sha256$2000$", 0), 0u);
  EXPECT_FALSE(row.get("last_login").is_null());
  users.set_flags(ann, false, false, false);
  EXPECT_FALSE(users.authenticate("ann", "pw-ann", 2000).has_value());  // inactive
  users.set_flags(ann, true, false, false);
  users.set_password(ann, "new", kFast);
  EXPECT_FALSE(users.authenticate("ann", "pw-ann", kFast).has_value());
  EXPECT_TRUE(users.authenticate("ann", "new", kFast).has_value());
}

TEST_P(Auth, PermissionsComeFromTheUserTheirGroupsOrSuperuser) {
  web::Users users(*db);
  web::User root = users.create_superuser("root", "pw", "", kFast);
  web::User ed = users.create_user("ed", "pw", "", kFast);
  web::User viewer = users.create_user("viewer", "pw", "", kFast);
  EXPECT_TRUE(users.has_perm(root, "blog.delete_post"));
  EXPECT_FALSE(users.has_perm(ed, "blog.delete_post"));
  users.grant(ed, "blog.delete_post");
  users.grant(ed, "blog.delete_post");  // once
  EXPECT_TRUE(users.has_perm(ed, "blog.delete_post"));
  EXPECT_FALSE(users.has_perm(ed, "blog.delete_comment"));
  Value editors = users.create_group("editors", {"blog.delete_comment", "blog.view_post"});
  users.add_to_group(ed, editors);
  EXPECT_TRUE(users.has_perm(ed, "blog.delete_comment"));
  EXPECT_EQ(
      users.permissions(ed),
      (std::vector<std::string>{"blog.delete_comment", "blog.delete_post", "blog.view_post"}));
  EXPECT_FALSE(users.has_perm(viewer, "blog.view_post"));
  users.revoke(ed, "blog.delete_post");
  EXPECT_FALSE(users.has_perm(ed, "blog.delete_post"));
  users.set_flags(root, false, true, true);
  auto inactive = users.find(std::string("root"));
  ASSERT_TRUE(inactive);
  EXPECT_FALSE(users.has_perm(*inactive, "blog.delete_post"));
  EXPECT_EQ(web::permission_codename("delete", web::auth_registry().get("cascade_auth.UserGroup")),
            "cascade_auth.delete_usergroup");
}

}  // namespace
}  // namespace cascade::testing
