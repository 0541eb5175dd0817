/* server.h - what the files of the HTTP server share (not a public API):
 * the server, one request, per-thread search handles, the route handlers.
 *
 * Threads: libmicrohttpd runs a pool of worker threads; each request takes
 * a slot (its own Xapian reader, tokeniser and match context) for as long
 * as it runs, so readers never wait for each other. Writes go through the
 * one writer (the idx opened with IDX_WRITE, which holds the Xapian write
 * lock) under srv->wlock; after each committed write srv->gen moves on and
 * every slot reopens its reader before its next request.
 *
 * Connections: every open connection is tracked from accept to close with
 * the phase it is in (waiting for headers, for the body, or being answered)
 * and when that phase began; a reaper thread shuts those that keep the
 * server waiting past a deadline, and a new connection that would leave
 * too few free shuts the one that has waited longest for its headers.
 */
#ifndef API_SERVER_H
#define API_SERVER_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#include "account.h"
#include "auth.h"
#include "index.h"
#include "match.h"
#include "parse.h"
#include "ratelimit.h"
#include "search.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_object;

/* API_BODY_MAX, API_JSON_DEPTH, API_ARGS_MAX: parse.h */
#define API_ROUTES_MAX 48
#define API_NCODES 18               /* HTTP statuses counted (metrics) */
#define API_NBUCKETS 12             /* latency histogram buckets */

/* Defaults of the connection limits (api_serve_opts, `serve` options).
 * 4,096 connections: libmicrohttpd sets aside up to 32 KiB for each, so
 * 128 MiB at most beside the index readers. 128 from one address: the
 * benchmark's 64 connections, or an office of browsers behind one NAT,
 * fit, while it takes 32 addresses to fill the pool. 10 s for the request
 * headers (a phone on a poor link sends them in well under one), then
 * 30 s for a body of at most API_BODY_MAX (256 KiB at 70 kbit/s). */
#define API_CONN_MAX 4096
#define API_CONN_PER_IP 128
#define API_HEADER_S 10
#define API_BODY_S 30
/* libmicrohttpd's own timeout: seconds without a byte either way, which
 * ends a client that stops reading its reply. */
#define API_IDLE_S 10

/* Why the server shut a connection itself (counted in metrics). */
enum api_reap {
    API_REAP_HEADERS,   /* headers not complete by their deadline */
    API_REAP_BODY,      /* body not complete by its deadline */
    API_REAP_RESERVE,   /* waited longest while the pool was nearly full */
    API_REAP_LAST
};

struct api_conn;    /* one open connection (server.c) */

/* What a request needs to read the index on its own. */
struct api_slot {
    xap_db *db;             /* a reader of its own */
    text_tokenizer *tok;
    match_ctx *mc;
    unsigned long gen;      /* srv->gen when db was last reopened */
    struct api_slot *next_idle, *next_all;
};

struct api_metrics {
    atomic_ulong count[API_ROUTES_MAX][API_NCODES];
    atomic_ulong bucket[API_ROUTES_MAX][API_NBUCKETS];
    atomic_ulong sum_us[API_ROUTES_MAX];
    atomic_ulong writes;
    atomic_int index_lagging;       /* the last idx_follow failed */
    atomic_ulong index_failures;    /* failed attempts to follow */
    atomic_ulong conns_accepted;    /* connections since start */
    atomic_ulong conns_reaped[API_REAP_LAST];
};

struct api_server {
    idx *x;                     /* the writer */
    store *st;                  /* borrowed from x */
    const taxo *tx;             /* borrowed from x */
    pthread_mutex_t wlock;      /* one write to the index at a time */
    atomic_ulong gen;           /* committed writes so far */
    match_infer *infer;         /* shared read-only */
    struct match_config cfg;
    pthread_mutex_t plock;      /* guards the slot lists */
    struct api_slot *idle, *all;
    size_t nslots;
    char web_dir[4096];
    char openapi_path[4200];
    char org_name[256], org_short[128], from_name[256]; /* never empty */
    char base_url[512];         /* empty: from the request's Host */
    int secure_cookies;         /* base_url is https: cookies are Secure */
    /* sign-in links by mail (session.c); smtp_url "" when not set up */
    char smtp_url[512], mail_from[256];
    const char *smtp_user, *smtp_password; /* borrowed from the environment */
    double started;             /* api_now() at start */
    struct MHD_Daemon *daemon;
    struct api_metrics m;
    /* follow.c: catches the index up after a failed Xapian commit */
    pthread_t follower;
    int follower_on;
    pthread_mutex_t flock;
    pthread_cond_t fwake;
    int fstop;
    /* server.c: the open connections, oldest phase first, under conn_lock,
     * and their limits (after the open-file limit) */
    pthread_mutex_t conn_lock;
    struct api_conn *conn_head, *conn_tail;
    size_t conn_open;           /* accepted and not yet closed */
    size_t conn_shut;           /* of those, shut down by us */
    unsigned conn_max, conn_reserve, conn_per_ip;
    double header_s, body_s;
    pthread_t reaper;
    int reaper_on, reaper_stop;
    pthread_cond_t reaper_wake; /* on CLOCK_MONOTONIC */
    atomic_long log_sec;        /* when libmicrohttpd last had a line */
    atomic_ulong log_dropped;   /* its lines not shown since */
    struct api_ratelimit rate;  /* writes per token */
};

/* One request, from its first byte to its completion. */
struct api_req {
    struct api_server *srv;
    struct MHD_Connection *conn;
    const char *method, *url;   /* borrowed from libmicrohttpd */
    char *body;                 /* NUL-terminated, owned */
    size_t blen, bcap;
    int too_big;
    const char *bad_framing;    /* why the body's framing is refused */
    int route;                  /* index in the route table, -1 if none */
    const char *arg[API_ARGS_MAX]; /* path wildcards, into pathbuf */
    char pathbuf[512];
    unsigned http;              /* status sent */
    double t0;
    struct api_principal who;   /* set before a handler with roles runs */
    int by_session;             /* who came from the session cookie */
    char session[API_SECRET_LEN + 1]; /* its value, "" if none */
    char csrf[API_SECRET_LEN + 1];    /* its CSRF token */
    char set_cookie[256];       /* a Set-Cookie header to send, "" none */
    struct api_slot *slot;      /* taken by api_req_slot, given back at the end */
    struct api_conn *cn;        /* its connection, NULL if untracked */
};

/* Route handlers send exactly one reply (through reply.h). */
typedef enum MHD_Result (*api_handler)(struct api_req *r);

/* ---- follow.c ------------------------------------------------------------ */

/* Brings the Xapian index up to LMDB after a write (idx_follow), under the
 * write lock the caller holds; on failure logs the fault once and wakes
 * the follower, which retries until the index catches up. fresh (may be
 * NULL): the record just written, as idx_follow takes it. KX_OK when
 * Xapian holds every acknowledged write; otherwise idx_follow's status. */
enum kx_status api_index_follow(struct api_server *s,
                                const struct kx_record *fresh);

/* Starts and stops the follower thread: while the index lags it retries
 * every API_FOLLOW_RETRY_MS under the write lock, and makes the readers
 * reopen once it caught up. Start: KX_OK or KX_NOMEM. Stop: NULL and a
 * server whose follower never started are allowed. */
#define API_FOLLOW_RETRY_MS 1000
enum kx_status api_follower_start(struct api_server *s);
void api_follower_stop(struct api_server *s);

/* ---- server.c ------------------------------------------------------------ */

struct api_serve_opts {
    const char *db;         /* data directory (created if missing) */
    const char *taxonomy;   /* NULL: the default */
    const char *listen;     /* "HOST:PORT"; port 0 picks a free one */
    const char *web_dir;    /* NULL: $KXMATCH_WEB, else the build's */
    const char *config;     /* extra weights file, or NULL */
    unsigned threads;       /* worker threads (0: 4) */
    unsigned max_conns;     /* connections in all (0: API_CONN_MAX); fewer
                             * if the open-file limit allows fewer */
    unsigned per_ip;        /* from one client address (0: API_CONN_PER_IP) */
    unsigned header_s;      /* seconds to send the headers (0: API_HEADER_S) */
    unsigned body_s;        /* then the body (0: API_BODY_S) */
    int write_rate;         /* writes a minute per token (-1: the default
                             * API_RATE_PER_MIN, 0: no limit) */
    /* Who runs the site (config.h), for GET /v1/site and digest previews;
     * NULL: the defaults. Copied at start. */
    const char *org_name, *org_short, *from_name;
    const char *base_url;   /* NULL: links follow the request's Host */
    const char *smtp_url;   /* sign-in links by mail; NULL: not offered */
    const char *mail_from;  /* their sender */
};

/* Opens the index for writing and starts serving. KX_LOCKED if another
 * process holds the index; KX_IO if the address cannot be bound (err names
 * the address and says why, e.g. "already in use"). *port gets the port
 * bound, (*out)->conn_max the connection limit in force. *out is the
 * caller's (api_server_stop). */
enum kx_status api_server_start(const struct api_serve_opts *o,
                                struct api_server **out, unsigned *port,
                                struct kx_error *err);
/* Stops accepting, waits for running requests, frees everything. */
void api_server_stop(struct api_server *s);

/* Seconds on a monotonic clock. */
double api_now(void);

/* The slot of r, taken on first use, with its reader at the latest
 * committed revision. NULL with *st set if one cannot be made. */
struct api_slot *api_req_slot(struct api_req *r, enum kx_status *st);
/* Reopens the slot's reader (after a KX_XAPIAN, before one retry). */
void api_slot_refresh(struct api_slot *sl);

/* How many times a read runs again on a reader that a writer overtook. */
#define API_STALE_RETRIES 6

/* 1 if st is what a reader's old revision can give while a writer moves
 * on (KX_XAPIAN, or KX_CORRUPT: Xapian reading a block the writer reused)
 * and *tries, counted up here, is still below API_STALE_RETRIES: the
 * slot's reader is then reopened for the retry the caller makes, as in
 *     int tries = 0;
 *     do st = read(sl); while (api_slot_stale(sl, st, &tries));
 * 0 otherwise. A slow read under a writer that commits twice while it
 * runs can be overtaken again, hence more than one retry; a database
 * that is corrupt indeed fails every retry and its error is returned. */
int api_slot_stale(struct api_slot *sl, enum kx_status st, int *tries);

/* A query parameter (the first if repeated), or NULL. Borrowed. */
const char *api_req_param(struct api_req *r, const char *name);
/* All values of a parameter, repeated or comma-separated, split into buf
 * (n bytes); out gets at most max pointers into buf. Returns the count, or
 * max + 1 if there were more. */
size_t api_req_list(struct api_req *r, const char *name, char *buf, size_t n,
                    const char **out, size_t max);
/* KX_BADINPUT naming the first parameter not in allowed (NULL-terminated)
 * or not valid UTF-8. */
enum kx_status api_req_params_check(struct api_req *r,
                                    const char *const *allowed,
                                    struct kx_error *err);
/* An unsigned parameter in [lo, hi], dflt if absent; KX_BADINPUT if not. */
enum kx_status api_req_uint(struct api_req *r, const char *name,
                            unsigned dflt, unsigned lo, unsigned hi,
                            unsigned *out, struct kx_error *err);
/* The body as a JSON object: api_body_parse (parse.h) of r's body and
 * Content-Type header, whose size was capped as it arrived. KX_BADINPUT
 * with err saying where it broke, KX_UNSUPPORTED (answered 415).
 * *out is the caller's. */
enum kx_status api_req_body(struct api_req *r, struct json_object **out,
                            struct kx_error *err);

/* Brackets a write to the index: one writer at a time; changed != 0 makes
 * every reader reopen before its next request. */
void api_write_lock(struct api_server *s);
void api_write_unlock(struct api_server *s, int changed);

/* Route names for metrics, by index; api_route_count() of them. */
const char *api_route_name(int i);
int api_route_count(void);
/* Metrics: the HTTP status counted in column i (0: any other), and the
 * upper bound in seconds of latency bucket i. */
unsigned api_metric_code(int i);
double api_metric_bound(int i);
/* The metrics label of an enum api_reap ("header_timeout"...). Static. */
const char *api_reap_name(int i);

/* ---- shared helpers (records.c) ------------------------------------ */

/* What a write checks first, inside its write transaction. Sets *same when
 * the write would store exactly what is stored (a retried POST). */
typedef enum kx_status (*api_record_check_fn)(struct api_req *r, store_txn *t,
                                              struct kx_record *rec, int *same,
                                              struct kx_error *err);

/* Stores rec as one unit (needs.c): in one LMDB transaction the check, the
 * record with its postings, profile and change-log entry (a need's
 * enterprise must exist), and the audit entry `what` by r->who; then
 * Xapian follows. A Xapian failure does not undo an acknowledged write:
 * *indexed says whether Xapian holds the change, and the server's
 * follower catches up. *same: nothing needed writing. rec stays the
 * caller's. Statuses: check's, KX_NOTFOUND (a need's enterprise), the
 * store's. */
enum kx_status api_record_store(struct api_req *r, struct kx_record *rec,
                                api_record_check_fn check, const char *what,
                                int *indexed, int *same,
                                struct kx_error *err);

/* Reads and parses the record key in t: KX_NOTFOUND (err says "no record",
 * deleted or never written alike), KX_CORRUPT. *out is the caller's (record_free). */
enum kx_status api_record_load(store_txn *t, const char *key,
                               struct kx_record **out, struct kx_error *err);
/* {"record": canonical JSON (redacted for r->who), "labels": names of its
 * codes and references}. New reference. */
struct json_object *api_record_view(struct api_req *r, store_txn *t,
                                    const struct kx_record *rec);
/* Adds names for people to every entry of a match_result_json():
 * why.region.partner_name, and why.via_name read from st. */
void api_match_json_names(struct json_object *o, const taxo *tx, store *st);
/* Names of a region code's own level ("滨城区"), or "". Borrowed. */
const char *api_region_name(const taxo *tx, const char *code);

/* Reads a whole file (at most max bytes, else KX_TOOLARGE) into *out (the
 * caller's to free()); KX_NOTFOUND if it cannot be opened. */
enum kx_status api_file_read(const char *path, size_t max, char **out,
                             size_t *len);

/* ---- the pipeline (pipeline.c) ------------------------------------ */

/* Rank of a pipeline stage on the way to an agreement: shortlisted and
 * interested 1, contacted 2, agreement_signed 3, declined 0; -1 for no
 * stage. */
int api_stage_rank(const char *stage);
/* The pipeline entry of the pair (need, partner), or NULL: the caller's. */
struct json_object *api_pipeline_get(store_txn *t, const char *need,
                                     const char *partner);
/* Moves the pair (need key nk, partner key pk) to stage with note (may be
 * NULL) on behalf of who, with its history and audit entry, in one write
 * transaction; the caller has checked that who may. *entry gets the entry
 * (the caller's), *created whether the pair was new. The store's
 * statuses. */
enum kx_status api_pipeline_move(store *st, const struct api_principal *who,
                                 const char *nk, const char *pk,
                                 const char *stage, const char *note,
                                 struct json_object **entry, int *created);
/* Calls fn for every pipeline entry ({need, partner, stage, history...},
 * borrowed for the call) in key order; non-zero from fn stops. */
typedef int (*api_pipeline_fn)(void *ctx, struct json_object *entry);
enum kx_status api_pipeline_each(store_txn *t, const char *need_key,
                                 api_pipeline_fn fn, void *ctx);

/* ---- handlers ------------------------------------------------------------ */

/* One per route of the table in server.c, documented in api/openapi.json.
 * The dispatcher has checked the token and the role (r->who) for routes
 * that need one; each handler checks what is particular to its records
 * (a need's owner, region, visibility) and sends exactly one reply. */

/* session.c */
enum MHD_Result api_route_session_post(struct api_req *r);
enum MHD_Result api_route_session_delete(struct api_req *r);
enum MHD_Result api_route_session_link(struct api_req *r);
enum MHD_Result api_route_session_redeem(struct api_req *r);
enum MHD_Result api_route_token_post(struct api_req *r);
/* users.c */
enum MHD_Result api_route_users_list(struct api_req *r);
enum MHD_Result api_route_users_post(struct api_req *r);
enum MHD_Result api_route_user_put(struct api_req *r);
/* me.c */
enum MHD_Result api_route_me_record_get(struct api_req *r);
enum MHD_Result api_route_me_record_put(struct api_req *r);
enum MHD_Result api_route_me_matches(struct api_req *r);
enum MHD_Result api_route_me_proposals(struct api_req *r);
enum MHD_Result api_route_me_answer(struct api_req *r);
enum MHD_Result api_route_answer_get(struct api_req *r);
enum MHD_Result api_route_answer_post(struct api_req *r);

/* Reads the string fields of a body object into out (parallel to the
 * NULL-terminated names; NULL where absent): KX_BADINPUT naming a field
 * that is not in names or not a string (session.c). */
enum kx_status api_body_strings(struct json_object *o,
                                const char *const *names, const char **out,
                                struct kx_error *err);

/* The query string (no parameters taken), the body and its string
 * fields (api_body_strings) of a write: the first failure's status, err
 * saying what; *o gets the body (the caller's, NULL on failure). */
enum kx_status api_req_fields(struct api_req *r, const char *const *names,
                              const char **out, struct json_object **o,
                              struct kx_error *err);

/* May partner `me` answer the proposal (need, partner) with answer
 * ("interested" or "declined") and note? partner is me or a result me
 * owns; the need public and not closed (me.c). KX_BADINPUT, KX_TOOLARGE,
 * KX_NOTFOUND, KX_CONFLICT, KX_FORBIDDEN with err naming the field. */
enum kx_status api_answer_check(store_txn *t, const char *me,
                                const char *need, const char *partner,
                                const char *answer, const char *note,
                                struct kx_error *err);

/* service.c */
enum MHD_Result api_route_healthz(struct api_req *r);
enum MHD_Result api_route_metrics(struct api_req *r);
/* reference.c */
enum MHD_Result api_route_openapi(struct api_req *r);
enum MHD_Result api_route_whoami(struct api_req *r);
/* GET /v1/site: who runs the site, for the pages before sign-in. */
enum MHD_Result api_route_site(struct api_req *r);
enum MHD_Result api_route_taxonomy(struct api_req *r);
/* audit.c */
enum MHD_Result api_route_audit(struct api_req *r);
/* needs_list.c */
enum MHD_Result api_route_needs_list(struct api_req *r);
/* needs.c */
enum MHD_Result api_route_need_post(struct api_req *r);
enum MHD_Result api_route_need_get(struct api_req *r);
enum MHD_Result api_route_need_put(struct api_req *r);
enum MHD_Result api_route_need_delete(struct api_req *r);
enum MHD_Result api_route_need_matches(struct api_req *r);
/* search.c */
enum MHD_Result api_route_search(struct api_req *r);
/* records.c */
enum MHD_Result api_route_record_get(struct api_req *r);
enum MHD_Result api_route_partner_matches(struct api_req *r);
/* pipeline.c */
enum MHD_Result api_route_pipeline_post(struct api_req *r);
enum MHD_Result api_route_pipeline_list(struct api_req *r);
/* stats.c */
enum MHD_Result api_route_stats(struct api_req *r);
/* web.c */
enum MHD_Result api_route_web(struct api_req *r);
/* digests.c */
enum MHD_Result api_route_digest_preview(struct api_req *r);
enum MHD_Result api_route_digest_unsubscribe(struct api_req *r);

#ifdef __cplusplus
}
#endif
#endif
