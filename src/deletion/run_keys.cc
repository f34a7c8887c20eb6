// The SQL for a node's rows, key sets in temporary tables, chunks, and the statement helpers.
#include "deletion/runner.h"

#include "cascade/query/content_types.h"

namespace cascade::detail {

void Runner::add_fast_entry(int node, int parent, std::int64_t gen) {
  FastEntry e{node, parent, gen};
  if (std::find(fast_entries_.begin(), fast_entries_.end(), e) == fast_entries_.end()) {
    fast_entries_.push_back(e);
  }
}

Fragment Runner::cond(int n) const {
  const ModelMeta& m = model(n);
  const std::string& table = keys_table_[static_cast<std::size_t>(n)];
  if (!table.empty()) return keyed_by(m, m.pk().column, table_keys(table));
  std::vector<Fragment> terms;
  for (const auto& s : p_.nodes[static_cast<std::size_t>(n)].sources) {
    terms.push_back(s.root ? root_cond() : source_rows(s, keys(s.parent)));
  }
  Fragment out = Sql::any_of(terms);
  add_live_filter(out, m);
  return out;
}

bool Runner::plain_key_source(const detail::Source& s, const ModelMeta& m) const {
  if (s.root || s.up || s.generic != nullptr || !s.fk->target_field->primary_key) return false;
  const ModelMeta& pm = model(s.parent);
  return pm.db_table != m.db_table && &s.fk->target->concrete_model() == &pm.concrete_model();
}

Fragment Runner::member_cond(int n) const {
  const ModelMeta& m = model(n);
  if (!keys_table_[static_cast<std::size_t>(n)].empty()) return cond(n);
  std::vector<Fragment> terms;
  for (const auto& s : p_.nodes[static_cast<std::size_t>(n)].sources) {
    if (s.root) {
      terms.push_back(root_cond());
    } else if (plain_key_source(s, m)) {
      terms.push_back(member_path(s, m));
    } else {
      terms.push_back(source_rows(s, keys(s.parent)));
    }
  }
  Fragment out = Sql::any_of(terms);
  add_live_filter(out, m);
  return out;
}

// The parents up a chain of models that each have one source, joined flat in one EXISTS (a
// nested EXISTS per level would overflow the SQL parser's stack on long chains): the
// intermediate tables under aliases, the topmost under its own name, on which its own
// condition (member_cond) is written.
Fragment Runner::member_path(const detail::Source& s, const ModelMeta& m) const {
  std::vector<const detail::Source*> hops{&s};
  std::set<std::string> tables{m.db_table, model(s.parent).db_table};
  for (int top = s.parent; keys_table_[static_cast<std::size_t>(top)].empty();) {
    const auto& sources = p_.nodes[static_cast<std::size_t>(top)].sources;
    if (sources.size() != 1 || !plain_key_source(sources[0], model(top))) break;
    if (!tables.insert(model(sources[0].parent).db_table).second) break;
    hops.push_back(&sources[0]);
    top = sources[0].parent;
  }
  std::vector<std::string> from;
  std::vector<Fragment> where;
  // The column holding hop i's key, on the row below it: m's for the first hop.
  std::string below = col(m, s.fk->column);
  for (std::size_t i = 0; i < hops.size(); ++i) {
    const ModelMeta& pm = model(hops[i]->parent);
    bool top = i + 1 == hops.size();
    std::string alias = top ? pm.db_table : "cascade_up" + std::to_string(i);
    from.push_back(s_.table(pm.db_table, top ? std::string_view() : alias).sql);
    where.push_back(Sql::equal_columns(s_.column(alias, pm.pk().column), below));
    if (top) {
      where.push_back(member_cond(hops[i]->parent));
    } else {
      if (live_only(pm)) where.push_back(Sql::is_null(s_.column(alias, kDeletedAtField)));
      below = s_.column(alias, hops[i + 1]->fk->column);
    }
  }
  Fragment join;
  join.sql = Sql::list(from);
  return Sql::exists(s_.select(
      {.columns = Sql::constant_one(), .from = join, .where = Sql::all_of(std::move(where))}));
}

bool Runner::live_only(const ModelMeta& m) const {
  return p_.kind != detail::Kind::Hard && m.soft_deletable();
}

void Runner::add_live_filter(Fragment& where, const ModelMeta& m) const {
  if (!live_only(m)) return;
  where = Sql::all_of({std::move(where), Sql::is_null(col(m, kDeletedAtField))});
}

Fragment Runner::keys(int n) const {
  const ModelMeta& m = model(n);
  const std::string& table = keys_table_[static_cast<std::size_t>(n)];
  if (!table.empty()) return table_keys(table);
  return s_.select(
      {.columns = s_.as(s_.pk(m), kKeyColumn), .from = s_.table(m.db_table), .where = cond(n)});
}

Fragment Runner::table_keys(const std::string& table, std::int64_t gen,
                            const std::optional<Value>& lo, const std::optional<Value>& hi) const {
  std::vector<Fragment> where;
  if (gen >= 0) where.push_back(Sql::compare(s_.name(kGenColumn), Compare::Eq, Value(gen)));
  if (lo) where.push_back(Sql::compare(s_.name(kKeyColumn), Compare::Gt, *lo));
  if (hi) where.push_back(Sql::compare(s_.name(kKeyColumn), Compare::Le, *hi));
  return s_.select(
      {.columns = s_.name(kKeyColumn), .from = s_.table(table), .where = Sql::all_of(where)});
}

Fragment Runner::referring(const Field& fk, int parent, const Fragment& parent_keys) const {
  const Field& held = *fk.target_field;
  if (held.primary_key) return keyed_by(*fk.model, fk.column, parent_keys);
  auto snapshot = held_table_.find({parent, &held});
  if (snapshot != held_table_.end()) {
    return keyed_by(*fk.model, fk.column,
                    s_.select({.columns = s_.as(s_.name(kHeldColumn), kKeyColumn),
                               .from = s_.table(snapshot->second),
                               .where = Sql::in(s_.name(kKeyColumn), parent_keys)}));
  }
  const ModelMeta& t = *fk.target;
  return keyed_by(*fk.model, fk.column,
                  s_.select({.columns = s_.as(s_.column(t.db_table, held.column), kKeyColumn),
                             .from = s_.table(t.db_table),
                             .where = keyed_by(t, t.pk().column, parent_keys)}));
}

void Runner::read_content_types() {
  for (const auto& node : p_.nodes) {
    for (const auto& s : node.sources) {
      if (s.generic == nullptr || content_type_.count(s.parent)) continue;
      auto id = find_content_type(db_, model(s.parent));
      content_type_[s.parent] = id ? Value(*id) : Value();
    }
  }
}

void Runner::create_content_types() {
  for (auto& [n, id] : content_type_) {
    if (!id.is_null()) continue;
    const ModelMeta& m = model(n);
    if (!any(keyed_by(m, m.pk().column, walked_keys(n, keys(n))), m)) continue;
    id = Value(content_type_for(db_, m));
  }
}

Fragment Runner::walked_keys(int n, const Fragment& node_keys) const {
  std::vector<Fragment> excluded;
  for (const auto& s : p_.nodes[static_cast<std::size_t>(n)].sources) {
    if (s.up) excluded.push_back(Sql::in(s_.name(kKeyColumn), keys(s.parent)));
  }
  if (excluded.empty()) return node_keys;
  return s_.select({.columns = s_.name(kKeyColumn),
                    .from = s_.derived(node_keys, "cascade_walked"),
                    .where = Sql::and_not(Sql::every_row(), Sql::any_of(excluded))});
}

Fragment Runner::generic_rows(const detail::Source& s, const Fragment& parent_keys) const {
  const Field& gr = *s.generic;
  const ModelMeta& target = *gr.target;
  auto is_text = [](const Field& f) {
    return f.type == FieldType::Char || f.type == FieldType::Text;
  };
  // A text object id holds the key's text (Django compares with str(pk)).
  Fragment keys = walked_keys(s.parent, parent_keys);
  if (is_text(*gr.generic_id) && !is_text(model(s.parent).pk())) {
    keys = s_.select({.columns = s_.as(s_.as_text(s_.name(kKeyColumn)), kKeyColumn),
                      .from = s_.derived(parent_keys, "cascade_generic")});
  }
  // No content type row: `= NULL` matches nothing.
  return Sql::all_of({Sql::compare(col(target, gr.generic_ct->column), Compare::Eq,
                                   content_type_.at(s.parent)),
                      keyed_by(target, gr.generic_id->column, keys)});
}

Fragment Runner::absent_from(const std::string& table, const ModelMeta& m) const {
  return Sql::not_exists(
      s_.select({.columns = Sql::constant_one(),
                 .from = s_.table(table),
                 .where = Sql::equal_columns(s_.column(table, kKeyColumn), s_.pk(m))}));
}

Fragment Runner::excluding_rows(Fragment where, int n) const {
  const std::string& table = keys_table_[static_cast<std::size_t>(n)];
  if (table.empty()) return Sql::and_not(std::move(where), member_cond(n));
  return Sql::all_of({std::move(where), absent_from(table, model(n))});
}

Fragment Runner::excluding(Fragment where, int n) const {
  const std::string& table = keys_table_[static_cast<std::size_t>(n)];
  if (table.empty()) return Sql::and_not(std::move(where), cond(n));
  return Sql::all_of({std::move(where), absent_from(table, model(n))});
}

void Runner::for_each_chunk(
    int n, const std::function<void(const std::optional<Value>&, const Value&, bool)>& fn) {
  std::optional<Value> last;
  const std::string key = s_.name(kKeyColumn);
  // `columns` of the keys after `last`, in key order when `ordered`, the first `limit` of them
  // from `offset` on.
  auto probe_keys = [&](std::string columns, std::int64_t limit, std::int64_t offset,
                        bool ordered) {
    Fragment after = s_.select({.columns = key,
                                .from = s_.derived(keys(n), "cascade_keys"),
                                .where = last ? Sql::compare(key, Compare::Gt, *last) : Fragment{},
                                .order_by = ordered ? key : std::string(),
                                .limit = limit,
                                .offset = offset});
    return s_.select({.columns = std::move(columns), .from = s_.derived(after, "cascade_chunk")});
  };
  while (true) {
    ChunkProbe probe;
    auto cached = first_probe_.find(n);
    if (!last && cached != first_probe_.end() && cached->second.epoch == writes_) {
      probe = cached->second;
    } else {
      // Unordered: when the keys fit one chunk, their MAX and COUNT need no sort.
      auto rows =
          query(probe_keys(Sql::list({s_.max(key), Sql::count_rows()}), chunk() + 1, 0, false));
      rows->next();
      probe.hi = rows->get(0);
      probe.final_chunk = rows->get(1).as_integer() <= chunk();
      rows.reset();
      if (!probe.hi.is_null() && !probe.final_chunk) {
        // More than a chunk: the range ends at the chunk()-th key.
        auto nth = query(probe_keys(key, 1, chunk() - 1, true));
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
  const std::string key = s_.name(kKeyColumn);
  std::vector<Fragment> range;
  if (lo) range.push_back(Sql::compare(key, Compare::Gt, *lo));
  range.push_back(Sql::compare(key, Compare::Le, hi));
  return s_.select({.columns = key,
                    .from = s_.derived(keys(n), "cascade_keys"),
                    .where = Sql::all_of(std::move(range))});
}

Fragment Runner::root_cond() const {
  if (p_.root_qs) {
    Fragment w = sql::where_fragment(c_, p_.root_qs->state());
    return w.sql.empty() ? Sql::every_row() : w;
  }
  return Sql::in(s_.pk(*p_.root_model), p_.root_pks);
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
  return sql::execute(c_, f);
}

std::unique_ptr<db::Rows> Runner::query(const Fragment& f) { return sql::query(c_, f); }

std::int64_t Runner::scalar(const Fragment& f) {
  auto rows = query(f);
  rows->next();
  return rows->get(0).as_integer();
}

bool Runner::any(const Fragment& where, const ModelMeta& m) {
  return query(s_.select({.columns = Sql::constant_one(),
                          .from = s_.table(m.db_table),
                          .where = where,
                          .limit = 1}))
      ->next();
}

bool Runner::any_referencing(const Field& fk, int parent, const std::optional<int>& exclude_own) {
  const ModelMeta& m = *fk.model;
  const ModelMeta& pm = model(parent);
  auto exclude = [&](Fragment& where) {
    add_live_filter(where, m);
    if (exclude_own) where = excluding_rows(std::move(where), *exclude_own);
  };
  // A relation a multi-table child has from a parent holds the parent's key, which is the
  // child's own; one to a parent's other unique field is matched by referring() below.
  bool inherited = &fk.target->concrete_model() != &pm.concrete_model();
  if (m.db_table != pm.db_table && (!inherited || fk.target_field->primary_key)) {
    Fragment where = member_cond(parent);
    exclude(where);
    const std::string& held = inherited ? pm.pk().column : fk.target_field->column;
    return query(s_.select({.columns = Sql::constant_one(),
                            .from = s_.join(m.db_table, pm.db_table,
                                            Sql::equal_columns(col(pm, held), col(m, fk.column))),
                            .where = where,
                            .limit = 1}))
        ->next();
  }
  bool found = false;
  for_each_chunk(parent, [&](const std::optional<Value>& lo, const Value& hi, bool) {
    if (found) return;
    Fragment where = referring(fk, parent, key_range(parent, lo, hi));
    exclude(where);
    found = any(where, m);
  });
  return found;
}

std::string Runner::new_temp(const std::function<std::string(const std::string&)>& create) {
  std::string name = "cascade_tmp_" + std::to_string(++temp_counter_);
  c_.execute(create(name));
  temps_.push_back(name);
  return name;
}

void Runner::drop_temp_tables() noexcept {
  // Inside the transaction; a rollback removes them as well.
  for (const auto& t : temps_) {
    try {
      c_.execute(s_.drop_table(t));
    } catch (...) {
    }
  }
  temps_.clear();
}

void Runner::refresh_statistics(const std::string& table, std::int64_t added) {
  std::string sql = c_.refresh_statistics_sql(s_.name(table));
  if (sql.empty()) return;
  if (added >= 0) {
    auto& [rows, analyzed] = table_rows_[table];
    rows += added;
    if (rows < 2 * std::max<std::int64_t>(analyzed, 500)) return;
    analyzed = rows;
  }
  c_.execute(sql);
}

void Runner::materialize(int n) {
  if (!keys_table_[static_cast<std::size_t>(n)].empty()) return;
  const ModelMeta& m = model(n);
  std::string name = new_temp([&](const std::string& t) { return s_.create_key_table(t, m); });
  const std::string& rows = snapshot_[static_cast<std::size_t>(n)];
  std::optional<Fragment> source;
  if (!rows.empty() && n != 0) {
    // The rows the receivers will see were just copied: their keys, without reading the
    // condition again. (The root's copy holds the caller's instances instead.)
    source = s_.select({.columns = Sql::list({s_.name(m.pk().column), Sql::integer(0)}),
                        .from = s_.table(rows)});
  } else if (!table_empty(m)) {
    // (An empty table has no keys: its condition, which may read the levels above, is not run.)
    source = s_.select({.columns = Sql::list({s_.pk(m), Sql::integer(0)}),
                        .from = s_.table(m.db_table),
                        .where = cond(n)});
  }
  if (source) {
    exec(s_.insert_select(name, key_table_columns(), *source));
    refresh_statistics(name);
  }
  keys_table_[static_cast<std::size_t>(n)] = name;
}

void Runner::materialize_levels(const std::function<void(int)>& before) {
  std::size_t count = p_.nodes.size();
  std::vector<bool> parent(count, false);
  for (const auto& node : p_.nodes) {
    for (const auto& s : node.sources) {
      if (!s.root) parent[static_cast<std::size_t>(s.parent)] = true;
    }
  }
  // How many subqueries deep a node's condition reads (0: a key table or the root's condition),
  // parents first; a parent two deep gets a key table, so no condition nests more than twice.
  std::vector<int> depth(count, -1);
  depth[0] = 0;
  if (before) before(0);
  for (bool progress = true; progress;) {
    progress = false;
    for (std::size_t n = 1; n < count; ++n) {
      if (depth[n] >= 0) continue;
      if (!keys_table_[n].empty()) {
        if (before) before(static_cast<int>(n));
        depth[n] = 0;
        progress = true;
        continue;
      }
      int deepest = 0;
      bool ready = true;
      for (const auto& s : p_.nodes[n].sources) {
        if (s.root || static_cast<std::size_t>(s.parent) == n) continue;
        int d = depth[static_cast<std::size_t>(s.parent)];
        if (d < 0) ready = false;
        deepest = std::max(deepest, d + 1);
      }
      if (!ready) continue;
      if (before) before(static_cast<int>(n));
      depth[n] = deepest;
      if (parent[n] && deepest >= 2 && !p_.nodes[n].fast) {
        materialize(static_cast<int>(n));
        depth[n] = 0;
      }
      progress = true;
    }
  }
  // A node never reached above (its parents wait on each other) still gets its call.
  if (before) {
    for (std::size_t n = 1; n < count; ++n) {
      if (depth[n] < 0) before(static_cast<int>(n));
    }
  }
}

void Runner::snapshot_held_values() {
  for (std::size_t n = 0; n < p_.nodes.size(); ++n) {
    for (const auto& s : p_.nodes[n].sources) {
      if (s.root || s.up || s.generic || s.fk->target_field->primary_key) continue;
      const Field& held = *s.fk->target_field;
      if (held_table_.count({s.parent, &held})) continue;
      const ModelMeta& m = model(s.parent);
      std::string name =
          new_temp([&](const std::string& t) { return s_.create_held_table(t, m, held); });
      // A field of a multi-table parent is read from the parent's rows (the same keys).
      const ModelMeta& holder = *s.fk->target;
      Fragment where = &holder.concrete_model() == &m.concrete_model()
                           ? cond(s.parent)
                           : keyed_by(holder, holder.pk().column, keys(s.parent));
      exec(s_.insert_select(
          name, {std::string(kKeyColumn), std::string(kHeldColumn)},
          s_.select({.columns = Sql::list({s_.pk(holder), col(holder, held.column)}),
                     .from = s_.table(holder.db_table),
                     .where = where})));
      refresh_statistics(name);
      held_table_[{s.parent, &held}] = name;
    }
  }
}

void Runner::materialize_cycles() {
  std::vector<int> cyclic;
  for (std::size_t i = 0; i < p_.nodes.size(); ++i) {
    if (p_.nodes[i].cyclic) cyclic.push_back(static_cast<int>(i));
  }
  if (cyclic.empty()) return;
  // Every node each cyclic node's rows depend on (its sources' parents, transitively).
  std::map<int, std::set<int>> ancestors;
  for (int n : cyclic) {
    std::vector<int> stack{n};
    while (!stack.empty()) {
      int at = stack.back();
      stack.pop_back();
      for (const auto& s : p_.nodes[static_cast<std::size_t>(at)].sources) {
        if (!s.root && ancestors[n].insert(s.parent).second) stack.push_back(s.parent);
      }
    }
  }
  // The cycles, one group of nodes that reach each other at a time, each after every cycle its
  // rows depend on: a node outside the group reads a finished group's keys from its table (a
  // condition through an unfinished cycle would never end).
  std::set<int> done;
  while (done.size() < cyclic.size()) {
    std::vector<int> group;
    for (int n : cyclic) {
      if (done.count(n)) continue;
      group.clear();
      for (int m : cyclic) {
        if (m == n || (ancestors[n].count(m) && ancestors[m].count(n))) group.push_back(m);
      }
      bool ready = std::all_of(cyclic.begin(), cyclic.end(), [&](int m) {
        return !ancestors[n].count(m) || done.count(m) ||
               std::find(group.begin(), group.end(), m) != group.end();
      });
      if (ready) break;
      group.clear();
    }
    if (group.empty()) throw Error("deletion plan: cycles that depend on each other");
    materialize_cycle_group(group);
    done.insert(group.begin(), group.end());
  }
}

// One group of cyclic nodes: generation 0 holds their rows reached from outside the group,
// each later generation the rows the previous one reaches inside it, to a fixpoint.
void Runner::materialize_cycle_group(const std::vector<int>& group) {
  for (int n : group) {
    std::string name =
        new_temp([&](const std::string& t) { return s_.create_key_table(t, model(n)); });
    c_.execute(s_.create_index(name + "_gen", name, kGenColumn));
    cycle_table_[n] = name;
    cycle_group_[n] = group.front();
  }
  auto in_group = [&](int n) { return std::find(group.begin(), group.end(), n) != group.end(); };
  for (std::int64_t gen = 0;; ++gen) {
    std::int64_t added = 0;
    for (int n : group) {
      const ModelMeta& m = model(n);
      std::vector<Fragment> terms;
      for (const auto& s : p_.nodes[static_cast<std::size_t>(n)].sources) {
        bool from_cycle = !s.root && in_group(s.parent);
        // Generation 0 takes the rows from outside the group; later ones follow the cycle.
        if ((gen == 0) == from_cycle) continue;
        if (s.root) {
          terms.push_back(root_cond());
        } else if (from_cycle) {
          terms.push_back(source_rows(s, table_keys(cycle_table_[s.parent], gen - 1)));
        } else {
          terms.push_back(source_rows(s, keys(s.parent)));
        }
      }
      if (terms.empty()) continue;  // no source for this generation
      Fragment select =
          s_.select({.columns = Sql::list({s_.pk(m), Sql::integer(gen)}),
                     .from = s_.table(m.db_table),
                     .where = Sql::all_of({Sql::any_of(terms), absent_from(cycle_table_[n], m)})});
      std::int64_t rows = exec(s_.insert_select(cycle_table_[n], key_table_columns(), select));
      refresh_statistics(cycle_table_[n], rows);
      added += rows;
    }
    if (gen > 0 && added == 0) break;
  }
  for (int n : group) keys_table_[static_cast<std::size_t>(n)] = cycle_table_[n];
}

}  // namespace cascade::detail
