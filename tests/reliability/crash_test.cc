// Crash consistency (issue "Reliability", item 2): a large delete runs in a child process that
// is killed with SIGKILL at a random moment, and twice while it is stopped half-way through its
// transaction; the reopened database must equal the state before
// the delete or the state after it, never something in between, with no dangling reference.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include "cascade/database.h"
#include "generate.h"
#include "support/backends.h"
#include "support/dump.h"
#include "support/process.h"

namespace cascade {
namespace {

using cascade::testing::Child;
using cascade::testing::dangling_references;
using cascade::testing::dump;
using cascade::testing::ScratchDatabase;

constexpr int kSize = 4000;  // posts: ~400 authors, comments, tags, editors
constexpr int kKills = 6;

class CrashTest : public ::testing::TestWithParam<std::string> {
 protected:
  // A database holding the generated data: on SQLite a copy of one generated file, on
  // PostgreSQL a new schema generated again (same seed, same rows).
  std::unique_ptr<ScratchDatabase> fresh_database() {
    auto scratch = std::make_unique<ScratchDatabase>(GetParam());
    if (GetParam() == "sqlite") {
      if (template_file_.empty()) {
        template_file_ = template_dir_.file("template.db");
        Database db = Database::open(testing::blog_shop_registry(), "sqlite:///" + template_file_);
        db.migrate();
        blog_shop::generate(db, kSize);
      }  // closing the only connection checkpoints the WAL into the file
      std::string url = scratch->url();
      std::filesystem::copy_file(template_file_, url.substr(std::string("sqlite:///").size()));
      return scratch;
    }
    Database db = Database::open(testing::blog_shop_registry(), scratch->url());
    db.migrate();
    blog_shop::generate(db, kSize);
    return scratch;
  }

  static std::int64_t author_count(ScratchDatabase& s) {
    auto c = s.connect();
    return testing::count_rows(*c, "blog_author");
  }

  // Starts the delete of every author; returns once it is about to begin (with `pause`: once
  // it has stopped half-way, inside its transaction).
  static std::unique_ptr<Child> start_delete(ScratchDatabase& s, std::int64_t authors,
                                             bool pause = false) {
    std::vector<std::string> args{RELIABILITY_WORKER_PATH, "delete", s.url(), "1",
                                  std::to_string(authors), "0"};
    if (pause) args.emplace_back("pause");
    auto child = std::make_unique<Child>(args);
    EXPECT_TRUE(child->started());
    std::string ready = child->read_line();
    EXPECT_EQ(ready.substr(0, 5), "ready") << child->err();
    auto at = ready.find("backend=");
    backend_ = at == std::string::npos ? "" : ready.substr(at + 8);
    if (pause) {
      EXPECT_EQ(child->read_line(), "paused") << child->err();
    }
    return child;
  }

  // Kills the worker and waits until its PostgreSQL server process is gone too: a COMMIT the
  // worker sent just before it died may still be completing there.
  static void kill_and_wait(ScratchDatabase& s, Child& victim) {
    victim.kill(SIGKILL);
    victim.wait();
    if (backend_.empty()) return;
    auto c = s.connect();
    for (int i = 0; i < 600; ++i) {
      auto rows = c->query("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = " + backend_);
      rows->next();
      if (rows->get(0).as_integer() == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "the killed worker's server process " << backend_ << " is still there";
  }

  static void expect_consistent(db::Connection& c) {
    EXPECT_EQ(dangling_references(c), 0);
    if (c.features().vendor == "sqlite") {
      auto integrity = c.query("PRAGMA integrity_check");
      ASSERT_TRUE(integrity->next());
      EXPECT_EQ(integrity->get(0).as_text(), "ok");
      EXPECT_FALSE(c.query("PRAGMA foreign_key_check")->next());
    }
  }

  testing::TempDir template_dir_;
  std::string template_file_;
  static inline std::string backend_;  // the last worker's PostgreSQL server process
};

TEST_P(CrashTest, AKilledDeleteLeavesTheStateBeforeOrTheStateAfter) {
  // The reference run: the delete completes; its duration bounds the kill points.
  auto reference = fresh_database();
  std::int64_t authors = author_count(*reference);
  std::string before = dump(*reference->connect());
  auto start = std::chrono::steady_clock::now();
  auto child = start_delete(*reference, authors);
  ASSERT_EQ(child->wait(), 0) << child->err();
  auto duration = std::chrono::steady_clock::now() - start;
  std::string after = dump(*reference->connect());
  ASSERT_NE(before, after);
  ASSERT_EQ(author_count(*reference), 0);

  std::random_device rd;
  unsigned seed = rd();
  SCOPED_TRACE(
      "seed " + std::to_string(seed) + ", reference delete took " +
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(duration).count()) +
      " ms");
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::int64_t> at(
      0, std::chrono::duration_cast<std::chrono::microseconds>(duration).count());
  int saw_before = 0, saw_after = 0;
  auto scratch = fresh_database();
  for (int run = 0; run < kKills; ++run) {
    auto victim = start_delete(*scratch, authors);
    std::this_thread::sleep_for(std::chrono::microseconds(at(rng)));
    kill_and_wait(*scratch, *victim);
    auto c = scratch->connect();
    std::string state = dump(*c);
    SCOPED_TRACE("run " + std::to_string(run));
    EXPECT_TRUE(state == before || state == after) << "the database is in between";
    expect_consistent(*c);
    if (state == before) {
      ++saw_before;
    } else {
      ++saw_after;
      c.reset();
      scratch = fresh_database();  // the next run needs something to delete again
    }
  }
  // Kills that certainly land inside the transaction, after some of its statements ran: the
  // delete is stopped half-way through its steps and killed there.
  for (int run = 0; run < 2; ++run) {
    auto victim = start_delete(*scratch, authors, true);
    kill_and_wait(*scratch, *victim);
    auto c = scratch->connect();
    SCOPED_TRACE("kill inside the transaction, run " + std::to_string(run));
    EXPECT_TRUE(dump(*c) == before) << "a delete killed inside its transaction left changes";
    expect_consistent(*c);
  }
  RecordProperty("killed_before_commit", saw_before);
  RecordProperty("killed_after_commit", saw_after);
  std::cout << "[          ] " << saw_before << " kill(s) before the commit, " << saw_after
            << " after\n";
}

INSTANTIATE_TEST_SUITE_P(Backends, CrashTest,
                         ::testing::ValuesIn(::cascade::testing::test_backends()),
                         ::cascade::testing::backend_name);

}  // namespace
}  // namespace cascade
