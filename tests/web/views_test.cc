// The model pages and the delete view over HTTP, on each backend: GET never changes anything,
// POST deletes exactly what the page showed (spec rules cited as "rule N" where they apply),
// 404 / 405, soft delete and restore, refusals, escaping.
#include <gtest/gtest.h>

#include "cascade/query/manager.h"
#include "support/assertions.h"
#include "web/web_fixture.h"

namespace cascade::testing {
namespace {

class WebViews : public WebTest {
 protected:
  // An author with two posts, one with three comments; another author editing one post.
  void seed() {
    Database d = db();
    auto author = d.objects("blog.Author").create({{"name", "Ann"}});
    auto editor = d.objects("blog.Author").create({{"name", "Ed"}});
    auto p1 = d.objects("blog.Post")
                  .create({{"title", "Hello"}, {"author", author.pk()}, {"editor", editor.pk()}});
    d.objects("blog.Post").create({{"title", "Second"}, {"author", author.pk()}});
    auto p3 = d.objects("blog.Post").create({{"title", "By Ed"}, {"author", editor.pk()}});
    (void)p3;
    for (int i = 0; i < 3; ++i) {
      d.objects("blog.Comment").create({{"post", p1.pk()}, {"body", "c" + std::to_string(i)}});
    }
  }
  std::int64_t count(const std::string& label) { return db().objects(label).all().count(); }
};
CASCADE_ON_EVERY_BACKEND(WebViews);

TEST_P(WebViews, PagesListShowAndConfirmWithoutChangingAnything) {
  seed();
  Page index = get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_CONTAINS(index.body, "href=\"/blog/post/\"");
  Page list = get("/blog/author/");
  EXPECT_EQ(list.status, 200);
  EXPECT_CONTAINS(list.body, ">Ann</a>");
  EXPECT_CONTAINS(list.body, "2 in all");
  Page detail = get("/blog/post/1/");
  EXPECT_EQ(detail.status, 200);
  EXPECT_CONTAINS(detail.body, "Hello");
  // The confirmation lists what goes (the nested objects and counts per model, rule 1) and
  // what changes instead (SET_NULL on the posts Ann edits: none here; Ed's deletion would).
  Page confirm = get("/blog/author/1/delete/");
  EXPECT_EQ(confirm.status, 200);
  EXPECT_CONTAINS(confirm.body, "Are you sure you want to delete the author “Ann”?");
  EXPECT_CONTAINS(confirm.body, "Comments: 3");
  EXPECT_CONTAINS(confirm.body, "Posts: 2");
  EXPECT_CONTAINS(confirm.body, "Comment: Comment 1 on post 1");
  Page ed = get("/blog/author/2/delete/");
  EXPECT_CONTAINS(ed.body, "Post (1): editor set to None");
  EXPECT_EQ(count("blog.Author"), 2);
  EXPECT_EQ(count("blog.Comment"), 3);
  // HEAD is GET without a body.
  auto head = client->Head("/blog/author/1/delete/", headers());
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  EXPECT_EQ(count("blog.Comment"), 3);
}

TEST_P(WebViews, TheNestedListLinksObjectsThatHavePagesOnly) {
  seed();
  Database d = db();
  auto tag = d.objects("blog.Tag").create({{"name", "t"}});
  Instance post = d.objects("blog.Post").get(1);
  d.objects("blog.Post").many_to_many(post, "tags").add(std::vector<Value>{tag.pk()});
  Page confirm = get("/blog/post/1/delete/");
  EXPECT_CONTAINS(confirm.body, "<a href=\"/blog/comment/1/\">Comment: Comment 1 on post 1</a>");
  // The auto-created many-to-many table has no pages: its rows are listed without a link.
  EXPECT_CONTAINS(confirm.body, "<li>Post-tag relationship: Post_tags object (1)");
}

TEST_P(WebViews, PostDeletesWhatThePageShowedAndRedirectsWithAMessage) {
  seed();
  Page done = confirm("/blog/author/1/delete/");
  EXPECT_EQ(done.status, 302);
  EXPECT_EQ(done.location, "/blog/author/");
  EXPECT_EQ(count("blog.Author"), 1);
  EXPECT_EQ(count("blog.Post"), 1);
  EXPECT_EQ(count("blog.Comment"), 0);
  Page list = get("/blog/author/");
  EXPECT_CONTAINS(list.body, "The author “Ann” was deleted, with 5 related objects.");
  // The message is shown once.
  EXPECT_EQ(get("/blog/author/").body.find("was deleted"), std::string::npos);
  // The object is gone: its pages are 404s now.
  EXPECT_EQ(get("/blog/author/1/").status, 404);
  EXPECT_EQ(get("/blog/author/1/delete/").status, 404);
}

TEST_P(WebViews, RowsChangedSinceThePageMeanNothingIsDeletedAndTheNewPageIsShown) {
  seed();
  Page form = get("/blog/post/1/delete/");
  EXPECT_CONTAINS(form.body, "Comments: 3");
  // Another client adds a comment after the page was rendered.
  db().objects("blog.Comment").create({{"post", 1}, {"body", "late"}});
  Page refused = post("/blog/post/1/delete/",
                      {{"csrfmiddlewaretoken", field(form.body, "csrfmiddlewaretoken")},
                       {"binding", field(form.body, "binding")}});
  EXPECT_EQ(refused.status, 409);
  EXPECT_CONTAINS(refused.body, "The rows changed since the preview, so nothing was changed");
  EXPECT_CONTAINS(refused.body, "Comments: 4");
  EXPECT_EQ(count("blog.Post"), 3);
  EXPECT_EQ(count("blog.Comment"), 4);
  // The new page's form deletes what it shows.
  Page again = post("/blog/post/1/delete/",
                    {{"csrfmiddlewaretoken", field(refused.body, "csrfmiddlewaretoken")},
                     {"binding", field(refused.body, "binding")}});
  EXPECT_EQ(again.status, 302);
  EXPECT_EQ(count("blog.Comment"), 0);
  // A form without what it showed, or with garbage, deletes nothing.
  Page bare = post("/blog/post/2/delete/",
                   {{"csrfmiddlewaretoken", field(refused.body, "csrfmiddlewaretoken")}});
  EXPECT_EQ(bare.status, 409);
  EXPECT_CONTAINS(bare.body, "Nothing was deleted");
  Page garbled = post("/blog/post/2/delete/",
                      {{"csrfmiddlewaretoken", field(refused.body, "csrfmiddlewaretoken")},
                       {"binding", "v1|1|2|x|"}});
  EXPECT_EQ(garbled.status, 409);
  EXPECT_EQ(count("blog.Post"), 2);
}

TEST_P(WebViews, MissingObjectsAre404AndOtherMethods405) {
  seed();
  EXPECT_EQ(get("/blog/post/999/").status, 404);
  EXPECT_EQ(get("/blog/post/not-a-number/delete/").status, 404);
  EXPECT_EQ(get("/blog/nothing/").status, 404);
  EXPECT_EQ(get("/no/such/page/at/all/").status, 404);
  EXPECT_EQ(get("/blog/post/?page=99").status, 404);
  EXPECT_EQ(get("/blog/post/?page=x").status, 404);
  auto put = client->Put("/blog/post/1/delete/", headers(), "", "text/plain");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 405);
  EXPECT_EQ(put->get_header_value("Allow"), "GET, POST");
  auto del = client->Delete("/blog/post/1/", headers());
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 405);
  EXPECT_EQ(count("blog.Post"), 3);
}

TEST_P(WebViews, ProtectedObjectsBlockTheDeleteWithoutAButton) {
  Database d = db();
  auto product = d.objects("shop.Product").create({{"name", "Kit"}});
  d.objects("shop.OrderItem").create({{"product", product.pk()}, {"quantity", 2}});
  Page page = get("/shop/product/1/delete/");
  EXPECT_EQ(page.status, 200);
  EXPECT_CONTAINS(page.body, "is not possible");
  EXPECT_CONTAINS(page.body, "2 x product 1");
  EXPECT_EQ(page.body.find("Yes, I’m sure"), std::string::npos);
  // A POST that claims a preview anyway deletes nothing (rule 24: PROTECT refuses).
  // (The blocked page has no form; the token is the cookie's secret, which Django accepts too.)
  Page forced = post("/shop/product/1/delete/", {{"binding", "v1|1|0|1|shop.Product:1|"}},
                     {{"X-CSRFToken", cookies.at("csrftoken")}});
  EXPECT_EQ(forced.status, 409);
  EXPECT_EQ(count("shop.Product"), 1);
  EXPECT_EQ(count("shop.OrderItem"), 1);
}

TEST_P(WebViews, SoftDeleteOffersRestoreAndRestoreBringsEverythingBack) {
  Database d = db();
  auto note = d.objects("notes.Note").create({{"title", "Keep me"}});
  d.objects("notes.Reply").create({{"note", note.pk()}});
  d.objects("notes.Reply").create({{"note", note.pk()}});
  Page form = get("/notes/note/1/delete/");
  EXPECT_CONTAINS(form.body, "moved to the trash");
  Page done = confirm("/notes/note/1/delete/");
  EXPECT_EQ(done.status, 302);
  EXPECT_EQ(count("notes.Note"), 0);
  EXPECT_EQ(d.all_objects("notes.Note").all().count(), 1);  // kept, marked
  Page list = get("/notes/note/");
  EXPECT_CONTAINS(list.body, "The note “Keep me” was moved to the trash, with 2 related objects.");
  EXPECT_CONTAINS(list.body, "action=\"/notes/note/1/restore/\"");
  // The detail page of a soft-deleted object says so and offers Restore too.
  EXPECT_CONTAINS(get("/notes/note/1/").body, "in the trash");
  Page restored = post("/notes/note/1/restore/",
                       {{"csrfmiddlewaretoken", field(list.body, "csrfmiddlewaretoken")}});
  EXPECT_EQ(restored.status, 302);
  EXPECT_EQ(count("notes.Note"), 1);
  EXPECT_EQ(count("notes.Reply"), 2);
  EXPECT_CONTAINS(get(restored.location).body, "was restored, with 2 related objects.");
  // Restore is a POST only; a GET is 405 and changes nothing.
  EXPECT_EQ(get("/notes/note/1/restore/").status, 405);
}

TEST_P(WebViews, DisplayStringsAreEscaped) {
  Database d = db();
  d.objects("blog.Author").create({{"name", "<script>alert('x')</script> & \"co\""}});
  for (const std::string path : {"/blog/author/", "/blog/author/1/", "/blog/author/1/delete/"}) {
    Page p = get(path);
    EXPECT_EQ(p.body.find("<script>"), std::string::npos) << path;
    EXPECT_CONTAINS(p.body, "&lt;script&gt;");
  }
}

}  // namespace
}  // namespace cascade::testing
