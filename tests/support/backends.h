// The databases every database test runs on: SQLite always, PostgreSQL too when
// CASCADE_TEST_POSTGRES holds a server URL (make test starts a throw-away server and sets it).
// Each test gets a clean database: a new SQLite file, or a new PostgreSQL schema that is
// dropped afterwards.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "cascade/database.h"
#include "cascade/version.h"
#include "cascade/db/connection.h"
#include "sql/query.h"
#include "support/test_db.h"

namespace cascade::testing {

inline std::vector<std::string> test_backends() {
  std::vector<std::string> out{"sqlite"};
  const char* pg = std::getenv("CASCADE_TEST_POSTGRES");
  if (CASCADE_WITH_POSTGRESQL && pg != nullptr && *pg != '\0') out.emplace_back("postgresql");
  return out;
}

inline std::string backend_name(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

// A clean database for one test.
class ScratchDatabase {
 public:
  explicit ScratchDatabase(const std::string& backend) : backend_(backend) {
    if (backend == "sqlite") {
      url_ = "sqlite:///" + dir_.file("test.db");
      return;
    }
    std::random_device rd;
    schema_ = "cascade_test_" + std::to_string(rd()) + std::to_string(rd());
    base_url_ = std::getenv("CASCADE_TEST_POSTGRES");
    auto admin = db::Connection::open(base_url_);
    admin->execute("CREATE SCHEMA " + admin->quote_name(schema_));
    url_ = base_url_ + (base_url_.find('?') == std::string::npos ? "?" : "&") + "schema=" + schema_;
  }
  ~ScratchDatabase() {
    if (schema_.empty()) return;
    try {
      auto admin = db::Connection::open(base_url_);
      admin->execute("DROP SCHEMA " + admin->quote_name(schema_) + " CASCADE");
    } catch (const std::exception& e) {
      ADD_FAILURE() << "could not drop test schema " << schema_ << ": " << e.what();
    }
  }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  const std::string& backend() const noexcept { return backend_; }
  const std::string& url() const noexcept { return url_; }
  // The URL with one more option ("max_variables=50").
  std::string url_with(const std::string& option) const {
    return url_ + (url_.find('?') == std::string::npos ? "?" : "&") + option;
  }
  std::unique_ptr<db::Connection> connect() const { return db::Connection::open(url_); }

 private:
  TempDir dir_;
  std::string backend_;
  std::string url_;
  std::string base_url_;
  std::string schema_;
};

// Base fixture of every test that runs on each backend.
class BackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  ScratchDatabase scratch{GetParam()};
  bool sqlite() const { return GetParam() == "sqlite"; }
  std::unique_ptr<db::Connection> connect() const { return scratch.connect(); }
  // The blog_shop models on this test's database, migrated.
  Database blog_shop(const std::string& option = {}) const {
    Database db = Database::open(blog_shop_registry(),
                                 option.empty() ? scratch.url() : scratch.url_with(option));
    db.migrate();
    return db;
  }
};

// True when the QuerySet has an ordering (its own or the model's default).
inline bool is_ordered(const QuerySet& qs) {
  const auto& s = qs.state();
  return s.ordering ? !s.ordering->empty() : !s.model->ordering.empty();
}

}  // namespace cascade::testing

#define CASCADE_ON_EVERY_BACKEND(Fixture)                                            \
  INSTANTIATE_TEST_SUITE_P(Backends, Fixture,                                        \
                           ::testing::ValuesIn(::cascade::testing::test_backends()), \
                           ::cascade::testing::backend_name)
