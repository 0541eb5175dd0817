/* fts5_bench.c - the SQLite FTS5 peer: indexes the same records' text with
 * the trigram tokenizer and runs the same short queries, timed in process.
 *   fts5_bench index DB FILE.jsonl...
 *   fts5_bench query DB QUERIES.txt [RUNS [and|or]]
 * Query words are ANDed ("w1" "w2"), or ORed, best 10 by bm25, as a search
 * box would do with FTS5. Output is one "key=value" line for the bench. */
#include <json-c/json.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int die(sqlite3 *db, const char *what)
{
    fprintf(stderr, "fts5_bench: %s: %s\n", what, db ? sqlite3_errmsg(db) : "");
    sqlite3_close(db);
    return 1;
}

/* "tags" and other arrays become one space-separated string. */
static const char *field(json_object *o, const char *name, char *buf,
                         size_t n)
{
    json_object *v;

    if (!json_object_object_get_ex(o, name, &v))
        return NULL;
    if (json_object_is_type(v, json_type_array)) {
        size_t off = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < json_object_array_length(v) && off < n; i++)
            off += (size_t)snprintf(buf + off, n - off, "%s%s", i ? " " : "",
                                    json_object_get_string(
                                        json_object_array_get_idx(v, i)));
        return buf;
    }
    return json_object_get_string(v);
}

static int do_index(const char *path, int nfiles, char **files)
{
    static const char *const cols[] = {"name", "org", "tags", "text"};
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL;
    char *line = NULL, tags[8192];
    size_t cap = 0;
    long n = 0;
    double t0 = now_ms();

    remove(path);
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return die(db, "open");
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "CREATE VIRTUAL TABLE docs USING fts5(key UNINDEXED, "
                     "kind UNINDEXED, region UNINDEXED, name, org, tags, "
                     "text, tokenize='trigram');",
                     NULL, NULL, NULL) != SQLITE_OK)
        return die(db, "create");
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO docs(key, kind, region, name, org, "
                           "tags, text) VALUES (?,?,?,?,?,?,?)",
                           -1, &ins, NULL) != SQLITE_OK)
        return die(db, "prepare");
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (int f = 0; f < nfiles; f++) {
        FILE *in = fopen(files[f], "r");

        if (!in) {
            perror(files[f]);
            return 1;
        }
        while (getline(&line, &cap, in) > 0) {
            json_object *o = json_tokener_parse(line);
            char key[160];

            if (!o)
                continue;
            snprintf(key, sizeof key, "%s:%s",
                     field(o, "kind", tags, sizeof tags),
                     field(o, "id", tags + 4096, sizeof tags - 4096));
            sqlite3_bind_text(ins, 1, key, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(ins, 2, field(o, "kind", tags, sizeof tags), -1,
                              SQLITE_TRANSIENT);
            sqlite3_bind_text(ins, 3, field(o, "region", tags, sizeof tags),
                              -1, SQLITE_TRANSIENT);
            for (int c = 0; c < 4; c++)
                sqlite3_bind_text(ins, 4 + c,
                                  field(o, cols[c], tags, sizeof tags), -1,
                                  SQLITE_TRANSIENT);
            if (sqlite3_step(ins) != SQLITE_DONE)
                return die(db, "insert");
            sqlite3_reset(ins);
            json_object_put(o);
            /* commit in batches, as kxmatch does */
            if (++n % 20000 == 0) {
                sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
                sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
            }
        }
        fclose(in);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_finalize(ins);
    sqlite3_close(db);
    free(line);
    printf("records=%ld seconds=%.3f rate=%.0f\n", n, (now_ms() - t0) / 1e3,
           n / ((now_ms() - t0) / 1e3));
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Quotes each word: FTS5 syntax never sees the user's characters. The
 * words are ANDed (juxtaposed), or ORed when `or` is set. */
static void match_expr(const char *q, int or, char *out, size_t n)
{
    size_t o = 0;
    int inword = 0;

    for (; *q && o + 8 < n; q++) {
        if (*q == ' ' || *q == '\t' || *q == '\n') {
            if (inword)
                out[o++] = '"';
            inword = 0;
            continue;
        }
        if (!inword) {
            if (o && or) {
                memcpy(out + o, " OR ", 4);
                o += 4;
            } else if (o) {
                out[o++] = ' ';
            }
            out[o++] = '"';
            inword = 1;
        }
        if (*q == '"')
            out[o++] = '"';
        out[o++] = *q;
    }
    if (inword)
        out[o++] = '"';
    out[o] = '\0';
}

static int do_query(const char *path, const char *qfile, int runs, int or)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    FILE *in = fopen(qfile, "r");
    char **qs = NULL, *line = NULL, expr[4096];
    size_t nq = 0, cap = 0;
    double *lat, *p50s, *p99s;
    long zero = 0, errors = 0;

    if (!in) {
        perror(qfile);
        return 1;
    }
    while (getline(&line, &cap, in) > 0) {
        line[strcspn(line, "\n")] = '\0';
        qs = realloc(qs, (nq + 1) * sizeof *qs);
        qs[nq++] = strdup(line);
    }
    fclose(in);
    free(line);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return die(db, "open");
    if (sqlite3_prepare_v2(db,
                           "SELECT key FROM docs WHERE docs MATCH ? ORDER BY "
                           "rank LIMIT 10",
                           -1, &st, NULL) != SQLITE_OK)
        return die(db, "prepare");
    lat = calloc(nq ? nq : 1, sizeof *lat);
    p50s = calloc((size_t)runs, sizeof *p50s);
    p99s = calloc((size_t)runs, sizeof *p99s);
    for (int r = 0; r < runs; r++) {
        for (size_t i = 0; i < nq; i++) {
            double t0 = now_ms();
            int rows = 0, rc;

            match_expr(qs[i], or, expr, sizeof expr);
            sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
            while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                rows++;
            if (rc != SQLITE_DONE && r == 0)
                errors++;
            sqlite3_reset(st);
            lat[i] = now_ms() - t0;
            if (r == 0 && rows == 0 && rc == SQLITE_DONE)
                zero++;
        }
        qsort(lat, nq, sizeof *lat, cmp_double);
        p50s[r] = lat[nq / 2];
        p99s[r] = lat[(size_t)(nq * 0.99)];
    }
    qsort(p50s, (size_t)runs, sizeof *p50s, cmp_double);
    qsort(p99s, (size_t)runs, sizeof *p99s, cmp_double);
    printf("queries=%zu runs=%d p50_ms=%.3f p99_ms=%.3f zero=%ld errors=%ld\n",
           nq, runs, p50s[runs / 2], p99s[runs / 2], zero, errors);
    sqlite3_finalize(st);
    sqlite3_close(db);
    for (size_t i = 0; i < nq; i++)
        free(qs[i]);
    free(qs);
    free(lat);
    free(p50s);
    free(p99s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "index"))
        return do_index(argv[2], argc - 3, argv + 3);
    if (argc >= 4 && argc <= 6 && !strcmp(argv[1], "query"))
        return do_query(argv[2], argv[3], argc >= 5 ? atoi(argv[4]) : 3,
                        argc == 6 && !strcmp(argv[5], "or"));
    fprintf(stderr, "usage: fts5_bench index DB FILE.jsonl...\n"
                    "       fts5_bench query DB QUERIES.txt [RUNS [and|or]]\n");
    return 2;
}
