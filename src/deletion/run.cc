// Running a DeletionPlan: execute() and preview() share the Runner, so both evaluate the very
// same predicates in the same order.
#include <algorithm>
#include <functional>
#include <limits>
#include <tuple>
#include <set>
#include <sstream>

#include "cascade/query/context.h"
#include "cascade/query/manager.h"
#include "cascade/query/queryset.h"
#include "cascade/db/transaction.h"
#include "cascade/error.h"
#include "deletion/plan.h"
#include "sql/query.h"
#include "sql/compiler.h"
#include "sql/rows.h"

namespace cascade {
namespace {

using sql::Fragment;
using sql::kParamMarker;

constexpr std::int64_t kStreamBatch = 1000;


void append(Fragment& to, const Fragment& more) {
  to.sql += more.sql;
  to.params.insert(to.params.end(), more.params.begin(), more.params.end());
}

// `where AND NOT excluded`, where a row for which `excluded` is NULL (a NULL key in one of its
// `fk IN (...)` terms) counts as not excluded: SQL's NOT (NULL) would drop the row instead.
Fragment and_not(Fragment where, const Fragment& excluded) {
  where.sql = "(" + where.sql + ") AND (";
  append(where, excluded);
  where.sql += ") IS NOT TRUE";
  return where;
}

class Runner {
 public:
  // An entry of Django's fast-delete queue: the rows of a fast node referencing its level.
  struct FastEntry {
    int node;
    int parent;
    std::int64_t gen = -1;  // a cyclic parent: the rows of one generation of it; -1: all
    bool operator==(const FastEntry&) const = default;
  };

  explicit Runner(const detail::Plan& plan)
      : p_(plan),
        db_(*plan.db),
        c_(plan.db->connection()),
        keys_table_(plan.nodes.size()),
        snapshot_(plan.nodes.size()),
        sorted_(plan.sorted),
        fast_(plan.fast_queue) {
    for (int f : fast_) {
      for (const auto& s : plan.nodes[static_cast<std::size_t>(f)].sources) {
        if (!s.root) add_fast_entry(f, s.parent);
      }
    }
  }

  void add_fast_entry(int node, int parent, std::int64_t gen = -1) {
    FastEntry e{node, parent, gen};
    if (std::find(fast_entries_.begin(), fast_entries_.end(), e) == fast_entries_.end()) {
      fast_entries_.push_back(e);
    }
  }

  ~Runner() { drop_temp_tables(); }

  // ---- SQL for the rows of a node -------------------------------------------------------------

  std::string q(const std::string& id) const { return c_.quote_name(id); }
  std::string col(const ModelMeta& m, const std::string& column) const {
    return q(m.db_table) + "." + q(column);
  }
  const ModelMeta& model(int n) const { return *p_.nodes[static_cast<std::size_t>(n)].model; }

  // The condition, on the node's table, selecting the node's rows.
  Fragment cond(int n) const {
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

  // A soft delete sees live rows only: rows already soft-deleted keep their own marks.
  bool live_only(const ModelMeta& m) const {
    return p_.kind != detail::Kind::Hard && m.soft_deletable();
  }
  void add_live_filter(Fragment& where, const ModelMeta& m) const {
    if (!live_only(m)) return;
    where.sql = "(" + where.sql + ") AND " + col(m, kDeletedAtField) + " IS NULL";
  }

  // "SELECT pk FROM <table> WHERE <cond>": the node's primary keys.
  Fragment keys(int n) const {
    const ModelMeta& m = model(n);
    Fragment out;
    if (!keys_table_[static_cast<std::size_t>(n)].empty()) {
      out.sql = "SELECT " + q("pk") + " FROM " + q(keys_table_[static_cast<std::size_t>(n)]);
      return out;
    }
    out.sql = "SELECT " + col(m, m.pk().column) + " AS " + q("pk") + " FROM " + q(m.db_table) +
              " WHERE ";
    append(out, cond(n));
    return out;
  }

  // "NOT EXISTS (...)": the row of `m` is not among the keys in `table`. An anti-join, which the
  // planner can hash or merge however large the table (PostgreSQL runs a NOT IN as a scan of
  // the table per row once it outgrows work_mem).
  std::string absent_from(const std::string& table, const ModelMeta& m) const {
    return "NOT EXISTS (SELECT 1 FROM " + q(table) + " WHERE " + q(table) + "." + q("pk") +
           " = " + col(m, m.pk().column) + ")";
  }

  // `where`, on node n's table, without node n's rows: with n's keys in a table, an anti-join;
  // else and_not().
  Fragment excluding(Fragment where, int n) const {
    const std::string& table = keys_table_[static_cast<std::size_t>(n)];
    if (table.empty()) return and_not(std::move(where), cond(n));
    where.sql = "(" + where.sql + ") AND " + absent_from(table, model(n));
    return where;
  }

  // Keys per chunk of a set-based step (Database::set_delete_chunk_size).
  std::int64_t chunk() const { return db_.delete_chunk_size(); }

  // Calls fn(lo, hi, last) for consecutive ranges of the node's keys, ascending, chunk() keys
  // each: the range is (lo, hi], lo absent for the first one; `last` for the final range. A probe
  // reads up to chunk() + 1 keys, so a set of exactly chunk() keys is known to be one chunk. The
  // first probe is reused while nothing has been written since (a check and the delete after it
  // probe the same set).
  void for_each_chunk(int n, const std::function<void(const std::optional<Value>&, const Value&, bool)>& fn) {
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
          auto nth = query(probe_from("SELECT " + q("pk"),
                                      " LIMIT 1 OFFSET " + std::to_string(chunk() - 1)));
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

  // The node's keys in (lo, hi].
  Fragment key_range(int n, const std::optional<Value>& lo, const Value& hi) const {
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

  Fragment root_cond() const {
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

  // Tables a node's condition reads (while not materialized).
  void tables_read(int n, std::set<int>& out) const {
    out.insert(n);
    if (!keys_table_[static_cast<std::size_t>(n)].empty()) return;
    for (const auto& s : p_.nodes[static_cast<std::size_t>(n)].sources) {
      if (!s.root) tables_read(s.parent, out);
    }
  }

  // ---- statements -----------------------------------------------------------------------------

  std::int64_t exec(const Fragment& f) {
    ++writes_;
    auto compiled = sql::finish(c_, f);
    return c_.execute(compiled.sql, compiled.params);
  }
  std::unique_ptr<db::Rows> query(const Fragment& f) {
    auto compiled = sql::finish(c_, f);
    return c_.query(compiled.sql, compiled.params);
  }
  std::int64_t scalar(const Fragment& f) {
    auto rows = query(f);
    rows->next();
    return rows->get(0).as_integer();
  }
  bool any(const Fragment& where, const ModelMeta& m) {
    Fragment f{"SELECT 1 FROM " + q(m.db_table) + " WHERE ", {}, false};
    append(f, where);
    f.sql += " LIMIT 1";
    return query(f)->next();
  }

  // Whether any row of the relation's model references the parent's rows. One join when the
  // two are different tables (the database picks the order: an empty or small referencing table
  // is read first, and no key set is materialised); else a chunk of parent keys at a time (a
  // check over a million keys must not materialise them all).
  bool any_referencing(const Field& fk, int parent, const std::optional<int>& exclude_own) {
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

  // Whether the table holds no row at all: a step on it has nothing to do.
  bool table_empty(const ModelMeta& m) { return !any(Fragment{"1 = 1", {}, false}, m); }

  std::string new_temp(const std::string& columns) {
    std::string name = "cascade_tmp_" + std::to_string(++temp_counter_);
    c_.execute(c_.create_temp_table_sql(name, columns));
    temps_.push_back(name);
    return name;
  }

  void drop_temp_tables() noexcept {
    // Inside the transaction; a rollback removes them as well.
    for (const auto& t : temps_) {
      try {
        c_.execute("DROP TABLE IF EXISTS " + q(t));
      } catch (...) {
      }
    }
    temps_.clear();
  }

  // A key table just filled: the planner's statistics for it, where the backend keeps any
  // (PostgreSQL plans a temporary table without statistics as if it were tiny).
  // A table filled generation by generation is analyzed each time it has doubled, so the
  // statistics stay close at a logarithmic number of ANALYZEs.
  void refresh_statistics(const std::string& table, std::int64_t added = -1) {
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

  std::string key_type(int n) const {
    const Field& pk = model(n).pk();
    if (pk.type == FieldType::Auto) return "bigint";
    return c_.column_type(pk);
  }

  // Stores the node's keys in a temporary table; its condition then reads only that table.
  void materialize(int n) {
    if (!keys_table_[static_cast<std::size_t>(n)].empty()) return;
    std::string name = new_temp(q("pk") + " " + key_type(n) + " NOT NULL PRIMARY KEY, " +
                                q("gen") + " integer NOT NULL");
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

  // Nodes on CASCADE cycles: their keys, computed generation by generation until no new row
  // appears (each generation reads only the rows the previous one found).
  void materialize_cycles() {
    std::vector<int> cyclic;
    for (std::size_t i = 0; i < p_.nodes.size(); ++i) {
      if (p_.nodes[i].cyclic) cyclic.push_back(static_cast<int>(i));
    }
    if (cyclic.empty()) return;
    // Acyclic parents of cyclic nodes first, so their conditions stay valid.
    for (int n : cyclic) {
      std::string name = new_temp(q("pk") + " " + key_type(n) + " NOT NULL PRIMARY KEY, " +
                                  q("gen") + " integer NOT NULL");
      c_.execute("CREATE INDEX " + q(name + "_gen") + " ON " + q(name) + " (" + q("gen") + ")");
      cycle_table_[n] = name;
    }
    auto in_cycle = [&](int n) { return cycle_table_.count(n) != 0; };
    for (std::int64_t gen = 0;; ++gen) {
      std::int64_t added = 0;
      for (int n : cyclic) {
        const ModelMeta& m = model(n);
        Fragment f{"INSERT INTO " + q(cycle_table_[n]) + " (" + q("pk") + ", " + q("gen") +
                       ") SELECT " + col(m, m.pk().column) + ", " + std::to_string(gen) +
                       " FROM " + q(m.db_table) + " WHERE (",
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

  // ---- the collection phase: reads only ------------------------------------------------------

  bool writes_before_root_delete() const {
    return p_.nodes.size() > 1 || !p_.updates.empty();
  }

  // True when the root QuerySet's condition could change before the root's own delete: it
  // reads another table (a join or a subquery), or an update writes the root's table.
  bool root_condition_may_change() const {
    for (const auto& u : p_.updates) {
      if (u.fk->model == p_.root_model) return true;
    }
    Fragment w = sql::where_fragment(c_, p_.root_qs->state());
    for (const ModelMeta* m : db_.registry().models()) {
      if (m != p_.root_model && w.sql.find(q(m->db_table)) != std::string::npos) return true;
    }
    return false;
  }

  void prepare() {
    // The root's rows are fixed before anything changes (Django evaluates the QuerySet once);
    // a condition on the root table alone cannot change before the root's delete.
    // A bound delete fixes them always: it compares them with its preview.
    if (p_.root_qs && !p_.nodes[0].cyclic &&
        (shown_ != nullptr || (writes_before_root_delete() && root_condition_may_change()))) {
      materialize(0);
    }
    materialize_cycles();
  }

  // Where rows can be locked (PostgreSQL), the rows other rows reference are locked, parents
  // before children, before the children and the PROTECT/RESTRICT rows are read: an insert of a
  // child under a locked row waits for this transaction and then fails on its foreign key,
  // rather than committing a child this delete has already passed over (which would make the
  // delete fail at commit). SQLite has one writer at a time: the delete's transaction begins
  // IMMEDIATE and nothing can change under it.
  void lock_referenced_rows() {
    if (!c_.features().supports_select_for_update) return;
    std::vector<bool> referenced(p_.nodes.size(), false);
    for (const auto& node : p_.nodes) {
      for (const auto& s : node.sources) {
        if (!s.root) referenced[static_cast<std::size_t>(s.parent)] = true;
      }
    }
    for (const auto& ch : p_.checks) referenced[static_cast<std::size_t>(ch.parent)] = true;
    for (const auto& u : p_.updates) referenced[static_cast<std::size_t>(u.parent)] = true;
    for (std::size_t n = 0; n < p_.nodes.size(); ++n) {
      if (!referenced[n]) continue;
      const ModelMeta& m = model(static_cast<int>(n));
      std::string pk = col(m, m.pk().column);
      Fragment f{"SELECT COUNT(*) FROM (SELECT 1 FROM " + q(m.db_table) + " WHERE " + pk + " IN (",
                 {},
                 false};
      append(f, keys(static_cast<int>(n)));
      f.sql += ") ORDER BY " + pk + " FOR UPDATE) " + q("cascade_locked");
      scalar(f);
    }
  }

  // PROTECT then RESTRICT (rules 24-31); throws with nothing written.
  void check() {
    struct Hit {
      std::string key;
      int order;
    };
    std::vector<Hit> protect_keys;
    std::vector<Instance> protect_objects;
    std::vector<std::string> never_keys;
    std::vector<Instance> never_objects;
    for (const auto& chk : p_.checks) {
      if (!chk.never) continue;
      if (!any_referencing(*chk.fk, chk.parent, std::nullopt)) continue;
      Fragment where = referencing(chk);
      std::string key = relation_label(*chk.fk);
      if (std::find(never_keys.begin(), never_keys.end(), key) == never_keys.end()) {
        never_keys.push_back(key);
      }
      load(where, *chk.fk->model, never_objects);
    }
    if (!never_keys.empty()) {
      std::string keys;
      for (const auto& k : never_keys) keys += (keys.empty() ? "" : ", ") + k;
      throw ProtectedError("Cannot delete some instances of model '" + p_.root_model->object_name +
                               "' because the delete would reach rows whose delete_policy is "
                               "'never', through: " +
                               keys + ".",
                           dedupe(std::move(never_objects)));
    }
    for (const auto& chk : p_.checks) {
      if (!chk.protect) continue;
      if (!any_referencing(*chk.fk, chk.parent, std::nullopt)) continue;
      std::vector<Instance> found;
      load(referencing(chk), *chk.fk->model, found);
      // Keyed by the relation of the root model under which Django's walk reached the
      // protected row (rule 27), or by the PROTECT field itself when it protects a root row.
      for (auto& obj : found) {
        auto [key_field, order] = refusal_key(chk, obj.get(chk.fk->name));
        std::string key = relation_label(*key_field);
        auto hit = std::find_if(protect_keys.begin(), protect_keys.end(),
                                [&](const Hit& h) { return h.key == key; });
        if (hit == protect_keys.end()) {
          protect_keys.push_back({key, order});
        } else {
          hit->order = std::min(hit->order, order);
        }
        protect_objects.push_back(std::move(obj));
      }
    }
    if (!protect_keys.empty()) {
      std::stable_sort(protect_keys.begin(), protect_keys.end(),
                       [](const Hit& a, const Hit& b) { return a.order < b.order; });
      std::string keys;
      for (const auto& h : protect_keys) keys += (keys.empty() ? "" : ", ") + h.key;
      throw ProtectedError("Cannot delete some instances of model '" + p_.root_model->object_name +
                               "' because they are referenced through protected foreign keys: " +
                               keys + ".",
                           dedupe(std::move(protect_objects)));
    }
    // Django lists the restricting relations grouped by model, in the order its walk first
    // met each model and relation: here, by the smallest root relation under which a blocking
    // row was reached, then in the plan's discovery order.
    struct Restricted {
      const ModelMeta* model;
      std::string key;
      int order;
      int check_order;
    };
    std::vector<Restricted> restrict_keys;
    std::vector<Instance> restrict_objects;
    for (const auto& chk : p_.checks) {
      if (chk.protect || chk.never) continue;
      Fragment where = referencing(chk);
      // Forgiven when the referencing row is itself being deleted (rule 29).
      int own = node_of(*chk.fk->model);
      if (own >= 0) where = excluding(std::move(where), own);
      if (!any_referencing(*chk.fk, chk.parent,
                           own >= 0 ? std::optional<int>(own) : std::nullopt)) {
        continue;
      }
      std::string key = relation_label(*chk.fk);
      std::vector<Instance> found;
      load(where, *chk.fk->model, found);
      int order = std::numeric_limits<int>::max();
      for (const auto& obj : found) {
        order = std::min(order, refusal_key(chk, obj.get(chk.fk->name)).second);
      }
      auto hit = std::find_if(restrict_keys.begin(), restrict_keys.end(),
                              [&](const Restricted& r) { return r.key == key; });
      if (hit == restrict_keys.end()) {
        restrict_keys.push_back({chk.fk->model, key, order, chk.order});
      } else {
        hit->order = std::min(hit->order, order);
      }
      for (auto& obj : found) restrict_objects.push_back(std::move(obj));
    }
    if (!restrict_keys.empty()) {
      std::map<const ModelMeta*, std::pair<int, int>> model_first;
      for (const auto& r : restrict_keys) {
        auto [it, added] = model_first.try_emplace(r.model, r.order, r.check_order);
        if (!added) it->second = std::min(it->second, std::make_pair(r.order, r.check_order));
      }
      std::stable_sort(restrict_keys.begin(), restrict_keys.end(),
                       [&](const Restricted& a, const Restricted& b) {
                         return std::tie(model_first[a.model], a.order, a.check_order) <
                                std::tie(model_first[b.model], b.order, b.check_order);
                       });
      std::string keys;
      for (const auto& r : restrict_keys) keys += (keys.empty() ? "" : ", ") + r.key;
      throw RestrictedError("Cannot delete some instances of model '" +
                                p_.root_model->object_name +
                                "' because they are referenced through restricted foreign keys: " +
                                keys + ".",
                            dedupe(std::move(restrict_objects)));
    }
  }

  // ---- the delete order ------------------------------------------------------------------------
  //
  // Django's order depends on the rows: its collect() enters a model, records that one model
  // must be deleted after another, and queues fast deletes, only for relations that reach rows
  // (rules 48, 59-61), and its sort() keeps that order where dependencies allow. The plan's
  // order assumes every relation has rows; this one follows the same walk over the relations
  // that do, so the result's labels and the signals come in Django's order.
  void order_by_rows() {
    if (p_.collected.size() <= 1 && p_.fast_queue.size() <= 1) return;
    std::map<std::pair<const Field*, int>, bool> rows;
    auto has_rows = [&](const Field* fk, int parent) {
      auto [it, added] = rows.try_emplace({fk, parent}, false);
      if (added) it->second = any_referencing(*fk, parent, std::nullopt);
      return it->second;
    };
    std::map<std::pair<const Field*, int>, int> cascades_to;
    for (std::size_t c = 0; c < p_.nodes.size(); ++c) {
      for (const auto& s : p_.nodes[c].sources) {
        if (!s.root) cascades_to[{s.fk, s.parent}] = static_cast<int>(c);
      }
    }
    std::set<std::pair<const Field*, int>> restricts;
    for (const auto& chk : p_.checks) {
      if (!chk.protect && !chk.never) restricts.insert({chk.fk, chk.parent});
    }
    std::vector<int> data, fast;
    std::vector<FastEntry> entries;
    std::map<int, std::set<int>> deps;
    std::vector<bool> visited(p_.nodes.size(), false);
    auto enter = [](std::vector<int>& list, int x) {
      if (std::find(list.begin(), list.end(), x) == list.end()) list.push_back(x);
    };
    std::function<void(int)> visit = [&](int n) {
      visited[static_cast<std::size_t>(n)] = true;
      std::vector<int> level_fast;
      for (const auto& rel : model(n).related_objects) {
        const Field* fk = rel.field;
        auto to = cascades_to.find({fk, n});
        if (to != cascades_to.end()) {
          int c = to->second;
          if (p_.nodes[static_cast<std::size_t>(c)].fast) {
            enter(level_fast, c);  // queued whether or not it matches rows
            continue;
          }
          if (!has_rows(fk, n)) continue;
          enter(data, c);
          if (!fk->null) deps[n].insert(c);  // a self reference too: then the sort gives up
          if (!visited[static_cast<std::size_t>(c)]) visit(c);
        } else if (restricts.count({fk, n}) && has_rows(fk, n)) {
          int x = node_of(*fk->model);
          if (x >= 0 && !p_.nodes[static_cast<std::size_t>(x)].fast) {
            deps[n].insert(x);
            enter(data, x);
          }
        }
      }
      // On a CASCADE cycle Django's walk recurses once per generation and queues a level's
      // fast deletes when the level ends: the deepest generation's first.
      std::int64_t generations = 0;
      if (!level_fast.empty() && cycle_table_.count(n)) {
        auto rows = query(Fragment{"SELECT MAX(" + q("gen") + ") FROM " + q(cycle_table_[n]), {}, false});
        if (rows->next() && !rows->get(0).is_null()) generations = rows->get(0).as_integer() + 1;
      }
      for (std::int64_t g = generations - 1; g >= 0; --g) {
        for (int f : level_fast) entries.push_back({f, n, g});
      }
      for (int f : level_fast) {
        enter(fast, f);
        if (generations == 0) entries.push_back({f, n, -1});
      }
    };
    enter(data, 0);
    visit(0);
    // Nodes no relation with rows reaches have no rows: their place changes nothing.
    for (int x : p_.collected) enter(data, x);
    for (int x : p_.fast_queue) enter(fast, x);
    // Django's sort(), over the models in the walk's order.
    std::vector<int> sorted = detail::sort_models(data, deps);
    sorted_ = std::move(sorted);
    fast_ = std::move(fast);
    // Entries of levels the walk did not reach (no rows there) go last.
    auto plan_entries = std::move(fast_entries_);
    fast_entries_.clear();
    for (const auto& e : entries) add_fast_entry(e.node, e.parent, e.gen);
    for (const auto& e : plan_entries) {
      bool split = std::any_of(fast_entries_.begin(), fast_entries_.end(), [&](const FastEntry& x) {
        return x.node == e.node && x.parent == e.parent;
      });
      if (!split) add_fast_entry(e.node, e.parent, e.gen);
    }
  }

  // ---- which relation a refusal names (rule 27) ------------------------------------------------
  //
  // Django's collect() walks depth first: everything reached through the root model's first
  // relation (to any depth) is collected before anything reached through its second. A row is
  // therefore collected under the smallest root relation through which it can be reached
  // without passing through another root row, and a refusal found below it is named after that
  // relation. The rows are found by walking up from the blocked row through the plan's
  // relations: a few queries per ancestor of the blocking rows, nothing per row of the tree.

  // The root model's relation index of a foreign key (Django's discovery order).
  int root_relation_index(const Field* fk) const {
    const auto& rel = p_.root_model->related_objects;
    for (std::size_t r = 0; r < rel.size(); ++r) {
      if (rel[r].field == fk) return static_cast<int>(r);
    }
    return static_cast<int>(rel.size());
  }

  bool is_root_row(const Value& pk) {
    if (!p_.root_qs) return std::find(p_.root_pks.begin(), p_.root_pks.end(), pk) != p_.root_pks.end();
    auto cached = root_row_.find(pk);
    if (cached != root_row_.end()) return cached->second;
    const ModelMeta& m = *p_.root_model;
    Fragment where{col(m, m.pk().column) + " = " + std::string(1, kParamMarker) + " AND ", {pk}, false};
    append(where, root_cond());
    add_live_filter(where, m);
    bool found = any(where, m);
    root_row_[pk] = found;
    return found;
  }

  // The relation (and its root relation index) a PROTECT / RESTRICT check names for a
  // referencing row whose key is `parent_pk`.
  std::pair<const Field*, int> refusal_key(const detail::Check& chk, const Value& parent_pk) {
    if (chk.parent == 0 && is_root_row(parent_pk)) return {chk.fk, root_relation_index(chk.fk)};
    int hop = first_root_relation(chk.parent, parent_pk);
    if (hop < 0) {
      // Not reachable from a root row through the plan's relations (cannot happen for rows the
      // check found): the first relation through which the plan reached the model.
      hop = p_.nodes[static_cast<std::size_t>(chk.parent)].first_hop;
      if (hop < 0) return {chk.fk, root_relation_index(chk.fk)};
    }
    return {p_.root_model->related_objects[static_cast<std::size_t>(hop)].field, hop};
  }

  // The smallest root relation index through which the row `pk` of node n is reached; -1 if none.
  int first_root_relation(int n, const Value& pk) {
    auto memo = first_hop_of_.find({n, pk});
    if (memo != first_hop_of_.end()) return memo->second;
    int best = -1;
    std::set<std::pair<int, Value>> seen{{n, pk}};
    std::vector<std::pair<int, Value>> pending{{n, pk}};
    while (!pending.empty()) {
      auto [node, key] = pending.back();
      pending.pop_back();
      const ModelMeta& m = model(node);
      std::vector<const detail::Source*> up;
      std::string columns;
      for (const auto& s : p_.nodes[static_cast<std::size_t>(node)].sources) {
        if (s.root) continue;
        up.push_back(&s);
        columns += (columns.empty() ? "" : ", ") + col(m, s.fk->column);
      }
      if (up.empty()) continue;
      Fragment f{"SELECT " + columns + " FROM " + q(m.db_table) + " WHERE " +
                     col(m, m.pk().column) + " = " + std::string(1, kParamMarker),
                 {key},
                 false};
      add_live_filter(f, m);
      std::vector<Value> parents;
      {
        auto rows = query(f);
        if (!rows->next()) continue;
        for (std::size_t i = 0; i < up.size(); ++i) parents.push_back(rows->get(static_cast<int>(i)));
      }
      for (std::size_t i = 0; i < up.size(); ++i) {
        const detail::Source& s = *up[i];
        if (parents[i].is_null()) continue;
        Value parent = model(s.parent).pk().to_python(parents[i]);
        if (s.parent == 0 && is_root_row(parent)) {
          int r = root_relation_index(s.fk);
          if (best < 0 || r < best) best = r;
          continue;
        }
        if (seen.insert({s.parent, parent}).second) pending.emplace_back(s.parent, parent);
      }
    }
    first_hop_of_[{n, pk}] = best;
    return best;
  }

  // How Django's refusals name a relation: 'Model.field'.
  static std::string relation_label(const Field& fk) {
    return "'" + fk.model->object_name + "." + fk.name + "'";
  }

  int node_of(const ModelMeta& m) const {
    for (std::size_t i = 0; i < p_.nodes.size(); ++i) {
      if (p_.nodes[i].model == &m) return static_cast<int>(i);
    }
    return -1;
  }

  // Rows of the relation's model that reference the rows of its parent node.
  Fragment referencing(const detail::Check& chk) const {
    Fragment f{col(*chk.fk->model, chk.fk->column) + " IN (", {}, false};
    append(f, keys(chk.parent));
    f.sql += ")";
    add_live_filter(f, *chk.fk->model);
    return f;
  }
  Fragment referencing(const detail::Update& u) const {
    Fragment f{col(*u.fk->model, u.fk->column) + " IN (", {}, false};
    append(f, keys(u.parent));
    f.sql += ")";
    add_live_filter(f, *u.fk->model);
    return f;
  }

  std::string select_columns(const ModelMeta& m) const { return sql::column_list(c_, m); }

  void load(const Fragment& where, const ModelMeta& m, std::vector<Instance>& out) {
    Fragment f{"SELECT " + select_columns(m) + " FROM " + q(m.db_table) + " WHERE ", {}, false};
    append(f, where);
    f.sql += " ORDER BY " + col(m, m.pk().column);
    auto rows = query(f);
    while (rows->next()) out.push_back(read(m, *rows));
  }

  static Instance read(const ModelMeta& m, db::Rows& rows) { return sql::read_instance(m, rows); }

  static std::vector<Instance> dedupe(std::vector<Instance> objects) {
    std::vector<Instance> out;
    std::set<std::pair<const ModelMeta*, Value>> seen;
    for (auto& o : objects) {
      if (seen.insert({&o.meta(), o.pk()}).second) out.push_back(std::move(o));
    }
    return out;
  }

  // ---- signals ---------------------------------------------------------------------------------

  // The signal a node's rows get: soft-delete signals for marked rows.
  Signal signal_for(int n, Signal s) const {
    if (!marks(n)) return s;
    return s == Signal::PreDelete ? Signal::PreSoftDelete : Signal::PostSoftDelete;
  }
  bool has_object_receivers(int n) const {
    const ModelMeta& m = model(n);
    if (m.auto_created || silent_) return false;  // never signalled (rule 55)
    return db_.signals().has_receivers(signal_for(n, Signal::PreDelete), m) ||
           db_.signals().has_receivers(signal_for(n, Signal::PostDelete), m);
  }
  bool has_batch_receivers(int n) const {
    const ModelMeta& m = model(n);
    if (silent_) return false;
    return db_.signals().has_batch_receivers(signal_for(n, Signal::PreDelete), m) ||
           db_.signals().has_batch_receivers(signal_for(n, Signal::PostDelete), m);
  }

  // Copies the rows receivers will see into a temporary table, before anything is deleted.
  void snapshot(int n) {
    const ModelMeta& m = model(n);
    std::string columns;
    for (const auto& f : m.fields) {
      std::string type = f.type == FieldType::Auto ? "bigint" : c_.column_type(f);
      columns += (columns.empty() ? "" : ", ") + q(f.column) + " " + type;
    }
    columns += ", PRIMARY KEY (" + q(m.pk().column) + ")";
    std::string name = new_temp(columns);
    std::string cols;
    for (const auto& f : m.fields) cols += (cols.empty() ? "" : ", ") + q(f.column);
    Fragment f{"INSERT INTO " + q(name) + " (" + cols + ") SELECT " + select_columns(m) +
                   " FROM " + q(m.db_table) + " WHERE ",
               {},
               false};
    append(f, cond(n));
    exec(f);
    if (n == 0) {
      // The root objects of an instance delete are the caller's instances, as they hold them
      // (Django signals the instances it was given, even one whose row is already gone).
      std::set<Value> done;
      std::string marks;
      for (std::size_t i = 0; i < m.fields.size(); ++i) marks += (i ? ", " : "") + std::string(1, kParamMarker);
      for (const Instance* inst : p_.root_instances) {
        if (!done.insert(inst->pk()).second) continue;
        exec(Fragment{"DELETE FROM " + q(name) + " WHERE " + q(m.pk().column) + " = " +
                          std::string(1, kParamMarker),
                      {inst->pk()},
                      false});
        exec(Fragment{"INSERT INTO " + q(name) + " (" + cols + ") VALUES (" + marks + ")",
                      inst->values(),
                      false});
      }
    }
    snapshot_[static_cast<std::size_t>(n)] = name;
  }

  // Streams the snapshot in primary-key order, a batch at a time.
  void stream_snapshot(int n, bool ascending, const std::function<void(const Instance&)>& fn) {
    const ModelMeta& m = model(n);
    const std::string& table = snapshot_[static_cast<std::size_t>(n)];
    std::string cols;
    for (const auto& f : m.fields) cols += (cols.empty() ? "" : ", ") + q(f.column);
    std::optional<Value> last;
    while (true) {
      Fragment f{"SELECT " + cols + " FROM " + q(table), {}, false};
      if (last) {
        f.sql += " WHERE " + q(m.pk().column) + (ascending ? " > " : " < ") +
                 std::string(1, kParamMarker);
        f.params.push_back(*last);
      }
      f.sql += " ORDER BY " + q(m.pk().column) + (ascending ? " ASC" : " DESC") + " LIMIT " +
               std::to_string(kStreamBatch);
      std::vector<Instance> batch;
      auto rows = query(f);
      while (rows->next()) batch.push_back(read(m, *rows));
      rows.reset();
      for (const auto& inst : batch) fn(inst);
      if (static_cast<std::int64_t>(batch.size()) < kStreamBatch) break;
      last = batch.back().pk();
    }
  }

  // Streams the node's primary keys in batches (batch receivers).
  void stream_keys(int n, bool ascending, const std::function<void(std::span<const Value>)>& fn) {
    const std::string& table = keys_table_[static_cast<std::size_t>(n)];
    std::optional<Value> last;
    while (true) {
      Fragment f{"SELECT " + q("pk") + " FROM " + q(table), {}, false};
      if (last) {
        f.sql += " WHERE " + q("pk") + (ascending ? " > " : " < ") + std::string(1, kParamMarker);
        f.params.push_back(*last);
      }
      f.sql += " ORDER BY " + q("pk") + (ascending ? " ASC" : " DESC") + " LIMIT " +
               std::to_string(kStreamBatch);
      std::vector<Value> batch;
      auto rows = query(f);
      while (rows->next()) batch.push_back(model(n).pk().to_python(rows->get(0)));
      rows.reset();
      if (!batch.empty()) fn(batch);
      if (static_cast<std::int64_t>(batch.size()) < kStreamBatch) break;
      last = batch.back();
    }
  }

  void send_object_signals(int n, Signal base) {
    if (snapshot_[static_cast<std::size_t>(n)].empty()) return;
    const ModelMeta& m = model(n);
    Signal signal = signal_for(n, base);
    if (!db_.signals().has_receivers(signal, m)) return;
    stream_snapshot(n, base == Signal::PreDelete, [&](const Instance& inst) {
      db_.signals().send(SignalEvent{signal, m, inst, db_.database(), false, p_.origin});
    });
  }

  void send_batch_signals(int n, Signal base) {
    const ModelMeta& m = model(n);
    Signal signal = signal_for(n, base);
    if (silent_ || !db_.signals().has_batch_receivers(signal, m)) return;
    stream_keys(n, base == Signal::PreDelete, [&](std::span<const Value> pks) {
      db_.signals().send_batch(BatchEvent{signal, m, pks, db_.database()});
    });
  }

  // ---- field updates ---------------------------------------------------------------------------

  // The rows an update changes: referencing the deleted rows and not deleted themselves. Django
  // updates the rows it deletes too; skipping them changes nothing, except where the value
  // written must be unique: then every referencing row is updated, so that the delete fails
  // on the constraint as Django's does.
  Fragment update_where(const detail::Update& u) const {
    Fragment where = referencing(u);
    int own = node_of(*u.fk->model);
    bool unique_value = u.fk->unique && u.fk->on_delete != OnDelete::SetNull;
    if (own >= 0 && !unique_value) where = excluding(std::move(where), own);
    return where;
  }

  // The value SET_NULL / SET_DEFAULT / SET writes (a callable is called once, only when rows
  // are affected: rules 33-34).
  Value update_value(const detail::Update& u) {
    const Field& f = *u.fk;
    switch (f.on_delete) {
      case OnDelete::SetNull: return Value();
      case OnDelete::SetDefault: return f.get_default();
      case OnDelete::Set:
        if (f.on_delete_factory) return f.to_python(f.on_delete_factory());
        return f.to_python(*f.on_delete_value);
      default: return Value();
    }
  }

  bool has_callable(const detail::Update& u) const {
    const Field& f = *u.fk;
    return (f.on_delete == OnDelete::SetDefault && f.default_factory) ||
           (f.on_delete == OnDelete::Set && f.on_delete_factory);
  }

  std::int64_t run_update(const detail::Update& u) {
    Fragment where = update_where(u);
    const ModelMeta& m = *u.fk->model;
    if (has_callable(u) && !any(where, m)) return 0;
    Fragment f{"UPDATE " + q(m.db_table) + " SET " + q(u.fk->column) + " = " +
                   std::string(1, kParamMarker) + " WHERE ",
               {update_value(u)},
               false};
    append(f, where);
    return exec(f);
  }

  std::int64_t count_update(const detail::Update& u) {
    Fragment f{"SELECT COUNT(*) FROM " + q(u.fk->model->db_table) + " WHERE ", {}, false};
    append(f, update_where(u));
    return scalar(f);
  }

  // ---- deletes ---------------------------------------------------------------------------------

  bool marks(int n) const { return p_.nodes[static_cast<std::size_t>(n)].mark; }

  // Deletes the node's rows, or marks them for a soft delete, chunk() keys at a time: in ranges
  // of the parent's keys when the rows come from one relation, else of their own keys. The
  // count is the statements' row count, as Django's: rows the database's own DB_CASCADE removes
  // before a statement reaches them are not in it.
  std::int64_t delete_node(int n, const detail::Source* only = nullptr) {
    const ModelMeta& m = model(n);
    auto statement = [&] {
      if (!marks(n)) return Fragment{"DELETE FROM " + q(m.db_table) + " WHERE ", {}, false};
      std::string mark(1, kParamMarker);
      return Fragment{"UPDATE " + q(m.db_table) + " SET " + q(kDeletedAtField) + " = " + mark + ", " +
                          q(kDeletionIdField) + " = " + mark + " WHERE ",
                      {Value(p_.now), Value(p_.deletion_id)},
                      false};
    };
    const auto& sources = p_.nodes[static_cast<std::size_t>(n)].sources;
    std::int64_t total = 0;
    // `only`: the rows referencing one source's parent (a fast-delete entry).
    if (keys_table_[static_cast<std::size_t>(n)].empty() &&
        (only != nullptr || (sources.size() == 1 && !sources[0].root))) {
      const detail::Source& src = only != nullptr ? *only : sources[0];
      if (table_empty(m)) return 0;
      // The rows referencing the parent's keys `keys` (a key select).
      auto children = [&](const Fragment& keys) {
        Fragment where{col(m, src.fk->column) + " IN (", {}, false};
        append(where, keys);
        where.sql += ")";
        add_live_filter(where, m);
        return where;
      };
      auto count = [&](const Fragment& where, std::optional<std::int64_t> cap) {
        Fragment f{"SELECT COUNT(*) FROM (SELECT 1 FROM " + q(m.db_table) + " WHERE ", {}, false};
        append(f, where);
        if (cap) f.sql += " LIMIT " + std::to_string(*cap);
        f.sql += ") " + q("cascade_count");
        return scalar(f);
      };
      auto plain = [&](const Fragment& where) {
        Fragment f = statement();
        append(f, where);
        total += exec(f);
      };
      // LIMITed batches, for the children of parents too many to split further.
      auto batches = [&](const Fragment& where, std::int64_t rows) {
        for (std::int64_t left = rows; left > 0;) {
          Fragment f = statement();
          f.sql += col(m, m.pk().column) + " IN (SELECT " + col(m, m.pk().column) + " FROM " +
                   q(m.db_table) + " WHERE ";
          append(f, where);
          f.sql += " LIMIT " + std::to_string(chunk()) + ")";
          std::int64_t done = exec(f);
          total += done;
          left -= done;
          if (done < chunk()) break;
        }
      };
      // About chunk() rows per statement, however many rows one parent has. (Counts hold while
      // the statements run: the transaction holds SQLite's write lock, and on PostgreSQL the
      // parents are locked against new children.)
      for_each_chunk(src.parent, [&](const std::optional<Value>& lo, const Value& hi, bool final_chunk) {
        bool whole = !lo && final_chunk;
        Fragment where = children(whole ? keys(src.parent) : key_range(src.parent, lo, hi));
        std::int64_t rows = count(where, std::nullopt);
        if (rows == 0) return;
        if (rows <= chunk()) {
          plain(where);  // the plain statement: cheapest, and few enough rows
          return;
        }
        // More than a chunk: the parents' range is split into parts of about chunk() children
        // each, each deleted by the plain statement; a part still holding more than twice
        // that (a few parents with very many children) goes in LIMITed batches.
        Fragment parents{"SELECT COUNT(*) FROM (", {}, false};
        append(parents, key_range(src.parent, lo, hi));
        parents.sql += ") " + q("cascade_parents");
        std::int64_t parts = (rows + chunk() - 1) / chunk();
        std::int64_t size = std::max<std::int64_t>(1, (scalar(parents) + parts - 1) / parts);
        std::optional<Value> part_lo = lo;
        while (true) {
          Fragment next{"SELECT " + q("pk") + " FROM (", {}, false};
          append(next, key_range(src.parent, part_lo, hi));
          next.sql += ") " + q("cascade_part") + " ORDER BY " + q("pk") + " LIMIT 1 OFFSET " +
                      std::to_string(size - 1);
          auto found = query(next);
          bool more = found->next();
          Value part_hi = more ? found->get(0) : hi;
          found.reset();
          Fragment part = children(key_range(src.parent, part_lo, part_hi));
          std::int64_t in_part = count(part, 2 * chunk() + 1);
          if (in_part > 2 * chunk()) {
            batches(part, count(part, std::nullopt));
          } else if (in_part > 0) {
            plain(part);
          }
          if (!more || part_hi == hi) break;
          part_lo = part_hi;
        }
      });
      return total;
    }
    for_each_chunk(n, [&](const std::optional<Value>& lo, const Value& hi, bool final_chunk) {
      Fragment f = statement();
      if (!lo && final_chunk) {
        append(f, cond(n));  // everything fits in one chunk: the plain statement
      } else {
        f.sql += col(m, m.pk().column) + " IN (";
        append(f, key_range(n, lo, hi));
        f.sql += ")";
      }
      total += exec(f);
    });
    return total;
  }

  void add_fast_label(int n) {
    if (std::find(fast_labels_.begin(), fast_labels_.end(), n) == fast_labels_.end()) {
      fast_labels_.push_back(n);
    }
  }

  // The keys of one generation of a cyclic node, optionally in the range (lo, hi].
  Fragment generation_keys(int n, std::int64_t gen, const std::optional<Value>& lo = std::nullopt,
                           const std::optional<Value>& hi = std::nullopt) const {
    std::string mark(1, kParamMarker);
    Fragment f{"SELECT " + q("pk") + " FROM " + q(cycle_table_.at(n)) + " WHERE " + q("gen") +
                   " = " + std::to_string(gen),
               {},
               false};
    if (lo) {
      f.sql += " AND " + q("pk") + " > " + mark;
      f.params.push_back(*lo);
    }
    if (hi) {
      f.sql += " AND " + q("pk") + " <= " + mark;
      f.params.push_back(*hi);
    }
    return f;
  }

  // Deletes the rows of fast node n whose key `s` references one generation of its cyclic
  // parent, chunk() parent keys at a time.
  std::int64_t delete_generation_children(int n, const detail::Source& s, std::int64_t gen) {
    const ModelMeta& m = model(n);
    std::int64_t total = 0;
    std::optional<Value> lo;
    while (true) {
      Fragment next = generation_keys(s.parent, gen, lo);
      next.sql += " ORDER BY " + q("pk") + " LIMIT 1 OFFSET " + std::to_string(chunk() - 1);
      std::optional<Value> hi;
      {
        auto rows = query(next);
        if (rows->next()) hi = rows->get(0);
      }
      Fragment f{"DELETE FROM " + q(m.db_table) + " WHERE " + col(m, s.fk->column) + " IN (", {},
                 false};
      append(f, generation_keys(s.parent, gen, lo, hi));
      f.sql += ")";
      add_live_filter(f, m);
      total += exec(f);
      if (!hi) return total;
      lo = hi;
    }
  }

  // Rows of a fast entry's node referencing the rows of its level (through any of its keys to
  // it; a generation of them on a cycle).
  Fragment fast_entry_cond(const FastEntry& e) const {
    int n = e.node;
    const ModelMeta& m = model(n);
    Fragment out{"(", {}, false};
    bool first = true;
    for (const auto& s : p_.nodes[static_cast<std::size_t>(n)].sources) {
      if (s.root || s.parent != e.parent) continue;
      out.sql += first ? "" : " OR ";
      first = false;
      out.sql += col(m, s.fk->column) + " IN (";
      append(out, e.gen < 0 ? keys(e.parent) : generation_keys(e.parent, e.gen));
      out.sql += ")";
    }
    out.sql += ")";
    add_live_filter(out, m);
    return out;
  }

  std::int64_t count_node(int n) {
    Fragment f{"SELECT COUNT(*) FROM " + q(model(n).db_table) + " WHERE ", {}, false};
    append(f, cond(n));
    return scalar(f);
  }

  // Before deleting node n, keep its keys if a later step still reads its table.
  void keep_keys_for_later(int n, std::size_t position) {
    if (!keys_table_[static_cast<std::size_t>(n)].empty()) return;
    for (std::size_t i = position + 1; i < sorted_.size(); ++i) {
      std::set<int> reads;
      tables_read(sorted_[i], reads);
      reads.erase(sorted_[i]);
      if (reads.count(n)) {
        materialize(n);
        return;
      }
    }
  }

  DeleteResult assemble(const std::map<int, std::int64_t>& counts) const {
    DeleteResult result;
    auto add = [&](int n) {
      auto it = counts.find(n);
      if (it == counts.end() || it->second == 0) return;
      std::string label = model(n).label();
      auto existing = std::find_if(result.per_model.begin(), result.per_model.end(),
                                   [&](const auto& e) { return e.first == label; });
      if (existing != result.per_model.end()) {
        existing->second += it->second;
      } else {
        result.per_model.emplace_back(label, it->second);
      }
      result.total += it->second;
    };
    for (int n : fast_labels_) add(n);
    for (int n : sorted_) add(n);
    return result;
  }

  // ---- the whole delete ------------------------------------------------------------------------

  DeletionPlan::Progress progress_;
  const Preview* shown_ = nullptr;  // a bound execute(): the preview it must match
  bool silent_ = false;  // a purge preview's trial run: no signal is sent
  int step_ = 0;
  int steps_ = 0;
  void report(const std::string& what) {
    if (progress_) progress_(++step_, steps_, what);
  }

  DeleteResult execute() {
    if (p_.root_empty) return {};
    steps_ = 1 + static_cast<int>(fast_.size() + p_.updates.size() + sorted_.size());
    if (p_.single_statement && shown_ == nullptr) {
      report("delete " + p_.root_model->label());
      return execute_single();
    }
    DeleteResult result;
    db::atomic(c_, db::Atomic::Mode::Immediate, [&] {
      report("check");
      prepare();
      lock_referenced_rows();
      check();
      order_by_rows();
      if (shown_ != nullptr) verify(*shown_);
      // Rows receivers will see are fixed before the first pre_delete.
      for (int n : sorted_) {
        if (has_object_receivers(n)) snapshot(n);
      }
      for (int n : sorted_) {
        if (has_batch_receivers(n) || (has_object_receivers(n) && keys_table_[static_cast<std::size_t>(n)].empty())) {
          materialize(n);
        }
      }
      for (int n : fast_) {
        if (has_batch_receivers(n)) materialize(n);
      }
      // 1. pre_delete, model by model in delete order, primary keys ascending (rule 61).
      for (int n : sorted_) {
        send_object_signals(n, Signal::PreDelete);
        send_batch_signals(n, Signal::PreDelete);
      }
      std::map<int, std::int64_t> counts;
      // 2. fast deletes, in Django's queue order: each entry deletes the rows referencing its
      // level (a node with batch receivers, its keys fixed, goes whole at its first entry).
      std::set<int> started, whole;
      for (const auto& [n, parent, gen] : fast_entries_) {
        if (whole.count(n)) continue;
        if (started.insert(n).second) report((marks(n) ? "mark " : "delete ") + model(n).label());
        std::int64_t deleted = 0;
        if (!keys_table_[static_cast<std::size_t>(n)].empty()) {
          whole.insert(n);
          send_batch_signals(n, Signal::PreDelete);
          deleted = delete_node(n);
          send_batch_signals(n, Signal::PostDelete);
        } else {
          for (const auto& s : p_.nodes[static_cast<std::size_t>(n)].sources) {
            if (s.root || s.parent != parent) continue;
            deleted += gen < 0 ? delete_node(n, &s) : delete_generation_children(n, s, gen);
          }
        }
        counts[n] += deleted;
        if (deleted > 0) add_fast_label(n);
      }
      // 3. field updates.
      for (const auto& u : p_.updates) {
        report("update " + u.fk->model->label() + "." + u.fk->name);
        run_update(u);
      }
      // 4. deletes in sorted order, each followed by its post_delete (primary keys descending).
      for (std::size_t i = 0; i < sorted_.size(); ++i) {
        int n = sorted_[i];
        report((marks(n) ? "mark " : "delete ") + model(n).label());
        keep_keys_for_later(n, i);
        counts[n] += delete_node(n);
        send_object_signals(n, Signal::PostDelete);
        send_batch_signals(n, Signal::PostDelete);
      }
      drop_temp_tables();
      result = assemble(counts);
      if (shown_ != nullptr && counts_are_exact()) {
        std::string diff = count_differences(shown_->counts, result, "deleted");
        if (!diff.empty()) throw PreviewChanged(kChanged + diff);  // rolls everything back
      }
    });
    if (p_.kind == detail::Kind::Hard) {
      for (Instance* inst : p_.root_instances) inst->set_pk(Value());
    } else {
      // The marked instances show their marks, as the rows do.
      for (Instance* inst : p_.root_instances) {
        if (inst->get(kDeletedAtField).is_null()) {
          inst->set(kDeletedAtField, Value(p_.now));
          inst->set(kDeletionIdField, Value(p_.deletion_id));
        }
      }
    }
    return result;
  }

  DeleteResult execute_single() {
    std::int64_t count;
    if (p_.root_qs) {
      auto compiled = sql::compile_delete(c_, p_.root_qs->state());
      count = compiled.empty ? 0 : c_.execute(compiled.sql, compiled.params);
    } else {
      Fragment f{"DELETE FROM " + q(p_.root_model->db_table) + " WHERE ", {}, false};
      append(f, root_cond());
      count = exec(f);
    }
    DeleteResult result;
    if (count > 0 || p_.single_object) {
      result.total = count;
      result.per_model.emplace_back(p_.root_model->label(), count);
    }
    for (Instance* inst : p_.root_instances) inst->set_pk(Value());
    return result;
  }

  // ---- preview ---------------------------------------------------------------------------------

  Preview preview(std::int64_t max_items) {
    Preview out;
    out.max_items = max_items;
    if (p_.root_empty) return out;
    db::Atomic tx(c_);  // never committed: the destructor rolls everything back
    if (p_.single_statement) {
      Fragment f{"SELECT COUNT(*) FROM " + q(p_.root_model->db_table) + " WHERE ", {}, false};
      append(f, root_cond());
      std::int64_t count = scalar(f);
      if (count > 0 || p_.single_object) {
        out.counts.total = count;
        out.counts.per_model.emplace_back(p_.root_model->label(), count);
      }
    } else {
      prepare();
      try {
        check();
      } catch (const ProtectedError& e) {
        block(out, Refusal::Protected, e.what(), e.protected_objects());
      } catch (const RestrictedError& e) {
        block(out, Refusal::Restricted, e.what(), e.restricted_objects());
      }
      order_by_rows();
      count_all(out, true);
    }
    std::tie(out.roots, out.roots_digest) = root_fingerprint();
    for (std::size_t n = 0; n < p_.nodes.size(); ++n) {
      if (marks(static_cast<int>(n))) continue;  // a soft delete removes no row
      const ModelMeta& m = model(static_cast<int>(n));
      database_effects(out, m, keys(static_cast<int>(n)), {&m});
    }
    if (max_items > 0) build_tree(out, max_items);
    return out;
  }

  // What the database's own rules do when the rows of `m` whose keys `deleted` selects go:
  // DB_* actions (followed through DB_CASCADE), and DO_NOTHING references left dangling, which
  // make the commit fail (a foreseen refusal, unless the plan already refuses).
  void database_effects(Preview& out, const ModelMeta& m, const Fragment& deleted,
                        std::vector<const ModelMeta*> path) {
    for (const auto& rel : m.related_objects) {
      const Field* fk = rel.field;
      if (fk->type == FieldType::ManyToMany) continue;
      OnDelete rule = fk->on_delete;
      const char* action = rule == OnDelete::DbCascade      ? "ON DELETE CASCADE"
                           : rule == OnDelete::DbSetNull    ? "ON DELETE SET NULL"
                           : rule == OnDelete::DbSetDefault ? "ON DELETE SET DEFAULT"
                           : rule == OnDelete::DoNothing    ? "DO_NOTHING"
                                                            : nullptr;
      if (action == nullptr) continue;
      const ModelMeta& r = *fk->model;
      Fragment where{col(r, fk->column) + " IN (", {}, false};
      append(where, deleted);
      where.sql += ")";
      if (rule == OnDelete::DoNothing) {
        // Rows the plan deletes itself are not left behind.
        int own = node_of(r);
        if (own >= 0 && !marks(own)) where = and_not(std::move(where), cond(own));
      }
      Fragment f{"SELECT COUNT(*) FROM " + q(r.db_table) + " WHERE ", {}, false};
      append(f, where);
      std::int64_t count = scalar(f);
      if (count == 0) continue;
      out.database_effects.push_back({r.label(), fk->name, action, count});
      if (rule == OnDelete::DoNothing && !out.blocked()) {
        out.blocked_by = Refusal::Commit;
        out.blocked_message = "the commit would fail: " + std::to_string(count) + " " + r.label() +
                              " row" + (count == 1 ? "" : "s") + " would still reference deleted " +
                              m.label() + " rows through " + relation_label(*fk) +
                              " (on_delete=DO_NOTHING)";
        std::int64_t cap = std::max<std::int64_t>(out.max_items, 1);
        Fragment list{"SELECT " + select_columns(r) + " FROM " + q(r.db_table) + " WHERE ", {}, false};
        append(list, where);
        list.sql += " ORDER BY " + col(r, r.pk().column) + c_.limit_offset_sql(cap, 0);
        auto rows = query(list);
        while (rows->next()) {
          Instance o = read(r, *rows);
          out.blocking.push_back({r.label(), display(o), false, {}, o.pk()});
        }
      }
      if (rule == OnDelete::DbCascade && std::find(path.begin(), path.end(), &r) == path.end()) {
        Fragment keys{"SELECT " + col(r, r.pk().column) + " FROM " + q(r.db_table) + " WHERE ", {}, false};
        append(keys, where);
        path.push_back(&r);
        database_effects(out, r, keys, path);
        path.pop_back();
      }
    }
  }

  // The rows the plan will delete (per model, Django's order) and update, in the current state.
  // `values`: also the values the updates write (a SET callable is not called: "<computed>").
  void count_all(Preview& out, bool values) {
    std::map<int, std::int64_t> counts;
    // Each fast entry counts the rows it will delete: those its level's keys reach and no
    // earlier entry of the same node does.
    for (std::size_t e = 0; e < fast_entries_.size(); ++e) {
      const FastEntry& entry = fast_entries_[e];
      int n = entry.node;
      Fragment where = fast_entry_cond(entry);
      for (std::size_t earlier = 0; earlier < e; ++earlier) {
        if (fast_entries_[earlier].node != n) continue;
        where = and_not(std::move(where), fast_entry_cond(fast_entries_[earlier]));
      }
      Fragment f{"SELECT COUNT(*) FROM " + q(model(n).db_table) + " WHERE ", {}, false};
      append(f, where);
      std::int64_t c = scalar(f);
      counts[n] += c;
      if (c > 0) add_fast_label(n);
    }
    for (int n : sorted_) counts[n] = count_node(n);
    out.counts = assemble(counts);
    for (const auto& u : p_.updates) {
      std::int64_t n = count_update(u);
      if (n == 0) continue;
      std::string value;
      if (values) value = has_callable(u) ? "<computed>" : update_value(u).repr();
      out.updates.push_back({u.fk->model->label(), u.fk->name, value, n});
    }
  }

  // ---- binding a delete to its preview ---------------------------------------------------------

  static constexpr const char* kChanged =
      "The rows changed since the preview, so nothing was changed: ";

  // The root rows now: how many, and a digest (64-bit FNV-1a) of their primary keys in order.
  std::pair<std::int64_t, std::uint64_t> root_fingerprint() {
    // A cyclic root node's keys also hold the rows its cycle reaches: read the root condition.
    Fragment f = keys(0);
    if (p_.nodes[0].cyclic) {
      const ModelMeta& m = *p_.root_model;
      f = Fragment{"SELECT " + col(m, m.pk().column) + " FROM " + q(m.db_table) + " WHERE ", {}, false};
      append(f, root_cond());
      add_live_filter(f, m);
    }
    f.sql += " ORDER BY 1";
    auto rows = query(f);
    std::uint64_t h = 14695981039346656037ULL;
    auto mix = [&h](unsigned char byte) {
      h ^= byte;
      h *= 1099511628211ULL;
    };
    std::int64_t n = 0;
    while (rows->next()) {
      for (unsigned char ch : rows->get(0).repr()) mix(ch);
      mix(0);  // a separator no repr contains
      ++n;
    }
    return {n, h};
  }

  static std::string count_differences(const DeleteResult& shown, const DeleteResult& now,
                                        const std::string& verb) {
    std::vector<std::string> labels;
    for (const auto* r : {&shown, &now}) {
      for (const auto& e : r->per_model) {
        if (std::find(labels.begin(), labels.end(), e.first) == labels.end()) labels.push_back(e.first);
      }
    }
    std::string out;
    for (const auto& label : labels) {
      std::int64_t a = shown.count(label);
      std::int64_t b = now.count(label);
      if (a == b) continue;
      out += (out.empty() ? "" : "; ") + label + ": " + std::to_string(b) + " " + verb +
             ", the preview showed " + std::to_string(a);
    }
    return out;
  }

  // In the delete's transaction, before anything is written: the root rows, the counts and the
  // updates must be those of the preview.
  void verify(const Preview& shown) {
    auto [roots, digest] = root_fingerprint();
    if (roots != shown.roots) {
      throw PreviewChanged(kChanged + std::to_string(roots) + " " + p_.root_model->label() +
                           " row" + (roots == 1 ? "" : "s") + " match now, the preview showed " +
                           std::to_string(shown.roots));
    }
    if (digest != shown.roots_digest) {
      throw PreviewChanged(kChanged + std::string("the ") + p_.root_model->label() +
                           " rows that match are not those the preview showed");
    }
    Preview now;
    count_all(now, false);
    fast_labels_.clear();  // the deletes record their labels again, as they go
    std::string diff = count_differences(shown.counts, now.counts, marks(0) ? "to mark" : "to delete");
    for (const std::vector<Preview::FieldUpdate>* list : {&shown.updates, &std::as_const(now.updates)}) {
      for (const auto& u : *list) {
        auto count_in = [&](const std::vector<Preview::FieldUpdate>& l) {
          std::int64_t c = 0;
          for (const auto& x : l) {
            if (x.label == u.label && x.field == u.field) c += x.count;
          }
          return c;
        };
        std::int64_t a = count_in(shown.updates);
        std::int64_t b = count_in(now.updates);
        std::string what = u.label + "." + u.field + ": " + std::to_string(b) +
                           " to update, the preview showed " + std::to_string(a);
        if (a != b && diff.find(what) == std::string::npos) diff += (diff.empty() ? "" : "; ") + what;
      }
    }
    if (!diff.empty()) throw PreviewChanged(kChanged + diff);
  }

  // Whether the statements' row counts must equal the preview's counts: not when the database's
  // own ON DELETE actions reach a model the plan deletes (its rows may go before a statement
  // reaches them, and Django's count leaves them out).
  bool counts_are_exact() const {
    for (const auto& node : p_.nodes) {
      for (const auto& rel : node.model->related_objects) {
        OnDelete r = rel.field->on_delete;
        if (r == OnDelete::DbCascade || r == OnDelete::DbSetNull || r == OnDelete::DbSetDefault) {
          return false;
        }
      }
    }
    return true;
  }

  static void block(Preview& out, Refusal kind, const std::string& message,
                    const std::vector<Instance>& objects) {
    out.blocked_by = kind;
    out.blocked_message = message;
    for (const auto& o : objects) out.blocking.push_back({o.meta().label(), display(o), false, {}, o.pk()});
  }

  static std::string display(const Instance& inst) {
    std::string name = inst.meta().verbose_name;
    if (!name.empty()) name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
    return name + ": " + inst.str();
  }

  // Django admin's nested list: each object under the one that pulled it in, depth first,
  // each once, at most max_items in all.
  void build_tree(Preview& out, std::int64_t max_items) {
    std::int64_t listed = 0;
    std::set<std::pair<const ModelMeta*, Value>> seen;
    std::set<const Field*> followed;
    for (const auto& node : p_.nodes) {
      for (const auto& src : node.sources) {
        if (!src.root) followed.insert(src.fk);
      }
    }
    std::function<void(const Instance&, std::vector<Preview::Node>&)> visit;
    visit = [&](const Instance& inst, std::vector<Preview::Node>& siblings) {
      if (!seen.insert({&inst.meta(), inst.pk()}).second) return;
      if (listed >= max_items) {
        ++out.omitted;
        return;
      }
      ++listed;
      int node = node_of(inst.meta());
      siblings.push_back({inst.meta().label(), display(inst), node >= 0 && marks(node), {}, inst.pk()});
      std::size_t me = siblings.size() - 1;
      for (const auto& rel : inst.meta().related_objects) {
        const Field* fk = rel.field;
        if (!followed.count(fk)) continue;
        const ModelMeta& child = *fk->model;
        Fragment where{col(child, fk->column) + " = " + std::string(1, kParamMarker), {inst.pk()},
                       false};
        add_live_filter(where, child);
        Fragment f{"SELECT " + select_columns(child) + " FROM " + q(child.db_table) + " WHERE ",
                   {},
                   false};
        append(f, where);
        f.sql += " ORDER BY " + col(child, child.pk().column);
        std::vector<Instance> children;
        auto rows = query(f);
        while (rows->next()) children.push_back(read(child, *rows));
        rows.reset();
        for (const auto& ch : children) visit(ch, siblings[me].children);
      }
    };
    // The root rows, in the QuerySet's order (primary key order for instances).
    std::vector<Instance> roots;
    if (p_.root_qs) {
      QuerySet ordered = p_.root_qs->order_by(p_.root_model->ordering.empty()
                                                  ? std::vector<std::string>{"pk"}
                                                  : p_.root_model->ordering);
      auto cursor = ordered.cursor();
      std::set<Value> root_keys;  // a QuerySet across a multi-valued join repeats rows
      while (auto inst = cursor.next()) {
        if (!root_keys.insert(inst->pk()).second) continue;
        if (static_cast<std::int64_t>(roots.size()) >= max_items) {
          ++out.omitted;
          continue;
        }
        roots.push_back(std::move(*inst));
      }
    } else {
      Fragment f{"SELECT " + select_columns(*p_.root_model) + " FROM " +
                     q(p_.root_model->db_table) + " WHERE ",
                 {},
                 false};
      append(f, root_cond());
      add_live_filter(f, *p_.root_model);
      f.sql += " ORDER BY " + col(*p_.root_model, p_.root_model->pk().column);
      auto rows = query(f);
      while (rows->next()) roots.push_back(read(*p_.root_model, *rows));
    }
    for (const auto& r : roots) visit(r, out.tree);
    // Objects beyond the budget are counted from the plan's totals.
    std::int64_t total = out.counts.total;
    if (total > listed) out.omitted = std::max(out.omitted, total - listed);
  }

  std::vector<std::string> describe() const {
    std::vector<std::string> out;
    if (p_.root_empty) return {"nothing to delete (the query matches no row)"};
    if (p_.single_statement) return {"delete " + p_.root_model->label() + " in one statement"};
    for (const auto& chk : p_.checks) {
      out.push_back(std::string(chk.protect ? "check PROTECT " : "check RESTRICT ") +
                    chk.fk->model->label() + "." + chk.fk->name);
    }
    for (int n : fast_) out.push_back("delete " + model(n).label() + " (set-based)");
    for (const auto& u : p_.updates) {
      out.push_back("update " + u.fk->model->label() + "." + u.fk->name + " (" +
                    std::string(on_delete_name(u.fk->on_delete)) + ")");
    }
    for (int n : sorted_) {
      const auto& node = p_.nodes[static_cast<std::size_t>(n)];
      out.push_back(std::string(marks(n) ? "mark " : "delete ") + model(n).label() +
                    (has_object_receivers(n) ? " (rows streamed to receivers)" : " (set-based)") +
                    (node.cyclic ? " (cycle: keys computed to a fixpoint)" : ""));
    }
    return out;
  }

 private:
  const detail::Plan& p_;
  Context& db_;
  db::Connection& c_;
  std::vector<std::string> keys_table_;
  std::vector<std::string> snapshot_;
  std::map<int, std::string> cycle_table_;
  std::vector<std::string> temps_;
  int temp_counter_ = 0;
  // Statements that wrote so far: a cached chunk probe is valid while this is unchanged.
  std::int64_t writes_ = 0;
  struct ChunkProbe {
    std::int64_t epoch = -1;
    Value hi;
    bool final_chunk = true;
  };
  std::map<int, ChunkProbe> first_probe_;
  std::vector<int> sorted_;  // collected nodes in delete order (see order_by_rows())
  std::vector<int> fast_;    // fast nodes in Django's queue order
  // Django's fast-delete queue: one entry per fast node and level (the node whose rows its
  // keys reference), in the order its walk queued them; a label takes the place of the first
  // entry that deleted rows.
  std::vector<FastEntry> fast_entries_;
  std::vector<int> fast_labels_;
  std::map<Value, bool> root_row_;
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> table_rows_;  // rows, at last ANALYZE
  std::map<std::pair<int, Value>, int> first_hop_of_;
};

}  // namespace

Preview DeletionPlan::preview(std::int64_t max_items) const {
  Runner r(*plan_);
  return r.preview(max_items);
}

DeleteResult DeletionPlan::execute() const {
  Runner r(*plan_);
  return r.execute();
}

DeleteResult DeletionPlan::execute(const Progress& progress) const {
  Runner r(*plan_);
  r.progress_ = progress;
  return r.execute();
}

DeleteResult DeletionPlan::execute(const Preview& shown, const Progress& progress) const {
  Runner r(*plan_);
  r.progress_ = progress;
  r.shown_ = &shown;
  return r.execute();
}

DeleteResult DeletionPlan::execute_silently(const Preview* shown) const {
  Runner r(*plan_);
  r.silent_ = true;
  r.shown_ = shown;
  return r.execute();
}

std::vector<std::string> DeletionPlan::statements(const Preview* shown) const {
  db::Connection& c = plan_->db->connection();
  std::vector<std::string> out;
  db::Atomic trial(c);  // never committed: the destructor rolls the trial back
  auto previous = c.observe_statements([&out](std::string_view sql, std::span<const Value> params) {
    // The trial's own savepoint stands for the delete's transaction.
    if (sql.starts_with("SAVEPOINT") || sql.starts_with("RELEASE")) return;
    std::string line(sql);
    if (!params.empty()) {
      line += "  -- params: ";
      for (std::size_t i = 0; i < params.size(); ++i) line += (i ? ", " : "") + params[i].repr();
    }
    out.push_back(std::move(line));
  });
  try {
    execute_silently(shown);
  } catch (...) {
    c.observe_statements(std::move(previous));
    throw;
  }
  c.observe_statements(std::move(previous));
  return out;
}

std::vector<std::string> DeletionPlan::steps() const {
  Runner r(*plan_);
  return r.describe();
}

// ---- results and errors ------------------------------------------------------------------------

std::int64_t DeleteResult::count(const std::string& label) const {
  for (const auto& [l, n] : per_model) {
    if (l == label) return n;
  }
  return 0;
}

std::string DeleteResult::repr() const {
  std::string out = "(" + std::to_string(total) + ", {";
  for (std::size_t i = 0; i < per_model.size(); ++i) {
    out += (i ? ", " : "") + python_repr(per_model[i].first) + ": " +
           std::to_string(per_model[i].second);
  }
  return out + "})";
}

std::string_view refusal_name(Refusal refusal) noexcept {
  switch (refusal) {
    case Refusal::None: return "";
    case Refusal::Protected: return "ProtectedError";
    case Refusal::Restricted: return "RestrictedError";
    case Refusal::Commit: return "IntegrityError";
  }
  return "";
}

ProtectedError::ProtectedError(std::string message, std::vector<Instance> objects)
    : IntegrityError(std::move(message)), objects_(std::move(objects)) {}

RestrictedError::RestrictedError(std::string message, std::vector<Instance> objects)
    : IntegrityError(std::move(message)), objects_(std::move(objects)) {}

std::string Preview::text() const {
  std::ostringstream out;
  std::function<void(const Node&, int)> print = [&](const Node& n, int depth) {
    out << std::string(static_cast<std::size_t>(depth) * 4, ' ') << "- " << n.text
        << (n.marked ? " (soft-deleted)" : "") << "\n";
    for (const auto& c : n.children) print(c, depth + 1);
  };
  for (const auto& n : tree) print(n, 0);
  if (omitted > 0) out << "... and " << omitted << " more object" << (omitted == 1 ? "" : "s") << "\n";
  out << "Summary: " << counts.total << " object" << (counts.total == 1 ? "" : "s") << "\n";
  for (const auto& [label, n] : counts.per_model) out << "  " << label << ": " << n << "\n";
  for (const auto& u : updates) {
    out << "Will set " << u.label << "." << u.field << " = " << u.value << " on " << u.count
        << " row" << (u.count == 1 ? "" : "s") << "\n";
  }
  for (const auto& e : database_effects) {
    std::string rows = std::to_string(e.count) + " " + e.label + " row" + (e.count == 1 ? "" : "s");
    if (e.action == "DO_NOTHING") {
      out << "The commit would fail: " << rows << " would still reference deleted rows through "
          << e.field << " (DO_NOTHING)\n";
    } else {
      out << "The database will " << (e.action == "ON DELETE CASCADE" ? "delete " : "change ")
          << rows << " through " << e.field << " (" << e.action << ")\n";
    }
  }
  if (blocked()) {
    out << "Blocked (" << refusal_name(blocked_by) << "): " << blocked_message << "\n";
    std::int64_t shown = 0;
    for (const auto& b : blocking) {
      if (shown++ >= std::max<std::int64_t>(max_items, 1)) break;
      out << "  - " << b.text << "\n";
    }
    auto hidden = static_cast<std::int64_t>(blocking.size()) - std::max<std::int64_t>(max_items, 1);
    if (hidden > 0) out << "  ... and " << hidden << " more\n";
  }
  return out.str();
}

}  // namespace cascade
