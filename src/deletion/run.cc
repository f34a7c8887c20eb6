// Running a DeletionPlan: the whole delete (the Runner's steps in order), and DeletionPlan's
// entry points. The Runner's parts are listed in deletion/runner.h.
#include "deletion/runner.h"

namespace cascade {
namespace detail {

void Runner::report(const std::string& what) {
  if (progress_) progress_(++step_, steps_, what);
}

DeleteResult Runner::execute() {
  if (p_.root_empty) return {};
  if (p_.kind != detail::Kind::Hard) {
    deletion_id_ = random_uuid();
    now_ = DateTime::now();
  }
  steps_ = 1 + static_cast<int>(fast_.size() + p_.updates.size() + sorted_.size());
  const bool audited = db_.audit().enabled && !silent_;
  const std::string_view action = p_.kind == detail::Kind::Hard ? kAuditDelete : kAuditSoftDelete;
  if (p_.single_statement && shown_ == nullptr) {
    report("delete " + p_.root_model->label());
    if (!audited) return execute_single();
    DeleteResult result;
    db::atomic(c_, db::Atomic::Mode::Immediate, [&] {
      AuditOperation op(db_, action);
      audit_ = &op;
      op.set_roots(*p_.root_model, cond(0));
      result = execute_single();
      op.finish(result);
      audit_ = nullptr;
    });
    return result;
  }
  DeleteResult result;
  db::atomic(c_, db::Atomic::Mode::Immediate, [&] {
    std::optional<AuditOperation> op;
    if (audited) {
      op.emplace(db_, action, p_.kind == detail::Kind::Hard ? random_uuid() : deletion_id_);
      audit_ = &*op;
    }
    report("check");
    prepare();
    if (op) op->set_roots(*p_.root_model, cond(0));
    // The checks run before any lock: a refusal costs what the blocking rows cost, not a lock on
    // every row of the cascade. Then the deep levels get their key tables; where rows can be
    // locked, each level is locked just before (parents first, so that no lock reads a condition
    // nested over every level above it), and the checks run again: they follow the blocking
    // rows, so that is cheap, and a referencing row inserted in between is seen.
    check();
    create_content_types();
    if (auto lock = row_locks()) {
      materialize_levels(lock);
      check();
    } else {
      materialize_levels();
    }
    order_by_rows();
    if (shown_ != nullptr) verify(*shown_);
    // Rows receivers will see are fixed before the first pre_delete.
    for (int n : sorted_) {
      if (has_object_receivers(n)) snapshot(n);
    }
    for (int n : sorted_) {
      if (has_batch_receivers(n) ||
          (has_object_receivers(n) && keys_table_[static_cast<std::size_t>(n)].empty())) {
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
    if (op) op->finish(result);
    audit_ = nullptr;
  });
  if (p_.kind == detail::Kind::Hard) {
    for (Instance* inst : p_.root_instances) inst->set_pk(Value());
  } else {
    // The marked instances show their marks, as the rows do.
    for (Instance* inst : p_.root_instances) {
      if (inst->get(kDeletedAtField).is_null()) {
        inst->set(kDeletedAtField, Value(now_));
        inst->set(kDeletionIdField, Value(deletion_id_));
      }
    }
  }
  return result;
}

DeleteResult Runner::execute_single() {
  std::int64_t count;
  if (records_rows()) record(0, cond(0));
  if (p_.root_qs) {
    auto compiled = sql::compile_delete(c_, p_.root_qs->state());
    count = compiled.empty ? 0 : c_.execute(compiled.sql, compiled.params);
  } else {
    count = exec(s_.delete_from(p_.root_model->db_table, root_cond()));
  }
  DeleteResult result;
  if (count > 0 || p_.single_object) {
    result.total = count;
    result.per_model.emplace_back(p_.root_model->label(), count);
  }
  for (Instance* inst : p_.root_instances) inst->set_pk(Value());
  return result;
}

}  // namespace detail

using detail::Runner;

Preview DeletionPlan::preview(std::int64_t max_items) const {
  Runner r(*plan_);
  return r.preview(max_items);
}

DeletionPlan::ObjectsPage DeletionPlan::objects(const std::string& label, std::int64_t offset,
                                                std::int64_t limit) const {
  Runner r(*plan_);
  return r.objects(label, offset, limit);
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
  if (omitted > 0)
    out << "... and " << omitted << " more object" << (omitted == 1 ? "" : "s") << "\n";
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
