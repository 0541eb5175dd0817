/* digest_plan.c - the week's plan: candidate pairs from the matcher,
 * filtered, assigned exactly under capacities, stored in STORE_DIGEST. */
#include "assign.h"
#include "util.h"
#include "digest_int.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A need as the plan sees it. */
struct pneed {
    char key[KX_KEY_MAX], enterprise[KX_KEY_MAX], region[16];
    int open, confidential, closed;
};

/* A candidate pair, before filtering. */
struct pcand {
    uint32_t need;                 /* index into the needs */
    char partner[KX_KEY_MAX];
    double score;
    uint32_t pidx;                 /* index into the partners */
    uint32_t rank;                 /* within its need, best first */
};

/* A partner, with whom to write to and how much room it has. */
struct ppartner {
    char key[KX_KEY_MAX], recipient[KX_KEY_MAX];
    uint32_t cap;
    int usable;                    /* 0: no address (1), off (2) */
    int why;
};

struct plan_state {
    const struct api_digest_plan_opts *o;
    char week[API_DIGEST_WEEK_MAX];
    struct pneed *needs;
    size_t nneeds, capneeds;
    struct pcand *cands;
    size_t ncands;
    struct ppartner *partners;
    size_t npartners;
    json_object *news, *moves;
    struct api_digest_plan_report rep;
};

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int outbox_any(void *ctx, const void *k, size_t kl, const void *v,
                      size_t vl)
{
    (void)k, (void)kl, (void)v, (void)vl;
    (*(size_t *)ctx)++;
    return 0;
}

static int need_collect(void *ctx, const char *key, const char *json,
                        size_t len)
{
    struct plan_state *ps = ctx;
    json_tokener *tok = json_tokener_new();
    json_object *o = tok ? json_tokener_parse_ex(tok, json, (int)len) : NULL;
    struct pneed *n;
    const char *status, *vis, *s;

    json_tokener_free(tok);
    if (!o)
        return 0;
    if (kx_grow(&ps->needs, &ps->capneeds, ps->nneeds + 1,
                sizeof *ps->needs, 256) != 0) {
        json_object_put(o);
        return 1;
    }
    n = &ps->needs[ps->nneeds++];
    memset(n, 0, sizeof *n);
    snprintf(n->key, sizeof n->key, "%s", key);
    if ((s = api_digest_str(o, "enterprise")))
        snprintf(n->enterprise, sizeof n->enterprise, "%s", s);
    if ((s = api_digest_str(o, "region")))
        snprintf(n->region, sizeof n->region, "%s", s);
    status = api_digest_str(o, "status");
    vis = api_digest_str(o, "visibility");
    n->confidential = vis && strcmp(vis, "confidential") == 0;
    n->closed = status && strcmp(status, "closed") == 0;
    n->open = !status || strcmp(status, "open") == 0;
    json_object_put(o);
    return 0;
}

/* One thread's share of the matching: the needs it took, their
 * candidates in rank order, and what it left out. */
struct collector {
    struct plan_state *ps;
    match_ctx *m;
    atomic_size_t *next;       /* the next need to take, shared */
    struct pcand *cands;
    size_t ncands, capcands;
    size_t open, skip_threshold;
    enum kx_status st;
    struct kx_error err;
    pthread_t th;
    int started;
};

static enum kx_status cand_add(struct collector *c, uint32_t need,
                               const char *partner, double score)
{
    struct pcand *p;

    if (kx_grow(&c->cands, &c->capcands, c->ncands + 1,
                sizeof *c->cands, 1024) != 0)
        return KX_NOMEM;
    p = &c->cands[c->ncands++];
    p->need = need;
    snprintf(p->partner, sizeof p->partner, "%s", partner);
    p->score = score;
    p->pidx = 0;
    p->rank = 0;
    return KX_OK;
}

/* Takes needs until none is left, matching each open public one. */
static void *collect_run(void *arg)
{
    struct collector *c = arg;
    const struct plan_state *ps = c->ps;
    size_t i;

    while (c->st == KX_OK &&
           (i = atomic_fetch_add(c->next, 1)) < ps->nneeds) {
        const struct pneed *n = &ps->needs[i];
        struct match_request req;
        struct match_result *res = NULL;
        enum kx_status st;

        if (!n->open || n->confidential)
            continue;
        c->open++;
        memset(&req, 0, sizeof req);
        req.need_key = n->key;
        req.top = ps->o->top;
        req.kinds = MATCH_PARTNER_KINDS;
        req.no_terms = 1; /* the plan keeps pairs and scores only */
        st = match_need(c->m, &req, &res, &c->err);
        if (st == KX_BADINPUT || st == KX_CONFLICT || st == KX_NOTFOUND)
            continue; /* closed, or nothing to match on: no candidates */
        if (st != KX_OK) {
            c->st = st;
            break;
        }
        for (size_t k = 0; k < res->n && c->st == KX_OK; k++) {
            if (res->v[k].parts.score < ps->o->threshold)
                c->skip_threshold++;
            else
                c->st = cand_add(c, (uint32_t)i, res->v[k].key,
                                 res->v[k].parts.score);
        }
        match_result_free(res);
    }
    return NULL;
}

/* Need order, then the matcher's rank order within a need (each need's
 * candidates come from one collector, already ranked). */
static int cand_by_need(const void *a, const void *b)
{
    const struct pcand *x = a, *y = b;

    if (x->need != y->need)
        return x->need < y->need ? -1 : 1;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* Asks the matcher for every open public need, on nm threads. The
 * candidates end up in need order whatever thread matched them, so the
 * plan is the same on any number of threads. */
static enum kx_status collect_candidates(struct plan_state *ps,
                                         match_ctx *const *ms, size_t nm,
                                         struct kx_error *err)
{
    struct collector *c = calloc(nm, sizeof *c);
    atomic_size_t next = 0;
    enum kx_status st = KX_OK;
    size_t total = 0;

    if (!c)
        return KX_NOMEM;
    for (size_t w = 0; w < nm; w++) {
        c[w].ps = ps;
        c[w].m = ms[w];
        c[w].next = &next;
        kx_error_clear(&c[w].err);
    }
    /* The calling thread is the first collector. */
    for (size_t w = 1; w < nm; w++)
        c[w].started = pthread_create(&c[w].th, NULL, collect_run, &c[w]) == 0;
    collect_run(&c[0]); /* the needs a thread that did not start would take */
    for (size_t w = 1; w < nm; w++)
        if (c[w].started)
            pthread_join(c[w].th, NULL);
    for (size_t w = 0; w < nm; w++) {
        if (c[w].st != KX_OK && st == KX_OK) {
            st = c[w].st;
            if (err)
                *err = c[w].err;
        }
        ps->rep.needs_open += c[w].open;
        ps->rep.skip_threshold += c[w].skip_threshold;
        total += c[w].ncands;
    }
    if (st == KX_OK && total) {
        ps->cands = malloc(total * sizeof *ps->cands);
        if (!ps->cands)
            st = KX_NOMEM;
    }
    for (size_t w = 0; st == KX_OK && w < nm; w++) {
        for (size_t k = 0; k < c[w].ncands; k++)
            c[w].cands[k].rank = (uint32_t)k; /* in rank order already */
        memcpy(ps->cands + ps->ncands, c[w].cands,
               c[w].ncands * sizeof *ps->cands);
        ps->ncands += c[w].ncands;
    }
    if (st == KX_OK)
        qsort(ps->cands, ps->ncands, sizeof *ps->cands, cand_by_need);
    for (size_t w = 0; w < nm; w++)
        free(c[w].cands);
    free(c);
    return st;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int partner_cmp(const void *a, const void *b)
{
    return strcmp(((const struct ppartner *)a)->key,
                  ((const struct ppartner *)b)->key);
}

/* Fills in a partner's capacity, recipient and whether it can be written
 * to. */
static void partner_load(store_txn *t, const struct api_digest_plan_opts *o,
                         const char *week, struct ppartner *p)
{
    json_object *r = api_digest_record(t, p->key), *v;
    char addr[256], name[256];
    enum kx_kind k = KX_KIND_LAST;

    snprintf(p->recipient, sizeof p->recipient, "%s", p->key);
    p->cap = 0;
    record_key_parse(p->key, &k, NULL, NULL);
    switch (k) {
    case KX_KIND_EXPERT:
    case KX_KIND_ACADEMICIAN:
        p->cap = KX_DEFAULT_CAPACITY;
        if (r && json_object_object_get_ex(r, "capacity", &v))
            p->cap = (uint32_t)(json_object_get_int(v) > 0
                                    ? json_object_get_int(v) : 0);
        break;
    case KX_KIND_SOCIETY: p->cap = o->society_capacity; break;
    case KX_KIND_RESULT: {
        const char *owner = api_digest_str(r, "owner");
        p->cap = o->result_capacity;
        snprintf(p->recipient, sizeof p->recipient, "%s",
                 owner ? owner : "");
        break;
    }
    default: break;
    }
    json_object_put(r);
    p->usable = 1;
    if (!p->recipient[0] ||
        api_digest_address(t, p->recipient, addr, name, sizeof addr) != KX_OK) {
        p->usable = 0;
        p->why = 1;
    } else if (!api_digest_frequency_in(t, p->recipient, week)) {
        p->usable = 0;
        p->why = 2;
    }
}

/* 1 if the pair has a pipeline entry (digest.h). */
static int in_pipeline(store_txn *t, const char *need, const char *partner)
{
    char k[2 * KX_KEY_MAX + 16];
    const void *v;
    size_t vl;

    snprintf(k, sizeof k, "%s %s", need, partner);
    return store_kv_get(t, STORE_PIPELINE, k, strlen(k), &v, &vl) == KX_OK;
}

/* Drops pairs already proposed, in the pipeline, or to partners nobody can
 * write to; indexes the partners. */
static enum kx_status filter_candidates(struct plan_state *ps, store_txn *t)
{
    char **keys = NULL;
    size_t nk = 0, kept = 0;
    enum kx_status st = KX_NOMEM;

    keys = malloc((ps->ncands + 1) * sizeof *keys);
    if (!keys)
        return KX_NOMEM;
    for (size_t i = 0; i < ps->ncands; i++)
        keys[i] = ps->cands[i].partner;
    qsort(keys, ps->ncands, sizeof *keys, str_cmp);
    for (size_t i = 0; i < ps->ncands; i++)
        if (nk == 0 || strcmp(keys[nk - 1], keys[i]) != 0)
            keys[nk++] = keys[i];
    ps->partners = calloc(nk + 1, sizeof *ps->partners);
    if (!ps->partners)
        goto out;
    for (size_t j = 0; j < nk; j++) {
        snprintf(ps->partners[j].key, sizeof ps->partners[j].key, "%s",
                 keys[j]);
        partner_load(t, ps->o, ps->week, &ps->partners[j]);
    }
    ps->npartners = nk;
    for (size_t i = 0; i < ps->ncands; i++) {
        struct pcand *c = &ps->cands[i];
        const struct pneed *n = &ps->needs[c->need];
        struct ppartner key, *p;
        char k[2 * KX_KEY_MAX + 16];
        const void *v;
        size_t vl;

        snprintf(key.key, sizeof key.key, "%s", c->partner);
        p = bsearch(&key, ps->partners, nk, sizeof *p, partner_cmp);
        if (in_pipeline(t, n->key, c->partner)) {
            ps->rep.skip_pipeline++;
            continue;
        }
        snprintf(k, sizeof k, "pair:%s|%s", n->key, c->partner);
        if (store_kv_get(t, STORE_DIGEST, k, strlen(k), &v, &vl) == KX_OK &&
            !(vl == strlen(ps->week) && memcmp(v, ps->week, vl) == 0)) {
            ps->rep.skip_proposed++;
            continue;
        }
        if (!p || !p->usable || p->cap == 0) {
            if (p && p->usable == 0 && p->why == 2)
                ps->rep.skip_off++;
            else
                ps->rep.skip_noaddr++;
            continue;
        }
        c->pidx = (uint32_t)(p - ps->partners);
        ps->cands[kept++] = *c;
    }
    ps->ncands = kept;
    st = KX_OK;
out:
    free(keys);
    return st;
}

/* Parses the date part of a pipeline entry's time ("updated" or "at": an
 * ISO 8601 string or unix seconds) into days since 1970; -1 if none. */
static long entry_day(json_object *o)
{
    static const char *const fields[] = {"updated", "at"};

    for (size_t i = 0; i < 2; i++) {
        json_object *v;
        if (!json_object_object_get_ex(o, fields[i], &v))
            continue;
        if (json_object_is_type(v, json_type_int)) {
            time_t t = (time_t)json_object_get_int64(v);
            struct tm tm;
            localtime_r(&t, &tm);
            return api_digest_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1,
                                          tm.tm_mday);
        }
        if (json_object_is_type(v, json_type_string)) {
            int y, m, d;
            if (sscanf(json_object_get_string(v), "%4d-%2d-%2d", &y, &m,
                       &d) == 3)
                return api_digest_days_from_civil(y, m, d);
        }
    }
    return -1;
}

struct moves_ctx {
    struct plan_state *ps;
    store_txn *t;
    long from, to;               /* days, inclusive */
    enum kx_status st;
};

static const struct pneed *need_find(const struct plan_state *ps,
                                     const char *key)
{
    size_t lo = 0, hi = ps->nneeds;

    while (lo < hi) { /* the needs came in key order */
        size_t mid = (lo + hi) / 2;
        int c = strcmp(ps->needs[mid].key, key);
        if (c == 0)
            return &ps->needs[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The marker of a reported move: "moved:<need> <partner>" holding
 * "<week>|<updated>", the week whose plan reported it and the entry's time
 * then. */
static void move_marker(const void *key, size_t klen, char *out, size_t n)
{
    snprintf(out, n, "moved:%.*s", (int)klen, (const char *)key);
}

static const char *entry_time(json_object *o)
{
    json_object *u;

    if (json_object_object_get_ex(o, "updated", &u) ||
        json_object_object_get_ex(o, "at", &u))
        return json_object_get_string(u);
    return "";
}

/* 1 if an earlier week's plan reported this entry as it is now (a later
 * move changes its time and is reported again; a plan of the same week,
 * made again, reports it again). */
static int move_reported(struct moves_ctx *mc, const void *key, size_t klen,
                         json_object *o)
{
    char mk[2 * KX_KEY_MAX + 16];
    const char *when = entry_time(o), *bar;
    const void *v;
    size_t vl, wl = strlen(mc->ps->week);

    move_marker(key, klen, mk, sizeof mk);
    if (store_kv_get(mc->t, STORE_DIGEST, mk, strlen(mk), &v, &vl) != KX_OK)
        return 0;
    if (vl >= wl && memcmp(v, mc->ps->week, wl) == 0)
        return 0;
    if (!(bar = memchr(v, '|', vl)))
        return 0;
    bar++;
    return (size_t)((const char *)v + vl - bar) == strlen(when) &&
           memcmp(bar, when, strlen(when)) == 0;
}

static int move_collect(void *ctx, const void *key, size_t klen,
                        const void *val, size_t vlen)
{
    struct moves_ctx *mc = ctx;
    char k[2 * KX_KEY_MAX + 16], *bar;
    json_tokener *tok;
    json_object *o, *m;
    const struct pneed *n;
    const char *stage;
    long day;

    if (klen >= sizeof k)
        return 0;
    memcpy(k, key, klen);
    k[klen] = '\0';
    /* "<need> <partner>" */
    if (!(bar = strchr(k, ' ')))
        return 0;
    *bar = '\0';
    if (!(n = need_find(mc->ps, k)) || n->confidential)
        return 0;
    if (!(tok = json_tokener_new()))
        return 0;
    o = json_tokener_parse_ex(tok, val, (int)vlen);
    json_tokener_free(tok);
    if (!o)
        return 0;
    day = entry_day(o);
    stage = api_digest_str(o, "stage");
    if (stage && day >= mc->from && day <= mc->to &&
        !move_reported(mc, key, klen, o)) {
        const char *when = entry_time(o);
        m = json_object_new_object();
        json_object_object_add(m, "need", json_object_new_string(k));
        json_object_object_add(m, "partner", json_object_new_string(bar + 1));
        json_object_object_add(m, "stage", json_object_new_string(stage));
        if (when[0])
            json_object_object_add(m, "updated", json_object_new_string(when));
        json_object_object_add(m, "region", json_object_new_string(n->region));
        json_object_array_add(mc->ps->moves, m);
        mc->ps->rep.moves++;
    }
    json_object_put(o);
    return 0;
}

/* The liaisons' part: needs not reported before, and pipeline moves of
 * the planned week or the week before that no earlier week reported. */
static enum kx_status collect_liaison(struct plan_state *ps, store_txn *t)
{
    struct moves_ctx mc = {ps, t, 0, 0, KX_OK};
    int y, m, d;

    ps->news = json_object_new_array();
    ps->moves = json_object_new_array();
    if (!ps->news || !ps->moves)
        return KX_NOMEM;
    for (size_t i = 0; i < ps->nneeds; i++) {
        const struct pneed *n = &ps->needs[i];
        char k[KX_KEY_MAX + 8];
        const void *v;
        size_t vl;
        json_object *o;

        if (n->closed)
            continue;
        snprintf(k, sizeof k, "seen:%s", n->key);
        if (store_kv_get(t, STORE_DIGEST, k, strlen(k), &v, &vl) == KX_OK &&
            !(vl == strlen(ps->week) && memcmp(v, ps->week, vl) == 0))
            continue;
        o = json_object_new_object();
        json_object_object_add(o, "need", json_object_new_string(n->key));
        json_object_object_add(o, "region", json_object_new_string(n->region));
        json_object_object_add(o, "confidential",
                               json_object_new_boolean(n->confidential));
        json_object_array_add(ps->news, o);
        ps->rep.new_needs++;
    }
    api_digest_week_parse(ps->week, &y, &m, &d, NULL);
    mc.to = api_digest_days_from_civil(y, m, d) + 6;
    mc.from = mc.to - 13;
    return store_kv_each(t, STORE_PIPELINE, "", 0, move_collect, &mc);
}

static void method_set(struct api_digest_method *m,
                       const struct match_assign_result *r, double ms)
{
    m->pairs = r->npairs;
    m->covered = r->covered;
    m->total = r->total;
    m->ms = ms;
}

struct del_ctx {
    char **keys;
    size_t n, cap;
    const char *week;   /* for pair:* entries: only this week's */
    int oom;
};

static int del_collect(void *ctx, const void *key, size_t klen,
                       const void *val, size_t vlen)
{
    struct del_ctx *dc = ctx;
    char *k;

    if (dc->week && !(vlen == strlen(dc->week) &&
                      memcmp(val, dc->week, vlen) == 0))
        return 0;
    if (kx_grow(&dc->keys, &dc->cap, dc->n + 1, sizeof *dc->keys, 64) != 0) {
        dc->oom = 1;
        return 1;
    }
    if (!(k = strndup(key, klen))) {
        dc->oom = 1;
        return 1;
    }
    dc->keys[dc->n++] = k;
    return 0;
}

/* Removes an earlier plan of the same week (its pairs, and the markers
 * that say they were proposed that week). */
static enum kx_status plan_clear(store_txn *t, const char *week)
{
    struct del_ctx dc = {0};
    char prefix[64];
    enum kx_status st;

    snprintf(prefix, sizeof prefix, "plan:%s:", week);
    st = store_kv_each(t, STORE_DIGEST, prefix, strlen(prefix), del_collect,
                       &dc);
    dc.week = week;
    if (st == KX_OK)
        st = store_kv_each(t, STORE_DIGEST, "pair:", 5, del_collect, &dc);
    if (st == KX_OK && dc.oom)
        st = KX_NOMEM;
    for (size_t i = 0; i < dc.n; i++) {
        if (st == KX_OK)
            st = store_kv_del(t, STORE_DIGEST, dc.keys[i], strlen(dc.keys[i]));
        free(dc.keys[i]);
    }
    free(dc.keys);
    return st;
}

static void add_count(json_object *o, const char *k, size_t v)
{
    json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

static json_object *method_json(const struct api_digest_method *m)
{
    json_object *o = json_object_new_object();

    add_count(o, "pairs", m->pairs);
    add_count(o, "covered", m->covered);
    json_object_object_add(o, "total", json_object_new_double(m->total));
    json_object_object_add(o, "ms", json_object_new_double(m->ms));
    return o;
}

static json_object *summary_json(const struct plan_state *ps, time_t now,
                                 const char *nonce)
{
    const struct api_digest_plan_report *r = &ps->rep;
    json_object *o = json_object_new_object(), *s = json_object_new_object(),
                *skip = json_object_new_object();

    json_object_object_add(o, "week", json_object_new_string(ps->week));
    add_count(o, "created", now);
    json_object_object_add(o, "nonce", json_object_new_string(nonce));
    add_count(o, "per_need", ps->o->per_need);
    json_object_object_add(o, "threshold",
                           json_object_new_double(ps->o->threshold));
    add_count(o, "top", ps->o->top);
    add_count(o, "society_capacity", ps->o->society_capacity);
    add_count(o, "result_capacity", ps->o->result_capacity);
    add_count(s, "needs_open", r->needs_open);
    add_count(s, "needs_with_candidates", r->needs_with);
    add_count(s, "candidates", r->candidates);
    add_count(s, "partners", r->partners);
    add_count(skip, "below_threshold", r->skip_threshold);
    add_count(skip, "proposed_before", r->skip_proposed);
    add_count(skip, "in_pipeline", r->skip_pipeline);
    add_count(skip, "unsubscribed", r->skip_off);
    add_count(skip, "no_address", r->skip_noaddr);
    json_object_object_add(s, "skipped", skip);
    json_object_object_add(s, "exact", method_json(&r->exact));
    json_object_object_add(s, "score_only", method_json(&r->score_only));
    json_object_object_add(s, "greedy", method_json(&r->greedy));
    json_object_object_add(s, "ms_match", json_object_new_double(r->ms_match));
    json_object_object_add(s, "ms_total", json_object_new_double(r->ms_total));
    json_object_object_add(o, "stats", s);
    json_object_object_add(o, "new_needs", json_object_get(ps->news));
    json_object_object_add(o, "moves", json_object_get(ps->moves));
    return o;
}

/* Writes the plan: the summary, one entry per chosen pair, the markers. */
static enum kx_status plan_store(struct plan_state *ps, store *st,
                                 const unsigned char *chosen,
                                 struct kx_error *err)
{
    store_txn *t = NULL;
    json_object *sum = NULL;
    char key[2 * KX_KEY_MAX + 64], nonce[17];
    size_t n = 0;
    enum kx_status s;

    if ((s = api_digest_random_hex(nonce, 16)) != KX_OK)
        return s;
    if ((s = store_txn_begin(st, 1, &t)) != KX_OK)
        return s;
    /* Checked again inside the write: a `send` may have composed since. */
    snprintf(key, sizeof key, "%s|", ps->week);
    s = store_kv_each(t, STORE_OUTBOX, key, strlen(key), outbox_any, &n);
    if (s == KX_OK && n)
        s = kx_error_set(err, KX_CONFLICT, "week",
                         "week %s already has %zu messages in the outbox: "
                         "its plan is final", ps->week, n);
    if (s == KX_OK)
        s = plan_clear(t, ps->week);
    for (size_t i = 0; s == KX_OK && i < ps->ncands; i++) {
        const struct pcand *c = &ps->cands[i];
        const struct pneed *nd = &ps->needs[c->need];
        json_object *o;

        if (!chosen[i])
            continue;
        o = json_object_new_object();
        /* the score the solver compared, in millionths */
        json_object_object_add(o, "score", json_object_new_double(
            (double)match_assign_scaled(c->score) / MATCH_ASSIGN_SCALE));
        json_object_object_add(o, "recipient", json_object_new_string(
            ps->partners[c->pidx].recipient));
        json_object_object_add(o, "enterprise",
                               json_object_new_string(nd->enterprise));
        json_object_object_add(o, "region", json_object_new_string(nd->region));
        snprintf(key, sizeof key, "plan:%s:pair:%s|%s", ps->week, nd->key,
                 c->partner);
        s = api_digest_kv_put_json(t, STORE_DIGEST, key, o);
        json_object_put(o);
        snprintf(key, sizeof key, "pair:%s|%s", nd->key, c->partner);
        if (s == KX_OK)
            s = api_digest_kv_puts(t, STORE_DIGEST, key, ps->week);
    }
    for (size_t i = 0; s == KX_OK && i < json_object_array_length(ps->news);
         i++) {
        json_object *o = json_object_array_get_idx(ps->news, i);
        snprintf(key, sizeof key, "seen:%s", api_digest_str(o, "need"));
        s = api_digest_kv_puts(t, STORE_DIGEST, key, ps->week);
    }
    for (size_t i = 0; s == KX_OK && i < json_object_array_length(ps->moves);
         i++) {
        json_object *o = json_object_array_get_idx(ps->moves, i);
        char pk[2 * KX_KEY_MAX + 2], val[256];
        int pl = snprintf(pk, sizeof pk, "%s %s", api_digest_str(o, "need"),
                          api_digest_str(o, "partner"));
        const char *u = api_digest_str(o, "updated");

        move_marker(pk, (size_t)pl, key, sizeof key);
        snprintf(val, sizeof val, "%s|%s", ps->week, u ? u : "");
        s = api_digest_kv_puts(t, STORE_DIGEST, key, val);
    }
    if (s == KX_OK) {
        sum = summary_json(ps, time(NULL), nonce);
        snprintf(key, sizeof key, "plan:%s", ps->week);
        s = sum ? api_digest_kv_put_json(t, STORE_DIGEST, key, sum) : KX_NOMEM;
        json_object_put(sum);
    }
    if (s != KX_OK) {
        store_txn_abort(t);
        return s;
    }
    return store_txn_commit(t);
}

enum kx_status api_digest_plan(match_ctx *const *ms, size_t nm, store *st,
                               const struct api_digest_plan_opts *opts,
                               struct api_digest_plan_report *rep,
                               struct kx_error *err)
{
    struct api_digest_plan_opts o = *opts;
    struct plan_state ps;
    struct match_assign_problem prob;
    struct match_assign_result r[3];
    struct match_assign_edge *edges = NULL;
    uint32_t *pcap = NULL, *nidx = NULL;
    store_txn *t = NULL;
    double t0 = now_ms(), t1;
    size_t n = 0;
    enum kx_status s;

    memset(&ps, 0, sizeof ps);
    memset(r, 0, sizeof r);
    if (!o.per_need)
        o.per_need = 5;
    if (o.threshold < 0)
        o.threshold = 0.3;
    if (!o.top)
        o.top = 50;
    if (!o.society_capacity)
        o.society_capacity = 5;
    if (!o.result_capacity)
        o.result_capacity = 3;
    ps.o = &o;
    if (o.week) {
        if ((s = api_digest_week_parse(o.week, NULL, NULL, NULL, err)) != KX_OK)
            return s;
        snprintf(ps.week, sizeof ps.week, "%s", o.week);
    } else {
        api_digest_week_of(time(NULL), ps.week);
    }
    snprintf(ps.rep.week, sizeof ps.rep.week, "%s", ps.week);

    if ((s = store_txn_begin(st, 0, &t)) != KX_OK)
        goto out;
    {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "%s|", ps.week);
        s = store_kv_each(t, STORE_OUTBOX, prefix, strlen(prefix), outbox_any,
                          &n);
        if (s == KX_OK && n)
            s = kx_error_set(err, KX_CONFLICT, "week",
                             "week %s already has %zu messages in the "
                             "outbox: its plan is final", ps.week, n);
    }
    if (s == KX_OK)
        s = store_record_each(t, "need:", need_collect, &ps);
    store_txn_abort(t);
    t = NULL;
    if (s != KX_OK)
        goto out;

    if ((s = collect_candidates(&ps, ms, nm, err)) != KX_OK)
        goto out;
    ps.rep.ms_match = now_ms() - t0;

    if ((s = store_txn_begin(st, 0, &t)) != KX_OK)
        goto out;
    s = filter_candidates(&ps, t);
    if (s == KX_OK)
        s = collect_liaison(&ps, t);
    store_txn_abort(t);
    t = NULL;
    if (s != KX_OK)
        goto out;

    /* The solver's needs are those with candidates, numbered densely. */
    s = KX_NOMEM;
    edges = calloc(ps.ncands + 1, sizeof *edges);
    pcap = calloc(ps.npartners + 1, sizeof *pcap);
    nidx = calloc(ps.nneeds + 1, sizeof *nidx);
    if (!edges || !pcap || !nidx)
        goto out;
    for (size_t i = 0; i < ps.nneeds; i++)
        nidx[i] = UINT32_MAX;
    n = 0;
    for (size_t i = 0; i < ps.ncands; i++) {
        uint32_t nd = ps.cands[i].need;
        if (nidx[nd] == UINT32_MAX)
            nidx[nd] = (uint32_t)n++;
        edges[i].need = nidx[nd];
        edges[i].partner = ps.cands[i].pidx;
        edges[i].score = ps.cands[i].score;
    }
    for (size_t j = 0; j < ps.npartners; j++)
        pcap[j] = ps.partners[j].usable ? ps.partners[j].cap : 0;
    ps.rep.needs_with = n;
    ps.rep.candidates = ps.ncands;
    {
        unsigned char *used = calloc(ps.npartners + 1, 1);
        if (!used)
            goto out;
        for (size_t i = 0; i < ps.ncands; i++)
            used[ps.cands[i].pidx] = 1;
        for (size_t j = 0; j < ps.npartners; j++)
            ps.rep.partners += used[j];
        free(used);
    }
    memset(&prob, 0, sizeof prob);
    prob.nneeds = n;
    prob.npartners = ps.npartners;
    prob.nedges = ps.ncands;
    prob.per_need = o.per_need;
    prob.partner_cap = pcap;
    prob.edges = edges;
    prob.cover_first = 1;
    t1 = now_ms();
    if ((s = match_assign_greedy(&prob, &r[0], err)) != KX_OK)
        goto out;
    method_set(&ps.rep.greedy, &r[0], now_ms() - t1);
    prob.cover_first = 0;
    t1 = now_ms();
    if ((s = match_assign_solve(&prob, &r[1], err)) != KX_OK)
        goto out;
    method_set(&ps.rep.score_only, &r[1], now_ms() - t1);
    prob.cover_first = 1;
    t1 = now_ms();
    if ((s = match_assign_solve(&prob, &r[2], err)) != KX_OK)
        goto out;
    method_set(&ps.rep.exact, &r[2], now_ms() - t1);
    ps.rep.ms_total = now_ms() - t0;
    s = plan_store(&ps, st, r[2].chosen, err);
    ps.rep.ms_total = now_ms() - t0;
out:
    if (s == KX_OK && rep)
        *rep = ps.rep;
    for (int i = 0; i < 3; i++)
        match_assign_result_free(&r[i]);
    free(edges);
    free(pcap);
    free(nidx);
    free(ps.needs);
    free(ps.cands);
    free(ps.partners);
    json_object_put(ps.news);
    json_object_put(ps.moves);
    return s;
}

/* ---- reading a plan back ------------------------------------------------ */

struct pairs_ctx {
    json_object *arr;
    size_t skip;         /* prefix length */
};

static int pair_to_json(void *ctx, const void *key, size_t klen,
                        const void *val, size_t vlen)
{
    struct pairs_ctx *pc = ctx;
    char k[2 * KX_KEY_MAX + 64], *bar;
    json_tokener *tok = json_tokener_new();
    json_object *v = tok ? json_tokener_parse_ex(tok, val, (int)vlen) : NULL,
                *o, *x;

    json_tokener_free(tok);
    if (!v || klen >= sizeof k)
        goto out;
    memcpy(k, key, klen);
    k[klen] = '\0';
    if (!(bar = strchr(k + pc->skip, '|')))
        goto out;
    *bar = '\0';
    o = json_object_new_object();
    json_object_object_add(o, "need", json_object_new_string(k + pc->skip));
    json_object_object_add(o, "partner", json_object_new_string(bar + 1));
    if (json_object_object_get_ex(v, "score", &x))
        json_object_object_add(o, "score", json_object_get(x));
    if (json_object_object_get_ex(v, "recipient", &x))
        json_object_object_add(o, "recipient", json_object_get(x));
    json_object_array_add(pc->arr, o);
out:
    json_object_put(v);
    return 0;
}

enum kx_status api_digest_plan_get(store *st, const char *week,
                                   json_object **out, struct kx_error *err)
{
    store_txn *t = NULL;
    json_object *sum = NULL;
    struct pairs_ctx pc;
    char key[64];
    enum kx_status s;

    *out = NULL;
    if ((s = api_digest_week_parse(week, NULL, NULL, NULL, err)) != KX_OK)
        return s;
    if ((s = store_txn_begin(st, 0, &t)) != KX_OK)
        return s;
    snprintf(key, sizeof key, "plan:%s", week);
    s = api_digest_kv_json(t, STORE_DIGEST, key, &sum);
    if (s == KX_NOTFOUND)
        kx_error_set(err, s, "week", "no plan for week %s (run `kxmatch "
                     "digest plan --week %s`)", week, week);
    if (s == KX_OK) {
        snprintf(key, sizeof key, "plan:%s:pair:", week);
        pc.arr = json_object_new_array();
        pc.skip = strlen(key);
        s = store_kv_each(t, STORE_DIGEST, key, strlen(key), pair_to_json,
                          &pc);
        json_object_object_add(sum, "pairs", pc.arr);
    }
    store_txn_abort(t);
    if (s != KX_OK) {
        json_object_put(sum);
        return s;
    }
    *out = sum;
    return KX_OK;
}
