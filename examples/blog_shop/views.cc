#include "views.h"

#include "cascade/web/session.h"
#include "cascade/web/views.h"
#include "models.h"

namespace blog_shop {

namespace web = cascade::web;

cascade::cli::WebApp web_app() {
  cascade::cli::WebApp app;
  app.templates_dir = BLOG_SHOP_TEMPLATES;
  // As cascade.toml's [admin.*] and [audit] tables.
  app.admin = {{.label = "blog.Post",
                .list_display = {"title", "author", "status"},
                .search_fields = {"title", "author__name"},
                .list_filter = {"status", "author"},
                .ordering = {},
                .list_per_page = 50},
               {.label = "blog.Author",
                .list_display = {"name", "email"},
                .search_fields = {"name", "email"},
                .list_filter = {},
                .ordering = {},
                .list_per_page = 100}};
  app.audit.record_rows = true;
  app.routes = [](web::Router& router, const web::Templates& templates) {
    // The posts not marked is_deleted, 20 a page (a ListView<Post>), and one post (a
    // DetailView<Post>, the default detail.html).
    router.add(
        {"GET"}, "/posts/",
        web::ListView<Post>{.templates = &templates,
                            .template_name = "post_list.html",
                            .title = "Posts",
                            .per_page = 20,
                            .queryset =
                                [](web::Request& request) {
                                  return request.db()
                                      .objects<Post>()
                                      .filter({{"is_deleted", false}})
                                      .order_by({"id"});
                                },
                            .item =
                                [](web::Request&, const Post& p) {
                                  return web::TemplateData().set("id", *p.id).set("title", p.title);
                                }});
    router.add({"GET"}, "/posts/<pk>/", web::DetailView<Post>{.templates = &templates});

    // The seeds' delete_post: get_object_or_404, a confirmation page on GET, the delete and a
    // redirect to the list on POST; the page shows what goes with the post, and the POST
    // deletes exactly that.
    router.add({"GET", "POST"}, "/posts/<pk>/delete/",
               web::DeleteView<Post>{.templates = &templates,
                                     .success_url = "/posts/",
                                     .template_name = "post_confirm_delete.html",
                                     .cancel_url = "/posts/"});

    // The seeds' soft_delete_post: the hand-made flag, set by a POST (a GET never changes
    // anything).
    router.add({"POST"}, "/posts/<pk>/soft-delete/", [](web::Request& request) {
      Post post = web::get_object_or_404<Post>(request, request.param("pk"));
      post.is_deleted = true;
      request.db().save(post);
      web::add_message(request, {.text = "The post \u201c" + post.title + "\u201d was hidden."});
      return web::Response::redirect("/posts/");
    });
  };
  return app;
}

}  // namespace blog_shop
