// Micro-benchmarks of the hot paths (Google Benchmark), so regressions show: compiling a
// QuerySet to SQL, binding values, decoding rows into instances, planning a delete.
//
//   build/release/bench/cascade_micro_bench
#include <benchmark/benchmark.h>

#include "cascade/database.h"
#include "cascade/db/transaction.h"
#include "cascade/model/loader.h"

namespace {

const char* kModels = R"(
[models.blog.Author]
fields.name = { type = "char", max_length = 100 }
[models.blog.Post]
fields.title = { type = "char", max_length = 200 }
fields.status = { type = "char", max_length = 20, default = "published" }
fields.author = { type = "foreign_key", to = "Author", on_delete = "CASCADE", related_name = "posts" }
fields.editor = { type = "foreign_key", to = "Author", on_delete = "SET_NULL", null = true, related_name = "edited_posts" }
[models.blog.Comment]
fields.post = { type = "foreign_key", to = "Post", on_delete = "CASCADE", related_name = "comments" }
fields.body = { type = "text" }
)";

struct Fixture {
  cascade::Project project = cascade::parse_project(kModels, "micro");
  cascade::Database db = cascade::Database::open(*project.registry, "sqlite://:memory:");
  Fixture() {
    db.migrate();
    cascade::db::atomic(db.connection(), [&] {
      auto a = db.objects("blog.Author").create({{"name", "Ann"}});
      for (int i = 0; i < 1000; ++i) {
        db.objects("blog.Post")
            .create({{"title", "post " + std::to_string(i)}, {"author", a.pk()}});
      }
    });
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void BM_CompileFilter(benchmark::State& state) {
  auto& f = fixture();
  auto qs = f.db.objects("blog.Post")
                .filter(cascade::Q("author__name__startswith", "A") |
                        cascade::Q("comments__body__icontains", "x"));
  for (auto _ : state) benchmark::DoNotOptimize(qs.sql());
}
BENCHMARK(BM_CompileFilter);

void BM_InsertRow(benchmark::State& state) {
  auto& f = fixture();
  auto authors = f.db.objects("blog.Author");
  cascade::db::Atomic tx(f.db.connection());
  for (auto _ : state) benchmark::DoNotOptimize(authors.create({{"name", "Bob"}}));
}
BENCHMARK(BM_InsertRow);

void BM_DecodeRows(benchmark::State& state) {
  auto& f = fixture();
  auto qs = f.db.objects("blog.Post").all();
  for (auto _ : state) {
    std::int64_t n = 0;
    for (const cascade::Instance& i : qs) n += i.pk().as_integer();
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_DecodeRows);

void BM_PlanDelete(benchmark::State& state) {
  auto& f = fixture();
  auto qs = f.db.objects("blog.Author").filter({{"name", "Ann"}});
  cascade::Collector collector(f.db);
  for (auto _ : state) benchmark::DoNotOptimize(collector.collect(qs));
}
BENCHMARK(BM_PlanDelete);

}  // namespace

BENCHMARK_MAIN();
