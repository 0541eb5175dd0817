/* parse.h - the parts of reading a request that need no libmicrohttpd:
 * the JSON body, query parameters and the path. server.c feeds them what
 * libmicrohttpd hands it; the fuzzers (tests/fuzz) call them directly.
 * Not a public API: the server's own, like server.h. */
#ifndef API_PARSE_H
#define API_PARSE_H

#include <stddef.h>

#include "kx.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_object;

#define API_BODY_MAX (256u * 1024u) /* bytes of request body, else 413 */
#define API_JSON_DEPTH 16           /* nesting of a request body */
#define API_ARGS_MAX 3              /* wildcards in a route path */
#define API_PATH_SEGS 16            /* segments in a request path */

/* A request body as a JSON object. ct: the Content-Type header (NULL if
 * none), which must be application/json (else KX_UNSUPPORTED, answered
 * 415); body[0..len): UTF-8, depth capped at API_JSON_DEPTH, strict JSON
 * with numbers as written and no duplicate names at any depth
 * (record_numbers_check, record_dups_check). The size cap is the
 * caller's (API_BODY_MAX, checked as the body arrives). KX_BADINPUT with
 * err saying where it broke, or KX_NOMEM. *out is the caller's
 * (json_object_put), NULL on failure. */
enum kx_status api_body_parse(const char *ct, const char *body, size_t len,
                              struct json_object **out,
                              struct kx_error *err);

/* One query parameter, key and value (NULL: given without '=') as
 * libmicrohttpd decoded them. KX_OK if key is one of allowed
 * (NULL-terminated; NULL allows none) and both are valid UTF-8, else
 * KX_BADINPUT with err->field naming it. */
enum kx_status api_param_check(const char *key, const char *value,
                               const char *const *allowed,
                               struct kx_error *err);

/* The values of a list parameter, repeated or comma-separated: items are
 * copied NUL-terminated into buf (n bytes), out (max pointers) points at
 * them, empty items are skipped. Set buf, n, out, max and zero the rest
 * before the first value. */
struct api_list {
    char *buf;
    size_t n, used;
    const char **out;
    size_t max, count;
};

/* Adds the items of one value (NULL adds none). Returns 1, or 0 once the
 * items exceed max or buf, with count set to max + 1. */
int api_list_add(struct api_list *l, const char *value);

/* Parameter name's value v (NULL: absent) as a whole number in [lo, hi]
 * (decimal digits only, at most 9); dflt if absent. KX_OK with *out set,
 * else KX_BADINPUT with err->field name and *out dflt. */
enum kx_status api_param_uint(const char *name, const char *v, unsigned dflt,
                              unsigned lo, unsigned hi, unsigned *out,
                              struct kx_error *err);

/* Splits path ("/v1/needs/N1") into its '/'-separated segments, copied
 * into buf (n bytes); seg (API_PATH_SEGS pointers) points at them.
 * Returns their count, or -1 if path does not start with '/', does not
 * fit buf, or has more than API_PATH_SEGS segments. */
int api_path_split(const char *path, char *buf, size_t n, const char **seg);

/* 1 if the ns segments match pattern, whose segments are literal or '*'
 * ("/v1/needs/" then '*'), a '*' taking one non-empty segment; args
 * (API_ARGS_MAX pointers) then point at the segments the '*' took. */
int api_path_match(const char *pattern, const char *const *seg, int ns,
                   const char **args);

#ifdef __cplusplus
}
#endif
#endif
