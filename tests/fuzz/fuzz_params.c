/* fuzz_params.c - libFuzzer target for the HTTP API's reading of a
 * request URL (api/http/parse.c): the path split into segments and
 * matched against the route patterns, and the query parameters checked
 * against an endpoint's names (api_param_check), read as lists
 * (api_list_add) and as bounded whole numbers (api_param_uint).
 *
 * An input that starts with '/' is a URL, path and query; any other is the
 * query of /v1/search. It is taken apart as libmicrohttpd does before the
 * server sees it: the path and each key and value '%'-decoded by
 * MHD_http_unescape (a %00 ends the string), '+' a space in the query,
 * '&' between parameters, the first '=' between key and value (no '=': a
 * NULL value).
 *
 * Invariants: no crash, undefined behaviour or leak; a parameter is
 * accepted exactly when its name is one the endpoint takes and name and
 * value are UTF-8, and a refusal carries a UTF-8 message and field; list
 * items are the non-empty comma-separated pieces in order, or the count
 * says there were too many; a number is accepted exactly when it is 1 to 9
 * digits in range, with that value; the segments of a path join back to
 * it, and a pattern matches exactly the paths of its shape. */
#include <microhttpd.h>

#include "fuzz.h"
#include "parse.h"

#define MAX_PARAMS 64

/* The search endpoint's names (api/http/search.c). */
static const char *const search_names[] = {
    "q", "kind", "region", "industry", "discipline", "tag", "status",
    "page", "per_page", "facets", "sort", NULL};

/* The route patterns of server.c. */
static const char *const patterns[] = {
    "/healthz", "/metrics", "/v1/openapi.json", "/v1/site", "/v1/whoami",
    "/v1/taxonomy/*", "/v1/needs", "/v1/needs/*", "/v1/needs/*/matches",
    "/v1/search", "/v1/records/*/*", "/v1/*/*/matches", "/v1/pipeline",
    "/v1/stats", "/v1/audit", "/v1/digests/preview",
    "/v1/digests/unsubscribe", "/*/*/*/*",
};

/* Numbers the endpoints read, with their defaults and bounds. */
static const struct {
    const char *name;
    unsigned dflt, lo, hi;
} numbers[] = {
    {"page", 1, 1, 1000},   {"per_page", 20, 1, 100}, {"facets", 1, 0, 1},
    {"top", 10, 1, 50},     {"limit", 100, 1, 1000},  {"kind", 0, 0, 99999},
    {"q", 7, 0, 4294967295u},
};

static const uint8_t *D;
static size_t N;

static void fail(const char *what, const char *more)
{
    fz_fail(what, D, N, more);
}

static int allowed(const char *key, const char *const *names)
{
    for (size_t i = 0; names && names[i]; i++)
        if (strcmp(key, names[i]) == 0)
            return 1;
    return 0;
}

static int utf8(const char *s)
{
    return !s || text_utf8_valid(s, strlen(s));
}

static void check_param(const char *key, const char *value,
                        const char *const *names)
{
    struct kx_error err;
    enum kx_status st;
    int want;

    kx_error_clear(&err);
    st = api_param_check(key, value, names, &err);
    want = allowed(key, names) && utf8(key) && utf8(value);
    if (st != KX_OK && st != KX_BADINPUT)
        fail("a parameter refused with an unexpected status",
             kx_status_str(st));
    if ((st == KX_OK) != want)
        fail(want ? "an allowed parameter refused"
                  : "a parameter accepted that is not allowed or not UTF-8",
             key);
    if (st != KX_OK)
        fz_check_refusal(&err, 1, D, N);
}

/* The list of name over the n parameters, with max items in a buffer of
 * bufn bytes, against the pieces computed here. */
static void check_list(const char *name, char *const *keys,
                       char *const *vals, size_t n, size_t max, size_t bufn)
{
    char buf[512], want[512];
    const char *out[16], *wout[16];
    struct api_list l = {buf, bufn, 0, out, max, 0};
    size_t wcount = 0, wused = 0;
    int over = 0;

    for (size_t i = 0; i < n; i++) {
        if (strcmp(keys[i], name) != 0 || !vals[i])
            continue;
        if (!api_list_add(&l, vals[i]))
            break;
    }
    for (size_t i = 0; i < n && !over; i++) {
        const char *p;

        if (strcmp(keys[i], name) != 0 || !vals[i])
            continue;
        for (p = vals[i]; *p && !over;) {
            size_t len = strcspn(p, ",");

            if (len) {
                if (wcount >= max || wused + len + 1 > bufn) {
                    over = 1;
                    break;
                }
                memcpy(want + wused, p, len);
                want[wused + len] = '\0';
                wout[wcount++] = want + wused;
                wused += len + 1;
            }
            p += len + (p[len] == ',');
        }
    }
    if (over) {
        if (l.count != max + 1)
            fail("too many list items, yet the count is not max + 1", name);
        return;
    }
    if (l.count != wcount || l.used != wused)
        fail("a list has the wrong items", name);
    for (size_t i = 0; i < wcount; i++) {
        if (out[i] < buf || out[i] >= buf + bufn ||
            strcmp(out[i], wout[i]) != 0 || !out[i][0] ||
            strchr(out[i], ','))
            fail("a list item is wrong", wout[i]);
    }
}

static void check_number(const char *name, const char *v, unsigned dflt,
                         unsigned lo, unsigned hi)
{
    struct kx_error err;
    unsigned out = 12345;
    enum kx_status st;
    size_t len = v ? strlen(v) : 0;
    int digits = v && len >= 1 && len <= 9 &&
                 strspn(v, "0123456789") == len;
    unsigned long want = digits ? strtoul(v, NULL, 10) : 0;

    kx_error_clear(&err);
    st = api_param_uint(name, v, dflt, lo, hi, &out, &err);
    if (!v) {
        if (st != KX_OK || out != dflt)
            fail("an absent number is not its default", name);
        return;
    }
    if (digits && want >= lo && want <= hi) {
        if (st != KX_OK || out != want)
            fail("a number in range refused or changed", v);
        return;
    }
    if (st != KX_BADINPUT || out != dflt)
        fail("a bad number accepted, or *out not the default", v);
    fz_check_refusal(&err, 1, D, N);
    if (strcmp(err.field, name) != 0)
        fail("a bad number's field is not its name", err.field);
}

static void check_path(const char *path)
{
    char buf[512], join[512];
    const char *seg[API_PATH_SEGS], *args[API_ARGS_MAX];
    int ns = api_path_split(path, buf, sizeof buf, seg);
    size_t o = 0;

    if (ns < 0) {
        size_t slashes = 0;

        for (const char *p = path; *p; p++)
            slashes += *p == '/';
        if (path[0] == '/' && strlen(path) < sizeof buf &&
            slashes <= API_PATH_SEGS)
            fail("a path that fits refused", path);
        return;
    }
    if (ns < 1 || ns > API_PATH_SEGS)
        fail("a path split into a bad count", path);
    for (int i = 0; i < ns; i++) {
        size_t l = strlen(seg[i]);

        if (seg[i] < buf || seg[i] + l >= buf + sizeof buf ||
            strchr(seg[i], '/'))
            fail("a segment outside the buffer or holding '/'", path);
        join[o++] = '/';
        memcpy(join + o, seg[i], l);
        o += l;
    }
    join[o] = '\0';
    if (strcmp(join, path) != 0)
        fail("the segments do not join back to the path", join);
    for (size_t k = 0; k < sizeof patterns / sizeof patterns[0]; k++) {
        char pb[128];
        const char *ps[API_PATH_SEGS], *pa[API_ARGS_MAX];
        int np = api_path_split(patterns[k], pb, sizeof pb, ps);
        int m = api_path_match(patterns[k], seg, ns, args), want = np == ns;
        int na = 0;

        for (int i = 0; want && i < np; i++) {
            if (strcmp(ps[i], "*") == 0) {
                if (!seg[i][0] || na == API_ARGS_MAX)
                    want = 0;
                else
                    pa[na++] = seg[i];
            } else if (strcmp(ps[i], seg[i]) != 0) {
                want = 0;
            }
        }
        if (m != want)
            fail(want ? "a path does not match its pattern"
                      : "a path matches a pattern of another shape",
                 patterns[k]);
        for (int i = 0; m && i < na; i++)
            if (args[i] != pa[i])
                fail("a wildcard took the wrong segment", patterns[k]);
    }
}

/* '+' to a space, then libmicrohttpd's own '%' decoding. */
static void unescape(char *s, int plus)
{
    if (plus)
        for (char *p = s; *p; p++)
            if (*p == '+')
                *p = ' ';
    MHD_http_unescape(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = fz_copy(data, size, 1), *query, *keys[MAX_PARAMS],
         *vals[MAX_PARAMS];
    const char *path = "/v1/search";
    size_t n = 0;

    D = data;
    N = size;
    if (!url)
        return 0;
    query = url;
    if (url[0] == '/') {
        char *q = strchr(url, '?');

        query = q ? q + 1 : url + strlen(url);
        if (q)
            *q = '\0';
        unescape(url, 0);
        path = url;
    }
    for (char *p = query; *p && n < MAX_PARAMS;) {
        char *amp = strchr(p, '&'), *eq;

        if (amp)
            *amp = '\0';
        if (*p) {
            eq = strchr(p, '=');
            if (eq)
                *eq = '\0';
            keys[n] = p;
            vals[n] = eq ? eq + 1 : NULL;
            unescape(keys[n], 1);
            if (vals[n])
                unescape(vals[n], 1);
            n++;
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    check_path(path);
    for (size_t i = 0; i < n; i++) {
        check_param(keys[i], vals[i], search_names);
        check_param(keys[i], vals[i], NULL);
    }
    check_list("kind", keys, vals, n, 4, 64);
    check_list("industry", keys, vals, n, 16, 512);
    check_list("q", keys, vals, n, 3, 16);
    for (size_t k = 0; k < sizeof numbers / sizeof numbers[0]; k++) {
        const char *v = NULL;

        /* the first one, as libmicrohttpd looks it up; "top" alone (no
         * '=') has no value and counts as absent */
        for (size_t i = 0; i < n; i++)
            if (strcmp(keys[i], numbers[k].name) == 0) {
                v = vals[i];
                break;
            }
        check_number(numbers[k].name, v, numbers[k].dflt, numbers[k].lo,
                     numbers[k].hi);
    }
    free(url);
    return 0;
}
