/* ingest.c - `kxmatch index`: validate whole files first, then write them
 * to LMDB in batches with Xapian following (see index.h on crash safety). */
#include "index_int.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int keyset_has(const struct keyset *ks, const char *key)
{
    return ks->cap && ks->keys[keyset_slot(ks, key)] != NULL;
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

/* ---- bulk load: partial indexes on every core, merged at the end -------
 *
 * Into an empty index (or one being rebuilt), worker threads build
 * partial Xapian databases, merged with xap_compact and installed in place
 * of the index at the end. The workers read LMDB, not the parsed input:
 * the change log (ingest) or the records in key order (rebuild) is cut
 * into contiguous segments, a partial database each, which the workers
 * take in turn (several per worker, so that all start early while the
 * loader is still writing LMDB); merged in segment order, documents are
 * numbered as the serial path would number them (equal scores rank alike
 * whichever path built the index), and a key is in one segment only. A change to a key that
 * the load already holds (an update, a deletion, a re-addition) is left
 * out of the ranges and applied to the merged index, from LMDB's final
 * state, before the checkpoint.
 *
 * Nothing is checkpointed before the install: a load killed at any moment
 * leaves the index as it was (empty, or marked as being rebuilt) and the
 * change log untrimmed, which the next open replays -- the protocol of
 * index.h with one checkpoint at the end. The merged index claims the last
 * change number itself only when there is nothing left to apply after it.
 */

#define BULK_MAX_SHARDS 8           /* worker threads */
#define BULK_SEGS_PER_WORKER 4
#define BULK_MAX_SEGS (BULK_MAX_SHARDS * BULK_SEGS_PER_WORKER)
#define BULK_COMMIT_DOCS IDX_BATCH_RECORDS /* see index_int.h */

struct segment {
    uint64_t lo, hi;     /* changes (lo, hi], or records [lo, hi) */
    char path[4096 + 32];
    unsigned long docs;  /* documents it holds at the end */
};

/* A worker thread, and the segment it is building. */
struct shard {
    struct idx_bulk *b;
    unsigned no;
    pthread_t th;
    int started;
    xap_db *db;
    text_tokenizer *tok;
    uint64_t lo, hi;     /* the current segment's range */
    uint64_t next;       /* the next change it needs */
    size_t since_commit;
    enum kx_status st;   /* first failure; written by the worker */
};

struct late {
    uint64_t seq;
    enum store_change what;
};

struct idx_bulk {
    idx *x;
    unsigned n;
    int records;         /* ranges of records (rebuild), not of changes */
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* committed grew, or done was set */
    uint64_t committed;  /* changes the workers may read */
    int done;            /* no more changes are coming */
    struct late *late;   /* changes applied after the merge, increasing */
    size_t nlate, late_cap;
    struct keyset late_keys; /* their keys, and keys deleted in this load */
    char err[512];       /* what went wrong, for the caller's message */
    struct shard sh[BULK_MAX_SHARDS];
    struct segment seg[BULK_MAX_SEGS]; /* worker i takes i, i + n, ... */
    unsigned nseg;
};

/* Makes the shard's document of key match json (NULL: deleted). */
static enum kx_status shard_apply(struct shard *s, const char *key,
                                  const char *json, size_t len)
{
    char idterm[KX_KEY_MAX + 2];
    struct kx_record *r = NULL;
    xap_doc *doc = NULL;
    enum kx_status st;

    snprintf(idterm, sizeof idterm, "Q%s", key);
    if (!json)
        return xap_delete(s->db, idterm);
    if (record_parse(json, len, NULL, &r, NULL) != KX_OK)
        return KX_CORRUPT;
    st = idx_doc_build_tok(s->b->x, s->tok, r, &doc);
    if (st == KX_OK)
        st = xap_replace(s->db, idterm, doc);
    xap_doc_free(doc);
    record_free(r);
    if (st == KX_OK && ++s->since_commit >= BULK_COMMIT_DOCS) {
        s->since_commit = 0;
        st = xap_commit(s->db);
    }
    return st;
}

/* What change seq did if it is a late one, else STORE_UNCHANGED. */
static enum store_change late_what(struct idx_bulk *b, uint64_t seq)
{
    enum store_change what = STORE_UNCHANGED;
    size_t lo = 0, hi;

    pthread_mutex_lock(&b->mu);
    hi = b->nlate;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (b->late[mid].seq == seq) {
            what = b->late[mid].what;
            break;
        }
        if (b->late[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    pthread_mutex_unlock(&b->mu);
    return what;
}

/* Changes are copied out of LMDB a chunk at a time, so that no read
 * transaction stays open while documents are built: LMDB cannot reuse the
 * pages a reader still sees, and the file would grow by the pages every
 * batch the loader commits meanwhile frees. */
#define CHUNK_CHANGES 64

struct chunk_item {
    uint64_t seq;
    size_t key, json, len; /* offsets into buf; json 0: deleted */
};

struct walk {
    struct shard *s;
    store_txn *t;
    uint64_t upto;       /* changes: the last one to take now */
    uint64_t ord;        /* records: ordinal of the current one */
    struct chunk_item item[CHUNK_CHANGES];
    size_t n;
    struct kx_buf buf;    /* keys and JSON, each NUL-terminated */
    enum kx_status st;
};

static size_t walk_put(struct walk *w, const char *s, size_t n)
{
    size_t at = w->buf.n;

    kx_buf_add(&w->buf, s, n);
    kx_buf_add(&w->buf, "", 1); /* the terminator, kept in the buffer */
    if (w->buf.oom) {
        w->st = KX_NOMEM;
        return 0;
    }
    return at;
}

static int collect_change(void *vctx, uint64_t seq, const char *key)
{
    struct walk *w = vctx;
    struct chunk_item *it;
    const char *json;
    size_t len;
    enum kx_status st;

    if (seq > w->upto || w->n == CHUNK_CHANGES)
        return 1;
    if (late_what(w->s->b, seq) != STORE_UNCHANGED) {
        w->s->next = seq + 1;
        return 0;
    }
    it = &w->item[w->n];
    it->seq = seq;
    /* offset 0 is never a record: the buffer starts with a NUL */
    if (!w->buf.n)
        walk_put(w, "", 0);
    it->key = walk_put(w, key, strlen(key));
    st = store_record_get(w->t, key, &json, &len);
    if (st == KX_OK) {
        it->json = walk_put(w, json, len);
        it->len = len;
    } else if (st == KX_NOTFOUND) {
        it->json = 0;
    } else {
        w->st = st;
    }
    if (w->st != KX_OK)
        return 1;
    w->n++;
    return 0;
}

static int shard_record(void *vctx, const char *key, const char *json,
                        size_t len)
{
    struct walk *w = vctx;
    struct shard *s = w->s;

    if (w->ord >= s->hi)
        return 1;
    if (w->ord++ >= s->lo)
        s->st = shard_apply(s, key, json, len);
    return s->st != KX_OK;
}

/* Applies the changes (s->next, upto] a chunk at a time. */
static enum kx_status shard_changes(struct shard *s, struct walk *w)
{
    store *st = s->b->x->st;

    while (s->st == KX_OK && s->next <= w->upto) {
        w->n = 0;
        w->buf.n = 0;
        w->st = KX_OK;
        if ((s->st = store_txn_begin(st, 0, &w->t)) != KX_OK)
            break;
        s->st = store_changes_each(w->t, s->next - 1, collect_change, w);
        store_txn_abort(w->t);
        w->t = NULL;
        if (s->st == KX_OK)
            s->st = w->st;
        if (s->st == KX_OK && w->n == 0) {
            /* nothing but late changes up to upto */
            s->next = w->upto + 1;
            break;
        }
        for (size_t i = 0; i < w->n && s->st == KX_OK; i++) {
            const struct chunk_item *it = &w->item[i];

            s->st = shard_apply(s, w->buf.p + it->key,
                                it->json ? w->buf.p + it->json : NULL,
                                it->len);
            s->next = it->seq + 1;
        }
    }
    return s->st;
}

/* Builds one segment into s->db. */
static void shard_segment(struct shard *s, struct walk *w)
{
    struct idx_bulk *b = s->b;

    if (b->records) {
        /* A rebuild: nothing writes LMDB meanwhile, so one long walk. */
        w->ord = 0;
        if ((s->st = store_txn_begin(b->x->st, 0, &w->t)) == KX_OK)
            s->st = store_record_each(w->t, "", shard_record, w);
        store_txn_abort(w->t);
        w->t = NULL;
        return;
    }
    while (s->st == KX_OK) {
        int last;

        pthread_mutex_lock(&b->mu);
        while (b->committed < s->next && !b->done && s->next <= s->hi)
            pthread_cond_wait(&b->cv, &b->mu);
        w->upto = b->committed < s->hi ? b->committed : s->hi;
        last = b->done || w->upto == s->hi;
        pthread_mutex_unlock(&b->mu);
        shard_changes(s, w);
        if (last)
            break;
    }
}

static void *shard_main(void *arg)
{
    struct shard *s = arg;
    struct idx_bulk *b = s->b;
    struct walk w;

    memset(&w, 0, sizeof w);
    w.s = s;
    for (unsigned k = s->no; k < b->nseg && s->st == KX_OK; k += b->n) {
        struct segment *g = &b->seg[k];

        s->lo = g->lo;
        s->hi = g->hi;
        s->next = g->lo + 1;
        s->since_commit = 0;
        if ((s->st = xap_open(g->path, XAP_OPEN_SCRATCH, &s->db)) != KX_OK)
            break;
        shard_segment(s, &w);
        if (s->st == KX_OK)
            s->st = xap_commit(s->db);
        if (s->st == KX_OK)
            s->st = xap_doccount(s->db, &g->docs);
        if (s->st != KX_OK)
            break; /* s->db stays open for bulk_stop's message */
        xap_close(s->db);
        s->db = NULL;
    }
    kx_buf_free(&w.buf);
    return NULL;
}

static void segment_path(const idx *x, unsigned no, char *buf, size_t n)
{
    snprintf(buf, n, "%s.part%u", x->xpath, no);
}

static void merged_path(const idx *x, char *buf, size_t n)
{
    snprintf(buf, n, "%s.new", x->xpath);
}

/* Removes what a killed bulk load may have left behind. */
static void bulk_sweep(idx *x)
{
    char path[sizeof x->xpath + 32];

    for (unsigned i = 0; i < BULK_MAX_SEGS; i++) {
        segment_path(x, i, path, sizeof path);
        idx_rm_tree(path);
    }
    merged_path(x, path, sizeof path);
    idx_rm_tree(path);
}

/* Workers to use: $KXMATCH_INDEX_THREADS, else one per core (at most 8); fewer
 * than 2 means the serial path. */
static unsigned bulk_workers(void)
{
    const char *env = getenv("KXMATCH_INDEX_THREADS");
    long n = env && *env ? strtol(env, NULL, 10)
                         : sysconf(_SC_NPROCESSORS_ONLN);

    if (n < 1)
        n = 1;
    return n > BULK_MAX_SHARDS ? BULK_MAX_SHARDS : (unsigned)n;
}

/* Stops the workers (done, or failed) and closes the partial indexes. */
static enum kx_status bulk_stop(struct idx_bulk *b)
{
    enum kx_status st = KX_OK;

    pthread_mutex_lock(&b->mu);
    b->done = 1;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    for (unsigned i = 0; i < b->n; i++) {
        struct shard *s = &b->sh[i];

        if (s->started)
            pthread_join(s->th, NULL);
        s->started = 0;
        if (st == KX_OK && s->st != KX_OK) {
            st = s->st;
            snprintf(b->err, sizeof b->err, "%s",
                     st == KX_XAPIAN ? xap_errmsg(s->db) : store_errmsg());
        }
        xap_close(s->db);
        s->db = NULL;
        text_tokenizer_free(s->tok);
        s->tok = NULL;
    }
    return st;
}

void idx_bulk_free(struct idx_bulk *b)
{
    if (!b)
        return;
    bulk_stop(b);
    bulk_sweep(b->x);
    keyset_free(&b->late_keys);
    free(b->late);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

const char *idx_bulk_errmsg(const struct idx_bulk *b)
{
    return b ? b->err : "";
}

enum kx_status idx_bulk_start(idx *x, int records, uint64_t after,
                              uint64_t count, struct idx_bulk **out)
{
    unsigned n = bulk_workers();
    struct idx_bulk *b;
    enum kx_status st = KX_OK;

    *out = NULL;
    if (n < 2 || !x->write || count < 2 * n)
        return KX_OK;
    if (!(b = calloc(1, sizeof *b)))
        return KX_NOMEM;
    b->x = x;
    b->records = records;
    b->committed = after;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    bulk_sweep(x);
    /* Equal segments; the last is open-ended (an input may hold more
     * changes than its valid lines foretold: none fewer). */
    b->nseg = n * BULK_SEGS_PER_WORKER;
    for (unsigned k = 0; k < b->nseg; k++) {
        uint64_t base = records ? 0 : after;

        b->seg[k].lo = base + count * k / b->nseg;
        b->seg[k].hi = k + 1 == b->nseg ? UINT64_MAX
                                        : base + count * (k + 1) / b->nseg;
        segment_path(x, k, b->seg[k].path, sizeof b->seg[k].path);
    }
    for (unsigned i = 0; i < n && st == KX_OK; i++) {
        struct shard *s = &b->sh[i];

        s->b = b;
        s->no = i;
        b->n = i + 1;
        if ((st = text_tokenizer_new(&s->tok)) != KX_OK)
            break;
        if (pthread_create(&s->th, NULL, shard_main, s) != 0)
            st = KX_NOMEM;
        else
            s->started = 1;
    }
    if (st != KX_OK) {
        idx_bulk_free(b);
        return st;
    }
    *out = b;
    return KX_OK;
}

enum kx_status idx_bulk_note(struct idx_bulk *b, uint64_t seq,
                             const char *key, enum store_change what)
{
    enum kx_status st = KX_OK;
    long first;

    /* A key the load already holds, or deleted during it: late. Others
     * are new, the common case, and cost nothing here. */
    if (what == STORE_ADDED && (!b->late_keys.n ||
                                !keyset_has(&b->late_keys, key)))
        return KX_OK;
    pthread_mutex_lock(&b->mu);
    if (b->nlate == b->late_cap) {
        size_t cap = b->late_cap ? b->late_cap * 2 : 256;
        struct late *v = realloc(b->late, cap * sizeof *v);

        if (!v)
            st = KX_NOMEM;
        else {
            b->late = v;
            b->late_cap = cap;
        }
    }
    if (st == KX_OK) {
        b->late[b->nlate].seq = seq;
        b->late[b->nlate++].what = what;
        st = keyset_add(&b->late_keys, key, 0, &first);
    }
    pthread_mutex_unlock(&b->mu);
    return st;
}

enum kx_status idx_bulk_commit(struct idx_bulk *b, uint64_t seq)
{
    enum kx_status st = KX_OK;

    pthread_mutex_lock(&b->mu);
    if (seq > b->committed)
        b->committed = seq;
    pthread_cond_broadcast(&b->cv);
    for (unsigned i = 0; i < b->n; i++)
        if (st == KX_OK && b->sh[i].st != KX_OK)
            st = b->sh[i].st;
    pthread_mutex_unlock(&b->mu);
    return st;
}

struct late_ctx {
    idx *x;
    store_txn *t;
    struct idx_bulk *b;
    enum kx_status st;
};

/* Applies one late change as the serial path would have, content from
 * LMDB's final state (later changes to the key follow anyway): an update
 * replaces the document where it is, a deletion deletes it, an addition
 * after a deletion adds it anew (at the end, as the serial path numbers
 * it). */
static int late_one(void *vctx, uint64_t seq, const char *key)
{
    struct late_ctx *c = vctx;
    enum store_change what = late_what(c->b, seq);
    char idterm[KX_KEY_MAX + 2];
    struct kx_record *r = NULL;
    xap_doc *doc = NULL;
    const char *json;
    size_t len;

    if (what == STORE_UNCHANGED)
        return 0;
    snprintf(idterm, sizeof idterm, "Q%s", key);
    if (what != STORE_UPDATED &&
        (c->st = xap_delete(c->x->xap, idterm)) != KX_OK)
        return 1;
    if (what == STORE_DELETED)
        return 0;
    c->st = store_record_get(c->t, key, &json, &len);
    if (c->st == KX_NOTFOUND) { /* a later change deletes it */
        c->st = xap_delete(c->x->xap, idterm);
        return c->st != KX_OK;
    }
    if (c->st != KX_OK)
        return 1;
    if (record_parse(json, len, NULL, &r, NULL) != KX_OK) {
        c->st = KX_CORRUPT;
        return 1;
    }
    c->st = idx_doc_build(c->x, r, &doc);
    if (c->st == KX_OK)
        c->st = xap_replace(c->x->xap, idterm, doc);
    xap_doc_free(doc);
    record_free(r);
    return c->st != KX_OK;
}

enum kx_status idx_bulk_finish(struct idx_bulk *b, uint64_t seq)
{
    const char *srcs[BULK_MAX_SEGS];
    char merged[sizeof b->x->xpath + 32];
    struct late_ctx lc = {b->x, NULL, b, KX_OK};
    xap_db *first = NULL;
    unsigned nsrc = 0;
    enum kx_status st;

    if ((st = idx_bulk_commit(b, seq)) != KX_OK)
        return st;
    if ((st = bulk_stop(b)) != KX_OK)
        return st;
    /* With nothing to apply after the merge, the first segment carries
     * the change number: the merge holds it atomically with the
     * documents. */
    if (!b->nlate) {
        char buf[32];

        snprintf(buf, sizeof buf, "%llu", (unsigned long long)seq);
        if ((st = xap_open(b->seg[0].path, XAP_OPEN_SCRATCH, &first)) ==
                KX_OK &&
            (st = xap_meta_set(first, IDX_META_SEQ, buf)) == KX_OK)
            st = xap_commit(first);
        if (st != KX_OK)
            snprintf(b->err, sizeof b->err, "%s", xap_errmsg(first));
        xap_close(first);
        if (st != KX_OK)
            return st;
    }
    /* Segments in order; empty ones past the first add nothing. */
    for (unsigned k = 0; k < b->nseg; k++)
        if (k == 0 || b->seg[k].docs)
            srcs[nsrc++] = b->seg[k].path;
    merged_path(b->x, merged, sizeof merged);
    if ((st = xap_compact(srcs, nsrc, merged)) != KX_OK) {
        snprintf(b->err, sizeof b->err, "merging: %s", xap_errmsg(NULL));
        return st;
    }
    if ((st = idx_xap_install(b->x, merged)) != KX_OK) {
        snprintf(b->err, sizeof b->err, "installing the merged index: %s",
                 st == KX_IO ? strerror(errno) : xap_errmsg(b->x->xap));
        return st;
    }
    if (b->nlate && !b->records) {
        if ((st = store_txn_begin(b->x->st, 0, &lc.t)) != KX_OK)
            return st;
        st = store_changes_each(lc.t, b->late[0].seq - 1, late_one, &lc);
        store_txn_abort(lc.t);
        if (st == KX_OK)
            st = lc.st;
        if (st != KX_OK)
            return st;
    }
    return idx_checkpoint(b->x, seq);
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
    struct idx_bulk *bulk; /* the parallel path, or NULL */
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
    if (r->bulk) {
        /* The workers read what LMDB now holds; the records are gone. */
        r->nbatch = 0;
        if (st == KX_OK)
            st = idx_bulk_commit(r->bulk, r->seq);
        if (st == KX_OK && last && r->seq > r->saved) {
            st = idx_bulk_finish(r->bulk, r->seq);
            if (st == KX_OK)
                r->saved = r->seq;
        }
        return st;
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

/* Takes the parallel path for a large input (of `lines` valid lines) into
 * an empty index. */
static enum kx_status bulk_maybe(struct run *r, size_t lines)
{
    unsigned long docs = 0;
    size_t recs = 0;
    uint64_t seq = 0;
    store_txn *t = NULL;
    enum kx_status st;

    if (r->total / 2 < IDX_BULK_MIN_BYTES || lines < IDX_BULK_MIN_RECORDS)
        return KX_OK;
    if ((st = xap_doccount(r->x->xap, &docs)) != KX_OK || docs)
        return st;
    if ((st = store_txn_begin(r->x->st, 0, &t)) != KX_OK)
        return st;
    if ((st = store_record_count(t, &recs)) == KX_OK)
        st = store_seq(t, &seq);
    store_txn_abort(t);
    if (st != KX_OK || recs)
        return st;
    return idx_bulk_start(r->x, 0, seq, lines, &r->bulk);
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
        if (r->bulk && what != STORE_UNCHANGED) {
            uint64_t seq;

            if ((st = store_seq(r->t, &seq)) == KX_OK)
                st = idx_bulk_note(r->bulk, seq, rec->key, what);
            record_free(rec);
            r->nbatch++; /* counted only, for the transaction size */
            if (st != KX_OK)
                break;
        } else if (what == STORE_UNCHANGED) {
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
    bulk_sweep(x);
    {
        size_t lines = 0;

        for (size_t i = 0; i < nfiles; i++)
            lines += in[i].keys.n;
        st = bulk_maybe(&r, lines);
    }
    for (size_t i = 0; i < nfiles && st == KX_OK; i++)
        st = write_input(&r, &in[i]);
    if (st == KX_OK)
        st = flush_batch(&r, 1);
    if (st != KX_OK)
        kx_error_set(err, st, "", "writing the index: %s (%s)",
                     kx_status_str(st),
                     idx_bulk_errmsg(r.bulk)[0] ? idx_bulk_errmsg(r.bulk)
                     : st == KX_XAPIAN        ? xap_errmsg(x->xap)
                                              : store_errmsg());
    if (on_progress)
        on_progress(ctx, r.total, r.total);
out:
    idx_bulk_free(r.bulk);
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
