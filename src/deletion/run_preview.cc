// The preview, what the database's own rules will do, and binding a delete to its preview.
#include "deletion/runner.h"
#include "cascade/model/on_delete.h"

namespace cascade::detail {

Preview Runner::preview(std::int64_t max_items) {
  Preview out;
  out.max_items = max_items;
  if (p_.root_empty) return out;
  db::Atomic tx(c_);  // never committed: the destructor rolls everything back
  if (p_.single_statement) {
    std::int64_t count = scalar(s_.count(p_.root_model->db_table, root_cond()));
    if (count > 0 || p_.single_object) {
      out.counts.total = count;
      out.counts.per_model.emplace_back(p_.root_model->label(), count);
    }
  } else {
    prepare();
    try {
      check();
    } catch (const ProtectedError& e) {
      block(out, Refusal::Protected, e.what(), e.protected_objects());
    } catch (const RestrictedError& e) {
      block(out, Refusal::Restricted, e.what(), e.restricted_objects());
    }
    materialize_levels();
    order_by_rows();
    count_all(out, true);
  }
  std::tie(out.roots, out.roots_digest) = root_fingerprint();
  for (std::size_t n = 0; n < p_.nodes.size(); ++n) {
    if (marks(static_cast<int>(n))) continue;  // a soft delete removes no row
    const ModelMeta& m = model(static_cast<int>(n));
    database_effects(out, m, keys(static_cast<int>(n)), {&m});
  }
  if (max_items > 0) build_tree(out, max_items);
  return out;
}

DeletionPlan::ObjectsPage Runner::objects(const std::string& label, std::int64_t offset,
                                          std::int64_t limit) {
  DeletionPlan::ObjectsPage out;
  if (p_.root_empty) return out;
  db::Atomic tx(c_);  // never committed: the destructor rolls everything back
  const ModelMeta* m = nullptr;
  std::vector<Fragment> terms;
  if (p_.single_statement) {
    if (p_.root_model->label() != label) return out;
    m = p_.root_model;
    terms.push_back(root_cond());
  } else {
    prepare();
    materialize_levels();
    order_by_rows();
    for (std::size_t n = 0; n < p_.nodes.size(); ++n) {
      const ModelMeta& node_model = model(static_cast<int>(n));
      if (node_model.label() != label) continue;
      m = &node_model;
      Fragment where = cond(static_cast<int>(n));
      add_live_filter(where, node_model);
      terms.push_back(std::move(where));
    }
  }
  if (m == nullptr) return out;
  Fragment where = terms.size() == 1 ? terms.front() : Sql::any_of(terms);
  out.total = scalar(s_.count(m->db_table, where));
  auto rows = query(s_.select({.columns = select_columns(*m),
                               .from = s_.table(m->db_table),
                               .where = where,
                               .order_by = s_.pk(*m),
                               .limit = limit,
                               .offset = offset}));
  while (rows->next()) out.objects.push_back(read(*m, *rows));
  return out;
}

void Runner::database_effects(Preview& out, const ModelMeta& m, const Fragment& deleted,
                              std::vector<const ModelMeta*> path) {
  for (const auto& rel : m.related_objects) {
    const Field* fk = rel.field;
    if (fk->type == FieldType::ManyToMany) continue;
    // A multi-table child's relations from its parents: the parents' rows' effects, counted
    // for the parents' node (or none, with keep_parents).
    if (&fk->target->concrete_model() != &m.concrete_model()) continue;
    OnDelete rule = fk->on_delete;
    const char* action = rule == OnDelete::DbCascade      ? "ON DELETE CASCADE"
                         : rule == OnDelete::DbSetNull    ? "ON DELETE SET NULL"
                         : rule == OnDelete::DbSetDefault ? "ON DELETE SET DEFAULT"
                         : rule == OnDelete::DoNothing    ? "DO_NOTHING"
                                                          : nullptr;
    if (action == nullptr) continue;
    // Without a constraint the database lets a DO_NOTHING reference dangle, as Django does.
    if (rule == OnDelete::DoNothing && !fk->db_constraint) continue;
    const ModelMeta& r = *fk->model;
    Fragment where = referring(*fk, -1, deleted);
    if (rule == OnDelete::DoNothing) {
      // Rows the plan deletes itself are not left behind.
      int own = node_of(r);
      if (own >= 0 && !marks(own)) where = Sql::and_not(std::move(where), cond(own));
    }
    std::int64_t count = scalar(s_.count(r.db_table, where));
    if (count == 0) continue;
    out.database_effects.push_back({r.label(), fk->name, action, count});
    if (rule == OnDelete::DoNothing && !out.blocked()) {
      out.blocked_by = Refusal::Commit;
      out.blocked_message = "the commit would fail: " + std::to_string(count) + " " + r.label() +
                            " row" + (count == 1 ? "" : "s") + " would still reference deleted " +
                            m.label() + " rows through " + relation_label(*fk) +
                            " (on_delete=DO_NOTHING)";
      std::int64_t cap = std::max<std::int64_t>(out.max_items, 1);
      auto rows = query(rows_of(r, where, cap));
      while (rows->next()) {
        Instance o = read(r, *rows);
        out.blocking.push_back({r.label(), display(o), false, {}, o.pk()});
      }
    }
    if (rule == OnDelete::DbCascade && std::find(path.begin(), path.end(), &r) == path.end()) {
      path.push_back(&r);
      database_effects(
          out, r, s_.select({.columns = s_.pk(r), .from = s_.table(r.db_table), .where = where}),
          path);
      path.pop_back();
    }
  }
}

void Runner::count_all(Preview& out, bool values) {
  std::map<int, std::int64_t> counts;
  // Each fast entry counts the rows it will delete: those its level's keys reach and no
  // earlier entry of the same node does.
  for (std::size_t e = 0; e < fast_entries_.size(); ++e) {
    const FastEntry& entry = fast_entries_[e];
    int n = entry.node;
    Fragment where = fast_entry_cond(entry);
    for (std::size_t earlier = 0; earlier < e; ++earlier) {
      if (fast_entries_[earlier].node != n) continue;
      where = Sql::and_not(std::move(where), fast_entry_cond(fast_entries_[earlier]));
    }
    std::int64_t c = scalar(s_.count(model(n).db_table, where));
    counts[n] += c;
    if (c > 0) add_fast_label(n);
  }
  for (int n : sorted_) counts[n] = count_node(n);
  out.counts = assemble(counts);
  for (const auto& u : p_.updates) {
    std::int64_t n = count_update(u);
    if (n == 0) continue;
    std::string value;
    if (values) value = has_callable(u) ? "<computed>" : update_value(u).repr();
    out.updates.push_back({u.fk->model->label(), u.fk->name, value, n});
  }
}

std::pair<std::int64_t, std::uint64_t> Runner::root_fingerprint() {
  // A cyclic root node's keys also hold the rows its cycle reaches: read the root condition.
  const ModelMeta& m = *p_.root_model;
  Fragment roots = keys(0);
  if (p_.nodes[0].cyclic) {
    Fragment where = root_cond();
    add_live_filter(where, m);
    roots = s_.select(
        {.columns = s_.as(s_.pk(m), kKeyColumn), .from = s_.table(m.db_table), .where = where});
  }
  const std::string key = s_.name(kKeyColumn);
  auto rows = query(
      s_.select({.columns = key, .from = s_.derived(roots, "cascade_roots"), .order_by = key}));
  std::uint64_t h = 14695981039346656037ULL;
  auto mix = [&h](unsigned char byte) {
    h ^= byte;
    h *= 1099511628211ULL;
  };
  std::int64_t n = 0;
  while (rows->next()) {
    for (unsigned char ch : rows->get(0).repr()) mix(ch);
    mix(0);  // a separator no repr contains
    ++n;
  }
  return {n, h};
}

std::string Runner::count_differences(const DeleteResult& shown, const DeleteResult& now,
                                      const std::string& verb) {
  std::vector<std::string> labels;
  for (const auto* r : {&shown, &now}) {
    for (const auto& e : r->per_model) {
      if (std::find(labels.begin(), labels.end(), e.first) == labels.end())
        labels.push_back(e.first);
    }
  }
  std::string out;
  for (const auto& label : labels) {
    std::int64_t a = shown.count(label);
    std::int64_t b = now.count(label);
    if (a == b) continue;
    out += (out.empty() ? "" : "; ") + label + ": " + std::to_string(b) + " " + verb +
           ", the preview showed " + std::to_string(a);
  }
  return out;
}

void Runner::verify(const Preview& shown) {
  auto [roots, digest] = root_fingerprint();
  if (roots != shown.roots) {
    throw PreviewChanged(kChanged + std::to_string(roots) + " " + p_.root_model->label() + " row" +
                         (roots == 1 ? "" : "s") + " match now, the preview showed " +
                         std::to_string(shown.roots));
  }
  if (digest != shown.roots_digest) {
    throw PreviewChanged(kChanged + std::string("the ") + p_.root_model->label() +
                         " rows that match are not those the preview showed");
  }
  Preview now;
  count_all(now, false);
  fast_labels_.clear();  // the deletes record their labels again, as they go
  std::string diff =
      count_differences(shown.counts, now.counts, marks(0) ? "to mark" : "to delete");
  for (const std::vector<Preview::FieldUpdate>* list :
       {&shown.updates, &std::as_const(now.updates)}) {
    for (const auto& u : *list) {
      auto count_in = [&](const std::vector<Preview::FieldUpdate>& l) {
        std::int64_t c = 0;
        for (const auto& x : l) {
          if (x.label == u.label && x.field == u.field) c += x.count;
        }
        return c;
      };
      std::int64_t a = count_in(shown.updates);
      std::int64_t b = count_in(now.updates);
      std::string what = u.label + "." + u.field + ": " + std::to_string(b) +
                         " to update, the preview showed " + std::to_string(a);
      if (a != b && diff.find(what) == std::string::npos) diff += (diff.empty() ? "" : "; ") + what;
    }
  }
  if (!diff.empty()) throw PreviewChanged(kChanged + diff);
}

bool Runner::counts_are_exact() const {
  for (const auto& node : p_.nodes) {
    for (const auto& rel : node.model->related_objects) {
      OnDelete r = rel.field->on_delete;
      if (r == OnDelete::DbCascade || r == OnDelete::DbSetNull || r == OnDelete::DbSetDefault) {
        return false;
      }
    }
  }
  return true;
}

void Runner::block(Preview& out, Refusal kind, const std::string& message,
                   const std::vector<Instance>& objects) {
  out.blocked_by = kind;
  out.blocked_message = message;
  for (const auto& o : objects)
    out.blocking.push_back({o.meta().label(), display(o), false, {}, o.pk()});
}

std::string Runner::display(const Instance& inst) {
  std::string name = inst.meta().verbose_name;
  if (!name.empty()) name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
  return name + ": " + inst.str();
}

void Runner::build_tree(Preview& out, std::int64_t max_items) {
  std::int64_t listed = 0;
  std::set<std::pair<const ModelMeta*, Value>> seen;
  std::set<const Field*> followed;
  for (const auto& node : p_.nodes) {
    for (const auto& src : node.sources) {
      if (!src.root && !src.up && !src.generic) followed.insert(src.fk);
    }
  }
  std::function<void(const Instance&, std::vector<Preview::Node>&)> visit;
  visit = [&](const Instance& inst, std::vector<Preview::Node>& siblings) {
    if (!seen.insert({&inst.meta(), inst.pk()}).second) return;
    if (listed >= max_items) {
      ++out.omitted;
      return;
    }
    ++listed;
    int node = node_of(inst.meta());
    siblings.push_back(
        {inst.meta().label(), display(inst), node >= 0 && marks(node), {}, inst.pk()});
    std::size_t me = siblings.size() - 1;
    for (const auto& rel : inst.meta().related_objects) {
      const Field* fk = rel.field;
      if (!followed.count(fk)) continue;
      // A multi-table child's relations from its parents are listed under the parent's row.
      if (&fk->target->concrete_model() != &inst.meta().concrete_model()) continue;
      const ModelMeta& child = *fk->model;
      Fragment where =
          Sql::compare(col(child, fk->column), Compare::Eq, inst.get(fk->target_field->name));
      add_live_filter(where, child);
      std::vector<Instance> children;
      auto rows = query(rows_of(child, where));
      while (rows->next()) children.push_back(read(child, *rows));
      rows.reset();
      for (const auto& ch : children) visit(ch, siblings[me].children);
    }
    // A multi-table child's parent row goes with it (rule 41): listed under it, as Django's
    // admin lists it.
    if (const Field* link = inst.meta().concrete_model().parent_link()) {
      const ModelMeta& parent = *link->target;
      int pn = node_of(parent);
      bool collected =
          pn >= 0 && std::any_of(p_.nodes[static_cast<std::size_t>(pn)].sources.begin(),
                                 p_.nodes[static_cast<std::size_t>(pn)].sources.end(),
                                 [&](const detail::Source& s) { return s.up && s.fk == link; });
      if (collected) {
        std::vector<Instance> rows_found;
        auto rows = query(rows_of(parent, Sql::compare(s_.pk(parent), Compare::Eq, inst.pk())));
        while (rows->next()) rows_found.push_back(read(parent, *rows));
        rows.reset();
        for (const auto& row : rows_found) visit(row, siblings[me].children);
      }
    }
  };
  // The root rows, in the QuerySet's order (primary key order for instances).
  std::vector<Instance> roots;
  if (p_.root_qs) {
    QuerySet ordered = p_.root_qs->order_by(
        p_.root_model->ordering.empty() ? std::vector<std::string>{"pk"} : p_.root_model->ordering);
    // Only the rows listed are read (the rest are counted from the totals below). A QuerySet
    // across a multi-valued join repeats rows: the limit grows until it holds max_items
    // distinct ones, or the rows end.
    for (std::int64_t limit = max_items + 1;; limit *= 4) {
      roots.clear();
      std::set<Value> root_keys;
      std::int64_t read = 0;
      auto cursor = ordered.slice(0, limit).cursor();
      while (auto inst = cursor.next()) {
        ++read;
        if (!root_keys.insert(inst->pk()).second) continue;
        if (static_cast<std::int64_t>(roots.size()) < max_items) roots.push_back(std::move(*inst));
      }
      if (read < limit || static_cast<std::int64_t>(roots.size()) >= max_items) break;
    }
  } else {
    Fragment where = root_cond();
    add_live_filter(where, *p_.root_model);
    auto rows = query(rows_of(*p_.root_model, where));
    while (rows->next()) roots.push_back(read(*p_.root_model, *rows));
  }
  for (const auto& r : roots) visit(r, out.tree);
  // Rows collected through a generic relation are extra roots after them (rule 86), in the
  // order the relations were collected, each relation's rows by primary key.
  for (std::size_t n = 0; n < p_.nodes.size(); ++n) {
    for (const auto& src : p_.nodes[n].sources) {
      if (src.generic == nullptr) continue;
      const ModelMeta& m = model(static_cast<int>(n));
      Fragment where = source_rows(src, keys(src.parent));
      add_live_filter(where, m);
      std::vector<Instance> found;
      auto rows = query(rows_of(m, where));
      while (rows->next()) found.push_back(read(m, *rows));
      rows.reset();
      for (const auto& row : found) visit(row, out.tree);
    }
  }
  // Objects beyond the budget are counted from the plan's totals.
  std::int64_t total = out.counts.total;
  if (total > listed) out.omitted = std::max(out.omitted, total - listed);
}

std::vector<std::string> Runner::describe() const {
  std::vector<std::string> out;
  if (p_.root_empty) return {"nothing to delete (the query matches no row)"};
  if (p_.single_statement) return {"delete " + p_.root_model->label() + " in one statement"};
  for (const auto& chk : p_.checks) {
    out.push_back(std::string(chk.protect ? "check PROTECT " : "check RESTRICT ") +
                  chk.fk->model->label() + "." + chk.fk->name);
  }
  for (int n : fast_) out.push_back("delete " + model(n).label() + " (set-based)");
  for (const auto& u : p_.updates) {
    out.push_back("update " + u.fk->model->label() + "." + u.fk->name + " (" +
                  std::string(on_delete_name(u.fk->on_delete)) + ")");
  }
  for (int n : sorted_) {
    const auto& node = p_.nodes[static_cast<std::size_t>(n)];
    out.push_back(std::string(marks(n) ? "mark " : "delete ") + model(n).label() +
                  (has_object_receivers(n) ? " (rows streamed to receivers)" : " (set-based)") +
                  (node.cyclic ? " (cycle: keys computed to a fixpoint)" : ""));
  }
  return out;
}

}  // namespace cascade::detail
