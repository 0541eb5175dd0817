/* store.c - the LMDB environment of a data directory: records, postings,
 * metadata, change log and plain tables (see store.h for the layout). */
#include "store.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The map is sparse: this is an upper bound on the data, not a reservation.
 * 64 GiB holds a province many times over. */
#define STORE_MAPSIZE ((size_t)64 << 30)
#define STORE_TAG_MAX 160

enum { DBI_RECORDS = STORE_TABLE_LAST, DBI_POSTINGS, DBI_CHANGES,
       DBI_PROFILES, DBI_LAST };

static const char *const dbi_names[DBI_LAST] = {
    [STORE_META] = "meta",         [STORE_TOKENS] = "tokens",
    [STORE_AUDIT] = "audit",       [STORE_PIPELINE] = "pipeline",
    [STORE_OUTBOX] = "outbox",     [STORE_DIGEST] = "digest",
    [STORE_USERS] = "users",       [STORE_SESSIONS] = "sessions",
    [DBI_RECORDS] = "records",     [DBI_POSTINGS] = "postings",
    [DBI_CHANGES] = "changes",     [DBI_PROFILES] = "profiles",
};

struct store {
    MDB_env *env;
    MDB_dbi dbi[DBI_LAST];
    char *dir;
    int has_profiles;  /* the profiles table is complete (meta "profiles") */
    unsigned missing;  /* 1u << table: absent (read-only, an older directory) */
};

struct store_txn {
    store *s;
    MDB_txn *txn;
    int write;
};

static __thread char last_err[256];

const char *store_errmsg(void)
{
    return last_err;
}

/* Maps an LMDB return code to a status, keeping its text for the caller. */
static enum kx_status mdb_status(int rc, const char *what)
{
    if (rc == 0)
        return KX_OK;
    if (rc == MDB_NOTFOUND)
        return KX_NOTFOUND;
    snprintf(last_err, sizeof last_err, "%s: %s", what, mdb_strerror(rc));
    switch (rc) {
    case ENOMEM:
        return KX_NOMEM;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
        return KX_TOOLARGE;
    case MDB_CORRUPTED:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_PAGE_NOTFOUND:
        return KX_CORRUPT;
    case EACCES:
    case EAGAIN:
        return KX_LOCKED;
    default:
        return KX_IO;
    }
}

static enum kx_status check_format(store *s, int create, struct kx_error *err)
{
    MDB_txn *txn = NULL;
    MDB_val k = {6, "format"}, v;
    enum kx_status st;
    int rc;

    rc = mdb_txn_begin(s->env, NULL, create ? 0 : MDB_RDONLY, &txn);
    if (rc)
        return mdb_status(rc, "begin");
    rc = mdb_get(txn, s->dbi[STORE_META], &k, &v);
    if (rc == MDB_NOTFOUND && create) {
        v.mv_data = (void *)STORE_FORMAT;
        v.mv_size = strlen(STORE_FORMAT);
        rc = mdb_put(txn, s->dbi[STORE_META], &k, &v, 0);
        if (rc == 0) {
            rc = mdb_txn_commit(txn);
            return mdb_status(rc, "commit");
        }
        st = mdb_status(rc, "put format");
        goto out;
    }
    if (rc) {
        st = mdb_status(rc, "read format");
        if (st == KX_NOTFOUND)
            st = kx_error_set(err, KX_CORRUPT, "",
                              "%s is not a kxmatch data directory "
                              "(no format marker)", s->dir);
        goto out;
    }
    if (v.mv_size != strlen(STORE_FORMAT) ||
        memcmp(v.mv_data, STORE_FORMAT, v.mv_size) != 0) {
        st = kx_error_set(err, KX_CORRUPT, "",
                          "%s has data format %.*s; this kxmatch reads "
                          "format %s",
                          s->dir, (int)(v.mv_size > 16 ? 16 : v.mv_size),
                          (const char *)v.mv_data, STORE_FORMAT);
        goto out;
    }
    st = KX_OK;
out:
    mdb_txn_abort(txn);
    return st;
}

static enum kx_status profile_put(MDB_txn *txn, store *s,
                                  const struct kx_record *r)
{
    MDB_val k = {strlen(r->key), (void *)r->key}, v;
    char *buf;
    size_t len;
    enum kx_status st = record_profile_encode(r, &buf, &len);
    int rc;

    if (st != KX_OK)
        return st;
    v.mv_size = len;
    v.mv_data = buf;
    rc = mdb_put(txn, s->dbi[DBI_PROFILES], &k, &v, 0);
    free(buf);
    return mdb_status(rc, "put profile");
}

/* Sets s->has_profiles. A store written before profiles existed gets them
 * here, from its records, the first time it is opened for writing (one
 * transaction: all or none); read-only, ranking parses the records. */
static enum kx_status profiles_ready(store *s, int write,
                                     struct kx_error *err)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k = {8, "profiles"}, v, rk, rv;
    enum kx_status st = KX_OK;
    int rc;

    rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &txn);
    if (rc)
        return mdb_status(rc, "begin");
    rc = mdb_get(txn, s->dbi[STORE_META], &k, &v);
    if (rc == 0 || !write) {
        s->has_profiles = rc == 0;
        mdb_txn_abort(txn);
        return rc == 0 || rc == MDB_NOTFOUND ? KX_OK
                                             : mdb_status(rc, "read meta");
    }
    rc = mdb_cursor_open(txn, s->dbi[DBI_RECORDS], &cur);
    for (rc = rc ? rc : mdb_cursor_get(cur, &rk, &rv, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &rk, &rv, MDB_NEXT)) {
        struct kx_record *r = NULL;

        if (record_parse(rv.mv_data, rv.mv_size, NULL, &r, NULL) != KX_OK) {
            st = kx_error_set(err, KX_CORRUPT, "",
                              "%s: record %.*s does not parse", s->dir,
                              (int)(rk.mv_size > 80 ? 80 : rk.mv_size),
                              (const char *)rk.mv_data);
            break;
        }
        st = profile_put(txn, s, r);
        record_free(r);
        if (st != KX_OK)
            break;
    }
    mdb_cursor_close(cur);
    if (st == KX_OK && rc != MDB_NOTFOUND)
        st = mdb_status(rc, "read records");
    if (st == KX_OK) {
        v.mv_size = 1;
        v.mv_data = "1";
        st = mdb_status(mdb_put(txn, s->dbi[STORE_META], &k, &v, 0),
                        "put meta");
    }
    if (st != KX_OK) {
        mdb_txn_abort(txn);
        return st;
    }
    if ((st = mdb_status(mdb_txn_commit(txn), "commit")) == KX_OK)
        s->has_profiles = 1;
    return st;
}

enum kx_status store_open(const char *dir, unsigned flags, store **out,
                          struct kx_error *err)
{
    char path[4096];
    struct stat sb;
    store *s = NULL;
    MDB_txn *txn = NULL;
    enum kx_status st;
    int rc, create = (flags & STORE_CREATE) && !(flags & STORE_RDONLY);

    *out = NULL;
    if (snprintf(path, sizeof path, "%s/lmdb", dir) >= (int)sizeof path)
        return kx_error_set(err, KX_BADINPUT, "", "path too long: %s", dir);
    if (stat(path, &sb) != 0) {
        if (!create)
            return kx_error_set(err, KX_NOTFOUND, "",
                                "no kxmatch data directory at %s "
                                "(run `kxmatch index --db %s FILE` first)",
                                dir, dir);
        if (kx_mkdir_p(path) != 0)
            return kx_error_set(err, KX_IO, "", "cannot create %s: %s", path,
                                strerror(errno));
    }
    s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(dir))) {
        st = KX_NOMEM;
        goto out;
    }
    if ((rc = mdb_env_create(&s->env)) != 0 ||
        (rc = mdb_env_set_maxdbs(s->env, DBI_LAST)) != 0 ||
        (rc = mdb_env_set_mapsize(s->env, STORE_MAPSIZE)) != 0 ||
        (rc = mdb_env_set_maxreaders(s->env, 254)) != 0) {
        st = mdb_status(rc, "lmdb setup");
        kx_error_set(err, st, "", "%s", last_err);
        goto out;
    }
    /* NOTLS: read transactions are tied to our txn objects, not threads,
     * so the HTTP server can keep one per worker. */
    rc = mdb_env_open(s->env, path,
                      MDB_NOTLS | ((flags & STORE_RDONLY) ? MDB_RDONLY : 0),
                      0600);
    if (rc) {
        st = mdb_status(rc, "open");
        kx_error_set(err, st, "", "cannot open LMDB environment %s: %s",
                     path, mdb_strerror(rc));
        goto out;
    }
    rc = mdb_txn_begin(s->env, NULL, (flags & STORE_RDONLY) ? MDB_RDONLY : 0,
                       &txn);
    if (rc) {
        st = mdb_status(rc, "begin");
        kx_error_set(err, st, "", "%s: %s", path, last_err);
        goto out;
    }
    for (int i = 0; i < DBI_LAST; i++) {
        unsigned f = (flags & STORE_RDONLY) ? 0 : MDB_CREATE;
        if (i == DBI_POSTINGS)
            f |= MDB_DUPSORT;
        rc = mdb_dbi_open(txn, dbi_names[i], f, &s->dbi[i]);
        if (rc == MDB_NOTFOUND && i == DBI_PROFILES)
            continue; /* read-only, written before profiles: parse records */
        if (rc == MDB_NOTFOUND && (i == STORE_USERS || i == STORE_SESSIONS)) {
            /* read-only, written before accounts: none to read */
            s->missing |= 1u << i;
            continue;
        }
        if (rc == MDB_NOTFOUND) {
            st = kx_error_set(err, KX_CORRUPT, "",
                              "%s is not a kxmatch data directory "
                              "(no '%s' table)", dir, dbi_names[i]);
            goto out;
        }
        if (rc) {
            st = mdb_status(rc, "dbi open");
            kx_error_set(err, st, "", "%s: %s", path, last_err);
            goto out;
        }
    }
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc) {
        st = mdb_status(rc, "commit");
        kx_error_set(err, st, "", "%s: %s", path, last_err);
        goto out;
    }
    st = check_format(s, create, err);
    if (st == KX_OK)
        st = profiles_ready(s, !(flags & STORE_RDONLY), err);
    if (st != KX_OK)
        goto out;
    *out = s;
    s = NULL;
out:
    mdb_txn_abort(txn);
    store_close(s);
    return st;
}

void store_close(store *s)
{
    if (!s)
        return;
    if (s->env)
        mdb_env_close(s->env);
    free(s->dir);
    free(s);
}

const char *store_dir(const store *s)
{
    return s->dir;
}

void store_xapian_path(const store *s, char *buf, size_t n)
{
    snprintf(buf, n, "%s/xapian", s->dir);
}

enum kx_status store_disk_usage(store *s, uint64_t *bytes)
{
    MDB_envinfo info;
    MDB_stat stat;
    int rc;

    *bytes = 0;
    if ((rc = mdb_env_info(s->env, &info)) != 0 ||
        (rc = mdb_env_stat(s->env, &stat)) != 0)
        return mdb_status(rc, "env info");
    *bytes = (uint64_t)(info.me_last_pgno + 1) * stat.ms_psize;
    return KX_OK;
}

/* Makes what was written under path durable: a file's data, or a
 * directory's entries. 0, or -1 with errno. */
static int fsync_path(const char *path, int dir)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | (dir ? O_DIRECTORY : 0));
    int rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

enum kx_status store_copy(store *s, const char *dest, struct kx_error *err)
{
    char path[4096], data[4200];
    enum kx_status st;
    int rc;

    if (snprintf(path, sizeof path, "%s/lmdb", dest) >= (int)sizeof path)
        return kx_error_set(err, KX_BADINPUT, "", "path too long: %s", dest);
    snprintf(data, sizeof data, "%s/data.mdb", path);
    if (mkdir(path, 0700) != 0) {
        rc = errno;
        return kx_error_set(err, rc == EEXIST ? KX_EXISTS : KX_IO, "",
                            "cannot create %s: %s", path, strerror(rc));
    }
    /* Compacting walks the trees in a read transaction of its own rather
     * than copying the file under the writer's lock. */
    rc = mdb_env_copy2(s->env, path, MDB_CP_COMPACT);
    if (rc == 0 && (fsync_path(data, 0) != 0 || fsync_path(path, 1) != 0 ||
                    fsync_path(dest, 1) != 0))
        rc = errno;
    if (rc == 0)
        return KX_OK;
    /* mdb_status reads EACCES as a lock held; here it is a permission */
    st = rc == EACCES ? KX_IO : mdb_status(rc, "copy");
    kx_error_set(err, st, "", "cannot copy the LMDB environment of %s to "
                 "%s: %s", s->dir, path, mdb_strerror(rc));
    unlink(data);
    rmdir(path);
    return st;
}

enum kx_status store_txn_begin(store *s, int write, store_txn **out)
{
    store_txn *t;
    int rc;

    *out = NULL;
    t = calloc(1, sizeof *t);
    if (!t)
        return KX_NOMEM;
    rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
    if (rc) {
        free(t);
        return mdb_status(rc, "begin transaction");
    }
    t->s = s;
    t->write = write;
    *out = t;
    return KX_OK;
}

enum kx_status store_txn_commit(store_txn *t)
{
    int rc = mdb_txn_commit(t->txn);

    free(t);
    return mdb_status(rc, "commit");
}

void store_txn_abort(store_txn *t)
{
    if (!t)
        return;
    mdb_txn_abort(t->txn);
    free(t);
}

enum kx_status store_txn_refresh(store_txn *t)
{
    if (t->write)
        return KX_OK;
    mdb_txn_reset(t->txn);
    return mdb_status(mdb_txn_renew(t->txn), "renew");
}

/* ---- plain tables ------------------------------------------------------- */

static enum kx_status kv_get(store_txn *t, MDB_dbi dbi, const void *key,
                             size_t klen, const void **val, size_t *vlen)
{
    MDB_val k = {klen, (void *)key}, v;
    int rc = mdb_get(t->txn, dbi, &k, &v);

    *val = NULL;
    if (vlen)
        *vlen = 0;
    if (rc)
        return mdb_status(rc, "get");
    *val = v.mv_data;
    if (vlen)
        *vlen = v.mv_size;
    return KX_OK;
}

static enum kx_status kv_put(store_txn *t, MDB_dbi dbi, const void *key,
                             size_t klen, const void *val, size_t vlen,
                             unsigned flags)
{
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};

    if (klen == 0 || klen > 511)
        return KX_BADINPUT;
    return mdb_status(mdb_put(t->txn, dbi, &k, &v, flags), "put");
}

enum kx_status store_kv_get(store_txn *t, enum store_table tb,
                            const void *key, size_t klen, const void **val,
                            size_t *vlen)
{
    if (t->s->missing & (1u << tb))
        return KX_NOTFOUND;
    return kv_get(t, t->s->dbi[tb], key, klen, val, vlen);
}

enum kx_status store_kv_put(store_txn *t, enum store_table tb,
                            const void *key, size_t klen, const void *val,
                            size_t vlen)
{
    return kv_put(t, t->s->dbi[tb], key, klen, val, vlen, 0);
}

enum kx_status store_kv_del(store_txn *t, enum store_table tb,
                            const void *key, size_t klen)
{
    MDB_val k = {klen, (void *)key};

    return mdb_status(mdb_del(t->txn, t->s->dbi[tb], &k, NULL), "del");
}

/* Walks the entries of dbi whose key starts with prefix. */
static enum kx_status prefix_each(store_txn *t, MDB_dbi dbi,
                                  const void *prefix, size_t plen,
                                  store_kv_fn fn, void *ctx)
{
    MDB_cursor *cur = NULL;
    MDB_val k = {plen, (void *)prefix}, v;
    MDB_cursor_op op = plen ? MDB_SET_RANGE : MDB_FIRST;
    int rc;

    rc = mdb_cursor_open(t->txn, dbi, &cur);
    if (rc)
        return mdb_status(rc, "cursor");
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        op = MDB_NEXT;
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        if (fn(ctx, k.mv_data, k.mv_size, v.mv_data, v.mv_size))
            break;
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? KX_OK : mdb_status(rc, "walk");
}

enum kx_status store_kv_each(store_txn *t, enum store_table tb,
                             const void *prefix, size_t plen, store_kv_fn fn,
                             void *ctx)
{
    if (t->s->missing & (1u << tb))
        return KX_OK;
    return prefix_each(t, t->s->dbi[tb], prefix, plen, fn, ctx);
}

enum kx_status store_kv_each_before(store_txn *t, enum store_table tb,
                                    const void *before, size_t blen,
                                    store_kv_fn fn, void *ctx)
{
    MDB_cursor *cur = NULL;
    MDB_val k = {blen, (void *)before}, v;
    int rc;

    if (t->s->missing & (1u << tb))
        return KX_OK;
    rc = mdb_cursor_open(t->txn, t->s->dbi[tb], &cur);
    if (rc)
        return mdb_status(rc, "cursor");
    if (before) {
        /* the first key >= before, then the one before it; none >= before
         * means every key is older: start from the last */
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        rc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV)
             : rc == MDB_NOTFOUND ? mdb_cursor_get(cur, &k, &v, MDB_LAST)
                                  : rc;
    } else {
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    }
    while (rc == 0 && !fn(ctx, k.mv_data, k.mv_size, v.mv_data, v.mv_size))
        rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? KX_OK : mdb_status(rc, "walk");
}

static enum kx_status dbi_count(store_txn *t, MDB_dbi dbi, size_t *n)
{
    MDB_stat st;
    int rc = mdb_stat(t->txn, dbi, &st);

    *n = rc ? 0 : st.ms_entries;
    return mdb_status(rc, "stat");
}

enum kx_status store_kv_count(store_txn *t, enum store_table tb, size_t *n)
{
    *n = 0;
    if (t->s->missing & (1u << tb))
        return KX_OK;
    return dbi_count(t, t->s->dbi[tb], n);
}

enum kx_status store_record_count(store_txn *t, size_t *n)
{
    return dbi_count(t, t->s->dbi[DBI_RECORDS], n);
}

/* ---- postings ----------------------------------------------------------- */

static int emit_tag(store_tagout_fn fn, void *ctx, const char *prefix,
                    const char *val)
{
    char tag[STORE_TAG_MAX];
    size_t n = (size_t)snprintf(tag, sizeof tag, "%s%s", prefix, val);

    if (n >= sizeof tag)
        return 0; /* an over-long tag cannot be looked up by anyone */
    return fn(ctx, tag);
}

static int emit_codes(const taxo *tx, enum taxo_kind k, const char *prefix,
                      const char *code, store_tagout_fn fn, void *ctx)
{
    const char *anc[8];
    size_t n = tx ? taxo_ancestors(tx, k, code, anc, 8) : 0;

    if (n == 0)
        return emit_tag(fn, ctx, prefix, code);
    for (size_t i = 0; i < n; i++)
        if (emit_tag(fn, ctx, prefix, anc[i]))
            return 1;
    return 0;
}

/* Tags are matched case-insensitively: ASCII is folded, CJK kept. */
static int emit_tag_word(store_tagout_fn fn, void *ctx, const char *word)
{
    char low[STORE_TAG_MAX];
    size_t i;

    for (i = 0; word[i] && i + 1 < sizeof low; i++)
        low[i] = (char)tolower((unsigned char)word[i]);
    low[i] = '\0';
    return emit_tag(fn, ctx, "T:", low);
}

void store_record_tags(const struct kx_record *r, const taxo *tx,
                       store_tagout_fn fn, void *ctx)
{
    const char *refs[512];
    size_t nref;

    if (emit_tag(fn, ctx, "K:", record_kind_name(r->kind)))
        return;
    for (size_t i = 0; i < r->industries.n; i++)
        if (emit_codes(tx, TAXO_INDUSTRY, "I:", r->industries.v[i], fn, ctx))
            return;
    for (size_t i = 0; i < r->disciplines.n; i++)
        if (emit_codes(tx, TAXO_DISCIPLINE, "D:", r->disciplines.v[i], fn,
                       ctx))
            return;
    if (r->region && emit_codes(tx, TAXO_REGION, "R:", r->region, fn, ctx))
        return;
    for (size_t i = 0; i < r->tags.n; i++)
        if (emit_tag_word(fn, ctx, r->tags.v[i]))
            return;
    if (r->kind == KX_KIND_NEED) {
        if (emit_tag(fn, ctx, "S:", r->status ? r->status : "open") ||
            emit_tag(fn, ctx, "V:", r->visibility ? r->visibility : "public"))
            return;
    }
    nref = record_refs(r, refs, sizeof refs / sizeof refs[0]);
    for (size_t i = 0; i < nref; i++)
        if (emit_tag(fn, ctx, "F:", refs[i]))
            return;
}

struct posting_ctx {
    store_txn *t;
    const char *key;
    int del;
    enum kx_status st;
};

static int posting_apply(void *vctx, const char *tag)
{
    struct posting_ctx *c = vctx;
    MDB_val k = {strlen(tag), (void *)tag};
    MDB_val v = {strlen(c->key), (void *)c->key};
    int rc;

    if (c->del) {
        rc = mdb_del(c->t->txn, c->t->s->dbi[DBI_POSTINGS], &k, &v);
        if (rc == MDB_NOTFOUND)
            rc = 0; /* a repeated tag was removed already */
    } else {
        rc = mdb_put(c->t->txn, c->t->s->dbi[DBI_POSTINGS], &k, &v,
                     MDB_NODUPDATA);
        if (rc == MDB_KEYEXIST)
            rc = 0;
    }
    c->st = mdb_status(rc, "posting");
    return c->st != KX_OK;
}

enum kx_status store_posting_each(store_txn *t, const char *tag,
                                  store_key_fn fn, void *ctx)
{
    MDB_cursor *cur = NULL;
    MDB_val k = {strlen(tag), (void *)tag}, v;
    MDB_cursor_op op = MDB_SET_KEY;
    char key[KX_KEY_MAX];
    int rc;

    rc = mdb_cursor_open(t->txn, t->s->dbi[DBI_POSTINGS], &cur);
    if (rc)
        return mdb_status(rc, "cursor");
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        op = MDB_NEXT_DUP;
        if (v.mv_size >= sizeof key)
            continue;
        memcpy(key, v.mv_data, v.mv_size);
        key[v.mv_size] = '\0';
        if (fn(ctx, key))
            break;
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? KX_OK : mdb_status(rc, "walk");
}

enum kx_status store_posting_count(store_txn *t, const char *tag, size_t *n)
{
    MDB_cursor *cur = NULL;
    MDB_val k = {strlen(tag), (void *)tag}, v;
    size_t cnt = 0;
    int rc;

    *n = 0;
    rc = mdb_cursor_open(t->txn, t->s->dbi[DBI_POSTINGS], &cur);
    if (rc)
        return mdb_status(rc, "cursor");
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
    if (rc == 0)
        rc = mdb_cursor_count(cur, &cnt);
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        return KX_OK;
    *n = (size_t)cnt;
    return mdb_status(rc, "count");
}

enum kx_status store_tag_each(store_txn *t, const char *prefix,
                              store_tag_fn fn, void *ctx)
{
    MDB_cursor *cur = NULL;
    size_t plen = strlen(prefix);
    MDB_val k = {plen, (void *)prefix}, v;
    MDB_cursor_op op = plen ? MDB_SET_RANGE : MDB_FIRST;
    char tag[STORE_TAG_MAX];
    size_t cnt;
    int rc;

    rc = mdb_cursor_open(t->txn, t->s->dbi[DBI_POSTINGS], &cur);
    if (rc)
        return mdb_status(rc, "cursor");
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        op = MDB_NEXT_NODUP;
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        if (k.mv_size >= sizeof tag)
            continue;
        memcpy(tag, k.mv_data, k.mv_size);
        tag[k.mv_size] = '\0';
        if ((rc = mdb_cursor_count(cur, &cnt)) != 0)
            break;
        if (fn(ctx, tag, (size_t)cnt))
            break;
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? KX_OK : mdb_status(rc, "walk");
}

/* ---- change log --------------------------------------------------------- */

static void be64(uint64_t x, unsigned char out[8])
{
    for (int i = 7; i >= 0; i--, x >>= 8)
        out[i] = (unsigned char)(x & 0xff);
}

static uint64_t from_be64(const unsigned char in[8])
{
    uint64_t x = 0;

    for (int i = 0; i < 8; i++)
        x = (x << 8) | in[i];
    return x;
}

enum kx_status store_seq(store_txn *t, uint64_t *seq)
{
    const void *v;
    size_t n;
    char buf[32];
    enum kx_status st;

    *seq = 0;
    st = kv_get(t, t->s->dbi[STORE_META], "seq", 3, &v, &n);
    if (st == KX_NOTFOUND)
        return KX_OK;
    if (st != KX_OK)
        return st;
    if (n == 0 || n >= sizeof buf)
        return KX_CORRUPT;
    memcpy(buf, v, n);
    buf[n] = '\0';
    *seq = strtoull(buf, NULL, 10);
    return KX_OK;
}

/* Gives the change to key the next number and logs it. */
static enum kx_status log_change(store_txn *t, const char *key)
{
    uint64_t seq;
    unsigned char k[8];
    char buf[32];
    enum kx_status st;
    int n;

    if ((st = store_seq(t, &seq)) != KX_OK)
        return st;
    seq++;
    be64(seq, k);
    st = kv_put(t, t->s->dbi[DBI_CHANGES], k, 8, key, strlen(key), 0);
    if (st != KX_OK)
        return st;
    n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)seq);
    return kv_put(t, t->s->dbi[STORE_META], "seq", 3, buf, (size_t)n, 0);
}

enum kx_status store_changes_each(store_txn *t, uint64_t after,
                                  store_change_fn fn, void *ctx)
{
    MDB_cursor *cur = NULL;
    unsigned char start[8];
    MDB_val k = {8, start}, v;
    MDB_cursor_op op = MDB_SET_RANGE;
    char key[KX_KEY_MAX];
    int rc;

    be64(after + 1, start);
    rc = mdb_cursor_open(t->txn, t->s->dbi[DBI_CHANGES], &cur);
    if (rc)
        return mdb_status(rc, "cursor");
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        op = MDB_NEXT;
        if (k.mv_size != 8 || v.mv_size >= sizeof key) {
            rc = MDB_CORRUPTED;
            break;
        }
        memcpy(key, v.mv_data, v.mv_size);
        key[v.mv_size] = '\0';
        if (fn(ctx, from_be64(k.mv_data), key))
            break;
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? KX_OK : mdb_status(rc, "changes");
}

enum kx_status store_changes_trim(store_txn *t, uint64_t upto)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc;

    rc = mdb_cursor_open(t->txn, t->s->dbi[DBI_CHANGES], &cur);
    if (rc)
        return mdb_status(rc, "cursor");
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
        if (k.mv_size != 8 || from_be64(k.mv_data) > upto)
            break;
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? KX_OK : mdb_status(rc, "trim");
}

/* ---- records ------------------------------------------------------------ */

enum kx_status store_record_get(store_txn *t, const char *key,
                                const char **json, size_t *len)
{
    const void *v;
    size_t n;
    enum kx_status st = kv_get(t, t->s->dbi[DBI_RECORDS], key, strlen(key),
                               &v, &n);

    *json = st == KX_OK ? v : NULL;
    if (len)
        *len = st == KX_OK ? n : 0;
    return st;
}

int store_has_profiles(const store *s)
{
    return s->has_profiles;
}

enum kx_status store_profile_get(store_txn *t, const char *key,
                                 const void **prof, size_t *len)
{
    *prof = NULL;
    if (len)
        *len = 0;
    if (!t->s->has_profiles)
        return KX_NOTFOUND;
    return kv_get(t, t->s->dbi[DBI_PROFILES], key, strlen(key), prof, len);
}

/* The tombstone's key of record key into k (KX_KEY_MAX + 16 bytes). */
static int tombstone_key(const char *key, char *k)
{
    return snprintf(k, KX_KEY_MAX + 16, "deleted:%s", key);
}

int store_record_deleted(store_txn *t, const char *key)
{
    char k[KX_KEY_MAX + 16];
    const void *v;
    int n = tombstone_key(key, k);

    return n > 0 && store_kv_get(t, STORE_META, k, (size_t)n, &v, NULL) == KX_OK;
}

/* Remembers (set) or forgets that key was deleted, so that asking for it
 * later can say "deleted" rather than "unknown". */
static enum kx_status tombstone(store_txn *t, const char *key, int set)
{
    char k[KX_KEY_MAX + 16];
    int n = tombstone_key(key, k);
    enum kx_status st;

    if (set)
        return kv_put(t, t->s->dbi[STORE_META], k, (size_t)n, "1", 1, 0);
    st = store_kv_del(t, STORE_META, k, (size_t)n);
    return st == KX_NOTFOUND ? KX_OK : st;
}

/* Removes the postings of the stored record json under key. */
static enum kx_status unpost_old(store_txn *t, const char *key,
                                 const char *json, size_t len,
                                 const taxo *tx)
{
    struct kx_record *old = NULL;
    struct posting_ctx pc = {t, key, 1, KX_OK};
    enum kx_status st;

    /* The stored form was validated on the way in; codes are not checked
     * again so that a taxonomy change cannot strand a record. */
    st = record_parse(json, len, NULL, &old, NULL);
    if (st != KX_OK)
        return KX_CORRUPT;
    store_record_tags(old, tx, posting_apply, &pc);
    record_free(old);
    return pc.st;
}

enum kx_status store_record_put(store_txn *t, struct kx_record *r,
                                const taxo *tx, enum store_change *what)
{
    const char *old = NULL, *canon;
    size_t oldlen = 0, clen;
    struct posting_ctx pc = {t, r->key, 0, KX_OK};
    enum kx_status st;
    int existed;

    if (what)
        *what = STORE_UNCHANGED;
    if (!t->write)
        return KX_INTERNAL;
    st = store_record_get(t, r->key, &old, &oldlen);
    if (st != KX_OK && st != KX_NOTFOUND)
        return st;
    existed = st == KX_OK;

    if (r->deleted) {
        if (!existed)
            return KX_OK;
        if ((st = unpost_old(t, r->key, old, oldlen, tx)) != KX_OK)
            return st;
        MDB_val k = {strlen(r->key), r->key};
        st = mdb_status(mdb_del(t->txn, t->s->dbi[DBI_RECORDS], &k, NULL),
                        "delete");
        if (st == KX_OK) {
            st = mdb_status(mdb_del(t->txn, t->s->dbi[DBI_PROFILES], &k,
                                    NULL), "delete profile");
            if (st == KX_NOTFOUND)
                st = KX_OK;
        }
        if (st == KX_OK)
            st = tombstone(t, r->key, 1);
        if (st == KX_OK)
            st = log_change(t, r->key);
        if (st == KX_OK && what)
            *what = STORE_DELETED;
        return st;
    }

    canon = record_canonical(r, &clen);
    if (!canon)
        return KX_NOMEM;
    if (existed && oldlen == clen && memcmp(old, canon, clen) == 0)
        return KX_OK;
    if (existed && (st = unpost_old(t, r->key, old, oldlen, tx)) != KX_OK)
        return st;
    st = kv_put(t, t->s->dbi[DBI_RECORDS], r->key, strlen(r->key), canon,
                clen, 0);
    if (st == KX_OK)
        st = profile_put(t->txn, t->s, r);
    if (st != KX_OK)
        return st;
    store_record_tags(r, tx, posting_apply, &pc);
    if (pc.st != KX_OK)
        return pc.st;
    if (!existed && (st = tombstone(t, r->key, 0)) != KX_OK)
        return st;
    if ((st = log_change(t, r->key)) != KX_OK)
        return st;
    if (what)
        *what = existed ? STORE_UPDATED : STORE_ADDED;
    return KX_OK;
}

struct record_each_ctx {
    store_record_fn fn;
    void *ctx;
};

static int record_each_cb(void *vctx, const void *key, size_t klen,
                          const void *val, size_t vlen)
{
    struct record_each_ctx *c = vctx;
    char k[KX_KEY_MAX];

    if (klen >= sizeof k)
        return 0;
    memcpy(k, key, klen);
    k[klen] = '\0';
    return c->fn(c->ctx, k, val, vlen);
}

enum kx_status store_record_each(store_txn *t, const char *prefix,
                                 store_record_fn fn, void *ctx)
{
    struct record_each_ctx c = {fn, ctx};

    return prefix_each(t, t->s->dbi[DBI_RECORDS], prefix, strlen(prefix),
                       record_each_cb, &c);
}
