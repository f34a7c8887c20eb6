// What a query returns and which rows of a soft-deletable model it sees: part of the query
// representation the SQL compiler reads (QuerySet names them QuerySet::ResultKind and
// QuerySet::Visibility).
#pragma once

namespace cascade {

// Instances (the default), dicts (values()), tuples (values_list()) or one value per row
// (values_list(flat=True)).
enum class ResultKind { Instances, Dicts, Tuples, Flat };

// Which rows of a soft-deletable model a QuerySet sees: live ones (the default manager,
// `objects`), all (`all_objects`) or soft-deleted ones only (`deleted_objects`). Models that
// are not soft-deletable have only live rows.
enum class Visibility { Live, All, Deleted };

}  // namespace cascade
