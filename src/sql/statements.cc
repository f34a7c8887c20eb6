#include "sql/statements.h"

#include "cascade/error.h"

namespace cascade::sql {
namespace {

const std::string kMark(1, kParamMarker);

Fragment text(std::string sql) { return Fragment{std::move(sql), {}, false}; }

// `prefix` + `more` + `suffix`, with the parameters of `more`.
Fragment wrap(std::string prefix, const Fragment& more, std::string_view suffix) {
  Fragment out = text(std::move(prefix));
  append(out, more);
  out.sql += suffix;
  return out;
}

void append_where(Fragment& to, const Fragment& where) {
  if (where.sql.empty()) return;
  to.sql += " WHERE ";
  append(to, where);
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

}  // namespace

// ---- names ---------------------------------------------------------------------------------

std::string Statements::name(std::string_view id) const { return c_.quote_name(id); }

std::string Statements::column(std::string_view table, std::string_view column) const {
  return name(table) + "." + name(column);
}

std::string Statements::column(const ModelMeta& m, std::string_view column) const {
  return this->column(m.db_table, column);
}

std::string Statements::pk(const ModelMeta& m) const { return column(m, m.pk().column); }

std::string Statements::instance_columns(const ModelMeta& m, std::string_view alias) const {
  std::string_view table = alias.empty() ? std::string_view(m.db_table) : alias;
  std::string out;
  for (std::size_t i = 0; i < m.fields.size(); ++i) {
    const Field& f = m.fields[i];
    out += out.empty() ? "" : ", ";
    if (i < m.local_count) {
      out += column(table, f.column);
      continue;
    }
    // A field inherited from a multi-table parent: the ancestor's row has the same key.
    const ModelMeta& holder = *f.model;
    const std::string parent_alias = "cascade_parent";
    out += "(" +
           select({.columns = column(parent_alias, f.column),
                   .from = this->table(holder.db_table, parent_alias),
                   .where = equal_columns(column(parent_alias, holder.pk().column),
                                          column(table, m.pk().column))})
               .sql +
           ")";
  }
  return out;
}

std::string Statements::row_table_columns(const ModelMeta& m, std::string_view table) const {
  std::string out;
  for (const auto& f : m.fields) out += (out.empty() ? "" : ", ") + column(table, f.column);
  return out;
}

std::vector<std::string> Statements::column_names(const ModelMeta& m) const {
  std::vector<std::string> out;
  for (const auto& f : m.fields) out.push_back(f.column);
  return out;
}

std::string Statements::as(const std::string& expression, std::string_view alias) const {
  return expression + " AS " + name(alias);
}

std::string Statements::as_text(const std::string& expression) {
  return "CAST(" + expression + " AS TEXT)";
}

std::string Statements::list(const std::vector<std::string>& items) { return joined(items); }

std::string Statements::count_rows() { return "COUNT(*)"; }

std::string Statements::max(const std::string& expression) const {
  return "MAX(" + expression + ")";
}

std::string Statements::min(const std::string& expression) const {
  return "MIN(" + expression + ")";
}

std::string Statements::constant_one() { return "1"; }

// ---- conditions ----------------------------------------------------------------------------

Fragment Statements::every_row() { return text("1 = 1"); }

Fragment Statements::in(const std::string& lhs, const Fragment& select) {
  return wrap(lhs + " IN (", select, ")");
}

Fragment Statements::in(const std::string& lhs, std::span<const Value> values) {
  Fragment out = text(lhs + " IN (");
  for (std::size_t i = 0; i < values.size(); ++i) out.sql += (i ? ", " : "") + kMark;
  out.sql += ")";
  out.params.assign(values.begin(), values.end());
  return out;
}

Fragment Statements::compare(const std::string& lhs, Compare op, const Value& value) {
  const char* sign = op == Compare::Eq   ? " = "
                     : op == Compare::Lt ? " < "
                     : op == Compare::Le ? " <= "
                     : op == Compare::Gt ? " > "
                                         : " >= ";
  return Fragment{lhs + sign + kMark, {value}, false};
}

Fragment Statements::equal_columns(const std::string& lhs, const std::string& rhs) {
  return text(lhs + " = " + rhs);
}

Fragment Statements::is_null(const std::string& lhs) { return text(lhs + " IS NULL"); }

Fragment Statements::is_not_null(const std::string& lhs) { return text(lhs + " IS NOT NULL"); }

Fragment Statements::exists(const Fragment& select) { return wrap("EXISTS (", select, ")"); }

Fragment Statements::not_exists(const Fragment& select) {
  return wrap("NOT EXISTS (", select, ")");
}

Fragment Statements::all_of(std::vector<Fragment> terms) {
  std::erase_if(terms, [](const Fragment& t) { return t.sql.empty(); });
  if (terms.size() == 1) return std::move(terms.front());
  Fragment out;
  for (const auto& t : terms) {
    out.sql += out.sql.empty() ? "(" : " AND (";
    append(out, t);
    out.sql += ")";
    out.empty = out.empty || t.empty;
  }
  return out;
}

Fragment Statements::any_of(const std::vector<Fragment>& terms) {
  if (terms.size() == 1) return terms.front();
  Fragment out = text("(");
  bool first = true;
  for (const auto& t : terms) {
    if (!first) out.sql += " OR ";
    first = false;
    append(out, t);
  }
  out.sql += ")";
  return out;
}

Fragment Statements::and_not(Fragment where, const Fragment& excluded) {
  Fragment out = wrap("(", where.sql.empty() ? every_row() : where, ") AND (");
  append(out, excluded);
  out.sql += ") IS NOT TRUE";
  return out;
}

// ---- what a SELECT reads ---------------------------------------------------------------------

Fragment Statements::table(std::string_view table_name, std::string_view alias) const {
  return text(name(table_name) + (alias.empty() ? "" : " " + name(alias)));
}

Fragment Statements::derived(const Fragment& select, std::string_view alias) const {
  return wrap("(", select, ") " + name(alias));
}

Fragment Statements::join(std::string_view table, std::string_view other,
                          const Fragment& on) const {
  return wrap(name(table) + " INNER JOIN " + name(other) + " ON ", on, "");
}

// ---- statements ------------------------------------------------------------------------------

Fragment Statements::select(const Select& s) const {
  Fragment out = wrap("SELECT " + s.columns + " FROM ", s.from, "");
  append_where(out, s.where);
  if (!s.group_by.empty()) out.sql += " GROUP BY " + s.group_by;
  if (!s.order_by.empty()) out.sql += " ORDER BY " + s.order_by + (s.descending ? " DESC" : "");
  out.sql += c_.limit_offset_sql(s.limit, s.offset);
  if (s.for_update) {
    if (!c_.features().supports_select_for_update) {
      throw NotSupportedError("this database cannot lock rows (SELECT ... FOR UPDATE)");
    }
    out.sql += " FOR UPDATE";
  }
  return out;
}

Fragment Statements::count(std::string_view table_name, const Fragment& where) const {
  return select({.columns = count_rows(), .from = table(table_name), .where = where});
}

Fragment Statements::count(const Fragment& select) const {
  return this->select({.columns = count_rows(), .from = derived(select, "cascade_counted")});
}

Fragment Statements::delete_from(std::string_view table, const Fragment& where) const {
  Fragment out = text("DELETE FROM " + name(table));
  append_where(out, where);
  return out;
}

Fragment Statements::update(std::string_view table,
                            const std::vector<std::pair<std::string, Value>>& set,
                            const Fragment& where) const {
  if (set.empty()) throw Error("internal error: an UPDATE with nothing to set");
  Fragment out = text("UPDATE " + name(table) + " SET ");
  for (std::size_t i = 0; i < set.size(); ++i) {
    out.sql += (i ? ", " : "") + name(set[i].first) + " = " + kMark;
    out.params.push_back(set[i].second);
  }
  append_where(out, where);
  return out;
}

Fragment Statements::insert_select(std::string_view table, const std::vector<std::string>& columns,
                                   const Fragment& select) const {
  std::vector<std::string> names;
  for (const auto& c : columns) names.push_back(name(c));
  return wrap("INSERT INTO " + name(table) + " (" + joined(names) + ") ", select, "");
}

Fragment Statements::insert_keys_as_text(std::string_view table,
                                         const std::vector<std::string>& columns,
                                         const std::vector<Value>& constants, const ModelMeta& m,
                                         const Fragment& where) const {
  std::vector<std::string> names, values;
  for (const auto& c : columns) names.push_back(name(c));
  for (std::size_t i = 0; i < constants.size(); ++i) {
    values.push_back(std::string("CAST(") + kParamMarker + " AS TEXT)");
  }
  values.push_back("CAST(" + pk(m) + " AS TEXT)");
  Fragment out = text("INSERT INTO " + name(table) + " (" + joined(names) + ") SELECT " +
                      joined(values) + " FROM " + name(m.db_table));
  out.params = constants;
  append_where(out, where);
  return out;
}

Fragment Statements::insert_values(std::string_view table, const std::vector<std::string>& columns,
                                   const std::vector<std::vector<Value>>& rows,
                                   std::string_view returning) const {
  Fragment out = text("INSERT INTO " + name(table));
  if (columns.empty()) {
    out.sql += " DEFAULT VALUES";
  } else {
    std::vector<std::string> names;
    for (const auto& c : columns) names.push_back(name(c));
    out.sql += " (" + joined(names) + ") VALUES ";
    for (std::size_t r = 0; r < rows.size(); ++r) {
      if (rows[r].size() != columns.size()) {
        throw Error("internal error: an INSERT row of " + std::to_string(rows[r].size()) +
                    " values for " + std::to_string(columns.size()) + " columns");
      }
      out.sql += r ? ", (" : "(";
      for (std::size_t i = 0; i < rows[r].size(); ++i) out.sql += (i ? ", " : "") + kMark;
      out.sql += ")";
      out.params.insert(out.params.end(), rows[r].begin(), rows[r].end());
    }
  }
  if (!returning.empty()) {
    if (!c_.features().can_return_columns_from_insert) {
      throw NotSupportedError("this database cannot return the key of an inserted row");
    }
    out.sql += " RETURNING " + name(returning);
  }
  return out;
}

// ---- temporary tables --------------------------------------------------------------------------

std::string Statements::column_type(const Field& f) const {
  // A key table holds keys of any row, so an auto key is always the 64-bit integer type.
  return f.type == FieldType::Auto ? "bigint" : c_.column_type(f);
}

std::string Statements::create_key_table(std::string_view table_name, const ModelMeta& m) const {
  return c_.create_temp_table_sql(std::string(table_name),
                                  name(kKeyColumn) + " " + column_type(m.pk()) +
                                      " NOT NULL PRIMARY KEY, " + name(kGenColumn) +
                                      " integer NOT NULL");
}

std::string Statements::create_held_table(std::string_view table_name, const ModelMeta& m,
                                          const Field& held) const {
  return c_.create_temp_table_sql(std::string(table_name),
                                  name(kKeyColumn) + " " + column_type(m.pk()) +
                                      " NOT NULL PRIMARY KEY, " + name(kHeldColumn) + " " +
                                      column_type(held));
}

std::string Statements::create_row_table(std::string_view table_name, const ModelMeta& m) const {
  std::string columns;
  for (const auto& f : m.fields) {
    columns += (columns.empty() ? "" : ", ") + name(f.column) + " " + column_type(f);
  }
  columns += ", PRIMARY KEY (" + name(m.pk().column) + ")";
  return c_.create_temp_table_sql(std::string(table_name), columns);
}

std::string Statements::create_index(std::string_view index, std::string_view table,
                                     std::string_view column) const {
  return "CREATE INDEX " + name(index) + " ON " + name(table) + " (" + name(column) + ")";
}

std::string Statements::drop_table(std::string_view table) const {
  return "DROP TABLE IF EXISTS " + name(table);
}

std::int64_t execute(db::Connection& c, const Fragment& statement) {
  auto compiled = finish(c, statement);
  return c.execute(compiled.sql, compiled.params);
}

std::unique_ptr<db::Rows> query(db::Connection& c, const Fragment& statement) {
  auto compiled = finish(c, statement);
  return c.query(compiled.sql, compiled.params);
}

}  // namespace cascade::sql
