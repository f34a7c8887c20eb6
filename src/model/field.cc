#include "cascade/model/field.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "cascade/error.h"
#include "cascade/model/model_meta.h"

namespace cascade {
namespace {

struct FieldTypeName {
  FieldType type;
  std::string_view name;
};
constexpr std::array<FieldTypeName, 14> kFieldTypeNames{{
    {FieldType::Auto, "auto"},
    {FieldType::Char, "char"},
    {FieldType::Text, "text"},
    {FieldType::Integer, "integer"},
    {FieldType::BigInteger, "big_integer"},
    {FieldType::Float, "float"},
    {FieldType::Boolean, "boolean"},
    {FieldType::Date, "date"},
    {FieldType::DateTime, "datetime"},
    {FieldType::ForeignKey, "foreign_key"},
    {FieldType::OneToOne, "one_to_one"},
    {FieldType::ManyToMany, "many_to_many"},
    {FieldType::GenericForeignKey, "generic_foreign_key"},
    {FieldType::GenericRelation, "generic_relation"},
}};

[[noreturn]] void not_a_number(const Field& f, const Value& v) {
  throw ValueError("Field '" + f.name + "' expected a number but got " + v.repr() + ".");
}

Value to_integer(const Field& f, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Integer: return v;
    case Value::Kind::Bool: return Value(v.as_integer());
    case Value::Kind::Real: {
      double d = v.as_real();
      // Python's int() truncates a float; refuse values that cannot be an integer at all.
      if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) not_a_number(f, v);
      return Value(static_cast<std::int64_t>(d));
    }
    case Value::Kind::Text: {
      const std::string& s = v.as_text();
      std::string_view t = s;
      while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
      while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
      if (!t.empty() && t.front() == '+') t.remove_prefix(1);
      std::int64_t n = 0;
      auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
      if (t.empty() || ec != std::errc() || ptr != t.data() + t.size()) not_a_number(f, v);
      return Value(n);
    }
    default: not_a_number(f, v);
  }
}

// "dddd-dd-dd": the right shape, whether or not the date exists.
bool looks_like_date(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

}  // namespace

std::string_view field_type_name(FieldType type) noexcept {
  for (const auto& e : kFieldTypeNames) {
    if (e.type == type) return e.name;
  }
  return "?";
}

std::optional<FieldType> parse_field_type(std::string_view name) noexcept {
  for (const auto& e : kFieldTypeNames) {
    if (e.name == name) return e.type;
  }
  return std::nullopt;
}

Value Field::get_default() const {
  if (default_factory) return to_python(default_factory());
  if (default_value) return *default_value;
  if (!null && (type == FieldType::Char || type == FieldType::Text)) return Value(std::string());
  return Value();
}

Value Field::to_python(const Value& v) const {
  if (v.is_null()) return v;
  switch (type) {
    case FieldType::Auto:
    case FieldType::Integer:
    case FieldType::BigInteger:
    case FieldType::ForeignKey:
    case FieldType::OneToOne:
      // A relation to a model with a char primary key (or a to_field of another kind) holds
      // what that field holds.
      if (is_foreign_key() && target_field != nullptr && !target_field->is_foreign_key() &&
          target_field->type != FieldType::Auto && target_field->type != FieldType::Integer &&
          target_field->type != FieldType::BigInteger) {
        return target_field->to_python(v);
      }
      return to_integer(*this, v);
    case FieldType::Float:
      if (v.kind() == Value::Kind::Real) return v;
      if (v.kind() == Value::Kind::Integer || v.kind() == Value::Kind::Bool) {
        return Value(v.as_real());
      }
      if (v.kind() == Value::Kind::Text) {
        const std::string& s = v.as_text();
        char* end = nullptr;
        double d = std::strtod(s.c_str(), &end);
        if (!s.empty() && end == s.c_str() + s.size()) return Value(d);
      }
      not_a_number(*this, v);
    case FieldType::Boolean:
      if (v.kind() == Value::Kind::Bool) return v;
      if (v.kind() == Value::Kind::Integer && (v.as_integer() == 0 || v.as_integer() == 1)) {
        return Value(v.as_integer() == 1);
      }
      if (v.kind() == Value::Kind::Text) {
        const std::string& s = v.as_text();
        // Django's BooleanField.to_python accepts exactly these spellings.
        if (s == "True" || s == "t" || s == "1") return Value(true);
        if (s == "False" || s == "f" || s == "0") return Value(false);
      }
      throw ValueError("“" + v.to_string() + "” value must be either True or False.");
    case FieldType::Char:
    case FieldType::Text:
      if (v.kind() == Value::Kind::Text) return v;
      return Value(v.to_string());
    case FieldType::Date:
      if (v.kind() == Value::Kind::Date) return v;
      if (v.kind() == Value::Kind::DateTime) return Value(v.as_datetime().date());
      if (v.kind() == Value::Kind::Text) {
        if (auto d = Date::parse(v.as_text())) return Value(*d);
      }
      if (v.kind() == Value::Kind::Text && looks_like_date(v.as_text())) {
        throw ValueError("“" + v.to_string() +
                         "” value has the correct format (YYYY-MM-DD) but it is an invalid date.");
      }
      throw ValueError("“" + v.to_string() +
                       "” value has an invalid date format. It must be in YYYY-MM-DD format.");
    case FieldType::DateTime:
      if (v.kind() == Value::Kind::DateTime) return v;
      if (v.kind() == Value::Kind::Date) return Value(DateTime::from_parts(v.as_date()));
      if (v.kind() == Value::Kind::Text) {
        if (auto dt = DateTime::parse(v.as_text())) return Value(*dt);
      }
      throw ValueError("“" + v.to_string() +
                       "” value has an invalid format. It must be in "
                       "YYYY-MM-DD HH:MM[:ss[.uuuuuu]][TZ] format.");
    case FieldType::ManyToMany:
    case FieldType::GenericForeignKey:
    case FieldType::GenericRelation: break;
  }
  throw TypeError(std::string(field_type_name(type)) + " field '" + name +
                  "' has no single value");
}

std::string Field::related_accessor_name() const {
  if (!related_name.empty()) {
    return related_name.back() == '+' ? std::string() : related_name;
  }
  if (model == nullptr) return {};
  if (model->auto_created) return {};
  return type == FieldType::OneToOne ? model->model_name() : model->model_name() + "_set";
}

std::string Field::related_query_name() const {
  if (!related_name.empty() && related_name.back() != '+') return related_name;
  return model == nullptr ? std::string() : model->model_name();
}

}  // namespace cascade
