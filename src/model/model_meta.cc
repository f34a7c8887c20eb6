#include "cascade/model/model_meta.h"

#include <algorithm>
#include <cctype>

#include "cascade/error.h"

namespace cascade {

ModelMeta::ModelMeta(std::string app, std::string name)
    : app_label(std::move(app)), object_name(std::move(name)) {}

std::string ModelMeta::model_name() const {
  std::string out = object_name;
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view delete_policy_name(DeletePolicy policy) noexcept {
  switch (policy) {
    case DeletePolicy::Hard: return "hard";
    case DeletePolicy::Soft: return "soft";
    case DeletePolicy::SoftCascade: return "soft_cascade";
    case DeletePolicy::Never: return "never";
  }
  return "?";
}

std::string ModelMeta::label() const { return app_label + "." + object_name; }
std::string ModelMeta::label_lower() const { return app_label + "." + model_name(); }

const Field& ModelMeta::pk() const {
  if (fields.empty() || !fields.front().primary_key) {
    throw Error("model " + label() + " has no primary key (is the registry finalized?)");
  }
  return fields.front();
}

std::optional<std::size_t> ModelMeta::field_index(std::string_view name) const noexcept {
  // Django's names first (the name, then the attname "author_id"); then the column, which
  // Cascade also accepts.
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) return i;
  }
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].is_foreign_key() && fields[i].attname() == name) return i;
  }
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].column == name) return i;
  }
  return std::nullopt;
}

const Field* ModelMeta::find_field(std::string_view name) const noexcept {
  if (auto i = field_index(name)) return &fields[*i];
  for (const auto& f : many_to_many) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::vector<const Field*> ModelMeta::generic_relations() const {
  std::vector<const Field*> out;
  for (const ModelMeta* m = &concrete_model(); m != nullptr; m = m->parent()) {
    for (const auto& f : m->private_fields) {
      if (f.type == FieldType::GenericRelation) out.push_back(&f);
    }
  }
  return out;
}

const Field* ModelMeta::find_private(std::string_view name) const noexcept {
  for (const ModelMeta* m = &concrete_model(); m != nullptr; m = m->parent()) {
    for (const auto& f : m->private_fields) {
      if (f.name == name) return &f;
    }
  }
  return nullptr;
}

std::vector<std::string> ModelMeta::field_names() const {
  std::vector<std::string> names;
  for (const auto& f : fields) {
    names.push_back(f.name);
    if (f.attname() != f.name) names.push_back(f.attname());
  }
  for (const auto& f : many_to_many) names.push_back(f.name);
  for (const ModelMeta* m = &concrete_model(); m != nullptr; m = m->parent()) {
    for (const auto& f : m->private_fields) names.push_back(f.name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

const Field& ModelMeta::get_field(std::string_view name) const {
  if (const Field* f = find_field(name)) return *f;
  std::string choices;
  for (const auto& n : field_names()) choices += (choices.empty() ? "" : ", ") + n;
  throw FieldError(object_name + " has no field named '" + std::string(name) +
                   "'. Choices are: " + choices);
}

}  // namespace cascade
