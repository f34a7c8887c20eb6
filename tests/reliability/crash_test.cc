// Crash consistency (issue "Reliability", item 2): a large delete runs in a child process that
// is killed with SIGKILL at a random moment; the reopened database must equal the state before
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

  // Starts the delete of every author; returns once it is about to begin.
  static std::unique_ptr<Child> start_delete(ScratchDatabase& s, std::int64_t authors) {
    auto child = std::make_unique<Child>(std::vector<std::string>{
        RELIABILITY_WORKER_PATH, "delete", s.url(), "1", std::to_string(authors), "0"});
    EXPECT_TRUE(child->started());
    EXPECT_EQ(child->read_line(), "ready") << child->err();
    return child;
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
  SCOPED_TRACE("seed " + std::to_string(seed) + ", reference delete took " +
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
    victim->kill(SIGKILL);
    int status = victim->wait();
    auto c = scratch->connect();
    std::string state = dump(*c);
    SCOPED_TRACE("run " + std::to_string(run) + ", worker status " + std::to_string(status));
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
