/* server.c - the HTTP server: libmicrohttpd set-up, the route table and
 * dispatch, request bodies and parameters, per-thread read slots, the one
 * writer, and the connection limits and deadlines. */
#include "server.h"
#include "config.h"
#include "parse.h"
#include "reply.h"

#include <errno.h>
#include <json-c/json.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "share.h"

/* A body announced beyond this is refused at once instead of drained. */
#define DRAIN_MAX (16u << 20)

struct route {
    const char *method;
    const char *path;   /* '*' matches one segment */
    api_handler fn;
    const char *name;   /* for metrics */
    unsigned roles;     /* 0: no token needed */
};

#define R_WRITE_NEEDS (API_R_ENTERPRISE | API_R_ADMIN)
#define R_BROKER (API_R_LIAISON | API_R_ADMIN)

/* Order matters where patterns overlap: /v1/needs/... before /v1/KIND/... */
static const struct route routes[] = {
    {"GET", "/healthz", api_route_healthz, "healthz", 0},
    {"GET", "/metrics", api_route_metrics, "metrics", 0},
    {"GET", "/v1/openapi.json", api_route_openapi, "openapi", 0},
    {"GET", "/v1/site", api_route_site, "site", 0},
    {"GET", "/v1/whoami", api_route_whoami, "whoami", API_R_PEOPLE},
    {"POST", "/v1/session", api_route_session_post, "session_post", 0},
    {"DELETE", "/v1/session", api_route_session_delete, "session_delete",
     API_R_PEOPLE},
    {"POST", "/v1/session/link", api_route_session_link, "session_link", 0},
    {"POST", "/v1/session/redeem", api_route_session_redeem,
     "session_redeem", 0},
    {"POST", "/v1/tokens", api_route_token_post, "token_post", API_R_PEOPLE},
    {"GET", "/v1/users", api_route_users_list, "users_list", API_R_ADMIN},
    {"POST", "/v1/users", api_route_users_post, "users_post", API_R_ADMIN},
    {"PUT", "/v1/users/*", api_route_user_put, "user_put", API_R_ADMIN},
    {"GET", "/v1/me/record", api_route_me_record_get, "me_record_get",
     API_R_PARTNER},
    {"PUT", "/v1/me/record", api_route_me_record_put, "me_record_put",
     API_R_PARTNER},
    {"GET", "/v1/me/matches", api_route_me_matches, "me_matches",
     API_R_PARTNER},
    {"GET", "/v1/me/proposals", api_route_me_proposals, "me_proposals",
     API_R_PARTNER},
    {"POST", "/v1/me/answers", api_route_me_answer, "me_answer",
     API_R_PARTNER},
    {"GET", "/v1/answers", api_route_answer_get, "answer_get", 0},
    {"POST", "/v1/answers", api_route_answer_post, "answer_post", 0},
    {"GET", "/v1/taxonomy/*", api_route_taxonomy, "taxonomy", API_R_PEOPLE},
    {"GET", "/v1/needs", api_route_needs_list, "needs_list", API_R_ANY},
    {"POST", "/v1/needs", api_route_need_post, "need_post", R_WRITE_NEEDS},
    {"GET", "/v1/needs/*", api_route_need_get, "need_get",
     API_R_ANY | API_R_PARTNER},
    {"PUT", "/v1/needs/*", api_route_need_put, "need_put", R_WRITE_NEEDS},
    {"DELETE", "/v1/needs/*", api_route_need_delete, "need_delete",
     R_WRITE_NEEDS},
    {"GET", "/v1/needs/*/matches", api_route_need_matches, "need_matches",
     API_R_ANY},
    {"GET", "/v1/search", api_route_search, "search", API_R_ANY},
    {"GET", "/v1/records/*/*", api_route_record_get, "record_get", API_R_ANY},
    {"GET", "/v1/*/*/matches", api_route_partner_matches, "partner_matches",
     R_BROKER},
    {"POST", "/v1/pipeline", api_route_pipeline_post, "pipeline_post",
     R_BROKER},
    {"GET", "/v1/pipeline", api_route_pipeline_list, "pipeline_list",
     R_BROKER},
    {"GET", "/v1/stats", api_route_stats, "stats", R_BROKER},
    {"GET", "/v1/audit", api_route_audit, "audit", API_R_ADMIN},
    {"GET", "/v1/digests/preview", api_route_digest_preview, "digest_preview",
     R_BROKER},
    {"GET", "/v1/digests/unsubscribe", api_route_digest_unsubscribe,
     "digest_unsubscribe_ask", 0},
    {"POST", "/v1/digests/unsubscribe", api_route_digest_unsubscribe,
     "digest_unsubscribe", 0},
    /* anything else under GET: the web pages */
    {"GET", NULL, api_route_web, "web", 0},
};
#define NROUTES ((int)(sizeof routes / sizeof routes[0]))
_Static_assert(sizeof routes / sizeof routes[0] < API_ROUTES_MAX,
               "raise API_ROUTES_MAX");

const char *api_route_name(int i)
{
    return i >= 0 && i < NROUTES ? routes[i].name : "none";
}

int api_route_count(void)
{
    return NROUTES + 1; /* and "none": no route matched */
}

double api_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- slots --------------------------------------------------------------- */

static void slot_free(struct api_slot *sl)
{
    if (!sl)
        return;
    match_ctx_free(sl->mc);
    text_tokenizer_free(sl->tok);
    xap_close(sl->db);
    free(sl);
}

static enum kx_status slot_new(struct api_server *s, struct api_slot **out)
{
    struct api_slot *sl = calloc(1, sizeof *sl);
    enum kx_status st;

    *out = NULL;
    if (!sl)
        return KX_NOMEM;
    sl->gen = atomic_load(&s->gen);
    if ((st = idx_xap_reader(s->x, &sl->db)) != KX_OK ||
        (st = text_tokenizer_new(&sl->tok)) != KX_OK ||
        (st = match_ctx_new(s->st, sl->db, sl->tok, s->tx, s->infer, &s->cfg,
                            &sl->mc)) != KX_OK) {
        slot_free(sl);
        return st;
    }
    pthread_mutex_lock(&s->plock);
    sl->next_all = s->all;
    s->all = sl;
    s->nslots++;
    pthread_mutex_unlock(&s->plock);
    *out = sl;
    return KX_OK;
}

struct api_slot *api_req_slot(struct api_req *r, enum kx_status *st)
{
    struct api_server *s = r->srv;
    struct api_slot *sl;
    unsigned long gen;

    *st = KX_OK;
    if (r->slot)
        return r->slot;
    pthread_mutex_lock(&s->plock);
    sl = s->idle;
    if (sl)
        s->idle = sl->next_idle;
    pthread_mutex_unlock(&s->plock);
    if (!sl && (*st = slot_new(s, &sl)) != KX_OK)
        return NULL;
    /* Read gen before reopening: a write landing meanwhile bumps it again
     * and the next request reopens once more. */
    gen = atomic_load(&s->gen);
    if (sl->gen != gen) {
        xap_reopen(sl->db);
        sl->gen = gen;
    }
    r->slot = sl;
    return sl;
}

void api_slot_refresh(struct api_slot *sl)
{
    xap_reopen(sl->db);
}

int api_slot_stale(struct api_slot *sl, enum kx_status st, int *tries)
{
    if (st != KX_XAPIAN && st != KX_CORRUPT)
        return 0;
    if (++*tries > API_STALE_RETRIES)
        return 0;
    api_slot_refresh(sl);
    return 1;
}

static void slot_give(struct api_server *s, struct api_slot *sl)
{
    pthread_mutex_lock(&s->plock);
    sl->next_idle = s->idle;
    s->idle = sl;
    pthread_mutex_unlock(&s->plock);
}

void api_write_lock(struct api_server *s)
{
    pthread_mutex_lock(&s->wlock);
}

void api_write_unlock(struct api_server *s, int changed)
{
    if (changed) {
        atomic_fetch_add(&s->gen, 1);
        atomic_fetch_add(&s->m.writes, 1);
    }
    pthread_mutex_unlock(&s->wlock);
}

/* ---- parameters and bodies ----------------------------------------------- */

const char *api_req_param(struct api_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct list_ctx {
    const char *name;
    struct api_list l;
};

static enum MHD_Result list_one(void *vctx, enum MHD_ValueKind kind,
                                const char *key, const char *value)
{
    struct list_ctx *c = vctx;

    (void)kind;
    if (strcmp(key, c->name) != 0 || !value)
        return MHD_YES;
    return api_list_add(&c->l, value) ? MHD_YES : MHD_NO;
}

size_t api_req_list(struct api_req *r, const char *name, char *buf, size_t n,
                    const char **out, size_t max)
{
    struct list_ctx c = {name, {buf, n, 0, out, max, 0}};

    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, list_one, &c);
    return c.l.count;
}

struct check_ctx {
    const char *const *allowed;
    struct kx_error *err;
    enum kx_status st;
};

static enum MHD_Result check_one(void *vctx, enum MHD_ValueKind kind,
                                 const char *key, const char *value)
{
    struct check_ctx *c = vctx;

    (void)kind;
    c->st = api_param_check(key, value, c->allowed, c->err);
    return c->st == KX_OK ? MHD_YES : MHD_NO;
}

enum kx_status api_req_params_check(struct api_req *r,
                                    const char *const *allowed,
                                    struct kx_error *err)
{
    struct check_ctx c = {allowed, err, KX_OK};

    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, check_one, &c);
    return c.st;
}

enum kx_status api_req_uint(struct api_req *r, const char *name,
                            unsigned dflt, unsigned lo, unsigned hi,
                            unsigned *out, struct kx_error *err)
{
    return api_param_uint(name, api_req_param(r, name), dflt, lo, hi, out,
                          err);
}

enum kx_status api_req_body(struct api_req *r, json_object **out,
                            struct kx_error *err)
{
    const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_TYPE);

    return api_body_parse(ct, r->body, r->blen, out, err);
}

/* ---- connections: limits and deadlines ----------------------------------- */

/* libmicrohttpd's own timeout starts again with every byte, so a client
 * that sends its headers a byte at a time keeps its connection for ever,
 * and a thousand such clients kept every connection there was. Hence the
 * deadlines below, counted from when a phase began, whatever trickles in.
 *
 * A connection is ended from outside its worker thread with shutdown():
 * the worker reads end-of-file and closes it as if the client had gone.
 * libmicrohttpd reports the close (on_connection) before it closes the
 * descriptor, and both run under conn_lock, so a tracked fd is never one
 * already reused for something else. */

/* How often the reaper looks: the precision of the deadlines. */
#define REAP_MS 250

enum conn_phase {
    PH_HEADERS, /* waiting for request headers, also between requests */
    PH_BODY,    /* headers in, waiting for the rest of the body */
    PH_REPLY    /* ours: the handler runs or the reply goes out */
};

struct api_conn {
    int fd;
    enum conn_phase phase;
    double since;               /* api_now() when the phase began */
    int shut;                   /* shut down by us, not closed yet */
    struct api_conn *prev, *next;
};

static const char *const reap_names[API_REAP_LAST] = {
    "header_timeout", "body_timeout", "reserve"};

const char *api_reap_name(int i)
{
    return i >= 0 && i < API_REAP_LAST ? reap_names[i] : "none";
}

static void conn_unlink(struct api_server *s, struct api_conn *cn)
{
    if (cn->prev)
        cn->prev->next = cn->next;
    else
        s->conn_head = cn->next;
    if (cn->next)
        cn->next->prev = cn->prev;
    else
        s->conn_tail = cn->prev;
    cn->prev = cn->next = NULL;
}

/* Appending whenever a phase begins, with 'since' read under conn_lock,
 * keeps the list ordered by 'since'. */
static void conn_append(struct api_server *s, struct api_conn *cn)
{
    cn->prev = s->conn_tail;
    cn->next = NULL;
    if (s->conn_tail)
        s->conn_tail->next = cn;
    else
        s->conn_head = cn;
    s->conn_tail = cn;
}

/* Under conn_lock. */
static void conn_shut(struct api_server *s, struct api_conn *cn,
                      enum api_reap why)
{
    shutdown(cn->fd, SHUT_RDWR);
    cn->shut = 1;
    s->conn_shut++;
    atomic_fetch_add(&s->m.conns_reaped[why], 1);
}

/* Under conn_lock: keeps conn_reserve connections free for whoever comes
 * next (a health check, a client with a real request) by shutting the
 * connection that has waited longest for its headers, else for its body.
 * Those being answered are never shut. */
static void conn_make_room(struct api_server *s)
{
    while (s->conn_open - s->conn_shut + s->conn_reserve > s->conn_max) {
        struct api_conn *cn, *body = NULL;

        for (cn = s->conn_head; cn; cn = cn->next) {
            if (cn->shut || cn->phase == PH_REPLY)
                continue;
            if (cn->phase == PH_HEADERS)
                break;
            if (!body)
                body = cn;
        }
        if (!cn && !(cn = body))
            return;
        conn_shut(s, cn, API_REAP_RESERVE);
    }
}

static void conn_phase(struct api_server *s, struct api_conn *cn,
                       enum conn_phase ph)
{
    if (!cn)
        return;
    pthread_mutex_lock(&s->conn_lock);
    cn->phase = ph;
    cn->since = api_now();
    conn_unlink(s, cn);
    conn_append(s, cn);
    pthread_mutex_unlock(&s->conn_lock);
}

static void on_connection(void *cls, struct MHD_Connection *c,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct api_server *s = cls;
    struct api_conn *cn = *socket_context;
    const union MHD_ConnectionInfo *ci;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        if (!(ci = MHD_get_connection_info(c,
                                           MHD_CONNECTION_INFO_CONNECTION_FD)))
            return;
        if (!(cn = calloc(1, sizeof *cn))) {
            /* Untracked, it would escape every deadline. */
            shutdown(ci->connect_fd, SHUT_RDWR);
            return;
        }
        cn->fd = ci->connect_fd;
        cn->phase = PH_HEADERS;
        pthread_mutex_lock(&s->conn_lock);
        cn->since = api_now();
        conn_append(s, cn);
        s->conn_open++;
        conn_make_room(s);
        pthread_mutex_unlock(&s->conn_lock);
        atomic_fetch_add(&s->m.conns_accepted, 1);
        *socket_context = cn;
        return;
    }
    if (!cn)
        return;
    pthread_mutex_lock(&s->conn_lock);
    conn_unlink(s, cn);
    s->conn_open--;
    if (cn->shut)
        s->conn_shut--;
    pthread_mutex_unlock(&s->conn_lock);
    free(cn);
    *socket_context = NULL;
}

/* The tracked connection of c, NULL if it could not be tracked. */
static struct api_conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci ? ci->socket_context : NULL;
}

static void *reaper(void *arg)
{
    struct api_server *s = arg;
    double first = s->header_s < s->body_s ? s->header_s : s->body_s;

    pthread_mutex_lock(&s->conn_lock);
    while (!s->reaper_stop) {
        double now = api_now();
        struct timespec until;

        /* Oldest first: past the first one younger than both deadlines
         * none is due. */
        for (struct api_conn *cn = s->conn_head;
             cn && now - cn->since >= first; cn = cn->next) {
            if (cn->shut)
                continue;
            if (cn->phase == PH_HEADERS && now - cn->since >= s->header_s)
                conn_shut(s, cn, API_REAP_HEADERS);
            else if (cn->phase == PH_BODY && now - cn->since >= s->body_s)
                conn_shut(s, cn, API_REAP_BODY);
        }
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += REAP_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&s->reaper_wake, &s->conn_lock, &until);
    }
    pthread_mutex_unlock(&s->conn_lock);
    return NULL;
}

static enum kx_status reaper_start(struct api_server *s)
{
    s->reaper_stop = 0;
    if (pthread_create(&s->reaper, NULL, reaper, s) != 0)
        return KX_NOMEM;
    s->reaper_on = 1;
    return KX_OK;
}

static void reaper_stop(struct api_server *s)
{
    if (!s->reaper_on)
        return;
    pthread_mutex_lock(&s->conn_lock);
    s->reaper_stop = 1;
    pthread_cond_signal(&s->reaper_wake);
    pthread_mutex_unlock(&s->conn_lock);
    pthread_join(s->reaper, NULL);
    s->reaper_on = 0;
}

/* Descriptors kept from connections for everything else: the index and a
 * reader per slot (several files each), epoll and a wake-up per worker. */
#define FD_SPARE 64
#define FD_SPARE_PER_THREAD 16

/* The connection limit: want, or as many as the open-file limit leaves
 * room for; at least one per worker thread, which libmicrohttpd needs. */
static unsigned conn_max_fit(unsigned want, unsigned threads)
{
    rlim_t spare = FD_SPARE + (rlim_t)FD_SPARE_PER_THREAD * threads;
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        rlim_t room = rl.rlim_cur > 2 * spare ? rl.rlim_cur - spare
                                              : rl.rlim_cur / 2;
        if (room < want)
            want = (unsigned)room;
    }
    return want < threads ? threads : want;
}

/* ---- dispatch ------------------------------------------------------------ */

/* Sets r->who from the bearer token or, without one, from the session
 * cookie; why (n bytes) says what was wrong. A token or session of a
 * disabled account no longer counts. */
static enum kx_status authenticate(struct api_req *r, char *why, size_t n)
{
    const char *h = MHD_lookup_connection_value(
        r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *cookie = MHD_lookup_connection_value(
        r->conn, MHD_COOKIE_KIND, API_SESSION_COOKIE);
    struct api_token_ref ref;
    struct api_account a;
    store_txn *t = NULL;
    enum kx_status st;

    if (!h && cookie) {
        snprintf(why, n, "the session ended or expired: sign in again");
        if ((st = store_txn_begin(r->srv->st, 0, &t)) != KX_OK)
            return st;
        st = api_session_lookup(t, cookie, &r->who, r->csrf);
        store_txn_abort(t);
        if (st == KX_OK) {
            r->by_session = 1;
            snprintf(r->session, sizeof r->session, "%s", cookie);
        }
        return st;
    }
    snprintf(why, n, "sign in, or give a bearer token (Authorization: "
                     "Bearer kx_...)");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return KX_UNAUTHORIZED;
    h += 7;
    while (*h == ' ')
        h++;
    if ((st = store_txn_begin(r->srv->st, 0, &t)) != KX_OK)
        return st;
    st = api_token_lookup(t, h, &r->who, &ref);
    if (st == KX_OK && r->who.user[0] &&
        (api_account_get(t, r->who.user, &a, NULL) != KX_OK || a.disabled))
        st = KX_UNAUTHORIZED;
    store_txn_abort(t);
    if (st == KX_UNAUTHORIZED && r->who.expires[0])
        snprintf(why, n, "the bearer token expired at %s", r->who.expires);
    else if (st != KX_OK)
        snprintf(why, n, "the bearer token is not valid (unknown, revoked, "
                         "of a disabled account, or malformed)");
    /* What `token list` shows as last used; bookkeeping, so a failure to
     * write it (a full disk) does not refuse the request. */
    if (st == KX_OK)
        (void)api_token_touch(r->srv->st, &ref, &r->who);
    return st;
}

/* A write that rides on the session cookie must prove it comes from our
 * own pages: the CSRF token they got from /v1/whoami in X-CSRF-Token, and
 * no Origin of another site. NULL if it does, else why not. */
static const char *csrf_refused(struct api_req *r)
{
    const char *tok = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                  "X-CSRF-Token");
    const char *origin = MHD_lookup_connection_value(r->conn,
                                                     MHD_HEADER_KIND,
                                                     "Origin");
    const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_HOST);

    if (origin && strcmp(origin, "null") != 0) {
        /* this site: the Host asked for, or the configured public address
         * (a proxy may forward the host without its port) */
        const char *o = strstr(origin, "://");
        const char *b = r->srv->base_url, *bh = strstr(b, "://");
        size_t bl = bh ? (size_t)(bh + 3 - b) + strcspn(bh + 3, "/") : 0;
        int same = (o && host && strcmp(o + 3, host) == 0) ||
                   (bl && strlen(origin) == bl && strncmp(origin, b, bl) == 0);
        if (!same)
            return "a request from another site (Origin) may not use this "
                   "session";
    }
    if (!tok || strlen(tok) != strlen(r->csrf) || !r->csrf[0] ||
        api_secret_differ(tok, r->csrf, strlen(r->csrf)))
        return "a write with the session cookie needs the X-CSRF-Token that "
               "GET /v1/whoami gives";
    return NULL;
}

static enum MHD_Result run(struct api_req *r, const struct route *rt)
{
    if (rt->roles) {
        char why[160];
        enum kx_status st = authenticate(r, why, sizeof why);
        const char *csrf;
        unsigned wait;

        if (st == KX_UNAUTHORIZED)
            return api_reply_error(r, st, "Authorization", "%s", why);
        if (st != KX_OK)
            return api_reply_error(r, st, "", "reading tokens: %s",
                                   store_errmsg());
        if (!(rt->roles & (1u << r->who.role)))
            return api_reply_error(r, KX_FORBIDDEN, "",
                                   "the %s role may not use %s %s",
                                   api_role_name(r->who.role), rt->method,
                                   r->url);
        if (r->by_session && strcmp(rt->method, "GET") != 0 &&
            (csrf = csrf_refused(r)))
            return api_reply_error(r, KX_FORBIDDEN, "X-CSRF-Token", "%s",
                                   csrf);
        /* Writes cost a transaction, an index commit and an audit entry
         * each: one token (or person) cannot have them faster than its
         * bucket. */
        if (strcmp(rt->method, "GET") != 0 &&
            (wait = api_rate_take(&r->srv->rate,
                                  r->who.user[0] ? r->who.user : r->who.id,
                                  api_now())))
            return api_reply_rate_limited(r, wait);
    }
    return rt->fn(r);
}

static enum MHD_Result dispatch(struct api_req *r)
{
    const char *seg[API_PATH_SEGS], *args[API_ARGS_MAX];
    const char *method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
    char allow[64] = "";
    int ns;

    if (r->too_big)
        return api_reply_error(r, KX_TOOLARGE, "body",
                               "the request body exceeds %u bytes",
                               API_BODY_MAX);
    if (r->bad_framing)
        return api_reply_error(r, KX_BADINPUT, "body", "%s", r->bad_framing);
    ns = api_path_split(r->url, r->pathbuf, sizeof r->pathbuf, seg);
    if (ns < 0)
        return api_reply_error(r, KX_NOTFOUND, "", "no such path");
    for (int i = 0; i < NROUTES; i++) {
        const struct route *rt = &routes[i];

        if (!rt->path || !api_path_match(rt->path, seg, ns, args))
            continue;
        if (strcmp(rt->method, method) != 0) {
            if (!strstr(allow, rt->method))
                snprintf(allow + strlen(allow), sizeof allow - strlen(allow),
                         "%s%s", allow[0] ? ", " : "", rt->method);
            continue;
        }
        r->route = i;
        memcpy(r->arg, args, sizeof args);
        return run(r, rt);
    }
    if (allow[0])
        return api_reply_not_allowed(r, allow);
    if (strcmp(seg[0], "v1") == 0)
        return api_reply_error(r, KX_NOTFOUND, "",
                               "no endpoint %s (see /v1/openapi.json)",
                               r->url);
    if (strcmp(method, "GET") != 0)
        return api_reply_not_allowed(r, "GET");
    r->route = NROUTES - 1;
    return run(r, &routes[NROUTES - 1]);
}

/* Dispatches r once its body is in: the client no longer keeps us waiting,
 * so its connection leaves the deadlines. */
struct framing {
    unsigned lengths, encodings;
    int chunked_only;
};

static enum MHD_Result count_framing(void *ctx, enum MHD_ValueKind kind,
                                     const char *key, const char *value)
{
    struct framing *f = ctx;

    (void)kind;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        f->lengths++;
    if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->encodings++;
        f->chunked_only = value && strcasecmp(value, "chunked") == 0;
    }
    return MHD_YES;
}

/* Why a request's body framing is refused, or NULL. Two ways to tell
 * where a body ends (Content-Length twice, or with Transfer-Encoding) are
 * how requests are smuggled past a proxy that reads them otherwise; an
 * encoding other than chunked is one we cannot read. libmicrohttpd itself
 * refuses what it cannot parse at all (a negative length, a bad chunk
 * size) with its own short page before any of this runs. */
static const char *framing_refused(struct MHD_Connection *c)
{
    struct framing f = {0, 0, 0};

    MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
    if (f.lengths > 1)
        return "Content-Length is given more than once";
    if (f.lengths && f.encodings)
        return "both Content-Length and Transfer-Encoding are given: send "
               "one of them";
    if (f.encodings > 1 || (f.encodings && !f.chunked_only))
        return "Transfer-Encoding must be chunked (or absent)";
    return NULL;
}

static enum MHD_Result answer(struct api_req *r)
{
    conn_phase(r->srv, r->cn, PH_REPLY);
    return dispatch(r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct api_req *r = *con_cls;

    (void)version;
    if (!r) {
        const char *cl;

        if (!(r = calloc(1, sizeof *r)))
            return MHD_NO;
        r->srv = cls;
        r->conn = c;
        r->url = url;
        r->method = method;
        r->route = -1;
        r->t0 = api_now();
        r->cn = conn_of(c);
        *con_cls = r;
        conn_phase(r->srv, r->cn, PH_BODY);
        if ((r->bad_framing = framing_refused(c)))
            return answer(r); /* before a body we would misread */
        cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                         MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > API_BODY_MAX) {
            r->too_big = 1;
            /* Small excess is drained so that the client reads our 413;
             * a huge one is refused before it is sent. */
            if (strtoull(cl, NULL, 10) > DRAIN_MAX)
                return answer(r);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;

        *upload_size = 0;
        if (r->http || r->too_big)
            return MHD_YES;
        if (r->blen + n > API_BODY_MAX) {
            r->too_big = 1;
            free(r->body);
            r->body = NULL;
            r->blen = r->bcap = 0;
            return MHD_YES;
        }
        if (r->blen + n + 1 > r->bcap) {
            size_t cap = r->bcap ? r->bcap : 4096;
            char *p;
            while (cap < r->blen + n + 1)
                cap *= 2;
            if (!(p = realloc(r->body, cap)))
                return MHD_NO;
            r->body = p;
            r->bcap = cap;
        }
        memcpy(r->body + r->blen, upload, n);
        r->blen += n;
        r->body[r->blen] = '\0';
        return MHD_YES;
    }
    if (r->http)
        return MHD_YES;
    return answer(r);
}

/* ---- metrics and completion ---------------------------------------------- */

static const unsigned metric_codes[API_NCODES] = {
    200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 413, 415, 429, 500,
    503, 0};

static const double metric_bounds[API_NBUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 1e300};

static void observe(struct api_server *s, int route, unsigned http,
                    double secs)
{
    int ri = route >= 0 && route < NROUTES ? route : NROUTES, ci, bi = 0;

    for (ci = 0; ci < API_NCODES - 1 && metric_codes[ci]; ci++)
        if (metric_codes[ci] == http)
            break;
    while (bi < API_NBUCKETS - 1 && secs > metric_bounds[bi])
        bi++;
    atomic_fetch_add(&s->m.count[ri][ci], 1);
    atomic_fetch_add(&s->m.bucket[ri][bi], 1);
    atomic_fetch_add(&s->m.sum_us[ri], (unsigned long)(secs * 1e6));
}

unsigned api_metric_code(int i)
{
    return i >= 0 && i < API_NCODES ? metric_codes[i] : 0;
}

double api_metric_bound(int i)
{
    return i >= 0 && i < API_NBUCKETS ? metric_bounds[i] : 0;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct api_server *s = cls;
    struct api_req *r = *con_cls;

    (void)c;
    (void)toe;
    if (!r)
        return;
    observe(s, r->route, r->http, api_now() - r->t0);
    /* A kept-alive connection waits for its next request's headers. */
    conn_phase(s, r->cn, PH_HEADERS);
    if (r->slot)
        slot_give(s, r->slot);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

/* ---- start and stop ------------------------------------------------------ */

/* Splits "HOST:PORT" / "[V6]:PORT" / "PORT" into host and port. */
static enum kx_status parse_listen(const char *s, char *host, size_t hn,
                                   char *port, size_t pn,
                                   struct kx_error *err)
{
    const char *colon;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            goto bad;
        snprintf(host, hn, "%.*s", (int)(close - s - 1), s + 1);
        colon = close + 1;
    } else if ((colon = strrchr(s, ':')) != NULL) {
        snprintf(host, hn, "%.*s", (int)(colon - s), s);
    } else {
        snprintf(host, hn, "127.0.0.1");
        colon = s - 1;
    }
    snprintf(port, pn, "%s", colon + 1);
    if (!port[0] || strspn(port, "0123456789") != strlen(port) ||
        strtoul(port, NULL, 10) > 65535)
        goto bad;
    if (!host[0])
        snprintf(host, hn, "0.0.0.0");
    return KX_OK;
bad:
    return kx_error_set(err, KX_BADINPUT, "listen",
                        "expected HOST:PORT such as 127.0.0.1:8080, got "
                        "\"%.100s\"", s);
}

/* libmicrohttpd logs every connection it refuses over a limit, which a
 * flood of them would turn into a flood of lines: one line a second, and
 * how many were left out. */
static void on_log(void *cls, const char *fmt, va_list ap)
{
    struct api_server *s = cls;
    long now = (long)api_now(), last = atomic_load(&s->log_sec);
    unsigned long dropped;
    char msg[512];

    if (now == last ||
        !atomic_compare_exchange_strong(&s->log_sec, &last, now)) {
        atomic_fetch_add(&s->log_dropped, 1);
        return;
    }
    dropped = atomic_exchange(&s->log_dropped, 0);
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    if (dropped)
        fprintf(stderr, "kxmatch serve: %s (and %lu more messages not "
                        "shown)\n", msg, dropped);
    else
        fprintf(stderr, "kxmatch serve: %s\n", msg);
}

/* Why libmicrohttpd could not listen on ai, which it only logs: a socket
 * bound as it binds its own (SO_REUSEADDR, IPv6 only for an IPv6
 * address) keeps the errno. 0 if that one could listen. */
static int listen_errno(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;
    int e = 0;

    if (fd < 0)
        return errno;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1) != 0)
        e = errno;
    close(fd);
    return e;
}

/* The error for listen_errno() e on host and port. */
static enum kx_status listen_fail(int e, const char *host, const char *port,
                                  struct kx_error *err)
{
    const char *fmt = strchr(host, ':') ? "[%s]:%s" : "%s:%s";
    char addr[300];

    snprintf(addr, sizeof addr, fmt, host, port);
    if (e == EADDRINUSE)
        return kx_error_set(err, KX_IO, "listen",
                            "cannot listen on %s: the address is already in "
                            "use (is another server running there?)", addr);
    if (e == EADDRNOTAVAIL)
        return kx_error_set(err, KX_IO, "listen",
                            "cannot listen on %s: not an address of this "
                            "machine", addr);
    if (e)
        return kx_error_set(err, KX_IO, "listen", "cannot listen on %s: %s",
                            addr, strerror(e));
    return kx_error_set(err, KX_IO, "listen",
                        "cannot start the HTTP server on %s (see "
                        "libmicrohttpd's message above)", addr);
}

enum kx_status api_server_start(const struct api_serve_opts *o,
                                struct api_server **out, unsigned *port,
                                struct kx_error *err)
{
    struct api_server *s = calloc(1, sizeof *s);
    struct addrinfo hints, *ai = NULL;
    char host[256], portbuf[16];
    const char *web = o->web_dir;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    unsigned threads = o->threads ? o->threads : 4;
    pthread_condattr_t ca;
    enum kx_status st;
    int rc;

    *out = NULL;
    *port = 0;
    if (!s)
        return KX_NOMEM;
    pthread_mutex_init(&s->wlock, NULL);
    pthread_mutex_init(&s->plock, NULL);
    pthread_mutex_init(&s->conn_lock, NULL);
    {
        unsigned rate = o->write_rate < 0 ? API_RATE_PER_MIN
                                          : (unsigned)o->write_rate;
        /* a fifth of a minute's writes at once, up to API_RATE_BURST */
        api_rate_init(&s->rate, rate,
                      rate / 5 < 1 ? 1
                      : rate / 5 > API_RATE_BURST ? API_RATE_BURST : rate / 5);
    }
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->reaper_wake, &ca);
    pthread_condattr_destroy(&ca);
    s->started = api_now();
    s->conn_max = conn_max_fit(o->max_conns ? o->max_conns : API_CONN_MAX,
                               threads);
    /* A sixteenth: room for the connections that arrive while the ones
     * shut to make it are still closing. */
    s->conn_reserve = s->conn_max / 16 ? s->conn_max / 16 : 1;
    if (s->conn_reserve >= s->conn_max)
        s->conn_reserve = 0;
    s->conn_per_ip = o->per_ip ? o->per_ip : API_CONN_PER_IP;
    s->header_s = o->header_s ? o->header_s : API_HEADER_S;
    s->body_s = o->body_s ? o->body_s : API_BODY_S;
    if (!web || !*web)
        web = getenv("KXMATCH_WEB");
    if (!web || !*web)
        web = kx_share_path("web");
    snprintf(s->web_dir, sizeof s->web_dir, "%s", web);
    snprintf(s->org_name, sizeof s->org_name, "%s",
             o->org_name && *o->org_name ? o->org_name : API_ORG_NAME_DEFAULT);
    snprintf(s->org_short, sizeof s->org_short, "%s",
             o->org_short && *o->org_short ? o->org_short
                                           : API_ORG_SHORT_DEFAULT);
    snprintf(s->from_name, sizeof s->from_name, "%s",
             o->from_name && *o->from_name ? o->from_name : s->org_name);
    snprintf(s->base_url, sizeof s->base_url, "%s",
             o->base_url ? o->base_url : "");
    s->secure_cookies = strncmp(s->base_url, "https://", 8) == 0;
    snprintf(s->smtp_url, sizeof s->smtp_url, "%s",
             o->smtp_url ? o->smtp_url : "");
    snprintf(s->mail_from, sizeof s->mail_from, "%s",
             o->mail_from ? o->mail_from : "");
    s->smtp_user = getenv("KXMATCH_SMTP_USER");
    s->smtp_password = getenv("KXMATCH_SMTP_PASSWORD");
    /* openapi.json beside the pages, else the share directory's. */
    snprintf(s->openapi_path, sizeof s->openapi_path, "%s/../openapi.json",
             s->web_dir);
    if (access(s->openapi_path, R_OK) != 0)
        snprintf(s->openapi_path, sizeof s->openapi_path, "%s",
                 kx_share_path("openapi.json"));
    if ((st = parse_listen(o->listen ? o->listen : "127.0.0.1:8080", host,
                           sizeof host, portbuf, sizeof portbuf, err)) !=
        KX_OK)
        goto out;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((rc = getaddrinfo(host, portbuf, &hints, &ai)) != 0) {
        ai = NULL;
        st = kx_error_set(err, KX_BADINPUT, "listen", "cannot resolve %s: %s",
                          host, gai_strerror(rc));
        goto out;
    }
    /* An address in use is said before the data directory is opened (or
     * made), and before "locked" when the other server is one of ours. */
    if ((rc = listen_errno(ai)) != 0) {
        st = listen_fail(rc, host, portbuf, err);
        goto out;
    }

    match_config_default(&s->cfg);
    st = match_config_load(match_config_default_path(), &s->cfg, err);
    if (st == KX_NOTFOUND) { /* the defaults are compiled in as well */
        kx_error_clear(err);
        st = KX_OK;
    }
    if (st == KX_OK && o->config)
        st = match_config_load(o->config, &s->cfg, err);
    if (st != KX_OK)
        goto out;
    if ((st = idx_open(o->db, IDX_WRITE, o->taxonomy, &s->x, err)) != KX_OK)
        goto out;
    /* Scores are rounded to four places; print them so, not as
     * 0.81620000000000004. */
    json_c_set_serialization_double_format("%.10g", JSON_C_OPTION_GLOBAL);
    s->st = idx_store(s->x);
    s->tx = idx_taxo(s->x);
    if ((st = match_infer_new(s->tx, idx_tokenizer(s->x), &s->infer)) !=
        KX_OK)
        goto out;

    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    flags |= MHD_USE_EPOLL;
    /* The port is bound from ai; given here too, it is the one that
     * libmicrohttpd's own messages name. */
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)strtoul(portbuf, NULL, 10), NULL, NULL, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, on_log, s, /* first, to catch all */
        MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_CONNECTION_LIMIT, s->conn_max,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->conn_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_IDLE_S,
        /* No MHD_OPTION_LISTENING_ADDRESS_REUSE: its SO_REUSEPORT let a
         * second process bind the port and take part of our clients. */
        MHD_OPTION_END);
    if (!s->daemon) {
        st = listen_fail(listen_errno(ai), host, portbuf, err);
        goto out;
    }
    if ((st = api_follower_start(s)) != KX_OK ||
        (st = reaper_start(s)) != KX_OK)
        goto out;
    info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : 0;
    *out = s;
    s = NULL;
out:
    if (ai)
        freeaddrinfo(ai);
    api_server_stop(s);
    return st;
}

void api_server_stop(struct api_server *s)
{
    struct api_slot *sl, *next;

    if (!s)
        return;
    reaper_stop(s);
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    api_follower_stop(s);
    for (sl = s->all; sl; sl = next) {
        next = sl->next_all;
        slot_free(sl);
    }
    match_infer_free(s->infer);
    idx_close(s->x);
    pthread_mutex_destroy(&s->wlock);
    pthread_mutex_destroy(&s->plock);
    pthread_cond_destroy(&s->reaper_wake);
    pthread_mutex_destroy(&s->conn_lock);
    api_rate_free(&s->rate);
    free(s);
}
