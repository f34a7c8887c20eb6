// Cursors on every backend: rows are read one at a time (PostgreSQL's single-row mode, SQLite's
// steps), statements may run while a cursor is open, a cursor dropped early leaves the
// connection and its transaction usable, and an error met after some rows throws from next().
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cascade/db/transaction.h"
#include "cascade/error.h"
#include "support/backends.h"

namespace cascade::db {
namespace {

using cascade::testing::count_rows;

// 1..n in order, from a recursive query (no table, no sort: rows leave as they are made).
std::string counter(int n) {
  return "WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < " +
         std::to_string(n) + ") ";
}

class RowsTest : public cascade::testing::BackendTest {
 protected:
  std::unique_ptr<Connection> c = connect();
  void SetUp() override { c->execute("CREATE TABLE log (v integer)"); }
};
CASCADE_ON_EVERY_BACKEND(RowsTest);

TEST_P(RowsTest, StatementsRunWhileACursorIsOpenAndTheCursorReadsOn) {
  Atomic tx(*c);
  auto rows = c->query(counter(5000) + "SELECT v FROM n");
  EXPECT_EQ(rows->column_count(), 1);
  std::int64_t expected = 1;
  while (rows->next()) {
    ASSERT_EQ(rows->get(0).as_integer(), expected);
    if (expected % 1000 == 10) {
      Value v(expected);
      c->execute("INSERT INTO log (v) VALUES (" + c->placeholder(1) + ")", std::span(&v, 1));
      auto inner = c->query("SELECT count(*) FROM log");
      ASSERT_TRUE(inner->next());
      EXPECT_EQ(inner->get(0).as_integer(), (expected + 990) / 1000);
    }
    ++expected;
  }
  EXPECT_EQ(expected, 5001);
  EXPECT_FALSE(rows->next());
  rows.reset();
  tx.commit();
  EXPECT_EQ(count_rows(*c, "log"), 5);
}

TEST_P(RowsTest, ACursorDroppedEarlyLeavesTheTransactionUsable) {
  {
    Atomic tx(*c);
    {
      auto rows = c->query(counter(100000) + "SELECT v FROM n");
      ASSERT_TRUE(rows->next());
      EXPECT_EQ(rows->get(0).as_integer(), 1);
    }
    c->execute("INSERT INTO log (v) VALUES (1)");
    tx.commit();
  }
  EXPECT_EQ(count_rows(*c, "log"), 1);
}

TEST_P(RowsTest, AnErrorAfterSomeRowsThrowsFromNext) {
  // Row 3000 overflows abs() on both backends; the rows before it arrive first.
  auto rows = c->query(counter(5000) +
                       "SELECT v, abs(CASE WHEN v = 3000 THEN -9223372036854775807 - 1 ELSE v "
                       "END) FROM n");
  int read = 0;
  try {
    while (rows->next()) ++read;
    ADD_FAILURE() << "no error after " << read << " rows";
  } catch (const DatabaseError&) {
  }
  EXPECT_EQ(read, 2999);
  rows.reset();
  c->execute("INSERT INTO log (v) VALUES (1)");  // the connection is usable
  EXPECT_EQ(count_rows(*c, "log"), 1);
}

TEST_P(RowsTest, AnErrorInTheQueryItselfThrowsFromQuery) {
  // (ProgrammingError on PostgreSQL, OperationalError on SQLite: Django's classes for each)
  EXPECT_THROW(c->query("SELECT nope FROM log"), DatabaseError);
  EXPECT_THROW(c->query("SELECT nope FROM log"), DatabaseError);  // and again: nothing stuck
  auto rows = c->query("SELECT count(*) FROM log");
  ASSERT_TRUE(rows->next());
  EXPECT_EQ(rows->get(0).as_integer(), 0);
}

TEST_P(RowsTest, AnEmptyResultHasItsColumns) {
  auto rows = c->query("SELECT v, v FROM log");
  EXPECT_EQ(rows->column_count(), 2);
  EXPECT_FALSE(rows->next());
  EXPECT_FALSE(rows->next());
}

}  // namespace
}  // namespace cascade::db
