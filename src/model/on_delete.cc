#include "cascade/model/on_delete.h"

#include <array>

namespace cascade {
namespace {

// clang-format off
//                 rule                   name              coll.  db     refuses updates deletes sql
constexpr std::array<OnDeleteTraits, 10> kRules{{
    {OnDelete::Cascade,      "CASCADE",        true,  false, false, false, true,  "NO ACTION"},
    {OnDelete::Protect,      "PROTECT",        true,  false, true,  false, false, "NO ACTION"},
    {OnDelete::Restrict,     "RESTRICT",       true,  false, true,  false, false, "NO ACTION"},
    {OnDelete::SetNull,      "SET_NULL",       true,  false, false, true,  false, "NO ACTION"},
    {OnDelete::SetDefault,   "SET_DEFAULT",    true,  false, false, true,  false, "NO ACTION"},
    {OnDelete::Set,          "SET",            true,  false, false, true,  false, "NO ACTION"},
    {OnDelete::DoNothing,    "DO_NOTHING",     false, false, false, false, false, "NO ACTION"},
    {OnDelete::DbCascade,    "DB_CASCADE",     false, true,  false, false, true,  "CASCADE"},
    {OnDelete::DbSetNull,    "DB_SET_NULL",    false, true,  false, true,  false, "SET NULL"},
    {OnDelete::DbSetDefault, "DB_SET_DEFAULT", false, true,  false, true,  false, "SET DEFAULT"},
}};
// clang-format on

}  // namespace

std::span<const OnDeleteTraits> on_delete_rules() noexcept { return kRules; }

const OnDeleteTraits& traits(OnDelete rule) noexcept {
  for (const auto& t : kRules) {
    if (t.rule == rule) return t;
  }
  return kRules[0];  // unreachable: every enumerator has its row
}

std::string_view on_delete_name(OnDelete rule) noexcept { return traits(rule).name; }

std::optional<OnDelete> parse_on_delete(std::string_view name) noexcept {
  for (const auto& t : kRules) {
    if (t.name == name) return t.rule;
  }
  return std::nullopt;
}

std::optional<std::string> on_delete_problem(const Field& f) {
  if (!f.is_foreign_key()) return std::nullopt;
  std::string rule(on_delete_name(f.on_delete));
  // The DB_* rules are carried out by the database's constraint.
  if (!f.db_constraint &&
      (f.on_delete == OnDelete::DbCascade || f.on_delete == OnDelete::DbSetNull ||
       f.on_delete == OnDelete::DbSetDefault)) {
    return "on_delete=" + rule + " is carried out by the database's foreign key constraint, " +
           "which db_constraint = false leaves out.";
  }
  switch (f.on_delete) {
    case OnDelete::SetNull:
    case OnDelete::DbSetNull:
      if (!f.null) return "Field specifies on_delete=" + rule + ", but cannot be null.";
      break;
    case OnDelete::SetDefault:
      if (!f.default_value && !f.default_factory) {
        return "Field specifies on_delete=" + rule + ", but has no default value.";
      }
      break;
    case OnDelete::DbSetDefault:
      if (!f.default_value)
        return "Field specifies on_delete=" + rule + ", but has no default value.";
      break;
    case OnDelete::Set:
      if (!f.on_delete_value && !f.on_delete_factory) {
        return "on_delete=SET needs a value: set = <value> in a models file; a value or a "
               "callable in C++.";
      }
      break;
    default: break;
  }
  return std::nullopt;
}

}  // namespace cascade
