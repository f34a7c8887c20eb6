// The statement builders every layer above the compiler uses (sql/statements.h): each statement
// runs on every backend, identifiers are quoted whatever they hold, values are always bound
// parameters numbered by one scheme, and the builders refuse what would be malformed.
#include "sql/statements.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "cascade/error.h"
#include "cascade/model/registry.h"
#include "support/backends.h"

namespace cascade::sql {
namespace {

using testing::BackendTest;

// One model whose table and column names need quoting: a quote, a space and SQL keywords.
const Registry& odd_registry() {
  static const Registry* registry = [] {
    auto* r = new Registry();
    ModelMeta m("odd", "Item");
    m.db_table = "odd \"items\" table";
    Field id;
    id.name = "id";
    id.type = FieldType::Auto;
    id.primary_key = true;
    Field name;
    name.name = "name";
    name.column = "select";
    name.type = FieldType::Char;
    name.max_length = 100;
    name.null = true;
    Field rank;
    rank.name = "rank";
    rank.column = "order by";
    rank.type = FieldType::Integer;
    rank.null = true;
    m.fields = {id, name, rank};
    r->add(std::move(m));
    r->finalize();
    return r;
  }();
  return *registry;
}

class StatementsTest : public BackendTest {
 protected:
  void SetUp() override {
    c = connect();
    const ModelMeta& m = item();
    c->execute("CREATE TABLE " + c->quote_name(m.db_table) + " (" + c->quote_name("id") +
               " integer PRIMARY KEY, " + c->quote_name("select") + " varchar(100), " +
               c->quote_name("order by") + " integer)");
  }
  const ModelMeta& item() const { return odd_registry().get("odd.Item"); }

  // Rows (id, name, rank); null name or rank as Value().
  void insert(const std::vector<std::vector<Value>>& rows) {
    Statements s(*c);
    execute(*c, s.insert_values(item().db_table, {"id", "select", "order by"}, rows));
  }

  std::vector<std::int64_t> ids(const Fragment& where) {
    Statements s(*c);
    auto rows = query(*c, s.select({.columns = s.pk(item()),
                                    .from = s.table(item().db_table),
                                    .where = where,
                                    .order_by = s.pk(item())}));
    std::vector<std::int64_t> out;
    while (rows->next()) out.push_back(rows->get(0).as_integer());
    return out;
  }

  std::unique_ptr<db::Connection> c;
};

TEST_P(StatementsTest, SelectWithEveryPartRunsOnTheBackend) {
  insert({{1, "a", 3}, {2, "b", 2}, {3, "c", 1}, {4, "d", Value()}});
  Statements s(*c);
  const ModelMeta& m = item();
  auto rows = query(*c, s.select({.columns = s.instance_columns(m),
                                  .from = s.table(m.db_table),
                                  .where = Statements::is_not_null(s.column(m, "order by")),
                                  .order_by = s.column(m, "order by"),
                                  .descending = true,
                                  .limit = 2,
                                  .offset = 1}));
  std::vector<std::string> names;
  while (rows->next()) names.push_back(rows->get(1).as_text());
  EXPECT_EQ(names, (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(ids({}), (std::vector<std::int64_t>{1, 2, 3, 4}));  // no condition: every row
  EXPECT_EQ(query(*c, s.count(m.db_table, Statements::every_row()))->next(), true);
}

TEST_P(StatementsTest, ValuesAreBoundParametersNeverSqlText) {
  const std::string hostile = "x'); DROP TABLE \"odd \"\"items\"\" table\"; --";
  insert({{1, hostile, 1}, {2, "plain", 2}});
  Statements s(*c);
  Fragment where = Statements::compare(s.column(item(), "select"), Compare::Eq, Value(hostile));
  EXPECT_EQ(where.sql.find("DROP"), std::string::npos);
  ASSERT_EQ(where.params.size(), 1u);
  EXPECT_EQ(ids(where), (std::vector<std::int64_t>{1}));
  // Many parameters in one statement are numbered in order, whatever the dialect's style.
  std::vector<Value> keys{Value(4), Value(2), Value(9), Value(1)};
  Fragment several = Statements::all_of(
      {Statements::in(s.pk(item()), keys),
       Statements::compare(s.column(item(), "order by"), Compare::Ge, Value(2))});
  EXPECT_EQ(ids(several), (std::vector<std::int64_t>{2}));
  auto compiled = finish(*c, several);
  EXPECT_EQ(compiled.params.size(), 5u);
  EXPECT_EQ(compiled.sql.find(kParamMarker), std::string::npos);
}

TEST_P(StatementsTest, ConditionsCombineAsSqlWould) {
  insert({{1, "a", 1}, {2, "b", Value()}, {3, "c", 3}});
  Statements s(*c);
  std::string rank = s.column(item(), "order by");
  // all_of leaves out empty terms; one term stays as it is.
  EXPECT_EQ(ids(Statements::all_of({Fragment{}, Statements::is_null(rank)})),
            (std::vector<std::int64_t>{2}));
  EXPECT_EQ(ids(Statements::any_of({Statements::compare(rank, Compare::Lt, Value(2)),
                                    Statements::compare(rank, Compare::Gt, Value(2))})),
            (std::vector<std::int64_t>{1, 3}));
  // and_not: a row for which the excluded condition is NULL is kept (NOT (NULL) would drop it).
  Fragment excluded = Statements::compare(rank, Compare::Eq, Value(3));
  EXPECT_EQ(ids(Statements::and_not(Statements::every_row(), excluded)),
            (std::vector<std::int64_t>{1, 2}));
  // IN over a subquery, EXISTS and NOT EXISTS over a correlated one.
  Fragment low = s.select({.columns = s.pk(item()),
                           .from = s.table(item().db_table),
                           .where = Statements::compare(rank, Compare::Le, Value(1))});
  EXPECT_EQ(ids(Statements::in(s.pk(item()), low)), (std::vector<std::int64_t>{1}));
  Fragment other =
      s.select({.columns = Statements::constant_one(),
                .from = s.table(item().db_table, "other"),
                .where = Statements::all_of(
                    {Statements::compare(s.column("other", "order by"), Compare::Eq, Value(3)),
                     Statements::equal_columns(s.column("other", "id"), s.pk(item()))})});
  EXPECT_EQ(ids(Statements::exists(other)), (std::vector<std::int64_t>{3}));
  EXPECT_EQ(ids(Statements::not_exists(other)), (std::vector<std::int64_t>{1, 2}));
}

TEST_P(StatementsTest, WritesAffectExactlyTheRowsTheirConditionSelects) {
  insert({{1, "a", 1}, {2, "b", 2}, {3, "c", 3}});
  Statements s(*c);
  std::string rank = s.column(item(), "order by");
  EXPECT_EQ(execute(*c, s.update(item().db_table, {{"select", Value()}, {"order by", Value(7)}},
                                 Statements::compare(rank, Compare::Ge, Value(2)))),
            2);
  EXPECT_EQ(ids(Statements::is_null(s.column(item(), "select"))),
            (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(
      execute(*c, s.delete_from(item().db_table, Statements::compare(rank, Compare::Eq, Value(7)))),
      2);
  EXPECT_EQ(ids({}), (std::vector<std::int64_t>{1}));
  // INSERT ... SELECT copies rows; the count of a derived table counts them.
  execute(*c, s.insert_select(item().db_table, {"id", "select", "order by"},
                              s.select({.columns = Statements::list({s.pk(item()) + " + 10",
                                                                     s.column(item(), "select"),
                                                                     s.column(item(), "order by")}),
                                        .from = s.table(item().db_table)})));
  auto n = query(
      *c,
      s.count(s.select({.columns = Statements::constant_one(), .from = s.table(item().db_table)})));
  ASSERT_TRUE(n->next());
  EXPECT_EQ(n->get(0).as_integer(), 2);
}

TEST_P(StatementsTest, RefusesMalformedStatements) {
  Statements s(*c);
  EXPECT_THROW(s.update(item().db_table, {}, Statements::every_row()), Error);
  EXPECT_THROW(s.insert_values(item().db_table, {"id", "select"}, {{Value(1)}}), Error);
  if (!c->features().supports_select_for_update) {
    EXPECT_THROW(s.select({.columns = "1", .from = s.table(item().db_table), .for_update = true}),
                 NotSupportedError);
  }
}

TEST_P(StatementsTest, InsertReturnsTheNewKeyWhereTheDatabaseCan) {
  Statements s(*c);
  if (!c->features().can_return_columns_from_insert) {
    EXPECT_THROW(s.insert_values(item().db_table, {"select"}, {{Value("a")}}, "id"),
                 NotSupportedError);
    return;
  }
  insert({{5, "a", 1}});
  auto rows =
      query(*c, s.insert_values(item().db_table, {"id", "select"}, {{Value(8), Value("b")}}, "id"));
  ASSERT_TRUE(rows->next());
  EXPECT_EQ(rows->get(0).as_integer(), 8);
}

TEST_P(StatementsTest, TemporaryKeyTablesAreCreatedIndexedAndDropped) {
  Statements s(*c);
  c->execute("BEGIN");
  c->execute(s.create_key_table("cascade_tmp_test", item()));
  c->execute(s.create_index("cascade_tmp_test_gen", "cascade_tmp_test", kGenColumn));
  execute(*c,
          s.insert_values("cascade_tmp_test", {std::string(kKeyColumn), std::string(kGenColumn)},
                          {{Value(1), Value(0)}, {Value(2), Value(1)}}));
  EXPECT_THROW(execute(*c, s.insert_values("cascade_tmp_test",
                                           {std::string(kKeyColumn), std::string(kGenColumn)},
                                           {{Value(1), Value(2)}})),
               IntegrityError);
  c->execute("ROLLBACK");
  c->execute("BEGIN");
  c->execute(s.create_row_table("cascade_tmp_rows", item()));
  c->execute(s.drop_table("cascade_tmp_rows"));
  c->execute(s.drop_table("cascade_tmp_rows"));  // IF EXISTS: a second drop is harmless
  c->execute("ROLLBACK");
}

CASCADE_ON_EVERY_BACKEND(StatementsTest);

}  // namespace
}  // namespace cascade::sql
