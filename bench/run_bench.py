#!/usr/bin/python3
"""`make bench`: Cascade side by side with Django 3.2 (Debian's python3-django) and raw SQLite
on the deletion workloads of bench/harness (the team's baseline harness), in one run.

usage: bench/run_bench.py BUILD_DIR [preset|SIZE] [--reps N] [--only S2,S3,...]
                          [--backend sqlite|postgres] [--explain]
  preset: default (the 100k sizes, and 1M for the cheap set-based ones), quick, large (10x),
          chains
  --backend postgres: the same scenarios on a throw-away PostgreSQL 15 server (started in
          $BENCH_TMP/pg and kept for the next run): Cascade, Django with psycopg2, and raw SQL
          through libpq (bench/harness/raw_bench_pg.c).
  --explain (PostgreSQL): one more, untimed Cascade run per shape with auto_explain, which logs
          the plan of every statement Cascade sends (EXPLAIN ANALYZE); the plans go to
          bench/results/explain-postgres/<scenario>-<size>.txt. With --reps 0, only that.

Every measurement runs in a fresh process on a fresh copy of a template database (data
creation is never timed); each is repeated --reps times (default 3), in rounds that run every
implementation once in turn, and the median reported.
Cascade runs on a copy of the very template Django runs on (same DDL, same rows). After every
run the database is fingerprinted (row counts per table, NULL editors, soft-deleted posts) and
every implementation must leave the same state. Results: bench/results/latest.{json,txt} and a
dated copy.
"""
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.path.join(HERE, "harness")
PY = "/usr/bin/python3"
WORK = os.environ.get("BENCH_TMP", "/tmp/cascade-bench")
RESULTS = os.path.join(HERE, "results")
DJ = os.path.join(HARNESS, "django_bench.py")
RAW_SRC = os.path.join(HARNESS, "raw_bench.c")
RAW_PG_SRC = os.path.join(HARNESS, "raw_bench_pg.c")

PRESETS = {
    "default": {"S1a": [100_000, 1_000_000], "S1b": [100_000], "S2": [100_000], "S3": [100_000],
                "S4": [100_000], "S5": [100_000], "S6a": [100_000, 1_000_000],
                "S6s": [100_000, 1_000_000], "S6t": [100_000], "A1": [125_000]},
    "quick": {s: [2_000] for s in ["S1a", "S1b", "S2", "S3", "S4", "S5", "S6a", "S6s", "S6t", "A1"]},
    "large": {"S1b": [1_000_000], "S2": [1_000_000], "S4": [1_000_000], "S5": [1_000_000]},
}
# Chains of depth 4 to 10 (D<d>: the delete; R<d>: the same refused by one PROTECT row at the
# bottom), at 100k and 1M rows: in the default preset, and alone in "chains".
CHAINS = ["D4", "D6", "D8", "D10", "R4", "R6", "R8", "R10", "V4", "V6", "V8", "V10"]
# A tree 100 levels deep (T: the delete of its roots; VT: its preview).
TREES = ["T", "VT"]
PRESETS["default"].update({s: [100_000, 1_000_000] for s in CHAINS + TREES})
PRESETS["chains"] = {s: [100_000, 1_000_000] for s in CHAINS + TREES}
PRESETS["quick"].update({s: [2_000] for s in CHAINS + TREES})
DESCR = {
    "S1a": "fast bulk delete, nothing references the model",
    "S1b": "bulk delete, PROTECT FK with no referencing rows",
    "S2": "cascade Author->Post->{Comment, tags}",
    "S3": "S2 + pre_delete receiver on Comment",
    "S4": "SET_NULL: delete editors of many posts",
    "S5": "one author.delete(), K posts",
    "S6a": "soft delete as update(is_deleted=True)",
    "S6s": "Cascade soft delete of the same QuerySet",
    "S6t": "Cascade soft_cascade tree: mark S2's authors, posts, comments",
    "A1": "admin confirmation page for deleting all of S2's authors: first byte",
}
for _s in CHAINS:
    DESCR[_s] = {"D": "cascade through a chain of %s models",
                 "R": "refusal: one PROTECT row at the bottom of a chain of %s models",
                 "V": "preview (counts, first 100 objects) of D%s's delete"}[_s[0]] % _s[1:]
DESCR["T"] = "cascade through a self-referencing tree 100 levels deep"
DESCR["VT"] = "preview (counts, first 100 objects) of T's delete"
# The preview behind a confirmation page costs at most this fraction of the delete itself.
PREVIEW_RATIO = 0.3
# Scenarios only Cascade can run (Django and raw SQLite have no soft delete with restore).
CASCADE_ONLY = {"S6t", "A1", "VT"} | {s for s in CHAINS if s[0] == "V"}
# A1's goal: the confirmation page of a cascade of about a million rows starts within a second.
FIRST_BYTE_LIMIT_S = 1.0
# Targets of the benchmark issue: (max Cascade/raw-set, max Cascade/best-raw, min Django/Cascade)
TARGETS = {"S1a": (1.1, None, None), "S6a": (1.1, None, None), "S6s": (1.5, None, None),
           "S1b": (1.3, None, None), "S2": (None, 1.2, 2.5), "S5": (None, 1.2, 6.0),
           "S3": (None, None, 5.0), "S4": (1.3, None, None)}
TARGETS.update({s: (None, 1.3, None) for s in CHAINS if s[0] == "D"})
TARGETS["T"] = (None, 1.3, None)
TARGETS.update({s: (None, None, None) for s in CHAINS if s[0] == "R"})
# A refusal by a few blocking rows, at any depth and size, in under 50 ms (nothing written).
MAX_SECONDS = {s: 0.05 for s in CHAINS if s[0] == "R"}
RSS_LIMIT_MB = 16.0
# S6s also against "marks": raw SQL writing the very columns Cascade's soft delete writes.
RAW_APP_MODES = {"S6a": ["manual999"], "S6s": ["manual999", "marks"]}
RAW_APP_MODES.update({s: ["manual999", "join"] for s in CHAINS if s[0] == "R"})


def delete_of(s):
    """The delete a preview scenario previews: V4 -> D4, VT -> T."""
    return "T" if s == "VT" else "D" + s[1:]


def data_scen(s):
    if s[0] == "V" and (s[1:].isdigit() or s == "VT"):
        return delete_of(s)
    return {"S3": "S2", "S6a": "S6", "S6s": "S6", "S6t": "S2", "A1": "S2"}.get(s, s)


def django_scen(s):  # the Django side of S6s is its S6a
    return "S6a" if s == "S6s" else s


def raw_scen(s):
    return "S6" if s.startswith("S6") else s


def fix_size(s, n):
    d = data_scen(s)
    if d == "S2":
        return max(100, n // 100 * 100)
    if d == "S4":
        return max(1000, n // 1000 * 1000)
    if d == "S1b":
        return max(10, n // 10 * 10)
    if d == "T":
        return max(100, n // 100 * 100)
    if d in CHAINS:
        depth = int(d[1:])
        return max(depth, n // depth * depth)
    return max(1, n)


def sh(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.stderr.write("FAILED: %s\n%s\n%s\n" % (" ".join(cmd), r.stdout[-2000:], r.stderr[-4000:]))
        raise SystemExit(1)
    return r.stdout


FINGERPRINT_TABLES = ["blog_author", "blog_post", "blog_comment", "blog_post_tags", "blog_tag",
                      "blog_product", "blog_plainproduct", "blog_order", "blog_orderitem"] + \
    ["blog_level%d" % k for k in range(1, 11)] + ["blog_guard", "blog_node"]


def fingerprint_with(q, columns):
    """The state every implementation must leave: row counts per table, NULL editors,
    soft-deleted posts. `q` runs a query that returns one value; `columns` lists a table's."""
    fp = {t: q("SELECT count(*) FROM %s" % t) for t in FINGERPRINT_TABLES}
    fp["post_editor_null"] = q("SELECT count(*) FROM blog_post WHERE editor_id IS NULL")
    # Cascade's soft delete marks deleted_at; the others set is_deleted: the same rows.
    if "deleted_at" in columns("blog_post"):
        fp["post_is_deleted"] = q("SELECT count(*) FROM blog_post WHERE deleted_at IS NOT NULL")
    else:
        fp["post_is_deleted"] = q("SELECT count(*) FROM blog_post WHERE is_deleted")
    return fp


class Sqlite:
    """Templates are files; each run gets a fresh copy of one."""
    name = "sqlite"

    def __init__(self):
        self.run_db = os.path.join(WORK, "run.sqlite3")
        self.raw_bin = os.path.join(WORK, "raw_bench")
        sh(["gcc", "-O2", "-Wall", "-o", self.raw_bin, RAW_SRC, "-lsqlite3"])

    def template(self, kind, scen, size):
        path = os.path.join(WORK, "tpl", "%s_%s_%d.sqlite3" % (kind, scen, size))
        if not os.path.exists(path):
            tmp = path + ".tmp"
            if kind == "dj":
                sh([PY, DJ, "build", scen, str(size), tmp])
            else:
                sh([self.raw_bin, "build", scen, str(size), tmp])
            os.replace(tmp, path)
        return path

    def fresh(self, tpl):
        for suf in ("", "-journal", "-wal", "-shm"):
            if os.path.exists(self.run_db + suf):
                os.remove(self.run_db + suf)
        shutil.copyfile(tpl, self.run_db)
        self.last_run = self.run_db
        return self.run_db

    def execute(self, db, statements):
        con = sqlite3.connect(db)
        for sql in statements:
            con.execute(sql)
        con.commit()
        con.close()

    def fingerprint(self, db):
        con = sqlite3.connect(db)
        fp = fingerprint_with(lambda sql: con.execute(sql).fetchone()[0],
                              lambda t: [r[1] for r in con.execute("PRAGMA table_info(%s)" % t)])
        con.close()
        return fp

    def value(self, db, sql):
        con = sqlite3.connect(db)
        v = con.execute(sql).fetchone()[0]
        con.close()
        return v

    def raw_command(self, scen, size, mode, db):
        return [self.raw_bin, "run", scen, str(size), mode, db]

    soft_column_types = ("datetime", "varchar(36)")


class Postgres:
    """A throw-away PostgreSQL 15 server (scripts/pg-test-server) in $BENCH_TMP/pg, kept between
    runs with its templates: databases tpl_<kind>_<scenario>_<size>, each run on a fresh
    CREATE DATABASE ... TEMPLATE copy. The raw `set` template is Django's with ON DELETE actions
    on its keys (django_bench.py pg-actions)."""
    name = "postgres"
    soft_column_types = ("timestamp with time zone", "varchar(36)")

    def __init__(self):
        import psycopg2
        self.psycopg2 = psycopg2
        self.dir = os.path.join(WORK, "pg")
        url_file = os.path.join(self.dir, "url")
        self.server = None
        if os.path.exists(url_file):
            self.server = open(url_file).read().strip()
            self.base = self.server.rsplit("/", 1)[0]
            try:
                self.connect("postgres").close()
            except psycopg2.OperationalError:
                sh([os.path.join(HERE, "..", "scripts", "pg-test-server"), "stop", self.dir])
                self.server = None
        if self.server is None:
            self.server = sh([os.path.join(HERE, "..", "scripts", "pg-test-server"), "start",
                              self.dir]).strip()
        self.base = self.server.rsplit("/", 1)[0]
        self.raw_bin = os.path.join(WORK, "raw_bench_pg")
        sh(["gcc", "-O2", "-Wall", "-I/usr/include/postgresql", "-o", self.raw_bin, RAW_PG_SRC,
            "-lpq"])

    def url(self, name):
        return "%s/%s" % (self.base, name)

    def connect(self, name):
        con = self.psycopg2.connect(self.url(name))
        con.autocommit = True
        return con

    def admin(self, *statements):
        con = self.connect("postgres")
        for sql in statements:
            con.cursor().execute(sql)
        con.close()

    def exists(self, name):
        con = self.connect("postgres")
        cur = con.cursor()
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        found = cur.fetchone() is not None
        con.close()
        return found

    def template(self, kind, scen, size):
        name = ("tpl_%s_%s_%d" % (kind, scen, size)).lower()  # unquoted names fold to lower case
        if not self.exists(name):
            tmp = name + "_tmp"
            if kind == "dj":
                self.admin("DROP DATABASE IF EXISTS %s" % tmp, "CREATE DATABASE %s" % tmp)
                sh([PY, DJ, "build", scen, str(size), self.url(tmp)])
            else:  # the raw `set` schema: Django's template, its keys given their actions
                self.admin("DROP DATABASE IF EXISTS %s" % tmp, "CREATE DATABASE %s TEMPLATE %s" % (
                    tmp, self.template("dj", scen, size)))
                sh([PY, DJ, "pg-actions", self.url(tmp)])
            self.admin("ALTER DATABASE %s RENAME TO %s" % (tmp, name))
        return name

    def fresh(self, tpl):
        self.admin("DROP DATABASE IF EXISTS bench_run", "CREATE DATABASE bench_run TEMPLATE %s" % tpl)
        self.last_run = self.url("bench_run")
        return self.last_run

    def execute(self, db, statements):
        con = self.psycopg2.connect(db if "://" in db else self.url(db))
        con.autocommit = True
        for sql in statements:
            con.cursor().execute(sql)
        con.close()

    def value(self, db, sql):
        con = self.psycopg2.connect(db if "://" in db else self.url(db))
        cur = con.cursor()
        cur.execute(sql)
        v = cur.fetchone()[0]
        con.close()
        return v

    def fingerprint(self, db):
        con = self.psycopg2.connect(db if "://" in db else self.url(db))
        cur = con.cursor()

        def q(sql):
            cur.execute(sql)
            return cur.fetchone()[0]

        def columns(t):
            cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s",
                        [t])
            return [r[0] for r in cur.fetchall()]
        fp = fingerprint_with(q, columns)
        con.close()
        return fp

    def raw_command(self, scen, size, mode, db):
        return [self.raw_bin, "run", scen, str(size), mode, db]

    def explain_log(self):
        return os.path.join(self.dir, "server.log")


def summarize_explain(lines):
    """From auto_explain's log lines: each statement Cascade sent with its plan, in order, and
    the queries PostgreSQL's foreign key triggers ran (one per row and constraint, "SELECT 1
    FROM ONLY ..."), counted and timed by query instead of listed."""
    import re
    head = re.compile(r"^\S+ \S+ UTC \[\d+\] ")
    plans, triggers, entry = [], {}, []

    def flush():
        if not entry:
            return
        m = re.search(r"LOG:  duration: ([\d.]+) ms  plan:", entry[0])
        if m and len(entry) > 1:
            query = entry[1].strip().removeprefix("Query Text: ")
            if query.startswith("SELECT 1 FROM ONLY"):
                t = triggers.setdefault(query, [0, 0.0])
                t[0] += 1
                t[1] += float(m.group(1))
            else:
                plans.append("-- %s ms\n%s" % (m.group(1), "\n".join(l.strip("\t\n") for l in entry[1:])))
        entry.clear()
    for line in lines:
        if head.match(line):
            flush()
        entry.append(line.rstrip("\n"))
    flush()
    return plans, triggers


def write_explain(path, scen, size, plans, triggers):
    with open(path, "w") as f:
        f.write("# %s at %d rows: the %d statements Cascade sent, in order, with their plans "
                "(EXPLAIN ANALYZE by auto_explain; times include its overhead)\n\n" % (
                    scen, size, len(plans)))
        f.write("\n\n".join(plans) + "\n")
        f.write("\n# The queries of PostgreSQL's foreign key triggers (Django's keys are DEFERRABLE "
                "INITIALLY DEFERRED: checked at commit, one per deleted row and constraint): "
                "count, total ms, query\n")
        for q, (n, ms) in sorted(triggers.items(), key=lambda x: -x[1][1]):
            f.write("%9d %10.1f  %s\n" % (n, ms, q))


def explain_plans(backend, run_cascade, scen, size):
    """One more Cascade run, untimed, with auto_explain logging the plan of every statement
    with its actual rows and times: bench/results/explain-postgres/<scenario>-<size>.txt."""
    log = backend.explain_log()
    start = os.path.getsize(log)
    run_cascade({"PGOPTIONS": "-c session_preload_libraries=auto_explain "
                              "-c auto_explain.log_min_duration=0 -c auto_explain.log_analyze=on"})
    with open(log, errors="replace") as f:
        f.seek(start)
        plans, triggers = summarize_explain(f)
    # At a million rows the trigger queries fill gigabytes of log: the throw-away server's log
    # is emptied once read (the server appends to it).
    open(log, "w").close()
    out = os.path.join(RESULTS, "explain-postgres")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "%s-%d.txt" % (scen, size))
    write_explain(path, scen, size, plans, triggers)
    print("%-4s %8d  explain: %d statements, %d trigger queries -> %s" % (
        scen, size, len(plans), sum(n for n, _ in triggers.values()), os.path.relpath(path)),
        flush=True)


def add_soft_columns(backend, db, tables=("blog_post",)):
    when, ident = backend.soft_column_types
    backend.execute(db, [stmt for t in tables for stmt in (
        "ALTER TABLE %s ADD COLUMN deleted_at %s NULL" % (t, when),
        "ALTER TABLE %s ADD COLUMN deletion_id %s NULL" % (t, ident))])


def marked(backend, db, table):
    return backend.value(db, "SELECT count(*) FROM %s WHERE deleted_at IS NOT NULL" % table)


def main():
    args = sys.argv[1:]
    if not args:
        raise SystemExit(__doc__)
    build = os.path.abspath(args[0])
    cascade_bin = os.path.join(build, "bench", "cascade_bench")
    reps, only, preset, backend_name, explain = 3, None, "default", "sqlite", False
    i = 1
    while i < len(args):
        a = args[i]
        if a == "--reps":
            reps = int(args[i + 1]); i += 1
        elif a == "--backend" and i + 1 < len(args) and args[i + 1] in ("sqlite", "postgres"):
            backend_name = args[i + 1]; i += 1
        elif a == "--explain":
            explain = True
        elif a == "--only":
            only = set(args[i + 1].split(",")); i += 1
        elif a.isdigit():
            preset = int(a)
        elif a in PRESETS:
            preset = a
        else:
            raise SystemExit(__doc__)
        i += 1
    plan = {s: [preset] for s in PRESETS["default"]} if isinstance(preset, int) else PRESETS[preset]
    plan = [(s, fix_size(s, n)) for s, sizes in plan.items() for n in sizes
            if only is None or s in only]
    have_django = subprocess.run([PY, "-c", "import django"], capture_output=True).returncode == 0

    if explain and backend_name != "postgres":
        raise SystemExit("--explain needs --backend postgres (auto_explain is PostgreSQL's)")
    os.makedirs(os.path.join(WORK, "tpl"), exist_ok=True)
    os.makedirs(RESULTS, exist_ok=True)
    backend = Postgres() if backend_name == "postgres" else Sqlite()
    template = backend.template
    fingerprint = backend.fingerprint

    env = {
        "machine": platform.machine(), "kernel": platform.release(),
        "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
        "cores": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "date": time.strftime("%Y-%m-%d %H:%M"), "reps": reps, "django": None,
        "backend": backend.name,
    }
    rows, runs = [], []
    t0 = time.time()
    med = statistics.median
    for scen, size in plan:
        if not have_django:
            raise SystemExit("python3-django is not installed: run scripts/install-deps --bench")
        dj_tpl = template("dj", data_scen(scen), size)
        # SQLite's raw template is built by raw_bench.c on its own DDL; PostgreSQL's is Django's
        # with ON DELETE actions (the same data scenario).
        raw_tpl = template("raw", raw_scen(data_scen(scen)) if backend.name == "sqlite"
                           else data_scen(scen), size)

        def run_cascade(env_extra=None):
            run_db = backend.fresh(dj_tpl)
            if scen == "S6s":
                add_soft_columns(backend, run_db)
            if scen == "S6t":
                add_soft_columns(backend, run_db, ("blog_author", "blog_post", "blog_comment"))
            r = json.loads(sh([cascade_bin, "run", scen, str(size), run_db],
                              env=dict(os.environ, **(env_extra or {}))).strip().splitlines()[-1])
            r["fingerprint"] = fingerprint(run_db)
            r["kind"] = "cascade"
            if env_extra is None:
                runs.append(r)
            return r

        def run_django():
            run_db = backend.fresh(dj_tpl)
            r = json.loads(sh([PY, DJ, "run", django_scen(scen), str(size), run_db]).strip().splitlines()[-1])
            r["fingerprint"] = fingerprint(run_db)
            r["kind"] = "django"
            env["django"] = r.get("django")
            runs.append(r)
            return r

        def run_raw(mode):
            run_db = backend.fresh(raw_tpl if mode == "set" else dj_tpl)
            if mode == "marks":
                add_soft_columns(backend, run_db)
            r = json.loads(sh(backend.raw_command(raw_scen(scen), size, mode, run_db)).strip())
            r["fingerprint"] = fingerprint(run_db)
            r["kind"] = "raw-" + mode
            r["scenario"] = scen
            runs.append(r)
            return r

        if explain:
            explain_plans(backend, run_cascade, scen, size)
            if reps == 0:  # the plans only
                continue
        modes = ["set"] + RAW_APP_MODES.get(scen, ["manual999", "manual32766"])
        if scen == "A1":
            cas = [run_cascade() for _ in range(reps)]
            fp0 = fingerprint(dj_tpl)
            cascade_rows = fp0["blog_author"] + fp0["blog_post"] + fp0["blog_comment"] + \
                fp0.get("blog_post_tags", 0)
            # The page changes nothing, and counts every row the delete would remove.
            ok = all(r["fingerprint"] == fp0 for r in cas) and cas[0]["rows"] == cascade_rows
            first = med([r["seconds"] for r in cas])
            row = {"scenario": scen, "size": size, "description": DESCR[scen],
                   "cascade_s": first, "cascade_statements": 0,
                   "page_s": med([r["page_seconds"] for r in cas]),
                   "cascade_rss_growth_mb": max(r["peak_rss_kb"] - r["rss_before_kb"] for r in cas) / 1024,
                   "rows": cas[0]["rows"], "state_equal": ok, "cascade_only": True,
                   "target": ("met" if first < FIRST_BYTE_LIMIT_S else
                              "MISSED: first byte >= %.1f s" % FIRST_BYTE_LIMIT_S)
                   if ok else "STATE MISMATCH"}
            row["target"] += " (Cascade s is the first byte; whole page %.4f s)" % row["page_s"]
            rows.append(row)
            print("%-4s %8d  first byte %8.4fs  page %8.4fs  %d rows  %s [%.0fs]" % (
                scen, size, first, row["page_s"], row["rows"], row["target"], time.time() - t0),
                flush=True)
            continue
        if scen[0] == "V":
            cas = [run_cascade() for _ in range(reps)]
            fp0 = fingerprint(dj_tpl)
            tables = ["blog_node"] if scen == "VT" else \
                ["blog_level%d" % k for k in range(1, int(scen[1:]) + 1)]
            ok = all(r["fingerprint"] == fp0 for r in cas) and \
                cas[0]["rows"] == sum(fp0[t] for t in tables)
            delete = next((r for r in rows if r["scenario"] == delete_of(scen) and r["size"] == size),
                          None)
            row = {"scenario": scen, "size": size, "description": DESCR[scen],
                   "cascade_s": med([r["seconds"] for r in cas]), "cascade_statements": cas[0]["queries"],
                   "cascade_rss_growth_mb": max(r["peak_rss_kb"] - r["rss_before_kb"] for r in cas) / 1024,
                   "rows": cas[0]["rows"], "state_equal": ok, "cascade_only": True}
            if not ok:
                row["target"] = "STATE MISMATCH"
            elif delete is None:
                row["target"] = "no delete measured to compare with (run %s too)" % delete_of(scen)
            else:
                ratio = row["cascade_s"] / delete["cascade_s"]
                row["target"] = ("met" if ratio <= PREVIEW_RATIO else "MISSED: > %.1fx the delete"
                                 % PREVIEW_RATIO) + " (%.2fx the delete)" % ratio
            rows.append(row)
            print("%-4s %8d  cascade %8.4fs  %s [%.0fs]" % (scen, size, row["cascade_s"], row["target"],
                                                          time.time() - t0), flush=True)
            continue
        if scen in CASCADE_ONLY:
            cas = [run_cascade() for _ in range(reps)]
            fp0 = fingerprint(dj_tpl)
            # Every author, post and comment is marked; nothing is deleted.
            tables = [t for t in fp0 if t.startswith("blog_")]
            ok = all(r["fingerprint"][t] == fp0[t] for r in cas for t in tables) and \
                cas[0]["rows"] == fp0["blog_author"] + fp0["blog_post"] + fp0["blog_comment"] and \
                marked(backend, backend.last_run, "blog_comment") == fp0["blog_comment"]
            row = {"scenario": scen, "size": size, "description": DESCR[scen],
                   "cascade_s": med([r["seconds"] for r in cas]), "cascade_statements": cas[0]["queries"],
                   "cascade_rss_growth_mb": max(r["peak_rss_kb"] - r["rss_before_kb"] for r in cas) / 1024,
                   "rows": cas[0]["rows"], "state_equal": ok, "cascade_only": True,
                   "target": "no target (Cascade only)" if ok else "STATE MISMATCH"}
            if row["cascade_rss_growth_mb"] >= RSS_LIMIT_MB:
                row["target"] = "MISSED: memory >= %d MB" % RSS_LIMIT_MB
            rows.append(row)
            print("%-4s %8d  cascade %8.4fs  %s [%.0fs]" % (scen, size, row["cascade_s"], row["target"],
                                                          time.time() - t0), flush=True)
            continue
        # Rounds: each repetition runs every implementation once, in turn, so that a slow spell
        # of a shared machine weighs on all of them rather than on one.
        cas, dj, raw = [], [], {m: [] for m in modes}
        for _ in range(reps):
            cas.append(run_cascade())
            dj.append(run_django())
            for m in modes:
                raw[m].append(run_raw(m))
        fp = dj[0]["fingerprint"]
        same = all(r["fingerprint"] == fp for r in cas + dj + [x for m in raw.values() for x in m])
        raw_times = {m: med([r["seconds"] for r in raw[m]]) for m in modes}
        best_mode = min(raw_times, key=raw_times.get)
        row = {
            "scenario": scen, "size": size, "description": DESCR[scen],
            "cascade_s": med([r["seconds"] for r in cas]),
            "cascade_statements": cas[0]["queries"],
            "cascade_rss_growth_mb": max(r["peak_rss_kb"] - r["rss_before_kb"] for r in cas) / 1024,
            "django_s": med([r["seconds"] for r in dj]),
            "django_queries": dj[0]["queries"],
            "django_rss_growth_mb": med([r["peak_rss_kb"] - r["rss_before_kb"] for r in dj]) / 1024,
            "raw_set_s": raw_times["set"],
            "raw_best_s": raw_times[best_mode], "raw_best_mode": best_mode,
            "rows": cas[0]["rows"] or cas[0].get("updated", 0),
            "state_equal": same,
        }
        row["cascade_vs_django"] = row["cascade_s"] / row["django_s"]
        row["cascade_vs_raw_set"] = row["cascade_s"] / row["raw_set_s"]
        row["cascade_vs_raw_best"] = row["cascade_s"] / row["raw_best_s"]
        misses = []
        max_set, max_best, min_speedup = TARGETS[scen]
        if max_set and row["cascade_vs_raw_set"] > max_set:
            misses.append("> %.1fx raw" % max_set)
        if max_best and row["cascade_vs_raw_best"] > max_best:
            misses.append("> %.1fx best raw" % max_best)
        if min_speedup and row["django_s"] / row["cascade_s"] < min_speedup:
            misses.append("< %.1fx faster than Django" % min_speedup)
        if scen in MAX_SECONDS and row["cascade_s"] >= MAX_SECONDS[scen]:
            misses.append(">= %.0f ms" % (MAX_SECONDS[scen] * 1000))
        if scen in MAX_SECONDS and cas[0]["rows"] != -1:
            misses.append("not refused")
        if row["cascade_rss_growth_mb"] >= RSS_LIMIT_MB:
            misses.append("memory >= %d MB" % RSS_LIMIT_MB)
        if not same:
            misses.append("STATE MISMATCH")
        row["target"] = "met" if not misses else "MISSED: " + "; ".join(misses)
        if "marks" in raw_times:
            row["raw_marks_s"] = raw_times["marks"]
            row["target"] += " (raw SQL writing the same two columns: %.4f s, Cascade/that %.2f)" % (
                raw_times["marks"], row["cascade_s"] / raw_times["marks"])
        rows.append(row)
        print("%-4s %8d  cascade %8.4fs  django %8.4fs  raw %8.4fs  %s [%.0fs]" % (
            scen, size, row["cascade_s"], row["django_s"], row["raw_best_s"], row["target"],
            time.time() - t0), flush=True)
    env["wall_s"] = round(time.time() - t0, 1)
    if not rows:
        return
    table = render(rows, env)
    print()
    print(table)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    doc = {"env": env, "summary": rows, "runs": runs}
    label = "latest-%s" % preset if backend.name == "sqlite" else "latest-%s-%s" % (backend.name, preset)
    latest = "latest" if backend.name == "sqlite" else "latest-" + backend.name
    for name in ("bench-%s" % stamp, latest, label):
        with open(os.path.join(RESULTS, name + ".json"), "w") as f:
            json.dump(doc, f, indent=1)
    for name in (latest, label):
        with open(os.path.join(RESULTS, name + ".txt"), "w") as f:
            f.write(table + "\n")
    print("\nwrote %s/%s.{json,txt} and %s.{json,txt}" % (RESULTS, latest, label))


def render(rows, env):
    out = ["%s; %s cores, %s GB; %s; Django %s; %d reps, median; %s" % (
               env["cpu"], env["cores"], env["memory_gb"],
               {"sqlite": "SQLite", "postgres": "PostgreSQL"}[env.get("backend", "sqlite")],
               env["django"], env["reps"], env["date"]),
           "",
           "| scenario | size | rows | Cascade s | Django s | raw set s | best raw s | Cascade/Django | "
           "Cascade/raw set | Cascade/best raw | Cascade stmts | RSS growth MB (Cascade / Django) | target |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.get("cascade_only"):
            out.append("| %s | %d | %d | %.4f | - | - | - | - | - | - | %d | %.1f / - | %s |" % (
                r["scenario"], r["size"], r["rows"], r["cascade_s"], r["cascade_statements"],
                r["cascade_rss_growth_mb"], r["target"]))
            continue
        out.append("| %s | %d | %d | %.4f | %.4f | %.4f | %.4f (%s) | %.2f | %.2f | %.2f | %d | %.1f / %.1f | %s |" % (
            r["scenario"], r["size"], r["rows"], r["cascade_s"], r["django_s"], r["raw_set_s"],
            r["raw_best_s"], r["raw_best_mode"], r["cascade_vs_django"], r["cascade_vs_raw_set"],
            r["cascade_vs_raw_best"], r["cascade_statements"], r["cascade_rss_growth_mb"],
            r["django_rss_growth_mb"], r["target"]))
    return "\n".join(out)


if __name__ == "__main__":
    main()
