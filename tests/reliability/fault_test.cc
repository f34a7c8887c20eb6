// Faults in the middle of a delete (issue "Reliability", item 1; spec rule 62: a delete is one
// transaction). Each test injects one fault, expects an error naming its cause, and compares a
// full dump of the database taken before the delete with one taken after: they must be equal.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "cascade/database.h"
#include "cascade/db/transaction.h"
#include "cascade/error.h"
#include "cascade/model/loader.h"
#include "generate.h"
#include "support/backends.h"
#include "support/dump.h"

namespace cascade {
namespace {

using cascade::testing::BackendTest;
using cascade::testing::blog_shop_registry;
using cascade::testing::dangling_references;
using cascade::testing::dump;
using ::testing::HasSubstr;

// The message of the E that `fn` throws; a test failure, and "", when it throws nothing.
template <typename E, typename F>
std::string message_of(F&& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "the delete succeeded";
  return {};
}

// A DO_NOTHING relation (the database refuses at commit) and a soft_cascade tree whose marks
// make rows grow (a full database refuses the update).
const char* kFaultModels = R"(
[models.fault.Owner]
fields.name = { type = "char", max_length = 50 }

[models.fault.Pet]
fields.owner = { type = "foreign_key", to = "Owner", on_delete = "CASCADE" }
fields.vet_owner = { type = "foreign_key", to = "Owner", on_delete = "DO_NOTHING", null = true, related_name = "vet_pets" }

[models.fault.Folder]
delete_policy = "soft_cascade"
fields.name = { type = "char", max_length = 50 }

[models.fault.Doc]
delete_policy = "soft_cascade"
fields.folder = { type = "foreign_key", to = "Folder", on_delete = "CASCADE" }
fields.body = { type = "text" }
)";

const Registry& fault_registry() {
  static Project* project = new Project(parse_project(kFaultModels, "fault.toml"));
  return *project->registry;
}

// The fault models on a scratch database, migrated.
Database fault_db(const cascade::testing::ScratchDatabase& scratch) {
  Database db = Database::open(fault_registry(), scratch.url());
  db.migrate();
  return db;
}

class FaultTest : public BackendTest {
 protected:
  // The blog with ~400 posts and their comments, tags and editors.
  Database blog = [this] {
    Database d = blog_shop();
    blog_shop::generate(d, 400);
    return d;
  }();

  // A second connection's view, so that nothing the failed delete's connection holds can hide
  // a difference.
  std::string fresh_dump() { return dump(*connect()); }
};
CASCADE_ON_EVERY_BACKEND(FaultTest);

TEST_P(FaultTest, AReceiverThrowingHalfWayThroughTheCascadeChangesNothing) {
  // Rule 62. The receiver throws at the middle post's post_delete: comments, tag links and
  // posts have been deleted and editors set to NULL by then.
  std::string before = fresh_dump();
  std::int64_t posts = blog.objects("blog.Post").count();
  ASSERT_GT(posts, 100);
  std::int64_t calls = 0;
  blog.signals().connect(
      Signal::PostDelete,
      [&](const SignalEvent&) {
        if (++calls == posts / 2)
          throw std::runtime_error("receiver gave up at post " + std::to_string(calls));
      },
      &blog.registry().get("blog.Post"));
  std::string error =
      message_of<std::runtime_error>([&] { blog.objects("blog.Author").all().remove(); });
  EXPECT_THAT(error, HasSubstr("receiver gave up at post"));
  EXPECT_EQ(calls, posts / 2);
  EXPECT_EQ(fresh_dump(), before);
  // The connection is usable afterwards.
  EXPECT_EQ(blog.objects("blog.Post").count(), posts);
}

TEST_P(FaultTest, AConstraintFailingAtCommitChangesNothing) {
  // Rule 20: DO_NOTHING leaves the reference to the database, which refuses at commit.
  Database db = fault_db(scratch);
  Manager owners = db.objects("fault.Owner");
  Manager pets = db.objects("fault.Pet");
  Instance ann = owners.create({{"name", "Ann"}});
  Instance bob = owners.create({{"name", "Bob"}});
  for (int i = 0; i < 50; ++i) pets.create({{"owner", ann.pk()}, {"vet_owner", Value()}});
  pets.create({{"owner", bob.pk()}, {"vet_owner", ann.pk()}});  // keeps Ann referenced
  std::string before = fresh_dump();
  std::string error = message_of<IntegrityError>([&] { owners.remove(ann); });
  EXPECT_THAT(error, ::testing::ContainsRegex("FOREIGN KEY|foreign key"));
  EXPECT_FALSE(ann.pk().is_null());  // the instance keeps its key: it was not deleted
  EXPECT_EQ(fresh_dump(), before);
}

TEST_P(FaultTest, ALockHeldTooLongFailsWithALockErrorAndChangesNothing) {
  // Another transaction holds a row of a table the cascade must change. SQLite waits for the
  // busy timeout (200 ms here) then gives up; PostgreSQL waits for lock_timeout. Either way a
  // LockError, and nothing changed.
  auto other = connect();
  db::Atomic holding(*other);
  other->execute("UPDATE " + other->quote_name("blog_comment") + " SET " +
                 other->quote_name("body") + " = " + other->quote_name("body"));
  Database db = Database::open(blog_shop_registry(),
                               scratch.url_with(sqlite() ? "timeout=200" : "lock_timeout=200"));
  auto start = std::chrono::steady_clock::now();
  std::string error = message_of<LockError>([&] { db.objects("blog.Author").all().remove(); });
  EXPECT_THAT(error, ::testing::ContainsRegex("database is locked|lock timeout"));
  // Waited for the timeout rather than failing at once.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(150));
  holding.commit();
  EXPECT_EQ(fresh_dump(), dump(*other));
  EXPECT_GT(db.objects("blog.Author").count(), 0);
}

TEST_P(FaultTest, ALockReleasedWithinTheTimeoutIsWaitedFor) {
  // The delete waits for the other writer rather than failing at once (SQLite: the busy
  // handler, which a deferred transaction could not use once it had read; the delete's
  // transaction is IMMEDIATE for that reason).
  auto other = connect();
  auto holding = std::make_unique<db::Atomic>(*other);
  other->execute("UPDATE " + other->quote_name("blog_comment") + " SET " +
                 other->quote_name("body") + " = " + other->quote_name("body"));
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    holding->commit();
  });
  Database db = Database::open(blog_shop_registry(),
                               sqlite() ? scratch.url_with("timeout=10000") : scratch.url());
  DeleteResult r;
  EXPECT_NO_THROW(r = db.objects("blog.Author").all().remove());
  release.join();
  EXPECT_GT(r.total, 0);
  EXPECT_EQ(db.objects("blog.Author").count(), 0);
  EXPECT_EQ(dangling_references(db.connection()), 0);
}

class SqliteFaultTest : public ::testing::Test {
 protected:
  cascade::testing::ScratchDatabase scratch{"sqlite"};
};

TEST_F(SqliteFaultTest, ADatabaseThatIsFullChangesNothing) {
  // A soft delete writes deleted_at and deletion_id into every row of the tree: the rows grow
  // and need new pages, which a database limited to its present size cannot have.
  Database db = fault_db(scratch);
  Manager folders = db.objects("fault.Folder");
  Manager docs = db.objects("fault.Doc");
  Instance f = folders.create({{"name", "inbox"}});
  db::atomic(db.connection(), [&] {
    for (int i = 0; i < 2000; ++i)
      docs.create({{"folder", f.pk()}, {"body", "text " + std::to_string(i)}});
  });
  std::string before = dump(*scratch.connect());
  auto pages = db.connection().query("PRAGMA page_count");
  pages->next();
  std::int64_t page_count = pages->get(0).as_integer();
  pages.reset();
  db.connection().query("PRAGMA max_page_count = " + std::to_string(page_count))->next();
  std::string error = message_of<OperationalError>([&] { folders.remove(f); });
  EXPECT_THAT(error, HasSubstr("database or disk is full"));
  EXPECT_EQ(dump(*scratch.connect()), before);
  EXPECT_TRUE(f.get("deleted_at").is_null());
  // With room again, the same delete goes through.
  db.connection().query("PRAGMA max_page_count = 1000000")->next();
  EXPECT_EQ(folders.remove(f).total, 2001);
  EXPECT_EQ(db.deleted_objects("fault.Doc").count(), 2000);
}

TEST_F(SqliteFaultTest, TemporaryStorageFullChangesNothing) {
  // A cascade with receivers keeps the keys it will report in temporary tables; when temporary
  // storage is full the delete fails as a whole.
  Database db = Database::open(blog_shop_registry(), scratch.url());
  db.migrate();
  blog_shop::generate(db, 400);
  std::string before = dump(*scratch.connect());
  db.connection().execute("PRAGMA temp_store = FILE");
  db.connection().query("PRAGMA temp.max_page_count = 2")->next();
  db.signals().connect(
      Signal::PreDelete, [](const SignalEvent&) {}, &db.registry().get("blog.Comment"));
  std::string error =
      message_of<OperationalError>([&] { db.objects("blog.Author").all().remove(); });
  EXPECT_THAT(error, HasSubstr("full"));
  EXPECT_EQ(dump(*scratch.connect()), before);
}

// Needs a server process to terminate: instantiated on PostgreSQL only. Without a configured
// server the suite has no instances, as every PostgreSQL instance of the other suites.
class PostgresFaultTest : public FaultTest {};

std::vector<std::string> postgres_only() {
  auto all = cascade::testing::test_backends();
  std::erase(all, std::string("sqlite"));
  return all;
}
INSTANTIATE_TEST_SUITE_P(Backends, PostgresFaultTest, ::testing::ValuesIn(postgres_only()),
                         cascade::testing::backend_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(PostgresFaultTest);

TEST_P(PostgresFaultTest, AConnectionLostMidDeleteChangesNothing) {
  // The server process of the deleting connection is terminated from another session half-way
  // through the cascade; the server rolls the open transaction back.
  Database& db = blog;
  std::string before = fresh_dump();
  auto pid_rows = db.connection().query("SELECT pg_backend_pid()");
  pid_rows->next();
  Value pid = pid_rows->get(0);
  pid_rows.reset();
  auto admin = connect();
  std::int64_t posts = db.objects("blog.Post").count();
  std::int64_t calls = 0;
  db.signals().connect(
      Signal::PostDelete,
      [&](const SignalEvent&) {
        if (++calls != posts / 2) return;
        admin->query("SELECT pg_terminate_backend($1)", std::vector<Value>{pid})->next();
        // Wait until the server process is gone, so that the next statement meets a closed
        // connection rather than racing the signal.
        for (int i = 0; i < 500; ++i) {
          auto r = admin->query("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = $1",
                                std::vector<Value>{pid});
          r->next();
          if (r->get(0).as_integer() == 0) return;
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      },
      &db.registry().get("blog.Post"));
  std::string error =
      message_of<OperationalError>([&] { db.objects("blog.Author").all().remove(); });
  EXPECT_THAT(error, HasSubstr("was lost"));
  EXPECT_THAT(error, HasSubstr("terminat"));
  // The remaining post_delete receivers ran (they need no database); the authors' delete, the
  // next statement, met the closed connection.
  EXPECT_EQ(calls, posts);
  EXPECT_EQ(fresh_dump(), before);
  // The broken connection says so on every further use.
  EXPECT_THROW(db.objects("blog.Post").count(), OperationalError);
}

}  // namespace
}  // namespace cascade
