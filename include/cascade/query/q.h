// Q objects are part of the query representation the SQL compiler reads: see cascade/sql/q.h.
#pragma once

#include "cascade/sql/q.h"
