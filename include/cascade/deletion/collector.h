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

#include "cascade/error.h"
#include "cascade/model/instance.h"
#include "cascade/signals/signals.h"

namespace cascade {

class Database;
class QuerySet;

// Django's (total, {"app.Model": count}) with the per-model counts in Django's order.
struct DeleteResult {
  std::int64_t total = 0;
  std::vector<std::pair<std::string, std::int64_t>> per_model;

  std::int64_t count(const std::string& label) const;
  // Python's repr: (3, {'blog.Comment': 2, 'blog.Post': 1})
  std::string repr() const;
};

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

// A bound execute() found rows other than its preview showed (a row was added, changed or
// deleted meanwhile): nothing was written and no signal was sent. what() says what differs.
class PreviewChanged : public Error {
 public:
  using Error::Error;
  std::string python_name() const override { return "cascade.PreviewChanged"; }
};

class RestrictedError : public IntegrityError {
 public:
  RestrictedError(std::string message, std::vector<Instance> objects);
  const std::vector<Instance>& restricted_objects() const noexcept { return objects_; }
  std::string python_name() const override { return "django.db.models.deletion.RestrictedError"; }

 private:
  std::vector<Instance> objects_;
};

// Why a delete would be refused, as a preview foresees it.
enum class Refusal {
  None,
  Protected,   // ProtectedError: PROTECT relations reach rows that stay
  Restricted,  // RestrictedError: RESTRICT relations (or a model that is never deleted)
  Commit,      // IntegrityError at commit: DO_NOTHING references left to deleted rows
};
// The exception's class name: "ProtectedError", "RestrictedError", "IntegrityError" ("" for None).
std::string_view refusal_name(Refusal refusal) noexcept;

// What preview() reports.
struct Preview {
  struct Node {
    std::string label;     // "blog.Post"
    std::string text;      // "Post: Hello" (verbose name capitalised, str())
    bool marked = false;   // soft-deleted (kept and marked) rather than deleted
    std::vector<Node> children;
    Value pk;              // the object's primary key
  };
  struct FieldUpdate {
    std::string label;     // model updated: "blog.Post"
    std::string field;     // "editor"
    std::string value;     // Python repr of the new value: None
    std::int64_t count = 0;
  };
  // What the database itself will do beyond the plan: rows its ON DELETE CASCADE / SET NULL /
  // SET DEFAULT actions (the DB_* rules) remove or change, and rows left referencing deleted
  // rows through DO_NOTHING, which make the commit fail.
  struct DatabaseEffect {
    std::string label;    // the referencing model: "blog.Like"
    std::string field;    // its key: "post"
    std::string action;   // "ON DELETE CASCADE", "ON DELETE SET NULL", "ON DELETE SET DEFAULT",
                          // or "DO_NOTHING" (the commit will fail)
    std::int64_t count = 0;
  };
  DeleteResult counts;                // exactly what execute() returns
  std::vector<FieldUpdate> updates;   // rows that will be changed, not deleted
  std::vector<DatabaseEffect> database_effects;
  // Set when the delete would be refused: the error's message and the blocking objects.
  // Refusal::Commit is the database's refusal at commit, foreseen: DO_NOTHING references to
  // deleted rows (execute() still runs the delete and fails at commit, as Django's does).
  Refusal blocked_by = Refusal::None;
  std::string blocked_message;
  std::vector<Node> blocking;         // the blocking objects ("Order item: 1 x product 3")
  // The objects that will be deleted, each under the object that pulled it in, depth first,
  // each once (Django admin's nested list). At most `max_items` entries; `omitted` counts the
  // rest.
  std::vector<Node> tree;
  std::int64_t omitted = 0;
  std::int64_t max_items = 1000;  // the preview's budget; text() lists as many blocking objects
  // The rows the delete starts from, as the preview saw them: how many, and a digest of their
  // primary keys in order (64-bit FNV-1a). execute(preview) compares them with the rows it finds.
  std::int64_t roots = 0;
  std::uint64_t roots_digest = 0;

  bool blocked() const noexcept { return blocked_by != Refusal::None; }
  // A plain-text rendering: the tree (indented), the summary per model, updates, blockers.
  std::string text() const;
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

  explicit Collector(Database& db) : db_(db) {}

  // The rows of a QuerySet (Django's QuerySet.delete()). Throws TypeError for a sliced
  // QuerySet or one after values() / values_list(), as Django does.
  DeletionPlan collect(const QuerySet& qs, Mode mode = Mode::Policy) const;
  // Instances of one model (Django's Model.delete()). Throws ValueError when a primary key is
  // unset: "<Model> object can't be deleted because its id attribute is set to None."
  // After a hard delete their primary keys are unset, as Django does (a soft delete keeps them,
  // so the instances can be restored).
  DeletionPlan collect(const std::vector<Instance*>& instances, Mode mode = Mode::Policy) const;

 private:
  Database& db_;
};

}  // namespace cascade
