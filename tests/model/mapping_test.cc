// Tests for the typed mapping (cascade/model/mapping.h): define<T> for every field kind, the
// conversions between structs and Instances, and that examples/blog_shop declares the same
// models in C++ (models.cc) as in its cascade.toml.
#include "cascade/model/mapping.h"

#include <gtest/gtest.h>

#include "support/assertions.h"

#include <cstdint>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "cascade/error.h"
#include "cascade/model/loader.h"
#include "models.h"

namespace cascade {

namespace {

struct Owner {
  std::optional<std::int64_t> id;
  std::string name;
  friend bool operator==(const Owner&, const Owner&) = default;
};

struct Tag {
  std::optional<std::int64_t> id;
  std::string label;
};

// One member for every kind of field, plain and nullable.
struct Everything {
  std::optional<std::int64_t> id;
  std::string name;                       // char
  std::optional<std::string> nickname;    // char, null
  std::string notes;                      // text
  int count = 0;                          // integer (int member)
  std::optional<std::int64_t> big;        // big_integer, null
  double ratio = 0;                       // float
  std::optional<double> score;            // float, null
  bool active = false;                    // boolean
  std::optional<bool> flag;               // boolean, null
  Date day;                               // date
  std::optional<Date> maybe_day;          // date, null
  DateTime at;                            // datetime
  std::optional<DateTime> maybe_at;       // datetime, null
  std::int64_t owner_id = 0;              // foreign key
  std::optional<std::int64_t> backup_id;  // foreign key, null
  std::int64_t profile_id = 0;            // one-to-one
  friend bool operator==(const Everything&, const Everything&) = default;
};

// Declares Owner, Tag and Everything in `r` (not finalized).
void define_everything(Registry& r) {
  define<Owner>(r, "app", "Owner", {.display = "{name}"}, primary_key(&Owner::id),
                char_field("name", &Owner::name, {.max_length = 50}));
  define<Tag>(r, "app", "Tag", {}, primary_key(&Tag::id),
              char_field("label", &Tag::label, {.max_length = 20, .unique = true}));
  define<Everything>(
      r, "app", "Everything",
      {.display = "{name} ({count})",
       .db_table = "everything",
       .verbose_name = "thing",
       .verbose_name_plural = "things",
       .ordering = {"-count"},
       .unique_together = {{"name", "day"}},
       .delete_policy = DeletePolicy::Soft},
      primary_key(&Everything::id),
      char_field("name", &Everything::name, {.max_length = 40, .db_index = true}),
      char_field("nickname", &Everything::nickname, {.max_length = 10, .blank = true}),
      text_field("notes", &Everything::notes),
      integer_field("count", &Everything::count, {.default_value = 7}),
      big_integer_field("big", &Everything::big),
      float_field("ratio", &Everything::ratio, {.default_value = 0.5}),
      float_field("score", &Everything::score),
      boolean_field("active", &Everything::active, {.default_value = true}),
      boolean_field("flag", &Everything::flag),
      date_field("day", &Everything::day, {.default_factory = [] { return Value("2024-01-02"); }}),
      date_field("maybe_day", &Everything::maybe_day), datetime_field("at", &Everything::at),
      datetime_field("maybe_at", &Everything::maybe_at),
      foreign_key("owner", &Everything::owner_id, "app.Owner", OnDelete::Protect,
                  {.related_name = "things"}),
      foreign_key("backup", &Everything::backup_id, "Owner", OnDelete::SetNull,
                  {.related_name = "backups", .blank = true}),
      one_to_one("profile", &Everything::profile_id, "app.Owner", OnDelete::Cascade),
      many_to_many("tags", "app.Tag", {.related_name = "things", .db_table = "thing_tags"}));
}

std::unique_ptr<Registry> everything_registry() {
  auto r = std::make_unique<Registry>();
  define_everything(*r);
  r->finalize();
  return r;
}

// ---- define<T> ---------------------------------------------------------------------------------

TEST(MappingDefine, FieldKindsAndNullFromMemberTypes) {
  auto r = everything_registry();
  const ModelMeta& m = r->get("app.Everything");
  struct Case {
    const char* name;
    FieldType type;
    bool null;
  };
  const Case cases[] = {
      {"id", FieldType::Auto, false},
      {"name", FieldType::Char, false},
      {"nickname", FieldType::Char, true},
      {"notes", FieldType::Text, false},
      {"count", FieldType::Integer, false},
      {"big", FieldType::BigInteger, true},
      {"ratio", FieldType::Float, false},
      {"score", FieldType::Float, true},
      {"active", FieldType::Boolean, false},
      {"flag", FieldType::Boolean, true},
      {"day", FieldType::Date, false},
      {"maybe_day", FieldType::Date, true},
      {"at", FieldType::DateTime, false},
      {"maybe_at", FieldType::DateTime, true},
      {"owner", FieldType::ForeignKey, false},
      {"backup", FieldType::ForeignKey, true},
      {"profile", FieldType::OneToOne, false},
      // The model's soft delete policy adds its two columns last.
      {"deleted_at", FieldType::DateTime, true},
      {"deletion_id", FieldType::Char, true},
  };
  ASSERT_EQ(m.fields.size(), std::size(cases));
  for (std::size_t i = 0; i < m.fields.size(); ++i) {
    EXPECT_EQ(m.fields[i].name, cases[i].name);
    EXPECT_EQ(m.fields[i].type, cases[i].type) << cases[i].name;
    EXPECT_EQ(m.fields[i].null, cases[i].null) << cases[i].name;
  }
  EXPECT_TRUE(m.pk().primary_key);
}

TEST(MappingDefine, OptionsReachTheFields) {
  auto r = everything_registry();
  const ModelMeta& m = r->get("app.Everything");
  EXPECT_EQ(m.get_field("name").max_length, 40);
  EXPECT_TRUE(m.get_field("name").db_index);
  EXPECT_FALSE(m.get_field("name").unique);
  EXPECT_TRUE(m.get_field("nickname").blank);
  EXPECT_TRUE(r->get("app.Tag").get_field("label").unique);
  EXPECT_EQ(m.get_field("count").default_value, Value(7));
  EXPECT_EQ(m.get_field("ratio").default_value, Value(0.5));
  EXPECT_EQ(m.get_field("active").default_value, Value(true));
  EXPECT_EQ(m.get_field("day").get_default(), Value(Date{2024, 1, 2}));  // factory, converted

  const Field& owner = m.get_field("owner");
  EXPECT_EQ(owner.column, "owner_id");
  EXPECT_EQ(owner.on_delete, OnDelete::Protect);
  EXPECT_EQ(owner.related_name, "things");
  EXPECT_EQ(owner.target, &r->get("app.Owner"));
  const Field& backup = m.get_field("backup");
  EXPECT_EQ(backup.on_delete, OnDelete::SetNull);
  EXPECT_TRUE(backup.blank);
  EXPECT_EQ(backup.target, &r->get("app.Owner"));
  const Field& profile = m.get_field("profile");
  EXPECT_TRUE(profile.unique);  // one-to-one
  EXPECT_EQ(profile.related_accessor_name(), "everything");

  ASSERT_EQ(m.many_to_many.size(), 1u);
  const Field& tags = m.many_to_many[0];
  EXPECT_EQ(tags.name, "tags");
  EXPECT_EQ(tags.related_name, "things");
  EXPECT_EQ(tags.db_table, "thing_tags");
  EXPECT_EQ(tags.target, &r->get("app.Tag"));
  EXPECT_EQ(tags.through, &r->get("app.Everything_tags"));
  EXPECT_EQ(tags.through->db_table, "thing_tags");
}

TEST(MappingDefine, ModelOptionsReachTheModel) {
  auto r = everything_registry();
  const ModelMeta& m = r->get("app.Everything");
  EXPECT_EQ(m.display, "{name} ({count})");
  EXPECT_EQ(m.db_table, "everything");
  EXPECT_EQ(m.verbose_name, "thing");
  EXPECT_EQ(m.verbose_name_plural, "things");
  EXPECT_EQ(m.ordering, (std::vector<std::string>{"-count"}));
  EXPECT_EQ(m.unique_together, (std::vector<std::vector<std::string>>{{"name", "day"}}));
  EXPECT_EQ(m.delete_policy, DeletePolicy::Soft);
  EXPECT_EQ(r->get("app.Owner").db_table, "app_owner");
}

TEST(MappingDefine, CustomTextPrimaryKeyAndTextForeignKey) {
  struct Country {
    std::string code;
    std::string name;
  };
  struct City {
    std::optional<std::int64_t> id;
    std::string country_code;
  };
  Registry r;
  define<Country>(r, "geo", "Country", {},
                  char_field("code", &Country::code, {.max_length = 2, .primary_key = true}),
                  char_field("name", &Country::name, {.max_length = 50}));
  define<City>(r, "geo", "City", {}, primary_key(&City::id),
               foreign_key("country", &City::country_code, "Country", OnDelete::Cascade));
  r.finalize();
  EXPECT_EQ(r.get("geo.Country").pk().name, "code");
  EXPECT_EQ(r.get("geo.Country").fields.size(), 2u);  // no "id" added
  City city{std::nullopt, "fr"};
  Instance inst = to_instance(r, city);
  EXPECT_EQ(inst.get("country_id"), Value("fr"));
  EXPECT_EQ(from_instance<City>(r, inst).country_code, "fr");
}

TEST(MappingDefine, StructMustMapItsPrimaryKey) {
  struct NoKey {
    std::optional<std::int64_t> id;
    std::string name;
  };
  Registry r;
  try {
    define<NoKey>(r, "app", "NoKey", {}, char_field("name", &NoKey::name, {.max_length = 5}));
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "app.NoKey: a mapped struct must map its primary key, e.g. "
                 "cascade::primary_key(&NoKey::id)");
  }
  EXPECT_EQ(r.find("app.NoKey"), nullptr);  // nothing was added
  EXPECT_THROW(meta_of<NoKey>(r), Error);
}

TEST(MappingDefine, BindingTheSameStructTwice) {
  Registry r;
  define<Owner>(r, "app", "Owner", {}, primary_key(&Owner::id),
                char_field("name", &Owner::name, {.max_length = 50}));
  try {
    define<Owner>(r, "app", "Person", {}, primary_key(&Owner::id),
                  char_field("name", &Owner::name, {.max_length = 50}));
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_CONTAINS(e.what(), "app.Person: this C++ struct is already mapped to app.Owner");
  }
  EXPECT_EQ(meta_of<Owner>(r).label(), "app.Owner");  // the first binding stays
  EXPECT_EQ(r.find("app.Person"), nullptr);           // and nothing half-added
}

TEST(MappingDefine, SameLabelForTwoStructs) {
  Registry r;
  define<Owner>(r, "app", "Owner", {}, primary_key(&Owner::id),
                char_field("name", &Owner::name, {.max_length = 50}));
  std::string what;
  try {
    define<Tag>(r, "app", "Owner", {}, primary_key(&Tag::id),
                char_field("label", &Tag::label, {.max_length = 5}));
  } catch (const ConfigError& e) {
    what = e.what();
  }
  EXPECT_CONTAINS(what,
                  "model app.Owner is declared twice (first at C++ declaration of app.Owner)");
  EXPECT_THROW(meta_of<Tag>(r), Error);
}

TEST(MappingDefine, DefineAfterFinalizeIsRejected) {
  Registry r;
  r.finalize();
  EXPECT_THROW(define<Owner>(r, "app", "Owner", {}, primary_key(&Owner::id),
                             char_field("name", &Owner::name, {.max_length = 50})),
               ConfigError);
}

TEST(MappingDefine, MetaOf) {
  auto r = everything_registry();
  EXPECT_EQ(&meta_of<Everything>(*r), &r->get("app.Everything"));
  EXPECT_EQ(&meta_of<Owner>(*r), &r->get("app.Owner"));
  struct Unmapped {};
  EXPECT_THROW(meta_of<Unmapped>(*r), Error);
  EXPECT_THROW(to_instance(*r, Unmapped{}), Error);
}

// Member types are checked at compile time: each field function accepts only its kinds.
template <typename M>
concept CharMappable = requires(M Everything::*m) {
  char_field("x", m, FieldOptions{});
};
template <typename M>
concept IntegerMappable = requires(M Everything::*m) {
  integer_field("x", m);
};
template <typename M>
concept KeyMappable = requires(M Everything::*m) {
  foreign_key("x", m, "app.Owner", OnDelete::Cascade);
};
template <typename M>
concept AutoKeyMappable = requires(M Everything::*m) {
  primary_key(m);
};
static_assert(CharMappable<std::string> && CharMappable<std::optional<std::string>>);
static_assert(!CharMappable<int> && !CharMappable<Date>);
static_assert(IntegerMappable<int> && IntegerMappable<std::optional<std::int64_t>>);
static_assert(!IntegerMappable<double> && !IntegerMappable<std::string> && !IntegerMappable<bool>);
static_assert(KeyMappable<std::int64_t> && KeyMappable<std::string>);
static_assert(!KeyMappable<double>);
static_assert(AutoKeyMappable<std::optional<std::int64_t>>);
static_assert(!AutoKeyMappable<std::int64_t> && !AutoKeyMappable<std::optional<int>>);

// ---- conversions -------------------------------------------------------------------------------

Everything sample() {
  Everything e;
  e.id = 5;
  e.name = "widget";
  e.nickname = "w";
  e.notes = "line 1\nline 2";
  e.count = -3;
  e.big = std::int64_t{1} << 40;
  e.ratio = 0.25;
  e.score = 9.5;
  e.active = true;
  e.flag = false;
  e.day = Date{2024, 2, 29};
  e.maybe_day = Date{1969, 12, 31};
  e.at = DateTime::from_parts({2024, 1, 2}, 3, 4, 5, 6);
  e.maybe_at = DateTime{-1};
  e.owner_id = 11;
  e.backup_id = 12;
  e.profile_id = 13;
  return e;
}

TEST(MappingConvert, ToInstanceCopiesEveryMember) {
  auto r = everything_registry();
  Instance inst = to_instance(*r, sample());
  EXPECT_EQ(&inst.meta(), &r->get("app.Everything"));
  EXPECT_EQ(inst.pk(), Value(5));
  EXPECT_EQ(inst.get("name"), Value("widget"));
  EXPECT_EQ(inst.get("nickname"), Value("w"));
  EXPECT_EQ(inst.get("notes"), Value("line 1\nline 2"));
  EXPECT_EQ(inst.get("count"), Value(-3));
  EXPECT_EQ(inst.get("big"), Value(std::int64_t{1} << 40));
  EXPECT_EQ(inst.get("ratio"), Value(0.25));
  EXPECT_EQ(inst.get("score"), Value(9.5));
  EXPECT_EQ(inst.get("active"), Value(true));
  EXPECT_EQ(inst.get("flag"), Value(false));
  EXPECT_EQ(inst.get("day"), Value(Date{2024, 2, 29}));
  EXPECT_EQ(inst.get("maybe_day"), Value(Date{1969, 12, 31}));
  EXPECT_EQ(inst.get("at"), Value(DateTime::from_parts({2024, 1, 2}, 3, 4, 5, 6)));
  EXPECT_EQ(inst.get("maybe_at"), Value(DateTime{-1}));
  EXPECT_EQ(inst.get("owner_id"), Value(11));
  EXPECT_EQ(inst.get("backup"), Value(12));
  EXPECT_EQ(inst.get("profile_id"), Value(13));
  EXPECT_EQ(inst.str(), "widget (-3)");
  EXPECT_EQ(inst.repr(), "<Everything: widget (-3)>");
}

TEST(MappingConvert, NulloptMembersBecomeNull) {
  auto r = everything_registry();
  Everything e;  // every optional empty, id unset
  Instance inst = to_instance(*r, e);
  for (const char* name :
       {"id", "nickname", "big", "score", "flag", "maybe_day", "maybe_at", "backup"}) {
    EXPECT_TRUE(inst.get(name).is_null()) << name;
  }
  EXPECT_EQ(inst.get("count"), Value(0));  // the member's value, not the field default
  EXPECT_EQ(inst.str(), " (0)");
}

TEST(MappingConvert, RoundTripThroughInstance) {
  auto r = everything_registry();
  Everything in = sample();
  Everything out = from_instance<Everything>(*r, to_instance(*r, in));
  EXPECT_TRUE(out == in);
  Everything empty;
  EXPECT_TRUE(from_instance<Everything>(*r, to_instance(*r, empty)) == empty);
}

TEST(MappingConvert, FromInstanceOfDefaults) {
  auto r = everything_registry();
  Instance fresh(meta_of<Everything>(*r));
  Everything e = from_instance<Everything>(*r, fresh);
  EXPECT_FALSE(e.id.has_value());
  EXPECT_EQ(e.name, "");                 // char default ""
  EXPECT_FALSE(e.nickname.has_value());  // nullable char: None
  EXPECT_EQ(e.count, 7);                 // declared default
  EXPECT_EQ(e.ratio, 0.5);
  EXPECT_TRUE(e.active);
  EXPECT_EQ(e.day, (Date{2024, 1, 2}));  // default factory
  EXPECT_EQ(e.at, DateTime{});           // null datetime into a plain member: the epoch
  EXPECT_EQ(e.owner_id, 0);              // null key into a plain member: 0
}

TEST(MappingConvert, AssignOverwritesMappedMembers) {
  auto r = everything_registry();
  Instance inst = Instance::from_row(meta_of<Owner>(*r),
                                     {Value("4"), Value("Ann")});  // converted like a database row
  Owner o{std::nullopt, "old"};
  assign(*r, inst, o);
  EXPECT_EQ(o, (Owner{4, "Ann"}));
  inst.set("name", Value("Bob"));
  assign(*r, inst, o);
  EXPECT_EQ(o.name, "Bob");
}

TEST(MappingConvert, ValuesAreConvertedToTheFieldKind) {
  auto r = everything_registry();
  Instance inst(meta_of<Everything>(*r));
  inst.set("count", Value("42"));
  inst.set("active", Value(0));
  inst.set("at", Value("2024-05-06T07:08:09Z"));
  inst.set("maybe_day", Value("2020-02-02"));
  Everything e = from_instance<Everything>(*r, inst);
  EXPECT_EQ(e.count, 42);
  EXPECT_FALSE(e.active);
  EXPECT_EQ(e.at, DateTime::from_parts({2024, 5, 6}, 7, 8, 9));
  EXPECT_EQ(e.maybe_day, (Date{2020, 2, 2}));
  EXPECT_THROW(inst.set("count", Value("many")), ValueError);
}

// ---- the example's two declarations agree -------------------------------------------------------

std::string describe(const Field& f) {
  std::ostringstream out;
  out << f.name << " column=" << f.column << " type=" << field_type_name(f.type)
      << " null=" << f.null << " blank=" << f.blank << " unique=" << f.unique
      << " db_index=" << f.db_index << " pk=" << f.primary_key << " max_length=" << f.max_length
      << " default=" << (f.default_value ? f.default_value->repr() : "-")
      << " factory=" << static_cast<bool>(f.default_factory);
  if (f.is_relation()) {
    out << " target=" << (f.target ? f.target->label() : "?") << " related_name=" << f.related_name
        << " accessor=" << f.related_accessor_name();
    if (f.is_foreign_key()) {
      out << " on_delete=" << on_delete_name(f.on_delete)
          << " set=" << (f.on_delete_value ? f.on_delete_value->repr() : "-");
    } else {
      out << " db_table=" << f.db_table << " through=" << (f.through ? f.through->label() : "?")
          << " through_table=" << (f.through ? f.through->db_table : "?");
    }
  }
  return out.str();
}

// Every model of a registry, one line per model, field and reverse relation.
std::vector<std::string> describe(const Registry& r) {
  std::vector<std::string> out;
  for (const ModelMeta* m : r.models()) {
    std::ostringstream head;
    head << m->label() << " table=" << m->db_table << " display=" << m->display
         << " verbose=" << m->verbose_name << "/" << m->verbose_name_plural
         << " auto_created=" << m->auto_created << " policy=" << static_cast<int>(m->delete_policy)
         << " ordering=";
    for (const auto& o : m->ordering) head << o << ",";
    head << " unique_together=";
    for (const auto& group : m->unique_together) {
      for (const auto& name : group) head << name << "+";
      head << ",";
    }
    out.push_back(head.str());
    for (const auto& f : m->fields) out.push_back("  " + describe(f));
    for (const auto& f : m->many_to_many) out.push_back("  m2m " + describe(f));
    for (const auto& rel : m->related_objects) {
      out.push_back("  reverse " + rel.related_model()->label() + "." + rel.field->name);
    }
  }
  return out;
}

TEST(MappingBlogShop, CppDeclarationsMatchCascadeToml) {
  Registry cpp;
  blog_shop::register_models(cpp);
  cpp.finalize();
  Project toml = load_project(CASCADE_SOURCE_DIR "/examples/blog_shop/cascade.toml");

  std::vector<std::string> from_cpp = describe(cpp);
  std::vector<std::string> from_toml = describe(*toml.registry);
  ASSERT_EQ(cpp.models().size(), 11u);  // 10 models and blog.Post_tags
  ASSERT_EQ(from_cpp.size(), from_toml.size());
  for (std::size_t i = 0; i < from_cpp.size(); ++i) {
    EXPECT_EQ(from_cpp[i], from_toml[i]) << "line " << i;
  }
}

TEST(MappingBlogShop, StructsRoundTripAndUseTheirDefaults) {
  Registry r;
  blog_shop::register_models(r);
  r.finalize();
  Instance fresh(meta_of<blog_shop::Post>(r));
  EXPECT_EQ(fresh.get("status"), Value("published"));
  EXPECT_EQ(fresh.get("is_deleted"), Value(false));
  EXPECT_TRUE(fresh.get("published").is_null());
  blog_shop::Post post = from_instance<blog_shop::Post>(r, fresh);
  EXPECT_EQ(post.status, "published");
  EXPECT_FALSE(post.published.has_value());

  blog_shop::OrderItem item;
  item.id = 2;
  item.order_id = 3;
  item.product_id = 4;
  item.quantity = 5;
  Instance inst = to_instance(r, item);
  EXPECT_EQ(inst.str(), "5 x product 4");
  EXPECT_EQ(inst.repr(), "<OrderItem: 5 x product 4>");
  blog_shop::OrderItem back = from_instance<blog_shop::OrderItem>(r, inst);
  EXPECT_EQ(back.id, item.id);
  EXPECT_EQ(back.order_id, 3);
  EXPECT_EQ(back.product_id, 4);
  EXPECT_EQ(back.quantity, 5);

  blog_shop::Order order;
  order.number = "A-1";
  order.placed = Date{2024, 6, 1};
  Instance o = to_instance(r, order);
  EXPECT_EQ(o.str(), "Order A-1");
  EXPECT_EQ(from_instance<blog_shop::Order>(r, o).placed, (Date{2024, 6, 1}));
}

}  // namespace
}  // namespace cascade

namespace cascade {
namespace {

struct Shelf {
  std::optional<std::int64_t> id;
  std::string name;
};
struct Volume {
  std::optional<std::int64_t> id;
  std::int64_t shelf_id = 0;
  std::optional<std::int64_t> previous_id;
};

TEST(MappingDefine, ATargetNamedByItsStructAndNoModelOptions) {
  Registry r;
  // The referencing model first: the target struct is mapped afterwards.
  define<Volume>(r, "lib", "Volume", primary_key(&Volume::id),
                 foreign_key<Shelf>("shelf", &Volume::shelf_id, OnDelete::Cascade),
                 one_to_one<Volume>("previous", &Volume::previous_id, OnDelete::SetNull,
                                    {.related_name = "next"}));
  define<Shelf>(r, "lib", "Shelf", primary_key(&Shelf::id), text_field("name", &Shelf::name));
  r.finalize();
  const ModelMeta& v = r.get("lib.Volume");
  EXPECT_EQ(v.get_field("shelf").target, &r.get("lib.Shelf"));
  EXPECT_EQ(v.get_field("previous").target, &v);
  EXPECT_EQ(v.get_field("previous").to, "lib.Volume");
  EXPECT_EQ(r.get("lib.Shelf").display, "");  // ModelOptions{}: the defaults
}

TEST(MappingDefine, ATargetStructThatIsNotMappedIsAClearError) {
  Registry r;
  define<Volume>(r, "lib", "Volume", primary_key(&Volume::id),
                 foreign_key<Shelf>("shelf", &Volume::shelf_id, OnDelete::Cascade));
  try {
    r.finalize();
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("the relation's target struct is not mapped"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace cascade
