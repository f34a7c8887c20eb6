// Templates: Mustache (kainjow's implementation, from Debian), with the defaults compiled into
// the library and any of them overridable from a directory ([web] templates).
//
//   web::TemplateData page;
//   page.set("title", "Delete post").set("object", post.str());
//   std::string html = templates.page("confirm_delete.html", page, request);
//
// {{name}} is HTML-escaped (& < > " '); only {{{name}}} is not, and the default templates use
// it only for HTML they rendered themselves. page() renders a template and puts it inside
// base.html, with the page's messages.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace cascade::web {

struct Request;

// The data a template sees: a string, a bool, a list, or an object of named values.
class TemplateData {
 public:
  TemplateData() : value_(Object{}) {}  // an empty object
  TemplateData(std::string text) : value_(std::move(text)) {}
  TemplateData(const char* text) : value_(std::string(text)) {}
  TemplateData(bool b) : value_(b) {}
  TemplateData(std::int64_t n) : value_(std::to_string(n)) {}
  TemplateData(int n) : value_(std::to_string(n)) {}
  static TemplateData list(std::vector<TemplateData> items = {});

  // Sets a member of an object (a list or a string becomes an object first).
  TemplateData& set(const std::string& name, TemplateData value);
  // Appends to a list (anything else becomes an empty list first).
  TemplateData& push_back(TemplateData value);

  using Object = std::map<std::string, TemplateData>;
  using List = std::vector<TemplateData>;
  const std::variant<Object, std::string, bool, List>& value() const noexcept { return value_; }

 private:
  std::variant<Object, std::string, bool, List> value_;
};

class Templates {
 public:
  // `override_dir`: a directory whose files replace the defaults of the same name ("" for
  // none). Files are read once, here; a missing directory is a ConfigError.
  explicit Templates(const std::string& override_dir = {});
  ~Templates();
  Templates(const Templates&) = delete;
  Templates& operator=(const Templates&) = delete;

  // Renders the template `name`; a missing template is a cascade::Error naming it. A partial
  // {{> name}} is another template of the set.
  std::string render(const std::string& name, const TemplateData& data) const;
  // Renders `name` and puts it in base.html as {{{content}}}, with `title`, the request's
  // messages (taken from its session) and the CSRF token for the page's forms.
  std::string page(const std::string& name, const std::string& title, TemplateData data,
                   Request& request) const;

  // The names of the default templates, and a default's text.
  static std::vector<std::string> default_names();
  static const std::string& default_text(const std::string& name);

 private:
  std::map<std::string, std::string> texts_;
};

}  // namespace cascade::web
