// The audit log: an entry per delete, soft delete, restore and purge, written in the operation's
// transaction; the recorded rows; nothing for an operation that rolls back. Every backend.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "cascade/database.h"
#include "cascade/db/transaction.h"
#include "cascade/deletion/audit.h"
#include "cascade/deletion/soft_delete.h"
#include "cascade/error.h"
#include "cascade/model/loader.h"
#include "cascade/query/queryset.h"
#include "support/backends.h"

namespace cascade {
namespace {

const char* kModels = R"(
[models.a.Author]
display = "{name}"
fields.name = { type = "char", max_length = 20 }

[models.a.Post]
display = "{title}"
fields.title = { type = "char", max_length = 20 }
fields.author = { type = "foreign_key", to = "Author", on_delete = "CASCADE", related_name = "posts" }

[models.a.Comment]
fields.post = { type = "foreign_key", to = "Post", on_delete = "CASCADE", related_name = "comments" }

[models.a.Pin]
fields.post = { type = "foreign_key", to = "Post", on_delete = "PROTECT", related_name = "pins" }

[models.a.Folder]
delete_policy = "soft"
display = "{name}"
fields.name = { type = "char", max_length = 20 }

[models.a.Doc]
delete_policy = "soft"
fields.folder = { type = "foreign_key", to = "Folder", on_delete = "CASCADE", related_name = "docs" }
)";

const Registry& audit_models() {
  static Project* project = new Project(parse_project(kModels, "audit.toml"));
  return *project->registry;
}

class AuditTest : public cascade::testing::BackendTest {
 protected:
  Database db = [this] {
    Database d = Database::open(audit_models(), scratch.url());
    d.migrate();
    AuditLog(d).migrate();
    d.audit().enabled = true;
    d.audit().tool = "test";
    return d;
  }();
  Manager authors = db.objects("a.Author");
  Manager posts = db.objects("a.Post");
  Manager comments = db.objects("a.Comment");
  AuditLog log{db};

  // An author with `n` posts, each with two comments.
  Instance author_with_posts(int n) {
    Instance a = authors.create({{"name", "ann"}});
    for (int i = 0; i < n; ++i) {
      Instance p = posts.create({{"title", "p" + std::to_string(i)}, {"author", a.pk()}});
      comments.create({{"post", p.pk()}});
      comments.create({{"post", p.pk()}});
    }
    return a;
  }

  std::multiset<std::pair<std::string, std::string>> recorded(const std::string& operation) {
    std::multiset<std::pair<std::string, std::string>> out;
    log.for_each_row(operation,
                     [&](const std::string& m, const std::string& pk) { out.emplace(m, pk); });
    return out;
  }

  std::multiset<std::pair<std::string, std::string>> keys_of(const std::string& label,
                                                             const QuerySet& qs) {
    std::multiset<std::pair<std::string, std::string>> out;
    for (const auto& row : qs.values_list({"pk"}, true).rows()) {
      out.emplace(label, row[0].to_string());
    }
    return out;
  }
};
CASCADE_ON_EVERY_BACKEND(AuditTest);

TEST_P(AuditTest, OffByDefaultWritesNothing) {
  Database plain = Database::open(audit_models(), scratch.url());
  EXPECT_FALSE(plain.audit().enabled);
  Instance a = authors.create({{"name", "x"}});
  plain.objects("a.Author").filter({{"pk", a.pk()}}).remove();
  EXPECT_EQ(log.count(), 0);
}

TEST_P(AuditTest, AnEntryHoldsWhoWhatWhyAndTheCountsOfTheResult) {
  Instance a = author_with_posts(2);
  db.audit().user = "alice";
  db.audit().reason = "spam account";
  DeleteResult r = authors.filter({{"pk", a.pk()}}).remove();
  ASSERT_EQ(log.count(), 1);
  AuditEntry e = log.entries().front();
  EXPECT_EQ(e.action, kAuditDelete);
  EXPECT_EQ(e.operation.size(), 36u);
  EXPECT_EQ(e.user, "alice");
  EXPECT_EQ(e.tool, "test");
  EXPECT_FALSE(e.os_user.empty());
  EXPECT_EQ(e.reason, "spam account");
  EXPECT_EQ(e.root_model, "a.Author");
  EXPECT_EQ(e.root_keys, std::vector<std::string>{a.pk().to_string()});
  EXPECT_EQ(e.root_count, 1);
  EXPECT_EQ(e.counts.per_model, r.per_model);  // the result's own counts, in its order
  EXPECT_EQ(e.counts.total, 7);
  EXPECT_FALSE(e.rows_recorded);
  EXPECT_LE(e.at.micros, DateTime::now().micros);
  EXPECT_EQ(log.find(e.operation)->id, e.id);
}

TEST_P(AuditTest, ARefusedDeleteLeavesNoEntry) {
  Instance a = author_with_posts(1);
  Instance p = posts.filter({{"author", a.pk()}}).get();
  db.objects("a.Pin").create({{"post", p.pk()}});
  EXPECT_THROW(authors.filter({{"pk", a.pk()}}).remove(), ProtectedError);
  EXPECT_EQ(log.count(), 0);
}

TEST_P(AuditTest, ADeleteThatFailsHalfWayLeavesNoEntryAndNoRows) {
  db.audit().record_rows = true;
  Instance a = author_with_posts(3);
  // A receiver that raises after the comments are gone: everything rolls back, the log too.
  db.signals().connect(
      Signal::PostDelete, [](const SignalEvent&) { throw ValueError("receiver failed"); },
      &posts.meta());
  EXPECT_THROW(authors.filter({{"pk", a.pk()}}).remove(), ValueError);
  EXPECT_EQ(log.count(), 0);
  EXPECT_EQ(QuerySet(db, AuditLog::registry().get("cascade_audit.LogRow")).count(), 0);
}

TEST_P(AuditTest, ADeleteInsideARolledBackTransactionLeavesNoEntry) {
  Instance a = author_with_posts(1);
  {
    db::Atomic outer(db.connection());
    authors.filter({{"pk", a.pk()}}).remove();
    EXPECT_EQ(log.count(), 1);  // written in the delete's transaction...
  }                             // ...which the caller rolls back
  EXPECT_EQ(log.count(), 0);
  EXPECT_EQ(authors.count(), 1);
}

TEST_P(AuditTest, RecordedRowsAreExactlyTheRowsDeletedWhateverTheChunking) {
  db.audit().record_rows = true;
  for (std::int64_t chunk : {100000, 2, 1}) {
    Instance a = author_with_posts(5);
    Instance other = author_with_posts(1);
    auto expected = keys_of("a.Author", authors.filter({{"pk", a.pk()}}));
    auto more = keys_of("a.Post", posts.filter({{"author", a.pk()}}));
    expected.insert(more.begin(), more.end());
    more = keys_of("a.Comment", comments.filter({{"post__author", a.pk()}}));
    expected.insert(more.begin(), more.end());
    db.set_delete_chunk_size(chunk);
    DeleteResult r = authors.filter({{"pk", a.pk()}}).remove();
    AuditEntry e = log.entries().front();
    EXPECT_TRUE(e.rows_recorded);
    EXPECT_EQ(recorded(e.operation), expected) << "chunk " << chunk;
    EXPECT_EQ(static_cast<std::int64_t>(expected.size()), r.total);
    authors.filter({{"pk", other.pk()}}).remove();
  }
}

TEST_P(AuditTest, TheSingleStatementDeleteIsRecordedToo) {
  db.audit().record_rows = true;
  Instance a = author_with_posts(1);
  Instance p = posts.filter({{"author", a.pk()}}).get();
  auto expected = keys_of("a.Comment", comments.filter({{"post", p.pk()}}));
  DeleteResult r = comments.filter({{"post", p.pk()}}).remove();  // no relation: one DELETE
  EXPECT_EQ(r.total, 2);
  AuditEntry e = log.entries().front();
  EXPECT_EQ(e.root_model, "a.Comment");
  EXPECT_EQ(e.root_count, 2);
  EXPECT_EQ(recorded(e.operation), expected);
}

TEST_P(AuditTest, RootKeysAreCappedButTheirNumberIsExact) {
  Instance a = authors.create({{"name", "many"}});
  for (int i = 0; i < kRootKeysKept + 5; ++i) posts.create({{"title", "t"}, {"author", a.pk()}});
  posts.filter({{"author", a.pk()}}).remove();
  AuditEntry e = log.entries().front();
  EXPECT_EQ(e.root_count, kRootKeysKept + 5);
  EXPECT_EQ(static_cast<std::int64_t>(e.root_keys.size()), kRootKeysKept);
}

TEST_P(AuditTest, SoftDeleteRestoreAndPurgeEachWriteOneEntry) {
  db.audit().record_rows = true;
  Manager folders = db.objects("a.Folder");
  Manager docs = db.objects("a.Doc");
  Instance f = folders.create({{"name", "f"}});
  docs.create({{"folder", f.pk()}});
  docs.create({{"folder", f.pk()}});
  folders.remove(f);
  AuditEntry soft = log.entries().front();
  EXPECT_EQ(soft.action, kAuditSoftDelete);
  // The operation id is the deletion_id its rows carry, which the trash and restore use.
  EXPECT_EQ(soft.operation,
            db.deleted_objects("a.Folder").all().get().get("deletion_id").as_text());
  EXPECT_EQ(soft.counts.total, 3);
  EXPECT_EQ(recorded(soft.operation).size(), 3u);

  DeleteResult restored = db.deleted_objects("a.Folder").all().restore();
  EXPECT_EQ(restored.total, 3);
  AuditEntry back = log.entries().front();
  EXPECT_EQ(back.action, kAuditRestore);
  EXPECT_EQ(back.refers_to, std::vector<std::string>{soft.operation});
  EXPECT_EQ(back.counts.per_model, restored.per_model);
  EXPECT_EQ(back.root_model, "a.Folder");
  EXPECT_EQ(recorded(back.operation).size(), 3u);

  Instance again = folders.all().get();
  folders.remove(again);
  std::int64_t before = log.count();
  DeleteResult purged = PurgePlan(db, {&folders.meta(), &docs.meta()}, DateTime::now()).execute();
  EXPECT_EQ(purged.total, 3);
  EXPECT_EQ(log.count(), before + 1);  // one entry for the purge, not one per model
  AuditEntry purge = log.entries().front();
  EXPECT_EQ(purge.action, kAuditPurge);
  EXPECT_EQ(purge.root_model, "a.Folder, a.Doc");
  EXPECT_EQ(purge.counts.total, 3);
  EXPECT_EQ(recorded(purge.operation).size(), 3u);  // the purge's deletes joined its entry
}

TEST_P(AuditTest, EachRunOfASoftDeletePlanIsAnOperationOfItsOwn) {
  Manager folders = db.objects("a.Folder");
  folders.create({{"name", "first"}});
  DeletionPlan plan = Collector(db).collect(folders.all());
  EXPECT_EQ(plan.execute().total, 1);
  folders.create({{"name", "second"}});
  EXPECT_EQ(plan.execute().total, 1);  // the live rows now: the second folder
  auto entries = log.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_NE(entries[0].operation, entries[1].operation);
  std::set<std::string> ids;
  for (const auto& row :
       db.deleted_objects("a.Folder").all().values_list({"deletion_id"}, true).rows()) {
    ids.insert(row[0].as_text());
  }
  EXPECT_EQ(ids, (std::set<std::string>{entries[0].operation, entries[1].operation}));
}

TEST_P(AuditTest, ARefusedRestoreLeavesNoEntry) {
  Manager folders = db.objects("a.Folder");
  Manager docs = db.objects("a.Doc");
  Instance f = folders.create({{"name", "f"}});
  Instance d = docs.create({{"folder", f.pk()}});
  docs.remove(d);
  folders.remove(f);  // a second operation: restoring the doc alone would leave it dangling
  std::int64_t before = log.count();
  EXPECT_THROW(db.deleted_objects("a.Doc").filter({{"pk", d.pk()}}).restore(), RestoreError);
  EXPECT_EQ(log.count(), before);
}

TEST_P(AuditTest, EntriesFilterByActionModelUserAndPage) {
  Instance a = author_with_posts(1);
  db.audit().user = "bob";
  comments.filter({{"post__author", a.pk()}}).remove();
  db.audit().user = "carol";
  authors.filter({{"pk", a.pk()}}).remove();
  EXPECT_EQ(log.count(), 2);
  EXPECT_EQ(log.count({.user = "bob"}), 1);
  EXPECT_EQ(log.count({.model = "a.Post"}), 1);
  EXPECT_EQ(log.count({.model = "a.Comment"}), 1);
  EXPECT_EQ(log.count({.model = "a.Pin"}), 0);
  EXPECT_EQ(log.count({.action = std::string(kAuditRestore)}), 0);
  auto page = log.entries({}, 1, 1);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page.front().user, "bob");  // newest first
}

TEST_P(AuditTest, AScopeSetsTheSettingsAndPutsThemBack) {
  {
    AuditScope scope(db, {.enabled = true, .user = "dave", .tool = "admin", .reason = "r"});
    authors.create({{"name", "z"}});
    authors.all().remove();
  }
  EXPECT_EQ(db.audit().tool, "test");
  EXPECT_EQ(db.audit().user, "");
  AuditEntry e = log.entries().front();
  EXPECT_EQ(e.user, "dave");
  EXPECT_EQ(e.tool, "admin");
  EXPECT_EQ(e.reason, "r");
}

}  // namespace
}  // namespace cascade
