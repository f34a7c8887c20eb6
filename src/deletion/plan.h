// The deletion plan's data: model-level nodes whose rows are defined by predicates, and the
// steps to run. Built by collect.cc; run and previewed by the Runner (runner.h, run*.cc).
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cascade/deletion/collector.h"
#include "cascade/query/queryset.h"

namespace cascade::detail {

// Where some rows of a node's model come from.
struct Source {
  bool root = false;          // the rows the delete was called on
  const Field* fk = nullptr;  // else: rows whose `fk` references a row of `parent`
  int parent = -1;
  // Multi-table inheritance: `fk` is the parent link of `parent`'s model, and these rows are
  // the parents of its rows (the same keys), collected with them (rule 41).
  bool up = false;
  // A GenericRelation of `parent`'s model (rule 57): `fk` is null, and these rows are those
  // whose content type is the parent's (concrete) model's and whose object id is a parent's
  // key. Django records no ordering dependency for them.
  const Field* generic = nullptr;
};

struct Node {
  const ModelMeta* model = nullptr;
  std::vector<Source> sources;
  bool fast = false;    // Django would delete these rows without loading them
  bool cyclic = false;  // reached from itself through CASCADE: keys computed to a fixpoint
  int first_hop = -1;   // index in the root model's related_objects of the first relation
                        // through which this node was reached (-1 for the root)
  bool mark = false;    // soft delete: the rows are marked, not deleted
};

// A PROTECT or RESTRICT relation into the rows being deleted.
struct Check {
  const Field* fk = nullptr;  // on the referencing model
  int parent = -1;            // the node whose rows it references
  bool protect = false;
  bool never = false;  // the referencing model's delete_policy is never
  int order = 0;       // discovery order, for message keys
};

// SET_NULL / SET_DEFAULT / SET: rows referencing `parent` get `fk` set.
struct Update {
  const Field* fk = nullptr;
  int parent = -1;
};

// How the plan treats the rows it reaches (from the root model's delete_policy).
enum class Kind { Hard, Soft, SoftCascade };

struct Plan {
  Context* db = nullptr;
  Kind kind = Kind::Hard;
  const ModelMeta* root_model = nullptr;
  // The root rows: a QuerySet, or primary keys of instances (which get their pk unset after
  // the delete).
  std::optional<QuerySet> root_qs;
  std::vector<Value> root_pks;
  std::vector<Instance*> root_instances;
  // Model.delete(keep_parents=True): a multi-table child's parent rows stay, and relations to
  // them are not followed (rule 44).
  bool keep_parents = false;
  bool root_empty = false;        // provably nothing to delete: no statement at all
  bool single_statement = false;  // Django's fast path: one DELETE, nothing else
  bool single_object = false;     // ... for one instance (rule 51: the count is kept even if 0)

  std::vector<Node> nodes;      // nodes[0] is the root
  std::vector<int> fast_queue;  // fast nodes, Django's queue order
  std::vector<int> collected;   // collected nodes, Django's collection order
  std::vector<int> sorted;      // collected nodes, in delete order (Django's sort)
  std::vector<Check> checks;
  std::vector<Update> updates;
  DeleteOrigin origin;
};

// Django's Collector.sort() (rule 60): each model once every model it must come after is
// placed (a dependency on a model outside `models` holds nothing back); when none can be
// placed (a cycle), the models keep their given order.
inline std::vector<int> sort_models(const std::vector<int>& models,
                                    const std::map<int, std::set<int>>& after) {
  std::vector<int> sorted;
  std::set<int> placed;
  while (sorted.size() < models.size()) {
    bool found = false;
    for (int m : models) {
      if (placed.count(m)) continue;
      auto it = after.find(m);
      bool ready =
          it == after.end() || std::all_of(it->second.begin(), it->second.end(), [&](int d) {
            return placed.count(d) != 0 ||
                   std::find(models.begin(), models.end(), d) == models.end();
          });
      if (ready) {
        sorted.push_back(m);
        placed.insert(m);
        found = true;
      }
    }
    if (!found) return models;
  }
  return sorted;
}

}  // namespace cascade::detail
