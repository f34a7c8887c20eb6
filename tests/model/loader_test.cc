// Tests for the models file (cascade.toml): what each key declares, the order of models and
// fields, and the ConfigError for each kind of bad file (file, line, model and key named).
#include "cascade/model/loader.h"

#include <gtest/gtest.h>

#include "support/assertions.h"

#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "cascade/error.h"
#include "cascade/model/instance.h"

namespace cascade {

namespace {

std::vector<std::string> field_names(const ModelMeta& m) {
  std::vector<std::string> out;
  for (const auto& f : m.fields) out.push_back(f.name);
  return out;
}

std::vector<std::string> model_labels(const Registry& r) {
  std::vector<std::string> out;
  for (const ModelMeta* m : r.models()) out.push_back(m->label());
  return out;
}

struct LoadError {
  std::string what;
  std::string file;
  int line = -1;
};

// The ConfigError that parsing `text` as file "site.toml" throws.
LoadError load_error(std::string_view text) {
  try {
    parse_project(text, "site.toml");
  } catch (const ConfigError& e) {
    return {e.what(), e.file(), e.line()};
  }
  ADD_FAILURE() << "no ConfigError for:\n" << text;
  return {};
}

// Checks that the error names the file and `line` (both in line() and in the message) and
// contains each of `parts`.
void expect_error_at(const LoadError& e, int line, const std::vector<std::string>& parts) {
  EXPECT_EQ(e.file, "site.toml") << e.what;
  EXPECT_EQ(e.line, line) << e.what;
  EXPECT_EQ(e.what.rfind("site.toml:" + std::to_string(line) + ": ", 0), 0u) << e.what;
  for (const auto& part : parts) EXPECT_CONTAINS(e.what, part);
}

// ---- order -------------------------------------------------------------------------------------

TEST(LoaderOrder, DottedFieldKeysKeepTheirWrittenOrder) {
  auto p = parse_project(R"([models.blog.Post]
fields.zeta  = "text"
fields.alpha = { type = "integer" }
fields.mid   = { type = "char", max_length = 5 }
fields.beta  = "boolean"
)");
  EXPECT_EQ(field_names(p.registry->get("blog.Post")),
            (std::vector<std::string>{"id", "zeta", "alpha", "mid", "beta"}));
}

TEST(LoaderOrder, FieldsSubTableKeepsTheWrittenOrder) {
  auto p = parse_project(R"([models.blog.Post]
display = "{title}"

[models.blog.Post.fields]
title = { type = "char", max_length = 10 }
body = "text"
author_name = "text"
a = "integer"
)");
  EXPECT_EQ(field_names(p.registry->get("blog.Post")),
            (std::vector<std::string>{"id", "title", "body", "author_name", "a"}));
}

TEST(LoaderOrder, PerFieldTablesAndInlineFieldsTable) {
  auto p = parse_project(R"([models.blog.Post]
[models.blog.Post.fields.zz]
type = "text"
[models.blog.Post.fields.aa]
type = "integer"
null = true

[models.blog.Tag]
fields = { zname = "text", aslug = "text" }
)");
  EXPECT_EQ(field_names(p.registry->get("blog.Post")),
            (std::vector<std::string>{"id", "zz", "aa"}));
  EXPECT_TRUE(p.registry->get("blog.Post").get_field("aa").null);
  EXPECT_EQ(field_names(p.registry->get("blog.Tag")),
            (std::vector<std::string>{"id", "zname", "aslug"}));
}

TEST(LoaderOrder, ModelsKeepTheWrittenOrderEvenAcrossApps) {
  auto p = parse_project(R"([models.shop.Zebra]
fields.name = "text"

[models.blog.Yak]
fields.name = "text"

[models.shop.Ant]
fields.name = "text"
fields.tags = { type = "many_to_many", to = "blog.Yak" }

[models.blog.Bee]
fields.name = "text"
)");
  EXPECT_EQ(model_labels(*p.registry),
            (std::vector<std::string>{"shop.Zebra", "blog.Yak", "shop.Ant", "shop.Ant_tags",
                                      "blog.Bee"}));
}

// ---- every option ------------------------------------------------------------------------------

TEST(LoaderOptions, DefaultNoneIsDjangosDefaultOfNone) {
  auto p = parse_project(R"([models.s.A]
fields.name = { type = "char", max_length = 5 }
[models.s.B]
fields.a = { type = "foreign_key", to = "A", on_delete = "SET_DEFAULT", null = true, default_none = true }
)");
  const Field& a = p.registry->get("s.B").fields[1];
  ASSERT_TRUE(a.default_value.has_value());
  EXPECT_TRUE(a.default_value->is_null());
  expect_error_at(load_error(R"([models.s.A]
fields.n = { type = "integer", default = 1, default_none = true }
)"),
                  2, {"'default_none' and 'default' cannot both be given"});
  expect_error_at(load_error(R"([models.s.A]
fields.n = { type = "integer", null = true, default_none = false }
)"),
                  2, {"'default_none' can only be true"});
}

TEST(LoaderOptions, DatabaseUrlAndPaths) {
  auto p = parse_project(R"([database]
url = "sqlite:///data/app.db"

[models.blog.Post]
fields.title = "text"
)",
                         "conf/site.toml");
  EXPECT_EQ(p.database_url, "sqlite:///data/app.db");
  EXPECT_EQ(p.settings_path, "conf/site.toml");
  EXPECT_TRUE(p.registry->finalized());
  auto no_db = parse_project("[models.blog.Post]\nfields.title = \"text\"\n");
  EXPECT_EQ(no_db.database_url, "");
}

TEST(LoaderOptions, FieldFlagsAndColumns) {
  auto p = parse_project(R"([models.shop.Product]
fields.code  = { type = "char", max_length = 12, primary_key = true }
fields.name  = { type = "char", max_length = 100, unique = true, db_index = true }
fields.notes = { type = "text", null = true, blank = true, db_column = "remarks" }
fields.count = { type = "big_integer" }
fields.price = { type = "float" }
fields.when  = { type = "datetime" }
fields.day   = { type = "date" }
fields.small = "integer"
)");
  const ModelMeta& m = p.registry->get("shop.Product");
  EXPECT_EQ(field_names(m), (std::vector<std::string>{"code", "name", "notes", "count", "price",
                                                      "when", "day", "small"}));
  const Field& code = m.get_field("code");
  EXPECT_TRUE(code.primary_key);
  EXPECT_EQ(&m.pk(), &code);
  EXPECT_EQ(code.type, FieldType::Char);
  EXPECT_EQ(code.max_length, 12);
  const Field& name = m.get_field("name");
  EXPECT_TRUE(name.unique);
  EXPECT_TRUE(name.db_index);
  EXPECT_FALSE(name.null);
  EXPECT_FALSE(name.blank);
  EXPECT_EQ(name.max_length, 100);
  const Field& notes = m.get_field("notes");
  EXPECT_TRUE(notes.null);
  EXPECT_TRUE(notes.blank);
  EXPECT_FALSE(notes.unique);
  EXPECT_EQ(notes.column, "remarks");
  EXPECT_EQ(m.get_field("count").type, FieldType::BigInteger);
  EXPECT_EQ(m.get_field("price").type, FieldType::Float);
  EXPECT_EQ(m.get_field("when").type, FieldType::DateTime);
  EXPECT_EQ(m.get_field("day").type, FieldType::Date);
  EXPECT_EQ(m.get_field("small").type, FieldType::Integer);
}

TEST(LoaderOptions, DefaultsOfEveryKindAreConverted) {
  auto p = parse_project(R"([models.shop.Order]
fields.status  = { type = "char", max_length = 20, default = "new" }
fields.qty     = { type = "integer", default = 1 }
fields.ratio   = { type = "float", default = 2 }
fields.paid    = { type = "boolean", default = true }
fields.label   = { type = "text", default = 42 }
fields.day     = { type = "date", default = 2024-02-29 }
fields.local   = { type = "datetime", default = 2024-02-29T10:20:30.000123 }
fields.offset  = { type = "datetime", default = 2024-02-29T10:20:30.5+02:00 }
fields.zulu    = { type = "datetime", default = 1969-12-31T23:59:59Z }
fields.text_dt = { type = "datetime", default = "2024-02-29 10:20" }
fields.text_d  = { type = "date", default = "2024-03-01" }
fields.none    = { type = "integer", null = true }
)");
  const ModelMeta& m = p.registry->get("shop.Order");
  auto def = [&](const char* name) { return m.get_field(name).get_default(); };
  EXPECT_EQ(def("status"), Value("new"));
  EXPECT_EQ(def("qty"), Value(1));
  EXPECT_EQ(def("ratio"), Value(2.0));
  EXPECT_EQ(def("paid"), Value(true));
  EXPECT_EQ(def("label"), Value("42"));
  EXPECT_EQ(def("day"), Value(Date{2024, 2, 29}));
  EXPECT_EQ(def("local"), Value(DateTime::from_parts({2024, 2, 29}, 10, 20, 30, 123)));
  EXPECT_EQ(def("offset"), Value(DateTime::from_parts({2024, 2, 29}, 8, 20, 30, 500000)));
  EXPECT_EQ(def("zulu"), Value(DateTime{-1'000'000}));
  EXPECT_EQ(def("text_dt"), Value(DateTime::from_parts({2024, 2, 29}, 10, 20)));
  EXPECT_EQ(def("text_d"), Value(Date{2024, 3, 1}));
  EXPECT_TRUE(def("none").is_null());
  EXPECT_FALSE(m.get_field("none").default_value.has_value());
  // New instances start from them.
  Instance order(m);
  EXPECT_EQ(order.get("status"), Value("new"));
  EXPECT_EQ(order.get("day"), Value(Date{2024, 2, 29}));
}

TEST(LoaderOptions, RelationsAndEveryOnDeleteRule) {
  struct Case {
    const char* name;
    const char* rule_text;
    OnDelete rule;
    const char* extra;
  };
  const Case cases[] = {
      {"a", "CASCADE", OnDelete::Cascade, ", related_name = \"a_posts\""},
      {"b", "PROTECT", OnDelete::Protect, ", related_name = \"b_posts\""},
      {"c", "RESTRICT", OnDelete::Restrict, ", related_name = \"c_posts\""},
      {"d", "SET_NULL", OnDelete::SetNull, ", null = true, related_name = \"+\""},
      {"e", "SET_DEFAULT", OnDelete::SetDefault, ", default = 1, related_name = \"e_posts\""},
      {"f", "SET", OnDelete::Set, ", set = 3, related_name = \"f_posts\""},
      {"g", "DO_NOTHING", OnDelete::DoNothing, ", related_name = \"g_posts\""},
      {"h", "DB_CASCADE", OnDelete::DbCascade, ", related_name = \"h_posts\""},
      {"i", "DB_SET_NULL", OnDelete::DbSetNull, ", null = true, related_name = \"i_posts\""},
      {"j", "DB_SET_DEFAULT", OnDelete::DbSetDefault, ", default = 1, related_name = \"j_posts\""},
  };
  std::string text = "[models.blog.Author]\nfields.name = \"text\"\n\n[models.blog.Post]\n";
  for (const Case& c : cases) {
    // The "blog.Author" spelling for one of them, "Author" (same app) for the others.
    text += std::string("fields.") + c.name + " = { type = \"foreign_key\", to = \"" +
            (c.rule == OnDelete::Protect ? "blog.Author" : "Author") + "\", on_delete = \"" +
            c.rule_text + "\"" + c.extra + " }\n";
  }
  text += "fields.k = { type = \"one_to_one\", to = \"Author\", on_delete = \"CASCADE\" }\n";
  text +=
      "fields.parent = { type = \"foreign_key\", to = \"self\", on_delete = \"CASCADE\", "
      "null = true, blank = true }\n";
  auto p = parse_project(text);
  const ModelMeta& post = p.registry->get("blog.Post");
  const ModelMeta& author = p.registry->get("blog.Author");
  for (const Case& c : cases) {
    const Field& f = post.get_field(c.name);
    EXPECT_EQ(f.on_delete, c.rule) << c.name;
    EXPECT_EQ(f.target, &author) << c.name;
    EXPECT_EQ(f.column, std::string(c.name) + "_id");
  }
  EXPECT_EQ(post.get_field("k").on_delete, OnDelete::Cascade);
  EXPECT_EQ(post.get_field("a").type, FieldType::ForeignKey);
  EXPECT_EQ(post.get_field("a").related_name, "a_posts");
  EXPECT_EQ(post.get_field("d").related_accessor_name(), "");
  EXPECT_TRUE(post.get_field("d").null);
  EXPECT_EQ(post.get_field("e").default_value, Value(1));
  EXPECT_EQ(post.get_field("f").on_delete_value, Value(3));
  EXPECT_FALSE(post.get_field("a").on_delete_value.has_value());
  const Field& k = post.get_field("k");
  EXPECT_EQ(k.type, FieldType::OneToOne);
  EXPECT_TRUE(k.unique);  // a one-to-one is unique
  EXPECT_EQ(k.related_accessor_name(), "post");
  const Field& parent = post.get_field("parent");
  EXPECT_EQ(parent.target, &post);
  EXPECT_TRUE(parent.blank);
  EXPECT_EQ(parent.related_accessor_name(), "post_set");
}

TEST(LoaderOptions, SetValueOfEveryKind) {
  auto p = parse_project(R"([models.blog.Author]
fields.name = "text"
[models.blog.Post]
fields.a = { type = "foreign_key", to = "Author", on_delete = "SET", set = "x", related_name = "a" }

[models.blog.Post.fields.b]
type = "foreign_key"
to = "Author"
on_delete = "SET"
set = 2024-01-02
related_name = "b"

[models.blog.Post.fields.c]
type = "foreign_key"
to = "Author"
on_delete = "SET"
set = false
related_name = "c"
)");
  const ModelMeta& post = p.registry->get("blog.Post");
  EXPECT_EQ(post.get_field("a").on_delete_value, Value("x"));
  EXPECT_EQ(post.get_field("b").on_delete_value, Value(Date{2024, 1, 2}));
  EXPECT_EQ(post.get_field("c").on_delete_value, Value(false));
}

TEST(LoaderOptions, ManyToManyWithDbTable) {
  auto p = parse_project(R"([models.blog.Tag]
fields.name = "text"
[models.blog.Post]
fields.tags = { type = "many_to_many", to = "Tag", related_name = "posts", blank = true }
fields.cats = { type = "many_to_many", to = "Tag" }
[models.blog.Post.fields.links]
type = "many_to_many"
to = "blog.Tag"
related_name = "linked_posts"
db_table = "post_tag"
)");
  const ModelMeta& post = p.registry->get("blog.Post");
  EXPECT_EQ(field_names(post), (std::vector<std::string>{"id"}));
  ASSERT_EQ(post.many_to_many.size(), 3u);
  const Field& tags = post.many_to_many[0];
  EXPECT_EQ(tags.name, "tags");
  EXPECT_EQ(tags.type, FieldType::ManyToMany);
  EXPECT_EQ(tags.related_name, "posts");
  EXPECT_TRUE(tags.blank);
  EXPECT_EQ(tags.db_table, "");
  EXPECT_EQ(tags.through->db_table, "blog_post_tags");
  EXPECT_EQ(post.many_to_many[1].through->db_table, "blog_post_cats");
  const Field& links = post.many_to_many[2];
  EXPECT_EQ(links.name, "links");
  EXPECT_EQ(links.db_table, "post_tag");
  EXPECT_EQ(links.through->db_table, "post_tag");
  EXPECT_EQ(links.target, &p.registry->get("blog.Tag"));
  EXPECT_EQ(model_labels(*p.registry),
            (std::vector<std::string>{"blog.Tag", "blog.Post", "blog.Post_tags", "blog.Post_cats",
                                      "blog.Post_links"}));
}

TEST(LoaderOptions, ModelOptions) {
  auto p = parse_project(R"([models.shop.OrderLine]
display = "{qty} x {name}"
db_table = "order_lines"
verbose_name = "line"
verbose_name_plural = "lines of orders"
ordering = ["-qty", "name"]
unique_together = [["name", "qty"], ["name"]]
delete_policy = "soft_cascade"
fields.name = { type = "char", max_length = 10 }
fields.qty = "integer"

[models.shop.A]
delete_policy = "hard"
fields.x = "text"
[models.shop.B]
delete_policy = "soft"
fields.x = "text"
[models.shop.C]
delete_policy = "never"
fields.x = "text"
[models.shop.D]
fields.x = "text"
)");
  const ModelMeta& m = p.registry->get("shop.OrderLine");
  EXPECT_EQ(m.display, "{qty} x {name}");
  EXPECT_EQ(m.db_table, "order_lines");
  EXPECT_EQ(m.verbose_name, "line");
  EXPECT_EQ(m.verbose_name_plural, "lines of orders");
  EXPECT_EQ(m.ordering, (std::vector<std::string>{"-qty", "name"}));
  EXPECT_EQ(m.unique_together, (std::vector<std::vector<std::string>>{{"name", "qty"}, {"name"}}));
  EXPECT_EQ(m.delete_policy, DeletePolicy::SoftCascade);
  EXPECT_EQ(p.registry->get("shop.A").delete_policy, DeletePolicy::Hard);
  EXPECT_EQ(p.registry->get("shop.B").delete_policy, DeletePolicy::Soft);
  EXPECT_EQ(p.registry->get("shop.C").delete_policy, DeletePolicy::Never);
  EXPECT_EQ(p.registry->get("shop.D").delete_policy, DeletePolicy::Hard);
  EXPECT_EQ(p.registry->get("shop.D").verbose_name, "d");
  EXPECT_EQ(p.registry->get("shop.D").db_table, "shop_d");
  Instance line(m, {{"name", "pen"}, {"qty", 3}});
  EXPECT_EQ(line.str(), "3 x pen");
}

// ---- bad files ---------------------------------------------------------------------------------

TEST(LoaderErrors, UnknownTopLevelKey) {
  auto e = load_error(R"([models.blog.Post]
fields.title = "text"

[modles.blog.Tag]
fields.name = "text"
)");
  expect_error_at(e, 4,
                  {"settings: unknown key 'modles' (did you mean 'models'?)",
                   "allowed keys: database, models"});
  e = load_error("title = 1\n[models.blog.Post]\nfields.title = \"text\"\n");
  expect_error_at(e, 1, {"settings: unknown key 'title'"});
}

TEST(LoaderErrors, UnknownDatabaseKey) {
  auto e = load_error(R"([database]
uri = "sqlite:///x.db"
)");
  expect_error_at(e, 2, {"[database]: unknown key 'uri' (did you mean 'url'?)"});
  e = load_error("[database]\nurl = 5\n[models.a.M]\nfields.x = \"text\"\n");
  expect_error_at(e, 2, {"[database] url must be a string"});
}

TEST(LoaderErrors, UnknownModelKey) {
  auto e = load_error(R"([models.blog.Post]
fields.title = "text"
dispaly = "{title}"
)");
  expect_error_at(e, 3,
                  {"model blog.Post: unknown key 'dispaly' (did you mean 'display'?)",
                   "allowed keys: fields, display"});
}

TEST(LoaderErrors, UnknownFieldKeySuggestsTheClosestKey) {
  auto e = load_error(R"([models.blog.Post]
fields.title = { type = "text" }
fields.slug = { type = "char", max_lenght = 50 }
)");
  expect_error_at(e, 3,
                  {"model blog.Post, field 'slug': unknown key 'max_lenght' (did you mean "
                   "'max_length'?)",
                   "allowed keys: type, null"});
  e = load_error(R"([models.blog.Post]
fields.title = { type = "text", nul = true }
)");
  expect_error_at(e, 2, {"field 'title': unknown key 'nul' (did you mean 'null'?)"});
  e = load_error(R"([models.blog.Post]
fields.title = { type = "text", xyzzy = true }
)");
  expect_error_at(e, 2, {"unknown key 'xyzzy'; allowed keys"});
  EXPECT_EQ(e.what.find("did you mean"), std::string::npos) << e.what;
}

TEST(LoaderErrors, WrongValueTypes) {
  struct Case {
    const char* text;
    int line;
    const char* message;
  };
  const Case cases[] = {
      {"[models.blog.Post]\nfields.slug = { type = \"char\", max_length = \"50\" }\n", 2,
       "model blog.Post, field 'slug': 'max_length' must be an integer"},
      {"[models.blog.Post]\nfields.t = { type = \"text\", null = \"yes\" }\n", 2,
       "model blog.Post, field 't': 'null' must be true or false"},
      {"[models.blog.Post]\nfields.t = { type = \"text\", unique = 1 }\n", 2,
       "field 't': 'unique' must be true or false"},
      {"[models.blog.Post]\nfields.t = { type = 3 }\n", 2, "field 't': 'type' must be a string"},
      {"[models.blog.Post]\nfields.t = { type = \"text\", db_column = false }\n", 2,
       "field 't': 'db_column' must be a string"},
      {"[models.blog.Post]\nfields.t = { type = \"text\", default = [1] }\n", 2,
       "field 't': 'default' must be a string, number, boolean, date or datetime"},
      {"[models.blog.Post]\nfields.t = { type = \"integer\", default = 10:20:00 }\n", 2,
       "field 't': 'default' must be a string, number, boolean, date or datetime"},
      {"[models.blog.Post]\nfields.t = \"text\"\ndisplay = 3\n", 3,
       "model blog.Post: 'display' must be a string"},
      {"[models.blog.Post]\nfields.t = \"text\"\nordering = \"t\"\n", 3,
       "model blog.Post: 'ordering' must be an array of strings"},
      {"[models.blog.Post]\nfields.t = \"text\"\nordering = [1]\n", 3,
       "model blog.Post: 'ordering' items must be a string"},
      {"[models.blog.Post]\nfields.t = \"text\"\nunique_together = \"t\"\n", 3,
       "'unique_together' must be an array of arrays of field names"},
      {"[models.blog.Post]\nfields.t = \"text\"\nunique_together = [\"t\"]\n", 3,
       "'unique_together' must be an array of strings"},
      {"[models.blog.Post]\nfields = 3\n", 2, "model blog.Post: 'fields' must be a table"},
      {"[models.blog.Post]\nfields.t = 3\n", 2, "model blog.Post, field 't' must be a table"},
      {"[models.blog]\nPost = 3\n", 2,
       "[models.blog]: 'Post' must be a model table ([models.blog.Post]); is the app level "
       "missing?"},
      {"[models.blog.Post]\nfields.t = \"text\"\ndelete_policy = \"gone\"\n", 3,
       "'delete_policy': unknown policy 'gone'; expected hard, soft, soft_cascade or never"},
      {"[models.blog.Author]\nfields.n = \"text\"\n[models.blog.Post]\n"
       "fields.a = { type = \"foreign_key\", to = 5, on_delete = \"CASCADE\" }\n",
       4, "model blog.Post, field 'a': 'to' must be a string"},
      {"[models.blog.Post]\nfields.t = { type = \"char\", max_length = 0 }\n", 2,
       "field 't': 'max_length' must be positive"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    expect_error_at(load_error(c.text), c.line, {c.message});
  }
}

TEST(LoaderErrors, OptionsOnTheWrongKindOfField) {
  struct Case {
    const char* field;
    const char* message;
  };
  const Case cases[] = {
      {"{ type = \"text\", max_length = 5 }", "field 'x': 'max_length' is only for char fields"},
      {"{ type = \"text\", to = \"M\" }", "field 'x': 'to' is only for relations"},
      {"{ type = \"text\", on_delete = \"CASCADE\" }",
       "field 'x': 'on_delete' is only for "
       "relations"},
      {"{ type = \"text\", related_name = \"y\" }", "field 'x': 'related_name' is only for"},
      {"{ type = \"text\", set = 1 }", "field 'x': 'set' is only for relations"},
      {"{ type = \"foreign_key\", to = \"M\", on_delete = \"CASCADE\", db_table = \"t\" }",
       "field 'x': 'db_table' is only for many_to_many fields"},
      {"{ type = \"many_to_many\", to = \"M\", on_delete = \"CASCADE\" }",
       "field 'x': 'on_delete' does not apply to many_to_many"},
      {"{ type = \"foreign_key\", to = \"M\", on_delete = \"CASCADE\", set = 1 }",
       "field 'x': 'set' goes with on_delete = \"SET\""},
      {"\"char\"", "field 'x': a char field needs options; write it as a table"},
      {"\"foreign_key\"", "field 'x': a foreign_key field needs options"},
      {"{ type = \"char\" }", "field 'x': CharFields must define a 'max_length' attribute."},
      {"{ null = true }", "field 'x': missing key 'type'"},
      {"{ type = \"integer\", default = \"abc\" }",
       "field 'x': 'default': Field 'x' expected a number but got 'abc'."},
      {"{ type = \"date\", default = \"29/02/2024\" }",
       "field 'x': 'default': “29/02/2024” value has an invalid date format."},
      {"{ type = \"boolean\", default = \"maybe\" }",
       "'default': “maybe” value must be either True or False."},
      {"{ type = \"many_to_many\", to = \"M\", db_column = \"c\" }",
       "field 'x': 'db_column' does not apply to many_to_many fields"},
      {"{ type = \"many_to_many\", to = \"M\", null = true }",
       "field 'x': 'null' does not apply to many_to_many fields"},
  };
  for (const auto& c : cases) {
    std::string text =
        std::string("[models.a.M]\nfields.y = \"text\"\nfields.x = ") + c.field + "\n";
    SCOPED_TRACE(text);
    expect_error_at(load_error(text), 3, {"model a.M", c.message});
  }
}

TEST(LoaderErrors, UnknownFieldTypeSuggestsOne) {
  auto e = load_error(R"([models.blog.Post]
fields.title = { type = "charr", max_length = 5 }
)");
  expect_error_at(e, 2,
                  {"model blog.Post, field 'title': unknown field type 'charr' (did you "
                   "mean 'char'?); known types: auto, char, text"});
  e = load_error("[models.blog.Post]\n\nfields.title = \"string\"\n");
  expect_error_at(e, 3, {"field 'title': unknown field type 'string'"});
}

TEST(LoaderErrors, UnknownOnDeleteSuggestsOne) {
  auto e = load_error(R"([models.blog.Author]
fields.name = "text"
[models.blog.Post]
fields.author = { type = "foreign_key", to = "Author", on_delete = "CASCADES" }
)");
  expect_error_at(e, 4,
                  {"model blog.Post, field 'author': 'on_delete': unknown rule 'CASCADES' "
                   "(did you mean 'CASCADE'?)"});
  // Rules are case-sensitive, as Python names.
  e = load_error(R"([models.blog.Author]
fields.name = "text"
[models.blog.Post]
fields.author = { type = "foreign_key", to = "Author", on_delete = "set_null", null = true }
)");
  expect_error_at(e, 4, {"unknown rule 'set_null' (did you mean 'SET_NULL'?)"});
}

TEST(LoaderErrors, RelationToAMissingModel) {
  auto e = load_error(R"([models.blog.Post]
fields.title = "text"
fields.author = { type = "foreign_key", to = "Writer", on_delete = "CASCADE" }
)");
  expect_error_at(e, 3,
                  {"model blog.Post, field 'author': 'to': no model 'Writer' in this file "
                   "(a model of the same app by name, another app's as app.Model)"});
  e = load_error(R"([models.blog.Author]
fields.name = "text"
[models.blog.Post]
fields.author = { type = "foreign_key", to = "Autor", on_delete = "CASCADE" }
)");
  expect_error_at(e, 4, {"'to': no model 'Autor' in this file (did you mean 'Author'?)"});
  e = load_error(R"([models.blog.Post]
fields.title = "text"

[models.shop.Item]
fields.tags = { type = "many_to_many", to = "shop.Post" }
)");
  expect_error_at(e, 5, {"model shop.Item, field 'tags'", "model 'shop.Post'"});
}

TEST(LoaderErrors, SetNullOnANonNullForeignKey) {
  // fields.E320 (spec rule 32).
  auto e = load_error(R"([models.blog.Author]
fields.name = "text"

[models.blog.Post]
fields.title = "text"
fields.editor = { type = "foreign_key", to = "Author", on_delete = "SET_NULL" }
)");
  expect_error_at(e, 6,
                  {"model blog.Post, field 'editor': Field specifies on_delete=SET_NULL, "
                   "but cannot be null."});
  e = load_error(R"([models.blog.Author]
fields.name = "text"
[models.blog.Post]
fields.editor = { type = "foreign_key", to = "Author", on_delete = "DB_SET_NULL" }
)");
  expect_error_at(e, 4,
                  {"field 'editor': Field specifies on_delete=DB_SET_NULL, but cannot be "
                   "null."});
}

TEST(LoaderErrors, SetAndSetDefaultNeedAValue) {
  // Spec rules 33 and 34.
  auto e = load_error(R"([models.blog.Author]
fields.name = "text"
[models.blog.Post]
fields.title = "text"
fields.author = { type = "foreign_key", to = "Author", on_delete = "SET" }
)");
  expect_error_at(e, 5,
                  {"model blog.Post, field 'author': on_delete=SET needs a value: set = <value> in "
                   "a models file"});
  e = load_error(R"([models.blog.Author]
fields.name = "text"
[models.blog.Post]
fields.author = { type = "foreign_key", to = "Author", on_delete = "SET_DEFAULT" }
)");
  expect_error_at(e, 4,
                  {"model blog.Post, field 'author': Field specifies on_delete=SET_DEFAULT, "
                   "but has no default value."});
}

TEST(LoaderErrors, MissingToAndMissingOnDelete) {
  auto e = load_error(R"([models.blog.Post]
fields.title = "text"
fields.author = { type = "foreign_key", on_delete = "CASCADE" }
)");
  expect_error_at(e, 3, {"model blog.Post, field 'author': missing key 'to'"});
  e = load_error(R"([models.blog.Author]
fields.name = "text"
[models.blog.Post]
fields.author = { type = "foreign_key", to = "Author" }
)");
  expect_error_at(e, 4,
                  {"model blog.Post, field 'author': missing key 'on_delete' (CASCADE, "
                   "PROTECT, RESTRICT, SET_NULL"});
  e = load_error("[models.a.M]\nfields.t = \"text\"\nfields.m = { type = \"many_to_many\" }\n");
  expect_error_at(e, 3, {"field 'm': missing key 'to'"});
}

TEST(LoaderErrors, TomlSyntaxErrors) {
  auto e = load_error(R"([models.blog.Post]
fields.title = "text"
fields.body = { type = "text"
)");
  EXPECT_EQ(e.file, "site.toml");
  EXPECT_EQ(e.line, 3) << e.what;
  EXPECT_CONTAINS(e.what, "site.toml:3: TOML syntax error");
  e = load_error(R"([models.blog.Post]
fields.title = "text"

[models.blog.Post]
fields.body = "text"
)");
  expect_error_at(e, 4, {"TOML syntax error", "already exists"});
  e = load_error("[models.blog.Post]\nfields.title = 'unterminated\n");
  EXPECT_EQ(e.line, 2) << e.what;
  EXPECT_CONTAINS(e.what, "TOML syntax error");
}

TEST(LoaderErrors, MissingModels) {
  auto e = load_error("[database]\nurl = \"sqlite:///x.db\"\n");
  EXPECT_EQ(e.file, "site.toml");
  EXPECT_EQ(e.line, 0);
  EXPECT_CONTAINS(e.what, "site.toml: no [models.<app>.<Model>] tables");
  e = load_error("");
  EXPECT_CONTAINS(e.what, "no [models.<app>.<Model>] tables");
  e = load_error("[models.blog.Post]\ndisplay = \"x\"\n");
  expect_error_at(e, 1, {"model blog.Post: missing table 'fields'"});
}

TEST(LoaderErrors, BadNames) {
  auto e = load_error("[models.blog.Post]\nfields.t = \"text\"\nfields.a__b = \"text\"\n");
  expect_error_at(e, 3, {"model blog.Post, field 'a__b': Field names must not contain \"__\"."});
  e = load_error("[models.blog.Post]\nfields.pk = \"text\"\n");
  expect_error_at(e, 2, {"field 'pk': 'pk' is a reserved word"});
  e = load_error("[models.blog.Post]\nfields.t = \"text\"\nfields.t_ = \"text\"\n");
  expect_error_at(e, 3, {"field 't_': Field names must not end with an underscore."});
  e = load_error("[models.my-app.Post]\nfields.t = \"text\"\n");
  EXPECT_GT(e.line, 0) << e.what;
  EXPECT_CONTAINS(e.what, "app label 'my-app'");
  e = load_error("[models.blog.\"Bad Name\"]\nfields.t = \"text\"\n");
  expect_error_at(e, 1, {"model name 'Bad Name'"});
}

TEST(LoaderErrors, RegistryChecksNameTheModelsLine) {
  auto e = load_error(R"([models.blog.Author]
fields.name = "text"

[models.blog.Post]
fields.title = "text"
ordering = ["-nope"]
)");
  expect_error_at(e, 4, {"blog.Post: 'ordering' refers to the nonexistent field 'nope'."});
  e = load_error(R"([models.blog.Author]
fields.name = "text"

[models.blog.Post]
fields.author = { type = "foreign_key", to = "Author", on_delete = "CASCADE" }
fields.editor = { type = "foreign_key", to = "Author", on_delete = "PROTECT" }
)");
  expect_error_at(e, 4,
                  {"Reverse accessor 'Author.post_set' for 'blog.Post.editor' clashes with "
                   "another reverse accessor."});
  e = load_error(R"([models.blog.Post]
fields.t = "text"

[models.blog.Old]
db_table = "blog_post"
fields.t = "text"
)");
  expect_error_at(e, 4, {"db_table 'blog_post' is used by multiple models: blog.Post, blog.Old."});
  e = load_error("[models.blog.Post]\nfields.t = \"text\"\ndisplay = \"{title}\"\n");
  expect_error_at(e, 1, {"blog.Post: the display template '{title}' names 'title'"});
}

TEST(LoaderErrors, InvalidUtf8IsRefusedWithItsLine) {
  // Regression cases of fuzz/corpus/models_file/regression-toml11-*: Debian's toml11 reads past
  // the end of a literal string that holds invalid UTF-8, so the loader checks first.
  for (std::string text : {std::string("[models.blog.Post]\nx = '\x80'\n"),
                           std::string("[models.blog.Post]\nx = '\x27\x27\x80\x27\x27\x27'\n"),
                           std::string("[models.blog.Post]\nx = \"\xc0\xab\"\n")}) {
    auto e = load_error(text);
    expect_error_at(e, 2, {"invalid UTF-8", "a models file must be UTF-8"});
  }
}

// ---- files -------------------------------------------------------------------------------------

TEST(LoadProject, ExampleBlogShop) {
  std::string path = CASCADE_SOURCE_DIR "/examples/blog_shop/cascade.toml";
  Project p = load_project(path);
  EXPECT_EQ(p.settings_path, path);
  EXPECT_EQ(p.database_url, "sqlite:///blog_shop.db");
  auto dir = std::filesystem::path(CASCADE_SOURCE_DIR) / "examples" / "blog_shop";
  EXPECT_EQ(p.base_dir, std::filesystem::absolute(dir).lexically_normal().string());
  ASSERT_TRUE(p.registry);
  EXPECT_TRUE(p.registry->finalized());
  EXPECT_EQ(model_labels(*p.registry),
            (std::vector<std::string>{"blog.Author", "blog.Tag", "blog.Post", "blog.Post_tags",
                                      "blog.Comment", "shop.Product", "shop.PlainProduct",
                                      "shop.Order", "shop.OrderItem", "crm.Contact", "crm.Note"}));
  const ModelMeta& post = p.registry->get("blog.Post");
  EXPECT_EQ(field_names(post),
            (std::vector<std::string>{"id", "title", "content", "status", "author", "editor",
                                      "is_deleted", "published"}));
  EXPECT_EQ(post.get_field("editor").on_delete, OnDelete::SetNull);
  EXPECT_EQ(p.registry->get("shop.OrderItem").get_field("product").on_delete, OnDelete::Protect);
}

TEST(LoadProject, MissingFileNamesThePath) {
  std::string path = CASCADE_SOURCE_DIR "/examples/blog_shop/no-such-file.toml";
  try {
    load_project(path);
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), path);
    EXPECT_CONTAINS(e.what(), path + ": cannot read the settings file");
  }
}

}  // namespace
}  // namespace cascade
