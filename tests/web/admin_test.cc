// The admin over HTTP, on each backend: login (staff only, the session key changes, throttling),
// logout, the index and change lists by permission, and "Delete selected" through a signed
// server-side selection, with the confirmation's counts, missing permissions, blockers and the
// binding of its POST.
#include "cascade/web/admin.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "cascade/deletion/audit.h"
#include "cascade/web/auth.h"
#include "support/assertions.h"
#include "web/web_fixture.h"

namespace cascade::testing {
namespace {

constexpr int kFast = 1000;

class Admin : public WebTest {
 protected:
  void SetUp() override {
    WebTest::SetUp();
    {
      Database d = db();
      web::migrate_auth(d.connection());
      AuditLog(d).migrate();
      web::Users users(d);
      users.create_superuser("root", "root-pass", "", kFast);
      web::User staff = users.create_user("staff", "staff-pass", "", kFast);
      users.set_flags(staff, true, true, false);
      users.create_user("plain", "plain-pass", "", kFast);  // not staff
    }
    restart({});
  }
  void restart(web::ServerOptions options) {
    start(options, [this](web::Router& router) {
      admin = std::make_unique<web::AdminSite>(*project->registry, *templates);
      if (configure) {
        configure(*admin);
      } else {
        admin->register_all();
      }
      admin->set_password_iterations(kFast);
      if (throttle) admin->set_login_throttle(*throttle, std::chrono::seconds(60));
      admin->add_routes(router);
    });
  }
  Page log_in(const std::string& user, const std::string& password,
              const std::string& next = "/admin/") {
    Page form = get("/admin/login/?next=" + next);
    return post("/admin/login/", {{"csrfmiddlewaretoken", field(form.body, "csrfmiddlewaretoken")},
                                  {"username", user},
                                  {"password", password},
                                  {"next", next}});
  }
  web::User user(const std::string& name) {
    Database d = db();
    return *web::Users(d).find(name);
  }
  void grant(const std::string& name, const std::string& codename) {
    Database d = db();
    web::Users(d).grant(user(name), codename);
  }
  // Authors with posts and comments: author i has i+1 posts, each with one comment.
  void seed(int authors) {
    Database d = db();
    for (int a = 0; a < authors; ++a) {
      auto author = d.objects("blog.Author").create({{"name", "A" + std::to_string(a)}});
      for (int p = 0; p <= a; ++p) {
        auto post = d.objects("blog.Post").create({{"title", "P"}, {"author", author.pk()}});
        d.objects("blog.Comment").create({{"post", post.pk()}, {"body", "c"}});
      }
    }
  }
  std::int64_t count(const std::string& label) { return db().objects(label).all().count(); }
  // Posts the change list's form with these keys (or all); the confirmation page it leads to.
  Page select(const std::string& model, const std::vector<std::string>& keys, bool all = false) {
    Page list = get("/admin/" + model + "/");
    httplib::Params form{{"csrfmiddlewaretoken", field(list.body, "csrfmiddlewaretoken")}};
    for (const auto& k : keys) form.emplace("_selected_action", k);
    if (all) form.emplace("select_across", "1");
    Page chosen = post("/admin/" + model + "/delete_selected/", form);
    EXPECT_EQ(chosen.status, 303);
    selection = chosen.location.substr(chosen.location.find("selection=") + 10);
    return get(chosen.location);
  }
  Page confirm(const std::string& model, const Page& page) {
    return post("/admin/" + model + "/delete_selected/",
                {{"csrfmiddlewaretoken", field(page.body, "csrfmiddlewaretoken")},
                 {"selection", field(page.body, "selection")},
                 {"binding", field(page.body, "binding")}});
  }

  // Form fields for a confirmation page's POST, with a reason.
  httplib::Params confirmation(const Page& page, const std::string& reason = {}) {
    return {{"csrfmiddlewaretoken", field(page.body, "csrfmiddlewaretoken")},
            {"binding", field(page.body, "binding")},
            {"reason", reason}};
  }
  std::vector<AuditEntry> log_entries() {
    Database d = db();
    return AuditLog(d).entries();
  }

  std::unique_ptr<web::AdminSite> admin;
  std::function<void(web::AdminSite&)> configure;  // else register_all()
  std::optional<int> throttle;
  std::string selection;  // the token of the last select()
};
CASCADE_ON_EVERY_BACKEND(Admin);

TEST_P(Admin, OnlyStaffLogInAndTheSessionKeyChanges) {
  Page anonymous = get("/admin/blog/post/");
  EXPECT_EQ(anonymous.status, 302);
  EXPECT_EQ(web::percent_decode_path(anonymous.location), "/admin/login/?next=/admin/blog/post/");
  Page wrong = log_in("root", "nope");
  EXPECT_EQ(wrong.status, 200);
  // The form keeps the username typed.
  EXPECT_CONTAINS(wrong.body, "name=\"username\" value=\"root\"");
  EXPECT_CONTAINS(wrong.body,
                  "Please enter the correct username and password for a staff account.");
  Page plain = log_in("plain", "plain-pass");
  EXPECT_CONTAINS(plain.body, "Please enter the correct username and password");
  std::string before = cookies.count("sessionid") ? cookies["sessionid"] : "";
  Page ok = log_in("root", "root-pass", "/admin/blog/post/");
  EXPECT_EQ(ok.status, 302);
  EXPECT_EQ(ok.location, "/admin/blog/post/");
  ASSERT_EQ(cookies.count("sessionid"), 1u);
  EXPECT_NE(cookies["sessionid"], before);
  Page list = get("/admin/blog/post/");
  EXPECT_EQ(list.status, 200);
  EXPECT_CONTAINS(list.body, "Welcome, <strong>root</strong>");
  // A next= outside the admin is ignored.
  EXPECT_EQ(log_in("root", "root-pass", "https://evil.example/").location, "/admin/");
  // Logout is a POST; afterwards the admin asks for a login again.
  EXPECT_EQ(get("/admin/logout/").status, 405);
  Page out =
      post("/admin/logout/", {{"csrfmiddlewaretoken", field(list.body, "csrfmiddlewaretoken")}});
  EXPECT_EQ(out.status, 302);
  EXPECT_EQ(get("/admin/").status, 302);
}

TEST_P(Admin, RepeatedFailuresAreThrottled) {
  throttle = 3;
  restart({});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(log_in("root", "bad").status, 200);
  Page refused = log_in("root", "root-pass");
  EXPECT_EQ(refused.status, 429);
  EXPECT_CONTAINS(refused.body, "Too many failed login attempts");
  EXPECT_EQ(log_in("staff", "staff-pass").status, 302);  // another account is not affected
}

TEST_P(Admin, PagesFollowPermissionsAndCarrySecurityHeaders) {
  ASSERT_EQ(log_in("staff", "staff-pass").status, 302);
  Page index = get("/admin/");
  EXPECT_CONTAINS(index.body, "You don’t have permission to view or edit anything.");
  EXPECT_EQ(get("/admin/blog/post/").status, 403);
  grant("staff", "blog.view_post");
  index = get("/admin/");
  EXPECT_CONTAINS(index.body, "href=\"/admin/blog/post/\"");
  EXPECT_EQ(index.body.find("/admin/blog/author/"), std::string::npos);
  Page list = get("/admin/blog/post/");
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find("Delete selected"), std::string::npos);  // no delete permission
  auto raw = client->Get("/admin/blog/post/", headers());
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->get_header_value("X-Frame-Options"), "DENY");
  EXPECT_CONTAINS(raw->get_header_value("Content-Security-Policy"), "frame-ancestors 'none'");
  // Deleting needs the permission, whatever the form says.
  Page forced = post("/admin/blog/post/delete_selected/",
                     {{"csrfmiddlewaretoken", field(list.body, "csrfmiddlewaretoken")},
                      {"_selected_action", "1"}});
  EXPECT_EQ(forced.status, 403);
}

TEST_P(Admin, DeleteSelectedConfirmsExactCountsAndDeletesThem) {
  seed(3);  // authors with 1, 2 and 3 posts
  ASSERT_EQ(log_in("root", "root-pass").status, 302);
  Page page = select("blog/author", {"1", "2"});
  EXPECT_EQ(page.status, 200);
  EXPECT_CONTAINS(page.body, "Are you sure you want to delete the 2 selected authors?");
  EXPECT_CONTAINS(page.body, "Posts: 3");
  EXPECT_CONTAINS(page.body, "Comments: 3");
  // The confirmation carries a token, not the keys.
  EXPECT_EQ(page.body.find("_selected_action"), std::string::npos);
  EXPECT_EQ(count("blog.Author"), 3);
  Page done = confirm("blog/author", page);
  EXPECT_EQ(done.status, 302);
  EXPECT_EQ(done.location, "/admin/blog/author/");
  EXPECT_CONTAINS(get(done.location).body,
                  "Successfully deleted 2 authors, with 6 related objects.");
  EXPECT_EQ(count("blog.Author"), 1);
  EXPECT_EQ(count("blog.Post"), 3);
  // The selection is used up.
  EXPECT_EQ(confirm("blog/author", page).status, 400);
}

TEST_P(Admin, ChangesSinceTheConfirmationDeleteNothing) {
  seed(2);
  ASSERT_EQ(log_in("root", "root-pass").status, 302);
  Page page = select("blog/author", {"2"});
  db().objects("blog.Post").create({{"title", "late"}, {"author", 2}});
  Page refused = confirm("blog/author", page);
  EXPECT_EQ(refused.status, 409);
  EXPECT_CONTAINS(refused.body, "nothing was changed");
  EXPECT_CONTAINS(refused.body, "Posts: 3");
  EXPECT_EQ(count("blog.Author"), 2);
  EXPECT_EQ(confirm("blog/author", refused).status, 302);
  EXPECT_EQ(count("blog.Author"), 1);
}

TEST_P(Admin, SelectAllMatchingPostsNoKeys) {
  seed(3);
  ASSERT_EQ(log_in("root", "root-pass").status, 302);
  Page page = select("blog/author", {}, /*all=*/true);
  EXPECT_CONTAINS(page.body, "the 3 selected authors");
  EXPECT_EQ(confirm("blog/author", page).status, 302);
  EXPECT_EQ(count("blog.Author"), 0);
  EXPECT_EQ(count("blog.Comment"), 0);
  // Nothing ticked: a message, nothing changed.
  seed(1);
  Page list = get("/admin/blog/author/");
  Page none = post("/admin/blog/author/delete_selected/",
                   {{"csrfmiddlewaretoken", field(list.body, "csrfmiddlewaretoken")}});
  EXPECT_EQ(none.status, 302);
  EXPECT_CONTAINS(get(none.location).body, "Items must be selected in order to perform actions");
}

TEST_P(Admin, MissingPermissionsOnTheCascadeAreListedAndRefused) {
  seed(1);
  grant("staff", "blog.view_author");
  grant("staff", "blog.delete_author");
  ASSERT_EQ(log_in("staff", "staff-pass").status, 302);
  Page page = select("blog/author", {"1"});
  EXPECT_CONTAINS(page.body, "your account doesn’t have permission to delete the following types");
  EXPECT_CONTAINS(page.body, "<li>post</li>");
  EXPECT_CONTAINS(page.body, "<li>comment</li>");
  EXPECT_EQ(page.body.find("Yes, I’m sure"), std::string::npos);
  // A POST with a binding made up for it is refused too (the page has no form: the token is
  // the one the change list's POST redirected to).
  Page forced = post("/admin/blog/author/delete_selected/",
                     {{"csrfmiddlewaretoken", field(page.body, "csrfmiddlewaretoken")},
                      {"selection", selection},
                      {"binding", "v1|1|0|3|blog.Comment:1,blog.Post:1,blog.Author:1|"}});
  EXPECT_EQ(forced.status, 403);
  EXPECT_EQ(count("blog.Author"), 1);
  grant("staff", "blog.delete_post");
  grant("staff", "blog.delete_comment");
  Page allowed = select("blog/author", {"1"});
  Page deleted = confirm("blog/author", allowed);
  EXPECT_EQ(deleted.status, 302) << deleted.body;
  EXPECT_EQ(count("blog.Author"), 0);
}

TEST_P(Admin, SelectionTokensAreSignedAndBoundToTheUser) {
  seed(1);
  ASSERT_EQ(log_in("root", "root-pass").status, 302);
  Page page = select("blog/author", {"1"});
  std::string token = field(page.body, "selection");
  std::string forged = token;
  forged[forged.size() - 1] = forged.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ(get("/admin/blog/author/delete_selected/?selection=" + forged).status, 400);
  // Another staff user cannot use it, even with the permissions.
  grant("staff", "blog.delete_author");
  grant("staff", "blog.delete_post");
  grant("staff", "blog.delete_comment");
  ASSERT_EQ(log_in("staff", "staff-pass").status, 302);
  EXPECT_EQ(get("/admin/blog/author/delete_selected/?selection=" + token).status, 400);
  EXPECT_EQ(count("blog.Author"), 1);
}

TEST_P(Admin, ADetailPageDeletesItsObjectThroughTheSameConfirmation) {
  seed(2);
  ASSERT_EQ(log_in("root", "root-pass").status, 302);
  Page list = get("/admin/blog/author/");
  EXPECT_CONTAINS(list.body, "href=\"/admin/blog/author/2/\"");
  Page detail = get("/admin/blog/author/2/");
  EXPECT_EQ(detail.status, 200);
  EXPECT_CONTAINS(detail.body, "<th>name</th><td>A1</td>");
  EXPECT_EQ(get("/admin/blog/author/99/").status, 404);
  Page chosen = post("/admin/blog/author/delete_selected/",
                     {{"csrfmiddlewaretoken", field(detail.body, "csrfmiddlewaretoken")},
                      {"_selected_action", field(detail.body, "_selected_action")}});
  EXPECT_EQ(chosen.status, 303);
  Page page = get(chosen.location);
  EXPECT_CONTAINS(page.body, "the 1 selected author?");
  EXPECT_CONTAINS(page.body, "Posts: 2");
  EXPECT_EQ(confirm("blog/author", page).status, 302);
  EXPECT_EQ(count("blog.Author"), 1);
}

TEST_P(Admin, ProtectedObjectsBlockWithoutAButton) {
  Database d = db();
  auto product = d.objects("shop.Product").create({{"name", "Kit"}});
  d.objects("shop.OrderItem").create({{"product", product.pk()}, {"quantity", 2}});
  ASSERT_EQ(log_in("root", "root-pass").status, 302);
  Page page = select("shop/product", {"1"});
  EXPECT_CONTAINS(page.body, "Cannot delete products");
  // The blocker links to its page in the admin.
  EXPECT_CONTAINS(page.body, "<a href=\"/admin/shop/orderitem/1/\">Order item: 2 x product 1</a>");
  EXPECT_EQ(page.body.find("Yes, I’m sure"), std::string::npos);
  EXPECT_EQ(count("shop.Product"), 1);
}

// ---- search, filters, sorting ------------------------------------------------------------------

TEST_P(Admin, SearchFiltersAndSortingNarrowTheListAndSelectAllMatching) {
  configure = [this](web::AdminSite& site) {
    site.register_model(project->registry->get("blog.Post"),
                        {.list_display = {"title", "author"},
                         .search_fields = {"title", "author__name"},
                         .list_filter = {"author"}});
    site.register_model(project->registry->get("blog.Author"));
  };
  restart({});
  {
    Database d = db();
    auto ann = d.objects("blog.Author").create({{"name", "Ann"}});
    auto bob = d.objects("blog.Author").create({{"name", "Bob"}});
    d.objects("blog.Post").create({{"title", "alpha one"}, {"author", ann.pk()}});
    d.objects("blog.Post").create({{"title", "beta"}, {"author", ann.pk()}});
    d.objects("blog.Post").create({{"title", "alpha two"}, {"author", bob.pk()}});
  }
  ASSERT_EQ(log_in("root", "root-pass").status, 302);
  Page found = get("/admin/blog/post/?q=alpha");
  EXPECT_CONTAINS(found.body, "alpha one");
  EXPECT_CONTAINS(found.body, "alpha two");
  EXPECT_EQ(found.body.find(">beta<"), std::string::npos);
  // Every word must match some field: "alpha bob" is Bob's alpha post only.
  Page both = get("/admin/blog/post/?q=alpha%20bob");
  EXPECT_CONTAINS(both.body, "alpha two") << both.body;
  EXPECT_EQ(both.body.find("alpha one"), std::string::npos);
  Page filtered = get("/admin/blog/post/?author=1");
  EXPECT_CONTAINS(filtered.body, "beta");
  EXPECT_EQ(filtered.body.find("alpha two"), std::string::npos);
  EXPECT_CONTAINS(filtered.body, "<strong>Ann</strong>");  // the chosen filter
  EXPECT_EQ(get("/admin/blog/post/?author=x").status, 400);
  Page sorted = get("/admin/blog/post/?o=title");
  EXPECT_LT(sorted.body.find("alpha one"), sorted.body.find("alpha two"));
  EXPECT_LT(sorted.body.find("alpha two"), sorted.body.find(">beta<"));
  Page reversed = get("/admin/blog/post/?o=-title");
  EXPECT_LT(reversed.body.find(">beta<"), reversed.body.find("alpha two"));
  EXPECT_EQ(get("/admin/blog/post/?o=password").status, 400);  // only list_display columns
  // "Select all N matching" takes the search along, not every row.
  EXPECT_CONTAINS(found.body, "Select all 2 posts matching");
  Page chosen = post("/admin/blog/post/delete_selected/",
                     {{"csrfmiddlewaretoken", field(found.body, "csrfmiddlewaretoken")},
                      {"query", field(found.body, "query")},
                      {"select_across", "1"}});
  ASSERT_EQ(chosen.status, 303);
  Page page = get(chosen.location);
  EXPECT_CONTAINS(page.body, "the 2 selected posts");
  auto form = confirmation(page);
  form.emplace("selection", field(page.body, "selection"));
  EXPECT_EQ(post("/admin/blog/post/delete_selected/", form).status, 302);
  EXPECT_EQ(count("blog.Post"), 1);
}

// ---- the audit log -----------------------------------------------------------------------------

TEST_P(Admin, DeletesAreLoggedWithTheUserAndTheReason) {
  seed(2);
  ASSERT_EQ(log_in("root", "root-pass").status, 302);
  Page page = select("blog/author", {"1"});
  EXPECT_CONTAINS(page.body, "Reason, kept in the audit log");
  Page done = post("/admin/blog/author/delete_selected/?selection=" + selection, [&] {
    auto form = confirmation(page, "duplicate account");
    form.emplace("selection", field(page.body, "selection"));
    return form;
  }());
  ASSERT_EQ(done.status, 302) << done.body;
  auto entries = log_entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].action, kAuditDelete);
  EXPECT_EQ(entries[0].user, "root");
  EXPECT_EQ(entries[0].tool, "admin");
  EXPECT_EQ(entries[0].reason, "duplicate account");
  EXPECT_EQ(entries[0].root_model, "blog.Author");
  EXPECT_EQ(entries[0].counts.total, 3);  // the author, one post, one comment
  // The log in the admin: the list, and the entry.
  Page log = get("/admin/audit-log/");
  EXPECT_EQ(log.status, 200);
  EXPECT_CONTAINS(log.body, "duplicate account");
  Page entry = get("/admin/audit-log/" + entries[0].operation + "/");
  EXPECT_CONTAINS(entry.body, entries[0].operation);
  EXPECT_CONTAINS(entry.body, "were not recorded");
  EXPECT_EQ(get("/admin/audit-log/no-such-operation/").status, 404);
}

TEST_P(Admin, TheLogAndTheTrashNeedTheirPermissions) {
  ASSERT_EQ(log_in("staff", "staff-pass").status, 302);
  EXPECT_EQ(get("/admin/audit-log/").status, 403);
  EXPECT_EQ(get("/admin/trash-bin/").status, 403);
  Page index = get("/admin/");
  EXPECT_EQ(index.body.find("Audit log"), std::string::npos);
  grant("staff", "cascade_audit.view_logentry");
  grant("staff", "notes.restore_note");
  EXPECT_EQ(get("/admin/audit-log/").status, 200);
  EXPECT_EQ(get("/admin/trash-bin/").status, 200);
  index = get("/admin/");
  EXPECT_CONTAINS(index.body, "Audit log");
  EXPECT_CONTAINS(index.body, "Trash");
}

// ---- trash -------------------------------------------------------------------------------------

TEST_P(Admin, TrashListsOperationsThenRestoresAndPurgesThem) {
  Value note;
  {
    Database d = db();
    auto n = d.objects("notes.Note").create({{"title", "groceries"}});
    d.objects("notes.Reply").create({{"note", n.pk()}});
    d.objects("notes.Reply").create({{"note", n.pk()}});
    note = n.pk();
  }
  ASSERT_EQ(log_in("root", "root-pass").status, 302);
  Page page = select("notes/note", {note.to_string()});
  EXPECT_CONTAINS(page.body, "moved to the trash");
  auto form = confirmation(page, "tidy up");
  form.emplace("selection", field(page.body, "selection"));
  ASSERT_EQ(post("/admin/notes/note/delete_selected/", form).status, 302);
  EXPECT_EQ(count("notes.Note"), 0);
  auto entries = log_entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].action, kAuditSoftDelete);
  std::string op = entries[0].operation;

  Page trash = get("/admin/trash-bin/");
  EXPECT_EQ(trash.status, 200);
  EXPECT_CONTAINS(trash.body, "root (admin)");
  EXPECT_CONTAINS(trash.body, "tidy up");
  EXPECT_CONTAINS(trash.body, "Replys: 2");  // Django's default plural: name + "s"
  Page restore = get("/admin/trash-bin/" + op + "/restore/");
  EXPECT_EQ(restore.status, 200);
  EXPECT_CONTAINS(restore.body, "These 3 objects will come back");
  // Something changed after the page: nothing is restored, and the new page is shown.
  {
    Database d = db();
    Instance reply = d.deleted_objects("notes.Reply")
                         .all()
                         .order_by({"pk"})
                         .get(Q("pk", Arg(Value(std::int64_t{1}))));
    d.deleted_objects("notes.Reply").all().filter(Q("pk", Arg(reply.pk()))).hard_remove();
  }
  Page changed = post("/admin/trash-bin/" + op + "/restore/", confirmation(restore));
  EXPECT_EQ(changed.status, 409);
  EXPECT_CONTAINS(changed.body, "These 2 objects will come back");
  EXPECT_EQ(count("notes.Note"), 0);
  Page restored = post("/admin/trash-bin/" + op + "/restore/", confirmation(changed, "mistake"));
  EXPECT_EQ(restored.status, 302) << restored.body;
  EXPECT_EQ(count("notes.Note"), 1);
  EXPECT_EQ(count("notes.Reply"), 1);
  EXPECT_EQ(get("/admin/trash-bin/" + op + "/restore/").status, 404);  // no longer in the trash
  entries = log_entries();
  EXPECT_EQ(entries[0].action, kAuditRestore);
  EXPECT_EQ(entries[0].reason, "mistake");
  EXPECT_EQ(entries[0].refers_to, std::vector<std::string>{op});

  // Again to the trash, then for good.
  Page again = select("notes/note", {note.to_string()});
  form = confirmation(again);
  form.emplace("selection", field(again.body, "selection"));
  ASSERT_EQ(post("/admin/notes/note/delete_selected/", form).status, 302);
  op = log_entries()[0].operation;
  Page purge = get("/admin/trash-bin/" + op + "/purge/");
  EXPECT_EQ(purge.status, 200);
  EXPECT_CONTAINS(purge.body, "cannot be undone");
  EXPECT_CONTAINS(purge.body, "Reply: 1");
  Page purged = post("/admin/trash-bin/" + op + "/purge/", confirmation(purge, "gdpr request"));
  EXPECT_EQ(purged.status, 302) << purged.body;
  {
    Database d = db();
    EXPECT_EQ(d.all_objects("notes.Note").count(), 0);
    EXPECT_EQ(d.all_objects("notes.Reply").count(), 0);
  }
  entries = log_entries();
  EXPECT_EQ(entries[0].action, kAuditPurge);
  EXPECT_EQ(entries[0].reason, "gdpr request");
  EXPECT_EQ(entries[0].counts.total, 2);
  EXPECT_CONTAINS(get("/admin/trash-bin/").body, "The trash is empty.");
}

TEST_P(Admin, RestoreAndPurgeRefuseWithoutEveryPermissionAndShowRestoreErrors) {
  std::string reply_op;
  {
    Database d = db();
    d.audit().enabled = true;
    auto n = d.objects("notes.Note").create({{"title", "n"}});
    auto r = d.objects("notes.Reply").create({{"note", n.pk()}});
    d.objects("notes.Reply").remove(r);  // an operation of its own
    reply_op = AuditLog(d).entries().front().operation;
    d.objects("notes.Note").remove(n);  // then its note, in another operation
  }
  grant("staff", "notes.restore_note");
  ASSERT_EQ(log_in("staff", "staff-pass").status, 302);
  // The reply's operation brings back a reply: the staff user may not restore replies.
  Page refused = get("/admin/trash-bin/" + reply_op + "/restore/");
  EXPECT_CONTAINS(refused.body, "doesn’t have permission to restore");
  EXPECT_CONTAINS(refused.body, "<li>reply</li>");
  EXPECT_EQ(refused.body.find("Yes, restore them"), std::string::npos);
  EXPECT_EQ(post("/admin/trash-bin/" + reply_op + "/restore/", confirmation(refused)).status, 403);
  Page no_purge = get("/admin/trash-bin/" + reply_op + "/purge/");
  EXPECT_CONTAINS(no_purge.body, "doesn’t have permission to delete for good");
  EXPECT_EQ(post("/admin/trash-bin/" + reply_op + "/purge/", confirmation(no_purge)).status, 403);
  grant("staff", "notes.restore_reply");
  // Allowed now, but the reply's note is still in the trash: restore's own error, shown.
  Page page = get("/admin/trash-bin/" + reply_op + "/restore/");
  Page error = post("/admin/trash-bin/" + reply_op + "/restore/", confirmation(page));
  EXPECT_EQ(error.status, 409);
  EXPECT_CONTAINS(error.body, "Cannot restore");
  EXPECT_CONTAINS(error.body, "is deleted and not restored with it");
  EXPECT_CONTAINS(error.body, "Nothing was restored.");
  EXPECT_EQ(db().deleted_objects("notes.Reply").all().count(), 1);
}

// ---- the confirmation at scale ------------------------------------------------------------------

TEST_P(Admin, EachCountLinksToEveryObjectOfItsModelPageByPage) {
  seed(12);  // 78 posts and comments
  ASSERT_EQ(log_in("root", "root-pass").status, 302);
  Page page = select("blog/author", {}, /*all=*/true);
  EXPECT_CONTAINS(page.body, "Posts: 78");
  std::string link =
      "/admin/blog/author/delete_selected/objects/?selection=" + selection + "&label=blog.Comment";
  EXPECT_CONTAINS(page.body, "delete_selected/objects/?selection=");
  Page first = get(link);
  EXPECT_EQ(first.status, 200);
  EXPECT_CONTAINS(first.body, "Comments this delete would remove: 78");
  EXPECT_CONTAINS(first.body, "Page 1 of 1");
  EXPECT_CONTAINS(first.body, "Comment 78 on post 78");
  EXPECT_EQ(get(link + "&page=2").status, 404);
  EXPECT_EQ(
      get("/admin/blog/author/delete_selected/objects/?selection=forged&label=blog.Comment").status,
      400);
  EXPECT_EQ(count("blog.Comment"), 78);  // nothing changed; the selection still works
  EXPECT_EQ(confirm("blog/author", page).status, 302);
  EXPECT_EQ(count("blog.Comment"), 0);
}

TEST_P(Admin, ALargeDeleteRunsAsABackgroundJobWithAProgressPage) {
  configure = [this](web::AdminSite& site) {
    site.register_all();
    site.set_background_jobs([this] { return db(); }, /*rows=*/5);
  };
  restart({});
  seed(3);  // 3 authors, 6 posts, 6 comments
  ASSERT_EQ(log_in("root", "root-pass").status, 302);
  Page small = select("blog/author", {"1"});  // 3 rows: in the request
  EXPECT_EQ(confirm("blog/author", small).status, 302);
  Page page = select("blog/author", {"2", "3"});  // 12 rows: a job
  auto form = confirmation(page, "big cleanup");
  form.emplace("selection", field(page.body, "selection"));
  Page started = post("/admin/blog/author/delete_selected/", form);
  ASSERT_EQ(started.status, 303) << started.body;
  EXPECT_EQ(started.location.rfind("/admin/background-jobs/", 0), 0u) << started.location;
  Page job;
  for (int i = 0; i < 200; ++i) {
    job = get(started.location);
    if (job.body.find("Delete finished") != std::string::npos) break;
    EXPECT_CONTAINS(job.body, "http-equiv=\"refresh\"");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_CONTAINS(job.body, "Successfully deleted 12 objects.");
  EXPECT_EQ(job.body.find("http-equiv=\"refresh\""), std::string::npos);
  EXPECT_EQ(count("blog.Author"), 0);
  auto entries = log_entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].user, "root");
  EXPECT_EQ(entries[0].reason, "big cleanup");
  EXPECT_EQ(entries[0].counts.total, 12);
  // The selection was used up; another user cannot see the job.
  EXPECT_EQ(post("/admin/blog/author/delete_selected/", form).status, 400);
  grant("staff", "blog.view_author");
  ASSERT_EQ(log_in("staff", "staff-pass").status, 302);
  EXPECT_EQ(get(started.location).status, 404);
}

TEST_P(Admin, ABackgroundJobBoundToAChangedPreviewDeletesNothing) {
  configure = [this](web::AdminSite& site) {
    site.register_all();
    site.set_background_jobs([this] { return db(); }, /*rows=*/1);
  };
  restart({});
  seed(2);
  ASSERT_EQ(log_in("root", "root-pass").status, 302);
  Page page = select("blog/author", {"2"});
  db().objects("blog.Post").create({{"title", "late"}, {"author", 2}});
  auto form = confirmation(page);
  form.emplace("selection", field(page.body, "selection"));
  Page started = post("/admin/blog/author/delete_selected/", form);
  ASSERT_EQ(started.status, 303);
  Page job;
  for (int i = 0; i < 200; ++i) {
    job = get(started.location);
    if (job.body.find("Nothing was deleted") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_CONTAINS(job.body, "nothing was changed");
  EXPECT_EQ(count("blog.Author"), 2);
  EXPECT_TRUE(log_entries().empty());
}

}  // namespace
}  // namespace cascade::testing
