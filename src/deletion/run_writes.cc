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
  std::string columns;
  for (const auto& f : m.fields) {
    std::string type = f.type == FieldType::Auto ? "bigint" : c_.column_type(f);
    columns += (columns.empty() ? "" : ", ") + q(f.column) + " " + type;
  }
  columns += ", PRIMARY KEY (" + q(m.pk().column) + ")";
  std::string name = new_temp(columns);
  std::string cols;
  for (const auto& f : m.fields) cols += (cols.empty() ? "" : ", ") + q(f.column);
  Fragment f{"INSERT INTO " + q(name) + " (" + cols + ") SELECT " + select_columns(m) + " FROM " +
                 q(m.db_table) + " WHERE ",
             {},
             false};
  append(f, cond(n));
  exec(f);
  if (n == 0) {
    // The root objects of an instance delete are the caller's instances, as they hold them
    // (Django signals the instances it was given, even one whose row is already gone).
    std::set<Value> done;
    std::string marks;
    for (std::size_t i = 0; i < m.fields.size(); ++i)
      marks += (i ? ", " : "") + std::string(1, kParamMarker);
    for (const Instance* inst : p_.root_instances) {
      if (!done.insert(inst->pk()).second) continue;
      exec(Fragment{"DELETE FROM " + q(name) + " WHERE " + q(m.pk().column) + " = " +
                        std::string(1, kParamMarker),
                    {inst->pk()},
                    false});
      exec(Fragment{"INSERT INTO " + q(name) + " (" + cols + ") VALUES (" + marks + ")",
                    inst->values(), false});
    }
  }
  snapshot_[static_cast<std::size_t>(n)] = name;
}

void Runner::stream_snapshot(int n, bool ascending,
                             const std::function<void(const Instance&)>& fn) {
  const ModelMeta& m = model(n);
  const std::string& table = snapshot_[static_cast<std::size_t>(n)];
  std::string cols;
  for (const auto& f : m.fields) cols += (cols.empty() ? "" : ", ") + q(f.column);
  std::optional<Value> last;
  while (true) {
    Fragment f{"SELECT " + cols + " FROM " + q(table), {}, false};
    if (last) {
      f.sql +=
          " WHERE " + q(m.pk().column) + (ascending ? " > " : " < ") + std::string(1, kParamMarker);
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

void Runner::stream_keys(int n, bool ascending,
                         const std::function<void(std::span<const Value>)>& fn) {
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
  Fragment where = referencing(u);
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
  Fragment f{"UPDATE " + q(m.db_table) + " SET " + q(u.fk->column) + " = " +
                 std::string(1, kParamMarker) + " WHERE ",
             {update_value(u)},
             false};
  append(f, where);
  return exec(f);
}

std::int64_t Runner::count_update(const detail::Update& u) {
  Fragment f{"SELECT COUNT(*) FROM " + q(u.fk->model->db_table) + " WHERE ", {}, false};
  append(f, update_where(u));
  return scalar(f);
}

std::int64_t Runner::delete_node(int n, const detail::Source* only) {
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

void Runner::add_fast_label(int n) {
  if (std::find(fast_labels_.begin(), fast_labels_.end(), n) == fast_labels_.end()) {
    fast_labels_.push_back(n);
  }
}

Fragment Runner::generation_keys(int n, std::int64_t gen, const std::optional<Value>& lo,
                                 const std::optional<Value>& hi) const {
  std::string mark(1, kParamMarker);
  Fragment f{"SELECT " + q("pk") + " FROM " + q(cycle_table_.at(n)) + " WHERE " + q("gen") + " = " +
                 std::to_string(gen),
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

std::int64_t Runner::delete_generation_children(int n, const detail::Source& s, std::int64_t gen) {
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
    Fragment f{
        "DELETE FROM " + q(m.db_table) + " WHERE " + col(m, s.fk->column) + " IN (", {}, false};
    append(f, generation_keys(s.parent, gen, lo, hi));
    f.sql += ")";
    add_live_filter(f, m);
    total += exec(f);
    if (!hi) return total;
    lo = hi;
  }
}

Fragment Runner::fast_entry_cond(const FastEntry& e) const {
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

std::int64_t Runner::count_node(int n) {
  Fragment f{"SELECT COUNT(*) FROM " + q(model(n).db_table) + " WHERE ", {}, false};
  append(f, cond(n));
  return scalar(f);
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
