// Signals: receivers called around saves and deletes (Django's pre_save, post_save, pre_delete,
// post_delete), connected per Database, optionally for one sender model.
//
//   auto id = db.signals().connect(cascade::Signal::PreDelete,
//       [](const cascade::SignalEvent& e) { audit(e.instance.repr()); }, &post_meta);
//
// Batch receivers (beyond Django) get a model and a batch of primary keys, so code that audits
// or invalidates caches can follow a million-row delete without a million calls. Unlike a
// per-object receiver, a batch receiver does not take its model off the set-based delete path.
//
// A receiver connected for a model makes the deletion engine load that model's rows (streamed,
// in batches), and only that model's. Receivers run inside the delete's transaction; an
// exception from one rolls the whole delete back and propagates. Not thread-safe: connect and
// disconnect on the thread that uses the Database.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "cascade/model/instance.h"

namespace cascade {

class Database;
class QuerySet;

enum class Signal {
  PreSave,
  PostSave,
  PreDelete,  // hard deletes
  PostDelete,
  PreSoftDelete,  // rows marked by a soft delete
  PostSoftDelete,
  PreRestore,  // rows brought back by restore()
  PostRestore,
};

// What a delete was called on (Django's `origin`): an instance, or a QuerySet.
struct DeleteOrigin {
  const Instance* instance = nullptr;
  const QuerySet* queryset = nullptr;
};

struct SignalEvent {
  Signal signal;
  const ModelMeta& sender;
  const Instance& instance;
  Database& db;
  bool created = false;   // PostSave: the row was inserted
  DeleteOrigin origin{};  // PreDelete / PostDelete / PreSoftDelete / PostSoftDelete
};

struct BatchEvent {
  Signal signal;  // PreDelete / PostDelete, or PreSoftDelete / PostSoftDelete
  const ModelMeta& sender;
  std::span<const Value> pks;  // ascending for Pre*, descending for Post*
  Database& db;
};

using Receiver = std::function<void(const SignalEvent&)>;
using BatchReceiver = std::function<void(const BatchEvent&)>;

class Signals {
 public:
  using Id = std::uint64_t;

  // Connects a receiver; `sender` nullptr means every model. Returns an id for disconnect().
  Id connect(Signal signal, Receiver receiver, const ModelMeta* sender = nullptr);
  // Connects a batch receiver for PreDelete or PostDelete.
  Id connect_batch(Signal signal, BatchReceiver receiver, const ModelMeta* sender = nullptr);
  // Returns false when no receiver has this id.
  bool disconnect(Id id);

  bool has_receivers(Signal signal, const ModelMeta& model) const noexcept;
  bool has_batch_receivers(Signal signal, const ModelMeta& model) const noexcept;

  void send(const SignalEvent& event) const;
  void send_batch(const BatchEvent& event) const;

  // Where warnings go (a receiver that cannot see every deleted row, see connect()).
  // Default: standard error.
  void set_warning_handler(std::function<void(const std::string&)> handler);
  void warn(const std::string& message) const;

 private:
  struct Entry {
    Id id;
    Signal signal;
    const ModelMeta* sender;
    Receiver receiver;
    BatchReceiver batch;
  };
  std::vector<Entry> entries_;
  Id next_ = 1;
  std::function<void(const std::string&)> warning_;

  void warn_about_database_cascades(Signal signal, const ModelMeta* sender);
};

}  // namespace cascade
