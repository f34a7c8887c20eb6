#include "cascade/deletion/soft_delete.h"

#include <set>

#include "cascade/database.h"
#include "cascade/db/transaction.h"
#include "query/query_state.h"

namespace cascade {
namespace {

class Restorer {
 public:
  Restorer(Database& db, std::vector<Value> ids) : db_(db), c_(db.connection()), ids_(std::move(ids)) {}

  std::string q(const std::string& s) const { return c_.quote_name(s); }
  std::string col(const std::string& alias, const std::string& column) const {
    return q(alias) + "." + q(column);
  }

  // "deletion_id IN (?, ?...)" on `alias`.
  std::string marked(const std::string& alias, std::vector<Value>& params, int& n) const {
    std::string out = col(alias, kDeletionIdField) + " IN (";
    for (std::size_t i = 0; i < ids_.size(); ++i) {
      out += (i ? ", " : "") + c_.placeholder(++n);
      params.push_back(ids_[i]);
    }
    return out + ")";
  }

  std::optional<Instance> first(const ModelMeta& m, const std::string& where,
                                const std::vector<Value>& params) {
    std::string cols;
    for (const auto& f : m.fields) cols += (cols.empty() ? "" : ", ") + col("r", f.column);
    auto rows = c_.query("SELECT " + cols + " FROM " + q(m.db_table) + " " + q("r") + " WHERE " +
                             where + " ORDER BY " + col("r", m.pk().column) + " LIMIT 1",
                         params);
    if (!rows->next()) return std::nullopt;
    std::vector<Value> values;
    for (int i = 0; i < static_cast<int>(m.fields.size()); ++i) values.push_back(rows->get(i));
    return Instance::from_row(m, std::move(values));
  }

  // Refuses restores that would leave a dangling key or a duplicate among live rows.
  void check(const ModelMeta& m) {
    for (const auto& f : m.fields) {
      if (!f.is_foreign_key()) continue;
      const ModelMeta& t = *f.target;
      std::vector<Value> params;
      int n = 0;
      std::string where = marked("r", params, n) + " AND " + col("r", f.column) +
                          " IS NOT NULL AND NOT EXISTS (SELECT 1 FROM " + q(t.db_table) + " " +
                          q("t") + " WHERE " + col("t", t.pk().column) + " = " +
                          col("r", f.column);
      if (t.soft_deletable()) {
        where += " AND (" + col("t", kDeletedAtField) + " IS NULL OR " + marked("t", params, n) + ")";
      }
      where += ")";
      if (auto bad = first(m, where, params)) {
        bool exists = db_.all_objects(t.label()).find(bad->get(f.name)).has_value();
        throw RestoreError("Cannot restore " + bad->repr() + ": its " + f.name + " refers to " +
                           t.object_name + " " + bad->get(f.name).to_string() + ", which " +
                           (exists ? "is deleted and not restored with it" : "no longer exists") +
                           ".");
      }
    }
    auto unique_check = [&](const std::vector<const Field*>& fields) {
      std::vector<Value> params;
      int n = 0;
      std::string same;
      for (const Field* f : fields) {
        same += " AND " + col("l", f->column) + " = " + col("r", f->column);
      }
      std::string where = marked("r", params, n) + " AND EXISTS (SELECT 1 FROM " + q(m.db_table) +
                          " " + q("l") + " WHERE " + col("l", kDeletedAtField) + " IS NULL" +
                          same + ")";
      if (auto bad = first(m, where, params)) {
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
      std::vector<Value> part(pks.begin() + static_cast<std::ptrdiff_t>(start),
                              pks.begin() + static_cast<std::ptrdiff_t>(std::min(pks.size(), start + batch)));
      for (const Instance& inst : db_.all_objects(m.label()).filter(Q("pk__in", Arg(part))).order_by({"pk"})) {
        db_.signals().send(SignalEvent{signal, m, inst, db_, false, {}});
      }
    }
  }

  DeleteResult run() {
    DeleteResult result;
    std::vector<const ModelMeta*> models;
    for (const ModelMeta* m : db_.registry().models()) {
      if (m->soft_deletable()) models.push_back(m);
    }
    db::atomic(c_, db::Atomic::Mode::Immediate, [&] {
      for (const ModelMeta* m : models) check(*m);
      for (const ModelMeta* m : models) {
        bool signals = db_.signals().has_receivers(Signal::PreRestore, *m) ||
                       db_.signals().has_receivers(Signal::PostRestore, *m);
        std::vector<Value> pks;
        if (signals) {
          // Receivers need the keys after the marks are gone.
          std::vector<Value> params;
          int n = 0;
          std::string where = marked(m->db_table, params, n);  // fills params first
          auto rows = c_.query("SELECT " + col(m->db_table, m->pk().column) + " FROM " +
                                   q(m->db_table) + " WHERE " + where + " ORDER BY " +
                                   col(m->db_table, m->pk().column),
                               params);
          while (rows->next()) pks.push_back(m->pk().to_python(rows->get(0)));
          send(*m, Signal::PreRestore, pks);
        }
        std::vector<Value> params;
        int n = 0;
        std::string where = marked(m->db_table, params, n);
        std::int64_t count = c_.execute("UPDATE " + q(m->db_table) + " SET " + q(kDeletedAtField) +
                                            " = NULL, " + q(kDeletionIdField) + " = NULL WHERE " +
                                            where,
                                        params);
        if (signals) send(*m, Signal::PostRestore, pks);
        if (count > 0) {
          result.per_model.emplace_back(m->label(), count);
          result.total += count;
        }
      }
    });
    return result;
  }

 private:
  Database& db_;
  db::Connection& c_;
  std::vector<Value> ids_;
};

}  // namespace

namespace {
std::vector<Value> deletion_ids(const QuerySet& rows) {
  std::set<Value> ids;
  for (const auto& row : rows.values_list({kDeletionIdField}, true).rows()) {
    if (!row.empty() && !row[0].is_null()) ids.insert(row[0]);
  }
  return std::vector<Value>(ids.begin(), ids.end());
}
}  // namespace

DeleteResult restore_preview(const QuerySet& rows) {
  DeleteResult out;
  if (!rows.model().soft_deletable()) return out;
  std::vector<Value> ids = deletion_ids(rows);
  if (ids.empty()) return out;
  Database& db = rows.database();
  for (const ModelMeta* m : db.registry().models()) {
    if (!m->soft_deletable()) continue;
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

DeleteResult restore_soft_deleted(const QuerySet& rows) {
  if (!rows.model().soft_deletable()) {
    throw NotSupportedError("Cannot restore instances of model '" + rows.model().object_name +
                            "': it is not soft-deletable (delete_policy is not soft or "
                            "soft_cascade).");
  }
  std::vector<Value> ids = deletion_ids(rows);
  if (ids.empty()) return {};
  return Restorer(rows.database(), std::move(ids)).run();
}

DeleteResult purge_soft_deleted(Database& db, const ModelMeta& model,
                                std::chrono::seconds older_than) {
  if (!model.soft_deletable()) return {};
  DateTime cutoff = DateTime::now();
  cutoff.micros -= std::chrono::duration_cast<std::chrono::microseconds>(older_than).count();
  return QuerySet(db, model, QuerySet::Visibility::Deleted)
      .filter(Q(std::string(kDeletedAtField) + "__lt", Arg(cutoff)))
      .hard_remove();
}

DeleteResult QuerySet::restore() const { return restore_soft_deleted(*this); }

DeleteResult Database::purge(std::chrono::seconds older_than) {
  DeleteResult total;
  db::atomic(*connection_, db::Atomic::Mode::Immediate, [&] {
    for (const ModelMeta* m : registry_->models()) {
      DeleteResult r = purge_soft_deleted(*this, *m, older_than);
      for (const auto& [label, n] : r.per_model) {
        auto it = std::find_if(total.per_model.begin(), total.per_model.end(),
                               [&, &label = label](const auto& e) { return e.first == label; });
        if (it == total.per_model.end()) {
          total.per_model.emplace_back(label, n);
        } else {
          it->second += n;
        }
      }
      total.total += r.total;
    }
  });
  return total;
}

}  // namespace cascade
