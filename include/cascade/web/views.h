// Views: Django's get_object_or_404, the delete view with its confirmation page, the generic
// list and detail pages, and the pages `cascade runserver` serves for every model.
//
//   // The seeds' delete_post, for a typed app:
//   web::DeleteView<Post> delete_post{.templates = &templates, .success_url = "/posts/"};
//   router.add({"GET", "POST"}, "/posts/<pk>/delete/", delete_post);
//
// The delete view is a preview that binds: GET renders the confirmation page from the plan's
// preview (what will be deleted, nested and capped, counts per model, the field updates, what
// the database will do itself, and the objects that block the delete, which leave no delete
// button). The form carries what the page showed; POST deletes exactly that, or, when the rows
// changed since (or the form carries nothing), deletes nothing and shows the new confirmation
// page (409). A soft-deletable model is soft-deleted, and the message after it offers Restore.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "cascade/database.h"
#include "cascade/model/mapping.h"
#include "cascade/query/typed_queryset.h"
#include "cascade/web/http.h"
#include "cascade/web/templates.h"

namespace cascade::web {

// The live row of `model` whose primary key is `pk` as written in a URL, or HttpError 404
// ("No Post matches the given query.", Django's text). A malformed key is a 404 too.
// `visibility`: All or Deleted to find soft-deleted rows as well, or only them.
Instance get_object_or_404(Request& request, const ModelMeta& model, const std::string& pk,
                           QuerySet::Visibility visibility = QuerySet::Visibility::Live);

template <typename T>
T get_object_or_404(Request& request, const std::string& pk) {
  const Registry& r = request.db().registry();
  return from_instance<T>(r, get_object_or_404(request, meta_of<T>(r), pk));
}

// ---- list and detail pages -------------------------------------------------------------------

struct ListOptions {
  std::string template_name = "list.html";
  std::string title = {};
  std::int64_t per_page = 25;
  TemplateData extra = {};  // more data for the template
};

// A page of `objects` (?page=N, 1-based; a bad or past-the-end page is a 404, as Django's
// ListView). The template sees title, count, page, pages, has_previous / has_next,
// previous_url / next_url, and rows: item(object) for each, by default text (str()), pk,
// has_url = false and has_delete = false (list.html links a row's text to url when has_url, and
// shows a Delete link to delete_url when has_delete). `extra` must be an object.
Response list_page(Request& request, const Templates& templates, const QuerySet& objects,
                   const ListOptions& options,
                   const std::function<TemplateData(const Instance&)>& item = {});

// What detail.html sees of an object: verbose_name, text (str()), fields (name, value, url and
// has_url: `link` of a foreign key's target, "" for none) and object (the values by name).
TemplateData detail_data(
    const Instance& object,
    const std::function<std::string(const ModelMeta&, const Value&)>& link = {});

// The typed generic list view (Django's ListView).
template <typename T>
struct ListView {
  const Templates* templates = nullptr;
  std::string template_name = "list.html";
  std::string title = {};
  std::int64_t per_page = 25;
  // The objects (default: every live row, in the model's ordering or by key).
  std::function<TypedQuerySet<T>(Request&)> queryset = {};
  // What the template sees of each (default: text = str(), pk).
  std::function<TemplateData(Request&, const T&)> item = {};

  Response operator()(Request& request) const {
    const Registry& r = request.db().registry();
    const ModelMeta& m = meta_of<T>(r);
    TypedQuerySet<T> objects =
        queryset ? queryset(request)
                 : request.db().objects<T>().order_by(
                       m.ordering.empty() ? std::vector<std::string>{"pk"} : m.ordering);
    ListOptions o;
    o.template_name = template_name;
    o.title = title.empty() ? m.verbose_name_plural : title;
    o.per_page = per_page;
    std::function<TemplateData(const Instance&)> each;
    if (item) {
      each = [&](const Instance& inst) { return item(request, from_instance<T>(r, inst)); };
    }
    return list_page(request, *templates, objects.dynamic(), o, each);
  }
};

// The typed generic detail view (Django's DetailView): detail_data() of the object, plus
// what `context` adds.
template <typename T>
struct DetailView {
  const Templates* templates = nullptr;
  std::string template_name = "detail.html";
  // Finds the object (default: get_object_or_404 of the route's <pk>).
  std::function<T(Request&)> lookup = {};
  // More data for the template.
  std::function<void(Request&, const T&, TemplateData&)> context = {};

  Response operator()(Request& request) const {
    const Registry& r = request.db().registry();
    T object = lookup ? lookup(request) : get_object_or_404<T>(request, request.param("pk"));
    Instance inst = to_instance(r, object);
    TemplateData data = detail_data(inst);
    if (context) context(request, object, data);
    return Response::html(templates->page(template_name, inst.str(), std::move(data), request));
  }
};

// ---- deleting ----------------------------------------------------------------------------------

struct DeleteOptions {
  std::string success_url;  // POST redirects here after the delete
  std::string cancel_url;   // "No, take me back"; default: success_url
  std::string template_name = "confirm_delete.html";
  std::int64_t max_items = 100;  // objects the nested list shows
  // Whether the request may delete the object; false answers 403.
  std::function<bool(Request&, const Instance&)> permission;
  // Optional: the page of an object (links in the nested list), and where a POST restores a
  // soft-deleted object (the message after a soft delete then offers Restore).
  std::function<std::string(const ModelMeta&, const Value&)> object_url;
  std::function<std::string(const ModelMeta&, const Value&)> restore_url;
};

// The delete view's work for one object: the confirmation page on GET, the bound delete on
// POST (then a redirect to success_url with a message). The template sees: object (its fields
// by name, {{object.title}}), object_text, verbose_name, soft, summary (name, count), updates,
// effects, tree (text, url, marked, children; the partial tree_node.html draws it), omitted,
// blocked, blocked_message, blockers, notice, cancel_url, csrf_token and binding. A template of
// one's own must post csrfmiddlewaretoken = {{csrf_token}} and binding = {{binding}}: without
// the binding, a POST deletes nothing (it cannot know what the page showed).
Response delete_object(Request& request, const Templates& templates, Instance object,
                       const DeleteOptions& options);

// The typed generic delete view (Django's DeleteView).
template <typename T>
struct DeleteView {
  const Templates* templates = nullptr;
  std::string success_url = {};
  std::string template_name = "confirm_delete.html";
  std::string cancel_url = {};
  std::int64_t max_items = 100;
  // Finds the object (default: get_object_or_404 of the route's <pk>).
  std::function<T(Request&)> lookup = {};
  // Whether the request may delete it (default: yes).
  std::function<bool(Request&, const T&)> permission = {};

  Response operator()(Request& request) const {
    const Registry& r = request.db().registry();
    T object = lookup ? lookup(request) : get_object_or_404<T>(request, request.param("pk"));
    DeleteOptions o;
    o.success_url = success_url;
    o.cancel_url = cancel_url;
    o.template_name = template_name;
    o.max_items = max_items;
    if (permission) {
      o.permission = [this, &r](Request& req, const Instance& inst) {
        return permission(req, from_instance<T>(r, inst));
      };
    }
    return delete_object(request, *templates, to_instance(r, object), o);
  }
};

// The pages for every model of the registry, under `prefix` ("" for the site's root):
//   /                                  the apps and their models
//   /<app>/<model>/                    the list (pagination, the model's ordering)
//   /<app>/<model>/<pk>/               a read-only detail page
//   /<app>/<model>/<pk>/delete/        the delete view (GET confirms, POST deletes)
//   /<app>/<model>/<pk>/restore/       POST: restores a soft-deleted object and what went with it
// <app> and <model> are lower-case ("blog/post"), as in Django's admin URLs.
void add_model_pages(Router& router, const Registry& registry, const Templates& templates,
                     const std::string& prefix = {});

}  // namespace cascade::web
