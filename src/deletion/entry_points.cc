// The deletes of QuerySet and Manager: declared by the query layer, carried out here by the
// deletion engine, so that the query layer never depends on the layer above it.
#include <chrono>

#include "cascade/deletion/collector.h"
#include "cascade/deletion/soft_delete.h"
#include "cascade/query/manager.h"
#include "cascade/query/queryset.h"

namespace cascade {
namespace {

void require_own_model(const Instance& inst, const ModelMeta& meta) {
  if (&inst.meta() != &meta) {
    throw TypeError("cannot delete a " + inst.meta().label() + " through the manager of " +
                    meta.label());
  }
}

}  // namespace

DeleteResult QuerySet::remove() const { return Collector(database()).collect(*this).execute(); }

DeleteResult QuerySet::hard_remove() const {
  return Collector(database()).collect(*this, Collector::Mode::Hard).execute();
}

Preview QuerySet::preview_remove(std::int64_t max_items) const {
  return Collector(database()).collect(*this).preview(max_items);
}

DeleteResult Manager::remove(Instance& inst, bool keep_parents) {
  require_own_model(inst, meta_);
  return Collector(db_).collect({&inst}, Collector::Mode::Policy, keep_parents).execute();
}

DeleteResult Manager::hard_remove(Instance& inst, bool keep_parents) {
  require_own_model(inst, meta_);
  return Collector(db_).collect({&inst}, Collector::Mode::Hard, keep_parents).execute();
}

DeleteResult Manager::purge(std::chrono::seconds older_than) {
  return purge_soft_deleted(db_, meta_, older_than);
}

}  // namespace cascade
