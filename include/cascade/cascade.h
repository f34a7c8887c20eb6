// Convenience header for applications: the whole public API.
#pragma once

#include "cascade/cli/cli.h"
#include "cascade/database.h"
#include "cascade/db/connection.h"
#include "cascade/db/schema.h"
#include "cascade/db/transaction.h"
#include "cascade/error.h"
#include "cascade/model/field.h"
#include "cascade/model/instance.h"
#include "cascade/model/loader.h"
#include "cascade/model/mapping.h"
#include "cascade/model/model_meta.h"
#include "cascade/model/registry.h"
#include "cascade/query/manager.h"
#include "cascade/value.h"
