// One home for the on_delete rules: what each rule is (its traits, read by the collector, the
// schema, the signals and the models file) and what a foreign key needs to carry it (one
// validator, for the Registry and for the models file).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "cascade/model/field.h"

namespace cascade {

struct OnDeleteTraits {
  OnDelete rule;
  std::string_view name;  // Django's spelling: "CASCADE", "DB_SET_NULL"
  // Followed by Cascade's collector (Django's collect()); DO_NOTHING and the DB_* rules are not:
  // the database carries them out or refuses.
  bool collected;
  bool by_database;             // DB_CASCADE, DB_SET_NULL, DB_SET_DEFAULT
  bool refuses;                 // PROTECT, RESTRICT
  bool updates;                 // sets the referencing key: SET_NULL, SET_DEFAULT, SET (+ DB_*)
  bool deletes;                 // deletes the referencing rows: CASCADE, DB_CASCADE
  std::string_view sql_action;  // the foreign key's ON DELETE in the schema
};

// Every rule, in Django's documentation order.
std::span<const OnDeleteTraits> on_delete_rules() noexcept;
const OnDeleteTraits& traits(OnDelete rule) noexcept;

// Why `field` (a foreign key or one-to-one) cannot carry its on_delete rule, in Django's words
// where Django has them (fields.E320 and E321); nullopt when it can. The models file and the
// Registry both report this message.
std::optional<std::string> on_delete_problem(const Field& field);

}  // namespace cascade
