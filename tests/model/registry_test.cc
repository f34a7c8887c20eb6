// Tests for Registry::finalize (Django's model options and system checks), model lookups, Field
// and Instance (defaults, conversions, str/repr).
#include "cascade/model/registry.h"

#include <gtest/gtest.h>

#include "support/assertions.h"

#include <memory>
#include <set>
#include <ostream>
#include <string>
#include <vector>

#include "cascade/error.h"
#include "cascade/model/instance.h"
#include "cascade/model/model_meta.h"
#include "cascade/model/on_delete.h"

namespace cascade {

namespace {

// ---- declarations ---------------------------------------------------------------------------

Field field(std::string name, FieldType type) {
  Field f;
  f.name = std::move(name);
  f.type = type;
  return f;
}

Field char_field(std::string name, int max_length = 100) {
  Field f = field(std::move(name), FieldType::Char);
  f.max_length = max_length;
  return f;
}

Field relation(std::string name, FieldType type, std::string to,
               OnDelete on_delete = OnDelete::Cascade, std::string related_name = {}) {
  Field f = field(std::move(name), type);
  f.to = std::move(to);
  f.on_delete = on_delete;
  f.related_name = std::move(related_name);
  return f;
}

Field fk(std::string name, std::string to, OnDelete on_delete = OnDelete::Cascade,
         std::string related_name = {}) {
  return relation(std::move(name), FieldType::ForeignKey, std::move(to), on_delete,
                  std::move(related_name));
}

ModelMeta model(std::string app, std::string name, std::vector<Field> fields,
                std::vector<Field> many_to_many = {}) {
  ModelMeta m(std::move(app), std::move(name));
  m.fields = std::move(fields);
  m.many_to_many = std::move(many_to_many);
  return m;
}

// blog.Author, blog.Tag, blog.Post (author, editor, tags), blog.Comment, blog.Profile and
// shop.OrderItem; finalized.
std::unique_ptr<Registry> blog_registry() {
  auto r = std::make_unique<Registry>();
  r->add(model("blog", "Author", {char_field("name")}), "test:1");
  r->add(model("blog", "Tag", {char_field("name", 50)}), "test:2");
  Field editor = fk("editor", "Author", OnDelete::SetNull, "edited_posts");
  editor.null = true;
  ModelMeta post = model("blog", "Post",
                         {char_field("title", 200), fk("author", "blog.Author"), std::move(editor),
                          field("body", FieldType::Text)},
                         {relation("tags", FieldType::ManyToMany, "Tag")});
  post.display = "{title}";
  r->add(std::move(post), "test:3");
  r->add(model("blog", "Comment", {fk("post", "Post", OnDelete::Cascade, "+")}), "test:4");
  r->add(model("blog", "Profile", {relation("author", FieldType::OneToOne, "Author")}), "test:5");
  r->add(model("shop", "OrderItem", {field("quantity", FieldType::Integer)}), "test:6");
  r->finalize();
  return r;
}

// The ConfigError message `f` throws; a test failure when it throws none.
template <typename F>
std::string config_error(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError was thrown";
  return {};
}

// Finalizes a registry holding `models`; returns the ConfigError message.
std::string finalize_error(std::vector<ModelMeta> models) {
  Registry r;
  for (auto& m : models) r.add(std::move(m));
  return config_error([&] { r.finalize(); });
}

std::vector<std::string> labels(const Registry& r) {
  std::vector<std::string> out;
  for (const ModelMeta* m : r.models()) out.push_back(m->label());
  return out;
}

std::vector<std::string> names(const std::vector<Field>& fields) {
  std::vector<std::string> out;
  for (const auto& f : fields) out.push_back(f.name);
  return out;
}

// ---- finalize: defaults ------------------------------------------------------------------------

TEST(RegistryFinalize, DefaultTableNameIsAppAndLowercaseModel) {
  auto r = blog_registry();
  EXPECT_EQ(r->get("blog.Post").db_table, "blog_post");
  EXPECT_EQ(r->get("shop.OrderItem").db_table, "shop_orderitem");
}

TEST(RegistryFinalize, DeclaredTableNameIsKept) {
  Registry r;
  ModelMeta m = model("blog", "Post", {});
  m.db_table = "posts";
  r.add(std::move(m));
  r.finalize();
  EXPECT_EQ(r.get("blog.Post").db_table, "posts");
}

TEST(RegistryFinalize, AddsAutoIdPrimaryKeyFirst) {
  auto r = blog_registry();
  const ModelMeta& post = r->get("blog.Post");
  EXPECT_EQ(names(post.fields),
            (std::vector<std::string>{"id", "title", "author", "editor", "body"}));
  const Field& pk = post.pk();
  EXPECT_EQ(&pk, &post.fields.front());
  EXPECT_EQ(pk.name, "id");
  EXPECT_EQ(pk.column, "id");
  EXPECT_EQ(pk.type, FieldType::Auto);
  EXPECT_TRUE(pk.primary_key);
  EXPECT_FALSE(pk.null);
}

TEST(RegistryFinalize, DeclaredPrimaryKeyMovesFirstAndNoIdIsAdded) {
  Registry r;
  Field code = char_field("code", 10);
  code.primary_key = true;
  r.add(model("shop", "Product", {char_field("name"), std::move(code), char_field("sku")}));
  r.finalize();
  const ModelMeta& m = r.get("shop.Product");
  EXPECT_EQ(names(m.fields), (std::vector<std::string>{"code", "name", "sku"}));
  EXPECT_EQ(m.pk().name, "code");
}

TEST(RegistryFinalize, ForeignKeyColumnsEndInId) {
  auto r = blog_registry();
  const ModelMeta& post = r->get("blog.Post");
  EXPECT_EQ(post.get_field("author").column, "author_id");
  EXPECT_EQ(post.get_field("editor").column, "editor_id");
  EXPECT_EQ(post.get_field("title").column, "title");
  EXPECT_EQ(r->get("blog.Profile").get_field("author").column, "author_id");
  // A field can be found by its column too.
  EXPECT_EQ(post.find_field("author_id"), &post.get_field("author"));
  EXPECT_EQ(post.field_index("author_id"), post.field_index("author"));
}

TEST(RegistryFinalize, DbColumnIsKept) {
  Registry r;
  r.add(model("blog", "Author", {}));
  Field f = fk("author", "Author");
  f.column = "writer";
  Field title = char_field("title");
  title.column = "headline";
  r.add(model("blog", "Post", {std::move(f), std::move(title)}));
  r.finalize();
  EXPECT_EQ(r.get("blog.Post").get_field("author").column, "writer");
  EXPECT_EQ(r.get("blog.Post").get_field("headline").name, "title");
}

TEST(RegistryFinalize, RelationTargetsResolve) {
  auto r = blog_registry();
  const ModelMeta& author = r->get("blog.Author");
  const ModelMeta& post = r->get("blog.Post");
  EXPECT_EQ(post.get_field("author").target, &author);  // "blog.Author"
  EXPECT_EQ(post.get_field("editor").target, &author);  // "Author", same app
  EXPECT_EQ(post.get_field("author").model, &post);
  EXPECT_EQ(post.get_field("tags").target, &r->get("blog.Tag"));
}

TEST(RegistryFinalize, SelfAndOtherAppTargets) {
  Registry r;
  r.add(model("blog", "Author", {}));
  r.add(model("shop", "Item",
              {fk("parent", "self", OnDelete::DoNothing, "children"), fk("writer", "blog.Author"),
               fk("writer2", "Author", OnDelete::Cascade, "+")}));
  r.finalize();
  const ModelMeta& item = r.get("shop.Item");
  EXPECT_EQ(item.get_field("parent").target, &item);
  EXPECT_EQ(item.get_field("writer").target, &r.get("blog.Author"));
  // A bare name not in the same app is looked up across apps.
  EXPECT_EQ(item.get_field("writer2").target, &r.get("blog.Author"));
}

TEST(RegistryFinalize, SameAppWinsForBareRelationTargets) {
  Registry r;
  r.add(model("blog", "Tag", {}));
  r.add(model("shop", "Tag", {}));
  r.add(model("shop", "Item", {fk("tag", "Tag")}));
  r.finalize();
  EXPECT_EQ(r.get("shop.Item").get_field("tag").target, &r.get("shop.Tag"));
}

TEST(RegistryFinalize, VerboseNamesAsDjango) {
  Registry r;
  r.add(model("shop", "OrderItem", {}));
  r.add(model("shop", "HTTPServer", {}));
  r.add(model("shop", "MyURL", {}));
  r.add(model("shop", "Post2Tag", {}));
  r.add(model("shop", "URLs", {}));
  r.add(model("shop", "iPhone", {}));
  ModelMeta person = model("shop", "Person", {});
  person.verbose_name = "human";
  r.add(std::move(person));
  ModelMeta box = model("shop", "Box", {});
  box.verbose_name_plural = "boxes";
  r.add(std::move(box));
  r.finalize();
  // Django's camel_case_to_spaces, checked with Python's re.
  EXPECT_EQ(r.get("shop.OrderItem").verbose_name, "order item");
  EXPECT_EQ(r.get("shop.OrderItem").verbose_name_plural, "order items");
  EXPECT_EQ(r.get("shop.HTTPServer").verbose_name, "http server");
  EXPECT_EQ(r.get("shop.MyURL").verbose_name, "my url");
  EXPECT_EQ(r.get("shop.Post2Tag").verbose_name, "post2 tag");
  EXPECT_EQ(r.get("shop.URLs").verbose_name, "ur ls");
  EXPECT_EQ(r.get("shop.iPhone").verbose_name, "i phone");
  EXPECT_EQ(r.get("shop.Person").verbose_name, "human");
  EXPECT_EQ(r.get("shop.Person").verbose_name_plural, "humans");
  EXPECT_EQ(r.get("shop.Box").verbose_name, "box");
  EXPECT_EQ(r.get("shop.Box").verbose_name_plural, "boxes");
}

TEST(RegistryFinalize, LabelsAndModelName) {
  auto r = blog_registry();
  const ModelMeta& m = r->get("shop.OrderItem");
  EXPECT_EQ(m.label(), "shop.OrderItem");
  EXPECT_EQ(m.label_lower(), "shop.orderitem");
  EXPECT_EQ(m.model_name(), "orderitem");
  EXPECT_TRUE(r->finalized());
}

TEST(RegistryFinalize, FinalizeTwiceIsHarmless) {
  auto r = blog_registry();
  r->finalize();
  EXPECT_EQ(names(r->get("blog.Post").fields),
            (std::vector<std::string>{"id", "title", "author", "editor", "body"}));
}

TEST(RegistryFinalize, PkThrowsBeforeFinalize) {
  ModelMeta m = model("blog", "Post", {char_field("title")});
  EXPECT_THROW(m.pk(), Error);
}

// ---- many-to-many through models (spec rule 54: counted as "app.Owner_field") -------------------

TEST(RegistryThrough, AutoCreatedThroughModelFollowsItsOwner) {
  auto r = blog_registry();
  EXPECT_EQ(labels(*r),
            (std::vector<std::string>{"blog.Author", "blog.Tag", "blog.Post", "blog.Post_tags",
                                      "blog.Comment", "blog.Profile", "shop.OrderItem"}));
  const ModelMeta& through = r->get("blog.Post_tags");
  EXPECT_EQ(through.object_name, "Post_tags");
  EXPECT_EQ(through.db_table, "blog_post_tags");
  EXPECT_TRUE(through.auto_created);
  EXPECT_EQ(r->get("blog.Post").get_field("tags").through, &through);
  EXPECT_EQ(through.verbose_name, "post-tag relationship");
  EXPECT_EQ(through.verbose_name_plural, "post-tag relationships");
}

TEST(RegistryThrough, ThroughHasIdAndTwoCascadingForeignKeys) {
  auto r = blog_registry();
  const ModelMeta& through = r->get("blog.Post_tags");
  ASSERT_EQ(names(through.fields), (std::vector<std::string>{"id", "post", "tag"}));
  EXPECT_EQ(through.pk().type, FieldType::Auto);
  const Field& post = through.get_field("post");
  const Field& tag = through.get_field("tag");
  EXPECT_EQ(post.column, "post_id");
  EXPECT_EQ(tag.column, "tag_id");
  EXPECT_EQ(post.target, &r->get("blog.Post"));
  EXPECT_EQ(tag.target, &r->get("blog.Tag"));
  EXPECT_EQ(post.on_delete, OnDelete::Cascade);
  EXPECT_EQ(tag.on_delete, OnDelete::Cascade);
  EXPECT_EQ(post.model, &through);
  EXPECT_FALSE(post.null);
  // Hidden reverse relations, as Django's "Post_tags+".
  EXPECT_EQ(post.related_name, "Post_tags+");
  EXPECT_EQ(post.related_accessor_name(), "");
  EXPECT_EQ(through.unique_together, (std::vector<std::vector<std::string>>{{"post", "tag"}}));
}

TEST(RegistryThrough, SelfReferentialUsesFromAndToNames) {
  Registry r;
  r.add(model("people", "Person", {}, {relation("friends", FieldType::ManyToMany, "self")}));
  r.finalize();
  const ModelMeta& through = r.get("people.Person_friends");
  ASSERT_EQ(names(through.fields), (std::vector<std::string>{"id", "from_person", "to_person"}));
  EXPECT_EQ(through.get_field("from_person").column, "from_person_id");
  EXPECT_EQ(through.get_field("to_person").column, "to_person_id");
  EXPECT_EQ(through.get_field("to_person").target, &r.get("people.Person"));
  EXPECT_EQ(through.unique_together,
            (std::vector<std::vector<std::string>>{{"from_person", "to_person"}}));
  EXPECT_EQ(through.verbose_name, "from_person-to_person relationship");
}

TEST(RegistryThrough, DbTableOptionNamesTheThroughTable) {
  Registry r;
  r.add(model("blog", "Tag", {}));
  Field tags = relation("tags", FieldType::ManyToMany, "Tag");
  tags.db_table = "post_tag_links";
  ModelMeta post = model("blog", "Post", {}, {std::move(tags)});
  post.db_table = "posts";
  Field cats = relation("cats", FieldType::ManyToMany, "Tag", OnDelete::Cascade, "cat_posts");
  post.many_to_many.push_back(std::move(cats));
  r.add(std::move(post));
  r.finalize();
  EXPECT_EQ(r.get("blog.Post_tags").db_table, "post_tag_links");
  // Without db_table: the owner's table (here a declared one) plus the field name.
  EXPECT_EQ(r.get("blog.Post_cats").db_table, "posts_cats");
  // Several through models of one owner keep the declaration order, after the owner.
  EXPECT_EQ(labels(r), (std::vector<std::string>{"blog.Tag", "blog.Post", "blog.Post_tags",
                                                 "blog.Post_cats"}));
}

// ---- reverse relations (spec rule 14: candidate relations include through FKs, hidden ones) -----

TEST(RegistryReverse, RelatedObjectsInRegistrationOrder) {
  auto r = blog_registry();
  auto related = [&](const char* label) {
    std::vector<std::string> out;
    for (const auto& rel : r->get(label).related_objects) {
      out.push_back(rel.related_model()->label() + "." + rel.field->name);
    }
    return out;
  };
  EXPECT_EQ(
      related("blog.Author"),
      (std::vector<std::string>{"blog.Post.author", "blog.Post.editor", "blog.Profile.author"}));
  EXPECT_EQ(related("blog.Tag"),
            (std::vector<std::string>{"blog.Post.tags", "blog.Post_tags.tag"}));
  EXPECT_EQ(related("blog.Post"),
            (std::vector<std::string>{"blog.Post_tags.post", "blog.Comment.post"}));
  EXPECT_TRUE(related("shop.OrderItem").empty());
}

TEST(RegistryReverse, AccessorNameDefaults) {
  auto r = blog_registry();
  const ModelMeta& post = r->get("blog.Post");
  EXPECT_EQ(post.get_field("author").related_accessor_name(), "post_set");
  EXPECT_EQ(post.get_field("editor").related_accessor_name(), "edited_posts");
  EXPECT_EQ(post.get_field("tags").related_accessor_name(), "post_set");
  EXPECT_EQ(r->get("blog.Profile").get_field("author").related_accessor_name(), "profile");
  EXPECT_EQ(r->get("blog.Comment").get_field("post").related_accessor_name(), "");
}

TEST(RegistryReverse, QueryNameDefaults) {
  auto r = blog_registry();
  const ModelMeta& post = r->get("blog.Post");
  EXPECT_EQ(post.get_field("author").related_query_name(), "post");
  EXPECT_EQ(post.get_field("editor").related_query_name(), "edited_posts");
  EXPECT_EQ(r->get("blog.Comment").get_field("post").related_query_name(), "comment");
}

TEST(RegistryReverse, HiddenRelationsNeverClash) {
  Registry r;
  r.add(model("blog", "Author", {}));
  r.add(model("blog", "Post",
              {fk("a", "Author", OnDelete::Cascade, "+"), fk("b", "Author", OnDelete::Cascade, "+"),
               fk("c", "Author", OnDelete::Cascade, "c_posts+")}));
  EXPECT_NO_THROW(r.finalize());
  EXPECT_EQ(r.get("blog.Post").get_field("c").related_accessor_name(), "");
  EXPECT_EQ(r.get("blog.Author").related_objects.size(), 3u);
}

// ---- lookups -----------------------------------------------------------------------------------

TEST(RegistryLookup, ByLabelCaseInsensitiveModelAndBareName) {
  auto r = blog_registry();
  const ModelMeta* post = &r->get("blog.Post");
  EXPECT_EQ(post->label(), "blog.Post");
  EXPECT_EQ(r->find("blog.Post"), post);
  EXPECT_EQ(r->find("blog.post"), post);
  EXPECT_EQ(r->find("blog.POST"), post);
  EXPECT_EQ(&r->get("blog.post"), post);
  EXPECT_EQ(r->find("Post"), post);
  EXPECT_EQ(r->find("orderitem"), &r->get("shop.OrderItem"));
  EXPECT_EQ(r->find("blog.Post_tags"), &r->get("blog.post_tags"));
  // App labels are exact.
  EXPECT_EQ(r->find("Blog.Post"), nullptr);
  EXPECT_EQ(r->find("blog.Nope"), nullptr);
  EXPECT_EQ(r->find("Nope"), nullptr);
  EXPECT_EQ(r->find(""), nullptr);
}

TEST(RegistryLookup, BareNameInTwoAppsIsAmbiguous) {
  Registry r;
  r.add(model("blog", "Tag", {}));
  r.add(model("shop", "Tag", {}));
  EXPECT_EQ(r.find("Tag"), nullptr);
  EXPECT_NE(r.find("shop.Tag"), nullptr);
  EXPECT_THROW(r.get("Tag"), Error);
}

TEST(RegistryLookup, DjangoLookupErrorMessages) {
  auto r = blog_registry();
  try {
    r->get("x.Post");
    FAIL() << "no error";
  } catch (const LookupError& e) {
    EXPECT_EQ(e.python_name(), "LookupError");
    EXPECT_STREQ(e.what(), "No installed app with label 'x'.");
  }
  try {
    r->get("blog.Nope");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "App 'blog' doesn't have a 'Nope' model.");
  }
  try {
    r->get("Nope");
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_CONTAINS(what, "'Nope'");
    EXPECT_CONTAINS(what, "blog.Author, blog.Tag, blog.Post, blog.Comment");
    EXPECT_EQ(what.find("Post_tags"), std::string::npos) << "auto-created models are not listed";
  }
}

TEST(RegistryLookup, ModelsInRegistrationOrder) {
  Registry r;
  r.add(model("z", "B", {}));
  r.add(model("a", "A", {}));
  EXPECT_EQ(labels(r), (std::vector<std::string>{"z.B", "a.A"}));
}

TEST(RegistryLookup, GetFieldErrorListsChoices) {
  auto r = blog_registry();
  try {
    r->get("blog.Post").get_field("nope");
    FAIL() << "no FieldError";
  } catch (const FieldError& e) {
    EXPECT_STREQ(e.what(),
                 "Post has no field named 'nope'. Choices are: author, author_id, body, editor, "
                 "editor_id, id, tags, title");
  }
  EXPECT_EQ(r->get("blog.Post").find_field("nope"), nullptr);
}

// ---- bad declarations ---------------------------------------------------------------------------

TEST(RegistryErrors, DuplicateModel) {
  Registry r;
  r.add(model("blog", "Post", {}), "a.toml:3");
  std::string msg = config_error([&] { r.add(model("blog", "Post", {}), "b.toml:9"); });
  EXPECT_CONTAINS(msg, "model blog.Post is declared twice (first at a.toml:3)");
  EXPECT_CONTAINS(msg, "b.toml:9");
  // Model names are case-insensitive within an app, as Django's registry; other apps are fine.
  EXPECT_THROW(r.add(model("blog", "post", {})), ConfigError);
  EXPECT_NO_THROW(r.add(model("shop", "Post", {})));
}

TEST(RegistryErrors, SourceGivesFileAndLine) {
  Registry r;
  r.add(model("blog", "Post", {}), "models.toml:12");
  try {
    r.add(model("blog", "Post", {}), "models.toml:40");
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), "models.toml");
    EXPECT_EQ(e.line(), 40);
    EXPECT_EQ(std::string(e.what()).rfind("models.toml:40: ", 0), 0u) << e.what();
    EXPECT_EQ(e.python_name(), "django.core.exceptions.ImproperlyConfigured");
  }
}

TEST(RegistryErrors, BadAppAndModelNames) {
  for (const char* app : {"", "1blog", "my-app", "bl og", "caf\xc3\xa9"}) {
    Registry r;
    std::string msg = config_error([&] { r.add(model(app, "Post", {})); });
    EXPECT_CONTAINS(msg, "app label");
  }
  for (const char* name : {"", "2Post", "Bad Name", "Post.x", "P\xc3\xb6st"}) {
    Registry r;
    std::string msg = config_error([&] { r.add(model("blog", name, {})); });
    EXPECT_CONTAINS(msg, "model name");
  }
  Registry r;
  EXPECT_NO_THROW(r.add(model("_app2", "_Post_2", {})));
}

TEST(RegistryErrors, BadFieldNames) {
  struct Case {
    const char* name;
    const char* message;
  };
  for (const Case& c : {Case{"a__b", "Field names must not contain \"__\"."},
                        Case{"title_", "Field names must not end with an underscore."},
                        Case{"pk", "'pk' is a reserved word that cannot be used as a field name."},
                        Case{"2x", "must start with a letter"},
                        Case{"has space", "ASCII letters, digits and '_'"}, Case{"", "empty"}}) {
    std::string msg = finalize_error({model("blog", "Post", {char_field(c.name)})});
    EXPECT_CONTAINS(msg, std::string("blog.Post.") + c.name + ": ");
    EXPECT_CONTAINS(msg, c.message);
  }
  std::string msg =
      finalize_error({model("blog", "Tag", {}),
                      model("blog", "Post", {}, {relation("t__x", FieldType::ManyToMany, "Tag")})});
  EXPECT_CONTAINS(msg, "blog.Post.t__x: Field names must not contain \"__\".");
}

TEST(RegistryErrors, CharFieldWithoutMaxLength) {
  std::string msg = finalize_error({model("blog", "Post", {char_field("title", 0)})});
  EXPECT_CONTAINS(msg, "blog.Post.title: CharFields must define a 'max_length' attribute.");
}

TEST(RegistryErrors, SetNullOnNonNullForeignKey) {
  // fields.E320 (spec rule 32).
  std::string msg =
      finalize_error({model("blog", "Author", {}),
                      model("blog", "Post", {fk("editor", "Author", OnDelete::SetNull)})});
  EXPECT_CONTAINS(msg, "blog.Post.editor: Field specifies on_delete=SET_NULL, but cannot be null.");
  msg = finalize_error({model("blog", "Author", {}),
                        model("blog", "Post", {fk("editor", "Author", OnDelete::DbSetNull)})});
  EXPECT_CONTAINS(msg, "Field specifies on_delete=DB_SET_NULL, but cannot be null.");

  Registry ok;
  ok.add(model("blog", "Author", {}));
  Field editor = fk("editor", "Author", OnDelete::SetNull);
  editor.null = true;
  ok.add(model("blog", "Post", {std::move(editor)}));
  EXPECT_NO_THROW(ok.finalize());
}

TEST(RegistryErrors, SetDefaultWithoutDefault) {
  // fields.E321 (spec rule 33).
  std::string msg =
      finalize_error({model("blog", "Author", {}),
                      model("blog", "Post", {fk("author", "Author", OnDelete::SetDefault)})});
  EXPECT_CONTAINS(msg,
                  "blog.Post.author: Field specifies on_delete=SET_DEFAULT, but has no default "
                  "value.");

  Registry ok;
  ok.add(model("blog", "Author", {}));
  Field with_value = fk("a", "Author", OnDelete::SetDefault, "a_posts");
  with_value.default_value = Value(1);
  Field with_factory = fk("b", "Author", OnDelete::SetDefault, "b_posts");
  with_factory.default_factory = [] { return Value(2); };
  ok.add(model("blog", "Post", {std::move(with_value), std::move(with_factory)}));
  EXPECT_NO_THROW(ok.finalize());
}

TEST(RegistryErrors, SetWithoutValue) {
  // Spec rule 34: SET(value) or SET(callable).
  std::string msg =
      finalize_error({model("blog", "Author", {}),
                      model("blog", "Post", {fk("author", "Author", OnDelete::Set)})});
  EXPECT_CONTAINS(msg, "blog.Post.author: on_delete=SET needs a value");

  Registry ok;
  ok.add(model("blog", "Author", {}));
  Field with_value = fk("a", "Author", OnDelete::Set, "a_posts");
  with_value.on_delete_value = Value(1);
  Field with_factory = fk("b", "Author", OnDelete::Set, "b_posts");
  with_factory.on_delete_factory = [] { return Value(2); };
  ok.add(model("blog", "Post", {std::move(with_value), std::move(with_factory)}));
  EXPECT_NO_THROW(ok.finalize());
}

TEST(RegistryErrors, RelationToMissingModel) {
  std::string msg = finalize_error({model("blog", "Post", {fk("author", "Writer")})});
  EXPECT_CONTAINS(msg,
                  "blog.Post.author: Field defines a relation with model 'Writer', which is either "
                  "not installed, or is abstract.");
  msg = finalize_error(
      {model("blog", "Post", {}, {relation("tags", FieldType::ManyToMany, "shop.Tag")})});
  EXPECT_CONTAINS(msg, "blog.Post.tags: Field defines a relation with model 'shop.Tag'");
}

TEST(RegistryErrors, RelationWithoutTarget) {
  std::string msg = finalize_error({model("blog", "Post", {fk("author", "")})});
  EXPECT_CONTAINS(msg, "blog.Post.author: a relation needs 'to'");
  Field title = char_field("title");
  title.to = "Author";
  msg = finalize_error({model("blog", "Post", {std::move(title)})});
  EXPECT_CONTAINS(msg, "blog.Post.title: 'to' is only for relations.");
}

TEST(RegistryErrors, TwoPrimaryKeys) {
  Field a = char_field("a");
  a.primary_key = true;
  Field b = field("b", FieldType::Integer);
  b.primary_key = true;
  std::string msg = finalize_error({model("blog", "Post", {std::move(a), std::move(b)})});
  EXPECT_CONTAINS(msg, "blog.Post: a model can have only one primary key.");
}

TEST(RegistryErrors, BadPrimaryKeys) {
  std::string msg = finalize_error({model("blog", "Post", {field("id", FieldType::Integer)})});
  EXPECT_CONTAINS(msg,
                  "blog.Post.id: 'id' can only be used as a field name if the field also "
                  "sets 'primary_key=True'.");
  msg = finalize_error({model("blog", "Post", {field("num", FieldType::Auto)})});
  EXPECT_CONTAINS(msg, "blog.Post.num: an auto field must be the primary key");
  Field nullable = field("code", FieldType::Integer);
  nullable.primary_key = true;
  nullable.null = true;
  msg = finalize_error({model("blog", "Post", {std::move(nullable)})});
  EXPECT_CONTAINS(msg, "blog.Post.code: a primary key cannot be null.");
  Field flag = field("flag", FieldType::Boolean);
  flag.primary_key = true;
  msg = finalize_error({model("blog", "Post", {std::move(flag)})});
  EXPECT_CONTAINS(msg, "blog.Post.flag: a boolean field cannot be the primary key.");
}

TEST(RegistryErrors, ManyToManyInTheWrongList) {
  std::string msg =
      finalize_error({model("blog", "Tag", {}),
                      model("blog", "Post", {relation("tags", FieldType::ManyToMany, "Tag")})});
  EXPECT_CONTAINS(msg, "blog.Post.tags: many-to-many fields go in ModelMeta::many_to_many.");
  msg = finalize_error({model("blog", "Post", {}, {char_field("title")})});
  EXPECT_CONTAINS(msg, "blog.Post.title: only many-to-many fields go in many_to_many.");
}

TEST(RegistryErrors, NameOrColumnUsedTwice) {
  std::string msg = finalize_error(
      {model("blog", "Author", {}),
       model("blog", "Post", {fk("author", "Author"), field("author_id", FieldType::Integer)})});
  EXPECT_CONTAINS(msg,
                  "blog.Post.author_id: the name or column 'author_id' is used by another "
                  "field of the model.");
  msg = finalize_error({model("blog", "Post", {char_field("title"), char_field("title")})});
  EXPECT_CONTAINS(msg, "blog.Post.title: the name or column 'title' is used");
  msg = finalize_error({model("blog", "Post", {char_field("tags")},
                              {relation("tags", FieldType::ManyToMany, "self")})});
  EXPECT_CONTAINS(msg, "blog.Post.tags: the name is used by another field of the model.");
}

TEST(RegistryErrors, ReverseAccessorClash) {
  // Two FKs to the same model, neither with a related_name: fields.E304 in Django.
  Registry r;
  r.add(model("blog", "Author", {}), "cascade.toml:1");
  r.add(model("blog", "Post", {fk("author", "Author"), fk("editor", "Author")}), "cascade.toml:4");
  try {
    r.finalize();
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_CONTAINS(e.what(),
                    "Reverse accessor 'Author.post_set' for 'blog.Post.editor' clashes with "
                    "another reverse accessor. Add or change a related_name argument to the "
                    "definition for 'blog.Post.editor'.");
    // Named where the referencing model was declared.
    EXPECT_EQ(e.file(), "cascade.toml");
    EXPECT_EQ(e.line(), 4);
  }
}

TEST(RegistryErrors, ReverseAccessorClashWithAField) {
  std::string msg =
      finalize_error({model("blog", "Author", {char_field("posts")}),
                      model("blog", "Post", {fk("author", "Author", OnDelete::Cascade, "posts")})});
  EXPECT_CONTAINS(msg,
                  "Reverse accessor 'Author.posts' for 'blog.Post.author' clashes with field "
                  "name 'blog.Author.posts'.");
  // A many-to-many's default accessor clashes with a foreign key's in the same way.
  msg = finalize_error(
      {model("blog", "Tag", {}), model("blog", "Post", {fk("tag", "Tag")},
                                       {relation("tags", FieldType::ManyToMany, "Tag")})});
  EXPECT_CONTAINS(msg, "Reverse accessor 'Tag.post_set' for 'blog.Post.tags' clashes");
}

TEST(RegistryErrors, TwoModelsWithOneTable) {
  // Django's models.E028; SQLite table names ignore case.
  ModelMeta a = model("blog", "A", {});
  a.db_table = "shared";
  ModelMeta b = model("shop", "B", {});
  b.db_table = "Shared";
  std::string msg = finalize_error({std::move(a), std::move(b)});
  EXPECT_CONTAINS(msg, "db_table 'Shared' is used by multiple models: blog.A, shop.B.");
  ModelMeta c = model("blog", "C", {});
  c.db_table = "blog_post";
  msg = finalize_error({model("blog", "Post", {}), std::move(c)});
  EXPECT_CONTAINS(msg, "db_table 'blog_post' is used by multiple models: blog.Post, blog.C.");
}

TEST(RegistryErrors, ThroughTableClashesWithAModelTable) {
  // Django's fields.E340.
  Field tags = relation("tags", FieldType::ManyToMany, "Tag");
  tags.db_table = "blog_tag";
  std::string msg =
      finalize_error({model("blog", "Tag", {}), model("blog", "Post", {}, {std::move(tags)})});
  EXPECT_CONTAINS(msg,
                  "blog.Post.tags: The field's intermediary table 'blog_tag' clashes with the "
                  "table name of 'blog.Tag'.");
}

TEST(RegistryErrors, DeclaredModelNamedLikeAThroughModel) {
  Registry r;
  r.add(model("blog", "Tag", {}));
  r.add(model("blog", "Post", {}, {relation("tags", FieldType::ManyToMany, "Tag")}));
  ModelMeta clash = model("blog", "Post_Tags", {});
  clash.db_table = "post_tags_declared";
  r.add(std::move(clash), "x.toml:7");
  try {
    r.finalize();
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_CONTAINS(e.what(),
                    "Conflicting 'post_tags' models in application 'blog': "
                    "blog.Post_tags and blog.Post_Tags.");
    EXPECT_EQ(e.line(), 7);
  }
}

TEST(RegistryErrors, UnknownNameInDisplayTemplate) {
  ModelMeta m = model("blog", "Post", {char_field("title")});
  m.display = "{title} by {writer}";
  std::string msg = finalize_error({std::move(m)});
  EXPECT_CONTAINS(msg,
                  "blog.Post: the display template '{title} by {writer}' names 'writer', "
                  "which is not a field");
  ModelMeta open = model("blog", "Post", {char_field("title")});
  open.display = "{title";
  msg = finalize_error({std::move(open)});
  EXPECT_CONTAINS(msg, "names '{ without }'");
}

TEST(RegistryErrors, DisplayTemplateAcceptsPkColumnsAndEscapes) {
  Registry r;
  r.add(model("blog", "Author", {}));
  ModelMeta m = model("blog", "Post", {char_field("title"), fk("author", "Author")});
  m.display = "{{literal}} {pk} {id} {author_id} {author} {title}}}";
  r.add(std::move(m));
  EXPECT_NO_THROW(r.finalize());
}

TEST(RegistryErrors, UnknownNameInOrdering) {
  ModelMeta m = model("blog", "Post", {char_field("title")});
  m.ordering = {"-title", "pk", "-nope"};
  std::string msg = finalize_error({std::move(m)});
  EXPECT_CONTAINS(msg, "blog.Post: 'ordering' refers to the nonexistent field 'nope'.");

  Registry ok;
  ModelMeta good = model("blog", "Post", {char_field("title")});
  good.ordering = {"-title", "-pk", "id"};
  ok.add(std::move(good));
  EXPECT_NO_THROW(ok.finalize());
}

TEST(RegistryErrors, UnknownNameInUniqueTogether) {
  ModelMeta m = model("blog", "Post", {char_field("title"), char_field("slug")});
  m.unique_together = {{"title", "slug"}, {"title", "nope"}};
  std::string msg = finalize_error({std::move(m)});
  EXPECT_CONTAINS(msg, "blog.Post: 'unique_together' refers to the nonexistent field 'nope'.");
}

TEST(RegistryErrors, AddAfterFinalize) {
  Registry r;
  r.finalize();
  std::string msg = config_error([&] { r.add(model("blog", "Post", {})); });
  EXPECT_CONTAINS(msg, "already finalized");
}

// ---- Field -------------------------------------------------------------------------------------

TEST(FieldNames, OnDeleteAndTypeNamesRoundTrip) {
  for (auto rule : {OnDelete::Cascade, OnDelete::Protect, OnDelete::Restrict, OnDelete::SetNull,
                    OnDelete::SetDefault, OnDelete::Set, OnDelete::DoNothing, OnDelete::DbCascade,
                    OnDelete::DbSetNull, OnDelete::DbSetDefault}) {
    EXPECT_EQ(parse_on_delete(on_delete_name(rule)), rule) << on_delete_name(rule);
  }
  EXPECT_EQ(on_delete_name(OnDelete::SetNull), "SET_NULL");
  EXPECT_EQ(on_delete_name(OnDelete::Set), "SET");
  EXPECT_EQ(on_delete_name(OnDelete::DbCascade), "DB_CASCADE");
  EXPECT_FALSE(parse_on_delete("cascade").has_value());  // case-sensitive, as Python names
  EXPECT_FALSE(parse_on_delete("").has_value());
  EXPECT_EQ(field_type_name(FieldType::BigInteger), "big_integer");
  EXPECT_EQ(parse_field_type("foreign_key"), FieldType::ForeignKey);
  EXPECT_EQ(parse_field_type("many_to_many"), FieldType::ManyToMany);
  EXPECT_FALSE(parse_field_type("Char").has_value());
}

TEST(FieldDefault, DjangoRules) {
  EXPECT_EQ(char_field("c").get_default(), Value(""));
  EXPECT_EQ(field("t", FieldType::Text).get_default(), Value(""));
  Field nullable = char_field("c");
  nullable.null = true;
  EXPECT_EQ(nullable.get_default(), Value());
  EXPECT_EQ(field("i", FieldType::Integer).get_default(), Value());
  EXPECT_EQ(field("b", FieldType::Boolean).get_default(), Value());
  Field declared = field("i", FieldType::Integer);
  declared.default_value = Value(5);
  EXPECT_EQ(declared.get_default(), Value(5));
  // A callable default is called each time and converted to the field's kind.
  int calls = 0;
  Field factory = field("i", FieldType::Integer);
  factory.default_factory = [&calls] { return Value(std::to_string(++calls)); };
  EXPECT_EQ(factory.get_default(), Value(1));
  EXPECT_EQ(factory.get_default(), Value(2));
}

// ---- Instance ----------------------------------------------------------------------------------

TEST(Instance, NewInstanceHasDefaults) {
  auto r = blog_registry();
  Instance post(r->get("blog.Post"));
  EXPECT_TRUE(post.adding());
  EXPECT_TRUE(post.pk().is_null());
  EXPECT_EQ(post.get("title"), Value(""));  // char, not null: "" as Django
  EXPECT_EQ(post.get("body"), Value(""));   // text, not null
  EXPECT_TRUE(post.get("author").is_null());
  EXPECT_TRUE(post.get("editor").is_null());
  EXPECT_EQ(post.values().size(), 5u);
}

TEST(Instance, SetAndGetByNameColumnAndPk) {
  auto r = blog_registry();
  Instance post(r->get("blog.Post"), {{"title", "Hello"}, {"author", 3}});
  EXPECT_EQ(post.get("title"), Value("Hello"));
  EXPECT_EQ(post.get("author"), Value(3));
  EXPECT_EQ(post.get("author_id"), Value(3));
  post.set("author_id", Value("7"));  // converted to the key's kind
  EXPECT_EQ(post.get("author"), Value(7));
  post.set("pk", Value(12));
  EXPECT_EQ(post.get("id"), Value(12));
  EXPECT_EQ(post.pk(), Value(12));
  post.set_pk(Value(13));
  EXPECT_EQ(post.get("pk"), Value(13));
  EXPECT_EQ(post.at(1), Value("Hello"));
  post.set_at(1, Value("Bye"));
  EXPECT_EQ(post.get("title"), Value("Bye"));
}

TEST(Instance, UnknownAndManyToManyNames) {
  auto r = blog_registry();
  Instance post(r->get("blog.Post"));
  try {
    post.get("nope");
    FAIL() << "no FieldError";
  } catch (const FieldError& e) {
    EXPECT_CONTAINS(e.what(), "Post has no field named 'nope'. Choices are: author, author_id");
  }
  EXPECT_THROW(post.set("nope", Value(1)), FieldError);
  EXPECT_THROW(post.get("tags"), TypeError);
  EXPECT_THROW(post.set("tags", Value(1)), TypeError);
}

TEST(Instance, IntegerConversionsAndMessages) {
  auto r = blog_registry();
  Instance item(r->get("shop.OrderItem"));
  item.set("quantity", Value("12"));
  EXPECT_EQ(item.get("quantity"), Value(12));
  item.set("quantity", Value(" +5 "));
  EXPECT_EQ(item.get("quantity"), Value(5));
  item.set("quantity", Value("-5"));
  EXPECT_EQ(item.get("quantity"), Value(-5));
  item.set("quantity", Value(3.9));  // int() truncates
  EXPECT_EQ(item.get("quantity"), Value(3));
  item.set("quantity", Value(true));
  EXPECT_EQ(item.get("quantity"), Value(1));
  item.set("quantity", Value());
  EXPECT_TRUE(item.get("quantity").is_null());
  struct Case {
    Value value;
    const char* message;
  };
  for (const Case& c :
       {Case{Value("abc"), "Field 'quantity' expected a number but got 'abc'."},
        Case{Value(""), "Field 'quantity' expected a number but got ''."},
        Case{Value("1.5"), "Field 'quantity' expected a number but got '1.5'."},
        Case{Value("99999999999999999999"),
             "Field 'quantity' expected a number but got '99999999999999999999'."},
        Case{Value(1e19), "Field 'quantity' expected a number but got 1e+19."},
        Case{Value(Date{2024, 1, 2}),
             "Field 'quantity' expected a number but got datetime.date(2024, 1, 2)."}}) {
    try {
      item.set("quantity", c.value);
      ADD_FAILURE() << "no ValueError for " << c.value.repr();
    } catch (const ValueError& e) {
      EXPECT_STREQ(e.what(), c.message);
      EXPECT_EQ(e.python_name(), "ValueError");
    }
  }
}

TEST(Instance, FloatBooleanTextConversions) {
  Registry r;
  Field flag = field("flag", FieldType::Boolean);
  flag.null = true;
  r.add(model("shop", "Item",
              {field("price", FieldType::Float), std::move(flag), char_field("name"),
               field("notes", FieldType::Text)}));
  r.finalize();
  Instance item(r.get("shop.Item"));
  item.set("price", Value("2.5"));
  EXPECT_EQ(item.get("price"), Value(2.5));
  item.set("price", Value(3));
  EXPECT_EQ(item.get("price"), Value(3.0));
  try {
    item.set("price", Value("cheap"));
    ADD_FAILURE() << "no ValueError";
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(), "Field 'price' expected a number but got 'cheap'.");
  }
  const std::vector<std::pair<Value, bool>> booleans = {
      {Value(1), true},    {Value(0), false},   {Value("True"), true},
      {Value("t"), true},  {Value("1"), true},  {Value("False"), false},
      {Value("f"), false}, {Value("0"), false}, {Value(true), true}};
  for (const auto& [in, out] : booleans) {
    item.set("flag", in);
    EXPECT_EQ(item.get("flag"), Value(out)) << in.repr();
  }
  try {
    item.set("flag", Value("maybe"));
    ADD_FAILURE() << "no ValueError";
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(), "“maybe” value must be either True or False.");
  }
  EXPECT_THROW(item.set("flag", Value(2)), ValueError);
  item.set("name", Value(5));
  EXPECT_EQ(item.get("name"), Value("5"));
  item.set("notes", Value(1.0));
  EXPECT_EQ(item.get("notes"), Value("1.0"));
  item.set("notes", Value(true));
  EXPECT_EQ(item.get("notes"), Value("True"));
}

TEST(Instance, DateAndDateTimeConversions) {
  Registry r;
  r.add(model("shop", "Order",
              {field("placed", FieldType::Date), field("shipped", FieldType::DateTime)}));
  r.finalize();
  Instance order(r.get("shop.Order"));
  order.set("placed", Value("2024-02-29"));
  EXPECT_EQ(order.get("placed"), Value(Date{2024, 2, 29}));
  order.set("placed", Value(DateTime::from_parts({2024, 3, 1}, 23, 0)));
  EXPECT_EQ(order.get("placed"), Value(Date{2024, 3, 1}));
  try {
    order.set("placed", Value("29/02/2024"));
    ADD_FAILURE() << "no ValueError";
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(),
                 "“29/02/2024” value has an invalid date format. It must be in YYYY-MM-DD "
                 "format.");
  }
  order.set("shipped", Value("2024-01-02T10:30:00Z"));
  EXPECT_EQ(order.get("shipped"), Value(DateTime::from_parts({2024, 1, 2}, 10, 30)));
  order.set("shipped", Value(Date{2024, 1, 2}));
  EXPECT_EQ(order.get("shipped"), Value(DateTime::from_parts({2024, 1, 2})));
  try {
    order.set("shipped", Value("tomorrow"));
    ADD_FAILURE() << "no ValueError";
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(),
                 "“tomorrow” value has an invalid format. It must be in YYYY-MM-DD "
                 "HH:MM[:ss[.uuuuuu]][TZ] format.");
  }
  EXPECT_THROW(order.set("placed", Value(5)), ValueError);
  try {
    order.set("placed", Value("2024-02-30"));
    FAIL() << "no ValueError";
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(),
                 "“2024-02-30” value has the correct format (YYYY-MM-DD) but it is an invalid "
                 "date.");
  }
}

TEST(Instance, ForeignKeyToCharPrimaryKeyHoldsText) {
  Registry r;
  Field code = char_field("code", 10);
  code.primary_key = true;
  r.add(model("shop", "Country", {std::move(code)}));
  r.add(model("shop", "City", {fk("country", "Country")}));
  r.finalize();
  Instance city(r.get("shop.City"), {{"country", 44}});
  EXPECT_EQ(city.get("country_id"), Value("44"));
  city.set("country", Value("uk"));
  EXPECT_EQ(city.get("country"), Value("uk"));
}

TEST(Instance, FromRowConvertsAndIsNotAdding) {
  auto r = blog_registry();
  const ModelMeta& post = r->get("blog.Post");
  Instance loaded =
      Instance::from_row(post, {Value(1), Value("Hi"), Value("2"), Value(), Value("x")});
  EXPECT_FALSE(loaded.adding());
  EXPECT_EQ(loaded.pk(), Value(1));
  EXPECT_EQ(loaded.get("author"), Value(2));
  EXPECT_TRUE(loaded.get("editor").is_null());
  EXPECT_THROW(Instance::from_row(post, {Value(1)}), Error);
  Instance fresh(post);
  fresh.set_adding(false);
  EXPECT_FALSE(fresh.adding());
}

TEST(Instance, StrAndReprDefaults) {
  auto r = blog_registry();
  Instance comment(r->get("blog.Comment"));
  EXPECT_EQ(comment.str(), "Comment object (None)");
  EXPECT_EQ(comment.repr(), "<Comment: Comment object (None)>");
  comment.set_pk(Value(3));
  EXPECT_EQ(comment.str(), "Comment object (3)");
}

TEST(Instance, StrUsesTheDisplayTemplate) {
  auto r = blog_registry();
  Instance post(r->get("blog.Post"), {{"title", "Hello"}});
  EXPECT_EQ(post.str(), "Hello");
  EXPECT_EQ(post.repr(), "<Post: Hello>");

  Registry r2;
  r2.add(model("blog", "Author", {}));
  ModelMeta m =
      model("blog", "Post",
            {char_field("title"), fk("author", "Author"), field("score", FieldType::Float)});
  m.display = "{{title}} #{pk}: {title} by {author_id} ({author}) {score}}}";
  r2.add(std::move(m));
  r2.finalize();
  Instance p(r2.get("blog.Post"), {{"title", "it's"}, {"author", 7}, {"score", 0.5}});
  p.set_pk(Value(9));
  EXPECT_EQ(p.str(), "{title} #9: it's by 7 (7) 0.5}");
  EXPECT_EQ(p.repr(), "<Post: {title} #9: it's by 7 (7) 0.5}>");
  p.set("author", Value());
  EXPECT_EQ(p.str(), "{title} #9: it's by None (None) 0.5}");
}

}  // namespace
}  // namespace cascade

namespace cascade {
namespace {

TEST(OnDeleteRules, OneRowPerRuleWhoseTraitsAgree) {
  std::set<OnDelete> seen;
  for (const auto& t : on_delete_rules()) {
    EXPECT_TRUE(seen.insert(t.rule).second) << t.name;
    EXPECT_EQ(&traits(t.rule), &t);
    EXPECT_EQ(on_delete_name(t.rule), t.name);
    EXPECT_EQ(parse_on_delete(t.name), t.rule);
    // What the database carries out is not collected, and has its own ON DELETE action.
    if (t.by_database) {
      EXPECT_FALSE(t.collected) << t.name;
      EXPECT_NE(t.sql_action, "NO ACTION") << t.name;
    } else {
      EXPECT_EQ(t.sql_action, "NO ACTION") << t.name;
    }
    EXPECT_FALSE(t.refuses && (t.updates || t.deletes)) << t.name;
  }
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_FALSE(traits(OnDelete::DoNothing).collected);
  EXPECT_FALSE(parse_on_delete("cascade").has_value());  // case-sensitive, as Python names
}

TEST(OnDeleteRules, OneValidatorForTheRegistryAndTheModelsFile) {
  Field f;
  f.name = "editor";
  f.type = FieldType::ForeignKey;
  f.on_delete = OnDelete::SetNull;
  EXPECT_EQ(on_delete_problem(f), "Field specifies on_delete=SET_NULL, but cannot be null.");
  f.null = true;
  EXPECT_FALSE(on_delete_problem(f).has_value());
  f.on_delete = OnDelete::DbSetDefault;
  EXPECT_EQ(on_delete_problem(f),
            "Field specifies on_delete=DB_SET_DEFAULT, but has no default value.");
  f.type = FieldType::Integer;  // not a relation: no rule to carry
  EXPECT_FALSE(on_delete_problem(f).has_value());
}

}  // namespace
}  // namespace cascade
