#include "cascade/model/loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <toml.hpp>

#include "cascade/error.h"
#include "cascade/model/on_delete.h"
#include "model/naming.h"

namespace cascade {
namespace {

using TomlValue = toml::value;
using TomlTable = toml::table;

int line_of(const TomlValue& v) { return static_cast<int>(v.location().line()); }

// A TOML table's entries in the order they were written (toml11 keeps them in a hash map).
std::vector<std::pair<std::string, const TomlValue*>> ordered(const TomlTable& table) {
  std::vector<std::pair<std::string, const TomlValue*>> out;
  for (const auto& [k, v] : table) out.emplace_back(k, &v);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    auto la = a.second->location();
    auto lb = b.second->location();
    if (la.line() != lb.line()) return la.line() < lb.line();
    if (la.column() != lb.column()) return la.column() < lb.column();
    return a.first < b.first;
  });
  return out;
}

class Loader {
 public:
  explicit Loader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const TomlValue& at, const std::string& message) const {
    throw ConfigError(message, file_, line_of(at));
  }

  void check_keys(const TomlValue& table, const std::string& what,
                  const std::vector<std::string>& allowed) const {
    for (const auto& [key, value] : ordered(table.as_table())) {
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        fail(*value, what + ": unknown key '" + key + "'" + naming::did_you_mean(key, allowed) +
                         "; allowed keys: " + list);
      }
    }
  }

  // The [web] table: read here so that a typo is reported with its line, whichever command
  // reads the file; the web layer decides what the values mean.
  void web_settings(const TomlValue& web, WebSettings& out) const {
    table(web, "[web]");
    check_keys(
        web, "[web]",
        {"secret_key", "allowed_hosts", "debug", "https", "templates", "workers", "connections"});
    out.present = true;
    const auto& t = web.as_table();
    if (auto it = t.find("secret_key"); it != t.end()) {
      out.secret_key = string(it->second, "[web] secret_key");
    }
    if (auto it = t.find("allowed_hosts"); it != t.end()) {
      out.allowed_hosts = strings(it->second, "[web] allowed_hosts");
    }
    if (auto it = t.find("debug"); it != t.end()) out.debug = boolean(it->second, "[web] debug");
    if (auto it = t.find("https"); it != t.end()) out.https = boolean(it->second, "[web] https");
    if (auto it = t.find("templates"); it != t.end()) {
      out.templates = string(it->second, "[web] templates");
    }
    for (auto [key, target] :
         {std::pair{"workers", &out.workers}, {"connections", &out.connections}}) {
      if (auto it = t.find(key); it != t.end()) {
        std::int64_t n = integer(it->second, std::string("[web] ") + key);
        if (n < 1 || n > 1024) fail(it->second, std::string("[web] ") + key + " must be 1 to 1024");
        *target = static_cast<int>(n);
      }
    }
  }

  void audit_settings(const TomlValue& audit, AuditFileSettings& out) const {
    table(audit, "[audit]");
    check_keys(audit, "[audit]", {"enabled", "record_rows", "shell"});
    const auto& t = audit.as_table();
    for (auto [key, target] : {std::pair{"enabled", &out.enabled},
                               {"record_rows", &out.record_rows},
                               {"shell", &out.shell}}) {
      if (auto it = t.find(key); it != t.end()) {
        *target = boolean(it->second, std::string("[audit] ") + key);
      }
    }
  }

  // [admin.<app>.<Model>] tables, checked once the models are known: every name must be a
  // field of the model ("pk" too; search_fields may follow relations with "__").
  void admin_settings(const TomlValue& admin, const Registry& registry,
                      std::vector<AdminModelSettings>& out) const {
    table(admin, "[admin]");
    for (const auto& [app, app_value] : ordered(admin.as_table())) {
      table(*app_value, "[admin." + app + "]");
      for (const auto& [name, v] : ordered(app_value->as_table())) {
        std::string where = "[admin." + app + "." + name + "]";
        table(*v, where);
        const ModelMeta* m = registry.find(app + "." + name);
        if (m == nullptr) {
          std::vector<std::string> names;
          for (const ModelMeta* model : registry.models()) names.push_back(model->label());
          fail(*v, where + ": no model " + app + "." + name + " in this file" +
                       naming::did_you_mean(app + "." + name, names));
        }
        check_keys(*v, where,
                   {"list_display", "search_fields", "list_filter", "ordering", "list_per_page"});
        AdminModelSettings a;
        a.label = m->label();
        const auto& t = v->as_table();
        auto names = [&](const char* key, bool descending_ok, bool paths_ok) {
          std::vector<std::string> list;
          auto it = t.find(key);
          if (it == t.end()) return list;
          list = strings(it->second, where + " " + key);
          for (const auto& item : list) {
            std::string field = item;
            if (descending_ok && !field.empty() && field[0] == '-') field.erase(0, 1);
            if (paths_ok) field = field.substr(0, field.find("__"));
            if (field == "pk") continue;
            auto index = m->field_index(field);
            if (!index) {
              std::vector<std::string> fields;
              for (const auto& f : m->fields) fields.push_back(f.name);
              fail(it->second, where + " " + key + ": '" + item + "' is not a field of " +
                                   m->label() + naming::did_you_mean(field, fields));
            }
            if (m->fields[*index].type == FieldType::ManyToMany) {
              fail(it->second, where + " " + key + ": '" + item +
                                   "' is a many-to-many field, which a change list cannot show");
            }
          }
          return list;
        };
        a.list_display = names("list_display", false, false);
        a.search_fields = names("search_fields", false, true);
        a.list_filter = names("list_filter", false, false);
        a.ordering = names("ordering", true, false);
        if (auto it = t.find("list_per_page"); it != t.end()) {
          std::int64_t n = integer(it->second, where + " list_per_page");
          if (n < 1 || n > 10000) fail(it->second, where + " list_per_page must be 1 to 10000");
          a.list_per_page = static_cast<int>(n);
        }
        out.push_back(std::move(a));
      }
    }
  }

  const TomlValue& table(const TomlValue& v, const std::string& what) const {
    if (!v.is_table()) fail(v, what + " must be a table");
    return v;
  }

  std::string string(const TomlValue& v, const std::string& what) const {
    if (!v.is_string()) fail(v, what + " must be a string");
    return v.as_string().str;
  }

  bool boolean(const TomlValue& v, const std::string& what) const {
    if (!v.is_boolean()) fail(v, what + " must be true or false");
    return v.as_boolean();
  }

  std::int64_t integer(const TomlValue& v, const std::string& what) const {
    if (!v.is_integer()) fail(v, what + " must be an integer");
    return v.as_integer();
  }

  std::vector<std::string> strings(const TomlValue& v, const std::string& what) const {
    if (!v.is_array()) fail(v, what + " must be an array of strings");
    std::vector<std::string> out;
    for (const auto& item : v.as_array()) out.push_back(string(item, what + " items"));
    return out;
  }

  Value value(const TomlValue& v, const std::string& what) const {
    switch (v.type()) {
      case toml::value_t::boolean: return Value(v.as_boolean());
      case toml::value_t::integer: return Value(static_cast<std::int64_t>(v.as_integer()));
      case toml::value_t::floating: return Value(v.as_floating());
      case toml::value_t::string: return Value(v.as_string().str);
      case toml::value_t::local_date: {
        const auto& d = v.as_local_date();
        return Value(Date{d.year, d.month + 1, d.day});
      }
      case toml::value_t::local_datetime: {
        const auto& dt = v.as_local_datetime();
        return Value(DateTime::from_parts(Date{dt.date.year, dt.date.month + 1, dt.date.day},
                                          dt.time.hour, dt.time.minute, dt.time.second,
                                          dt.time.millisecond * 1000 + dt.time.microsecond));
      }
      case toml::value_t::offset_datetime: {
        const auto& odt = v.as_offset_datetime();
        DateTime local = DateTime::from_parts(Date{odt.date.year, odt.date.month + 1, odt.date.day},
                                              odt.time.hour, odt.time.minute, odt.time.second,
                                              odt.time.millisecond * 1000 + odt.time.microsecond);
        local.micros -= (odt.offset.hour * 60LL + odt.offset.minute) * 60'000'000LL;
        return Value(local);
      }
      default: fail(v, what + " must be a string, number, boolean, date or datetime");
    }
  }

  Field field(const std::string& model_label, const std::string& name, const TomlValue& v) const {
    std::string what = "model " + model_label + ", field '" + name + "'";
    if (v.is_string()) {
      // Shorthand: title = "text"
      Field f;
      f.name = name;
      f.type = field_type(v, string(v, what), what);
      if (f.type == FieldType::Char || f.is_relation() || f.type == FieldType::Auto ||
          f.type == FieldType::GenericRelation) {
        fail(v, what + ": a " + std::string(field_type_name(f.type)) +
                    " field needs options; write it as a table: { type = \"" +
                    std::string(field_type_name(f.type)) + "\", ... }");
      }
      return f;
    }
    table(v, what);
    check_keys(v, what,
               {"type",
                "null",
                "blank",
                "unique",
                "db_index",
                "primary_key",
                "max_length",
                "default",
                "default_none",
                "db_column",
                "to",
                "on_delete",
                "set",
                "related_name",
                "db_table",
                "db_constraint",
                "to_field",
                "through",
                "through_fields",
                "symmetrical",
                "ct_field",
                "fk_field",
                "content_type_field",
                "object_id_field"});
    const auto& t = v.as_table();
    if (t.count("type") == 0) fail(v, what + ": missing key 'type'");
    Field f;
    f.name = name;
    f.type = field_type(t.at("type"), string(t.at("type"), what + ": 'type'"), what);
    auto opt = [&](const char* key) -> const TomlValue* {
      auto it = t.find(key);
      return it == t.end() ? nullptr : &it->second;
    };
    auto key_what = [&](const char* key) { return what + ": '" + std::string(key) + "'"; };
    if (f.is_generic()) return generic_field(std::move(f), v, what);
    for (const char* key : {"ct_field", "fk_field", "content_type_field", "object_id_field"}) {
      if (auto* x = opt(key)) {
        fail(*x, key_what(key) + " is only for generic_foreign_key and generic_relation fields");
      }
    }
    if (auto* x = opt("null")) f.null = boolean(*x, key_what("null"));
    if (auto* x = opt("blank")) f.blank = boolean(*x, key_what("blank"));
    if (auto* x = opt("unique")) f.unique = boolean(*x, key_what("unique"));
    if (auto* x = opt("db_index")) f.db_index = boolean(*x, key_what("db_index"));
    if (auto* x = opt("primary_key")) f.primary_key = boolean(*x, key_what("primary_key"));
    if (auto* x = opt("db_column")) f.column = string(*x, key_what("db_column"));
    if (auto* x = opt("max_length")) {
      if (f.type != FieldType::Char) fail(*x, key_what("max_length") + " is only for char fields");
      auto n = integer(*x, key_what("max_length"));
      if (n <= 0 || n > 1'000'000'000) fail(*x, key_what("max_length") + " must be positive");
      f.max_length = static_cast<int>(n);
    }
    if (f.type == FieldType::Char && f.max_length == 0) {
      fail(v, what + ": CharFields must define a 'max_length' attribute.");
    }
    if (auto* x = opt("default")) {
      Value d = value(*x, key_what("default"));
      if (!f.is_relation()) {
        try {
          d = f.to_python(d);
        } catch (const Error& e) {
          fail(*x, key_what("default") + ": " + e.what());
        }
      }
      f.default_value = d;
    }
    // Django's default=None: TOML has no null, so it is a key of its own.
    if (auto* x = opt("default_none")) {
      if (opt("default") != nullptr) {
        fail(*x, key_what("default_none") + " and 'default' cannot both be given");
      }
      if (!boolean(*x, key_what("default_none"))) {
        fail(*x, key_what("default_none") + " can only be true (leave it out for no default)");
      }
      f.default_value = Value();
    }
    bool relation = f.is_relation();
    for (const char* key : {"to", "on_delete", "related_name", "to_field"}) {
      if (auto* x = opt(key); x != nullptr && !relation) {
        fail(*x, key_what(key) +
                     " is only for relations (foreign_key, one_to_one, "
                     "many_to_many)");
      }
    }
    for (const char* key :
         {"db_column", "null", "primary_key", "default", "default_none", "unique", "db_index"}) {
      if (auto* x = opt(key); x != nullptr && f.type == FieldType::ManyToMany) {
        fail(*x, key_what(key) + " does not apply to many_to_many fields");
      }
    }
    for (const char* key : {"db_table", "through", "through_fields", "symmetrical"}) {
      if (auto* x = opt(key); x != nullptr && f.type != FieldType::ManyToMany) {
        fail(*x, key_what(key) + " is only for many_to_many fields");
      }
    }
    if (auto* x = opt("through")) f.through_model = string(*x, key_what("through"));
    if (auto* x = opt("through_fields")) {
      if (opt("through") == nullptr) fail(*x, key_what("through_fields") + " goes with 'through'");
      f.through_fields = strings(*x, key_what("through_fields"));
      if (f.through_fields.size() != 2) {
        fail(*x, key_what("through_fields") +
                     " names two fields of the through model: its key to this model, then its "
                     "key to the target");
      }
    }
    if (auto* x = opt("symmetrical")) f.symmetrical = boolean(*x, key_what("symmetrical"));
    if (relation) {
      auto* to = opt("to");
      if (to == nullptr) fail(v, what + ": missing key 'to' (the model it points at)");
      f.to = string(*to, key_what("to"));
      if (auto* x = opt("related_name")) f.related_name = string(*x, key_what("related_name"));
      if (auto* x = opt("db_constraint")) {
        if (f.type == FieldType::ManyToMany) {
          fail(*x, key_what("db_constraint") + " is only for foreign_key and one_to_one");
        }
        f.db_constraint = boolean(*x, key_what("db_constraint"));
      }
      if (auto* x = opt("to_field")) {
        if (f.type == FieldType::ManyToMany) {
          fail(*x, key_what("to_field") + " is only for foreign_key and one_to_one");
        }
        f.to_field = string(*x, key_what("to_field"));
      }
      if (auto* x = opt("db_table")) f.db_table = string(*x, key_what("db_table"));
      auto* od = opt("on_delete");
      if (f.type == FieldType::ManyToMany) {
        if (od != nullptr) fail(*od, key_what("on_delete") + " does not apply to many_to_many");
      } else {
        if (od == nullptr) {
          fail(v, what +
                      ": missing key 'on_delete' (CASCADE, PROTECT, RESTRICT, SET_NULL, "
                      "SET_DEFAULT, SET, DO_NOTHING, DB_CASCADE, DB_SET_NULL, "
                      "DB_SET_DEFAULT)");
        }
        std::string rule = string(*od, key_what("on_delete"));
        auto parsed = parse_on_delete(rule);
        if (!parsed) {
          std::vector<std::string> names;
          for (const auto& t : on_delete_rules()) names.emplace_back(t.name);
          fail(*od, key_what("on_delete") + ": unknown rule '" + rule + "'" +
                        naming::did_you_mean(rule, names));
        }
        f.on_delete = *parsed;
      }
      if (auto* x = opt("set")) {
        if (f.on_delete != OnDelete::Set)
          fail(*x, key_what("set") + " goes with on_delete = \"SET\"");
        f.on_delete_value = value(*x, key_what("set"));
      }
      if (f.type == FieldType::OneToOne) f.unique = true;
    } else if (auto* x = opt("set")) {
      fail(*x, key_what("set") + " is only for relations with on_delete = \"SET\"");
    }
    return f;
  }

  // A generic_foreign_key (its two fields: ct_field, fk_field) or a generic_relation (to, and
  // the target's two fields: content_type_field, object_id_field), as Django's.
  Field generic_field(Field f, const TomlValue& v, const std::string& what) const {
    bool gfk = f.type == FieldType::GenericForeignKey;
    std::vector<std::string> allowed{"type"};
    if (gfk) {
      allowed.insert(allowed.end(), {"ct_field", "fk_field"});
    } else {
      allowed.insert(allowed.end(), {"to", "content_type_field", "object_id_field"});
    }
    for (const auto& [key, value] : v.as_table()) {
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        fail(value, what + ": '" + key + "' does not apply to a " +
                        std::string(field_type_name(f.type)) + " field (its keys: " + list + ")");
      }
    }
    const auto& t = v.as_table();
    auto name_of = [&](const char* key, std::string& into) {
      if (auto it = t.find(key); it != t.end()) {
        into = string(it->second, what + ": '" + key + "'");
        if (auto problem = naming::field_name_problem(into)) {
          fail(it->second, what + ": '" + key + "': " + *problem);
        }
      }
    };
    name_of(gfk ? "ct_field" : "content_type_field", f.ct_field);
    name_of(gfk ? "fk_field" : "object_id_field", f.fk_field);
    if (!gfk) {
      auto it = t.find("to");
      if (it == t.end()) fail(v, what + ": missing key 'to' (the model holding the generic key)");
      f.to = string(it->second, what + ": 'to'");
    }
    return f;
  }

  FieldType field_type(const TomlValue& at, const std::string& name,
                       const std::string& what) const {
    if (auto t = parse_field_type(name)) return *t;
    std::vector<std::string> names;
    for (auto t :
         {FieldType::Auto, FieldType::Char, FieldType::Text, FieldType::Integer,
          FieldType::BigInteger, FieldType::Float, FieldType::Boolean, FieldType::Date,
          FieldType::DateTime, FieldType::ForeignKey, FieldType::OneToOne, FieldType::ManyToMany,
          FieldType::GenericForeignKey, FieldType::GenericRelation}) {
      names.emplace_back(field_type_name(t));
    }
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    fail(at, what + ": unknown field type '" + name + "'" + naming::did_you_mean(name, names) +
                 "; known types: " + list);
  }

  ModelMeta model(const std::string& app, const std::string& name, const TomlValue& v) {
    std::string label = app + "." + name;
    std::string what = "model " + label;
    table(v, what);
    check_keys(v, what,
               {"fields", "display", "db_table", "verbose_name", "verbose_name_plural", "ordering",
                "unique_together", "delete_policy", "abstract", "bases", "proxy"});
    const auto& t = v.as_table();
    ModelMeta m(app, name);
    auto key_what = [&](const char* key) { return what + ": '" + std::string(key) + "'"; };
    if (auto it = t.find("display"); it != t.end())
      m.display = string(it->second, key_what("display"));
    if (auto it = t.find("db_table"); it != t.end())
      m.db_table = string(it->second, key_what("db_table"));
    if (auto it = t.find("verbose_name"); it != t.end()) {
      m.verbose_name = string(it->second, key_what("verbose_name"));
    }
    if (auto it = t.find("verbose_name_plural"); it != t.end()) {
      m.verbose_name_plural = string(it->second, key_what("verbose_name_plural"));
    }
    if (auto it = t.find("ordering"); it != t.end())
      m.ordering = strings(it->second, key_what("ordering"));
    if (auto it = t.find("unique_together"); it != t.end()) {
      if (!it->second.is_array())
        fail(it->second,
             key_what("unique_together") + " must be an array of arrays of field names");
      for (const auto& group : it->second.as_array()) {
        m.unique_together.push_back(strings(group, key_what("unique_together")));
      }
    }
    if (auto it = t.find("delete_policy"); it != t.end()) {
      std::string p = string(it->second, key_what("delete_policy"));
      if (p == "hard")
        m.delete_policy = DeletePolicy::Hard;
      else if (p == "soft")
        m.delete_policy = DeletePolicy::Soft;
      else if (p == "soft_cascade")
        m.delete_policy = DeletePolicy::SoftCascade;
      else if (p == "never")
        m.delete_policy = DeletePolicy::Never;
      else
        fail(it->second, key_what("delete_policy") + ": unknown policy '" + p +
                             "'; expected hard, soft, soft_cascade or never");
    }
    if (auto it = t.find("abstract"); it != t.end()) {
      m.abstract = boolean(it->second, key_what("abstract"));
    }
    if (auto it = t.find("bases"); it != t.end()) {
      m.bases = strings(it->second, key_what("bases"));
    }
    if (auto it = t.find("proxy"); it != t.end()) {
      m.proxy = boolean(it->second, key_what("proxy"));
      if (m.proxy && m.bases.size() != 1) {
        fail(it->second, key_what("proxy") + ": a proxy names the model it proxies in 'bases' " +
                             "(bases = [\"Model\"])");
      }
      if (m.proxy) {
        for (const char* key : {"db_table", "delete_policy", "unique_together", "abstract"}) {
          if (auto x = t.find(key); x != t.end()) {
            fail(x->second, key_what(key) + " does not apply to a proxy (its model's is used)");
          }
        }
      }
    }
    auto fields = t.find("fields");
    if (fields == t.end() && !m.bases.empty()) return m;  // everything inherited
    if (fields == t.end()) fail(v, what + ": missing table 'fields'");
    table(fields->second, what + ": 'fields'");
    for (const auto& [fname, fv] : ordered(fields->second.as_table())) {
      if (auto problem = naming::field_name_problem(fname)) {
        fail(*fv, what + ", field '" + fname + "': " + *problem);
      }
      Field f = field(label, fname, *fv);
      // The Registry's check, here too so that the message carries the line.
      if (auto problem = on_delete_problem(f))
        fail(*fv, what + ", field '" + fname + "': " + *problem);
      if (f.is_relation() || f.type == FieldType::GenericRelation) {
        relations_.push_back({label, app, fname, f.to, &fv->as_table().at("to")});
      }
      if (f.is_generic()) {
        m.private_fields.push_back(std::move(f));
      } else if (f.type == FieldType::ManyToMany) {
        m.many_to_many.push_back(std::move(f));
      } else {
        m.fields.push_back(std::move(f));
      }
    }
    return m;
  }

  Project load(std::string_view text) {
    // TOML is UTF-8; checked here because the TOML parser can read past the end of a string
    // holding invalid bytes.
    if (std::size_t bad = first_invalid_utf8(text); bad < text.size()) {
      int line = 1 + static_cast<int>(std::count(
                         text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n'));
      throw ConfigError("invalid UTF-8 (byte " + python_repr(std::string(1, text[bad])) +
                            "); a models file must be UTF-8",
                        file_, line);
    }
    TomlValue root;
    try {
      std::istringstream in{std::string(text)};
      root = toml::parse(in, file_);
    } catch (const toml::exception& e) {
      throw ConfigError(std::string("TOML syntax error: ") + e.what(), file_,
                        static_cast<int>(e.location().line()));
    } catch (const std::exception& e) {
      throw ConfigError(std::string("cannot parse: ") + e.what(), file_);
    }
    check_keys(root, "settings", {"database", "models", "web", "audit", "admin"});
    Project project;
    project.settings_path = file_;
    const auto& top = root.as_table();
    if (auto db = top.find("database"); db != top.end()) {
      table(db->second, "[database]");
      check_keys(db->second, "[database]", {"url"});
      if (auto url = db->second.as_table().find("url"); url != db->second.as_table().end()) {
        project.database_url = string(url->second, "[database] url");
      }
    }
    if (auto web = top.find("web"); web != top.end()) web_settings(web->second, project.web);
    if (auto audit = top.find("audit"); audit != top.end()) {
      audit_settings(audit->second, project.audit);
    }
    project.registry = std::make_unique<Registry>();
    auto models = top.find("models");
    if (models == top.end()) {
      throw ConfigError("no [models.<app>.<Model>] tables: the file declares no models", file_);
    }
    table(models->second, "[models]");
    // Models keep the order in which they are written, even when the apps interleave.
    struct ModelEntry {
      std::string app;
      std::string name;
      const TomlValue* value;
    };
    std::vector<ModelEntry> entries;
    for (const auto& [app, app_value] : ordered(models->second.as_table())) {
      table(*app_value, "[models." + app + "]");
      if (auto problem = naming::identifier_problem(app)) {
        fail(*app_value, "app label '" + app + "': " + *problem);
      }
      for (const auto& [name, model_value] : ordered(app_value->as_table())) {
        if (!model_value->is_table()) {
          fail(*model_value, "[models." + app + "]: '" + name +
                                 "' must be a model table ([models." + app + "." + name +
                                 "]); is the app level missing?");
        }
        entries.push_back({app, name, model_value});
      }
    }
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      auto la = a.value->location();
      auto lb = b.value->location();
      if (la.line() != lb.line()) return la.line() < lb.line();
      return la.column() < lb.column();
    });
    for (const auto& e : entries) {
      project.registry->add(model(e.app, e.name, *e.value),
                            file_ + ":" + std::to_string(line_of(*e.value)));
    }
    // Relation targets, checked here so the message points at the 'to' line (the Registry
    // resolves them the same way: "self", the same app first, then a unique bare name).
    for (const auto& r : relations_) {
      std::string to = r.to == "self" ? r.label : r.to;
      const ModelMeta* target = nullptr;
      if (to.find('.') == std::string::npos) {
        target = project.registry->find(r.app + "." + to);
        if (target == nullptr) target = project.registry->find(to);
      } else {
        target = project.registry->find(to);
      }
      if (target == nullptr && to == kContentTypeLabel) continue;  // built in (finalize adds it)
      if (target == nullptr) {
        // Django's "either not installed, or is abstract" says nothing useful about a file:
        // name what the file declares instead.
        std::vector<std::string> names;
        for (const ModelMeta* m : project.registry->models()) {
          names.push_back(m->label());
          if (m->app_label == r.app) names.push_back(m->object_name);
        }
        fail(*r.at, "model " + r.label + ", field '" + r.field + "': 'to': no model '" + r.to +
                        "' in this file" + naming::did_you_mean(r.to, names) +
                        " (a model of the same app by name, another app's as app.Model)");
      }
    }
    project.registry->finalize();
    if (auto admin = top.find("admin"); admin != top.end()) {
      admin_settings(admin->second, *project.registry, project.admin);
    }
    return project;
  }

 private:
  struct Relation {
    std::string label;  // the model declaring it: "blog.Post"
    std::string app;
    std::string field;
    std::string to;
    const TomlValue* at;  // the 'to' value, for its line
  };
  std::string file_;
  std::vector<Relation> relations_;  // every relation field, gathered by model()
};

}  // namespace

Project parse_project(std::string_view text, const std::string& name) {
  return Loader(name).load(text);
}

Project load_project(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigError("cannot read the settings file (does it exist? use --settings PATH)", path);
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  Project project = parse_project(buffer.str(), path);
  auto dir = std::filesystem::absolute(path).parent_path();
  project.base_dir = dir.lexically_normal().string();
  return project;
}

}  // namespace cascade
