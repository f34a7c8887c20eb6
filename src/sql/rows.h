// Reading model rows: the column list that selects every concrete field of a model, and the
// Instance made of one result row. The one place the field order of a SELECT is decided.
#pragma once

#include <string>

#include "cascade/db/connection.h"
#include "cascade/model/instance.h"
#include "cascade/model/model_meta.h"

namespace cascade::sql {

// "alias"."col1", "alias"."col2", ... for every concrete field, in ModelMeta::fields order.
// The alias defaults to the model's table.
std::string column_list(const db::Connection& c, const ModelMeta& m, const std::string& alias = {});

// The Instance of the current row, whose first columns are column_list(m)'s.
Instance read_instance(const ModelMeta& m, const db::Rows& rows);

}  // namespace cascade::sql
