/* ingest.c - `kxmatch index`: validate whole files first, then write them
 * to LMDB in batches with Xapian following (see index.h on crash safety). */
#include "index_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Keys seen in one file -> the line that first carried them, so that a key
 * repeated within a file is an error (and, when skipping, the first one
 * wins in both passes). Open addressing, grown at half full. */
struct keyset {
    char **keys;
    long *lines;
    size_t cap, n;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static void keyset_free(struct keyset *ks)
{
    for (size_t i = 0; i < ks->cap; i++)
        free(ks->keys[i]);
    free(ks->keys);
    free(ks->lines);
    memset(ks, 0, sizeof *ks);
}

static size_t keyset_slot(const struct keyset *ks, const char *key)
{
    size_t i = (size_t)hash_str(key) & (ks->cap - 1);

    while (ks->keys[i] && strcmp(ks->keys[i], key) != 0)
        i = (i + 1) & (ks->cap - 1);
    return i;
}

static enum kx_status keyset_grow(struct keyset *ks)
{
    struct keyset big = {0};

    big.cap = ks->cap ? ks->cap * 2 : 1024;
    big.keys = calloc(big.cap, sizeof *big.keys);
    big.lines = calloc(big.cap, sizeof *big.lines);
    if (!big.keys || !big.lines) {
        free(big.keys);
        free(big.lines);
        return KX_NOMEM;
    }
    for (size_t i = 0; i < ks->cap; i++) {
        if (!ks->keys[i])
            continue;
        size_t j = keyset_slot(&big, ks->keys[i]);
        big.keys[j] = ks->keys[i];
        big.lines[j] = ks->lines[i];
    }
    big.n = ks->n;
    free(ks->keys);
    free(ks->lines);
    *ks = big;
    return KX_OK;
}

/* Adds key first seen at line; *first gets the line that holds it. */
static enum kx_status keyset_add(struct keyset *ks, const char *key,
                                 long line, long *first)
{
    size_t i;

    if (ks->n * 2 >= ks->cap && keyset_grow(ks) != KX_OK)
        return KX_NOMEM;
    i = keyset_slot(ks, key);
    if (!ks->keys[i]) {
        if (!(ks->keys[i] = strdup(key)))
            return KX_NOMEM;
        ks->lines[i] = line;
        ks->n++;
    }
    *first = ks->lines[i];
    return KX_OK;
}

struct input {
    const char *name;   /* as given; "-" for stdin */
    FILE *f;            /* rewindable: stdin is spooled to a temp file */
    uint64_t size;
    struct keyset keys;
    size_t invalid;
};

static enum kx_status input_open(struct input *in, const char *name,
                                 struct kx_error *err)
{
    struct stat sb;
    char buf[65536];
    size_t n;

    in->name = name;
    if (strcmp(name, "-") == 0) {
        in->f = tmpfile();
        if (!in->f)
            return kx_error_set(err, KX_IO, "", "cannot spool stdin: %s",
                                strerror(errno));
        while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
            if (fwrite(buf, 1, n, in->f) != n)
                return kx_error_set(err, KX_IO, "",
                                    "cannot spool stdin: %s",
                                    strerror(errno));
            in->size += n;
        }
        if (ferror(stdin))
            return kx_error_set(err, KX_IO, "", "reading stdin: %s",
                                strerror(errno));
        rewind(in->f);
        return KX_OK;
    }
    in->f = fopen(name, "rb");
    if (!in->f)
        return kx_error_set(err, errno == ENOENT ? KX_NOTFOUND : KX_IO, "",
                            "cannot open %s: %s", name, strerror(errno));
    if (fstat(fileno(in->f), &sb) == 0) {
        if (S_ISDIR(sb.st_mode))
            return kx_error_set(err, KX_IO, "", "%s is a directory", name);
        in->size = (uint64_t)sb.st_size;
    }
    return KX_OK;
}

struct run {
    idx *x;
    unsigned flags;
    struct idx_counts *counts;
    idx_error_fn on_error;
    idx_progress_fn on_progress;
    void *ctx;
    uint64_t done, total, last_report;
    int quiet; /* the error callback asked to stop reporting */
    /* pass 2 */
    store_txn *t;
    struct kx_record **batch;
    size_t nbatch, batches;
    uint64_t seq, saved; /* last change in LMDB, last one Xapian holds */
};

static void progress(struct run *r, size_t n)
{
    r->done += n;
    if (r->on_progress && r->done - r->last_report >= (1u << 20)) {
        r->last_report = r->done;
        r->on_progress(r->ctx, r->done, r->total);
    }
}

static void report(struct run *r, struct input *in, long line,
                   struct kx_error *e)
{
    snprintf(e->file, sizeof e->file, "%s", in->name);
    e->line = line;
    in->invalid++;
    if (r->on_error && !r->quiet)
        r->quiet = r->on_error(r->ctx, e);
}

/* Reads the next line, without its newline. Returns its length, or -1 at
 * the end. A line longer than KX_LINE_MAX is read and flagged as too long. */
static long read_line(FILE *f, char **buf, size_t *cap, size_t *raw)
{
    ssize_t n = getline(buf, cap, f);

    if (n < 0)
        return -1;
    *raw = (size_t)n;
    if (n > 0 && (*buf)[n - 1] == '\n')
        n--;
    if (n > 0 && (*buf)[n - 1] == '\r')
        n--;
    return n;
}

static int blank(const char *s, long n)
{
    for (long i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return 0;
    return 1;
}

/* Parses one line; NULL if invalid (reported in pass 1 only). */
static struct kx_record *parse_line(struct run *r, struct input *in,
                                    const char *s, long n, long line,
                                    int pass)
{
    struct kx_record *rec = NULL;
    struct kx_error e;
    enum kx_status st;
    long first;

    kx_error_clear(&e);
    if ((size_t)n > KX_LINE_MAX) {
        kx_error_set(&e, KX_TOOLARGE, "",
                     "line is %ld bytes; at most %u are allowed", n,
                     KX_LINE_MAX);
        goto bad;
    }
    st = record_parse(s, (size_t)n, r->x->tx, &rec, &e);
    if (st != KX_OK)
        goto bad;
    if (pass == 1) {
        if (keyset_add(&in->keys, rec->key, line, &first) != KX_OK) {
            kx_error_set(&e, KX_NOMEM, "", "out of memory");
            goto bad;
        }
        if (first != line) {
            kx_error_set(&e, KX_BADINPUT, "id",
                         "duplicate key %s (first on line %ld)", rec->key,
                         first);
            goto bad;
        }
    } else {
        if (keyset_add(&in->keys, rec->key, line, &first) != KX_OK ||
            first != line) {
            record_free(rec);
            return NULL;
        }
    }
    return rec;
bad:
    record_free(rec);
    if (pass == 1)
        report(r, in, line, &e);
    return NULL;
}

static enum kx_status validate(struct run *r, struct input *in)
{
    char *buf = NULL;
    size_t cap = 0, raw;
    long n, line = 0;

    while ((n = read_line(in->f, &buf, &cap, &raw)) >= 0) {
        line++;
        progress(r, raw);
        if (blank(buf, n))
            continue;
        record_free(parse_line(r, in, buf, n, line, 1));
    }
    free(buf);
    if (ferror(in->f))
        return KX_IO;
    return KX_OK;
}

/* Hands the batch to Xapian after LMDB has it, then frees it. */
static enum kx_status flush_batch(struct run *r, int last)
{
    enum kx_status st = KX_OK;
    char idterm[KX_KEY_MAX + 2];

    if (r->t) {
        st = store_seq(r->t, &r->seq);
        if (st == KX_OK) {
            st = store_txn_commit(r->t);
        } else {
            store_txn_abort(r->t);
        }
        r->t = NULL;
    }
    for (size_t i = 0; i < r->nbatch; i++) {
        struct kx_record *rec = r->batch[i];
        xap_doc *doc = NULL;

        if (st == KX_OK) {
            snprintf(idterm, sizeof idterm, "Q%s", rec->key);
            if (rec->deleted) {
                st = xap_delete(r->x->xap, idterm);
            } else {
                st = idx_doc_build(r->x, rec, &doc);
                if (st == KX_OK)
                    st = xap_replace(r->x->xap, idterm, doc);
                xap_doc_free(doc);
            }
        }
        record_free(rec);
    }
    r->nbatch = 0;
    if (st != KX_OK)
        return st;
    r->batches++;
    if (r->seq > r->saved &&
        (last || r->batches % IDX_BATCHES_PER_COMMIT == 0)) {
        st = idx_checkpoint(r->x, r->seq);
        if (st == KX_OK)
            r->saved = r->seq;
    }
    return st;
}

static enum kx_status write_input(struct run *r, struct input *in)
{
    char *buf = NULL;
    size_t cap = 0, raw;
    long n, line = 0;
    enum kx_status st = KX_OK;

    keyset_free(&in->keys);
    rewind(in->f);
    while ((n = read_line(in->f, &buf, &cap, &raw)) >= 0) {
        struct kx_record *rec;
        enum store_change what;

        line++;
        progress(r, raw);
        if (blank(buf, n))
            continue;
        rec = parse_line(r, in, buf, n, line, 2);
        if (!rec)
            continue;
        if (!r->t && (st = store_txn_begin(r->x->st, 1, &r->t)) != KX_OK) {
            record_free(rec);
            break;
        }
        st = store_record_put(r->t, rec, r->x->tx, &what);
        if (st != KX_OK) {
            record_free(rec);
            break;
        }
        switch (what) {
        case STORE_ADDED: r->counts->added++; break;
        case STORE_UPDATED: r->counts->updated++; break;
        case STORE_DELETED: r->counts->deleted++; break;
        case STORE_UNCHANGED: r->counts->unchanged++; break;
        }
        if (what == STORE_UNCHANGED) {
            record_free(rec);
        } else {
            r->batch[r->nbatch++] = rec;
        }
        if (r->nbatch == IDX_BATCH_RECORDS &&
            (st = flush_batch(r, 0)) != KX_OK)
            break;
    }
    free(buf);
    if (st == KX_OK && ferror(in->f))
        st = KX_IO;
    return st;
}

enum kx_status idx_ingest(idx *x, const char *const *files, size_t nfiles,
                          unsigned flags, struct idx_counts *counts,
                          idx_error_fn on_error, idx_progress_fn on_progress,
                          void *ctx, struct kx_error *err)
{
    struct input *in = NULL;
    struct run r;
    size_t invalid = 0;
    enum kx_status st = KX_OK;

    memset(counts, 0, sizeof *counts);
    memset(&r, 0, sizeof r);
    r.x = x;
    r.flags = flags;
    r.counts = counts;
    r.on_error = on_error;
    r.on_progress = on_progress;
    r.ctx = ctx;
    if (!x->write)
        return KX_INTERNAL;
    in = calloc(nfiles ? nfiles : 1, sizeof *in);
    r.batch = calloc(IDX_BATCH_RECORDS, sizeof *r.batch);
    if (!in || !r.batch) {
        st = KX_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < nfiles; i++) {
        if ((st = input_open(&in[i], files[i], err)) != KX_OK)
            goto out;
        r.total += 2 * in[i].size;
    }
    for (size_t i = 0; i < nfiles; i++) {
        if ((st = validate(&r, &in[i])) != KX_OK) {
            kx_error_set(err, st, "", "reading %s: %s", in[i].name,
                         strerror(errno));
            goto out;
        }
        invalid += in[i].invalid;
    }
    counts->rejected = invalid;
    if (invalid && !(flags & IDX_SKIP_INVALID)) {
        st = kx_error_set(err, KX_BADINPUT, "",
                          "%zu invalid line%s: nothing was written "
                          "(fix them, or use --skip-invalid)",
                          invalid, invalid == 1 ? "" : "s");
        goto out;
    }
    for (size_t i = 0; i < nfiles && st == KX_OK; i++)
        st = write_input(&r, &in[i]);
    if (st == KX_OK)
        st = flush_batch(&r, 1);
    if (st != KX_OK)
        kx_error_set(err, st, "", "writing the index: %s (%s)",
                     kx_status_str(st),
                     st == KX_XAPIAN ? xap_errmsg(x->xap) : store_errmsg());
    if (on_progress)
        on_progress(ctx, r.total, r.total);
out:
    store_txn_abort(r.t);
    for (size_t i = 0; i < r.nbatch; i++)
        record_free(r.batch[i]);
    free(r.batch);
    for (size_t i = 0; in && i < nfiles; i++) {
        if (in[i].f)
            fclose(in[i].f);
        keyset_free(&in[i].keys);
    }
    free(in);
    return st;
}
