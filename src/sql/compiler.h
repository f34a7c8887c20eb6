// The SQL compiler: a QueryState becomes one SQL statement with bound parameters. Identifiers
// come only from the models and are quoted by the connection's dialect; every value a user
// gives becomes a parameter.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "cascade/db/connection.h"
#include "query/query_state.h"

namespace cascade::sql {

struct Compiled {
  std::string sql;
  std::vector<Value> params;
  // The query provably matches nothing (e.g. pk__in=[]): run nothing.
  bool empty = false;
};

enum class SelectMode {
  Rows,    // the instance columns, or the values() columns
  Count,   // SELECT COUNT(*)
  Exists,  // SELECT 1 ... LIMIT 1
  Pk,      // the primary key only (subqueries, updates across joins)
};

Compiled compile_select(const db::Connection& c, const detail::QueryState& q, SelectMode mode);

// UPDATE of the rows `q` matches; `assignments` are (field name, value) and are checked here.
Compiled compile_update(const db::Connection& c, const detail::QueryState& q,
                        const std::vector<std::pair<std::string, Value>>& assignments);

// Checks every lookup of `q` (paths, lookup names, values) without building SQL; throws
// FieldError / ValueError as Django does when filter() is called.
void validate(const ModelMeta& model, const Q& q);
void validate_ordering(const ModelMeta& model, const std::vector<std::string>& ordering);

}  // namespace cascade::sql
