// The Runner: what execute() and preview() of a DeletionPlan share, so that both evaluate the
// very same predicates in the same order. Internal to the deletion layer. Its parts live in:
//   run_keys.cc     the SQL for a node's rows, key sets in temporary tables, chunks, statements
//   run_checks.cc   the collection phase (fixing root rows, locks, PROTECT / RESTRICT / never) and
//                   which relation a refusal names
//   run_order.cc    Django's delete order from the rows that exist
//   run_writes.cc   signals, field updates, deletes
//   run_preview.cc  the preview, what the database's own rules will do, binding to a preview
//   run.cc          the whole delete, and DeletionPlan's entry points
#pragma once

#include <algorithm>
#include <functional>
#include <limits>
#include <optional>
#include <tuple>
#include <set>
#include <sstream>

#include "cascade/query/context.h"
#include "cascade/query/manager.h"
#include "cascade/query/queryset.h"
#include "cascade/db/transaction.h"
#include "cascade/error.h"
#include "deletion/audit_operation.h"
#include "deletion/plan.h"
#include "sql/query.h"
#include "sql/compiler.h"
#include "sql/rows.h"
#include "sql/statements.h"

namespace cascade::detail {

using sql::Fragment;
using sql::kParamMarker;

inline constexpr std::int64_t kStreamBatch = 1000;

using sql::append;
using sql::Compare;
using sql::kGenColumn;
using sql::kHeldColumn;
using sql::kKeyColumn;
using Sql = sql::Statements;

class Runner {
 public:
  // An entry of Django's fast-delete queue: the rows of a fast node referencing its level.
  struct FastEntry {
    int node;
    int parent;
    std::int64_t gen = -1;  // a cyclic parent: the rows of one generation of it; -1: all
    bool operator==(const FastEntry&) const = default;
  };

  explicit Runner(const Plan& plan)
      : p_(plan),
        db_(*plan.db),
        c_(plan.db->connection()),
        s_(c_),
        keys_table_(plan.nodes.size()),
        snapshot_(plan.nodes.size()),
        sorted_(plan.sorted),
        fast_(plan.fast_queue) {
    read_content_types();
    for (int f : fast_) {
      for (const auto& s : plan.nodes[static_cast<std::size_t>(f)].sources) {
        if (!s.root) add_fast_entry(f, s.parent);
      }
    }
  }

  void add_fast_entry(int node, int parent, std::int64_t gen = -1);

  ~Runner() { drop_temp_tables(); }

  // ---- SQL for the rows of a node -------------------------------------------------------------

  std::string col(const ModelMeta& m, const std::string& column) const {
    return s_.column(m, column);
  }
  const ModelMeta& model(int n) const { return *p_.nodes[static_cast<std::size_t>(n)].model; }

  // The condition, on the node's table, selecting the node's rows.
  Fragment cond(int n) const;
  // The same rows as a condition a database answers row by row: each source's parent is
  // looked up by its primary key (a correlated EXISTS up to the root) instead of computing the
  // parent's whole key set. For the checks, which ask about a few referencing rows: their cost
  // then follows those rows, not the size of the cascade (a PROTECT row under a million-row
  // tree). Sources it cannot follow that way (to_field keys, parent links, generic relations,
  // a parent in the same table) keep the set form.
  Fragment member_cond(int n) const;
  Fragment member_path(const detail::Source& s, const ModelMeta& m) const;
  // A source member_cond follows by key: a foreign key to the parent's primary key, in
  // another table.
  bool plain_key_source(const detail::Source& s, const ModelMeta& m) const;

  // A soft delete sees live rows only: rows already soft-deleted keep their own marks.
  bool live_only(const ModelMeta& m) const;
  void add_live_filter(Fragment& where, const ModelMeta& m) const;

  // A SELECT of the node's primary keys, as kKeyColumn.
  Fragment keys(int n) const;

  // The rows of `m` whose key is among kKeyColumn of `select`.
  Fragment keyed_by(const ModelMeta& m, const std::string& column, const Fragment& select) const {
    return Sql::in(col(m, column), select);
  }

  // The rows of fk's model referring to a row (of node `parent`, or -1) whose primary key is
  // among kKeyColumn of `parent_keys`. A key holding a to_field's value is matched through
  // that field: read from the snapshot snapshot_held_values() took of the parent's rows when
  // there is one (the parent's rows may be deleted first), else from the target's table.
  Fragment referring(const Field& fk, int parent, const Fragment& parent_keys) const;
  // The rows a source gives its node, `parent_keys` being keys of the source's parent node:
  // referring(), or for a parent link followed up (Source::up) the rows with those keys.
  // For a GenericRelation (Source::generic), the rows of its target with the parent's
  // content type and one of those keys as object id.
  Fragment source_rows(const detail::Source& s, const Fragment& parent_keys) const {
    if (s.up) return keyed_by(*s.fk->target, s.fk->target->pk().column, parent_keys);
    if (s.generic != nullptr) return generic_rows(s, parent_keys);
    return referring(*s.fk, s.parent, parent_keys);
  }
  Fragment generic_rows(const detail::Source& s, const Fragment& parent_keys) const;
  // The content type id of each node's model that a GenericRelation source refers to (null:
  // no content type row yet, so no row can refer to it); read when the Runner starts.
  void read_content_types();
  // Django's collection asks for the content type of each model with a GenericRelation whose
  // rows it collects, creating the row when missing: so does a delete (not a preview). A new
  // content type has no rows referring to it, so the delete itself is unchanged.
  void create_content_types();
  // Of `node_keys` (keys of node n), those whose relations Django walks: not the rows collected
  // only as the multi-table parents of a child's rows (Source::up), whose generic relations
  // Django does not follow (the child's copies match the child's content type instead).
  Fragment walked_keys(int n, const Fragment& node_keys) const;
  std::map<int, Value> content_type_;
  // Before anything is written: for each node whose rows are referred to through a to_field,
  // a temporary table of its rows' primary keys and that field's values.
  void snapshot_held_values();
  // The primary key of the row that `held`, a value of fk's column, refers to (null if none).
  Value parent_key(const Field& fk, const Value& held);

  // The row of `m` is not among the keys in `table`: NOT EXISTS, an anti-join, which the planner
  // can hash or merge however large the table (PostgreSQL runs a NOT IN as a scan of the table
  // per row once it outgrows work_mem).
  Fragment absent_from(const std::string& table, const ModelMeta& m) const;

  // The keys in a key table, `gen` one generation of them (-1: all), optionally in (lo, hi].
  Fragment table_keys(const std::string& table, std::int64_t gen = -1,
                      const std::optional<Value>& lo = std::nullopt,
                      const std::optional<Value>& hi = std::nullopt) const;

  // `where`, on node n's table, without node n's rows: with n's keys in a table, an anti-join;
  // else and_not().
  Fragment excluding(Fragment where, int n) const;
  // The same with node n's rows tested row by row (member_cond), for the checks.
  Fragment excluding_rows(Fragment where, int n) const;

  // Keys per chunk of a set-based step (Database::set_delete_chunk_size).
  std::int64_t chunk() const { return db_.delete_chunk_size(); }

  // Calls fn(lo, hi, last) for consecutive ranges of the node's keys, ascending, chunk() keys
  // each: the range is (lo, hi], lo absent for the first one; `last` for the final range. A probe
  // reads up to chunk() + 1 keys, so a set of exactly chunk() keys is known to be one chunk. The
  // first probe is reused while nothing has been written since (a check and the delete after it
  // probe the same set).
  void for_each_chunk(
      int n, const std::function<void(const std::optional<Value>&, const Value&, bool)>& fn);

  // The node's keys in (lo, hi].
  Fragment key_range(int n, const std::optional<Value>& lo, const Value& hi) const;

  Fragment root_cond() const;

  // Tables a node's condition reads (while not materialized).
  void tables_read(int n, std::set<int>& out) const;

  // ---- statements -----------------------------------------------------------------------------

  std::int64_t exec(const Fragment& f);
  // Copies the keys of node n's rows `where` selects into the audit log, when the operation
  // records its rows; called before the statement that deletes or marks them.
  void record(int n, const Fragment& where) {
    if (audit_ != nullptr) audit_->record_rows(model(n), where);
  }
  bool records_rows() const {
    return audit_ != nullptr && audit_->recording() && db_.audit().record_rows;
  }
  std::unique_ptr<db::Rows> query(const Fragment& f);
  std::int64_t scalar(const Fragment& f);
  bool any(const Fragment& where, const ModelMeta& m);

  // Whether any row of the relation's model references the parent's rows. One join when the
  // two are different tables (the database picks the order: an empty or small referencing table
  // is read first, and no key set is materialised); else a chunk of parent keys at a time (a
  // check over a million keys must not materialise them all).
  bool any_referencing(const Field& fk, int parent, const std::optional<int>& exclude_own);

  // Whether the table holds no row at all: a step on it has nothing to do.
  bool table_empty(const ModelMeta& m) { return !any(Sql::every_row(), m); }

  // Creates a temporary table with `create(name)`, dropped when the Runner ends.
  std::string new_temp(const std::function<std::string(const std::string&)>& create);

  void drop_temp_tables() noexcept;

  // A key table just filled: the planner's statistics for it, where the backend keeps any
  // (PostgreSQL plans a temporary table without statistics as if it were tiny).
  // A table filled generation by generation is analyzed each time it has doubled, so the
  // statistics stay close at a logarithmic number of ANALYZEs.
  void refresh_statistics(const std::string& table, std::int64_t added = -1);

  static std::vector<std::string> key_table_columns() {
    return {std::string(kKeyColumn), std::string(kGenColumn)};
  }

  // Stores the node's keys in a temporary table; its condition then reads only that table.
  void materialize(int n);
  // Before the writes (after the checks, which must not pay for it): key tables for the nodes
  // whose condition nests two subqueries or more and that other nodes read, so that a cascade
  // through many models reads each level a bounded number of times instead of re-evaluating
  // every level above it in each statement (a chain of d models cost O(d) per row).
  // `before(n)`, when given, is called for every node, parents before children, just before
  // its key table (if it gets one) is made: the row locks go there.
  void materialize_levels(const std::function<void(int)>& before = {});

  // Nodes on CASCADE cycles: their keys, computed generation by generation until no new row
  // appears (each generation reads only the rows the previous one found).
  void materialize_cycles();
  void materialize_cycle_group(const std::vector<int>& group);

  // ---- the collection phase: reads only ------------------------------------------------------

  bool writes_before_root_delete() const;

  // True when the root QuerySet's condition could change before the root's own delete: it
  // reads another table (a join or a subquery), or an update writes the root's table.
  bool root_condition_may_change() const;
  // True unless the root is a QuerySet whose condition reads only the root's own table.
  bool root_reads_other_tables() const;

  void prepare();

  // Where rows can be locked (PostgreSQL), a function that locks node n's rows if other rows
  // reference them (FOR UPDATE, in key order); materialize_levels calls it parents first, before
  // the children are read and before the checks run again (a first, unlocked pass refuses early
  // without locking the cascade). An insert of a child under a locked row waits for this
  // transaction and then fails on its foreign key, rather than committing a child this delete
  // has already passed over (which would make the delete fail at commit). Empty where rows
  // cannot be locked: SQLite has one writer at a time, the delete's transaction begins
  // IMMEDIATE and nothing can change under it.
  std::function<void(int)> row_locks();

  // PROTECT then RESTRICT (rules 24-31); throws with nothing written.
  void check();

  // ---- the delete order ------------------------------------------------------------------------
  //
  // Django's order depends on the rows: its collect() enters a model, records that one model
  // must be deleted after another, and queues fast deletes, only for relations that reach rows
  // (rules 48, 59-61), and its sort() keeps that order where dependencies allow. The plan's
  // order assumes every relation has rows; this one follows the same walk over the relations
  // that do, so the result's labels and the signals come in Django's order.
  void order_by_rows();
  // Whether fast entry `e` (of rows referencing node x's) deletes rows under the rows of x that
  // generation g of cyclic node m reaches through a generic relation.
  bool reaches_rows(const FastEntry& e, int x, int m, std::int64_t g);

  // ---- which relation a refusal names (rule 27) ------------------------------------------------
  //
  // Django's collect() walks depth first: everything reached through the root model's first
  // relation (to any depth) is collected before anything reached through its second. A row is
  // therefore collected under the smallest root relation through which it can be reached
  // without passing through another root row, and a refusal found below it is named after that
  // relation. The rows are found by walking up from the blocked row through the plan's
  // relations: a few queries per ancestor of the blocking rows, nothing per row of the tree.

  // The root model's relation index of a foreign key (Django's discovery order).
  int root_relation_index(const Field* fk) const;

  bool is_root_row(const Value& pk);

  // The relation (and its root relation index) a PROTECT / RESTRICT check names for a
  // referencing row whose key is `parent_pk`.
  std::pair<const Field*, int> refusal_key(const detail::Check& chk, const Value& parent_pk);

  // The smallest root relation index through which the row `pk` of node n is reached; -1 if none.
  int first_root_relation(int n, const Value& pk);
  // The hop number of a root row's GenericRelation: after every relation of the root model
  // and its parent link (Django walks private fields last).
  int generic_hop(const Field* gr) const;
  // Whether the row a PROTECT check found is reached under its first root relation through
  // foreign keys only (no generic relation on the way).
  bool reached_through_keys(const detail::Check& chk, const Value& parent_pk);

  // How Django's refusals name a relation: 'Model.field'.
  static std::string relation_label(const Field& fk);

  int node_of(const ModelMeta& m) const;

  // Rows of the relation's model that reference the rows of its parent node.
  Fragment referencing(const Field& fk, int parent) const;
  // The same rows found row by row (member_cond): for the checks, which expect few.
  Fragment referencing_rows(const Field& fk, int parent) const;

  // The instance columns of the rows of `m` that `where` selects, in primary key order.
  Fragment rows_of(const ModelMeta& m, const Fragment& where,
                   std::optional<std::int64_t> limit = std::nullopt) const;

  std::string select_columns(const ModelMeta& m) const { return s_.instance_columns(m); }

  void load(const Fragment& where, const ModelMeta& m, std::vector<Instance>& out);

  static Instance read(const ModelMeta& m, db::Rows& rows) { return sql::read_instance(m, rows); }

  static std::vector<Instance> dedupe(std::vector<Instance> objects);

  // ---- signals ---------------------------------------------------------------------------------

  // The signal a node's rows get: soft-delete signals for marked rows.
  Signal signal_for(int n, Signal s) const;
  bool has_object_receivers(int n) const;
  bool has_batch_receivers(int n) const;

  // Copies the rows receivers will see into a temporary table, before anything is deleted.
  void snapshot(int n);

  // Streams the snapshot in primary-key order, a batch at a time.
  void stream_snapshot(int n, bool ascending, const std::function<void(const Instance&)>& fn);

  // Streams the node's primary keys in batches (batch receivers).
  void stream_keys(int n, bool ascending, const std::function<void(std::span<const Value>)>& fn);

  void send_object_signals(int n, Signal base);

  void send_batch_signals(int n, Signal base);

  // ---- field updates ---------------------------------------------------------------------------

  // The rows an update changes: referencing the deleted rows and not deleted themselves. Django
  // updates the rows it deletes too; skipping them changes nothing, except where the value
  // written must be unique: then every referencing row is updated, so that the delete fails
  // on the constraint as Django's does.
  Fragment update_where(const detail::Update& u) const;

  // The value SET_NULL / SET_DEFAULT / SET writes (a callable is called once, only when rows
  // are affected: rules 33-34).
  Value update_value(const detail::Update& u);

  bool has_callable(const detail::Update& u) const;

  std::int64_t run_update(const detail::Update& u);

  std::int64_t count_update(const detail::Update& u);

  // ---- deletes ---------------------------------------------------------------------------------

  bool marks(int n) const { return p_.nodes[static_cast<std::size_t>(n)].mark; }

  // Deletes the node's rows, or marks them for a soft delete, chunk() keys at a time: in ranges
  // of the parent's keys when the rows come from one relation, else of their own keys. The
  // count is the statements' row count, as Django's: rows the database's own DB_CASCADE removes
  // before a statement reaches them are not in it.
  std::int64_t delete_node(int n, const detail::Source* only = nullptr);

  void add_fast_label(int n);

  // The keys of one generation of a cyclic node, optionally in the range (lo, hi].
  Fragment generation_keys(int n, std::int64_t gen, const std::optional<Value>& lo = std::nullopt,
                           const std::optional<Value>& hi = std::nullopt) const;

  // Deletes the rows of fast node n whose key `s` references one generation of its cyclic
  // parent, chunk() parent keys at a time.
  std::int64_t delete_generation_children(int n, const detail::Source& s, std::int64_t gen);

  // Rows of a fast entry's node referencing the rows of its level (through any of its keys to
  // it; a generation of them on a cycle).
  Fragment fast_entry_cond(const FastEntry& e) const;

  std::int64_t count_node(int n);

  // The key at `offset` (0-based) of a key SELECT, in key order.
  Fragment nth_key(const Fragment& keys, std::int64_t offset) const;

  // `columns` of a temporary table's next kStreamBatch rows after `last` in `key` order.
  Fragment batch_after(const std::string& table, const std::string& columns, std::string_view key,
                       bool ascending, const std::optional<Value>& last) const;

  // Before deleting node n, keep its keys if a later step still reads its table.
  void keep_keys_for_later(int n, std::size_t position);

  DeleteResult assemble(const std::map<int, std::int64_t>& counts) const;

  // ---- the whole delete ------------------------------------------------------------------------

  DeletionPlan::Progress progress_;
  const Preview* shown_ = nullptr;   // a bound execute(): the preview it must match
  bool silent_ = false;              // a purge preview's trial run: no signal is sent
  AuditOperation* audit_ = nullptr;  // the audit log's entry for this run, if any
  // A soft delete: what every row this run marks gets, drawn anew by each execute(), so that
  // each run of a plan is an operation of its own (restore and the trash go by the id).
  std::string deletion_id_;
  DateTime now_;
  int step_ = 0;
  int steps_ = 0;
  void report(const std::string& what);

  DeleteResult execute();

  DeleteResult execute_single();

  // ---- preview ---------------------------------------------------------------------------------

  Preview preview(std::int64_t max_items);
  DeletionPlan::ObjectsPage objects(const std::string& label, std::int64_t offset,
                                    std::int64_t limit);

  // What the database's own rules do when the rows of `m` whose keys `deleted` selects go:
  // DB_* actions (followed through DB_CASCADE), and DO_NOTHING references left dangling, which
  // make the commit fail (a foreseen refusal, unless the plan already refuses).
  void database_effects(Preview& out, const ModelMeta& m, const Fragment& deleted,
                        std::vector<const ModelMeta*> path);

  // The rows the plan will delete (per model, Django's order) and update, in the current state.
  // `values`: also the values the updates write (a SET callable is not called: "<computed>").
  void count_all(Preview& out, bool values);

  // ---- binding a delete to its preview ---------------------------------------------------------

  static constexpr const char* kChanged =
      "The rows changed since the preview, so nothing was changed: ";

  // The root rows now: how many, and a digest (64-bit FNV-1a) of their primary keys in order.
  std::pair<std::int64_t, std::uint64_t> root_fingerprint();

  static std::string count_differences(const DeleteResult& shown, const DeleteResult& now,
                                       const std::string& verb);

  // In the delete's transaction, before anything is written: the root rows, the counts and the
  // updates must be those of the preview.
  void verify(const Preview& shown);

  // Whether the statements' row counts must equal the preview's counts: not when the database's
  // own ON DELETE actions reach a model the plan deletes (its rows may go before a statement
  // reaches them, and Django's count leaves them out).
  bool counts_are_exact() const;

  static void block(Preview& out, Refusal kind, const std::string& message,
                    const std::vector<Instance>& objects);

  static std::string display(const Instance& inst);

  // Django admin's nested list: each object under the one that pulled it in, depth first,
  // each once, at most max_items in all.
  void build_tree(Preview& out, std::int64_t max_items);

  std::vector<std::string> describe() const;

 private:
  const detail::Plan& p_;
  Context& db_;
  db::Connection& c_;
  sql::Statements s_;
  std::vector<std::string> keys_table_;
  // (node, to_field) -> the snapshot of the node's rows' values of that field.
  std::map<std::pair<int, const Field*>, std::string> held_table_;
  std::vector<std::string> snapshot_;
  std::map<int, std::string> cycle_table_;
  std::map<int, int> cycle_group_;  // cyclic node -> its cycle (the cycle's first node)
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
  std::map<std::string, std::pair<std::int64_t, std::int64_t>>
      table_rows_;  // rows, at last ANALYZE
  std::map<std::pair<int, Value>, int> first_hop_of_;
  std::map<std::pair<int, Value>, int> keys_only_hop_;  // the same through foreign keys only
};

}  // namespace cascade::detail
