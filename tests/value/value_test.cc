// Tests for cascade::Value, Date and DateTime: kinds and conversions, the civil calendar, ISO
// parsing and printing, and str()/repr() as Python prints them (checked against python3).
#include "cascade/value.h"

#include <gtest/gtest.h>

#include "support/assertions.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "cascade/error.h"

namespace cascade {

namespace {

using Kind = Value::Kind;

// ---- kinds -----------------------------------------------------------------------------------

TEST(ValueKind, EachConstructorGivesItsKind) {
  EXPECT_EQ(Value().kind(), Kind::Null);
  EXPECT_EQ(Value(nullptr).kind(), Kind::Null);
  EXPECT_EQ(Value(3).kind(), Kind::Integer);
  EXPECT_EQ(Value(std::int64_t{1} << 40).kind(), Kind::Integer);
  EXPECT_EQ(Value(1.5).kind(), Kind::Real);
  EXPECT_EQ(Value(true).kind(), Kind::Bool);
  EXPECT_EQ(Value("x").kind(), Kind::Text);
  EXPECT_EQ(Value(std::string("x")).kind(), Kind::Text);
  EXPECT_EQ(Value(std::string_view("x")).kind(), Kind::Text);
  EXPECT_EQ(Value(Blob{1, 2}).kind(), Kind::Blob);
  EXPECT_EQ(Value(Date{2024, 1, 2}).kind(), Kind::Date);
  EXPECT_EQ(Value(DateTime{0}).kind(), Kind::DateTime);
  EXPECT_TRUE(Value().is_null());
  EXPECT_FALSE(Value(0).is_null());
  EXPECT_FALSE(Value("").is_null());
}

TEST(ValueKind, OptionalGivesNullOrTheValue) {
  std::optional<std::int64_t> none;
  std::optional<std::int64_t> seven = 7;
  std::optional<std::string> text = std::string("hi");
  EXPECT_TRUE(Value(none).is_null());
  EXPECT_EQ(Value(seven), Value(7));
  EXPECT_EQ(Value(text), Value("hi"));
}

TEST(ValueKind, KindNames) {
  EXPECT_EQ(Value::kind_name(Kind::Null), "null");
  EXPECT_EQ(Value::kind_name(Kind::Integer), "integer");
  EXPECT_EQ(Value::kind_name(Kind::Real), "real");
  EXPECT_EQ(Value::kind_name(Kind::Bool), "bool");
  EXPECT_EQ(Value::kind_name(Kind::Text), "text");
  EXPECT_EQ(Value::kind_name(Kind::Blob), "blob");
  EXPECT_EQ(Value::kind_name(Kind::Date), "date");
  EXPECT_EQ(Value::kind_name(Kind::DateTime), "datetime");
}

TEST(ValueKind, TextKeepsEmbeddedNul) {
  std::string s("a\0b", 3);
  EXPECT_EQ(Value(s).as_text().size(), 3u);
  EXPECT_EQ(Value(s).as_text(), s);
}

// ---- typed access ------------------------------------------------------------------------------

TEST(ValueAccess, IntegerAcceptsIntegersAndBools) {
  EXPECT_EQ(Value(42).as_integer(), 42);
  EXPECT_EQ(Value(std::numeric_limits<std::int64_t>::min()).as_integer(),
            std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(Value(true).as_integer(), 1);
  EXPECT_EQ(Value(false).as_integer(), 0);
}

TEST(ValueAccess, IntegerRejectsOtherKindsWithTypeError) {
  EXPECT_THROW(Value(1.0).as_integer(), TypeError);
  EXPECT_THROW(Value("1").as_integer(), TypeError);
  EXPECT_THROW(Value().as_integer(), TypeError);
  EXPECT_THROW(Value(Date{}).as_integer(), TypeError);
}

TEST(ValueAccess, TypeErrorNamesBothKinds) {
  try {
    Value("abc").as_integer();
    FAIL() << "no TypeError";
  } catch (const TypeError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("integer"), std::string::npos) << what;
    EXPECT_NE(what.find("text"), std::string::npos) << what;
    EXPECT_EQ(e.python_name(), "TypeError");
  }
  try {
    Value(Blob{}).as_date();
    FAIL() << "no TypeError";
  } catch (const TypeError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("date"), std::string::npos) << what;
    EXPECT_NE(what.find("blob"), std::string::npos) << what;
  }
}

TEST(ValueAccess, RealWidensIntegersButNotBools) {
  EXPECT_DOUBLE_EQ(Value(2.5).as_real(), 2.5);
  EXPECT_DOUBLE_EQ(Value(7).as_real(), 7.0);
  EXPECT_THROW(Value(true).as_real(), TypeError);
  EXPECT_THROW(Value("2.5").as_real(), TypeError);
  EXPECT_THROW(Value().as_real(), TypeError);
}

TEST(ValueAccess, BoolAcceptsZeroAndOneOnly) {
  EXPECT_TRUE(Value(true).as_bool());
  EXPECT_FALSE(Value(false).as_bool());
  EXPECT_TRUE(Value(1).as_bool());
  EXPECT_FALSE(Value(0).as_bool());
  EXPECT_THROW(Value(2).as_bool(), TypeError);
  EXPECT_THROW(Value(-1).as_bool(), TypeError);
  EXPECT_THROW(Value("true").as_bool(), TypeError);
  EXPECT_THROW(Value(1.0).as_bool(), TypeError);
}

TEST(ValueAccess, TextAndBlobOnlyFromTheirKind) {
  EXPECT_EQ(Value("hi").as_text(), "hi");
  EXPECT_THROW(Value(1).as_text(), TypeError);
  EXPECT_THROW(Value().as_text(), TypeError);
  EXPECT_EQ(Value(Blob{1, 2, 3}).as_blob(), (Blob{1, 2, 3}));
  EXPECT_THROW(Value("abc").as_blob(), TypeError);
}

TEST(ValueAccess, DateFromDateDateTimeAndIsoText) {
  EXPECT_EQ(Value(Date{2024, 2, 29}).as_date(), (Date{2024, 2, 29}));
  EXPECT_EQ(Value(DateTime::from_parts({2024, 2, 29}, 23, 59, 59)).as_date(), (Date{2024, 2, 29}));
  EXPECT_EQ(Value("2024-02-29").as_date(), (Date{2024, 2, 29}));
  // A datetime column's text gives its date part.
  EXPECT_EQ(Value("2024-02-29 10:00:00").as_date(), (Date{2024, 2, 29}));
  EXPECT_THROW(Value("2023-02-29").as_date(), TypeError);
  EXPECT_THROW(Value("yesterday").as_date(), TypeError);
  EXPECT_THROW(Value(20240229).as_date(), TypeError);
}

TEST(ValueAccess, DateTimeFromDateTimeDateAndIsoText) {
  DateTime dt = DateTime::from_parts({2024, 1, 2}, 3, 4, 5, 6);
  EXPECT_EQ(Value(dt).as_datetime(), dt);
  EXPECT_EQ(Value(Date{2024, 1, 2}).as_datetime(), DateTime::from_parts({2024, 1, 2}));
  EXPECT_EQ(Value("2024-01-02 03:04:05.000006").as_datetime(), dt);
  EXPECT_EQ(Value("2024-01-02").as_datetime(), DateTime::from_parts({2024, 1, 2}));
  EXPECT_THROW(Value("2024-01-02 25:00").as_datetime(), TypeError);
  EXPECT_THROW(Value(0).as_datetime(), TypeError);
  try {
    Value("soon").as_datetime();
    FAIL() << "no TypeError";
  } catch (const TypeError& e) {
    EXPECT_NE(std::string(e.what()).find("'soon'"), std::string::npos) << e.what();
  }
}

// ---- Date ------------------------------------------------------------------------------------

TEST(Date, KnownDaysSinceEpoch) {
  // From Python: (date(...) - date(1970, 1, 1)).days
  EXPECT_EQ((Date{1970, 1, 1}).days_since_epoch(), 0);
  EXPECT_EQ((Date{1969, 12, 31}).days_since_epoch(), -1);
  EXPECT_EQ((Date{1, 1, 1}).days_since_epoch(), -719162);
  EXPECT_EQ((Date{9999, 12, 31}).days_since_epoch(), 2932896);
  EXPECT_EQ((Date{2000, 2, 29}).days_since_epoch(), 11016);
  EXPECT_EQ((Date{1900, 3, 1}).days_since_epoch(), -25508);
  EXPECT_EQ((Date{1600, 2, 29}).days_since_epoch(), -135081);
  EXPECT_EQ((Date{2024, 2, 29}).days_since_epoch(), 19782);
}

// Walks every day from 0001-01-01 to 9999-12-31 with an independent calendar and checks both
// directions of the conversion, so every leap-year rule (4, 100, 400) is exercised.
TEST(Date, RoundTripsEveryDayFromYear1To9999) {
  auto leap = [](int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; };
  const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  std::int64_t days = -719162;
  int mismatches = 0;
  for (int y = 1; y <= 9999; ++y) {
    for (int m = 1; m <= 12; ++m) {
      int n = month_days[m - 1] + (m == 2 && leap(y) ? 1 : 0);
      for (int d = 1; d <= n; ++d, ++days) {
        Date date{y, m, d};
        if (date.days_since_epoch() != days || Date::from_days_since_epoch(days) != date ||
            !date.valid()) {
          if (++mismatches < 5) ADD_FAILURE() << date.iso() << " vs day " << days;
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(days, 2932897);  // one past 9999-12-31
}

TEST(Date, Valid) {
  EXPECT_TRUE((Date{2024, 2, 29}).valid());
  EXPECT_FALSE((Date{2023, 2, 29}).valid());
  EXPECT_FALSE((Date{1900, 2, 29}).valid());
  EXPECT_TRUE((Date{2000, 2, 29}).valid());
  EXPECT_FALSE((Date{2024, 4, 31}).valid());
  EXPECT_FALSE((Date{2024, 13, 1}).valid());
  EXPECT_FALSE((Date{2024, 0, 1}).valid());
  EXPECT_FALSE((Date{2024, 1, 0}).valid());
  EXPECT_FALSE((Date{0, 1, 1}).valid());
  EXPECT_FALSE((Date{10000, 1, 1}).valid());
  EXPECT_TRUE((Date{1, 1, 1}).valid());
  EXPECT_TRUE((Date{9999, 12, 31}).valid());
}

TEST(Date, ParseAcceptsIsoDates) {
  EXPECT_EQ(Date::parse("2024-02-29"), (Date{2024, 2, 29}));
  EXPECT_EQ(Date::parse("0001-01-01"), (Date{1, 1, 1}));
  EXPECT_EQ(Date::parse("9999-12-31"), (Date{9999, 12, 31}));
}

TEST(Date, ParseRejectsMalformedAndInvalidDates) {
  for (const char* bad :
       {"", "2024-1-02", "2024-01-2", "24-01-02", "2024/01/02", "2024-01-02 ", "2024-01-02T00:00",
        "202a-01-02", "2024-0x-02", "2023-02-29", "1900-02-29", "2024-04-31", "2024-13-01",
        "2024-00-10", "2024-01-00", "0000-01-01", "-024-01-01", "+024-01-01", " 2024-01-0"}) {
    EXPECT_FALSE(Date::parse(bad).has_value()) << bad;
  }
}

TEST(Date, IsoPadsWithZeros) {
  EXPECT_EQ((Date{1, 2, 3}).iso(), "0001-02-03");
  EXPECT_EQ((Date{2024, 12, 31}).iso(), "2024-12-31");
}

TEST(Date, OrdersChronologically) {
  EXPECT_LT((Date{2023, 12, 31}), (Date{2024, 1, 1}));
  EXPECT_LT((Date{2024, 1, 31}), (Date{2024, 2, 1}));
  EXPECT_LT((Date{2024, 2, 1}), (Date{2024, 2, 2}));
}

// ---- DateTime ----------------------------------------------------------------------------------

TEST(DateTime, FromPartsAndBack) {
  DateTime dt = DateTime::from_parts({2024, 1, 2}, 3, 4, 5, 6);
  EXPECT_EQ(dt.micros, 1704164645000006);  // Python: (dt - datetime(1970,1,1)) // 1us
  EXPECT_EQ(dt.date(), (Date{2024, 1, 2}));
  EXPECT_EQ(dt.hour(), 3);
  EXPECT_EQ(dt.minute(), 4);
  EXPECT_EQ(dt.second(), 5);
  EXPECT_EQ(dt.microsecond(), 6);
}

TEST(DateTime, NegativeMicrosAreBefore1970) {
  DateTime dt{-1};
  EXPECT_EQ(dt.date(), (Date{1969, 12, 31}));
  EXPECT_EQ(dt.hour(), 23);
  EXPECT_EQ(dt.minute(), 59);
  EXPECT_EQ(dt.second(), 59);
  EXPECT_EQ(dt.microsecond(), 999999);
  EXPECT_EQ(dt.iso(), "1969-12-31 23:59:59.999999");

  DateTime old = DateTime::from_parts({1900, 1, 1}, 12, 30, 15, 250);
  EXPECT_EQ(old.micros, -2208943784999750);
  EXPECT_EQ(old.iso(), "1900-01-01 12:30:15.000250");
  EXPECT_EQ(DateTime::parse("1900-01-01 12:30:15.00025"), old);

  DateTime first = DateTime::from_parts({1, 1, 1});
  EXPECT_EQ(first.iso(), "0001-01-01 00:00:00");
  EXPECT_EQ(first.date(), (Date{1, 1, 1}));
}

TEST(DateTime, IsoOmitsZeroMicroseconds) {
  EXPECT_EQ(DateTime{0}.iso(), "1970-01-01 00:00:00");
  EXPECT_EQ(DateTime::from_parts({2024, 1, 2}, 3, 4, 5).iso(), "2024-01-02 03:04:05");
  EXPECT_EQ(DateTime::from_parts({2024, 1, 2}, 3, 4, 5, 60).iso(), "2024-01-02 03:04:05.000060");
  EXPECT_EQ(DateTime::from_parts({2024, 1, 2}, 3, 4, 5, 500000).iso('T'),
            "2024-01-02T03:04:05.500000");
  EXPECT_EQ(DateTime::from_parts({9999, 12, 31}, 23, 59, 59, 999999).iso(),
            "9999-12-31 23:59:59.999999");
}

TEST(DateTime, ParseSeparatorsAndPrecision) {
  DateTime base = DateTime::from_parts({2024, 1, 2}, 10, 30);
  EXPECT_EQ(DateTime::parse("2024-01-02 10:30"), base);
  EXPECT_EQ(DateTime::parse("2024-01-02T10:30"), base);
  EXPECT_EQ(DateTime::parse("2024-01-02 10:30:00"), base);
  EXPECT_EQ(DateTime::parse("2024-01-02T10:30:07"), DateTime::from_parts({2024, 1, 2}, 10, 30, 7));
  EXPECT_EQ(DateTime::parse("2024-01-02 10:30:07.5"),
            DateTime::from_parts({2024, 1, 2}, 10, 30, 7, 500000));
  EXPECT_EQ(DateTime::parse("2024-01-02 10:30:07.000001"),
            DateTime::from_parts({2024, 1, 2}, 10, 30, 7, 1));
  EXPECT_EQ(DateTime::parse("2024-01-02 10:30:07.123456"),
            DateTime::from_parts({2024, 1, 2}, 10, 30, 7, 123456));
  // A bare date means midnight.
  EXPECT_EQ(DateTime::parse("2024-01-02"), DateTime::from_parts({2024, 1, 2}));
}

TEST(DateTime, ParseZuluAndOffsetsConvertToUtc) {
  DateTime utc = DateTime::from_parts({2024, 1, 2}, 10, 30);
  EXPECT_EQ(DateTime::parse("2024-01-02T10:30:00Z"), utc);
  EXPECT_EQ(DateTime::parse("2024-01-02 10:30Z"), utc);
  EXPECT_EQ(DateTime::parse("2024-01-02 10:30:00+00:00"), utc);
  // Python: fromisoformat('2024-01-02T10:30:00+05:30').astimezone(timezone.utc) -> 05:00.
  EXPECT_EQ(DateTime::parse("2024-01-02T10:30:00+05:30"), DateTime::from_parts({2024, 1, 2}, 5, 0));
  // A negative offset can cross midnight into the next year.
  EXPECT_EQ(DateTime::parse("2024-12-31 23:30:00-01:00"),
            DateTime::from_parts({2025, 1, 1}, 0, 30));
  EXPECT_EQ(DateTime::parse("2024-01-02 10:30:00.25+01:00"),
            DateTime::from_parts({2024, 1, 2}, 9, 30, 0, 250000));
}

TEST(DateTime, ParseRejectsMalformedText) {
  for (const char* bad : {"",
                          "2024-01-02 ",
                          "2024-01-02X10:30",
                          "2024-01-02 10",
                          "2024-01-02 10:3",
                          "2024-01-02 1:30",
                          "2024-01-02 24:00",
                          "2024-01-02 10:60",
                          "2024-01-02 10:30:60",
                          "2024-01-02 10:30:0",
                          "2024-01-02 10:30:00.",
                          "2024-01-02 10:30:00.x",
                          "2024-01-02 10:30:00 ",
                          "2024-01-02 10:30:00+0530",
                          "2024-01-02 10:30:00+5:30",
                          "2024-01-02 10:30:00+24:00",
                          "2024-01-02 10:30:00+05:60",
                          "2024-01-02 10:30:00ZZ",
                          "2024-01-02 10:30:00 UTC",
                          "2023-02-29 10:30",
                          "2024-01-02 10-30",
                          "now"}) {
    EXPECT_FALSE(DateTime::parse(bad).has_value()) << bad;
  }
}

TEST(DateTime, IsoParseRoundTrip) {
  for (std::int64_t micros :
       {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1}, std::int64_t{1704164645000006},
        std::int64_t{-2208943784999750}, std::int64_t{86'400'000'000} * 2932896 + 1}) {
    DateTime dt{micros};
    EXPECT_EQ(DateTime::parse(dt.iso()), dt) << dt.iso();
    EXPECT_EQ(DateTime::parse(dt.iso('T')), dt) << dt.iso('T');
  }
}

TEST(DateTime, NowIsAfter2024) {
  EXPECT_GT(DateTime::now(), DateTime::from_parts({2024, 1, 1}));
  EXPECT_LT(DateTime::now(), DateTime::from_parts({2200, 1, 1}));
}

// ---- str() and repr(), as Python prints them ----------------------------------------------------

TEST(ValueString, ScalarsPrintAsPython) {
  EXPECT_EQ(Value().to_string(), "None");
  EXPECT_EQ(Value().repr(), "None");
  EXPECT_EQ(Value(true).to_string(), "True");
  EXPECT_EQ(Value(false).repr(), "False");
  EXPECT_EQ(Value(-42).to_string(), "-42");
  EXPECT_EQ(Value(std::numeric_limits<std::int64_t>::min()).repr(), "-9223372036854775808");
  EXPECT_EQ(Value("it's").to_string(), "it's");  // str() is the text itself
}

// Each expected text is Python's repr(float) for the same value.
TEST(ValueString, FloatsPrintAsPythonRepr) {
  struct Case {
    double value;
    const char* python;
  };
  const Case cases[] = {
      {1.0, "1.0"},
      {0.1, "0.1"},
      {-2.5, "-2.5"},
      {1e20, "1e+20"},
      {1.5e-05, "1.5e-05"},
      {1e16, "1e+16"},
      {1e15, "1000000000000000.0"},
      {9999999999999998.0, "9999999999999998.0"},
      {123456789012345.0, "123456789012345.0"},
      {0.0001, "0.0001"},
      {0.0001234, "0.0001234"},
      {-1e-07, "-1e-07"},
      {1e22, "1e+22"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {1.0 / 3.0, "0.3333333333333333"},
      {0.0, "0.0"},
      {-0.0, "-0.0"},
      {std::numeric_limits<double>::infinity(), "inf"},
      {-std::numeric_limits<double>::infinity(), "-inf"},
      {std::numeric_limits<double>::quiet_NaN(), "nan"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Value(c.value).repr(), c.python);
    EXPECT_EQ(Value(c.value).to_string(), c.python);
  }
}

TEST(ValueString, TextReprChoosesQuotesAsPython) {
  EXPECT_EQ(Value("hello").repr(), "'hello'");
  EXPECT_EQ(Value("").repr(), "''");
  EXPECT_EQ(Value("it's").repr(), "\"it's\"");
  EXPECT_EQ(Value("say \"hi\"").repr(), "'say \"hi\"'");
  EXPECT_EQ(Value("both ' and \"").repr(), "'both \\' and \"'");
}

TEST(ValueString, TextReprEscapesControlCharacters) {
  EXPECT_EQ(Value("a\nb\tc\\d").repr(), "'a\\nb\\tc\\\\d'");
  EXPECT_EQ(Value("\r").repr(), "'\\r'");
  EXPECT_EQ(Value(std::string("nul\0", 4)).repr(), "'nul\\x00'");
  EXPECT_EQ(Value("\x01\x1f\x7f").repr(), "'\\x01\\x1f\\x7f'");
  // U+0085 and U+009F are C1 control characters; U+00A0 and U+00AD are not printable either.
  EXPECT_EQ(Value("\xc2\x85").repr(), "'\\x85'");
  EXPECT_EQ(Value("\xc2\x9f").repr(), "'\\x9f'");
  EXPECT_EQ(Value("\xc2\xa0").repr(), "'\\xa0'");
  EXPECT_EQ(Value("\xc2\xad").repr(), "'\\xad'");
}

TEST(ValueString, TextReprKeepsValidUtf8AndEscapesInvalidBytes) {
  EXPECT_EQ(Value("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80").repr(),
            "'caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80'");  // 'café € 😀'
  EXPECT_EQ(Value("\xc2\xa1").repr(), "'\xc2\xa1'");         // '¡' is printable
  EXPECT_EQ(Value("a\xff"
                  "b")
                .repr(),
            "'a\\xffb'");
  EXPECT_EQ(Value("\x80").repr(), "'\\x80'");                             // lone continuation byte
  EXPECT_EQ(Value("\xc3").repr(), "'\\xc3'");                             // truncated sequence
  EXPECT_EQ(Value("\xc0\xaf").repr(), "'\\xc0\\xaf'");                    // overlong '/'
  EXPECT_EQ(Value("\xed\xa0\x80").repr(), "'\\xed\\xa0\\x80'");           // surrogate U+D800
  EXPECT_EQ(Value("\xf4\x90\x80\x80").repr(), "'\\xf4\\x90\\x80\\x80'");  // past U+10FFFF
}

TEST(ValueString, PythonReprFunctionMatchesValueRepr) {
  EXPECT_EQ(python_repr("it's"), "\"it's\"");
  EXPECT_EQ(python_repr("x"), Value("x").repr());
}

TEST(ValueString, BlobReprAsPythonBytes) {
  EXPECT_EQ(Value(Blob{}).repr(), "b''");
  EXPECT_EQ(Value(Blob{'a', 'b'}).repr(), "b'ab'");
  // Python: repr(b"a'b\x00\xff\n") == 'b"a\'b\\x00\\xff\\n"'
  EXPECT_EQ(Value(Blob{'a', '\'', 'b', 0, 0xff, '\n'}).repr(), "b\"a'b\\x00\\xff\\n\"");
  EXPECT_EQ(Value(Blob{'"'}).repr(), "b'\"'");
  EXPECT_EQ(Value(Blob{'\'', '"'}).repr(), "b'\\'\"'");
  EXPECT_EQ(Value(Blob{'\\', '\t', '\r', 0x7f, 0x80}).repr(), "b'\\\\\\t\\r\\x7f\\x80'");
  EXPECT_EQ(Value(Blob{'x'}).to_string(), "b'x'");  // str(bytes) is its repr
}

TEST(ValueString, DatesPrintIsoAndPythonRepr) {
  EXPECT_EQ(Value(Date{2024, 1, 2}).to_string(), "2024-01-02");
  EXPECT_EQ(Value(Date{2024, 1, 2}).repr(), "datetime.date(2024, 1, 2)");
  EXPECT_EQ(Value(Date{1, 12, 31}).repr(), "datetime.date(1, 12, 31)");
}

TEST(ValueString, DateTimeReprOmitsZeroSecondsAndMicroseconds) {
  EXPECT_EQ(Value(DateTime::from_parts({2024, 1, 2})).repr(),
            "datetime.datetime(2024, 1, 2, 0, 0)");
  EXPECT_EQ(Value(DateTime::from_parts({2024, 1, 2}, 3, 4, 5)).repr(),
            "datetime.datetime(2024, 1, 2, 3, 4, 5)");
  EXPECT_EQ(Value(DateTime::from_parts({2024, 1, 2}, 3, 4, 0, 7)).repr(),
            "datetime.datetime(2024, 1, 2, 3, 4, 0, 7)");
  EXPECT_EQ(Value(DateTime{-1}).repr(), "datetime.datetime(1969, 12, 31, 23, 59, 59, 999999)");
  EXPECT_EQ(Value(DateTime::from_parts({2024, 1, 2}, 3, 4, 5, 6)).to_string(),
            "2024-01-02 03:04:05.000006");
}

// ---- equality and order ------------------------------------------------------------------------

TEST(ValueOrder, EqualityNeedsSameKindAndContent) {
  EXPECT_EQ(Value(1), Value(std::int64_t{1}));
  EXPECT_NE(Value(1), Value(1.0));
  EXPECT_NE(Value(1), Value(true));
  EXPECT_NE(Value(1), Value("1"));
  EXPECT_NE(Value(), Value(0));
  EXPECT_EQ(Value(), Value(nullptr));
  EXPECT_EQ(Value(Blob{1}), Value(Blob{1}));
  EXPECT_NE(Value(Blob{1}), Value(Blob{2}));
  EXPECT_EQ(Value(Date{2024, 1, 2}), Value(Date{2024, 1, 2}));
  EXPECT_NE(Value(Date{2024, 1, 2}), Value(DateTime::from_parts({2024, 1, 2})));
  EXPECT_EQ(Value(0.0), Value(-0.0));
}

TEST(ValueOrder, KindFirstThenContent) {
  EXPECT_LT(Value(), Value(std::numeric_limits<std::int64_t>::min()));
  EXPECT_LT(Value(100), Value(-1.0));  // integer sorts before real, whatever the numbers
  EXPECT_LT(Value(-5), Value(3));
  EXPECT_LT(Value(1.5), Value(2.5));
  EXPECT_LT(Value(false), Value(true));
  EXPECT_LT(Value("B"), Value("a"));  // bytewise
  EXPECT_LT(Value("a"), Value("ab"));
  EXPECT_LT(Value("z"), Value("\xc3\xa9"));  // bytes compare unsigned
  EXPECT_LT(Value(Blob{1, 2}), Value(Blob{1, 3}));
  EXPECT_LT(Value(Date{2023, 12, 31}), Value(Date{2024, 1, 1}));
  EXPECT_LT(Value(DateTime{-1}), Value(DateTime{0}));
}

TEST(ValueOrder, NanIsEqualToItselfAndSortsAfterEveryNumber) {
  Value nan(std::numeric_limits<double>::quiet_NaN());
  Value inf(std::numeric_limits<double>::infinity());
  EXPECT_EQ(nan <=> nan, std::strong_ordering::equal);
  EXPECT_TRUE(nan == nan);  // == agrees with <=>: the order is total
  EXPECT_EQ(inf <=> nan, std::strong_ordering::less);
  EXPECT_EQ(nan <=> inf, std::strong_ordering::greater);
  EXPECT_LT(Value(-1e308), nan);
  EXPECT_NE(nan, Value(0.0));

  std::vector<Value> values = {nan, Value(2.0), inf, Value(-inf.as_real()), nan, Value(0.5)};
  std::sort(values.begin(), values.end());
  EXPECT_EQ(values[0], Value(-inf.as_real()));
  EXPECT_EQ(values[1], Value(0.5));
  EXPECT_EQ(values[2], Value(2.0));
  EXPECT_EQ(values[3], inf);
  EXPECT_TRUE(std::isnan(values[4].as_real()));
  EXPECT_TRUE(std::isnan(values[5].as_real()));

  std::set<Value> set(values.begin(), values.end());
  EXPECT_EQ(set.size(), 5u);  // both NaNs are one element
  EXPECT_EQ(std::count(values.begin(), values.end(), nan), 2);
}

TEST(ValueOrder, SortsMixedKindsByKindOrder) {
  std::vector<Value> values = {Value("t"),    Value(true),   Value(DateTime{0}), Value(1.5),
                               Value(Date{}), Value(Blob{}), Value(3),           Value()};
  std::sort(values.begin(), values.end());
  std::vector<Kind> kinds;
  for (const auto& v : values) kinds.push_back(v.kind());
  EXPECT_EQ(kinds, (std::vector<Kind>{Kind::Null, Kind::Integer, Kind::Real, Kind::Bool, Kind::Text,
                                      Kind::Blob, Kind::Date, Kind::DateTime}));
}

}  // namespace
}  // namespace cascade
