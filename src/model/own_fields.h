// Fields of Cascade's own models (the admin's users and permissions, the audit log), declared in
// C++ by the layers that own those tables. Internal.
#pragma once

#include <string>
#include <utility>

#include "cascade/model/field.h"

namespace cascade::own_fields {

inline Field field(std::string name, FieldType type) {
  Field f;
  f.name = std::move(name);
  f.type = type;
  return f;
}

// A CharField of at most `max_length` characters.
inline Field text(std::string name, int max_length) {
  Field f = field(std::move(name), FieldType::Char);
  f.max_length = max_length;
  return f;
}

}  // namespace cascade::own_fields
