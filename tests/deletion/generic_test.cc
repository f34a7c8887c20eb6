// Generic relations, as Django's django.contrib.contenttypes has them (spec section G, rules
// 57-58): the content types table, GenericForeignKey, GenericRelation and what a delete does
// with them. Each case runs on every backend.
#include <gtest/gtest.h>

#include "cascade/database.h"
#include "cascade/error.h"
#include "cascade/model/loader.h"
#include "cascade/model/mapping.h"
#include "cascade/query/content_types.h"
#include "support/backends.h"

namespace cascade {
namespace {

std::string config_error(const std::string& text) {
  try {
    Project p = parse_project(text, "bad.toml");
  } catch (const ConfigError& e) {
    return std::string(e.what());
  }
  return std::string("accepted");
}

// Django's own test models (tests/delete: Person, Award, AwardNote), with a Band that has no
// GenericRelation and a Singer that is a multi-table child of Person.
const char* kGeneric = R"(
[models.g.Person]
display = "{name}"
fields.name = { type = "char", max_length = 20 }
fields.awards = { type = "generic_relation", to = "Award" }
[models.g.Singer]
bases = ["Person"]
fields.genre = { type = "char", max_length = 20, default = "" }
[models.g.Band]
display = "{name}"
fields.name = { type = "char", max_length = 20 }
[models.g.Award]
display = "{name}"
fields.name = { type = "char", max_length = 20 }
fields.content_type = { type = "foreign_key", to = "contenttypes.ContentType", on_delete = "CASCADE" }
fields.object_id = { type = "integer" }
fields.content_object = "generic_foreign_key"
[models.g.AwardNote]
fields.award = { type = "foreign_key", to = "Award", on_delete = "CASCADE" }
[models.g.Jury]
fields.award = { type = "foreign_key", to = "Award", on_delete = "PROTECT", null = true }
)";

class GenericTest : public cascade::testing::BackendTest {
 protected:
  Database open(const char* models) {
    projects_.push_back(std::make_unique<Project>(parse_project(models, "generic.toml")));
    Database d = Database::open(*projects_.back()->registry, scratch.url());
    d.migrate();
    return d;
  }
  // An award referring to `to` (its content type created when missing, as Django's).
  static Instance award(Database& d, const std::string& name, const Instance& to) {
    return d.objects("g.Award").create(
        {{"name", Value(name)},
         {"content_type", Value(content_type_for(d, to.meta()))},
         {"object_id", to.pk()}});
  }

 private:
  std::vector<std::unique_ptr<Project>> projects_;
};
CASCADE_ON_EVERY_BACKEND(GenericTest);

// Content types: one row per concrete model, created on first use, with the ids Django's
// lazily created rows get; a proxy shares its model's.
TEST_P(GenericTest, ContentTypesAreCreatedWhenFirstNeeded) {
  Database d = open(kGeneric);
  const ModelMeta& person = d.registry().get("g.Person");
  const ModelMeta& band = d.registry().get("g.Band");
  EXPECT_EQ(d.objects(kContentTypeLabel).count(), 0);
  EXPECT_EQ(find_content_type(d, band), std::nullopt);
  EXPECT_EQ(content_type_for(d, band), 1);
  EXPECT_EQ(content_type_for(d, person), 2);
  EXPECT_EQ(content_type_for(d, band), 1);
  EXPECT_EQ(find_content_type(d, band), 1);
  Instance row = d.objects(kContentTypeLabel).get(Value(2));
  EXPECT_EQ(row.get("app_label"), Value("g"));
  EXPECT_EQ(row.get("model"), Value("person"));
  EXPECT_EQ(model_for_content_type(d, Value(2)), &person);
  EXPECT_EQ(model_for_content_type(d, Value(99)), nullptr);
  EXPECT_EQ(d.registry().get(kContentTypeLabel).db_table, "django_content_type");
}

// Rule 57: a GenericRelation's rows are collected like CASCADE, and their own relations follow
// (Person -> Award -> AwardNote), without an ordering dependency on the Person. Django 3.2,
// these models, p1 with two awards and a note, a pre_delete receiver connected:
//   pre_delete: Person p1, AwardNote, Award a1, Award a3
//   p1.delete() -> (4, {'g.Person': 1, 'g.AwardNote': 1, 'g.Award': 2})
// (without a receiver the notes are fast-deleted first: AwardNote, Person, Award).
TEST_P(GenericTest, DeletingAnObjectDeletesItsGenericRelationRows) {
  Database d = open(kGeneric);
  Manager people = d.objects("g.Person");
  Instance p1 = people.create({{"name", "p1"}});
  Instance p2 = people.create({{"name", "p2"}});
  Instance b1 = d.objects("g.Band").create({{"name", "b1"}});
  Instance a1 = award(d, "a1", p1);
  award(d, "a2", b1);  // same object id as p1, another content type: stays
  award(d, "a3", p1);
  award(d, "a4", p2);
  d.objects("g.AwardNote").create({{"award", a1.pk()}});
  std::vector<std::string> pre;
  d.signals().connect(Signal::PreDelete, [&](const SignalEvent& e) {
    pre.push_back(e.sender.label() + ":" + e.instance.str());
  });
  Preview preview = people.filter({{"name", "p1"}}).preview_remove(20);
  // The awards are extra roots after the deleted objects (rule 86), each with its note.
  EXPECT_EQ(preview.text().substr(0, preview.text().find("Summary")),
            "- Person: p1\n"
            "- Award: a1\n"
            "    - Award note: AwardNote object (1)\n"
            "- Award: a3\n");
  DeleteResult r = people.remove(p1);
  EXPECT_EQ(r.repr(), "(4, {'g.Person': 1, 'g.AwardNote': 1, 'g.Award': 2})");
  EXPECT_EQ(r.repr(), preview.counts.repr());
  EXPECT_EQ(pre, (std::vector<std::string>{"g.Person:p1", "g.AwardNote:AwardNote object (1)",
                                           "g.Award:a1", "g.Award:a3"}));
  std::vector<std::string> left;
  for (const auto& a : d.objects("g.Award").all().order_by({"pk"}).fetch()) left.push_back(a.str());
  EXPECT_EQ(left, (std::vector<std::string>{"a2", "a4"}));
}

// Rule 58: without a GenericRelation nothing is deleted; the key is left dangling.
TEST_P(GenericTest, WithoutAGenericRelationTheRowsStay) {
  Database d = open(kGeneric);
  Instance b1 = d.objects("g.Band").create({{"name", "b1"}});
  award(d, "a1", b1);
  DeleteResult r = d.objects("g.Band").remove(b1);
  EXPECT_EQ(r.repr(), "(1, {'g.Band': 1})");
  Instance a1 = d.objects("g.Award").filter({{"name", "a1"}}).get();
  EXPECT_EQ(a1.get("object_id"), Value(1));
  EXPECT_EQ(model_for_content_type(d, a1.get("content_type")), &d.registry().get("g.Band"));
}

// A multi-table child has its parent's GenericRelation, matched against its own content type
// (Django copies the field to the child); the parent's row, collected with it, is not walked,
// so awards naming the parent's content type stay, as in Django:
//   s1.delete() -> (3, {'g.Singer': 1, 'g.Person': 1, 'g.Award': 1}); the Person award stays.
TEST_P(GenericTest, AChildMatchesItsOwnContentType) {
  Database d = open(kGeneric);
  Instance s1 = d.objects("g.Singer").create({{"name", "s1"}});
  Instance as_person = d.objects("g.Person").get(s1.pk());
  award(d, "for singer", s1);
  award(d, "for person", as_person);
  DeleteResult r = d.objects("g.Singer").remove(s1);
  EXPECT_EQ(r.repr(), "(3, {'g.Singer': 1, 'g.Person': 1, 'g.Award': 1})");
  EXPECT_EQ(d.objects("g.Award").all().get().str(), "for person");
  // Deleting a parent takes its children, and theirs through the child's content type.
  Instance s2 = d.objects("g.Singer").create({{"name", "s2"}});
  award(d, "s2", s2);
  award(d, "p2", d.objects("g.Person").get(s2.pk()));
  DeleteResult r2 = d.objects("g.Person").filter({{"name", "s2"}}).remove();
  // Django 3.2: (4, {'t.Singer': 1, 't.Award': 2, 't.Person': 1}).
  EXPECT_EQ(r2.repr(), "(4, {'g.Singer': 1, 'g.Award': 2, 'g.Person': 1})");
}

// A PROTECT relation into the generic rows refuses the delete, and nothing changes.
TEST_P(GenericTest, AProtectedGenericRowStopsTheDeleteAndNothingChanges) {
  Database d = open(kGeneric);
  Instance p1 = d.objects("g.Person").create({{"name", "p1"}});
  Instance a1 = award(d, "a1", p1);
  d.objects("g.Jury").create({{"award", a1.pk()}});
  EXPECT_THROW(d.objects("g.Person").remove(p1), ProtectedError);
  EXPECT_EQ(d.objects("g.Person").count(), 1);
  EXPECT_EQ(d.objects("g.Award").count(), 1);
}

// Django's collection creates the content type of a model with a GenericRelation whose rows it
// collects; a delete does too (no row can refer to it yet), a preview does not.
TEST_P(GenericTest, ADeleteCreatesAMissingContentTypeAndAPreviewDoesNot) {
  Database d = open(kGeneric);
  Instance b1 = d.objects("g.Band").create({{"name", "b1"}});
  award(d, "a1", b1);  // content type 1: Band
  Instance p1 = d.objects("g.Person").create({{"name", "p1"}});
  Preview preview = d.objects("g.Person").all().preview_remove(10);
  EXPECT_EQ(preview.counts.repr(), "(1, {'g.Person': 1})");
  EXPECT_EQ(d.objects(kContentTypeLabel).count(), 1);
  DeleteResult r = d.objects("g.Person").remove(p1);
  EXPECT_EQ(r.repr(), "(1, {'g.Person': 1})");
  EXPECT_EQ(find_content_type(d, d.registry().get("g.Person")), 2);
  // Nothing collected: nothing created.
  EXPECT_EQ(d.objects("g.Singer").all().remove().repr(), "(0, {})");
  EXPECT_EQ(find_content_type(d, d.registry().get("g.Singer")), std::nullopt);
}

// A text object id holds the key's text (Django compares it with str(pk)).
TEST_P(GenericTest, ATextObjectIdMatchesTheKeysText) {
  Database d = open(R"(
[models.g.Page]
fields.title = { type = "char", max_length = 20 }
fields.comments = { type = "generic_relation", to = "Comment", content_type_field = "kind", object_id_field = "target" }
[models.g.Comment]
fields.kind = { type = "foreign_key", to = "contenttypes.ContentType", on_delete = "CASCADE" }
fields.target = { type = "char", max_length = 40 }
fields.about = { type = "generic_foreign_key", ct_field = "kind", fk_field = "target" }
)");
  Instance page = d.objects("g.Page").create({{"title", "home"}});
  Value ct(content_type_for(d, page.meta()));
  d.objects("g.Comment").create({{"kind", ct}, {"target", "1"}});
  d.objects("g.Comment").create({{"kind", ct}, {"target", "01"}});  // not str(pk)
  DeleteResult r = d.objects("g.Page").remove(page);
  // The comments have nothing pointing at them: fast-deleted, so counted first (rule 50).
  EXPECT_EQ(r.repr(), "(2, {'g.Comment': 1, 'g.Page': 1})");
  EXPECT_EQ(d.objects("g.Comment").all().get().get("target"), Value("01"));
}

// Soft deletes treat a GenericRelation as a CASCADE relation: soft-deletable rows are marked.
TEST_P(GenericTest, ASoftDeleteMarksSoftDeletableGenericRows) {
  Database d = open(R"(
[models.g.Person]
delete_policy = "soft"
fields.awards = { type = "generic_relation", to = "Award" }
[models.g.Award]
delete_policy = "soft"
fields.content_type = { type = "foreign_key", to = "contenttypes.ContentType", on_delete = "CASCADE" }
fields.object_id = { type = "integer" }
fields.content_object = "generic_foreign_key"
)");
  Instance p = d.objects("g.Person").create({});
  d.objects("g.Award").create(
      {{"content_type", Value(content_type_for(d, p.meta()))}, {"object_id", p.pk()}});
  EXPECT_EQ(d.objects("g.Person").remove(p).repr(), "(2, {'g.Person': 1, 'g.Award': 1})");
  EXPECT_EQ(d.objects("g.Award").count(), 0);
  EXPECT_EQ(d.all_objects("g.Award").count(), 1);
  Instance back = d.all_objects("g.Person").get(p.pk());
  EXPECT_EQ(d.all_objects("g.Person").restore(back).repr(), "(2, {'g.Person': 1, 'g.Award': 1})");
  EXPECT_EQ(d.objects("g.Award").count(), 1);
}

TEST_P(GenericTest, GenericFieldsAreChecked) {
  const std::string award = R"(
[models.g.Award]
fields.content_type = { type = "foreign_key", to = "contenttypes.ContentType", on_delete = "CASCADE" }
fields.object_id = { type = "integer" }
)";
  // Django's contenttypes.E004 for a GenericRelation: the target has no generic key.
  EXPECT_NE(config_error(award + R"(
[models.g.Person]
fields.awards = { type = "generic_relation", to = "Award" }
)").find("does not have a GenericForeignKey"),
            std::string::npos);
  // contenttypes.E001 / E002 / E003 / E004.
  EXPECT_NE(config_error(award + R"(fields.obj = { type = "generic_foreign_key", fk_field = "oid" })")
                .find("nonexistent field 'oid'"),
            std::string::npos);
  EXPECT_NE(config_error(award + R"(fields.obj = { type = "generic_foreign_key", ct_field = "kind" })")
                .find("nonexistent field 'Award.kind'"),
            std::string::npos);
  EXPECT_NE(config_error(award + R"(fields.obj = { type = "generic_foreign_key", ct_field = "object_id" })")
                .find("'Award.object_id' is not a ForeignKey."),
            std::string::npos);
  EXPECT_NE(config_error(R"(
[models.g.Kind]
fields.name = "text"
[models.g.Award]
fields.content_type = { type = "foreign_key", to = "Kind", on_delete = "CASCADE" }
fields.object_id = { type = "integer" }
fields.obj = "generic_foreign_key"
)").find("is not a ForeignKey to 'contenttypes.ContentType'"),
            std::string::npos);
  // Keys that belong to other field types, and a relation without its target.
  EXPECT_NE(config_error(award + R"(fields.obj = { type = "generic_foreign_key", to = "Award" })")
                .find("'to' does not apply to a generic_foreign_key field"),
            std::string::npos);
  EXPECT_NE(config_error(award + R"(fields.obj = { type = "integer", ct_field = "x" })")
                .find("'ct_field' is only for generic_foreign_key and generic_relation"),
            std::string::npos);
  EXPECT_NE(config_error(award + R"(fields.obj = "generic_relation")").find("needs options"),
            std::string::npos);
  EXPECT_EQ(config_error(award + R"(fields.obj = "generic_foreign_key")"), "accepted");
}

struct Tag {
  std::optional<std::int64_t> id;
  std::int64_t content_type = 0;
  std::int64_t object_id = 0;
};
struct Post {
  std::optional<std::int64_t> id;
  std::string title;
};

TEST_P(GenericTest, GenericFieldsInTheTypedDeclaration) {
  Registry registry;
  define<Tag>(registry, "typed", "Tag", primary_key(&Tag::id),
              foreign_key("content_type", &Tag::content_type, kContentTypeLabel,
                          OnDelete::Cascade),
              integer_field("object_id", &Tag::object_id), generic_foreign_key("content_object"));
  define<Post>(registry, "typed", "Post", primary_key(&Post::id),
               char_field("title", &Post::title, {.max_length = 20}),
               generic_relation("tags", "typed.Tag"));
  registry.finalize();
  Database d = Database::open(registry, scratch.url());
  d.migrate();
  Post post = d.create(Post{.id = {}, .title = "hello"});
  std::int64_t ct = content_type_for(d, meta_of<Post>(registry));
  d.create(Tag{.id = {}, .content_type = ct, .object_id = *post.id});
  d.create(Tag{.id = {}, .content_type = ct, .object_id = *post.id + 1});
  DeleteResult r = d.objects<Post>().all().remove();
  EXPECT_EQ(r.repr(), "(2, {'typed.Tag': 1, 'typed.Post': 1})");
  EXPECT_EQ(d.objects<Tag>().count(), 1);
}

}  // namespace
}  // namespace cascade
