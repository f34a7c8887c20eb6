#include "cascade/model/instance.h"

#include "cascade/error.h"

namespace cascade {

Instance::Instance(const ModelMeta& meta) : meta_(&meta) {
  values_.reserve(meta.fields.size());
  for (const auto& f : meta.fields) values_.push_back(f.get_default());
}

Instance::Instance(const ModelMeta& meta,
                   std::initializer_list<std::pair<std::string_view, Value>> values)
    : Instance(meta) {
  for (const auto& [name, value] : values) set(name, value);
}

Instance::Instance(FromRow, const ModelMeta& meta, std::vector<Value> values)
    : meta_(&meta), values_(std::move(values)), adding_(false) {}

Instance Instance::from_row(const ModelMeta& meta, std::vector<Value> values) {
  if (values.size() != meta.fields.size()) {
    throw Error("a row of " + meta.label() + " needs " + std::to_string(meta.fields.size()) +
                " values, got " + std::to_string(values.size()));
  }
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = meta.fields[i].to_python(values[i]);
  return Instance(FromRow{}, meta, std::move(values));
}

std::size_t Instance::index_of(std::string_view name) const {
  if (name == "pk") return 0;
  if (auto i = meta_->field_index(name)) return *i;
  if (const Field* f = meta_->find_field(name); f != nullptr && !f->is_concrete()) {
    throw TypeError("'" + f->name + "' is a many-to-many field of " + meta_->object_name +
                    "; use its related manager");
  }
  meta_->get_field(name);  // throws FieldError with the choices
  throw FieldError(std::string(name));
}

const Value& Instance::get(std::string_view name) const { return values_[index_of(name)]; }

void Instance::set(std::string_view name, const Value& value) {
  std::size_t i = index_of(name);
  values_[i] = meta_->fields[i].to_python(value);
}

std::string Instance::str() const {
  const std::string& t = meta_->display;
  if (t.empty()) return meta_->object_name + " object (" + pk().to_string() + ")";
  std::string out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if ((c == '{' || c == '}') && i + 1 < t.size() && t[i + 1] == c) {
      out += c;
      ++i;
    } else if (c == '{') {
      auto close = t.find('}', i);
      if (close == std::string::npos) {  // rejected by Registry::finalize; kept literal here
        out += t.substr(i);
        break;
      }
      out += get(std::string_view(t).substr(i + 1, close - i - 1)).to_string();
      i = close;
    } else {
      out += c;
    }
  }
  return out;
}

std::string Instance::repr() const { return "<" + meta_->object_name + ": " + str() + ">"; }

}  // namespace cascade
