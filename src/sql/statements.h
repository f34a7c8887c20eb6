// The statements the layers above the compiler write for themselves — the deletion engine's
// key sets, checks, updates and deletes, soft-delete marks and restores, a manager's inserts
// and updates, many-to-many rows — built here and returned as Fragments. Above this layer no
// file writes SQL text: it names what it wants (a SELECT with these parts, an UPDATE of this
// table) and composes the pieces.
//
// Rules that hold for everything built here:
//   - identifiers are quoted by the connection's dialect, and come only from the models or
//     from the engine's own fixed names (its temporary tables and their columns);
//   - every value is a bound parameter, written as kParamMarker and numbered in the
//     connection's style once, by finish(): one placeholder scheme for every statement;
//   - an empty condition (Fragment::sql empty) means "every row": no WHERE is written.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cascade/db/connection.h"
#include "cascade/model/model_meta.h"
#include "sql/compiler.h"

namespace cascade::sql {

// The engine's own column names in its temporary key tables.
inline constexpr std::string_view kKeyColumn = "pk";     // a key of the node's model
inline constexpr std::string_view kGenColumn = "gen";    // the generation on a CASCADE cycle
inline constexpr std::string_view kHeldColumn = "held";  // a to_field's value of the row

enum class Compare { Eq, Lt, Le, Gt, Ge };

// A SELECT, part by part. Each part is already SQL from this module (names, columns, select()).
struct Select {
  std::string columns{};   // the select list
  Fragment from{};         // table(), derived() or join()
  Fragment where{};        // empty: every row
  std::string group_by{};  // columns; empty: no GROUP BY
  std::string order_by{};  // a column; empty: no ORDER BY
  bool descending = false;
  std::optional<std::int64_t> limit{};  // LIMIT / OFFSET in the dialect's syntax
  std::int64_t offset = 0;
  bool for_update = false;  // lock the rows (where Features say the dialect can)
};

class Statements {
 public:
  explicit Statements(const db::Connection& c) : c_(c) {}

  // ---- names -------------------------------------------------------------------------------

  std::string name(std::string_view id) const;                                // "id"
  std::string column(std::string_view table, std::string_view column) const;  // "t"."c"
  std::string column(const ModelMeta& m, std::string_view column) const;
  std::string pk(const ModelMeta& m) const;  // the model's primary key, qualified
  // Every concrete field of `m`, qualified by `alias` (the table by default), in the order
  // read_instance() reads them.
  // A field inherited from a multi-table parent is read from the ancestor's row with the
  // same key (a scalar subquery), so the SELECT still reads one table.
  std::string instance_columns(const ModelMeta& m, std::string_view alias = {}) const;
  // Every concrete field of `m` read from `table`, a row table (create_row_table) that holds
  // them all as columns.
  std::string row_table_columns(const ModelMeta& m, std::string_view table) const;
  // Every concrete field's column, unqualified, in the same order.
  std::vector<std::string> column_names(const ModelMeta& m) const;
  std::string as(const std::string& expression, std::string_view alias) const;
  static std::string as_text(const std::string& expression);       // CAST(e AS TEXT)
  static std::string list(const std::vector<std::string>& items);  // a, b, c
  static std::string count_rows();                                 // COUNT(*)
  // COUNT(expression): the rows where it is not NULL.
  static std::string count_non_null(const std::string& expression) {
    return "COUNT(" + expression + ")";
  }
  std::string max(const std::string& expression) const;
  std::string min(const std::string& expression) const;
  static std::string constant_one();  // 1, for a SELECT whose rows only need to exist
  // An integer the engine computed itself (a generation number), as a literal: never a value
  // that came from a user or a row, which are parameters.
  static std::string integer(std::int64_t n) { return std::to_string(n); }

  // ---- conditions --------------------------------------------------------------------------

  static Fragment every_row();                                         // 1 = 1
  static Fragment in(const std::string& lhs, const Fragment& select);  // lhs IN (select)
  static Fragment in(const std::string& lhs, std::span<const Value> values);
  static Fragment compare(const std::string& lhs, Compare op, const Value& value);
  static Fragment equal_columns(const std::string& lhs, const std::string& rhs);
  static Fragment is_null(const std::string& lhs);
  static Fragment is_not_null(const std::string& lhs);
  static Fragment exists(const Fragment& select);
  static Fragment not_exists(const Fragment& select);
  // (a) AND (b) AND ...; an empty term is "every row" and is left out.
  static Fragment all_of(std::vector<Fragment> terms);
  // (a OR b OR ...).
  static Fragment any_of(const std::vector<Fragment>& terms);
  // `where AND NOT excluded`, where a row for which `excluded` is NULL (a NULL key in one of
  // its IN terms) counts as not excluded: SQL's NOT (NULL) would drop the row instead.
  static Fragment and_not(Fragment where, const Fragment& excluded);

  // ---- what a SELECT reads -------------------------------------------------------------------

  Fragment table(std::string_view name, std::string_view alias = {}) const;
  Fragment derived(const Fragment& select, std::string_view alias) const;  // (select) alias
  // `table` INNER JOIN `other` ON `on`.
  Fragment join(std::string_view table, std::string_view other, const Fragment& on) const;

  // ---- statements --------------------------------------------------------------------------

  Fragment select(const Select& s) const;
  // SELECT COUNT(*) FROM <table> WHERE <where>.
  Fragment count(std::string_view table, const Fragment& where) const;
  // SELECT COUNT(*) FROM (<select>) alias.
  Fragment count(const Fragment& select) const;
  Fragment delete_from(std::string_view table, const Fragment& where) const;
  // UPDATE <table> SET <column> = <value>, ... WHERE <where>.
  Fragment update(std::string_view table, const std::vector<std::pair<std::string, Value>>& set,
                  const Fragment& where) const;
  // INSERT INTO <table> (<columns>) <select>.
  Fragment insert_select(std::string_view table, const std::vector<std::string>& columns,
                         const Fragment& select) const;
  // INSERT INTO <table> (<columns>) SELECT <constants>, <m's primary key as text> FROM <m's
  // table> WHERE <where>: a row for each row of m that `where` selects (the audit log's rows).
  // `columns` names the constants' columns, then the key's.
  Fragment insert_keys_as_text(std::string_view table, const std::vector<std::string>& columns,
                               const std::vector<Value>& constants, const ModelMeta& m,
                               const Fragment& where) const;
  // INSERT INTO <table> (<columns>) VALUES (...), (...): one row per entry of `rows`, each as
  // long as `columns`; with no columns, one row of defaults. `returning`: the column whose
  // value each inserted row returns (Features::can_return_columns_from_insert).
  Fragment insert_values(std::string_view table, const std::vector<std::string>& columns,
                         const std::vector<std::vector<Value>>& rows,
                         std::string_view returning = {}) const;

  // ---- temporary tables (no parameters) -------------------------------------------------------

  // A temporary table of keys of `m`: kKeyColumn, the primary key, and kGenColumn.
  std::string create_key_table(std::string_view name, const ModelMeta& m) const;
  // (kKeyColumn: m's primary key, kHeldColumn: the value of m's field `held`).
  std::string create_held_table(std::string_view name, const ModelMeta& m, const Field& held) const;
  // A temporary table with the concrete columns of `m` and its primary key.
  std::string create_row_table(std::string_view name, const ModelMeta& m) const;
  std::string create_index(std::string_view name, std::string_view table,
                           std::string_view column) const;
  std::string drop_table(std::string_view name) const;

 private:
  std::string column_type(const Field& f) const;
  const db::Connection& c_;
};

// Runs a statement built here: finish() numbers its placeholders, the connection binds its
// parameters.
std::int64_t execute(db::Connection& c, const Fragment& statement);
std::unique_ptr<db::Rows> query(db::Connection& c, const Fragment& statement);

}  // namespace cascade::sql
