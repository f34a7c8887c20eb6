// Signals, field updates (SET_NULL / SET_DEFAULT / SET) and deletes.
#include "deletion/runner.h"

namespace cascade::detail {

Signal Runner::signal_for(int n, Signal s) const {
  if (!marks(n)) return s;
  return s == Signal::PreDelete ? Signal::PreSoftDelete : Signal::PostSoftDelete;
}

bool Runner::has_object_receivers(int n) const {
  const ModelMeta& m = model(n);
  if (m.auto_created || silent_) return false;  // never signalled (rule 55)
  return db_.signals().has_receivers(signal_for(n, Signal::PreDelete), m) ||
         db_.signals().has_receivers(signal_for(n, Signal::PostDelete), m);
}

bool Runner::has_batch_receivers(int n) const {
  const ModelMeta& m = model(n);
  if (silent_) return false;
  return db_.signals().has_batch_receivers(signal_for(n, Signal::PreDelete), m) ||
         db_.signals().has_batch_receivers(signal_for(n, Signal::PostDelete), m);
}

void Runner::snapshot(int n) {
  const ModelMeta& m = model(n);
  std::string name = new_temp([&](const std::string& t) { return s_.create_row_table(t, m); });
  const std::vector<std::string> columns = s_.column_names(m);
  exec(s_.insert_select(
      name, columns,
      s_.select({.columns = select_columns(m), .from = s_.table(m.db_table), .where = cond(n)})));
  if (n == 0) {
    // The root objects of an instance delete are the caller's instances, as they hold them
    // (Django signals the instances it was given, even one whose row is already gone).
    std::set<Value> done;
    for (const Instance* inst : p_.root_instances) {
      if (!done.insert(inst->pk()).second) continue;
      exec(s_.delete_from(name, Sql::compare(s_.name(m.pk().column), Compare::Eq, inst->pk())));
      exec(s_.insert_values(name, columns, {inst->values()}));
    }
  }
  snapshot_[static_cast<std::size_t>(n)] = name;
}

void Runner::stream_snapshot(int n, bool ascending,
                             const std::function<void(const Instance&)>& fn) {
  const ModelMeta& m = model(n);
  const std::string& table = snapshot_[static_cast<std::size_t>(n)];
  std::optional<Value> last;
  while (true) {
    std::vector<Instance> batch;
    auto rows =
        query(batch_after(table, s_.row_table_columns(m, table), m.pk().column, ascending, last));
    while (rows->next()) batch.push_back(read(m, *rows));
    rows.reset();
    for (const auto& inst : batch) fn(inst);
    if (static_cast<std::int64_t>(batch.size()) < kStreamBatch) break;
    last = batch.back().pk();
  }
}

void Runner::stream_keys(int n, bool ascending,
                         const std::function<void(std::span<const Value>)>& fn) {
  const std::string& table = keys_table_[static_cast<std::size_t>(n)];
  std::optional<Value> last;
  while (true) {
    std::vector<Value> batch;
    auto rows = query(batch_after(table, s_.name(kKeyColumn), kKeyColumn, ascending, last));
    while (rows->next()) batch.push_back(model(n).pk().to_python(rows->get(0)));
    rows.reset();
    if (!batch.empty()) fn(batch);
    if (static_cast<std::int64_t>(batch.size()) < kStreamBatch) break;
    last = batch.back();
  }
}

void Runner::send_object_signals(int n, Signal base) {
  if (snapshot_[static_cast<std::size_t>(n)].empty()) return;
  const ModelMeta& m = model(n);
  Signal signal = signal_for(n, base);
  if (!db_.signals().has_receivers(signal, m)) return;
  stream_snapshot(n, base == Signal::PreDelete, [&](const Instance& inst) {
    db_.signals().send(SignalEvent{signal, m, inst, db_.database(), false, p_.origin});
  });
}

void Runner::send_batch_signals(int n, Signal base) {
  const ModelMeta& m = model(n);
  Signal signal = signal_for(n, base);
  if (silent_ || !db_.signals().has_batch_receivers(signal, m)) return;
  stream_keys(n, base == Signal::PreDelete, [&](std::span<const Value> pks) {
    db_.signals().send_batch(BatchEvent{signal, m, pks, db_.database()});
  });
}

Fragment Runner::update_where(const detail::Update& u) const {
  Fragment where = referencing(*u.fk, u.parent);
  int own = node_of(*u.fk->model);
  bool unique_value = u.fk->unique && u.fk->on_delete != OnDelete::SetNull;
  if (own >= 0 && !unique_value) where = excluding(std::move(where), own);
  return where;
}

Value Runner::update_value(const detail::Update& u) {
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

bool Runner::has_callable(const detail::Update& u) const {
  const Field& f = *u.fk;
  return (f.on_delete == OnDelete::SetDefault && f.default_factory) ||
         (f.on_delete == OnDelete::Set && f.on_delete_factory);
}

std::int64_t Runner::run_update(const detail::Update& u) {
  Fragment where = update_where(u);
  const ModelMeta& m = *u.fk->model;
  if (has_callable(u) && !any(where, m)) return 0;
  return exec(s_.update(m.db_table, {{u.fk->column, update_value(u)}}, where));
}

std::int64_t Runner::count_update(const detail::Update& u) {
  return scalar(s_.count(u.fk->model->db_table, update_where(u)));
}

std::int64_t Runner::delete_node(int n, const detail::Source* only) {
  const ModelMeta& m = model(n);
  // Deletes the rows `where` selects, or marks them.
  auto statement = [&](const Fragment& where) {
    record(n, where);
    if (!marks(n)) return s_.delete_from(m.db_table, where);
    return s_.update(m.db_table,
                     {{kDeletedAtField, Value(now_)}, {kDeletionIdField, Value(deletion_id_)}},
                     where);
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
      Fragment where = source_rows(src, keys);
      add_live_filter(where, m);
      return where;
    };
    auto count = [&](const Fragment& where, std::optional<std::int64_t> cap) {
      return scalar(s_.count(s_.select({.columns = Sql::constant_one(),
                                        .from = s_.table(m.db_table),
                                        .where = where,
                                        .limit = cap})));
    };
    auto plain = [&](const Fragment& where) { total += exec(statement(where)); };
    // LIMITed batches, for the children of parents too many to split further.
    auto batches = [&](const Fragment& where, std::int64_t rows) {
      for (std::int64_t left = rows; left > 0;) {
        // In key order when the rows are recorded: the log's copy and the delete must select
        // the same batch.
        std::int64_t done = exec(
            statement(keyed_by(m, m.pk().column,
                               s_.select({.columns = s_.pk(m),
                                          .from = s_.table(m.db_table),
                                          .where = where,
                                          .order_by = records_rows() ? s_.pk(m) : std::string(),
                                          .limit = chunk()}))));
        total += done;
        left -= done;
        if (done < chunk()) break;
      }
    };
    // About chunk() rows per statement, however many rows one parent has. (Counts hold while
    // the statements run: the transaction holds SQLite's write lock, and on PostgreSQL the
    // parents are locked against new children.)
    for_each_chunk(
        src.parent, [&](const std::optional<Value>& lo, const Value& hi, bool final_chunk) {
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
          std::int64_t parts = (rows + chunk() - 1) / chunk();
          std::int64_t parents = scalar(s_.count(key_range(src.parent, lo, hi)));
          std::int64_t size = std::max<std::int64_t>(1, (parents + parts - 1) / parts);
          std::optional<Value> part_lo = lo;
          while (true) {
            auto found = query(nth_key(key_range(src.parent, part_lo, hi), size - 1));
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
  const auto& own = p_.nodes[static_cast<std::size_t>(n)].sources;
  if (keys_table_[static_cast<std::size_t>(n)].empty() && own.size() == 1 && own[0].root &&
      !root_reads_other_tables()) {
    // The root QuerySet's rows, by a condition on its own table alone: one plain statement,
    // however many rows (the database reads the table once and keeps no key set; key ranges
    // would read the condition again per chunk and look each key up).
    return exec(statement(cond(n)));
  }
  for_each_chunk(n, [&](const std::optional<Value>& lo, const Value& hi, bool final_chunk) {
    // Everything in one chunk: the plain statement.
    total += exec(
        statement(!lo && final_chunk ? cond(n) : keyed_by(m, m.pk().column, key_range(n, lo, hi))));
  });
  return total;
}

void Runner::add_fast_label(int n) {
  if (std::find(fast_labels_.begin(), fast_labels_.end(), n) == fast_labels_.end()) {
    fast_labels_.push_back(n);
  }
}

Fragment Runner::generation_keys(int n, std::int64_t gen, const std::optional<Value>& lo,
                                 const std::optional<Value>& hi) const {
  return table_keys(cycle_table_.at(n), gen, lo, hi);
}

std::int64_t Runner::delete_generation_children(int n, const detail::Source& s, std::int64_t gen) {
  const ModelMeta& m = model(n);
  std::int64_t total = 0;
  std::optional<Value> lo;
  while (true) {
    std::optional<Value> hi;
    {
      auto rows = query(nth_key(generation_keys(s.parent, gen, lo), chunk() - 1));
      if (rows->next()) hi = rows->get(0);
    }
    Fragment where = source_rows(s, generation_keys(s.parent, gen, lo, hi));
    add_live_filter(where, m);
    record(n, where);
    total += exec(s_.delete_from(m.db_table, where));
    if (!hi) return total;
    lo = hi;
  }
}

Fragment Runner::fast_entry_cond(const FastEntry& e) const {
  int n = e.node;
  const ModelMeta& m = model(n);
  std::vector<Fragment> terms;
  for (const auto& s : p_.nodes[static_cast<std::size_t>(n)].sources) {
    if (s.root || s.parent != e.parent) continue;
    terms.push_back(source_rows(s, e.gen < 0 ? keys(e.parent) : generation_keys(e.parent, e.gen)));
  }
  Fragment out = Sql::any_of(terms);
  add_live_filter(out, m);
  return out;
}

std::int64_t Runner::count_node(int n) {
  // A key table holds exactly the node's rows, read from its table in this transaction before
  // anything was written: counting it reads no row of the model.
  const std::string& table = keys_table_[static_cast<std::size_t>(n)];
  if (!table.empty()) return scalar(s_.count(table, Sql::every_row()));
  return scalar(s_.count(model(n).db_table, cond(n)));
}

Fragment Runner::nth_key(const Fragment& keys, std::int64_t offset) const {
  const std::string key = s_.name(kKeyColumn);
  return s_.select({.columns = key,
                    .from = s_.derived(keys, "cascade_part"),
                    .order_by = key,
                    .limit = 1,
                    .offset = offset});
}

Fragment Runner::batch_after(const std::string& table, const std::string& columns,
                             std::string_view key, bool ascending,
                             const std::optional<Value>& last) const {
  const std::string k = s_.name(key);
  return s_.select(
      {.columns = columns,
       .from = s_.table(table),
       .where = last ? Sql::compare(k, ascending ? Compare::Gt : Compare::Lt, *last) : Fragment{},
       .order_by = k,
       .descending = !ascending,
       .limit = kStreamBatch});
}

void Runner::keep_keys_for_later(int n, std::size_t position) {
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

DeleteResult Runner::assemble(const std::map<int, std::int64_t>& counts) const {
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

}  // namespace cascade::detail
