/* fuzz_body.c - libFuzzer target for the HTTP write endpoints' body
 * parser, api_body_parse (api/http/parse.c), the function api_req_body
 * hands every POST and PUT body to.
 *
 * An input that starts with '{', '[' or a blank is a body sent with
 * Content-Type: application/json; any other is a Content-Type header (up
 * to the first newline, cut at a NUL as a header would be) and the body
 * after it.
 *
 * Invariants: no crash, undefined behaviour or leak; a refusal returns no
 * object, a known status and a UTF-8 message; an accepted body is an
 * object, nests at most API_JSON_DEPTH deep, repeats no name in any
 * object (its names, counted in the text, are as many as json-c kept),
 * holds no integer json-c would clamp, and its serialisation is accepted
 * again and serialises to the same bytes. */
#include <errno.h>
#include <json-c/json.h>

#include "fuzz.h"
#include "parse.h"

#define OUT_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Depth of o as json-c counts it: a scalar 0, an object or array one
 * more than its deepest member. */
static int depth(json_object *o)
{
    int d = 0;

    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, k, v) {
            int dv = depth(v);

            (void)k;
            if (dv > d)
                d = dv;
        }
        return d + 1;
    }
    if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++) {
            int dv = depth(json_object_array_get_idx(o, i));

            if (dv > d)
                d = dv;
        }
        return d + 1;
    }
    return 0;
}

/* Members json-c kept, in all objects of o. */
static size_t members(json_object *o)
{
    size_t n = 0;

    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, k, v) {
            (void)k;
            n += 1 + members(v);
        }
    } else if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++)
            n += members(json_object_array_get_idx(o, i));
    }
    return n;
}

/* In JSON text that a strict parser took: the names (strings followed by
 * ':'), and whether every integer token fits 64 bits (int64 when
 * negative, uint64 otherwise), which is what json-c holds unclamped. */
static size_t scan_text(const char *s, size_t n, int *ints_fit)
{
    size_t i = 0, names = 0;

    *ints_fit = 1;
    while (i < n) {
        if (s[i] == '"') {
            for (i++; i < n && s[i] != '"'; i++)
                if (s[i] == '\\')
                    i++;
            i++;
            {
                size_t j = i;

                while (j < n && strchr(" \t\r\n", s[j]) && s[j])
                    j++;
                if (j < n && s[j] == ':')
                    names++;
            }
            continue;
        }
        if (s[i] == '-' || (s[i] >= '0' && s[i] <= '9')) {
            size_t st = i;
            int whole = 1;
            char buf[64];

            while (i < n && strchr("+-.eE0123456789", s[i]) && s[i]) {
                if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
                    whole = 0;
                i++;
            }
            if (whole) {
                if (i - st >= sizeof buf) {
                    *ints_fit = 0;
                    continue;
                }
                memcpy(buf, s + st, i - st);
                buf[i - st] = '\0';
                errno = 0;
                if (buf[0] == '-')
                    (void)strtoll(buf, NULL, 10);
                else
                    (void)strtoull(buf, NULL, 10);
                if (errno == ERANGE)
                    *ints_fit = 0;
            }
            continue;
        }
        i++;
    }
    return names;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *ct = "application/json";
    char *ctbuf = NULL, *body = NULL, *again = NULL;
    const uint8_t *b = data;
    size_t blen = size, names;
    json_object *o = NULL, *o2 = NULL;
    struct kx_error err;
    enum kx_status st;
    int fit;

    if (size > API_BODY_MAX)
        return 0;   /* the server answers 413 before parsing */
    if (size && !strchr("{[ \t\r\n", data[0])) {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t cl = nl ? (size_t)(nl - data) : size;

        if (!(ctbuf = fz_copy(data, cl, 1)))
            return 0;
        ct = ctbuf;
        b = nl ? nl + 1 : data + size;
        blen = nl ? size - cl - 1 : 0;
    }
    if (!(body = fz_copy(b, blen, 0)))
        goto out;
    kx_error_clear(&err);
    st = api_body_parse(ct, body, blen, &o, &err);
    if (st != KX_OK) {
        if (o)
            fz_fail("refused, yet an object came back", data, size, NULL);
        if (st != KX_BADINPUT && st != KX_UNSUPPORTED && st != KX_NOMEM)
            fz_fail("refused with an unexpected status", data, size,
                    kx_status_str(st));
        if (st == KX_UNSUPPORTED && strcmp(ct, "application/json") == 0)
            fz_fail("application/json refused as a media type", data, size,
                    err.msg);
        if (st != KX_NOMEM)
            fz_check_refusal(&err, 1, data, size);
        goto out;
    }
    if (!json_object_is_type(o, json_type_object))
        fz_fail("accepted, but not an object", data, size, NULL);
    if (!text_utf8_valid(body, blen))
        fz_fail("accepted a body that is not UTF-8", data, size, NULL);
    if (depth(o) > API_JSON_DEPTH)
        fz_fail("accepted a body nested too deep", data, size, NULL);
    names = scan_text(body, blen, &fit);
    if (names != members(o))
        fz_fail("accepted a body with a repeated name (json-c dropped one)",
                data, size, NULL);
    if (!fit)
        fz_fail("accepted an integer json-c cannot hold", data, size, NULL);
    {
        size_t l1 = 0, l2 = 0;
        const char *s1 = json_object_to_json_string_length(o, OUT_FLAGS, &l1);
        const char *s2;

        if (!s1 || !(again = fz_copy((const uint8_t *)s1, l1, 0)))
            goto out;
        kx_error_clear(&err);
        if (api_body_parse("application/json", again, l1, &o2, &err) !=
            KX_OK)
            fz_fail("its serialisation is refused", data, size, err.msg);
        s2 = json_object_to_json_string_length(o2, OUT_FLAGS, &l2);
        if (!s2 || l1 != l2 || memcmp(s1, s2, l1) != 0)
            fz_fail("its serialisation is not a fixed point", data, size,
                    s2);
    }
out:
    json_object_put(o2);
    json_object_put(o);
    free(again);
    free(body);
    free(ctbuf);
    return 0;
}
