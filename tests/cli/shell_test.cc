// `cascade shell` runs Django shell scripts and prints what Django prints: each golden script
// under tests/cli/golden/ was run through Django 3.2; its output is checked in.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cascade/db/connection.h"
#include "cascade/value.h"
#include "support/process.h"
#include "support/pty.h"

namespace cascade {
namespace {

using cascade::testing::run_process;
using cascade::testing::TempDir;

const std::string kTool = CASCADE_TOOL_PATH;
const std::filesystem::path kGolden = std::filesystem::path(CASCADE_SOURCE_DIR) / "tests/cli/golden";

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

class GoldenShell : public ::testing::TestWithParam<std::string> {};

std::vector<std::string> golden_scripts() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(kGolden)) {
    if (e.path().extension() == ".py") out.push_back(e.path().stem().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Scripts, GoldenShell, ::testing::ValuesIn(golden_scripts()));

TEST_P(GoldenShell, OutputEqualsDjangos) {
  TempDir dir;
  // example_* scripts run on the example project, the others on the harness's models.
  std::string settings =
      GetParam().rfind("example_", 0) == 0
          ? (std::filesystem::path(CASCADE_SOURCE_DIR) / "examples/blog_shop/cascade.toml").string()
          : (kGolden / "blog.toml").string();
  std::string url = "sqlite:///" + dir.file("golden.db");
  ASSERT_EQ(run_process({kTool, "--settings", settings, "--database", url, "migrate"}).exit_code, 0);
  std::string script = slurp(kGolden / (GetParam() + ".py"));
  auto r = run_process({kTool, "--settings", settings, "--database", url, "shell"}, script);
  EXPECT_EQ(r.out, slurp(kGolden / (GetParam() + ".out")));
  std::string expected_error = last_line(slurp(kGolden / (GetParam() + ".err")));
  EXPECT_EQ(last_line(r.err), expected_error);
  EXPECT_EQ(r.exit_code, expected_error.empty() ? 0 : 1);
}

// A migrated database of a models file (default: the golden blog models), and `shell -c`.
struct Project {
  TempDir dir;
  std::string settings;
  std::string url = "sqlite:///" + dir.file("p.db");
  explicit Project(std::string models_file = (kGolden / "blog.toml").string())
      : settings(std::move(models_file)) {
    EXPECT_EQ(run_process({kTool, "--settings", settings, "--database", url, "migrate"}).exit_code, 0);
  }
  cascade::testing::ProcessResult shell(const std::string& code) const {
    return run_process({kTool, "--settings", settings, "--database", url, "shell", "-c", code});
  }
};

TEST(Shell, CommandOptionRunsCodeWithoutEcho) {
  TempDir dir;
  std::string settings = (kGolden / "blog.toml").string();
  std::string url = "sqlite:///" + dir.file("c.db");
  run_process({kTool, "--settings", settings, "--database", url, "migrate"});
  auto r = run_process({kTool, "--settings", settings, "--database", url, "shell", "-c",
                        "Author.objects.create(name='x')\nprint(Author.objects.count())"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1\n");  // the bare expression is not echoed, as exec() does not
}

TEST(Shell, ErrorsNameTheProblemAndStopTheScript) {
  TempDir dir;
  std::string settings = (kGolden / "blog.toml").string();
  std::string url = "sqlite:///" + dir.file("e.db");
  run_process({kTool, "--settings", settings, "--database", url, "migrate"});
  auto run = [&](const std::string& code) {
    return run_process({kTool, "--settings", settings, "--database", url, "shell", "-c", code});
  };
  auto syntax = run("Post.objects.get(id=");
  EXPECT_EQ(syntax.exit_code, 1);
  EXPECT_EQ(last_line(syntax.err), "SyntaxError: '(' was never closed");
  EXPECT_NE(syntax.err.find("    Post.objects.get(id=\n                    ^"), std::string::npos)
      << syntax.err;
  EXPECT_EQ(last_line(run("Psot.objects.all()").err),
            "NameError: name 'Psot' is not defined (did you mean 'Post'?)");
  EXPECT_EQ(last_line(run("Post.objects.filter(nope=1)").err),
            "django.core.exceptions.FieldError: Cannot resolve keyword 'nope' into field. "
            "Choices are: author, author_id, comments, editor, editor_id, id, is_deleted, "
            "status, tags, title");
  EXPECT_EQ(last_line(run("Post.objects.delete()").err),
            "AttributeError: 'Manager' object has no attribute 'delete'");
  EXPECT_EQ(last_line(run("from blog.models import Nope").err),
            "ImportError: cannot import name 'Nope' from 'blog.models'");
  auto quits = run("print(1)\nexit(3)\nprint(2)");
  EXPECT_EQ(quits.out, "1\n");
  EXPECT_EQ(quits.exit_code, 3);
  auto stops = run("print(1)\nx = undefined_name\nprint(2)");
  EXPECT_EQ(stops.out, "1\n");
  EXPECT_EQ(stops.exit_code, 1);
}

TEST(Shell, InputsTheFuzzerFoundAreRefusedOrHandled) {
  // Regression cases of fuzz/corpus/shell_*/regression-*: each once crashed the shell.
  TempDir dir;
  std::string settings = (kGolden / "blog.toml").string();
  std::string url = "sqlite:///" + dir.file("f.db");
  run_process({kTool, "--settings", settings, "--database", url, "migrate"});
  auto run = [&](const std::string& code) {
    return run_process({kTool, "--settings", settings, "--database", url, "shell", "-c", code});
  };
  // Deep nesting: Python's limit on open brackets, and a bound on expression depth.
  EXPECT_EQ(last_line(run(std::string(1000, '[')).err), "SyntaxError: too many nested parentheses");
  EXPECT_EQ(last_line(run(std::string(100000, '-') + "1").err),
            "SyntaxError: expression too deeply nested");
  std::string chain = "x = 1";
  for (int i = 0; i < 5000; ++i) chain += " + 1";
  EXPECT_EQ(last_line(run(chain).err), "SyntaxError: expression too deeply nested");
  // A list inside itself prints and compares as in Python.
  auto cyclic = run("a = [1]\na[0] = a\nprint(a)\nprint(a == a)\nd = {'k': a}\nprint(d)");
  EXPECT_EQ(cyclic.out, "[[...]]\nTrue\n{'k': [[...]]}\n") << cyclic.err;
  // Slices and indexes at the end of 64 bits.
  auto far = run("print(Post.objects.all()[9223372036854775807:])");
  EXPECT_EQ(far.out, "<QuerySet []>\n") << far.err;
  EXPECT_EQ(last_line(run("Post.objects.all()[9223372036854775807]").err),
            "IndexError: list index out of range");
  // Arithmetic past 64 bits.
  EXPECT_EQ(last_line(run("print(9223372036854775807 + 1)").err),
            "OverflowError: int too large to convert to a 64-bit integer");
  EXPECT_EQ(last_line(run("print(2 ** 100)").err),
            "OverflowError: int too large to convert to a 64-bit integer");
  auto smallest = run("print(-9223372036854775808)\nprint(1e999, -1e999)\nprint(7 // -1, -7 % 3)");
  EXPECT_EQ(smallest.out, "-9223372036854775808\ninf -inf\n-7 2\n") << smallest.err;
}

TEST(Shell, InteractiveSessionThroughAPseudoTerminal) {
  // The seeds' first way to delete data, typed at the prompt: results are echoed as Python's
  // prompt echoes them, errors print their last traceback line and the prompt goes on.
  TempDir dir;
  std::string settings = (kGolden / "blog.toml").string();
  std::string url = "sqlite:///" + dir.file("i.db");
  run_process({kTool, "--settings", settings, "--database", url, "migrate"});
  run_process({kTool, "--settings", settings, "--database", url, "shell", "-c",
               "a = Author.objects.create(name='Ann')\nPost.objects.create(title='t', author=a)"});
  cascade::testing::PtyProcess shell({kTool, "--settings", settings, "--database", url, "shell"});
  ASSERT_TRUE(shell.started());
  // Each step: what the terminal showed must contain the expected text (shown on failure).
  auto step = [&](const std::string& input, const std::string& prompt, const std::string& want) {
    if (!input.empty()) shell.send(input);
    std::string screen = shell.read_until(prompt);
    EXPECT_NE(screen.find(want), std::string::npos) << "after " << python_repr(input) << " the terminal showed:\n" << screen;
  };
  step("", ">>> ", "Cascade shell on");
  step("post = Post.objects.get(id=1)\n", ">>> ", ">>> ");
  step("post\n", ">>> ", "<Post: Post object (1)>");
  step("Post.objects.get(id=7)\n", ">>> ",
       "blog.models.Post.DoesNotExist: Post matching query does not exist.");
  step("Post.objects.filter(id__in=[1,\n", "... ", "... ");  // an open bracket asks for more
  step("2])\n", ">>> ", "<QuerySet [<Post: Post object (1)>]>");
  step("post.delete()\n", ">>> ", "(1, {'blog.Post': 1})");
  shell.send("exit()\n");
  EXPECT_EQ(shell.wait(), 0);
}

TEST(Shell, AWritingStatementWaitsForAnotherWriter) {
  // Another connection writes and commits while the statement is waiting: a deferred
  // transaction that had read first could not go on ("database is locked" at once); a writing
  // statement begins IMMEDIATE and waits.
  TempDir dir;
  std::string settings = (kGolden / "blog.toml").string();
  std::string url = "sqlite:///" + dir.file("w.db");
  run_process({kTool, "--settings", settings, "--database", url, "migrate"});
  run_process({kTool, "--settings", settings, "--database", url, "shell", "-c",
               "a = Author.objects.create(name='x')\nPost.objects.create(title='t', author=a)"});
  auto other = db::Connection::open(url);
  other->execute("BEGIN IMMEDIATE");
  other->execute("UPDATE blog_author SET name = 'y'");
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    other->execute("COMMIT");
  });
  auto r = run_process({kTool, "--settings", settings, "--database", url, "shell", "-c",
                        "print(Author.objects.filter(name__in=['x', 'y']).delete())"});
  release.join();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "(2, {'blog.Post': 1, 'blog.Author': 1})\n") << r.err;
}

TEST(Shell, RunsInAutocommitAsDjangosShell) {
  // Each ORM call commits on its own: a loop that fails on its third create keeps the first two,
  // as in Django's shell.
  Project p;
  auto r = p.shell("for n in ['a', 'b', None]: Author.objects.create(name=n)");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(last_line(r.err).find("IntegrityError"), std::string::npos) << r.err;
  EXPECT_EQ(p.shell("print(Author.objects.count())").out, "2\n");
  EXPECT_EQ(last_line(p.shell("Post.objects.fliter(id=1)").err),
            "AttributeError: 'Manager' object has no attribute 'fliter' (did you mean 'filter'?)");
}

TEST(Shell, AddingADeletedInstanceToAManyToManyIsRefusedAsInDjango) {
  Project p;
  auto r = p.shell("a = Author.objects.create(name='a'); p = Post.objects.create(title='p', "
                   "author=a); t = Tag.objects.create(name='t'); t.delete(); p.tags.add(t)");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(last_line(r.err),
            "ValueError: Cannot add \"<Tag: Tag object (None)>\": the value for field \"tag\" is "
            "None");
}

TEST(Shell, AnErrorAtCommitComesOutOfTheDeleteItself) {
  // A DO_NOTHING reference left behind fails the delete when it commits; Django raises it from
  // delete(), so print() never runs and nothing is deleted.
  TempDir models;
  std::string file = models.file("cascade.toml");
  std::ofstream(file) << R"([models.t.A]
fields.name = { type = "char", max_length = 20 }
[models.t.B]
fields.a = { type = "foreign_key", to = "A", on_delete = "DO_NOTHING" }
)";
  Project p(file);
  auto r = p.shell("a = A.objects.create(name='a'); B.objects.create(a=a); "
                   "print(A.objects.all().delete())");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(last_line(r.err), "django.db.utils.IntegrityError: FOREIGN KEY constraint failed");
  EXPECT_EQ(p.shell("print(A.objects.count(), B.objects.count())").out, "1 1\n");
}

}  // namespace
}  // namespace cascade
