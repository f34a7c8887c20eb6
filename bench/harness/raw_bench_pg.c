/*
 * raw_bench_pg.c - the "physical limit" reference on PostgreSQL: the operations of raw_bench.c,
 * written by hand against libpq, on a copy of the template Django builds.
 *
 *   raw_bench_pg run <scenario> <size> <mode> <conninfo>
 *       times one operation inside ONE transaction (BEGIN .. COMMIT included).
 *       modes:
 *         set          set-based statement(s); the database's ON DELETE actions do the
 *                      cascade / SET NULL (run on a copy whose foreign keys were given their
 *                      actions: django_bench.py pg-actions)
 *         manual999    app-side equivalent: SELECT ids, then DELETE/UPDATE ...
 *         manual32766  WHERE id IN ($1, ...) in batches of 999 / 32766 parameters, children
 *                      first (on a copy of the Django template: its keys have no action)
 *         marks        S6 only: the columns Cascade's soft delete writes (a time and a UUID) by
 *                      one UPDATE, on a copy with them added
 *         join         R<d> only: the refusal as one query per level, from the guards up to the
 *                      roots through the keys
 *
 * Output: one JSON object on stdout. Scenarios and data: see raw_bench.c and django_bench.py.
 * Statements are sent with PQexecParams (text parameters), one round trip each, as a C program
 * without a statement cache would; results are read whole (the app-side variants keep every key
 * in memory anyway).
 */
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static PGconn *db;
static long n_queries = 0;

static void die(const char *what, PGresult *r) {
    fprintf(stderr, "raw_bench_pg: %s: %s\n", what, r ? PQresultErrorMessage(r) : PQerrorMessage(db));
    exit(1);
}

/* Runs a statement without parameters; returns the rows it changed, or -1 when it failed with
 * a foreign key violation and `may_refuse` (the transaction is then rolled back). */
static long exec_sql(const char *sql, int may_refuse) {
    PGresult *r = PQexec(db, sql);
    ExecStatusType st = PQresultStatus(r);
    n_queries++;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (may_refuse && state && !strcmp(state, "23503")) {
            PQclear(r);
            return -1;
        }
        fprintf(stderr, "  in: %s\n", sql);
        die("statement failed", r);
    }
    long n = atol(PQcmdTuples(r));
    PQclear(r);
    return n;
}

static long vm_hwm_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) { kb = atol(line + 6); break; }
    fclose(f);
    return kb;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct { int64_t *v; size_t n, cap; } ivec;
static void push(ivec *a, int64_t x) {
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 1024;
        a->v = realloc(a->v, a->cap * sizeof(int64_t));
        if (!a->v) die("out of memory", NULL);
    }
    a->v[a->n++] = x;
}

/* SELECT <id> ... with no parameters; the first column collected */
static void select_ids(const char *sql, ivec *out) {
    PGresult *r = PQexec(db, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) die(sql, r);
    for (int i = 0; i < PQntuples(r); i++) push(out, atoll(PQgetvalue(r, i, 0)));
    PQclear(r);
    n_queries++;
}

/* "<prefix>$1,$2,...$k<suffix>" */
static char *in_sql(const char *prefix, const char *suffix, size_t k) {
    size_t len = strlen(prefix) + strlen(suffix) + 8 * k + 1;
    char *s = malloc(len), *p;
    strcpy(s, prefix);
    p = s + strlen(prefix);
    for (size_t i = 0; i < k; i++) p += sprintf(p, i + 1 < k ? "$%zu," : "$%zu", i + 1);
    strcpy(p, suffix);
    return s;
}

/* Runs "<prefix>($1..)<suffix>" over `in` in batches of `batch`. With out != NULL the statement
 * is a SELECT whose first column is collected; touch_text_col >= 0 reads that column as text
 * (the row materialised for a signal receiver). Returns the rows changed. */
static long run_in(const char *prefix, const char *suffix, const ivec *in, size_t batch,
                   ivec *out, int touch_text_col, long *touched) {
    long changes = 0;
    char (*text)[24] = malloc(batch * sizeof *text);
    const char **values = malloc(batch * sizeof *values);
    for (size_t off = 0; off < in->n; off += batch) {
        size_t k = in->n - off < batch ? in->n - off : batch;
        char *sql = in_sql(prefix, suffix, k);
        for (size_t i = 0; i < k; i++) {
            snprintf(text[i], sizeof text[i], "%lld", (long long)in->v[off + i]);
            values[i] = text[i];
        }
        PGresult *r = PQexecParams(db, sql, (int)k, NULL, values, NULL, NULL, 0);
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) die(prefix, r);
        if (st == PGRES_TUPLES_OK) {
            for (int i = 0; i < PQntuples(r); i++) {
                if (out) push(out, atoll(PQgetvalue(r, i, 0)));
                if (touch_text_col >= 0) *touched += PQgetlength(r, i, touch_text_col);
            }
        } else {
            changes += atol(PQcmdTuples(r));
        }
        PQclear(r);
        free(sql);
        n_queries++;
    }
    free(text);
    free(values);
    return changes;
}

static int chain_depth(const char *scen) {
    if ((scen[0] != 'D' && scen[0] != 'R') || !scen[1]) return 0;
    for (const char *p = scen + 1; *p; p++)
        if (*p < '0' || *p > '9') return 0;
    int d = atoi(scen + 1);
    return d >= 1 && d <= 10 ? d : 0;
}

/* Returns the rows deleted, or -1 when the delete is refused (nothing written). */
static long chain_op(int depth, const char *mode, size_t B) {
    char sql[2048];
    if (!strcmp(mode, "set")) {
        long n = exec_sql("DELETE FROM blog_level1", 1);
        if (n < 0) { exec_sql("ROLLBACK", 0); exec_sql("BEGIN", 0); n_queries -= 2; }
        return n;   /* rows of level 1; the cascade's are not counted by PostgreSQL */
    }
    if (!strcmp(mode, "join")) {
        for (int k = 1; k <= depth; k++) {
            int n = snprintf(sql, sizeof sql, "SELECT g.id FROM blog_guard g JOIN blog_level%d t%d ON t%d.id = g.l%d_id", k, k, k, k);
            for (int j = k - 1; j >= 1; j--)
                n += snprintf(sql + n, sizeof sql - n, " JOIN blog_level%d t%d ON t%d.id = t%d.parent_id", j, j, j, j + 1);
            snprintf(sql + n, sizeof sql - n, " LIMIT 1");
            ivec found = {0};
            select_ids(sql, &found);
            long hit = (long)found.n;
            free(found.v);
            if (hit) return -1;
        }
        return exec_sql("DELETE FROM blog_level1", 0);
    }
    if (strncmp(mode, "manual", 6)) return -2;
    ivec ids[11] = {{0}};
    select_ids("SELECT id FROM blog_level1", &ids[1]);
    for (int k = 1; k <= depth; k++) {
        if (k > 1) {
            snprintf(sql, sizeof sql, "SELECT id FROM blog_level%d WHERE parent_id IN (", k);
            run_in(sql, ")", &ids[k - 1], B, &ids[k], -1, NULL);
        }
        ivec blockers = {0};
        snprintf(sql, sizeof sql, "SELECT id FROM blog_guard WHERE l%d_id IN (", k);
        run_in(sql, ")", &ids[k], B, &blockers, -1, NULL);
        long hit = (long)blockers.n;
        free(blockers.v);
        if (hit) {
            for (int j = 1; j <= k; j++) free(ids[j].v);
            return -1;
        }
    }
    long ch = 0;
    for (int k = depth; k >= 1; k--) {
        snprintf(sql, sizeof sql, "DELETE FROM blog_level%d WHERE id IN (", k);
        ch += run_in(sql, ")", &ids[k], B, NULL, -1, NULL);
        free(ids[k].v);
    }
    return ch;
}

/* Deletes every root of the tree and everything under it; the rows deleted (the roots only
 * for `set`: PostgreSQL does not count the cascade's). */
static long tree_op(const char *mode, size_t B) {
    if (!strcmp(mode, "set")) return exec_sql("DELETE FROM blog_node WHERE parent_id IS NULL", 0);
    if (strncmp(mode, "manual", 6)) return -2;
    size_t cap = 16, levels = 0;
    ivec *ids = calloc(cap, sizeof *ids);
    select_ids("SELECT id FROM blog_node WHERE parent_id IS NULL", &ids[levels++]);
    while (ids[levels - 1].n) {
        if (levels == cap) {
            ids = realloc(ids, 2 * cap * sizeof *ids);
            memset(ids + cap, 0, cap * sizeof *ids);
            cap *= 2;
        }
        run_in("SELECT id FROM blog_node WHERE parent_id IN (", ")", &ids[levels - 1], B, &ids[levels], -1, NULL);
        levels++;
    }
    long ch = 0;
    for (size_t k = levels; k-- > 0;) {
        ch += run_in("DELETE FROM blog_node WHERE id IN (", ")", &ids[k], B, NULL, -1, NULL);
        free(ids[k].v);
    }
    free(ids);
    return ch;
}

static long touched = 0;

/* children-first app-side delete of a set of author ids (S2/S3/S5) */
static long manual_delete_authors(ivec *aids, size_t B, int per_object_comments) {
    long ch = 0;
    ivec pids = {0};
    run_in("SELECT id FROM blog_post WHERE author_id IN (", ")", aids, B, &pids, -1, NULL);
    ch += run_in("UPDATE blog_post SET editor_id = NULL WHERE editor_id IN (", ")", aids, B, NULL, -1, NULL);
    if (per_object_comments) {
        ivec cids = {0};
        run_in("SELECT id, post_id, body FROM blog_comment WHERE post_id IN (", ")", &pids, B, &cids, 2, &touched);
        ch += run_in("DELETE FROM blog_comment WHERE id IN (", ")", &cids, B, NULL, -1, NULL);
        free(cids.v);
    } else {
        ch += run_in("DELETE FROM blog_comment WHERE post_id IN (", ")", &pids, B, NULL, -1, NULL);
    }
    ch += run_in("DELETE FROM blog_post_tags WHERE post_id IN (", ")", &pids, B, NULL, -1, NULL);
    ch += run_in("DELETE FROM blog_post WHERE id IN (", ")", &pids, B, NULL, -1, NULL);
    ch += run_in("DELETE FROM blog_author WHERE id IN (", ")", aids, B, NULL, -1, NULL);
    free(pids.v);
    return ch;
}

static long op(const char *scen, const char *mode) {
    long ch = 0;
    int manual = !strncmp(mode, "manual", 6);
    size_t B = !strcmp(mode, "manual32766") ? 32766 : 999;
    int is_set = !strcmp(mode, "set");
    char sql[256];

    if (!strcmp(scen, "S1a") || !strcmp(scen, "S1b")) {
        const char *t = !strcmp(scen, "S1a") ? "blog_plainproduct" : "blog_product";
        if (is_set) {
            snprintf(sql, sizeof sql, "DELETE FROM %s WHERE discontinued", t);
            ch = exec_sql(sql, 0);
        } else if (manual) {
            ivec ids = {0};
            snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE discontinued", t);
            select_ids(sql, &ids);
            if (!strcmp(scen, "S1b")) {
                ivec blockers = {0};
                run_in("SELECT id FROM blog_orderitem WHERE product_id IN (", ")", &ids, B, &blockers, -1, NULL);
                if (blockers.n) { fprintf(stderr, "protected\n"); exit(3); }
            }
            snprintf(sql, sizeof sql, "DELETE FROM %s WHERE id IN (", t);
            ch = run_in(sql, ")", &ids, B, NULL, -1, NULL);
            free(ids.v);
        } else goto badmode;
    } else if (!strcmp(scen, "S2") || !strcmp(scen, "S3") || !strcmp(scen, "S5")) {
        const char *where = !strcmp(scen, "S5") ? " WHERE id = 1" : "";
        if (is_set) {
            snprintf(sql, sizeof sql, "DELETE FROM blog_author%s", where);
            ch = exec_sql(sql, 0);
        } else if (manual) {
            ivec aids = {0};
            snprintf(sql, sizeof sql, "SELECT id FROM blog_author%s", where);
            select_ids(sql, &aids);
            ch = manual_delete_authors(&aids, B, !strcmp(scen, "S3"));
            free(aids.v);
        } else goto badmode;
    } else if (!strcmp(scen, "S4")) {
        if (is_set) {
            ch = exec_sql("DELETE FROM blog_author WHERE name LIKE 'editor%'", 0);
        } else if (manual) {
            ivec aids = {0}, pids = {0}, own = {0};
            select_ids("SELECT id FROM blog_author WHERE name LIKE 'editor%'", &aids);
            run_in("SELECT id FROM blog_post WHERE author_id IN (", ")", &aids, B, &own, -1, NULL);
            if (own.n) { fprintf(stderr, "S4 editors unexpectedly own posts\n"); exit(3); }
            run_in("SELECT id FROM blog_post WHERE editor_id IN (", ")", &aids, B, &pids, -1, NULL);
            ch += run_in("UPDATE blog_post SET editor_id = NULL WHERE id IN (", ")", &pids, B, NULL, -1, NULL);
            ch += run_in("DELETE FROM blog_author WHERE id IN (", ")", &aids, B, NULL, -1, NULL);
            free(aids.v); free(pids.v); free(own.v);
        } else goto badmode;
    } else if (!strcmp(scen, "S6")) {
        if (is_set) {
            ch = exec_sql("UPDATE blog_post SET is_deleted = true WHERE status = 'spam'", 0);
        } else if (manual) {
            ivec ids = {0};
            select_ids("SELECT id FROM blog_post WHERE status = 'spam'", &ids);
            ch = run_in("UPDATE blog_post SET is_deleted = true WHERE id IN (", ")", &ids, B, NULL, -1, NULL);
            free(ids.v);
        } else if (!strcmp(mode, "marks")) {
            ch = exec_sql("UPDATE blog_post SET deleted_at = '2026-01-01 00:00:00+00', "
                          "deletion_id = '00000000-0000-4000-8000-000000000000' "
                          "WHERE status = 'spam' AND deleted_at IS NULL", 0);
        } else goto badmode;
    } else if (!strcmp(scen, "T")) {
        ch = tree_op(mode, B);
        if (ch == -2) goto badmode;
    } else if (chain_depth(scen)) {
        ch = chain_op(chain_depth(scen), mode, B);
        if (ch == -2 || (!strcmp(mode, "join") && scen[0] != 'R')) goto badmode;
    } else {
        fprintf(stderr, "unknown scenario %s\n", scen); exit(2);
    }
    return ch;
badmode:
    fprintf(stderr, "mode %s not valid for %s\n", mode, scen); exit(2);
}

int main(int argc, char **argv) {
    if (argc != 6 || strcmp(argv[1], "run")) {
        fprintf(stderr, "usage: raw_bench_pg run <scen> <size> <mode> <conninfo>\n");
        return 2;
    }
    const char *scen = argv[2], *mode = argv[4];
    long size = atol(argv[3]);
    db = PQconnectdb(argv[5]);
    if (PQstatus(db) != CONNECTION_OK) die("connect", NULL);
    double t0 = now();
    exec_sql("BEGIN", 0);
    n_queries = 0;                  /* count only the operation's statements */
    long ch = op(scen, mode);
    long op_queries = n_queries;
    exec_sql("COMMIT", 0);
    double t1 = now();
    printf("{\"scenario\": \"%s\", \"size\": %ld, \"mode\": \"%s\", \"seconds\": %.6f, "
           "\"queries\": %ld, \"changes\": %ld, \"peak_rss_kb\": %ld, \"server_version\": %d}\n",
           scen, size, mode, t1 - t0, op_queries, ch, vm_hwm_kb(), PQserverVersion(db));
    PQfinish(db);
    return 0;
}
