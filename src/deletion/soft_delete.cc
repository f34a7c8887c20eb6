#include "cascade/deletion/soft_delete.h"

#include <algorithm>
#include <map>
#include <set>

#include "cascade/query/context.h"
#include "cascade/query/manager.h"
#include "cascade/query/queryset.h"
#include "cascade/db/transaction.h"
#include "sql/query.h"
#include "sql/compiler.h"
#include "sql/rows.h"
#include "sql/statements.h"
#include "deletion/audit_operation.h"

namespace cascade {
namespace {

using Sql = sql::Statements;

std::vector<Value> deletion_ids(const QuerySet& rows) {
  std::set<Value> ids;
  for (const auto& row : rows.values_list({kDeletionIdField}, true).rows()) {
    if (!row.empty() && !row[0].is_null()) ids.insert(row[0]);
  }
  return std::vector<Value>(ids.begin(), ids.end());
}

// The rows the operations `ids` marked, per soft-deletable model (registry order).
DeleteResult count_marked(Context& db, const std::vector<Value>& ids) {
  DeleteResult out;
  for (const ModelMeta* m : db.registry().models()) {
    if (!m->soft_deletable() || m->proxy) continue;  // a proxy's rows are its model's
    std::int64_t n = QuerySet(db, *m, QuerySet::Visibility::Deleted)
                         .filter(Q(std::string(kDeletionIdField) + "__in", Arg(ids)))
                         .count();
    if (n > 0) {
      out.per_model.emplace_back(m->label(), n);
      out.total += n;
    }
  }
  return out;
}

// Adds a result's counts to `into`, each label once, in first-seen order.
void merge_result(DeleteResult& into, const DeleteResult& r) {
  for (const auto& [label, n] : r.per_model) {
    auto it = std::find_if(into.per_model.begin(), into.per_model.end(),
                           [&, &label = label](const auto& e) { return e.first == label; });
    if (it == into.per_model.end()) {
      into.per_model.emplace_back(label, n);
    } else {
      it->second += n;
    }
  }
  into.total += r.total;
}

class Restorer {
 public:
  Restorer(Context& db, std::vector<Value> ids)
      : db_(db), c_(db.connection()), s_(c_), ids_(std::move(ids)) {}

  std::string col(const std::string& alias, const std::string& column) const {
    return s_.column(alias, column);
  }

  // The rows of `alias` that the operations mark.
  sql::Fragment marked(const std::string& alias) const {
    return Sql::in(col(alias, kDeletionIdField), ids_);
  }
  std::unique_ptr<db::Rows> query(const sql::Fragment& f) { return sql::query(c_, f); }

  std::optional<Instance> first(const ModelMeta& m, const sql::Fragment& where) {
    auto rows = query(s_.select({.columns = s_.instance_columns(m, "r"),
                                 .from = s_.table(m.db_table, "r"),
                                 .where = where,
                                 .order_by = col("r", m.pk().column),
                                 .limit = 1}));
    if (!rows->next()) return std::nullopt;
    return sql::read_instance(m, *rows);
  }

  // Refuses restores that would leave a dangling key or a duplicate among live rows.
  void check(const ModelMeta& m) {
    for (const auto& f : m.fields) {
      if (!f.is_foreign_key()) continue;
      const ModelMeta& t = *f.target;
      // A target row that is live, or restored with it.
      std::vector<sql::Fragment> target{
          Sql::equal_columns(col("t", f.target_field->column), col("r", f.column))};
      if (t.soft_deletable()) {
        target.push_back(Sql::any_of({Sql::is_null(col("t", kDeletedAtField)), marked("t")}));
      }
      sql::Fragment where =
          Sql::all_of({marked("r"), Sql::is_not_null(col("r", f.column)),
                       Sql::not_exists(s_.select({.columns = Sql::constant_one(),
                                                  .from = s_.table(t.db_table, "t"),
                                                  .where = Sql::all_of(std::move(target))}))});
      if (auto bad = first(m, where)) {
        bool exists = Manager(db_, t, Visibility::All).find(bad->get(f.name)).has_value();
        throw RestoreError("Cannot restore " + bad->repr() + ": its " + f.name + " refers to " +
                           t.object_name + " " + bad->get(f.name).to_string() + ", which " +
                           (exists ? "is deleted and not restored with it" : "no longer exists") +
                           ".");
      }
    }
    auto unique_check = [&](const std::vector<const Field*>& fields) {
      // Another live row with the same values.
      std::vector<sql::Fragment> same{Sql::is_null(col("l", kDeletedAtField))};
      for (const Field* f : fields) {
        same.push_back(Sql::equal_columns(col("l", f->column), col("r", f->column)));
      }
      sql::Fragment where = Sql::all_of(
          {marked("r"), Sql::exists(s_.select({.columns = Sql::constant_one(),
                                               .from = s_.table(m.db_table, "l"),
                                               .where = Sql::all_of(std::move(same))}))});
      if (auto bad = first(m, where)) {
        std::string what;
        for (const Field* f : fields) {
          what += (what.empty() ? "" : " and ") + f->name + " " + bad->get(f->name).repr();
        }
        throw RestoreError("Cannot restore " + bad->repr() + ": another live " + m.object_name +
                           " has " + what + ".");
      }
    };
    for (const auto& f : m.fields) {
      if (f.unique && !f.primary_key) unique_check({&f});
    }
    for (const auto& group : m.unique_together) {
      std::vector<const Field*> fields;
      for (const auto& name : group) fields.push_back(&m.fields[*m.field_index(name)]);
      unique_check(fields);
    }
  }

  // Sends a restore signal for each marked row of `m`, primary keys ascending.
  void send(const ModelMeta& m, Signal signal, const std::vector<Value>& pks) {
    if (!db_.signals().has_receivers(signal, m)) return;
    const std::size_t batch = 500;
    for (std::size_t start = 0; start < pks.size(); start += batch) {
      std::vector<Value> part(
          pks.begin() + static_cast<std::ptrdiff_t>(start),
          pks.begin() + static_cast<std::ptrdiff_t>(std::min(pks.size(), start + batch)));
      for (const Instance& inst :
           QuerySet(db_, m, Visibility::All).filter(Q("pk__in", Arg(part))).order_by({"pk"})) {
        db_.signals().send(SignalEvent{signal, m, inst, db_.database(), false, {}});
      }
    }
  }

  // The selected rows `rows` bring back their operations' rows. `shown`: a bound restore, which
  // changes nothing unless `rows` still select the operations it showed, and the operations
  // still mark the rows it counted.
  DeleteResult run(const QuerySet& rows, const RestorePreview* shown = nullptr) {
    DeleteResult result;
    std::vector<const ModelMeta*> models;
    for (const ModelMeta* m : db_.registry().models()) {
      if (m->soft_deletable() && !m->proxy) models.push_back(m);
    }
    db::atomic(c_, db::Atomic::Mode::Immediate, [&] {
      if (shown != nullptr) verify(*shown, rows);
      for (const ModelMeta* m : models) check(*m);
      detail::AuditOperation op(db_, kAuditRestore);
      if (op.writes_entry()) {
        op.set_roots(rows.model(), sql::where_fragment(c_, rows.state()));
        std::vector<std::string> operations;
        for (const Value& id : ids_) operations.push_back(id.to_string());
        op.set_refers_to(std::move(operations));
      }
      for (const ModelMeta* m : models) {
        bool signals = db_.signals().has_receivers(Signal::PreRestore, *m) ||
                       db_.signals().has_receivers(Signal::PostRestore, *m);
        std::vector<Value> pks;
        if (signals) {
          // Receivers need the keys after the marks are gone.
          auto rows = query(s_.select({.columns = s_.pk(*m),
                                       .from = s_.table(m->db_table),
                                       .where = marked(m->db_table),
                                       .order_by = s_.pk(*m)}));
          while (rows->next()) pks.push_back(m->pk().to_python(rows->get(0)));
          send(*m, Signal::PreRestore, pks);
        }
        op.record_rows(*m, marked(m->db_table));
        std::int64_t count = sql::execute(
            c_, s_.update(m->db_table, {{kDeletedAtField, Value()}, {kDeletionIdField, Value()}},
                          marked(m->db_table)));
        if (signals) send(*m, Signal::PostRestore, pks);
        if (count > 0) {
          result.per_model.emplace_back(m->label(), count);
          result.total += count;
        }
      }
      op.finish(result);
    });
    return result;
  }

  void verify(const RestorePreview& shown, const QuerySet& rows) {
    static const std::string changed =
        "The rows changed since the preview, so nothing was restored: ";
    if (deletion_ids(rows) != shown.operations) {
      throw PreviewChanged(changed + "the selected rows now belong to other delete operations");
    }
    DeleteResult now = count_marked(db_, ids_);
    for (const auto& [label, n] : now.per_model) {
      if (shown.counts.count(label) != n) {
        throw PreviewChanged(changed + label + ": " + std::to_string(n) +
                             " to restore, the preview showed " +
                             std::to_string(shown.counts.count(label)));
      }
    }
    if (now.total != shown.counts.total) {
      throw PreviewChanged(changed + std::to_string(now.total) +
                           " rows to restore, the preview showed " +
                           std::to_string(shown.counts.total));
    }
  }

 private:
  Context& db_;
  db::Connection& c_;
  sql::Statements s_;
  std::vector<Value> ids_;
};

void require_soft_deletable(const ModelMeta& m, const std::string& what) {
  if (!m.soft_deletable()) {
    throw NotSupportedError("Cannot " + what + " instances of model '" + m.object_name +
                            "': it is not soft-deletable (delete_policy is not soft or "
                            "soft_cascade).");
  }
}

}  // namespace

RestorePreview restore_preview(const QuerySet& rows) {
  RestorePreview out;
  if (!rows.model().soft_deletable()) return out;
  out.operations = deletion_ids(rows);
  if (!out.operations.empty()) out.counts = count_marked(rows.database(), out.operations);
  return out;
}

DeleteResult restore_soft_deleted(const QuerySet& rows) {
  require_soft_deletable(rows.model(), "restore");
  std::vector<Value> ids = deletion_ids(rows);
  if (ids.empty()) return {};
  return Restorer(rows.database(), std::move(ids)).run(rows);
}

DeleteResult restore_soft_deleted(const QuerySet& rows, const RestorePreview& shown) {
  require_soft_deletable(rows.model(), "restore");
  Restorer restorer(rows.database(), shown.operations);
  return restorer.run(rows, &shown);
}

// ---- purge
// ---------------------------------------------------------------------------------------

namespace {

std::uint64_t combine(std::uint64_t h, std::uint64_t part) {
  for (int i = 0; i < 8; ++i) {
    h ^= (part >> (8 * i)) & 0xff;
    h *= 1099511628211ULL;
  }
  return h;
}

std::int64_t tree_size(const std::vector<Preview::Node>& nodes) {
  std::int64_t n = 0;
  for (const auto& node : nodes) n += 1 + tree_size(node.children);
  return n;
}

// Adds one step's preview to the merged one.
void merge(Preview& into, Preview part) {
  merge_result(into.counts, part.counts);
  for (auto& u : part.updates) {
    auto it = std::find_if(into.updates.begin(), into.updates.end(), [&](const auto& e) {
      return e.label == u.label && e.field == u.field && e.value == u.value;
    });
    if (it == into.updates.end()) {
      into.updates.push_back(std::move(u));
    } else {
      it->count += u.count;
    }
  }
  for (auto& node : part.tree) into.tree.push_back(std::move(node));
  into.omitted += part.omitted;
  into.roots += part.roots;
  into.roots_digest = combine(into.roots_digest, part.roots_digest);
  if (!into.blocked() && part.blocked()) {
    into.blocked_by = part.blocked_by;
    into.blocked_message = part.blocked_message;
    into.blocking = std::move(part.blocking);
  }
}

}  // namespace

PurgePlan::PurgePlan(Context& db, std::vector<const ModelMeta*> models, DateTime cutoff)
    : db_(db), cutoff_(cutoff) {
  for (const ModelMeta* m : models) {
    require_soft_deletable(*m, "purge");
    labels_.push_back(m->label());
    QuerySet qs = QuerySet(db, *m, QuerySet::Visibility::Deleted)
                      .filter(Q(std::string(kDeletedAtField) + "__lt", Arg(cutoff)));
    steps_.push_back(Collector(db).collect(qs, Collector::Mode::Hard));
  }
}

PurgePlan::PurgePlan(Context& db, const std::vector<QuerySet>& rows)
    : db_(db), cutoff_(DateTime::now()) {
  for (const QuerySet& qs : rows) {
    require_soft_deletable(qs.model(), "purge");
    labels_.push_back(qs.model().label());
    steps_.push_back(Collector(db).collect(
        qs.filter(Q(std::string(kDeletedAtField) + "__isnull", Arg(Value(false)))),
        Collector::Mode::Hard));
  }
}

PurgePlan::PurgePlan(PurgePlan&&) noexcept = default;
PurgePlan::~PurgePlan() = default;

Preview PurgePlan::preview(std::int64_t max_items) {
  Preview out;
  out.max_items = max_items;
  shown_.clear();
  {
    db::Atomic trial(db_.connection());  // never committed: the trial runs are rolled back
    for (std::size_t i = 0; i < steps_.size(); ++i) {
      std::int64_t budget =
          max_items > 0 ? std::max<std::int64_t>(max_items - tree_size(out.tree), 0) : 0;
      Preview part = steps_[i].preview(budget);
      if (budget == 0 && max_items > 0) part.omitted = part.counts.total;
      bool blocked = part.blocked();
      bool empty = part.counts.total == 0 && part.updates.empty();
      shown_.push_back(part);
      merge(out, std::move(part));
      if (blocked) break;  // the purge cannot run: nothing after it matters
      // The next models' previews see the state this one leaves.
      if (!empty && i + 1 < steps_.size()) steps_[i].execute_silently();
    }
  }
  shown_roots_ = out.roots;
  shown_digest_ = out.roots_digest;
  return out;
}

void PurgePlan::start_entry(detail::AuditOperation& op) const {
  if (!op.writes_entry()) return;
  std::string models;
  for (const auto& label : labels_) models += (models.empty() ? "" : ", ") + label;
  op.set_roots(std::move(models), {}, 0);
}

DeleteResult PurgePlan::execute() const {
  DeleteResult all;
  db::atomic(db_.connection(), db::Atomic::Mode::Immediate, [&] {
    detail::AuditOperation op(db_, kAuditPurge);
    start_entry(op);
    for (const auto& step : steps_) merge_result(all, step.execute());
    op.finish(all);
  });
  return all;
}

DeleteResult PurgePlan::execute(const Preview& shown) const {
  if (shown_.empty() || shown.roots != shown_roots_ || shown.roots_digest != shown_digest_) {
    throw PreviewChanged("PurgePlan::execute(shown) needs this plan's last preview()");
  }
  DeleteResult all;
  db::atomic(db_.connection(), db::Atomic::Mode::Immediate, [&] {
    detail::AuditOperation op(db_, kAuditPurge);
    start_entry(op);
    for (std::size_t i = 0; i < steps_.size(); ++i) {
      // A refused preview stops at the refusing step, whose execute() refuses again.
      if (i >= shown_.size()) {
        throw PreviewChanged(
            "The rows changed since the preview, so nothing was changed: the "
            "purge it refused is no longer refused");
      }
      merge_result(all, steps_[i].execute(shown_[i]));
    }
    op.finish(all);
  });
  return all;
}

DeleteResult purge_soft_deleted(Context& db, const ModelMeta& model,
                                std::chrono::seconds older_than) {
  DateTime cutoff = DateTime::now();
  cutoff.micros -= std::chrono::duration_cast<std::chrono::microseconds>(older_than).count();
  return PurgePlan(db, {&model}, cutoff).execute();
}

std::vector<TrashedOperation> trashed_operations(Context& db) {
  std::map<std::string, TrashedOperation> by_id;
  db::Connection& c = db.connection();
  Sql s(c);
  for (const ModelMeta* m : db.registry().models()) {
    if (!m->soft_deletable() || m->proxy) continue;  // a proxy's rows are its model's
    const std::string id = s.name(kDeletionIdField);
    const Field& at = m->fields[*m->field_index(kDeletedAtField)];
    auto rows = sql::query(
        c, s.select({.columns = Sql::list({id, s.min(s.name(kDeletedAtField)), Sql::count_rows()}),
                     .from = s.table(m->db_table),
                     .where = Sql::is_not_null(id),
                     .group_by = id}));
    while (rows->next()) {
      std::string key = rows->get(0).to_string();
      TrashedOperation& op = by_id[key];
      op.deletion_id = key;
      DateTime when = at.to_python(rows->get(1)).as_datetime();
      if (op.counts.per_model.empty() || when.micros < op.deleted_at.micros) op.deleted_at = when;
      std::int64_t n = rows->get(2).as_integer();
      op.counts.per_model.emplace_back(m->label(), n);
      op.counts.total += n;
    }
  }
  std::vector<TrashedOperation> out;
  for (auto& [id, op] : by_id) out.push_back(std::move(op));
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.deleted_at.micros > b.deleted_at.micros;
  });
  return out;
}

std::vector<QuerySet> trashed_rows(Context& db, const std::string& deletion_id) {
  std::vector<QuerySet> out;
  for (const ModelMeta* m : db.registry().models()) {
    if (!m->soft_deletable() || m->proxy) continue;  // a proxy's rows are its model's
    QuerySet qs = QuerySet(db, *m, QuerySet::Visibility::Deleted)
                      .filter(Q(std::string(kDeletionIdField), Arg(Value(deletion_id))));
    if (qs.exists()) out.push_back(std::move(qs));
  }
  return out;
}

DeleteResult QuerySet::restore() const { return restore_soft_deleted(*this); }

}  // namespace cascade
