// Field: one field of a model, as Django's Field describes it: its type, column, options and,
// for relations, the target model and the on_delete rule.
//
// A Field is plain data while a Registry is being built; once the Registry is finalized it is
// immutable and `model` / `target` / `through` point into that Registry, which owns them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <typeindex>
#include <vector>

#include "cascade/value.h"

namespace cascade {

class ModelMeta;

enum class FieldType {
  Auto,  // auto-incrementing 64-bit primary key ("id")
  Char,  // text with max_length
  Text,
  Integer,     // 32-bit range, as Django's IntegerField
  BigInteger,  // 64-bit
  Float,
  Boolean,
  Date,
  DateTime,
  ForeignKey,
  OneToOne,
  ManyToMany,
  // Django's contenttypes fields, without a column of their own (ModelMeta::private_fields):
  GenericForeignKey,  // a content-type key plus an object-id field, read as one object
  GenericRelation,    // the reverse of a GenericForeignKey: its rows are deleted with the object
};

// The built-in model of content types (Django's django.contrib.contenttypes), table
// django_content_type; added to a registry whose models use generic relations.
inline constexpr const char* kContentTypeLabel = "contenttypes.ContentType";

// What happens to rows that reference a deleted row (Django's on_delete). The Db* variants are
// carried out by the database itself (Django 6.1's DB_CASCADE, DB_SET_NULL, DB_SET_DEFAULT).
enum class OnDelete {
  Cascade,
  Protect,
  Restrict,
  SetNull,
  SetDefault,
  Set,
  DoNothing,
  DbCascade,
  DbSetNull,
  DbSetDefault,
};

// Django's spelling: "CASCADE", "SET_NULL", "DB_CASCADE"...; Set is "SET".
std::string_view on_delete_name(OnDelete rule) noexcept;
// Parses Django's spelling (case-sensitive, as Python identifiers are); nullopt when unknown.
std::optional<OnDelete> parse_on_delete(std::string_view name) noexcept;

// "char", "text", "foreign_key"...: the names the models file uses.
std::string_view field_type_name(FieldType type) noexcept;
std::optional<FieldType> parse_field_type(std::string_view name) noexcept;

struct Field {
  std::string name;    // as declared: "author"
  std::string column;  // empty: derived by the Registry ("author_id" for a relation, else name)
  FieldType type = FieldType::Integer;

  bool primary_key = false;
  bool null = false;
  bool blank = false;
  bool unique = false;
  bool db_index = false;
  int max_length = 0;  // Char only; required there

  // The default for new instances. Without one, Django's rule applies: "" for char and text
  // fields that are not nullable, else null.
  std::optional<Value> default_value;
  std::function<Value()> default_factory;  // a callable default (C++ declarations only)

  // Relations (ForeignKey, OneToOne, ManyToMany).
  std::string to;  // target as declared: "blog.Author", or "Author" within the same app
  // C++ declarations naming the target by its struct (foreign_key<Author>(...)): resolved to
  // `to` when the registry is finalized, once that struct is mapped.
  std::optional<std::type_index> to_type;
  OnDelete on_delete = OnDelete::Cascade;
  std::optional<Value> on_delete_value;      // SET(value)
  std::function<Value()> on_delete_factory;  // SET(callable), C++ only
  std::string related_name;                  // empty: Django's default; "+" hides it
  // A foreign key or one-to-one: the target's field whose value the column holds (Django's
  // to_field); empty: the primary key. It must be unique.
  std::string to_field;
  // A foreign key: whether the database holds a FOREIGN KEY constraint for it (Django's
  // db_constraint). Without one, a DO_NOTHING reference may be left dangling, as in Django.
  bool db_constraint = true;
  std::string db_table;  // ManyToMany: the through table's name
  // ManyToMany: an explicit through model ("Membership", or "app.Membership"), an ordinary
  // model with a foreign key to each side; empty: an auto-created one. through_fields names its
  // two keys (to this model, to the target) when it has more than one to either side.
  std::string through_model;
  std::vector<std::string> through_fields;
  // ManyToMany to "self": each link is stored in both directions and removed with its mirror
  // (Django's symmetrical). Unset: true for to = "self", as Django's default.
  std::optional<bool> symmetrical;
  // A one-to-one primary key to the parent of a multi-table inheritance child ("place_ptr"),
  // added by the Registry for a model whose `bases` names a concrete model.
  bool parent_link = false;
  // A GenericForeignKey: the names of its model's content-type key and object-id field; a
  // GenericRelation: the names of those fields on the target model (Django's ct_field / fk_field
  // and content_type_field / object_id_field).
  std::string ct_field = "content_type";
  std::string fk_field = "object_id";

  // Set by Registry::finalize().
  const ModelMeta* model = nullptr;    // the model this field belongs to
  const ModelMeta* target = nullptr;   // relations: the model pointed at
  const ModelMeta* through = nullptr;  // ManyToMany: the through model (auto-created or given)
  // ManyToMany: the through model's key to this field's model, and its key to the target.
  const Field* through_source = nullptr;
  const Field* through_target = nullptr;
  // A foreign key or one-to-one: the target's field its column refers to (to_field, or the
  // target's primary key).
  const Field* target_field = nullptr;
  // A GenericForeignKey or GenericRelation: the content-type key and the object-id field (on
  // the field's own model, or on the GenericRelation's target).
  const Field* generic_ct = nullptr;
  const Field* generic_id = nullptr;

  bool is_relation() const noexcept {
    return type == FieldType::ForeignKey || type == FieldType::OneToOne ||
           type == FieldType::ManyToMany;
  }
  // A foreign key or one-to-one: a column holding a key of the target (its primary key, or
  // the unique field named by to_field).
  bool is_foreign_key() const noexcept {
    return type == FieldType::ForeignKey || type == FieldType::OneToOne;
  }
  // A GenericForeignKey or GenericRelation (in ModelMeta::private_fields).
  bool is_generic() const noexcept {
    return type == FieldType::GenericForeignKey || type == FieldType::GenericRelation;
  }
  // Has a column in the model's table (everything except ManyToMany and the generic fields).
  bool is_concrete() const noexcept { return type != FieldType::ManyToMany && !is_generic(); }
  // Django's attname, the name of the raw value: "author_id" for a relation, else the name,
  // whatever db_column says.
  std::string attname() const { return is_foreign_key() ? name + "_id" : name; }

  // The value a new instance gets.
  Value get_default() const;
  // Converts a value read from the database, or given by a user, to this field's kind:
  // integers for keys and integer fields, bool for Boolean, Date / DateTime from ISO text.
  // Throws cascade::ValueError (Django's message style) when it cannot be converted.
  Value to_python(const Value& value) const;

  // The name a reverse relation has on the target model: related_name, or Django's default
  // "<model>_set" for a foreign key / many-to-many and "<model>" for a one-to-one. Empty when
  // the relation is hidden (related_name ending in '+').
  std::string related_accessor_name() const;
  // The name used in lookups across the reverse relation (Django's related_query_name):
  // related_name, or the lowercase model name.
  std::string related_query_name() const;
  // ManyToMany: whether links are stored in both directions (resolved by Registry::finalize).
  bool is_symmetrical() const noexcept { return symmetrical.value_or(false); }
};

}  // namespace cascade
