// Relations beyond plain foreign keys to a primary key, as Django has them (spec sections E and
// G, rules 14, 44-46 and 57): to_field, explicit through models, symmetrical self
// many-to-many, abstract bases. Each case runs on every backend.
#include <gtest/gtest.h>

#include <algorithm>

#include "cascade/database.h"
#include "cascade/db/schema.h"
#include "cascade/error.h"
#include "cascade/model/loader.h"
#include "cascade/model/mapping.h"
#include "support/backends.h"

namespace cascade {
namespace {

// What parsing `text` as a models file says: the ConfigError's message, or "accepted".
std::string config_error(const std::string& text) {
  try {
    parse_project(text, "bad.toml");
  } catch (const ConfigError& e) {
    return std::string(e.what());
  }
  return std::string("accepted");
}

class RelationsTest : public cascade::testing::BackendTest {
 protected:
  // Opens a database for `models`, migrated. The project lives as long as the fixture.
  Database open(const char* models) {
    projects_.push_back(std::make_unique<Project>(parse_project(models, "relations.toml")));
    Database d = Database::open(*projects_.back()->registry, scratch.url());
    d.migrate();
    return d;
  }

 private:
  std::vector<std::unique_ptr<Project>> projects_;
};
CASCADE_ON_EVERY_BACKEND(RelationsTest);

// ---- to_field ---------------------------------------------------------------------------------

const char* kToField = R"(
[models.tf.Country]
display = "{name}"
fields.code = { type = "char", max_length = 2, unique = true }
fields.name = { type = "char", max_length = 20 }
[models.tf.City]
display = "{name}"
fields.name = { type = "char", max_length = 20 }
fields.country = { type = "foreign_key", to = "Country", to_field = "code", on_delete = "CASCADE" }
[models.tf.Street]
fields.city = { type = "foreign_key", to = "City", on_delete = "CASCADE" }
fields.alt = { type = "foreign_key", to = "Country", to_field = "code", on_delete = "SET_NULL", null = true, related_name = "alt_streets" }
[models.tf.Visa]
fields.country = { type = "foreign_key", to = "Country", to_field = "code", on_delete = "PROTECT", null = true, related_name = "visas" }
)";

// The key column holds the to_field's value; lookups, traversal, cascades, SET_NULL and previews
// all follow that column (Django's ForeignKey(to_field=...)).
TEST_P(RelationsTest, ToFieldKeysHoldTheUniqueColumnAndDeletesFollowIt) {
  Database d = open(kToField);
  Manager countries = d.objects("tf.Country");
  Instance fr = countries.create({{"code", "FR"}, {"name", "France"}});
  Instance de = countries.create({{"code", "DE"}, {"name", "Germany"}});
  // Country ids 1 and 2 are not the codes: a key compared with the pk would miss every row.
  Instance paris = d.objects("tf.City").create({{"name", "Paris"}, {"country", "FR"}});
  Instance berlin = d.objects("tf.City").create({{"name", "Berlin"}, {"country", de.get("code")}});
  EXPECT_EQ(d.objects("tf.City").get(berlin.pk()).get("country"), Value("DE"));
  Instance s1 = d.objects("tf.Street").create({{"city", paris.pk()}, {"alt", "DE"}});
  Instance s2 = d.objects("tf.Street").create({{"city", berlin.pk()}, {"alt", "FR"}});
  // Lookups: by the held value, by the instance, across the relation and back.
  EXPECT_EQ(d.objects("tf.City").filter({{"country", "FR"}}).count(), 1);
  EXPECT_EQ(d.objects("tf.City").filter({{"country", Arg(fr)}}).count(), 1);
  EXPECT_EQ(d.objects("tf.City").filter({{"country__code", "DE"}}).count(), 1);
  EXPECT_EQ(d.objects("tf.City").filter({{"country__name", "France"}}).get().pk(), paris.pk());
  EXPECT_EQ(d.objects("tf.City").filter({{"country__pk", fr.pk()}}).get().pk(), paris.pk());
  EXPECT_EQ(countries.filter({{"city__name", "Berlin"}}).get().pk(), de.pk());
  EXPECT_EQ(d.objects("tf.Street").filter({{"city__country__name", "Germany"}}).get().pk(),
            s2.pk());
  // Deleting France: Paris cascades (and its street), the other street's alt is set to NULL.
  Preview preview = countries.filter({{"pk", fr.pk()}}).preview_remove(10);
  EXPECT_EQ(preview.counts.repr(), "(3, {'tf.Street': 1, 'tf.City': 1, 'tf.Country': 1})");
  ASSERT_EQ(preview.updates.size(), 1u);
  EXPECT_EQ(preview.updates[0].count, 1);
  DeleteResult r = countries.filter({{"pk", fr.pk()}}).remove();
  EXPECT_EQ(r.repr(), preview.counts.repr());
  EXPECT_EQ(d.objects("tf.City").count(), 1);
  EXPECT_THROW(d.objects("tf.Street").get(s1.pk()), DoesNotExist);
  EXPECT_TRUE(d.objects("tf.Street").get(s2.pk()).get("alt").is_null());
  EXPECT_EQ(d.objects("tf.Street").get(s2.pk()).get("city"), berlin.pk());
}

TEST_P(RelationsTest, ToFieldProtectNamesTheProtectedRowsAndChangesNothing) {
  Database d = open(kToField);
  Manager countries = d.objects("tf.Country");
  Instance fr = countries.create({{"code", "FR"}, {"name", "France"}});
  countries.create({{"code", "DE"}, {"name", "Germany"}});
  d.objects("tf.City").create({{"name", "Paris"}, {"country", "FR"}});
  d.objects("tf.Visa").create({{"country", "DE"}});
  d.objects("tf.Visa").create({{"country", "FR"}});
  EXPECT_THROW(countries.all().remove(), ProtectedError);
  EXPECT_EQ(countries.count(), 2);
  EXPECT_EQ(d.objects("tf.City").count(), 1);
  // Deleting only Germany's visa first: France is still protected by its own.
  d.objects("tf.Visa").filter({{"country", "DE"}}).remove();
  try {
    countries.filter({{"pk", fr.pk()}}).remove();
    ADD_FAILURE() << "the delete was not refused";
  } catch (const ProtectedError& e) {
    EXPECT_EQ(e.protected_objects().size(), 1u);
  }
  EXPECT_EQ(countries.count(), 2);
}

TEST_P(RelationsTest, ToFieldMustNameAUniqueFieldOfTheTarget) {
  EXPECT_NE(config_error(R"(
[models.b.T]
fields.code = { type = "char", max_length = 2 }
[models.b.R]
fields.t = { type = "foreign_key", to = "T", to_field = "code", on_delete = "CASCADE" }
)")
                .find("'b.T.code' must be unique because it is referenced by a foreign key"),
            std::string::npos);
  EXPECT_NE(config_error(R"(
[models.b.T]
fields.code = { type = "char", max_length = 2, unique = true }
[models.b.R]
fields.t = { type = "foreign_key", to = "T", to_field = "cod", on_delete = "CASCADE" }
)")
                .find("The to_field 'cod' doesn't exist on the related model 'b.T'"),
            std::string::npos);
  EXPECT_NE(config_error(R"(
[models.b.T]
fields.code = { type = "char", max_length = 2, unique = true }
fields.n = { type = "integer", to_field = "code" }
)")
                .find("'to_field' is only for relations"),
            std::string::npos);
}

// The typed declaration: RelationOptions::to_field.
struct Plan {
  std::optional<std::int64_t> id;
  std::string sku;
};
struct Line {
  std::optional<std::int64_t> id;
  std::string plan_sku;
};

TEST_P(RelationsTest, ToFieldInTheTypedDeclaration) {
  Registry registry;
  define<Plan>(registry, "typed", "Plan", primary_key(&Plan::id),
               char_field("sku", &Plan::sku, {.max_length = 10, .unique = true}));
  define<Line>(registry, "typed", "Line", primary_key(&Line::id),
               foreign_key<Plan>("plan", &Line::plan_sku, OnDelete::Cascade, {.to_field = "sku"}));
  registry.finalize();
  Database d = Database::open(registry, scratch.url());
  d.migrate();
  Plan basic = d.create(Plan{.id = {}, .sku = "basic"});
  d.create(Plan{.id = {}, .sku = "pro"});
  d.create(Line{.id = {}, .plan_sku = "basic"});
  d.create(Line{.id = {}, .plan_sku = "pro"});
  EXPECT_EQ(d.objects<Line>().filter(Q("plan", basic)).count(), 1);
  DeleteResult r = d.objects<Plan>().filter({{"sku", "basic"}}).remove();
  EXPECT_EQ(r.repr(), "(2, {'typed.Line': 1, 'typed.Plan': 1})");
  EXPECT_EQ(d.objects<Line>().filter({{"plan__sku", "pro"}}).count(), 1);
}

// ---- many-to-many: explicit through models, symmetrical self relations (rules 54-56) ----------

const char* kManyToMany = R"(
[models.mm.Person]
display = "{name}"
fields.name = { type = "char", max_length = 10 }
fields.friends = { type = "many_to_many", to = "self" }
fields.groups = { type = "many_to_many", to = "Group", through = "Membership" }
[models.mm.Group]
display = "{name}"
fields.name = { type = "char", max_length = 10 }
[models.mm.Membership]
fields.person = { type = "foreign_key", to = "Person", on_delete = "CASCADE" }
fields.group = { type = "foreign_key", to = "Group", on_delete = "SET_NULL", null = true }
fields.note = { type = "char", max_length = 10, default = "n" }
[models.mm.MembershipNote]
fields.membership = { type = "foreign_key", to = "Membership", on_delete = "CASCADE" }
)";

// Django 3.2, the same models (to = 'self' is symmetrical by default):
//   a.friends.add(b, a) stores (a,a), (a,b), (b,a); b.friends.remove(a) leaves (a,a);
//   a.friends.add(b, c); a.delete() -> (6, {'t.P_friends': 5, 't.P': 1}).
TEST_P(RelationsTest, SymmetricalSelfManyToManyStoresAndRemovesBothDirections) {
  Database d = open(kManyToMany);
  Manager people = d.objects("mm.Person");
  Instance a = people.create({{"name", "a"}});
  Instance b = people.create({{"name", "b"}});
  Instance c = people.create({{"name", "c"}});
  auto links = [&] {
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    for (const auto& row : d.objects("mm.Person_friends")
                               .all()
                               .order_by({"id"})
                               .values_list({"from_person", "to_person"})
                               .rows()) {
      out.emplace_back(row[0].as_integer(), row[1].as_integer());
    }
    return out;
  };
  auto id = [](const Instance& i) { return i.pk().as_integer(); };
  people.many_to_many(a, "friends").add({b.pk(), a.pk()});
  EXPECT_EQ(links(), (std::vector<std::pair<std::int64_t, std::int64_t>>{
                         {id(a), id(a)}, {id(a), id(b)}, {id(b), id(a)}}));
  EXPECT_EQ(people.many_to_many(b, "friends").pks(), std::vector<Value>{a.pk()});
  people.many_to_many(b, "friends").remove({a.pk()});
  EXPECT_EQ(links(), (std::vector<std::pair<std::int64_t, std::int64_t>>{{id(a), id(a)}}));
  people.many_to_many(a, "friends").add({b.pk(), c.pk()});
  EXPECT_EQ(people.filter({{"friends__name", "c"}}).count(), 1);  // a (c's link is a mirror)
  // No reverse accessor: both sides are `friends`.
  EXPECT_EQ(a.meta().find_field("friends")->related_accessor_name(), "");
  Preview preview = people.filter({{"pk", a.pk()}}).preview_remove(10);
  DeleteResult r = people.filter({{"pk", a.pk()}}).remove();
  EXPECT_EQ(r.repr(), "(6, {'mm.Person_friends': 5, 'mm.Person': 1})");
  EXPECT_EQ(r.repr(), preview.counts.repr());
  EXPECT_TRUE(links().empty());
  // clear() takes the mirrors too.
  people.many_to_many(b, "friends").add({c.pk()});
  people.many_to_many(c, "friends").clear();
  EXPECT_TRUE(links().empty());
}

// An explicit through model is an ordinary model: its keys' rules apply (SET_NULL keeps the
// membership), it is counted and signalled, rows pointing at it cascade (rule 56), and the
// many-to-many manager and lookups read through it. Django 3.2 gives the same results.
TEST_P(RelationsTest, ExplicitThroughModelsAreOrdinaryModels) {
  Database d = open(kManyToMany);
  Manager people = d.objects("mm.Person");
  Instance b = people.create({{"name", "b"}});
  Instance c = people.create({{"name", "c"}});
  Instance g = d.objects("mm.Group").create({{"name", "g"}});
  Instance g2 = d.objects("mm.Group").create({{"name", "g2"}});
  people.many_to_many(b, "groups").add({g.pk()});  // the note gets its default
  Instance m = d.objects("mm.Membership").create({{"person", c.pk()}, {"group", g2.pk()}});
  d.objects("mm.MembershipNote").create({{"membership", m.pk()}});
  Instance stored = d.objects("mm.Membership").get({{"person", b.pk()}});
  EXPECT_EQ(stored.get("note"), Value("n"));
  EXPECT_EQ(people.filter({{"groups__name", "g"}}).get().pk(), b.pk());
  EXPECT_EQ(d.objects("mm.Group").filter({{"person__name", "c"}}).get().pk(), g2.pk());
  EXPECT_EQ(people.many_to_many(c, "groups").pks(), std::vector<Value>{g2.pk()});
  std::vector<std::string> signalled;
  d.signals().connect(
      Signal::PreDelete,
      [&](const SignalEvent& e) { signalled.push_back(e.instance.get("person").to_string()); },
      &d.registry().get("mm.Membership"));
  EXPECT_EQ(d.objects("mm.Group").filter({{"pk", g.pk()}}).remove().repr(), "(1, {'mm.Group': 1})");
  EXPECT_TRUE(d.objects("mm.Membership").get({{"person", b.pk()}}).get("group").is_null());
  EXPECT_EQ(people.filter({{"pk", c.pk()}}).remove().repr(),
            "(3, {'mm.MembershipNote': 1, 'mm.Membership': 1, 'mm.Person': 1})");
  EXPECT_EQ(signalled, std::vector<std::string>{c.pk().to_string()});
  // remove() deletes through the model: its dependants go with it.
  Instance m2 = d.objects("mm.Membership").create({{"person", b.pk()}, {"group", g2.pk()}});
  d.objects("mm.MembershipNote").create({{"membership", m2.pk()}});
  people.many_to_many(b, "groups").remove({g2.pk()});
  EXPECT_EQ(d.objects("mm.MembershipNote").count(), 0);
  EXPECT_EQ(d.objects("mm.Membership").count(), 1);  // b's link with a NULL group stays
}

TEST_P(RelationsTest, ThroughModelsAreChecked) {
  const std::string sides = R"(
[models.x.A]
fields.bs = { type = "many_to_many", to = "B", through = "L" }
[models.x.B]
fields.name = { type = "char", max_length = 5 }
)";
  EXPECT_NE(config_error(sides).find("'L', which has not been installed"), std::string::npos);
  EXPECT_NE(config_error(sides + R"(
[models.x.L]
fields.a = { type = "foreign_key", to = "A", on_delete = "CASCADE" }
fields.a2 = { type = "foreign_key", to = "A", on_delete = "CASCADE", related_name = "l2" }
fields.b = { type = "foreign_key", to = "B", on_delete = "CASCADE" }
)")
                .find("more than one foreign key from 'A', which is ambiguous"),
            std::string::npos);
  EXPECT_NE(config_error(sides + R"(
[models.x.L]
fields.a = { type = "foreign_key", to = "A", on_delete = "CASCADE" }
)")
                .find("does not have a foreign key to 'B'"),
            std::string::npos);
  // through_fields settles the ambiguity.
  EXPECT_EQ(config_error(R"(
[models.x.A]
fields.bs = { type = "many_to_many", to = "B", through = "L", through_fields = ["a2", "b"] }
[models.x.B]
fields.name = { type = "char", max_length = 5 }
[models.x.L]
fields.a = { type = "foreign_key", to = "A", on_delete = "CASCADE" }
fields.a2 = { type = "foreign_key", to = "A", on_delete = "CASCADE", related_name = "l2" }
fields.b = { type = "foreign_key", to = "B", on_delete = "CASCADE" }
)"),
            "accepted");
  EXPECT_NE(config_error(R"(
[models.x.A]
fields.bs = { type = "many_to_many", to = "B", symmetrical = true }
[models.x.B]
fields.name = { type = "char", max_length = 5 }
)")
                .find("'symmetrical' is only for a many-to-many to the model itself"),
            std::string::npos);
}

// ---- abstract bases --------------------------------------------------------------------------

// Django 3.2: class Base(Model) with Meta.abstract, ordering ['-created'] and an owner key
// related_name='%(app_label)s_%(class)s_owned'; class Doc(Base) has fields id, created, owner,
// title, ordering ['-created'], and Group has the accessor t_doc_owned.
TEST_P(RelationsTest, AbstractBasesGiveTheirFieldsAndOptions) {
  Database d = open(R"(
[models.ab.Group]
fields.name = { type = "char", max_length = 10 }
[models.ab.Stamped]
abstract = true
ordering = ["-created"]
delete_policy = "soft"
fields.created = { type = "integer", default = 0 }
fields.owner = { type = "foreign_key", to = "Group", on_delete = "CASCADE", null = true, related_name = "%(app_label)s_%(class)s_owned" }
[models.ab.Titled]
abstract = true
bases = ["Stamped"]
display = "{title}"
fields.title = { type = "char", max_length = 10 }
[models.ab.Doc]
bases = ["Titled"]
fields.body = "text"
[models.ab.Note]
bases = ["Stamped"]
ordering = ["created"]
fields.created = { type = "big_integer", default = 5 }
)");
  const Registry& r = d.registry();
  EXPECT_EQ(r.find("ab.Stamped"), nullptr);  // no table, no model
  const ModelMeta& doc = r.get("ab.Doc");
  std::vector<std::string> names;
  for (const auto& f : doc.fields) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"id", "created", "owner", "title", "body",
                                             "deleted_at", "deletion_id"}));
  EXPECT_EQ(doc.ordering, std::vector<std::string>{"-created"});
  EXPECT_EQ(doc.display, "{title}");
  EXPECT_TRUE(doc.soft_deletable());
  const ModelMeta& note = r.get("ab.Note");
  EXPECT_EQ(note.ordering, std::vector<std::string>{"created"});     // its own
  EXPECT_EQ(note.get_field("created").type, FieldType::BigInteger);  // overridden
  EXPECT_EQ(note.get_field("owner").related_accessor_name(), "ab_note_owned");
  Instance g = d.objects("ab.Group").create({{"name", "g"}});
  d.objects("ab.Doc").create({{"title", "t"}, {"owner", g.pk()}});
  d.objects("ab.Note").create({{"owner", g.pk()}});
  EXPECT_EQ(d.objects("ab.Group").filter({{"ab_doc_owned__title", "t"}}).count(), 1);
  // Deleting the group cascades to both children (soft-deletable, so marked).
  EXPECT_EQ(d.objects("ab.Group").all().remove().repr(),
            "(3, {'ab.Doc': 1, 'ab.Note': 1, 'ab.Group': 1})");
  EXPECT_NE(config_error(R"(
[models.ab.Base]
abstract = true
fields.n = "integer"
[models.ab.R]
fields.base = { type = "foreign_key", to = "Base", on_delete = "CASCADE" }
)")
                .find("either not installed, or is abstract"),
            std::string::npos);
  EXPECT_EQ(config_error(R"(
[models.ab.Base]
fields.n = "integer"
[models.ab.Child]
bases = ["Base"]
)"),
            "accepted");  // a concrete base: multi-table inheritance
}

// The typed declaration: a base struct's fields, declared once and given to each define<>.
struct Stamped {
  std::int64_t created = 0;
};
struct Doc : Stamped {
  std::optional<std::int64_t> id;
  std::string title;
};
template <typename T>
FieldDecl<Stamped> stamped_fields() {
  return integer_field("created", &Stamped::created);
}

TEST_P(RelationsTest, AbstractBaseInTheTypedDeclaration) {
  Registry registry;
  define<Doc>(registry, "typed", "Doc", primary_key(&Doc::id), stamped_fields<Doc>(),
              char_field("title", &Doc::title, {.max_length = 10}));
  registry.finalize();
  Database d = Database::open(registry, scratch.url());
  d.migrate();
  Doc doc;
  doc.created = 7;
  doc.title = "t";
  d.create(doc);
  EXPECT_EQ(d.objects<Doc>().filter({{"created", 7}}).count(), 1);
  std::vector<Doc> all = d.objects<Doc>().all().fetch();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].created, 7);
  EXPECT_EQ(all[0].title, "t");
}

// The typed declaration: RelationOptions::through and ::symmetrical.
struct Member {
  std::optional<std::int64_t> id;
  std::string name;
};
struct Team {
  std::optional<std::int64_t> id;
};
struct Seat {
  std::optional<std::int64_t> id;
  std::int64_t member_id = 0;
  std::int64_t team_id = 0;
};

TEST_P(RelationsTest, ThroughAndSymmetricalInTheTypedDeclaration) {
  Registry registry;
  define<Member>(registry, "typed", "Member", primary_key(&Member::id),
                 char_field("name", &Member::name, {.max_length = 10}),
                 many_to_many("teams", "Team", {.through = "Seat"}),
                 many_to_many("peers", "self", {.symmetrical = false}));
  define<Team>(registry, "typed", "Team", primary_key(&Team::id));
  define<Seat>(registry, "typed", "Seat", primary_key(&Seat::id),
               foreign_key<Member>("member", &Seat::member_id, OnDelete::Cascade),
               foreign_key<Team>("team", &Seat::team_id, OnDelete::Protect));
  registry.finalize();
  EXPECT_FALSE(registry.get("typed.Member").find_field("peers")->is_symmetrical());
  Database d = Database::open(registry, scratch.url());
  d.migrate();
  Member ann = d.create(Member{.id = {}, .name = "ann"});
  Member bob = d.create(Member{.id = {}, .name = "bob"});
  Team team = d.create(Team{.id = {}});
  Instance ann_row = d.objects("typed.Member").get(Value(*ann.id));
  d.objects("typed.Member").many_to_many(ann_row, "teams").add({Value(*team.id)});
  d.objects("typed.Member").many_to_many(ann_row, "peers").add({Value(*bob.id)});
  EXPECT_EQ(d.objects<Seat>().filter({{"member", *ann.id}}).count(), 1);
  EXPECT_EQ(d.objects<Member>().filter({{"member__name", "ann"}}).count(), 1);  // bob; not mirrored
  EXPECT_THROW(d.objects<Team>().remove(), ProtectedError);
  EXPECT_EQ(d.objects<Member>().filter({{"name", "ann"}}).remove().repr(),
            "(3, {'typed.Member_peers': 1, 'typed.Seat': 1, 'typed.Member': 1})");
}

// ---- proxies (rule 46) ------------------------------------------------------------------------

// Django 3.2 on the same models: Pdf.objects.all() lists 'PDF c', 'PDF b', 'PDF a';
// Pdf.objects.filter(title='a').delete() -> (2, {'t.Stamp': 1, 't.Pdf': 1});
// Document.objects.filter(title='b').delete() -> (2, {'t.Stamp': 1, 't.Document': 1}) (the
// stamp's key points at the proxy); with a PROTECT note on the last document,
// Pdf.objects.all().delete() raises "Cannot delete some instances of model 'Pdf' because they
// are referenced through protected foreign keys: 'Note.doc'."
TEST_P(RelationsTest, ProxiesShareTheRowsAndAreCountedUnderTheirOwnName) {
  Database d = open(R"(
[models.px.Author]
fields.name = { type = "char", max_length = 10 }
[models.px.Document]
display = "{title}"
fields.title = { type = "char", max_length = 10 }
fields.author = { type = "foreign_key", to = "Author", on_delete = "CASCADE", null = true }
[models.px.Pdf]
proxy = true
bases = ["Document"]
display = "PDF {title}"
ordering = ["-title"]
[models.px.Stamp]
fields.pdf = { type = "foreign_key", to = "Pdf", on_delete = "CASCADE" }
[models.px.Note]
fields.doc = { type = "foreign_key", to = "Document", on_delete = "PROTECT", null = true }
)");
  std::vector<std::string> tables = d.connection().table_names();
  EXPECT_EQ(std::count(tables.begin(), tables.end(), "px_pdf"), 0);  // no table of its own
  EXPECT_TRUE(db::plan_migration(d.connection(), d.registry()).problems.empty());
  Instance a = d.objects("px.Author").create({{"name", "a"}});
  Instance d1 = d.objects("px.Document").create({{"title", "a"}, {"author", a.pk()}});
  Instance d2 = d.objects("px.Document").create({{"title", "b"}, {"author", a.pk()}});
  Instance d3 = d.objects("px.Document").create({{"title", "c"}});
  for (const Instance* doc : {&d1, &d2, &d3}) d.objects("px.Stamp").create({{"pdf", doc->pk()}});
  std::vector<std::string> shown;
  for (const Instance& p : d.objects("px.Pdf").all()) shown.push_back(p.str());
  EXPECT_EQ(shown, (std::vector<std::string>{"PDF c", "PDF b", "PDF a"}));
  std::vector<std::string> senders;
  d.signals().connect(Signal::PreDelete,
                      [&](const SignalEvent& e) { senders.push_back(e.sender.label()); });
  Manager pdfs = d.objects("px.Pdf");
  Preview preview = pdfs.filter({{"title", "a"}}).preview_remove(10);
  DeleteResult r = pdfs.filter({{"title", "a"}}).remove();
  EXPECT_EQ(r.repr(), "(2, {'px.Stamp': 1, 'px.Pdf': 1})");
  EXPECT_EQ(r.repr(), preview.counts.repr());
  EXPECT_EQ(senders, (std::vector<std::string>{"px.Stamp", "px.Pdf"}));
  EXPECT_EQ(d.objects("px.Document").filter({{"title", "b"}}).remove().repr(),
            "(2, {'px.Stamp': 1, 'px.Document': 1})");
  // Lookups across the relation to the proxy, from either side.
  EXPECT_EQ(pdfs.filter({{"stamp__pdf__title", "c"}}).count(), 1);
  EXPECT_EQ(d.objects("px.Document").filter({{"stamp__isnull", false}}).count(), 1);
  d.objects("px.Note").create({{"doc", d3.pk()}});
  try {
    pdfs.all().remove();
    ADD_FAILURE() << "not refused";
  } catch (const ProtectedError& e) {
    EXPECT_EQ(std::string(e.what()),
              "Cannot delete some instances of model 'Pdf' because they are referenced through "
              "protected foreign keys: 'Note.doc'.");
  }
  EXPECT_EQ(d.objects("px.Document").count(), 1);
  // Deleting the author cascades to the concrete model.
  d.objects("px.Note").all().remove();
  EXPECT_EQ(d.objects("px.Author").all().remove().repr(), "(1, {'px.Author': 1})");
  EXPECT_EQ(pdfs.count(), 1);  // c had no author
  EXPECT_NE(config_error(R"(
[models.px.Document]
fields.title = { type = "char", max_length = 10 }
[models.px.Pdf]
proxy = true
bases = ["Document"]
fields.pages = "integer"
)")
                .find("Proxy model 'Pdf' contains model fields."),
            std::string::npos);
}

// ---- attname --------------------------------------------------------------------------------

// A foreign key's raw value is named by Django's attname, "owner_id", whatever its db_column
// says: values() names it so, and filters, values() and get() accept it (as they accept the
// column, which Cascade adds).
TEST_P(RelationsTest, ForeignKeysAreNamedByTheirAttnameWhateverTheColumn) {
  Database d = open(R"(
[models.at.Owner]
fields.name = { type = "char", max_length = 10 }
[models.at.Pet]
fields.owner = { type = "foreign_key", to = "Owner", on_delete = "CASCADE", db_column = "owner_ref" }
)");
  Instance ann = d.objects("at.Owner").create({{"name", "Ann"}});
  Manager pets = d.objects("at.Pet");
  pets.create({{"owner", ann.pk()}});
  auto all = pets.all().values();
  EXPECT_EQ(all.value_names(), (std::vector<std::string>{"id", "owner_id"}));
  EXPECT_EQ(all.rows()[0][1], ann.pk());
  EXPECT_EQ(pets.filter({{"owner_id", ann.pk()}}).count(), 1);
  EXPECT_EQ(pets.filter({{"owner_ref", ann.pk()}}).count(), 1);
  EXPECT_EQ(pets.filter({{"owner__name", "Ann"}}).count(), 1);
  EXPECT_EQ(pets.all().values_list({"owner_id"}, true).rows()[0][0], ann.pk());
  const auto names = d.registry().get("at.Pet").field_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "owner_id"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "owner_ref"), names.end());
  EXPECT_THROW(pets.filter({{"owner_idx", 1}}).count(), FieldError);
}

// ---- multi-table inheritance ------------------------------------------------------------------

const char* kMti = R"(
[models.mt.Owner]
fields.name = { type = "char", max_length = 10 }
[models.mt.Place]
display = "{name}"
ordering = ["name"]
fields.name = { type = "char", max_length = 10 }
fields.owner = { type = "foreign_key", to = "Owner", on_delete = "SET_NULL", null = true }
fields.tags = { type = "many_to_many", to = "Tag" }
[models.mt.Tag]
fields.name = { type = "char", max_length = 10 }
[models.mt.Restaurant]
bases = ["Place"]
fields.serves = { type = "boolean", default = false }
[models.mt.Bistro]
bases = ["Restaurant"]
fields.chef = { type = "char", max_length = 10 }
[models.mt.Inspection]
fields.place = { type = "foreign_key", to = "Place", on_delete = "CASCADE" }
[models.mt.Menu]
fields.restaurant = { type = "foreign_key", to = "Restaurant", on_delete = "CASCADE" }
[models.mt.Permit]
fields.place = { type = "foreign_key", to = "Place", on_delete = "PROTECT", null = true }
[models.mt.Photo]
fields.place = { type = "foreign_key", to = "Place", on_delete = "DO_NOTHING" }
)";

// The child's table has its own fields and a one-to-one primary key to the parent's; queries,
// instances and saves see the parents' fields (section E).
TEST_P(RelationsTest, MultiTableChildrenHaveTheirParentsFields) {
  Database d = open(kMti);
  std::vector<std::string> columns;
  for (const auto& c : d.connection().columns("mt_bistro")) columns.push_back(c.name);
  std::sort(columns.begin(), columns.end());
  EXPECT_EQ(columns, (std::vector<std::string>{"chef", "restaurant_ptr_id"}));
  EXPECT_TRUE(db::plan_migration(d.connection(), d.registry()).problems.empty());
  Instance ann = d.objects("mt.Owner").create({{"name", "ann"}});
  Manager bistros = d.objects("mt.Bistro");
  Instance b = bistros.create({{"name", "b1"}, {"chef", "al"}, {"owner", ann.pk()}});
  EXPECT_EQ(b.get("place_ptr"), b.pk());
  EXPECT_EQ(b.get("id"), b.pk());
  EXPECT_EQ(d.objects("mt.Place").count(), 1);
  EXPECT_EQ(d.objects("mt.Restaurant").count(), 1);
  Instance loaded = bistros.get(b.pk());
  EXPECT_EQ(loaded.get("name"), Value("b1"));
  EXPECT_EQ(loaded.get("serves"), Value(false));
  EXPECT_EQ(loaded.str(), "b1");  // the parent's display
  loaded.set("name", "b2");
  loaded.set("chef", "bo");
  bistros.save(loaded);
  EXPECT_EQ(d.objects("mt.Place").get(b.pk()).get("name"), Value("b2"));
  EXPECT_EQ(bistros.filter({{"name", "b2"}, {"chef", "bo"}, {"owner__name", "ann"}}).count(), 1);
  d.objects("mt.Inspection").create({{"place", b.pk()}});
  EXPECT_EQ(bistros.filter({{"inspection__isnull", false}}).count(), 1);  // a parent's relation
  EXPECT_EQ(d.objects("mt.Place").filter({{"restaurant__bistro__chef", "bo"}}).count(), 1);
  auto values = bistros.all().values();
  EXPECT_EQ(values.value_names(),
            (std::vector<std::string>{"id", "name", "owner_id", "place_ptr_id", "serves",
                                      "restaurant_ptr_id", "chef"}));
  // update(): each table its own statement, on the rows matched before any was written.
  EXPECT_EQ(bistros.filter({{"name", "b2"}}).update({{"name", "b3"}, {"chef", "cy"}}), 1);
  EXPECT_EQ(d.objects("mt.Place").get(b.pk()).get("name"), Value("b3"));
  EXPECT_EQ(bistros.get(b.pk()).get("chef"), Value("cy"));
  EXPECT_EQ(bistros.all().update({{"serves", true}}), 1);  // a parent's field only
  EXPECT_EQ(d.objects("mt.Restaurant").get(b.pk()).get("serves"), Value(true));
  EXPECT_EQ(bistros.filter({{"name", "none"}}).update({{"name", "x"}}), 0);
  EXPECT_THROW(bistros.all().update({{"nope", 1}}), FieldError);
  EXPECT_THROW(bistros.all().update({{"name", nullptr}}), IntegrityError);
  EXPECT_EQ(d.objects("mt.Place").get(b.pk()).get("name"), Value("b3"));  // nothing written
  // A parent's many-to-many relation is the child's too.
  Instance tag = d.objects("mt.Tag").create({{"name", "t"}});
  bistros.many_to_many(b, "tags").add({tag.pk()});
  EXPECT_EQ(bistros.many_to_many(b, "tags").pks(), std::vector<Value>{tag.pk()});
  EXPECT_EQ(bistros.filter({{"tags__name", "t"}}).count(), 1);
  // A plain parent row is no child.
  d.objects("mt.Place").create({{"name", "p"}});
  EXPECT_EQ(bistros.count(), 1);
  EXPECT_EQ(d.objects("mt.Restaurant").count(), 1);
}

// Rules 41, 43 and 47: the child's rows and its parents' go together, each counted and
// signalled under its own class, children first; relations to a parent are followed.
TEST_P(RelationsTest, DeletingAChildDeletesItsParentRows) {
  Database d = open(kMti);
  Manager bistros = d.objects("mt.Bistro");
  Instance b1 = bistros.create({{"name", "b1"}, {"chef", "al"}});
  Instance b2 = bistros.create({{"name", "b2"}, {"chef", "bo"}});
  d.objects("mt.Inspection").create({{"place", b1.pk()}});
  d.objects("mt.Menu").create({{"restaurant", b1.pk()}});
  std::vector<std::string> pre, post;
  d.signals().connect(Signal::PreDelete,
                      [&](const SignalEvent& e) { pre.push_back(e.sender.label()); });
  d.signals().connect(Signal::PostDelete, [&](const SignalEvent& e) {
    bool named = e.instance.meta().find_field("name") != nullptr;
    post.push_back(e.sender.label() + ":" + (named ? e.instance.get("name").to_string() : ""));
  });
  Preview preview = bistros.filter({{"name", "b1"}}).preview_remove(20);
  EXPECT_EQ(preview.text().substr(0, preview.text().find("Summary")),
            "- Bistro: b1\n"
            "    - Restaurant: b1\n"
            "        - Menu: Menu object (1)\n"
            "        - Place: b1\n"
            "            - Inspection: Inspection object (1)\n");
  DeleteResult r = bistros.remove(b1);
  EXPECT_EQ(r.repr(),
            "(5, {'mt.Inspection': 1, 'mt.Menu': 1, 'mt.Bistro': 1, 'mt.Restaurant': 1, "
            "'mt.Place': 1})");
  EXPECT_EQ(r.repr(), preview.counts.repr());
  EXPECT_EQ(pre, (std::vector<std::string>{"mt.Inspection", "mt.Menu", "mt.Bistro", "mt.Restaurant",
                                           "mt.Place"}));
  EXPECT_EQ(post, (std::vector<std::string>{"mt.Inspection:", "mt.Menu:", "mt.Bistro:b1",
                                            "mt.Restaurant:b1", "mt.Place:b1"}));
  EXPECT_EQ(d.objects("mt.Place").count(), 1);
  EXPECT_EQ(bistros.get(b2.pk()).get("chef"), Value("bo"));
}

// Rule 42: deleting a parent row cascades to its children through their parent links.
TEST_P(RelationsTest, DeletingAParentDeletesItsChildren) {
  Database d = open(kMti);
  Instance b = d.objects("mt.Bistro").create({{"name", "b1"}});
  d.objects("mt.Restaurant").create({{"name", "r1"}});
  d.objects("mt.Place").create({{"name", "p1"}});
  d.objects("mt.Menu").create({{"restaurant", b.pk()}});
  EXPECT_EQ(
      d.objects("mt.Place").filter({{"name__in", std::vector<Value>{"b1", "p1"}}}).remove().repr(),
      "(5, {'mt.Menu': 1, 'mt.Bistro': 1, 'mt.Restaurant': 1, 'mt.Place': 2})");
  EXPECT_EQ(d.objects("mt.Restaurant").count(), 1);
  EXPECT_EQ(d.objects("mt.Bistro").count(), 0);
}

// Rule 44: keep_parents deletes the child's own row and what its own relations reach; the
// parents' rows and what refers to them stay.
TEST_P(RelationsTest, KeepParentsKeepsTheParentRows) {
  Database d = open(kMti);
  Manager bistros = d.objects("mt.Bistro");
  Instance b = bistros.create({{"name", "b1"}});
  d.objects("mt.Inspection").create({{"place", b.pk()}});
  // A reference the database would refuse at commit, to the parent's row: in the way of a delete
  // of the child (once), not of one that keeps the parents.
  d.objects("mt.Photo").create({{"place", b.pk()}});
  Preview whole = Collector(d).collect({&b}).preview(10);
  EXPECT_EQ(whole.blocked_by, Refusal::Commit);
  EXPECT_EQ(whole.database_effects.size(), 1u);
  Preview keeping = Collector(d).collect({&b}, Collector::Mode::Policy, true).preview(10);
  EXPECT_FALSE(keeping.blocked()) << keeping.blocked_message;
  EXPECT_TRUE(keeping.database_effects.empty());
  d.objects("mt.Permit").create({{"place", b.pk()}});  // PROTECT, on the parent: not in the way
  Manager restaurants = d.objects("mt.Restaurant");
  Instance r = restaurants.get(b.pk());
  d.objects("mt.Menu").create({{"restaurant", r.pk()}});
  EXPECT_EQ(bistros.remove(b, true).repr(), "(1, {'mt.Bistro': 1})");
  EXPECT_EQ(restaurants.remove(r, true).repr(), "(2, {'mt.Menu': 1, 'mt.Restaurant': 1})");
  EXPECT_EQ(d.objects("mt.Place").count(), 1);
  EXPECT_EQ(d.objects("mt.Inspection").count(), 1);
}

// A relation to a parent that refuses refuses the child's delete, and nothing changes.
TEST_P(RelationsTest, AProtectedParentRowStopsTheChildsDelete) {
  Database d = open(kMti);
  Manager bistros = d.objects("mt.Bistro");
  Instance b = bistros.create({{"name", "b1"}});
  d.objects("mt.Permit").create({{"place", b.pk()}});
  try {
    bistros.remove(b);
    ADD_FAILURE() << "not refused";
  } catch (const ProtectedError& e) {
    EXPECT_EQ(std::string(e.what()),
              "Cannot delete some instances of model 'Bistro' because they are referenced "
              "through protected foreign keys: 'Permit.place'.");
  }
  EXPECT_EQ(bistros.count(), 1);
  EXPECT_EQ(d.objects("mt.Restaurant").count(), 1);
  EXPECT_EQ(d.objects("mt.Place").count(), 1);
}

TEST_P(RelationsTest, MultiTableInheritanceIsChecked) {
  const std::string place = R"(
[models.mi.Place]
fields.name = { type = "char", max_length = 10 }
[models.mi.Other]
fields.title = { type = "char", max_length = 10 }
)";
  EXPECT_NE(config_error(place + R"(
[models.mi.Shop]
bases = ["Place"]
fields.name = { type = "char", max_length = 10 }
)")
                .find("The field 'name' clashes with the field 'name' from model 'mi.place'."),
            std::string::npos);
  EXPECT_NE(config_error(place + R"(
[models.mi.Shop]
bases = ["Place", "Other"]
)")
                .find("multiple multi-table inheritance is not supported"),
            std::string::npos);
  EXPECT_NE(config_error(place + R"(
[models.mi.Shop]
bases = ["Place"]
delete_policy = "soft"
)")
                .find("multi-table inheritance with a soft delete policy is not supported yet"),
            std::string::npos);
  EXPECT_NE(config_error(place + R"(
[models.mi.Shop]
bases = ["Place"]
fields.code = { type = "integer", primary_key = true }
)")
                .find("declaring another primary key is not supported"),
            std::string::npos);
  EXPECT_NE(config_error(place + R"(
[models.mi.Shop]
bases = ["Place"]
ordering = ["name"]
display = "{nope}"
)")
                .find("names 'nope', which is not a field"),
            std::string::npos);
  EXPECT_NE(config_error(R"(
[models.mi.Place]
fields.title = { type = "char", max_length = 10, db_column = "label" }
[models.mi.Shop]
bases = ["Place"]
fields.caption = { type = "char", max_length = 10, db_column = "label" }
)")
                .find("a child and its parents need distinct column names"),
            std::string::npos);
  EXPECT_NE(config_error(R"(
[models.mi.Place]
fields.ref = { type = "integer", unique = true }
[models.mi.Shop]
bases = ["Place"]
[models.mi.Sale]
fields.shop = { type = "foreign_key", to = "Shop", to_field = "ref", on_delete = "CASCADE" }
)")
                .find("the to_field 'ref' is inherited by mi.Shop from mi.Place"),
            std::string::npos);
  EXPECT_NE(config_error(place + R"(
[models.mi.Link]
fields.place = { type = "foreign_key", to = "Place", on_delete = "CASCADE" }
fields.other = { type = "foreign_key", to = "Other", on_delete = "CASCADE" }
[models.mi.Special]
bases = ["Link"]
[models.mi.Owner]
fields.places = { type = "many_to_many", to = "Place", through = "Special" }
)")
                .find("is a multi-table inheritance child; that is not supported yet"),
            std::string::npos);
  EXPECT_EQ(config_error(place + R"(
[models.mi.Shop]
bases = ["Place"]
ordering = ["-name"]
display = "{name}"
)"),
            "accepted");
}

// A parent whose rows are never deleted: its children are deleted only with keep_parents.
TEST_P(RelationsTest, AParentThatIsNeverDeletedKeepsItsRows) {
  Database d = open(R"(
[models.nv.Place]
delete_policy = "never"
fields.name = { type = "char", max_length = 10 }
[models.nv.Shop]
bases = ["Place"]
)");
  Manager shops = d.objects("nv.Shop");
  Instance s = shops.create({{"name", "s"}});
  EXPECT_THROW(shops.remove(s), NotSupportedError);
  EXPECT_THROW(shops.all().remove(), NotSupportedError);
  EXPECT_EQ(d.objects("nv.Place").count(), 1);
  EXPECT_EQ(shops.remove(s, true).repr(), "(1, {'nv.Shop': 1})");
  EXPECT_EQ(d.objects("nv.Place").count(), 1);
}

}  // namespace
}  // namespace cascade
