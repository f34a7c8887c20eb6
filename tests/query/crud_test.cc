// CRUD through the typed and the dynamic API: create, get, save (insert or update), refresh,
// many-to-many add / remove / clear / set.
#include <gtest/gtest.h>

#include "cascade/database.h"
#include "cascade/db/transaction.h"
#include "cascade/error.h"
#include "support/assertions.h"
#include "support/backends.h"

namespace cascade {
namespace {

using blog_shop::Author;
using blog_shop::Comment;
using blog_shop::Order;
using blog_shop::Post;
using blog_shop::Tag;
using cascade::testing::BackendTest;
using cascade::testing::blog_shop_registry;
using cascade::testing::count_rows;

class TypedCrud : public BackendTest {};
class DynamicCrud : public BackendTest {};
class ManyToMany : public BackendTest {};
CASCADE_ON_EVERY_BACKEND(TypedCrud);
CASCADE_ON_EVERY_BACKEND(DynamicCrud);
CASCADE_ON_EVERY_BACKEND(ManyToMany);

TEST_P(TypedCrud, SaveInsertsAndSetsThePrimaryKey) {
  Database db = blog_shop();
  Author a{.id = {}, .name = "Ann", .email = "ann@example.com"};
  db.save(a);
  ASSERT_TRUE(a.id.has_value());
  Author b{.id = {}, .name = "Bob", .email = ""};
  db.save(b);
  EXPECT_EQ(*b.id, *a.id + 1);
  Author loaded = db.get<Author>(*a.id);
  EXPECT_EQ(loaded.name, "Ann");
  EXPECT_EQ(loaded.email, "ann@example.com");
  EXPECT_EQ(db.count<Author>(), 2);
}

TEST_P(TypedCrud, MappedStructsStandForTheirRowsInLookups) {
  // Where Django takes a model instance (filter(author=ann), author__in=[...]), the typed API
  // takes the mapped struct: its primary key is the value.
  Database db = blog_shop();
  Author ann = db.create(Author{.id = {}, .name = "Ann", .email = ""});
  Author bob = db.create(Author{.id = {}, .name = "Bob", .email = ""});
  Author cy = db.create(Author{.id = {}, .name = "Cy", .email = ""});
  auto post = [&](std::string title, const Author& author) {
    Post p;
    p.title = std::move(title);
    p.author_id = *author.id;
    return db.create(p);
  };
  Post p1 = post("a", ann);
  post("b", bob);
  post("c", cy);
  db.create(Comment{.id = {}, .post_id = *p1.id, .body = "x"});

  auto titles = [](auto qs) {
    std::vector<std::string> out;
    for (const Post& p : qs.order_by({"title"})) out.push_back(p.title);
    return out;
  };
  EXPECT_EQ(titles(db.objects<Post>().filter(Q("author", ann))), std::vector<std::string>{"a"});
  EXPECT_EQ(titles(db.objects<Post>().filter(Q("author__in", std::vector<Author>{ann, cy}))),
            (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(titles(db.objects<Post>().exclude(Q("author", bob) | Q("author", cy))),
            std::vector<std::string>{"a"});
  EXPECT_EQ(db.objects<Comment>().filter({{"post", p1}, {"post__author", ann}}).count(), 1);
  // The dynamic API takes them too, as it takes an Instance.
  EXPECT_EQ(db.objects("blog.Post").filter({{"author", bob}}).count(), 1);
  auto [row, created] = db.objects("blog.Post").get_or_create({{"title", "d"}, {"author", bob}});
  EXPECT_TRUE(created);
  EXPECT_EQ(row.get("author"), Value(*bob.id));
  // A struct the registry does not map is refused when the Q reaches a QuerySet.
  struct NotAModel {
    int x = 0;
  };
  try {
    db.objects<Post>().filter(Q("author", NotAModel{}));
    ADD_FAILURE() << "no TypeError";
  } catch (const TypeError& e) {
    EXPECT_CONTAINS(e.what(), "NotAModel is not a model object: no define<>() maps its type");
  }
}

TEST_P(TypedCrud, SaveUpdatesAnExistingRow) {
  Database db = blog_shop();
  Author a = db.create(Author{.id = {}, .name = "Ann", .email = ""});
  a.name = "Ann Lee";
  db.save(a);
  EXPECT_EQ(db.get<Author>(*a.id).name, "Ann Lee");
  EXPECT_EQ(db.count<Author>(), 1);
}

TEST_P(TypedCrud, SaveWithAnUnknownPrimaryKeyInsertsIt) {
  // Django's save(): UPDATE first, INSERT when no row has that key.
  Database db = blog_shop();
  Author a{.id = 42, .name = "Ann", .email = ""};
  db.save(a);
  EXPECT_EQ(*a.id, 42);
  EXPECT_EQ(db.get<Author>(42).name, "Ann");
}

TEST_P(TypedCrud, AllFieldKindsRoundTrip) {
  Database db = blog_shop();
  Author a = db.create(Author{.id = {}, .name = "Ann", .email = ""});
  Post p;
  p.title = "Hello";
  p.content = "multi\nline 'quoted' \"text\" with unicode \xc3\xa9";
  p.author_id = *a.id;
  p.editor_id = *a.id;
  p.is_deleted = true;
  p.published = DateTime::from_parts({2024, 2, 29}, 23, 59, 58, 999999);
  db.save(p);
  Post q = db.get<Post>(*p.id);
  EXPECT_EQ(q.title, "Hello");
  EXPECT_EQ(q.content, p.content);
  EXPECT_EQ(q.status, "published");  // the default
  EXPECT_EQ(q.author_id, *a.id);
  EXPECT_EQ(q.editor_id, a.id);
  EXPECT_TRUE(q.is_deleted);
  EXPECT_EQ(q.published, p.published);
  Order o = db.create(Order{.id = {}, .number = "A-1", .placed = Date{2023, 12, 31}});
  EXPECT_EQ(db.get<Order>(*o.id).placed, (Date{2023, 12, 31}));
}

TEST_P(TypedCrud, NullableMembersStoreNull) {
  Database db = blog_shop();
  Author a = db.create(Author{.id = {}, .name = "Ann", .email = ""});
  Post p;
  p.title = "Draft";
  p.author_id = *a.id;
  db.save(p);
  Post q = db.get<Post>(*p.id);
  EXPECT_FALSE(q.editor_id.has_value());
  EXPECT_FALSE(q.published.has_value());
  auto raw = db.connection().query("SELECT editor_id, published FROM blog_post");
  ASSERT_TRUE(raw->next());
  EXPECT_TRUE(raw->get(0).is_null());
  EXPECT_TRUE(raw->get(1).is_null());
}

TEST_P(TypedCrud, GetOfAMissingRowRaisesDoesNotExistWithDjangosMessage) {
  Database db = blog_shop();
  try {
    db.get<Post>(99);
    FAIL() << "expected DoesNotExist";
  } catch (const DoesNotExist& e) {
    EXPECT_STREQ(e.what(), "Post matching query does not exist.");
    EXPECT_EQ(e.python_name(), "blog.models.Post.DoesNotExist");
  }
  EXPECT_FALSE(db.find<Post>(99).has_value());
}

TEST_P(TypedCrud, RefreshReloadsAndFailsWhenTheRowIsGone) {
  Database db = blog_shop();
  Author a = db.create(Author{.id = {}, .name = "Ann", .email = ""});
  Value pk(*a.id);
  db.connection().execute(
      "UPDATE blog_author SET name = 'Changed' WHERE id = " + db.connection().placeholder(1),
      std::span(&pk, 1));
  db.refresh(a);
  EXPECT_EQ(a.name, "Changed");
  db.connection().execute("DELETE FROM blog_author WHERE id = " + db.connection().placeholder(1),
                          std::span(&pk, 1));
  EXPECT_THROW(db.refresh(a), DoesNotExist);
  Author unsaved{.id = {}, .name = "X", .email = ""};
  EXPECT_THROW(db.refresh(unsaved), ValueError);
}

TEST_P(TypedCrud, AForeignKeyToAMissingRowFailsAndWritesNothing) {
  Database db = blog_shop();
  Comment c{.id = {}, .post_id = 12345, .body = "orphan"};
  EXPECT_THROW(db.save(c), IntegrityError);
  EXPECT_EQ(count_rows(db.connection(), "blog_comment"), 0);
  // Inside a transaction the deferred constraint fails at commit, and rolls back.
  EXPECT_THROW(db::atomic(db.connection(),
                          [&] {
                            Comment d{.id = {}, .post_id = 12345, .body = "orphan"};
                            db.save(d);
                          }),
               IntegrityError);
  EXPECT_EQ(count_rows(db.connection(), "blog_comment"), 0);
}

TEST_P(TypedCrud, UniqueViolationIsAnIntegrityError) {
  Database db = blog_shop();
  db.create(Tag{.id = {}, .name = "cpp"});
  Tag dup{.id = {}, .name = "cpp"};
  EXPECT_THROW(db.save(dup), IntegrityError);
  EXPECT_FALSE(dup.id.has_value());
}

TEST_P(DynamicCrud, CreateGetSaveByModelName) {
  Database db = blog_shop();
  Manager authors = db.objects("blog.Author");
  Instance a = authors.create({{"name", "Ann"}});
  EXPECT_FALSE(a.adding());
  EXPECT_EQ(a.get("email"), Value(""));  // Django's default for a char field
  Instance p = db.objects("blog.Post").create({{"title", "Hi"}, {"author", a.pk()}});
  EXPECT_EQ(p.get("author_id"), a.pk());
  EXPECT_EQ(p.str(), "Hi");
  EXPECT_EQ(p.repr(), "<Post: Hi>");
  Instance loaded = db.objects("Post").get(p.pk());
  EXPECT_EQ(loaded.get("title"), Value("Hi"));
  EXPECT_EQ(loaded.get("is_deleted"), Value(false));  // bool back from SQLite's integer
  loaded.set("title", "Changed");
  db.objects("blog.post").save(loaded);
  EXPECT_EQ(db.objects("blog.Post").get(p.pk()).get("title"), Value("Changed"));
  EXPECT_EQ(db.objects("blog.Post").count(), 1);
}

TEST_P(DynamicCrud, ValuesAreConvertedToTheFieldsKind) {
  Database db = blog_shop();
  Instance a = db.objects("blog.Author").create({{"name", "Ann"}});
  Instance item = db.objects("shop.Order").create({{"number", 17}, {"placed", "2024-05-06"}});
  EXPECT_EQ(item.get("number"), Value("17"));
  EXPECT_EQ(item.get("placed"), Value(Date{2024, 5, 6}));
  EXPECT_THROW(db.objects("shop.Order").create({{"number", "x"}, {"placed", "not a date"}}),
               ValueError);
  Instance p(db.registry().get("blog.Post"));
  EXPECT_THROW(p.set("author", "abc"), ValueError);
  p.set("author", "  " + std::to_string(a.pk().as_integer()));
  EXPECT_EQ(p.get("author"), a.pk());
}

TEST_P(DynamicCrud, UnknownModelsAndFieldsAreClearErrors) {
  Database db = blog_shop();
  try {
    db.objects("blog.Pots");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "App 'blog' doesn't have a 'Pots' model.");
  }
  Manager posts = db.objects("blog.Post");
  try {
    posts.create({{"titel", "x"}});
    FAIL();
  } catch (const FieldError& e) {
    EXPECT_NE(std::string(e.what()).find("Post has no field named 'titel'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("title"), std::string::npos);
  }
  EXPECT_EQ(posts.count(), 0);
}

TEST_P(DynamicCrud, SavingThroughAnotherModelsManagerIsRefused) {
  Database db = blog_shop();
  Instance a(db.registry().get("blog.Author"), {{"name", "Ann"}});
  EXPECT_THROW(db.objects("blog.Tag").save(a), TypeError);
}

TEST_P(DynamicCrud, HostileStringsAreStoredAndReadBackIntact) {
  Database db = blog_shop();
  std::vector<std::string> hostile = {"'; DROP TABLE blog_author; --", "100% _match_", "\"quoted\"",
                                      "emoji \xf0\x9f\x98\x80",        "back\\slash",  ""};
  std::string nul("nul\0byte", 8);
  std::string invalid_utf8 = "\xff\xfe invalid utf-8";
  if (sqlite()) {
    // SQLite stores any bytes.
    hostile.push_back(nul);
    hostile.push_back(invalid_utf8);
  } else {
    // PostgreSQL text cannot hold NUL or invalid UTF-8: refused with a clear error, nothing
    // written.
    try {
      db.objects("blog.Author").create({{"name", Value(nul)}});
      FAIL() << "expected ValueError";
    } catch (const ValueError& e) {
      EXPECT_STREQ(e.what(), "A string literal cannot contain NUL (0x00) characters.");
    }
    try {
      db.objects("blog.Author").create({{"name", Value(invalid_utf8)}});
      FAIL() << "expected DataError";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("invalid byte sequence"), std::string::npos);
    }
    EXPECT_EQ(db.objects("blog.Author").count(), 0);
  }
  std::vector<Value> pks;
  for (const auto& s : hostile) {
    pks.push_back(db.objects("blog.Author").create({{"name", Value(s)}}).pk());
  }
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    EXPECT_EQ(db.objects("blog.Author").get(pks[i]).get("name").as_text(), hostile[i]);
  }
  EXPECT_EQ(db.objects("blog.Author").count(), static_cast<std::int64_t>(hostile.size()));
}

TEST_P(ManyToMany, AddRemoveClearSetFromBothSides) {
  Database db = blog_shop();
  Author a = db.create(Author{.id = {}, .name = "Ann", .email = ""});
  Post p;
  p.title = "Tagged";
  p.author_id = *a.id;
  db.save(p);
  std::vector<Tag> tags;
  for (const char* n : {"a", "b", "c"}) tags.push_back(db.create(Tag{.id = {}, .name = n}));
  auto post_tags = db.many_to_many(p, "tags");
  post_tags.add({*tags[0].id, *tags[1].id});
  post_tags.add({*tags[1].id});  // already linked: left alone, no error
  EXPECT_EQ(post_tags.pks(), (std::vector<Value>{*tags[0].id, *tags[1].id}));
  EXPECT_EQ(count_rows(db.connection(), "blog_post_tags"), 2);
  // The reverse side sees the same links (related_name "posts").
  auto tag_posts = db.many_to_many(tags[1], "posts");
  EXPECT_EQ(tag_posts.pks(), std::vector<Value>{*p.id});
  ASSERT_EQ(tag_posts.all().size(), 1u);
  EXPECT_EQ(tag_posts.all()[0].str(), "Tagged");
  post_tags.remove({*tags[0].id});
  EXPECT_EQ(post_tags.pks(), std::vector<Value>{*tags[1].id});
  post_tags.set({*tags[0].id, *tags[2].id});
  EXPECT_EQ(post_tags.pks(), (std::vector<Value>{*tags[0].id, *tags[2].id}));
  auto names = post_tags.all();
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0].repr(), "<Tag: a>");
  post_tags.clear();
  EXPECT_TRUE(post_tags.pks().empty());
  EXPECT_EQ(count_rows(db.connection(), "blog_tag"), 3);
}

TEST_P(ManyToMany, AddingAMissingTargetFailsAndAddsNothing) {
  Database db = blog_shop();
  Author a = db.create(Author{.id = {}, .name = "Ann", .email = ""});
  Post p;
  p.title = "T";
  p.author_id = *a.id;
  db.save(p);
  Tag t = db.create(Tag{.id = {}, .name = "real"});
  EXPECT_THROW(db.many_to_many(p, "tags").add({*t.id, 999}), IntegrityError);
  EXPECT_EQ(count_rows(db.connection(), "blog_post_tags"), 0);
  EXPECT_THROW(db.many_to_many(p, "tags").add({Value()}), ValueError);
}

TEST_P(ManyToMany, UnsavedInstancesAndUnknownRelationsAreRefused) {
  Database db = blog_shop();
  Post unsaved;
  EXPECT_THROW(db.many_to_many(unsaved, "tags"), ValueError);
  Author a = db.create(Author{.id = {}, .name = "Ann", .email = ""});
  try {
    db.many_to_many(a, "tags");
    FAIL();
  } catch (const FieldError& e) {
    EXPECT_NE(std::string(e.what()).find("Author has no many-to-many relation named 'tags'"),
              std::string::npos);
  }
}

TEST_P(ManyToMany, LargeAddsAreBatchedUnderTheParameterLimit) {
  // A limit of 50 parameters forces the 300 links into many statements.
  Database db = blog_shop("max_variables=50");
  Author a = db.create(Author{.id = {}, .name = "Ann", .email = ""});
  Post p;
  p.title = "Many";
  p.author_id = *a.id;
  db.save(p);
  std::vector<Value> ids;
  db::atomic(db.connection(), [&] {
    for (int i = 0; i < 300; ++i) {
      ids.emplace_back(*db.create(Tag{.id = {}, .name = "t" + std::to_string(i)}).id);
    }
  });
  auto before = db.connection().statement_count();
  db.many_to_many(p, "tags").add(ids);
  // BEGIN, the existing links, ceil(300 / 25) INSERTs, COMMIT.
  EXPECT_EQ(db.connection().statement_count() - before, 2 + 1 + 12);
  EXPECT_EQ(db.many_to_many(p, "tags").pks().size(), 300u);
  db.many_to_many(p, "tags").remove(ids);
  EXPECT_TRUE(db.many_to_many(p, "tags").pks().empty());
}

TEST(Database, RequiresAFinalizedRegistry) {
  Registry r;
  EXPECT_THROW(Database::open(r, "sqlite://:memory:"), Error);
}

}  // namespace
}  // namespace cascade
