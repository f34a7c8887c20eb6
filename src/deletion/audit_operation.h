// Recording one operation in the audit log (cascade/deletion/audit.h), from inside the
// operation's transaction. Internal to the deletion layer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cascade/deletion/audit.h"
#include "sql/compiler.h"

namespace cascade::detail {

std::string random_uuid();

// One operation being recorded. Created inside the operation's transaction; finish() writes
// the entry there, so a rollback takes it away with the rows. An operation started while
// another is recorded on the same database (the deletes a purge runs) joins it: its rows are
// recorded under the outer operation's id, and only the outer one writes an entry.
class AuditOperation {
 public:
  // Records nothing when the database's audit log is off.
  AuditOperation(Context& db, std::string_view action, std::string id = random_uuid());
  ~AuditOperation();
  AuditOperation(const AuditOperation&) = delete;
  AuditOperation& operator=(const AuditOperation&) = delete;

  bool recording() const noexcept { return on_; }
  // The operation that writes the entry (false when joined to an outer one, or off).
  bool writes_entry() const noexcept { return on_ && outer_ == nullptr; }
  const std::string& id() const noexcept { return outer_ ? outer_->id_ : id_; }

  // The root rows: the model, the first kRootKeysKept keys (`where` on its table, keys
  // ascending) and their number. Reads nothing unless this operation writes the entry.
  void set_roots(const ModelMeta& m, const sql::Fragment& where);
  void set_roots(std::string model_label, std::vector<std::string> keys, std::int64_t count);
  void set_refers_to(std::vector<std::string> operations) { refers_to_ = std::move(operations); }
  // Copies the keys of the rows `where` selects on m's table into the log (record_rows only).
  // Called before the statement that deletes, marks or restores them.
  void record_rows(const ModelMeta& m, const sql::Fragment& where);
  // Writes the entry with these counts (when this operation writes the entry).
  void finish(const DeleteResult& counts);

 private:
  Context& db_;
  bool on_ = false;
  AuditOperation* outer_ = nullptr;
  std::string action_;
  std::string id_;
  std::string root_model_;
  std::vector<std::string> root_keys_;
  std::int64_t root_count_ = 0;
  std::vector<std::string> refers_to_;
};

}  // namespace cascade::detail
