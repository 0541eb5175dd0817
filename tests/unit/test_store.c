/* test_store.c - the LMDB store: records, postings, change log, tables. */
#define _GNU_SOURCE /* memmem */
#include "check.h"
#include "store.h"

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static taxo *tx;

static struct kx_record *parse(const char *json)
{
    struct kx_record *r = NULL;
    struct kx_error e;

    if (record_parse(json, strlen(json), tx, &r, &e) != KX_OK)
        fprintf(stderr, "parse failed: %s: %s\n", e.field, e.msg);
    return r;
}

static int collect(void *ctx, const char *key)
{
    char *buf = ctx;

    strcat(buf, key);
    strcat(buf, ";");
    return 0;
}

static void test_missing_dir(void)
{
    store *s = NULL;
    struct kx_error e;
    char path[128];

    snprintf(path, sizeof path, "%s/nope", dir);
    CHECK_INT(store_open(path, 0, &s, &e), KX_NOTFOUND);
    CHECK(s == NULL);
    CHECK(strstr(e.msg, "no kxmatch data directory") != NULL);
}

static void test_put_get_postings(void)
{
    store *s = NULL;
    store_txn *t = NULL;
    struct kx_record *r;
    enum store_change ch;
    const char *json;
    size_t len, n;
    uint64_t seq;
    char keys[512] = "";

    CHECK_INT(store_open(dir, STORE_CREATE, &s, NULL), KX_OK);
    CHECK_INT(store_txn_begin(s, 1, &t), KX_OK);
    r = parse("{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"张伟\","
              "\"industries\":[\"2614\"],\"region\":\"371602001\","
              "\"tags\":[\"Catalyst\"]}");
    CHECK(r != NULL);
    CHECK_INT(store_record_put(t, r, tx, &ch), KX_OK);
    CHECK_INT(ch, STORE_ADDED);
    /* the same content again changes nothing and logs nothing */
    CHECK_INT(store_record_put(t, r, tx, &ch), KX_OK);
    CHECK_INT(ch, STORE_UNCHANGED);
    CHECK_INT(store_seq(t, &seq), KX_OK);
    CHECK_INT(seq, 1);
    record_free(r);
    CHECK_INT(store_txn_commit(t), KX_OK);

    CHECK_INT(store_txn_begin(s, 0, &t), KX_OK);
    CHECK_INT(store_record_get(t, "expert:E1", &json, &len), KX_OK);
    CHECK(len > 0 && memmem(json, len, "张伟", strlen("张伟")) != NULL);
    CHECK_INT(store_record_get(t, "expert:E2", &json, &len), KX_NOTFOUND);
    /* ancestors are posted: 2614 -> 261 -> 26 -> C; township -> city */
    CHECK_INT(store_posting_count(t, "I:26", &n), KX_OK);
    CHECK_INT(n, 1);
    CHECK_INT(store_posting_count(t, "I:C", &n), KX_OK);
    CHECK_INT(n, 1);
    CHECK_INT(store_posting_count(t, "R:371600", &n), KX_OK);
    CHECK_INT(n, 1);
    CHECK_INT(store_posting_count(t, "T:catalyst", &n), KX_OK);
    CHECK_INT(n, 1);
    CHECK_INT(store_posting_count(t, "I:27", &n), KX_OK);
    CHECK_INT(n, 0);
    CHECK_INT(store_posting_each(t, "K:expert", collect, keys), KX_OK);
    CHECK_STR(keys, "expert:E1;");
    store_txn_abort(t);
    store_close(s);
}

static void test_update_moves_postings(void)
{
    store *s = NULL;
    store_txn *t = NULL;
    struct kx_record *r;
    enum store_change ch;
    size_t n;

    CHECK_INT(store_open(dir, 0, &s, NULL), KX_OK);
    CHECK_INT(store_txn_begin(s, 1, &t), KX_OK);
    r = parse("{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"张伟\","
              "\"industries\":[\"3216\"]}");
    CHECK_INT(store_record_put(t, r, tx, &ch), KX_OK);
    CHECK_INT(ch, STORE_UPDATED);
    record_free(r);
    CHECK_INT(store_posting_count(t, "I:26", &n), KX_OK);
    CHECK_INT(n, 0);
    CHECK_INT(store_posting_count(t, "R:371600", &n), KX_OK);
    CHECK_INT(n, 0);
    CHECK_INT(store_posting_count(t, "I:32", &n), KX_OK);
    CHECK_INT(n, 1);
    r = parse("{\"kind\":\"expert\",\"id\":\"E1\",\"deleted\":true}");
    CHECK(r != NULL);
    CHECK_INT(store_record_put(t, r, tx, &ch), KX_OK);
    CHECK_INT(ch, STORE_DELETED);
    CHECK_INT(store_record_put(t, r, tx, &ch), KX_OK);
    CHECK_INT(ch, STORE_UNCHANGED);
    record_free(r);
    CHECK_INT(store_posting_count(t, "I:32", &n), KX_OK);
    CHECK_INT(n, 0);
    CHECK_INT(store_record_count(t, &n), KX_OK);
    CHECK_INT(n, 0);
    CHECK_INT(store_txn_commit(t), KX_OK);
    store_close(s);
}

static int count_change(void *ctx, uint64_t seq, const char *key)
{
    (void)seq;
    (void)key;
    (*(int *)ctx)++;
    return 0;
}

static void test_change_log(void)
{
    store *s = NULL;
    store_txn *t = NULL;
    uint64_t seq;
    int n = 0;

    CHECK_INT(store_open(dir, 0, &s, NULL), KX_OK);
    CHECK_INT(store_txn_begin(s, 1, &t), KX_OK);
    CHECK_INT(store_seq(t, &seq), KX_OK);
    CHECK_INT(seq, 3); /* add, update, delete */
    CHECK_INT(store_changes_each(t, 0, count_change, &n), KX_OK);
    CHECK_INT(n, 3);
    n = 0;
    CHECK_INT(store_changes_each(t, 2, count_change, &n), KX_OK);
    CHECK_INT(n, 1);
    CHECK_INT(store_changes_trim(t, 2), KX_OK);
    n = 0;
    CHECK_INT(store_changes_each(t, 0, count_change, &n), KX_OK);
    CHECK_INT(n, 1);
    CHECK_INT(store_txn_commit(t), KX_OK);
    store_close(s);
}

static void test_kv_tables(void)
{
    store *s = NULL;
    store_txn *t = NULL;
    const void *v;
    size_t vlen, n;

    CHECK_INT(store_open(dir, 0, &s, NULL), KX_OK);
    CHECK_INT(store_txn_begin(s, 1, &t), KX_OK);
    CHECK_INT(store_kv_put(t, STORE_AUDIT, "a1", 2, "x", 1), KX_OK);
    CHECK_INT(store_kv_put(t, STORE_AUDIT, "a2", 2, "yy", 2), KX_OK);
    CHECK_INT(store_kv_get(t, STORE_AUDIT, "a2", 2, &v, &vlen), KX_OK);
    CHECK_INT(vlen, 2);
    CHECK(memcmp(v, "yy", 2) == 0);
    CHECK_INT(store_kv_count(t, STORE_AUDIT, &n), KX_OK);
    CHECK_INT(n, 2);
    CHECK_INT(store_kv_del(t, STORE_AUDIT, "a1", 2), KX_OK);
    CHECK_INT(store_kv_del(t, STORE_AUDIT, "a1", 2), KX_NOTFOUND);
    CHECK_INT(store_kv_get(t, STORE_TOKENS, "a2", 2, &v, &vlen),
              KX_NOTFOUND);
    store_txn_abort(t);
    store_close(s);
}

static int join_key(void *ctx, const void *key, size_t klen, const void *val,
                    size_t vlen)
{
    (void)val, (void)vlen;
    strncat(ctx, key, klen);
    strcat(ctx, ";");
    return strlen(ctx) >= 9; /* stops after three keys */
}

/* The first three keys before `before`, newest first, into buf. */
static const char *tail_of(store_txn *t, const char *before, char *buf)
{
    buf[0] = '\0';
    CHECK_INT(store_kv_each_before(t, STORE_OUTBOX, before,
                                   before ? strlen(before) : 0, join_key,
                                   buf),
              KX_OK);
    return buf;
}

/* Newest-key-first reading of a table's tail, from any point. */
static void test_kv_each_before(void)
{
    store *s = NULL;
    store_txn *t = NULL;
    char got[64];

    CHECK_INT(store_open(dir, 0, &s, NULL), KX_OK);
    CHECK_INT(store_txn_begin(s, 1, &t), KX_OK);
    for (char c = 'a'; c <= 'e'; c++) {
        char k[3] = {'k', c, 0};
        CHECK_INT(store_kv_put(t, STORE_OUTBOX, k, 2, "v", 1), KX_OK);
    }
    CHECK_STR(tail_of(t, NULL, got), "ke;kd;kc;");
    CHECK_STR(tail_of(t, "kc", got), "kb;ka;");
    CHECK_STR(tail_of(t, "kcc", got), "kc;kb;ka;"); /* between keys */
    CHECK_STR(tail_of(t, "z", got), "ke;kd;kc;");   /* past the last */
    CHECK_STR(tail_of(t, "ka", got), "");           /* before the first */
    store_txn_abort(t);
    store_close(s);
}

/* A directory written by another format version is refused, not read. */

/* The store's LMDB environment opened directly, as another program
 * would, with a write transaction. */
static MDB_env *raw_begin(MDB_txn **txn)
{
    char path[128];
    MDB_env *env = NULL;

    snprintf(path, sizeof path, "%s/lmdb", dir);
    CHECK_INT(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 16);
    CHECK_INT(mdb_env_open(env, path, 0, 0644), 0);
    CHECK_INT(mdb_txn_begin(env, NULL, 0, txn), 0);
    return env;
}

static void raw_commit(MDB_env *env, MDB_txn *txn)
{
    CHECK_INT(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static void put_json(store_txn *t, const char *json)
{
    struct kx_record *r = parse(json);

    CHECK(r != NULL);
    if (r)
        CHECK_INT(store_record_put(t, r, tx, NULL), KX_OK);
    record_free(r);
}

/* key's stored profile, decoded (NULL if absent or bad). */
static struct kx_record *profile_of(store_txn *t, const char *key)
{
    struct kx_record *p = NULL;
    const void *prof;
    size_t len;

    CHECK_INT(store_profile_get(t, key, &prof, &len), KX_OK);
    CHECK_INT(record_from_profile(prof, len, &p), KX_OK);
    return p;
}

/* Profiles follow their records: written, updated, deleted with them. A
 * store written before profiles existed (no table, no marker) is read by
 * parsing records, and gets its profiles the first time it is opened for
 * writing. */
static void test_profiles(void)
{
    store *s = NULL;
    store_txn *t = NULL;
    struct kx_record *p = NULL;
    const void *prof;
    size_t len;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {8, "profiles"};

    CHECK_INT(store_open(dir, 0, &s, NULL), KX_OK);
    CHECK_INT(store_txn_begin(s, 1, &t), KX_OK);
    put_json(t, "{\"kind\":\"expert\",\"id\":\"P1\",\"name\":\"李娜\","
                "\"industries\":[\"2614\"],\"org\":\"滨化集团\"}");
    p = profile_of(t, "expert:P1");
    CHECK(p && strcmp(p->org, "滨化集团") == 0 && p->industries.n == 1);
    record_free(p);
    put_json(t, "{\"kind\":\"expert\",\"id\":\"P1\",\"name\":\"李娜\","
                "\"org\":\"滨州学院\"}");
    p = profile_of(t, "expert:P1");
    CHECK(p && strcmp(p->org, "滨州学院") == 0 && p->industries.n == 0);
    record_free(p);
    put_json(t, "{\"kind\":\"expert\",\"id\":\"P2\",\"name\":\"王强\"}");
    put_json(t, "{\"kind\":\"expert\",\"id\":\"P2\",\"deleted\":true}");
    CHECK_INT(store_profile_get(t, "expert:P2", &prof, &len), KX_NOTFOUND);
    CHECK_INT(store_txn_commit(t), KX_OK);
    store_close(s);

    /* Make it an older store: no profiles table, no marker. */
    env = raw_begin(&txn);
    CHECK_INT(mdb_dbi_open(txn, "profiles", 0, &dbi), 0);
    CHECK_INT(mdb_drop(txn, dbi, 1), 0);
    CHECK_INT(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    CHECK_INT(mdb_del(txn, dbi, &k, NULL), 0);
    raw_commit(env, txn);

    CHECK_INT(store_open(dir, STORE_RDONLY, &s, NULL), KX_OK);
    CHECK_INT(store_txn_begin(s, 0, &t), KX_OK);
    CHECK_INT(store_profile_get(t, "expert:P1", &prof, &len), KX_NOTFOUND);
    store_txn_abort(t);
    store_close(s);

    CHECK_INT(store_open(dir, 0, &s, NULL), KX_OK);
    CHECK_INT(store_txn_begin(s, 0, &t), KX_OK);
    p = profile_of(t, "expert:P1");
    CHECK(p && strcmp(p->org, "滨州学院") == 0);
    record_free(p);
    store_txn_abort(t);
    store_close(s);
}

static void test_format_mismatch(void)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {6, "format"}, v = {2, "99"};
    store *s = NULL;
    struct kx_error e;

    env = raw_begin(&txn);
    CHECK_INT(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    CHECK_INT(mdb_put(txn, dbi, &k, &v, 0), 0);
    raw_commit(env, txn);
    CHECK_INT(store_open(dir, 0, &s, &e), KX_CORRUPT);
    CHECK(strstr(e.msg, "format 99") != NULL);
}

int main(void)
{
    char cmd[128];

    snprintf(dir, sizeof dir, "/tmp/kx_test_store_XXXXXX");
    if (!mkdtemp(dir) || taxo_load(KX_TAXONOMY_DIR, &tx, NULL) != KX_OK) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    RUN(test_missing_dir);
    RUN(test_put_get_postings);
    RUN(test_update_moves_postings);
    RUN(test_change_log);
    RUN(test_kv_tables);
    RUN(test_kv_each_before);
    RUN(test_profiles);
    RUN(test_format_mismatch);
    taxo_free(tx);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup of %s failed\n", dir);
    return check_report();
}
