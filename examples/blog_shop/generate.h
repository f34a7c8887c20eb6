// Demo and benchmark data for the blog_shop models, deterministic for a given size and seed.
#pragma once

#include <cstdint>
#include <iosfwd>

#include "cascade/database.h"

namespace blog_shop {

struct GenerateCounts {
  std::int64_t authors = 0, tags = 0, posts = 0, comments = 0, post_tags = 0;
  std::int64_t products = 0, plain_products = 0, orders = 0, order_items = 0;
  std::int64_t contacts = 0, notes = 0;
};

// Adds about `size` posts with their authors, comments and tags, and a shop of similar size,
// in one transaction. REQUIRES: the tables exist (Database::migrate).
GenerateCounts generate(cascade::Database& db, int size, std::uint64_t seed = 1);

}  // namespace blog_shop
