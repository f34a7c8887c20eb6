#include "sql/rows.h"

#include <vector>

namespace cascade::sql {

std::string column_list(const db::Connection& c, const ModelMeta& m, const std::string& alias) {
  std::string table = c.quote_name(alias.empty() ? m.db_table : alias);
  std::string cols;
  for (const auto& f : m.fields)
    cols += (cols.empty() ? "" : ", ") + table + "." + c.quote_name(f.column);
  return cols;
}

Instance read_instance(const ModelMeta& m, const db::Rows& rows) {
  std::vector<Value> values;
  values.reserve(m.fields.size());
  for (int i = 0; i < static_cast<int>(m.fields.size()); ++i) values.push_back(rows.get(i));
  return Instance::from_row(m, std::move(values));
}

}  // namespace cascade::sql
