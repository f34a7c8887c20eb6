// Restoring and purging soft-deleted rows (models whose delete_policy is soft or soft_cascade).
//
// Every row one remove() marks gets the same deletion_id. restore() on some marked rows brings
// back every row of every model carrying their deletion_id(s), and nothing else; it refuses with
// RestoreError, changing nothing, when a restored row's foreign key points at a row that is gone
// or still deleted, or when a restored row would break a unique field among live rows.
// A purge hard-deletes rows soft-deleted longer ago than a duration.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "cascade/deletion/collector.h"
#include "cascade/error.h"

namespace cascade {

class Context;
class ModelMeta;
class QuerySet;

class RestoreError : public IntegrityError {
 public:
  using IntegrityError::IntegrityError;
  std::string python_name() const override { return "cascade.RestoreError"; }
};

// What a restore will bring back: the delete operations the selected rows belong to, and the
// rows they marked, per model.
struct RestorePreview {
  std::vector<Value> operations;  // deletion ids, ascending
  DeleteResult counts;
};

// A soft-delete operation whose rows are still marked: what a trash lists.
struct TrashedOperation {
  std::string deletion_id;
  DateTime deleted_at;
  DeleteResult counts;  // rows still marked, per model (registry order)
};
// Every such operation, newest first (one grouped query per soft-deletable model).
std::vector<TrashedOperation> trashed_operations(Context& db);
// The marked rows of one operation, per model (empty when nothing carries the id).
std::vector<QuerySet> trashed_rows(Context& db, const std::string& deletion_id);

// The rows brought back, per model (the shape of a delete result).
DeleteResult restore_soft_deleted(const QuerySet& rows);
// The same, only if `shown` (restore_preview(rows)) still holds: in the restore's transaction,
// before anything is written, the operations and the counts per model are compared with it;
// if they differ, throws PreviewChanged and changes nothing.
DeleteResult restore_soft_deleted(const QuerySet& rows, const RestorePreview& shown);
// What restore_soft_deleted(rows) would bring back, changing nothing.
RestorePreview restore_preview(const QuerySet& rows);

// A purge: the rows of some soft-deletable models soft-deleted before `cutoff`, hard-deleted
// through their on_delete rules, as one operation in one transaction. One model's purge can
// reach another's candidates (a purged post takes its soft-deleted comments with it), so the
// preview evaluates the models' deletes in turn, each in the state the previous ones leave,
// inside a transaction it rolls back (no signal is sent; a SET callable is called): each row is
// counted once, and the counts are exact.
namespace detail {
class AuditOperation;
}

class PurgePlan {
 public:
  // Throws NotSupportedError for a model that is not soft-deletable.
  PurgePlan(Context& db, std::vector<const ModelMeta*> models, DateTime cutoff);
  // The given soft-deleted rows (QuerySets of soft-deletable models; only their rows that are
  // marked count), whatever their age: a trash's "delete for good" of one operation.
  PurgePlan(Context& db, const std::vector<QuerySet>& rows);
  PurgePlan(PurgePlan&&) noexcept;
  ~PurgePlan();

  const DateTime& cutoff() const noexcept { return cutoff_; }
  // The merged preview: counts per model, field updates, the objects (at most max_items in
  // all), the first refusal. Kept by the plan for a bound execute().
  Preview preview(std::int64_t max_items = 1000);
  // Purges whatever matches now, in one transaction.
  DeleteResult execute() const;
  // Purges only what the last preview() showed (`shown` must be that preview): each model's
  // delete is bound to its part of it (DeletionPlan::execute(shown)). Throws PreviewChanged,
  // with nothing changed, if any part differs.
  DeleteResult execute(const Preview& shown) const;

 private:
  // The audit log's entry for the whole purge (its deletes join it).
  void start_entry(detail::AuditOperation& op) const;

  Context& db_;
  DateTime cutoff_;
  std::vector<std::string> labels_;
  std::vector<DeletionPlan> steps_;
  std::vector<Preview> shown_;  // the last preview, per step
  std::int64_t shown_roots_ = -1;
  std::uint64_t shown_digest_ = 0;
};

// Hard-deletes the rows of `model` soft-deleted before now - older_than (a PurgePlan).
DeleteResult purge_soft_deleted(Context& db, const ModelMeta& model,
                                std::chrono::seconds older_than);

}  // namespace cascade
