// migrate: the DDL Django would create, idempotence, and mismatches reported before any change.
#include <gtest/gtest.h>

#include "cascade/db/schema.h"
#include "cascade/error.h"
#include "cascade/model/loader.h"
#include "support/backends.h"

namespace cascade::db {
namespace {

using cascade::testing::blog_shop_registry;

class SchemaTest : public cascade::testing::BackendTest {
 protected:
  std::unique_ptr<Connection> c = connect();
  // The column type the backend uses for a field of the blog_shop models.
  std::string type_of(const std::string& model, const std::string& field) {
    return c->column_type(blog_shop_registry().get(model).get_field(field));
  }
};
CASCADE_ON_EVERY_BACKEND(SchemaTest);

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(Schema, CreateTableMatchesDjangosSqliteDdl) {
  auto c = Connection::open("sqlite://:memory:");
  const auto& post = blog_shop_registry().get("blog.Post");
  TableSql sql = table_sql(*c, post);
  EXPECT_TRUE(contains(sql.create_table,
                       "CREATE TABLE \"blog_post\" (\"id\" integer NOT NULL PRIMARY KEY "
                       "AUTOINCREMENT, \"title\" varchar(200) NOT NULL"))
      << sql.create_table;
  EXPECT_TRUE(contains(sql.create_table,
                       "\"author_id\" bigint NOT NULL REFERENCES \"blog_author\" (\"id\") "
                       "DEFERRABLE INITIALLY DEFERRED"));
  EXPECT_TRUE(contains(sql.create_table, "\"editor_id\" bigint NULL REFERENCES \"blog_author\""));
  EXPECT_TRUE(contains(sql.create_table, "\"is_deleted\" bool NOT NULL"));
  EXPECT_TRUE(contains(sql.create_table, "\"published\" datetime NULL)"));
  EXPECT_TRUE(sql.constraints.empty());  // SQLite: foreign keys inline
  // Every foreign key column is indexed, and db_index fields too.
  ASSERT_EQ(sql.indexes.size(), 3u);
  EXPECT_TRUE(contains(sql.indexes[0], "ON \"blog_post\" (\"status\")"));
  EXPECT_TRUE(contains(sql.indexes[1], "ON \"blog_post\" (\"author_id\")"));
  EXPECT_TRUE(contains(sql.indexes[2], "ON \"blog_post\" (\"editor_id\")"));
}

TEST(Schema, ThroughTableHasBothKeysAndAUniquePair) {
  auto c = Connection::open("sqlite://:memory:");
  TableSql sql = table_sql(*c, blog_shop_registry().get("blog.Post_tags"));
  EXPECT_TRUE(contains(sql.create_table, "CREATE TABLE \"blog_post_tags\""));
  EXPECT_TRUE(contains(sql.create_table, "\"post_id\" bigint NOT NULL REFERENCES \"blog_post\""));
  EXPECT_TRUE(contains(sql.create_table, "\"tag_id\" bigint NOT NULL REFERENCES \"blog_tag\""));
  EXPECT_TRUE(contains(sql.create_table, "UNIQUE (\"post_id\", \"tag_id\")"));
}

TEST_P(SchemaTest, MigrateCreatesEverythingAndIsIdempotent) {
  auto first = migrate(*c, blog_shop_registry());
  EXPECT_EQ(first.create_tables.size(), blog_shop_registry().models().size());
  auto tables = c->table_names();
  for (const auto* m : blog_shop_registry().models()) {
    EXPECT_NE(std::find(tables.begin(), tables.end(), m->db_table), tables.end()) << m->db_table;
  }
  auto second = migrate(*c, blog_shop_registry());
  EXPECT_TRUE(second.statements.empty());
  EXPECT_TRUE(second.problems.empty());
  EXPECT_EQ(c->table_names(), tables);
}

TEST_P(SchemaTest, MissingIndexesAreRecreatedOnExistingTables) {
  migrate(*c, blog_shop_registry());
  auto before = c->indexes("blog_comment");
  ASSERT_EQ(before.size(), 1u);
  c->execute("DROP INDEX " + c->quote_name(before[0].name));
  auto plan = migrate(*c, blog_shop_registry());
  ASSERT_EQ(plan.statements.size(), 1u);
  EXPECT_EQ(c->indexes("blog_comment").size(), 1u);
}

TEST_P(SchemaTest, MismatchesAreReportedAndNothingIsCreated) {
  c->execute("CREATE TABLE \"blog_author\" (\"id\" " + type_of("blog.Author", "id") +
             " NOT NULL PRIMARY KEY, \"name\" text NOT NULL, \"nickname\" text)");
  try {
    migrate(*c, blog_shop_registry());
    FAIL() << "expected SchemaMismatch";
  } catch (const SchemaMismatch& e) {
    std::string all;
    for (const auto& p : e.problems()) all += p + "\n";
    EXPECT_TRUE(contains(all,
                         "table \"blog_author\" (blog.Author): column \"name\" is text, "
                         "the model says " +
                             type_of("blog.Author", "name")))
        << all;
    EXPECT_TRUE(
        contains(all, "column \"email\" (" + type_of("blog.Author", "email") + ") is missing"))
        << all;
    EXPECT_TRUE(contains(all, "column \"nickname\" (text) is not declared by the model")) << all;
    EXPECT_TRUE(contains(e.what(), "schema migrations are not supported yet"));
  }
  // Nothing else was created: the check runs before any change.
  EXPECT_EQ(c->table_names(), std::vector<std::string>{"blog_author"});
}

TEST_P(SchemaTest, NullabilityUniqueAndForeignKeyDifferencesAreReported) {
  migrate(*c, blog_shop_registry());
  c->execute("DROP TABLE shop_orderitem");
  c->execute("CREATE TABLE shop_orderitem (id " + type_of("shop.OrderItem", "id") +
             " NOT NULL PRIMARY KEY " + c->auto_increment_clause() +
             ", order_id bigint NOT NULL, product_id bigint REFERENCES shop_order (id), "
             "quantity integer NOT NULL UNIQUE)");
  auto plan = plan_migration(*c, blog_shop_registry());
  std::string all;
  for (const auto& p : plan.problems) all += p + "\n";
  EXPECT_TRUE(contains(all, "column \"order_id\" has no foreign key constraint")) << all;
  EXPECT_TRUE(contains(all, "column \"product_id\" is nullable, the model says NOT NULL")) << all;
  EXPECT_TRUE(contains(all,
                       "column \"product_id\" references \"shop_order\", the model says "
                       "\"shop_product\""))
      << all;
  EXPECT_TRUE(contains(all, "column \"quantity\" is unique, the model does not say so")) << all;
}

TEST_P(SchemaTest, DatabaseLevelOnDeleteIsWrittenIntoTheConstraint) {
  auto project = parse_project(R"(
[models.app.Parent]
fields.name = { type = "text" }
[models.app.Child]
fields.parent = { type = "foreign_key", to = "Parent", on_delete = "DB_CASCADE" }
fields.other  = { type = "foreign_key", to = "Parent", on_delete = "DB_SET_NULL", null = true, related_name = "others" }
)");
  migrate(*c, *project.registry);
  auto fks = c->foreign_keys("app_child");
  ASSERT_EQ(fks.size(), 2u);
  for (const auto& fk : fks) {
    EXPECT_EQ(fk.on_delete, fk.column == "parent_id" ? "CASCADE" : "SET NULL");
  }
  EXPECT_TRUE(migrate(*c, *project.registry).statements.empty());
}

TEST_P(SchemaTest, DatabaseSetDefaultWritesTheColumnDefaultTheDatabaseUses) {
  // DB_SET_DEFAULT: the database itself points the rows at the default when the row they
  // reference goes, so the column carries DEFAULT <the field's default>.
  auto project = parse_project(R"(
[models.app.Parent]
fields.name = { type = "text" }
[models.app.Child]
fields.parent = { type = "foreign_key", to = "Parent", on_delete = "DB_SET_DEFAULT", default = 1 }
)");
  Database db = Database::open(*project.registry, scratch.url());
  db.migrate();
  auto fks = db.connection().foreign_keys("app_child");
  ASSERT_EQ(fks.size(), 1u);
  EXPECT_EQ(fks[0].on_delete, "SET DEFAULT");
  Manager parents = db.objects("app.Parent");
  Manager children = db.objects("app.Child");
  Instance keep = parents.create({{"name", "default"}});
  Instance gone = parents.create({{"name", "gone"}});
  ASSERT_EQ(keep.pk(), Value(1));
  Instance child = children.create({{"parent", gone.pk()}});
  // Not collected (rule of DB_* actions): only the parent is counted; the database moves the
  // child.
  EXPECT_EQ(parents.filter({{"pk", gone.pk()}}).remove().repr(), "(1, {'app.Parent': 1})");
  EXPECT_EQ(children.get(child.pk()).get("parent"), Value(1));
  EXPECT_TRUE(migrate(db.connection(), *project.registry).statements.empty());
}

TEST_P(SchemaTest, LongIndexNamesAreShortenedStably) {
  auto project = parse_project(R"(
[models.an_application_with_a_long_label.AModelWithAVeryLongNameIndeed]
fields.a_foreign_key_with_a_long_name_too = { type = "foreign_key", to = "self", on_delete = "CASCADE", null = true }
)");
  const auto& m =
      project.registry->get("an_application_with_a_long_label.AModelWithAVeryLongNameIndeed");
  auto sql = table_sql(*c, m);
  ASSERT_EQ(sql.indexes.size(), 1u);
  auto start = sql.indexes[0].find("EXISTS \"") + 8;
  auto name = sql.indexes[0].substr(start, sql.indexes[0].find('"', start) - start);
  EXPECT_LE(name.size(), 63u);
  EXPECT_EQ(sql.indexes[0], table_sql(*c, m).indexes[0]);
  migrate(*c, *project.registry);
  EXPECT_TRUE(migrate(*c, *project.registry).statements.empty());
}

}  // namespace
}  // namespace cascade::db
