// The query representation (Django's sql/query.py): the data behind a QuerySet, immutable once
// built, shared between QuerySets that did not change it. Read by the SQL compiler.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cascade/model/model_meta.h"
#include "cascade/sql/q.h"
#include "cascade/sql/query_kinds.h"

namespace cascade {
class Context;
}  // namespace cascade

namespace cascade::detail {

struct QueryState {
  Context* db = nullptr;
  const ModelMeta* model = nullptr;
  std::vector<Q> filters;  // ANDed; one entry per filter() / exclude() call
  // Explicit ordering; nullopt means the model's default ordering.
  std::optional<std::vector<std::string>> ordering;
  std::optional<std::int64_t> limit;
  std::int64_t offset = 0;
  bool distinct = false;
  ResultKind kind = ResultKind::Instances;
  std::vector<std::string> value_fields;  // values() / values_list(): paths; names for output
  // Soft-deletable models: which rows the QuerySet sees (objects / all_objects /
  // deleted_objects). Related soft-deletable rows reached through joins are always live only.
  Visibility visibility = Visibility::Live;

  bool sliced() const noexcept { return limit.has_value() || offset > 0; }
};

}  // namespace cascade::detail
