// Fuzzes lookup paths ("author__name__istartswith", src/query/path.cc) and what is built on
// them: resolve_path directly, then filter() / exclude() / order_by() / values() with the path
// on the fixture's models (fixture.h), run against the in-memory database.
//
// Input: [<Model>:]<path>[=<value>]. The model is a fixture model's name (default Post). The
// value is None, True, False, an integer, a float, a date or datetime, a comma-separated list
// of those (for __in and __range), or else text.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fixture.h"
#include "sql/path.h"
#include "broken.h"

namespace {

using cascade::Arg;
using cascade::Value;

constexpr std::size_t kMaxInput = 512;

Value scalar(std::string_view s) {
  if (s == "None") return Value();
  if (s == "True") return Value(true);
  if (s == "False") return Value(false);
  std::int64_t i = 0;
  if (auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
      !s.empty() && ec == std::errc() && p == s.data() + s.size()) {
    return Value(i);
  }
  double d = 0;
  if (auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
      !s.empty() && ec == std::errc() && p == s.data() + s.size()) {
    return Value(d);
  }
  if (auto date = cascade::Date::parse(s)) return Value(*date);
  if (auto dt = cascade::DateTime::parse(s)) return Value(*dt);
  return Value(s);
}

Arg argument(std::string_view s) {
  if (s.find(',') == std::string_view::npos) return Arg(scalar(s));
  std::vector<Value> list;
  while (true) {
    auto comma = s.find(',');
    list.push_back(scalar(s.substr(0, comma)));
    if (comma == std::string_view::npos) return Arg(std::move(list));
    s.remove_prefix(comma + 1);
  }
}

template <typename F>
void expect_cascade_errors_only(F&& f) {
  try {
    f();
  } catch (const cascade::Error&) {
  }
}

}  // namespace

// The fixture is built before fuzzing starts, so that its allocations do not look like a leak
// of the first input.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cascade::fuzz::fixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kMaxInput) return -1;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto& fx = cascade::fuzz::fixture();
  const cascade::Registry& registry = *fx.project.registry;

  const cascade::ModelMeta* model = registry.find("blog.Post");
  if (auto colon = input.find(':'); colon != std::string_view::npos) {
    if (const auto* m = registry.find(input.substr(0, colon))) {
      model = m;
      input.remove_prefix(colon + 1);
    }
  }
  std::string path(input.substr(0, input.find('=')));
  std::string_view value = input.find('=') == std::string_view::npos
                               ? std::string_view()
                               : input.substr(input.find('=') + 1);

  for (bool allow_lookup : {true, false}) {
    expect_cascade_errors_only([&] {
      auto r = cascade::query::resolve_path(*model, path, allow_lookup);
      if (r.field == nullptr) broken("resolve_path(" + path + ") resolved to no field");
      if (!cascade::query::is_lookup_name(r.lookup))
        broken("resolve_path(" + path + ") gave lookup " + r.lookup);
      if (!allow_lookup && r.lookup != "exact")
        broken("resolve_path(" + path + ") took a lookup where none is allowed");
      (void)cascade::query::django_field_class(*r.field);
      (void)r.multi();
    });
  }

  cascade::Database& db = *fx.db;
  cascade::QuerySet all = db.objects(*model).all();
  Arg arg = argument(value);
  expect_cascade_errors_only([&] { (void)cascade::Q(path, arg).repr(); });
  expect_cascade_errors_only([&] { (void)all.filter(cascade::Q(path, arg)).count(); });
  expect_cascade_errors_only([&] { (void)all.exclude(cascade::Q(path, arg)).exists(); });
  expect_cascade_errors_only([&] { (void)(~cascade::Q(path, arg) | cascade::Q("pk", 1)).repr(); });
  expect_cascade_errors_only(
      [&] { (void)all.filter(~cascade::Q(path, arg) | cascade::Q("pk", 1)).rows(); });
  expect_cascade_errors_only([&] { (void)all.order_by({path}).rows(); });
  expect_cascade_errors_only([&] { (void)all.values({path}).distinct().rows(); });
  expect_cascade_errors_only([&] { (void)all.values_list({path}, true).rows(); });
  expect_cascade_errors_only([&] { (void)all.filter(cascade::Q(path, arg)).preview_remove(10); });
  return 0;
}
