// Test helpers: a fresh database per test. Every database test runs on SQLite (in memory, or a
// temporary file where a file is needed); PostgreSQL joins when its backend exists.
#pragma once

#include <filesystem>
#include <memory>
#include <ostream>
#include <random>
#include <string>

#include "cascade/database.h"
#include "cascade/db/connection.h"
#include "models.h"
#include "support/assertions.h"

namespace cascade::testing {

// A temporary directory removed when the object goes away.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("cascade-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// The blog_shop models, finalized.
inline const Registry& blog_shop_registry() {
  static const Registry* registry = [] {
    auto* r = new Registry();
    blog_shop::register_models(*r);
    r->finalize();
    return r;
  }();
  return *registry;
}

// A migrated in-memory database over the blog_shop models.
inline Database blog_shop_db() {
  Database db = Database::open(blog_shop_registry(), "sqlite://:memory:");
  db.migrate();
  return db;
}

inline std::int64_t count_rows(db::Connection& c, const std::string& table) {
  auto rows = c.query("SELECT COUNT(*) FROM " + c.quote_name(table));
  rows->next();
  return rows->get(0).as_integer();
}

}  // namespace cascade::testing
