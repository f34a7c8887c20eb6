// Atomic blocks: nesting with savepoints, rollback on exceptions, on_commit callbacks, and a
// deferred foreign key failing at commit.
#include <gtest/gtest.h>

#include <stdexcept>

#include "cascade/db/transaction.h"
#include "cascade/error.h"
#include "support/test_db.h"

namespace cascade::db {
namespace {

using cascade::testing::count_rows;

std::unique_ptr<Connection> connection_with_table() {
  auto c = Connection::open("sqlite://:memory:");
  c->execute("CREATE TABLE t (v integer)");
  return c;
}

void insert(Connection& c, int v) {
  Value value(v);
  c.execute("INSERT INTO t VALUES (?)", std::span(&value, 1));
}

TEST(Atomic, CommitKeepsTheWrites) {
  auto c = connection_with_table();
  {
    Atomic tx(*c);
    insert(*c, 1);
    EXPECT_EQ(c->atomic_depth(), 1);
    tx.commit();
  }
  EXPECT_EQ(c->atomic_depth(), 0);
  EXPECT_EQ(count_rows(*c, "t"), 1);
}

TEST(Atomic, AnExceptionRollsBackAndPropagates) {
  auto c = connection_with_table();
  EXPECT_THROW(atomic(*c,
                      [&] {
                        insert(*c, 1);
                        throw std::runtime_error("boom");
                      }),
               std::runtime_error);
  EXPECT_EQ(count_rows(*c, "t"), 0);
  EXPECT_FALSE(c->in_atomic_block());
  insert(*c, 2);  // the connection is usable afterwards
  EXPECT_EQ(count_rows(*c, "t"), 1);
}

TEST(Atomic, InnerFailureRollsBackToItsSavepointOnly) {
  auto c = connection_with_table();
  atomic(*c, [&] {
    insert(*c, 1);
    try {
      atomic(*c, [&] {
        insert(*c, 2);
        EXPECT_EQ(c->atomic_depth(), 2);
        throw std::runtime_error("inner");
      });
    } catch (const std::runtime_error&) {
    }
    EXPECT_EQ(c->atomic_depth(), 1);
    insert(*c, 3);
  });
  auto rows = c->query("SELECT v FROM t ORDER BY v");
  std::vector<std::int64_t> got;
  while (rows->next()) got.push_back(rows->get(0).as_integer());
  EXPECT_EQ(got, (std::vector<std::int64_t>{1, 3}));
}

TEST(Atomic, OuterFailureUndoesCommittedInnerBlocks) {
  auto c = connection_with_table();
  EXPECT_THROW(atomic(*c,
                      [&] {
                        atomic(*c, [&] { insert(*c, 1); });
                        throw std::runtime_error("outer");
                      }),
               std::runtime_error);
  EXPECT_EQ(count_rows(*c, "t"), 0);
}

TEST(Atomic, OnCommitRunsAfterTheOutermostCommitOnly) {
  auto c = connection_with_table();
  std::vector<std::string> log;
  atomic(*c, [&] {
    c->on_commit([&] { log.push_back("outer"); });
    atomic(*c, [&] { c->on_commit([&] { log.push_back("inner"); }); });
    EXPECT_TRUE(log.empty());
  });
  EXPECT_EQ(log, (std::vector<std::string>{"outer", "inner"}));
}

TEST(Atomic, OnCommitCallbacksOfARolledBackBlockAreDropped) {
  auto c = connection_with_table();
  std::vector<std::string> log;
  atomic(*c, [&] {
    c->on_commit([&] { log.push_back("kept"); });
    try {
      atomic(*c, [&] {
        c->on_commit([&] { log.push_back("dropped"); });
        throw std::runtime_error("x");
      });
    } catch (const std::runtime_error&) {
    }
  });
  EXPECT_EQ(log, std::vector<std::string>{"kept"});
  // Outside a transaction the callback runs at once.
  c->on_commit([&] { log.push_back("now"); });
  EXPECT_EQ(log.back(), "now");
}

TEST(Atomic, ADeferredForeignKeyFailingAtCommitRollsEverythingBack) {
  auto c = Connection::open("sqlite://:memory:");
  c->execute("CREATE TABLE parent (id integer PRIMARY KEY)");
  c->execute(
      "CREATE TABLE child (id integer PRIMARY KEY, parent_id integer NOT NULL REFERENCES "
      "parent (id) DEFERRABLE INITIALLY DEFERRED)");
  c->execute("INSERT INTO parent (id) VALUES (1)");
  c->execute("INSERT INTO child (id, parent_id) VALUES (1, 1)");
  try {
    atomic(*c, [&] {
      // Inside the transaction the dangling reference is allowed until commit.
      c->execute("DELETE FROM parent WHERE id = 1");
      c->execute("INSERT INTO child (id, parent_id) VALUES (2, 1)");
    });
    FAIL() << "expected IntegrityError at commit";
  } catch (const IntegrityError& e) {
    EXPECT_NE(std::string(e.what()).find("FOREIGN KEY constraint failed"), std::string::npos);
  }
  EXPECT_FALSE(c->in_atomic_block());
  EXPECT_EQ(count_rows(*c, "parent"), 1);
  EXPECT_EQ(count_rows(*c, "child"), 1);
  c->execute("INSERT INTO parent (id) VALUES (2)");  // still usable
  EXPECT_EQ(count_rows(*c, "parent"), 2);
}

TEST(Atomic, ReturnsTheFunctionsResult) {
  auto c = connection_with_table();
  int v = atomic(*c, [&] {
    insert(*c, 7);
    return 7;
  });
  EXPECT_EQ(v, 7);
}

}  // namespace
}  // namespace cascade::db
