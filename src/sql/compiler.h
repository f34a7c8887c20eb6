// The SQL compiler: a QueryState becomes one SQL statement with bound parameters. Identifiers
// come only from the models and are quoted by the connection's dialect; every value a user
// gives becomes a parameter.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "cascade/db/connection.h"
#include "sql/query.h"

namespace cascade::sql {

struct Compiled {
  std::string sql;
  std::vector<Value> params;
  // The query provably matches nothing (e.g. pk__in=[]): run nothing.
  bool empty = false;
};

// A piece of SQL whose parameters are written as kParamMarker, to be embedded in a larger
// statement; finish() numbers the placeholders in the connection's style.
inline constexpr char kParamMarker = '\x01';
struct Fragment {
  std::string sql;
  std::vector<Value> params;
  bool empty = false;  // matches nothing
};
// Appends `more` (its SQL and its parameters) to `to`.
inline void append(Fragment& to, const Fragment& more) {
  to.sql += more.sql;
  to.params.insert(to.params.end(), more.params.begin(), more.params.end());
}
Compiled finish(const db::Connection& c, const Fragment& fragment);

// "SELECT <pk> FROM ... WHERE ..." for the rows `q` matches.
Fragment pk_select_fragment(const db::Connection& c, const detail::QueryState& q);
// The condition selecting the rows `q` matches, on the model's table under its own name
// ("" when every row matches): the WHERE itself, or pk IN (SELECT ...) across joins.
// With as_pk_select, the same rows as "SELECT <pk> FROM ... WHERE ..." (pk_select_fragment).
Fragment where_fragment(const db::Connection& c, const detail::QueryState& q,
                        bool as_pk_select = false);
// "DELETE FROM <table> WHERE ..." for the rows `q` matches (pk IN (SELECT ...) across joins).
Compiled compile_delete(const db::Connection& c, const detail::QueryState& q);

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
