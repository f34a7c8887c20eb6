// Django's delete order, from the relations that reach rows (rules 48, 59-61).
#include "deletion/runner.h"

namespace cascade::detail {

void Runner::order_by_rows() {
  if (p_.collected.size() <= 1 && p_.fast_queue.size() <= 1) return;
  std::map<std::pair<const Field*, int>, bool> rows;
  auto has_rows = [&](const Field* fk, int parent) {
    auto [it, added] = rows.try_emplace({fk, parent}, false);
    if (added) it->second = any_referencing(*fk, parent, std::nullopt);
    return it->second;
  };
  std::map<std::pair<const Field*, int>, int> cascades_to;
  for (std::size_t c = 0; c < p_.nodes.size(); ++c) {
    for (const auto& s : p_.nodes[c].sources) {
      if (!s.root && !s.up && !s.generic) cascades_to[{s.fk, s.parent}] = static_cast<int>(c);
    }
  }
  std::set<std::pair<const Field*, int>> restricts;
  for (const auto& chk : p_.checks) {
    if (!chk.protect && !chk.never) restricts.insert({chk.fk, chk.parent});
  }
  std::vector<int> data, fast;
  std::vector<FastEntry> entries;
  std::map<int, std::set<int>> deps;
  std::vector<bool> visited(p_.nodes.size(), false);
  auto enter = [](std::vector<int>& list, int x) {
    if (std::find(list.begin(), list.end(), x) == list.end()) list.push_back(x);
  };
  // A multi-table child's parent rows: collected before its relations are walked, deleted
  // after it (Django's collect() with reverse_dependency), and their parents in turn.
  std::function<void(int)> enter_parents = [&](int n) {
    for (std::size_t p = 0; p < p_.nodes.size(); ++p) {
      for (const auto& s : p_.nodes[p].sources) {
        if (!s.up || s.parent != n || static_cast<int>(p) == n) continue;
        enter(data, static_cast<int>(p));
        deps[static_cast<int>(p)].insert(n);
        enter_parents(static_cast<int>(p));
      }
    }
  };
  std::function<void(int)> visit = [&](int n) {
    visited[static_cast<std::size_t>(n)] = true;
    enter_parents(n);
    std::vector<int> level_fast;
    for (const auto& rel : model(n).related_objects) {
      const Field* fk = rel.field;
      auto to = cascades_to.find({fk, n});
      if (to != cascades_to.end()) {
        int c = to->second;
        if (p_.nodes[static_cast<std::size_t>(c)].fast) {
          enter(level_fast, c);  // queued whether or not it matches rows
          continue;
        }
        if (!has_rows(fk, n)) continue;
        enter(data, c);
        if (!fk->null) deps[n].insert(c);  // a self reference too: then the sort gives up
        if (!visited[static_cast<std::size_t>(c)]) visit(c);
      } else if (restricts.count({fk, n}) && has_rows(fk, n)) {
        int x = node_of(*fk->model);
        if (x >= 0 && !p_.nodes[static_cast<std::size_t>(x)].fast) {
          deps[n].insert(x);
          enter(data, x);
        }
      }
    }
    // On a CASCADE cycle Django's walk recurses once per generation and queues a level's
    // fast deletes when the level ends: the deepest generation's first.
    std::int64_t generations = 0;
    if (!level_fast.empty() && cycle_table_.count(n)) {
      auto rows = query(
          s_.select({.columns = s_.max(s_.name(kGenColumn)), .from = s_.table(cycle_table_[n])}));
      if (rows->next() && !rows->get(0).is_null()) generations = rows->get(0).as_integer() + 1;
    }
    for (std::int64_t g = generations - 1; g >= 0; --g) {
      for (int f : level_fast) entries.push_back({f, n, g});
    }
    for (int f : level_fast) {
      enter(fast, f);
      if (generations == 0) entries.push_back({f, n, -1});
    }
    // Then the node's generic relations (rule 57), with no ordering dependency.
    for (std::size_t c = 0; c < p_.nodes.size(); ++c) {
      for (const auto& s : p_.nodes[c].sources) {
        if (s.generic == nullptr || s.parent != n) continue;
        int x = static_cast<int>(c);
        if (p_.nodes[c].fast) {
          enter(fast, x);
          entries.push_back({x, n, -1});
          continue;
        }
        if (!any(source_rows(s, keys(n)), model(x))) continue;
        enter(data, x);
        if (!visited[c]) visit(x);
      }
    }
  };
  enter(data, 0);
  visit(0);
  // Nodes no relation with rows reaches have no rows: their place changes nothing.
  for (int x : p_.collected) enter(data, x);
  for (int x : p_.fast_queue) enter(fast, x);
  // Django's sort(), over the models in the walk's order.
  std::vector<int> sorted = detail::sort_models(data, deps);
  sorted_ = std::move(sorted);
  fast_ = std::move(fast);
  // Entries of levels the walk did not reach (no rows there) go last.
  auto plan_entries = std::move(fast_entries_);
  fast_entries_.clear();
  for (const auto& e : entries) add_fast_entry(e.node, e.parent, e.gen);
  for (const auto& e : plan_entries) {
    bool split = std::any_of(fast_entries_.begin(), fast_entries_.end(), [&](const FastEntry& x) {
      return x.node == e.node && x.parent == e.parent;
    });
    if (!split) add_fast_entry(e.node, e.parent, e.gen);
  }
}

}  // namespace cascade::detail
