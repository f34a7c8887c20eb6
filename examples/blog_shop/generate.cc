#include "generate.h"

#include <random>
#include <string>
#include <vector>

#include "cascade/db/transaction.h"
#include "models.h"

namespace blog_shop {
namespace {

const char* const kFirst[] = {"Ada",   "Alan", "Barbara",  "Dennis",  "Edsger", "Frances",
                              "Grace", "Ken",  "Margaret", "Niklaus", "Radia",  "Tony"};
const char* const kLast[] = {"Lovelace", "Turing",   "Liskov",   "Ritchie", "Dijkstra", "Allen",
                             "Hopper",   "Thompson", "Hamilton", "Wirth",   "Perlman",  "Hoare"};
const char* const kWords[] = {"deleting", "data",    "safely",   "cascade", "rules",   "soft",
                              "delete",   "restore", "preview",  "signals", "queries", "django",
                              "sqlite",   "audit",   "recovery", "bulk",    "admin",   "shell"};
const char* const kTags[] = {"django", "orm",     "sqlite",      "postgres", "cpp",  "howto",
                             "news",   "release", "performance", "security", "data", "admin"};
const char* const kStatus[] = {"published", "published", "published", "draft", "archived", "spam"};

}  // namespace

GenerateCounts generate(cascade::Database& db, int size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto pick = [&](auto& array) { return array[rng() % (sizeof(array) / sizeof(array[0]))]; };
  auto words = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += (i ? " " : "") + std::string(pick(kWords));
    return s;
  };
  GenerateCounts counts;
  cascade::db::atomic(db.connection(), [&] {
    int n_authors = std::max(2, size / 10);
    std::vector<std::int64_t> authors;
    for (int i = 0; i < n_authors; ++i) {
      Author a{.id = {},
               .name = std::string(pick(kFirst)) + " " + pick(kLast) + " " + std::to_string(i + 1),
               .email = "author" + std::to_string(i + 1) + "@example.com"};
      db.save(a);
      authors.push_back(*a.id);
    }
    counts.authors = n_authors;
    std::vector<std::int64_t> tags;
    for (const char* name : kTags) {
      Tag t{.id = {}, .name = name};
      db.save(t);
      tags.push_back(*t.id);
    }
    counts.tags = static_cast<std::int64_t>(tags.size());
    auto start = cascade::DateTime::from_parts({2024, 1, 1});
    for (int i = 0; i < size; ++i) {
      Post p;
      p.title = words(3) + " #" + std::to_string(i + 1);
      p.content = words(12);
      p.status = pick(kStatus);
      p.author_id = authors[rng() % authors.size()];
      if (rng() % 3 == 0) p.editor_id = authors[rng() % authors.size()];
      if (p.status != "draft") {
        p.published =
            cascade::DateTime{start.micros + static_cast<std::int64_t>(i) * 3'600'000'000LL};
      }
      db.save(p);
      ++counts.posts;
      int n_comments = static_cast<int>(rng() % 6);
      for (int k = 0; k < n_comments; ++k) {
        Comment c{.id = {}, .post_id = *p.id, .body = words(8)};
        db.save(c);
        ++counts.comments;
      }
      std::vector<cascade::Value> post_tags;
      for (int k = static_cast<int>(rng() % 4); k > 0; --k) {
        post_tags.emplace_back(tags[rng() % tags.size()]);
      }
      auto before = db.many_to_many(p, "tags").pks().size();
      db.many_to_many(p, "tags").add(post_tags);
      counts.post_tags +=
          static_cast<std::int64_t>(db.many_to_many(p, "tags").pks().size() - before);
    }
    std::vector<std::int64_t> products;
    for (int i = 0; i < std::max(2, size / 2); ++i) {
      Product pr{.id = {},
                 .name = std::string(pick(kWords)) + " kit " + std::to_string(i + 1),
                 .discontinued = rng() % 5 == 0,
                 .is_deleted = false};
      db.save(pr);
      products.push_back(*pr.id);
      PlainProduct pp{.id = {}, .name = pr.name, .discontinued = pr.discontinued};
      db.save(pp);
      ++counts.plain_products;
    }
    counts.products = static_cast<std::int64_t>(products.size());
    for (int i = 0; i < std::max(1, size / 5); ++i) {
      Order o{.id = {},
              .number = "ORD-" + std::to_string(100000 + i),
              .placed = cascade::Date::from_days_since_epoch(19723 + i % 365)};
      db.save(o);
      ++counts.orders;
      for (int k = 1 + static_cast<int>(rng() % 4); k > 0; --k) {
        OrderItem item{.id = {},
                       .order_id = *o.id,
                       .product_id = products[rng() % products.size()],
                       .quantity = 1 + static_cast<int>(rng() % 5)};
        db.save(item);
        ++counts.order_items;
      }
    }
    for (int i = 0; i < std::max(1, size / 10); ++i) {
      Contact c{.id = {},
                .name = std::string(pick(kFirst)) + " " + pick(kLast) + " " + std::to_string(i + 1),
                .email = "contact" + std::to_string(i + 1) + "@example.com"};
      db.save(c);
      ++counts.contacts;
      for (int k = 1 + static_cast<int>(rng() % 3); k > 0; --k) {
        Note n{.id = {}, .contact_id = *c.id, .body = "Called about " + std::string(pick(kWords))};
        db.save(n);
        ++counts.notes;
      }
    }
  });
  return counts;
}

}  // namespace blog_shop
