// The deletion engine (Django's Collector): collect -> DeletionPlan -> preview() / execute().
//
// collect() walks the models from the rows to delete through every reverse relation and its
// on_delete rule, and builds a plan of set-based steps: for each model reached, the rows to
// delete as a predicate the database evaluates (rows whose key is in the parent's set), the
// field updates (SET_NULL, SET_DEFAULT, SET), and the PROTECT / RESTRICT checks. No row is
// loaded into the program except where a signal receiver needs it (streamed in batches) or an
// error must name the blocking objects, so memory does not grow with the size of the cascade.
//
// preview() evaluates the plan without writing anything (per-model counts, field updates,
// blocking objects and a nested tree of what will go); execute() runs the same plan in one
// transaction. Both compute from the same steps, so what a preview says is what the delete does.
//
// Behaviour follows Django's (see docs/deletion.md for the rule-by-rule account): result shape
// and order, errors and messages, signal order. The mechanism differs by design.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cascade/results.h"
#include "cascade/error.h"
#include "cascade/model/instance.h"
#include "cascade/signals/signals.h"

namespace cascade {

class Context;
class QuerySet;

// ProtectedError / RestrictedError: nothing was deleted; blocking_objects() are the rows that
// refused (Django's protected_objects / restricted_objects).
class ProtectedError : public IntegrityError {
 public:
  ProtectedError(std::string message, std::vector<Instance> objects);
  const std::vector<Instance>& protected_objects() const noexcept { return objects_; }
  std::string python_name() const override { return "django.db.models.deletion.ProtectedError"; }

 private:
  std::vector<Instance> objects_;
};

class RestrictedError : public IntegrityError {
 public:
  RestrictedError(std::string message, std::vector<Instance> objects);
  const std::vector<Instance>& restricted_objects() const noexcept { return objects_; }
  std::string python_name() const override { return "django.db.models.deletion.RestrictedError"; }

 private:
  std::vector<Instance> objects_;
};

namespace detail {
struct Plan;
}

// An immutable plan for one delete. Built by Collector::collect(); cheap to keep.
// Lifetime: the plan keeps a reference to its Database (which must outlive it) and owns a copy
// of the QuerySet it was built from. A plan built from instances keeps pointers to them, to
// unset their primary keys (or show their marks) after execute(): those instances must outlive
// the plan's last execute(). preview() never touches them.
class DeletionPlan {
 public:
  DeletionPlan(DeletionPlan&&) noexcept;
  DeletionPlan& operator=(DeletionPlan&&) noexcept;
  ~DeletionPlan();

  // Evaluates the plan in a transaction that is rolled back: nothing changes. Lists at most
  // `max_items` objects in the tree (0: none, counts only).
  Preview preview(std::int64_t max_items = 1000) const;
  // Deletes, in one transaction (a savepoint inside a caller's transaction). Throws
  // ProtectedError / RestrictedError (nothing written, no signal sent) or whatever a receiver
  // or the database raised (everything rolled back).
  DeleteResult execute() const;
  // The same, calling `progress(step, steps, what)` before each step ("delete blog.Comment").
  using Progress = std::function<void(int step, int steps, const std::string& what)>;
  DeleteResult execute(const Progress& progress) const;
  // Deletes only what `shown` (this plan's preview) showed. In the delete's own transaction,
  // before anything is written or any signal sent, the root rows are fixed and compared with
  // the preview's (count and primary keys), then the per-model counts and the field updates;
  // if anything differs, throws PreviewChanged and changes nothing. Refusals throw as execute().
  // The rows cannot change between the comparison and the writes: SQLite's transaction holds
  // the write lock from its start; on PostgreSQL the root keys are fixed in a table and the
  // referenced rows are locked before the comparison (see docs/deletion.md).
  DeleteResult execute(const Preview& shown, const Progress& progress = {}) const;

  // The objects of one model (a label: "blog.Comment") that execute() would delete or mark,
  // primary keys ascending from `offset`, at most `limit` of them, and how many there are in
  // all: the pages behind a confirmation's "and 12,345 more". Evaluated like preview(), in a
  // transaction that is rolled back; each call costs about what preview(0) costs.
  struct ObjectsPage {
    std::int64_t total = 0;
    std::vector<Instance> objects;
  };
  ObjectsPage objects(const std::string& label, std::int64_t offset, std::int64_t limit) const;

  // The plan's steps as text, for tests and `--explain`: one line per step.
  std::vector<std::string> steps() const;
  // The SQL statements execute(shown) (or execute(), without `shown`) would run now, with their
  // parameters as Python reprs after "-- params: ". Found by running the delete in a
  // transaction that is rolled back, without signals: nothing changes, but it costs a delete.
  std::vector<std::string> statements(const Preview* shown = nullptr) const;

 private:
  friend class Collector;
  friend class PurgePlan;
  explicit DeletionPlan(std::unique_ptr<detail::Plan> plan);
  // execute() (bound to `shown` if given) without sending any signal: a trial run, inside a
  // transaction the caller rolls back (a purge preview, `cascade delete --sql`).
  DeleteResult execute_silently(const Preview* shown = nullptr) const;
  std::unique_ptr<detail::Plan> plan_;
};

class Collector {
 public:
  // Policy: the root model's delete_policy decides (hard, soft, soft_cascade; never refuses).
  // Hard: a real delete whatever the policy (hard_remove(); never still refuses).
  enum class Mode { Policy, Hard };

  explicit Collector(Context& db) : db_(db) {}

  // The rows of a QuerySet (Django's QuerySet.delete()). Throws TypeError for a sliced
  // QuerySet or one after values() / values_list(), as Django does.
  DeletionPlan collect(const QuerySet& qs, Mode mode = Mode::Policy) const;
  // Instances of one model (Django's Model.delete()). Throws ValueError when a primary key is
  // unset: "<Model> object can't be deleted because its id attribute is set to None."
  // After a hard delete their primary keys are unset, as Django does (a soft delete keeps them,
  // so the instances can be restored). keep_parents (Django's Model.delete(keep_parents=True)):
  // the rows of a multi-table child's parents stay, and their relations are not followed.
  DeletionPlan collect(const std::vector<Instance*>& instances, Mode mode = Mode::Policy,
                       bool keep_parents = false) const;

 private:
  Context& db_;
};

}  // namespace cascade
