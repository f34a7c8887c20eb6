// Content types (Django's django.contrib.contenttypes): one row per model in the table
// django_content_type, (app_label, model), which generic foreign keys point at. The registry
// holds the built-in model "contenttypes.ContentType" once a model uses generic relations.
#pragma once

#include <cstdint>
#include <optional>

#include "cascade/model/model_meta.h"
#include "cascade/value.h"

namespace cascade {

class Context;

// Django's ContentType.objects.get_for_model(model): the id of the content type of the model's
// concrete model (a proxy shares its model's), its row created when missing. Not cached: the
// row is read each time (a rolled-back transaction cannot leave a stale id behind).
// Throws cascade::Error when the registry has no content types model.
std::int64_t content_type_for(Context& db, const ModelMeta& model);
// The same without creating the row: nullopt when there is none yet.
std::optional<std::int64_t> find_content_type(Context& db, const ModelMeta& model);
// Django's ContentType.model_class(): the registered model a content type row names; nullptr
// when the row does not exist or names a model this registry does not have.
const ModelMeta* model_for_content_type(Context& db, const Value& content_type_id);

}  // namespace cascade
