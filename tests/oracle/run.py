#!/usr/bin/python3
"""Django as the oracle: a differential test of `cascade shell` against Django 3.2.

  run.py --tool PATH --seeds A..B [--db sqlite | --db postgres [URL]] [--keep DIR] [-j N]
  run.py --tool PATH --show SEED [--db ...]       one seed: schema, script, both outputs
  run.py --tool PATH --minimise SEED [--db ...]   the same with the script shrunk

Each seed gives a random schema, data and operation script (gen.py). The script runs in
`cascade shell` and in Django's `manage.py shell` on the same schema (created by
`cascade migrate`); standard output, the exit status and the last line of standard error must
be equal after the normalisations listed in README.md. Prints one line per differing seed and
ends with `N passed, M failed`; exit status 1 if any seed differs, 77 when Django (or, for
PostgreSQL, psycopg2 or a server URL: --db postgres alone reads CASCADE_TEST_POSTGRES) is
missing.
"""
import argparse
import concurrent.futures
import copy
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen  # noqa: E402

PYTHON = "/usr/bin/python3"
SKIP = 77          # CTest's SKIP_RETURN_CODE: the oracle is not installed
TIMEOUT = 120

SETTINGS = """\
import os
SECRET_KEY = 'oracle'
INSTALLED_APPS = ['django.contrib.contenttypes', 't']
USE_TZ = False
DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'
if os.environ['ORACLE_ENGINE'] == 'postgres':
    DATABASES = {'default': {
        'ENGINE': 'django.db.backends.postgresql', 'NAME': os.environ['ORACLE_NAME'],
        'USER': os.environ['ORACLE_USER'], 'PASSWORD': os.environ['ORACLE_PASSWORD'],
        'HOST': os.environ['ORACLE_HOST'], 'PORT': os.environ['ORACLE_PORT']}}
else:
    DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3',
                             'NAME': os.environ['ORACLE_NAME']}}
"""

MANAGE = """\
import os
import sys
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'oracle_settings')
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
"""

APPS = """\
from django.apps import AppConfig


class TConfig(AppConfig):
    name = 't'
    default_auto_field = 'django.db.models.AutoField'
"""

# ------------------------------------------------------------------ normalisation

# Django 3.2 versus current Django (which Cascade follows), for the cases the generator can
# produce. Applied to Django's error line only.
DJANGO_32_TO_CURRENT = [
    # pk-None delete: AssertionError in 3.2, ValueError now (same text). Reached by deleting
    # the same variable twice.
    (re.compile(r"^AssertionError: (\w+ object can't be deleted because its \w+ attribute "
                r"is set to None\.)$"), r"ValueError: \1"),
]

SET_ERROR = re.compile(r"^(django\.db\.models\.deletion\.(?:Protected|Restricted)Error: "
                       r"\(.*, )\{(.*)\}\)$")


def sort_set(line):
    """Protected/RestrictedError carry a Python set, printed in arbitrary order: sort it."""
    m = SET_ERROR.match(line)
    if not m:
        return line
    items = re.findall(r"<[^<>]*>", m.group(2))
    return "%s{%s})" % (m.group(1), ", ".join(sorted(items)))


def last_line(text):
    lines = [x for x in text.splitlines() if x.strip()]
    return lines[-1] if lines else ""


def normalise(result, django):
    out, rc, err = result
    line = sort_set(last_line(err))
    if django:
        for pat, rep in DJANGO_32_TO_CURRENT:
            line = pat.sub(rep, line)
    return out, rc, line


# ------------------------------------------------------------------ databases

class Sqlite:
    name = "sqlite"

    def prepare(self, work, seed):
        c = os.path.join(work, "cascade.db")
        d = os.path.join(work, "django.db")
        for f in (c, d):
            if os.path.exists(f):
                os.remove(f)
        return {"cascade_url": "sqlite:///" + c, "cascade_file": c, "django_file": d}

    def copy(self, dbs):
        shutil.copyfile(dbs["cascade_file"], dbs["django_file"])

    def django_env(self, dbs):
        return {"ORACLE_ENGINE": "sqlite", "ORACLE_NAME": dbs["django_file"]}

    def drop(self, dbs):
        pass


class Postgres:
    """A fresh database per seed and side: cascade_<seed> (migrated by Cascade), and
    django_<seed> created from it as a template."""
    name = "postgres"

    def __init__(self, url):
        self.url = url
        u = urllib.parse.urlparse(url)
        self.user = urllib.parse.unquote(u.username or "")
        self.password = urllib.parse.unquote(u.password or "")
        self.host = u.hostname or "localhost"
        self.port = str(u.port or 5432)
        self.admin_db = (u.path or "/postgres").lstrip("/") or "postgres"
        self.query = u.query

    def _admin(self, sql):
        # Through /usr/bin/python3, which has psycopg2 (the runner may be another Python).
        code = ("import sys, psycopg2\n"
                "con = psycopg2.connect(dbname=sys.argv[1], user=sys.argv[2], password=sys.argv[3],"
                " host=sys.argv[4], port=sys.argv[5])\n"
                "con.autocommit = True\n"
                "con.cursor().execute(sys.argv[6])\n")
        p = subprocess.run([PYTHON, "-c", code, self.admin_db, self.user, self.password,
                            self.host, self.port, sql], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("%s: %s" % (sql, last_line(p.stderr)))

    def _url(self, db):
        auth = urllib.parse.quote(self.user)
        if self.password:
            auth += ":" + urllib.parse.quote(self.password)
        return "postgresql://%s@%s:%s/%s%s" % (auth, self.host, self.port, db,
                                               "?" + self.query if self.query else "")

    def prepare(self, work, seed):
        tag = "%d_%d" % (seed, os.getpid())
        dbs = {"c": "oracle_c_" + tag, "d": "oracle_d_" + tag}
        for db in dbs.values():
            self._admin("DROP DATABASE IF EXISTS %s" % db)
        self._admin("CREATE DATABASE %s" % dbs["c"])
        dbs["cascade_url"] = self._url(dbs["c"])
        return dbs

    def copy(self, dbs):
        self._admin("CREATE DATABASE %s TEMPLATE %s" % (dbs["d"], dbs["c"]))

    def django_env(self, dbs):
        return {"ORACLE_ENGINE": "postgres", "ORACLE_NAME": dbs["d"], "ORACLE_USER": self.user,
                "ORACLE_PASSWORD": self.password, "ORACLE_HOST": self.host,
                "ORACLE_PORT": self.port}

    def drop(self, dbs):
        for key in ("c", "d"):
            try:
                self._admin("DROP DATABASE IF EXISTS %s" % dbs[key])
            except Exception:
                pass


# ------------------------------------------------------------------ one seed

def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def run(argv, retries=30, **kw):
    """subprocess.run, waiting while the tool cannot be executed (being relinked)."""
    for attempt in range(retries):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, **kw)
        except (PermissionError, FileNotFoundError, OSError) as e:
            if isinstance(e, subprocess.SubprocessError) or attempt == retries - 1:
                raise
            time.sleep(10)


def run_proc(argv, stdin_path, env=None, cwd=None):
    with open(stdin_path) as stdin:
        try:
            p = run(argv, stdin=stdin, env=env, cwd=cwd)
            return p.stdout, p.returncode, p.stderr
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            return out, "timeout", "TIMEOUT after %ds" % TIMEOUT


def run_case(tool, db, seed, work, script=None, models=None):
    """Runs one seed in `work` (with `script` and `models` in place of the generated ones if
    given); returns a dict with both raw and normalised results."""
    case = gen.generate(seed)
    if script is not None:
        case.script = script
    if models is not None:
        case.models = models
        case.toml = gen.render_toml(models)
        case.django_models = gen.render_django(models)
    os.makedirs(work, exist_ok=True)
    toml = os.path.join(work, "cascade.toml")
    write(toml, case.toml)
    script_path = os.path.join(work, "script.py")
    write(script_path, case.script)
    proj = os.path.join(work, "django")
    write(os.path.join(proj, "oracle_settings.py"), SETTINGS)
    write(os.path.join(proj, "manage.py"), MANAGE)
    write(os.path.join(proj, "t", "__init__.py"), "")
    write(os.path.join(proj, "t", "apps.py"), APPS)
    write(os.path.join(proj, "t", "models.py"), case.django_models)

    dbs = db.prepare(work, seed)
    try:
        mig = run([tool, "--settings", toml, "--database", dbs["cascade_url"], "migrate"])
        if mig.returncode != 0:
            return {"seed": seed, "case": case, "error": "cascade migrate failed: " +
                    (mig.stderr.strip() or mig.stdout.strip())}
        db.copy(dbs)
        cascade = run_proc([tool, "--settings", toml, "--database", dbs["cascade_url"], "shell"],
                           script_path)
        env = dict(os.environ)
        env.update(db.django_env(dbs))
        env["PYTHONPATH"] = proj
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        django = run_proc([PYTHON, os.path.join(proj, "manage.py"), "shell"], script_path,
                          env=env, cwd=proj)
    finally:
        db.drop(dbs)
    for name, res in (("cascade", cascade), ("django", django)):
        write(os.path.join(work, name + ".out"), res[0])
        write(os.path.join(work, name + ".err"), res[2])
        write(os.path.join(work, name + ".rc"), "%s\n" % res[1])
    nc, nd = normalise(cascade, False), normalise(django, True)
    return {"seed": seed, "case": case, "cascade": cascade, "django": django, "nc": nc, "nd": nd,
            "same": nc == nd}


RESULT = re.compile(r"^\((\d+), \{(.*)\}\)$")


def line_kind(a, b):
    """How two differing output lines differ: 'order' (the same delete result with its keys in
    another order), 'counts' (another delete result), 'end' (one output stops), 'rows'."""
    if a is None or b is None:
        return "end"
    ma, mb = RESULT.match(a), RESULT.match(b)
    if ma and mb:
        ka = sorted(ma.group(2).split(", ")) if ma.group(2) else []
        kb = sorted(mb.group(2).split(", ")) if mb.group(2) else []
        return "order" if ma.group(1) == mb.group(1) and ka == kb else "counts"
    return "rows"


def first_difference(r):
    a, b = r["nd"][0].splitlines(), r["nc"][0].splitlines()
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else None
        y = b[i] if i < len(b) else None
        if x != y:
            return line_kind(x, y)
    return None


def signature(r):
    """What differs, coarsely: used by --minimise to keep the same kind of difference."""
    if r.get("same") or "error" in r:
        return None
    nc, nd = r["nc"], r["nd"]
    return (first_difference(r), nc[1] != nd[1], nc[2] != nd[2],
            nd[2].split(":")[0], nc[2].split(":")[0])


def drop_relation(models, script, mi, fi, m2m):
    """A copy of `models` without one relation, and `script` without what uses it."""
    ms = copy.deepcopy(models)
    m = ms[mi]
    rel = (m.m2ms if m2m else m.fks).pop(fi)
    name = rel.name
    lookups = {name + "__", name + "=", (rel.related_name or m.lower) + "__"}
    out = []
    operations = False
    for line in script.splitlines():
        if re.match(r"%s\d+ = %s\.objects\.create\(" % (m.lower, m.name), line):
            line = re.sub(r", %s=\w+" % name, "", line)
        elif m2m and re.match(r"%s\d+\.%s\.add\(" % (m.lower, name), line):
            continue
        elif m2m and line.startswith("for o in %s.objects.order_by('id'): print('%s.%s'" % (
                m.name, m.name, name)):
            operations = True
            continue
        elif line.endswith(".save()") and re.match(r"%s\d+\." % m.lower, line):
            parts = [p for p in line.split("; ")
                     if not re.match(r"%s\d+\.%s = " % (m.lower, name), p)]
            if len(parts) == 1:
                continue
            line = "; ".join(parts)
        elif line.startswith("print('%s', list(%s.objects" % (m.name, m.name)):
            operations = True
            line = line.replace(", '%s'" % name, "")
        elif line.startswith("print('") or line.startswith("for o in ") and "print('" in line:
            operations = True
        elif operations and any(x in line for x in lookups):
            continue
        out.append(line)
    return ms, "\n".join(out) + "\n"


def minimise(tool, db, seed):
    """Deletes script lines (last first), then relations of the schema, then script lines again,
    while the seed still differs in the same way; shows the smallest case found."""
    work = tempfile.mkdtemp(prefix="oracle-min-")
    try:
        r = run_case(tool, db, seed, work)
        sig = signature(r)
        if sig is None:
            print("seed %d does not differ" % seed)
            return 0
        models = r["case"].models
        script = r["case"].script

        def shrink_script(models, script):
            lines = script.splitlines()
            changed = True
            while changed:
                changed = False
                i = len(lines) - 1
                while i >= 1:        # line 0 is the import of the models
                    trial = lines[:i] + lines[i + 1:]
                    t = run_case(tool, db, seed, work, "\n".join(trial) + "\n", models)
                    if signature(t) == sig:
                        lines = trial
                        changed = True
                    i -= 1
            return "\n".join(lines) + "\n"

        script = shrink_script(models, script)
        changed = True
        while changed:
            changed = False
            for mi in range(len(models)):
                for m2m in (False, True):
                    fi = len(models[mi].m2ms if m2m else models[mi].fks) - 1
                    while fi >= 0:
                        ms, sc = drop_relation(models, script, mi, fi, m2m)
                        if signature(run_case(tool, db, seed, work, sc, ms)) == sig:
                            models, script, changed = ms, sc, True
                        fi -= 1
        script = shrink_script(models, script)
        return show(tool, db, seed, script, models)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def short_diff(r):
    nc, nd = r["nc"], r["nd"]
    parts = []
    if nc[0] != nd[0]:
        a, b = nd[0].splitlines(), nc[0].splitlines()
        for i in range(max(len(a), len(b))):
            x = a[i] if i < len(a) else "<end>"
            y = b[i] if i < len(b) else "<end>"
            if x != y:
                parts.append("stdout line %d: django %s | cascade %s" % (i + 1, x[:200], y[:200]))
                break
    if nc[1] != nd[1]:
        parts.append("exit: django %s, cascade %s" % (nd[1], nc[1]))
    if nc[2] != nd[2]:
        parts.append("error: django %r, cascade %r" % (nd[2][:300], nc[2][:300]))
    return "; ".join(parts)


def parse_seeds(text):
    """`A..B`, `N`, or a comma-separated list of both: `1..40,56,121`."""
    seeds = []
    for part in text.split(","):
        if ".." in part:
            a, b = part.split("..", 1)
            seeds += range(int(a), int(b) + 1)
        else:
            seeds.append(int(part))
    return seeds


def show(tool, db, seed, script=None, models=None):
    work = tempfile.mkdtemp(prefix="oracle-show-")
    try:
        r = run_case(tool, db, seed, work, script, models)
        c = r["case"]
        print("# ---- cascade.toml\n" + c.toml)
        print("# ---- t/models.py (Django)\n" + c.django_models)
        print("# ---- script.py\n" + c.script)
        if "error" in r:
            print(r["error"])
            return 2
        for name, key in (("django", "django"), ("cascade", "cascade")):
            out, rc, err = r[key]
            print("# ---- %s: exit %s, last error line: %s" % (name, rc, last_line(err)))
            print(out, end="")
        if r["same"]:
            print("# ---- same (after normalisation)")
            return 0
        print("# ---- differ: " + short_diff(r))
        a = r["nd"][0].splitlines(keepends=True)
        b = r["nc"][0].splitlines(keepends=True)
        sys.stdout.writelines(difflib.unified_diff(a, b, "django", "cascade", n=1))
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", required=True, help="the cascade binary")
    ap.add_argument("--seeds", default="1..20", help="A..B, N, or a comma-separated list of both")
    ap.add_argument("--db", nargs="+", default=["sqlite"], metavar="KIND [URL]",
                    help="sqlite (default), or postgres [URL] (default URL: $CASCADE_TEST_POSTGRES)")
    ap.add_argument("--keep", help="directory for the failing cases' files "
                    "(default: oracle-failures under the system temporary directory)")
    ap.add_argument("-j", type=int, default=1, help="seeds run in parallel")
    ap.add_argument("--show", type=int, metavar="SEED",
                    help="print one seed's schema, script and both outputs")
    ap.add_argument("--stats", action="store_true",
                    help="before the summary, count how the scripts end (Django's last error)")
    ap.add_argument("--minimise", type=int, metavar="SEED",
                    help="shrink a differing seed's script and schema, then --show the result")
    a = ap.parse_args()

    tool = os.path.abspath(a.tool)
    if a.db[0] == "sqlite" and len(a.db) == 1:
        db = Sqlite()
    elif a.db[0] == "postgres" and len(a.db) <= 2:
        url = a.db[1] if len(a.db) == 2 else os.environ.get("CASCADE_TEST_POSTGRES")
        if not url:
            print("SKIP: no PostgreSQL URL (--db postgres URL, or CASCADE_TEST_POSTGRES)")
            return SKIP
        db = Postgres(url)
    else:
        ap.error("--db sqlite | --db postgres [URL]")
    need = "import django" + ("; import psycopg2" if db.name == "postgres" else "")
    if subprocess.run([PYTHON, "-c", need], capture_output=True).returncode != 0:
        print("SKIP: %s lacks Django 3.2 (python3-django)%s" % (
            PYTHON, " or python3-psycopg2" if db.name == "postgres" else ""))
        return SKIP

    if a.show is not None:
        return show(tool, db, a.show)
    if a.minimise is not None:
        return minimise(tool, db, a.minimise)

    seeds = parse_seeds(a.seeds)
    keep = os.path.abspath(a.keep or os.path.join(tempfile.gettempdir(), "oracle-failures"))
    root = tempfile.mkdtemp(prefix="oracle-")
    passed = failed = 0
    outcomes = {}

    def one(seed):
        work = os.path.join(root, "seed-%d" % seed)
        try:
            return run_case(tool, db, seed, work), work
        except Exception as e:  # a harness problem: report it as a failure of this seed
            return {"seed": seed, "error": "harness: %r" % e}, work

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.j)) as ex:
            for r, work in ex.map(one, seeds):
                ok = r.get("same", False)
                if "django" in r:
                    end = last_line(r["django"][2]).split(":")[0] or "(no error)"
                    outcomes[end] = outcomes.get(end, 0) + 1
                if ok:
                    passed += 1
                    shutil.rmtree(work, ignore_errors=True)
                    continue
                failed += 1
                dest = os.path.join(keep, "seed-%d" % r["seed"])
                shutil.rmtree(dest, ignore_errors=True)
                os.makedirs(keep, exist_ok=True)
                shutil.move(work, dest)
                for f in ("cascade.db", "django.db"):
                    p = os.path.join(dest, f)
                    if os.path.exists(p):
                        os.remove(p)
                msg = r.get("error") or short_diff(r)
                print("seed %d differs: %s  [%s]" % (r["seed"], msg, dest), flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if a.stats:
        for end, n in sorted(outcomes.items(), key=lambda x: -x[1]):
            print("  %5d scripts end with %s" % (n, end))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
