// Atomic blocks on every backend: nesting with savepoints, rollback on exceptions, on_commit
// callbacks, a deferred foreign key failing at commit, and PostgreSQL's aborted transactions.
#include <gtest/gtest.h>

#include <stdexcept>

#include "cascade/db/transaction.h"
#include "cascade/error.h"
#include "support/backends.h"

namespace cascade::db {
namespace {

using cascade::testing::count_rows;

class AtomicTest : public cascade::testing::BackendTest {
 protected:
  std::unique_ptr<Connection> c = connect();
  void SetUp() override { c->execute("CREATE TABLE t (v integer UNIQUE)"); }
  void insert(int v) {
    Value value(v);
    c->execute("INSERT INTO t VALUES (" + c->placeholder(1) + ")", std::span(&value, 1));
  }
  std::vector<std::int64_t> values() {
    auto rows = c->query("SELECT v FROM t ORDER BY v");
    std::vector<std::int64_t> got;
    while (rows->next()) got.push_back(rows->get(0).as_integer());
    return got;
  }
};
CASCADE_ON_EVERY_BACKEND(AtomicTest);

TEST_P(AtomicTest, CommitKeepsTheWrites) {
  {
    Atomic tx(*c);
    insert(1);
    EXPECT_EQ(c->atomic_depth(), 1);
    tx.commit();
  }
  EXPECT_EQ(c->atomic_depth(), 0);
  EXPECT_EQ(count_rows(*c, "t"), 1);
}

TEST_P(AtomicTest, AnExceptionRollsBackAndPropagates) {
  EXPECT_THROW(atomic(*c,
                      [&] {
                        insert(1);
                        throw std::runtime_error("boom");
                      }),
               std::runtime_error);
  EXPECT_EQ(count_rows(*c, "t"), 0);
  EXPECT_FALSE(c->in_atomic_block());
  insert(2);  // the connection is usable afterwards
  EXPECT_EQ(count_rows(*c, "t"), 1);
}

TEST_P(AtomicTest, InnerFailureRollsBackToItsSavepointOnly) {
  atomic(*c, [&] {
    insert(1);
    try {
      atomic(*c, [&] {
        insert(2);
        EXPECT_EQ(c->atomic_depth(), 2);
        throw std::runtime_error("inner");
      });
    } catch (const std::runtime_error&) {
    }
    EXPECT_EQ(c->atomic_depth(), 1);
    insert(3);
  });
  EXPECT_EQ(values(), (std::vector<std::int64_t>{1, 3}));
}

TEST_P(AtomicTest, ADatabaseErrorInANestedBlockLeavesTheOuterTransactionUsable) {
  // On PostgreSQL an error aborts the transaction until it rolls back; the savepoint of the
  // inner block is what makes the outer one usable again.
  atomic(*c, [&] {
    insert(1);
    EXPECT_THROW(atomic(*c, [&] { insert(1); }), IntegrityError);
    insert(2);
  });
  EXPECT_EQ(values(), (std::vector<std::int64_t>{1, 2}));
}

TEST_P(AtomicTest, ADatabaseErrorAtTheOutermostLevelLeavesTheConnectionUsable) {
  insert(1);
  EXPECT_THROW(atomic(*c, [&] { insert(1); }), IntegrityError);
  EXPECT_THROW(insert(1), IntegrityError);  // outside any transaction too
  EXPECT_FALSE(c->in_atomic_block());
  insert(2);
  EXPECT_EQ(values(), (std::vector<std::int64_t>{1, 2}));
}

TEST_P(AtomicTest, OuterFailureUndoesCommittedInnerBlocks) {
  EXPECT_THROW(atomic(*c,
                      [&] {
                        atomic(*c, [&] { insert(1); });
                        throw std::runtime_error("outer");
                      }),
               std::runtime_error);
  EXPECT_EQ(count_rows(*c, "t"), 0);
}

TEST_P(AtomicTest, OnCommitRunsAfterTheOutermostCommitOnly) {
  std::vector<std::string> log;
  atomic(*c, [&] {
    c->on_commit([&] { log.push_back("outer"); });
    atomic(*c, [&] { c->on_commit([&] { log.push_back("inner"); }); });
    EXPECT_TRUE(log.empty());
  });
  EXPECT_EQ(log, (std::vector<std::string>{"outer", "inner"}));
}

TEST_P(AtomicTest, OnCommitCallbacksOfARolledBackBlockAreDropped) {
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

TEST_P(AtomicTest, ADeferredForeignKeyFailingAtCommitRollsEverythingBack) {
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
    std::string what = e.what();
    EXPECT_TRUE(what.find("FOREIGN KEY constraint failed") != std::string::npos ||
                what.find("violates foreign key constraint") != std::string::npos)
        << what;
  }
  EXPECT_FALSE(c->in_atomic_block());
  EXPECT_EQ(count_rows(*c, "parent"), 1);
  EXPECT_EQ(count_rows(*c, "child"), 1);
  c->execute("INSERT INTO parent (id) VALUES (2)");  // still usable
  EXPECT_EQ(count_rows(*c, "parent"), 2);
}

TEST_P(AtomicTest, ReturnsTheFunctionsResult) {
  int v = atomic(*c, [&] {
    insert(7);
    return 7;
  });
  EXPECT_EQ(v, 7);
}

}  // namespace
}  // namespace cascade::db
