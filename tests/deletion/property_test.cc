// Property tests on random schemas and data: random mixes of on_delete rules, self references
// and cycles through nullable keys, receivers on random models. Every delete is checked against
// an independent row-level model of Django's rules (spec sections C, D, J, K):
//   - the database afterwards equals the model's prediction, with no dangling reference;
//   - the counts equal the rows that vanished;
//   - the preview equals the outcome;
//   - a refused or failed delete changes nothing, and raises what Django raises.
#include <gtest/gtest.h>

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

struct Schema {
  std::vector<ModelSpec> models;
  std::string toml() const {
    std::ostringstream out;
    for (std::size_t i = 0; i < models.size(); ++i) {
      out << "[models.r.M" << i << "]\nfields.name = { type = \"char\", max_length = 10 }\n";
      for (const auto& fk : models[i].fks) {
        out << "fields." << fk.name << " = { type = \"foreign_key\", to = \"M" << fk.target
            << "\", on_delete = \"" << on_delete_name(fk.rule) << "\", null = "
            << (fk.null ? "true" : "false") << ", related_name = \"rev_" << i << "_" << fk.name
            << "\" }\n";
      }
    }
    return out.str();
  }
};

// A row: its key values by fk index (0 = NULL).
using Row = std::vector<std::int64_t>;
using State = std::vector<std::map<std::int64_t, Row>>;  // per model: id -> keys

Schema random_schema(std::mt19937& rng) {
  Schema s;
  int n = 3 + static_cast<int>(rng() % 4);
  s.models.resize(static_cast<std::size_t>(n));
  const OnDelete rules[] = {OnDelete::Cascade, OnDelete::Cascade, OnDelete::Cascade,
                            OnDelete::Protect, OnDelete::Restrict, OnDelete::SetNull,
                            OnDelete::DoNothing};
  for (int i = 0; i < n; ++i) {
    int fks = static_cast<int>(rng() % 3);
    for (int k = 0; k < fks; ++k) {
      FkSpec fk;
      fk.name = "fk" + std::to_string(k);
      fk.target = static_cast<int>(rng() % static_cast<unsigned>(n));
      fk.rule = rules[rng() % 7];
      // Keys to models created later (and to itself) are nullable, so rows can be created in
      // order; that is also how cycles appear.
      fk.null = fk.target >= i || fk.rule == OnDelete::SetNull || rng() % 3 == 0;
      s.models[static_cast<std::size_t>(i)].fks.push_back(fk);
    }
  }
  return s;
}

// Django's outcome for deleting `roots` of model `m` (spec C-D, K), computed row by row.
struct Expected {
  std::string error;  // "" / "ProtectedError" / "RestrictedError" / "IntegrityError"
  State after;
  std::map<std::string, std::int64_t> counts;
};

Expected predict(const Schema& s, const State& before, int m, const std::set<std::int64_t>& roots) {
  std::set<std::pair<int, std::int64_t>> doomed;
  std::vector<std::pair<int, std::int64_t>> work;
  for (auto id : roots) {
    if (before[static_cast<std::size_t>(m)].count(id) && doomed.insert({m, id}).second) {
      work.push_back({m, id});
    }
  }
  bool protect = false;
  std::set<std::pair<int, std::int64_t>> restricted, nulled_refs;
  while (!work.empty()) {
    auto [model, id] = work.back();
    work.pop_back();
    for (std::size_t x = 0; x < s.models.size(); ++x) {
      for (std::size_t k = 0; k < s.models[x].fks.size(); ++k) {
        const auto& fk = s.models[x].fks[k];
        if (fk.target != model) continue;
        for (const auto& [rid, row] : before[x]) {
          if (row[k] != id) continue;
          switch (fk.rule) {
            case OnDelete::Cascade:
              if (doomed.insert({static_cast<int>(x), rid}).second) {
                work.push_back({static_cast<int>(x), rid});
              }
              break;
            case OnDelete::Protect: protect = true; break;
            case OnDelete::Restrict: restricted.insert({static_cast<int>(x), rid}); break;
            default: break;
          }
        }
      }
    }
  }
  Expected e;
  e.after = before;
  if (protect) {
    e.error = "ProtectedError";
    return e;
  }
  for (const auto& r : restricted) {
    if (!doomed.count(r)) {
      e.error = "RestrictedError";
      return e;
    }
  }
  for (const auto& [model, id] : doomed) {
    e.after[static_cast<std::size_t>(model)].erase(id);
    e.counts["r.M" + std::to_string(model)] += 1;
  }
  for (std::size_t x = 0; x < s.models.size(); ++x) {
    for (auto& [rid, row] : e.after[x]) {
      for (std::size_t k = 0; k < row.size(); ++k) {
        const auto& fk = s.models[x].fks[k];
        if (row[k] == 0 || !doomed.count({fk.target, row[k]})) continue;
        if (fk.rule == OnDelete::SetNull) {
          row[k] = 0;
        } else {
          // DO_NOTHING (or anything else left pointing at a deleted row): the deferred
          // constraint refuses at commit.
          e.error = "IntegrityError";
        }
      }
    }
  }
  if (!e.error.empty()) {
    e.after = before;
    e.counts.clear();
  }
  return e;
}

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

TEST_P(DeletionProperty, RandomSchemasBehaveAsDjangosRules) {
  int schemas = sqlite() ? 60 : 25;
  // The last schemas get a large graph (hundreds of rows per model): previews must match the
  // outcome there too.
  int large_from = schemas - (sqlite() ? 3 : 1);
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
            db.objects("r.M" + std::to_string(i)).filter({{"pk", id}}).update(
                {{fk.name, pool[rng() % pool.size()]}});
          }
        }
      }
    });
    // A receiver on a random model counts the objects it is told about.
    int watched = static_cast<int>(rng() % s.models.size());
    std::int64_t pre_calls = 0, post_calls = 0;
    if (rng() % 2) {
      const ModelMeta* meta = &db.registry().get("r.M" + std::to_string(watched));
      db.signals().connect(Signal::PreDelete, [&](const SignalEvent&) { ++pre_calls; }, meta);
      db.signals().connect(Signal::PostDelete, [&](const SignalEvent&) { ++post_calls; }, meta);
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
      Expected expected = predict(s, before, m, roots);
      QuerySet qs = db.objects("r.M" + std::to_string(m)).filter({{"pk__in", Arg(chosen)}});
      Preview preview = qs.preview_remove(50);
      pre_calls = post_calls = 0;
      std::string error;
      DeleteResult result;
      try {
        result = qs.remove();
      } catch (const ProtectedError&) {
        error = "ProtectedError";
      } catch (const RestrictedError&) {
        error = "RestrictedError";
      } catch (const IntegrityError&) {
        error = "IntegrityError";
      }
      SCOPED_TRACE("round " + std::to_string(round) + ": delete " + std::to_string(roots.size()) +
                   " rows of r.M" + std::to_string(m));
      EXPECT_EQ(error, expected.error);
      State after = dump(db, s);
      EXPECT_EQ(after, expected.after);
      std::map<std::string, std::int64_t> got(result.per_model.begin(), result.per_model.end());
      EXPECT_EQ(got, expected.counts);
      std::int64_t vanished = 0;
      for (std::size_t i = 0; i < s.models.size(); ++i) {
        vanished += static_cast<std::int64_t>(before[i].size() - after[i].size());
      }
      EXPECT_EQ(result.total, vanished);
      // The preview predicted the blocking error or the exact counts.
      if (expected.error == "ProtectedError" || expected.error == "RestrictedError") {
        EXPECT_EQ(preview.blocked_by, expected.error);
        ++refused;
      } else if (expected.error.empty()) {
        EXPECT_EQ(preview.counts.repr(), result.repr());
        std::int64_t watched_deleted = expected.counts["r.M" + std::to_string(watched)];
        if (pre_calls || post_calls || watched_deleted) {
          if (db.signals().has_receivers(Signal::PreDelete, db.registry().get("r.M" + std::to_string(watched)))) {
            EXPECT_EQ(pre_calls, watched_deleted);
            EXPECT_EQ(post_calls, watched_deleted);
          }
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
