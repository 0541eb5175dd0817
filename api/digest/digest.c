/* digest.c - digest building blocks (strings, weeks, encodings, tables)
 * and recipients' settings: frequency, unsubscribe tokens, liaisons. */
#include "digest_int.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* ---- records and tables ------------------------------------------------- */

json_object *api_digest_record(store_txn *t, const char *key)
{
    const char *json;
    size_t len;
    json_tokener *tok;
    json_object *o;

    if (store_record_get(t, key, &json, &len) != KX_OK)
        return NULL;
    if (!(tok = json_tokener_new()))
        return NULL;
    o = json_tokener_parse_ex(tok, json, (int)len);
    json_tokener_free(tok);
    return o;
}

const char *api_digest_str(json_object *o, const char *field)
{
    json_object *v;

    if (!o || !json_object_object_get_ex(o, field, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

enum kx_status api_digest_kv_dup(store_txn *t, enum store_table tb,
                             const char *key, char **out)
{
    const void *v;
    size_t n;
    enum kx_status st = store_kv_get(t, tb, key, strlen(key), &v, &n);

    *out = NULL;
    if (st != KX_OK)
        return st;
    if (!(*out = malloc(n + 1)))
        return KX_NOMEM;
    memcpy(*out, v, n);
    (*out)[n] = '\0';
    return KX_OK;
}

enum kx_status api_digest_kv_puts(store_txn *t, enum store_table tb,
                              const char *key, const char *val)
{
    return store_kv_put(t, tb, key, strlen(key), val, strlen(val));
}

enum kx_status api_digest_kv_json(store_txn *t, enum store_table tb,
                              const char *key, json_object **out)
{
    const void *v;
    size_t n;
    json_tokener *tok;
    enum kx_status st = store_kv_get(t, tb, key, strlen(key), &v, &n);

    *out = NULL;
    if (st != KX_OK)
        return st;
    if (!(tok = json_tokener_new()))
        return KX_NOMEM;
    *out = json_tokener_parse_ex(tok, v, (int)n);
    json_tokener_free(tok);
    return *out ? KX_OK : KX_CORRUPT;
}

enum kx_status api_digest_kv_put_json(store_txn *t, enum store_table tb,
                                  const char *key, json_object *o)
{
    const char *s = json_object_to_json_string_ext(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

    if (!s)
        return KX_NOMEM;
    return store_kv_put(t, tb, key, strlen(key), s, strlen(s));
}


void api_digest_addr_show(const char *s, char *buf, size_t n)
{
    const char *p = s ? s : "";
    size_t o = 0;

    if (n < 8)
        return;
    buf[o++] = '"';
    for (; *p && o + 9 < n; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
            o += (size_t)snprintf(buf + o, n - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    buf[o] = '\0';
    kx_utf8_trim(buf); /* a character the cut went through */
    o = strlen(buf);
    snprintf(buf + o, n - o, "\"%s", *p ? "..." : "");
}

enum kx_status api_digest_address(store_txn *t, const char *recipient,
                              char *addr, char *name, size_t n)
{
    json_object *o;
    const char *a = NULL, *nm = NULL;
    enum kx_kind k;

    addr[0] = name[0] = '\0';
    if (strncmp(recipient, "liaison:", 8) == 0) {
        char key[64], *v = NULL;
        snprintf(key, sizeof key, "liaison:%s", recipient + 8);
        if (api_digest_kv_dup(t, STORE_DIGEST, key, &v) != KX_OK)
            return KX_NOTFOUND;
        if (record_email_valid(v))
            snprintf(addr, n, "%s", v);
        free(v);
        return addr[0] ? KX_OK : KX_NOTFOUND;
    }
    if (record_key_parse(recipient, &k, NULL, NULL) != KX_OK)
        return KX_NOTFOUND;
    if (!(o = api_digest_record(t, recipient)))
        return KX_NOTFOUND;
    switch (k) {
    case KX_KIND_EXPERT:
    case KX_KIND_ACADEMICIAN:
    case KX_KIND_ENTERPRISE: a = api_digest_str(o, "email"); break;
    case KX_KIND_SOCIETY: a = api_digest_str(o, "contact"); break;
    default: break;
    }
    nm = api_digest_str(o, "name");
    if (a && record_email_valid(a)) {
        snprintf(addr, n, "%s", a);
        snprintf(name, n, "%s", nm ? nm : "");
        kx_utf8_trim(name);
    }
    json_object_put(o);
    return addr[0] ? KX_OK : KX_NOTFOUND;
}

void api_digest_outbox_key(char *buf, size_t n, const char *week,
                       const char *recipient)
{
    snprintf(buf, n, "%s|%s", week, recipient);
}

/* ---- weeks -------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
long api_digest_days_from_civil(int y, int m, int d)
{
    long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void api_digest_civil_from_days(long z, int *y, int *m, int *d)
{
    long era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* ISO weekday, Monday 1 .. Sunday 7. */
static int iso_wday(long days)
{
    return (int)(((days % 7) + 7 + 3) % 7) + 1;
}

/* The Monday of ISO week 1 of year y. */
static long week1_monday(int y)
{
    long jan4 = api_digest_days_from_civil(y, 1, 4);
    return jan4 - (iso_wday(jan4) - 1);
}

static void week_of_days(long days, char *buf)
{
    long thursday = days - iso_wday(days) + 4;
    int y, m, d;

    api_digest_civil_from_days(thursday, &y, &m, &d);
    int w = (int)((thursday - api_digest_days_from_civil(y, 1, 1)) / 7 + 1);

    snprintf(buf, API_DIGEST_WEEK_MAX, "%04d-W%02d", y % 10000, w % 100);
}

enum kx_status api_digest_week_parse(const char *week, int *y, int *m,
                                     int *d, struct kx_error *err)
{
    int yy, ww, weeks;
    long mon;

    if (!week || strlen(week) != 8 || week[4] != '-' || week[5] != 'W' ||
        !isdigit((unsigned char)week[0]) || !isdigit((unsigned char)week[1]) ||
        !isdigit((unsigned char)week[2]) || !isdigit((unsigned char)week[3]) ||
        !isdigit((unsigned char)week[6]) || !isdigit((unsigned char)week[7]))
        return kx_error_set(err, KX_BADINPUT, "week",
                            "\"%s\" is not an ISO week (expected YYYY-Www, "
                            "e.g. 2026-W48)", week ? week : "");
    yy = atoi(week);
    ww = atoi(week + 6);
    weeks = (int)((week1_monday(yy + 1) - week1_monday(yy)) / 7);
    if (yy < 1970 || ww < 1 || ww > weeks)
        return kx_error_set(err, KX_BADINPUT, "week",
                            "%s does not exist (%d has weeks 1 to %d)", week,
                            yy, weeks);
    mon = week1_monday(yy) + 7L * (ww - 1);
    {
        int a, b, c;
        api_digest_civil_from_days(mon, &a, &b, &c);
        if (y)
            *y = a;
        if (m)
            *m = b;
        if (d)
            *d = c;
    }
    return KX_OK;
}

void api_digest_week_of(time_t t, char *buf)
{
    struct tm tm;

    localtime_r(&t, &tm);
    week_of_days(api_digest_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1,
                                 tm.tm_mday), buf);
}

enum kx_status api_digest_week_pick(const char *week, char *buf,
                                    struct kx_error *err)
{
    enum kx_status st;

    if (!week) {
        api_digest_week_of(time(NULL), buf);
        return KX_OK;
    }
    if ((st = api_digest_week_parse(week, NULL, NULL, NULL, err)) != KX_OK)
        return st;
    snprintf(buf, API_DIGEST_WEEK_MAX, "%s", week);
    return KX_OK;
}

void api_digest_week_prev(const char *week, char *buf)
{
    int y = 1970, m = 1, d = 1;

    api_digest_week_parse(week, &y, &m, &d, NULL);
    week_of_days(api_digest_days_from_civil(y, m, d) - 7, buf);
}

/* ---- encodings ---------------------------------------------------------- */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64_add(struct kx_buf *b, const unsigned char *s, size_t n)
{
    char out[4];

    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        out[0] = b64[(v >> 18) & 63];
        out[1] = b64[(v >> 12) & 63];
        out[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[3] = i + 2 < n ? b64[v & 63] : '=';
        kx_buf_add(b, out, 4);
    }
}

char *api_digest_base64_lines(const char *data, size_t len)
{
    struct kx_buf b = {0};

    /* 57 input bytes make one 76-character line */
    for (size_t i = 0; i < len; i += 57) {
        base64_add(&b, (const unsigned char *)data + i,
                   len - i < 57 ? len - i : 57);
        kx_buf_add(&b, "\r\n", 2);
    }
    return kx_buf_take(&b);
}

/* Length of the UTF-8 sequence starting with byte c (1 for stray bytes). */
static size_t utf8_len(unsigned char c)
{
    return c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

char *api_digest_encode_words(const char *utf8)
{
    struct kx_buf b = {0};
    const unsigned char *s = (const unsigned char *)utf8;
    size_t n = strlen(utf8), i = 0;
    /* long plain text is encoded too: words of 64 keep every line short */
    int plain = !strstr(utf8, "=?") && n <= 64;

    for (size_t k = 0; k < n && plain; k++)
        if (s[k] < 0x20 || s[k] >= 0x7f || strchr("()<>@,;:\\\".[]", s[k]))
            plain = 0;
    if (plain)
        return strdup(utf8);
    /* 39 bytes make 52 base64 characters, 64 with "=?UTF-8?B?" and "?=":
     * "Subject: " and one word fit in 78 */
    while (i < n) {
        size_t j = i;
        while (j < n) {
            size_t l = utf8_len(s[j]);
            if (j + l > n)
                l = n - j;
            if (j + l - i > 39)
                break;
            j += l;
        }
        if (j == i)
            j = i + 1;
        if (i > 0)
            kx_buf_puts(&b, "\r\n ");
        kx_buf_puts(&b, "=?UTF-8?B?");
        base64_add(&b, s + i, j - i);
        kx_buf_puts(&b, "?=");
        i = j;
    }
    return kx_buf_take(&b);
}

/* ---- header values from record text ------------------------------------- */

/* Decodes one UTF-8 character of s[0..n) into *cp; returns its length, or 0
 * for a byte that starts no well-formed character (stray continuation,
 * overlong form, surrogate, beyond U+10FFFF, cut short). */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned long *cp)
{
    size_t l = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
               : s[0] >= 0xe0 && s[0] <= 0xef ? 3
               : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
    unsigned long c;

    if (l == 0 || l > n)
        return 0;
    c = l == 1 ? s[0] : s[0] & (0x7f >> l);
    for (size_t i = 1; i < l; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if ((l == 3 && c < 0x800) || (l == 4 && (c < 0x10000 || c > 0x10ffff)) ||
        (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return l;
}

/* What a header value does with a character. Line breaks and tabs are
 * whitespace, as are the Unicode spaces; the other controls and the
 * bidirectional formatting characters, which can make a display name
 * read as someone else's, go. */
enum hchar { HC_KEEP, HC_SPACE, HC_DROP };

static enum hchar header_char(unsigned long c)
{
    if (c == '\t' || c == '\n' || c == 0x0b || c == 0x0c || c == '\r' ||
        c == ' ' || c == 0x85 || c == 0xa0 || c == 0x1680 ||
        (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
        c == 0x202f || c == 0x205f || c == 0x3000)
        return HC_SPACE;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x061c ||
        c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
        (c >= 0x2066 && c <= 0x2069))
        return HC_DROP;
    return HC_KEEP;
}

char *api_digest_header_clean(const char *text)
{
    static const char fffd[] = "\xef\xbf\xbd";
    struct kx_buf b = {0};
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    size_t n = strlen((const char *)s), i = 0;
    int space = 0;

    while (i < n) {
        unsigned long c = 0xfffd;
        size_t l = utf8_decode(s + i, n - i, &c);
        const char *out = (const char *)s + i;
        size_t ol = l;
        enum hchar h;

        if (l == 0) { /* one bad byte becomes one U+FFFD */
            l = 1;
            out = fffd;
            ol = 3;
        }
        i += l;
        h = header_char(c);
        if (h == HC_DROP)
            continue;
        if (h == HC_SPACE) {
            space = b.n > 0; /* none leading; trailing ones never land */
            continue;
        }
        if (b.n + (size_t)space + ol > API_DIGEST_HEADER_TEXT_MAX)
            break;
        if (space)
            kx_buf_add(&b, " ", 1);
        kx_buf_add(&b, out, ol);
        space = 0;
    }
    return kx_buf_take(&b);
}

char *api_digest_header_value(const char *text)
{
    char *clean = api_digest_header_clean(text), *enc;

    if (!clean)
        return NULL;
    enc = api_digest_encode_words(clean);
    free(clean);
    return enc;
}

/* ---- regions ------------------------------------------------------------ */

int api_digest_region_in(const char *r, const char *area)
{
    size_t n = area ? strlen(area) : 0, keep = n;

    if (!r || (n != 6 && n != 9))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)area[i]))
            return 0;
    if (n == 6)
        keep = strcmp(area + 2, "0000") == 0 ? 2
               : strcmp(area + 4, "00") == 0 ? 4 : 6;
    return strncmp(r, area, keep) == 0;
}

/* ---- tokens and settings ------------------------------------------------ */

enum kx_status api_digest_random_hex(char *buf, size_t hexlen)
{
    unsigned char raw[64];
    size_t need = (hexlen + 1) / 2, got = 0;

    if (need > sizeof raw)
        return KX_INTERNAL;
    while (got < need) {
        ssize_t r = getrandom(raw + got, need - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return KX_IO;
        }
        got += (size_t)r;
    }
    for (size_t i = 0; i < hexlen; i++)
        buf[i] = "0123456789abcdef"[(raw[i / 2] >> (i % 2 ? 0 : 4)) & 15];
    buf[hexlen] = '\0';
    return KX_OK;
}

enum kx_status api_digest_token_ensure(store_txn *t, const char *recipient,
                                   char *buf)
{
    char key[KX_KEY_MAX + 16], tkey[API_DIGEST_TOKEN_LEN + 16], *v = NULL;
    enum kx_status st;

    snprintf(key, sizeof key, "rtoken:%s", recipient);
    st = api_digest_kv_dup(t, STORE_DIGEST, key, &v);
    if (st == KX_OK) {
        snprintf(buf, API_DIGEST_TOKEN_LEN + 1, "%s", v);
        free(v);
        return KX_OK;
    }
    if (st != KX_NOTFOUND)
        return st;
    if ((st = api_digest_random_hex(buf, API_DIGEST_TOKEN_LEN)) != KX_OK)
        return st;
    snprintf(tkey, sizeof tkey, "token:%s", buf);
    if ((st = api_digest_kv_puts(t, STORE_DIGEST, tkey, recipient)) != KX_OK)
        return st;
    return api_digest_kv_puts(t, STORE_DIGEST, key, buf);
}

enum kx_status api_digest_token(store *st, const char *recipient, char *buf,
                                struct kx_error *err)
{
    store_txn *t = NULL;
    enum kx_status s;

    (void)err;
    /* Most calls find it: try a read first, so a preview rarely writes. */
    if ((s = store_txn_begin(st, 0, &t)) != KX_OK)
        return s;
    {
        char key[KX_KEY_MAX + 16], *v = NULL;
        snprintf(key, sizeof key, "rtoken:%s", recipient);
        s = api_digest_kv_dup(t, STORE_DIGEST, key, &v);
        store_txn_abort(t);
        if (s == KX_OK) {
            snprintf(buf, API_DIGEST_TOKEN_LEN + 1, "%s", v);
            free(v);
            return KX_OK;
        }
        if (s != KX_NOTFOUND)
            return s;
    }
    if ((s = store_txn_begin(st, 1, &t)) != KX_OK)
        return s;
    s = api_digest_token_ensure(t, recipient, buf);
    if (s != KX_OK) {
        store_txn_abort(t);
        return s;
    }
    return store_txn_commit(t);
}

static const char *const frequencies[] = {"weekly", "fortnightly", "monthly",
                                          "off", NULL};

int api_digest_frequency_known(const char *freq)
{
    for (size_t i = 0; freq && frequencies[i]; i++)
        if (strcmp(freq, frequencies[i]) == 0)
            return 1;
    return 0;
}

const char *api_digest_frequency(store_txn *t, const char *recipient)
{
    char key[KX_KEY_MAX + 16];
    const void *v;
    size_t n;

    snprintf(key, sizeof key, "freq:%s", recipient);
    if (store_kv_get(t, STORE_DIGEST, key, strlen(key), &v, &n) == KX_OK)
        for (size_t i = 0; frequencies[i]; i++)
            if (n == strlen(frequencies[i]) && memcmp(v, frequencies[i], n) == 0)
                return frequencies[i];
    return "weekly";
}

int api_digest_frequency_on(store_txn *t, const char *recipient)
{
    return strcmp(api_digest_frequency(t, recipient), "off") != 0;
}

int api_digest_frequency_in(store_txn *t, const char *recipient,
                            const char *week)
{
    const char *f = api_digest_frequency(t, recipient);
    int y, m, d, w = 0;

    if (strcmp(f, "weekly") == 0)
        return 1;
    if (strcmp(f, "off") == 0 ||
        api_digest_week_parse(week, &y, &m, &d, NULL) != KX_OK)
        return 0;
    if (strcmp(f, "fortnightly") == 0) /* the even ISO weeks */
        return sscanf(week, "%*4d-W%2d", &w) == 1 && w % 2 == 0;
    return d <= 7; /* monthly: the week whose Monday is a month's first */
}

/* KX_OK if recipient names someone who can receive digests. */
static enum kx_status recipient_exists(store_txn *t, const char *recipient,
                                       struct kx_error *err)
{
    enum kx_kind k;
    const char *json;
    size_t len;
    enum kx_status st;

    if (strncmp(recipient, "liaison:", 8) == 0) {
        char key[64];
        const void *v;
        size_t n;
        snprintf(key, sizeof key, "liaison:%.40s", recipient + 8);
        if (store_kv_get(t, STORE_DIGEST, key, strlen(key), &v, &n) != KX_OK)
            return kx_error_set(err, KX_NOTFOUND, "recipient",
                                "no liaison address for region %s (add one "
                                "with `kxmatch digest liaison add`)",
                                recipient + 8);
        return KX_OK;
    }
    if ((st = record_key_parse(recipient, &k, NULL, err)) != KX_OK)
        return st;
    if (k != KX_KIND_EXPERT && k != KX_KIND_ACADEMICIAN &&
        k != KX_KIND_SOCIETY && k != KX_KIND_ENTERPRISE)
        return kx_error_set(err, KX_BADINPUT, "recipient",
                            "%s cannot receive digests (expected an expert, "
                            "academician, society, enterprise or "
                            "liaison:REGION)", recipient);
    if (store_record_get(t, recipient, &json, &len) != KX_OK)
        return kx_error_set(err, KX_NOTFOUND, "recipient", "no record %s",
                            recipient);
    return KX_OK;
}

static enum kx_status frequency_put(store_txn *t, const char *recipient,
                                    const char *freq)
{
    char key[KX_KEY_MAX + 16];

    snprintf(key, sizeof key, "freq:%s", recipient);
    return api_digest_kv_puts(t, STORE_DIGEST, key, freq);
}

enum kx_status api_digest_frequency_set(store *st, const char *recipient,
                                        const char *freq,
                                        struct kx_error *err)
{
    store_txn *t = NULL;
    enum kx_status s;

    if (!api_digest_frequency_known(freq))
        return kx_error_set(err, KX_BADINPUT, "frequency",
                            "\"%s\" is not a frequency (expected weekly, "
                            "fortnightly, monthly or off)", freq ? freq : "");
    if ((s = store_txn_begin(st, 1, &t)) != KX_OK)
        return s;
    if ((s = recipient_exists(t, recipient, err)) != KX_OK ||
        (s = frequency_put(t, recipient, freq)) != KX_OK) {
        store_txn_abort(t);
        return s;
    }
    return store_txn_commit(t);
}

enum kx_status api_digest_unsubscribe(store *st, const char *token,
                                      char *recipient_out,
                                      struct kx_error *err)
{
    return api_digest_token_apply(st, token, API_DIGEST_TOKEN_OFF,
                                  recipient_out, NULL, err);
}

enum kx_status api_digest_token_apply(store *st, const char *token,
                                      enum api_digest_token_action act,
                                      char *recipient_out, int *was_on,
                                      struct kx_error *err)
{
    char key[API_DIGEST_TOKEN_LEN + 16], *who = NULL;
    store_txn *t = NULL;
    enum kx_status s;
    size_t n = token ? strlen(token) : 0;

    if (n != API_DIGEST_TOKEN_LEN || strspn(token, "0123456789abcdef") != n)
        return kx_error_set(err, KX_BADINPUT, "token",
                            "an unsubscribe token is %d lowercase hex "
                            "digits", API_DIGEST_TOKEN_LEN);
    if ((s = store_txn_begin(st, act != API_DIGEST_TOKEN_ASK, &t)) != KX_OK)
        return s;
    snprintf(key, sizeof key, "token:%s", token);
    s = api_digest_kv_dup(t, STORE_DIGEST, key, &who);
    if (s == KX_NOTFOUND)
        kx_error_set(err, s, "token", "unknown unsubscribe token");
    if (s == KX_OK && was_on)
        *was_on = api_digest_frequency_on(t, who);
    if (s == KX_OK && act != API_DIGEST_TOKEN_ASK)
        s = frequency_put(t, who, act == API_DIGEST_TOKEN_ON ? "weekly"
                                                             : "off");
    if (s == KX_OK && recipient_out)
        snprintf(recipient_out, KX_KEY_MAX, "%s", who);
    free(who);
    /* only a change is committed; a look (or a failure) is let go */
    if (s != KX_OK || act == API_DIGEST_TOKEN_ASK) {
        store_txn_abort(t);
        return s;
    }
    return store_txn_commit(t);
}

enum kx_status api_digest_liaison_set(store *st, const taxo *tx,
                                      const char *region, const char *email,
                                      struct kx_error *err)
{
    char key[64];
    store_txn *t = NULL;
    const char *why;
    enum kx_status s;

    if (!region || strlen(region) > 12 || !tx ||
        !taxo_valid(tx, TAXO_REGION, region))
        return kx_error_set(err, KX_BADINPUT, "region",
                            "\"%s\" is not a GB/T 2260 region code",
                            region ? region : "");
    if ((why = record_email_check(email, email ? strlen(email) : 0))) {
        char shown[128];
        api_digest_addr_show(email, shown, sizeof shown);
        return kx_error_set(err, KX_BADINPUT, "email",
                            "%s is not an e-mail address like "
                            "name@example.org: %s", shown, why);
    }
    snprintf(key, sizeof key, "liaison:%s", region);
    if ((s = store_txn_begin(st, 1, &t)) != KX_OK)
        return s;
    if ((s = api_digest_kv_puts(t, STORE_DIGEST, key, email)) != KX_OK) {
        store_txn_abort(t);
        return s;
    }
    return store_txn_commit(t);
}

enum kx_status api_digest_liaison_del(store *st, const char *region,
                                      struct kx_error *err)
{
    char key[64];
    store_txn *t = NULL;
    enum kx_status s;

    snprintf(key, sizeof key, "liaison:%.40s", region ? region : "");
    if ((s = store_txn_begin(st, 1, &t)) != KX_OK)
        return s;
    s = store_kv_del(t, STORE_DIGEST, key, strlen(key));
    if (s != KX_OK) {
        store_txn_abort(t);
        if (s == KX_NOTFOUND)
            kx_error_set(err, s, "region", "no liaison address for %s",
                         region ? region : "");
        return s;
    }
    return store_txn_commit(t);
}

static int liaison_collect(void *ctx, const void *key, size_t klen,
                           const void *val, size_t vlen)
{
    json_object *o = ctx;
    char k[64];

    snprintf(k, sizeof k, "%.*s", (int)(klen - 8), (const char *)key + 8);
    json_object_object_add(o, k, json_object_new_string_len(val, (int)vlen));
    return 0;
}

enum kx_status api_digest_liaison_list(store *st, json_object **out)
{
    store_txn *t = NULL;
    enum kx_status s;

    *out = NULL;
    if ((s = store_txn_begin(st, 0, &t)) != KX_OK)
        return s;
    if (!(*out = json_object_new_object())) {
        store_txn_abort(t);
        return KX_NOMEM;
    }
    s = store_kv_each(t, STORE_DIGEST, "liaison:", 8, liaison_collect, *out);
    store_txn_abort(t);
    if (s != KX_OK) {
        json_object_put(*out);
        *out = NULL;
    }
    return s;
}
