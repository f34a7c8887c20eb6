// Creating the tables of a Registry (`cascade migrate`). Tables, foreign-key constraints
// (deferred to commit, as Django creates them), indexes (every foreign-key column, every
// db_index field) and many-to-many through tables.
//
// Schema migrations are not supported: when a table exists but disagrees with its model, the
// migration stops before changing anything and SchemaMismatch names each difference.
#pragma once

#include <string>
#include <vector>

#include "cascade/db/connection.h"
#include "cascade/error.h"

namespace cascade {
class ModelMeta;
class Registry;
}  // namespace cascade

namespace cascade::db {

class SchemaMismatch : public ProgrammingError {
 public:
  explicit SchemaMismatch(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const noexcept { return problems_; }

 private:
  std::vector<std::string> problems_;
};

struct MigrationPlan {
  std::vector<std::string> create_tables;  // labels of the models whose tables will be created
  std::vector<std::string> statements;     // DDL, in order
  std::vector<std::string> problems;       // existing tables that disagree with their model
};

// The DDL that creates one model's table, and its indexes. Foreign keys are inline when the
// backend requires it (Features::foreign_keys_inline), else separate ALTER TABLE statements
// are returned in `constraints`.
struct TableSql {
  std::string create_table;
  std::vector<std::string> constraints;
  std::vector<std::string> indexes;
};
TableSql table_sql(const Connection& connection, const ModelMeta& model);

// Compares the database with the models; changes nothing.
MigrationPlan plan_migration(Connection& connection, const Registry& registry);

// Creates what is missing, in one transaction. Running it again changes nothing. Throws
// SchemaMismatch (before writing anything) when an existing table disagrees with its model.
MigrationPlan migrate(Connection& connection, const Registry& registry);

}  // namespace cascade::db
