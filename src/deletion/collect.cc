// Building a DeletionPlan: Django's Collector.collect() walked over models instead of rows.
// Which relations are followed, the on_delete rules, the fast-delete test and the order of
// collection and sorting are Django's; the rows themselves stay in the database as predicates.
#include <algorithm>
#include <functional>

#include "cascade/query/context.h"
#include "cascade/query/manager.h"
#include "cascade/query/queryset.h"
#include "cascade/error.h"
#include "cascade/model/on_delete.h"
#include "deletion/audit_operation.h"
#include "deletion/plan.h"
#include "sql/query.h"

namespace cascade {
namespace {

bool skips_collection(OnDelete rule) { return !traits(rule).collected; }

// Django's can_fast_delete for a model reached through the CASCADE relation `from` (null for
// the root) (rule 48): no per-object delete receivers, every relation pointing at it (or at
// its parents) is DO_NOTHING or DB_*, a multi-table child only through its parent link, and
// no GenericRelation.
bool can_fast_delete(const Context& db, const ModelMeta& model, const Field* from) {
  const Field* link = model.concrete_model().parent_link();
  if (link != nullptr && link != from) return false;
  auto& signals = const_cast<Context&>(db).signals();
  if (signals.has_receivers(Signal::PreDelete, model) ||
      signals.has_receivers(Signal::PostDelete, model)) {
    return false;
  }
  for (const auto& rel : model.related_objects) {
    if (rel.field->type == FieldType::ManyToMany) continue;  // its through FKs count instead
    if (!skips_collection(rel.field->on_delete)) return false;
  }
  return model.generic_relations().empty();
}

class Builder {
 public:
  Builder(Context& db, detail::Plan& plan) : db_(db), plan_(plan) {}

  void build() {
    detail::Node root;
    root.model = plan_.root_model;
    root.sources.push_back({true, nullptr, -1});
    root.mark = plan_.kind != detail::Kind::Hard;
    plan_.nodes.push_back(root);
    plan_.collected.push_back(0);
    walked_.insert(0);
    walk(0);
    drop_redundant_parent_sources();
    mark_cycles();
    sort();
  }

 private:
  Context& db_;
  detail::Plan& plan_;
  std::map<const ModelMeta*, int> node_of_;
  std::map<int, std::set<int>> after_;  // node -> nodes it must be deleted after
  std::set<int> walked_;                // nodes whose relations were followed
  int check_order_ = 0;

  int node_for(const ModelMeta& model, bool fast, int first_hop, bool mark) {
    if (&model == plan_.root_model) return 0;
    auto it = node_of_.find(&model);
    if (it != node_of_.end()) return it->second;
    detail::Node n;
    n.model = &model;
    n.fast = fast;
    n.first_hop = first_hop;
    n.mark = mark;
    plan_.nodes.push_back(n);
    int index = static_cast<int>(plan_.nodes.size()) - 1;
    node_of_[&model] = index;
    if (fast) {
      plan_.fast_queue.push_back(index);
    } else {
      plan_.collected.push_back(index);
    }
    return index;
  }

  // Multi-table inheritance (rules 41, 43, 47): a child's parent rows are collected with it,
  // after it in delete order, and so are theirs; their relations are not walked for them
  // (the child inherits those relations).
  void collect_parents(int index) {
    const ModelMeta& model = *plan_.nodes[static_cast<std::size_t>(index)].model;
    const Field* link = model.concrete_model().parent_link();
    if (link == nullptr) return;
    const ModelMeta& parent = *link->target;
    if (parent.delete_policy == DeletePolicy::Never) {
      // Refused whether or not rows are reached (a conservative check, made when planning).
      throw NotSupportedError("Cannot delete instances of model '" + model.object_name +
                              "': its parent model '" + parent.object_name +
                              "' has delete_policy 'never' (delete with keep_parents to keep "
                              "the parent rows).");
    }
    bool is_new = &parent != plan_.root_model && node_of_.count(&parent) == 0;
    int p = node_for(parent, false, plan_.nodes[static_cast<std::size_t>(index)].first_hop, false);
    plan_.nodes[static_cast<std::size_t>(p)].sources.push_back({false, link, index, true});
    if (p != index) after_[p].insert(index);
    if (is_new) collect_parents(p);
  }

  // A parent node reached from a child only through that child's own parent link already has
  // every parent of the child's rows.
  void drop_redundant_parent_sources() {
    for (std::size_t n = 0; n < plan_.nodes.size(); ++n) {
      std::erase_if(plan_.nodes[n].sources, [&](const detail::Source& s) {
        if (!s.up) return false;
        const auto& child = plan_.nodes[static_cast<std::size_t>(s.parent)].sources;
        return std::all_of(child.begin(), child.end(), [&](const detail::Source& c) {
          return !c.root && !c.up && c.fk == s.fk && c.parent == static_cast<int>(n);
        });
      });
    }
  }

  // Django's collect(): the parents (unless keep_parents), then every candidate relation of
  // the node's model (its parents' first), in discovery order.
  void walk(int index) {
    const ModelMeta& model = *plan_.nodes[static_cast<std::size_t>(index)].model;
    bool keep_parents = index == 0 && plan_.keep_parents;
    if (!keep_parents) collect_parents(index);
    for (std::size_t r = 0; r < model.related_objects.size(); ++r) {
      const Field* fk = model.related_objects[r].field;
      if (fk->type == FieldType::ManyToMany || skips_collection(fk->on_delete)) continue;
      // keep_parents: relations to the parents stay (rule 44).
      if (keep_parents && &fk->target->concrete_model() != &model.concrete_model()) continue;
      int hop =
          index == 0 ? static_cast<int>(r) : plan_.nodes[static_cast<std::size_t>(index)].first_hop;
      const ModelMeta& related = *fk->model;
      bool soft = plan_.kind != detail::Kind::Hard;
      switch (fk->on_delete) {
        case OnDelete::Cascade: {
          if (related.delete_policy == DeletePolicy::Never) {
            plan_.checks.push_back({fk, index, false, true, check_order_++});
            break;
          }
          bool mark = false;
          if (soft) {
            // A soft delete keeps many-to-many links (they are hidden with the row), marks
            // soft-deletable rows, and hard-deletes others only under the soft policy.
            if (related.auto_created) break;
            mark = related.soft_deletable();
            if (!mark && plan_.kind == detail::Kind::SoftCascade) break;
          }
          bool fast = !mark && &related != plan_.root_model && can_fast_delete(db_, related, fk);
          int child = node_for(related, fast, hop, mark);
          plan_.nodes[static_cast<std::size_t>(child)].sources.push_back({false, fk, index});
          // Deleting the parent must wait for the children unless the key may be null
          // (Django records no dependency for nullable relations).
          if (!fk->null && child != index) after_[index].insert(child);
          if (!plan_.nodes[static_cast<std::size_t>(child)].fast && walked_.insert(child).second) {
            walk(child);
          }
          break;
        }
        case OnDelete::Protect:
          plan_.checks.push_back({fk, index, true, false, check_order_++});
          break;
        case OnDelete::Restrict:
          plan_.checks.push_back({fk, index, false, false, check_order_++});
          if (&related != plan_.nodes[static_cast<std::size_t>(index)].model) {
            // Django: the referenced model is deleted after the referencing one.
            auto it = node_of_.find(&related);
            if (it != node_of_.end()) after_[index].insert(it->second);
            pending_restrict_.emplace_back(index, &related);
          }
          break;
        case OnDelete::SetNull:
        case OnDelete::SetDefault:
        case OnDelete::Set:
          if (plan_.kind != detail::Kind::SoftCascade) plan_.updates.push_back({fk, index});
          break;
        default: break;
      }
    }
    walk_generic(index);
  }

  // Django's private fields, after the relations (rule 57): the rows of each GenericRelation
  // target whose (content type, object id) is one of the node's rows, collected like CASCADE
  // without an ordering dependency; fast-deleted when nothing else needs them loaded.
  void walk_generic(int index) {
    const ModelMeta& model = *plan_.nodes[static_cast<std::size_t>(index)].model;
    bool soft = plan_.kind != detail::Kind::Hard;
    for (const Field* gr : model.generic_relations()) {
      const ModelMeta& related = *gr->target;
      if (related.delete_policy == DeletePolicy::Never) {
        throw NotSupportedError("Cannot delete instances of model '" + model.object_name +
                                "': its generic relation '" + gr->name + "' reaches model '" +
                                related.object_name + "', whose delete_policy is 'never'.");
      }
      bool mark = false;
      if (soft) {  // as for a CASCADE relation
        mark = related.soft_deletable();
        if (!mark && plan_.kind == detail::Kind::SoftCascade) continue;
      }
      // From the root: after every relation of the root model (Django walks private fields last).
      int hop = index == 0 ? static_cast<int>(model.related_objects.size())
                           : plan_.nodes[static_cast<std::size_t>(index)].first_hop;
      bool fast = !mark && &related != plan_.root_model && can_fast_delete(db_, related, nullptr);
      int child = node_for(related, fast, hop, mark);
      detail::Source source;
      source.parent = index;
      source.generic = gr;
      plan_.nodes[static_cast<std::size_t>(child)].sources.push_back(source);
      if (!plan_.nodes[static_cast<std::size_t>(child)].fast && walked_.insert(child).second) {
        walk(child);
      }
    }
  }

  std::vector<std::pair<int, const ModelMeta*>> pending_restrict_;

  // A node is cyclic when it can reach itself through sources (a CASCADE cycle).
  void mark_cycles() {
    for (auto [index, related] : pending_restrict_) {
      auto it = node_of_.find(related);
      if (it != node_of_.end()) after_[index].insert(it->second);
    }
    std::size_t n = plan_.nodes.size();
    for (std::size_t start = 0; start < n; ++start) {
      // Depth-first over parents.
      std::vector<int> stack;
      std::vector<bool> seen(n, false);
      for (const auto& s : plan_.nodes[start].sources) {
        if (!s.root) stack.push_back(s.parent);
      }
      while (!stack.empty()) {
        int p = stack.back();
        stack.pop_back();
        if (static_cast<std::size_t>(p) == start) {
          plan_.nodes[start].cyclic = true;
          break;
        }
        if (seen[static_cast<std::size_t>(p)]) continue;
        seen[static_cast<std::size_t>(p)] = true;
        for (const auto& s : plan_.nodes[static_cast<std::size_t>(p)].sources) {
          if (!s.root) stack.push_back(s.parent);
        }
      }
    }
  }

  // Django's sort (fast nodes are not among the collected ones, so they hold nothing back).
  void sort() { plan_.sorted = detail::sort_models(plan_.collected, after_); }
};

// The plan's kind from the root model's policy; a model that is never deleted refuses.
void set_kind(detail::Plan& plan, Collector::Mode mode) {
  const ModelMeta& m = *plan.root_model;
  if (m.delete_policy == DeletePolicy::Never) {
    throw NotSupportedError("Cannot delete instances of model '" + m.object_name +
                            "': its delete_policy is 'never'.");
  }
  plan.kind = detail::Kind::Hard;
  if (mode == Collector::Mode::Policy && m.delete_policy == DeletePolicy::Soft) {
    plan.kind = detail::Kind::Soft;
  }
  if (mode == Collector::Mode::Policy && m.delete_policy == DeletePolicy::SoftCascade) {
    plan.kind = detail::Kind::SoftCascade;
  }
}

bool single_statement_possible(Context& db, const detail::Plan& plan) {
  return plan.kind == detail::Kind::Hard && plan.nodes.size() == 1 && plan.checks.empty() &&
         plan.updates.empty() && can_fast_delete(db, *plan.root_model, nullptr) &&
         !db.signals().has_batch_receivers(Signal::PreDelete, *plan.root_model) &&
         !db.signals().has_batch_receivers(Signal::PostDelete, *plan.root_model);
}

void check_deletable(const QuerySet& qs) {
  const auto& s = qs.state();
  if (s.sliced()) throw TypeError("Cannot use 'limit' or 'offset' with delete().");
  if (s.kind != QuerySet::ResultKind::Instances) {
    throw TypeError("Cannot call delete() after .values() or .values_list()");
  }
}

}  // namespace

DeletionPlan Collector::collect(const QuerySet& qs, Mode mode) const {
  check_deletable(qs);
  auto plan = std::make_unique<detail::Plan>();
  plan->db = &db_;
  plan->root_model = &qs.model();
  set_kind(*plan, mode);
  // The delete ignores the QuerySet's ordering (Django drops it, rule 8).
  plan->root_qs = qs.order_by({});
  // The origin receivers see is the plan's own copy: the caller's QuerySet may be a temporary.
  plan->origin.queryset = &*plan->root_qs;
  plan->root_empty = plan->root_qs->is_empty();
  Builder(db_, *plan).build();
  plan->single_statement = single_statement_possible(db_, *plan);
  return DeletionPlan(std::move(plan));
}

DeletionPlan Collector::collect(const std::vector<Instance*>& instances, Mode mode,
                                bool keep_parents) const {
  auto plan = std::make_unique<detail::Plan>();
  plan->db = &db_;
  if (instances.empty()) {
    plan->root_empty = true;
    return DeletionPlan(std::move(plan));
  }
  plan->root_model = &instances.front()->meta();
  for (Instance* inst : instances) {
    if (&inst->meta() != plan->root_model) {
      throw TypeError("collect() needs instances of one model; got " + inst->meta().label() +
                      " and " + plan->root_model->label());
    }
    if (inst->pk().is_null()) {
      throw ValueError(inst->meta().object_name + " object can't be deleted because its " +
                       inst->meta().pk().column + " attribute is set to None.");
    }
    if (std::find(plan->root_pks.begin(), plan->root_pks.end(), inst->pk()) ==
        plan->root_pks.end()) {
      plan->root_pks.push_back(inst->pk());
    }
    plan->root_instances.push_back(inst);
  }
  plan->origin.instance = instances.size() == 1 ? instances.front() : nullptr;
  plan->keep_parents = keep_parents;
  set_kind(*plan, mode);
  Builder(db_, *plan).build();
  bool fast = single_statement_possible(db_, *plan);
  plan->single_statement = fast;
  plan->single_object = fast && plan->root_pks.size() == 1;
  return DeletionPlan(std::move(plan));
}

DeletionPlan::DeletionPlan(std::unique_ptr<detail::Plan> plan) : plan_(std::move(plan)) {}
DeletionPlan::DeletionPlan(DeletionPlan&&) noexcept = default;
DeletionPlan& DeletionPlan::operator=(DeletionPlan&&) noexcept = default;
DeletionPlan::~DeletionPlan() = default;

}  // namespace cascade
