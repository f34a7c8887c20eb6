#include "cascade/query/manager.h"

#include <algorithm>
#include <set>

#include "cascade/query/context.h"
#include "cascade/query/manager.h"
#include "cascade/db/transaction.h"
#include "cascade/error.h"

#include "sql/rows.h"
#include "sql/statements.h"

namespace cascade {
namespace {

using sql::read_instance;
using Sql = sql::Statements;

// The rows of a many-to-many table whose `source` column holds `owner`.
sql::Fragment owned_by(const Sql& s, const ModelMeta& through, const Field& source,
                       const Value& owner) {
  return Sql::compare(s.column(through, source.column), sql::Compare::Eq, owner);
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

namespace {

// The fields one table holds: the table of the model itself or of one of its multi-table
// ancestors. fields[0] is that table's primary key.
struct TablePart {
  const ModelMeta* holder;
  std::vector<std::size_t> fields;
};

// The tables an instance of `m` is written to, ancestors first (Django's _save_parents).
std::vector<TablePart> table_parts(const ModelMeta& m) {
  std::vector<TablePart> parts;
  for (std::size_t i = m.local_count; i < m.fields.size(); ++i) {
    const ModelMeta* holder = m.fields[i].model;
    if (parts.empty() || parts.back().holder != holder) parts.push_back({holder, {}});
    parts.back().fields.push_back(i);
  }
  std::reverse(parts.begin(), parts.end());
  TablePart own{&m, {}};
  for (std::size_t i = 0; i < m.local_count; ++i) own.fields.push_back(i);
  parts.push_back(std::move(own));
  return parts;
}

}  // namespace

bool Manager::save_row(Instance& inst) {
  std::vector<TablePart> parts = table_parts(meta_);
  // Every table of a multi-table chain has the same key: the child's parent link, else the
  // first ancestor key set (Django's _save_parents keeps them in step).
  Value key = inst.pk();
  for (auto it = parts.rbegin(); key.is_null() && it != parts.rend(); ++it) {
    key = inst.at(it->fields.front());
  }
  auto set_key = [&](const Value& v) {
    for (const auto& part : parts) inst.set_at(part.fields.front(), v);
  };
  if (!key.is_null()) set_key(key);
  bool created = false;
  auto write = [&] {
    for (const auto& part : parts)
      created = save_part(inst, part.holder->db_table, part.fields, part.holder->pk(), set_key);
  };
  if (parts.size() == 1) {
    write();
  } else {  // every table or none
    db::atomic(db_.connection(), db::Atomic::Mode::Immediate, write);
  }
  inst.set_adding(false);
  return created;
}

bool Manager::save_part(Instance& inst, const std::string& table,
                        const std::vector<std::size_t>& fields, const Field& pk,
                        const std::function<void(const Value&)>& set_key) {
  auto& c = db_.connection();
  Sql s(c);
  const Value& key = inst.at(fields.front());
  if (!key.is_null()) {
    std::vector<std::pair<std::string, Value>> sets;
    for (std::size_t k = 1; k < fields.size(); ++k) {
      const Field& f = meta_.fields[fields[k]];
      // deleted_at / deletion_id belong to remove() and restore(), not to save().
      if (ModelMeta::is_soft_delete_field(f) && meta_.soft_deletable()) continue;
      sets.emplace_back(f.column, inst.at(fields[k]));
    }
    sql::Fragment this_row = Sql::compare(s.name(pk.column), sql::Compare::Eq, key);
    std::int64_t updated = 0;
    if (!sets.empty()) {
      updated = sql::execute(c, s.update(table, sets, this_row));
    } else {
      auto rows = sql::query(c, s.count(table, this_row));
      rows->next();
      updated = rows->get(0).as_integer();
    }
    if (updated != 0) return false;  // else no row with that key: Django inserts it
  }
  bool auto_pk = pk.type == FieldType::Auto && key.is_null();
  std::vector<std::string> columns;
  std::vector<Value> values;
  for (std::size_t k = auto_pk ? 1 : 0; k < fields.size(); ++k) {
    columns.push_back(meta_.fields[fields[k]].column);
    values.push_back(inst.at(fields[k]));
  }
  sql::Fragment insert = s.insert_values(table, columns, {values}, auto_pk ? pk.column : "");
  if (auto_pk) {
    auto rows = sql::query(c, insert);
    if (!rows->next()) throw OperationalError("INSERT ... RETURNING returned no row");
    set_key(pk.to_python(rows->get(0)));
    while (rows->next()) {
    }
  } else {
    sql::execute(c, insert);
  }
  return true;
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
  // Mapped structs among the values stand for their primary keys, in the lookup and the row.
  Lookups resolved;
  for (const auto& [name, arg] : lookups) {
    resolved.emplace_back(
        name,
        std::get<Lookup>(resolve_mapped(Q(name, arg), db_.registry(), meta_).children().front())
            .second);
  }
  return db::atomic(db_.connection(), db::Atomic::Mode::Immediate,
                    [&]() -> std::pair<Instance, bool> {
                      try {
                        return {all().get(Q(resolved)), false};
                      } catch (const DoesNotExist&) {
                      }
                      Instance inst(meta_);
                      for (const auto& [name, arg] : resolved) {
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
  // A multi-table child has its parents' many-to-many relations (the same key).
  if (const ModelMeta* parent = meta_.parent()) {
    const ModelMeta* holder = parent;
    while (holder != nullptr &&
           std::none_of(holder->many_to_many.begin(), holder->many_to_many.end(),
                        [&](const Field& f) { return f.name == name; })) {
      holder = holder->parent();
    }
    if (holder != nullptr) return Manager(db_, *holder, visibility_).many_to_many(inst, name);
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
    : db_(db),
      through_(*field.through),
      owner_pk_(std::move(owner_pk)),
      symmetrical_(field.is_symmetrical()) {
  source_ = reverse ? field.through_target : field.through_source;
  target_ = reverse ? field.through_source : field.through_target;
  owner_pk_ = source_->to_python(owner_pk_);
}

const ModelMeta& ManyToManyManager::model() const noexcept { return *target_->target; }

std::vector<Value> ManyToManyManager::pks() const {
  auto& c = db_.connection();
  Sql s(c);
  std::vector<Value> out;
  auto rows = sql::query(c, s.select({.columns = s.column(through_, target_->column),
                                      .from = s.table(through_.db_table),
                                      .where = owned_by(s, through_, *source_, owner_pk_),
                                      .order_by = s.column(through_, target_->column)}));
  while (rows->next()) out.push_back(target_->to_python(rows->get(0)));
  return out;
}

std::vector<Instance> ManyToManyManager::all() const {
  auto& c = db_.connection();
  Sql s(c);
  const ModelMeta& m = model();
  std::vector<Instance> out;
  sql::Fragment targets = s.select({.columns = s.column(through_, target_->column),
                                    .from = s.table(through_.db_table),
                                    .where = owned_by(s, through_, *source_, owner_pk_)});
  auto rows = sql::query(c, s.select({.columns = s.instance_columns(m),
                                      .from = s.table(m.db_table),
                                      .where = Sql::in(s.pk(m), targets),
                                      .order_by = s.pk(m)}));
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
  // An explicit through model's other fields get their defaults (Django's add() without
  // through_defaults); a required field without one makes the insert fail.
  std::vector<std::string> columns{source_->column, target_->column};
  std::vector<Value> defaults;
  for (const auto& f : through_.fields) {
    if (&f == source_ || &f == target_ || (f.primary_key && f.type == FieldType::Auto)) continue;
    columns.push_back(f.column);
    defaults.push_back(f.to_python(f.get_default()));
  }
  // Links from `from` to each of `to` not there yet.
  auto insert_links = [&](const Field& from_key, const Field& to_key, const Value& from,
                          std::set<Value> to) {
    Sql s(c);
    auto existing = sql::query(c, s.select({.columns = s.column(through_, to_key.column),
                                            .from = s.table(through_.db_table),
                                            .where = owned_by(s, through_, from_key, from)}));
    while (existing->next()) to.erase(to_key.to_python(existing->get(0)));
    existing.reset();
    std::vector<Value> batch(to.begin(), to.end());
    std::vector<std::string> cols = columns;
    cols[0] = from_key.column;
    cols[1] = to_key.column;
    // Parameters per row: stay under the backend's limit.
    std::size_t per = std::max<std::size_t>(
        1, static_cast<std::size_t>(c.features().max_query_params) / cols.size());
    for (std::size_t start = 0; start < batch.size(); start += per) {
      std::size_t end = std::min(batch.size(), start + per);
      std::vector<std::vector<Value>> rows;
      for (std::size_t i = start; i < end; ++i) {
        std::vector<Value> row{from, batch[i]};
        row.insert(row.end(), defaults.begin(), defaults.end());
        rows.push_back(std::move(row));
      }
      sql::execute(c, Sql(c).insert_values(through_.db_table, cols, rows));
    }
  };
  db::atomic(c, db::Atomic::Mode::Immediate, [&] {
    insert_links(*source_, *target_, owner_pk_, wanted);
    // A symmetrical relation stores the mirror of each link too (Django adds it after).
    if (symmetrical_) {
      for (const auto& other : wanted) insert_links(*source_, *target_, other, {owner_pk_});
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
  if (!through_.auto_created) {
    // An explicit through model's rows are ordinary rows: deleted with their signals and their
    // own relations' rules, as Django deletes them through the model's manager.
    Q links = Q(source_->name, owner_pk_) & Q(target_->name + "__in", Arg(keys));
    if (symmetrical_)
      links = links | (Q(target_->name, owner_pk_) & Q(source_->name + "__in", Arg(keys)));
    QuerySet(db_, through_).filter(links).remove();
    return;
  }
  std::size_t per =
      std::max<std::size_t>(1, static_cast<std::size_t>(c.features().max_query_params) - 1);
  db::atomic(c, db::Atomic::Mode::Immediate, [&] {
    for (std::size_t start = 0; start < keys.size(); start += per) {
      std::size_t end = std::min(keys.size(), start + per);
      Sql s(c);
      std::span<const Value> part(keys.begin() + static_cast<std::ptrdiff_t>(start),
                                  keys.begin() + static_cast<std::ptrdiff_t>(end));
      sql::Fragment links = Sql::all_of({owned_by(s, through_, *source_, owner_pk_),
                                         Sql::in(s.column(through_, target_->column), part)});
      if (symmetrical_) {  // and their mirrors
        links = Sql::any_of(
            {std::move(links), Sql::all_of({owned_by(s, through_, *target_, owner_pk_),
                                            Sql::in(s.column(through_, source_->column), part)})});
      }
      sql::execute(c, s.delete_from(through_.db_table, links));
    }
  });
}

void ManyToManyManager::clear() {
  if (!through_.auto_created) {  // ordinary rows, as in remove()
    Q links(source_->name, owner_pk_);
    if (symmetrical_) links = links | Q(target_->name, owner_pk_);
    QuerySet(db_, through_).filter(links).remove();
    return;
  }
  auto& c = db_.connection();
  Sql s(c);
  sql::Fragment links = owned_by(s, through_, *source_, owner_pk_);
  // A symmetrical relation's mirrors go too (Django's clear() removes both directions).
  if (symmetrical_)
    links = Sql::any_of({std::move(links), owned_by(s, through_, *target_, owner_pk_)});
  sql::execute(c, s.delete_from(through_.db_table, links));
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
