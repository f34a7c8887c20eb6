// Shared test helpers: Values print as Python's repr in failures; EXPECT_CONTAINS for messages.
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "cascade/value.h"

namespace cascade {
inline void PrintTo(const Value& v, std::ostream* os) { *os << v.repr(); }
}  // namespace cascade

#define EXPECT_CONTAINS(text, part)                          \
  EXPECT_NE(std::string(text).find(part), std::string::npos) \
      << "expected to find: " << (part) << "\n                 in: " << (text)
