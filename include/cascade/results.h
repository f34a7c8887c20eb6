// What deletes, restores and purges report: the result (Django's (total, {label: count})), the
// preview of a delete, and the error a bound execute() raises when the rows changed since the
// preview. Free of any dependency but values, so every layer can name them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cascade/error.h"
#include "cascade/value.h"

namespace cascade {

// Django's (total, {"app.Model": count}) with the per-model counts in Django's order.
struct DeleteResult {
  std::int64_t total = 0;
  std::vector<std::pair<std::string, std::int64_t>> per_model;

  std::int64_t count(const std::string& label) const;
  // Python's repr: (3, {'blog.Comment': 2, 'blog.Post': 1})
  std::string repr() const;
};

// A bound execute() found rows other than its preview showed (a row was added, changed or
// deleted meanwhile): nothing was written and no signal was sent. what() says what differs.
class PreviewChanged : public Error {
 public:
  using Error::Error;
  std::string python_name() const override { return "cascade.PreviewChanged"; }
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
    std::string label;    // "blog.Post"
    std::string text;     // "Post: Hello" (verbose name capitalised, str())
    bool marked = false;  // soft-deleted (kept and marked) rather than deleted
    std::vector<Node> children;
    Value pk;  // the object's primary key
  };
  struct FieldUpdate {
    std::string label;  // model updated: "blog.Post"
    std::string field;  // "editor"
    std::string value;  // Python repr of the new value: None
    std::int64_t count = 0;
  };
  // What the database itself will do beyond the plan: rows its ON DELETE CASCADE / SET NULL /
  // SET DEFAULT actions (the DB_* rules) remove or change, and rows left referencing deleted
  // rows through DO_NOTHING, which make the commit fail.
  struct DatabaseEffect {
    std::string label;   // the referencing model: "blog.Like"
    std::string field;   // its key: "post"
    std::string action;  // "ON DELETE CASCADE", "ON DELETE SET NULL", "ON DELETE SET DEFAULT",
                         // or "DO_NOTHING" (the commit will fail)
    std::int64_t count = 0;
  };
  DeleteResult counts;               // exactly what execute() returns
  std::vector<FieldUpdate> updates;  // rows that will be changed, not deleted
  std::vector<DatabaseEffect> database_effects;
  // Set when the delete would be refused: the error's message and the blocking objects.
  // Refusal::Commit is the database's refusal at commit, foreseen: DO_NOTHING references to
  // deleted rows (execute() still runs the delete and fails at commit, as Django's does).
  Refusal blocked_by = Refusal::None;
  std::string blocked_message;
  std::vector<Node> blocking;  // the blocking objects ("Order item: 1 x product 3")
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

}  // namespace cascade
