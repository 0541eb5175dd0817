/* parse.c - reading a request's body, parameters and path, without
 * libmicrohttpd (server.c hands over what it decoded). */
#include "parse.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "record.h"
#include "text.h"

/* How many bytes of s (UTF-8) a message may quote, at most max: the cut
 * falls where a character starts. */
static int clip(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n <= max)
        return (int)n;
    while (max && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return (int)max;
}

/* ---- bodies -------------------------------------------------------------- */

/* 1 if a Content-Type header says JSON: application/json, any case, with
 * no parameter but charset=utf-8. A body without one is refused too:
 * browsers send form types cross-site without asking first, JSON only
 * after a preflight, so this also keeps other sites' forms out. */
static int json_media_type(const char *ct)
{
    static const char want[] = "application/json";
    const char *p;

    if (!ct || strncasecmp(ct, want, sizeof want - 1) != 0)
        return 0;
    p = ct + sizeof want - 1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p)
        return 1;
    if (*p++ != ';')
        return 0;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncasecmp(p, "charset=", 8) != 0)
        return 0;
    p += 8;
    if (*p == '"')
        p++;
    if (strncasecmp(p, "utf-8", 5) != 0)
        return 0;
    p += 5;
    if (*p == '"')
        p++;
    while (*p == ' ' || *p == '\t')
        p++;
    return *p == '\0';
}

enum kx_status api_body_parse(const char *ct, const char *body, size_t len,
                              json_object **out, struct kx_error *err)
{
    json_tokener *tok;
    enum json_tokener_error jerr;
    json_object *o;
    size_t end;

    *out = NULL;
    if (!json_media_type(ct)) {
        /* the header is the client's bytes: quoted only if it is text */
        if (!ct || !text_utf8_valid(ct, strlen(ct)))
            return kx_error_set(err, KX_UNSUPPORTED, "Content-Type",
                                "expected Content-Type: application/json "
                                "(charset utf-8, if any), got %s",
                                ct ? "a value that is not UTF-8" : "none");
        return kx_error_set(err, KX_UNSUPPORTED, "Content-Type",
                            "expected Content-Type: application/json "
                            "(charset utf-8, if any), got \"%.*s\"",
                            clip(ct, 60), ct);
    }
    if (!body || len == 0)
        return kx_error_set(err, KX_BADINPUT, "body",
                            "expected a JSON object as the request body");
    if (!text_utf8_valid(body, len))
        return kx_error_set(err, KX_BADINPUT, "body",
                            "the body is not valid UTF-8 (or holds NUL)");
    if (!(tok = json_tokener_new_ex(API_JSON_DEPTH)))
        return KX_NOMEM;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    o = json_tokener_parse_ex(tok, body, (int)len);
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
    for (size_t i = end; i < len; i++)
        if (!strchr(" \t\r\n", body[i])) {
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
    /* json-c reads more than JSON (5., 00, NaN, 'quotes'), clamps big
     * integers and keeps the last of duplicate names: the text is checked
     * for all of that, as `index` checks it. */
    if (record_numbers_check(body, len, err) != KX_OK ||
        record_dups_check(body, len, err) != KX_OK) {
        json_object_put(o);
        return KX_BADINPUT;
    }
    *out = o;
    return KX_OK;
}

/* ---- parameters ---------------------------------------------------------- */

enum kx_status api_param_check(const char *key, const char *value,
                               const char *const *allowed,
                               struct kx_error *err)
{
    int ok = 0;

    for (size_t i = 0; allowed && allowed[i]; i++)
        if (strcmp(key, allowed[i]) == 0)
            ok = 1;
    if (!ok || !text_utf8_valid(key, strlen(key))) {
        char list[256] = "";
        enum kx_status st;

        for (size_t i = 0; allowed && allowed[i]; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                     i ? ", " : "", allowed[i]);
        if (!text_utf8_valid(key, strlen(key)))
            key = "?";
        st = kx_error_set(err, KX_BADINPUT, "",
                          "unknown parameter \"%.*s\" (expected %s)",
                          clip(key, 64), key, list[0] ? list : "none");
        if (err)
            snprintf(err->field, sizeof err->field, "%.*s", clip(key, 63),
                     key);
        return st;
    }
    if (value && !text_utf8_valid(value, strlen(value)))
        return kx_error_set(err, KX_BADINPUT, key,
                            "parameter is not valid UTF-8");
    return KX_OK;
}

int api_list_add(struct api_list *l, const char *value)
{
    const char *p = value;

    if (!value)
        return 1;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);

        if (len) {
            if (l->count >= l->max || l->used + len + 1 > l->n) {
                l->count = l->max + 1;
                return 0;
            }
            memcpy(l->buf + l->used, p, len);
            l->buf[l->used + len] = '\0';
            l->out[l->count++] = l->buf + l->used;
            l->used += len + 1;
        }
        p += len + (comma ? 1 : 0);
    }
    return 1;
}

enum kx_status api_param_uint(const char *name, const char *v, unsigned dflt,
                              unsigned lo, unsigned hi, unsigned *out,
                              struct kx_error *err)
{
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

/* ---- the path ------------------------------------------------------------ */

int api_path_split(const char *path, char *buf, size_t n, const char **seg)
{
    int ns = 0;
    char *p;

    if (!path || path[0] != '/' || strlen(path) >= n)
        return -1;
    memcpy(buf, path + 1, strlen(path));
    p = buf;
    for (;;) {
        char *slash = strchr(p, '/');
        if (ns == API_PATH_SEGS)
            return -1;
        seg[ns++] = p;
        if (!slash)
            break;
        *slash = '\0';
        p = slash + 1;
    }
    return ns;
}

int api_path_match(const char *pattern, const char *const *seg, int ns,
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
