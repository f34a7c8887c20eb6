// Resolving a lookup path ("author__name__startswith") against the models: which relations it
// crosses (each a join), which field's column it compares, and with which lookup. Pure model
// work, no SQL: filter() uses it to validate at call time, the compiler to build joins.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cascade/model/model_meta.h"

namespace cascade::query {

// One relation crossed. forward: from fk->model to fk->target (single-valued);
// reverse: from fk->target to fk->model (multi-valued unless fk is one-to-one).
struct Hop {
  const Field* fk;
  bool reverse;
  bool multi() const noexcept { return reverse && fk->type != FieldType::OneToOne; }
  const ModelMeta& to() const noexcept { return reverse ? *fk->model : *fk->target; }
};

struct ResolvedPath {
  std::vector<Hop> hops;
  const Field* field = nullptr;  // the field whose column is compared, on the last hop's model
  std::string lookup = "exact";
  // The path named a relation itself ("author", "tags"): its target, for ordering by the
  // related model's default ordering.
  const ModelMeta* relation_target = nullptr;
  bool ends_at_relation = false;  // the last name was the relation itself
  bool multi() const noexcept;
  bool crosses_join() const noexcept { return !hops.empty(); }
};

// The lookups Cascade knows, by Django's names.
bool is_lookup_name(std::string_view name) noexcept;

// Resolves `path` from `model`. With allow_lookup false (order_by, values) a trailing lookup
// name is an error. Throws FieldError with Django's messages.
ResolvedPath resolve_path(const ModelMeta& model, std::string_view path, bool allow_lookup);

// The parent links from a multi-table inheritance child up to one of its ancestors (forward
// hops, one join each).
std::vector<Hop> parent_hops(const ModelMeta& child, const ModelMeta& ancestor);

// Every name a lookup may start with on `model`, sorted (Django's "Choices are: ...").
std::vector<std::string> lookup_choices(const ModelMeta& model);

// Django's class name of a field ("CharField", "ForeignKey"), for messages.
std::string django_field_class(const Field& field);

}  // namespace cascade::query
