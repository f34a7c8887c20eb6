#include "cascade/query/content_types.h"

#include "cascade/error.h"
#include "cascade/query/context.h"
#include "cascade/query/manager.h"
#include "cascade/query/queryset.h"

namespace cascade {
namespace {

const ModelMeta& content_type_meta(Context& db) {
  const ModelMeta* m = db.registry().find(kContentTypeLabel);
  if (m == nullptr) {
    throw Error("the models use no generic relation, so there is no " +
                std::string(kContentTypeLabel) + " model");
  }
  return *m;
}

QuerySet rows_for(Context& db, const ModelMeta& model) {
  const ModelMeta& c = model.concrete_model();
  return QuerySet(db, content_type_meta(db))
      .filter(Q("app_label", Value(c.app_label)) & Q("model", Value(c.model_name())));
}

}  // namespace

std::optional<std::int64_t> find_content_type(Context& db, const ModelMeta& model) {
  auto row = rows_for(db, model).first();
  if (!row) return std::nullopt;
  return row->pk().as_integer();
}

std::int64_t content_type_for(Context& db, const ModelMeta& model) {
  if (auto id = find_content_type(db, model)) return *id;
  const ModelMeta& c = model.concrete_model();
  Instance row = Manager(db, content_type_meta(db))
                     .create({{"app_label", Value(c.app_label)}, {"model", Value(c.model_name())}});
  return row.pk().as_integer();
}

const ModelMeta* model_for_content_type(Context& db, const Value& content_type_id) {
  if (content_type_id.is_null()) return nullptr;
  auto row = Manager(db, content_type_meta(db)).find(content_type_id);
  if (!row) return nullptr;
  return db.registry().find(row->get("app_label").as_text() + "." + row->get("model").as_text());
}

}  // namespace cascade
