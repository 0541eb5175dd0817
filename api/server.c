/* server.c - the HTTP server: libmicrohttpd set-up, the route table and
 * dispatch, request bodies and parameters, per-thread read slots and the
 * one writer. */
#include "server.h"
#include "reply.h"

#include <json-c/json.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef KX_SHARE_DIR
#define KX_SHARE_DIR "."
#endif

/* A body announced beyond this is refused at once instead of drained. */
#define DRAIN_MAX (16u << 20)
#define MAX_SEGS 16

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
    {"GET", "/v1/whoami", api_route_whoami, "whoami", API_R_ANY},
    {"GET", "/v1/taxonomy/*", api_route_taxonomy, "taxonomy", API_R_ANY},
    {"GET", "/v1/needs", api_route_needs_list, "needs_list", API_R_ANY},
    {"POST", "/v1/needs", api_route_need_post, "need_post", R_WRITE_NEEDS},
    {"GET", "/v1/needs/*", api_route_need_get, "need_get", API_R_ANY},
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
    char *buf;
    size_t n, used;
    const char **out;
    size_t max, count;
};

static enum MHD_Result list_one(void *vctx, enum MHD_ValueKind kind,
                                const char *key, const char *value)
{
    struct list_ctx *c = vctx;
    const char *p = value;

    (void)kind;
    if (strcmp(key, c->name) != 0 || !value)
        return MHD_YES;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);

        if (len) {
            if (c->count >= c->max || c->used + len + 1 > c->n) {
                c->count = c->max + 1;
                return MHD_NO;
            }
            memcpy(c->buf + c->used, p, len);
            c->buf[c->used + len] = '\0';
            c->out[c->count++] = c->buf + c->used;
            c->used += len + 1;
        }
        p += len + (comma ? 1 : 0);
    }
    return MHD_YES;
}

size_t api_req_list(struct api_req *r, const char *name, char *buf, size_t n,
                    const char **out, size_t max)
{
    struct list_ctx c = {name, buf, n, 0, out, max, 0};

    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, list_one, &c);
    return c.count;
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
    int ok = 0;

    (void)kind;
    for (size_t i = 0; c->allowed && c->allowed[i]; i++)
        if (strcmp(key, c->allowed[i]) == 0)
            ok = 1;
    if (!ok || !text_utf8_valid(key, strlen(key))) {
        char list[256] = "";
        for (size_t i = 0; c->allowed && c->allowed[i]; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                     i ? ", " : "", c->allowed[i]);
        c->st = kx_error_set(c->err, KX_BADINPUT, "",
                             "unknown parameter \"%.64s\" (expected %s)",
                             text_utf8_valid(key, strlen(key)) ? key : "?",
                             list[0] ? list : "none");
        snprintf(c->err->field, sizeof c->err->field, "%.63s",
                 text_utf8_valid(key, strlen(key)) ? key : "?");
        return MHD_NO;
    }
    if (value && !text_utf8_valid(value, strlen(value))) {
        c->st = kx_error_set(c->err, KX_BADINPUT, key,
                             "parameter is not valid UTF-8");
        return MHD_NO;
    }
    return MHD_YES;
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
    const char *v = api_req_param(r, name);
    unsigned long n = 0;

    *out = dflt;
    if (!v)
        return KX_OK;
    if (!*v || strlen(v) > 9 || strspn(v, "0123456789") != strlen(v))
        return kx_error_set(err, KX_BADINPUT, name,
                            "expected a whole number %u..%u", lo, hi);
    n = strtoul(v, NULL, 10);
    if (n < lo || n > hi)
        return kx_error_set(err, KX_BADINPUT, name,
                            "expected a whole number %u..%u, got %lu", lo, hi,
                            n);
    *out = (unsigned)n;
    return KX_OK;
}

enum kx_status api_req_body(struct api_req *r, json_object **out,
                            struct kx_error *err)
{
    const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_TYPE);
    json_tokener *tok;
    enum json_tokener_error jerr;
    json_object *o;
    size_t end;

    *out = NULL;
    if (ct && strncasecmp(ct, "application/json", 16) != 0)
        return kx_error_set(err, KX_BADINPUT, "Content-Type",
                            "expected application/json, got \"%.60s\"", ct);
    if (!r->body || r->blen == 0)
        return kx_error_set(err, KX_BADINPUT, "body",
                            "expected a JSON object as the request body");
    if (!text_utf8_valid(r->body, r->blen))
        return kx_error_set(err, KX_BADINPUT, "body",
                            "the body is not valid UTF-8 (or holds NUL)");
    if (!(tok = json_tokener_new_ex(API_JSON_DEPTH)))
        return KX_NOMEM;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    o = json_tokener_parse_ex(tok, r->body, (int)r->blen);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (jerr == json_tokener_continue) {
        json_object_put(o);
        return kx_error_set(err, KX_BADINPUT, "body",
                            "malformed JSON: the body ends inside a value");
    }
    if (jerr != json_tokener_success) {
        json_object_put(o);
        if (jerr == json_tokener_error_depth)
            return kx_error_set(err, KX_BADINPUT, "body",
                                "malformed JSON: nested deeper than %d "
                                "levels", API_JSON_DEPTH);
        return kx_error_set(err, KX_BADINPUT, "body",
                            "malformed JSON at byte %zu: %s", end,
                            json_tokener_error_desc(jerr));
    }
    for (size_t i = end; i < r->blen; i++)
        if (!strchr(" \t\r\n", r->body[i])) {
            json_object_put(o);
            return kx_error_set(err, KX_BADINPUT, "body",
                                "malformed JSON: text after the value at "
                                "byte %zu", i);
        }
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return kx_error_set(err, KX_BADINPUT, "body",
                            "expected a JSON object as the request body");
    }
    *out = o;
    return KX_OK;
}

/* ---- dispatch ------------------------------------------------------------ */

/* Splits path into '/'-separated segments in buf; -1 if too long. */
static int split_path(const char *path, char *buf, size_t n,
                      const char **seg)
{
    int ns = 0;
    char *p;

    if (!path || path[0] != '/' || strlen(path) >= n)
        return -1;
    memcpy(buf, path + 1, strlen(path));
    p = buf;
    for (;;) {
        char *slash = strchr(p, '/');
        if (ns == MAX_SEGS)
            return -1;
        seg[ns++] = p;
        if (!slash)
            break;
        *slash = '\0';
        p = slash + 1;
    }
    return ns;
}

static int path_match(const char *pattern, const char *const *seg, int ns,
                      const char **args)
{
    const char *p = pattern + 1;
    int i = 0, na = 0;

    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);

        if (i >= ns)
            return 0;
        if (len == 1 && p[0] == '*') {
            if (!seg[i][0] || na == API_ARGS_MAX)
                return 0;
            args[na++] = seg[i];
        } else if (strlen(seg[i]) != len || strncmp(seg[i], p, len) != 0) {
            return 0;
        }
        i++;
        if (!slash)
            break;
        p = slash + 1;
    }
    return i == ns;
}

/* Sets r->who from the bearer token; *why says what was wrong. */
static enum kx_status authenticate(struct api_req *r, const char **why)
{
    const char *h = MHD_lookup_connection_value(
        r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    store_txn *t = NULL;
    enum kx_status st;

    *why = "a bearer token is required (Authorization: Bearer kx_...)";
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return KX_UNAUTHORIZED;
    h += 7;
    while (*h == ' ')
        h++;
    if ((st = store_txn_begin(r->srv->st, 0, &t)) != KX_OK)
        return st;
    st = api_token_lookup(t, h, &r->who);
    store_txn_abort(t);
    if (st != KX_OK)
        *why = "the bearer token is not valid (unknown, revoked or "
               "malformed)";
    return st;
}

static enum MHD_Result run(struct api_req *r, const struct route *rt)
{
    if (rt->roles) {
        const char *why;
        enum kx_status st = authenticate(r, &why);

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
    }
    return rt->fn(r);
}

static enum MHD_Result dispatch(struct api_req *r)
{
    const char *seg[MAX_SEGS], *args[API_ARGS_MAX];
    const char *method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
    char allow[64] = "";
    int ns;

    if (r->too_big)
        return api_reply_error(r, KX_TOOLARGE, "body",
                               "the request body exceeds %u bytes",
                               API_BODY_MAX);
    ns = split_path(r->url, r->pathbuf, sizeof r->pathbuf, seg);
    if (ns < 0)
        return api_reply_error(r, KX_NOTFOUND, "", "no such path");
    for (int i = 0; i < NROUTES; i++) {
        const struct route *rt = &routes[i];

        if (!rt->path || !path_match(rt->path, seg, ns, args))
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
        *con_cls = r;
        cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                         MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > API_BODY_MAX) {
            r->too_big = 1;
            /* Small excess is drained so that the client reads our 413;
             * a huge one is refused before it is sent. */
            if (strtoull(cl, NULL, 10) > DRAIN_MAX)
                return dispatch(r);
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
    return dispatch(r);
}

/* ---- metrics and completion ---------------------------------------------- */

static const unsigned metric_codes[API_NCODES] = {
    200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 413, 500, 503, 0};

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
    enum kx_status st;
    int rc;

    *out = NULL;
    *port = 0;
    if (!s)
        return KX_NOMEM;
    pthread_mutex_init(&s->wlock, NULL);
    pthread_mutex_init(&s->plock, NULL);
    s->started = api_now();
    if (!web || !*web)
        web = getenv("KXMATCH_WEB");
    if (!web || !*web)
        web = KX_SHARE_DIR "/api/web";
    snprintf(s->web_dir, sizeof s->web_dir, "%s", web);
    /* api/openapi.json beside the pages, else the build's copy. */
    snprintf(s->openapi_path, sizeof s->openapi_path, "%s/../openapi.json",
             s->web_dir);
    if (access(s->openapi_path, R_OK) != 0)
        snprintf(s->openapi_path, sizeof s->openapi_path, "%s",
                 KX_SHARE_DIR "/api/openapi.json");
    if ((st = parse_listen(o->listen ? o->listen : "127.0.0.1:8080", host,
                           sizeof host, portbuf, sizeof portbuf, err)) !=
        KX_OK)
        goto out;

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

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((rc = getaddrinfo(host, portbuf, &hints, &ai)) != 0) {
        st = kx_error_set(err, KX_BADINPUT, "listen", "cannot resolve %s: %s",
                          host, gai_strerror(rc));
        goto out;
    }
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    flags |= MHD_USE_EPOLL;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s,
        MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(o->threads ? o->threads : 4),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_CONNECTION_LIMIT, 1000u,
        MHD_OPTION_CONNECTION_TIMEOUT, 60u,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
        MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->daemon) {
        st = kx_error_set(err, KX_IO, "listen",
                          "cannot listen on %s:%s (address in use or not "
                          "local?)", host, portbuf);
        goto out;
    }
    if ((st = api_follower_start(s)) != KX_OK)
        goto out;
    info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : 0;
    *out = s;
    s = NULL;
out:
    api_server_stop(s);
    return st;
}

void api_server_stop(struct api_server *s)
{
    struct api_slot *sl, *next;

    if (!s)
        return;
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
    free(s);
}
