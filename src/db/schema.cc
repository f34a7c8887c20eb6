#include "cascade/db/schema.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>

#include "cascade/db/transaction.h"
#include "cascade/model/registry.h"
#include "cascade/model/on_delete.h"

namespace cascade::db {
namespace {

constexpr std::size_t kMaxIdentifier = 63;  // PostgreSQL's limit; SQLite has none

// "<table>_<columns>_<suffix>", shortened with a hash when longer than kMaxIdentifier.
std::string index_name(const std::string& table, const std::vector<std::string>& columns,
                       std::string_view suffix) {
  std::string name = table;
  for (const auto& c : columns) name += "_" + c;
  name += "_" + std::string(suffix);
  if (name.size() <= kMaxIdentifier) return name;
  std::uint32_t h = 2166136261u;  // FNV-1a, stable across platforms
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", h);
  return name.substr(0, kMaxIdentifier - 9 - suffix.size() - 1) + "_" + hex + "_" +
         std::string(suffix);
}

// A field's default as an SQL literal, for DEFAULT clauses (DDL has no parameters). The value
// comes from the model's declaration, never from a user's input at run time; it is written as
// a number or a quoted string all the same.
std::string default_literal(const Field& f, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Null: return "NULL";
    case Value::Kind::Integer: return std::to_string(v.as_integer());
    case Value::Kind::Text: {
      const std::string& text = v.as_text();
      if (text.find('\0') != std::string::npos) {
        throw ConfigError("field '" + f.name + "': a default for the database cannot hold NUL");
      }
      std::string out = "'";
      for (char ch : text) out += ch == '\'' ? std::string("''") : std::string(1, ch);
      return out + "'";
    }
    default:
      throw ConfigError("field '" + f.name +
                        "': on_delete=DB_SET_DEFAULT needs an integer or "
                        "text default, the key of the row to point at");
  }
}

std::string on_delete_action(OnDelete rule) { return std::string(traits(rule).sql_action); }

std::string references(const Connection& c, const Field& f) {
  std::string sql = "REFERENCES " + c.quote_name(f.target->db_table) + " (" +
                    c.quote_name(f.target_field->column) + ")";
  if (std::string action = on_delete_action(f.on_delete); action != "NO ACTION") {
    sql += " ON DELETE " + action;
  }
  if (c.features().can_defer_constraint_checks) sql += " DEFERRABLE INITIALLY DEFERRED";
  return sql;
}

std::string expected_type(const Connection& c, const Field& f) { return c.column_type(f); }

// A declared type in one spelling per meaning: "bool" is "boolean", "int4" is "integer",
// "character varying(20)" is "varchar(20)", every integer width is "integer" (a key declared
// INTEGER where Cascade writes bigint holds the same values), "numeric(8,2)" is "real" (read as
// a float), a PostgreSQL timestamp with or without time zone is "timestamptz".
std::string type_family(std::string t) {
  while (!t.empty() && t.back() == ' ') t.pop_back();
  auto starts = [&](const char* p) { return t.rfind(p, 0) == 0; };
  if (t == "bool" || t == "boolean") return "boolean";
  if (t == "integer" || t == "int" || t == "int2" || t == "int4" || t == "int8" || t == "bigint" ||
      t == "smallint" || t == "tinyint" || t == "mediumint") {
    return "integer";
  }
  if (t == "real" || t == "float" || t == "float4" || t == "float8" || t == "double" ||
      t == "double precision" || starts("numeric") || starts("decimal")) {
    return "real";
  }
  if (starts("character varying")) return "varchar" + t.substr(17);
  // A column without a time zone holds UTC times for Cascade (its sessions run in UTC).
  if (t == "timestamp with time zone" || t == "timestamp without time zone" || t == "timestamp") {
    return "timestamptz";
  }
  return t;
}

// Whether the database's ON DELETE `have` carries out the model's rule: its own action for the
// DB_* rules; else NO ACTION, or RESTRICT for PROTECT / RESTRICT (Cascade refuses first, and
// deletes referencing rows before the rows they reference when it may).
bool on_delete_agrees(const std::string& have, OnDelete rule) {
  std::string want = on_delete_action(rule);
  if (have == want) return true;
  return have == "RESTRICT" && (rule == OnDelete::Protect || rule == OnDelete::Restrict);
}

std::string partial_unique(const Connection& c, const ModelMeta& m,
                           const std::vector<std::string>& columns) {
  std::string cols;
  for (const auto& col : columns) cols += (cols.empty() ? "" : ", ") + c.quote_name(col);
  return "CREATE UNIQUE INDEX IF NOT EXISTS " +
         c.quote_name(index_name(m.db_table, columns, "live_uniq")) + " ON " +
         c.quote_name(m.db_table) + " (" + cols + ") WHERE " + c.quote_name(kDeletedAtField) +
         " IS NULL";
}

}  // namespace

SchemaMismatch::SchemaMismatch(std::vector<std::string> problems)
    : ProgrammingError([&] {
        std::string m =
            "the database schema does not match the models (schema migrations are "
            "not supported yet; change the table by hand or start from an empty "
            "database):";
        for (const auto& p : problems) m += "\n  - " + p;
        return m;
      }()),
      problems_(std::move(problems)) {}

TableSql table_sql(const Connection& c, const ModelMeta& m) {
  TableSql out;
  std::vector<std::string> defs;
  for (const auto& f : m.local_fields()) {
    std::string def = c.quote_name(f.column) + " " + c.column_type(f);
    def += (!f.null || f.primary_key) ? " NOT NULL" : " NULL";
    // ON DELETE SET DEFAULT writes the column's DEFAULT: the database must know it.
    if (f.on_delete == OnDelete::DbSetDefault && f.default_value) {
      def += " DEFAULT " + default_literal(f, f.target_field->to_python(*f.default_value));
    }
    if (f.primary_key) {
      def += " PRIMARY KEY";
      if (f.type == FieldType::Auto) def += " " + c.auto_increment_clause();
    } else if (f.unique && !m.soft_deletable()) {
      def += " UNIQUE";
    }
    if (f.is_foreign_key() && f.db_constraint) {
      if (c.features().foreign_keys_inline) {
        def += " " + references(c, f);
      } else {
        out.constraints.push_back("ALTER TABLE " + c.quote_name(m.db_table) + " ADD CONSTRAINT " +
                                  c.quote_name(index_name(m.db_table, {f.column}, "fk")) +
                                  " FOREIGN KEY (" + c.quote_name(f.column) + ") " +
                                  references(c, f));
      }
    }
    defs.push_back(std::move(def));
  }
  for (const auto& group : m.unique_together) {
    std::string cols;
    std::vector<std::string> columns;
    for (const auto& name : group) {
      columns.push_back(m.fields[*m.field_index(name)].column);
      cols += (cols.empty() ? "" : ", ") + c.quote_name(columns.back());
    }
    if (m.soft_deletable()) {
      out.indexes.push_back(partial_unique(c, m, columns));
    } else {
      defs.push_back("UNIQUE (" + cols + ")");
    }
  }
  // A soft-deletable model's unique fields are unique among live rows only, so a value can be
  // used again after its row was soft-deleted.
  if (m.soft_deletable()) {
    for (const auto& f : m.local_fields()) {
      if (f.unique && !f.primary_key) out.indexes.push_back(partial_unique(c, m, {f.column}));
    }
  }
  out.create_table = "CREATE TABLE " + c.quote_name(m.db_table) + " (";
  for (std::size_t i = 0; i < defs.size(); ++i) out.create_table += (i ? ", " : "") + defs[i];
  out.create_table += ")";
  for (const auto& f : m.local_fields()) {
    // Unique columns and the primary key are indexed by their constraint already.
    if (f.primary_key || f.unique || !(f.is_foreign_key() || f.db_index)) continue;
    out.indexes.push_back("CREATE INDEX IF NOT EXISTS " +
                          c.quote_name(index_name(m.db_table, {f.column}, "idx")) + " ON " +
                          c.quote_name(m.db_table) + " (" + c.quote_name(f.column) + ")");
  }
  return out;
}

namespace {

// Every way the existing table `m.db_table` differs from the model.
std::vector<std::string> compare_table(Connection& c, const ModelMeta& m) {
  std::vector<std::string> problems;
  std::string t = "table \"" + m.db_table + "\" (" + m.label() + "): ";
  auto cols = c.columns(m.db_table);
  std::map<std::string, ColumnInfo> existing;
  for (auto& col : cols) existing.emplace(col.name, col);
  for (const auto& f : m.local_fields()) {
    auto it = existing.find(f.column);
    std::string want = expected_type(c, f);
    if (it == existing.end()) {
      problems.push_back(t + "column \"" + f.column + "\" (" + want + ") is missing");
      continue;
    }
    const ColumnInfo& have = it->second;
    if (type_family(have.type) != type_family(want)) {
      problems.push_back(t + "column \"" + f.column + "\" is " + have.type + ", the model says " +
                         want);
    }
    bool want_not_null = !f.null || f.primary_key;
    if (have.not_null != want_not_null && !f.primary_key) {
      problems.push_back(t + "column \"" + f.column + "\" is " +
                         (have.not_null ? "NOT NULL" : "nullable") + ", the model says " +
                         (want_not_null ? "NOT NULL" : "null=true"));
    }
    if (have.primary_key != f.primary_key) {
      problems.push_back(t + "column \"" + f.column + "\" is " + (have.primary_key ? "" : "not ") +
                         "the primary key, the model says " +
                         (f.primary_key ? "it is" : "it is not"));
    }
    existing.erase(it);
  }
  for (const auto& [name, col] : existing) {
    problems.push_back(t + "column \"" + name + "\" (" + col.type +
                       ") is not declared by the model");
  }
  auto fks = c.foreign_keys(m.db_table);
  for (const auto& f : m.local_fields()) {
    if (!f.is_foreign_key()) continue;
    auto it = std::find_if(fks.begin(), fks.end(),
                           [&](const ForeignKeyInfo& fk) { return fk.column == f.column; });
    if (!f.db_constraint) {
      if (it != fks.end()) {
        problems.push_back(t + "column \"" + f.column + "\" has a foreign key constraint; the " +
                           "model says db_constraint = false");
      }
      continue;
    }
    if (it == fks.end()) {
      problems.push_back(t + "column \"" + f.column + "\" has no foreign key constraint (the " +
                         "model says it references \"" + f.target->db_table + "\")");
    } else if (it->target_table != f.target->db_table) {
      problems.push_back(t + "column \"" + f.column + "\" references \"" + it->target_table +
                         "\", the model says \"" + f.target->db_table + "\"");
    } else if (!on_delete_agrees(it->on_delete, f.on_delete)) {
      problems.push_back(t + "foreign key \"" + f.column + "\" has ON DELETE " + it->on_delete +
                         ", the model's on_delete=" + std::string(on_delete_name(f.on_delete)) +
                         " needs " + on_delete_action(f.on_delete));
    }
  }
  auto indexes = c.indexes(m.db_table);
  // Soft-deletable models enforce uniqueness among live rows (a partial index); the index
  // itself is created by migrate when missing.
  bool partial = m.soft_deletable();
  auto has_unique = [&](const std::vector<std::string>& columns) {
    if (partial) return true;
    return std::any_of(indexes.begin(), indexes.end(), [&](const IndexInfo& idx) {
      return idx.unique && !idx.partial && idx.columns == columns;
    });
  };
  for (const auto& f : m.local_fields()) {
    if (f.primary_key) continue;
    bool unique_in_db =
        !partial && std::any_of(indexes.begin(), indexes.end(), [&](const IndexInfo& idx) {
          return idx.unique && !idx.partial && idx.columns == std::vector<std::string>{f.column};
        });
    if (partial) {
      if (unique_in_db) {
        problems.push_back(t + "column \"" + f.column +
                           "\" is unique among all rows; soft delete " +
                           "needs it unique among live rows only");
      }
      continue;
    }
    if (f.unique && !unique_in_db) {
      problems.push_back(t + "column \"" + f.column + "\" is not unique, the model says unique");
    } else if (!f.unique && unique_in_db) {
      problems.push_back(t + "column \"" + f.column + "\" is unique, the model does not say so");
    }
  }
  for (const auto& group : m.unique_together) {
    std::vector<std::string> columns;
    for (const auto& name : group) columns.push_back(m.fields[*m.field_index(name)].column);
    if (!has_unique(columns)) {
      std::string list;
      for (const auto& col : columns) list += (list.empty() ? "" : ", ") + col;
      problems.push_back(t + "no unique constraint on (" + list + ")");
    }
  }
  return problems;
}

}  // namespace

MigrationPlan plan_migration(Connection& c, const Registry& registry) {
  MigrationPlan plan;
  auto tables = c.table_names();
  std::vector<std::string> constraints;
  for (const ModelMeta* m : registry.models()) {
    if (m->proxy) continue;  // its concrete model's table
    bool exists = std::find(tables.begin(), tables.end(), m->db_table) != tables.end();
    TableSql sql = table_sql(c, *m);
    if (exists) {
      auto problems = compare_table(c, *m);
      plan.problems.insert(plan.problems.end(), problems.begin(), problems.end());
    } else {
      plan.create_tables.push_back(m->label());
      plan.statements.push_back(sql.create_table);
      constraints.insert(constraints.end(), sql.constraints.begin(), sql.constraints.end());
    }
    // Missing indexes are created for existing tables too ("IF NOT EXISTS" keeps it idempotent).
    auto existing = exists ? c.indexes(m->db_table) : std::vector<IndexInfo>{};
    for (const auto& stmt : sql.indexes) {
      bool present = std::any_of(existing.begin(), existing.end(), [&](const IndexInfo& idx) {
        return stmt.find(c.quote_name(idx.name)) != std::string::npos;
      });
      if (!present) plan.statements.push_back(stmt);
    }
  }
  plan.statements.insert(plan.statements.end(), constraints.begin(), constraints.end());
  return plan;
}

MigrationPlan migrate(Connection& c, const Registry& registry) {
  MigrationPlan plan = plan_migration(c, registry);
  if (!plan.problems.empty()) throw SchemaMismatch(plan.problems);
  if (plan.statements.empty()) return plan;
  atomic(c, [&] {
    for (const auto& stmt : plan.statements) c.execute(stmt);
  });
  return plan;
}

}  // namespace cascade::db
