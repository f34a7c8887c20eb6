// `cascade shell` runs Django shell scripts and prints what Django prints: each golden script
// under tests/cli/golden/ was run through Django 3.2; its output is checked in.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cascade/db/connection.h"
#include "cascade/error.h"
#include "cascade/model/loader.h"
#include "cascade/value.h"
#include "cli/shell/interpreter.h"
#include "support/backends.h"
#include "support/process.h"
#include "support/pty.h"

namespace cascade {
namespace {

using cascade::testing::run_process;
using cascade::testing::TempDir;

const std::string kTool = CASCADE_TOOL_PATH;
const std::filesystem::path kGolden =
    std::filesystem::path(CASCADE_SOURCE_DIR) / "tests/cli/golden";

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
  ASSERT_EQ(run_process({kTool, "--settings", settings, "--database", url, "migrate"}).exit_code,
            0);
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
    EXPECT_EQ(run_process({kTool, "--settings", settings, "--database", url, "migrate"}).exit_code,
              0);
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
    EXPECT_NE(screen.find(want), std::string::npos)
        << "after " << python_repr(input) << " the terminal showed:\n"
        << screen;
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

TEST(Shell, ReadOnlyRefusesEveryCallThatWritesAndRunsTheRest) {
  Project p;
  ASSERT_EQ(p.shell("a = Author.objects.create(name='a'); p = Post.objects.create(title='p', "
                    "author=a); t = Tag.objects.create(name='t'); p.tags.add(t)")
                .exit_code,
            0);
  auto read_only = [&](const std::string& code) {
    return run_process(
        {kTool, "--settings", p.settings, "--database", p.url, "shell", "--read-only", "-c", code});
  };
  // Reads, and changes to objects in memory, run.
  auto r = read_only(
      "p = Post.objects.get(title='p'); p.title = 'changed'; print(p.title, "
      "Post.objects.filter(author__name='a').count(), list(p.tags.all()))");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "changed 1 [<Tag: Tag object (1)>]\n");
  // Each call the method tables mark as writing is refused before it runs.
  const std::vector<std::pair<std::string, std::string>> writes{
      {"Author.objects.create(name='b')", "QuerySet.create"},
      {"Author.objects.get_or_create(name='b')", "QuerySet.get_or_create"},
      {"Author.objects.all().update(name='b')", "QuerySet.update"},
      {"Post.objects.all().delete()", "QuerySet.delete"},
      {"Author.objects.get(name='a').delete()", "Author.delete"},
      {"Author.objects.get(name='a').save()", "Author.save"},
      {"Post.objects.get(title='p').tags.clear()", "ManyRelatedManager.clear"},
      {"Post.objects.get(title='p').tags.add(Tag.objects.create(name='u'))", "QuerySet.create"},
  };
  for (const auto& [code, method] : writes) {
    auto w = read_only(code);
    EXPECT_EQ(w.exit_code, 1) << code;
    EXPECT_EQ(last_line(w.err), "PermissionError: " + method +
                                    "() writes to the database, and this shell is read-only "
                                    "(--read-only)")
        << code;
  }
  EXPECT_EQ(p.shell("print(Author.objects.count(), Post.objects.count(), Tag.objects.count(), "
                    "Post.objects.get().tags.count(), Author.objects.get().name)")
                .out,
            "1 1 1 1 a\n");
}

TEST(Shell, AddingADeletedInstanceToAManyToManyIsRefusedAsInDjango) {
  Project p;
  auto r = p.shell(
      "a = Author.objects.create(name='a'); p = Post.objects.create(title='p', "
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
  auto r = p.shell(
      "a = A.objects.create(name='a'); B.objects.create(a=a); "
      "print(A.objects.all().delete())");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(last_line(r.err), "django.db.utils.IntegrityError: FOREIGN KEY constraint failed");
  EXPECT_EQ(p.shell("print(A.objects.count(), B.objects.count())").out, "1 1\n");
}

// ---- Python's forgiveness (issue #14, item 5) ---------------------------------------------------

// An interactive `cascade shell` in a pseudo-terminal, with a HOME of its own (its history).
struct Terminal {
  cascade::testing::PtyProcess shell;
  Terminal(const Project& p, const std::filesystem::path& home)
      : shell({"/usr/bin/env", "HOME=" + home.string(), kTool, "--settings", p.settings,
               "--database", p.url, "shell"}) {}
  // Types `input` and returns what the terminal showed until `until` (a prompt by default).
  std::string type(const std::string& input, const std::string& until = ">>> ") {
    if (!input.empty()) shell.send(input);
    return shell.read_until(until);
  }
  // Ctrl-D at the prompt; the exit code.
  int eof() {
    shell.send("\x04");
    return shell.wait();
  }
};

bool has(const std::string& screen, const std::string& text) {
  return screen.find(text) != std::string::npos;
}

TEST(Shell, CtrlCAtThePromptDropsTheLineAndTheShellGoesOn) {
  Project p;
  TempDir home;
  Terminal t(p, home.path());
  ASSERT_TRUE(t.shell.started());
  t.type("");
  // Half a statement, then Ctrl-C: Python's prompt prints KeyboardInterrupt and forgets it.
  std::string screen = t.type("Author.objects.create(name='half typed')\x03");
  EXPECT_TRUE(has(screen, "KeyboardInterrupt")) << screen;
  // At the continuation prompt, the whole block is dropped.
  t.type("for i in range(3):\n", "... ");
  screen = t.type("    Author.objects.create(name='in the block')\x03");
  EXPECT_TRUE(has(screen, "KeyboardInterrupt")) << screen;
  screen = t.type("print(Author.objects.count() + 40)\n");
  EXPECT_TRUE(has(screen, "\r\n40\r\n")) << screen;
  EXPECT_EQ(t.eof(), 0);
}

TEST(Shell, CtrlCInterruptsAStatementAndRollsBackItsAtomicBlock) {
  Project p;
  p.shell("Author.objects.create(name='kept')");
  TempDir home;
  Terminal t(p, home.path());
  ASSERT_TRUE(t.shell.started());
  t.type("");
  t.type("from django.db import transaction\n");
  t.type("with transaction.atomic():\n", "... ");
  t.type("    Author.objects.create(name='rolled back')\n", "... ");
  t.type("    print('running')\n", "... ");
  t.type("    while True: n = 1\n", "... ");
  t.type("\n", "running\r\n");
  std::string screen = t.type("\x03");
  EXPECT_TRUE(has(screen, "KeyboardInterrupt")) << screen;
  screen = t.type("print(list(Author.objects.values_list('name', flat=True)))\n");
  EXPECT_TRUE(has(screen, "['kept']")) << screen;
  // Outside an atomic block the shell stays in autocommit: what ran before Ctrl-C stays.
  t.type("Tag.objects.create(name='t')\n");
  t.type("if True:\n", "... ");
  t.type("    print('looping')\n", "... ");
  t.type("    while True: n = 1\n", "... ");
  t.type("\n", "looping\r\n");
  screen = t.type("\x03");
  EXPECT_TRUE(has(screen, "KeyboardInterrupt")) << screen;
  screen = t.type("print(Tag.objects.count(), Author.objects.count())\n");
  EXPECT_TRUE(has(screen, "1 1")) << screen;
  EXPECT_EQ(t.eof(), 0);
}

TEST(Shell, CtrlCStopsALongSqlStatement) {
  // One author who wrote and edited 10000 posts: the count joins them 10000 x 10000 times,
  // half a minute of SQL. Ctrl-C stops it (sqlite3_interrupt); its result is never printed.
  Project p;
  {
    auto c = db::Connection::open(p.url);
    c->execute("INSERT INTO blog_author (name) VALUES ('a')");
    c->execute(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 10000) "
        "INSERT INTO blog_post (title, status, author_id, editor_id, is_deleted) "
        "SELECT 't' || x, 'published', 1, 1, 0 FROM n");
  }
  TempDir home;
  Terminal t(p, home.path());
  ASSERT_TRUE(t.shell.started());
  t.type("");
  t.type(
      "print('counting'); Author.objects.filter(posts__title__contains='t', "
      "edited_posts__title__contains='t').count()\n",
      "counting\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  std::string screen = t.type("\x03");
  EXPECT_TRUE(has(screen, "KeyboardInterrupt")) << screen;
  EXPECT_FALSE(has(screen, "100000000")) << screen;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  screen = t.type("print(Post.objects.count())\n");
  EXPECT_TRUE(has(screen, "\r\n10000\r\n")) << screen;
  EXPECT_EQ(t.eof(), 0);
}

TEST(Shell, ConnectionInterruptStopsTheRunningStatementOnEachBackend) {
  // What Ctrl-C calls, on each backend: the statement fails, the connection goes on working.
  for (const auto& backend : cascade::testing::test_backends()) {
    SCOPED_TRACE(backend);
    cascade::testing::ScratchDatabase scratch(backend);
    auto c = scratch.connect();
    std::string slow = backend == "sqlite"
                           ? "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
                             "WHERE x < 1000000000) SELECT count(*) FROM n"
                           : "SELECT pg_sleep(60)";
    std::atomic<bool> done{false};
    std::thread ctrl_c([&] {
      while (!done) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (!done) c->interrupt();
      }
    });
    auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(c->query(slow)->next(), OperationalError);
    done = true;
    ctrl_c.join();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
    auto rows = c->query("SELECT 1");
    ASSERT_TRUE(rows->next());
    EXPECT_EQ(rows->get(0).as_integer(), 1);
  }
}

TEST(Shell, AScriptStopsAtCtrlCWithPythonsStatus) {
  Project p;
  cascade::testing::PtyProcess shell({kTool, "--settings", p.settings, "--database", p.url, "shell",
                                      "-c",
                                      "print('running')\nwhile True:\n    pass\nprint('never')"});
  ASSERT_TRUE(shell.started());
  shell.read_until("running");
  shell.send("\x03");
  std::string screen = shell.read_until("KeyboardInterrupt");
  EXPECT_TRUE(has(screen, "KeyboardInterrupt")) << screen;
  EXPECT_FALSE(has(screen, "never")) << screen;
  EXPECT_EQ(shell.wait(), 130);
}

TEST(Shell, HistoryIsSavedAfterEachStatementAndABlockIsOneEntry) {
  Project p;
  TempDir home;
  auto history = home.path() / ".cascade_history";
  auto entries = [&] {
    std::vector<std::string> lines;
    std::ifstream in(history);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  };
  {
    Terminal t(p, home.path());
    ASSERT_TRUE(t.shell.started());
    t.type("");
    t.type("x = 41\n");
    auto saved = entries();  // written at once, while the shell runs
    ASSERT_FALSE(saved.empty());
    EXPECT_EQ(saved.back(), "x\\040=\\04041");  // libedit's file: one line an entry, escaped
    t.type("for i in range(2):\n", "... ");
    t.type("    print('line', i)\n", "... ");
    t.type("\n");
    saved = entries();
    ASSERT_EQ(saved.size(), 3u);  // libedit's header, then two entries: the loop is one
    EXPECT_TRUE(has(saved.back(), "range(2):")) << saved.back();
    EXPECT_TRUE(has(saved.back(), "print('line',")) << saved.back();
    // The shell is killed, not ended: nothing more is needed to keep the history.
  }
  Terminal t(p, home.path());
  ASSERT_TRUE(t.shell.started());
  t.type("");
  std::string screen = t.type("\x10", "print('line', i)");  // Ctrl-P: the loop, whole
  EXPECT_TRUE(has(screen, "for i in range(2):")) << screen;
  screen = t.type("\n");
  EXPECT_TRUE(has(screen, "line 0\r\nline 1\r\n")) << screen;
  EXPECT_EQ(t.eof(), 0);
}

TEST(Shell, PromptContinuesABlockUntilAnEmptyLine) {
  Project p;
  TempDir home;
  Terminal t(p, home.path());
  ASSERT_TRUE(t.shell.started());
  t.type("");
  EXPECT_TRUE(has(t.type("for i in range(2):\n", "... "), "... "));
  std::string screen = t.type("    print('in the loop', i)\n", "... ");  // the block goes on
  EXPECT_FALSE(has(screen, "in the loop 0")) << screen;
  screen = t.type("\n");
  EXPECT_TRUE(has(screen, "in the loop 0\r\nin the loop 1")) << screen;
  // Pasted code: a line at the margin ends the block before it, without the empty line.
  screen = t.type(
      "a = Author.objects.create(name='a')\nfor n in ['x', 'y']:\n    "
      "Post.objects.create(title=n, author=a, status='draft')\nprint('pasted', "
      "Post.objects.count())\n",
      "pasted 2");
  EXPECT_TRUE(has(screen, "pasted 2")) << screen;
  t.type("");
  screen = t.type("for post in Post.objects.filter(status=\"draft\"):\n    post.delete()\n\n");
  screen += t.type("print(Post.objects.count())\n");
  EXPECT_TRUE(has(screen, "\r\n0\r\n")) << screen;
  // A header and an empty line: Python's IndentationError, and the prompt goes on.
  t.type("if True:\n", "... ");
  screen = t.type("\n");
  EXPECT_TRUE(
      has(screen, "IndentationError: expected an indented block after 'if' statement on line 1"))
      << screen;
  // if / elif / else, nested in a loop.
  t.type("for k in range(3):\n", "... ");
  t.type("    if k == 0:\n", "... ");
  t.type("        print('zero')\n", "... ");
  t.type("    elif k == 1:\n", "... ");
  t.type("        print('one')\n", "... ");
  t.type("    else:\n", "... ");
  t.type("        print('more')\n", "... ");
  screen = t.type("\n");
  EXPECT_TRUE(has(screen, "zero\r\none\r\nmore\r\n")) << screen;
  EXPECT_EQ(t.eof(), 0);
}

TEST(Shell, TabCompletesNamesManagersFieldsAndMethods) {
  TempDir dir;
  Project blog;
  auto project = load_project(blog.settings);
  auto db = Database::open(*project.registry, "sqlite:///" + dir.file("c.db"));
  db.migrate();
  std::ostringstream out, err;
  shell::Interpreter interp(db, out, true);
  using List = std::vector<std::string>;
  EXPECT_EQ(interp.completions("Pos"), (List{"Post("}));
  EXPECT_EQ(interp.completions("pri"), (List{"print("}));
  EXPECT_EQ(interp.completions("fo"), (List{"for ", "format("}));
  EXPECT_EQ(interp.completions("Post.obj"), (List{"Post.objects"}));
  EXPECT_EQ(interp.completions("Post.objects.fi"),
            (List{"Post.objects.filter(", "Post.objects.first("}));
  // A manager has no delete(); a QuerySet has.
  EXPECT_EQ(interp.completions("Post.objects.de"), (List{}));
  ASSERT_TRUE(interp.run("qs = Post.objects.all(); post = Post(title='t')", err)) << err.str();
  EXPECT_EQ(interp.completions("qs.de"), (List{"qs.delete("}));
  EXPECT_EQ(interp.completions("post.ti"), (List{"post.title"}));
  EXPECT_EQ(interp.completions("post.ta"), (List{"post.tags"}));
  EXPECT_EQ(interp.completions("post.tags.a"), (List{"post.tags.add(", "post.tags.all("}));
  EXPECT_EQ(interp.completions("post.comm"), (List{"post.comments"}));  // a reverse relation
  // Through a foreign key, without a query (the post is not even saved).
  EXPECT_EQ(interp.completions("post.author.na"), (List{"post.author.name"}));
  ASSERT_TRUE(interp.run("from django.utils import timezone", err)) << err.str();
  EXPECT_EQ(interp.completions("timezone.n"), (List{"timezone.now("}));
  EXPECT_EQ(interp.completions("Nope.x"), (List{}));
  EXPECT_EQ(out.str(), "");

  // And at the prompt, through libedit.
  TempDir home;
  Terminal t(blog, home.path());
  ASSERT_TRUE(t.shell.started());
  t.type("");
  std::string screen = t.type("Post.obj\t", "objects");
  EXPECT_TRUE(has(screen, "Post.objects")) << screen;
  screen = t.type(".count()\n");
  EXPECT_TRUE(has(screen, "\r\n0\r\n")) << screen;
  EXPECT_EQ(t.eof(), 0);
}

TEST(Shell, BlocksAreIndentedAsInPython) {
  Project p;
  auto r = p.shell(
      "a = Author.objects.create(name='a')\n"
      "for i in range(3):\n"
      "    p = Post.objects.create(title=str(i), author=a, status='draft' if i else 'published')\n"
      "    if i == 0:\n"
      "        print('first')\n"
      "    elif i == 1:\n"
      "        print('second')\n"
      "\n"
      "    else:  # comments and empty lines do not end a block\n"
      "        print('third')\n"
      "print(Post.objects.count())\n");
  EXPECT_EQ(r.out, "first\nsecond\nthird\n3\n") << r.err;
  // The loop of issue #14, as pasted from a Django tutorial.
  r = p.shell(
      "for post in Post.objects.filter(status=\"draft\"):\n    "
      "post.delete()\nprint(Post.objects.count())");
  EXPECT_EQ(r.out, "1\n") << r.err;
  // while, break, continue and a loop's else.
  r = p.shell(
      "i = 0\nwhile i < 10:\n    i += 1\n    if i % 2:\n        continue\n    if i > 5:\n        "
      "break\n"
      "else:\n    print('not reached')\nfor k in []:\n    pass\nelse:\n    print('empty loop', i)");
  EXPECT_EQ(r.out, "empty loop 6\n") << r.err;
  // The body of a one-line loop is everything after the colon, as in Python.
  r = p.shell("for i in range(2): print('a', i); print('b', i)");
  EXPECT_EQ(r.out, "a 0\nb 0\na 1\nb 1\n") << r.err;
  // A script on standard input: indentation decides too (tabs count to multiples of 8).
  auto piped = run_process({kTool, "--settings", p.settings, "--database", p.url, "shell"},
                           "for i in range(2):\n\tif i:\n\t\tprint('tab', i)\n");
  EXPECT_EQ(piped.out, "tab 1\n") << piped.err;
}

TEST(Shell, IndentationErrorsAreThoseOfPython) {
  Project p;
  auto no_body = p.shell("for x in [1]:\nprint(x)");
  EXPECT_EQ(no_body.exit_code, 1);
  EXPECT_EQ(last_line(no_body.err),
            "IndentationError: expected an indented block after 'for' statement on line 1");
  EXPECT_TRUE(has(no_body.err, "line 2\n    print(x)\n    ^\n")) << no_body.err;
  EXPECT_EQ(last_line(p.shell("if True:\n    a = 1\n  b = 2").err),
            "IndentationError: unindent does not match any outer indentation level");
  EXPECT_EQ(last_line(p.shell("  x = 1").err), "IndentationError: unexpected indent");
  EXPECT_EQ(last_line(p.shell("if True:\n\tx = 1\n        y = 2").err),
            "TabError: inconsistent use of tabs and spaces in indentation");
  EXPECT_EQ(last_line(p.shell("if True:\n    pass\nelif False:\nx = 1").err),
            "IndentationError: expected an indented block after 'elif' statement on line 3");
  EXPECT_EQ(last_line(p.shell("break").err), "SyntaxError: 'break' outside loop");
  EXPECT_EQ(last_line(p.shell("if x\n    pass").err), "SyntaxError: expected ':'");
  EXPECT_EQ(last_line(p.shell("x = 1; for a in []: pass").err), "SyntaxError: invalid syntax");
  // Nothing ran: a script is parsed whole first, as Python compiles it.
  EXPECT_EQ(p.shell("Author.objects.create(name='a')\nif True:\npass").exit_code, 1);
  EXPECT_EQ(p.shell("print(Author.objects.count())").out, "0\n");
}

TEST(Shell, AnAtomicBlockIsRolledBackWhenItRaises) {
  Project p;
  auto r = p.shell(
      "from django.db import transaction\n"
      "Author.objects.create(name='kept')\n"
      "with transaction.atomic():\n"
      "    Author.objects.create(name='gone')\n"
      "    Author.objects.get(name='nobody')\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(last_line(r.err),
            "blog.models.Author.DoesNotExist: Author matching query does not exist.");
  EXPECT_EQ(p.shell("print(list(Author.objects.values_list('name', flat=True)))").out,
            "['kept']\n");
  // A block that ends, by its end or by break, commits; blocks nest as savepoints.
  r = p.shell(
      "from django.db import transaction\n"
      "for n in ['x', 'y']:\n"
      "    with transaction.atomic() as block:\n"
      "        Author.objects.create(name=n)\n"
      "        break\n"
      "with transaction.atomic():\n"
      "    Author.objects.create(name='outer')\n"
      "    with transaction.atomic():\n"
      "        Author.objects.create(name='inner')\n"
      "print(Author.objects.count())");
  EXPECT_EQ(r.out, "4\n") << r.err;
  EXPECT_EQ(last_line(p.shell("with 1:\n    pass").err),
            "TypeError: 'int' object does not support the context manager protocol");
}

TEST(Shell, AugmentedAssignmentWorksAsInPython) {
  Project p;
  auto r = p.shell(
      "n = 1\nn += 2\nn *= 5\nn -= 1\nn //= 2\nprint(n)\n"
      "l = [1]\nm = l\nl += [2]\nprint(m)\n"
      "d = {'k': 1}\nd['k'] += 1\nprint(d)\n"
      "a = Author.objects.create(name='x')\na.name += 'y'\na.save()\n"
      "print(Author.objects.get(pk=a.pk).name)\n"
      "count = 0\nfor post in Post.objects.all(): count += 1\nprint(count)");
  EXPECT_EQ(r.out, "7\n[1, 2]\n{'k': 2}\nxy\n0\n") << r.err;
  EXPECT_EQ(last_line(p.shell("x, y += 1").err),
            "SyntaxError: 'tuple' is an illegal expression for augmented assignment");
  EXPECT_EQ(last_line(p.shell("n = 1\nn += 'a'").err),
            "TypeError: unsupported operand type(s) for +=: 'int' and 'str'");
  EXPECT_EQ(last_line(p.shell("undefined += 1").err), "NameError: name 'undefined' is not defined");
}

TEST(Shell, ComprehensionsAndFStringsWork) {
  Project p;
  auto r = p.shell(
      "for n in ['b', 'a']: Author.objects.create(name=n)\n"
      "print([a.name for a in Author.objects.order_by('name')])\n"
      "print({a.name: a.id for a in Author.objects.all() if a.name == 'a'})\n"
      "print(sum(a.id for a in Author.objects.all()), [(i, j) for i, j in [(1, 2)]])\n"
      "a = 'kept'\nprint([a for a in range(2)], a)\n"  // the comprehension's own variable
      "n = Author.objects.count()\n"
      "print(f\"{n} authors, {'x'!r}, {2.5:.2f}|{7:>3}|{1234567:,}|{n=}, {{braces}}\")");
  EXPECT_EQ(r.out,
            "['a', 'b']\n{'a': 2}\n3 [(1, 2)]\n[0, 1] kept\n2 authors, 'x', 2.50|  "
            "7|1,234,567|n=2, {braces}\n")
      << r.err;
  // What the shell does not do is named precisely, not a bare "invalid syntax".
  EXPECT_EQ(last_line(p.shell("[x for a in [[1]] for x in a]").err),
            "SyntaxError: comprehensions with more than one 'for' are not supported by the cascade "
            "shell");
  EXPECT_EQ(last_line(p.shell("{1 for x in []}").err),
            "SyntaxError: set comprehensions are not supported by the cascade shell");
  EXPECT_EQ(
      last_line(p.shell("n = 3\nprint(f'{n:{n}}')").err),
      "SyntaxError: f-string: nested replacement fields in format specs are not supported by the "
      "cascade shell");
  EXPECT_EQ(last_line(p.shell("print(f'{}')").err),
            "SyntaxError: f-string: empty expression not allowed");
}

TEST(Shell, DatetimeAndTimedeltaWorkAsFilterValues) {
  Project p(
      (std::filesystem::path(CASCADE_SOURCE_DIR) / "examples/blog_shop/cascade.toml").string());
  auto r = p.shell(
      "from django.utils import timezone\n"
      "from datetime import datetime, timedelta, date\n"
      "a = Author.objects.create(name='a')\n"
      "Post.objects.create(title='old', author=a, published=timezone.now() - timedelta(days=40))\n"
      "Post.objects.create(title='new', author=a, published=timezone.now() - timedelta(hours=1))\n"
      "Post.objects.create(title='never', author=a)\n"
      "print(Post.objects.filter(published__lt=timezone.now() - timedelta(days=30)).delete())\n"
      "print(list(Post.objects.order_by('id').values_list('title', flat=True)))\n"
      "print(Post.objects.get(title='new').published > timezone.now() - timedelta(days=1))\n"
      "print(repr(timedelta(days=30)), repr(timedelta(minutes=-1)), timedelta(hours=36))\n"
      "print(repr(datetime(2026, 1, 2, 3, 4, 5) + timedelta(weeks=1)), datetime(2026, 1, 2) - "
      "timedelta(seconds=1))\n"
      "print(repr(date(2026, 3, 1) - date(2026, 1, 1)), repr(date(2026, 1, 31) + "
      "timedelta(days=1)))\n"
      "print(datetime(2026, 3, 1) - datetime(2026, 1, 1, 12), timedelta(days=1) / "
      "timedelta(hours=8))");
  EXPECT_EQ(
      r.out,
      "(1, {'blog.Post': 1})\n['new', 'never']\nTrue\n"
      "datetime.timedelta(days=30) datetime.timedelta(days=-1, seconds=86340) 1 day, 12:00:00\n"
      "datetime.datetime(2026, 1, 9, 3, 4, 5) 2026-01-01 23:59:59\n"
      "datetime.timedelta(days=59) datetime.date(2026, 2, 1)\n"
      "58 days, 12:00:00 3.0\n")
      << r.err;
  EXPECT_EQ(
      last_line(
          p.shell("from datetime import datetime, date\ndatetime(2026, 1, 1) < date(2026, 1, 1)")
              .err),
      "TypeError: can't compare datetime.datetime to datetime.date");
  EXPECT_EQ(last_line(p.shell("from datetime import datetime, timedelta\ndatetime(9999, 12, 31) + "
                              "timedelta(days=1)")
                          .err),
            "OverflowError: date value out of range");
}

// ---- The evaluator's tables (issue #15, item 4)
// ---------------------------------------------------- Each expected line was checked against
// Python 3 with Django 3.2.

TEST(Shell, SortedSortsAsPythonsDoes) {
  Project p;
  auto r = p.shell(
      "print(sorted([3, 1, 2]), sorted('bca'), sorted({'b': 1, 'a': 2}), sorted([3, 1, 2], "
      "reverse=True), "
      "sorted([(2, 'a'), (1, 'b'), (1, 'a')]))\n"
      "x = [3, 1, 2]\nprint(sorted(x), x, sorted([]), sorted([2.5, 1, True]))\n"
      "Author.objects.create(name='b'); Author.objects.create(name='a')\n"
      "print(sorted(Author.objects.values_list('name', flat=True)), "
      "sorted(Author.objects.values_list('name', 'id')))\n"
      "print((1, 2) < (1, 3), [1, 2] < [1], (1,) <= (1,), (1, 'a') > (1, 'b'), [] < [0])");
  EXPECT_EQ(r.out,
            "[1, 2, 3] ['a', 'b', 'c'] ['a', 'b'] [3, 2, 1] [(1, 'a'), (1, 'b'), (2, 'a')]\n"
            "[1, 2, 3] [3, 1, 2] [] [1, True, 2.5]\n"
            "['a', 'b'] [('a', 2), ('b', 1)]\n"
            "True False True False True\n")
      << r.err;
  EXPECT_EQ(last_line(p.shell("sorted([1, 'a'])").err),
            "TypeError: '<' not supported between instances of 'str' and 'int'");
  EXPECT_EQ(last_line(p.shell("(1,) < [1]").err),
            "TypeError: '<' not supported between instances of 'tuple' and 'list'");
  EXPECT_EQ(last_line(p.shell("sorted([1], x=1)").err),
            "TypeError: 'x' is an invalid keyword argument for sort()");
}

TEST(Shell, DictBuildsDictsAsPythonsDoes) {
  Project p;
  auto r = p.shell(
      "print(dict(), dict(a=1), dict([('a', 1), ['b', 2]]), dict({'k': 1}, k=2), dict(['ab']))\n"
      "d = {'k': 1}\ne = dict(d)\ne['k'] = 2\nprint(d, e)");
  EXPECT_EQ(r.out, "{} {'a': 1} {'a': 1, 'b': 2} {'k': 2} {'a': 'b'}\n{'k': 1} {'k': 2}\n")
      << r.err;
  EXPECT_EQ(last_line(p.shell("dict(1)").err), "TypeError: 'int' object is not iterable");
  EXPECT_EQ(last_line(p.shell("dict([1])").err),
            "TypeError: cannot convert dictionary update sequence element #0 to a sequence");
  EXPECT_EQ(last_line(p.shell("dict([(1, 2, 3)])").err),
            "ValueError: dictionary update sequence element #0 has length 3; 2 is required");
  EXPECT_EQ(last_line(p.shell("dict(1, 2)").err),
            "TypeError: dict expected at most 1 argument, got 2");
}

TEST(Shell, IsinstanceTakesAClassOrATupleOfClasses) {
  Project p;
  auto r = p.shell(
      "from django.db.models import Q\n"
      "a = Author.objects.create(name='a')\n"
      "print(isinstance(a, Author), isinstance(a, Post), isinstance(a, (Post, Author)), "
      "isinstance(1, int), "
      "isinstance(True, int), isinstance(1.5, float), isinstance('x', str), isinstance([], list), "
      "isinstance((), tuple), isinstance({}, dict), isinstance(Q(id=1), Q), "
      "isinstance(Author.objects.all(), list))\n"
      "from datetime import date, datetime, timedelta\n"
      "print(isinstance(datetime(2020, 1, 1), date), isinstance(date(2020, 1, 1), datetime), "
      "isinstance(timedelta(1), timedelta), isinstance(Author, type), isinstance(1, (str, (float, "
      "int))))");
  EXPECT_EQ(
      r.out,
      "True False True True True True True True True True True False\nTrue False True True True\n")
      << r.err;
  EXPECT_EQ(last_line(p.shell("isinstance(1, 'x')").err),
            "TypeError: isinstance() arg 2 must be a type, a tuple of types, or a union");
  EXPECT_EQ(last_line(p.shell("isinstance(1)").err),
            "TypeError: isinstance expected 2 arguments, got 1");
}

TEST(Shell, MethodTablesDecideAttributesCallsCompletionAndSuggestions) {
  Project p;
  // Arities and keywords are Django's, with Python's messages.
  EXPECT_EQ(last_line(p.shell("Post.objects.count(1)").err),
            "TypeError: QuerySet.count() takes 1 positional argument but 2 were given");
  EXPECT_EQ(last_line(p.shell("Post.objects.count(x=1)").err),
            "TypeError: QuerySet.count() got an unexpected keyword argument 'x'");
  EXPECT_EQ(last_line(p.shell("Post.objects.create(1)").err),
            "TypeError: QuerySet.create() takes 1 positional argument but 2 were given");
  EXPECT_EQ(last_line(p.shell("len([], x=1)").err), "TypeError: len() takes no keyword arguments");
  EXPECT_EQ(last_line(p.shell("min()").err), "TypeError: min expected at least 1 argument, got 0");
  EXPECT_EQ(last_line(p.shell("from django.utils import timezone\ntimezone.now(1)").err),
            "TypeError: now() takes 0 positional arguments but 1 was given");
  // A manager has no delete(): nothing to suggest either.
  EXPECT_EQ(last_line(p.shell("Post.objects.delet()").err),
            "AttributeError: 'Manager' object has no attribute 'delet'");
  EXPECT_EQ(last_line(p.shell("Post.objects.all().delet()").err),
            "AttributeError: 'QuerySet' object has no attribute 'delet' (did you mean 'delete'?)");
  EXPECT_EQ(
      last_line(p.shell("Post.objcts").err),
      "AttributeError: type object 'Post' has no attribute 'objcts' (did you mean 'objects'?)");
  EXPECT_EQ(last_line(p.shell("Author(name='a').sav()").err),
            "AttributeError: 'Author' object has no attribute 'sav' (did you mean 'save'?)");

  // Every name completion offers is an attribute the shell has.
  TempDir dir;
  auto project = load_project(p.settings);
  auto db = Database::open(*project.registry, "sqlite:///" + dir.file("t.db"));
  db.migrate();
  std::ostringstream out, err;
  shell::Interpreter interp(db, out, true);
  ASSERT_TRUE(interp.run(
      "import datetime\nfrom django.utils import timezone\na = Author.objects.create(name='a')\n"
      "post = Post.objects.create(title='t', author=a)\nqs = Post.objects.all()\n"
      "d = datetime.datetime(2020, 1, 2)\nt = datetime.timedelta(1)",
      err))
      << err.str();
  for (const std::string prefix :
       {"Post.", "Product.", "Post.objects.", "Product.objects.", "qs.", "post.", "a.posts.",
        "post.tags.", "datetime.", "datetime.date.", "timezone.", "d.", "t."}) {
    auto names = interp.completions(prefix);
    EXPECT_FALSE(names.empty()) << prefix;
    for (std::string name : names) {
      if (!name.empty() && name.back() == '(') name.pop_back();
      std::ostringstream lookup_err;
      EXPECT_TRUE(interp.run(name, lookup_err)) << name << ": " << lookup_err.str();
    }
  }
}

}  // namespace
}  // namespace cascade
