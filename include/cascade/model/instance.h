// Instance: one row of any model, held dynamically (Django's model instance, for code that works
// on models by name: the shell, the Collector, the tool). Values are stored per concrete field,
// in ModelMeta::fields order, already converted to the field's kind.
//
// An Instance refers to its ModelMeta, which must outlive it. Not thread-safe.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cascade/model/model_meta.h"
#include "cascade/value.h"

namespace cascade {

class Instance {
 public:
  // A new, unsaved instance with every field at its default.
  explicit Instance(const ModelMeta& meta);
  // A new instance with some fields set: {{"title", "Hello"}, {"author", 1}}.
  Instance(const ModelMeta& meta, std::initializer_list<std::pair<std::string_view, Value>> values);

  // An instance loaded from the database: `values` are one per concrete field, in
  // ModelMeta::fields order, and are converted with Field::to_python. No default is computed.
  static Instance from_row(const ModelMeta& meta, std::vector<Value> values);

  const ModelMeta& meta() const noexcept { return *meta_; }

  // By field name or column ("author" and "author_id" both give the key), or "pk".
  // Throws FieldError for an unknown name.
  const Value& get(std::string_view name) const;
  // Sets a field, converting the value to the field's kind (Field::to_python).
  void set(std::string_view name, const Value& value);

  const Value& pk() const noexcept { return values_[0]; }
  void set_pk(Value pk) { values_[0] = std::move(pk); }

  const Value& at(std::size_t index) const { return values_.at(index); }
  void set_at(std::size_t index, Value value) { values_.at(index) = std::move(value); }
  const std::vector<Value>& values() const noexcept { return values_; }

  // True until the instance was saved or loaded (Django's _state.adding).
  bool adding() const noexcept { return adding_; }
  void set_adding(bool adding) noexcept { adding_ = adding; }

  // What Django's str() gives: the model's display template, or "<Model> object (<pk>)".
  std::string str() const;
  // What Django's repr() gives: "<Post: Hello>".
  std::string repr() const;

 private:
  struct FromRow {};
  Instance(FromRow, const ModelMeta& meta, std::vector<Value> values);

  const ModelMeta* meta_;
  std::vector<Value> values_;
  bool adding_ = true;

  std::size_t index_of(std::string_view name) const;
};

}  // namespace cascade
