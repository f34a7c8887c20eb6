// Registry: the set of models of a project (Django's app registry). The single source of truth
// that the query layer, the Collector, the shell and the tool all read.
//
// Build it with add() (from C++ declarations or a models file), then finalize() once: that
// resolves relation targets, adds the "id" primary key where none is declared, creates the
// through models of many-to-many fields, computes reverse relations and checks everything,
// throwing ConfigError on the first problem. Afterwards the Registry is immutable and can be
// read from any thread.
#pragma once

#include <memory>
#include <string_view>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include "cascade/model/model_meta.h"

namespace cascade {

namespace detail {
struct TypedBinding;  // see cascade/model/mapping.h
}

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Adds a model. Throws ConfigError on a duplicate label or a bad name, or when finalized.
  // `source` names where the declaration came from, for messages ("cascade.toml:12").
  ModelMeta& add(ModelMeta meta, std::string source = {});

  // Resolves and checks every model. Throws ConfigError naming the model and field at fault.
  void finalize();
  bool finalized() const noexcept { return finalized_; }

  // Looks a model up by "app_label.ModelName" (model name case-insensitive, as Django's
  // get_model), or by bare model name when exactly one app has it. find() returns nullptr when
  // there is none; get() throws cascade::Error (Django's LookupError text) listing the models.
  const ModelMeta* find(std::string_view label) const noexcept;
  const ModelMeta& get(std::string_view label) const;

  // Every model in registration order; auto-created through models follow their owner.
  std::vector<const ModelMeta*> models() const;

  // ---- typed mapping (cascade/model/mapping.h) -----------------------------------------------
  void bind(std::type_index type, std::string label, std::unique_ptr<detail::TypedBinding> b);
  const detail::TypedBinding& binding(std::type_index type) const;
  bool bound(std::type_index type) const noexcept;

 private:
  struct Entry {
    std::unique_ptr<ModelMeta> meta;
    std::string source;
  };
  std::vector<Entry> models_;
  std::unordered_map<std::type_index, std::unique_ptr<detail::TypedBinding>> bindings_;
  std::unordered_map<std::type_index, std::string> binding_labels_;
  bool finalized_ = false;

  std::vector<std::string> abstract_labels_;  // removed by finalize(), for messages

  void inherit_abstract_bases();
  void add_content_types();
  void resolve_generic_fields(Entry& entry);
  void resolve_proxies();
  void inherit_parent_fields();
  void resolve_relations(Entry& entry);
  void resolve_many_to_many(Entry& entry);
  void add_through_models();
  void resolve_target_field(const Entry& entry, Field& f) const;
  const Entry* find_entry(std::string_view label) const noexcept;
};

}  // namespace cascade
