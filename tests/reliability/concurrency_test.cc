// Concurrency (issue "Reliability", item 3): two processes delete overlapping cascades while a
// third inserts posts and comments under the rows being deleted. No error may escape but the
// documented LockError, which the workers retry (tests/reliability/worker.cc); an insert under
// a parent already deleted fails on its foreign key (the inserter counts those); and at the end
// no row points at a deleted parent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "cascade/database.h"
#include "generate.h"
#include "support/backends.h"
#include "support/dump.h"
#include "support/process.h"

namespace cascade {
namespace {

using cascade::testing::BackendTest;
using cascade::testing::Child;
using cascade::testing::count_rows;
using cascade::testing::dangling_references;

class ConcurrencyTest : public BackendTest {};
CASCADE_ON_EVERY_BACKEND(ConcurrencyTest);

TEST_P(ConcurrencyTest, OverlappingDeletesAndInsertsUnderThemLeaveNoDanglingChild) {
  std::int64_t authors = 0, posts = 0;
  {
    Database db = blog_shop();
    auto counts = blog_shop::generate(db, 1200);
    authors = counts.authors;
    posts = counts.posts;
  }
  ASSERT_GE(authors, 60);
  // SQLite waits up to 10 s for the writer lock (the busy timeout); the default is 5 s.
  std::string url = sqlite() ? scratch.url_with("timeout=10000") : scratch.url();
  std::string two_thirds = std::to_string(authors * 2 / 3);
  std::string one_third = std::to_string(authors / 3);
  // A deletes authors upwards from 1 to 2/3, B downwards from the last to 1/3: they meet in the
  // middle third, where both try to delete the same rows.
  Child a({RELIABILITY_WORKER_PATH, "delete", url, "1", two_thirds, "3"});
  Child b({RELIABILITY_WORKER_PATH, "delete", url, std::to_string(authors), one_third, "3"});
  Child inserter({RELIABILITY_WORKER_PATH, "insert", url, "2500", std::to_string(authors),
                  std::to_string(posts), "7"});
  for (Child* c : {&a, &b, &inserter}) ASSERT_EQ(c->read_line().substr(0, 5), "ready") << c->err();
  std::string a_done = a.read_line(std::chrono::minutes(3));
  std::string b_done = b.read_line(std::chrono::minutes(3));
  std::string i_done = inserter.read_line(std::chrono::minutes(3));
  EXPECT_EQ(a.wait(), 0) << a.err();
  EXPECT_EQ(b.wait(), 0) << b.err();
  EXPECT_EQ(inserter.wait(), 0) << inserter.err();
  EXPECT_EQ(a_done.rfind("done deleted=", 0), 0u) << a_done;
  EXPECT_EQ(b_done.rfind("done deleted=", 0), 0u) << b_done;
  EXPECT_EQ(i_done.rfind("done inserted=", 0), 0u) << i_done;
  std::cout << "[          ] deleter A: " << a_done << "\n[          ] deleter B: " << b_done
            << "\n[          ] inserter: " << i_done << "\n";

  if (sqlite()) {
    // SQLite's busy handler waited for the other writers: no lock error reached a worker (the
    // retries are for PostgreSQL's deadlock detection, which picks a victim).
    for (const std::string* line : {&a_done, &b_done, &i_done}) {
      EXPECT_THAT(*line, ::testing::EndsWith(" retries=0"));
    }
  }

  auto c = connect();
  // Every author was deleted by one of the two; so were all their posts and comments, including
  // the ones the inserter added before its parent went.
  EXPECT_EQ(count_rows(*c, "blog_author"), 0);
  EXPECT_EQ(count_rows(*c, "blog_post"), 0);
  EXPECT_EQ(count_rows(*c, "blog_comment"), 0);
  EXPECT_EQ(count_rows(*c, "blog_post_tags"), 0);
  EXPECT_EQ(dangling_references(*c), 0);
  if (sqlite()) {
    EXPECT_FALSE(c->query("PRAGMA foreign_key_check")->next());
  }
}

}  // namespace
}  // namespace cascade
