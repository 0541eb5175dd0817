/* reply.c - every HTTP answer of the server: JSON, errors with the one
 * status-to-HTTP mapping, static bodies, 405. */
#include "reply.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define JSON_OUT (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

unsigned api_http_status(enum kx_status st)
{
    switch (st) {
    case KX_OK: return 200;
    case KX_NOTFOUND: return 404;
    case KX_BADINPUT: return 400;
    case KX_EXISTS: return 409;
    case KX_CONFLICT: return 409;
    case KX_UNSUPPORTED: return 415;
    case KX_UNAUTHORIZED: return 401;
    case KX_FORBIDDEN: return 403;
    case KX_TOOLARGE: return 413;
    case KX_LOCKED:
    case KX_NOMEM:
    case KX_UNAVAILABLE: return 503;
    case KX_IO:
    case KX_CORRUPT:
    case KX_XAPIAN:
    case KX_INTERNAL:
    default: return 500;
    }
}

const char *api_error_code(enum kx_status st)
{
    static const char *const codes[KX_STATUS_LAST] = {
        [KX_OK] = "ok",
        [KX_NOTFOUND] = "not_found",
        [KX_BADINPUT] = "bad_input",
        [KX_EXISTS] = "exists",
        [KX_LOCKED] = "locked",
        [KX_IO] = "io_error",
        [KX_NOMEM] = "out_of_memory",
        [KX_CORRUPT] = "corrupt_data",
        [KX_XAPIAN] = "index_error",
        [KX_UNAUTHORIZED] = "unauthorized",
        [KX_FORBIDDEN] = "forbidden",
        [KX_TOOLARGE] = "too_large",
        [KX_UNAVAILABLE] = "unavailable",
        [KX_CONFLICT] = "conflict",
        [KX_UNSUPPORTED] = "unsupported_media_type",
        [KX_INTERNAL] = "internal",
    };

    if ((unsigned)st >= KX_STATUS_LAST || !codes[st])
        return "internal";
    return codes[st];
}

static enum MHD_Result reply_send(struct api_req *r, unsigned http,
                            struct MHD_Response *resp, const char *ctype)
{
    enum MHD_Result ret;

    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (strncmp(ctype, "text/html", 9) == 0) {
        /* Pages load nothing from elsewhere and run no inline script. */
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; "
                                "style-src 'self'; script-src 'self'; "
                                "connect-src 'self'; frame-ancestors 'none'");
        MHD_add_response_header(resp, "Cache-Control", "no-cache");
    } else if (strncmp(ctype, "application/json", 16) == 0 ||
               strncmp(ctype, "text/plain", 10) == 0) {
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    } else {
        MHD_add_response_header(resp, "Cache-Control", "no-cache");
    }
    if (http == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer realm=\"kxmatch\"");
    if (r->set_cookie[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE,
                                r->set_cookie);
    r->http = http;
    ret = MHD_queue_response(r->conn, http, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result api_reply_body(struct api_req *r, unsigned http,
                               const char *ctype, const void *body,
                               size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, (void *)body, MHD_RESPMEM_MUST_COPY);

    return reply_send(r, http, resp, ctype);
}

enum MHD_Result api_reply_file(struct api_req *r, unsigned http,
                               const char *ctype, const void *body,
                               size_t len, const char *etag)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        body ? len : 0, (void *)body, MHD_RESPMEM_MUST_COPY);

    if (resp)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    return reply_send(r, http, resp, ctype);
}

enum MHD_Result api_reply_json(struct api_req *r, unsigned http,
                               json_object *o)
{
    size_t len = 0;
    const char *s;
    enum MHD_Result ret;

    if (!o)
        return api_reply_error(r, KX_NOMEM, "", "out of memory");
    s = json_object_to_json_string_length(o, JSON_OUT, &len);
    ret = api_reply_body(r, http, "application/json; charset=utf-8", s, len);
    json_object_put(o);
    return ret;
}

static enum MHD_Result reply_error_msg(struct api_req *r, enum kx_status st,
                                       const char *field, const char *msg)
{
    unsigned http = api_http_status(st);
    json_object *o = json_object_new_object(), *e = json_object_new_object();

    if (st == KX_OK) /* a caller's bug: never answer an error with 200 */
        st = KX_INTERNAL, http = 500;
    if (http >= 500) {
        /* Details of server-side failures go to the log, not the client. */
        fprintf(stderr, "kxmatch serve: %s %s: %s: %s\n", r->method, r->url,
                kx_status_str(st), msg);
        msg = kx_status_str(st);
        field = "";
    }
    json_object_object_add(e, "code", json_object_new_string(api_error_code(st)));
    json_object_object_add(e, "message", json_object_new_string(msg));
    json_object_object_add(e, "field", json_object_new_string(field ? field : ""));
    json_object_object_add(o, "error", e);
    return api_reply_json(r, http, o);
}

enum MHD_Result api_reply_error(struct api_req *r, enum kx_status st,
                                const char *field, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return reply_error_msg(r, st, field, msg);
}

enum MHD_Result api_reply_kx(struct api_req *r, enum kx_status st,
                             const struct kx_error *err)
{
    const char *msg = err && err->msg[0] ? err->msg : kx_status_str(st);

    return reply_error_msg(r, st, err ? err->field : "", msg);
}

/* An error body with code, message and one extra header. */
static enum MHD_Result reply_with_header(struct api_req *r, unsigned http,
                                         const char *code, const char *msg,
                                         const char *hname, const char *hval)
{
    json_object *o = json_object_new_object(), *e = json_object_new_object();
    const char *s;
    size_t len = 0;
    struct MHD_Response *resp;

    json_object_object_add(e, "code", json_object_new_string(code));
    json_object_object_add(e, "message", json_object_new_string(msg));
    json_object_object_add(e, "field", json_object_new_string(""));
    json_object_object_add(o, "error", e);
    s = json_object_to_json_string_length(o, JSON_OUT, &len);
    resp = MHD_create_response_from_buffer(len, (void *)s,
                                           MHD_RESPMEM_MUST_COPY);
    json_object_put(o);
    if (resp)
        MHD_add_response_header(resp, hname, hval);
    return reply_send(r, http, resp, "application/json; charset=utf-8");
}

enum MHD_Result api_reply_not_allowed(struct api_req *r, const char *allow)
{
    char msg[160];

    snprintf(msg, sizeof msg, "%s is not allowed here (allowed: %s)",
             r->method, allow);
    return reply_with_header(r, 405, "method_not_allowed", msg,
                             MHD_HTTP_HEADER_ALLOW, allow);
}

enum MHD_Result api_reply_rate_limited(struct api_req *r, unsigned secs)
{
    char msg[160], val[16];

    snprintf(msg, sizeof msg, "this token writes faster than %u a minute; "
             "try again in %u s", (unsigned)(r->srv->rate.per_s * 60 + 0.5),
             secs);
    snprintf(val, sizeof val, "%u", secs);
    return reply_with_header(r, 429, "rate_limited", msg,
                             MHD_HTTP_HEADER_RETRY_AFTER, val);
}
