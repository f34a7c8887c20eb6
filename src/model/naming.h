// Name rules shared by the registry and the models-file loader.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cascade::naming {

// Why `name` is not a valid identifier ([A-Za-z_][A-Za-z0-9_]*), or nullopt when it is.
std::optional<std::string> identifier_problem(std::string_view name);
// Django's field-name checks on top of identifier_problem: no "__", no trailing "_", not "pk".
std::optional<std::string> field_name_problem(std::string_view name);
// Django's default verbose name: "OrderItem" -> "order item".
std::string verbose_name(std::string_view object_name);

}  // namespace cascade::naming

#include <vector>

namespace cascade::naming {

// Candidates within a small edit distance of `word`, closest first (for "did you mean").
std::vector<std::string> close_matches(std::string_view word,
                                       const std::vector<std::string>& candidates,
                                       std::size_t max_results = 3);

// " (did you mean 'x'?)" or "" when nothing is close.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace cascade::naming
