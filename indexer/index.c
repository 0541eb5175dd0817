/* index.c - the data directory handle: opening, Xapian documents from
 * records, keeping Xapian in step with LMDB, and file ingest. */
#define _GNU_SOURCE /* nftw, renameat2 */
#include "index.h"
#include "index_int.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define META_SEQ IDX_META_SEQ

/* Within-document frequency added per occurrence, by field: a word in the
 * name counts as much as five in the free text. */
#define WDF_NAME 5
#define WDF_TAGS 3
#define WDF_ORG 2
#define WDF_TEXT 1

/* Term positions are not stored. No query reads them (search and match
 * rank terms, nothing builds phrase queries), and they cost 40% of the
 * indexing time and 70% of the Xapian index on disk: on 10k generated
 * records, 800 -> 1,350 records per CPU-second and 128 -> 39 MB. Before
 * adding phrase search, set this to 1 and run `kxmatch index --rebuild`. */
#define IDX_POSITIONS 0


store *idx_store(idx *x) { return x->st; }
xap_db *idx_xap(idx *x) { return x->xap; }
const taxo *idx_taxo(const idx *x) { return x->tx; }
text_tokenizer *idx_tokenizer(idx *x) { return x->tok; }

enum kx_status idx_xap_reader(idx *x, xap_db **out)
{
    return xap_open(x->xpath, XAP_OPEN_READ, out);
}

static enum kx_status xap_seq(xap_db *db, uint64_t *seq)
{
    char *v = NULL;
    enum kx_status st = xap_meta_get(db, META_SEQ, &v);

    *seq = 0;
    if (st != KX_OK)
        return st;
    *seq = strtoull(v, NULL, 10);
    free(v);
    return KX_OK;
}

static enum kx_status lmdb_seq(idx *x, uint64_t *seq)
{
    store_txn *t = NULL;
    enum kx_status st = store_txn_begin(x->st, 0, &t);

    *seq = 0;
    if (st != KX_OK)
        return st;
    st = store_seq(t, seq);
    store_txn_abort(t);
    return st;
}

static void lag_note(idx *x, enum kx_status st, uint64_t done,
                     const char *why);

static enum kx_status xap_error(xap_db *db, enum kx_status st,
                                const char *path, struct kx_error *err)
{
    if (st == KX_LOCKED)
        return kx_error_set(err, st, "",
                            "the index at %s is locked by another kxmatch "
                            "process (an `index` run or `serve`)",
                            path);
    return kx_error_set(err, st, "", "Xapian index %s: %s", path,
                        xap_errmsg(db));
}

enum kx_status idx_open(const char *dir, int mode, const char *taxo_dir,
                        idx **out, struct kx_error *err)
{
    idx *x;
    enum kx_status st;
    uint64_t ls, xs;

    *out = NULL;
    x = calloc(1, sizeof *x);
    if (!x)
        return KX_NOMEM;
    pthread_mutex_init(&x->lag_lock, NULL);
    x->write = mode == IDX_WRITE;
    st = taxo_load(taxo_dir, &x->tx, err);
    if (st != KX_OK)
        goto out;
    st = text_tokenizer_new(&x->tok);
    if (st != KX_OK)
        goto out;
    st = store_open(dir, x->write ? STORE_CREATE : 0, &x->st, err);
    if (st != KX_OK)
        goto out;
    store_xapian_path(x->st, x->xpath, sizeof x->xpath);
    if (x->write) {
        st = xap_open(x->xpath, XAP_OPEN_WRITE, &x->xap);
        if (st != KX_OK) {
            xap_error(NULL, st, x->xpath, err);
            goto out;
        }
    } else {
        /* A reader finding Xapian behind LMDB (a writer was killed) brings
         * it up to date itself when no writer is at work. */
        st = xap_open(x->xpath, XAP_OPEN_READ, &x->xap);
        if (st == KX_OK) {
            st = xap_seq(x->xap, &xs);
            if (st == KX_OK)
                st = lmdb_seq(x, &ls);
            if (st == KX_OK && xs >= ls)
                goto ready;
            xap_close(x->xap);
            x->xap = NULL;
        }
        if (xap_open(x->xpath, XAP_OPEN_WRITE, &x->xap) == KX_OK) {
            /* idx_sync may replace x->xap (a resumed rebuild) */
            x->write = 1;
            st = idx_sync(x, NULL);
            x->write = 0;
            xap_close(x->xap);
            x->xap = NULL;
            if (st != KX_OK) {
                kx_error_set(err, st, "", "catching up the Xapian index: %s",
                             kx_status_str(st));
                goto out;
            }
        }
        st = xap_open(x->xpath, XAP_OPEN_READ, &x->xap);
        if (st != KX_OK) {
            xap_error(NULL, st, x->xpath, err);
            goto out;
        }
    }
ready:
    if (x->write && (st = idx_sync(x, NULL)) != KX_OK) {
        kx_error_set(err, st, "", "catching up the Xapian index: %s",
                     xap_errmsg(x->xap));
        goto out;
    }
    *out = x;
    x = NULL;
out:
    idx_close(x);
    return st;
}

void idx_close(idx *x)
{
    if (!x)
        return;
    xap_close(x->xap);
    store_close(x->st);
    pthread_mutex_destroy(&x->lag_lock);
    taxo_free(x->tx);
    text_tokenizer_free(x->tok);
    free(x);
}

/* ---- documents ---------------------------------------------------------- */

struct field_ctx {
    xap_doc *doc;
    const char *prefix;   /* also indexed under this prefix, if non-NULL */
    size_t plen;
    unsigned wdf;
    enum kx_status st;
    char buf[300];
};

static int add_token(void *vctx, const struct text_token *tok)
{
    struct field_ctx *c = vctx;

    c->st = xap_doc_add_term(c->doc, tok->s, tok->len,
                             IDX_POSITIONS ? tok->pos : 0, c->wdf);
    if (c->st == KX_OK && c->prefix && c->plen + tok->len < sizeof c->buf) {
        memcpy(c->buf, c->prefix, c->plen);
        memcpy(c->buf + c->plen, tok->s, tok->len);
        c->st = xap_doc_add_term(c->doc, c->buf, c->plen + tok->len, 0, 1);
    }
    return c->st != KX_OK;
}

static enum kx_status add_field(text_tokenizer *tok, xap_doc *doc,
                                const char *s,
                                const char *prefix, unsigned wdf,
                                unsigned *pos)
{
    struct field_ctx c = {doc, prefix, prefix ? strlen(prefix) : 0, wdf,
                          KX_OK, {0}};
    enum kx_status st;

    if (!s || !*s)
        return KX_OK;
    st = text_tokenize(tok, s, strlen(s), TEXT_UNIGRAMS | TEXT_STEM, pos,
                       add_token, &c);
    /* A gap between fields keeps phrases from spanning two of them. */
    *pos += 8;
    return st == KX_CONFLICT ? c.st : st;
}

struct tag_ctx {
    xap_doc *doc;
    enum kx_status st;
    /* '\n'-joined facet values per slot */
    char *vals[XAP_SLOT_LAST];
    size_t vlen[XAP_SLOT_LAST];
};

static void facet_append(struct tag_ctx *c, unsigned slot, const char *v)
{
    size_t n = strlen(v);
    char *p = realloc(c->vals[slot], c->vlen[slot] + n + 2);

    if (!p) {
        c->st = KX_NOMEM;
        return;
    }
    if (c->vlen[slot])
        p[c->vlen[slot]++] = '\n';
    memcpy(p + c->vlen[slot], v, n + 1);
    c->vlen[slot] += n;
    c->vals[slot] = p;
}

/* Turns a store posting tag into the Xapian boolean term of the same
 * meaning, so both indexes filter alike. */
static int add_tag(void *vctx, const char *tag)
{
    /* Industry and discipline codes are weighted terms (wdf 1), not mere
     * filters: a query can then rank by shared codes, a rare specific code
     * such as 2614 counting for more than a broad one such as C. */
    static const struct {
        char c;
        const char *prefix;
        int slot;
        int ranked;
    } map[] = {
        {'K', "XK", XAP_SLOT_KIND, 0},   {'I', "XI", XAP_SLOT_INDUSTRY, 1},
        {'D', "XD", XAP_SLOT_DISCIPLINE, 1}, {'R', "XR", XAP_SLOT_REGION, 0},
        {'T', "XT", -1, 0},              {'S', "XS", -1, 0},
        {'V', "XV", -1, 0},              {'F', "XF", -1, 0},
    };
    struct tag_ctx *c = vctx;
    char term[256];
    int n;

    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (tag[0] != map[i].c)
            continue;
        n = snprintf(term, sizeof term, "%s%s", map[i].prefix, tag + 2);
        if (n < 0 || (size_t)n >= sizeof term)
            break;
        c->st = map[i].ranked
                    ? xap_doc_add_term(c->doc, term, (size_t)n, 0, 1)
                    : xap_doc_add_boolean(c->doc, term);
        if (c->st == KX_OK && map[i].slot >= 0)
            facet_append(c, (unsigned)map[i].slot, tag + 2);
        break;
    }
    return c->st != KX_OK;
}

static double iso_to_epoch(const char *s)
{
    struct tm tm;
    int y, mo, d, h = 0, mi = 0, sec = 0;

    memset(&tm, 0, sizeof tm);
    if (!s || sscanf(s, "%d-%d-%d", &y, &mo, &d) != 3)
        return 0;
    if (strlen(s) > 10)
        sscanf(s + 11, "%d:%d:%d", &h, &mi, &sec);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    return (double)timegm(&tm);
}

enum kx_status idx_doc_build(idx *x, const struct kx_record *r,
                             xap_doc **out)
{
    return idx_doc_build_tok(x, x->tok, r, out);
}

enum kx_status idx_doc_build_tok(idx *x, text_tokenizer *tok,
                                 const struct kx_record *r, xap_doc **out)
{
    xap_doc *doc = NULL;
    struct tag_ctx tc;
    char term[KX_KEY_MAX + 2];
    unsigned pos = 0;
    enum kx_status st;

    *out = NULL;
    memset(&tc, 0, sizeof tc);
    if ((st = xap_doc_new(&doc)) != KX_OK)
        return st;
    tc.doc = doc;
    snprintf(term, sizeof term, "Q%s", r->key);
    if ((st = xap_doc_add_boolean(doc, term)) != KX_OK ||
        (st = xap_doc_set_data(doc, r->key, strlen(r->key))) != KX_OK)
        goto out;
    if ((st = add_field(tok, doc, r->name, "S", WDF_NAME, &pos)) != KX_OK)
        goto out;
    for (size_t i = 0; i < r->tags.n; i++)
        if ((st = add_field(tok, doc, r->tags.v[i], "XG", WDF_TAGS, &pos)) !=
            KX_OK)
            goto out;
    if ((st = add_field(tok, doc, r->org, "XO", WDF_ORG, &pos)) != KX_OK ||
        (st = add_field(tok, doc, r->title, NULL, WDF_TEXT, &pos)) != KX_OK ||
        (st = add_field(tok, doc, r->academy, NULL, WDF_TEXT, &pos)) != KX_OK)
        goto out;
    for (size_t i = 0; i < r->roles.n; i++)
        if ((st = add_field(tok, doc, r->roles.v[i], NULL, WDF_TEXT, &pos)) !=
            KX_OK)
            goto out;
    if ((st = add_field(tok, doc, r->text, NULL, WDF_TEXT, &pos)) != KX_OK)
        goto out;

    store_record_tags(r, x->tx, add_tag, &tc);
    if ((st = tc.st) != KX_OK)
        goto out;
    for (unsigned s = 0; s < XAP_SLOT_LAST; s++)
        if (tc.vals[s] &&
            (st = xap_doc_set_value(doc, s, tc.vals[s], tc.vlen[s])) != KX_OK)
            goto out;
    if (r->updated &&
        (st = xap_doc_set_value_num(doc, XAP_SLOT_UPDATED,
                                    iso_to_epoch(r->updated))) != KX_OK)
        goto out;
    *out = doc;
    doc = NULL;
out:
    for (unsigned s = 0; s < XAP_SLOT_LAST; s++)
        free(tc.vals[s]);
    xap_doc_free(doc);
    return st;
}

/* ---- keeping Xapian in step --------------------------------------------- */

#define META_REBUILDING "kx_rebuilding"

/* Makes the Xapian document of key match what LMDB holds now: x->fresh
 * when it is that record (what the caller staged is what LMDB holds), else
 * the stored JSON parsed. */
static enum kx_status apply_key(idx *x, store_txn *t, const char *key)
{
    char idterm[KX_KEY_MAX + 2];
    const char *json;
    size_t len;
    struct kx_record *r = NULL;
    xap_doc *doc = NULL;
    enum kx_status st;

    snprintf(idterm, sizeof idterm, "Q%s", key);
    st = store_record_get(t, key, &json, &len);
    if (st == KX_NOTFOUND)
        return xap_delete(x->xap, idterm);
    if (st != KX_OK)
        return st;
    if (x->fresh && !x->fresh->deleted && strcmp(x->fresh->key, key) == 0) {
        st = idx_doc_build(x, x->fresh, &doc);
    } else {
        if (record_parse(json, len, NULL, &r, NULL) != KX_OK)
            return KX_CORRUPT;
        st = idx_doc_build(x, r, &doc);
    }
    if (st == KX_OK)
        st = xap_replace(x->xap, idterm, doc);
    xap_doc_free(doc);
    record_free(r);
    return st;
}

/* Commits Xapian holding every change up to seq, without trimming LMDB's
 * log (the next idx_stage does, inside its own transaction). */
static enum kx_status commit_seq(idx *x, uint64_t seq)
{
    char buf[32];
    enum kx_status st;

    snprintf(buf, sizeof buf, "%llu", (unsigned long long)seq);
    if ((st = xap_meta_set(x->xap, META_SEQ, buf)) != KX_OK)
        return st;
    return xap_commit(x->xap);
}

enum kx_status idx_checkpoint(idx *x, uint64_t seq)
{
    store_txn *t = NULL;
    enum kx_status st;

    if ((st = commit_seq(x, seq)) != KX_OK)
        return st;
    if ((st = store_txn_begin(x->st, 1, &t)) != KX_OK)
        return st;
    if ((st = store_changes_trim(t, seq)) != KX_OK) {
        store_txn_abort(t);
        return st;
    }
    if ((st = store_txn_commit(t)) == KX_OK)
        lag_note(x, KX_OK, seq, "");
    return st;
}

struct sync_ctx {
    idx *x;
    store_txn *t;
    uint64_t last;
    size_t n;
    enum kx_status st;
};

static int sync_one(void *vctx, uint64_t seq, const char *key)
{
    struct sync_ctx *c = vctx;

    c->st = apply_key(c->x, c->t, key);
    if (c->st != KX_OK)
        return 1;
    c->last = seq;
    c->n++;
    return 0;
}

/* idx_sync and idx_follow: trim says whether LMDB forgets the applied
 * changes now; *done gets the last change Xapian holds. */
static enum kx_status sync_changes(idx *x, int trim, uint64_t *applied,
                                   uint64_t *done)
{
    struct sync_ctx c = {x, NULL, 0, 0, KX_OK};
    uint64_t xs, ls;
    char *marker = NULL;
    int rebuilding;
    enum kx_status st;

    if (applied)
        *applied = 0;
    *done = 0;
    if (!x->write)
        return KX_INTERNAL;
    if ((st = xap_meta_get(x->xap, META_REBUILDING, &marker)) != KX_OK)
        return st;
    rebuilding = marker[0] != '\0';
    free(marker);
    if (rebuilding) {
        if ((st = idx_rebuild(x, NULL, NULL)) != KX_OK)
            return st;
        return xap_seq(x->xap, done);
    }
    if ((st = xap_seq(x->xap, &xs)) != KX_OK)
        return st;
    if ((st = store_txn_begin(x->st, 0, &c.t)) != KX_OK)
        return st;
    if ((st = store_seq(c.t, &ls)) != KX_OK)
        goto out;
    if (xs >= ls) {
        *done = xs;
        st = KX_OK;
        goto out;
    }
    c.last = xs;
    st = store_changes_each(c.t, xs, sync_one, &c);
    if (st == KX_OK)
        st = c.st;
    store_txn_abort(c.t);
    c.t = NULL;
    if (st != KX_OK)
        goto out;
    /* Changes trimmed earlier are already in Xapian: claim up to ls. */
    st = trim ? idx_checkpoint(x, ls) : commit_seq(x, ls);
    if (st == KX_OK)
        *done = ls;
    if (applied)
        *applied = c.n;
out:
    store_txn_abort(c.t);
    return st;
}

enum kx_status idx_sync(idx *x, uint64_t *applied)
{
    uint64_t done;
    enum kx_status st = sync_changes(x, 1, applied, &done);

    if (st == KX_OK)
        lag_note(x, KX_OK, done, "");
    return st;
}

struct rebuild_ctx {
    idx *x;
    size_t done, total;
    void (*progress)(void *, size_t, size_t);
    void *pctx;
    enum kx_status st;
};

/* Rebuild commits along the way under the META_REBUILDING marker, never
 * claiming a change number, so that a rebuild killed half way is resumed as
 * a rebuild (see idx_sync) instead of being taken for a complete index.
 * The parallel path builds partial indexes instead and installs their merge
 * (which carries no marker) at the end. Commit size: see index_int.h. */
#define REBUILD_COMMIT_EVERY IDX_BATCH_RECORDS

static int rebuild_one(void *vctx, const char *key, const char *json,
                       size_t len)
{
    struct rebuild_ctx *c = vctx;
    struct kx_record *r = NULL;
    xap_doc *doc = NULL;
    char idterm[KX_KEY_MAX + 2];

    if (record_parse(json, len, NULL, &r, NULL) != KX_OK) {
        c->st = KX_CORRUPT;
        return 1;
    }
    snprintf(idterm, sizeof idterm, "Q%s", key);
    c->st = idx_doc_build(c->x, r, &doc);
    if (c->st == KX_OK)
        c->st = xap_replace(c->x->xap, idterm, doc);
    xap_doc_free(doc);
    record_free(r);
    c->done++;
    if (c->st == KX_OK && c->done % REBUILD_COMMIT_EVERY == 0)
        c->st = xap_commit(c->x->xap);
    if (c->progress && c->done % 1000 == 0)
        c->progress(c->pctx, c->done, c->total);
    return c->st != KX_OK;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

enum kx_status idx_rm_tree(const char *path)
{
    if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 &&
        errno != ENOENT)
        return KX_IO;
    return KX_OK;
}

/* Empties the Xapian index: close the writer, remove the database files,
 * create an empty one. The LMDB side is untouched. */
static enum kx_status xap_clear(idx *x)
{
    enum kx_status st;

    xap_close(x->xap);
    x->xap = NULL;
    if ((st = idx_rm_tree(x->xpath)) != KX_OK)
        return st;
    return xap_open(x->xpath, XAP_OPEN_WRITE, &x->xap);
}

enum kx_status idx_xap_install(idx *x, const char *newdir)
{
    char old[sizeof x->xpath + 8];
    const char *gone = newdir;
    enum kx_status st;

    if (!x->write)
        return KX_INTERNAL;
    if ((st = xap_commit(x->xap)) != KX_OK)
        return st;
    /* One step: a crash leaves the old index or the new one in place. */
    if (renameat2(AT_FDCWD, newdir, AT_FDCWD, x->xpath, RENAME_EXCHANGE) !=
        0) {
        if (errno != EINVAL && errno != ENOSYS)
            return KX_IO;
        /* No exchange on this file system: two steps. A crash between
         * them leaves no index, which the next open creates empty and
         * refills from the change log (not trimmed before we are done). */
        snprintf(old, sizeof old, "%s.old", x->xpath);
        if ((st = idx_rm_tree(old)) != KX_OK)
            return st;
        if (rename(x->xpath, old) != 0 || rename(newdir, x->xpath) != 0)
            return KX_IO;
        gone = old;
    }
    /* The writer still holds the lock of the old directory; until it is
     * reopened another writer could open the new one, which is complete,
     * so the worst case is our reopen failing with KX_LOCKED. */
    xap_close(x->xap);
    x->xap = NULL;
    st = xap_open(x->xpath, XAP_OPEN_WRITE, &x->xap);
    idx_rm_tree(gone);
    return st;
}

enum kx_status idx_rebuild(idx *x, void (*progress)(void *, size_t, size_t),
                           void *pctx)
{
    struct rebuild_ctx c = {x, 0, 0, progress, pctx, KX_OK};
    struct idx_bulk *bulk = NULL;
    store_txn *t = NULL;
    uint64_t ls;
    enum kx_status st;

    if (!x->write)
        return KX_INTERNAL;
    if ((st = xap_clear(x)) != KX_OK ||
        (st = xap_meta_set(x->xap, META_REBUILDING, "1")) != KX_OK ||
        (st = xap_commit(x->xap)) != KX_OK)
        return st;
    if ((st = store_txn_begin(x->st, 0, &t)) != KX_OK)
        return st;
    if ((st = store_seq(t, &ls)) != KX_OK ||
        (st = store_record_count(t, &c.total)) != KX_OK)
        goto out;
    if (c.total >= IDX_BULK_MIN_RECORDS &&
        (st = idx_bulk_start(x, 1, 0, c.total, &bulk)) != KX_OK)
        goto out;
    store_txn_abort(t);
    t = NULL;
    if (bulk) {
        /* The merge carries no marker: installing it ends the rebuild. */
        st = idx_bulk_finish(bulk, ls);
        if (progress && st == KX_OK)
            progress(pctx, c.total, c.total);
        goto out;
    }
    if ((st = store_txn_begin(x->st, 0, &t)) != KX_OK)
        goto out;
    st = store_record_each(t, "", rebuild_one, &c);
    if (st == KX_OK)
        st = c.st;
    store_txn_abort(t);
    t = NULL;
    if (st == KX_OK)
        st = xap_meta_set(x->xap, META_REBUILDING, "");
    if (st == KX_OK)
        st = idx_checkpoint(x, ls);
out:
    store_txn_abort(t);
    idx_bulk_free(bulk);
    return st;
}

enum kx_status idx_copy_finish(const char *dir, const char *taxo_dir,
                               struct kx_error *err)
{
    char xpath[4096];
    struct stat sb;
    store *s = NULL;
    xap_db *db = NULL;
    idx *x = NULL;
    enum kx_status st;

    if ((st = store_open(dir, 0, &s, err)) != KX_OK)
        return st;
    store_xapian_path(s, xpath, sizeof xpath);
    store_close(s);
    if (stat(xpath, &sb) == 0)
        return kx_error_set(err, KX_EXISTS, "", "%s exists already", xpath);
    st = xap_open(xpath, XAP_OPEN_WRITE, &db);
    if (st == KX_OK)
        st = xap_meta_set(db, META_REBUILDING, "1");
    if (st == KX_OK)
        st = xap_commit(db);
    if (st != KX_OK) {
        xap_error(db, st, xpath, err);
        xap_close(db);
        return st;
    }
    xap_close(db);
    /* Opening for writing does the rebuild that the marker calls for
     * (sync_changes), as after a rebuild that was killed. */
    st = idx_open(dir, IDX_WRITE, taxo_dir, &x, err);
    idx_close(x);
    return st;
}

/* ---- one record at a time (the API) ------------------------------------ */

enum kx_status idx_stage(idx *x, store_txn *t, struct kx_record *r,
                         enum store_change *what)
{
    enum store_change ch = STORE_UNCHANGED;
    uint64_t done;
    enum kx_status st;

    if (what)
        *what = STORE_UNCHANGED;
    if (!x->write)
        return KX_INTERNAL;
    /* Trimming here, not after each Xapian commit, keeps a write to one
     * LMDB transaction. */
    pthread_mutex_lock(&x->lag_lock);
    done = x->xap_done;
    pthread_mutex_unlock(&x->lag_lock);
    if (done && (st = store_changes_trim(t, done)) != KX_OK)
        return st;
    if ((st = store_record_put(t, r, x->tx, &ch)) != KX_OK)
        return st;
    if (what)
        *what = ch;
    return KX_OK;
}

static double now_epoch(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Remembers how the last attempt to follow ended. */
static void lag_note(idx *x, enum kx_status st, uint64_t done,
                     const char *why)
{
    pthread_mutex_lock(&x->lag_lock);
    if (st == KX_OK) {
        x->xap_done = done;
        x->lag_err[0] = '\0';
        x->lag_since = 0;
    } else {
        /* a Xapian message may be longer: its start, cut at a character */
        snprintf(x->lag_err, sizeof x->lag_err, "%.*s",
                 (int)sizeof x->lag_err - 1, why);
        kx_utf8_trim(x->lag_err);
        if (!x->lag_since)
            x->lag_since = now_epoch();
    }
    pthread_mutex_unlock(&x->lag_lock);
}

enum kx_status idx_follow(idx *x, const struct kx_record *fresh,
                          struct kx_error *err)
{
    uint64_t xs = 0;
    enum kx_status st;

    if (!x->write)
        return KX_INTERNAL;
    if (!x->xap && (st = xap_open(x->xpath, XAP_OPEN_WRITE, &x->xap)) !=
                       KX_OK) {
        xap_error(NULL, st, x->xpath, err);
        lag_note(x, st, 0, err ? err->msg : kx_status_str(st));
        return st;
    }
    x->fresh = fresh;
    st = sync_changes(x, 0, NULL, &xs);
    x->fresh = NULL;
    if (st != KX_OK) {
        kx_error_set(err, st, "", "updating the Xapian index %s: %s",
                     x->xpath, x->xap && xap_errmsg(x->xap)[0]
                                   ? xap_errmsg(x->xap)
                                   : kx_status_str(st));
        lag_note(x, st, 0, err ? err->msg : kx_status_str(st));
        /* Whatever the failed commit left half done goes with the handle;
         * the change log still holds every change. */
        xap_close(x->xap);
        x->xap = NULL;
        return st;
    }
    lag_note(x, KX_OK, xs, "");
    return KX_OK;
}

enum kx_status idx_lag(idx *x, struct idx_lag *out)
{
    uint64_t ls = 0;
    enum kx_status st = lmdb_seq(x, &ls);

    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&x->lag_lock);
    out->pending = ls > x->xap_done ? ls - x->xap_done : 0;
    snprintf(out->error, sizeof out->error, "%s", x->lag_err);
    out->since = x->lag_since;
    pthread_mutex_unlock(&x->lag_lock);
    return st;
}

enum kx_status idx_put(idx *x, struct kx_record *r, enum store_change *what,
                       int *indexed)
{
    store_txn *t = NULL;
    enum store_change ch = STORE_UNCHANGED;
    enum kx_status st;

    if (what)
        *what = STORE_UNCHANGED;
    if (indexed)
        *indexed = 0;
    if ((st = store_txn_begin(x->st, 1, &t)) != KX_OK)
        return st;
    if ((st = idx_stage(x, t, r, &ch)) != KX_OK) {
        store_txn_abort(t);
        return st;
    }
    if ((st = store_txn_commit(t)) != KX_OK)
        return st;
    if (what)
        *what = ch;
    if (idx_follow(x, r, NULL) == KX_OK && indexed)
        *indexed = 1;
    return KX_OK;
}
