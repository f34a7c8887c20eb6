// Whole-database comparisons for the reliability tests: a full dump of every table (schema and
// rows, in a fixed order) and a count of foreign keys that point at no row.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "cascade/db/connection.h"

namespace cascade::testing {

// Every table's columns and rows, rows sorted by all their columns, values as Python reprs.
// Two databases with equal dumps hold the same data. Read in one snapshot (a transaction of its
// own unless the connection is in one), so a commit by another process cannot split it.
inline std::string dump(db::Connection& c) {
  bool own_snapshot = !c.in_atomic_block();
  if (own_snapshot) {
    c.execute(c.features().vendor == "postgresql" ? "BEGIN ISOLATION LEVEL REPEATABLE READ"
                                                  : "BEGIN");
  }
  std::string out;
  auto tables = c.table_names();
  std::sort(tables.begin(), tables.end());
  for (const auto& table : tables) {
    auto columns = c.columns(table);
    out += "TABLE " + table + " (";
    std::string order;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      out += (i ? ", " : "") + columns[i].name + " " + columns[i].type;
      order += (i ? ", " : "") + std::to_string(i + 1);
    }
    out += ")\n";
    auto rows = c.query("SELECT * FROM " + c.quote_name(table) + " ORDER BY " + order);
    while (rows->next()) {
      for (int i = 0; i < rows->column_count(); ++i) {
        out += (i ? " | " : "") + rows->get(i).repr();
      }
      out += "\n";
    }
  }
  if (own_snapshot) c.execute("ROLLBACK");
  return out;
}

// Rows whose foreign key names a row that does not exist, over every foreign key the database
// declares (the portable form of SQLite's PRAGMA foreign_key_check).
inline std::int64_t dangling_references(db::Connection& c) {
  std::int64_t total = 0;
  for (const auto& table : c.table_names()) {
    for (const auto& fk : c.foreign_keys(table)) {
      std::string target_column = fk.target_column.empty() ? "id" : fk.target_column;
      std::string child = c.quote_name(table) + "." + c.quote_name(fk.column);
      auto rows =
          c.query("SELECT COUNT(*) FROM " + c.quote_name(table) + " WHERE " + child +
                  " IS NOT NULL AND NOT EXISTS (SELECT 1 FROM " + c.quote_name(fk.target_table) +
                  " WHERE " + c.quote_name(fk.target_table) + "." + c.quote_name(target_column) +
                  " = " + child + ")");
      rows->next();
      total += rows->get(0).as_integer();
    }
  }
  return total;
}

}  // namespace cascade::testing
