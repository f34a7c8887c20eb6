#!/usr/bin/env python3
"""The layers of Cascade point down only: reads every #include "..." of src/ and include/cascade/,
maps each file to its layer, prints the layer graph it found, and fails on an edge that is not
in ALLOWED (or on a PENDING edge that no longer exists, so that the list only shrinks).

It also fails on SQL text above the sql layer: a string literal that begins a statement or a
clause (SELECT, DELETE FROM, UPDATE ... SET, INSERT INTO, ... WHERE, ORDER BY) in a file of a
layer not in SQL_WRITERS. Those layers build their statements with sql/statements.h, whose
builders quote identifiers and bind every value.

    tests/layering/check_layers.py SOURCE_DIR
"""
import collections
import os
import re
import sys

# The layers, bottom up (DESIGN order). A layer may include its own files and those of the
# layers listed for it. signals sits below query, as Django's dispatch sits below its models.
ALLOWED = {
    "value":    set(),                                   # value.h, error.h, results.h, version.h
    "db":       {"value", "model"},
    "model":    {"value"},
    "signals":  {"value", "model"},
    "sql":      {"value", "db", "model"},
    "query":    {"value", "db", "model", "signals", "sql"},
    "deletion": {"value", "db", "model", "signals", "sql", "query"},
    "database": {"value", "db", "model", "signals", "sql", "query", "deletion"},
    "web":      {"value", "db", "model", "signals", "query", "deletion", "database"},
    "cli":      {"value", "db", "model", "signals", "sql", "query", "deletion", "database", "web"},
    "tool":     {"cli"},
    "api":      {"value", "db", "model", "signals", "sql", "query", "deletion", "database", "web",
                 "cli"},
}

# Upward edges still to be removed, each a file and what it includes (none left: the query and
# deletion layers see a Context, not the Database facade). When one is added, say why.
PENDING = set()

# The layers that may write SQL text: the backends (db) and the compiler and statement builders
# (sql). Every other layer composes what sql/statements.h builds.
SQL_WRITERS = {"db", "sql"}
SQL_TEXT = re.compile(r'"[^"\n]*\b(SELECT\s|DELETE\s+FROM\b|INSERT\s+INTO\b|UPDATE\s+\S.*\sSET\b|'
                      r'\sWHERE\s|ORDER\s+BY\b|CREATE\s+(TEMP\s+)?(TABLE|INDEX)\b|DROP\s+TABLE\b)')

TOP_LEVEL = {"value.h": "value", "error.h": "value", "results.h": "value", "version.h": "value",
             "version.h.in": "value", "database.h": "database", "cascade.h": "api"}
SRC_TOP = {"version.cc": "value", "database.cc": "database"}


def layer_of(path):
    """The layer of a file, from its path relative to the source directory."""
    parts = path.split("/")
    if parts[0] == "include":  # include/cascade/<layer>/x.h or include/cascade/x.h
        return parts[2] if len(parts) > 3 else TOP_LEVEL.get(parts[2])
    if parts[0] == "src":  # src/<layer>/...; the shell is part of cli
        return parts[1] if len(parts) > 2 else SRC_TOP.get(parts[1])
    return None


def target_of(include):
    """The file an #include "..." names, relative to the source directory."""
    if include.startswith("cascade/"):
        return "include/" + include
    return "src/" + include


def self_test():
    """The check fails on an upward edge: a made-up tree where sql includes query."""
    import tempfile
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "src", "sql"))
        os.makedirs(os.path.join(root, "include", "cascade", "query"))
        with open(os.path.join(root, "src", "sql", "bad.cc"), "w") as f:
            f.write('#include "cascade/query/queryset.h"\n')
        with open(os.path.join(root, "include", "cascade", "query", "queryset.h"), "w") as f:
            f.write("#pragma once\n")
        if check(root, quiet=True) != 1:
            print("self-test: an upward edge (sql -> query) was not reported")
            return False
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "src", "deletion"))
        with open(os.path.join(root, "src", "deletion", "bad.cc"), "w") as f:
            f.write('std::string s = "DELETE FROM " + table;\n')
        if check(root, quiet=True) != 1:
            print("self-test: SQL text in the deletion layer was not reported")
            return False
    return True


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    if not self_test():
        return 1
    return check(root)


def check(root, quiet=False):
    def say(*args):
        if not quiet:
            print(*args)
    edges = collections.defaultdict(set)  # (from layer, to layer) -> {(file, include)}
    unknown = []
    sql_text = []
    for base in ("src", "include/cascade"):
        for folder, _, files in os.walk(os.path.join(root, base)):
            for name in sorted(files):
                if not name.endswith((".h", ".cc", ".h.in")):
                    continue
                path = os.path.relpath(os.path.join(folder, name), root)
                source = layer_of(path)
                if source is None:
                    unknown.append(path)
                    continue
                with open(os.path.join(root, path), encoding="utf-8") as f:
                    for number, line in enumerate(f, 1):
                        code = line.split("//", 1)[0] if not line.lstrip().startswith('"') else line
                        if source not in SQL_WRITERS and SQL_TEXT.search(code):
                            sql_text.append(f"{path}:{number}: SQL text above the sql layer "
                                            f"(build it with sql/statements.h)")
                        m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                        if not m:
                            continue
                        target = layer_of(target_of(m.group(1)))
                        if target is None:
                            unknown.append(f"{path}: #include \"{m.group(1)}\"")
                        elif target != source:
                            edges[(source, target)].add((path, m.group(1)))
    say("Layer graph (from -> to: includes):")
    for (source, target), uses in sorted(edges.items()):
        say(f"  {source:9} -> {target:9} {len(uses)}")
    bad = []
    seen_pending = set()
    for (source, target), uses in sorted(edges.items()):
        if target in ALLOWED.get(source, set()):
            continue
        for use in sorted(uses):
            if use in PENDING:
                seen_pending.add(use)
            else:
                bad.append(f"{use[0]} includes \"{use[1]}\": {source} -> {target} is not allowed")
    for use in sorted(PENDING - seen_pending):
        bad.append(f"{use[0]} no longer includes \"{use[1]}\": remove it from PENDING")
    for path in unknown:
        bad.append(f"{path}: no layer (add it to layer_of)")
    bad.extend(sql_text)
    if seen_pending:
        say(f"Upward edges still to remove ({len(seen_pending)}):")
        for use in sorted(seen_pending):
            say(f"  {use[0]} -> {use[1]}")
    if bad:
        say("Layering errors:")
        for b in bad:
            say("  " + b)
        return 1
    say("No other edge runs upwards, and no SQL text is written above the sql layer.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
