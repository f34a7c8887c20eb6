#include "cascade/value.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <system_error>

#include "cascade/error.h"

namespace cascade {
namespace {

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

// Floor division for negative datetimes.
std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Reads exactly `width` decimal digits at text[pos]; -1 when they are not all digits.
int read_digits(std::string_view text, std::size_t pos, std::size_t width) noexcept {
  if (pos + width > text.size()) return -1;
  int n = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    n = n * 10 + (text[i] - '0');
  }
  return n;
}

std::string two(int n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d", n);
  return buf;
}

// Python's repr() of a float: the shortest digits that round-trip, in fixed notation when the
// decimal exponent is in (-4, 16], else in exponent notation with at least two exponent digits.
std::string python_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view s(buf, static_cast<std::size_t>(res.ptr - buf));
  bool negative = false;
  if (!s.empty() && s.front() == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  std::size_t e = s.find('e');
  std::string digits;
  for (char c : s.substr(0, e)) {
    if (c != '.') digits += c;
  }
  int exponent = 0;
  std::string_view exp_text = s.substr(e + 1);
  if (!exp_text.empty() && exp_text.front() == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int decpt = exponent + 1;  // position of the decimal point relative to the digits
  std::string out = negative ? "-" : "";
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out.append("0.").append(static_cast<std::size_t>(-decpt), '0').append(digits);
    } else if (static_cast<std::size_t>(decpt) >= digits.size()) {
      out.append(digits).append(static_cast<std::size_t>(decpt) - digits.size(), '0').append(".0");
    } else {
      out.append(digits, 0, static_cast<std::size_t>(decpt))
          .append(".")
          .append(digits, static_cast<std::size_t>(decpt), std::string::npos);
    }
  } else {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out.append(".").append(digits, 1, std::string::npos);
    int x = decpt - 1;
    out += x < 0 ? "e-" : "e+";
    out += two(x < 0 ? -x : x);
  }
  return out;
}

void append_escaped_byte(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 15];
}

// Python's escape of one byte of a str or bytes literal quoted with `quote`: \n \r \t, the
// quote and the backslash, and \xNN for the other control bytes and the bytes past ASCII (in a
// str only 0x7f reaches here: longer UTF-8 sequences are copied by the caller).
void append_escaped(std::string& out, unsigned char c, char quote) {
  switch (c) {
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default: break;
  }
  if (c == static_cast<unsigned char>(quote) || c == '\\') {
    out += '\\';
    out += static_cast<char>(c);
  } else if (c < 0x20 || c >= 0x7f) {
    append_escaped_byte(out, c);
  } else {
    out += static_cast<char>(c);
  }
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
std::size_t utf8_sequence(std::string_view s, std::size_t i) noexcept {
  auto c = static_cast<unsigned char>(s[i]);
  std::size_t n;
  std::uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are invalid.
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    return 0;
  }
  return n;
}

[[noreturn]] void wrong_kind(Value::Kind want, Value::Kind have) {
  std::string_view name = Value::kind_name(want);
  std::string article = name == "integer" ? "an " : "a ";
  throw TypeError("expected " + article + std::string(name) + " value, got " +
                  std::string(Value::kind_name(have)));
}

}  // namespace

// ---- Date -------------------------------------------------------------------------------------

// The calendar is <chrono>'s (proleptic Gregorian, as Python's datetime).
std::int64_t Date::days_since_epoch() const noexcept {
  using namespace std::chrono;
  return sys_days(year_month_day(std::chrono::year(year),
                                 std::chrono::month(static_cast<unsigned>(month)),
                                 std::chrono::day(static_cast<unsigned>(day))))
      .time_since_epoch()
      .count();
}

Date Date::from_days_since_epoch(std::int64_t days) noexcept {
  using namespace std::chrono;
  year_month_day ymd{sys_days(std::chrono::days(days))};
  return Date{static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
              static_cast<int>(static_cast<unsigned>(ymd.day()))};
}

bool Date::valid() const noexcept {
  using namespace std::chrono;
  return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 && day <= 31 &&
         year_month_day(std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                        std::chrono::day(static_cast<unsigned>(day)))
             .ok();
}

std::optional<Date> Date::parse(std::string_view text) noexcept {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  Date d{read_digits(text, 0, 4), read_digits(text, 5, 2), read_digits(text, 8, 2)};
  if (!d.valid()) return std::nullopt;
  return d;
}

std::string Date::iso() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
  return buf;
}

// ---- DateTime ---------------------------------------------------------------------------------

DateTime DateTime::from_parts(const Date& date, int hour, int minute, int second,
                              int microsecond) noexcept {
  return DateTime{date.days_since_epoch() * kMicrosPerDay +
                  ((hour * 60LL + minute) * 60 + second) * kMicrosPerSecond + microsecond};
}

DateTime DateTime::now() noexcept {
  auto since = std::chrono::system_clock::now().time_since_epoch();
  return DateTime{std::chrono::duration_cast<std::chrono::microseconds>(since).count()};
}

std::optional<DateTime> DateTime::parse(std::string_view text) noexcept {
  auto date = Date::parse(text.substr(0, 10));
  if (!date) return std::nullopt;
  if (text.size() == 10) return from_parts(*date);
  if (text[10] != ' ' && text[10] != 'T') return std::nullopt;
  int hour = read_digits(text, 11, 2);
  int minute = text.size() > 13 && text[13] == ':' ? read_digits(text, 14, 2) : -1;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return std::nullopt;
  std::size_t pos = 16;
  int second = 0;
  int micro = 0;
  if (pos < text.size() && text[pos] == ':') {
    second = read_digits(text, pos + 1, 2);
    if (second < 0 || second > 59) return std::nullopt;
    pos += 3;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      int scale = 100000;
      std::size_t start = pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (scale > 0) micro += (text[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
      if (pos == start) return std::nullopt;
    }
  }
  std::int64_t offset_minutes = 0;
  if (pos < text.size()) {
    std::string_view rest = text.substr(pos);
    if (rest == "Z") {
      pos = text.size();
    } else if ((rest[0] == '+' || rest[0] == '-') && (rest.size() == 6 || rest.size() == 3)) {
      int oh = read_digits(rest, 1, 2);
      int om = rest.size() == 6 ? (rest[3] == ':' ? read_digits(rest, 4, 2) : -1) : 0;
      if (oh < 0 || oh > 23 || om < 0 || om > 59) return std::nullopt;
      offset_minutes = (oh * 60 + om) * (rest[0] == '-' ? -1 : 1);
    } else {
      return std::nullopt;
    }
  }
  DateTime dt = from_parts(*date, hour, minute, second, micro);
  dt.micros -= offset_minutes * 60 * kMicrosPerSecond;
  return dt;
}

Date DateTime::date() const noexcept {
  return Date::from_days_since_epoch(floor_div(micros, kMicrosPerDay));
}

namespace {
std::int64_t micros_of_day(std::int64_t micros) noexcept {
  return micros - floor_div(micros, kMicrosPerDay) * kMicrosPerDay;
}
}  // namespace

int DateTime::hour() const noexcept {
  return static_cast<int>(micros_of_day(micros) / (3600 * kMicrosPerSecond));
}
int DateTime::minute() const noexcept {
  return static_cast<int>(micros_of_day(micros) / (60 * kMicrosPerSecond) % 60);
}
int DateTime::second() const noexcept {
  return static_cast<int>(micros_of_day(micros) / kMicrosPerSecond % 60);
}
int DateTime::microsecond() const noexcept {
  return static_cast<int>(micros_of_day(micros) % kMicrosPerSecond);
}

std::string DateTime::iso(char separator) const {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%c%02d:%02d:%02d", date().iso().c_str(), separator, hour(),
                minute(), second());
  std::string out = buf;
  if (int us = microsecond(); us != 0) {
    std::snprintf(buf, sizeof buf, ".%06d", us);
    out += buf;
  }
  return out;
}

// ---- Value ------------------------------------------------------------------------------------

std::string_view Value::kind_name(Kind kind) noexcept {
  switch (kind) {
    case Kind::Null: return "null";
    case Kind::Integer: return "integer";
    case Kind::Real: return "real";
    case Kind::Bool: return "bool";
    case Kind::Text: return "text";
    case Kind::Blob: return "blob";
    case Kind::Date: return "date";
    case Kind::DateTime: return "datetime";
  }
  return "unknown";
}

std::int64_t Value::as_integer() const {
  if (auto* v = std::get_if<std::int64_t>(&data_)) return *v;
  if (auto* b = std::get_if<bool>(&data_)) return *b ? 1 : 0;
  wrong_kind(Kind::Integer, kind());
}

double Value::as_real() const {
  if (auto* v = std::get_if<double>(&data_)) return *v;
  if (auto* i = std::get_if<std::int64_t>(&data_)) return static_cast<double>(*i);
  wrong_kind(Kind::Real, kind());
}

bool Value::as_bool() const {
  if (auto* v = std::get_if<bool>(&data_)) return *v;
  if (auto* i = std::get_if<std::int64_t>(&data_); i && (*i == 0 || *i == 1)) return *i == 1;
  wrong_kind(Kind::Bool, kind());
}

const std::string& Value::as_text() const {
  if (auto* v = std::get_if<Text>(&data_)) return v->s;
  wrong_kind(Kind::Text, kind());
}

const cascade::Blob& Value::as_blob() const {
  if (auto* v = std::get_if<cascade::Blob>(&data_)) return *v;
  wrong_kind(Kind::Blob, kind());
}

cascade::Date Value::as_date() const {
  if (auto* v = std::get_if<cascade::Date>(&data_)) return *v;
  if (auto* dt = std::get_if<cascade::DateTime>(&data_)) return dt->date();
  if (auto* t = std::get_if<Text>(&data_)) {
    // SQLite may hand back a datetime column's text for a date; take its date part.
    if (auto d = Date::parse(std::string_view(t->s).substr(0, 10))) return *d;
    throw TypeError("not a valid date: " + python_repr(t->s));
  }
  wrong_kind(Kind::Date, kind());
}

cascade::DateTime Value::as_datetime() const {
  if (auto* v = std::get_if<cascade::DateTime>(&data_)) return *v;
  if (auto* d = std::get_if<cascade::Date>(&data_)) return DateTime::from_parts(*d);
  if (auto* t = std::get_if<Text>(&data_)) {
    if (auto dt = DateTime::parse(t->s)) return *dt;
    throw TypeError("not a valid datetime: " + python_repr(t->s));
  }
  wrong_kind(Kind::DateTime, kind());
}

std::string Value::to_string() const {
  switch (kind()) {
    case Kind::Null: return "None";
    case Kind::Integer: return std::to_string(std::get<std::int64_t>(data_));
    case Kind::Real: return python_float(std::get<double>(data_));
    case Kind::Bool: return std::get<bool>(data_) ? "True" : "False";
    case Kind::Text: return std::get<Text>(data_).s;
    case Kind::Blob: return repr();
    case Kind::Date: return std::get<cascade::Date>(data_).iso();
    case Kind::DateTime: return std::get<cascade::DateTime>(data_).iso();
  }
  return {};
}

std::string Value::repr() const {
  switch (kind()) {
    case Kind::Text: return python_repr(std::get<Text>(data_).s);
    case Kind::Blob: {
      // Python picks the quote as for str: double quotes when the bytes hold a ' and no ".
      const auto& blob = std::get<cascade::Blob>(data_);
      bool has_single = std::find(blob.begin(), blob.end(), '\'') != blob.end();
      bool has_double = std::find(blob.begin(), blob.end(), '"') != blob.end();
      char quote = has_single && !has_double ? '"' : '\'';
      std::string out = "b";
      out += quote;
      for (std::uint8_t c : blob) append_escaped(out, c, quote);
      return out + quote;
    }
    case Kind::Date: {
      const auto& d = std::get<cascade::Date>(data_);
      return "datetime.date(" + std::to_string(d.year) + ", " + std::to_string(d.month) + ", " +
             std::to_string(d.day) + ")";
    }
    case Kind::DateTime: {
      const auto& dt = std::get<cascade::DateTime>(data_);
      auto d = dt.date();
      std::string out = "datetime.datetime(" + std::to_string(d.year) + ", " +
                        std::to_string(d.month) + ", " + std::to_string(d.day) + ", " +
                        std::to_string(dt.hour()) + ", " + std::to_string(dt.minute());
      if (dt.second() != 0 || dt.microsecond() != 0) out += ", " + std::to_string(dt.second());
      if (dt.microsecond() != 0) out += ", " + std::to_string(dt.microsecond());
      return out + ")";
    }
    default: return to_string();
  }
}

// Equality agrees with the total order below, so a NaN equals itself (std::variant's == would
// say it does not, which breaks finding a value that sorts as equal).
bool operator==(const Value& a, const Value& b) noexcept { return (a <=> b) == 0; }

std::strong_ordering operator<=>(const Value& a, const Value& b) noexcept {
  if (a.data_.index() != b.data_.index()) return a.data_.index() <=> b.data_.index();
  switch (a.kind()) {
    case Value::Kind::Null: return std::strong_ordering::equal;
    case Value::Kind::Integer:
      return std::get<std::int64_t>(a.data_) <=> std::get<std::int64_t>(b.data_);
    case Value::Kind::Real: {
      double x = std::get<double>(a.data_);
      double y = std::get<double>(b.data_);
      // NaN sorts after every number and equal to itself, so the order stays total.
      if (std::isnan(x) || std::isnan(y)) return std::isnan(x) <=> std::isnan(y);
      return x < y ? std::strong_ordering::less
                   : (y < x ? std::strong_ordering::greater : std::strong_ordering::equal);
    }
    case Value::Kind::Bool: return std::get<bool>(a.data_) <=> std::get<bool>(b.data_);
    case Value::Kind::Text: return a.as_text().compare(b.as_text()) <=> 0;
    case Value::Kind::Blob: return a.as_blob() <=> b.as_blob();
    case Value::Kind::Date:
      return std::get<cascade::Date>(a.data_) <=> std::get<cascade::Date>(b.data_);
    case Value::Kind::DateTime:
      return std::get<cascade::DateTime>(a.data_).micros <=>
             std::get<cascade::DateTime>(b.data_).micros;
  }
  return std::strong_ordering::equal;
}

std::string python_repr(std::string_view text) {
  bool has_single = text.find('\'') != std::string_view::npos;
  bool has_double = text.find('"') != std::string_view::npos;
  char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = utf8_sequence(text, i);
    if (n == 0) {
      append_escaped_byte(out, c);  // invalid UTF-8: show the byte
      ++i;
      continue;
    }
    if (n == 2 && (c == 0xC2 || c == 0xC3)) {
      // U+0080..U+00FF: Python shows the C1 control characters, the no-break space and the soft
      // hyphen (not printable) as \xNN, the rest as they are.
      auto cp = static_cast<unsigned char>(((c & 0x1F) << 6) |
                                           (static_cast<unsigned char>(text[i + 1]) & 0x3F));
      if (cp <= 0xA0 || cp == 0xAD) {
        append_escaped_byte(out, cp);
        i += n;
        continue;
      }
    }
    if (n > 1) {
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    append_escaped(out, c, quote);
    ++i;
  }
  out += quote;
  return out;
}

std::size_t first_invalid_utf8(std::string_view text) noexcept {
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = utf8_sequence(text, i);
    if (n == 0) return i;
    i += n;
  }
  return text.size();
}

}  // namespace cascade
