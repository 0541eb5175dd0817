/* route_admin.c - the service's own endpoints: GET /healthz, /metrics
 * (Prometheus text), /v1/openapi.json, /v1/whoami, /v1/taxonomy/{kind},
 * and the audit log at /v1/audit. */
#include "reply.h"
#include "server.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A growing text buffer. */
struct sbuf {
    char *s;
    size_t n, cap;
    int oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int need;

    if (b->oom)
        return;
    for (;;) {
        va_start(ap, fmt);
        need = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0,
                         fmt, ap);
        va_end(ap);
        if (need < 0) {
            b->oom = 1;
            return;
        }
        if (b->s && b->n + (size_t)need < b->cap) {
            b->n += (size_t)need;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 8192;
        while (cap < b->n + (size_t)need + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
}

enum MHD_Result api_route_healthz(struct api_req *r)
{
    struct idx_lag lag;
    json_object *idx;
    store_txn *t = NULL;
    size_t records = 0;
    uint64_t seq = 0;
    json_object *o;
    enum kx_status st;

    if ((st = store_txn_begin(r->srv->st, 0, &t)) == KX_OK &&
        (st = store_record_count(t, &records)) == KX_OK)
        st = store_seq(t, &seq);
    store_txn_abort(t);
    if (st != KX_OK)
        return api_reply_error(r, KX_UNAVAILABLE, "", "store: %s",
                               store_errmsg());
    idx_lag(r->srv->x, &lag);
    o = json_object_new_object();
    /* Degraded, not down: every write is kept and reads are served, but
     * search does not see the newest writes until the index catches up. */
    json_object_object_add(o, "status", json_object_new_string(
                                            lag.pending ? "degraded" : "ok"));
    json_object_object_add(o, "records", json_object_new_int64((int64_t)records));
    idx = json_object_new_object();
    json_object_object_add(idx, "pending",
                           json_object_new_int64((int64_t)lag.pending));
    if (lag.error[0])
        json_object_object_add(idx, "error", json_object_new_string(lag.error));
    if (lag.since)
        json_object_object_add(idx, "lagging_s", json_object_new_double(
            (double)(long)(((double)time(NULL) - lag.since) * 10) / 10));
    json_object_object_add(o, "index", idx);
    json_object_object_add(o, "change_seq", json_object_new_int64((int64_t)seq));
    json_object_object_add(o, "writes", json_object_new_int64(
                                            (int64_t)atomic_load(&r->srv->m.writes)));
    json_object_object_add(o, "uptime_s", json_object_new_double(
                                              (double)(long)((api_now() - r->srv->started) * 10) / 10));
    return api_reply_json(r, 200, o);
}

enum MHD_Result api_route_metrics(struct api_req *r)
{
    struct api_metrics *m = &r->srv->m;
    struct sbuf b = {NULL, 0, 0, 0};
    store_txn *t = NULL;
    enum MHD_Result ret;
    int nr = api_route_count();

    sb_printf(&b, "# HELP kxmatch_http_requests_total HTTP requests answered, "
                  "by route and status.\n"
                  "# TYPE kxmatch_http_requests_total counter\n");
    for (int i = 0; i < nr; i++)
        for (int c = 0; c < API_NCODES; c++) {
            unsigned long n = atomic_load(&m->count[i][c]);
            unsigned code = api_metric_code(c);
            if (!n)
                continue;
            if (code)
                sb_printf(&b, "kxmatch_http_requests_total{route=\"%s\","
                              "code=\"%u\"} %lu\n", api_route_name(i), code, n);
            else
                sb_printf(&b, "kxmatch_http_requests_total{route=\"%s\","
                              "code=\"other\"} %lu\n", api_route_name(i), n);
        }
    sb_printf(&b, "# HELP kxmatch_http_request_duration_seconds Time from a "
                  "request's first byte to its completion.\n"
                  "# TYPE kxmatch_http_request_duration_seconds histogram\n");
    for (int i = 0; i < nr; i++) {
        unsigned long cum = 0, total = 0;

        for (int k = 0; k < API_NBUCKETS; k++)
            total += atomic_load(&m->bucket[i][k]);
        if (!total)
            continue;
        for (int k = 0; k < API_NBUCKETS; k++) {
            cum += atomic_load(&m->bucket[i][k]);
            if (k == API_NBUCKETS - 1)
                sb_printf(&b, "kxmatch_http_request_duration_seconds_bucket"
                              "{route=\"%s\",le=\"+Inf\"} %lu\n",
                          api_route_name(i), cum);
            else
                sb_printf(&b, "kxmatch_http_request_duration_seconds_bucket"
                              "{route=\"%s\",le=\"%g\"} %lu\n",
                          api_route_name(i), api_metric_bound(k), cum);
        }
        sb_printf(&b, "kxmatch_http_request_duration_seconds_sum{route=\"%s\"}"
                      " %.6f\n", api_route_name(i),
                  (double)atomic_load(&m->sum_us[i]) / 1e6);
        sb_printf(&b, "kxmatch_http_request_duration_seconds_count{route=\"%s\"}"
                      " %lu\n", api_route_name(i), total);
    }
    sb_printf(&b, "# HELP kxmatch_index_writes_total Records changed through "
                  "the API.\n# TYPE kxmatch_index_writes_total counter\n"
                  "kxmatch_index_writes_total %lu\n",
              atomic_load(&m->writes));
    {
        struct idx_lag lag;

        idx_lag(r->srv->x, &lag);
        sb_printf(&b, "# HELP kxmatch_index_pending Changes in the store that "
                      "the search index does not hold yet.\n"
                      "# TYPE kxmatch_index_pending gauge\n"
                      "kxmatch_index_pending %llu\n"
                      "# HELP kxmatch_index_follow_failures_total Failed "
                      "attempts to bring the search index up to the store.\n"
                      "# TYPE kxmatch_index_follow_failures_total counter\n"
                      "kxmatch_index_follow_failures_total %lu\n",
                  (unsigned long long)lag.pending,
                  atomic_load(&m->index_failures));
    }
    if (store_txn_begin(r->srv->st, 0, &t) == KX_OK) {
        sb_printf(&b, "# HELP kxmatch_records Records in the store, by kind.\n"
                      "# TYPE kxmatch_records gauge\n");
        for (int k = 0; k < KX_KIND_LAST; k++) {
            char tag[32];
            size_t n = 0;
            snprintf(tag, sizeof tag, "K:%s", record_kind_name(k));
            if (store_posting_count(t, tag, &n) == KX_OK)
                sb_printf(&b, "kxmatch_records{kind=\"%s\"} %zu\n",
                          record_kind_name(k), n);
        }
        store_txn_abort(t);
    }
    pthread_mutex_lock(&r->srv->plock);
    sb_printf(&b, "# HELP kxmatch_read_slots Reader handles opened (one per "
                  "concurrent request at most).\n# TYPE kxmatch_read_slots "
                  "gauge\nkxmatch_read_slots %zu\n", r->srv->nslots);
    pthread_mutex_unlock(&r->srv->plock);
    pthread_mutex_lock(&r->srv->conn_lock);
    sb_printf(&b, "# HELP kxmatch_connections_open Client connections open, "
                  "this one included.\n# TYPE kxmatch_connections_open "
                  "gauge\nkxmatch_connections_open %zu\n",
              r->srv->conn_open);
    pthread_mutex_unlock(&r->srv->conn_lock);
    sb_printf(&b, "# HELP kxmatch_connections_limit Connections open at "
                  "once at most, in all and from one client address.\n"
                  "# TYPE kxmatch_connections_limit gauge\n"
                  "kxmatch_connections_limit{scope=\"total\"} %u\n"
                  "kxmatch_connections_limit{scope=\"per_address\"} %u\n"
                  "# HELP kxmatch_connections_accepted_total Client "
                  "connections accepted.\n"
                  "# TYPE kxmatch_connections_accepted_total counter\n"
                  "kxmatch_connections_accepted_total %lu\n"
                  "# HELP kxmatch_connections_reaped_total Connections the "
                  "server shut: request headers or body not in by their "
                  "deadline, or waiting longest while the pool was nearly "
                  "full.\n# TYPE kxmatch_connections_reaped_total counter\n",
              r->srv->conn_max, r->srv->conn_per_ip,
              atomic_load(&m->conns_accepted));
    for (int i = 0; i < API_REAP_LAST; i++)
        sb_printf(&b, "kxmatch_connections_reaped_total{reason=\"%s\"} %lu\n",
                  api_reap_name(i), atomic_load(&m->conns_reaped[i]));
    sb_printf(&b, "# HELP kxmatch_uptime_seconds Seconds since the server "
                  "started.\n# TYPE kxmatch_uptime_seconds gauge\n"
                  "kxmatch_uptime_seconds %.1f\n", api_now() - r->srv->started);
    if (b.oom) {
        free(b.s);
        return api_reply_error(r, KX_NOMEM, "", "out of memory");
    }
    ret = api_reply_body(r, 200, "text/plain; version=0.0.4; charset=utf-8",
                         b.s, b.n);
    free(b.s);
    return ret;
}

/* Reads a whole file (at most max bytes) into a new buffer. */
static enum kx_status slurp(const char *path, size_t max, char **out,
                            size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0, got;

    *out = NULL;
    if (!f)
        return KX_NOTFOUND;
    do {
        if (n + 65536 > cap) {
            char *p;
            cap = cap ? cap * 2 : 65536;
            if (cap > max + 65536 || !(p = realloc(buf, cap))) {
                free(buf);
                fclose(f);
                return cap > max + 65536 ? KX_TOOLARGE : KX_NOMEM;
            }
            buf = p;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *out = buf;
    *len = n;
    return KX_OK;
}

enum MHD_Result api_route_openapi(struct api_req *r)
{
    char *body;
    size_t len;
    enum MHD_Result ret;
    enum kx_status st = slurp(r->srv->openapi_path, 4u << 20, &body, &len);

    if (st != KX_OK)
        return api_reply_error(r, st == KX_NOTFOUND ? KX_IO : st, "",
                               "cannot read %s", r->srv->openapi_path);
    ret = api_reply_body(r, 200, "application/json; charset=utf-8", body, len);
    free(body);
    return ret;
}

enum kx_status api_file_read(const char *path, size_t max, char **out,
                             size_t *len)
{
    return slurp(path, max, out, len);
}

enum MHD_Result api_route_whoami(struct api_req *r)
{
    json_object *o = json_object_new_object();
    store_txn *t = NULL;

    json_object_object_add(o, "id", json_object_new_string(r->who.id));
    json_object_object_add(o, "role", json_object_new_string(
                                          api_role_name(r->who.role)));
    if (r->who.role == API_ROLE_ENTERPRISE) {
        struct kx_record *e = NULL;
        json_object_object_add(o, "enterprise",
                               json_object_new_string(r->who.enterprise));
        if (store_txn_begin(r->srv->st, 0, &t) == KX_OK &&
            api_record_load(t, r->who.enterprise, &e, NULL) == KX_OK) {
            json_object_object_add(o, "enterprise_name", json_object_new_string(
                                                             e->name ? e->name : ""));
            if (e->region)
                json_object_object_add(o, "enterprise_region",
                                       json_object_new_string(e->region));
        }
        record_free(e);
        store_txn_abort(t);
    }
    if (r->who.role == API_ROLE_LIAISON) {
        json_object_object_add(o, "region", json_object_new_string(r->who.region));
        json_object_object_add(o, "region_name", json_object_new_string(
                                                     api_region_name(r->srv->tx, r->who.region)));
    }
    if (r->who.label[0])
        json_object_object_add(o, "label", json_object_new_string(r->who.label));
    return api_reply_json(r, 200, o);
}

struct taxo_ctx {
    const taxo *tx;
    enum taxo_kind k;
    const char *parent, *q;
    json_object *a;
    size_t limit;
};

static int taxo_one(void *vctx, const char *code, const char *name,
                    const char *name_en, const char *remark, int level)
{
    struct taxo_ctx *c = vctx;
    const char *p = taxo_parent(c->tx, c->k, code);
    json_object *o;

    (void)remark;
    if (c->parent ? !p || strcmp(p, c->parent) != 0
        : c->q    ? !strstr(name, c->q) && strncmp(code, c->q, strlen(c->q)) != 0 &&
                     !(name_en && strstr(name_en, c->q))
                  : level != 1)
        return 0;
    o = json_object_new_object();
    json_object_object_add(o, "code", json_object_new_string(code));
    json_object_object_add(o, "name", json_object_new_string(name));
    if (name_en)
        json_object_object_add(o, "name_en", json_object_new_string(name_en));
    json_object_object_add(o, "level", json_object_new_int(level));
    json_object_array_add(c->a, o);
    return json_object_array_length(c->a) >= c->limit;
}

enum MHD_Result api_route_taxonomy(struct api_req *r)
{
    static const char *const allowed[] = {"parent", "q", "limit", NULL};
    struct taxo_ctx c;
    struct kx_error err;
    unsigned limit;
    json_object *o;
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_params_check(r, allowed, &err)) != KX_OK ||
        (st = api_req_uint(r, "limit", 100, 1, 1000, &limit, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    memset(&c, 0, sizeof c);
    if (strcmp(r->arg[0], "industry") == 0)
        c.k = TAXO_INDUSTRY;
    else if (strcmp(r->arg[0], "discipline") == 0)
        c.k = TAXO_DISCIPLINE;
    else if (strcmp(r->arg[0], "region") == 0)
        c.k = TAXO_REGION;
    else
        return api_reply_error(r, KX_NOTFOUND, "", "no taxonomy \"%.40s\" "
                               "(expected industry, discipline or region)",
                               r->arg[0]);
    c.tx = r->srv->tx;
    c.parent = api_req_param(r, "parent");
    c.q = api_req_param(r, "q");
    if (c.parent && !taxo_valid(c.tx, c.k, c.parent))
        return api_reply_error(r, KX_BADINPUT, "parent", "unknown code "
                               "\"%.40s\"", c.parent);
    if (c.q && !*c.q)
        c.q = NULL;
    c.limit = limit;
    c.a = json_object_new_array();
    taxo_each(c.tx, c.k, taxo_one, &c);
    o = json_object_new_object();
    json_object_object_add(o, "taxonomy", json_object_new_string(r->arg[0]));
    json_object_object_add(o, "items", c.a);
    return api_reply_json(r, 200, o);
}

enum MHD_Result api_route_audit(struct api_req *r)
{
    static const char *const allowed[] = {"limit", "before", NULL};
    struct kx_error err;
    store_txn *t = NULL;
    json_object *a = NULL, *o;
    char next[32];
    unsigned limit;
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_params_check(r, allowed, &err)) != KX_OK ||
        (st = api_req_uint(r, "limit", 100, 1, 1000, &limit, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    if ((st = store_txn_begin(r->srv->st, 0, &t)) == KX_OK)
        st = api_audit_list(t, limit, api_req_param(r, "before"), &a, next,
                            &err);
    store_txn_abort(t);
    if (st != KX_OK)
        return api_reply_kx(r, st, &err);
    o = json_object_new_object();
    json_object_object_add(o, "entries", a);
    json_object_object_add(o, "next", json_object_new_string(next));
    return api_reply_json(r, 200, o);
}
