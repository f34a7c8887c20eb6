// Restoring and purging soft-deleted rows (models whose delete_policy is soft or soft_cascade).
//
// Every row one remove() marks gets the same deletion_id. restore() on some marked rows brings
// back every row of every model carrying their deletion_id(s), and nothing else; it refuses with
// RestoreError, changing nothing, when a restored row's foreign key points at a row that is gone
// or still deleted, or when a restored row would break a unique field among live rows.
// purge() hard-deletes rows soft-deleted longer ago than a duration.
#pragma once

#include <chrono>

#include "cascade/deletion/collector.h"
#include "cascade/error.h"

namespace cascade {

class Database;
class ModelMeta;
class QuerySet;

class RestoreError : public IntegrityError {
 public:
  using IntegrityError::IntegrityError;
  std::string python_name() const override { return "cascade.RestoreError"; }
};

// The rows brought back, per model (the shape of a delete result).
DeleteResult restore_soft_deleted(const QuerySet& rows);
// What restore_soft_deleted(rows) would bring back, changing nothing.
DeleteResult restore_preview(const QuerySet& rows);

// Hard-deletes the rows of `model` soft-deleted before now - older_than (through the
// Collector: their on_delete rules apply).
DeleteResult purge_soft_deleted(Database& db, const ModelMeta& model,
                                std::chrono::seconds older_than);

}  // namespace cascade
