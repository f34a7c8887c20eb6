// The collection phase (reads only): the root rows fixed, referenced rows locked, the PROTECT /
// RESTRICT / never checks; and which relation a refusal names (rule 27).
#include "deletion/runner.h"

namespace cascade::detail {

bool Runner::writes_before_root_delete() const {
  return p_.nodes.size() > 1 || !p_.updates.empty();
}

bool Runner::root_condition_may_change() const {
  for (const auto& u : p_.updates) {
    if (u.fk->model == p_.root_model) return true;
  }
  return root_reads_other_tables();
}

bool Runner::root_reads_other_tables() const {
  if (!p_.root_qs) return true;
  Fragment w = sql::where_fragment(c_, p_.root_qs->state());
  for (const ModelMeta* m : db_.registry().models()) {
    if (m->db_table != p_.root_model->db_table &&
        w.sql.find(s_.name(m->db_table)) != std::string::npos) {
      return true;
    }
  }
  return false;
}

void Runner::prepare() {
  // The root's rows are fixed before anything changes (Django evaluates the QuerySet once);
  // a condition on the root table alone cannot change before the root's delete.
  // A bound delete fixes them always: it compares them with its preview.
  if (p_.root_qs && !p_.nodes[0].cyclic &&
      (shown_ != nullptr || (writes_before_root_delete() && root_condition_may_change()))) {
    materialize(0);
  }
  materialize_cycles();
  snapshot_held_values();
}

std::function<void(int)> Runner::row_locks() {
  if (!c_.features().supports_select_for_update) return {};
  std::vector<bool> referenced(p_.nodes.size(), false);
  for (const auto& node : p_.nodes) {
    for (const auto& s : node.sources) {
      if (!s.root) referenced[static_cast<std::size_t>(s.parent)] = true;
    }
  }
  for (const auto& ch : p_.checks) referenced[static_cast<std::size_t>(ch.parent)] = true;
  for (const auto& u : p_.updates) referenced[static_cast<std::size_t>(u.parent)] = true;
  return [this, referenced = std::move(referenced)](int n) {
    if (!referenced[static_cast<std::size_t>(n)]) return;
    const ModelMeta& m = model(n);
    scalar(s_.count(s_.select({.columns = Sql::constant_one(),
                               .from = s_.table(m.db_table),
                               .where = cond(n),
                               .order_by = s_.pk(m),
                               .for_update = true})));
  };
}

// One pass per kind of refusal, in Django's order: rows whose delete_policy is never, then
// PROTECT, then RESTRICT. Each pass finds the referencing rows the same way (RESTRICT forgives
// rows the delete removes itself, rule 29), keys them by relation as Django's message does, and
// throws at the end of the first pass that found any.
void Runner::check() {
  enum class Kind { Never, Protect, Restrict };
  struct Key {
    const ModelMeta* model;
    std::string label;  // 'Model.field'
    int order;          // the smallest root relation under which a blocking row was reached
    int check_order;    // the plan's discovery order
  };
  for (Kind kind : {Kind::Never, Kind::Protect, Kind::Restrict}) {
    std::vector<Key> keys;
    std::vector<Instance> objects;
    // PROTECT: each protected row, with the relation that names it and the root hop.
    struct Protected {
      Instance obj;
      const Field* fk;
      const Field* key_field;
      int order;
      int check_order;
      bool through_keys;  // reached under `order` without a generic relation
    };
    std::vector<Protected> protected_rows;
    auto add_key = [&](const Field& fk, const Field& key_field, int order, int check_order) {
      std::string label = relation_label(key_field);
      auto hit =
          std::find_if(keys.begin(), keys.end(), [&](const Key& k) { return k.label == label; });
      if (hit == keys.end()) {
        keys.push_back({fk.model, label, order, check_order});
      } else {
        hit->order = std::min(hit->order, order);
      }
    };
    for (const auto& chk : p_.checks) {
      Kind of = chk.never ? Kind::Never : chk.protect ? Kind::Protect : Kind::Restrict;
      if (of != kind) continue;
      Fragment where = referencing_rows(*chk.fk, chk.parent);
      std::optional<int> own;
      if (kind == Kind::Restrict) {
        int node = node_of(*chk.fk->model);
        if (node >= 0) {
          own = node;
          where = excluding_rows(std::move(where), node);
        }
      }
      if (!any_referencing(*chk.fk, chk.parent, own)) continue;
      std::vector<Instance> found;
      load(where, *chk.fk->model, found);
      switch (kind) {
        case Kind::Never:  // keyed by the relation, in discovery order
          add_key(*chk.fk, *chk.fk, 0, chk.order);
          break;
        case Kind::Protect:
          // Keyed by the relation of the root model under which Django's walk reached each
          // protected row (rule 27), or by the PROTECT field itself when it protects a root row.
          for (auto& obj : found) {
            Value parent = parent_key(*chk.fk, obj.get(chk.fk->name));
            auto [key_field, order] = refusal_key(chk, parent);
            bool keys = reached_through_keys(chk, parent);
            protected_rows.push_back({std::move(obj), chk.fk, key_field, order, chk.order, keys});
          }
          found.clear();
          break;
        case Kind::Restrict: {
          int order = std::numeric_limits<int>::max();
          for (const auto& obj : found)
            order = std::min(order,
                             refusal_key(chk, parent_key(*chk.fk, obj.get(chk.fk->name))).second);
          add_key(*chk.fk, *chk.fk, order, chk.order);
          break;
        }
      }
      for (auto& obj : found) objects.push_back(std::move(obj));
    }
    // Django collects a model's GenericRelations only after its relations raised nothing, and
    // an error from that collection is not re-keyed under a relation of the root: rows
    // protected through the root's foreign keys are reported alone; without any, those found
    // through the root's first generic relation that has some, under its target's name.
    std::string refused = p_.root_model->object_name;
    const int generic_from = static_cast<int>(p_.root_model->related_objects.size()) + 1;
    bool through_keys = std::any_of(protected_rows.begin(), protected_rows.end(),
                                    [&](const Protected& r) { return r.order < generic_from; });
    int first_generic = std::numeric_limits<int>::max();
    for (const auto& r : protected_rows) {
      if (r.order >= generic_from) first_generic = std::min(first_generic, r.order);
    }
    if (!through_keys && !protected_rows.empty()) {
      auto grs = p_.root_model->generic_relations();
      refused = grs[static_cast<std::size_t>(first_generic - generic_from)]->target->object_name;
    }
    // Under one relation of the root, Django's walk meets a model's generic relations after the
    // foreign keys of that model: rows found only through a generic relation are not reported
    // when rows protected through keys alone are (an approximation by root relation).
    std::set<int> keyed_orders;
    for (const auto& r : protected_rows) {
      if (r.through_keys) keyed_orders.insert(r.order);
    }
    for (auto& r : protected_rows) {
      bool reported = through_keys ? r.order < generic_from : r.order == first_generic;
      if (!r.through_keys && keyed_orders.count(r.order)) reported = false;
      if (!reported) continue;
      add_key(*r.fk, through_keys ? *r.key_field : *r.fk, r.order, r.check_order);
      objects.push_back(std::move(r.obj));
    }
    if (keys.empty()) continue;
    if (kind == Kind::Protect) {
      std::stable_sort(keys.begin(), keys.end(),
                       [](const Key& a, const Key& b) { return a.order < b.order; });
    } else if (kind == Kind::Restrict) {
      // Django lists the restricting relations grouped by model, in the order its walk first met
      // each model and relation: by the smallest root relation under which a blocking row was
      // reached, then in the plan's discovery order.
      std::map<const ModelMeta*, std::pair<int, int>> model_first;
      for (const auto& k : keys) {
        auto [it, added] = model_first.try_emplace(k.model, k.order, k.check_order);
        if (!added) it->second = std::min(it->second, std::make_pair(k.order, k.check_order));
      }
      std::stable_sort(keys.begin(), keys.end(), [&](const Key& a, const Key& b) {
        return std::tie(model_first[a.model], a.order, a.check_order) <
               std::tie(model_first[b.model], b.order, b.check_order);
      });
    }
    std::string list;
    for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k.label;
    std::string model = "Cannot delete some instances of model '" + refused + "' because ";
    switch (kind) {
      case Kind::Never:
        throw ProtectedError(
            model + "the delete would reach rows whose delete_policy is 'never', through: " + list +
                ".",
            dedupe(std::move(objects)));
      case Kind::Protect:
        throw ProtectedError(
            model + "they are referenced through protected foreign keys: " + list + ".",
            dedupe(std::move(objects)));
      case Kind::Restrict:
        throw RestrictedError(
            model + "they are referenced through restricted foreign keys: " + list + ".",
            dedupe(std::move(objects)));
    }
  }
}

int Runner::generic_hop(const Field* gr) const {
  auto grs = p_.root_model->generic_relations();
  auto at = std::find(grs.begin(), grs.end(), gr) - grs.begin();
  return static_cast<int>(p_.root_model->related_objects.size() + 1) + static_cast<int>(at);
}

int Runner::root_relation_index(const Field* fk) const {
  const auto& rel = p_.root_model->related_objects;
  for (std::size_t r = 0; r < rel.size(); ++r) {
    if (rel[r].field == fk) return static_cast<int>(r);
  }
  return static_cast<int>(rel.size());
}

bool Runner::is_root_row(const Value& pk) {
  if (!p_.root_qs)
    return std::find(p_.root_pks.begin(), p_.root_pks.end(), pk) != p_.root_pks.end();
  auto cached = root_row_.find(pk);
  if (cached != root_row_.end()) return cached->second;
  const ModelMeta& m = *p_.root_model;
  Fragment where = Sql::all_of({Sql::compare(s_.pk(m), Compare::Eq, pk), root_cond()});
  add_live_filter(where, m);
  bool found = any(where, m);
  root_row_[pk] = found;
  return found;
}

std::pair<const Field*, int> Runner::refusal_key(const detail::Check& chk, const Value& parent_pk) {
  if (chk.parent == 0 && is_root_row(parent_pk)) return {chk.fk, root_relation_index(chk.fk)};
  int hop = first_root_relation(chk.parent, parent_pk);
  if (hop < 0) {
    // Not reachable from a root row through the plan's relations (cannot happen for rows the
    // check found): the first relation through which the plan reached the model.
    hop = p_.nodes[static_cast<std::size_t>(chk.parent)].first_hop;
    if (hop < 0) return {chk.fk, root_relation_index(chk.fk)};
  }
  const auto& rel = p_.root_model->related_objects;
  // A row reached through a parent link followed up has no relation of the root's.
  if (static_cast<std::size_t>(hop) >= rel.size()) return {chk.fk, hop};
  return {rel[static_cast<std::size_t>(hop)].field, hop};
}

int Runner::first_root_relation(int n, const Value& pk) {
  auto memo = first_hop_of_.find({n, pk});
  if (memo != first_hop_of_.end()) return memo->second;
  int best = -1;
  int best_keys_only = -1;
  // (node, key, whether the way up so far went through a generic relation)
  std::set<std::tuple<int, Value, bool>> seen{{n, pk, false}};
  std::vector<std::tuple<int, Value, bool>> pending{{n, pk, false}};
  while (!pending.empty()) {
    auto [node, key, via_generic] = pending.back();
    pending.pop_back();
    const ModelMeta& m = model(node);
    std::vector<const detail::Source*> up;
    std::vector<std::string> columns;
    std::vector<std::string> types;  // generic sources: the content type column, after the rest
    for (const auto& s : p_.nodes[static_cast<std::size_t>(node)].sources) {
      if (s.root) continue;
      up.push_back(&s);
      // A parent row's child has its key (Source::up): the column is the row's own key.
      columns.push_back(s.up        ? s_.pk(m)
                        : s.generic ? col(m, s.generic->generic_id->column)
                                    : col(m, s.fk->column));
      if (s.generic) types.push_back(col(m, s.generic->generic_ct->column));
    }
    if (up.empty()) continue;
    columns.insert(columns.end(), types.begin(), types.end());
    Fragment where = Sql::compare(s_.pk(m), Compare::Eq, key);
    add_live_filter(where, m);
    std::vector<Value> parents;
    std::vector<Value> type_of;
    {
      auto rows = query(
          s_.select({.columns = Sql::list(columns), .from = s_.table(m.db_table), .where = where}));
      if (!rows->next()) continue;
      for (std::size_t i = 0; i < up.size(); ++i) parents.push_back(rows->get(static_cast<int>(i)));
      for (std::size_t i = up.size(); i < columns.size(); ++i)
        type_of.push_back(rows->get(static_cast<int>(i)));
    }
    std::size_t generic_seen = 0;
    for (std::size_t i = 0; i < up.size(); ++i) {
      const detail::Source& s = *up[i];
      std::size_t type_index = s.generic ? generic_seen++ : 0;
      if (parents[i].is_null()) continue;
      Value parent;
      if (s.up) {
        parent = parents[i];
      } else if (s.generic) {
        // The row's generic key names a row of the parent when its content type is the parent's.
        const Value& type = type_of[type_index];
        if (type != content_type_.at(s.parent)) continue;
        try {
          parent = model(s.parent).pk().to_python(parents[i]);
        } catch (const ValueError&) {
          continue;
        }
      } else {
        parent = parent_key(*s.fk, parents[i]);
      }
      if (parent.is_null()) continue;
      if (s.parent == 0 && is_root_row(parent)) {
        int r = s.up        ? static_cast<int>(p_.root_model->related_objects.size())
                : s.generic ? generic_hop(s.generic)
                            : root_relation_index(s.fk);
        if (best < 0 || r < best) best = r;
        bool keys_only = !via_generic && !s.generic;
        if (keys_only && (best_keys_only < 0 || r < best_keys_only)) best_keys_only = r;
        continue;
      }
      bool next = via_generic || s.generic != nullptr;
      if (seen.insert({s.parent, parent, next}).second) pending.emplace_back(s.parent, parent, next);
    }
  }
  first_hop_of_[{n, pk}] = best;
  keys_only_hop_[{n, pk}] = best_keys_only;
  return best;
}

bool Runner::reached_through_keys(const detail::Check& chk, const Value& parent_pk) {
  if (chk.parent == 0 && is_root_row(parent_pk)) return true;
  int hop = first_root_relation(chk.parent, parent_pk);
  return keys_only_hop_[{chk.parent, parent_pk}] == hop;
}

std::string Runner::relation_label(const Field& fk) {
  return "'" + fk.model->object_name + "." + fk.name + "'";
}

int Runner::node_of(const ModelMeta& m) const {
  for (std::size_t i = 0; i < p_.nodes.size(); ++i) {
    if (p_.nodes[i].model == &m) return static_cast<int>(i);
  }
  return -1;
}

Value Runner::parent_key(const Field& fk, const Value& held) {
  const ModelMeta& t = *fk.target;
  if (fk.target_field->primary_key) return t.pk().to_python(held);
  auto rows =
      query(s_.select({.columns = s_.pk(t),
                       .from = s_.table(t.db_table),
                       .where = Sql::compare(col(t, fk.target_field->column), Compare::Eq, held)}));
  return rows->next() ? t.pk().to_python(rows->get(0)) : Value();
}

Fragment Runner::referencing_rows(const Field& fk, int parent) const {
  const ModelMeta& m = *fk.model;
  detail::Source s;
  s.fk = &fk;
  s.parent = parent;
  if (!plain_key_source(s, m)) return referencing(fk, parent);
  Fragment f = Sql::all_of({Sql::is_not_null(col(m, fk.column)), member_path(s, m)});
  add_live_filter(f, m);
  return f;
}

Fragment Runner::referencing(const Field& fk, int parent) const {
  Fragment f = referring(fk, parent, keys(parent));
  add_live_filter(f, *fk.model);
  return f;
}

Fragment Runner::rows_of(const ModelMeta& m, const Fragment& where,
                         std::optional<std::int64_t> limit) const {
  return s_.select({.columns = select_columns(m),
                    .from = s_.table(m.db_table),
                    .where = where,
                    .order_by = s_.pk(m),
                    .limit = limit});
}

void Runner::load(const Fragment& where, const ModelMeta& m, std::vector<Instance>& out) {
  auto rows = query(rows_of(m, where));
  while (rows->next()) out.push_back(read(m, *rows));
}

std::vector<Instance> Runner::dedupe(std::vector<Instance> objects) {
  std::vector<Instance> out;
  std::set<std::pair<const ModelMeta*, Value>> seen;
  for (auto& o : objects) {
    if (seen.insert({&o.meta(), o.pk()}).second) out.push_back(std::move(o));
  }
  return out;
}

}  // namespace cascade::detail
