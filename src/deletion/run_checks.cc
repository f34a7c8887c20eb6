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
  Fragment w = sql::where_fragment(c_, p_.root_qs->state());
  for (const ModelMeta* m : db_.registry().models()) {
    if (m != p_.root_model && w.sql.find(q(m->db_table)) != std::string::npos) return true;
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
}

void Runner::lock_referenced_rows() {
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

void Runner::check() {
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

int Runner::root_relation_index(const Field* fk) const {
  const auto& rel = p_.root_model->related_objects;
  for (std::size_t r = 0; r < rel.size(); ++r) {
    if (rel[r].field == fk) return static_cast<int>(r);
  }
  return static_cast<int>(rel.size());
}

bool Runner::is_root_row(const Value& pk) {
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

std::pair<const Field*, int> Runner::refusal_key(const detail::Check& chk, const Value& parent_pk) {
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

int Runner::first_root_relation(int n, const Value& pk) {
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

std::string Runner::relation_label(const Field& fk) {
  return "'" + fk.model->object_name + "." + fk.name + "'";
}

int Runner::node_of(const ModelMeta& m) const {
  for (std::size_t i = 0; i < p_.nodes.size(); ++i) {
    if (p_.nodes[i].model == &m) return static_cast<int>(i);
  }
  return -1;
}

Fragment Runner::referencing(const detail::Check& chk) const {
  Fragment f{col(*chk.fk->model, chk.fk->column) + " IN (", {}, false};
  append(f, keys(chk.parent));
  f.sql += ")";
  add_live_filter(f, *chk.fk->model);
  return f;
}

Fragment Runner::referencing(const detail::Update& u) const {
  Fragment f{col(*u.fk->model, u.fk->column) + " IN (", {}, false};
  append(f, keys(u.parent));
  f.sql += ")";
  add_live_filter(f, *u.fk->model);
  return f;
}

void Runner::load(const Fragment& where, const ModelMeta& m, std::vector<Instance>& out) {
  Fragment f{"SELECT " + select_columns(m) + " FROM " + q(m.db_table) + " WHERE ", {}, false};
  append(f, where);
  f.sql += " ORDER BY " + col(m, m.pk().column);
  auto rows = query(f);
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
