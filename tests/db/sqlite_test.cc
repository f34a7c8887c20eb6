// The SQLite backend: URLs, values in and out, errors, introspection.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "cascade/db/connection.h"
#include "cascade/error.h"
#include "db/sqlite/sqlite_connection.h"
#include "support/test_db.h"

namespace cascade::db {
namespace {

using cascade::testing::TempDir;

TEST(SqliteUrl, ResolvesRelativeAbsoluteAndMemory) {
  EXPECT_EQ(parse_sqlite_url("sqlite://:memory:", "").path, ":memory:");
  EXPECT_EQ(parse_sqlite_url("sqlite:///data/app.db", "").path, "data/app.db");
  EXPECT_EQ(parse_sqlite_url("sqlite:///app.db", "/srv/project").path, "/srv/project/app.db");
  EXPECT_EQ(parse_sqlite_url("sqlite:////var/lib/app.db", "/srv/project").path, "/var/lib/app.db");
}

TEST(SqliteUrl, ReadsOptions) {
  auto u = parse_sqlite_url("sqlite:///app.db?max_variables=100&timeout=250", "");
  EXPECT_EQ(u.path, "app.db");
  EXPECT_EQ(u.max_variables, 100);
  EXPECT_EQ(u.timeout_ms, 250);
  EXPECT_EQ(parse_sqlite_url("sqlite://:memory:", "").timeout_ms, 5000);
  EXPECT_THROW(parse_sqlite_url("sqlite:///app.db?cache=shared", ""), ConfigError);
  EXPECT_THROW(parse_sqlite_url("sqlite:///app.db?max_variables=0", ""), ConfigError);
  EXPECT_THROW(parse_sqlite_url("sqlite:///app.db?timeout=soon", ""), ConfigError);
  auto c = Connection::open("sqlite://:memory:?max_variables=7");
  EXPECT_EQ(c->features().max_query_params, 7);
  std::vector<Value> eight(8, Value(1));
  EXPECT_THROW(c->execute("SELECT ?,?,?,?,?,?,?,?", eight), OperationalError);
}

TEST(SqliteUrl, RejectsMalformedUrls) {
  EXPECT_THROW(parse_sqlite_url("sqlite://host/app.db", ""), ConfigError);
  EXPECT_THROW(parse_sqlite_url("sqlite:///", ""), ConfigError);
  EXPECT_THROW(parse_sqlite_url("x", ""), ConfigError);  // no scheme (found by the URL fuzzer)
  EXPECT_THROW(Connection::open("app.db"), ConfigError);
  try {
    Connection::open("mysql://localhost/app");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("unsupported database URL scheme 'mysql'"),
              std::string::npos);
  }
}

TEST(SqliteConnection, CannotOpenFileInMissingDirectory) {
  TempDir dir;
  try {
    Connection::open("sqlite:///" + dir.file("missing/dir/app.db"));
    FAIL() << "expected OperationalError";
  } catch (const OperationalError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open SQLite database"), std::string::npos);
  }
}

TEST(SqliteConnection, FileDatabaseUsesWalAndEnforcesForeignKeys) {
  TempDir dir;
  auto c = Connection::open("sqlite:///app.db", dir.path().string());
  auto mode = c->query("PRAGMA journal_mode");
  ASSERT_TRUE(mode->next());
  EXPECT_EQ(mode->get(0).as_text(), "wal");
  auto fk = c->query("PRAGMA foreign_keys");
  ASSERT_TRUE(fk->next());
  EXPECT_EQ(fk->get(0).as_integer(), 1);
  EXPECT_TRUE(std::filesystem::exists(dir.file("app.db")));
}

TEST(SqliteConnection, ValuesRoundTripIntact) {
  auto c = Connection::open("sqlite://:memory:");
  c->execute("CREATE TABLE t (v)");
  std::string nul_and_quotes("a'b\"c\0d--;%_", 13);
  std::string invalid_utf8 = "\xff\xfe ok \xc3";
  std::vector<Value> values = {
      Value(),
      Value(std::int64_t{0}),
      Value(std::numeric_limits<std::int64_t>::max()),
      Value(std::numeric_limits<std::int64_t>::min()),
      Value(3.25),
      Value(-0.0),
      Value(nul_and_quotes),
      Value(invalid_utf8),
      Value(std::string("Robert'); DROP TABLE t;--")),
      Value(Blob{0, 1, 2, 255}),
      Value(Blob{}),
      Value(std::string(1 << 20, 'x')),
  };
  for (const auto& v : values) c->execute("INSERT INTO t (v) VALUES (?)", std::span(&v, 1));
  auto rows = c->query("SELECT v FROM t ORDER BY rowid");
  for (const auto& v : values) {
    ASSERT_TRUE(rows->next());
    EXPECT_EQ(rows->get(0), v) << v.repr().substr(0, 60);
  }
  EXPECT_FALSE(rows->next());
}

TEST(SqliteConnection, BoolsDatesAndDatetimesAreStoredAsDjangoStoresThem) {
  auto c = Connection::open("sqlite://:memory:");
  c->execute("CREATE TABLE t (b bool, d date, dt datetime)");
  std::vector<Value> params = {Value(true), Value(Date{2024, 2, 29}),
                               Value(DateTime::from_parts({2024, 2, 29}, 13, 5, 9, 120))};
  c->execute("INSERT INTO t VALUES (?, ?, ?)", params);
  auto rows = c->query("SELECT b, d, dt FROM t");
  ASSERT_TRUE(rows->next());
  EXPECT_EQ(rows->get(0), Value(std::int64_t{1}));
  EXPECT_EQ(rows->get(1), Value("2024-02-29"));
  EXPECT_EQ(rows->get(2), Value("2024-02-29 13:05:09.000120"));
}

TEST(SqliteConnection, ErrorsMapToDjangosExceptionClasses) {
  auto c = Connection::open("sqlite://:memory:");
  c->execute("CREATE TABLE t (id integer PRIMARY KEY, name text NOT NULL UNIQUE)");
  EXPECT_THROW(c->execute("SELEKT 1"), OperationalError);
  EXPECT_THROW(c->execute("SELECT * FROM missing"), OperationalError);
  Value name("a");
  c->execute("INSERT INTO t (name) VALUES (?)", std::span(&name, 1));
  try {
    c->execute("INSERT INTO t (name) VALUES (?)", std::span(&name, 1));
    FAIL() << "expected IntegrityError";
  } catch (const IntegrityError& e) {
    EXPECT_NE(std::string(e.what()).find("UNIQUE constraint failed: t.name"), std::string::npos);
    EXPECT_EQ(e.python_name(), "django.db.utils.IntegrityError");
  }
  Value null;
  EXPECT_THROW(c->execute("INSERT INTO t (name) VALUES (?)", std::span(&null, 1)), IntegrityError);
}

TEST(SqliteConnection, WrongParameterCountAndSeveralStatementsAreRefused) {
  auto c = Connection::open("sqlite://:memory:");
  EXPECT_THROW(c->execute("SELECT ?"), ProgrammingError);
  std::vector<Value> two = {Value(1), Value(2)};
  EXPECT_THROW(c->execute("SELECT ?", two), ProgrammingError);
  EXPECT_THROW(c->execute("SELECT 1; SELECT 2"), ProgrammingError);
  EXPECT_NO_THROW(c->execute("SELECT 1;"));
}

TEST(SqliteConnection, NestedQueriesWithTheSameSqlDoNotShareAStatement) {
  auto c = Connection::open("sqlite://:memory:");
  c->execute("CREATE TABLE t (v integer)");
  for (int i = 0; i < 3; ++i) {
    Value v(i);
    c->execute("INSERT INTO t VALUES (?)", std::span(&v, 1));
  }
  int pairs = 0;
  auto outer = c->query("SELECT v FROM t ORDER BY v");
  while (outer->next()) {
    auto inner = c->query("SELECT v FROM t ORDER BY v");
    while (inner->next()) ++pairs;
  }
  EXPECT_EQ(pairs, 9);
  // The cached statement is reusable afterwards.
  auto again = c->query("SELECT v FROM t ORDER BY v");
  ASSERT_TRUE(again->next());
  EXPECT_EQ(again->get(0), Value(0));
}

TEST(SqliteConnection, FeaturesReportTheLibraryLimits) {
  auto c = Connection::open("sqlite://:memory:");
  EXPECT_EQ(c->features().vendor, "sqlite");
  EXPECT_GE(c->features().max_query_params, 999);
  EXPECT_TRUE(c->features().can_defer_constraint_checks);
  EXPECT_TRUE(c->features().can_return_columns_from_insert);
}

TEST(SqliteConnection, IntrospectsTablesColumnsForeignKeysAndIndexes) {
  auto c = Connection::open("sqlite://:memory:");
  c->execute("CREATE TABLE a (id integer NOT NULL PRIMARY KEY, code varchar(10) UNIQUE)");
  c->execute(
      "CREATE TABLE b (id integer NOT NULL PRIMARY KEY, a_id bigint NULL REFERENCES a (id) "
      "ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED)");
  c->execute("CREATE INDEX b_a_id_idx ON b (a_id)");
  EXPECT_EQ(c->table_names(), (std::vector<std::string>{"a", "b"}));
  auto cols = c->columns("b");
  ASSERT_EQ(cols.size(), 2u);
  EXPECT_EQ(cols[1].name, "a_id");
  EXPECT_EQ(cols[1].type, "bigint");
  EXPECT_FALSE(cols[1].not_null);
  EXPECT_TRUE(cols[0].primary_key);
  auto fks = c->foreign_keys("b");
  ASSERT_EQ(fks.size(), 1u);
  EXPECT_EQ(fks[0].column, "a_id");
  EXPECT_EQ(fks[0].target_table, "a");
  EXPECT_EQ(fks[0].on_delete, "CASCADE");
  auto idx = c->indexes("b");
  ASSERT_EQ(idx.size(), 1u);
  EXPECT_EQ(idx[0].name, "b_a_id_idx");
  EXPECT_EQ(idx[0].columns, std::vector<std::string>{"a_id"});
  auto unique = c->indexes("a");
  ASSERT_EQ(unique.size(), 1u);
  EXPECT_TRUE(unique[0].unique);
}

TEST(SqliteConnection, QuoteNameDoublesEmbeddedQuotes) {
  auto c = Connection::open("sqlite://:memory:");
  EXPECT_EQ(c->quote_name("blog_post"), "\"blog_post\"");
  EXPECT_EQ(c->quote_name("we\"ird"), "\"we\"\"ird\"");
  c->execute("CREATE TABLE " + c->quote_name("we\"ird") + " (x)");
  EXPECT_EQ(c->table_names(), std::vector<std::string>{"we\"ird"});
}

TEST(SqliteConnection, CountsStatements) {
  auto c = Connection::open("sqlite://:memory:");
  auto before = c->statement_count();
  c->execute("CREATE TABLE t (x)");
  c->query("SELECT * FROM t");
  EXPECT_EQ(c->statement_count(), before + 2);
}

}  // namespace
}  // namespace cascade::db
