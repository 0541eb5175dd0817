/* test_xap.c - unit tests of the C API over Xapian (indexer/xap.cc). */
#include "check.h"
#include "xap.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp_root[] = "/tmp/test_xap.XXXXXX";
static char corpus_path[512];

/* Removes dir and what it holds (Xapian databases are one flat dir). */
static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[1024];
    struct stat st;

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            rm_tree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void sub_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmp_root, name);
}

struct fixture_doc {
    const char *id;      /* id term */
    const char *data;    /* record key */
    const char *text;    /* space separated words, given positions 1.. */
    const char *bools;   /* space separated boolean terms */
    const char *kind;    /* value slots */
    const char *region;
    const char *industry;
};

/* Indexes text word by word through xap_doc_add_term (one call per token,
 * as the indexer does), then the boolean terms and values. */
static enum kx_status doc_build(const struct fixture_doc *f, xap_doc **out)
{
    char buf[256], *tok, *save;
    unsigned pos = 0;
    xap_doc *doc = NULL;
    enum kx_status st;

    *out = NULL;
    st = xap_doc_new(&doc);
    if (st != KX_OK)
        return st;
    snprintf(buf, sizeof buf, "%s", f->text);
    for (tok = strtok_r(buf, " ", &save); tok && st == KX_OK;
         tok = strtok_r(NULL, " ", &save))
        st = xap_doc_add_term(doc, tok, strlen(tok), ++pos, 1);
    snprintf(buf, sizeof buf, "%s", f->bools);
    for (tok = strtok_r(buf, " ", &save); tok && st == KX_OK;
         tok = strtok_r(NULL, " ", &save))
        st = xap_doc_add_boolean(doc, tok);
    if (st == KX_OK)
        st = xap_doc_add_boolean(doc, f->id);
    if (st == KX_OK)
        st = xap_doc_set_value(doc, XAP_SLOT_KIND, f->kind, strlen(f->kind));
    if (st == KX_OK)
        st = xap_doc_set_value(doc, XAP_SLOT_REGION, f->region,
                               strlen(f->region));
    if (st == KX_OK)
        st = xap_doc_set_value(doc, XAP_SLOT_INDUSTRY, f->industry,
                               strlen(f->industry));
    if (st == KX_OK)
        st = xap_doc_set_value_num(doc, XAP_SLOT_UPDATED, 1700000000.0);
    if (st == KX_OK)
        st = xap_doc_set_data(doc, f->data, strlen(f->data));
    if (st != KX_OK) {
        xap_doc_free(doc);
        return st;
    }
    *out = doc;
    return KX_OK;
}

static const struct fixture_doc corpus[] = {
    {"Qexpert:E1", "expert:E1", "lithium battery recycling battery battery",
     "XKexpert XRcn XRcn-bj XIenergy", "expert", "cn\ncn-bj", "energy"},
    {"Qexpert:E2", "expert:E2", "solar battery solar",
     "XKexpert XRcn XRcn-sh XIenergy", "expert", "cn\ncn-sh", "energy"},
    {"Qexpert:E3", "expert:E3", "recycling solar panel",
     "XKexpert XRde XImanufacturing", "expert", "de", "manufacturing"},
    {"Qneed:N1", "need:N1", "battery recycling lithium",
     "XKneed XRcn XIenergy XSopen", "need", "cn", "energy"},
    {"Qexpert:E4", "expert:E4", "water treatment",
     "XKexpert XRde XIwater", "expert", "de", "water"},
};
#define NCORPUS (sizeof corpus / sizeof corpus[0])

/* Builds the shared read-only corpus once; returns 0 on success. */
static int corpus_build(void)
{
    xap_db *w = NULL;
    xap_doc *doc;
    size_t i;
    int rc = -1;

    sub_path(corpus_path, sizeof corpus_path, "corpus");
    if (xap_open(corpus_path, XAP_OPEN_WRITE, &w) != KX_OK)
        return -1;
    for (i = 0; i < NCORPUS; i++) {
        if (doc_build(&corpus[i], &doc) != KX_OK)
            goto out;
        if (xap_replace(w, corpus[i].id, doc) != KX_OK) {
            xap_doc_free(doc);
            goto out;
        }
        xap_doc_free(doc);
    }
    if (xap_commit(w) == KX_OK)
        rc = 0;
out:
    xap_close(w);
    return rc;
}

static xap_db *corpus_open(void)
{
    xap_db *r = NULL;

    if (xap_open(corpus_path, XAP_OPEN_READ, &r) != KX_OK)
        return NULL;
    return r;
}

/* Runs q on the corpus; returns the hits' data joined with ',' into buf. */
static enum kx_status run_keys(xap_db *r, const xap_query *q, char *buf,
                               size_t n, xap_mset **keep)
{
    xap_mset *m = NULL;
    enum kx_status st;
    size_t i, off = 0;

    buf[0] = '\0';
    if (keep)
        *keep = NULL;
    st = xap_query_run(r, q, 0, 20, 100, &m);
    if (st != KX_OK)
        return st;
    for (i = 0; i < xap_mset_size(m); i++) {
        int w = snprintf(buf + off, n - off, "%s%s", i ? "," : "",
                         xap_mset_data(m, i));
        if (w > 0 && (size_t)w < n - off)
            off += (size_t)w;
    }
    if (keep)
        *keep = m;
    else
        xap_mset_free(m);
    return KX_OK;
}

/* ---- database lifecycle ------------------------------------------------- */

static void test_open_create_close(void)
{
    char path[512];
    xap_db *w = NULL, *r = NULL;
    unsigned long n = 99;
    struct stat st;

    sub_path(path, sizeof path, "create");
    CHECK_INT(xap_open(path, XAP_OPEN_WRITE, &w), KX_OK);
    CHECK(w != NULL);
    CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK_INT(xap_doccount(w, &n), KX_OK);
    CHECK_INT(n, 0);
    CHECK_STR(xap_errmsg(w), "");
    xap_close(w);
    xap_close(NULL);

    /* The created (empty) database can be opened for reading. */
    CHECK_INT(xap_open(path, XAP_OPEN_READ, &r), KX_OK);
    CHECK(r != NULL);
    n = 99;
    CHECK_INT(xap_doccount(r, &n), KX_OK);
    CHECK_INT(n, 0);
    xap_close(r);

    CHECK_INT(xap_open(NULL, XAP_OPEN_READ, &r), KX_BADINPUT);
    CHECK(r == NULL);
    CHECK_INT(xap_open(path, 7, &r), KX_BADINPUT);
}

static void test_open_missing(void)
{
    char path[512];
    xap_db *r = (xap_db *)&r; /* must be reset to NULL */

    sub_path(path, sizeof path, "no/such/db");
    CHECK_INT(xap_open(path, XAP_OPEN_READ, &r), KX_NOTFOUND);
    CHECK(r == NULL);
    CHECK(xap_errmsg(NULL)[0] != '\0');

    /* An existing directory without a database in it is not found either. */
    sub_path(path, sizeof path, "emptydir");
    CHECK(mkdir(path, 0700) == 0);
    r = (xap_db *)&r;
    CHECK_INT(xap_open(path, XAP_OPEN_READ, &r), KX_NOTFOUND);
    CHECK(r == NULL);
}

static void test_locked(void)
{
    char path[512];
    xap_db *w1 = NULL, *w2 = (xap_db *)&w2;

    sub_path(path, sizeof path, "locked");
    CHECK_INT(xap_open(path, XAP_OPEN_WRITE, &w1), KX_OK);
    CHECK_INT(xap_open(path, XAP_OPEN_WRITE, &w2), KX_LOCKED);
    CHECK(w2 == NULL);
    CHECK(strstr(xap_errmsg(NULL), "DatabaseLockError: ") ==
          xap_errmsg(NULL));
    xap_close(w1);

    /* Closing released the lock. */
    CHECK_INT(xap_open(path, XAP_OPEN_WRITE, &w2), KX_OK);
    xap_close(w2);
}

static enum kx_status put_doc(xap_db *w, const char *id, const char *data,
                              const char *word)
{
    struct fixture_doc f = {id, data, word, "XKexpert", "expert", "cn",
                            "energy"};
    xap_doc *doc;
    enum kx_status st = doc_build(&f, &doc);

    if (st != KX_OK)
        return st;
    st = xap_replace(w, id, doc);
    xap_doc_free(doc);
    return st;
}

static void test_replace_keeps_one(void)
{
    char path[512], *data = NULL;
    xap_db *w = NULL;
    unsigned long n = 0;
    size_t len = 0;

    sub_path(path, sizeof path, "replace");
    CHECK_INT(xap_open(path, XAP_OPEN_WRITE, &w), KX_OK);
    CHECK_INT(put_doc(w, "Qexpert:R1", "first", "alpha"), KX_OK);
    CHECK_INT(put_doc(w, "Qexpert:R1", "second", "beta"), KX_OK);
    CHECK_INT(xap_commit(w), KX_OK);
    CHECK_INT(put_doc(w, "Qexpert:R1", "third", "gamma"), KX_OK);
    CHECK_INT(xap_commit(w), KX_OK);
    CHECK_INT(xap_doccount(w, &n), KX_OK);
    CHECK_INT(n, 1);
    CHECK_INT(xap_termfreq(w, "Qexpert:R1", &n), KX_OK);
    CHECK_INT(n, 1);
    CHECK_INT(xap_termfreq(w, "alpha", &n), KX_OK);
    CHECK_INT(n, 0);
    CHECK_INT(xap_termfreq(w, "gamma", &n), KX_OK);
    CHECK_INT(n, 1);
    CHECK_INT(xap_doc_data(w, "Qexpert:R1", &data, &len), KX_OK);
    CHECK_STR(data, "third");
    CHECK_INT(len, 5);
    free(data);
    xap_close(w);
}

/* A document built without its id term still gets it, so that a second
 * replace finds it; the caller's document is left as it was. */
static void test_replace_adds_idterm(void)
{
    static const char *const phrase[] = {"green", "steel"};
    char path[512];
    xap_db *w = NULL;
    xap_doc *doc = NULL;
    xap_query *q = NULL;
    xap_mset *m = NULL;
    unsigned long n = 0;
    unsigned wdf = 99;

    sub_path(path, sizeof path, "noid");
    CHECK_INT(xap_open(path, XAP_OPEN_WRITE, &w), KX_OK);
    CHECK_INT(xap_doc_new(&doc), KX_OK);
    CHECK_INT(xap_doc_add_term(doc, "word", 4, 1, 1), KX_OK);
    CHECK_INT(xap_replace(w, "Qa", doc), KX_OK);
    CHECK_INT(xap_replace(w, "Qa", doc), KX_OK);
    /* Reusing the document under another id must not drag "Qa" along. */
    CHECK_INT(xap_replace(w, "Qb", doc), KX_OK);
    CHECK_INT(xap_doccount(w, &n), KX_OK);
    CHECK_INT(n, 2);
    CHECK_INT(xap_termfreq(w, "Qa", &n), KX_OK);
    CHECK_INT(n, 1);
    CHECK_INT(xap_termfreq(w, "Qb", &n), KX_OK);
    CHECK_INT(n, 1);
    CHECK_INT(xap_replace(w, "", doc), KX_BADINPUT);
    CHECK(xap_errmsg(w)[0] != '\0');
    xap_doc_free(doc);
    doc = NULL;

    /* The copy made to add the id term keeps positions, wdf and data. */
    CHECK_INT(xap_doc_new(&doc), KX_OK);
    CHECK_INT(xap_doc_add_term(doc, "green", 5, 1, 1), KX_OK);
    CHECK_INT(xap_doc_add_term(doc, "steel", 5, 2, 2), KX_OK);
    CHECK_INT(xap_doc_add_boolean(doc, "XKexpert"), KX_OK);
    CHECK_INT(xap_doc_set_data(doc, "expert:P1", 9), KX_OK);
    CHECK_INT(xap_replace(w, "Qexpert:P1", doc), KX_OK);
    xap_doc_free(doc);
    doc = NULL;
    /* A document with no terms at all. */
    CHECK_INT(xap_doc_new(&doc), KX_OK);
    CHECK_INT(xap_replace(w, "Qempty", doc), KX_OK);
    CHECK_INT(xap_replace(w, "Qempty", doc), KX_OK);
    xap_doc_free(doc);
    CHECK_INT(xap_termfreq(w, "Qempty", &n), KX_OK);
    CHECK_INT(n, 1);
    CHECK_INT(xap_commit(w), KX_OK);
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_phrase(q, phrase, 2, 1.0), KX_OK);
    CHECK_INT(xap_query_run(w, q, 0, 10, 0, &m), KX_OK);
    CHECK_INT(xap_mset_size(m), 1);
    CHECK_STR(xap_mset_data(m, 0), "expert:P1");
    CHECK_INT(xap_mset_term_wdf(m, 0, "steel", &wdf), KX_OK);
    CHECK_INT(wdf, 2);
    CHECK_INT(xap_mset_term_wdf(m, 0, "Qexpert:P1", &wdf), KX_OK);
    CHECK_INT(wdf, 0);
    xap_mset_free(m);
    xap_query_free(q);
    xap_close(w);
}

static void test_delete_idempotent(void)
{
    char path[512], *data = (char *)"x";
    xap_db *w = NULL;
    unsigned long n = 9;

    sub_path(path, sizeof path, "delete");
    CHECK_INT(xap_open(path, XAP_OPEN_WRITE, &w), KX_OK);
    CHECK_INT(put_doc(w, "Qexpert:D1", "d1", "alpha"), KX_OK);
    CHECK_INT(put_doc(w, "Qexpert:D2", "d2", "beta"), KX_OK);
    CHECK_INT(xap_commit(w), KX_OK);
    CHECK_INT(xap_delete(w, "Qexpert:D1"), KX_OK);
    CHECK_INT(xap_delete(w, "Qexpert:D1"), KX_OK);
    CHECK_INT(xap_delete(w, "Qexpert:never"), KX_OK);
    CHECK_INT(xap_commit(w), KX_OK);
    CHECK_INT(xap_delete(w, "Qexpert:D1"), KX_OK);
    CHECK_INT(xap_commit(w), KX_OK);
    CHECK_INT(xap_doccount(w, &n), KX_OK);
    CHECK_INT(n, 1);
    CHECK_INT(xap_doc_data(w, "Qexpert:D1", &data, NULL), KX_NOTFOUND);
    CHECK(data == NULL);
    /* The empty term names every document: refused, nothing deleted. */
    CHECK_INT(xap_delete(w, ""), KX_BADINPUT);
    CHECK_INT(xap_doccount(w, &n), KX_OK);
    CHECK_INT(n, 1);
    xap_close(w);
}

static void test_commit_meta_atomic(void)
{
    char path[512], *v = NULL;
    xap_db *w = NULL, *r = NULL;
    unsigned long n = 9;

    sub_path(path, sizeof path, "commit");
    CHECK_INT(xap_open(path, XAP_OPEN_WRITE, &w), KX_OK);
    CHECK_INT(xap_commit(w), KX_OK); /* nothing to commit: fine */
    CHECK_INT(xap_open(path, XAP_OPEN_READ, &r), KX_OK);

    CHECK_INT(put_doc(w, "Qexpert:C1", "c1", "alpha"), KX_OK);
    CHECK_INT(xap_meta_set(w, "ingest.seq", "42"), KX_OK);
    /* The writer sees its own pending changes... */
    CHECK_INT(xap_doccount(w, &n), KX_OK);
    CHECK_INT(n, 1);
    /* ...the reader sees none of them, even after a reopen. */
    CHECK_INT(xap_reopen(r), KX_OK);
    CHECK_INT(xap_doccount(r, &n), KX_OK);
    CHECK_INT(n, 0);
    CHECK_INT(xap_meta_get(r, "ingest.seq", &v), KX_OK);
    CHECK_STR(v, "");
    free(v);
    v = NULL;

    CHECK_INT(xap_commit(w), KX_OK);
    /* Until reopened the reader stays on its revision. */
    CHECK_INT(xap_doccount(r, &n), KX_OK);
    CHECK_INT(n, 0);
    CHECK_INT(xap_reopen(r), KX_OK);
    CHECK_INT(xap_doccount(r, &n), KX_OK);
    CHECK_INT(n, 1);
    CHECK_INT(xap_meta_get(r, "ingest.seq", &v), KX_OK);
    CHECK_STR(v, "42");
    free(v);
    v = NULL;
    CHECK_INT(xap_meta_get(r, "never.set", &v), KX_OK);
    CHECK_STR(v, "");
    free(v);
    v = NULL;

    /* Closing a writer commits nothing. */
    CHECK_INT(put_doc(w, "Qexpert:C2", "c2", "beta"), KX_OK);
    CHECK_INT(xap_meta_set(w, "ingest.seq", "43"), KX_OK);
    xap_close(w);
    CHECK_INT(xap_reopen(r), KX_OK);
    CHECK_INT(xap_doccount(r, &n), KX_OK);
    CHECK_INT(n, 1);
    CHECK_INT(xap_meta_get(r, "ingest.seq", &v), KX_OK);
    CHECK_STR(v, "42");
    free(v);
    v = NULL;

    /* Writing through a reader is refused with a message. */
    CHECK_INT(xap_meta_set(r, "k", "v"), KX_BADINPUT);
    CHECK(xap_errmsg(r)[0] != '\0');
    CHECK_INT(xap_commit(r), KX_BADINPUT);
    CHECK_INT(xap_delete(r, "Qexpert:C1"), KX_BADINPUT);
    xap_close(r);
}

static void test_errmsg_on_handle(void)
{
    char path[512], key[300];
    xap_db *w = NULL;
    unsigned long n;
    enum kx_status st;

    sub_path(path, sizeof path, "errmsg");
    CHECK_INT(xap_open(path, XAP_OPEN_WRITE, &w), KX_OK);
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    /* Xapian refuses a metadata key that long, when set or at commit. */
    st = xap_meta_set(w, key, "v");
    if (st == KX_OK)
        st = xap_commit(w);
    CHECK_INT(st, KX_XAPIAN);
    CHECK(strncmp(xap_errmsg(w), "InvalidArgumentError: ", 22) == 0);
    /* The message lasts until the next call on the handle. */
    CHECK_INT(xap_doccount(w, &n), KX_OK);
    CHECK_STR(xap_errmsg(w), "");
    /* The handle still works after the failure. */
    CHECK_INT(put_doc(w, "Qexpert:M1", "m1", "alpha"), KX_OK);
    CHECK_INT(xap_commit(w), KX_OK);
    CHECK_INT(xap_doccount(w, &n), KX_OK);
    CHECK_INT(n, 1);
    xap_close(w);
}

static void test_long_term_skipped(void)
{
    char path[512], t245[246], t246[247], t300[301];
    xap_db *w = NULL;
    xap_doc *doc = NULL;
    unsigned long n = 9;

    memset(t245, 'a', 245);
    t245[245] = '\0';
    memset(t246, 'b', 246);
    t246[246] = '\0';
    memset(t300, 'c', 300);
    t300[300] = '\0';
    sub_path(path, sizeof path, "longterm");
    CHECK_INT(xap_open(path, XAP_OPEN_WRITE, &w), KX_OK);
    CHECK_INT(xap_doc_new(&doc), KX_OK);
    CHECK_INT(xap_doc_add_term(doc, "short", 5, 1, 1), KX_OK);
    CHECK_INT(xap_doc_add_term(doc, t245, 245, 2, 1), KX_OK);
    CHECK_INT(xap_doc_add_term(doc, t246, 246, 3, 1), KX_OK);
    CHECK_INT(xap_doc_add_term(doc, t300, 300, 0, 1), KX_OK);
    CHECK_INT(xap_doc_add_boolean(doc, t300), KX_OK);
    CHECK_INT(xap_doc_add_boolean(doc, "Qlong:1"), KX_OK);
    CHECK_INT(xap_replace(w, "Qlong:1", doc), KX_OK);
    CHECK_INT(xap_commit(w), KX_OK);
    CHECK_INT(xap_doccount(w, &n), KX_OK);
    CHECK_INT(n, 1);
    CHECK_INT(xap_termfreq(w, t245, &n), KX_OK);
    CHECK_INT(n, 1);
    CHECK_INT(xap_termfreq(w, t246, &n), KX_OK);
    CHECK_INT(n, 0);
    CHECK_INT(xap_termfreq(w, t300, &n), KX_OK);
    CHECK_INT(n, 0);
    CHECK_INT(xap_termfreq(w, "short", &n), KX_OK);
    CHECK_INT(n, 1);
    /* Bad arguments are refused, not skipped. */
    CHECK_INT(xap_doc_add_term(doc, "", 0, 1, 1), KX_BADINPUT);
    CHECK_INT(xap_doc_add_term(NULL, "x", 1, 1, 1), KX_BADINPUT);
    xap_doc_free(doc);
    xap_doc_free(NULL);
    xap_close(w);
}

/* ---- statistics and documents ------------------------------------------- */

static void test_counts_and_data(void)
{
    xap_db *r = corpus_open();
    unsigned long n = 0;
    char *data = NULL;
    size_t len = 0;

    CHECK(r != NULL);
    if (!r)
        return;
    CHECK_INT(xap_doccount(r, &n), KX_OK);
    CHECK_INT(n, NCORPUS);
    CHECK_INT(xap_termfreq(r, "battery", &n), KX_OK);
    CHECK_INT(n, 3);
    CHECK_INT(xap_termfreq(r, "XRcn", &n), KX_OK);
    CHECK_INT(n, 3);
    CHECK_INT(xap_termfreq(r, "nosuchterm", &n), KX_OK);
    CHECK_INT(n, 0);
    CHECK_INT(xap_termfreq(r, "", &n), KX_BADINPUT);
    CHECK_INT(xap_doc_data(r, "Qneed:N1", &data, &len), KX_OK);
    CHECK_STR(data, "need:N1");
    CHECK_INT(len, strlen("need:N1"));
    free(data);
    data = (char *)"x";
    CHECK_INT(xap_doc_data(r, "Qneed:N9", &data, &len), KX_NOTFOUND);
    CHECK(data == NULL);
    CHECK_INT(len, 0);
    xap_close(r);
}

/* ---- queries ------------------------------------------------------------ */

static void test_weighted_or(void)
{
    xap_db *r = corpus_open();
    xap_query *q = NULL;
    xap_mset *m = NULL;
    char keys[256];
    size_t i;

    CHECK(r != NULL);
    if (!r)
        return;
    /* E2 holds both terms, the others one each: E2 first. It is an OR,
     * not an AND: the one-term documents match too. */
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_term(q, "solar", 1.0), KX_OK);
    CHECK_INT(xap_query_add_term(q, "battery", 1.0), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, &m), KX_OK);
    CHECK_INT(xap_mset_size(m), 4);
    CHECK(strncmp(keys, "expert:E2,", 10) == 0);
    CHECK_INT(xap_mset_estimated(m), 4);
    CHECK(xap_mset_max_possible(m) > 0.0);
    for (i = 0; i < xap_mset_size(m); i++) {
        CHECK(xap_mset_weight(m, i) > 0.0);
        CHECK(xap_mset_weight(m, i) <= xap_mset_max_possible(m));
        if (i)
            CHECK(xap_mset_weight(m, i) <= xap_mset_weight(m, i - 1));
    }
    xap_mset_free(m);
    xap_query_free(q);

    /* E1 and N1 hold both terms; E2 only the lighter one: last. */
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_term(q, "battery", 1.0), KX_OK);
    CHECK_INT(xap_query_add_term(q, "lithium", 2.0), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, &m), KX_OK);
    CHECK_INT(xap_mset_size(m), 3);
    CHECK_STR(xap_mset_data(m, 2), "expert:E2");
    for (i = 0; i < xap_mset_size(m); i++)
        CHECK(xap_mset_weight(m, i) <= xap_mset_max_possible(m));
    CHECK(xap_mset_data(m, 99) == NULL);
    CHECK(xap_mset_weight(m, 99) == 0.0);
    xap_mset_free(m);
    xap_mset_free(NULL);
    xap_query_free(q);

    /* Zero, negative and NaN weights are refused. */
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_term(q, "battery", 0.0), KX_BADINPUT);
    CHECK_INT(xap_query_add_term(q, "battery", -1.0), KX_BADINPUT);
    CHECK_INT(xap_query_add_term(q, "battery", NAN), KX_BADINPUT);
    CHECK_INT(xap_query_add_term(q, "", 1.0), KX_BADINPUT);
    xap_query_free(q);
    xap_query_free(NULL);
    xap_close(r);
}

/* E3 ("panel") and E4 ("water") each match one rare term: the weight alone
 * decides which ranks first. */
static void test_term_weight_decides(void)
{
    xap_db *r = corpus_open();
    xap_query *q = NULL;
    xap_mset *m = NULL;
    char keys[256];
    double w_single = 0.0;

    CHECK(r != NULL);
    if (!r)
        return;
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_term(q, "panel", 1.0), KX_OK);
    CHECK_INT(xap_query_add_term(q, "water", 10.0), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, NULL), KX_OK);
    CHECK_STR(keys, "expert:E4,expert:E3");
    xap_query_free(q);

    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_term(q, "panel", 10.0), KX_OK);
    CHECK_INT(xap_query_add_term(q, "water", 1.0), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, &m), KX_OK);
    CHECK_STR(keys, "expert:E3,expert:E4");
    w_single = xap_mset_weight(m, 0);
    xap_mset_free(m);
    xap_query_free(q);

    /* Adding a term again adds to its weight: 4 + 6 == 10. */
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_term(q, "panel", 4.0), KX_OK);
    CHECK_INT(xap_query_add_term(q, "water", 1.0), KX_OK);
    CHECK_INT(xap_query_add_term(q, "panel", 6.0), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, &m), KX_OK);
    CHECK_STR(keys, "expert:E3,expert:E4");
    CHECK(fabs(xap_mset_weight(m, 0) - w_single) < 1e-9);
    xap_mset_free(m);
    xap_query_free(q);
    xap_close(r);
}

static void test_paging(void)
{
    xap_db *r = corpus_open();
    xap_query *q = NULL;
    xap_mset *all = NULL, *page = NULL;

    CHECK(r != NULL);
    if (!r)
        return;
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_term(q, "recycling", 1.0), KX_OK);
    CHECK_INT(xap_query_run(r, q, 0, 10, 0, &all), KX_OK);
    CHECK_INT(xap_query_run(r, q, 1, 1, 0, &page), KX_OK);
    CHECK_INT(xap_mset_size(all), 3);
    CHECK_INT(xap_mset_size(page), 1);
    CHECK_STR(xap_mset_data(page, 0), xap_mset_data(all, 1));
    xap_mset_free(page);
    CHECK_INT(xap_query_run(r, q, 5, 10, 0, &page), KX_OK);
    CHECK_INT(xap_mset_size(page), 0);
    xap_mset_free(page);
    xap_mset_free(all);
    CHECK_INT(xap_query_run(r, NULL, 0, 10, 0, &page), KX_BADINPUT);
    CHECK(page == NULL);
    xap_query_free(q);
    xap_close(r);
}

static void test_filters(void)
{
    xap_db *r = corpus_open();
    xap_query *q = NULL;
    char keys[256];

    CHECK(r != NULL);
    if (!r)
        return;
    /* "recycling": E1 (cn-bj), E3 (de), N1 (cn). */
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_term(q, "recycling", 1.0), KX_OK);
    CHECK_INT(xap_query_add_filter(q, 1, "XRcn-bj"), KX_OK);
    CHECK_INT(xap_query_add_filter(q, 1, "XRde"), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, NULL), KX_OK);
    CHECK(strlen(keys) == strlen("expert:E1,expert:E3"));
    CHECK(strstr(keys, "expert:E1") && strstr(keys, "expert:E3"));
    /* A second group is AND-ed with the first. */
    CHECK_INT(xap_query_add_filter(q, 2, "XIenergy"), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, NULL), KX_OK);
    CHECK_STR(keys, "expert:E1");
    CHECK_INT(xap_query_add_filter(q, 3, "XRnowhere"), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, NULL), KX_OK);
    CHECK_STR(keys, "");
    CHECK_INT(xap_query_add_filter(q, 3, ""), KX_BADINPUT);
    xap_query_free(q);
    xap_close(r);
}

static void test_filter_only(void)
{
    xap_db *r = corpus_open();
    xap_query *q = NULL;
    xap_mset *m = NULL;
    char keys[256];

    CHECK(r != NULL);
    if (!r)
        return;
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_filter(q, 0, "XKexpert"), KX_OK);
    CHECK_INT(xap_query_add_filter(q, 1, "XRcn"), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, &m), KX_OK);
    CHECK_INT(xap_mset_size(m), 2);
    CHECK(strstr(keys, "expert:E1") && strstr(keys, "expert:E2"));
    CHECK(xap_mset_weight(m, 0) == 0.0);
    CHECK(xap_mset_weight(m, 1) == 0.0);
    CHECK(xap_mset_max_possible(m) == 0.0);
    xap_mset_free(m);
    xap_query_free(q);

    /* No ranking terms and no filters: nothing, not everything. */
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, NULL), KX_OK);
    CHECK_STR(keys, "");
    xap_query_free(q);
    xap_close(r);
}

/* Ordered by a value slot, both ways, with and without ranking terms. */
static void test_sort_by_value(void)
{
    xap_db *r = corpus_open();
    xap_query *q = NULL;
    char keys[256];

    CHECK(r != NULL);
    if (!r)
        return;
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_filter(q, 0, "XKexpert"), KX_OK);
    CHECK_INT(xap_query_add_filter(q, 1, "XRcn"), KX_OK);
    CHECK_INT(xap_query_set_sort(q, XAP_SLOT_REGION, 1), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, NULL), KX_OK);
    CHECK_STR(keys, "expert:E2,expert:E1"); /* "cn\ncn-sh" > "cn\ncn-bj" */
    CHECK_INT(xap_query_set_sort(q, XAP_SLOT_REGION, 0), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, NULL), KX_OK);
    CHECK_STR(keys, "expert:E1,expert:E2");
    /* "solar" ranks E2 above E3 by relevance; by region descending, E3
     * ("de") comes first. */
    xap_query_free(q);
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_term(q, "solar", 1.0), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, NULL), KX_OK);
    CHECK_STR(keys, "expert:E2,expert:E3");
    CHECK_INT(xap_query_set_sort(q, XAP_SLOT_REGION, 1), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, NULL), KX_OK);
    CHECK_STR(keys, "expert:E3,expert:E2");
    CHECK_INT(xap_query_set_sort(q, -1, 0), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, NULL), KX_OK);
    CHECK_STR(keys, "expert:E2,expert:E3");
    CHECK_INT(xap_query_set_sort(q, XAP_SLOT_LAST, 0), KX_BADINPUT);
    CHECK_INT(xap_query_set_sort(NULL, 0, 0), KX_BADINPUT);
    xap_query_free(q);
    xap_close(r);
}

static void test_exclude(void)
{
    xap_db *r = corpus_open();
    xap_query *q = NULL;
    char keys[256];

    CHECK(r != NULL);
    if (!r)
        return;
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_term(q, "recycling", 1.0), KX_OK);
    CHECK_INT(xap_query_add_exclude(q, "XKneed"), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, NULL), KX_OK);
    CHECK(strlen(keys) == strlen("expert:E1,expert:E3"));
    CHECK(strstr(keys, "expert:E1") && strstr(keys, "expert:E3"));
    CHECK_INT(xap_query_add_exclude(q, "XRde"), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, NULL), KX_OK);
    CHECK_STR(keys, "expert:E1");
    xap_query_free(q);
    xap_close(r);
}

/* Terms above the boost limit only add weight to documents the others
 * found: the same weights as the plain OR, fewer documents. */
static void test_boost_above(void)
{
    xap_db *r = corpus_open();
    xap_query *q = NULL;
    xap_mset *plain = NULL, *m = NULL;
    char keys[256];

    CHECK(r != NULL);
    if (!r)
        return;
    /* battery is in 3 documents (E1, E2, N1), lithium in 2 (E1, N1). */
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_term(q, "lithium", 1.0), KX_OK);
    CHECK_INT(xap_query_add_term(q, "battery", 1.0), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, &plain), KX_OK);
    CHECK_INT(xap_mset_size(plain), 3);
    CHECK(strstr(keys, "expert:E2") != NULL);
    CHECK_INT(xap_query_set_boost_above(q, 2), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, &m), KX_OK);
    CHECK_INT(xap_mset_size(m), 2); /* E2 holds battery only: left out */
    CHECK(strstr(keys, "expert:E2") == NULL);
    for (size_t i = 0; i < xap_mset_size(m) && xap_mset_size(plain) == 3;
         i++) {
        CHECK_STR(xap_mset_data(m, i), xap_mset_data(plain, i));
        CHECK_NEAR(xap_mset_weight(m, i), xap_mset_weight(plain, i), 1e-9);
    }
    xap_mset_free(m);
    /* With min_match the limit does not apply. */
    CHECK_INT(xap_query_set_min_match(q, 2), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, NULL), KX_OK);
    CHECK_INT(strlen(keys), strlen("expert:E1,need:N1"));
    xap_query_free(q);

    /* Every term common: they all bring documents in, as without it. */
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_term(q, "battery", 1.0), KX_OK);
    CHECK_INT(xap_query_set_boost_above(q, 1), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, NULL), KX_OK);
    CHECK_INT(strlen(keys), strlen("expert:E1,need:N1,expert:E2"));
    xap_query_free(q);
    CHECK_INT(xap_query_set_boost_above(NULL, 1), KX_BADINPUT);
    xap_mset_free(plain);
    xap_close(r);
}

static void test_min_match(void)
{
    xap_db *r = corpus_open();
    xap_query *q = NULL;
    xap_mset *m = NULL;
    char keys[256];
    const char *const *items;
    const unsigned long *counts;
    size_t n;

    CHECK(r != NULL);
    if (!r)
        return;
    /* E1: battery lithium recycling; N1: the same three; E2: battery
     * solar; E3: recycling solar. */
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_term(q, "battery", 1.0), KX_OK);
    CHECK_INT(xap_query_add_term(q, "lithium", 1.0), KX_OK);
    CHECK_INT(xap_query_add_term(q, "recycling", 1.0), KX_OK);
    CHECK_INT(xap_query_add_term(q, "solar", 1.0), KX_OK);
    CHECK_INT(xap_query_add_facet(q, XAP_SLOT_KIND), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, NULL), KX_OK);
    CHECK(strlen(keys) ==
          strlen("expert:E1,need:N1,expert:E2,expert:E3"));

    CHECK_INT(xap_query_set_min_match(q, 3), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, &m), KX_OK);
    CHECK_INT(xap_mset_size(m), 2);
    CHECK(strstr(keys, "expert:E1") && strstr(keys, "need:N1"));
    CHECK(xap_mset_weight(m, 1) > 0.0);
    /* Facets count only the documents the min_match let through. */
    CHECK_INT(xap_mset_facets(m, XAP_SLOT_KIND, &items, &counts, &n), KX_OK);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(items[0], "expert");
        CHECK_INT(counts[0], 1);
        CHECK_STR(items[1], "need");
        CHECK_INT(counts[1], 1);
    }
    xap_mset_free(m);

    CHECK_INT(xap_query_set_min_match(q, 2), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, NULL), KX_OK);
    CHECK(strlen(keys) ==
          strlen("expert:E1,need:N1,expert:E2,expert:E3"));

    /* All four: no document has them all. */
    CHECK_INT(xap_query_set_min_match(q, 4), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, NULL), KX_OK);
    CHECK_STR(keys, "");
    CHECK_INT(xap_query_set_min_match(q, 5), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, NULL), KX_OK);
    CHECK_STR(keys, "");
    xap_query_free(q);

    /* All of two terms. */
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_term(q, "battery", 1.0), KX_OK);
    CHECK_INT(xap_query_add_term(q, "solar", 1.0), KX_OK);
    CHECK_INT(xap_query_set_min_match(q, 2), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, NULL), KX_OK);
    CHECK_STR(keys, "expert:E2");
    xap_query_free(q);

    /* A filter-only query ignores min_match. */
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_filter(q, 0, "XKneed"), KX_OK);
    CHECK_INT(xap_query_set_min_match(q, 2), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, NULL), KX_OK);
    CHECK_STR(keys, "need:N1");
    xap_query_free(q);
    xap_close(r);
}

static void test_phrase(void)
{
    static const char *const lb[] = {"lithium", "battery"};
    static const char *const bl[] = {"battery", "lithium"};
    static const char *const bad[] = {"battery", ""};
    xap_db *r = corpus_open();
    xap_query *q = NULL;
    xap_mset *m = NULL;
    char keys[256];

    CHECK(r != NULL);
    if (!r)
        return;
    /* E1 has "lithium battery"; N1 has both words, not adjacent. */
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_phrase(q, lb, 2, 1.0), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, &m), KX_OK);
    CHECK_STR(keys, "expert:E1");
    CHECK(xap_mset_weight(m, 0) > 0.0);
    xap_mset_free(m);
    xap_query_free(q);

    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_phrase(q, bl, 2, 1.0), KX_OK);
    CHECK_INT(run_keys(r, q, keys, sizeof keys, NULL), KX_OK);
    CHECK_STR(keys, "");
    CHECK_INT(xap_query_add_phrase(q, bad, 2, 1.0), KX_BADINPUT);
    CHECK_INT(xap_query_add_phrase(q, bl, 0, 1.0), KX_BADINPUT);
    xap_query_free(q);
    xap_close(r);
}

static void test_facets(void)
{
    xap_db *r = corpus_open();
    xap_query *q = NULL;
    xap_mset *m = NULL;
    const char *const *items = NULL;
    const unsigned long *counts = NULL;
    size_t n = 0;

    CHECK(r != NULL);
    if (!r)
        return;
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_filter(q, 0, "XKexpert"), KX_OK);
    CHECK_INT(xap_query_add_facet(q, XAP_SLOT_REGION), KX_OK);
    CHECK_INT(xap_query_add_facet(q, XAP_SLOT_INDUSTRY), KX_OK);
    CHECK_INT(xap_query_add_facet(q, XAP_SLOT_REGION), KX_OK); /* dup */
    /* One hit asked for, all four counted. */
    CHECK_INT(xap_query_run(r, q, 0, 1, 100, &m), KX_OK);
    CHECK_INT(xap_mset_size(m), 1);

    CHECK_INT(xap_mset_facets(m, XAP_SLOT_REGION, &items, &counts, &n),
              KX_OK);
    CHECK_INT(n, 4);
    if (n == 4) {
        /* Count descending, then item ascending. */
        CHECK_STR(items[0], "cn");
        CHECK_INT(counts[0], 2);
        CHECK_STR(items[1], "de");
        CHECK_INT(counts[1], 2);
        CHECK_STR(items[2], "cn-bj");
        CHECK_INT(counts[2], 1);
        CHECK_STR(items[3], "cn-sh");
        CHECK_INT(counts[3], 1);
    }
    CHECK_INT(xap_mset_facets(m, XAP_SLOT_INDUSTRY, &items, &counts, &n),
              KX_OK);
    CHECK_INT(n, 3);
    if (n == 3) {
        CHECK_STR(items[0], "energy");
        CHECK_INT(counts[0], 2);
        CHECK_STR(items[1], "manufacturing");
        CHECK_INT(counts[1], 1);
        CHECK_STR(items[2], "water");
        CHECK_INT(counts[2], 1);
    }
    /* Without a facet limit: every match the run examined, here all. */
    CHECK_INT(xap_mset_facet_docs(m), 4);
    CHECK_INT(xap_mset_facets_exact(m), 1);
    /* A slot not asked for. */
    CHECK_INT(xap_mset_facets(m, XAP_SLOT_KIND, &items, &counts, &n),
              KX_NOTFOUND);
    CHECK(items == NULL && counts == NULL && n == 0);
    xap_mset_free(m);
    xap_query_free(q);
    xap_close(r);
}

/* Count of item in the facets of slot, 0 if absent. */
static unsigned long facet_count(const xap_mset *m, unsigned slot,
                                 const char *item)
{
    const char *const *items = NULL;
    const unsigned long *counts = NULL;
    size_t n = 0;

    if (xap_mset_facets(m, slot, &items, &counts, &n) != KX_OK)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i], item) == 0)
            return counts[i];
    return 0;
}

static void test_facet_limit(void)
{
    xap_db *r = corpus_open();
    xap_query *q = NULL;
    xap_mset *all = NULL, *m = NULL;
    unsigned long experts = 0;

    CHECK(r != NULL);
    if (!r)
        return;
    /* battery/recycling/solar match E1, N1, E2, E3. */
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_term(q, "battery", 1.0), KX_OK);
    CHECK_INT(xap_query_add_term(q, "recycling", 1.0), KX_OK);
    CHECK_INT(xap_query_add_term(q, "solar", 1.0), KX_OK);
    CHECK_INT(xap_query_run(r, q, 0, 10, 0, &all), KX_OK);
    CHECK_INT(xap_mset_size(all), 4);
    /* No facets asked for: nothing counted, nothing left out. */
    CHECK_INT(xap_mset_facet_docs(all), 0);
    CHECK_INT(xap_mset_facets_exact(all), 1);

    /* The best two of four: counted over exactly the first two hits, and
     * said to be short of every match. */
    CHECK_INT(xap_query_add_facet(q, XAP_SLOT_KIND), KX_OK);
    CHECK_INT(xap_query_set_facet_limit(q, 2), KX_OK);
    CHECK_INT(xap_query_run(r, q, 0, 10, 0, &m), KX_OK);
    CHECK_INT(xap_mset_size(m), 4);
    for (size_t i = 0; i < xap_mset_size(m) && i < xap_mset_size(all); i++)
        CHECK_STR(xap_mset_data(m, i), xap_mset_data(all, i));
    for (size_t i = 0; i < 2 && i < xap_mset_size(all); i++)
        experts += strncmp(xap_mset_data(all, i), "expert:", 7) == 0;
    CHECK_INT(xap_mset_facet_docs(m), 2);
    CHECK_INT(xap_mset_facets_exact(m), 0);
    CHECK_INT(facet_count(m, XAP_SLOT_KIND, "expert"), experts);
    CHECK_INT(facet_count(m, XAP_SLOT_KIND, "expert") +
                  facet_count(m, XAP_SLOT_KIND, "need"),
              2);
    xap_mset_free(m);

    /* A page further on is the same slice of the same ranking, and the
     * facets still count the best two. */
    CHECK_INT(xap_query_run(r, q, 1, 2, 0, &m), KX_OK);
    CHECK_INT(xap_mset_size(m), 2);
    if (xap_mset_size(m) == 2 && xap_mset_size(all) == 4) {
        CHECK_STR(xap_mset_data(m, 0), xap_mset_data(all, 1));
        CHECK_STR(xap_mset_data(m, 1), xap_mset_data(all, 2));
    }
    CHECK_INT(xap_mset_facet_docs(m), 2);
    CHECK_INT(facet_count(m, XAP_SLOT_KIND, "expert"), experts);
    xap_mset_free(m);
    CHECK_INT(xap_query_run(r, q, 5, 2, 0, &m), KX_OK);
    CHECK_INT(xap_mset_size(m), 0);
    CHECK_INT(xap_mset_facet_docs(m), 2);
    xap_mset_free(m);

    /* A limit of all four or more: every match, exact. */
    CHECK_INT(xap_query_set_facet_limit(q, 4), KX_OK);
    CHECK_INT(xap_query_run(r, q, 0, 1, 0, &m), KX_OK);
    CHECK_INT(xap_mset_size(m), 1);
    CHECK_INT(xap_mset_facet_docs(m), 4);
    CHECK_INT(xap_mset_facets_exact(m), 1);
    CHECK_INT(facet_count(m, XAP_SLOT_KIND, "expert"), 3);
    CHECK_INT(facet_count(m, XAP_SLOT_KIND, "need"), 1);
    xap_mset_free(m);
    CHECK_INT(xap_query_set_facet_limit(NULL, 1), KX_BADINPUT);
    xap_mset_free(all);
    xap_query_free(q);
    xap_close(r);
}

/* Facets read values through a per-handle cache: it must follow replaced
 * documents on a writer at once and on a reader after xap_reopen. */
static void test_facets_follow_changes(void)
{
    static const struct fixture_doc a = {
        "Qexpert:F1", "expert:F1", "pump", "XKexpert", "expert",
        "cn\ncn-bj\ncn", "energy"}; /* "cn" twice: counted once */
    static const struct fixture_doc b = {
        "Qexpert:F2", "expert:F2", "pump", "XKexpert", "expert", "cn", "water"};
    static const struct fixture_doc a2 = {
        "Qexpert:F1", "expert:F1", "pump", "XKexpert", "expert", "de",
        "energy"};
    static const struct fixture_doc b2 = {
        "Qexpert:F2", "expert:F2", "pump", "XKexpert", "expert", "fr",
        "water"};
    char path[512];
    xap_db *w = NULL, *r = NULL;
    xap_query *q = NULL;
    xap_mset *m = NULL;
    xap_doc *doc = NULL;

    sub_path(path, sizeof path, "facets");
    CHECK_INT(xap_open(path, XAP_OPEN_WRITE, &w), KX_OK);
    CHECK_INT(xap_query_new(&q), KX_OK);
    if (!w || !q)
        goto out;
    CHECK_INT(xap_query_add_term(q, "pump", 1.0), KX_OK);
    CHECK_INT(xap_query_add_facet(q, XAP_SLOT_REGION), KX_OK);
    CHECK_INT(xap_query_set_facet_limit(q, 100), KX_OK);

    CHECK_INT(doc_build(&a, &doc), KX_OK);
    CHECK_INT(xap_replace(w, a.id, doc), KX_OK);
    xap_doc_free(doc);
    CHECK_INT(doc_build(&b, &doc), KX_OK);
    CHECK_INT(xap_replace(w, b.id, doc), KX_OK);
    xap_doc_free(doc);
    CHECK_INT(xap_query_run(w, q, 0, 10, 0, &m), KX_OK);
    CHECK_INT(facet_count(m, XAP_SLOT_REGION, "cn"), 2);
    CHECK_INT(facet_count(m, XAP_SLOT_REGION, "cn-bj"), 1);
    xap_mset_free(m);

    /* Replaced on the writer, not committed yet: the writer sees it. */
    CHECK_INT(doc_build(&a2, &doc), KX_OK);
    CHECK_INT(xap_replace(w, a2.id, doc), KX_OK);
    xap_doc_free(doc);
    CHECK_INT(xap_query_run(w, q, 0, 10, 0, &m), KX_OK);
    CHECK_INT(facet_count(m, XAP_SLOT_REGION, "cn"), 1);
    CHECK_INT(facet_count(m, XAP_SLOT_REGION, "cn-bj"), 0);
    CHECK_INT(facet_count(m, XAP_SLOT_REGION, "de"), 1);
    xap_mset_free(m);
    CHECK_INT(xap_commit(w), KX_OK);

    CHECK_INT(xap_open(path, XAP_OPEN_READ, &r), KX_OK);
    if (!r)
        goto out;
    CHECK_INT(xap_query_run(r, q, 0, 10, 0, &m), KX_OK);
    CHECK_INT(facet_count(m, XAP_SLOT_REGION, "cn"), 1);
    xap_mset_free(m);
    /* A reader sees the next commit once reopened, facets included. */
    CHECK_INT(doc_build(&b2, &doc), KX_OK);
    CHECK_INT(xap_replace(w, b2.id, doc), KX_OK);
    xap_doc_free(doc);
    CHECK_INT(xap_delete(w, "Qexpert:F1"), KX_OK);
    CHECK_INT(xap_commit(w), KX_OK);
    CHECK_INT(xap_reopen(r), KX_OK);
    CHECK_INT(xap_query_run(r, q, 0, 10, 0, &m), KX_OK);
    CHECK_INT(xap_mset_size(m), 1);
    CHECK_INT(facet_count(m, XAP_SLOT_REGION, "cn"), 0);
    CHECK_INT(facet_count(m, XAP_SLOT_REGION, "de"), 0);
    CHECK_INT(facet_count(m, XAP_SLOT_REGION, "fr"), 1);
    CHECK_INT(xap_mset_facet_docs(m), 1);
    xap_mset_free(m);
    m = NULL;
out:
    xap_mset_free(m);
    xap_query_free(q);
    xap_close(r);
    xap_close(w);
}

static void test_matching_terms_wdf_doclen(void)
{
    xap_db *r = corpus_open();
    xap_query *q = NULL;
    xap_mset *m = NULL;
    const char **terms = NULL;
    unsigned *wdfs = NULL;
    size_t n = 0, i, e1 = 99, e2 = 99;
    unsigned wdf = 99, len = 0;

    CHECK(r != NULL);
    if (!r)
        return;
    /* Query order differs from byte order on purpose. */
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_term(q, "solar", 1.0), KX_OK);
    CHECK_INT(xap_query_add_term(q, "battery", 1.0), KX_OK);
    CHECK_INT(xap_query_add_term(q, "lithium", 1.0), KX_OK);
    CHECK_INT(xap_query_add_filter(q, 0, "XKexpert"), KX_OK);
    CHECK_INT(xap_query_run(r, q, 0, 10, 0, &m), KX_OK);
    xap_query_free(q); /* the mset keeps what it needs */
    for (i = 0; i < xap_mset_size(m); i++) {
        if (!strcmp(xap_mset_data(m, i), "expert:E1"))
            e1 = i;
        if (!strcmp(xap_mset_data(m, i), "expert:E2"))
            e2 = i;
    }
    CHECK(e1 != 99 && e2 != 99);
    if (e1 == 99 || e2 == 99)
        goto out;

    CHECK_INT(xap_mset_matching_terms(m, e1, &terms, &wdfs, &n), KX_OK);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(terms[0], "battery");
        CHECK_STR(terms[1], "lithium");
        CHECK_INT(wdfs[0], 3); /* "lithium battery recycling battery battery" */
        CHECK_INT(wdfs[1], 1);
    }
    free(terms);
    free(wdfs);
    CHECK_INT(xap_mset_matching_terms(m, e2, &terms, NULL, &n), KX_OK);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(terms[0], "solar");
        CHECK_STR(terms[1], "battery");
    }
    free(terms);
    CHECK_INT(xap_mset_matching_terms(m, e2, &terms, &wdfs, &n), KX_OK);
    if (n == 2) {
        CHECK_INT(wdfs[0], 2); /* "solar battery solar" */
        CHECK_INT(wdfs[1], 1);
    }
    free(terms);
    free(wdfs);
    CHECK_INT(xap_mset_matching_terms(m, 99, &terms, &wdfs, &n), KX_BADINPUT);
    CHECK(terms == NULL && wdfs == NULL && n == 0);

    /* E1: "lithium battery recycling battery battery". */
    CHECK_INT(xap_mset_term_wdf(m, e1, "battery", &wdf), KX_OK);
    CHECK_INT(wdf, 3);
    CHECK_INT(xap_mset_term_wdf(m, e1, "lithium", &wdf), KX_OK);
    CHECK_INT(wdf, 1);
    CHECK_INT(xap_mset_term_wdf(m, e1, "solar", &wdf), KX_OK);
    CHECK_INT(wdf, 0);
    CHECK_INT(xap_mset_term_wdf(m, e1, "XKexpert", &wdf), KX_OK);
    CHECK_INT(wdf, 0);
    CHECK_INT(xap_mset_doclen(m, e1, &len), KX_OK);
    CHECK_INT(len, 5); /* boolean terms add nothing */
    CHECK_INT(xap_mset_doclen(m, e2, &len), KX_OK);
    CHECK_INT(len, 3);
    CHECK_INT(xap_mset_doclen(m, 99, &len), KX_BADINPUT);
    CHECK_INT(len, 0);
out:
    xap_mset_free(m);
    xap_close(r);
}

static void test_expand(void)
{
    static const char *const rel[] = {"Qexpert:E1", "Qneed:N1",
                                      "Qexpert:none"};
    xap_db *r = corpus_open();
    xap_query *q = NULL;
    char **terms = NULL;
    double *weights = NULL;
    size_t n = 0, i;
    int saw_lithium = 0;

    CHECK(r != NULL);
    if (!r)
        return;
    CHECK_INT(xap_query_new(&q), KX_OK);
    CHECK_INT(xap_query_add_term(q, "battery", 1.0), KX_OK);
    CHECK_INT(xap_query_expand(r, q, rel, 3, 5, &terms, &weights, &n), KX_OK);
    CHECK(n > 0 && n <= 5);
    for (i = 0; i < n; i++) {
        CHECK(strcmp(terms[i], "battery") != 0);
        CHECK(!(terms[i][0] >= 'A' && terms[i][0] <= 'Z'));
        CHECK(weights[i] > 0.0);
        if (i)
            CHECK(weights[i] <= weights[i - 1]);
        if (!strcmp(terms[i], "lithium"))
            saw_lithium = 1;
        free(terms[i]);
    }
    CHECK(saw_lithium);
    free(terms);
    free(weights);

    /* No relevant document found: nothing, and not an error. */
    terms = (char **)&terms;
    CHECK_INT(xap_query_expand(r, q, rel + 2, 1, 5, &terms, &weights, &n),
              KX_OK);
    CHECK(terms == NULL && weights == NULL && n == 0);
    xap_query_free(q);
    xap_close(r);
}

/* ---- stemming ----------------------------------------------------------- */

static void test_stemmer(void)
{
    xap_stemmer *s = NULL;
    char buf[64], tiny[3];
    size_t n;

    CHECK_INT(xap_stemmer_new("english", &s), KX_OK);
    CHECK(s != NULL);
    n = xap_stem(s, "running", 7, buf, sizeof buf);
    CHECK_STR(buf, "run");
    CHECK_INT(n, 3);
    n = xap_stem(s, "experts", 7, buf, sizeof buf);
    CHECK_STR(buf, "expert");
    CHECK_INT(n, 6);
    /* Only len bytes of the word are read. */
    n = xap_stem(s, "runningXYZ", 7, buf, sizeof buf);
    CHECK_STR(buf, "run");
    n = xap_stem(s, "recycling", 9, tiny, sizeof tiny);
    CHECK_STR(tiny, "re");
    CHECK_INT(n, 2);
    xap_stemmer_free(s);
    xap_stemmer_free(NULL);

    s = (xap_stemmer *)&s;
    CHECK_INT(xap_stemmer_new("klingon", &s), KX_BADINPUT);
    CHECK(s == NULL);
    /* Without a stemmer the word comes back as it is. */
    n = xap_stem(NULL, "running", 7, buf, sizeof buf);
    CHECK_STR(buf, "running");
    CHECK_INT(n, 7);
}

int main(void)
{
    const char *keep = getenv("XAP_TEST_KEEP");

    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        return 1;
    }
    if (corpus_build() != 0) {
        fprintf(stderr, "cannot build the test corpus in %s\n", tmp_root);
        rm_tree(tmp_root);
        return 1;
    }
    RUN(test_open_create_close);
    RUN(test_open_missing);
    RUN(test_locked);
    RUN(test_replace_keeps_one);
    RUN(test_replace_adds_idterm);
    RUN(test_delete_idempotent);
    RUN(test_commit_meta_atomic);
    RUN(test_errmsg_on_handle);
    RUN(test_long_term_skipped);
    RUN(test_counts_and_data);
    RUN(test_weighted_or);
    RUN(test_term_weight_decides);
    RUN(test_paging);
    RUN(test_filters);
    RUN(test_filter_only);
    RUN(test_sort_by_value);
    RUN(test_exclude);
    RUN(test_boost_above);
    RUN(test_min_match);
    RUN(test_phrase);
    RUN(test_facets);
    RUN(test_facet_limit);
    RUN(test_facets_follow_changes);
    RUN(test_matching_terms_wdf_doclen);
    RUN(test_expand);
    RUN(test_stemmer);
    if (keep && *keep)
        printf("kept %s\n", tmp_root);
    else
        rm_tree(tmp_root);
    return check_report();
}
