// get_object_or_404, the bound delete view, and the model pages of `cascade runserver`.
#include "cascade/web/views.h"

#include <algorithm>
#include <charconv>
#include <sstream>

#include "cascade/deletion/collector.h"
#include "cascade/deletion/soft_delete.h"
#include "cascade/error.h"
#include "cascade/query/manager.h"
#include "cascade/query/queryset.h"
#include "cascade/web/session.h"
#include "web/confirm.h"
#include "web/text.h"

namespace cascade::web {
namespace {

using text::capitalized;
using text::lower;
using text::split;

// “text”, as Django's messages quote an object.
std::string quoted(const std::string& text) { return "\u201c" + text + "\u201d"; }

// ---- what the confirmation page showed, carried by its form ------------------------------------
//
// "v1|<roots>|<digest>|<total>|<label>:<n>,...|<label>.<field>:<n>,...": the root rows (count and
// digest of their keys), the counts per model and the field updates: what execute(shown)
// compares. Not secret and not signed: a forged value can only make the delete refuse, since the
// delete compares it with the rows it finds.

}  // namespace

std::string encode_binding(const Preview& p) {
  std::string out = "v1|" + std::to_string(p.roots) + "|" + std::to_string(p.roots_digest) + "|" +
                    std::to_string(p.counts.total) + "|";
  for (std::size_t i = 0; i < p.counts.per_model.size(); ++i) {
    out += (i ? "," : "") + p.counts.per_model[i].first + ":" +
           std::to_string(p.counts.per_model[i].second);
  }
  out += "|";
  for (std::size_t i = 0; i < p.updates.size(); ++i) {
    out += (i ? "," : "") + p.updates[i].label + "." + p.updates[i].field + ":" +
           std::to_string(p.updates[i].count);
  }
  return out;
}

namespace {

template <typename N>
bool number(const std::string& s, N& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

bool name_chars(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '_' || c == '.';
  });
}

std::string model_path(const ModelMeta& m, const std::string& prefix) {
  return prefix + "/" + m.app_label + "/" + lower(m.object_name) + "/";
}

std::string object_path(const ModelMeta& m, const Value& pk, const std::string& prefix) {
  return model_path(m, prefix) + percent_encode(pk.to_string()) + "/";
}

TemplateData tree_data(const std::vector<Preview::Node>& nodes,
                       const std::function<std::string(const Preview::Node&)>& link) {
  TemplateData list = TemplateData::list();
  for (const auto& n : nodes) {
    TemplateData item;
    // Every item says whether it has a link: Mustache would otherwise find the parent's.
    std::string url = link ? link(n) : std::string();
    item.set("text", n.text).set("marked", n.marked).set("url", url).set("has_url", !url.empty());
    item.set("has_children", !n.children.empty());
    item.set("children", tree_data(n.children, link));
    list.push_back(std::move(item));
  }
  return list;
}

struct DeletePage {
  const Templates& templates;
  const DeleteOptions& options;
  const Registry& registry;
  std::function<std::string(const Preview::Node&)> link;
};

}  // namespace

TemplateData preview_data(const Preview& p, const Registry& registry,
                          const std::function<std::string(const Preview::Node&)>& link,
                          const std::function<std::string(const std::string&)>& count_link) {
  TemplateData d;
  d.set("binding", encode_binding(p))
      .set("blocked", p.blocked())
      .set("blocked_message", p.blocked_message);
  TemplateData blockers = TemplateData::list();
  for (const auto& b : p.blocking) {
    TemplateData item;
    std::string url = link ? link(b) : std::string();
    item.set("text", b.text).set("url", url).set("has_url", !url.empty());
    blockers.push_back(std::move(item));
  }
  d.set("blockers", std::move(blockers));
  TemplateData summary = TemplateData::list();
  for (const auto& [label, n] : p.counts.per_model) {
    const ModelMeta* counted = registry.find(label);
    std::string name = counted != nullptr ? capitalized(n == 1 ? counted->verbose_name
                                                               : counted->verbose_name_plural)
                                          : label;
    std::string url = count_link ? count_link(label) : std::string();
    summary.push_back(TemplateData()
                          .set("name", name)
                          .set("count", n)
                          .set("url", url)
                          .set("has_url", !url.empty()));
  }
  d.set("summary", std::move(summary)).set("has_count_links", static_cast<bool>(count_link));
  d.set("total", p.counts.total);
  TemplateData updates = TemplateData::list();
  for (const auto& u : p.updates) {
    const ModelMeta* changed = registry.find(u.label);
    updates.push_back(
        TemplateData()
            .set("name", changed != nullptr
                             ? capitalized(u.count == 1 ? changed->verbose_name
                                                        : changed->verbose_name_plural)
                             : u.label)
            .set("label", u.label)
            .set("field", u.field)
            .set("value", u.value)
            .set("count", u.count));
  }
  d.set("has_updates", !p.updates.empty()).set("updates", std::move(updates));
  TemplateData effects = TemplateData::list();
  for (const auto& e : p.database_effects) {
    effects.push_back(TemplateData()
                          .set("label", e.label)
                          .set("field", e.field)
                          .set("action", e.action)
                          .set("count", e.count));
  }
  d.set("has_effects", !p.database_effects.empty()).set("effects", std::move(effects));
  d.set("tree", tree_data(p.tree, link));
  d.set("omitted", p.omitted).set("has_omitted", p.omitted > 0);
  return d;
}

std::optional<Preview> decode_binding(const std::string& text) {
  auto parts = split(text, '|');
  if (parts.size() != 6 || parts[0] != "v1") return std::nullopt;
  Preview p;
  if (!number(parts[1], p.roots) || !number(parts[2], p.roots_digest) ||
      !number(parts[3], p.counts.total)) {
    return std::nullopt;
  }
  if (!parts[4].empty()) {
    for (const auto& item : split(parts[4], ',')) {
      auto colon = item.rfind(':');
      std::int64_t n = 0;
      if (colon == std::string::npos || !name_chars(item.substr(0, colon)) ||
          !number(item.substr(colon + 1), n)) {
        return std::nullopt;
      }
      p.counts.per_model.emplace_back(item.substr(0, colon), n);
    }
  }
  if (!parts[5].empty()) {
    for (const auto& item : split(parts[5], ',')) {
      auto colon = item.rfind(':');
      if (colon == std::string::npos) return std::nullopt;
      std::string name = item.substr(0, colon);
      auto dot = name.rfind('.');
      Preview::FieldUpdate u;
      if (dot == std::string::npos || !name_chars(name) ||
          !number(item.substr(colon + 1), u.count)) {
        return std::nullopt;
      }
      u.label = name.substr(0, dot);
      u.field = name.substr(dot + 1);
      p.updates.push_back(std::move(u));
    }
  }
  return p;
}

std::variant<DeleteResult, std::string> execute_bound(Request& req,
                                                      const std::function<DeletionPlan()>& plan) {
  auto binding = req.form_value("binding");
  std::optional<Preview> shown = binding ? decode_binding(*binding) : std::nullopt;
  if (!shown) return "Nothing was deleted: the form did not carry the confirmation it came from.";
  return run_bound(*shown, plan);
}

std::variant<DeleteResult, std::string> run_bound(const Preview& shown,
                                                  const std::function<DeletionPlan()>& plan,
                                                  const DeletionPlan::Progress& progress) {
  try {
    return plan().execute(shown, progress);
  } catch (const PreviewChanged& e) {
    return std::string(e.what());
  } catch (const ProtectedError& e) {
    return std::string("Nothing was deleted: ") + e.what();
  } catch (const RestrictedError& e) {
    return std::string("Nothing was deleted: ") + e.what();
  } catch (const IntegrityError& e) {
    return std::string("Nothing was deleted: the database refused the delete: ") + e.what();
  }
}

namespace {

Response confirmation(Request& req, const DeletePage& page, const Instance& object,
                      const std::string& notice, int status) {
  const ModelMeta& m = object.meta();
  Instance target = object;
  Preview p = Collector(req.db()).collect({&target}).preview(page.options.max_items);
  TemplateData fields;
  for (const auto& f : m.fields) {
    Value v = object.get(f.name);
    fields.set(f.name, v.is_null() ? std::string() : v.to_string());
  }
  TemplateData d = preview_data(p, page.registry, page.link);
  d.set("object", std::move(fields));
  d.set("verbose_name", m.verbose_name)
      .set("object_text", object.str())
      .set("soft", m.soft_deletable())
      .set("cancel_url",
           page.options.cancel_url.empty() ? page.options.success_url : page.options.cancel_url)
      .set("notice", notice)
      .set("has_notice", !notice.empty());
  std::string title = p.blocked() ? "Cannot delete " + m.verbose_name : "Are you sure?";
  Response r = Response::html(
      page.templates.page(page.options.template_name, title, std::move(d), req), status);
  r.set_header("Cache-Control", "no-store");
  return r;
}

}  // namespace

namespace {

// This page's URL for another page number: the other query parameters (a search, filters, the
// order) are kept as they were sent.
std::string page_url(const Request& request, std::int64_t page) {
  std::string query;
  std::size_t start = 0;
  const std::string& q = request.query_string;
  while (start <= q.size() && !q.empty()) {
    std::size_t end = q.find('&', start);
    if (end == std::string::npos) end = q.size();
    std::string part = q.substr(start, end - start);
    if (!part.empty() && part != "page" && part.rfind("page=", 0) != 0) query += part + "&";
    start = end + 1;
  }
  return request.path + "?" + query + "page=" + std::to_string(page);
}

}  // namespace

Response list_page(Request& request, const Templates& templates, const QuerySet& objects,
                   const ListOptions& options,
                   const std::function<TemplateData(const Instance&)>& item) {
  std::int64_t page = 1;
  if (auto p = request.query("page")) {
    if (!number(*p, page) || page < 1) throw HttpError{404, "Invalid page (" + *p + ")."};
  }
  const std::int64_t per_page = std::max<std::int64_t>(1, options.per_page);
  std::int64_t count = objects.count();
  std::int64_t pages = std::max<std::int64_t>(1, (count + per_page - 1) / per_page);
  if (page > pages) throw HttpError{404, "Invalid page (" + std::to_string(page) + ")."};
  TemplateData rows = TemplateData::list();
  for (const Instance& inst : objects.slice((page - 1) * per_page, page * per_page)) {
    rows.push_back(item ? item(inst)
                        : TemplateData()
                              .set("text", inst.str())
                              .set("pk", inst.pk().to_string())
                              .set("has_url", false)
                              .set("has_delete", false));
  }
  TemplateData d;
  d.set("has_home", false);
  for (const auto& [k, v] : std::get<TemplateData::Object>(options.extra.value())) d.set(k, v);
  d.set("title", options.title)
      .set("verbose_name_plural", options.title)
      .set("count", count)
      .set("rows", std::move(rows))
      .set("page", page)
      .set("pages", pages)
      .set("has_previous", page > 1)
      .set("has_next", page < pages)
      .set("previous_url", page_url(request, page - 1))
      .set("next_url", page_url(request, page + 1));
  return Response::html(templates.page(options.template_name, options.title, d, request));
}

TemplateData detail_data(const Instance& object,
                         const std::function<std::string(const ModelMeta&, const Value&)>& link) {
  const ModelMeta& m = object.meta();
  TemplateData fields = TemplateData::list();
  TemplateData by_name;
  for (const auto& f : m.fields) {
    Value v = object.get(f.name);
    // Links go by primary key: a key holding a to_field's value is shown without one.
    std::string url = link && f.is_foreign_key() && !v.is_null() && f.target != nullptr &&
                              f.target_field->primary_key
                          ? link(*f.target, v)
                          : std::string();
    std::string text = v.is_null() ? "None" : v.to_string();
    fields.push_back(TemplateData()
                         .set("name", f.name)
                         .set("value", text)
                         .set("url", url)
                         .set("has_url", !url.empty()));
    by_name.set(f.name, v.is_null() ? std::string() : v.to_string());
  }
  TemplateData d;
  d.set("verbose_name", capitalized(m.verbose_name))
      .set("text", object.str())
      .set("fields", std::move(fields))
      .set("object", std::move(by_name))
      .set("deleted", false)
      .set("has_list", false)
      .set("has_delete", false);
  return d;
}

Instance get_object_or_404(Request& request, const ModelMeta& model, const std::string& pk,
                           QuerySet::Visibility visibility) {
  std::string missing = "No " + model.object_name + " matches the given query.";
  Value key;
  try {
    key = model.pk().to_python(Value(pk));
  } catch (const Error&) {
    throw HttpError{404, missing};
  }
  auto found = Manager(request.db(), model, visibility).find(key);
  if (!found) throw HttpError{404, missing};
  return std::move(*found);
}

Response delete_object(Request& req, const Templates& templates, Instance object,
                       const DeleteOptions& options) {
  if (req.method != "GET" && req.method != "HEAD" && req.method != "POST") {
    throw HttpError{405, "Method " + req.method + " is not allowed here."};
  }
  if (options.permission && !options.permission(req, object)) {
    throw HttpError{403, "You do not have permission to delete this object."};
  }
  const Registry& registry = req.db().registry();
  DeletePage page{templates, options, registry, {}};
  if (options.object_url) {
    page.link = [&](const Preview::Node& n) {
      const ModelMeta* m = registry.find(n.label);
      return m == nullptr || n.pk.is_null() ? std::string() : options.object_url(*m, n.pk);
    };
  }
  if (req.method != "POST") return confirmation(req, page, object, {}, 200);

  const ModelMeta& m = object.meta();
  std::string text = object.str();
  Value pk = object.pk();
  // The plan keeps a pointer to the instance it deletes: it must outlive the plan's execute().
  Instance target = object;
  auto outcome = execute_bound(req, [&] { return Collector(req.db()).collect({&target}); });
  std::string notice;
  if (const auto* result = std::get_if<DeleteResult>(&outcome)) {
    std::int64_t related = std::max<std::int64_t>(0, result->total - 1);
    Message msg;
    msg.text = "The " + m.verbose_name + " " + quoted(text) +
               (m.soft_deletable() ? " was moved to the trash" : " was deleted") +
               (related > 0 ? ", with " + std::to_string(related) + " related object" +
                                  (related == 1 ? "" : "s")
                            : std::string()) +
               ".";
    if (m.soft_deletable() && options.restore_url) {
      msg.action_url = options.restore_url(m, pk);
      msg.action_label = "Restore";
    }
    add_message(req, std::move(msg));
    return Response::redirect(options.success_url);
  }
  notice = std::get<std::string>(outcome);
  // The object may be gone by now (deleted by another request): then 404.
  auto still = Manager(req.db(), m).find(object.pk());
  if (!still) throw HttpError{404, "No " + m.object_name + " matches the given query."};
  return confirmation(req, page, *still, notice, 409);
}

// ---- the model pages ---------------------------------------------------------------------------

void add_model_pages(Router& router, const Registry& registry, const Templates& templates,
                     const std::string& prefix) {
  auto find_model = [&registry](Request& req) -> const ModelMeta& {
    for (const ModelMeta* m : registry.models()) {
      if (m->auto_created) continue;
      if (m->app_label == req.param("app") && lower(m->object_name) == req.param("model")) {
        return *m;
      }
    }
    throw HttpError{404, "No model " + req.param("app") + "." + req.param("model") + "."};
  };
  // Auto-created many-to-many tables have no pages.
  auto object_url = [prefix](const ModelMeta& m, const Value& pk) {
    return m.auto_created ? std::string() : object_path(m, pk, prefix);
  };

  router.add({"GET"}, prefix + "/", [&registry, &templates, prefix](Request& req) {
    TemplateData apps = TemplateData::list();
    std::string current;
    TemplateData app;
    TemplateData models = TemplateData::list();
    auto flush = [&] {
      if (current.empty()) return;
      app.set("name", current).set("models", std::move(models));
      apps.push_back(std::move(app));
      app = TemplateData();
      models = TemplateData::list();
    };
    std::vector<const ModelMeta*> all = registry.models();
    std::stable_sort(all.begin(), all.end(), [](const ModelMeta* a, const ModelMeta* b) {
      return a->app_label < b->app_label;
    });
    for (const ModelMeta* m : all) {
      if (m->auto_created) continue;
      if (m->app_label != current) {
        flush();
        current = m->app_label;
      }
      models.push_back(TemplateData()
                           .set("name", capitalized(m->verbose_name_plural))
                           .set("url", model_path(*m, prefix)));
    }
    flush();
    return Response::html(
        templates.page("index.html", "Site", TemplateData().set("apps", apps), req));
  });

  router.add({"GET"}, prefix + "/<app>/<model>/", [find_model, &templates, prefix](Request& req) {
    const ModelMeta& m = find_model(req);
    QuerySet qs = QuerySet(req.db(), m)
                      .order_by(m.ordering.empty() ? std::vector<std::string>{"pk"} : m.ordering);
    ListOptions o;
    o.title = capitalized(m.verbose_name_plural);
    o.extra.set("home_url", prefix + "/").set("has_home", true);
    return list_page(req, templates, qs, o, [&](const Instance& inst) {
      std::string url = object_path(m, inst.pk(), prefix);
      return TemplateData()
          .set("text", inst.str())
          .set("url", url)
          .set("has_url", true)
          .set("delete_url", url + "delete/")
          .set("has_delete", true);
    });
  });

  router.add(
      {"GET"}, prefix + "/<app>/<model>/<pk>/", [find_model, &templates, prefix](Request& req) {
        const ModelMeta& m = find_model(req);
        // A soft-deleted object has a page too, with Restore.
        Instance inst = get_object_or_404(req, m, req.param("pk"), QuerySet::Visibility::All);
        bool deleted = m.soft_deletable() && !inst.get(kDeletedAtField).is_null();
        TemplateData d = detail_data(inst, [prefix](const ModelMeta& target, const Value& pk) {
          return target.auto_created ? std::string() : object_path(target, pk, prefix);
        });
        d.set("deleted", deleted)
            .set("has_list", true)
            .set("has_delete", true)
            .set("list_url", model_path(m, prefix))
            .set("delete_url", object_path(m, inst.pk(), prefix) + "delete/")
            .set("restore_url", object_path(m, inst.pk(), prefix) + "restore/");
        return Response::html(templates.page("detail.html", inst.str(), d, req));
      });

  router.add({"GET", "POST"}, prefix + "/<app>/<model>/<pk>/delete/",
             [find_model, &templates, prefix, object_url](Request& req) {
               const ModelMeta& m = find_model(req);
               Instance obj = get_object_or_404(req, m, req.param("pk"));
               DeleteOptions o;
               o.success_url = model_path(m, prefix);
               o.cancel_url = object_path(m, obj.pk(), prefix);
               o.object_url = object_url;
               o.restore_url = [prefix](const ModelMeta& model, const Value& pk) {
                 return object_path(model, pk, prefix) + "restore/";
               };
               return delete_object(req, templates, std::move(obj), o);
             });

  router.add({"POST"}, prefix + "/<app>/<model>/<pk>/restore/", [find_model, prefix](Request& req) {
    const ModelMeta& m = find_model(req);
    if (!m.soft_deletable())
      throw HttpError{404, m.object_name + " objects are never soft-deleted."};
    Instance found = get_object_or_404(req, m, req.param("pk"), QuerySet::Visibility::All);
    Value key = found.pk();
    Message msg;
    if (found.get(kDeletedAtField).is_null()) {
      msg.level = "info";
      msg.text = "The " + m.verbose_name + " " + quoted(found.str()) + " is not deleted.";
    } else {
      DeleteResult r =
          QuerySet(req.db(), m, QuerySet::Visibility::All).filter(Q("pk", key)).restore();
      std::int64_t related = std::max<std::int64_t>(0, r.total - 1);
      msg.text = "The " + m.verbose_name + " " + quoted(found.str()) + " was restored" +
                 (related > 0 ? ", with " + std::to_string(related) + " related object" +
                                    (related == 1 ? "" : "s")
                              : std::string()) +
                 ".";
    }
    add_message(req, std::move(msg));
    return Response::redirect(object_path(m, key, prefix));
  });
}

}  // namespace cascade::web
