/* cmd_import.c - `kxmatch import`: records from spreadsheets saved as CSV
 * (RFC 4180, UTF-8, read with Debian's libcsv). The header row names the
 * record format's own fields (kind,id,name,org,...); a list field (tags,
 * industries, members, ...) holds its items separated by ';' (or '；', '、',
 * '|'), numbers and booleans are written as in the format. Each row
 * becomes one JSON line and the whole goes through `index`'s path: every
 * row is checked before anything is written, and one bad row rejects the
 * run unless --skip-invalid, each error naming file, row and field. A
 * cell is a value, never a formula: "=1+1" is the text "=1+1". */
#include "cli.h"

#include <csv.h>
#include <stdarg.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record.h"
#include "text.h"
#include "util.h"

#define IMPORT_MAX_BYTES (16u << 20) /* per file; split larger ones */
#define IMPORT_MAX_COLS 64

struct sheet {
    const char *path;       /* the CSV file, for messages */
    const char *kind;       /* --kind, or NULL: a "kind" column */
    FILE *out;              /* the JSON lines */
    char *head[IMPORT_MAX_COLS];
    size_t nhead, col;
    long row;               /* 1: the header */
    json_object *rec;       /* the row being read */
    size_t errors, rows;
    int fatal;              /* the header is wrong: stop */
    struct refs *refs;      /* every sheet's keys and references */
};

/* What the sheets hold and name: their records' keys, and the enterprise
 * of each need and the owner of each result with the row that names it,
 * checked once every sheet is read. */
struct ref {
    char *key, *file;
    long row;
    int is_ref;            /* 1: a reference, 0: a record of the sheets */
};
struct refs {
    struct ref *v;
    size_t n, cap;
};

static void refs_add(struct refs *r, const char *key, const char *file,
                     long row, int is_ref)
{
    if (kx_grow(&r->v, &r->cap, r->n + 1, sizeof *r->v, 64) != 0)
        return;
    r->v[r->n].key = strdup(key);
    r->v[r->n].file = strdup(file);
    r->v[r->n].row = row;
    r->v[r->n].is_ref = is_ref;
    r->n++;
}

static void refs_note(struct sheet *s, json_object *line)
{
    json_object *k, *id, *ref;
    char key[2 * KX_KEY_MAX];

    if (!json_object_object_get_ex(line, "kind", &k) ||
        !json_object_object_get_ex(line, "id", &id))
        return;
    snprintf(key, sizeof key, "%s:%s", json_object_get_string(k),
             json_object_get_string(id));
    refs_add(s->refs, key, s->path, s->row, 0);
    if ((json_object_object_get_ex(line, "enterprise", &ref) ||
         json_object_object_get_ex(line, "owner", &ref)) &&
        json_object_is_type(ref, json_type_string))
        refs_add(s->refs, json_object_get_string(ref), s->path, s->row, 1);
}

static void refs_free(struct refs *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].key);
        free(r->v[i].file);
    }
    free(r->v);
}

/* A spreadsheet names what must be there already or in the sheets: the
 * number of references that are in neither, each printed with its row. */
static size_t refs_check(const struct refs *r, store *st)
{
    store_txn *t = NULL;
    size_t bad = 0;

    if (store_txn_begin(st, 0, &t) != KX_OK)
        return 0;
    for (size_t i = 0; i < r->n; i++) {
        const char *json;
        size_t j;

        if (!r->v[i].is_ref)
            continue;
        for (j = 0; j < r->n; j++)
            if (!r->v[j].is_ref && strcmp(r->v[j].key, r->v[i].key) == 0)
                break;
        if (j < r->n || store_record_get(t, r->v[i].key, &json, NULL) == KX_OK)
            continue;
        fprintf(stderr, "%s:%ld: %s: no record %s, here or in the sheets\n",
                r->v[i].file, r->v[i].row,
                strncmp(r->v[i].key, "enterprise:", 11) == 0 ? "enterprise"
                                                             : "owner",
                r->v[i].key);
        bad++;
    }
    store_txn_abort(t);
    return bad;
}

static void report(struct sheet *s, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void refs_note(struct sheet *s, json_object *line);

static void report(struct sheet *s, const char *field, const char *fmt, ...)
{
    va_list ap;

    if (s->errors++ >= 50) /* enough to fix; the count says the rest */
        return;
    fprintf(stderr, "%s:%ld: %s%s", s->path, s->row, field ? field : "",
            field ? ": " : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* The items of a list cell: split at ';' '；' '、' '|', each trimmed. */
static json_object *list_of(const char *v)
{
    static const char *const seps[] = {";", "；", "、", "|"};
    json_object *a = json_object_new_array();
    const char *p = v;

    while (*p) {
        const char *end = p + strlen(p);
        size_t sl = 0, n;

        for (size_t i = 0; i < sizeof seps / sizeof seps[0]; i++) {
            const char *f = strstr(p, seps[i]);
            if (f && f < end) {
                end = f;
                sl = strlen(seps[i]);
            }
        }
        n = (size_t)(end - p);
        while (n && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n)
            json_object_array_add(a, json_object_new_string_len(p, (int)n));
        p = *end ? end + sl : end;
    }
    return a;
}

static void on_cell(void *data, size_t len, void *vs)
{
    struct sheet *s = vs;
    const char *v = data ? data : "";
    size_t c = s->col++;

    if (s->fatal)
        return;
    if (!text_utf8_valid(v, len)) {
        report(s, s->row == 1 ? NULL : c < s->nhead ? s->head[c] : "",
               "column %zu is not UTF-8 text (save the sheet as \"CSV UTF-8\")",
               c + 1);
        if (s->row == 1)
            s->fatal = 1;
        return;
    }
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    while (len && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    if (s->row == 1) { /* the header names the fields */
        char name[64];

        if (c == 0 && len >= 3 && memcmp(v, "\xef\xbb\xbf", 3) == 0) {
            v += 3; /* Excel's byte order mark */
            len -= 3;
        }
        snprintf(name, sizeof name, "%.*s", (int)(len < 63 ? len : 63), v);
        if (c >= IMPORT_MAX_COLS) {
            report(s, NULL, "more than %d columns", IMPORT_MAX_COLS);
            s->fatal = 1;
            return;
        }
        if (record_field_shape(name) == RECORD_SHAPE_UNKNOWN) {
            report(s, NULL, "column %zu, \"%s\", is not a field of the record "
                   "format (kind, id, name, text, tags, industries, ...: see "
                   "README, \"The record format\")", c + 1, name);
            s->fatal = 1;
            return;
        }
        for (size_t i = 0; i < s->nhead; i++)
            if (strcmp(s->head[i], name) == 0) {
                report(s, NULL, "column \"%s\" is there twice", name);
                s->fatal = 1;
                return;
            }
        s->head[s->nhead++] = strdup(name);
        return;
    }
    if (c >= s->nhead) {
        if (len)
            report(s, NULL, "a value in column %zu, which has no name in the "
                   "header", c + 1);
        return;
    }
    if (!len)
        return; /* an empty cell: the field is not given */
    if (!s->rec)
        s->rec = json_object_new_object();
    {
        char *val = strndup(v, len);
        const char *f = s->head[c];
        json_object *j = NULL;

        if (!val)
            return;
        switch (record_field_shape(f)) {
        case RECORD_SHAPE_LIST:
            j = list_of(val);
            break;
        case RECORD_SHAPE_INT: {
            char *end;
            long long x;
            errno = 0;
            x = strtoll(val, &end, 10);
            if (errno || *end || end == val)
                report(s, f, "expected a whole number, got \"%.40s\"", val);
            else
                j = json_object_new_int64(x);
            break;
        }
        case RECORD_SHAPE_BOOL:
            if (!strcmp(val, "true") || !strcmp(val, "1") ||
                !strcmp(val, "是") || !strcmp(val, "yes"))
                j = json_object_new_boolean(1);
            else if (!strcmp(val, "false") || !strcmp(val, "0") ||
                     !strcmp(val, "否") || !strcmp(val, "no"))
                j = json_object_new_boolean(0);
            else
                report(s, f, "expected true or false, got \"%.40s\"", val);
            break;
        default:
            j = json_object_new_string(val);
        }
        if (j)
            json_object_object_add(s->rec, f, j);
        free(val);
    }
}

static void on_row(int c, void *vs)
{
    struct sheet *s = vs;

    (void)c;
    if (s->row > 1 && !s->fatal && s->rec) { /* a blank row is no record */
        json_object *o = s->rec;
        /* kind and id first, as the format writes them */
        json_object *line = json_object_new_object(), *k;

        if (s->kind && !json_object_object_get_ex(o, "kind", &k))
            json_object_object_add(line, "kind", json_object_new_string(s->kind));
        json_object_object_foreach(o, key, val)
            json_object_object_add(line, key, json_object_get(val));
        refs_note(s, line);
        fprintf(s->out, "%s\n", json_object_to_json_string_ext(
                                    line, JSON_C_TO_STRING_PLAIN |
                                              JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(line);
        json_object_put(o);
        s->rows++;
    }
    s->rec = NULL;
    s->col = 0;
    s->row++;
}

/* Reads path into the JSON lines of out: KX_OK, or KX_BADINPUT after the
 * errors were printed (KX_NOTFOUND, KX_IO, KX_TOOLARGE for the file). */
static enum kx_status sheet_read(const char *path, const char *kind, FILE *out,
                                 struct refs *refs, size_t *rows,
                                 struct kx_error *err)
{
    struct sheet s = {path, kind, out, {0}, 0, 0, 1, NULL, 0, 0, 0, refs};
    struct csv_parser p;
    struct stat sb;
    char buf[65536];
    size_t n;
    FILE *in;
    enum kx_status st = KX_OK;

    if (!(in = fopen(path, "rb")))
        return kx_error_set(err, errno == ENOENT ? KX_NOTFOUND : KX_IO, "",
                            "cannot open %s: %s", path, strerror(errno));
    if (fstat(fileno(in), &sb) == 0 && sb.st_size > (off_t)IMPORT_MAX_BYTES) {
        fclose(in);
        return kx_error_set(err, KX_TOOLARGE, "", "%s has %lld bytes: at most "
                            "%u MiB a file (split it)", path,
                            (long long)sb.st_size, IMPORT_MAX_BYTES >> 20);
    }
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        fclose(in);
        return KX_NOMEM;
    }
    while (!s.fatal && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (csv_parse(&p, buf, n, on_cell, on_row, &s) != n) {
            report(&s, NULL, "%s (a quote not closed, or text after a "
                   "closing quote)", csv_strerror(csv_error(&p)));
            s.fatal = 1;
        }
    if (ferror(in))
        st = kx_error_set(err, KX_IO, "", "reading %s: %s", path,
                          strerror(errno));
    if (!s.fatal && csv_fini(&p, on_cell, on_row, &s) != 0) {
        report(&s, NULL, "%s at the end of the file (a quote not closed)",
               csv_strerror(csv_error(&p)));
    }
    csv_free(&p);
    fclose(in);
    json_object_put(s.rec);
    if (st == KX_OK && s.row <= 1 && !s.errors)
        report(&s, NULL, "no header row: the first row names the fields");
    if (st == KX_OK && !s.kind && !s.errors) {
        size_t i = 0;
        while (i < s.nhead && strcmp(s.head[i], "kind") != 0)
            i++;
        if (i == s.nhead) {
            s.row = 1;
            report(&s, NULL, "no \"kind\" column: add one, or give --kind");
        }
    }
    for (size_t i = 0; i < s.nhead; i++)
        free(s.head[i]);
    *rows = s.rows;
    if (st == KX_OK && s.errors)
        st = kx_error_set(err, KX_BADINPUT, "", "%s: %zu error%s", path,
                          s.errors, s.errors == 1 ? "" : "s");
    return st;
}

/* index's errors name the JSON lines; the person wants the sheet's rows. */
struct remap {
    char **tmp, **csv;
    size_t n;
};

static int remap_error(void *ctx, const struct kx_error *e)
{
    struct remap *m = ctx;
    struct kx_error c = *e;
    char line[1024];

    for (size_t i = 0; i < m->n; i++)
        if (strcmp(e->file, m->tmp[i]) == 0) {
            snprintf(c.file, sizeof c.file, "%s", m->csv[i]);
            c.line = e->line + 1; /* the header is row 1 */
        }
    kx_error_format(&c, line, sizeof line);
    fprintf(stderr, "%s\n", line);
    return 0;
}

int api_cmd_import(const struct api_common *common, int argc, char **argv)
{
    static const struct option opts[] = {
        API_COMMON_OPTS,
        {"kind", required_argument, NULL, 'k'},
        {"skip-invalid", no_argument, NULL, 's'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    struct api_common c = *common;
    struct kx_error err;
    struct idx_counts cnt;
    struct remap m = {NULL, NULL, 0};
    struct refs refs = {NULL, 0, 0};
    size_t nbad;
    char scratch[4096];
    const char *kind = NULL;
    idx *x = NULL;
    unsigned flags = 0;
    int opt, quiet = 0, rc = API_EXIT_OK, made = 0;
    enum kx_status st = KX_OK;
    size_t nfiles;

    kx_error_clear(&err);
    memset(&cnt, 0, sizeof cnt);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (api_common_opt(&c, opt))
            continue;
        switch (opt) {
        case 'k': kind = optarg; break;
        case 's': flags |= IDX_SKIP_INVALID; break;
        case 'q': quiet = 1; break;
        default: return api_usage("import");
        }
    }
    if (optind >= argc)
        return api_usage("import");
    if (kind && record_kind_parse(kind) == KX_KIND_LAST) {
        fprintf(stderr, "kxmatch: --kind %s: not a kind (expert, academician, "
                        "society, enterprise, need, result)\n", kind);
        return API_EXIT_BADINPUT;
    }
    nfiles = (size_t)(argc - optind);
    if (!(m.tmp = calloc(nfiles, sizeof *m.tmp)) ||
        !(m.csv = calloc(nfiles, sizeof *m.csv))) {
        st = KX_NOMEM;
        goto out;
    }
    {
        const char *t = getenv("TMPDIR");
        snprintf(scratch, sizeof scratch, "%s/kxmatch-import.XXXXXX",
                 t && *t && strlen(t) < 3000 ? t : "/tmp");
    }
    if (!mkdtemp(scratch)) {
        st = kx_error_set(&err, KX_IO, "", "cannot make a scratch folder "
                          "%s: %s", scratch, strerror(errno));
        goto out;
    }
    made = 1;
    for (size_t i = 0; i < nfiles; i++) {
        size_t rows = 0;
        FILE *f;
        enum kx_status s;

        m.csv[i] = argv[optind + (int)i];
        if (!(m.tmp[i] = malloc(strlen(scratch) + 32))) {
            st = KX_NOMEM;
            goto out;
        }
        sprintf(m.tmp[i], "%s/%zu.jsonl", scratch, i);
        m.n = i + 1;
        if (!(f = fopen(m.tmp[i], "w"))) {
            st = kx_error_set(&err, KX_IO, "", "cannot write %s: %s",
                              m.tmp[i], strerror(errno));
            goto out;
        }
        s = sheet_read(m.csv[i], kind, f, &refs, &rows, &err);
        if (fclose(f) != 0 && s == KX_OK)
            s = kx_error_set(&err, KX_IO, "", "writing %s", m.tmp[i]);
        if (s != KX_OK && st == KX_OK)
            st = s;
        if (s != KX_OK && s != KX_BADINPUT)
            goto out;
    }
    /* Every sheet is read before anything is written. */
    if (st != KX_OK)
        goto out;
    if ((st = idx_open(c.db, IDX_WRITE, c.taxonomy, &x, &err)) !=
        KX_OK)
        goto out;
    if ((nbad = refs_check(&refs, idx_store(x))) > 0) {
        st = kx_error_set(&err, KX_BADINPUT, "", "%zu reference%s to no "
                          "record: nothing was written", nbad,
                          nbad == 1 ? "" : "s");
        goto out;
    }
    st = idx_ingest(x, (const char *const *)m.tmp, m.n, flags, &cnt,
                    remap_error, NULL, &m, &err);
    if (st == KX_OK && !quiet)
        printf("added %zu, updated %zu, deleted %zu, unchanged %zu, "
               "rejected %zu\n", cnt.added, cnt.updated, cnt.deleted,
               cnt.unchanged, cnt.rejected);
out:
    if (st != KX_OK) {
        if (st == KX_BADINPUT && !err.msg[0])
            kx_error_set(&err, st, "", "invalid rows: nothing was written");
        rc = api_fail(st, &err);
    }
    idx_close(x);
    for (size_t i = 0; i < m.n; i++) {
        if (m.tmp[i])
            unlink(m.tmp[i]);
        free(m.tmp[i]);
    }
    if (made)
        rmdir(scratch);
    free(m.tmp);
    free(m.csv);
    refs_free(&refs);
    return rc;
}
