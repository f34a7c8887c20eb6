#include "model/naming.h"

#include <cctype>

namespace cascade::naming {

std::optional<std::string> identifier_problem(std::string_view name) {
  if (name.empty()) return "the name is empty";
  auto first = static_cast<unsigned char>(name.front());
  if (!(std::isalpha(first) || first == '_')) return "a name must start with a letter or '_'";
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || u == '_') || u >= 0x80) {
      return "a name may only contain ASCII letters, digits and '_'";
    }
  }
  return std::nullopt;
}

std::optional<std::string> field_name_problem(std::string_view name) {
  if (auto p = identifier_problem(name)) return p;
  if (name.find("__") != std::string_view::npos) {
    return "Field names must not contain \"__\".";
  }
  if (name.back() == '_') return "Field names must not end with an underscore.";
  if (name == "pk") return "'pk' is a reserved word that cannot be used as a field name.";
  return std::nullopt;
}

std::string verbose_name(std::string_view object_name) {
  std::string out;
  for (std::size_t i = 0; i < object_name.size(); ++i) {
    auto c = static_cast<unsigned char>(object_name[i]);
    if (std::isupper(c) && i > 0) {
      bool prev_lower = std::islower(static_cast<unsigned char>(object_name[i - 1])) != 0;
      bool next_lower = i + 1 < object_name.size() &&
                        std::islower(static_cast<unsigned char>(object_name[i + 1])) != 0;
      if (prev_lower || next_lower) out += ' ';
    }
    out += static_cast<char>(std::tolower(c));
  }
  return out;
}

}  // namespace cascade::naming

#include <algorithm>

namespace cascade::naming {

namespace {
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                                 std::tolower(static_cast<unsigned char>(b[j - 1]))
                             ? 0
                             : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::vector<std::string> close_matches(std::string_view word,
                                       const std::vector<std::string>& candidates,
                                       std::size_t max_results) {
  std::size_t limit = std::max<std::size_t>(1, std::min<std::size_t>(3, word.size() / 3 + 1));
  std::vector<std::pair<std::size_t, std::string>> scored;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(word, c);
    if (d <= limit) scored.emplace_back(d, c);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> out;
  for (auto& [d, c] : scored) {
    if (out.size() == max_results) break;
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  }
  return out;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  auto matches = close_matches(word, candidates, 1);
  return matches.empty() ? std::string() : " (did you mean '" + matches.front() + "'?)";
}

}  // namespace cascade::naming
