// The Database facade: a Context (what queries and deletes need) with the application's
// conveniences on top.
#include "cascade/database.h"

#include <chrono>
#include <vector>

#include "cascade/deletion/soft_delete.h"

namespace cascade {

Database& Context::database() noexcept { return static_cast<Database&>(*this); }

Database::Database(const Registry& registry, std::unique_ptr<db::Connection> connection)
    : Context(registry, std::move(connection)) {}
Database::Database(Database&&) noexcept = default;
Database& Database::operator=(Database&&) noexcept = default;
Database::~Database() = default;

Database Database::open(const Registry& registry, std::string_view url, std::string_view base_dir) {
  return Database(registry, db::Connection::open(url, base_dir));
}

DeleteResult Database::purge(std::chrono::seconds older_than) {
  std::vector<const ModelMeta*> models;
  for (const ModelMeta* m : registry().models()) {
    if (m->soft_deletable() && !m->proxy) models.push_back(m);  // a proxy's rows are its model's
  }
  DateTime cutoff = DateTime::now();
  cutoff.micros -= std::chrono::duration_cast<std::chrono::microseconds>(older_than).count();
  return PurgePlan(*this, std::move(models), cutoff).execute();
}

}  // namespace cascade
