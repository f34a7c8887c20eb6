// Hostile values (issue "Reliability", item 5) as field values and as lookup values, through
// the typed API, the dynamic API and the shell: stored and read back intact, or refused with a
// clear error and nothing written. Values only ever travel as bound parameters; a value that
// reached SQL text would break the statements below (quotes) or match too much (% and _).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "cascade/database.h"
#include "cascade/error.h"
#include "cascade/model/mapping.h"
#include "support/backends.h"
#include "support/process.h"

namespace cascade {
namespace {

using cascade::testing::BackendTest;
using ::testing::HasSubstr;

struct Thing {
  std::optional<std::int64_t> id;
  std::string name;
  std::string body;
  std::int64_t big = 0;
  std::int64_t small = 0;
  double ratio = 0;
};

const Registry& thing_registry() {
  static const Registry* registry = [] {
    auto* r = new Registry();
    define<Thing>(*r, "lab", "Thing", {}, primary_key(&Thing::id),
                  char_field("name", &Thing::name, {.max_length = 100}),
                  text_field("body", &Thing::body), big_integer_field("big", &Thing::big),
                  integer_field("small", &Thing::small), float_field("ratio", &Thing::ratio));
    r->finalize();
    return r;
  }();
  return *registry;
}

// The models file that declares the same model, for the shell.
const char* kThingModels = R"(
[models.lab.Thing]
fields.name = { type = "char", max_length = 100 }
fields.body = { type = "text" }
fields.big = { type = "big_integer" }
fields.small = { type = "integer" }
fields.ratio = { type = "float" }
)";

std::vector<std::string> hostile_strings(bool sqlite) {
  std::vector<std::string> out = {"' OR '1'='1", "\"; DROP TABLE lab_thing; --", "100%", "%", "_",
                                  "a_b%c\\",     "emoji \xf0\x9f\x98\x80",       ""};
  if (sqlite) {
    out.push_back(std::string("nul\0byte", 8));
    out.push_back("\xff\xfe invalid utf-8");
  }
  return out;
}

class HostileValues : public BackendTest {
 protected:
  Database db = [this] {
    Database d = Database::open(thing_registry(), scratch.url());
    d.migrate();
    return d;
  }();
  Manager things = db.objects("lab.Thing");
};
CASCADE_ON_EVERY_BACKEND(HostileValues);

TEST_P(HostileValues, StringsRoundTripAndMatchOnlyThemselvesTyped) {
  auto strings = hostile_strings(sqlite());
  for (const auto& s : strings) db.create(Thing{.id = {}, .name = s.substr(0, 100), .body = s});
  for (const auto& s : strings) {
    auto found = db.objects<Thing>().filter({{"body", s}}).fetch();
    ASSERT_EQ(found.size(), 1u) << python_repr(s);
    EXPECT_EQ(found[0].body, s);
    // As a pattern, % and _ are literal characters.
    auto containing = db.objects<Thing>().filter({{"body__contains", s}}).count();
    std::int64_t expected = 0;
    for (const auto& t : strings) expected += t.find(s) != std::string::npos ? 1 : 0;
    EXPECT_EQ(containing, expected) << python_repr(s);
  }
  EXPECT_EQ(db.count<Thing>(), static_cast<std::int64_t>(strings.size()));
}

TEST_P(HostileValues, TenMegabyteStringsRoundTripThroughBothApis) {
  std::string huge(10 * 1024 * 1024, 'x');
  for (std::size_t i = 0; i < huge.size(); i += 4096)
    huge[i] = static_cast<char>('a' + (i / 4096) % 26);
  Thing t = db.create(Thing{.id = {}, .name = "huge", .body = huge});
  EXPECT_EQ(db.get<Thing>(*t.id).body, huge);
  Instance dyn = things.create(
      {{"name", "huge2"}, {"body", Value(huge)}, {"big", 0}, {"small", 0}, {"ratio", 0.0}});
  EXPECT_EQ(things.get(dyn.pk()).get("body").as_text(), huge);
  EXPECT_EQ(things.filter({{"body", Value(huge)}}).count(), 2);
  // Too long for its column: PostgreSQL refuses varchar(100) overflow, SQLite stores it (as
  // Django on SQLite does; the length is not enforced by SQLite).
  if (sqlite()) {
    things.create({{"name", Value(huge)}, {"body", ""}, {"big", 0}, {"small", 0}, {"ratio", 0.0}});
    EXPECT_EQ(things.filter({{"name", Value(huge)}}).count(), 1);
  } else {
    EXPECT_THROW(
        things.create(
            {{"name", Value(huge)}, {"body", ""}, {"big", 0}, {"small", 0}, {"ratio", 0.0}}),
        DataError);
  }
}

TEST_P(HostileValues, ExtremeIntegersRoundTripOrAreRefusedClearly) {
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  for (std::int64_t v : {kMin, kMin + 1, std::int64_t{-1}, std::int64_t{0}, kMax}) {
    Thing t = db.create(Thing{.id = {}, .name = "int", .body = "", .big = v});
    EXPECT_EQ(db.get<Thing>(*t.id).big, v);
    EXPECT_EQ(db.objects<Thing>().filter({{"big", v}}).count(), 1) << v;
    EXPECT_EQ(things.filter({{"big__gte", v}, {"id", *t.id}}).count(), 1) << v;
  }
  EXPECT_EQ(things.filter({{"big__lt", kMin}}).count(), 0);
  EXPECT_EQ(things.filter({{"big__gt", kMax}}).count(), 0);
  // A 32-bit column: PostgreSQL refuses values that do not fit ("integer out of range");
  // SQLite stores 64 bits in any integer column, as it does for Django.
  if (sqlite()) {
    Instance i =
        things.create({{"name", "int"}, {"body", ""}, {"big", 0}, {"small", kMax}, {"ratio", 0.0}});
    EXPECT_EQ(things.get(i.pk()).get("small").as_integer(), kMax);
  } else {
    std::int64_t before = things.count();
    try {
      things.create({{"name", "int"}, {"body", ""}, {"big", 0}, {"small", kMax}, {"ratio", 0.0}});
      FAIL() << "expected DataError";
    } catch (const DataError& e) {
      EXPECT_THAT(std::string(e.what()), HasSubstr("out of range"));
    }
    EXPECT_EQ(things.count(), before);
  }
}

TEST_P(HostileValues, InfinitiesRoundTripAndNaNIsStoredOnlyWhereTheDatabaseCan) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  for (double v : {kInf, -kInf, std::numeric_limits<double>::max(),
                   std::numeric_limits<double>::denorm_min(), -0.0}) {
    Thing t = db.create(Thing{.id = {}, .name = "f", .body = "", .ratio = v});
    EXPECT_EQ(db.get<Thing>(*t.id).ratio, v);
    EXPECT_EQ(things.filter({{"ratio", v}, {"id", *t.id}}).count(), 1) << v;
  }
  double nan = std::numeric_limits<double>::quiet_NaN();
  std::int64_t before = things.count();
  if (sqlite()) {
    // SQLite turns a bound NaN into NULL: storing it would lose the value, and comparing with
    // it would match nothing. Refused before any SQL runs.
    try {
      db.create(Thing{.id = {}, .name = "nan", .body = "", .ratio = nan});
      FAIL() << "expected ValueError";
    } catch (const ValueError& e) {
      EXPECT_THAT(std::string(e.what()), HasSubstr("NaN"));
    }
    EXPECT_THROW(things.filter({{"ratio", nan}}).count(), ValueError);
    EXPECT_EQ(things.count(), before);
  } else {
    Thing t = db.create(Thing{.id = {}, .name = "nan", .body = "", .ratio = nan});
    EXPECT_TRUE(std::isnan(db.get<Thing>(*t.id).ratio));
    // PostgreSQL orders NaN above every number and equal to itself.
    EXPECT_EQ(things.filter({{"ratio", nan}}).count(), 1);
  }
}

TEST_P(HostileValues, HostileValuesThroughTheShell) {
  testing::TempDir dir;
  std::string models = dir.file("models.toml");
  std::ofstream(models) << kThingModels;
  std::string big(10 * 1024 * 1024, 'q');
  // A script on stdin runs as Django's shell runs one: expression values are not echoed.
  std::string script =
      "from lab.models import Thing\n"
      "t = Thing.objects.create(name=\"' OR '1'='1\", body='%_\\\\', big=-9223372036854775808, "
      "small=0, ratio=1e999)\n"
      "print(Thing.objects.filter(name=\"' OR '1'='1\").count())\n"
      "print(Thing.objects.filter(body__contains='%_').count())\n"
      "print(Thing.objects.filter(body__contains='%x').count())\n"
      "print(Thing.objects.get(pk=t.pk).big)\n"
      "print(Thing.objects.get(pk=t.pk).ratio)\n"
      "print(Thing.objects.get(pk=t.pk).body)\n"
      "Thing.objects.create(name='huge', body='" +
      big +
      "', big=1, small=0, ratio=-1e999)\n"
      "print(len(Thing.objects.get(name='huge').body))\n"
      "print(Thing.objects.filter(ratio__lt=0).count())\n"
      "Thing.objects.filter(big=99999999999999999999).count()\n";
  auto r = testing::run_process(
      {CASCADE_TOOL_PATH, "--settings", models, "--database", scratch.url(), "shell"}, script);
  std::string expected_out = "1\n1\n0\n-9223372036854775808\ninf\n%_\\\n10485760\n1\n";
  EXPECT_EQ(r.out, expected_out) << r.err;
  // An integer beyond 64 bits is refused (Django's SQLite backend refuses it too).
  EXPECT_THAT(r.err, HasSubstr("OverflowError: int too large to convert to a 64-bit integer"));
  EXPECT_EQ(r.exit_code, 1);

  // NaN: stored where the database can, refused with the reason where it cannot.
  auto nan = testing::run_process(
      {CASCADE_TOOL_PATH, "--settings", models, "--database", scratch.url(), "shell", "-c",
       "t = Thing.objects.create(name='nan', body='', big=0, small=0, ratio=float('nan'))\n"
       "print(Thing.objects.get(pk=t.pk).ratio)"});
  if (sqlite()) {
    EXPECT_EQ(nan.out, "");
    EXPECT_THAT(nan.err, HasSubstr("ValueError: SQLite cannot store or compare a float NaN"));
    EXPECT_EQ(nan.exit_code, 1);
  } else {
    EXPECT_EQ(nan.out, "nan\n") << nan.err;
    EXPECT_EQ(nan.exit_code, 0);
  }
}

}  // namespace
}  // namespace cascade
