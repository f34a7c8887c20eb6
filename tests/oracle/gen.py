#!/usr/bin/python3
"""Random schema + data + operation script for the Django oracle (see README.md).

generate(seed) returns a Case: the models (as data), the Cascade models file, the Django
models.py and the shell script. Everything is derived from random.Random(seed) only, so a seed
is a complete reproduction recipe.
"""
import random

# on_delete rules, and which of them need a nullable key.
RULES = ["CASCADE", "PROTECT", "RESTRICT", "SET_NULL", "SET_DEFAULT", "SET", "DO_NOTHING",
         "DB_CASCADE", "DB_SET_NULL", "DB_SET_DEFAULT"]
NEEDS_NULL = {"SET_NULL", "DB_SET_NULL"}
# Django 3.2 has no DB_* rules: the Django side declares them DO_NOTHING and the shared schema's
# ON DELETE clause does the work (Django 6.1's behaviour: not collected, not counted).
DJANGO_RULE = {"DB_CASCADE": "DO_NOTHING", "DB_SET_NULL": "DO_NOTHING",
               "DB_SET_DEFAULT": "DO_NOTHING"}


class Rel:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class Model:
    def __init__(self, index, name):
        self.index = index
        self.name = name            # class name: A, B, ...
        self.lower = name.lower()
        self.fks = []               # Rel(kind foreign_key|one_to_one, name, target, rule, null, value)
        self.m2ms = []              # Rel(kind many_to_many, name, target)
        self.rows = 0
        self.code = False           # has a unique `code` (100 + row number) for to_field keys
        self.through_of = None      # an explicit through model: the many-to-many Rel it serves
        self.bases = []             # abstract bases (Abstract) it inherits from
        self.parent = None          # multi-table inheritance: the concrete model it extends
        self.gr = None              # a GenericRelation `tags` to this model (the generic model T)
        self.generic = None         # T itself: "int" or "char", the kind of its object id

    def var(self, i):               # variable and `name` value of row i (1-based)
        return "%s%d" % (self.lower, i)

    def chain(self):                # the model and its multi-table ancestors, topmost first
        return (self.parent.chain() if self.parent else []) + [self]

    def has_code(self):
        return any(m.code for m in self.chain())

    def all_fks(self):              # its keys and its ancestors' (what create() can set)
        return [r for m in self.chain() for r in m.fks]

    def columns(self):
        return ["id", "name"] + (["code"] if self.has_code() else []) + [
            r.name for r in self.all_fks()] + (
            ["content_type", "object_id"] if self.generic else [])

    def generic_target(self):       # T, when this model or an ancestor has a GenericRelation
        return next((m.gr for m in self.chain() if m.gr is not None), None)


class Abstract:
    """An abstract base: fields (one foreign key) that the models naming it inherit."""

    def __init__(self, name):
        self.name = name
        self.fks = []


def code_of(i):
    """The `code` of row i of a model that has one: unique, and never a row's id."""
    return 100 + i


class Case:
    pass


# Rules that make most deletes fail (PROTECT, DO_NOTHING, ...) are drawn less often, so that
# scripts get further before their first error.
WEIGHTS = {"CASCADE": 4, "PROTECT": 1.2, "RESTRICT": 1.5, "SET_NULL": 3, "SET_DEFAULT": 1,
           "SET": 1, "DO_NOTHING": 0.6, "DB_CASCADE": 1.5, "DB_SET_NULL": 1.5,
           "DB_SET_DEFAULT": 0.6}


def pick_rule(rng, null):
    rules = [r for r in RULES if null or r not in NEEDS_NULL]
    return rng.choices(rules, weights=[WEIGHTS[r] for r in rules])[0]


def generate(seed):
    rng = random.Random(seed)
    # Options added after the seeds in CMakeLists.txt were chosen draw from their own stream, so
    # that each seed keeps the schema, data and script it had (and the case it stands for).
    extra = random.Random(seed * 1000003 + 17)
    # to_field, through models, symmetrical and abstract bases: a third stream, so that seeds
    # keep the options the second one gave them.
    extra2 = random.Random(seed * 1000003 + 29)
    n = rng.randint(3, 6)
    models = [Model(i, chr(ord("A") + i)) for i in range(n)]
    for m in models:
        # a few dozen rows at most, usually a handful
        m.rows = rng.randint(1, 6) if rng.random() < 0.7 else rng.randint(7, 25)

    for m in models:
        nfk = rng.choice([0, 1, 1, 2, 2, 3])
        for k in range(nfk):
            t = rng.choice(models)
            # Keys to the same or a later model (self references, cycles) must be nullable:
            # rows are created in model order and those keys are set afterwards.
            forward = t.index >= m.index
            null = forward or rng.random() < 0.4
            kind = "one_to_one" if rng.random() < 0.1 else "foreign_key"
            if kind == "one_to_one" and not null and m.rows > t.rows:
                null = True
            rule = pick_rule(rng, null)
            value = None
            if rule in ("SET_DEFAULT", "SET", "DB_SET_DEFAULT"):
                value = rng.randint(1, t.rows)      # an id that exists once the data is created
            # Django's default=None on a nullable key (default_none in a models file).
            if rule in ("SET_DEFAULT", "DB_SET_DEFAULT") and null and extra.random() < 0.3:
                value = None
            # Django's db_constraint=False: no FOREIGN KEY in the database, so a DO_NOTHING
            # reference is left dangling instead of failing the commit.
            constraint = rule.startswith("DB_") or extra.random() >= 0.15
            # Django's to_field: the key holds the target's unique `code`, not its id.
            to_field = extra2.random() < 0.15
            if to_field:
                t.code = True
            base = "fk_" + t.lower if kind == "foreign_key" else "one_" + t.lower
            name = base
            j = 2
            while any(r.name == name for r in m.fks):
                name = "%s_%d" % (base, j)
                j += 1
            m.fks.append(Rel(kind=kind, name=name, target=t, rule=rule, null=null, value=value,
                             related_name=None, constraint=constraint, to_field=to_field))
        if rng.random() < 0.35:
            t = rng.choice(models)
            # to = 'self' is symmetrical (Django's default); an explicit through model for
            # relations to another model.
            symmetrical = t is m and extra2.random() < 0.5
            m.m2ms.append(Rel(kind="many_to_many", name="m2m_" + t.lower, target=t,
                              related_name=None, symmetrical=symmetrical, through=None))

    throughs = []
    for m in models:
        for r in m.m2ms:
            if r.target is m or extra2.random() >= 0.3:
                continue
            link = Model(len(models) + len(throughs), "L%d" % len(throughs))
            link.through_of = r
            for key, side in (("src", m), ("dst", r.target)):
                null = extra2.random() < 0.3
                rules = ["CASCADE", "PROTECT", "RESTRICT", "DB_CASCADE", "DO_NOTHING"] + (
                    ["SET_NULL", "DB_SET_NULL"] if null else [])
                weights = [4, 0.7, 1, 1, 0.4] + ([2, 1] if null else [])
                rule = extra2.choices(rules, weights=weights)[0]
                link.fks.append(Rel(kind="foreign_key", name=key, target=side, rule=rule,
                                    null=null, value=None, related_name=None, constraint=True,
                                    to_field=False))
            r.through = link
            throughs.append(link)

    # An abstract base with a nullable key, inherited by some models; its related_name uses
    # Django's %(class)s placeholder, so each child's reverse accessor is its own.
    abstract = None
    if extra2.random() < 0.25:
        abstract = Abstract("Base")
        t = extra2.choice(models)
        rule = pick_rule(extra2, True)
        value = extra2.randint(1, t.rows) if rule in ("SET_DEFAULT", "SET", "DB_SET_DEFAULT") else None
        abstract.fks.append(Rel(kind="foreign_key", name="fk_base", target=t, rule=rule,
                                null=True, value=value, related_name="%(class)s_based",
                                constraint=True, to_field=False))
        for m in extra2.sample(models, extra2.randint(1, len(models))):
            m.bases.append(abstract)
            for r in abstract.fks:
                m.fks.insert(0, Rel(kind=r.kind, name=r.name, target=r.target, rule=r.rule,
                                    null=r.null, value=r.value,
                                    related_name=r.related_name.replace("%(class)s", m.lower),
                                    constraint=r.constraint, to_field=r.to_field,
                                    inherited=True))

    # A proxy `P` of one model, with its own ordering; some keys to that model point at the
    # proxy instead (followed all the same when the model's rows go, rule 46).
    proxy = None
    if extra2.random() < 0.25:
        proxy = Rel(name="P", of=extra2.choice(models))
        for m in models:
            for r in m.fks:
                if r.target is proxy.of and not getattr(r, "inherited", False) and \
                        extra2.random() < 0.4:
                    r.via_proxy = proxy

    # Multi-table inheritance draws from a fourth stream, and so do the rows and operations
    # of its models (render_script): seeds without it keep their schema, data and script.
    extra3 = random.Random(seed * 1000003 + 41)
    add_children(models, extra3)

    # Reverse accessors: default (`<model>_set`, `<model>` for one_to_one) unless two relations
    # of one model point at the same target, then an explicit related_name for each.
    for m in models:
        rels = m.fks + m.m2ms
        for r in rels:
            same = [x for x in rels if x.target is r.target]
            if len(same) > 1 and not getattr(r, "inherited", False) and not is_symmetrical(r):
                r.related_name = "%s_%s_set" % (m.lower, r.name)

    # Generic relations draw from a fifth stream: seeds without them keep everything they had.
    extra4 = random.Random(seed * 1000003 + 53)
    generic = add_generic(models, extra4)

    case = Case()
    case.seed = seed
    case.models = models
    case.throughs = throughs
    case.abstract = abstract
    case.proxy = proxy
    case.generic = generic
    case.toml = render_toml(models, throughs + generic, abstract, proxy)
    case.django_models = render_django(models, throughs + generic, abstract, proxy)
    case.script = render_script(rng, models, throughs, proxy, extra2, extra3, generic, extra4)
    return case


def add_generic(models, rng):
    """Generic relations (rule 57-58), in some seeds: a model `T` with a GenericForeignKey
    (content_type, object_id: an integer, or text), a GenericRelation `tags` to it on some of
    the models (inherited by their multi-table children), and sometimes a model `N` with a key
    to T. Returns [T] or [T, N], or [] (rows of T point at any model, with a GenericRelation
    or without)."""
    if rng.random() >= 0.3:
        return []
    base = [m for m in models if m.parent is None]
    t = Model(100, "T")
    t.generic = "char" if rng.random() < 0.3 else "int"
    t.rows = rng.randint(2, 12)
    for m in rng.sample(base, rng.randint(1, min(3, len(base)))):
        m.gr = t
    out = [t]
    if rng.random() < 0.5:
        n = Model(101, "N")
        n.rows = rng.randint(1, 5)
        null = rng.random() < 0.4
        rule = pick_rule(rng, null)
        value = rng.randint(1, t.rows) if rule in ("SET_DEFAULT", "SET", "DB_SET_DEFAULT") else None
        n.fks.append(Rel(kind="foreign_key", name="fk_t", target=t, rule=rule, null=null,
                         value=value, related_name=None, constraint=True, to_field=False))
        out.append(n)
    return out


def add_children(models, rng):
    """Multi-table inheritance, from a stream of its own: in some seeds a child `K` of one of
    the models (and sometimes a grandchild `G` of K), each with keys of its own, and sometimes
    a nullable key from another model to the child."""
    if rng.random() >= 0.3:
        return
    base = rng.choice(models)
    chain = [("K", base)] + ([("G", None)] if rng.random() < 0.35 else [])
    for name, parent in chain:
        m = Model(len(models), name)
        m.parent = parent if parent is not None else models[-1]
        m.rows = rng.randint(1, 6)
        for _ in range(rng.choice([0, 1, 1, 2])):
            t = rng.choice(models + [m])
            forward = t is m
            null = forward or rng.random() < 0.4
            rule = pick_rule(rng, null)
            value = rng.randint(1, t.rows) if rule in ("SET_DEFAULT", "SET",
                                                      "DB_SET_DEFAULT") else None
            base_name = "fk_" + t.lower
            fk_name = base_name
            j = 2
            while any(r.name == fk_name for r in m.all_fks()):
                fk_name = "%s_%d" % (base_name, j)
                j += 1
            m.fks.append(Rel(kind="foreign_key", name=fk_name, target=t, rule=rule, null=null,
                             value=value, related_name=None, constraint=True, to_field=False))
        models.append(m)
    child = models[-1] if rng.random() < 0.5 else models[-len(chain)]
    if rng.random() < 0.5:
        src = rng.choice([m for m in models if m.parent is None])
        rule = pick_rule(rng, True)
        value = rng.randint(1, child.rows) if rule in ("SET_DEFAULT", "SET",
                                                      "DB_SET_DEFAULT") else None
        src.fks.append(Rel(kind="foreign_key", name="ref_" + child.lower, target=child, rule=rule,
                           null=True, value=value, related_name="%s_to_%s" % (src.lower, child.lower),
                           constraint=True, to_field=False, late=True))


def target_name(r):
    proxy = getattr(r, "via_proxy", None)
    return proxy.name if proxy is not None else r.target.name


def is_symmetrical(r):
    return getattr(r, "symmetrical", False)


def value_of(r):
    """A SET / SET_DEFAULT value as the key holds it: a row's id, or its code with to_field."""
    return code_of(r.value) if getattr(r, "to_field", False) else r.value


# ------------------------------------------------------------------------------ rendering

def toml_fk(r):
    parts = ['type = "%s"' % r.kind, 'to = "%s"' % target_name(r), 'on_delete = "%s"' % r.rule]
    if r.null:
        parts.append("null = true")
    if getattr(r, "to_field", False):
        parts.append('to_field = "code"')
    if r.rule in ("SET_DEFAULT", "DB_SET_DEFAULT"):
        parts.append("default_none = true" if r.value is None else "default = %d" % value_of(r))
    if r.rule == "SET":
        parts.append("set = %d" % value_of(r))
    if not r.constraint:
        parts.append("db_constraint = false")
    if r.related_name:
        parts.append('related_name = "%s"' % r.related_name)
    return "fields.%s = { %s }" % (r.name, ", ".join(parts))


def render_toml(models, throughs=(), abstract=None, proxy=None):
    out = []
    if proxy is not None:
        out += ["[models.t.P]", "proxy = true", 'bases = ["%s"]' % proxy.of.name,
                'ordering = ["-name"]', ""]
    if abstract is not None:
        out.append("[models.t.%s]" % abstract.name)
        out.append("abstract = true")
        out += [toml_fk(r) for r in abstract.fks]
        out.append("")
    for m in list(models) + list(throughs):
        out.append("[models.t.%s]" % m.name)
        if m.parent is not None:        # multi-table: `name` and str() come from the parent
            out.append('bases = ["%s"]' % m.parent.name)
            out += [toml_fk(r) for r in m.fks]
            out.append("")
            continue
        if m.bases:
            out.append("bases = [%s]" % ", ".join('"%s"' % b.name for b in m.bases))
        out.append('display = "{name}"')
        out.append('fields.name = { type = "char", max_length = 50 }')
        if m.code:
            out.append('fields.code = { type = "integer", unique = true }')
        out += [toml_fk(r) for r in m.fks if not getattr(r, "inherited", False)]
        if m.generic:
            out.append('fields.content_type = { type = "foreign_key", '
                       'to = "contenttypes.ContentType", on_delete = "CASCADE" }')
            out.append('fields.object_id = { type = "char", max_length = 40 }'
                       if m.generic == "char" else 'fields.object_id = { type = "integer" }')
            out.append('fields.content_object = "generic_foreign_key"')
        if m.gr is not None:
            out.append('fields.tags = { type = "generic_relation", to = "%s" }' % m.gr.name)
        for r in m.m2ms:
            to = "self" if is_symmetrical(r) else r.target.name
            parts = ['type = "many_to_many"', 'to = "%s"' % to]
            if getattr(r, "through", None) is not None:
                parts.append('through = "%s"' % r.through.name)
            if r.related_name:
                parts.append('related_name = "%s"' % r.related_name)
            out.append("fields.%s = { %s }" % (r.name, ", ".join(parts)))
        out.append("")
    return "\n".join(out)


def django_fk(r):
    cls = "ForeignKey" if r.kind == "foreign_key" else "OneToOneField"
    rule = DJANGO_RULE.get(r.rule, r.rule)
    args = ["'%s'" % target_name(r)]
    if rule == "SET":
        args.append("on_delete=models.SET(%d)" % value_of(r))
    else:
        args.append("on_delete=models.%s" % rule)
    if r.null:
        args.append("null=True")
    if getattr(r, "to_field", False):
        args.append("to_field='code'")
    if not r.constraint:
        args.append("db_constraint=False")
    if r.rule in ("SET_DEFAULT", "DB_SET_DEFAULT"):
        args.append("default=None" if r.value is None else "default=%d" % value_of(r))
    if r.related_name:
        args.append("related_name='%s'" % r.related_name)
    return "    %s = models.%s(%s)" % (r.name, cls, ", ".join(args))


def render_django(models, throughs=(), abstract=None, proxy=None):
    out = ["from django.db import models"]
    if any(m.generic for m in throughs):
        out += ["from django.contrib.contenttypes.fields import GenericForeignKey, "
                "GenericRelation", "from django.contrib.contenttypes.models import ContentType"]
    out += ["", ""]
    if abstract is not None:
        out.append("class %s(models.Model):" % abstract.name)
        out += [django_fk(r) for r in abstract.fks]
        out += ["", "    class Meta:", "        abstract = True", "        app_label = 't'", "", ""]
    for m in list(models) + list(throughs):
        if m.parent is not None:
            out.append("class %s(%s):" % (m.name, m.parent.name))
            out += [django_fk(r) for r in m.fks]
            out += ["", "    class Meta:", "        app_label = 't'", "", ""]
            continue
        bases = ", ".join(b.name for b in m.bases) if m.bases else "models.Model"
        out.append("class %s(%s):" % (m.name, bases))
        out.append("    name = models.CharField(max_length=50)")
        if m.code:
            out.append("    code = models.IntegerField(unique=True)")
        out += [django_fk(r) for r in m.fks if not getattr(r, "inherited", False)]
        if m.generic:
            out.append("    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)")
            out.append("    object_id = models.CharField(max_length=40)" if m.generic == "char"
                       else "    object_id = models.IntegerField()")
            out.append("    content_object = GenericForeignKey('content_type', 'object_id')")
        if m.gr is not None:
            out.append("    tags = GenericRelation('%s')" % m.gr.name)
        for r in m.m2ms:
            if is_symmetrical(r):
                args = ["'self'"]           # symmetrical, Django's default for 'self'
            else:
                args = ["'%s'" % r.target.name]
                if r.target is m:
                    args.append("symmetrical=False")
            if getattr(r, "through", None) is not None:
                args.append("through='%s'" % r.through.name)
            if r.related_name:
                args.append("related_name='%s'" % r.related_name)
            out.append("    %s = models.ManyToManyField(%s)" % (r.name, ", ".join(args)))
        out.append("")
        out.append("    class Meta:")
        out.append("        app_label = 't'")
        out.append("")
        out.append("    def __str__(self):")
        out.append("        return self.name")
        out.append("")
        out.append("")
    if proxy is not None:
        out += ["class P(%s):" % proxy.of.name, "    class Meta:", "        proxy = True",
                "        ordering = ['-name']", "        app_label = 't'", "", ""]
    return "\n".join(out)


def dump_lines(models):
    """Statements printing every table, deterministically."""
    out = []
    for m in models:
        if m.through_of is not None:
            # Through rows made by add() get their ids in an order Django takes from a Python
            # set: listed by their keys, without ids, so that only what they link is compared.
            cols = [c for c in m.columns() if c != "id"]
            out.append("print(%r, list(%s.objects.order_by(%s).values_list(%s)))" % (
                m.name, m.name, ", ".join(repr(c) for c in cols[1:] + ["id"]),
                ", ".join(repr(c) for c in cols)))
            continue
        out.append("print(%r, list(%s.objects.order_by('id').values_list(%s)))" % (
            m.name, m.name, ", ".join(repr(c) for c in m.columns())))
        if m.generic:
            # What each generic key refers to now: None once that row is gone (rule 58).
            out.append("for o in %s.objects.order_by('id'): print(%r, o.id, o.content_object)" % (
                m.name, m.name + ".content_object"))
            out.append("print('ContentType', list(ContentType.objects.order_by('id')"
                       ".values_list('id', 'app_label', 'model')))")
        # One line per row: ordering by, or listing, a many-to-many column in values_list()
        # next to a filter on it is a join-reuse case Cascade's QuerySets get wrong (duplicates;
        # see README.md), which is not what this test is about.
        for r in m.m2ms:
            out.append("for o in %s.objects.order_by('id'): print(%r, o.id, list(o.%s.order_by('id')"
                       ".values_list('id', flat=True)))" % (m.name, m.name + "." + r.name, r.name))
    return out


def closure_risk(models, root):
    """Whether deleting rows of `root` can raise for some data: PROTECT, RESTRICT, DO_NOTHING,
    SET/SET_DEFAULT (the value's row may go), one_to_one SET_* (unique), a DB_CASCADE'd model
    that Python-level relations or m2m point at."""
    seen = {root.name}
    pending = [(root, False)]
    while pending:
        x, by_db = pending.pop()
        # A GenericRelation's rows go with the rows they refer to (not with a DB_* delete).
        t = x.generic_target()
        if t is not None and not by_db and t.name not in seen:
            seen.add(t.name)
            pending.append((t, False))
        # Multi-table inheritance: a child's parent rows go with it, a parent's child rows too.
        for y in models:
            if (y is x.parent or y.parent is x) and y.name not in seen:
                seen.add(y.name)
                pending.append((y, by_db))
        for s in models:
            for r in s.fks:
                if r.target is not x:
                    continue
                if by_db and r.rule not in ("DB_CASCADE", "DB_SET_NULL"):
                    return True
                if r.rule in ("PROTECT", "RESTRICT", "DO_NOTHING", "SET", "SET_DEFAULT",
                              "DB_SET_DEFAULT"):
                    return True
                if r.kind == "one_to_one" and r.rule != "CASCADE" and r.rule != "DB_CASCADE":
                    return True
                if r.rule in ("CASCADE", "DB_CASCADE") and s.name not in seen:
                    seen.add(s.name)
                    pending.append((s, r.rule == "DB_CASCADE"))
            if by_db:
                for r in s.m2ms:
                    if r.target is x or s is x:
                        return True
    return False


def render_script(rng, models, throughs=(), proxy=None, extra=None, extra3=None, generic=(),
                  extra4=None):
    every = list(models) + list(throughs) + list(generic)
    base = [m for m in models if m.parent is None]
    children = [m for m in models if m.parent is not None]
    # What concerns the multi-table models draws from their own stream.
    own = lambda m, r=None: extra3 if (m.parent is not None or getattr(r, "late", False)) else rng
    names = ", ".join(m.name for m in every + ([proxy] if proxy is not None else []))
    lines = ["from t.models import " + names, "from django.db.models import Q"]
    if generic:
        lines.append("from django.contrib.contenttypes.models import ContentType")

    # --- data, created in model order
    later = []
    o2o_used = {}
    for m in models:
        for i in range(1, m.rows + 1):
            args = ["name=%r" % m.var(i)]
            if m.code:
                args.append("code=%d" % code_of(i))
            elif m.has_code():          # a child's rows share the parent's unique codes
                args.append("code=%d" % (code_of(i) + 100 * m.index))
            for r in m.all_fks():
                t = r.target
                if t.index >= m.index or getattr(r, "late", False):
                    args.append("%s=None" % r.name)
                    if own(m, r).random() < 0.7:
                        later.append((m, i, r))
                    continue
                args.append("%s=%s" % (r.name, pick_target(own(m, r), m, r, o2o_used)))
            lines.append("%s = %s.objects.create(%s)" % (m.var(i), m.name, ", ".join(args)))
    sets = {}
    for m, i, r in later:
        v = pick_target(own(m, r), m, r, o2o_used)
        if v != "None":
            sets.setdefault((m.index, i), []).append("%s.%s = %s" % (m.var(i), r.name, v))
    for (mi, i), assigns in sorted(sets.items()):
        lines.append("; ".join(assigns + ["%s.save()" % models[mi].var(i)]))
    for m in models:
        for r in m.m2ms:
            for i in range(1, m.rows + 1):
                k = rng.randint(0, min(3, r.target.rows))
                if k:
                    picks = sorted(rng.sample(range(1, r.target.rows + 1), k))
                    lines.append("%s.%s.add(%s)" % (m.var(i), r.name,
                                                   ", ".join(r.target.var(j) for j in picks)))
    if generic:
        # Rows of T refer to rows of any model (through a GenericRelation or not), then N's.
        holders = [m for m in models if m.generic_target() is not None]
        for j in range(1, generic[0].rows + 1):
            pool = holders if holders and extra4.random() < 0.7 else models
            m = extra4.choice(pool)
            lines.append("%s = T.objects.create(name=%r, content_object=%s)" % (
                generic[0].var(j), generic[0].var(j), m.var(extra4.randint(1, m.rows))))
        for n in generic[1:]:
            for i in range(1, n.rows + 1):
                r = n.fks[0]
                v = "None" if r.null and extra4.random() < 0.3 else \
                    r.target.var(extra4.randint(1, r.target.rows))
                lines.append("%s = %s.objects.create(name=%r, %s=%s)" % (
                    n.var(i), n.name, n.var(i), r.name, v))
    dump = dump_lines(every)
    lines += dump

    # --- operations: the ones that cannot raise first, the risky ones last (the script stops
    # at the first uncaught error, as `manage.py shell < script` does)
    safe, risky = [], []
    deleted_vars = set()
    for _ in range(rng.randint(3, 9)):
        m = rng.choice(base)
        op, can_raise = make_op(rng, base, m, deleted_vars)
        (risky if can_raise or closure_risk(every, m) else safe).append(op)
    for _ in range(extra3.randint(1, 4) if children else 0):
        # On a child: deletes that take its parent rows too, or keep them (keep_parents).
        m = extra3.choice(children)
        if extra3.random() < 0.3:
            v = m.var(extra3.randint(1, m.rows))
            again = v in deleted_vars
            deleted_vars.add(v)
            op, can_raise = "print(%s.delete(keep_parents=True))" % v, again
        else:
            op, can_raise = make_op(extra3, models, m, deleted_vars)
        (risky if can_raise or closure_risk(every, m) else safe).append(op)
    if rng.random() < 0.3:
        m = rng.choice(base)
        (risky if closure_risk(every, m) else safe).append(
            "print(%s.objects.all().delete())" % m.name)
    if generic:
        t = generic[0]
        holders = [m for m in models if m.generic_target() is not None]
        for _ in range(extra4.randint(1, 4)):
            kind = extra4.choice(["var", "qs", "t", "tags", "tags"])
            m = extra4.choice(holders)
            if kind == "var":
                v = m.var(extra4.randint(1, m.rows))
                again = v in deleted_vars
                deleted_vars.add(v)
                op, can_raise = "print(%s.delete())" % v, again
            elif kind == "qs":
                op, can_raise = "print(%s.objects.filter(name__in=%r).delete())" % (
                    m.name, [m.var(i) for i in some_names(extra4, m)]), False
            elif kind == "t":
                m = t
                op, can_raise = "print(T.objects.filter(name__in=%r).delete())" % (
                    [t.var(i) for i in some_names(extra4, t)]), False
            else:
                # The GenericRelation's manager (a deleted variable's pk is None: an error).
                v = m.var(extra4.randint(1, m.rows))
                op, can_raise = ("print(list(%s.tags.order_by('id').values_list('name', "
                                 "flat=True)))" % v), True
            (risky if can_raise or closure_risk(every, m) else safe).append(op)
    if proxy is not None:
        # Deletes through the proxy: counted and refused under its name.
        x = proxy.of
        names_ = [x.var(i) for i in sorted(extra.sample(range(1, x.rows + 1), min(2, x.rows)))]
        ops = ["print(P.objects.filter(name__in=%r).delete())" % names_,
               "print(list(P.objects.values_list('name', flat=True)))"]
        (risky if closure_risk(every, x) else safe).extend(ops)
        risky.append("print(P.objects.get(name=%r).delete())" % x.var(extra.randint(1, x.rows)))
    for op in safe + risky:
        lines.append(op)
        lines += dump
    return "\n".join(lines) + "\n"


def pick_target(rng, m, r, o2o_used):
    t = r.target
    if r.null and rng.random() < 0.3:
        return "None"
    if r.kind == "one_to_one":
        used = o2o_used.setdefault((owner_of(m, r).name, r.name), set())
        free = [j for j in range(1, t.rows + 1) if j not in used]
        if not free:
            return "None"   # only reachable with null=True (checked by the generator)
        j = rng.choice(free)
        used.add(j)
        return t.var(j)
    return t.var(rng.randint(1, t.rows))


def owner_of(m, r):
    """The model of m's chain that declares the key r (whose table holds it)."""
    return next(x for x in m.chain() if r in x.fks)


def some_names(rng, m, k=None):
    k = k or rng.randint(1, min(3, m.rows))
    return sorted(rng.sample(range(1, m.rows + 1), min(k, m.rows)))


def make_op(rng, models, m, deleted_vars):
    """One operation on model m; returns (statement, can_raise_regardless_of_schema)."""
    kind = rng.choices(
        ["var", "for", "get", "in", "fk_name", "fk2_name", "exclude", "isnull", "q", "reverse",
         "m2m_filter", "m2m_add", "m2m_clear", "all"],
        weights=[14, 8, 3, 10, 8, 4, 4, 5, 4, 5, 3, 4, 2, 2])[0]
    fks = m.fks
    if kind == "var":
        i = rng.randint(1, m.rows)
        v = m.var(i)
        again = v in deleted_vars
        deleted_vars.add(v)
        # deleting a variable twice: its pk is None after the first delete (an error)
        return "print(%s.delete())" % v, again
    if kind == "for":
        names = [m.var(i) for i in some_names(rng, m)]
        return "for o in %s.objects.filter(name__in=%r).order_by('id'): print(o.delete())" % (
            m.name, names), False
    if kind == "get":
        return "print(%s.objects.get(name=%r).delete())" % (m.name, m.var(rng.randint(1, m.rows))), True
    if kind == "fk_name" and fks:
        r = rng.choice(fks)
        return "print(%s.objects.filter(%s__name=%r).delete())" % (
            m.name, r.name, r.target.var(rng.randint(1, r.target.rows))), False
    if kind == "fk2_name" and fks:
        r = rng.choice(fks)
        if r.target.fks:
            r2 = rng.choice(r.target.fks)
            return "print(%s.objects.filter(%s__%s__name=%r).delete())" % (
                m.name, r.name, r2.name, r2.target.var(rng.randint(1, r2.target.rows))), False
    if kind == "exclude":
        return "print(%s.objects.exclude(name__in=%r).delete())" % (
            m.name, [m.var(i) for i in some_names(rng, m)]), False
    if kind == "isnull":
        nullable = [r for r in fks if r.null]
        if nullable:
            r = rng.choice(nullable)
            return "print(%s.objects.filter(%s=None).delete())" % (m.name, r.name), False
    if kind == "q" and fks:
        r = rng.choice(fks)
        return "print(%s.objects.filter(Q(name=%r) | Q(%s__name=%r)).delete())" % (
            m.name, m.var(rng.randint(1, m.rows)), r.name,
            r.target.var(rng.randint(1, r.target.rows))), False
    if kind == "reverse":
        # A symmetrical relation has no reverse side to look up.
        refs = [(s, r) for s in models for r in s.fks + s.m2ms
                if r.target is m and not is_symmetrical(r)]
        if refs:
            s, r = rng.choice(refs)
            query = r.related_name or s.lower
            return "print(%s.objects.filter(%s__name=%r).delete())" % (
                m.name, query, s.var(rng.randint(1, s.rows))), False
    if kind == "m2m_filter" and m.m2ms:
        r = rng.choice(m.m2ms)
        return "print(%s.objects.filter(%s__name__in=%r).delete())" % (
            m.name, r.name, [r.target.var(i) for i in some_names(rng, r.target)]), False
    if kind in ("m2m_add", "m2m_clear") and m.m2ms:
        r = rng.choice(m.m2ms)
        i = rng.randint(1, m.rows)
        if kind == "m2m_clear":
            return "for o in %s.objects.filter(name=%r): o.%s.clear()" % (m.name, m.var(i), r.name), False
        j = rng.randint(1, r.target.rows)
        # the target variable may hold a row deleted meanwhile: a foreign key error at commit
        return "for o in %s.objects.filter(name=%r): o.%s.add(%s)" % (
            m.name, m.var(i), r.name, r.target.var(j)), True
    if kind == "all":
        return "print(%s.objects.all().delete())" % m.name, False
    return "print(%s.objects.filter(name__in=%r).delete())" % (
        m.name, [m.var(i) for i in some_names(rng, m)]), False


if __name__ == "__main__":
    import sys
    c = generate(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
    print(c.toml)
    print(c.django_models)
    print(c.script)
