// The typed mapping: a plain C++ struct becomes a model by one declaration that lists its
// members by member pointer. The member's type gives the column's kind and whether it may be
// null (std::optional<...> members are nullable); the options give the rest.
//
//   struct Post {
//     std::optional<std::int64_t> id;
//     std::string title;
//     std::int64_t author_id = 0;
//     std::optional<std::int64_t> editor_id;
//   };
//   cascade::define<Post>(registry, "blog", "Post", {.display = "{title}"},
//       cascade::primary_key(&Post::id),
//       cascade::char_field("title", &Post::title, {.max_length = 200}),
//       cascade::foreign_key("author", &Post::author_id, "blog.Author",
//       cascade::OnDelete::Cascade), cascade::foreign_key("editor", &Post::editor_id,
//       "blog.Author", cascade::OnDelete::SetNull), cascade::many_to_many("tags", "blog.Tag"));
//
// The target may also be named by its struct, and the options left out:
//   cascade::define<Comment>(registry, "blog", "Comment", cascade::primary_key(&Comment::id),
//       cascade::foreign_key<Post>("post", &Comment::post_id, cascade::OnDelete::Cascade));
//
// A member of the wrong type for its field is a compile error at that line ("constraints not
// satisfied ... TextMember"). The struct must be default-constructible and copyable, and must
// map its primary key. Nothing here registers itself: define() is an ordinary call.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <typeindex>
#include <vector>

#include "cascade/error.h"
#include "cascade/model/instance.h"
#include "cascade/model/registry.h"

namespace cascade {

namespace detail {

// How to read and write one mapped member, type-erased.
struct FieldAccess {
  std::string name;
  std::function<Value(const void*)> get;
  std::function<void(void*, const Value&)> set;
};

// What the Registry keeps for a mapped struct.
struct TypedBinding {
  std::string label;
  std::vector<FieldAccess> access;  // one per concrete field, matched by name

  // Copies every mapped member of `obj` into `inst` (values converted to the field's kind).
  void store(const void* obj, Instance& inst) const {
    for (const auto& a : access) inst.set(a.name, a.get(obj));
  }
  // Copies every field of `inst` into the members of `obj`.
  void load(const Instance& inst, void* obj) const {
    for (const auto& a : access) a.set(obj, inst.get(a.name));
  }
};

template <typename M>
struct MemberTraits {
  using type = M;
  static constexpr bool nullable = false;
};
template <typename M>
struct MemberTraits<std::optional<M>> {
  using type = M;
  static constexpr bool nullable = true;
};

template <typename M>
using member_value_t = typename MemberTraits<M>::type;

// Converts a stored Value into a member of type M (std::optional<X> or X).
template <typename M>
M from_value(const Value& v) {
  using X = member_value_t<M>;
  if constexpr (MemberTraits<M>::nullable) {
    if (v.is_null()) return std::nullopt;
    return from_value<X>(v);
  } else if constexpr (std::same_as<X, std::string>) {
    return v.is_null() ? std::string() : v.as_text();
  } else if constexpr (std::same_as<X, bool>) {
    return v.is_null() ? false : v.as_bool();
  } else if constexpr (std::same_as<X, double>) {
    return v.is_null() ? 0.0 : v.as_real();
  } else if constexpr (std::integral<X>) {
    return v.is_null() ? X{} : static_cast<X>(v.as_integer());
  } else if constexpr (std::same_as<X, Date>) {
    return v.is_null() ? Date{} : v.as_date();
  } else if constexpr (std::same_as<X, DateTime>) {
    return v.is_null() ? DateTime{} : v.as_datetime();
  } else {
    static_assert(sizeof(X) == 0, "unsupported member type");
  }
}

template <typename M>
Value to_value(const M& m) {
  if constexpr (MemberTraits<M>::nullable) {
    return m ? to_value(*m) : Value();
  } else if constexpr (std::integral<M> && !std::same_as<M, bool>) {
    return Value(static_cast<std::int64_t>(m));
  } else {
    return Value(m);
  }
}

}  // namespace detail

// ---- member concepts: what each kind of field accepts
// --------------------------------------------
template <typename M>
concept TextMember = std::same_as<detail::member_value_t<M>, std::string>;
template <typename M>
concept IntegerMember = std::same_as<detail::member_value_t<M>, std::int64_t> ||
                        std::same_as < detail::member_value_t<M>,
int > ;
template <typename M>
concept FloatMember = std::same_as < detail::member_value_t<M>,
double > ;
template <typename M>
concept BoolMember = std::same_as < detail::member_value_t<M>,
bool > ;
template <typename M>
concept DateMember = std::same_as<detail::member_value_t<M>, Date>;
template <typename M>
concept DateTimeMember = std::same_as<detail::member_value_t<M>, DateTime>;
// A key: an integer, or text for a model with a char primary key.
template <typename M>
concept KeyMember = IntegerMember<M> || TextMember<M>;
// The auto primary key: unset (nullopt) until the row is saved.
template <typename M>
concept AutoKeyMember = std::same_as<M, std::optional<std::int64_t>>;

// ---- options ---------------------------------------------------------------------------------
struct FieldOptions {
  int max_length = 0;  // char fields: required
  bool blank = false;
  bool unique = false;
  bool db_index = false;
  bool primary_key = false;  // a custom (non-auto) primary key
  std::optional<Value> default_value{};
  std::function<Value()> default_factory{};
};

struct RelationOptions {
  std::string related_name{};
  bool blank = false;
  bool unique = false;                   // foreign keys only
  std::optional<Value> default_value{};  // needed by SET_DEFAULT
  std::function<Value()> default_factory{};
  std::optional<Value> on_delete_value{};      // SET(value)
  std::function<Value()> on_delete_factory{};  // SET(callable)
  std::string db_table{};                      // many-to-many: the through table
  bool db_constraint = true;                   // foreign keys: a FOREIGN KEY in the database
  std::string to_field{};  // foreign keys: the target's unique field the key holds (empty: pk)
  // Many-to-many: an explicit through model, its two keys when ambiguous, and whether a
  // relation to "self" is symmetrical (unset: Django's default, true for "self").
  std::string through{};
  std::vector<std::string> through_fields{};
  std::optional<bool> symmetrical{};
};

struct ModelOptions {
  std::string display{};  // str() template: "{title}"
  std::string db_table{};
  std::string verbose_name{};
  std::string verbose_name_plural{};
  std::vector<std::string> ordering{};
  std::vector<std::vector<std::string>> unique_together{};
  DeletePolicy delete_policy = DeletePolicy::Hard;
};

// One declared field of struct T.
template <typename T>
struct FieldDecl {
  Field field;
  detail::FieldAccess access;
};

// A many-to-many field: it has no member (the rows live in the through table).
struct ManyToManyDecl {
  Field field;
};
// A GenericForeignKey or GenericRelation: no column, so no member (Django's private fields).
struct GenericDecl {
  Field field;
};

namespace detail {

template <typename T, typename M>
FieldDecl<T> make_decl(std::string name, M T::*member, FieldType type, const FieldOptions& o) {
  FieldDecl<T> d;
  d.field.name = name;
  d.field.type = type;
  d.field.null = MemberTraits<M>::nullable;
  d.field.blank = o.blank;
  d.field.unique = o.unique;
  d.field.db_index = o.db_index;
  d.field.primary_key = o.primary_key;
  d.field.max_length = o.max_length;
  d.field.default_value = o.default_value;
  d.field.default_factory = o.default_factory;
  d.access.name = std::move(name);
  d.access.get = [member](const void* obj) {
    return to_value(static_cast<const T*>(obj)->*member);
  };
  d.access.set = [member](void* obj, const Value& v) {
    static_cast<T*>(obj)->*member = from_value<M>(v);
  };
  return d;
}

}  // namespace detail

template <typename T, AutoKeyMember M>
FieldDecl<T> primary_key(M T::*member, std::string name = "id") {
  auto d = detail::make_decl(std::move(name), member, FieldType::Auto, {.primary_key = true});
  d.field.null = false;  // unset until saved, but never NULL in the table
  return d;
}
template <typename T, TextMember M>
FieldDecl<T> char_field(std::string name, M T::*member, FieldOptions o) {
  return detail::make_decl(std::move(name), member, FieldType::Char, o);
}
template <typename T, TextMember M>
FieldDecl<T> text_field(std::string name, M T::*member, FieldOptions o = {}) {
  return detail::make_decl(std::move(name), member, FieldType::Text, o);
}
template <typename T, IntegerMember M>
FieldDecl<T> integer_field(std::string name, M T::*member, FieldOptions o = {}) {
  return detail::make_decl(std::move(name), member, FieldType::Integer, o);
}
template <typename T, IntegerMember M>
FieldDecl<T> big_integer_field(std::string name, M T::*member, FieldOptions o = {}) {
  return detail::make_decl(std::move(name), member, FieldType::BigInteger, o);
}
template <typename T, FloatMember M>
FieldDecl<T> float_field(std::string name, M T::*member, FieldOptions o = {}) {
  return detail::make_decl(std::move(name), member, FieldType::Float, o);
}
template <typename T, BoolMember M>
FieldDecl<T> boolean_field(std::string name, M T::*member, FieldOptions o = {}) {
  return detail::make_decl(std::move(name), member, FieldType::Boolean, o);
}
template <typename T, DateMember M>
FieldDecl<T> date_field(std::string name, M T::*member, FieldOptions o = {}) {
  return detail::make_decl(std::move(name), member, FieldType::Date, o);
}
template <typename T, DateTimeMember M>
FieldDecl<T> datetime_field(std::string name, M T::*member, FieldOptions o = {}) {
  return detail::make_decl(std::move(name), member, FieldType::DateTime, o);
}

namespace detail {
template <typename T, typename M>
FieldDecl<T> make_relation(std::string name, M T::*member, FieldType type, std::string to,
                           OnDelete on_delete, RelationOptions o) {
  auto d = make_decl(std::move(name), member, type,
                     {.blank = o.blank,
                      .unique = o.unique || type == FieldType::OneToOne,
                      .default_value = o.default_value,
                      .default_factory = o.default_factory});
  d.field.to = std::move(to);
  d.field.on_delete = on_delete;
  d.field.related_name = std::move(o.related_name);
  d.field.on_delete_value = std::move(o.on_delete_value);
  d.field.on_delete_factory = std::move(o.on_delete_factory);
  d.field.db_constraint = o.db_constraint;
  d.field.to_field = std::move(o.to_field);
  return d;
}
}  // namespace detail

// A foreign key held in an integer member (the key of the referenced row, Django's
// `author_id`); the field is named without the "_id" (here "author").
template <typename T, KeyMember M>
FieldDecl<T> foreign_key(std::string name, M T::*member, std::string to, OnDelete on_delete,
                         RelationOptions o = {}) {
  return detail::make_relation(std::move(name), member, FieldType::ForeignKey, std::move(to),
                               on_delete, std::move(o));
}
template <typename T, KeyMember M>
FieldDecl<T> one_to_one(std::string name, M T::*member, std::string to, OnDelete on_delete,
                        RelationOptions o = {}) {
  return detail::make_relation(std::move(name), member, FieldType::OneToOne, std::move(to),
                               on_delete, std::move(o));
}
namespace detail {
template <typename Target, typename T, typename M>
FieldDecl<T> make_typed_relation(std::string name, M T::*member, FieldType type, OnDelete on_delete,
                                 RelationOptions o) {
  auto d = make_relation(std::move(name), member, type, "", on_delete, std::move(o));
  d.field.to_type = std::type_index(typeid(Target));
  return d;
}
}  // namespace detail
// The same, naming the target by its mapped struct: foreign_key<Author>("author",
// &Post::author_id, OnDelete::Cascade). The struct may be mapped before or after this one.
template <typename Target, typename T, KeyMember M>
FieldDecl<T> foreign_key(std::string name, M T::*member, OnDelete on_delete,
                         RelationOptions o = {}) {
  return detail::make_typed_relation<Target>(std::move(name), member, FieldType::ForeignKey,
                                             on_delete, std::move(o));
}
template <typename Target, typename T, KeyMember M>
FieldDecl<T> one_to_one(std::string name, M T::*member, OnDelete on_delete,
                        RelationOptions o = {}) {
  return detail::make_typed_relation<Target>(std::move(name), member, FieldType::OneToOne,
                                             on_delete, std::move(o));
}
inline ManyToManyDecl many_to_many(std::string name, std::string to, RelationOptions o = {}) {
  ManyToManyDecl d;
  d.field.name = std::move(name);
  d.field.type = FieldType::ManyToMany;
  d.field.to = std::move(to);
  d.field.related_name = std::move(o.related_name);
  d.field.db_table = std::move(o.db_table);
  d.field.blank = o.blank;
  d.field.through_model = std::move(o.through);
  d.field.through_fields = std::move(o.through_fields);
  d.field.symmetrical = o.symmetrical;
  return d;
}

// Django's GenericForeignKey(ct_field, fk_field): the struct maps the two fields themselves
// (a foreign key to "contenttypes.ContentType" and an integer or text object id).
inline GenericDecl generic_foreign_key(std::string name, std::string ct_field = "content_type",
                                       std::string fk_field = "object_id") {
  GenericDecl d;
  d.field.name = std::move(name);
  d.field.type = FieldType::GenericForeignKey;
  d.field.ct_field = std::move(ct_field);
  d.field.fk_field = std::move(fk_field);
  return d;
}
// Django's GenericRelation(to, content_type_field, object_id_field): `to` declares a
// generic_foreign_key over those two fields; its rows are deleted with this model's.
inline GenericDecl generic_relation(std::string name, std::string to,
                                    std::string content_type_field = "content_type",
                                    std::string object_id_field = "object_id") {
  GenericDecl d = generic_foreign_key(std::move(name), std::move(content_type_field),
                                      std::move(object_id_field));
  d.field.type = FieldType::GenericRelation;
  d.field.to = std::move(to);
  return d;
}

namespace detail {
template <typename T>
void add_decl(ModelMeta& meta, TypedBinding&, GenericDecl&& d) {
  meta.private_fields.push_back(std::move(d.field));
}
template <typename T>
void add_decl(ModelMeta& meta, TypedBinding& b, FieldDecl<T>&& d) {
  meta.fields.push_back(std::move(d.field));
  b.access.push_back(std::move(d.access));
}
template <typename T>
void add_decl(ModelMeta& meta, TypedBinding&, ManyToManyDecl&& d) {
  meta.many_to_many.push_back(std::move(d.field));
}
// A field declared on a base struct B of T (Django's abstract base class: write the base's
// declarations once, in a function, and give them to each define<> of a struct deriving from
// it). The member is reached through T's base subobject.
template <typename T, typename B>
requires(std::derived_from<T, B> &&
         !std::same_as<T, B>) void add_decl(ModelMeta& meta, TypedBinding& b, FieldDecl<B>&& d) {
  meta.fields.push_back(std::move(d.field));
  FieldAccess access;
  access.name = std::move(d.access.name);
  access.get = [get = std::move(d.access.get)](const void* obj) {
    return get(static_cast<const B*>(static_cast<const T*>(obj)));
  };
  access.set = [set = std::move(d.access.set)](void* obj, const Value& v) {
    set(static_cast<B*>(static_cast<T*>(obj)), v);
  };
  b.access.push_back(std::move(access));
}
template <typename T, typename D>
struct IsDeclFor
    : std::bool_constant<std::same_as<D, FieldDecl<T>> || std::same_as<D, ManyToManyDecl> ||
                         std::same_as<D, GenericDecl>> {};
template <typename T, typename B>
struct IsDeclFor<T, FieldDecl<B>> : std::bool_constant<std::derived_from<T, B>> {};
template <typename T, typename D>
constexpr bool is_decl_for = IsDeclFor<T, D>::value;
}  // namespace detail

// Declares struct T as model `app_label.object_name` in `registry`.
// REQUIRES: the registry is not finalized yet; the declarations map the primary key.
template <typename T, typename... Decls>
ModelMeta& define(Registry& registry, std::string app_label, std::string object_name,
                  ModelOptions options, Decls&&... decls) {
  static_assert(std::is_default_constructible_v<T> && std::is_copy_constructible_v<T>,
                "a mapped model struct must be default-constructible and copyable");
  static_assert((detail::is_decl_for<T, std::remove_cvref_t<Decls>> && ...),
                "every field must be declared on a member of the struct being defined "
                "(check the member pointers: &Post::title, not &Author::name)");
  if (registry.bound(std::type_index(typeid(T)))) {
    throw ConfigError(app_label + "." + object_name + ": this C++ struct is already mapped to " +
                      registry.binding(std::type_index(typeid(T))).label);
  }
  ModelMeta meta(std::move(app_label), std::move(object_name));
  meta.display = std::move(options.display);
  meta.db_table = std::move(options.db_table);
  meta.verbose_name = std::move(options.verbose_name);
  meta.verbose_name_plural = std::move(options.verbose_name_plural);
  meta.ordering = std::move(options.ordering);
  meta.unique_together = std::move(options.unique_together);
  meta.delete_policy = options.delete_policy;
  auto binding = std::make_unique<detail::TypedBinding>();
  binding->label = meta.label();
  (detail::add_decl<T>(meta, *binding, std::forward<Decls>(decls)), ...);
  bool has_pk = false;
  for (const auto& f : meta.fields) has_pk = has_pk || f.primary_key;
  if (!has_pk) {
    throw ConfigError(meta.label() +
                      ": a mapped struct must map its primary key, e.g. "
                      "cascade::primary_key(&" +
                      meta.object_name + "::id)");
  }
  std::string label = meta.label();
  ModelMeta& added = registry.add(std::move(meta), "C++ declaration of " + label);
  registry.bind(std::type_index(typeid(T)), label, std::move(binding));
  return added;
}
// The same without options (ModelOptions{}): define<Tag>(registry, "blog", "Tag", fields...).
template <typename T, typename First, typename... Decls>
requires detail::is_decl_for<T, std::remove_cvref_t<First>> ModelMeta& define(
    Registry& registry, std::string app_label, std::string object_name, First&& first,
    Decls&&... decls) {
  return define<T>(registry, std::move(app_label), std::move(object_name), ModelOptions{},
                   std::forward<First>(first), std::forward<Decls>(decls)...);
}

// The model a mapped struct is bound to. Throws cascade::Error when T is not mapped.
template <typename T>
const ModelMeta& meta_of(const Registry& registry) {
  return registry.get(registry.binding(std::type_index(typeid(T))).label);
}

// Converts between a mapped struct and a dynamic Instance.
template <typename T>
Instance to_instance(const Registry& registry, const T& obj) {
  const auto& b = registry.binding(std::type_index(typeid(T)));
  Instance inst(registry.get(b.label));
  b.store(&obj, inst);
  return inst;
}
template <typename T>
void assign(const Registry& registry, const Instance& inst, T& obj) {
  registry.binding(std::type_index(typeid(T))).load(inst, &obj);
}
template <typename T>
T from_instance(const Registry& registry, const Instance& inst) {
  T obj{};
  assign(registry, inst, obj);
  return obj;
}

}  // namespace cascade
