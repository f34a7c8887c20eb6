#include "cascade/model/registry.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <map>
#include <set>
#include <system_error>

#include "cascade/error.h"
#include "cascade/model/mapping.h"
#include "cascade/model/on_delete.h"
#include "model/naming.h"

namespace cascade {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

[[noreturn]] void fail(const std::string& source, const std::string& message) {
  // A source such as "cascade.toml:12" names a file and a line: split it so that
  // ConfigError::file() and line() say where (the message reads the same either way).
  auto colon = source.rfind(':');
  if (colon != std::string::npos && colon > 0 && colon + 1 < source.size()) {
    int line = 0;
    const char* first = source.data() + colon + 1;
    const char* last = source.data() + source.size();
    auto [ptr, ec] = std::from_chars(first, last, line);
    if (ec == std::errc() && ptr == last && line > 0) {
      throw ConfigError(message, source.substr(0, colon), line);
    }
  }
  throw ConfigError(message, source);
}

std::string where(const ModelMeta& m, const Field& f) { return m.label() + "." + f.name; }

void check_field(const std::string& source, const ModelMeta& m, const Field& f) {
  std::string w = where(m, f);
  if (auto problem = naming::field_name_problem(f.name)) fail(source, w + ": " + *problem);
  if (f.type == FieldType::Char && f.max_length <= 0) {
    fail(source, w + ": CharFields must define a 'max_length' attribute.");
  }
  if (f.type == FieldType::Auto && !f.primary_key) {
    fail(source, w + ": an auto field must be the primary key (primary_key = true).");
  }
  if (f.primary_key && f.null) fail(source, w + ": a primary key cannot be null.");
  if (f.primary_key && !f.parent_link &&
      (f.is_relation() || f.type == FieldType::Float || f.type == FieldType::Boolean)) {
    fail(source,
         w + ": a " + std::string(field_type_name(f.type)) + " field cannot be the primary key.");
  }
  if (!f.is_relation()) {
    if (!f.to.empty()) fail(source, w + ": 'to' is only for relations.");
    return;
  }
  if (f.to.empty() && !f.to_type)
    fail(source, w + ": a relation needs 'to', the model it points at.");
  if (f.type == FieldType::ManyToMany) {
    if (!f.to_field.empty()) fail(source, w + ": 'to_field' is only for foreign keys.");
    return;
  }
  if (auto problem = on_delete_problem(f)) fail(source, w + ": " + *problem);
}

// Checks a display template such as "{title} by {author_id}"; returns the first unknown name.
std::optional<std::string> unknown_display_name(const ModelMeta& m) {
  const std::string& t = m.display;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '{') {
      if (i + 1 < t.size() && t[i + 1] == '{') {
        ++i;
        continue;
      }
      auto close = t.find('}', i);
      if (close == std::string::npos) return std::string("{ without }");
      std::string name = t.substr(i + 1, close - i - 1);
      if (name != "pk" && !m.field_index(name)) return name;
      i = close;
    }
  }
  return std::nullopt;
}

// The options naming fields that a model may inherit: 'ordering' and the display template.
void check_ordering_and_display(const std::string& source, const ModelMeta& m) {
  for (const auto& key : m.ordering) {
    std::string_view name = key;
    if (!name.empty() && name.front() == '-') name.remove_prefix(1);
    if (name != "pk" && !m.field_index(name)) {
      fail(source,
           m.label() + ": 'ordering' refers to the nonexistent field '" + std::string(name) + "'.");
    }
  }
  if (auto bad = unknown_display_name(m)) {
    fail(source, m.label() + ": the display template " + python_repr(m.display) + " names " +
                     python_repr(*bad) + ", which is not a field (use {pk} or " +
                     "a field name; {{ and }} for braces).");
  }
}

}  // namespace

Registry::Registry() = default;
Registry::~Registry() = default;

ModelMeta& Registry::add(ModelMeta meta, std::string source) {
  if (finalized_) {
    throw ConfigError("cannot add model " + meta.label() + ": the registry is already finalized");
  }
  if (auto problem = naming::identifier_problem(meta.app_label)) {
    fail(source, "app label " + python_repr(meta.app_label) + ": " + *problem);
  }
  if (auto problem = naming::identifier_problem(meta.object_name)) {
    fail(source, "model name " + python_repr(meta.object_name) + ": " + *problem);
  }
  for (const auto& e : models_) {
    if (e.meta->app_label == meta.app_label && iequals(e.meta->object_name, meta.object_name)) {
      fail(source, "model " + meta.label() + " is declared twice" +
                       (e.source.empty() ? std::string() : " (first at " + e.source + ")"));
    }
  }
  models_.push_back({std::make_unique<ModelMeta>(std::move(meta)), std::move(source)});
  return *models_.back().meta;
}

const Registry::Entry* Registry::find_entry(std::string_view label) const noexcept {
  auto dot = label.find('.');
  if (dot == std::string_view::npos) {
    const Entry* found = nullptr;
    for (const auto& e : models_) {
      if (iequals(e.meta->object_name, label)) {
        if (found != nullptr) return nullptr;  // ambiguous
        found = &e;
      }
    }
    return found;
  }
  std::string_view app = label.substr(0, dot);
  std::string_view name = label.substr(dot + 1);
  for (const auto& e : models_) {
    if (e.meta->app_label == app && iequals(e.meta->object_name, name)) return &e;
  }
  return nullptr;
}

const ModelMeta* Registry::find(std::string_view label) const noexcept {
  const Entry* e = find_entry(label);
  return e ? e->meta.get() : nullptr;
}

const ModelMeta& Registry::get(std::string_view label) const {
  if (const ModelMeta* m = find(label)) return *m;
  auto dot = label.find('.');
  if (dot != std::string_view::npos) {
    std::string app(label.substr(0, dot));
    bool app_known = std::any_of(models_.begin(), models_.end(),
                                 [&](const Entry& e) { return e.meta->app_label == app; });
    if (!app_known) throw LookupError("No installed app with label '" + app + "'.");
    throw LookupError("App '" + app + "' doesn't have a '" + std::string(label.substr(dot + 1)) +
                      "' model.");
  }
  std::string known;
  for (const auto& e : models_) {
    if (!e.meta->auto_created) known += (known.empty() ? "" : ", ") + e.meta->label();
  }
  throw LookupError("No model named '" + std::string(label) +
                    "' (or it is ambiguous). Models: " + known);
}

std::vector<const ModelMeta*> Registry::models() const {
  std::vector<const ModelMeta*> out;
  out.reserve(models_.size());
  for (const auto& e : models_) out.push_back(e.meta.get());
  return out;
}

void Registry::finalize() {
  if (finalized_) return;
  // 0. Abstract bases: their fields and options go to the models that name them, then they go.
  inherit_abstract_bases();
  add_content_types();
  // 1. Per-model defaults and checks.
  for (auto& e : models_) {
    ModelMeta& m = *e.meta;
    if (m.proxy) {
      if (m.verbose_name.empty()) m.verbose_name = naming::verbose_name(m.object_name);
      if (m.verbose_name_plural.empty()) m.verbose_name_plural = m.verbose_name + "s";
      if (!m.fields.empty() || !m.many_to_many.empty() ||  // Django's models.E017
          !m.private_fields.empty()) {
        fail(e.source, "Proxy model '" + m.object_name + "' contains model fields.");
      }
      if (m.abstract) fail(e.source, m.label() + ": a model cannot be both abstract and a proxy.");
      continue;  // the rest comes from its concrete model: resolve_proxies()
    }
    if (m.db_table.empty()) m.db_table = m.app_label + "_" + m.model_name();
    if (m.verbose_name.empty()) m.verbose_name = naming::verbose_name(m.object_name);
    if (m.verbose_name_plural.empty()) m.verbose_name_plural = m.verbose_name + "s";
    auto pk_count = std::count_if(m.fields.begin(), m.fields.end(),
                                  [](const Field& f) { return f.primary_key; });
    if (pk_count > 1) fail(e.source, m.label() + ": a model can have only one primary key.");
    if (pk_count == 0) {
      if (m.field_index("id")) {
        fail(e.source, m.label() +
                           ".id: 'id' can only be used as a field name if the field "
                           "also sets 'primary_key=True'.");
      }
      Field id;
      id.name = "id";
      id.type = FieldType::Auto;
      id.primary_key = true;
      m.fields.insert(m.fields.begin(), std::move(id));
    } else if (!m.fields.front().primary_key) {
      auto it = std::find_if(m.fields.begin(), m.fields.end(),
                             [](const Field& f) { return f.primary_key; });
      std::rotate(m.fields.begin(), it, it + 1);
    }
    if (m.soft_deletable()) {
      for (const char* reserved : {kDeletedAtField, kDeletionIdField}) {
        if (m.find_field(reserved) != nullptr) {
          fail(e.source, m.label() + "." + reserved + ": the name is reserved for soft delete " +
                             "(the model's delete_policy adds it)");
        }
      }
      Field deleted_at;
      deleted_at.name = kDeletedAtField;
      deleted_at.type = FieldType::DateTime;
      deleted_at.null = true;
      deleted_at.blank = true;
      // No index: live-row filters (IS NULL) match most rows, and every soft delete would pay
      // for it (make bench, S6s); purge scans instead.
      m.fields.push_back(deleted_at);
      Field deletion_id;
      deletion_id.name = kDeletionIdField;
      deletion_id.type = FieldType::Char;
      deletion_id.max_length = 36;
      deletion_id.null = true;
      deletion_id.blank = true;
      deletion_id.db_index = true;
      m.fields.push_back(deletion_id);
    }
    for (auto& f : m.fields) {
      if (f.type == FieldType::ManyToMany) {
        fail(e.source, where(m, f) + ": many-to-many fields go in ModelMeta::many_to_many.");
      }
      if (f.column.empty()) f.column = f.is_foreign_key() ? f.name + "_id" : f.name;
      check_field(e.source, m, f);
    }
    for (auto& f : m.many_to_many) {
      if (f.type != FieldType::ManyToMany) {
        fail(e.source, where(m, f) + ": only many-to-many fields go in many_to_many.");
      }
      check_field(e.source, m, f);
    }
    std::set<std::string> names;
    for (const auto& f : m.fields) {
      if (!names.insert(f.name).second || (f.column != f.name && !names.insert(f.column).second)) {
        fail(e.source, where(m, f) + ": the name or column '" + f.column +
                           "' is used by another field of the model.");
      }
    }
    for (const auto& f : m.many_to_many) {
      if (!names.insert(f.name).second) {
        fail(e.source, where(m, f) + ": the name is used by another field of the model.");
      }
    }
    for (const auto& f : m.private_fields) {
      if (!f.is_generic()) {
        fail(e.source, where(m, f) + ": only generic fields go in private_fields.");
      }
      if (auto problem = naming::field_name_problem(f.name)) {
        fail(e.source, where(m, f) + ": " + *problem);
      }
      if (!names.insert(f.name).second) {
        fail(e.source, where(m, f) + ": the name is used by another field of the model.");
      }
    }
    for (const auto& group : m.unique_together) {
      for (const auto& name : group) {
        if (!m.field_index(name)) {
          fail(e.source,
               m.label() + ": 'unique_together' refers to the nonexistent field '" + name + "'.");
        }
      }
    }
    // A multi-table child's options may name its parents' fields: checked once it has them.
    if (!m.fields.front().parent_link) check_ordering_and_display(e.source, m);
  }
  // 2. Relations, then the through models they need.
  for (auto& e : models_) {
    if (!e.meta->proxy) resolve_relations(e);
  }
  add_through_models();
  // Before resolve_many_to_many(), which keeps pointers into the through models' fields: a
  // child's fields grow here.
  inherit_parent_fields();
  for (auto& e : models_) {
    if (!e.meta->proxy) resolve_many_to_many(e);
  }
  resolve_proxies();
  // Two models may not share a label or a table (a through model named like a declared one).
  // The many-to-many field an auto-created through model belongs to: "blog.Post.tags".
  auto owner_field = [this](const ModelMeta* through) {
    for (const auto& e : models_) {
      for (const auto& f : e.meta->many_to_many) {
        if (f.through == through) return e.meta->label() + "." + f.name;
      }
    }
    return through->label();
  };
  for (std::size_t i = 0; i < models_.size(); ++i) {
    const ModelMeta& later = *models_[i].meta;
    for (std::size_t j = 0; j < i; ++j) {
      const ModelMeta& earlier = *models_[j].meta;
      if (later.proxy || earlier.proxy) {  // a proxy shares its concrete model's table
        if (later.app_label == earlier.app_label &&
            iequals(later.object_name, earlier.object_name)) {
          fail(models_[i].source, "Conflicting '" + later.model_name() +
                                      "' models in application '" + later.app_label + "'.");
        }
        continue;
      }
      // A declared model named like an auto-created through model ("Post_tags").
      if (later.app_label == earlier.app_label && iequals(later.object_name, earlier.object_name)) {
        fail(models_[i].source, "Conflicting '" + later.model_name() + "' models in application '" +
                                    later.app_label + "': " + earlier.label() + " and " +
                                    later.label() + ".");
      }
      // SQLite table names are case-insensitive.
      if (!iequals(later.db_table, earlier.db_table)) continue;
      if (later.auto_created || earlier.auto_created) {  // Django's fields.E340
        const ModelMeta& through = later.auto_created ? later : earlier;
        const ModelMeta& other = later.auto_created ? earlier : later;
        fail(models_[i].source, owner_field(&through) + ": The field's intermediary table '" +
                                    through.db_table + "' clashes with the table name of '" +
                                    other.label() + "'.");
      }
      fail(models_[i].source, "db_table '" + later.db_table +  // Django's models.E028
                                  "' is used by multiple models: " + earlier.label() + ", " +
                                  later.label() + ".");
    }
  }
  // 3. Back-pointers and reverse relations; everything is in place, so pointers stay valid.
  // Fields inherited from a multi-table parent already point at the ancestor holding them.
  for (auto& e : models_) {
    for (auto& f : e.meta->fields) {
      if (f.model == nullptr) f.model = e.meta.get();
    }
    for (auto& f : e.meta->many_to_many) f.model = e.meta.get();
    for (auto& f : e.meta->private_fields) f.model = e.meta.get();
  }
  for (auto& e : models_) {
    for (auto& f : e.meta->fields) {
      if (f.is_foreign_key() && f.model == e.meta.get()) resolve_target_field(e, f);
    }
  }
  for (auto& e : models_) resolve_generic_fields(e);
  for (auto& e : models_) {  // inherited keys refer to what their ancestor's keys refer to
    ModelMeta& m = *e.meta;
    for (std::size_t i = m.local_count; i < m.fields.size(); ++i) {
      Field& f = m.fields[i];
      if (f.is_foreign_key())
        f.target_field = f.model->fields[*f.model->field_index(f.name)].target_field;
    }
  }
  // A relation to a proxy is a relation to its concrete model: both list it (Django keeps one
  // relation tree per concrete model). A proxy's own fields are its concrete model's.
  for (auto& e : models_) {
    if (e.meta->proxy) continue;
    for (std::size_t i = 0; i < e.meta->local_count; ++i) {
      auto& f = e.meta->fields[i];
      if (f.is_foreign_key()) {
        const_cast<ModelMeta&>(f.target->concrete_model()).related_objects.push_back({&f});
      }
    }
    for (auto& f : e.meta->many_to_many) {
      const_cast<ModelMeta&>(f.target->concrete_model()).related_objects.push_back({&f});
    }
  }
  // A multi-table child is also the target of its parents' relations (Django's get_fields()
  // with include_parents): the topmost ancestor's first, then its own. Parent links are not
  // inherited.
  std::function<std::vector<RelatedObject>(const ModelMeta&)> candidates = [&](const ModelMeta& m) {
    std::vector<RelatedObject> out;
    if (const ModelMeta* parent = m.parent()) {
      for (const auto& rel : candidates(parent->concrete_model())) {
        if (!rel.field->parent_link) out.push_back(rel);
      }
    }
    for (const auto& rel : m.related_objects) {
      if (&rel.field->target->concrete_model() == &m) out.push_back(rel);
    }
    return out;
  };
  std::map<const ModelMeta*, std::vector<RelatedObject>> with_parents;
  for (auto& e : models_) {
    if (!e.meta->proxy && e.meta->parent()) with_parents[e.meta.get()] = candidates(*e.meta);
  }
  for (auto& [m, rels] : with_parents) const_cast<ModelMeta*>(m)->related_objects = rels;
  for (auto& e : models_) {
    if (e.meta->proxy) e.meta->related_objects = e.meta->concrete->related_objects;
  }
  // 4. Reverse accessors must not clash with each other or with the target's fields. The error
  // names where the referencing model was declared.
  auto source_of = [this](const ModelMeta* m) -> const std::string& {
    for (const auto& e : models_) {
      if (e.meta.get() == m) return e.source;
    }
    static const std::string kNone;
    return kNone;
  };
  for (auto& e : models_) {
    const ModelMeta& target = *e.meta;
    if (target.proxy) continue;  // its concrete model's relations, checked there
    std::set<std::string> seen;
    for (const auto& rel : target.related_objects) {
      // A multi-table child's inherited relations are checked on the parent.
      if (&rel.field->target->concrete_model() != &target) continue;
      std::string accessor = rel.field->related_accessor_name();
      if (accessor.empty()) continue;
      std::string w = rel.field->model->label() + "." + rel.field->name;
      const std::string& source = source_of(rel.field->model);
      if (target.find_field(accessor) != nullptr) {
        fail(source, "Reverse accessor '" + target.object_name + "." + accessor + "' for '" + w +
                         "' clashes with field name '" + target.label() + "." + accessor +
                         "'. Add or change a related_name argument to the definition for '" + w +
                         "'.");
      }
      if (!seen.insert(accessor).second) {
        fail(source, "Reverse accessor '" + target.object_name + "." + accessor + "' for '" + w +
                         "' clashes with another reverse accessor. Add or change a related_name "
                         "argument to the definition for '" +
                         w + "'.");
      }
    }
  }
  finalized_ = true;
}

namespace {

// The built-in content types model, as Django's django.contrib.contenttypes declares it.
ModelMeta content_type_model() {
  ModelMeta m("contenttypes", "ContentType");
  m.db_table = "django_content_type";
  m.display = "{app_label} | {model}";
  for (const char* name : {"app_label", "model"}) {
    Field f;
    f.name = name;
    f.type = FieldType::Char;
    f.max_length = 100;
    m.fields.push_back(std::move(f));
  }
  m.unique_together = {{"app_label", "model"}};
  return m;
}

}  // namespace

void Registry::add_content_types() {
  if (find_entry(kContentTypeLabel) != nullptr) return;
  bool needed = false;
  for (const auto& e : models_) {
    const ModelMeta& m = *e.meta;
    if (!m.private_fields.empty()) needed = true;
    for (const auto& f : m.fields) {
      if (f.is_foreign_key() && f.to == kContentTypeLabel) needed = true;
    }
  }
  if (needed) models_.push_back({std::make_unique<ModelMeta>(content_type_model()), "built in"});
}

// A generic foreign key's two fields, and a generic relation's (on its target, which must
// declare a generic foreign key over them: Django's contenttypes.E004).
void Registry::resolve_generic_fields(Entry& e) {
  ModelMeta& m = *e.meta;
  const Entry* ct = find_entry(kContentTypeLabel);
  for (auto& f : m.private_fields) {
    const ModelMeta& holder = f.type == FieldType::GenericRelation ? *f.target : m;
    if (f.type == FieldType::GenericRelation) {
      auto matches = [&](const Field& g) {
        return g.type == FieldType::GenericForeignKey && g.ct_field == f.ct_field &&
               g.fk_field == f.fk_field;
      };
      const auto& gs = holder.concrete_model().private_fields;
      if (holder.proxy || std::none_of(gs.begin(), gs.end(), matches)) {
        fail(e.source, where(m, f) + ": The GenericRelation defines a relation with the model '" +
                           holder.label() + "', but that model does not have a " +
                           "GenericForeignKey" +
                           (holder.proxy ? " (name its concrete model)." : " over '" +
                                                                                f.ct_field + "' and '" +
                                                                                f.fk_field + "'."));
      }
    }
    const Field* id = holder.find_field(f.fk_field);
    if (id == nullptr || !id->is_concrete()) {  // contenttypes.E001
      fail(e.source, where(holder, f) + ": The GenericForeignKey object ID references the " +
                         "nonexistent field '" + f.fk_field + "'.");
    }
    if (id->is_foreign_key() || id->type == FieldType::Float || id->type == FieldType::Boolean ||
        id->type == FieldType::Date || id->type == FieldType::DateTime) {
      fail(e.source, where(holder, f) + ": the object ID field '" + f.fk_field +
                         "' must be an integer, big_integer, char or text field.");
    }
    const Field* type = holder.find_field(f.ct_field);
    if (type == nullptr || !type->is_concrete()) {  // contenttypes.E002
      fail(e.source, where(holder, f) + ": The GenericForeignKey content type references the " +
                         "nonexistent field '" + holder.object_name + "." + f.ct_field + "'.");
    }
    if (!type->is_foreign_key()) {  // contenttypes.E003
      fail(e.source, where(holder, f) + ": '" + holder.object_name + "." + f.ct_field +
                         "' is not a ForeignKey.");
    }
    if (ct == nullptr || type->target != ct->meta.get()) {  // contenttypes.E004
      fail(e.source, where(holder, f) + ": '" + holder.object_name + "." + f.ct_field +
                         "' is not a ForeignKey to 'contenttypes.ContentType'.");
    }
    if (!holder.concrete_model().is_local(*id) || !holder.concrete_model().is_local(*type)) {
      fail(e.source, where(holder, f) + ": a generic key's fields inherited from a multi-table "
                                        "parent are not supported (declare it on the parent).");
    }
    f.generic_ct = type;
    f.generic_id = id;
  }
}

void Registry::resolve_relations(Entry& e) {
  ModelMeta& m = *e.meta;
  auto resolve = [&](Field& f) {
    if (f.to.empty() && f.to_type) {
      auto label = binding_labels_.find(*f.to_type);
      if (label == binding_labels_.end()) {
        fail(e.source, where(m, f) +
                           ": the relation's target struct is not mapped in this registry "
                           "(declare it with cascade::define<...>)");
      }
      f.to = label->second;
    }
    std::string to = f.to;
    if (to == "self") to = m.label();
    const Entry* target = nullptr;
    if (to.find('.') == std::string::npos) {
      target = find_entry(m.app_label + "." + to);  // same app first, as Django
      if (target == nullptr) target = find_entry(to);
    } else {
      target = find_entry(to);
    }
    if (target == nullptr) {
      fail(e.source, where(m, f) + ": Field defines a relation with model '" + f.to +
                         "', which is either not installed, or is abstract.");
    }
    f.target = target->meta.get();
  };
  for (auto& f : m.fields) {
    if (f.is_foreign_key()) resolve(f);
  }
  for (auto& f : m.private_fields) {
    if (f.type == FieldType::GenericRelation) resolve(f);
  }
  for (auto& f : m.many_to_many) {
    resolve(f);
    if (f.through_model.empty()) {
      if (!f.through_fields.empty()) {
        fail(e.source, where(m, f) + ": 'through_fields' goes with an explicit 'through' model.");
      }
      continue;
    }
    if (!f.db_table.empty()) {  // Django's fields.E341... 'db_table' with 'through'
      fail(e.source, where(m, f) + ": 'db_table' does not apply with an explicit 'through' " +
                         "model (the through model's own table is used).");
    }
    const Entry* through = f.through_model.find('.') == std::string::npos
                               ? find_entry(m.app_label + "." + f.through_model)
                               : nullptr;
    if (through == nullptr) through = find_entry(f.through_model);
    if (through == nullptr) {  // Django's fields.E331
      fail(e.source, where(m, f) + ": Field specifies a many-to-many relation through model '" +
                         f.through_model + "', which has not been installed.");
    }
    f.through = through->meta.get();
  }
}

namespace {

// "%(class)s" and "%(app_label)s" in a related_name inherited from an abstract base: the
// lowercase name and app of the model that inherits it (Django's placeholders).
std::string substitute_placeholders(std::string text, const ModelMeta& m) {
  for (auto [key, value] : {std::pair<std::string, std::string>{"%(class)s", m.model_name()},
                            std::pair<std::string, std::string>{"%(app_label)s", m.app_label}}) {
    for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at)) {
      text.replace(at, key.size(), value);
      at += value.size();
    }
  }
  return text;
}

}  // namespace

void Registry::inherit_abstract_bases() {
  // 0: not yet, 1: being resolved (a base naming itself again is a cycle), 2: done.
  std::vector<int> state(models_.size(), 0);
  auto index_of = [this](const Entry* e) { return static_cast<std::size_t>(e - models_.data()); };
  std::function<void(std::size_t)> resolve = [&](std::size_t i) {
    if (state[i] == 2) return;
    Entry& e = models_[i];
    ModelMeta& m = *e.meta;
    if (m.proxy) {  // its base is its concrete model: resolve_proxies()
      state[i] = 2;
      return;
    }
    if (state[i] == 1) fail(e.source, m.label() + ": its bases inherit from it (a cycle).");
    state[i] = 1;
    std::vector<Field> fields;
    std::vector<Field> many_to_many;
    std::vector<Field> private_fields;
    auto declared = [](const std::vector<Field>& list, const std::string& name) {
      return std::any_of(list.begin(), list.end(), [&](const Field& f) { return f.name == name; });
    };
    for (const auto& name : m.bases) {
      const Entry* base = nullptr;
      if (name.find('.') == std::string::npos) base = find_entry(m.app_label + "." + name);
      if (base == nullptr) base = find_entry(name);
      if (base == nullptr) {
        fail(e.source, m.label() + ": 'bases' names '" + name + "', which is not a model here.");
      }
      const ModelMeta& b = *base->meta;
      if (!b.abstract) {
        // A concrete base: multi-table inheritance. The child gets a one-to-one primary key
        // to it; its fields are appended by inherit_parent_fields().
        if (m.abstract) {
          fail(e.source, m.label() + ": an abstract model cannot inherit from the concrete " +
                             "model " + b.label() + ".");
        }
        if (std::any_of(fields.begin(), fields.end(),
                        [](const Field& f) { return f.parent_link; })) {
          fail(e.source, m.label() + ": more than one concrete base (" + b.label() +
                             "): multiple multi-table inheritance is not supported.");
        }
        if (std::any_of(m.fields.begin(), m.fields.end(),
                        [](const Field& f) { return f.primary_key; })) {
          fail(e.source, m.label() + ": a multi-table inheritance child's primary key is its " +
                             "parent link; declaring another primary key is not supported.");
        }
        Field link;
        link.name = b.model_name() + "_ptr";
        link.type = FieldType::OneToOne;
        link.to = b.label();
        link.primary_key = true;
        link.unique = true;
        link.on_delete = OnDelete::Cascade;
        link.parent_link = true;
        fields.push_back(std::move(link));
        continue;
      }
      resolve(index_of(base));
      // A field declared on the model overrides the base's (Django 1.10+); the first base
      // that declares a name gives it.
      auto inherit = [&](const std::vector<Field>& from, std::vector<Field>& into) {
        for (const auto& f : from) {
          if (declared(m.fields, f.name) || declared(m.many_to_many, f.name) ||
              declared(m.private_fields, f.name)) {
            continue;
          }
          if (declared(into, f.name)) continue;
          Field copy = f;
          // Placeholders are filled in by the concrete model; an abstract one passes them on.
          if (!m.abstract) copy.related_name = substitute_placeholders(copy.related_name, m);
          into.push_back(std::move(copy));
        }
      };
      inherit(b.fields, fields);
      inherit(b.many_to_many, many_to_many);
      inherit(b.private_fields, private_fields);
      if (m.display.empty()) m.display = b.display;
      if (m.ordering.empty()) m.ordering = b.ordering;
      if (m.unique_together.empty()) m.unique_together = b.unique_together;
      if (m.delete_policy == DeletePolicy::Hard) m.delete_policy = b.delete_policy;
    }
    // Inherited fields come first, as in Django (they were declared earlier).
    for (auto& f : m.fields) fields.push_back(std::move(f));
    for (auto& f : m.many_to_many) many_to_many.push_back(std::move(f));
    for (auto& f : m.private_fields) private_fields.push_back(std::move(f));
    m.fields = std::move(fields);
    m.many_to_many = std::move(many_to_many);
    m.private_fields = std::move(private_fields);
    m.bases.clear();
    state[i] = 2;
  };
  for (std::size_t i = 0; i < models_.size(); ++i) resolve(i);
  for (const auto& e : models_) {
    if (e.meta->abstract) abstract_labels_.push_back(e.meta->label());
  }
  std::erase_if(models_, [](const Entry& e) { return e.meta->abstract; });
}

void Registry::inherit_parent_fields() {
  for (auto& e : models_) {
    if (!e.meta->proxy) e.meta->local_count = e.meta->fields.size();
  }
  // 0: not yet, 1: being resolved (a parent inheriting from its child is a cycle), 2: done.
  std::vector<int> state(models_.size(), 0);
  std::function<void(std::size_t)> resolve = [&](std::size_t i) {
    Entry& e = models_[i];
    ModelMeta& m = *e.meta;
    if (state[i] == 2 || m.proxy) return;
    if (state[i] == 1) fail(e.source, m.label() + ": its bases inherit from it (a cycle).");
    state[i] = 1;
    const ModelMeta* parent = m.fields.front().parent_link ? m.fields.front().target : nullptr;
    if (parent != nullptr) {
      if (parent->proxy || parent->auto_created) {
        fail(e.source, m.label() + ": its base " + parent->label() +
                           " is a proxy or an auto-created model; multi-table inheritance "
                           "needs a concrete model.");
      }
      resolve(static_cast<std::size_t>(find_entry(parent->label()) - models_.data()));
      if (m.soft_deletable() || parent->soft_deletable()) {
        fail(e.source, m.label() + ": multi-table inheritance with a soft delete policy is not " +
                           "supported yet.");
      }
      std::vector<Field> inherited;
      for (std::size_t k = 0; k < parent->fields.size(); ++k) {
        const Field& f = parent->fields[k];
        // Django's models.E006: a child's field may not take a name its parents have.
        for (std::size_t j = 0; j < m.local_count; ++j) {
          const Field& own = m.fields[j];
          if (own.name == f.name || own.column == f.attname() || own.attname() == f.attname()) {
            fail(e.source, where(m, own) + ": The field '" + own.name +
                               "' clashes with the field '" + f.name + "' from model '" +
                               parent->label_lower() + "'.");
          }
          if (own.column == f.column) {  // Django allows it; a row of both tables could not
            fail(e.source, where(m, own) + ": its column '" + own.column + "' is also the " +
                               "column of the field '" + f.name + "' of " + parent->label() +
                               "; a child and its parents need distinct column names.");
          }
        }
        Field copy = f;
        // The parent's own fields get their back-pointer here (step 3 skips them in the child).
        if (k < parent->local_count) copy.model = parent;
        inherited.push_back(std::move(copy));
      }
      for (auto& f : inherited) m.fields.push_back(std::move(f));
      // str() is a method and the default ordering a Meta option: both are inherited.
      if (m.display.empty()) m.display = parent->display;
      if (m.ordering.empty()) m.ordering = parent->ordering;
      check_ordering_and_display(e.source, m);
    }
    state[i] = 2;
  };
  for (std::size_t i = 0; i < models_.size(); ++i) resolve(i);
}

void Registry::resolve_proxies() {
  std::vector<int> state(models_.size(), 0);
  std::function<void(std::size_t)> resolve = [&](std::size_t i) {
    Entry& e = models_[i];
    ModelMeta& m = *e.meta;
    if (!m.proxy || state[i] == 2) return;
    if (state[i] == 1) fail(e.source, m.label() + ": its bases proxy it (a cycle).");
    state[i] = 1;
    if (m.bases.size() != 1) {  // Django's "Proxy model 'X' has no non-abstract model base class."
      fail(e.source, "Proxy model '" + m.object_name +
                         "' names its model in 'bases': exactly one (bases = [\"Model\"]).");
    }
    const std::string& name = m.bases.front();
    const Entry* base = nullptr;
    if (name.find('.') == std::string::npos) base = find_entry(m.app_label + "." + name);
    if (base == nullptr) base = find_entry(name);
    if (base == nullptr) {
      bool abstract = std::find(abstract_labels_.begin(), abstract_labels_.end(),
                                m.app_label + "." + name) != abstract_labels_.end() ||
                      std::find(abstract_labels_.begin(), abstract_labels_.end(), name) !=
                          abstract_labels_.end();
      fail(e.source,
           abstract ? "Proxy model '" + m.object_name + "' has no non-abstract model base class."
                    : m.label() + ": 'bases' names '" + name + "', which is not a model here.");
    }
    if (base->meta->auto_created) {
      fail(e.source, m.label() + ": a proxy of an auto-created through model is not supported.");
    }
    resolve(static_cast<std::size_t>(base - models_.data()));
    const ModelMeta& b = *base->meta;
    m.concrete = &b.concrete_model();
    const ModelMeta& c = *m.concrete;
    m.db_table = c.db_table;
    m.fields = c.fields;
    m.local_count = c.local_count;
    m.many_to_many = c.many_to_many;
    m.delete_policy = c.delete_policy;
    m.unique_together = c.unique_together;
    // str() is a method, inherited; so is the default ordering unless the proxy sets one.
    if (m.display.empty()) m.display = b.display;
    if (m.ordering.empty()) m.ordering = b.ordering;
    check_ordering_and_display(e.source, m);
    state[i] = 2;
  };
  for (std::size_t i = 0; i < models_.size(); ++i) resolve(i);
}

void Registry::resolve_many_to_many(Entry& e) {
  ModelMeta& m = *e.meta;
  for (auto& f : m.many_to_many) {
    bool self = f.target == &m;
    if (f.symmetrical.value_or(false) && !self) {
      fail(e.source,
           where(m, f) + ": 'symmetrical' is only for a many-to-many to the model " + "itself.");
    }
    f.symmetrical = f.symmetrical.value_or(f.to == "self");
    // Django hides the reverse accessor of a symmetrical relation (both sides are this one),
    // whatever related_name says.
    if (*f.symmetrical) f.related_name = f.name + "_rel_+";
    if (f.through_model.empty()) continue;  // auto-created: add_through_models() set the keys
    const ModelMeta& through = *f.through;
    if (through.parent() != nullptr) {
      fail(e.source, where(m, f) + ": the through model " + through.label() +
                         " is a multi-table inheritance child; that is not supported yet.");
    }
    std::string w = where(m, f);
    auto keys_to = [&](const ModelMeta& side) {
      std::vector<const Field*> out;
      for (const auto& k : through.fields) {
        if (k.is_foreign_key() && k.target == &side) out.push_back(&k);
      }
      return out;
    };
    if (!f.through_fields.empty()) {
      if (f.through_fields.size() != 2) {
        fail(e.source, w + ": 'through_fields' names two fields of " + through.label() +
                           ": its key to " + m.label() + ", then its key to " + f.target->label() +
                           ".");
      }
      const ModelMeta* sides[2] = {&m, f.target};
      const Field* keys[2] = {nullptr, nullptr};
      for (int i = 0; i < 2; ++i) {
        const Field* k = through.find_field(f.through_fields[static_cast<std::size_t>(i)]);
        if (k == nullptr || !k->is_foreign_key() || k->target != sides[i]) {
          fail(e.source, w + ": 'through_fields' names '" +
                             f.through_fields[static_cast<std::size_t>(i)] +
                             "', which is not a foreign key of " + through.label() + " to " +
                             sides[i]->label() + ".");
        }
        keys[i] = k;
      }
      f.through_source = keys[0];
      f.through_target = keys[1];
      continue;
    }
    std::vector<const Field*> from = keys_to(m);
    std::vector<const Field*> to = keys_to(*f.target);
    if (self) {
      // Two keys to the model: the first is the source, the second the target, as Django.
      if (from.size() != 2) {
        fail(e.source, w + ": The model is used as an intermediary model by '" + w +
                           "', but it has " + std::to_string(from.size()) + " foreign keys to '" +
                           m.object_name +
                           "', which is ambiguous. You must specify which two foreign keys "
                           "Cascade should use via the through_fields keyword argument.");
      }
      f.through_source = from[0];
      f.through_target = from[1];
      continue;
    }
    for (const auto* side : {&from, &to}) {
      const ModelMeta& other = side == &from ? m : *f.target;
      if (side->empty()) {  // Django's fields.E336
        fail(e.source, w + ": The model is used as an intermediate model by '" + w +
                           "', but it does not have a foreign key to '" + other.object_name +
                           "' or '" + (side == &from ? f.target : &m)->object_name + "'.");
      }
      if (side->size() > 1) {  // Django's fields.E334 / E335
        fail(e.source, w + ": The model is used as an intermediate model by '" + w +
                           "', but it has more than one foreign key " +
                           (side == &from ? "from" : "to") + " '" + other.object_name +
                           "', which is ambiguous. You must specify which foreign key it "
                           "should use via the through_fields keyword argument.");
      }
    }
    f.through_source = from[0];
    f.through_target = to[0];
  }
}

void Registry::resolve_target_field(const Entry& e, Field& f) const {
  const ModelMeta& t = *f.target;
  if (f.to_field.empty()) {
    f.target_field = &t.pk();
    return;
  }
  const Field* to = t.find_field(f.to_field);
  if (to == nullptr) {  // Django's fields.E312
    fail(e.source, where(*e.meta, f) + ": The to_field '" + f.to_field +
                       "' doesn't exist on the related model '" + t.label() + "'.");
  }
  if (!to->is_concrete()) {
    fail(e.source, where(*e.meta, f) + ": the to_field '" + f.to_field +
                       "' is a many-to-many field; a foreign key refers to a column.");
  }
  if (!to->unique && !to->primary_key) {  // Django's fields.E311
    fail(e.source, "'" + t.label() + "." + to->name +
                       "' must be unique because it is referenced by a foreign key (" +
                       where(*e.meta, f) + ").");
  }
  if (to->is_foreign_key()) {
    fail(e.source, where(*e.meta, f) + ": the to_field '" + f.to_field +
                       "' is itself a relation; refer to a plain unique field.");
  }
  if (!t.is_local(*to)) {
    fail(e.source, where(*e.meta, f) + ": the to_field '" + f.to_field + "' is inherited by " +
                       t.label() + " from " + to->model->label() +
                       "; a key to a parent's field is not supported: point it at " +
                       to->model->label() + ".");
  }
  f.target_field = to;
}

void Registry::add_through_models() {
  // Collect first: adding entries while walking models_ would invalidate the walk.
  std::vector<std::pair<std::size_t, std::unique_ptr<ModelMeta>>> throughs;
  for (std::size_t i = 0; i < models_.size(); ++i) {
    ModelMeta& owner = *models_[i].meta;
    for (auto& f : owner.many_to_many) {
      if (!f.through_model.empty()) continue;  // an ordinary model, declared
      auto through = std::make_unique<ModelMeta>(owner.app_label, owner.object_name + "_" + f.name);
      through->auto_created = true;
      through->db_table = f.db_table.empty() ? owner.db_table + "_" + f.name : f.db_table;
      bool self = f.target == &owner;
      std::string from = self ? "from_" + owner.model_name() : owner.model_name();
      std::string to = self ? "to_" + f.target->model_name() : f.target->model_name();
      // Django: "%(from)s-%(to)s relationship" with the lowercase names ("post-tag").
      through->verbose_name = from + "-" + to + " relationship";
      through->verbose_name_plural = through->verbose_name + "s";
      Field id;
      id.name = "id";
      id.column = "id";
      id.type = FieldType::Auto;
      id.primary_key = true;
      through->fields.push_back(std::move(id));
      for (auto [name, target] : {std::pair<std::string, const ModelMeta*>{from, &owner},
                                  std::pair<std::string, const ModelMeta*>{to, f.target}}) {
        Field fk;
        fk.name = name;
        fk.column = name + "_id";
        fk.type = FieldType::ForeignKey;
        fk.to = target->label();
        fk.target = target;
        fk.on_delete = OnDelete::Cascade;
        fk.related_name = through->object_name + "+";
        through->fields.push_back(std::move(fk));
      }
      through->unique_together.push_back({from, to});
      f.through = through.get();
      f.through_source = &through->fields[1];
      f.through_target = &through->fields[2];
      throughs.emplace_back(i, std::move(through));
    }
  }
  // Insert each through model right after its owner, keeping registration order otherwise.
  for (auto it = throughs.rbegin(); it != throughs.rend(); ++it) {
    // Reverse order and a fixed position keep several through models of one owner in order.
    std::size_t pos = it->first + 1;
    models_.insert(models_.begin() + static_cast<std::ptrdiff_t>(pos),
                   Entry{std::move(it->second), models_[it->first].source});
  }
}

bool Registry::bound(std::type_index type) const noexcept { return bindings_.count(type) != 0; }

void Registry::bind(std::type_index type, std::string label,
                    std::unique_ptr<detail::TypedBinding> b) {
  if (bindings_.count(type) != 0) {
    throw ConfigError("the C++ type mapped to " + label + " is already mapped to " +
                      binding_labels_.at(type));
  }
  bindings_.emplace(type, std::move(b));
  binding_labels_.emplace(type, std::move(label));
}

const detail::TypedBinding& Registry::binding(std::type_index type) const {
  auto it = bindings_.find(type);
  if (it == bindings_.end()) {
    throw Error(std::string("the C++ type ") + type.name() +
                " is not mapped to a model in this registry");
  }
  return *it->second;
}

}  // namespace cascade
