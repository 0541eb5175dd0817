/* stats.c - GET /v1/stats: what a 科协 reports, per county and per
 * industry: needs posted, results published, matches brokered, agreements
 * signed; and the pipeline funnel. Only what the caller may see counts. */
#include "reply.h"
#include "util.h"
#include "server.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIVS 8 /* industry divisions counted per record */

enum { C_NEEDS, C_OPEN, C_RESULTS, C_MATCHES, C_AGREEMENTS, C_LAST };
static const char *const col_names[C_LAST] = {
    "needs", "needs_open", "results", "matches", "agreements"};

struct row {
    char code[16];
    unsigned long n[C_LAST];
};

struct table {
    struct row *v;
    size_t n, cap;
};

static struct row *row_get(struct table *tb, const char *code)
{
    for (size_t i = 0; i < tb->n; i++)
        if (strcmp(tb->v[i].code, code) == 0)
            return &tb->v[i];
    if (kx_grow(&tb->v, &tb->cap, tb->n + 1, sizeof *tb->v, 32) != 0)
        return NULL;
    memset(&tb->v[tb->n], 0, sizeof tb->v[0]);
    snprintf(tb->v[tb->n].code, sizeof tb->v[0].code, "%s", code);
    return &tb->v[tb->n++];
}

static void bump(struct table *tb, const char *code, int col)
{
    struct row *rw = row_get(tb, code);

    if (rw)
        rw->n[col]++;
}

/* A visible need, remembered for the pipeline pass. */
struct seen {
    char key[KX_KEY_MAX];
    char county[16];
    char divs[MAX_DIVS][8];
    size_t ndivs;
};

struct stats {
    struct api_req *r;
    store_txn *t;
    const taxo *tx;
    struct table county, industry;
    struct seen *needs;
    size_t nneeds, capneeds;
    unsigned long funnel[4], declined, current[4], pairs;
    unsigned long total[C_LAST];
    struct keys_buf {
        char **v;
        size_t n, cap;
    } keys;
    enum kx_status st;
};

/* The county-level code (GB/T 2260, level 3) of a region, or the region
 * itself when it is a city or province; "" when unknown. */
static void county_of(const taxo *tx, const char *region, char out[16])
{
    const char *anc[8];
    size_t n = region ? taxo_ancestors(tx, TAXO_REGION, region, anc, 8) : 0;

    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (taxo_level(tx, TAXO_REGION, anc[i]) <= 3) {
            snprintf(out, 16, "%s", anc[i]);
            return;
        }
}

/* The distinct industry divisions (GB/T 4754 level 2) of a record. */
static size_t divisions_of(const taxo *tx, const struct kx_strs *codes,
                           char out[MAX_DIVS][8])
{
    size_t n = 0;

    for (size_t i = 0; i < codes->n; i++) {
        const char *anc[6];
        size_t na = taxo_ancestors(tx, TAXO_INDUSTRY, codes->v[i], anc, 6);
        for (size_t j = 0; j < na; j++) {
            int dup = 0;
            if (taxo_level(tx, TAXO_INDUSTRY, anc[j]) != 2)
                continue;
            for (size_t k = 0; k < n; k++)
                dup |= strcmp(out[k], anc[j]) == 0;
            if (!dup && n < MAX_DIVS)
                snprintf(out[n++], 8, "%s", anc[j]);
        }
    }
    return n;
}

static int collect_key(void *vctx, const char *key)
{
    struct stats *s = vctx;

    if (kx_grow(&s->keys.v, &s->keys.cap, s->keys.n + 1,
                sizeof *s->keys.v, 128) != 0) {
        s->st = KX_NOMEM;
        return 1;
    }
    if (!(s->keys.v[s->keys.n] = strdup(key))) {
        s->st = KX_NOMEM;
        return 1;
    }
    s->keys.n++;
    return 0;
}

static void keys_clear(struct stats *s)
{
    for (size_t i = 0; i < s->keys.n; i++)
        free(s->keys.v[i]);
    s->keys.n = 0;
}

/* The county bucket of a record from its region, else from the region of
 * the record it refers to (a need's enterprise, a result's owner); *in
 * (may be NULL) gets whether that region lies in the caller's scope. */
static void region_of(struct stats *s, const struct kx_record *rec,
                      const char *ref, char county[16], int *in)
{
    struct kx_record *o = NULL;
    const char *region = rec->region;

    if (!region && ref && api_record_load(s->t, ref, &o, NULL) == KX_OK)
        region = o->region;
    county_of(s->tx, region, county);
    if (in)
        *in = s->r->who.role != API_ROLE_LIAISON ||
              api_region_within(s->tx, region, s->r->who.region);
    record_free(o);
}

static enum kx_status count_needs(struct stats *s)
{
    enum kx_status st = store_posting_each(s->t, "K:need", collect_key, s);

    if (st == KX_OK)
        st = s->st;
    for (size_t i = 0; st == KX_OK && i < s->keys.n; i++) {
        struct kx_record *rec = NULL;
        struct seen *sn;
        int open;

        if (api_record_load(s->t, s->keys.v[i], &rec, NULL) != KX_OK)
            continue;
        if (api_need_access(s->t, s->tx, &s->r->who, rec) != KX_OK) {
            record_free(rec);
            continue;
        }
        if (kx_grow(&s->needs, &s->capneeds, s->nneeds + 1,
                    sizeof *s->needs, 128) != 0) {
            record_free(rec);
            return KX_NOMEM;
        }
        sn = &s->needs[s->nneeds++];
        memset(sn, 0, sizeof *sn);
        snprintf(sn->key, sizeof sn->key, "%s", rec->key);
        region_of(s, rec, rec->enterprise, sn->county, NULL);
        sn->ndivs = divisions_of(s->tx, &rec->industries, sn->divs);
        open = !rec->status || strcmp(rec->status, "open") == 0;
        s->total[C_NEEDS]++;
        bump(&s->county, sn->county, C_NEEDS);
        if (open) {
            s->total[C_OPEN]++;
            bump(&s->county, sn->county, C_OPEN);
        }
        for (size_t d = 0; d < sn->ndivs; d++) {
            bump(&s->industry, sn->divs[d], C_NEEDS);
            if (open)
                bump(&s->industry, sn->divs[d], C_OPEN);
        }
        record_free(rec);
    }
    keys_clear(s);
    return st;
}

static enum kx_status count_results(struct stats *s)
{
    enum kx_status st = store_posting_each(s->t, "K:result", collect_key, s);

    if (st == KX_OK)
        st = s->st;
    for (size_t i = 0; st == KX_OK && i < s->keys.n; i++) {
        struct kx_record *rec = NULL;
        char county[16], divs[MAX_DIVS][8];
        size_t nd;
        int in;

        if (api_record_load(s->t, s->keys.v[i], &rec, NULL) != KX_OK)
            continue;
        region_of(s, rec, rec->owner, county, &in);
        if (in) {
            s->total[C_RESULTS]++;
            bump(&s->county, county, C_RESULTS);
            nd = divisions_of(s->tx, &rec->industries, divs);
            for (size_t d = 0; d < nd; d++)
                bump(&s->industry, divs[d], C_RESULTS);
        }
        record_free(rec);
    }
    keys_clear(s);
    return st;
}

static int seen_cmp(const void *a, const void *b)
{
    return strcmp(((const struct seen *)a)->key, ((const struct seen *)b)->key);
}

static int count_pair(void *vctx, json_object *e)
{
    struct stats *s = vctx;
    json_object *v, *hist;
    struct seen key, *sn;
    const char *stage;
    int best = 0, rank;

    if (!json_object_object_get_ex(e, "need", &v))
        return 0;
    snprintf(key.key, sizeof key.key, "%s", json_object_get_string(v));
    sn = bsearch(&key, s->needs, s->nneeds, sizeof *s->needs, seen_cmp);
    if (!sn)
        return 0; /* a need the caller may not see */
    stage = json_object_object_get_ex(e, "stage", &v)
                ? json_object_get_string(v) : "";
    rank = api_stage_rank(stage);
    if (json_object_object_get_ex(e, "history", &hist) &&
        json_object_is_type(hist, json_type_array))
        for (size_t i = 0; i < json_object_array_length(hist); i++) {
            json_object *h = json_object_array_get_idx(hist, i), *hs;
            if (json_object_object_get_ex(h, "stage", &hs)) {
                int r = api_stage_rank(json_object_get_string(hs));
                if (r > best)
                    best = r;
            }
        }
    if (rank > best)
        best = rank;
    s->pairs++;
    for (int k = 1; k <= 3; k++)
        if (best >= k)
            s->funnel[k]++;
    /* An agreement is a pair that reached agreement_signed, whatever came
     * after: the same definition as the funnel's last step, so that the
     * key figure and the funnel beside it agree. */
    if (best == 3) {
        s->total[C_AGREEMENTS]++;
        bump(&s->county, sn->county, C_AGREEMENTS);
        for (size_t d = 0; d < sn->ndivs; d++)
            bump(&s->industry, sn->divs[d], C_AGREEMENTS);
    }
    if (rank == 0) {
        s->declined++;
        return 0;
    }
    if (rank > 0)
        s->current[rank]++;
    s->total[C_MATCHES]++;
    bump(&s->county, sn->county, C_MATCHES);
    for (size_t d = 0; d < sn->ndivs; d++)
        bump(&s->industry, sn->divs[d], C_MATCHES);
    return 0;
}

static int row_cmp(const void *a, const void *b)
{
    const struct row *x = a, *y = b;

    if (x->n[C_NEEDS] != y->n[C_NEEDS])
        return x->n[C_NEEDS] < y->n[C_NEEDS] ? 1 : -1;
    return strcmp(x->code, y->code);
}

static json_object *table_json(const struct stats *s, struct table *tb,
                               enum taxo_kind k)
{
    json_object *a = json_object_new_array();

    qsort(tb->v, tb->n, sizeof *tb->v, row_cmp);
    for (size_t i = 0; i < tb->n; i++) {
        const struct row *rw = &tb->v[i];
        const char *name = rw->code[0] ? taxo_name(s->tx, k, rw->code) : NULL;
        json_object *o = json_object_new_object();

        json_object_object_add(o, "code", json_object_new_string(rw->code));
        json_object_object_add(o, "name", json_object_new_string(
                                              name ? name : rw->code[0] ? rw->code : "未知"));
        for (int c = 0; c < C_LAST; c++)
            json_object_object_add(o, col_names[c],
                                   json_object_new_int64((int64_t)rw->n[c]));
        json_object_array_add(a, o);
    }
    return a;
}

enum MHD_Result api_route_stats(struct api_req *r)
{
    static const char *const funnel_names[4] = {"", "shortlisted", "contacted",
                                                "agreement_signed"};
    struct stats s;
    struct kx_error err;
    json_object *o, *tot, *pipe, *fun, *cur;
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_params_check(r, NULL, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    memset(&s, 0, sizeof s);
    s.r = r;
    s.tx = r->srv->tx;
    s.st = KX_OK;
    if ((st = store_txn_begin(r->srv->st, 0, &s.t)) == KX_OK &&
        (st = count_needs(&s)) == KX_OK &&
        (st = count_results(&s)) == KX_OK) {
        qsort(s.needs, s.nneeds, sizeof *s.needs, seen_cmp);
        st = api_pipeline_each(s.t, NULL, count_pair, &s);
    }
    store_txn_abort(s.t);
    keys_clear(&s);
    free(s.keys.v);
    free(s.needs);
    if (st != KX_OK) {
        free(s.county.v);
        free(s.industry.v);
        return api_reply_error(r, st, "", "stats: %s", store_errmsg());
    }
    o = json_object_new_object();
    tot = json_object_new_object();
    for (int c = 0; c < C_LAST; c++)
        json_object_object_add(tot, col_names[c],
                               json_object_new_int64((int64_t)s.total[c]));
    json_object_object_add(o, "scope", json_object_new_string(
        r->who.role == API_ROLE_LIAISON ? r->who.region : "all"));
    if (r->who.role == API_ROLE_LIAISON)
        json_object_object_add(o, "scope_name", json_object_new_string(
                                                    api_region_name(s.tx, r->who.region)));
    json_object_object_add(o, "totals", tot);
    json_object_object_add(o, "by_county", table_json(&s, &s.county, TAXO_REGION));
    json_object_object_add(o, "by_industry",
                           table_json(&s, &s.industry, TAXO_INDUSTRY));
    pipe = json_object_new_object();
    fun = json_object_new_array();
    cur = json_object_new_object();
    for (int k = 1; k <= 3; k++) {
        json_object *f = json_object_new_object();
        json_object_object_add(f, "stage", json_object_new_string(funnel_names[k]));
        json_object_object_add(f, "count", json_object_new_int64((int64_t)s.funnel[k]));
        json_object_array_add(fun, f);
        json_object_object_add(cur, funnel_names[k],
                               json_object_new_int64((int64_t)s.current[k]));
    }
    json_object_object_add(cur, "declined", json_object_new_int64((int64_t)s.declined));
    json_object_object_add(pipe, "pairs", json_object_new_int64((int64_t)s.pairs));
    json_object_object_add(pipe, "funnel", fun);
    json_object_object_add(pipe, "current", cur);
    json_object_object_add(o, "pipeline", pipe);
    free(s.county.v);
    free(s.industry.v);
    return api_reply_json(r, 200, o);
}
