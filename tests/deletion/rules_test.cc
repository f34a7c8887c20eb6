// The rest of Django's deletion rules that apply to Cascade's models, one test each (rule
// numbers from the spec). Rules about mechanism are checked by their observable outcome.
#include <gtest/gtest.h>

#include "cascade/database.h"
#include "cascade/db/schema.h"
#include "cascade/db/transaction.h"
#include "cascade/error.h"
#include "cascade/model/loader.h"
#include "support/backends.h"

namespace cascade {
namespace {

const char* kModels = R"(
[models.r.Parent]
display = "{name}"
fields.name = { type = "char", max_length = 20 }

[models.r.Twin]
fields.first = { type = "foreign_key", to = "Parent", on_delete = "CASCADE", related_name = "firsts" }
fields.second = { type = "foreign_key", to = "Parent", on_delete = "CASCADE", related_name = "seconds" }

[models.r.Hidden]
fields.parent = { type = "foreign_key", to = "Parent", on_delete = "CASCADE", related_name = "+" }

[models.r.Loose]
fields.parent = { type = "foreign_key", to = "Parent", on_delete = "CASCADE", null = true, related_name = "loose" }

[models.r.Profile]
fields.parent = { type = "one_to_one", to = "Parent", on_delete = "CASCADE" }

[models.r.Membership]
fields.parent = { type = "foreign_key", to = "Parent", on_delete = "CASCADE", related_name = "memberships" }
fields.club = { type = "foreign_key", to = "Club", on_delete = "CASCADE", related_name = "memberships" }
[models.r.Club]
fields.name = { type = "char", max_length = 20 }

[models.r.Vault]
fields.name = { type = "char", max_length = 20 }
[models.r.Coin]
fields.vault = { type = "foreign_key", to = "Vault", on_delete = "DB_CASCADE" }

[models.r.Ticket]
fields.parent = { type = "foreign_key", to = "Parent", on_delete = "SET_DEFAULT", null = true, default_none = true, related_name = "tickets" }
fields.vault = { type = "foreign_key", to = "Vault", on_delete = "DB_SET_DEFAULT", null = true, default_none = true, related_name = "tickets" }
)";

const Registry& rules_registry() {
  static Project* project = new Project(parse_project(kModels, "rules.toml"));
  return *project->registry;
}

class RulesTest : public cascade::testing::BackendTest {
 protected:
  Database db = [this] {
    Database d = Database::open(rules_registry(), scratch.url());
    d.migrate();
    return d;
  }();
  Manager parents = db.objects("r.Parent");
};
CASCADE_ON_EVERY_BACKEND(RulesTest);

// SET_DEFAULT with Django's default=None on a nullable key (default_none in a models file): the
// key is set to NULL; DB_SET_DEFAULT's column DEFAULT is NULL, so the database does the same.
TEST_P(RulesTest, SetDefaultWithADefaultOfNoneSetsNull) {
  Instance p = parents.create({{"name", "p"}});
  Instance v = db.objects("r.Vault").create({{"name", "v"}});
  Instance t = db.objects("r.Ticket").create({{"parent", p.pk()}, {"vault", v.pk()}});
  Instance fresh = db.objects("r.Ticket").create({});
  EXPECT_TRUE(fresh.get("parent").is_null());  // the default for new objects too
  Preview preview = parents.filter({{"pk", p.pk()}}).preview_remove(10);
  ASSERT_EQ(preview.updates.size(), 1u);
  EXPECT_EQ(preview.updates[0].value, "None");
  EXPECT_EQ(parents.filter({{"pk", p.pk()}}).remove().repr(), "(1, {'r.Parent': 1})");
  db.objects("r.Vault").filter({{"pk", v.pk()}}).remove();
  Instance after = db.objects("r.Ticket").get(t.pk());
  EXPECT_TRUE(after.get("parent").is_null());
  EXPECT_TRUE(after.get("vault").is_null());
}

// Two CASCADE cycles, one reached through the other: C references itself, B references C, A
// references B and itself. The second cycle's rows are found after the first's are complete
// (this crashed with unbounded recursion when both were built at once; found by the oracle).
TEST_P(RulesTest, ACycleReachedThroughAnotherCycleIsDeletedWhole) {
  Project project = parse_project(R"(
[models.k.C]
fields.name = { type = "char", max_length = 5 }
fields.up = { type = "foreign_key", to = "C", on_delete = "CASCADE", null = true, related_name = "downs" }
[models.k.B]
fields.c = { type = "foreign_key", to = "C", on_delete = "CASCADE" }
[models.k.A]
fields.b = { type = "foreign_key", to = "B", on_delete = "CASCADE" }
fields.up = { type = "foreign_key", to = "A", on_delete = "CASCADE", null = true, related_name = "downs" }
)",
                                  "cycles.toml");
  cascade::testing::ScratchDatabase scratch2(GetParam());
  Database d = Database::open(*project.registry, scratch2.url());
  d.migrate();
  Instance c1 = d.objects("k.C").create({{"name", "c1"}});
  Instance c2 = d.objects("k.C").create({{"name", "c2"}, {"up", c1.pk()}});
  Instance keep = d.objects("k.C").create({{"name", "keep"}});
  Instance b = d.objects("k.B").create({{"c", c2.pk()}});
  Instance b_kept = d.objects("k.B").create({{"c", keep.pk()}});
  Instance a1 = d.objects("k.A").create({{"b", b.pk()}});
  Instance a2 = d.objects("k.A").create({{"b", b_kept.pk()}, {"up", a1.pk()}});
  d.objects("k.A").create({{"b", b_kept.pk()}});
  Preview preview = d.objects("k.C").filter({{"pk", c1.pk()}}).preview_remove(10);
  DeleteResult r = d.objects("k.C").filter({{"pk", c1.pk()}}).remove();
  EXPECT_EQ(r.repr(), preview.counts.repr());
  EXPECT_EQ(r.count("k.C"), 2);
  EXPECT_EQ(r.count("k.B"), 1);
  EXPECT_EQ(r.count("k.A"), 2);  // a1 through b, a2 through a1
  EXPECT_EQ(d.objects("k.C").count(), 1);
  EXPECT_EQ(d.objects("k.A").count(), 1);
}

// db_constraint = false (Django's db_constraint=False): no FOREIGN KEY in the database, so a
// DO_NOTHING reference is left dangling, as Django leaves it; following it raises DoesNotExist,
// and deletes around it still work.
TEST_P(RulesTest, WithoutAConstraintDoNothingLeavesTheReferenceDangling) {
  Project project = parse_project(R"(
[models.u.P]
display = "{name}"
fields.name = { type = "char", max_length = 5 }
[models.u.K]
fields.p = { type = "foreign_key", to = "P", on_delete = "DO_NOTHING", db_constraint = false }
fields.q = { type = "foreign_key", to = "P", on_delete = "CASCADE", null = true, db_constraint = false, related_name = "qs" }
)",
                                  "loose.toml");
  cascade::testing::ScratchDatabase scratch2(GetParam());
  Database d = Database::open(*project.registry, scratch2.url());
  d.migrate();
  EXPECT_TRUE(d.connection().foreign_keys("u_k").empty());
  EXPECT_TRUE(db::plan_migration(d.connection(), *project.registry).problems.empty());
  Instance p = d.objects("u.P").create({{"name", "p"}});
  Instance p2 = d.objects("u.P").create({{"name", "p2"}});
  Instance k = d.objects("u.K").create({{"p", p.pk()}, {"q", p2.pk()}});
  Preview preview = d.objects("u.P").filter({{"pk", p.pk()}}).preview_remove(10);
  EXPECT_FALSE(preview.blocked());  // the commit will not fail: nothing checks the reference
  EXPECT_EQ(d.objects("u.P").filter({{"pk", p.pk()}}).remove().repr(), "(1, {'u.P': 1})");
  Instance left = d.objects("u.K").get(k.pk());
  EXPECT_EQ(left.get("p"), p.pk());  // dangling
  EXPECT_THROW(d.objects("u.P").get(left.get("p")), DoesNotExist);
  EXPECT_EQ(d.objects("u.K").filter({{"p__name", "p"}}).count(), 0);
  // The CASCADE key without a constraint still cascades (Cascade deletes, not the database).
  EXPECT_EQ(d.objects("u.P").filter({{"pk", p2.pk()}}).remove().repr(),
            "(2, {'u.K': 1, 'u.P': 1})");
  // The database's own rules need the constraint.
  try {
    parse_project(R"(
[models.v.P]
fields.name = { type = "char", max_length = 5 }
[models.v.K]
fields.p = { type = "foreign_key", to = "P", on_delete = "DB_CASCADE", db_constraint = false }
)");
    ADD_FAILURE() << "DB_CASCADE without a constraint was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("db_constraint = false"), std::string::npos) << e.what();
  }
}

TEST_P(RulesTest, Rule8And9OrderingIsDroppedAndTheQuerySetReevaluates) {
  for (const char* n : {"b", "a", "c"}) parents.create({{"name", n}});
  auto ordered = parents.all().order_by({"-name"});
  EXPECT_EQ(ordered.remove().total, 3);
  EXPECT_TRUE(ordered.fetch().empty());  // a fresh query, no stale cache
}

TEST_P(RulesTest, Rule12InstancesOfOneModelOnly) {
  Instance p = parents.create({{"name", "p"}});
  Instance c = db.objects("r.Club").create({{"name", "c"}});
  EXPECT_THROW(Collector(db).collect({&p, &c}), TypeError);
  EXPECT_EQ(parents.count(), 1);
}

TEST_P(RulesTest, Rule14HiddenRelationsAndOneToOnesAreFollowed) {
  Instance p = parents.create({{"name", "p"}});
  db.objects("r.Hidden").create({{"parent", p.pk()}});
  db.objects("r.Profile").create({{"parent", p.pk()}});
  DeleteResult r = parents.remove(p);
  EXPECT_EQ(r.count("r.Hidden"), 1);
  EXPECT_EQ(r.count("r.Profile"), 1);
  EXPECT_EQ(r.total, 3);
}

TEST_P(RulesTest, Rule13And50TwoKeysFromOneModelDeleteEachRowOnce) {
  Instance a = parents.create({{"name", "a"}});
  Instance b = parents.create({{"name", "b"}});
  db.objects("r.Twin").create({{"first", a.pk()}, {"second", b.pk()}});
  db.objects("r.Twin").create({{"first", a.pk()}, {"second", a.pk()}});
  DeleteResult r = parents.all().remove();
  EXPECT_EQ(r.repr(), "(4, {'r.Twin': 2, 'r.Parent': 2})");
}

TEST_P(RulesTest, Rule21NullableCascadeIsStillDeleted) {
  // Rule 23 too: a nullable CASCADE key is deleted, never nulled.
  Instance p = parents.create({{"name", "p"}});
  db.objects("r.Loose").create({{"parent", p.pk()}});
  db.objects("r.Loose").create({{"parent", Value()}});
  EXPECT_EQ(parents.remove(p).repr(), "(2, {'r.Loose': 1, 'r.Parent': 1})");
  EXPECT_EQ(db.objects("r.Loose").count(), 1);
}

TEST_P(RulesTest, Rule48AGlobalReceiverTakesEveryModelOffTheFastPath) {
  // Rule 53: the strategy changes, the outcome does not.
  auto vaults = db.objects("r.Vault");
  for (int i = 0; i < 3; ++i) vaults.create({{"name", "v"}});
  auto before = db.connection().statement_count();
  EXPECT_EQ(vaults.filter({{"pk", 1}}).remove().total, 1);
  EXPECT_EQ(db.connection().statement_count() - before, 1);  // one DELETE
  int seen = 0;
  db.signals().connect(Signal::PreDelete, [&](const SignalEvent&) { ++seen; });
  EXPECT_EQ(vaults.all().remove().repr(), "(2, {'r.Vault': 2})");
  EXPECT_EQ(seen, 2);
}

TEST_P(RulesTest, Rule54And68MembershipRowsAreCollectedAndSignalled) {
  // Rule 56: an explicit "through" model is an ordinary model with its own signals.
  Instance p = parents.create({{"name", "p"}});
  Instance c = db.objects("r.Club").create({{"name", "c"}});
  db.objects("r.Membership").create({{"parent", p.pk()}, {"club", c.pk()}});
  int seen = 0;
  db.signals().connect(
      Signal::PostDelete, [&](const SignalEvent&) { ++seen; }, &db.registry().get("r.Membership"));
  EXPECT_EQ(db.objects("r.Club").remove(c).repr(), "(2, {'r.Membership': 1, 'r.Club': 1})");
  EXPECT_EQ(seen, 1);
}

TEST_P(RulesTest, Rule72OnlyTheInstancesHandedToTheDeleteAreReset) {
  Instance p = parents.create({{"name", "p"}});
  Instance copy = parents.get(p.pk());
  parents.remove(p);
  EXPECT_TRUE(p.pk().is_null());
  EXPECT_FALSE(copy.pk().is_null());
}

TEST_P(RulesTest, Rule77CountsAreRowsReallyDeleted) {
  // Rule 66 too: a row gone before the delete is not counted.
  Instance p = parents.create({{"name", "p"}});
  Instance q = parents.create({{"name", "q"}});
  db.connection().execute("DELETE FROM r_parent WHERE id = " + db.connection().placeholder(1),
                          std::vector<Value>{q.pk()});
  EXPECT_EQ(parents.filter({{"pk__in", Arg::list({p.pk(), q.pk()})}}).remove().total, 1);
}

TEST_P(RulesTest, Rule101ReceiverOnADatabaseCascadedModelWarns) {
  std::vector<std::string> warnings;
  db.signals().set_warning_handler([&](const std::string& w) { warnings.push_back(w); });
  db.signals().connect(
      Signal::PreDelete, [](const SignalEvent&) {}, &db.registry().get("r.Coin"));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0],
            "pre_delete receiver for r.Coin: rows of r.Coin that the database deletes through "
            "DB_CASCADE (r.Coin.vault) are removed without signals");
  Instance v = db.objects("r.Vault").create({{"name", "v"}});
  db.objects("r.Coin").create({{"vault", v.pk()}});
  EXPECT_EQ(db.objects("r.Vault").remove(v).repr(), "(1, {'r.Vault': 1})");
  EXPECT_EQ(db.objects("r.Coin").count(), 0);
}

TEST_P(RulesTest, TypedReceiversGetStructs) {
  using blog_shop::Author;
  Database shop = blog_shop();
  std::vector<std::string> names;
  shop.connect<Author>(Signal::PreDelete, [&](const Author& a) { names.push_back(a.name); });
  shop.create(Author{.id = {}, .name = "Ann", .email = ""});
  shop.create(Author{.id = {}, .name = "Bob", .email = ""});
  shop.objects<Author>().remove();
  EXPECT_EQ(names, (std::vector<std::string>{"Ann", "Bob"}));
}

// Rules 33 and 34: a callable SET / default runs once per batch (here three rows: one call;
// Cascade updates every row of a relation in one statement, so one call per delete), only
// when rows are affected; rule 40:
// instances held in memory are not updated.
TEST(RulesCallables, SetCallableRunsOnlyWhenRowsAreAffected) {
  struct Parent {
    std::optional<std::int64_t> id;
    std::string name;
  };
  struct Child {
    std::optional<std::int64_t> id;
    std::optional<std::int64_t> parent_id;
    std::optional<std::int64_t> other_id;
  };
  int set_calls = 0, default_calls = 0;
  Registry r;
  define<Parent>(r, "c", "Parent", {}, primary_key(&Parent::id),
                 char_field("name", &Parent::name, {.max_length = 10}));
  define<Child>(r, "c", "Child", {}, primary_key(&Child::id),
                foreign_key("parent", &Child::parent_id, "c.Parent", OnDelete::Set,
                            {.related_name = "by_set",
                             .on_delete_factory =
                                 [&] {
                                   ++set_calls;
                                   return Value(1);
                                 }}),
                foreign_key("other", &Child::other_id, "c.Parent", OnDelete::SetDefault,
                            {.related_name = "by_default", .default_factory = [&] {
                               ++default_calls;
                               return Value(1);
                             }}));
  r.finalize();
  cascade::testing::TempDir dir;
  Database db = Database::open(r, "sqlite:///" + dir.file("c.db"));
  db.migrate();
  Parent keep = db.create(Parent{.id = {}, .name = "keep"});
  Parent gone = db.create(Parent{.id = {}, .name = "gone"});
  Parent lonely = db.create(Parent{.id = {}, .name = "lonely"});
  Child child = db.create(Child{.id = {}, .parent_id = gone.id, .other_id = gone.id});
  db.create(Child{.id = {}, .parent_id = gone.id, .other_id = gone.id});
  db.create(Child{.id = {}, .parent_id = gone.id, .other_id = gone.id});
  default_calls = 0;  // create() computed the default for nothing here (members were set)
  db.remove(lonely);
  EXPECT_EQ(set_calls, 0);
  EXPECT_EQ(default_calls, 0);
  db.remove(gone);
  EXPECT_EQ(set_calls, 1);
  EXPECT_EQ(default_calls, 1);
  Child after = db.get<Child>(*child.id);
  EXPECT_EQ(after.parent_id, keep.id);
  EXPECT_EQ(after.other_id, keep.id);
  EXPECT_NE(child.parent_id, after.parent_id);  // rule 40: the held struct is unchanged
}

}  // namespace
}  // namespace cascade

namespace cascade {
namespace {

// A chain of 12 models (each with a CASCADE key to the previous one) with guards at the bottom:
// the checks follow the referencing rows up the chain (one flat join, however long the chain),
// and the delete reads each level a bounded number of times (key tables for deep levels).
// Rules 24 (PROTECT), 28-29 (RESTRICT, forgiven when the restricting row is deleted too).
class DeepChainTest : public cascade::testing::BackendTest {
 protected:
  static std::string models() {
    std::string out = "[models.ch.L1]\nfields.name = { type = \"char\", max_length = 10 }\n";
    for (int k = 2; k <= 12; ++k) {
      out += "[models.ch.L" + std::to_string(k) + "]\nfields.up = { type = \"foreign_key\", to = \"L" +
             std::to_string(k - 1) + "\", on_delete = \"CASCADE\" }\n";
    }
    out += "[models.ch.Guard]\n"
           "fields.l12 = { type = \"foreign_key\", to = \"L12\", on_delete = \"PROTECT\", null = true }\n"
           "[models.ch.Hold]\n"
           "fields.l12 = { type = \"foreign_key\", to = \"L12\", on_delete = \"RESTRICT\" }\n"
           "fields.l11 = { type = \"foreign_key\", to = \"L11\", on_delete = \"CASCADE\", null = true }\n";
    return out;
  }
};
CASCADE_ON_EVERY_BACKEND(DeepChainTest);

TEST_P(DeepChainTest, RefusalsAndDeletesThroughTwelveLevels) {
  Project project = parse_project(models(), "chain.toml");
  Database d = Database::open(*project.registry, scratch.url());
  d.migrate();
  // Two roots, each with a chain of 11 rows below it.
  for (int root = 1; root <= 2; ++root) {
    Value up = d.objects("ch.L1").create({{"name", Value("r" + std::to_string(root))}}).pk();
    for (int k = 2; k <= 12; ++k) {
      up = d.objects("ch.L" + std::to_string(k)).create({{"up", up}}).pk();
    }
  }
  // Row 1 of L12 is under root 1, row 2 under root 2.
  Instance guard = d.objects("ch.Guard").create({{"l12", Value(2)}});
  auto total = [&] {
    std::int64_t n = 0;
    for (int k = 1; k <= 12; ++k) n += d.objects("ch.L" + std::to_string(k)).count();
    return n;
  };
  // Root 1 is not protected; root 2 is, from twelve levels down.
  EXPECT_THROW(d.objects("ch.L1").filter({{"name", "r2"}}).remove(), ProtectedError);
  EXPECT_THROW(d.objects("ch.L1").all().remove(), ProtectedError);
  EXPECT_EQ(total(), 24);
  // RESTRICT from a row that the same delete cascades to (through L11) is forgiven; one that
  // it does not reach refuses.
  d.objects("ch.Hold").create({{"l12", Value(1)}, {"l11", Value(1)}});
  EXPECT_EQ(d.objects("ch.L1").filter({{"name", "r1"}}).preview_remove(0).counts.total, 13);
  Instance other = d.objects("ch.Hold").create({{"l12", Value(1)}});
  EXPECT_THROW(d.objects("ch.L1").filter({{"name", "r1"}}).remove(), RestrictedError);
  EXPECT_EQ(total(), 24);
  d.objects("ch.Hold").remove(other);
  DeleteResult r = d.objects("ch.L1").filter({{"name", "r1"}}).remove();
  EXPECT_EQ(r.total, 13);  // 12 levels and the forgiven hold
  EXPECT_EQ(total(), 12);
  d.objects("ch.Guard").remove(guard);
  EXPECT_EQ(d.objects("ch.L1").all().remove().total, 12);
  EXPECT_EQ(total(), 0);
}

}  // namespace
}  // namespace cascade
