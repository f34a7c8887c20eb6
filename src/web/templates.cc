#include "cascade/web/templates.h"

#include <kainjow/mustache.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cascade/error.h"
#include "cascade/web/http.h"
#include "cascade/web/session.h"

namespace cascade::web {

// The default templates (src/web/templates/*.html), compiled in by CMake (embed_templates).
const std::map<std::string, std::string>& embedded_templates();

namespace {

namespace mst = kainjow::mustache;

mst::data convert(const TemplateData& d) {
  return std::visit(
      [](const auto& v) -> mst::data {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, TemplateData::Object>) {
          mst::data out{mst::data::type::object};
          for (const auto& [k, item] : v) out.set(k, convert(item));
          return out;
        } else if constexpr (std::is_same_v<V, std::string>) {
          return mst::data(v);
        } else if constexpr (std::is_same_v<V, bool>) {
          return mst::data(v);
        } else {
          mst::data out{mst::data::type::list};
          for (const auto& item : v) out.push_back(convert(item));
          return out;
        }
      },
      d.value());
}

}  // namespace

TemplateData TemplateData::list(std::vector<TemplateData> items) {
  TemplateData out;
  out.value_ = std::move(items);
  return out;
}

TemplateData& TemplateData::set(const std::string& name, TemplateData value) {
  if (!std::holds_alternative<Object>(value_)) value_ = Object{};
  std::get<Object>(value_)[name] = std::move(value);
  return *this;
}

TemplateData& TemplateData::push_back(TemplateData value) {
  if (!std::holds_alternative<List>(value_)) value_ = List{};
  std::get<List>(value_).push_back(std::move(value));
  return *this;
}

Templates::Templates(const std::string& override_dir) : texts_(embedded_templates()) {
  if (override_dir.empty()) return;
  namespace fs = std::filesystem;
  if (!fs::is_directory(override_dir)) {
    throw ConfigError("[web] templates: not a directory: " + override_dir);
  }
  for (const auto& entry : fs::directory_iterator(override_dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    texts_[entry.path().filename().string()] = text.str();
  }
}

Templates::~Templates() = default;

std::string Templates::render(const std::string& name, const TemplateData& data) const {
  auto it = texts_.find(name);
  if (it == texts_.end()) throw Error("no template named '" + name + "'");
  mst::mustache tmpl(it->second);
  if (!tmpl.is_valid()) {
    throw Error("template '" + name + "': " + tmpl.error_message());
  }
  mst::data context = convert(data);
  // Every template can be a partial of another ({{> tree_node.html}}).
  for (const auto& [partial_name, text] : texts_) {
    const std::string* body = &text;
    context.set(partial_name, mst::partial([body] { return *body; }));
  }
  std::string out = tmpl.render(context);
  if (!tmpl.is_valid()) throw Error("template '" + name + "': " + tmpl.error_message());
  return out;
}

std::string Templates::page(const std::string& name, const std::string& title, TemplateData data,
                            Request& request) const {
  std::string token = request.csrf_token();
  data.set("csrf_token", token);
  TemplateData base;
  base.set("title", title);
  base.set("csrf_token", token);
  base.set("content", render(name, data));
  TemplateData messages = TemplateData::list();
  for (const auto& m : take_messages(request)) {
    TemplateData item;
    item.set("level", m.level)
        .set("text", m.text)
        .set("action_url", m.action_url)
        .set("action_label", m.action_label)
        .set("has_action", !m.action_url.empty());
    messages.push_back(std::move(item));
  }
  base.set("has_messages", !std::get<TemplateData::List>(messages.value()).empty());
  base.set("messages", std::move(messages));
  return render("base.html", base);
}

std::vector<std::string> Templates::default_names() {
  std::vector<std::string> out;
  for (const auto& [name, text] : embedded_templates()) out.push_back(name);
  return out;
}

const std::string& Templates::default_text(const std::string& name) {
  const auto& all = embedded_templates();
  auto it = all.find(name);
  if (it == all.end()) throw Error("no default template named '" + name + "'");
  return it->second;
}

}  // namespace cascade::web
