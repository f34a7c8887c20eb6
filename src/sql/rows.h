// Reading model rows: the Instance made of one result row whose first columns are
// Statements::instance_columns(m), which selects every concrete field in ModelMeta::fields order.
#pragma once

#include <string>

#include "cascade/db/connection.h"
#include "cascade/model/instance.h"
#include "cascade/model/model_meta.h"

namespace cascade::sql {

// The Instance of the current row, whose first columns are Statements::instance_columns(m)'s.
Instance read_instance(const ModelMeta& m, const db::Rows& rows);

}  // namespace cascade::sql
