// Property tests on random schemas and data: random mixes of every on_delete rule (the
// database's DB_* ones too), nullable CASCADE keys, self references and cycles through nullable
// keys, receivers on random models. Every delete is checked against an independent row-level
// model of Django's Collector (spec sections C, D, F, H, J, K, O):
//   - the database afterwards equals the model's prediction, with no dangling reference;
//   - the counts, their labels and their order are Django's, and equal the rows that vanished
//     (less the rows the database itself removed);
//   - the preview equals the outcome;
//   - a refused or failed delete changes nothing, and raises what Django raises: the same class,
//     message and blocking objects.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "cascade/database.h"
#include "cascade/db/transaction.h"
#include "cascade/error.h"
#include "cascade/model/loader.h"
#include "support/backends.h"

namespace cascade {
namespace {

struct FkSpec {
  std::string name;
  int target;
  OnDelete rule;
  bool null;
};

struct ModelSpec {
  std::vector<FkSpec> fks;
};

// SET_DEFAULT, SET and DB_SET_DEFAULT write this key (the first row of the target model, which
// may be gone: then the database refuses at commit, as it would under Django).
constexpr std::int64_t kSetKey = 1;

bool database_rule(OnDelete rule) {
  return rule == OnDelete::DbCascade || rule == OnDelete::DbSetNull ||
         rule == OnDelete::DbSetDefault;
}

struct Schema {
  std::vector<ModelSpec> models;
  std::string toml() const {
    std::ostringstream out;
    for (std::size_t i = 0; i < models.size(); ++i) {
      out << "[models.r.M" << i << "]\nfields.name = { type = \"char\", max_length = 10 }\n";
      for (const auto& fk : models[i].fks) {
        out << "fields." << fk.name << " = { type = \"foreign_key\", to = \"M" << fk.target
            << "\", on_delete = \"" << on_delete_name(fk.rule)
            << "\", null = " << (fk.null ? "true" : "false") << ", related_name = \"rev_" << i
            << "_" << fk.name << "\"";
        if (fk.rule == OnDelete::SetDefault || fk.rule == OnDelete::DbSetDefault) {
          out << ", default = " << kSetKey;
        }
        if (fk.rule == OnDelete::Set) out << ", set = " << kSetKey;
        out << " }\n";
      }
    }
    return out.str();
  }
};

// A row: its key values by fk index (0 = NULL).
using Row = std::vector<std::int64_t>;
using State = std::vector<std::map<std::int64_t, Row>>;  // per model: id -> keys
using Object = std::pair<int, std::int64_t>;             // model, id

Schema random_schema(std::mt19937& rng) {
  Schema s;
  int n = 3 + static_cast<int>(rng() % 4);
  s.models.resize(static_cast<std::size_t>(n));
  const OnDelete rules[] = {OnDelete::Cascade,   OnDelete::Cascade,    OnDelete::Cascade,
                            OnDelete::Protect,   OnDelete::Restrict,   OnDelete::SetNull,
                            OnDelete::DoNothing, OnDelete::SetDefault, OnDelete::Set,
                            OnDelete::DbCascade, OnDelete::DbSetNull,  OnDelete::DbSetDefault,
                            OnDelete::Protect,   OnDelete::Restrict};
  constexpr unsigned kRules = sizeof rules / sizeof rules[0];
  for (int i = 0; i < n; ++i) {
    int fks = static_cast<int>(rng() % 3);
    for (int k = 0; k < fks; ++k) {
      FkSpec fk;
      fk.name = "fk" + std::to_string(k);
      // A third of the keys are self references (trees, and SET_NULL on them).
      fk.target = rng() % 3 == 0 ? i : static_cast<int>(rng() % static_cast<unsigned>(n));
      fk.rule = rules[rng() % kRules];
      // Keys to models created later (and to itself) are nullable, so rows can be created in
      // order; that is also how cycles appear. Other keys, CASCADE ones too, sometimes are.
      fk.null = fk.target >= i || fk.rule == OnDelete::SetNull || fk.rule == OnDelete::DbSetNull ||
                rng() % 3 == 0;
      s.models[static_cast<std::size_t>(i)].fks.push_back(fk);
    }
  }
  return s;
}

// Django's outcome for deleting `roots` of model `m`, computed row by row by a model of its
// Collector (spec C, D, F, H, J, K, O): a depth-first collect() over the relations in their
// declaration order, fast deletes, Django's sort, then the database's own ON DELETE actions
// and its deferred constraint check at commit.
struct Expected {
  std::string error;             // "" / "ProtectedError" / "RestrictedError" / "IntegrityError"
  std::string message;           // ProtectedError / RestrictedError text
  std::vector<Object> blocking;  // their objects, sorted
  State after;
  std::vector<std::pair<std::string, std::int64_t>> counts;  // in Django's order
  std::int64_t by_database = 0;  // rows the database deleted (not counted)
  bool counts_exact = true;      // see remove() below
  std::int64_t collected_of_watched = 0;
};

class DjangoModel {
 public:
  DjangoModel(const Schema& s, const State& before, int watched)
      : s_(s), before_(before), watched_(watched), collected_(s.models.size()) {}

  Expected run(int m, const std::set<std::int64_t>& roots) {
    Expected e;
    e.after = before_;
    std::set<std::int64_t> objs;
    for (auto id : roots) {
      if (before_[static_cast<std::size_t>(m)].count(id)) objs.insert(id);
    }
    if (objs.empty()) return e;
    std::vector<std::pair<std::string, std::set<Object>>> top_protected;
    collect(m, objs, -1, false, &top_protected);
    std::string model = "'M" + std::to_string(m) + "'";
    if (!top_protected.empty()) {
      return refuse(e, "ProtectedError", model, "protected", top_protected);
    }
    // Restricted rows are forgiven when collected or fast-deleted (rule 29).
    std::vector<std::pair<std::string, std::set<Object>>> restricted;
    for (const auto& [x, fields] : restricted_) {
      for (const auto& [k, rows] : fields) {
        std::set<Object> left;
        for (auto id : rows) {
          if (!collected_[static_cast<std::size_t>(x)].count(id) && !fast_rows_.count({x, id})) {
            left.insert({x, id});
          }
        }
        if (!left.empty()) add_key(restricted, key(x, k), left);
      }
    }
    if (!restricted.empty()) return refuse(e, "RestrictedError", model, "restricted", restricted);

    // The delete: field updates first; then the fast deletes in queue order and the collected
    // models in Django's sorted order, each statement counting the rows it finds still there
    // (rule 77), each followed by the database's ON DELETE actions on what it removed.
    std::set<Object> doomed = fast_rows_;
    for (std::size_t x = 0; x < collected_.size(); ++x) {
      for (auto id : collected_[x]) doomed.insert({static_cast<int>(x), id});
    }
    for (std::size_t x = 0; x < s_.models.size(); ++x) {
      for (auto& [id, row] : e.after[x]) {
        for (std::size_t k = 0; k < row.size(); ++k) {
          const auto& fk = s_.models[x].fks[k];
          if (row[k] == 0 || !doomed.count({fk.target, row[k]}) || database_rule(fk.rule)) continue;
          if (fk.rule == OnDelete::SetNull) row[k] = 0;
          if (fk.rule == OnDelete::SetDefault || fk.rule == OnDelete::Set) row[k] = kSetKey;
        }
      }
    }
    auto count = [&](int x, std::int64_t n) {
      if (n == 0) return;
      std::string label = "r.M" + std::to_string(x);
      for (auto& [l, c] : e.counts) {
        if (l == label) {
          c += n;
          return;
        }
      }
      e.counts.emplace_back(label, n);
    };
    auto remove = [&](int x, const std::set<std::int64_t>& ids) {
      // A selected row the database's action removes because of another selected row: whether
      // the statement's row count includes it depends on the backend and on the order the rows
      // are visited in (as for Django), so the counts are not compared then.
      std::set<Object> reach;
      for (auto id : ids) {
        if (e.after[static_cast<std::size_t>(x)].count(id)) reach.insert({x, id});
      }
      for (bool grew = true; grew && e.counts_exact;) {
        grew = false;
        for (std::size_t y = 0; y < s_.models.size(); ++y) {
          for (const auto& [id, row] : e.after[y]) {
            for (std::size_t k = 0; k < row.size(); ++k) {
              const auto& fk = s_.models[y].fks[k];
              if (fk.rule != OnDelete::DbCascade || row[k] == 0 ||
                  !reach.count({fk.target, row[k]}))
                continue;
              if (static_cast<int>(y) == x && ids.count(id)) e.counts_exact = false;
              if (reach.insert({static_cast<int>(y), id}).second) grew = true;
            }
          }
        }
      }
      std::set<Object> removed;
      for (auto id : ids) {
        if (e.after[static_cast<std::size_t>(x)].erase(id)) removed.insert({x, id});
      }
      count(x, static_cast<std::int64_t>(removed.size()));
      // The database's actions on rows referencing what went, to a fixpoint.
      for (bool changed = !removed.empty(); changed;) {
        changed = false;
        for (std::size_t y = 0; y < s_.models.size(); ++y) {
          for (auto it = e.after[y].begin(); it != e.after[y].end();) {
            auto& row = it->second;
            bool drop = false;
            for (std::size_t k = 0; k < row.size(); ++k) {
              const auto& fk = s_.models[y].fks[k];
              if (row[k] == 0 || !removed.count({fk.target, row[k]})) continue;
              if (fk.rule == OnDelete::DbCascade) drop = true;
              if (fk.rule == OnDelete::DbSetNull) row[k] = 0;
              if (fk.rule == OnDelete::DbSetDefault) row[k] = kSetKey;
            }
            if (drop) {
              removed.insert({static_cast<int>(y), it->first});
              ++e.by_database;
              it = e.after[y].erase(it);
              changed = true;
            } else {
              ++it;
            }
          }
        }
      }
    };
    for (const auto& [x, rows] : fast_) remove(x, rows);
    for (int x : sorted()) remove(x, collected_[static_cast<std::size_t>(x)]);
    // Anything left pointing at a missing row: the deferred constraint refuses at commit.
    for (std::size_t x = 0; x < s_.models.size(); ++x) {
      for (const auto& [id, row] : e.after[x]) {
        for (std::size_t k = 0; k < row.size(); ++k) {
          if (row[k] != 0 &&
              !e.after[static_cast<std::size_t>(s_.models[x].fks[k].target)].count(row[k])) {
            e.error = "IntegrityError";
          }
        }
      }
    }
    if (!e.error.empty()) {
      e.after = before_;
      e.by_database = 0;
      e.counts.clear();
      return e;
    }
    if (watched_ >= 0) {
      e.collected_of_watched =
          static_cast<std::int64_t>(collected_[static_cast<std::size_t>(watched_)].size());
    }
    return e;
  }

  bool receivers(int x) const { return x == watched_; }

 private:
  using Keys = std::vector<std::pair<std::string, std::set<Object>>>;

  static void add_key(Keys& keys, const std::string& k, const std::set<Object>& objs) {
    for (auto& [name, set] : keys) {
      if (name == k) {
        set.insert(objs.begin(), objs.end());
        return;
      }
    }
    keys.emplace_back(k, objs);
  }
  std::string key(int x, std::size_t k) const {
    return "'M" + std::to_string(x) + "." + s_.models[static_cast<std::size_t>(x)].fks[k].name +
           "'";
  }

  Expected refuse(Expected& e, const std::string& kind, const std::string& model,
                  const std::string& what, const Keys& keys) {
    e.error = kind;
    e.message = "Cannot delete some instances of model " + model + " because they are " +
                "referenced through " + what + " foreign keys: ";
    std::set<Object> objs;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      e.message += (i ? ", " : "") + keys[i].first;
      objs.insert(keys[i].second.begin(), keys[i].second.end());
    }
    e.message += ".";
    e.blocking.assign(objs.begin(), objs.end());
    return e;
  }

  void enter(int x) {
    if (std::find(data_.begin(), data_.end(), x) == data_.end()) data_.push_back(x);
  }
  void depend(int model, int on) {  // `model` is deleted after `on`
    deps_[model].insert(on);
    enter(on);
  }

  // The fast-delete test for a model reached through a CASCADE key (rule 48, Django 6.1: its
  // referrers are all DO_NOTHING or DB_*).
  bool can_fast_delete(int x) const {
    if (receivers(x)) return false;
    for (const auto& model : s_.models) {
      for (const auto& fk : model.fks) {
        if (fk.target == x && fk.rule != OnDelete::DoNothing && !database_rule(fk.rule))
          return false;
      }
    }
    return true;
  }

  std::set<std::int64_t> referencing(int x, std::size_t k,
                                     const std::set<std::int64_t>& ids) const {
    std::set<std::int64_t> out;
    for (const auto& [id, row] : before_[static_cast<std::size_t>(x)]) {
      if (row[k] != 0 && ids.count(row[k])) out.insert(id);
    }
    return out;
  }

  // Returns the protected objects found at and below this level (empty: none).
  std::set<Object> collect(int model, const std::set<std::int64_t>& objs, int source, bool nullable,
                           Keys* top) {
    enter(model);
    std::set<std::int64_t> fresh;
    for (auto id : objs) {
      if (collected_[static_cast<std::size_t>(model)].insert(id).second) fresh.insert(id);
    }
    if (source >= 0 && !nullable) depend(source, model);
    if (fresh.empty()) return {};
    Keys protected_keys;
    std::vector<std::pair<int, std::vector<std::size_t>>> model_fast;
    for (std::size_t x = 0; x < s_.models.size(); ++x) {
      for (std::size_t k = 0; k < s_.models[x].fks.size(); ++k) {
        const auto& fk = s_.models[x].fks[k];
        if (fk.target != model || fk.rule == OnDelete::DoNothing || database_rule(fk.rule))
          continue;
        int xi = static_cast<int>(x);
        if (fk.rule == OnDelete::Cascade && can_fast_delete(xi)) {
          auto it = std::find_if(model_fast.begin(), model_fast.end(),
                                 [&](const auto& f) { return f.first == xi; });
          if (it == model_fast.end()) {
            model_fast.push_back({xi, {k}});
          } else {
            it->second.push_back(k);
          }
          continue;
        }
        std::set<std::int64_t> sub = referencing(xi, k, fresh);
        if (sub.empty()) continue;
        std::set<Object> sub_objects;
        for (auto id : sub) sub_objects.insert({xi, id});
        switch (fk.rule) {
          case OnDelete::Cascade: {
            auto inner = collect(xi, sub, model, fk.null, nullptr);
            if (!inner.empty()) add_key(protected_keys, key(xi, k), inner);
            break;
          }
          case OnDelete::Protect: add_key(protected_keys, key(xi, k), sub_objects); break;
          case OnDelete::Restrict: {
            auto it = std::find_if(restricted_.begin(), restricted_.end(),
                                   [&](const auto& r) { return r.first == xi; });
            if (it == restricted_.end()) {
              restricted_.push_back({xi, {}});
              it = restricted_.end() - 1;
            }
            auto f = std::find_if(it->second.begin(), it->second.end(),
                                  [&](const auto& r) { return r.first == k; });
            if (f == it->second.end()) {
              it->second.push_back({k, sub});
            } else {
              f->second.insert(sub.begin(), sub.end());
            }
            depend(model, xi);
            break;
          }
          default: break;  // SET_*: updates, computed at the end
        }
      }
    }
    if (!protected_keys.empty()) {
      std::set<Object> all;
      for (const auto& [k, objs2] : protected_keys) all.insert(objs2.begin(), objs2.end());
      if (top) *top = protected_keys;
      return all;
    }
    for (const auto& [x, ks] : model_fast) {
      std::set<std::int64_t> rows;
      for (auto k : ks) {
        auto r = referencing(x, k, fresh);
        rows.insert(r.begin(), r.end());
      }
      fast_.push_back({x, rows});
      for (auto id : rows) fast_rows_.insert({x, id});
    }
    return {};
  }

  // Django's Collector.sort(): a model once everything it depends on is placed; on a cycle the
  // collection order stays.
  std::vector<int> sorted() const {
    std::vector<int> out;
    std::set<int> placed;
    while (out.size() < data_.size()) {
      bool found = false;
      for (int x : data_) {
        if (placed.count(x)) continue;
        auto it = deps_.find(x);
        bool ready = true;
        if (it != deps_.end()) {
          for (int d : it->second) ready = ready && placed.count(d);
        }
        if (ready) {
          out.push_back(x);
          placed.insert(x);
          found = true;
        }
      }
      if (!found) return data_;
    }
    return out;
  }

  const Schema& s_;
  const State& before_;
  int watched_;
  std::vector<std::set<std::int64_t>> collected_;
  std::vector<int> data_;
  std::map<int, std::set<int>> deps_;
  std::vector<std::pair<int, std::set<std::int64_t>>> fast_;
  std::set<Object> fast_rows_;
  std::vector<std::pair<int, std::vector<std::pair<std::size_t, std::set<std::int64_t>>>>>
      restricted_;
};

State dump(Database& db, const Schema& s) {
  State out(s.models.size());
  for (std::size_t i = 0; i < s.models.size(); ++i) {
    for (const auto& row : db.objects("r.M" + std::to_string(i)).all().values_list().rows()) {
      Row keys;
      for (std::size_t k = 0; k < s.models[i].fks.size(); ++k) {
        const Value& v = row[2 + k];
        keys.push_back(v.is_null() ? 0 : v.as_integer());
      }
      out[i][row[0].as_integer()] = keys;
    }
  }
  return out;
}

class DeletionProperty : public cascade::testing::BackendTest {};
CASCADE_ON_EVERY_BACKEND(DeletionProperty);

// The number of random schemas: CASCADE_PROPERTY_SCHEMAS, else a moderate default (docs/
// deletion.md shows a long run).
int schema_count(bool sqlite) {
  if (const char* env = std::getenv("CASCADE_PROPERTY_SCHEMAS"); env != nullptr && *env != '\0') {
    return std::max(1, std::atoi(env));
  }
  return sqlite ? 60 : 25;
}

std::vector<Object> objects_of(const std::vector<Instance>& objs) {
  std::vector<Object> out;
  for (const auto& o : objs) {
    out.emplace_back(std::stoi(o.meta().object_name.substr(1)), o.pk().as_integer());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_P(DeletionProperty, RandomSchemasBehaveAsDjangosRules) {
  int schemas = schema_count(sqlite());
  // The last schemas get a large graph (hundreds of rows per model): previews must match the
  // outcome there too.
  int large_from = schemas - std::min(schemas / 4, sqlite() ? 3 : 1);
  int checked = 0, refused = 0;
  for (int seed = 1; seed <= schemas; ++seed) {
    std::mt19937 rng(static_cast<unsigned>(seed));
    Schema s = random_schema(rng);
    SCOPED_TRACE("seed " + std::to_string(seed) + "\n" + s.toml());
    Project project = parse_project(s.toml(), "random.toml");
    cascade::testing::ScratchDatabase scratch(GetParam());
    Database db = Database::open(*project.registry, scratch.url());
    db.migrate();
    // Tiny chunks for most schemas, so deletes cross many chunk boundaries.
    if (seed % 3 != 0) db.set_delete_chunk_size(1 + seed % 4);
    // Data: each model gets rows pointing at random existing rows (or NULL).
    std::vector<std::vector<Value>> ids(s.models.size());
    db::atomic(db.connection(), [&] {
      for (std::size_t i = 0; i < s.models.size(); ++i) {
        int rows = seed > large_from ? 150 + static_cast<int>(rng() % 150)
                                     : 4 + static_cast<int>(rng() % 8);
        for (int r = 0; r < rows; ++r) {
          Instance inst(db.registry().get("r.M" + std::to_string(i)));
          inst.set("name", "row");
          for (const auto& fk : s.models[i].fks) {
            const auto& pool = ids[static_cast<std::size_t>(fk.target)];
            if (pool.empty() || (fk.null && rng() % 4 == 0)) {
              if (!fk.null) goto skip_row;
              inst.set(fk.name, Value());
            } else {
              inst.set(fk.name, pool[rng() % pool.size()]);
            }
          }
          db.objects(inst.meta()).save(inst);
          ids[i].push_back(inst.pk());
        skip_row:;
        }
      }
      // Nullable keys to models created later, filled in now (cycles appear here).
      for (std::size_t i = 0; i < s.models.size(); ++i) {
        for (const auto& fk : s.models[i].fks) {
          const auto& pool = ids[static_cast<std::size_t>(fk.target)];
          if (!fk.null || pool.empty()) continue;
          for (const auto& id : ids[i]) {
            if (rng() % 2) continue;
            db.objects("r.M" + std::to_string(i))
                .filter({{"pk", id}})
                .update({{fk.name, pool[rng() % pool.size()]}});
          }
        }
      }
    });
    // A receiver on a random model counts the objects it is told about.
    int watched = static_cast<int>(rng() % s.models.size());
    bool receivers = rng() % 2 != 0;
    std::int64_t pre_calls = 0, post_calls = 0;
    if (receivers) {
      const ModelMeta* meta = &db.registry().get("r.M" + std::to_string(watched));
      db.signals().connect(
          Signal::PreDelete, [&](const SignalEvent&) { ++pre_calls; }, meta);
      db.signals().connect(
          Signal::PostDelete, [&](const SignalEvent&) { ++post_calls; }, meta);
    }
    for (int round = 0; round < 3; ++round) {
      State before = dump(db, s);
      int m = static_cast<int>(rng() % s.models.size());
      auto& pool = before[static_cast<std::size_t>(m)];
      if (pool.empty()) continue;
      std::set<std::int64_t> roots;
      std::vector<Value> chosen;
      for (const auto& [id, row] : pool) {
        if (rng() % 3 == 0) {
          roots.insert(id);
          chosen.emplace_back(id);
        }
      }
      Expected expected = DjangoModel(s, before, receivers ? watched : -1).run(m, roots);
      QuerySet qs = db.objects("r.M" + std::to_string(m)).filter({{"pk__in", Arg(chosen)}});
      Preview preview = qs.preview_remove(50);
      // The confirmation's drill-down pages: every object of each model the delete would remove.
      std::vector<std::set<std::int64_t>> listed(s.models.size());
      {
        DeletionPlan plan = Collector(db).collect(qs);
        for (std::size_t i = 0; i < s.models.size(); ++i) {
          auto page = plan.objects("r.M" + std::to_string(i), 0, 1000000);
          for (const auto& o : page.objects) listed[i].insert(o.pk().as_integer());
          EXPECT_EQ(page.total, static_cast<std::int64_t>(listed[i].size()));
        }
      }
      pre_calls = post_calls = 0;
      std::string error, message;
      std::vector<Object> blocking;
      DeleteResult result;
      try {
        result = qs.remove();
      } catch (const ProtectedError& e) {
        error = "ProtectedError";
        message = e.what();
        blocking = objects_of(e.protected_objects());
      } catch (const RestrictedError& e) {
        error = "RestrictedError";
        message = e.what();
        blocking = objects_of(e.restricted_objects());
      } catch (const IntegrityError&) {
        error = "IntegrityError";
      }
      SCOPED_TRACE("round " + std::to_string(round) + ": delete " + std::to_string(roots.size()) +
                   " rows of r.M" + std::to_string(m));
      EXPECT_EQ(error, expected.error);
      EXPECT_EQ(message, expected.message);
      EXPECT_EQ(blocking, expected.blocking);
      State after = dump(db, s);
      EXPECT_EQ(after, expected.after);
      std::int64_t vanished = 0;
      for (std::size_t i = 0; i < s.models.size(); ++i) {
        vanished += static_cast<std::int64_t>(before[i].size() - after[i].size());
      }
      if (expected.error.empty() && expected.counts_exact && expected.by_database == 0) {
        for (std::size_t i = 0; i < s.models.size(); ++i) {
          std::set<std::int64_t> gone;
          for (const auto& [id, row] : before[i]) {
            if (!after[i].count(id)) gone.insert(id);
          }
          EXPECT_EQ(listed[i], gone) << "objects() of r.M" << i;
        }
      }
      if (expected.counts_exact) {
        EXPECT_EQ(result.per_model, expected.counts);  // labels, counts and their order
        EXPECT_EQ(result.total, vanished - expected.by_database);
      } else {
        EXPECT_LE(result.total, vanished);
      }
      // The preview predicted the blocking error or the exact counts.
      if (expected.error == "ProtectedError" || expected.error == "RestrictedError") {
        EXPECT_EQ(refusal_name(preview.blocked_by), expected.error);
        EXPECT_EQ(preview.blocked_message, expected.message);
        ++refused;
      } else if (expected.error.empty() && expected.counts_exact) {
        EXPECT_EQ(preview.counts.repr(), result.repr());
        if (receivers) {
          EXPECT_EQ(pre_calls, expected.collected_of_watched);
          EXPECT_EQ(post_calls, expected.collected_of_watched);
        }
      }
      // No dangling reference after any delete.
      for (std::size_t i = 0; i < s.models.size(); ++i) {
        for (const auto& [id, row] : after[i]) {
          for (std::size_t k = 0; k < row.size(); ++k) {
            if (row[k] != 0) {
              EXPECT_TRUE(after[static_cast<std::size_t>(s.models[i].fks[k].target)].count(row[k]))
                  << "r.M" << i << " " << id << " dangles";
            }
          }
        }
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, schemas);  // most rounds found rows to delete
  EXPECT_GT(refused, 0);        // and some hit PROTECT / RESTRICT
}

}  // namespace
}  // namespace cascade
