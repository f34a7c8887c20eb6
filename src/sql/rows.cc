#include "sql/rows.h"

#include <vector>

namespace cascade::sql {

Instance read_instance(const ModelMeta& m, const db::Rows& rows) {
  std::vector<Value> values;
  values.reserve(m.fields.size());
  for (int i = 0; i < static_cast<int>(m.fields.size()); ++i) values.push_back(rows.get(i));
  return Instance::from_row(m, std::move(values));
}

}  // namespace cascade::sql
