// A separate process for the crash and concurrency tests, over the blog_shop models:
//
//   reliability_worker delete URL FIRST LAST BATCH [pause]
//     Deletes the authors with ids FIRST..LAST (descending when FIRST > LAST) and everything
//     their on_delete rules reach, BATCH authors per delete (0: all in one delete). Prints
//     "ready" (on PostgreSQL "ready backend=PID") before the first delete and "done deleted=N
//     retries=R" at the end. With `pause`, the first delete stops half-way through its steps,
//     inside its transaction after some of its statements have run, prints "paused" and waits to be
//     killed.
//   reliability_worker insert URL MILLISECONDS MAX_AUTHOR MAX_POST SEED
//     For the given time, adds comments under random posts and posts under random authors.
//     A parent deleted by someone else makes the insert fail on its foreign key: counted as
//     parent_gone. Prints "done inserted=N parent_gone=M retries=R".
//
// A LockError (a lock not granted in time, a deadlock) rolled the whole operation back; it is
// retried after a short random pause, at most kMaxRetries times in a row. Any other error is
// printed and ends the process with status 1.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <thread>

#include "cascade/database.h"
#include "cascade/error.h"
#include "models.h"

namespace {

constexpr int kMaxRetries = 100;

const cascade::Registry& registry() {
  static const cascade::Registry* r = [] {
    auto* reg = new cascade::Registry();
    blog_shop::register_models(*reg);
    reg->finalize();
    return reg;
  }();
  return *r;
}

// Runs fn, retrying it when it fails on a lock; returns false when it failed on a foreign key.
template <typename F>
bool with_retries(F&& fn, std::int64_t& retries, std::mt19937& rng, bool foreign_key_expected) {
  for (int attempt = 0;; ++attempt) {
    try {
      fn();
      return true;
    } catch (const cascade::LockError&) {
      if (attempt == kMaxRetries) throw;
      ++retries;
      std::this_thread::sleep_for(std::chrono::milliseconds(1 + rng() % 20));
    } catch (const cascade::IntegrityError&) {
      if (!foreign_key_expected) throw;
      return false;
    }
  }
}

int run_delete(const std::string& url, std::int64_t first, std::int64_t last, std::int64_t batch,
               bool pause) {
  cascade::Database db = cascade::Database::open(registry(), url);
  std::mt19937 rng(static_cast<unsigned>(first * 31 + last));
  std::int64_t step = first <= last ? 1 : -1;
  std::int64_t lo_end = std::min(first, last), hi_end = std::max(first, last);
  if (batch <= 0) batch = hi_end - lo_end + 1;
  std::int64_t deleted = 0, retries = 0;
  // On PostgreSQL the server process of this connection, which a test that kills this process
  // waits for: it may still commit or roll back after the client is gone.
  std::string backend;
  if (db.connection().features().vendor == "postgresql") {
    auto rows = db.connection().query("SELECT pg_backend_pid()");
    rows->next();
    backend = " backend=" + rows->get(0).to_string();
  }
  std::cout << "ready" << backend << std::endl;
  for (std::int64_t start = first; start >= lo_end && start <= hi_end; start += step * batch) {
    std::int64_t end = start + step * (batch - 1);
    std::int64_t lo = std::min(start, end), hi = std::max(start, end);
    lo = std::max(lo, lo_end);
    hi = std::min(hi, hi_end);
    with_retries(
        [&] {
          auto qs = db.objects("blog.Author").filter({{"id__gte", lo}, {"id__lte", hi}});
          if (!pause) {
            deleted += qs.remove().total;
            return;
          }
          auto plan = cascade::Collector(db).collect(qs);
          deleted += plan.execute([](int step, int steps, const std::string&) {
                           if (step != steps / 2 + 1) return;
                           std::cout << "paused" << std::endl;
                           std::this_thread::sleep_for(std::chrono::minutes(10));
                         })
                         .total;
        },
        retries, rng, false);
  }
  std::cout << "done deleted=" << deleted << " retries=" << retries << std::endl;
  return 0;
}

int run_insert(const std::string& url, std::int64_t ms, std::int64_t max_author,
               std::int64_t max_post, std::uint64_t seed) {
  cascade::Database db = cascade::Database::open(registry(), url);
  cascade::Manager posts = db.objects("blog.Post");
  cascade::Manager comments = db.objects("blog.Comment");
  std::mt19937 rng(static_cast<unsigned>(seed));
  std::int64_t inserted = 0, parent_gone = 0, retries = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  std::cout << "ready" << std::endl;
  while (std::chrono::steady_clock::now() < until) {
    bool ok;
    if (rng() % 2 == 0) {
      std::int64_t post = 1 + static_cast<std::int64_t>(rng() % static_cast<unsigned>(max_post));
      ok = with_retries(
          [&] {
            comments.create({{"post", post}, {"body", "late comment"}});
          },
          retries, rng, true);
    } else {
      std::int64_t author =
          1 + static_cast<std::int64_t>(rng() % static_cast<unsigned>(max_author));
      ok = with_retries(
          [&] {
            posts.create({{"title", "late post"}, {"author", author}});
          },
          retries, rng, true);
    }
    (ok ? inserted : parent_gone) += 1;
  }
  std::cout << "done inserted=" << inserted << " parent_gone=" << parent_gone
            << " retries=" << retries << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "delete" && (argc == 6 || (argc == 7 && std::string(argv[6]) == "pause"))) {
      return run_delete(argv[2], std::stoll(argv[3]), std::stoll(argv[4]), std::stoll(argv[5]),
                        argc == 7);
    }
    if (mode == "insert" && argc == 7) {
      return run_insert(argv[2], std::stoll(argv[3]), std::stoll(argv[4]), std::stoll(argv[5]),
                        std::stoull(argv[6]));
    }
    std::cerr << "usage: reliability_worker delete URL FIRST LAST BATCH [pause]\n"
                 "       reliability_worker insert URL MILLISECONDS MAX_AUTHOR MAX_POST SEED\n";
    return 2;
  } catch (const cascade::Error& e) {
    std::cerr << "error: " << e.python_name() << ": " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
