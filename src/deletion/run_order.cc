// Django's delete order, from the relations that reach rows (rules 48, 59-61).
#include "deletion/runner.h"

namespace cascade::detail {

bool Runner::reaches_rows(const FastEntry& e, int x, int m, std::int64_t g) {
  if (e.parent != x) return false;
  const ModelMeta& xm = model(x);
  std::vector<Fragment> from_m;
  for (const auto& s : p_.nodes[static_cast<std::size_t>(x)].sources) {
    if (s.generic != nullptr && s.parent == m) from_m.push_back(source_rows(s, generation_keys(m, g)));
  }
  if (from_m.empty()) return false;
  Fragment x_rows = s_.select({.columns = s_.as(s_.pk(xm), kKeyColumn),
                               .from = s_.table(xm.db_table),
                               .where = Sql::any_of(from_m)});
  for (const auto& s : p_.nodes[static_cast<std::size_t>(e.node)].sources) {
    if (!s.root && s.parent == x && any(source_rows(s, x_rows), model(e.node))) return true;
  }
  return false;
}

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
  // A cycle's models, as the walk leaves them: the fast deletes of their levels, and the fast
  // deletes queued under the rows of their generic relations.
  struct CycleLevel {
    int node;
    std::vector<int> fast;
    std::vector<std::pair<int, std::vector<FastEntry>>> captured;
  };
  std::map<int, std::vector<CycleLevel>> group_levels;
  std::map<int, int> group_entry;  // cycle -> the node through which the walk entered it
  std::function<void(int)> visit = [&](int n) {
    visited[static_cast<std::size_t>(n)] = true;
    if (auto g = cycle_group_.find(n); g != cycle_group_.end()) {
      group_entry.try_emplace(g->second, n);
    }
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
    // Then the node's generic relations (rule 57), with no ordering dependency: a fast one is
    // queued right after the level's other fast deletes.
    std::vector<int> generic_fast, generic_collected;
    for (std::size_t c = 0; c < p_.nodes.size(); ++c) {
      for (const auto& s : p_.nodes[c].sources) {
        if (s.generic == nullptr || s.parent != n) continue;
        int x = static_cast<int>(c);
        if (p_.nodes[c].fast) {
          enter(generic_fast, x);
        } else if (any(source_rows(s, keys(n)), model(x))) {
          enter(generic_collected, x);
        }
      }
    }
    for (const std::vector<int>* list : {&level_fast, &generic_fast}) {
      for (int f : *list) enter(fast, f);
    }
    auto group = cycle_group_.find(n);
    if (group == cycle_group_.end()) {
      for (const std::vector<int>* list : {&level_fast, &generic_fast}) {
        for (int f : *list) entries.push_back({f, n, -1});
      }
    } else {
      // On a CASCADE cycle Django's walk recurses once per generation and queues a level's
      // fast deletes when the level ends: the deepest generation's first, the models of a
      // cycle of several interleaved generation by generation. They are queued when the walk
      // leaves the first model of the cycle it entered.
      auto& levels = group_levels[group->second];
      bool entered_here = group_entry[group->second] == n;
      CycleLevel level{n, level_fast, {}};
      level.fast.insert(level.fast.end(), generic_fast.begin(), generic_fast.end());
      // Rows collected through a generic relation of a cyclic model: Django collects them once
      // per generation, so their own fast deletes go with the generation that reaches them.
      for (int x : generic_collected) {
        enter(data, x);
        if (visited[static_cast<std::size_t>(x)]) continue;
        std::size_t mark = entries.size();
        visit(x);
        level.captured.emplace_back(x, std::vector<FastEntry>(entries.begin() + static_cast<long>(mark),
                                                              entries.end()));
        entries.resize(mark);
      }
      generic_collected.clear();
      levels.push_back(std::move(level));
      if (entered_here) {
        // (generation, place in the walk, node)
        std::vector<std::tuple<std::int64_t, std::size_t, int>> order;
        for (std::size_t at = 0; at < levels.size(); ++at) {
          if (levels[at].fast.empty() && levels[at].captured.empty()) continue;
          int m = levels[at].node;
          auto gens = query(s_.select({.columns = "DISTINCT " + s_.name(kGenColumn),
                                       .from = s_.table(cycle_table_[m])}));
          while (gens->next()) order.emplace_back(gens->get(0).as_integer(), at, m);
        }
        std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
          return std::get<0>(a) != std::get<0>(b) ? std::get<0>(a) > std::get<0>(b)
                                                  : std::get<1>(a) < std::get<1>(b);
        });
        std::set<std::pair<std::size_t, std::size_t>> placed;  // (level, captured entry)
        for (const auto& [g, at, m] : order) {
          for (int f : levels[at].fast) entries.push_back({f, m, g});
          std::size_t i = 0;
          for (const auto& [x, list] : levels[at].captured) {
            for (const auto& e : list) {
              if (!placed.count({at, i}) && reaches_rows(e, x, m, g)) {
                entries.push_back(e);
                placed.insert({at, i});
              }
              ++i;
            }
          }
        }
        for (std::size_t at = 0; at < levels.size(); ++at) {
          std::size_t i = 0;
          for (const auto& [x, list] : levels[at].captured) {
            for (const auto& e : list) {
              if (!placed.count({at, i++})) entries.push_back(e);
            }
          }
        }
      }
    }
    for (int x : generic_collected) {
      enter(data, x);
      if (!visited[static_cast<std::size_t>(x)]) visit(x);
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
