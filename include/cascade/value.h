// Value: one database value, as Cascade moves it between models, SQL parameters and result rows.
// A Value is null, integer (64-bit), real (double), bool, text (UTF-8 bytes, NUL allowed),
// blob, date, or datetime (microseconds since 1970-01-01T00:00:00, no time zone: Cascade stores
// naive UTC datetimes, as Django with USE_TZ=False stores naive ones).
//
// Values are regular value types: copyable, comparable, hashable by content. Thread safety: as
// for std::string.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cascade {

// A calendar date (proleptic Gregorian). Valid years: 1..9999, as Python's date.
struct Date {
  int year = 1970;
  int month = 1;
  int day = 1;

  // Days since 1970-01-01 (negative before).
  std::int64_t days_since_epoch() const noexcept;
  static Date from_days_since_epoch(std::int64_t days) noexcept;
  // Parses "YYYY-MM-DD"; nullopt when malformed or out of range.
  static std::optional<Date> parse(std::string_view text) noexcept;
  std::string iso() const;  // "YYYY-MM-DD"
  bool valid() const noexcept;

  friend bool operator==(const Date&, const Date&) = default;
  friend auto operator<=>(const Date&, const Date&) = default;
};

// A naive datetime with microsecond precision.
struct DateTime {
  std::int64_t micros = 0;  // since 1970-01-01T00:00:00

  static DateTime from_parts(const Date& date, int hour = 0, int minute = 0, int second = 0,
                             int microsecond = 0) noexcept;
  // The current time (UTC).
  static DateTime now() noexcept;
  // Parses "YYYY-MM-DD HH:MM[:SS[.ffffff]]" (a 'T' separator, a trailing 'Z' and "+00:00" are
  // accepted; other offsets are converted to UTC). A bare date means midnight.
  static std::optional<DateTime> parse(std::string_view text) noexcept;
  Date date() const noexcept;
  int hour() const noexcept;
  int minute() const noexcept;
  int second() const noexcept;
  int microsecond() const noexcept;
  // "YYYY-MM-DD HH:MM:SS" plus ".ffffff" when the microseconds are not zero (Django's SQLite form).
  std::string iso(char separator = ' ') const;

  friend bool operator==(const DateTime&, const DateTime&) = default;
  friend auto operator<=>(const DateTime&, const DateTime&) = default;
};

using Blob = std::vector<std::uint8_t>;

class Value {
 public:
  enum class Kind { Null, Integer, Real, Bool, Text, Blob, Date, DateTime };

  Value() noexcept = default;  // null
  Value(std::nullptr_t) noexcept {}
  Value(std::int64_t v) noexcept : data_(v) {}
  Value(int v) noexcept : data_(static_cast<std::int64_t>(v)) {}
  Value(double v) noexcept : data_(v) {}
  Value(bool v) noexcept : data_(v) {}
  Value(std::string v) noexcept : data_(Text{std::move(v)}) {}
  Value(std::string_view v) : data_(Text{std::string(v)}) {}
  Value(const char* v) : data_(Text{std::string(v)}) {}
  Value(cascade::Blob v) noexcept : data_(std::move(v)) {}
  Value(cascade::Date v) noexcept : data_(v) {}
  Value(cascade::DateTime v) noexcept : data_(v) {}
  template <typename T>
  Value(const std::optional<T>& v) : Value(v ? Value(*v) : Value()) {}

  Kind kind() const noexcept { return static_cast<Kind>(data_.index()); }
  bool is_null() const noexcept { return kind() == Kind::Null; }

  // Typed access; each throws cascade::TypeError naming both kinds when the kind differs.
  std::int64_t as_integer() const;
  double as_real() const;  // integers are widened
  bool as_bool() const;    // integers 0/1 are accepted (SQLite stores bools as integers)
  const std::string& as_text() const;
  const cascade::Blob& as_blob() const;
  cascade::Date as_date() const;          // text in ISO form is parsed
  cascade::DateTime as_datetime() const;  // text in ISO form is parsed; a date means midnight

  // The value as Python's str() would print it: None, True, 3, 1.5, text as is, dates in ISO.
  std::string to_string() const;
  // The value as Python's repr() would print it: 'text' with Python's quoting, None, True,
  // datetime.date(2024, 1, 2), b'...' for blobs.
  std::string repr() const;

  static std::string_view kind_name(Kind kind) noexcept;

  friend bool operator==(const Value& a, const Value& b) noexcept;
  // A total order for sorting and sets: by kind first, then by content.
  friend std::strong_ordering operator<=>(const Value& a, const Value& b) noexcept;

 private:
  struct Text {
    std::string s;
    friend bool operator==(const Text&, const Text&) = default;
  };
  std::variant<std::monostate, std::int64_t, double, bool, Text, cascade::Blob, cascade::Date,
               cascade::DateTime>
      data_;
};

// Python's repr() of a string: single quotes unless the text has one and no double quote,
// backslash escapes for quotes, control characters and invalid UTF-8 bytes.
std::string python_repr(std::string_view text);
// The offset of the first byte of `text` that does not start a valid UTF-8 sequence (overlong
// forms and surrogates are invalid), or text.size() when all of it is valid.
std::size_t first_invalid_utf8(std::string_view text) noexcept;

}  // namespace cascade
