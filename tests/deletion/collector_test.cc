// The deletion engine against Django's rules (../shared/reference/django-deletion-spec.md;
// each test names the rules it checks). Runs on every backend.
#include <gtest/gtest.h>

#include "cascade/database.h"
#include "cascade/db/transaction.h"
#include "cascade/error.h"
#include "cascade/model/loader.h"
#include "support/backends.h"

namespace cascade {
namespace {

using cascade::testing::BackendTest;
using cascade::testing::count_rows;

// Models for the rules that the blog_shop example does not cover, from Django's own docs and
// tests: RESTRICT (Artist / Album / Song), the diamond, SET_DEFAULT / SET, DO_NOTHING, a
// self-referential tree, two SET_NULL keys to one model, DB_CASCADE.
const char* kLabModels = R"(
[models.lab.Artist]
display = "{name}"
fields.name = { type = "char", max_length = 20 }

[models.lab.Album]
display = "{name}"
fields.name = { type = "char", max_length = 20 }
fields.artist = { type = "foreign_key", to = "Artist", on_delete = "CASCADE" }

[models.lab.Song]
display = "{name}"
fields.name = { type = "char", max_length = 20 }
fields.artist = { type = "foreign_key", to = "Artist", on_delete = "CASCADE" }
fields.album = { type = "foreign_key", to = "Album", on_delete = "RESTRICT" }

[models.lab.Top]
fields.name = { type = "char", max_length = 20 }
[models.lab.Left]
fields.top = { type = "foreign_key", to = "Top", on_delete = "CASCADE" }
[models.lab.Right]
fields.top = { type = "foreign_key", to = "Top", on_delete = "CASCADE" }
[models.lab.Bottom]
fields.left = { type = "foreign_key", to = "Left", on_delete = "RESTRICT" }
fields.right = { type = "foreign_key", to = "Right", on_delete = "CASCADE" }

[models.lab.Location]
fields.name = { type = "char", max_length = 20 }
[models.lab.Item]
fields.loc_null = { type = "foreign_key", to = "Location", on_delete = "SET_NULL", null = true, related_name = "null_items" }
fields.loc_default = { type = "foreign_key", to = "Location", on_delete = "SET_DEFAULT", null = true, default = 1, related_name = "default_items" }
fields.loc_set = { type = "foreign_key", to = "Location", on_delete = "SET", set = 2, null = true, related_name = "set_items" }
fields.loc_keep = { type = "foreign_key", to = "Location", on_delete = "DO_NOTHING", null = true, related_name = "kept_items" }

[models.lab.Node]
display = "{name}"
fields.name = { type = "char", max_length = 20 }
fields.parent = { type = "foreign_key", to = "self", on_delete = "CASCADE", null = true, related_name = "children" }

[models.lab.Box]
fields.name = { type = "char", max_length = 20 }
[models.lab.Marble]
fields.box = { type = "foreign_key", to = "Box", on_delete = "DB_CASCADE" }

[models.lab.Country]
fields.name = { type = "char", max_length = 20 }
[models.lab.City]
fields.country = { type = "foreign_key", to = "Country", on_delete = "CASCADE" }
[models.lab.Street]
fields.city = { type = "foreign_key", to = "City", on_delete = "CASCADE" }
)";

const Registry& lab_registry() {
  static Project* project = new Project(parse_project(kLabModels, "lab.toml"));
  return *project->registry;
}

class DeletionTest : public BackendTest {
 protected:
  Database db = blog_shop();
  Manager authors = db.objects("blog.Author");
  Manager posts = db.objects("blog.Post");
  Manager comments = db.objects("blog.Comment");
  Manager tags = db.objects("blog.Tag");

  Instance author(const char* name) { return authors.create({{"name", name}}); }
  Instance post(const Instance& a, const char* title, std::optional<Value> editor = {}) {
    Instance p = posts.create({{"title", title}, {"author", a.pk()}});
    if (editor) {
      p.set("editor", *editor);
      posts.save(p);
    }
    return p;
  }
};
CASCADE_ON_EVERY_BACKEND(DeletionTest);

class LabTest : public BackendTest {
 protected:
  Database db = [this] {
    Database d = Database::open(lab_registry(), scratch.url());
    d.migrate();
    return d;
  }();
  Manager m(const char* name) { return db.objects(std::string("lab.") + name); }
};
CASCADE_ON_EVERY_BACKEND(LabTest);

TEST_P(DeletionTest, QuerySetCascadeReturnsDjangosCountsInDjangosOrder) {
  // Rules 1, 23, 54, 74, 75, 78: (total, {label: count}); fast-deleted models first, then
  // collected models in deletion order; through rows counted under the through model.
  Instance ann = author("Ann"), bob = author("Bob");
  Instance p1 = post(ann, "Hello", bob.pk()), p2 = post(bob, "Bye", ann.pk());
  comments.create({{"post", p1.pk()}, {"body", "x"}});
  comments.create({{"post", p2.pk()}, {"body", "y"}});
  Instance t = tags.create({{"name", "t"}});
  posts.many_to_many(p1, "tags").add({t.pk()});
  posts.many_to_many(p2, "tags").add({t.pk()});
  DeleteResult r = authors.filter({{"name", "Ann"}}).remove();
  EXPECT_EQ(r.repr(),
            "(4, {'blog.Post_tags': 1, 'blog.Comment': 1, 'blog.Post': 1, 'blog.Author': 1})");
  // Rule 32: Bob's post had Ann as editor: set to NULL, not deleted, not counted.
  EXPECT_EQ(posts.count(), 1);
  EXPECT_TRUE(posts.get(p2.pk()).get("editor").is_null());
  // Rule 54: deleting the other side of a many-to-many removes the through rows too.
  EXPECT_EQ(tags.all().remove().repr(), "(2, {'blog.Post_tags': 1, 'blog.Tag': 1})");
}

TEST_P(DeletionTest, RootRowsAreFixedBeforeTheCascadeChangesWhatTheFilterReads) {
  // The filter reads posts, which the cascade deletes first: the authors must still go.
  Instance ann = author("Ann"), bob = author("Bob");
  post(ann, "x");
  post(bob, "y");
  EXPECT_EQ(authors.filter({{"posts__title", "x"}}).remove().repr(),
            "(2, {'blog.Post': 1, 'blog.Author': 1})");
  EXPECT_EQ(authors.count(), 1);
  // A filter on a column the delete's own SET_NULL changes.
  auto project = parse_project(R"(
[models.t.Node]
fields.name = { type = "char", max_length = 5 }
fields.parent = { type = "foreign_key", to = "self", on_delete = "SET_NULL", null = true }
)");
  cascade::testing::ScratchDatabase other(GetParam());
  Database d = Database::open(*project.registry, other.url());
  d.migrate();
  Instance a = d.objects("t.Node").create({{"name", "a"}});
  Instance b = d.objects("t.Node").create({{"name", "b"}, {"parent", a.pk()}});
  d.objects("t.Node").create({{"name", "c"}, {"parent", b.pk()}});
  EXPECT_EQ(d.objects("t.Node").filter({{"parent__isnull", false}}).remove().repr(),
            "(2, {'t.Node': 2})");
  EXPECT_EQ(d.objects("t.Node").count(), 1);
}

TEST_P(DeletionTest, InstanceDeleteUnsetsThePkAndRefusesAnUnsavedInstance) {
  // Rules 2 and 4.
  Instance ann = author("Ann");
  post(ann, "Hello");
  DeleteResult r = authors.remove(ann);
  EXPECT_EQ(r.repr(), "(2, {'blog.Post': 1, 'blog.Author': 1})");
  EXPECT_TRUE(ann.pk().is_null());
  EXPECT_EQ(ann.get("name"), Value("Ann"));  // other fields keep their values
  try {
    authors.remove(ann);
    FAIL() << "expected ValueError";
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(),
                 "Author object can't be deleted because its id attribute is set to None.");
  }
}

TEST_P(DeletionTest, TypedRemoveUnsetsTheMember) {
  blog_shop::Author a = db.create(blog_shop::Author{.id = {}, .name = "Ann", .email = ""});
  EXPECT_EQ(db.remove(a).repr(), "(1, {'blog.Author': 1})");
  EXPECT_FALSE(a.id.has_value());
  EXPECT_EQ(db.count<blog_shop::Author>(), 0);
}

TEST_P(DeletionTest, StaleAndEmptyDeletes) {
  // Rules 5, 10, 76: a stale instance returns 0; the single-object fast path keeps its label.
  Instance ann = author("Ann");
  Instance stale = authors.get(ann.pk());
  authors.filter({{"pk", ann.pk()}}).remove();
  EXPECT_EQ(authors.remove(stale).repr(), "(0, {})");  // Author has relations: no fast path
  Instance plain = db.objects("shop.PlainProduct").create({{"name", "z"}});
  Instance plain_stale = plain;
  db.objects("shop.PlainProduct").remove(plain);
  EXPECT_EQ(db.objects("shop.PlainProduct").remove(plain_stale).repr(),
            "(0, {'shop.PlainProduct': 0})");
  // Rule 10: a provably empty filter runs no statement at all.
  auto before = db.connection().statement_count();
  EXPECT_EQ(posts.filter({{"pk__in", Arg::list({})}}).remove().repr(), "(0, {})");
  EXPECT_EQ(db.connection().statement_count(), before);
  EXPECT_EQ(posts.filter({{"title", "nothing"}}).remove().repr(), "(0, {})");
}

TEST_P(DeletionTest, SlicedAndValuesQuerySetsAreRefused) {
  // Rule 6 (current Django's messages).
  try {
    posts.all().slice(0, 1).remove();
    FAIL();
  } catch (const TypeError& e) {
    EXPECT_STREQ(e.what(), "Cannot use 'limit' or 'offset' with delete().");
  }
  try {
    posts.all().values({"id"}).remove();
    FAIL();
  } catch (const TypeError& e) {
    EXPECT_STREQ(e.what(), "Cannot call delete() after .values() or .values_list()");
  }
  // A plain distinct() is allowed.
  Instance ann = author("Ann");
  post(ann, "x");
  EXPECT_EQ(posts.all().distinct().remove().total, 1);
}

TEST_P(DeletionTest, FastPathIsOneStatement) {
  // Rules 49 and 52: nothing points at PlainProduct: one DELETE, nothing loaded.
  auto plain = db.objects("shop.PlainProduct");
  for (int i = 0; i < 5; ++i) plain.create({{"name", "p"}, {"discontinued", i % 2 == 0}});
  auto before = db.connection().statement_count();
  EXPECT_EQ(plain.filter({{"discontinued", true}}).remove().repr(),
            "(3, {'shop.PlainProduct': 3})");
  EXPECT_EQ(db.connection().statement_count() - before, 1);
  EXPECT_EQ(plain.count(), 2);
}

TEST_P(DeletionTest, ChunkBoundariesChangeNeitherTheResultNorTheStatementsOfOneChunk) {
  // A set of exactly one chunk is deleted like a smaller one (the probe looks one key ahead);
  // one more key makes two chunks; children more than a chunk are deleted by parts of their
  // parents, and a parent with too many children in LIMITed batches. Every split deletes the
  // same rows as no split at all.
  db.set_delete_chunk_size(4);
  auto statements_for = [&](int authors_n, int posts_each) {
    for (int i = 0; i < authors_n; ++i) {
      Instance a = author("A");
      for (int j = 0; j < posts_each; ++j) {
        Instance p = post(a, "p");
        comments.create({{"post", p.pk()}, {"body", "c"}});
      }
    }
    auto before = db.connection().statement_count();
    DeleteResult r = authors.all().remove();
    EXPECT_EQ(r.total, authors_n * (1 + 2 * posts_each));
    EXPECT_EQ(authors.count() + posts.count() + comments.count(), 0);
    return db.connection().statement_count() - before;
  };
  auto small = statements_for(3, 1);
  EXPECT_EQ(statements_for(4, 1), small);  // exactly one chunk of authors
  EXPECT_GT(statements_for(5, 1), small);  // two chunks
  EXPECT_GT(statements_for(1, 9), small);  // one author, nine posts: batches of four
  EXPECT_GT(statements_for(4, 3), small);  // twelve posts: the authors split in parts
}

TEST_P(DeletionTest, TheRootsOwnConditionDeletesInOneStatementHoweverManyRows) {
  // A root QuerySet whose condition reads only its own table is deleted by one statement,
  // whatever the chunk size; a condition that reads another table goes by key ranges. Both
  // delete the same rows.
  db.set_delete_chunk_size(2);
  std::vector<std::string> writes;
  db.connection().observe_statements([&](std::string_view sql, std::span<const Value>) {
    if (sql.starts_with("DELETE") || sql.starts_with("UPDATE")) writes.emplace_back(sql);
  });
  auto products = db.objects("shop.Product");
  for (int i = 0; i < 7; ++i) products.create({{"name", "p"}, {"discontinued", i != 0}});
  EXPECT_EQ(products.filter({{"discontinued", true}}).remove().total, 6);  // a PROTECT relation
  EXPECT_EQ(writes.size(), 1u);
  EXPECT_EQ(products.count(), 1);

  Instance ann = author("Ann");
  Instance bob = author("Bob");
  for (int i = 0; i < 5; ++i) post(i % 2 == 0 ? ann : bob, "p");
  writes.clear();
  EXPECT_EQ(posts.filter({{"author__name", "Ann"}}).remove().total, 3);
  EXPECT_GT(writes.size(), 1u);  // ranges of two keys
  EXPECT_EQ(posts.count(), 2);
  EXPECT_EQ(posts.filter({{"author__name", "Bob"}}).count(), 2);
  db.connection().observe_statements(nullptr);
}

TEST_P(DeletionTest, ProtectRefusesWithDjangosMessageAndChangesNothing) {
  // Rules 11, 24, 26, 79, 80.
  auto products = db.objects("shop.Product");
  Instance pr = products.create({{"name", "p"}});
  Instance order = db.objects("shop.Order").create({{"number", "1"}, {"placed", "2024-01-01"}});
  Instance item =
      db.objects("shop.OrderItem").create({{"order", order.pk()}, {"product", pr.pk()}});
  try {
    products.remove(pr);
    FAIL() << "expected ProtectedError";
  } catch (const ProtectedError& e) {
    EXPECT_STREQ(e.what(),
                 "Cannot delete some instances of model 'Product' because they are referenced "
                 "through protected foreign keys: 'OrderItem.product'.");
    ASSERT_EQ(e.protected_objects().size(), 1u);
    EXPECT_EQ(e.protected_objects()[0].pk(), item.pk());
    EXPECT_EQ(e.python_name(), "django.db.models.deletion.ProtectedError");
  }
  EXPECT_FALSE(pr.pk().is_null());  // not deleted: pk kept
  EXPECT_EQ(products.count(), 1);
  EXPECT_THROW(products.all().remove(), ProtectedError);
  // Deleting the order cascades to the item; then the product can go.
  EXPECT_EQ(db.objects("shop.Order").remove(order).repr(),
            "(2, {'shop.OrderItem': 1, 'shop.Order': 1})");
  EXPECT_EQ(products.remove(pr).repr(), "(1, {'shop.Product': 1})");
}

TEST_P(DeletionTest, ARefusalLocksNoRowAndADeleteLocksBeforeItsSecondCheck) {
  // The checks run before any lock, so a refusal costs what the blocking rows cost; where rows
  // can be locked (PostgreSQL), a delete that passes locks them and checks again.
  auto products = db.objects("shop.Product");
  Instance pr = products.create({{"name", "p"}});
  products.create({{"name", "free"}});
  Instance order = db.objects("shop.Order").create({{"number", "1"}, {"placed", "2024-01-01"}});
  db.objects("shop.OrderItem").create({{"order", order.pk()}, {"product", pr.pk()}});
  std::vector<std::string> seen;
  db.connection().observe_statements(
      [&](std::string_view sql, std::span<const Value>) { seen.emplace_back(sql); });
  auto locks = [&] {
    return std::count_if(seen.begin(), seen.end(), [](const std::string& sql) {
      return sql.find("FOR UPDATE") != std::string::npos;
    });
  };
  // Statements that read the PROTECT relation's table, before and after the first lock.
  auto checks_around_lock = [&] {
    auto lock = std::find_if(seen.begin(), seen.end(), [](const std::string& sql) {
      return sql.find("FOR UPDATE") != std::string::npos;
    });
    auto reads = [](auto from, auto to) {
      return std::count_if(from, to, [](const std::string& sql) {
        return sql.find("shop_orderitem") != std::string::npos;
      });
    };
    return std::make_pair(reads(seen.begin(), lock), reads(lock, seen.end()));
  };
  EXPECT_THROW(products.all().remove(), ProtectedError);
  EXPECT_EQ(locks(), 0);
  seen.clear();
  EXPECT_EQ(products.filter({{"name", "free"}}).remove().total, 1);
  if (db.connection().features().supports_select_for_update) {
    EXPECT_EQ(locks(), 1);
    auto [before, after] = checks_around_lock();
    EXPECT_GE(before, 1);
    EXPECT_GE(after, 1);
  } else {
    EXPECT_EQ(locks(), 0);
  }
  db.connection().observe_statements(nullptr);
}

TEST_P(DeletionTest, ProtectRefusesEvenWhenTheProtectingRowWouldGoToo) {
  // Rule 25, and rule 11: a refused delete inside the caller's transaction leaves it usable.
  auto products = db.objects("shop.Product");
  Instance pr = products.create({{"name", "p"}});
  Instance order = db.objects("shop.Order").create({{"number", "1"}, {"placed", "2024-01-01"}});
  db.objects("shop.OrderItem").create({{"order", order.pk()}, {"product", pr.pk()}});
  db::atomic(db.connection(), [&] {
    EXPECT_THROW(products.all().remove(), ProtectedError);
    products.create({{"name", "q"}});  // the transaction goes on
  });
  EXPECT_EQ(products.count(), 2);
}

TEST_P(DeletionTest, ProtectThroughACascadeIsKeyedByTheFirstHop) {
  // Rule 27: deleting an Order's ancestors... here: Order <- OrderItem (CASCADE) and
  // OrderItem.product PROTECT means deleting products is refused, deleting orders is not;
  // a deeper PROTECT is keyed by the relation the top level cascaded through.
  Registry r;
  auto project = parse_project(R"(
[models.p.P]
fields.name = { type = "char", max_length = 5 }
[models.p.R]
fields.p = { type = "foreign_key", to = "P", on_delete = "CASCADE" }
[models.p.A]
fields.protect = { type = "foreign_key", to = "R", on_delete = "PROTECT" }
)");
  Database d = Database::open(*project.registry, scratch.url());
  d.migrate();
  Instance p = d.objects("p.P").create({{"name", "p"}});
  Instance rr = d.objects("p.R").create({{"p", p.pk()}});
  Instance a = d.objects("p.A").create({{"protect", rr.pk()}});
  try {
    d.objects("p.P").remove(p);
    FAIL();
  } catch (const ProtectedError& e) {
    EXPECT_STREQ(e.what(),
                 "Cannot delete some instances of model 'P' because they are referenced "
                 "through protected foreign keys: 'R.p'.");
    ASSERT_EQ(e.protected_objects().size(), 1u);
    EXPECT_EQ(e.protected_objects()[0].meta().label(), "p.A");
  }
  EXPECT_EQ(d.objects("p.R").count(), 1);
}

TEST_P(LabTest, RestrictIsForgivenOnlyWhenTheRestrictingRowsAreCascadedToo) {
  // Rules 29 and 30 (Django's docs example).
  Instance artist1 = m("Artist").create({{"name", "artist1"}});
  Instance artist2 = m("Artist").create({{"name", "artist2"}});
  Instance album1 = m("Album").create({{"name", "album1"}, {"artist", artist1.pk()}});
  Instance album2 = m("Album").create({{"name", "album2"}, {"artist", artist2.pk()}});
  m("Song").create({{"name", "song1"}, {"artist", artist1.pk()}, {"album", album1.pk()}});
  m("Song").create({{"name", "song2"}, {"artist", artist1.pk()}, {"album", album2.pk()}});
  try {
    m("Album").remove(album1);
    FAIL();
  } catch (const RestrictedError& e) {
    EXPECT_STREQ(e.what(),
                 "Cannot delete some instances of model 'Album' because they are referenced "
                 "through restricted foreign keys: 'Song.album'.");
    EXPECT_EQ(e.python_name(), "django.db.models.deletion.RestrictedError");
  }
  try {
    m("Artist").remove(artist2);
    FAIL();
  } catch (const RestrictedError& e) {
    EXPECT_STREQ(e.what(),
                 "Cannot delete some instances of model 'Artist' because they are referenced "
                 "through restricted foreign keys: 'Song.album'.");
    ASSERT_EQ(e.restricted_objects().size(), 1u);
    EXPECT_EQ(e.restricted_objects()[0].str(), "song2");
  }
  EXPECT_EQ(m("Song").count(), 2);
  EXPECT_EQ(m("Artist").remove(artist1).repr(),
            "(4, {'lab.Song': 2, 'lab.Album': 1, 'lab.Artist': 1})");
}

TEST_P(LabTest, DiamondWithRestrict) {
  // Rule 31.
  Instance top = m("Top").create({{"name", "t"}});
  Instance left = m("Left").create({{"top", top.pk()}});
  Instance right = m("Right").create({{"top", top.pk()}});
  m("Bottom").create({{"left", left.pk()}, {"right", right.pk()}});
  try {
    m("Left").remove(left);
    FAIL();
  } catch (const RestrictedError& e) {
    EXPECT_NE(std::string(e.what()).find("'Bottom.left'"), std::string::npos);
  }
  DeleteResult r = m("Top").remove(top);
  EXPECT_EQ(r.total, 4);
  EXPECT_EQ(r.count("lab.Bottom"), 1);
  EXPECT_EQ(m("Left").count() + m("Right").count() + m("Bottom").count(), 0);
}

TEST_P(LabTest, SetNullSetDefaultSetAndDoNothing) {
  // Rules 32, 33, 34, 36, 75: updated rows are neither deleted nor counted; each key column
  // is updated on its own.
  Instance keep1 = m("Location").create({{"name", "one"}});
  Instance keep2 = m("Location").create({{"name", "two"}});
  Instance gone = m("Location").create({{"name", "gone"}});
  Instance other = m("Location").create({{"name", "other"}});
  Instance item = m("Item").create({{"loc_null", gone.pk()},
                                    {"loc_default", gone.pk()},
                                    {"loc_set", gone.pk()},
                                    {"loc_keep", other.pk()}});
  Instance untouched = m("Item").create(
      {{"loc_null", other.pk()}, {"loc_default", other.pk()}, {"loc_set", other.pk()}});
  EXPECT_EQ(m("Location").remove(gone).repr(), "(1, {'lab.Location': 1})");
  Instance after = m("Item").get(item.pk());
  EXPECT_TRUE(after.get("loc_null").is_null());
  EXPECT_EQ(after.get("loc_default"), keep1.pk());  // default = 1
  EXPECT_EQ(after.get("loc_set"), keep2.pk());      // SET(2)
  EXPECT_EQ(after.get("loc_keep"), other.pk());
  Instance same = m("Item").get(untouched.pk());
  EXPECT_EQ(same.get("loc_null"), other.pk());
  (void)keep2;
}

TEST_P(LabTest, DoNothingLeavesTheDatabaseToRefuseAtCommit) {
  // Rule 35: DO_NOTHING issues no query; the deferred constraint refuses at commit and the
  // whole delete is rolled back.
  Instance loc = m("Location").create({{"name", "x"}});
  m("Item").create({{"loc_keep", loc.pk()}});
  EXPECT_THROW(m("Location").remove(loc), IntegrityError);
  EXPECT_EQ(m("Location").count(), 1);
  EXPECT_EQ(m("Item").count(), 1);
}

TEST_P(LabTest, SelfReferentialTreeIsDeletedWholeAndCountedOnce) {
  // Rules 13 and 20: a cycle (self reference) through any depth; each row once.
  Instance root = m("Node").create({{"name", "root"}});
  Value parent = root.pk();
  for (int depth = 0; depth < 6; ++depth) {
    Instance child = m("Node").create({{"name", "n"}, {"parent", parent}});
    m("Node").create({{"name", "leaf"}, {"parent", parent}});
    parent = child.pk();
  }
  Instance other = m("Node").create({{"name", "other"}});
  DeleteResult r = m("Node").remove(root);
  EXPECT_EQ(r.repr(), "(13, {'lab.Node': 13})");
  EXPECT_EQ(m("Node").count(), 1);
  EXPECT_EQ(m("Node").all().first()->pk(), other.pk());
}

TEST_P(LabTest, DeepTreeOfAHundredThousandNodesIsDeletedInBoundedTime) {
  // A heap-shaped tree (node i's parent is i / 2), 100000 nodes, 17 generations; the subtree of
  // node 2 holds 50000 of them. Each statement runs under a generous statement timeout where the
  // database has one: a plan that scans the key table once per candidate row (NOT IN over an
  // temporary table too big to hash on PostgreSQL) would not finish.
  auto& c = db.connection();
  const std::int64_t n = 100000;
  c.execute("WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < " +
            std::to_string(n) + ") INSERT INTO " + c.quote_name("lab_node") + " (" +
            c.quote_name("id") + ", " + c.quote_name("name") + ", " + c.quote_name("parent_id") +
            ") SELECT g, 'n', CASE WHEN g = 1 THEN NULL ELSE g / 2 END FROM s");
  if (scratch.backend() == "postgresql") {
    // The smallest work_mem makes this tree's key table too big to hash, as a tree ten times
    // the size is with the default.
    c.execute("SET statement_timeout = '30s'");
    c.execute("SET work_mem = '64kB'");
  }
  std::int64_t subtree = 0;
  for (std::int64_t width = 1, first = 2; first <= n; width *= 2, first *= 2) {
    subtree += std::min(n, first + width - 1) - first + 1;
  }
  Instance two = *m("Node").find(Value(2));
  DeleteResult r = m("Node").remove(two);
  EXPECT_EQ(r.total, subtree);
  EXPECT_EQ(m("Node").count(), n - subtree);
}

TEST_P(LabTest, ChainIsDeletedLeavesFirst) {
  // Rules 60 and 78: Country <- City <- Street: Street, City, Country.
  Instance country = m("Country").create({{"name", "c"}});
  for (int i = 0; i < 2; ++i) {
    Instance city = m("City").create({{"country", country.pk()}});
    m("Street").create({{"city", city.pk()}});
  }
  EXPECT_EQ(m("Country").all().remove().repr(),
            "(5, {'lab.Street': 2, 'lab.City': 2, 'lab.Country': 1})");
}

TEST_P(LabTest, DatabaseCascadeIsNeitherCollectedNorCounted) {
  // Rules 15 and 101: DB_CASCADE rows go through the constraint, uncounted.
  Instance box = m("Box").create({{"name", "b"}});
  for (int i = 0; i < 3; ++i) m("Marble").create({{"box", box.pk()}});
  auto before = db.connection().statement_count();
  EXPECT_EQ(m("Box").remove(box).repr(), "(1, {'lab.Box': 1})");
  EXPECT_EQ(db.connection().statement_count() - before, 1);
  EXPECT_EQ(m("Marble").count(), 0);
}

TEST_P(DeletionTest, SignalsFollowDjangosOrder) {
  // Rules 61, 67, 70, 71: pre_delete children first, pks ascending; post_delete per model
  // after its delete, pks descending; instances keep their pk during signals.
  std::vector<std::string> log;
  db.signals().connect(Signal::PreDelete, [&](const SignalEvent& e) {
    log.push_back("pre " + e.sender.object_name + " " + e.instance.pk().to_string());
  });
  db.signals().connect(Signal::PostDelete, [&](const SignalEvent& e) {
    log.push_back("post " + e.sender.object_name + " " + e.instance.pk().to_string());
  });
  Instance a = author("C");
  Instance p = post(a, "x");
  comments.create({{"post", p.pk()}, {"body", "1"}});
  comments.create({{"post", p.pk()}, {"body", "2"}});
  EXPECT_EQ(authors.remove(a).repr(), "(4, {'blog.Comment': 2, 'blog.Post': 1, 'blog.Author': 1})");
  EXPECT_EQ(log, (std::vector<std::string>{"pre Comment 1", "pre Comment 2", "pre Post 1",
                                           "pre Author 1", "post Comment 2", "post Comment 1",
                                           "post Post 1", "post Author 1"}));
}

TEST_P(DeletionTest, ReceiversSeeTheIntermediateStateAndTheOrigin) {
  // Rules 64 and 67: in a cascaded child's post_delete the parent row still exists; origin is
  // the instance the delete was called on.
  Instance a = author("Ann");
  Instance p = post(a, "x");
  comments.create({{"post", p.pk()}, {"body", "1"}});
  bool parent_there = false;
  const Instance* origin = nullptr;
  db.signals().connect(
      Signal::PostDelete,
      [&](const SignalEvent& e) {
        parent_there = posts.find(e.instance.get("post")).has_value();
        origin = e.origin.instance;
      },
      &db.registry().get("blog.Comment"));
  authors.remove(a);
  EXPECT_TRUE(parent_there);
  EXPECT_EQ(origin, &a);
}

TEST_P(DeletionTest, AReceiverThatThrowsRollsEverythingBack) {
  // Rule 62: any exception from a receiver rolls back everything, fast deletes included, and
  // the pk is not reset.
  Instance a = author("Ann");
  Instance p = post(a, "x");
  comments.create({{"post", p.pk()}, {"body", "1"}});
  Instance t = tags.create({{"name", "t"}});
  posts.many_to_many(p, "tags").add({t.pk()});
  db.signals().connect(
      Signal::PostDelete, [&](const SignalEvent&) { throw std::runtime_error("receiver failed"); },
      &db.registry().get("blog.Post"));
  EXPECT_THROW(authors.remove(a), std::runtime_error);
  EXPECT_FALSE(a.pk().is_null());
  EXPECT_EQ(authors.count(), 1);
  EXPECT_EQ(posts.count(), 1);
  EXPECT_EQ(comments.count(), 1);
  EXPECT_EQ(count_rows(db.connection(), "blog_post_tags"), 1);
}

TEST_P(DeletionTest, NoSignalsForThroughRowsFastDeletesOrUpdatedRows) {
  // Rules 55 and 69: a receiver for every model sees only collected rows; through rows and
  // SET_NULL rows get none.
  Instance ann = author("Ann"), bob = author("Bob");
  Instance p = post(bob, "x", ann.pk());
  Instance t = tags.create({{"name", "t"}});
  posts.many_to_many(p, "tags").add({t.pk()});
  std::vector<std::string> seen;
  db.signals().connect(Signal::PreDelete,
                       [&](const SignalEvent& e) { seen.push_back(e.sender.label()); });
  authors.remove(ann);
  EXPECT_EQ(seen, std::vector<std::string>{"blog.Author"});
  seen.clear();
  tags.remove(t);
  EXPECT_EQ(seen, std::vector<std::string>{"blog.Tag"});
}

TEST_P(DeletionTest, BatchReceiversGetEveryKeyWithoutPerObjectCalls) {
  Instance a = author("Ann");
  Instance p = post(a, "x");
  for (int i = 0; i < 2500; ++i) comments.create({{"post", p.pk()}, {"body", "c"}});
  std::int64_t pre = 0, post_count = 0, batches = 0;
  db.signals().connect_batch(
      Signal::PreDelete,
      [&](const BatchEvent& e) {
        pre += static_cast<std::int64_t>(e.pks.size());
        ++batches;
      },
      &db.registry().get("blog.Comment"));
  db.signals().connect_batch(
      Signal::PostDelete,
      [&](const BatchEvent& e) { post_count += static_cast<std::int64_t>(e.pks.size()); },
      &db.registry().get("blog.Comment"));
  EXPECT_EQ(authors.remove(a).count("blog.Comment"), 2500);
  EXPECT_EQ(pre, 2500);
  EXPECT_EQ(post_count, 2500);
  EXPECT_EQ(batches, 3);
}

TEST_P(DeletionTest, PreviewMatchesTheDeleteAndChangesNothing) {
  Instance ann = author("Ann"), bob = author("Bob");
  Instance p1 = post(ann, "Hello", bob.pk());
  post(bob, "Bye", ann.pk());
  comments.create({{"post", p1.pk()}, {"body", "x"}});
  auto qs = authors.filter({{"name", "Ann"}});
  Preview preview = qs.preview_remove();
  EXPECT_EQ(preview.counts.repr(), "(3, {'blog.Comment': 1, 'blog.Post': 1, 'blog.Author': 1})");
  ASSERT_EQ(preview.updates.size(), 1u);
  EXPECT_EQ(preview.updates[0].label, "blog.Post");
  EXPECT_EQ(preview.updates[0].field, "editor");
  EXPECT_EQ(preview.updates[0].count, 1);
  ASSERT_EQ(preview.tree.size(), 1u);
  EXPECT_EQ(preview.tree[0].text, "Author: Ann");
  ASSERT_EQ(preview.tree[0].children.size(), 1u);
  EXPECT_EQ(preview.tree[0].children[0].text, "Post: Hello");
  EXPECT_EQ(preview.tree[0].children[0].children[0].text, "Comment: Comment 1 on post 1");
  EXPECT_EQ(authors.count(), 2);  // nothing changed
  EXPECT_EQ(comments.count(), 1);
  EXPECT_EQ(qs.remove().repr(), preview.counts.repr());
}

TEST_P(DeletionTest, PreviewTextAsTheReadmeShowsIt) {
  Instance ann = author("Ann");
  Instance p = post(ann, "Hello");
  comments.create({{"post", p.pk()}, {"body", "x"}});
  Instance t = tags.create({{"name", "t"}});
  posts.many_to_many(p, "tags").add({t.pk()});
  auto drafts = posts.filter({{"author__name", "Ann"}});
  EXPECT_EQ(drafts.preview_remove().text(),
            "- Post: Hello\n"
            "    - Post-tag relationship: Post_tags object (1)\n"
            "    - Comment: Comment 1 on post 1\n"
            "Summary: 3 objects\n"
            "  blog.Post_tags: 1\n"
            "  blog.Comment: 1\n"
            "  blog.Post: 1\n");
  EXPECT_EQ(drafts.remove().repr(),
            "(3, {'blog.Post_tags': 1, 'blog.Comment': 1, 'blog.Post': 1})");
}

TEST_P(DeletionTest, PreviewListsEachRootOnceAcrossMultiValuedJoins) {
  Instance ann = author("Ann");
  Instance p = post(ann, "Hello");
  for (int i = 0; i < 3; ++i) comments.create({{"post", p.pk()}, {"body", "x"}});
  Preview preview = posts.filter({{"comments__body", "x"}}).preview_remove(1);
  ASSERT_EQ(preview.tree.size(), 1u);
  EXPECT_EQ(preview.counts.total, 4);
  EXPECT_EQ(preview.omitted, 3);  // the three comments, beyond the budget of one
  // Only the rows listed are read, with a limit that grows past the repeats: the first three
  // rows of the join are one editor, the budget of two needs the next.
  Instance e1 = author("E1");
  Instance e2 = author("E2");
  for (const Instance* e : {&e1, &e1, &e1, &e2, &e2, &e2}) post(ann, "edited", e->pk());
  Preview two = authors.filter({{"edited_posts__title", "edited"}}).preview_remove(2);
  ASSERT_EQ(two.tree.size(), 2u);
  EXPECT_EQ(two.tree[0].pk, e1.pk());
  EXPECT_EQ(two.tree[1].pk, e2.pk());
  EXPECT_EQ(two.counts.total, 2);
  EXPECT_EQ(two.omitted, 0);
}

TEST_P(DeletionTest, PreviewReportsProtectedObjects) {
  auto products = db.objects("shop.Product");
  Instance pr = products.create({{"name", "widget"}});
  Instance order = db.objects("shop.Order").create({{"number", "1"}, {"placed", "2024-01-01"}});
  db.objects("shop.OrderItem")
      .create({{"order", order.pk()}, {"product", pr.pk()}, {"quantity", 2}});
  Preview p = products.all().preview_remove();
  EXPECT_EQ(p.blocked_by, Refusal::Protected);
  ASSERT_EQ(p.blocking.size(), 1u);
  EXPECT_EQ(p.blocking[0].text, "Order item: 2 x product 1");
  EXPECT_EQ(p.blocking[0].label, "shop.OrderItem");
  EXPECT_NE(p.text().find("Blocked (ProtectedError)"), std::string::npos);
}

}  // namespace
}  // namespace cascade
