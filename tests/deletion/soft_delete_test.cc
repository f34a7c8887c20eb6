// Soft delete: policies, managers, restore of exactly one operation, purge, unique reuse,
// signals, previews; and every policy mixed with every on_delete rule. Every backend.
#include <gtest/gtest.h>

#include <cctype>
#include <set>

#include <sstream>

#include "cascade/database.h"
#include "cascade/db/transaction.h"
#include "cascade/deletion/soft_delete.h"
#include "cascade/error.h"
#include "cascade/model/loader.h"
#include "support/backends.h"

namespace cascade {
namespace {

const char* kModels = R"(
[models.s.Author]
delete_policy = "soft"
display = "{name}"
fields.name = { type = "char", max_length = 20, unique = true }

[models.s.Tag]
display = "{name}"
fields.name = { type = "char", max_length = 20 }

[models.s.Post]
delete_policy = "soft"
display = "{title}"
fields.title = { type = "char", max_length = 20 }
fields.author = { type = "foreign_key", to = "Author", on_delete = "CASCADE", related_name = "posts" }
fields.editor = { type = "foreign_key", to = "Author", on_delete = "SET_NULL", null = true, related_name = "edited" }
fields.tags = { type = "many_to_many", to = "Tag", related_name = "posts" }

[models.s.Comment]
display = "{body}"
fields.post = { type = "foreign_key", to = "Post", on_delete = "CASCADE", related_name = "comments" }
fields.body = { type = "text" }

[models.s.Like]
delete_policy = "soft"
fields.post = { type = "foreign_key", to = "Post", on_delete = "CASCADE", related_name = "likes" }

[models.s.Folder]
delete_policy = "soft_cascade"
display = "{name}"
fields.name = { type = "char", max_length = 20 }

[models.s.Doc]
delete_policy = "soft"
display = "{name}"
fields.name = { type = "char", max_length = 20 }
fields.folder = { type = "foreign_key", to = "Folder", on_delete = "CASCADE" }

[models.s.Stamp]
fields.doc = { type = "foreign_key", to = "Doc", on_delete = "CASCADE" }

[models.s.Ledger]
delete_policy = "never"
fields.author = { type = "foreign_key", to = "Author", on_delete = "CASCADE", null = true, related_name = "ledger" }
)";

const Registry& soft_registry() {
  static Project* project = new Project(parse_project(kModels, "soft.toml"));
  return *project->registry;
}

class SoftDeleteTest : public cascade::testing::BackendTest {
 protected:
  Database db = [this] {
    Database d = Database::open(soft_registry(), scratch.url());
    d.migrate();
    return d;
  }();
  Manager authors = db.objects("s.Author");
  Manager posts = db.objects("s.Post");
  Manager comments = db.objects("s.Comment");
  Manager likes = db.objects("s.Like");

  // Every row of every table, as text, for "identical to before" comparisons.
  std::string dump() {
    std::ostringstream out;
    for (const ModelMeta* m : db.registry().models()) {
      out << m->label() << "\n";
      for (const auto& row : db.all_objects(m->label()).order_by({"pk"}).values_list().rows()) {
        for (const auto& v : row) out << v.repr() << " ";
        out << "\n";
      }
    }
    return out.str();
  }
};
CASCADE_ON_EVERY_BACKEND(SoftDeleteTest);

TEST_P(SoftDeleteTest, SoftPolicyMarksSoftRowsAndFollowsOnDeleteForOthers) {
  Instance ann = authors.create({{"name", "Ann"}});
  Instance bob = authors.create({{"name", "Bob"}});
  Instance p = posts.create({{"title", "hello"}, {"author", ann.pk()}});
  Instance edited = posts.create({{"title", "edited"}, {"author", bob.pk()}, {"editor", ann.pk()}});
  comments.create({{"post", p.pk()}, {"body", "c"}});
  likes.create({{"post", p.pk()}});
  Instance tag = db.objects("s.Tag").create({{"name", "t"}});
  posts.many_to_many(p, "tags").add({tag.pk()});
  DeleteResult r = authors.remove(ann);
  EXPECT_EQ(r.total, 4);  // Author, Post, Like marked; Comment deleted
  EXPECT_EQ(r.count("s.Author"), 1);
  EXPECT_EQ(r.count("s.Post"), 1);
  EXPECT_EQ(r.count("s.Like"), 1);
  EXPECT_EQ(r.count("s.Comment"), 1);
  EXPECT_FALSE(ann.pk().is_null());  // a soft delete keeps the pk
  EXPECT_FALSE(ann.get("deleted_at").is_null());
  // Managers: objects hides, all_objects sees all, deleted_objects only the deleted.
  EXPECT_EQ(authors.count(), 1);
  EXPECT_EQ(db.all_objects("s.Author").count(), 2);
  EXPECT_EQ(db.deleted_objects("s.Author").count(), 1);
  EXPECT_THROW(authors.get(ann.pk()), DoesNotExist);
  EXPECT_EQ(posts.count(), 1);
  EXPECT_EQ(likes.count(), 0);
  EXPECT_EQ(comments.count(), 0);  // hard model: deleted by its CASCADE
  // Every row the operation marked carries the same deletion_id.
  Instance marked_post = db.all_objects("s.Post").get(p.pk());
  EXPECT_EQ(marked_post.get("deletion_id"),
            db.all_objects("s.Author").get(ann.pk()).get("deletion_id"));
  // SET_NULL still applies to live rows that referenced the author.
  EXPECT_TRUE(posts.get(edited.pk()).get("editor").is_null());
  // Many-to-many links are kept with the hidden row.
  EXPECT_EQ(posts.many_to_many(marked_post, "tags").pks().size(), 1u);
}

TEST_P(SoftDeleteTest, TheDefaultManagerHidesDeletedRowsInFiltersAndTraversal) {
  Instance ann = authors.create({{"name", "Ann"}});
  Instance p1 = posts.create({{"title", "kept"}, {"author", ann.pk()}});
  Instance p2 = posts.create({{"title", "gone"}, {"author", ann.pk()}});
  posts.remove(p2);
  EXPECT_EQ(authors.filter({{"posts__title", "gone"}}).count(), 0);
  EXPECT_EQ(authors.filter({{"posts__title", "kept"}}).count(), 1);
  EXPECT_EQ(authors.filter({{"posts__isnull", true}}).count(), 0);
  EXPECT_EQ(authors.exclude({{"posts__title", "gone"}}).count(), 1);
  EXPECT_EQ(posts.filter({{"author__name", "Ann"}}).count(), 1);
  EXPECT_EQ(db.all_objects("s.Post").filter({{"author__name", "Ann"}}).count(), 2);
  EXPECT_EQ(db.deleted_objects("s.Post").all().first()->pk(), p2.pk());
  EXPECT_EQ(posts.filter({{"pk__in", Arg::list({p1.pk(), p2.pk()})}}).count(), 1);
  // Deleting again does nothing: already-deleted rows keep their marks.
  Value first_id = db.all_objects("s.Post").get(p2.pk()).get("deletion_id");
  EXPECT_EQ(db.all_objects("s.Post").filter({{"pk", p2.pk()}}).remove().total, 0);
  EXPECT_EQ(db.all_objects("s.Post").get(p2.pk()).get("deletion_id"), first_id);
}

TEST_P(SoftDeleteTest, SoftCascadeRoundTripRestoresTheDatabaseExactly) {
  Instance folder = db.objects("s.Folder").create({{"name", "f"}});
  Instance other = db.objects("s.Folder").create({{"name", "other"}});
  Instance doc = db.objects("s.Doc").create({{"name", "d"}, {"folder", folder.pk()}});
  db.objects("s.Doc").create({{"name", "x"}, {"folder", other.pk()}});
  db.objects("s.Stamp").create({{"doc", doc.pk()}});
  std::string before = dump();
  DeleteResult r = db.objects("s.Folder").remove(folder);
  EXPECT_EQ(r.repr(), "(2, {'s.Doc': 1, 's.Folder': 1})");
  // soft_cascade leaves rows of models that are not soft-deletable alone.
  EXPECT_EQ(db.objects("s.Stamp").count(), 1);
  EXPECT_EQ(db.objects("s.Doc").count(), 1);
  DeleteResult back = db.deleted_objects("s.Folder").all().restore();
  EXPECT_EQ(back.total, 2);
  EXPECT_EQ(dump(), before);
}

TEST_P(SoftDeleteTest, RestoreBringsBackExactlyOneOperation) {
  Instance ann = authors.create({{"name", "Ann"}});
  Instance p1 = posts.create({{"title", "one"}, {"author", ann.pk()}});
  Instance p2 = posts.create({{"title", "two"}, {"author", ann.pk()}});
  likes.create({{"post", p1.pk()}});
  posts.remove(p1);  // operation 1: p1 and its like
  posts.remove(p2);  // operation 2: p2
  DeleteResult r = posts.restore(p1);
  EXPECT_EQ(r.repr(), "(2, {'s.Post': 1, 's.Like': 1})");
  EXPECT_EQ(posts.count(), 1);
  EXPECT_EQ(likes.count(), 1);
  EXPECT_TRUE(p1.get("deleted_at").is_null());  // the instance is refreshed
  EXPECT_EQ(db.deleted_objects("s.Post").count(), 1);
  // Restoring live rows, or through the default manager, does nothing.
  EXPECT_EQ(posts.all().restore().total, 0);
}

TEST_P(SoftDeleteTest, OperationIdsAreRandomUuids) {
  // Restore selects rows by their operation id: ids are version 4 UUIDs from the operating
  // system's random source, so two operations (or two processes) do not share one.
  Instance ann = authors.create({{"name", "Ann"}});
  Instance p1 = posts.create({{"title", "one"}, {"author", ann.pk()}});
  Instance p2 = posts.create({{"title", "two"}, {"author", ann.pk()}});
  posts.remove(p1);
  posts.remove(p2);
  std::set<std::string> ids;
  for (const auto& row :
       db.deleted_objects("s.Post").all().values_list({"deletion_id"}, true).rows()) {
    const std::string id = row[0].as_text();
    ASSERT_EQ(id.size(), 36u) << id;
    for (std::size_t i = 0; i < id.size(); ++i) {
      if (i == 8 || i == 13 || i == 18 || i == 23) {
        EXPECT_EQ(id[i], '-') << id;
      } else {
        EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(id[i]))) << id;
      }
    }
    EXPECT_EQ(id[14], '4') << id;                                          // version 4
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // RFC 4122 variant
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 2u);
}

TEST_P(SoftDeleteTest, RestoreRefusesARowWhoseParentIsStillDeleted) {
  Instance ann = authors.create({{"name", "Ann"}});
  Instance p = posts.create({{"title", "one"}, {"author", ann.pk()}});
  posts.remove(p);      // operation 1
  authors.remove(ann);  // operation 2 (the post is already deleted: not marked again)
  std::string before = dump();
  try {
    posts.restore(p);
    FAIL() << "expected RestoreError";
  } catch (const RestoreError& e) {
    EXPECT_EQ(std::string(e.what()), "Cannot restore <Post: one>: its author refers to Author " +
                                         ann.pk().to_string() +
                                         ", which is deleted and not restored with it.");
  }
  EXPECT_EQ(dump(), before);  // nothing changed
  authors.restore(ann);
  EXPECT_EQ(posts.restore(p).total, 1);
}

TEST_P(SoftDeleteTest, UniqueValuesCanBeReusedAndRestoreThenRefusesClearly) {
  Instance ann = authors.create({{"name", "Ann"}});
  authors.remove(ann);
  Instance again = authors.create({{"name", "Ann"}});  // allowed: the old row is deleted
  EXPECT_THROW(authors.create({{"name", "Ann"}}), IntegrityError);  // but unique among live
  try {
    authors.restore(ann);
    FAIL() << "expected RestoreError";
  } catch (const RestoreError& e) {
    EXPECT_STREQ(e.what(), "Cannot restore <Author: Ann>: another live Author has name 'Ann'.");
  }
  EXPECT_EQ(db.deleted_objects("s.Author").count(), 1);
  authors.remove(again);
  EXPECT_EQ(authors.restore(ann).total, 1);
}

TEST_P(SoftDeleteTest, PurgeHardDeletesOldSoftDeletedRows) {
  Instance ann = authors.create({{"name", "Ann"}});
  Instance p = posts.create({{"title", "one"}, {"author", ann.pk()}});
  comments.create({{"post", p.pk()}, {"body", "c"}});
  posts.remove(p);  // the comment goes now (hard model); the post is marked
  EXPECT_EQ(db.purge(std::chrono::hours(1)).total, 0);  // too recent
  DeleteResult r = db.purge(std::chrono::seconds(-1));  // everything soft-deleted so far
  EXPECT_EQ(r.repr(), "(1, {'s.Post': 1})");
  EXPECT_EQ(db.all_objects("s.Post").count(), 0);
  EXPECT_EQ(authors.count(), 1);
}

TEST_P(SoftDeleteTest, HardRemoveDeletesForRealIncludingSoftDeletedChildren) {
  Instance ann = authors.create({{"name", "Ann"}});
  Instance p1 = posts.create({{"title", "one"}, {"author", ann.pk()}});
  posts.create({{"title", "two"}, {"author", ann.pk()}});
  posts.remove(p1);
  DeleteResult r = authors.hard_remove(ann);
  EXPECT_EQ(r.repr(), "(3, {'s.Post': 2, 's.Author': 1})");
  EXPECT_EQ(db.all_objects("s.Post").count(), 0);
  EXPECT_TRUE(ann.pk().is_null());
}

TEST_P(SoftDeleteTest, NeverPolicyRefuses) {
  Instance ann = authors.create({{"name", "Ann"}});
  Instance entry = db.objects("s.Ledger").create({{"author", ann.pk()}});
  try {
    db.objects("s.Ledger").remove(entry);
    FAIL();
  } catch (const NotSupportedError& e) {
    EXPECT_STREQ(e.what(),
                 "Cannot delete instances of model 'Ledger': its delete_policy is 'never'.");
  }
  // A cascade that would reach its rows is refused too, changing nothing.
  EXPECT_THROW(authors.hard_remove(ann), ProtectedError);
  EXPECT_THROW(authors.remove(ann), ProtectedError);
  EXPECT_EQ(authors.count(), 1);
  EXPECT_EQ(db.objects("s.Ledger").count(), 1);
}

TEST_P(SoftDeleteTest, SoftDeleteAndRestoreSignals) {
  std::vector<std::string> log;
  auto record = [&](const char* what) {
    return [&log, what](const SignalEvent& e) {
      log.push_back(std::string(what) + " " + e.sender.object_name);
    };
  };
  db.signals().connect(Signal::PreSoftDelete, record("pre_soft"));
  db.signals().connect(Signal::PostSoftDelete, record("post_soft"));
  db.signals().connect(Signal::PreDelete, record("pre_delete"));
  db.signals().connect(Signal::PreRestore, record("pre_restore"));
  db.signals().connect(Signal::PostRestore, record("post_restore"));
  Instance ann = authors.create({{"name", "Ann"}});
  Instance p = posts.create({{"title", "one"}, {"author", ann.pk()}});
  comments.create({{"post", p.pk()}, {"body", "c"}});
  authors.remove(ann);
  EXPECT_EQ(log, (std::vector<std::string>{"pre_delete Comment", "pre_soft Post", "pre_soft Author",
                                           "post_soft Post", "post_soft Author"}));
  log.clear();
  authors.restore(ann);
  EXPECT_EQ(log, (std::vector<std::string>{"pre_restore Author", "post_restore Author",
                                           "pre_restore Post", "post_restore Post"}));
}

TEST_P(SoftDeleteTest, PreviewShowsWhatIsMarkedAndWhatIsDeleted) {
  Instance ann = authors.create({{"name", "Ann"}});
  Instance p = posts.create({{"title", "hello"}, {"author", ann.pk()}});
  comments.create({{"post", p.pk()}, {"body", "c"}});
  Preview preview = authors.filter({{"name", "Ann"}}).preview_remove();
  ASSERT_EQ(preview.tree.size(), 1u);
  EXPECT_TRUE(preview.tree[0].marked);
  ASSERT_EQ(preview.tree[0].children.size(), 1u);
  EXPECT_TRUE(preview.tree[0].children[0].marked);
  ASSERT_EQ(preview.tree[0].children[0].children.size(), 1u);
  EXPECT_FALSE(preview.tree[0].children[0].children[0].marked);
  EXPECT_NE(preview.text().find("- Author: Ann (soft-deleted)"), std::string::npos);
  EXPECT_EQ(authors.filter({{"name", "Ann"}}).remove().repr(), preview.counts.repr());
}

// ---- every policy with every on_delete rule ---------------------------------------------------

struct MatrixCase {
  std::string policy;  // of the parent
  OnDelete rule;       // of the child's key
  bool child_soft;
};

std::string matrix_toml(const MatrixCase& c) {
  std::ostringstream out;
  out << "[models.m.Parent]\ndelete_policy = \"" << c.policy << "\"\n"
      << "fields.name = { type = \"char\", max_length = 10 }\n"
      << "[models.m.Child]\n";
  if (c.child_soft) out << "delete_policy = \"soft\"\n";
  out << "fields.parent = { type = \"foreign_key\", to = \"Parent\", on_delete = \""
      << on_delete_name(c.rule) << "\", null = true, default = 1"
      << (c.rule == OnDelete::Set ? ", set = 1" : "") << " }\n";
  return out.str();
}

class PolicyMatrix
    : public ::testing::TestWithParam<std::tuple<std::string, std::string, OnDelete, bool>> {};

std::vector<std::tuple<std::string, std::string, OnDelete, bool>> matrix_cases() {
  std::vector<std::tuple<std::string, std::string, OnDelete, bool>> out;
  for (const auto& backend : cascade::testing::test_backends()) {
    for (const char* policy : {"hard", "soft", "soft_cascade"}) {
      for (OnDelete rule :
           {OnDelete::Cascade, OnDelete::Protect, OnDelete::Restrict, OnDelete::SetNull,
            OnDelete::SetDefault, OnDelete::Set, OnDelete::DoNothing}) {
        for (bool soft : {false, true}) out.emplace_back(backend, policy, rule, soft);
      }
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Policies, PolicyMatrix, ::testing::ValuesIn(matrix_cases()),
                         [](const auto& info) {
                           std::string name =
                               std::get<0>(info.param) + "_" + std::get<1>(info.param) + "_" +
                               std::string(on_delete_name(std::get<2>(info.param))) +
                               (std::get<3>(info.param) ? "_soft_child" : "_hard_child");
                           return name;
                         });

TEST_P(PolicyMatrix, OutcomeFollowsThePolicyAndTheRule) {
  auto [backend, policy, rule, child_soft] = GetParam();
  MatrixCase mc{policy, rule, child_soft};
  Project project = parse_project(matrix_toml(mc), "matrix.toml");
  cascade::testing::ScratchDatabase scratch(backend);
  Database db = Database::open(*project.registry, scratch.url());
  db.migrate();
  Manager parents = db.objects("m.Parent"), children = db.objects("m.Child");
  Instance keep = parents.create({{"name", "keep"}});  // pk 1: the default / SET target
  Instance gone = parents.create({{"name", "gone"}});
  Instance child = children.create({{"parent", gone.pk()}});
  bool soft = policy != "hard";
  std::string error;
  DeleteResult r;
  try {
    r = parents.remove(gone);
  } catch (const ProtectedError&) {
    error = "ProtectedError";
  } catch (const RestrictedError&) {
    error = "RestrictedError";
  } catch (const IntegrityError&) {
    error = "IntegrityError";
  }
  auto child_row = db.all_objects("m.Child").find(child.pk());
  bool parent_live = parents.find(gone.pk()).has_value();
  bool parent_row = db.all_objects("m.Parent").find(gone.pk()).has_value();
  // Expected, by policy and rule.
  if (rule == OnDelete::Protect || rule == OnDelete::Restrict) {
    EXPECT_EQ(error, rule == OnDelete::Protect ? "ProtectedError" : "RestrictedError");
    EXPECT_TRUE(parent_live);
    ASSERT_TRUE(child_row);
    EXPECT_EQ(child_row->get("parent"), gone.pk());
    return;
  }
  if (rule == OnDelete::DoNothing && !soft) {
    EXPECT_EQ(error, "IntegrityError");  // the deferred constraint refuses at commit
    EXPECT_TRUE(parent_live);
    return;
  }
  EXPECT_EQ(error, "");
  EXPECT_FALSE(parent_live);
  EXPECT_EQ(parent_row, soft);                    // soft: kept and marked
  bool follows_rule = !soft || policy == "soft";  // soft_cascade leaves other rows alone
  switch (rule) {
    case OnDelete::Cascade:
      if (child_soft && soft) {
        ASSERT_TRUE(child_row);
        EXPECT_FALSE(child_row->get("deleted_at").is_null());  // marked with its parent
      } else if (follows_rule) {
        EXPECT_FALSE(child_row.has_value());
      } else {
        ASSERT_TRUE(child_row);
        EXPECT_EQ(child_row->get("parent"), gone.pk());
      }
      break;
    case OnDelete::SetNull:
    case OnDelete::SetDefault:
    case OnDelete::Set: {
      ASSERT_TRUE(child_row);
      Value want = !follows_rule ? gone.pk() : rule == OnDelete::SetNull ? Value() : keep.pk();
      EXPECT_EQ(child_row->get("parent"), want);
      break;
    }
    case OnDelete::DoNothing:
      ASSERT_TRUE(child_row);
      EXPECT_EQ(child_row->get("parent"), gone.pk());
      break;
    default: break;
  }
  // A soft delete can be undone for what it marked.
  if (soft) {
    db.all_objects("m.Parent").filter({{"pk", gone.pk()}}).restore();
    EXPECT_TRUE(parents.find(gone.pk()).has_value());
    if (rule == OnDelete::Cascade && child_soft) {
      EXPECT_TRUE(children.find(child.pk()).has_value());
    }
  }
  EXPECT_GE(r.total, 1);
}

}  // namespace
}  // namespace cascade
