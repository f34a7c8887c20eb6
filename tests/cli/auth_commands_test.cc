// `cascade createsuperuser` and `cascade changepassword`: on a terminal (through a pty), with
// --no-input, and the refusals; the user they leave logs in with the password given.
#include <gtest/gtest.h>

#include "cascade/database.h"
#include "cascade/web/auth.h"
#include "cli/auth_commands.h"
#include "support/assertions.h"
#include "support/process.h"
#include "support/pty.h"
#include "support/test_db.h"

namespace cascade::testing {
namespace {

const std::string kTool = CASCADE_TOOL_PATH;
const std::string kBlogShop = BLOG_SHOP_PATH;

struct AuthProject {
  TempDir dir;
  std::string url = "sqlite:///" + dir.file("auth.db");
  AuthProject() { run_process({kBlogShop, "--database", url, "migrate"}); }
  std::optional<web::User> login(const std::string& user, const std::string& password) {
    Database db = Database::open(web::auth_registry(), url);
    return web::Users(db).authenticate(user, password);
  }
};

TEST(CreateSuperuser, NoInputTakesThePasswordFromTheEnvironment) {
  AuthProject p;
  auto r = run_process({"/usr/bin/env", "CASCADE_SUPERUSER_PASSWORD=s3cret-pw", kBlogShop,
                        "--database", p.url, "createsuperuser", "--no-input", "--username", "admin",
                        "--email", "admin@example.com"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Superuser created successfully.\n");
  auto admin = p.login("admin", "s3cret-pw");
  ASSERT_TRUE(admin);
  EXPECT_TRUE(admin->is_superuser);
  EXPECT_TRUE(admin->is_staff);
  EXPECT_EQ(admin->email, "admin@example.com");
  // Taken username, missing password, missing username.
  auto again = run_process({"/usr/bin/env", "CASCADE_SUPERUSER_PASSWORD=x", kBlogShop, "--database",
                            p.url, "createsuperuser", "--no-input", "--username", "admin"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_CONTAINS(again.err, "A user with that username already exists.");
  auto no_password = run_process(
      {kBlogShop, "--database", p.url, "createsuperuser", "--no-input", "--username", "b"});
  EXPECT_EQ(no_password.exit_code, 1);
  EXPECT_CONTAINS(no_password.err, "CASCADE_SUPERUSER_PASSWORD");
  auto no_name = run_process({"/usr/bin/env", "CASCADE_SUPERUSER_PASSWORD=x", kBlogShop,
                              "--database", p.url, "createsuperuser", "--no-input"});
  EXPECT_EQ(no_name.exit_code, 1);
  EXPECT_CONTAINS(no_name.err, "You must use --username with --no-input.");
  // Without a terminal and without --no-input nothing is asked.
  auto skipped = run_process({kBlogShop, "--database", p.url, "createsuperuser"});
  EXPECT_EQ(skipped.exit_code, 1);
  EXPECT_CONTAINS(skipped.err, "not running in a TTY");
}

TEST(CreateSuperuser, AsksOnATerminalWithoutEchoingThePassword) {
  AuthProject p;
  PtyProcess tool({kBlogShop, "--database", p.url, "createsuperuser"});
  ASSERT_TRUE(tool.started());
  tool.read_until("Username: ");
  tool.send("root\n");
  tool.read_until("Email address: ");
  tool.send("root@example.com\n");
  tool.read_until("Password: ");
  tool.send("short\n");
  tool.read_until("Password (again): ");
  tool.send("short\n");
  std::string refused = tool.read_until("Password: ");
  EXPECT_CONTAINS(refused, "This password is too short. It must contain at least 8 characters.");
  EXPECT_EQ(refused.find("short"), refused.find("short."));  // the typed password is not echoed
  tool.send("long enough pw\n");
  tool.read_until("Password (again): ");
  tool.send("long enough pw\n");
  EXPECT_CONTAINS(tool.read_until("successfully"), "Superuser created successfully");
  EXPECT_EQ(tool.wait(), 0);
  EXPECT_TRUE(p.login("root", "long enough pw"));
}

TEST(ChangePassword, ReadsTheNewPasswordTwice) {
  AuthProject p;
  ASSERT_EQ(run_process({"/usr/bin/env", "CASCADE_SUPERUSER_PASSWORD=old-password", kBlogShop,
                         "--database", p.url, "createsuperuser", "--no-input", "--username", "ann"})
                .exit_code,
            0);
  auto r = run_process({"/bin/sh", "-c",
                        "printf 'new-password\\nnew-password\\n' | \"$0\" --database \"$1\" "
                        "changepassword ann",
                        kBlogShop, p.url});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.out, "Password changed successfully for user 'ann'");
  EXPECT_FALSE(p.login("ann", "old-password"));
  EXPECT_TRUE(p.login("ann", "new-password"));
  auto mismatch = run_process({"/bin/sh", "-c",
                               "printf 'aaaaaaaaa\\nbbbbbbbbb\\n' | \"$0\" --database \"$1\" "
                               "changepassword ann",
                               kBlogShop, p.url});
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_CONTAINS(mismatch.err, "Your passwords didn't match.");
  auto nobody = run_process({kBlogShop, "--database", p.url, "changepassword", "nobody"});
  EXPECT_EQ(nobody.exit_code, 1);
  EXPECT_CONTAINS(nobody.err, "user 'nobody' does not exist");
  EXPECT_TRUE(p.login("ann", "new-password"));
}

TEST(PasswordValidation, DjangosDefaultValidators) {
  EXPECT_EQ(cli::password_problem("1234567", "x"),
            "This password is too short. It must contain at least 8 characters.");
  EXPECT_EQ(cli::password_problem("12345678", "x"), "This password is entirely numeric.");
  EXPECT_EQ(cli::password_problem("Admin2024", "admin"),
            "The password is too similar to the username.");
  EXPECT_EQ(cli::password_problem("correct horse", "admin"), "");
}

}  // namespace
}  // namespace cascade::testing
