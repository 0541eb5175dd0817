/* service.c - how the service itself is doing: GET /healthz (liveness,
 * and whether the index lags the store) and GET /metrics (Prometheus
 * text). */
#include "reply.h"
#include "server.h"
#include "util.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    struct kx_buf b = {0};
    store_txn *t = NULL;
    enum MHD_Result ret;
    int nr = api_route_count();

    kx_buf_printf(&b, "# HELP kxmatch_http_requests_total HTTP requests answered, "
                      "by route and status.\n"
                      "# TYPE kxmatch_http_requests_total counter\n");
    for (int i = 0; i < nr; i++)
        for (int c = 0; c < API_NCODES; c++) {
            unsigned long n = atomic_load(&m->count[i][c]);
            unsigned code = api_metric_code(c);
            if (!n)
                continue;
            if (code)
                kx_buf_printf(&b, "kxmatch_http_requests_total{route=\"%s\","
                                  "code=\"%u\"} %lu\n", api_route_name(i), code, n);
            else
                kx_buf_printf(&b, "kxmatch_http_requests_total{route=\"%s\","
                                  "code=\"other\"} %lu\n", api_route_name(i), n);
        }
    kx_buf_printf(&b, "# HELP kxmatch_http_request_duration_seconds Time from a "
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
                kx_buf_printf(&b, "kxmatch_http_request_duration_seconds_bucket"
                                  "{route=\"%s\",le=\"+Inf\"} %lu\n",
                              api_route_name(i), cum);
            else
                kx_buf_printf(&b, "kxmatch_http_request_duration_seconds_bucket"
                                  "{route=\"%s\",le=\"%g\"} %lu\n",
                              api_route_name(i), api_metric_bound(k), cum);
        }
        kx_buf_printf(&b, "kxmatch_http_request_duration_seconds_sum{route=\"%s\"}"
                          " %.6f\n", api_route_name(i),
                      (double)atomic_load(&m->sum_us[i]) / 1e6);
        kx_buf_printf(&b, "kxmatch_http_request_duration_seconds_count{route=\"%s\"}"
                          " %lu\n", api_route_name(i), total);
    }
    kx_buf_printf(&b, "# HELP kxmatch_index_writes_total Records changed through "
                      "the API.\n# TYPE kxmatch_index_writes_total counter\n"
                      "kxmatch_index_writes_total %lu\n",
              atomic_load(&m->writes));
    {
        struct idx_lag lag;

        idx_lag(r->srv->x, &lag);
        kx_buf_printf(&b, "# HELP kxmatch_index_pending Changes in the store that "
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
        kx_buf_printf(&b, "# HELP kxmatch_records Records in the store, by kind.\n"
                          "# TYPE kxmatch_records gauge\n");
        for (int k = 0; k < KX_KIND_LAST; k++) {
            char tag[32];
            size_t n = 0;
            snprintf(tag, sizeof tag, "K:%s", record_kind_name(k));
            if (store_posting_count(t, tag, &n) == KX_OK)
                kx_buf_printf(&b, "kxmatch_records{kind=\"%s\"} %zu\n",
                              record_kind_name(k), n);
        }
        store_txn_abort(t);
    }
    pthread_mutex_lock(&r->srv->plock);
    kx_buf_printf(&b, "# HELP kxmatch_read_slots Reader handles opened (one per "
                      "concurrent request at most).\n# TYPE kxmatch_read_slots "
                      "gauge\nkxmatch_read_slots %zu\n", r->srv->nslots);
    pthread_mutex_unlock(&r->srv->plock);
    pthread_mutex_lock(&r->srv->conn_lock);
    kx_buf_printf(&b, "# HELP kxmatch_connections_open Client connections open, "
                      "this one included.\n# TYPE kxmatch_connections_open "
                      "gauge\nkxmatch_connections_open %zu\n",
              r->srv->conn_open);
    pthread_mutex_unlock(&r->srv->conn_lock);
    kx_buf_printf(&b, "# HELP kxmatch_connections_limit Connections open at "
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
        kx_buf_printf(&b, "kxmatch_connections_reaped_total{reason=\"%s\"} %lu\n",
                      api_reap_name(i), atomic_load(&m->conns_reaped[i]));
    kx_buf_printf(&b, "# HELP kxmatch_uptime_seconds Seconds since the server "
                      "started.\n# TYPE kxmatch_uptime_seconds gauge\n"
                      "kxmatch_uptime_seconds %.1f\n", api_now() - r->srv->started);
    if (b.oom) {
        kx_buf_free(&b);
        return api_reply_error(r, KX_NOMEM, "", "out of memory");
    }
    ret = api_reply_body(r, 200, "text/plain; version=0.0.4; charset=utf-8",
                         b.p, b.n);
    kx_buf_free(&b);
    return ret;
}
