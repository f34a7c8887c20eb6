#include "cascade/query/manager.h"

#include <algorithm>
#include <set>

#include "cascade/query/context.h"
#include "cascade/query/manager.h"
#include "cascade/db/transaction.h"
#include "cascade/error.h"

#include "sql/rows.h"

namespace cascade {
namespace {

using sql::read_instance;

// "?, ?, ?" for n parameters starting at `first`.
std::string placeholders(const db::Connection& c, int first, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += (i ? ", " : "") + c.placeholder(first + static_cast<int>(i));
  }
  return out;
}

void require_saved(const Instance& inst, std::string_view what) {
  if (inst.pk().is_null()) {
    throw ValueError("\"" + inst.repr() + "\" needs to have a value for field \"" +
                     inst.meta().pk().column + "\" before " + std::string(what) + ".");
  }
}

}  // namespace

// ---- Manager ---------------------------------------------------------------------------------

Instance Manager::create(std::initializer_list<std::pair<std::string_view, Value>> values) {
  Instance inst(meta_, values);
  save(inst);
  return inst;
}

std::optional<Instance> Manager::find(const Value& pk) {
  auto found = all().filter(Q("pk", pk)).fetch();
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

Instance Manager::get(const Value& pk) {
  if (auto inst = find(pk)) return std::move(*inst);
  throw DoesNotExist(meta_.label(), meta_.object_name);
}

DeleteResult Manager::restore(Instance& inst) {
  require_saved(inst, "it can be restored");
  DeleteResult r =
      QuerySet(db_, meta_, QuerySet::Visibility::All).filter(Q("pk", inst.pk())).restore();
  refresh(inst);
  return r;
}

void Manager::save(Instance& inst) {
  if (&inst.meta() != &meta_) {
    throw TypeError("cannot save a " + inst.meta().label() + " through the manager of " +
                    meta_.label());
  }
  bool signals = db_.signals().has_receivers(Signal::PreSave, meta_) ||
                 db_.signals().has_receivers(Signal::PostSave, meta_);
  if (!signals) {
    save_row(inst);
    return;
  }
  // Receivers and the write happen together or not at all.
  db::atomic(db_.connection(), db::Atomic::Mode::Immediate, [&] {
    db_.signals().send(SignalEvent{Signal::PreSave, meta_, inst, db_.database(), false, {}});
    bool created = save_row(inst);
    db_.signals().send(SignalEvent{Signal::PostSave, meta_, inst, db_.database(), created, {}});
  });
}

bool Manager::save_row(Instance& inst) {
  if (inst.pk().is_null()) {
    insert(inst);
    return true;
  }
  auto& c = db_.connection();
  std::string sets;
  std::vector<Value> params;
  int n = 0;
  for (std::size_t i = 1; i < meta_.fields.size(); ++i) {
    // deleted_at / deletion_id belong to remove() and restore(), not to save().
    if (ModelMeta::is_soft_delete_field(meta_.fields[i]) && meta_.soft_deletable()) continue;
    sets += (sets.empty() ? "" : ", ") + c.quote_name(meta_.fields[i].column) + " = " +
            c.placeholder(++n);
    params.push_back(inst.at(i));
  }
  params.push_back(inst.pk());
  std::int64_t updated = 0;
  if (!sets.empty()) {
    updated = c.execute("UPDATE " + c.quote_name(meta_.db_table) + " SET " + sets + " WHERE " +
                            c.quote_name(meta_.pk().column) + " = " + c.placeholder(++n),
                        params);
  } else {
    updated = find(inst.pk()) ? 1 : 0;
  }
  if (updated == 0) {
    insert(inst);  // no row with that key: Django inserts it
    return true;
  }
  inst.set_adding(false);
  return false;
}

void Manager::insert(Instance& inst) {
  auto& c = db_.connection();
  const Field& pk = meta_.pk();
  bool auto_pk = pk.type == FieldType::Auto && inst.pk().is_null();
  std::string cols;
  std::vector<Value> params;
  for (std::size_t i = auto_pk ? 1 : 0; i < meta_.fields.size(); ++i) {
    cols += (cols.empty() ? "" : ", ") + c.quote_name(meta_.fields[i].column);
    params.push_back(inst.at(i));
  }
  std::string sql = "INSERT INTO " + c.quote_name(meta_.db_table);
  sql += cols.empty() ? " DEFAULT VALUES"
                      : " (" + cols + ") VALUES (" + placeholders(c, 1, params.size()) + ")";
  if (auto_pk) {
    if (!c.features().can_return_columns_from_insert) {
      throw NotSupportedError("this database cannot return the key of an inserted row");
    }
    auto rows = c.query(sql + " RETURNING " + c.quote_name(pk.column), params);
    if (!rows->next()) throw OperationalError("INSERT ... RETURNING returned no row");
    inst.set_pk(pk.to_python(rows->get(0)));
    while (rows->next()) {
    }
  } else {
    c.execute(sql, params);
  }
  inst.set_adding(false);
}

void Manager::refresh(Instance& inst) {
  require_saved(inst, "it can be refreshed");
  auto fresh = Manager(db_, meta_, QuerySet::Visibility::All).find(inst.pk());
  if (!fresh) throw DoesNotExist(meta_.label(), meta_.object_name);
  for (std::size_t i = 0; i < meta_.fields.size(); ++i) inst.set_at(i, fresh->at(i));
  inst.set_adding(false);
}

std::pair<Instance, bool> Manager::get_or_create(
    const Lookups& lookups, const std::vector<std::pair<std::string, Value>>& defaults) {
  return db::atomic(db_.connection(), db::Atomic::Mode::Immediate,
                    [&]() -> std::pair<Instance, bool> {
                      try {
                        return {all().get(Q(lookups)), false};
                      } catch (const DoesNotExist&) {
                      }
                      Instance inst(meta_);
                      for (const auto& [name, arg] : lookups) {
                        if (name.find("__") != std::string::npos)
                          continue;  // only exact field lookups set values
                        if (!arg.is_value())
                          throw TypeError("get_or_create() cannot create from " + arg.repr());
                        inst.set(name, arg.value());
                      }
                      for (const auto& [name, value] : defaults) inst.set(name, value);
                      save(inst);
                      return {std::move(inst), true};
                    });
}

ManyToManyManager Manager::many_to_many(const Instance& inst, std::string_view name) {
  require_saved(inst, "this many-to-many relationship can be used");
  for (const auto& f : meta_.many_to_many) {
    if (f.name == name) return ManyToManyManager(db_, f, false, inst.pk());
  }
  for (const auto& rel : meta_.related_objects) {
    if (rel.field->type == FieldType::ManyToMany && rel.field->related_accessor_name() == name) {
      return ManyToManyManager(db_, *rel.field, true, inst.pk());
    }
  }
  std::string choices;
  for (const auto& f : meta_.many_to_many) choices += (choices.empty() ? "" : ", ") + f.name;
  for (const auto& rel : meta_.related_objects) {
    if (rel.field->type == FieldType::ManyToMany && !rel.field->related_accessor_name().empty()) {
      choices += (choices.empty() ? "" : ", ") + rel.field->related_accessor_name();
    }
  }
  throw FieldError(meta_.object_name + " has no many-to-many relation named '" + std::string(name) +
                   "'. Choices are: " + (choices.empty() ? "(none)" : choices));
}

// ---- ManyToManyManager -----------------------------------------------------------------------

ManyToManyManager::ManyToManyManager(Context& db, const Field& field, bool reverse, Value owner_pk)
    : db_(db), through_(*field.through), owner_pk_(std::move(owner_pk)) {
  // The through model's fields: [id, <owner side>, <target side>].
  source_ = &through_.fields[reverse ? 2 : 1];
  target_ = &through_.fields[reverse ? 1 : 2];
  owner_pk_ = source_->to_python(owner_pk_);
}

const ModelMeta& ManyToManyManager::model() const noexcept { return *target_->target; }

std::vector<Value> ManyToManyManager::pks() const {
  auto& c = db_.connection();
  std::vector<Value> out;
  auto rows =
      c.query("SELECT " + c.quote_name(target_->column) + " FROM " +
                  c.quote_name(through_.db_table) + " WHERE " + c.quote_name(source_->column) +
                  " = " + c.placeholder(1) + " ORDER BY " + c.quote_name(target_->column),
              std::span<const Value>(&owner_pk_, 1));
  while (rows->next()) out.push_back(target_->to_python(rows->get(0)));
  return out;
}

std::vector<Instance> ManyToManyManager::all() const {
  auto& c = db_.connection();
  const ModelMeta& m = model();
  std::vector<Instance> out;
  auto rows = c.query(
      "SELECT " + sql::column_list(c, m) + " FROM " + c.quote_name(m.db_table) + " WHERE " +
          c.quote_name(m.pk().column) + " IN (SELECT " + c.quote_name(target_->column) + " FROM " +
          c.quote_name(through_.db_table) + " WHERE " + c.quote_name(source_->column) + " = " +
          c.placeholder(1) + ") ORDER BY " + c.quote_name(m.pk().column),
      std::span<const Value>(&owner_pk_, 1));
  while (rows->next()) out.push_back(read_instance(m, *rows));
  return out;
}

void ManyToManyManager::add(std::span<const Value> pks) {
  auto& c = db_.connection();
  std::set<Value> wanted;
  for (const auto& pk : pks) {
    if (pk.is_null()) throw ValueError("Cannot add None to a many-to-many relation.");
    wanted.insert(target_->to_python(pk));
  }
  if (wanted.empty()) return;
  db::atomic(c, db::Atomic::Mode::Immediate, [&] {
    for (const auto& have : this->pks()) wanted.erase(have);
    std::vector<Value> batch(wanted.begin(), wanted.end());
    // Two parameters per row; stay under the backend's limit.
    std::size_t per =
        std::max<std::size_t>(1, static_cast<std::size_t>(c.features().max_query_params) / 2);
    for (std::size_t start = 0; start < batch.size(); start += per) {
      std::size_t end = std::min(batch.size(), start + per);
      std::string values;
      std::vector<Value> params;
      int n = 0;
      for (std::size_t i = start; i < end; ++i) {
        values +=
            (i > start ? ", (" : "(") + c.placeholder(n + 1) + ", " + c.placeholder(n + 2) + ")";
        n += 2;
        params.push_back(owner_pk_);
        params.push_back(batch[i]);
      }
      c.execute("INSERT INTO " + c.quote_name(through_.db_table) + " (" +
                    c.quote_name(source_->column) + ", " + c.quote_name(target_->column) +
                    ") VALUES " + values,
                params);
    }
  });
}

void ManyToManyManager::remove(std::span<const Value> pks) {
  auto& c = db_.connection();
  std::vector<Value> keys;
  for (const auto& pk : pks) {
    if (!pk.is_null()) keys.push_back(target_->to_python(pk));
  }
  if (keys.empty()) return;
  std::size_t per =
      std::max<std::size_t>(1, static_cast<std::size_t>(c.features().max_query_params) - 1);
  db::atomic(c, db::Atomic::Mode::Immediate, [&] {
    for (std::size_t start = 0; start < keys.size(); start += per) {
      std::size_t end = std::min(keys.size(), start + per);
      std::vector<Value> params{owner_pk_};
      params.insert(params.end(), keys.begin() + static_cast<std::ptrdiff_t>(start),
                    keys.begin() + static_cast<std::ptrdiff_t>(end));
      c.execute("DELETE FROM " + c.quote_name(through_.db_table) + " WHERE " +
                    c.quote_name(source_->column) + " = " + c.placeholder(1) + " AND " +
                    c.quote_name(target_->column) + " IN (" + placeholders(c, 2, end - start) + ")",
                params);
    }
  });
}

void ManyToManyManager::clear() {
  auto& c = db_.connection();
  c.execute("DELETE FROM " + c.quote_name(through_.db_table) + " WHERE " +
                c.quote_name(source_->column) + " = " + c.placeholder(1),
            std::span<const Value>(&owner_pk_, 1));
}

void ManyToManyManager::set(std::span<const Value> pks) {
  std::set<Value> wanted;
  for (const auto& pk : pks) {
    if (!pk.is_null()) wanted.insert(target_->to_python(pk));
  }
  db::atomic(db_.connection(), db::Atomic::Mode::Immediate, [&] {
    std::vector<Value> stale;
    for (const auto& have : this->pks()) {
      if (wanted.erase(have) == 0) stale.push_back(have);
    }
    remove(stale);
    std::vector<Value> missing(wanted.begin(), wanted.end());
    add(missing);
  });
}

}  // namespace cascade
