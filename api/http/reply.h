/* reply.h - the one way the HTTP server answers: JSON bodies, and errors
 * as {"error": {"code", "message", "field"}} with the HTTP status that
 * api_http_status() alone decides. */
#ifndef API_REPLY_H
#define API_REPLY_H

#include <stddef.h>

#include "server.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The HTTP status of a kx_status: the only place this mapping lives. */
unsigned api_http_status(enum kx_status st);

/* A stable machine-readable code for st: "not_found", "bad_input", ...
 * Static. */
const char *api_error_code(enum kx_status st);

/* Sends o (taken: the reply owns it) as JSON with status http. */
enum MHD_Result api_reply_json(struct api_req *r, unsigned http,
                               struct json_object *o);

/* Sends an error for st with a printf-style message and the offending
 * field ("" or NULL if none). Server-side failures (5xx) are logged to
 * stderr in full and answered with a short message. */
enum MHD_Result api_reply_error(struct api_req *r, enum kx_status st,
                                const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The same from a kx_error (its msg and field; the status text if empty). */
enum MHD_Result api_reply_kx(struct api_req *r, enum kx_status st,
                             const struct kx_error *err);

/* Sends body[0..len) (copied) with a content type and status. */
enum MHD_Result api_reply_body(struct api_req *r, unsigned http,
                               const char *ctype, const void *body,
                               size_t len);

/* A file of the web folder: 200 with body[0..len) (copied) and its ETag,
 * or 304 and no body (body NULL) when the client holds that version. */
enum MHD_Result api_reply_file(struct api_req *r, unsigned http,
                               const char *ctype, const void *body,
                               size_t len, const char *etag);

/* 429 with Retry-After: secs and the JSON error body ("rate_limited"). */
enum MHD_Result api_reply_rate_limited(struct api_req *r, unsigned secs);

/* 405 with an Allow header listing the methods the path takes. */
enum MHD_Result api_reply_not_allowed(struct api_req *r, const char *allow);

#ifdef __cplusplus
}
#endif
#endif
