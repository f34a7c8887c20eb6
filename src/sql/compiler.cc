#include "sql/compiler.h"

#include <algorithm>
#include <map>
#include <set>

#include "cascade/error.h"
#include "sql/path.h"

namespace cascade::sql {
namespace {

using query::Hop;
using query::ResolvedPath;

// Placeholders are written as this marker while fragments are built and combined (fragments
// may be dropped, e.g. an OR branch that is always true), then numbered at the end.
constexpr char kMarker = kParamMarker;

// A compiled condition: SQL with its parameters, or a constant.
struct Cond {
  enum Kind { Sql, True, False } kind = True;
  std::string sql;
  std::vector<Value> params;

  static Cond always(bool v) { return Cond{v ? True : False, {}, {}}; }
};

Cond combine(std::vector<Cond> parts, Q::Kind kind) {
  bool is_and = kind == Q::Kind::And;
  Cond out;
  std::vector<Cond*> live;
  for (auto& p : parts) {
    if (p.kind == Cond::Sql) {
      live.push_back(&p);
    } else if ((p.kind == Cond::False) == is_and) {
      return Cond::always(!is_and);  // AND with false, OR with true
    }
  }
  if (live.empty()) return Cond::always(is_and);
  if (live.size() == 1) return std::move(*live[0]);
  out.kind = Cond::Sql;
  out.sql = "(";
  for (std::size_t i = 0; i < live.size(); ++i) {
    if (i) out.sql += is_and ? " AND " : " OR ";
    out.sql += live[i]->sql;
    out.params.insert(out.params.end(), live[i]->params.begin(), live[i]->params.end());
  }
  out.sql += ")";
  return out;
}

Cond negate(Cond c) {
  if (c.kind == Cond::True) return Cond::always(false);
  if (c.kind == Cond::False) return Cond::always(true);
  c.sql = "NOT " + (c.sql.front() == '(' ? c.sql : "(" + c.sql + ")");
  return c;
}

// Escapes LIKE's wildcards and the escape character itself (Django's prep_for_like_query).
std::string like_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '\\' || ch == '%' || ch == '_') out += '\\';
    out += ch;
  }
  return out;
}

// Unique table aliases across one statement (subqueries included): a table's first use is
// named after the table, later ones T2, T3... as Django names them.
class Aliases {
 public:
  std::string make(const std::string& table) {
    ++count_;
    if (used_.insert(table).second) return table;
    std::string alias;
    int n = count_;
    do {
      alias = "T" + std::to_string(n++);
    } while (!used_.insert(alias).second);
    return alias;
  }

 private:
  std::set<std::string> used_;
  int count_ = 0;
};

class Builder;
Compiled finish_sql(const db::Connection& c, std::string sql, std::vector<Value> params);

class Builder {
 public:
  Builder(const db::Connection& c, Aliases& aliases, const ModelMeta& model)
      : c_(c), aliases_(aliases), model_(model), base_alias_(aliases.make(model.db_table)) {}

  const std::string& base_alias() const noexcept { return base_alias_; }
  bool has_joins() const noexcept { return !joins_.empty(); }

  std::string col(const std::string& alias, const std::string& column) const {
    return c_.quote_name(alias) + "." + c_.quote_name(column);
  }

  // The alias of the model reached after the first `count` hops, joining as needed. Joins to
  // single-valued relations are shared by the whole query; multi-valued ones per `scope`
  // (one filter() call), as Django does. A negative scope (ORDER BY and values() columns)
  // reuses the latest join made along the same relation, as Django's select and ordering do,
  // and makes one only when there is none.
  std::string walk(const std::vector<Hop>& hops, std::size_t count, int scope,
                   std::string from = {}) {
    std::string alias = from.empty() ? base_alias_ : from;
    bool in_multi = false;
    for (std::size_t i = 0; i < count; ++i) {
      const Hop& h = hops[i];
      in_multi = in_multi || h.multi();
      std::string relation =
          alias + "|" + h.fk->model->label() + "." + h.fk->name + "|" + (h.reverse ? "r" : "f");
      if (in_multi && scope < 0) {
        auto latest = latest_join_.find(relation);
        if (latest != latest_join_.end()) {
          alias = latest->second;
          continue;
        }
      }
      std::string key = relation + "|" +
                        (in_multi ? (scope < 0 ? std::string("select") : std::to_string(scope))
                                  : std::string("*"));
      auto it = join_keys_.find(key);
      if (it != join_keys_.end()) {
        alias = it->second;
        continue;
      }
      const ModelMeta& to = h.to();
      std::string next = aliases_.make(to.db_table);
      std::string on;
      if (h.reverse) {  // child.fk = parent.pk
        on = col(next, h.fk->column) + " = " + col(alias, h.fk->target_field->column);
      } else {  // target.key = source.fk
        on = col(alias, h.fk->column) + " = " + col(next, h.fk->target_field->column);
      }
      if (to.soft_deletable()) on += " AND " + col(next, kDeletedAtField) + " IS NULL";
      std::string table = c_.quote_name(to.db_table);
      joins_ += " LEFT OUTER JOIN " + table +
                (next == to.db_table ? "" : " " + c_.quote_name(next)) + " ON (" + on + ")";
      join_keys_.emplace(key, next);
      latest_join_[relation] = next;
      alias = next;
    }
    return alias;
  }

  std::string from_clause() const {
    std::string table = c_.quote_name(model_.db_table);
    return " FROM " + table +
           (base_alias_ == model_.db_table ? "" : " " + c_.quote_name(base_alias_)) + joins_;
  }

  Cond where(const std::vector<Q>& filters, Visibility visibility = Visibility::Live) {
    std::vector<Cond> parts;
    int scope = 0;
    for (const auto& q : filters) parts.push_back(condition(q, false, scope++));
    if (model_.soft_deletable() && visibility != Visibility::All) {
      parts.push_back(Cond{Cond::Sql,
                           col(base_alias_, kDeletedAtField) +
                               (visibility == Visibility::Live ? " IS NULL" : " IS NOT NULL"),
                           {}});
    }
    return combine(std::move(parts), Q::Kind::And);
  }

  Cond condition(const Q& q, bool negated, int scope) {
    bool neg = negated != q.negated();
    std::vector<Cond> parts;
    for (const auto& child : q.children()) {
      if (const auto* lookup = std::get_if<Lookup>(&child)) {
        parts.push_back(leaf(lookup->first, lookup->second, neg, scope));
      } else {
        parts.push_back(condition(std::get<Q>(child), neg, scope));
      }
    }
    Cond c = combine(std::move(parts), q.kind());
    return q.negated() ? negate(std::move(c)) : c;
  }

  // The column of a resolved path, joining what it crosses.
  std::string column(const ResolvedPath& path, int scope) {
    return col(walk(path.hops, path.hops.size(), scope), path.field->column);
  }

  Cond leaf(const std::string& path_text, const Arg& arg, bool negated, int scope);
  Cond compare(const ResolvedPath& path, const Arg& arg, bool negated, int scope);

  // ORDER BY terms for `ordering` (model default when nullopt).
  std::string order_by(const std::vector<std::string>& ordering) {
    std::string out;
    for (const auto& term : ordering) add_order(out, term, {}, 0);
    return out.empty() ? "" : " ORDER BY " + out;
  }

 private:
  const db::Connection& c_;
  Aliases& aliases_;
  const ModelMeta& model_;
  std::string base_alias_;
  std::string joins_;
  std::map<std::string, std::string> join_keys_;
  std::map<std::string, std::string> latest_join_;  // relation -> its latest join's alias

  void add_order(std::string& out, const std::string& term, const std::string& prefix, int depth) {
    if (term == "?") {
      out += (out.empty() ? "" : ", ") + c_.random_function();
      return;
    }
    bool desc = !term.empty() && term.front() == '-';
    std::string name = desc ? term.substr(1) : term;
    std::string full = prefix.empty() ? name : prefix + "__" + name;
    ResolvedPath path = query::resolve_path(model_, full, false);
    // Ordering by a relation orders by the related model's default ordering (Django).
    if (path.ends_at_relation && !path.relation_target->ordering.empty() && depth < 8) {
      for (const auto& sub : path.relation_target->ordering) {
        bool sub_desc = !sub.empty() && sub.front() == '-';
        std::string sub_name = sub_desc ? sub.substr(1) : sub;
        add_order(out, (desc != sub_desc ? "-" : "") + sub_name, full, depth + 1);
      }
      return;
    }
    out += (out.empty() ? "" : ", ") + column(path, -1) + (desc ? " DESC" : " ASC");
  }
};

// What a lookup compares, with its values prepared: checked when filter() is called and
// rendered into SQL when the query is compiled.
struct LeafPlan {
  enum Op { IsNull, NotNull, Compare, Pattern, In, InSubquery, Range, Never } op = Compare;
  std::string sql_op;  // "=", ">", ... for Compare; the lookup for Pattern
  std::vector<Value> values;
  const detail::QueryState* subquery = nullptr;
};

[[noreturn]] void none_not_allowed() { throw ValueError("Cannot use None as a query value"); }

LeafPlan plan_leaf(const ResolvedPath& path, const Arg& arg) {
  const Field& f = *path.field;
  const std::string& lookup = path.lookup;
  LeafPlan plan;
  auto single = [&]() -> const Value& {
    if (!arg.is_value()) {
      throw TypeError("the '" + lookup + "' lookup takes a single value, not " + arg.repr());
    }
    return arg.value();
  };
  if (lookup == "isnull") {
    const Value& v = single();
    if (v.kind() != Value::Kind::Bool) {
      throw ValueError("The QuerySet value for an isnull lookup must be True or False.");
    }
    plan.op = v.as_bool() ? LeafPlan::IsNull : LeafPlan::NotNull;
    return plan;
  }
  if (lookup == "in") {
    if (arg.is_subquery()) {
      plan.op = LeafPlan::InSubquery;
      plan.subquery = &arg.subquery();
      return plan;
    }
    if (!arg.is_list())
      throw TypeError("the 'in' lookup needs a list of values, got " + arg.repr());
    std::set<Value> seen;
    for (const auto& v : arg.values()) {
      if (v.is_null()) continue;  // Django drops None from IN lists
      Value p = f.to_python(v);
      if (seen.insert(p).second) plan.values.push_back(p);
    }
    plan.op = plan.values.empty() ? LeafPlan::Never : LeafPlan::In;
    return plan;
  }
  if (lookup == "range") {
    if (!arg.is_list() || arg.values().size() != 2) {
      throw TypeError("the 'range' lookup needs two values (start, end), got " + arg.repr());
    }
    for (const auto& v : arg.values()) {
      if (v.is_null()) none_not_allowed();
      plan.values.push_back(f.to_python(v));
    }
    plan.op = LeafPlan::Range;
    return plan;
  }
  if (lookup == "regex") {
    throw NotSupportedError("the 'regex' lookup is not supported yet");
  }
  const Value& v = single();
  if (v.is_null()) {
    if (lookup == "exact" || lookup == "iexact") {
      plan.op = LeafPlan::IsNull;
      return plan;
    }
    none_not_allowed();
  }
  static const std::map<std::string, std::string> kCompare = {
      {"exact", "="}, {"gt", ">"}, {"gte", ">="}, {"lt", "<"}, {"lte", "<="}};
  if (auto it = kCompare.find(lookup); it != kCompare.end()) {
    plan.op = LeafPlan::Compare;
    plan.sql_op = it->second;
    plan.values.push_back(f.to_python(v));
    return plan;
  }
  // Pattern lookups compare text: Python's str() of the value, LIKE-escaped.
  std::string text = like_escape(v.kind() == Value::Kind::Text ? v.as_text() : v.to_string());
  if (lookup == "contains" || lookup == "icontains") text = "%" + text + "%";
  if (lookup == "startswith" || lookup == "istartswith") text += "%";
  if (lookup == "endswith" || lookup == "iendswith") text = "%" + text;
  plan.op = LeafPlan::Pattern;
  plan.sql_op = lookup;
  plan.values.push_back(Value(text));
  return plan;
}

void validate_q(const ModelMeta& model, const Q& q) {
  for (const auto& child : q.children()) {
    if (const auto* lookup = std::get_if<Lookup>(&child)) {
      plan_leaf(query::resolve_path(model, lookup->first, true), lookup->second);
    } else {
      validate_q(model, std::get<Q>(child));
    }
  }
}

std::string pk_select(Builder& b, const detail::QueryState& q, const db::Connection& c,
                      Cond& where);

Cond Builder::compare(const ResolvedPath& path, const Arg& arg, bool negated, int scope) {
  LeafPlan plan = plan_leaf(path, arg);
  if (plan.op == LeafPlan::Never) return Cond::always(false);
  std::string lhs = column(path, scope);
  Cond out;
  out.kind = Cond::Sql;
  std::string mark(1, kMarker);
  switch (plan.op) {
    case LeafPlan::IsNull: out.sql = lhs + " IS NULL"; break;
    case LeafPlan::NotNull: out.sql = lhs + " IS NOT NULL"; break;
    case LeafPlan::Compare: out.sql = lhs + " " + plan.sql_op + " " + mark; break;
    case LeafPlan::Pattern: out.sql = c_.pattern_sql(plan.sql_op, lhs, mark); break;
    case LeafPlan::Range: out.sql = lhs + " BETWEEN " + mark + " AND " + mark; break;
    case LeafPlan::In: {
      out.sql = lhs + " IN (";
      for (std::size_t i = 0; i < plan.values.size(); ++i) out.sql += (i ? ", " : "") + mark;
      out.sql += ")";
      break;
    }
    case LeafPlan::InSubquery: {
      const detail::QueryState& sq = *plan.subquery;
      Builder sub(c_, aliases_, *sq.model);
      Cond where = sub.where(sq.filters, sq.visibility);
      if (where.kind == Cond::False) return Cond::always(false);
      out.sql = lhs + " IN (" + pk_select(sub, sq, c_, where) + ")";
      out.params = std::move(where.params);
      break;
    }
    case LeafPlan::Never: break;
  }
  if (plan.op != LeafPlan::InSubquery) out.params = plan.values;
  // Under NOT, a NULL column must make the condition false rather than unknown, so that
  // exclude() keeps rows whose column is NULL (Django adds the same IS NOT NULL).
  bool nullable = path.field->null || path.crosses_join();
  if (negated && nullable && plan.op != LeafPlan::IsNull && plan.op != LeafPlan::NotNull) {
    out.sql = "(" + out.sql + " AND " + lhs + " IS NOT NULL)";
  }
  return out;
}

Cond Builder::leaf(const std::string& path_text, const Arg& arg, bool negated, int scope) {
  ResolvedPath path = query::resolve_path(model_, path_text, true);
  // Excluding across a multi-valued relation: NOT EXISTS (a related row that matches), as
  // Django's split_exclude does, instead of a join that would keep the other related rows.
  if (negated && path.multi()) {
    std::size_t k = 0;
    while (!path.hops[k].multi()) ++k;
    std::string outer = walk(path.hops, k, scope);
    const Hop& first = path.hops[k];
    Builder sub(c_, aliases_, first.to());
    std::string correlation = sub.col(sub.base_alias(), first.fk->column) + " = " +
                              col(outer, first.fk->target_field->column);
    if (first.to().soft_deletable()) {
      correlation += " AND " + sub.col(sub.base_alias(), kDeletedAtField) + " IS NULL";
    }
    ResolvedPath rest;
    rest.hops.assign(path.hops.begin() + static_cast<std::ptrdiff_t>(k + 1), path.hops.end());
    rest.field = path.field;
    rest.lookup = path.lookup;
    Cond inner = sub.compare(rest, arg, false, 0);
    if (inner.kind == Cond::False) return Cond::always(false);
    Cond out;
    out.kind = Cond::Sql;
    out.sql = "EXISTS(SELECT 1" + sub.from_clause() + " WHERE " + correlation +
              (inner.kind == Cond::Sql ? " AND " + inner.sql : std::string()) + ")";
    out.params = std::move(inner.params);
    return out;
  }
  return compare(path, arg, negated, scope);
}

// "SELECT [DISTINCT] pk FROM ... WHERE ... [ORDER BY / LIMIT when sliced]" (or the single
// values() column): the body of an IN subquery or an UPDATE ... WHERE pk IN (...).
std::string pk_select(Builder& b, const detail::QueryState& q, const db::Connection& c,
                      Cond& where) {
  std::string target;
  if (q.kind != ResultKind::Instances && q.value_fields.size() == 1) {
    target = b.column(query::resolve_path(*q.model, q.value_fields[0], false), 0);
  } else if (q.kind != ResultKind::Instances && q.value_fields.size() > 1) {
    throw TypeError("a subquery must select one field, not " +
                    std::to_string(q.value_fields.size()));
  } else {
    target = b.col(b.base_alias(), q.model->pk().column);
  }
  std::string order;
  if (q.sliced()) order = b.order_by(q.ordering ? *q.ordering : q.model->ordering);
  std::string sql = std::string("SELECT ") + (q.distinct ? "DISTINCT " : "") + target +
                    b.from_clause() + (where.kind == Cond::Sql ? " WHERE " + where.sql : "") +
                    order + c.limit_offset_sql(q.limit, q.offset);
  return sql;
}

Compiled finish_sql(const db::Connection& c, std::string sql, std::vector<Value> params) {
  Compiled out;
  int n = 0;
  for (char ch : sql) {
    if (ch == kMarker) {
      out.sql += c.placeholder(++n);
    } else {
      out.sql += ch;
    }
  }
  if (static_cast<std::size_t>(n) != params.size()) {
    throw Error("internal error: " + std::to_string(n) + " placeholders for " +
                std::to_string(params.size()) + " parameters");
  }
  out.params = std::move(params);
  return out;
}

}  // namespace

Compiled compile_select(const db::Connection& c, const detail::QueryState& q, SelectMode mode) {
  Aliases aliases;
  Builder b(c, aliases, *q.model);
  Cond where = b.where(q.filters, q.visibility);
  if (where.kind == Cond::False) {
    Compiled empty;
    empty.empty = true;
    return empty;
  }
  if (mode == SelectMode::Pk) {
    std::string sql = pk_select(b, q, c, where);
    return finish_sql(c, std::move(sql), std::move(where.params));
  }
  // Columns: every concrete field, or the values() paths.
  std::string columns;
  if (q.kind == ResultKind::Instances || q.value_fields.empty()) {
    const ModelMeta& m = *q.model;
    for (std::size_t i = 0; i < m.fields.size(); ++i) {
      const Field& f = m.fields[i];
      // A field inherited from a multi-table parent is read through the parent links.
      std::string alias = b.base_alias();
      if (i >= m.local_count) {
        const std::vector<Hop> hops = query::parent_hops(m, *f.model);
        alias = b.walk(hops, hops.size(), -2);
      }
      columns += (columns.empty() ? "" : ", ") + b.col(alias, f.column);
    }
  } else {
    for (const auto& name : q.value_fields) {
      columns +=
          (columns.empty() ? "" : ", ") + b.column(query::resolve_path(*q.model, name, false), -2);
    }
  }
  std::string order;
  if (mode == SelectMode::Rows || q.sliced()) {
    order = b.order_by(q.ordering ? *q.ordering : q.model->ordering);
  }
  std::string where_sql = where.kind == Cond::Sql ? " WHERE " + where.sql : "";
  std::string limit = c.limit_offset_sql(q.limit, q.offset);
  std::string select = std::string("SELECT ") + (q.distinct ? "DISTINCT " : "");
  std::string sql;
  switch (mode) {
    case SelectMode::Rows:
      sql = select + columns + b.from_clause() + where_sql + order + limit;
      break;
    case SelectMode::Count:
      if (q.distinct || q.sliced()) {
        sql = "SELECT COUNT(*) FROM (" + select + columns + b.from_clause() + where_sql + order +
              limit + ") subquery";
      } else {
        sql = "SELECT COUNT(*)" + b.from_clause() + where_sql;
      }
      break;
    case SelectMode::Exists:
      if (q.sliced()) {
        sql = "SELECT 1 FROM (" + select + columns + b.from_clause() + where_sql + order + limit +
              ") subquery LIMIT 1";
      } else {
        sql = "SELECT 1" + b.from_clause() + where_sql + " LIMIT 1";
      }
      break;
    case SelectMode::Pk: break;
  }
  return finish_sql(c, std::move(sql), std::move(where.params));
}

Compiled compile_update(const db::Connection& c, const detail::QueryState& q,
                        const std::vector<std::pair<std::string, Value>>& assignments) {
  if (q.sliced()) throw TypeError("Cannot update a query once a slice has been taken.");
  const ModelMeta& m = *q.model;
  std::string sets;
  std::vector<Value> params;
  for (const auto& [name, value] : assignments) {
    const Field* f = m.find_field(name);
    if (f == nullptr) m.get_field(name);  // throws FieldError naming the choices
    if (!f->is_concrete()) {
      throw FieldError("Cannot update model field <" + query::django_field_class(*f) + ": " +
                       f->name + "> (only non-relations and foreign keys permitted).");
    }
    if (f->primary_key) {
      // Allowed by Django, but it would orphan every reference: refuse clearly.
      throw FieldError("Cannot update the primary key '" + f->name + "' with update().");
    }
    if (value.is_null() && !f->null) {
      throw IntegrityError("NOT NULL constraint failed: " + m.db_table + "." + f->column);
    }
    sets += (sets.empty() ? "" : ", ") + c.quote_name(f->column) + " = " + std::string(1, kMarker);
    params.push_back(f->to_python(value));
  }
  if (sets.empty()) throw TypeError("update() needs at least one field to set");
  Aliases aliases;
  Builder b(c, aliases, m);
  Cond where = b.where(q.filters, q.visibility);
  if (where.kind == Cond::False) {
    Compiled empty;
    empty.empty = true;
    return empty;
  }
  std::string sql = "UPDATE " + c.quote_name(m.db_table) + " SET " + sets;
  if (b.has_joins() || b.base_alias() != m.db_table) {
    // Across joins: UPDATE ... WHERE pk IN (SELECT pk ...), as Django does.
    Aliases sub_aliases;
    sub_aliases.make(m.db_table);  // the UPDATE's own table keeps its name
    Builder sub(c, sub_aliases, m);
    Cond sub_where = sub.where(q.filters, q.visibility);
    sql +=
        " WHERE " + c.quote_name(m.pk().column) + " IN (" + pk_select(sub, q, c, sub_where) + ")";
    params.insert(params.end(), sub_where.params.begin(), sub_where.params.end());
  } else if (where.kind == Cond::Sql) {
    sql += " WHERE " + where.sql;
    params.insert(params.end(), where.params.begin(), where.params.end());
  }
  return finish_sql(c, std::move(sql), std::move(params));
}

Compiled finish(const db::Connection& c, const Fragment& fragment) {
  return finish_sql(c, fragment.sql, fragment.params);
}

Fragment pk_select_fragment(const db::Connection& c, const detail::QueryState& q) {
  return where_fragment(c, q, /*as_pk_select=*/true);
}

Fragment where_fragment(const db::Connection& c, const detail::QueryState& q, bool as_pk_select) {
  Aliases aliases;
  Builder b(c, aliases, *q.model);
  Cond where = b.where(q.filters, q.visibility);
  Fragment out;
  if (where.kind == Cond::False) {
    out.empty = true;
    return out;
  }
  bool subselect = as_pk_select || b.has_joins() || q.distinct || q.sliced();
  if (subselect) {
    // The rows' keys, selected with the joins the condition needs (one compilation).
    detail::QueryState pk_only = q;
    pk_only.kind = ResultKind::Instances;  // the primary key, not values()
    out.sql = pk_select(b, pk_only, c, where);
    if (!as_pk_select) {
      out.sql = c.quote_name(q.model->db_table) + "." + c.quote_name(q.model->pk().column) +
                " IN (" + out.sql + ")";
    }
    out.params = std::move(where.params);
  } else if (where.kind == Cond::Sql) {
    out.sql = std::move(where.sql);
    out.params = std::move(where.params);
  }
  return out;
}

Compiled compile_delete(const db::Connection& c, const detail::QueryState& q) {
  Fragment where = where_fragment(c, q);
  if (where.empty) {
    Compiled empty;
    empty.empty = true;
    return empty;
  }
  std::string sql = "DELETE FROM " + c.quote_name(q.model->db_table);
  if (!where.sql.empty()) sql += " WHERE " + where.sql;
  return finish_sql(c, std::move(sql), std::move(where.params));
}

void validate(const ModelMeta& model, const Q& q) { validate_q(model, q); }

void validate_ordering(const ModelMeta& model, const std::vector<std::string>& ordering) {
  for (const auto& term : ordering) {
    if (term == "?") continue;
    std::string name = !term.empty() && term.front() == '-' ? term.substr(1) : term;
    query::resolve_path(model, name, false);
  }
}

}  // namespace cascade::sql
