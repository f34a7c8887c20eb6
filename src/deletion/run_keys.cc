// The SQL for a node's rows, key sets in temporary tables, chunks, and the statement helpers.
#include "deletion/runner.h"

namespace cascade::detail {

void Runner::add_fast_entry(int node, int parent, std::int64_t gen) {
  FastEntry e{node, parent, gen};
  if (std::find(fast_entries_.begin(), fast_entries_.end(), e) == fast_entries_.end()) {
    fast_entries_.push_back(e);
  }
}

std::string Runner::col(const ModelMeta& m, const std::string& column) const {
  return q(m.db_table) + "." + q(column);
}

Fragment Runner::cond(int n) const {
  const ModelMeta& m = model(n);
  Fragment out;
  if (!keys_table_[static_cast<std::size_t>(n)].empty()) {
    out.sql = col(m, m.pk().column) + " IN (SELECT " + q("pk") + " FROM " +
              q(keys_table_[static_cast<std::size_t>(n)]) + ")";
    return out;
  }
  const auto& sources = p_.nodes[static_cast<std::size_t>(n)].sources;
  bool live = live_only(m);
  if (live) out.sql = "(";
  if (sources.size() > 1) out.sql += "(";
  bool first = true;
  for (const auto& s : sources) {
    if (!first) out.sql += " OR ";
    first = false;
    if (s.root) {
      append(out, root_cond());
    } else {
      out.sql += col(m, s.fk->column) + " IN (";
      append(out, keys(s.parent));
      out.sql += ")";
    }
  }
  if (sources.size() > 1) out.sql += ")";
  if (live) out.sql += ") AND " + col(m, kDeletedAtField) + " IS NULL";
  return out;
}

bool Runner::live_only(const ModelMeta& m) const {
  return p_.kind != detail::Kind::Hard && m.soft_deletable();
}

void Runner::add_live_filter(Fragment& where, const ModelMeta& m) const {
  if (!live_only(m)) return;
  where.sql = "(" + where.sql + ") AND " + col(m, kDeletedAtField) + " IS NULL";
}

Fragment Runner::keys(int n) const {
  const ModelMeta& m = model(n);
  Fragment out;
  if (!keys_table_[static_cast<std::size_t>(n)].empty()) {
    out.sql = "SELECT " + q("pk") + " FROM " + q(keys_table_[static_cast<std::size_t>(n)]);
    return out;
  }
  out.sql =
      "SELECT " + col(m, m.pk().column) + " AS " + q("pk") + " FROM " + q(m.db_table) + " WHERE ";
  append(out, cond(n));
  return out;
}

std::string Runner::absent_from(const std::string& table, const ModelMeta& m) const {
  return "NOT EXISTS (SELECT 1 FROM " + q(table) + " WHERE " + q(table) + "." + q("pk") + " = " +
         col(m, m.pk().column) + ")";
}

Fragment Runner::excluding(Fragment where, int n) const {
  const std::string& table = keys_table_[static_cast<std::size_t>(n)];
  if (table.empty()) return and_not(std::move(where), cond(n));
  where.sql = "(" + where.sql + ") AND " + absent_from(table, model(n));
  return where;
}

void Runner::for_each_chunk(
    int n, const std::function<void(const std::optional<Value>&, const Value&, bool)>& fn) {
  std::optional<Value> last;
  std::string mark(1, kParamMarker);
  auto probe_from = [&](const std::string& select, const std::string& tail, bool ordered = true) {
    Fragment f{select + " FROM (SELECT " + q("pk") + " FROM (", {}, false};
    append(f, keys(n));
    f.sql += ") " + q("cascade_keys");
    if (last) {
      f.sql += " WHERE " + q("pk") + " > " + mark;
      f.params.push_back(*last);
    }
    if (ordered) f.sql += " ORDER BY " + q("pk");
    f.sql += tail + ") " + q("cascade_chunk");
    return f;
  };
  while (true) {
    ChunkProbe probe;
    auto cached = first_probe_.find(n);
    if (!last && cached != first_probe_.end() && cached->second.epoch == writes_) {
      probe = cached->second;
    } else {
      // Unordered: when the keys fit one chunk, their MAX and COUNT need no sort.
      auto rows = query(probe_from("SELECT MAX(" + q("pk") + "), COUNT(*)",
                                   " LIMIT " + std::to_string(chunk() + 1), false));
      rows->next();
      probe.hi = rows->get(0);
      probe.final_chunk = rows->get(1).as_integer() <= chunk();
      rows.reset();
      if (!probe.hi.is_null() && !probe.final_chunk) {
        // More than a chunk: the range ends at the chunk()-th key.
        auto nth = query(
            probe_from("SELECT " + q("pk"), " LIMIT 1 OFFSET " + std::to_string(chunk() - 1)));
        nth->next();
        probe.hi = nth->get(0);
      }
      probe.epoch = writes_;
      if (!last) first_probe_[n] = probe;
    }
    if (probe.hi.is_null()) return;
    fn(last, probe.hi, probe.final_chunk);
    if (probe.final_chunk) return;
    last = probe.hi;
  }
}

Fragment Runner::key_range(int n, const std::optional<Value>& lo, const Value& hi) const {
  std::string mark(1, kParamMarker);
  Fragment f{"SELECT " + q("pk") + " FROM (", {}, false};
  append(f, keys(n));
  f.sql += ") " + q("cascade_keys") + " WHERE ";
  if (lo) {
    f.sql += q("pk") + " > " + mark + " AND ";
    f.params.push_back(*lo);
  }
  f.sql += q("pk") + " <= " + mark;
  f.params.push_back(hi);
  return f;
}

Fragment Runner::root_cond() const {
  const ModelMeta& m = *p_.root_model;
  Fragment out;
  if (p_.root_qs) {
    Fragment w = sql::where_fragment(c_, p_.root_qs->state());
    out.sql = w.sql.empty() ? "1 = 1" : "(" + w.sql + ")";
    out.params = std::move(w.params);
    return out;
  }
  out.sql = col(m, m.pk().column) + " IN (";
  for (std::size_t i = 0; i < p_.root_pks.size(); ++i) {
    out.sql += (i ? ", " : "") + std::string(1, kParamMarker);
  }
  out.sql += ")";
  out.params = p_.root_pks;
  return out;
}

void Runner::tables_read(int n, std::set<int>& out) const {
  out.insert(n);
  if (!keys_table_[static_cast<std::size_t>(n)].empty()) return;
  for (const auto& s : p_.nodes[static_cast<std::size_t>(n)].sources) {
    if (!s.root) tables_read(s.parent, out);
  }
}

std::int64_t Runner::exec(const Fragment& f) {
  ++writes_;
  auto compiled = sql::finish(c_, f);
  return c_.execute(compiled.sql, compiled.params);
}

std::unique_ptr<db::Rows> Runner::query(const Fragment& f) {
  auto compiled = sql::finish(c_, f);
  return c_.query(compiled.sql, compiled.params);
}

std::int64_t Runner::scalar(const Fragment& f) {
  auto rows = query(f);
  rows->next();
  return rows->get(0).as_integer();
}

bool Runner::any(const Fragment& where, const ModelMeta& m) {
  Fragment f{"SELECT 1 FROM " + q(m.db_table) + " WHERE ", {}, false};
  append(f, where);
  f.sql += " LIMIT 1";
  return query(f)->next();
}

bool Runner::any_referencing(const Field& fk, int parent, const std::optional<int>& exclude_own) {
  const ModelMeta& m = *fk.model;
  const ModelMeta& pm = model(parent);
  auto exclude = [&](Fragment& where) {
    add_live_filter(where, m);
    if (exclude_own) where = excluding(std::move(where), *exclude_own);
  };
  if (m.db_table != pm.db_table) {
    Fragment f{"SELECT 1 FROM " + q(m.db_table) + " INNER JOIN " + q(pm.db_table) + " ON " +
                   col(pm, pm.pk().column) + " = " + col(m, fk.column) + " WHERE ",
               {},
               false};
    Fragment where = cond(parent);
    exclude(where);
    append(f, where);
    f.sql += " LIMIT 1";
    return query(f)->next();
  }
  bool found = false;
  for_each_chunk(parent, [&](const std::optional<Value>& lo, const Value& hi, bool) {
    if (found) return;
    Fragment where{col(m, fk.column) + " IN (", {}, false};
    append(where, key_range(parent, lo, hi));
    where.sql += ")";
    exclude(where);
    found = any(where, m);
  });
  return found;
}

std::string Runner::new_temp(const std::string& columns) {
  std::string name = "cascade_tmp_" + std::to_string(++temp_counter_);
  c_.execute(c_.create_temp_table_sql(name, columns));
  temps_.push_back(name);
  return name;
}

void Runner::drop_temp_tables() noexcept {
  // Inside the transaction; a rollback removes them as well.
  for (const auto& t : temps_) {
    try {
      c_.execute("DROP TABLE IF EXISTS " + q(t));
    } catch (...) {
    }
  }
  temps_.clear();
}

void Runner::refresh_statistics(const std::string& table, std::int64_t added) {
  std::string sql = c_.refresh_statistics_sql(q(table));
  if (sql.empty()) return;
  if (added >= 0) {
    auto& [rows, analyzed] = table_rows_[table];
    rows += added;
    if (rows < 2 * std::max<std::int64_t>(analyzed, 500)) return;
    analyzed = rows;
  }
  c_.execute(sql);
}

std::string Runner::key_type(int n) const {
  const Field& pk = model(n).pk();
  if (pk.type == FieldType::Auto) return "bigint";
  return c_.column_type(pk);
}

void Runner::materialize(int n) {
  if (!keys_table_[static_cast<std::size_t>(n)].empty()) return;
  std::string name = new_temp(q("pk") + " " + key_type(n) + " NOT NULL PRIMARY KEY, " + q("gen") +
                              " integer NOT NULL");
  Fragment f{"INSERT INTO " + q(name) + " (" + q("pk") + ", " + q("gen") + ") SELECT " +
                 col(model(n), model(n).pk().column) + ", 0 FROM " + q(model(n).db_table) +
                 " WHERE ",
             {},
             false};
  append(f, cond(n));
  exec(f);
  refresh_statistics(name);
  keys_table_[static_cast<std::size_t>(n)] = name;
}

void Runner::materialize_cycles() {
  std::vector<int> cyclic;
  for (std::size_t i = 0; i < p_.nodes.size(); ++i) {
    if (p_.nodes[i].cyclic) cyclic.push_back(static_cast<int>(i));
  }
  if (cyclic.empty()) return;
  // Acyclic parents of cyclic nodes first, so their conditions stay valid.
  for (int n : cyclic) {
    std::string name = new_temp(q("pk") + " " + key_type(n) + " NOT NULL PRIMARY KEY, " + q("gen") +
                                " integer NOT NULL");
    c_.execute("CREATE INDEX " + q(name + "_gen") + " ON " + q(name) + " (" + q("gen") + ")");
    cycle_table_[n] = name;
  }
  auto in_cycle = [&](int n) { return cycle_table_.count(n) != 0; };
  for (std::int64_t gen = 0;; ++gen) {
    std::int64_t added = 0;
    for (int n : cyclic) {
      const ModelMeta& m = model(n);
      Fragment f{"INSERT INTO " + q(cycle_table_[n]) + " (" + q("pk") + ", " + q("gen") +
                     ") SELECT " + col(m, m.pk().column) + ", " + std::to_string(gen) + " FROM " +
                     q(m.db_table) + " WHERE (",
                 {},
                 false};
      bool first = true;
      for (const auto& s : p_.nodes[static_cast<std::size_t>(n)].sources) {
        bool from_cycle = !s.root && in_cycle(s.parent);
        // Generation 0 takes the rows from outside the cycles; later ones follow the cycle.
        if ((gen == 0) == from_cycle) continue;
        if (!first) f.sql += " OR ";
        first = false;
        if (s.root) {
          append(f, root_cond());
        } else if (from_cycle) {
          f.sql += col(m, s.fk->column) + " IN (SELECT " + q("pk") + " FROM " +
                   q(cycle_table_[s.parent]) + " WHERE " + q("gen") + " = " +
                   std::to_string(gen - 1) + ")";
        } else {
          f.sql += col(m, s.fk->column) + " IN (";
          append(f, keys(s.parent));
          f.sql += ")";
        }
      }
      if (first) continue;  // no source for this generation
      f.sql += ") AND " + absent_from(cycle_table_[n], m);
      std::int64_t rows = exec(f);
      refresh_statistics(cycle_table_[n], rows);
      added += rows;
    }
    if (gen > 0 && added == 0) break;
  }
  for (int n : cyclic) keys_table_[static_cast<std::size_t>(n)] = cycle_table_[n];
}

}  // namespace cascade::detail
