/* record.c - the record format: parsing, validation, canonical JSON. */
#include "record.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "text.h"
#include "util.h"

#define REC_DEPTH 32            /* json_tokener nesting limit */
#define REC_GOT_MAX 60          /* how much of a bad value a message quotes */
#define REC_QBUF (REC_GOT_MAX * 6 + 8)   /* room for it quoted and escaped */
#define REC_JSON_OUT (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
/* canonical keys are unique static strings: json-c need not copy them */
#define REC_KEY_FLAGS                                                      \
    (JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_KEY_IS_CONSTANT)

static const char *const kind_names[KX_KIND_LAST] = {
    [KX_KIND_EXPERT] = "expert",       [KX_KIND_ACADEMICIAN] = "academician",
    [KX_KIND_SOCIETY] = "society",     [KX_KIND_ENTERPRISE] = "enterprise",
    [KX_KIND_NEED] = "need",           [KX_KIND_RESULT] = "result",
};
#define KIND_LIST "expert, academician, society, enterprise, need, result"
#define ID_RULE "1-64 characters of A-Z, a-z, 0-9, '.', '_', '-'"

#define K(x) (1u << KX_KIND_##x)
#define K_ALL ((1u << KX_KIND_LAST) - 1)
#define K_PERSON (K(EXPERT) | K(ACADEMICIAN))

enum ftype {
    FT_NAME,     /* non-blank string */
    FT_STR,      /* string; "" is the same as absent */
    FT_TEXT,     /* FT_STR of at most KX_TEXT_MAX bytes */
    FT_STRS,     /* array of strings */
    FT_TAGS,     /* array of non-empty strings */
    FT_CODES,    /* array of taxonomy codes of kind aux */
    FT_REGION,   /* one region code */
    FT_ENUM,     /* one of vals; equal to dflt is left out */
    FT_EMAIL,
    FT_DATETIME, /* ISO 8601 date or date-time */
    FT_DATE,     /* YYYY-MM-DD */
    FT_BOOL,
    FT_INT,      /* int member: a JSON integer lo..hi; equal to idflt (if
                  * has_dflt) is left out */
    FT_INT64,    /* the same into an int64_t member */
    FT_KEY,      /* "kind:id" with kind in the mask aux */
    FT_KEYS,     /* array of those */
    FT_DELETED   /* handled before the others */
};

struct field {
    const char *name;
    unsigned kinds;          /* kinds that may carry it */
    unsigned required;       /* kinds that must */
    enum ftype type;
    size_t off;              /* member of struct kx_record */
    unsigned aux;            /* taxo kind, or kind mask of a reference */
    const char *const *vals; /* FT_ENUM, NULL-terminated */
    const char *dflt;        /* FT_ENUM default */
    int64_t lo, hi;          /* FT_INT, FT_INT64 */
    int idflt, has_dflt;
    const char *unit;        /* what an integer counts, for messages */
};

static const char *const v_lang[] = {"zh", "en", NULL};
static const char *const v_level[] = {"national", "provincial", "municipal",
                                      "county", NULL};
static const char *const v_size[] = {"micro", "small", "medium", "large",
                                     NULL};
static const char *const v_vis[] = {"public", "confidential", NULL};
static const char *const v_status[] = {"open", "matched", "closed", NULL};

#define OFF(m) offsetof(struct kx_record, m)

/* The order of this table is the canonical field order (after kind and
 * id), and README.md documents it: change both together. */
static const struct field fields[] = {
    {.name = "name", .kinds = K_ALL, .required = K_ALL, .type = FT_NAME,
     .off = OFF(name)},
    {.name = "text", .kinds = K_ALL, .type = FT_TEXT, .off = OFF(text)},
    {.name = "tags", .kinds = K_ALL, .type = FT_TAGS, .off = OFF(tags)},
    {.name = "industries", .kinds = K_ALL, .type = FT_CODES,
     .off = OFF(industries), .aux = TAXO_INDUSTRY},
    {.name = "disciplines", .kinds = K_ALL, .type = FT_CODES,
     .off = OFF(disciplines), .aux = TAXO_DISCIPLINE},
    {.name = "region", .kinds = K_ALL, .type = FT_REGION, .off = OFF(region),
     .aux = TAXO_REGION},
    {.name = "lang", .kinds = K_ALL, .type = FT_ENUM, .off = OFF(lang),
     .vals = v_lang},
    {.name = "email", .kinds = K_ALL, .type = FT_EMAIL, .off = OFF(email)},
    {.name = "updated", .kinds = K_ALL, .type = FT_DATETIME,
     .off = OFF(updated)},
    {.name = "deleted", .kinds = K_ALL, .type = FT_DELETED,
     .off = OFF(deleted)},
    /* expert, academician */
    {.name = "org", .kinds = K_PERSON, .type = FT_STR, .off = OFF(org)},
    {.name = "title", .kinds = K_PERSON, .type = FT_STR, .off = OFF(title)},
    {.name = "roles", .kinds = K_PERSON, .type = FT_STRS, .off = OFF(roles)},
    {.name = "capacity", .kinds = K_PERSON, .type = FT_INT,
     .off = OFF(capacity), .lo = 0, .hi = KX_CAPACITY_MAX,
     .idflt = KX_DEFAULT_CAPACITY, .has_dflt = 1,
     .unit = "matches per week"},
    {.name = "conflicts", .kinds = K_PERSON, .type = FT_KEYS,
     .off = OFF(conflicts), .aux = K(ENTERPRISE)},
    {.name = "academy", .kinds = K(ACADEMICIAN), .type = FT_STR,
     .off = OFF(academy)},
    /* society */
    {.name = "level", .kinds = K(SOCIETY), .type = FT_ENUM, .off = OFF(level),
     .vals = v_level},
    {.name = "members", .kinds = K(SOCIETY), .type = FT_KEYS,
     .off = OFF(members), .aux = K_PERSON},
    {.name = "contact", .kinds = K(SOCIETY), .type = FT_EMAIL,
     .off = OFF(contact)},
    /* enterprise */
    {.name = "size", .kinds = K(ENTERPRISE), .type = FT_ENUM,
     .off = OFF(size), .vals = v_size},
    {.name = "has_kexie", .kinds = K(ENTERPRISE), .type = FT_BOOL,
     .off = OFF(has_kexie)},
    /* need */
    {.name = "enterprise", .kinds = K(NEED), .required = K(NEED),
     .type = FT_KEY, .off = OFF(enterprise), .aux = K(ENTERPRISE)},
    {.name = "visibility", .kinds = K(NEED), .type = FT_ENUM,
     .off = OFF(visibility), .vals = v_vis, .dflt = "public"},
    {.name = "status", .kinds = K(NEED), .type = FT_ENUM, .off = OFF(status),
     .vals = v_status, .dflt = "open"},
    {.name = "budget", .kinds = K(NEED), .type = FT_INT64,
     .off = OFF(budget), .lo = 0, .hi = KX_BUDGET_MAX, .unit = "yuan"},
    {.name = "deadline", .kinds = K(NEED), .type = FT_DATE,
     .off = OFF(deadline)},
    /* result */
    {.name = "owner", .kinds = K(RESULT), .type = FT_KEY, .off = OFF(owner),
     .aux = K_PERSON | K(SOCIETY)},
    {.name = "trl", .kinds = K(RESULT), .type = FT_INT, .off = OFF(trl),
     .lo = KX_TRL_MIN, .hi = KX_TRL_MAX,
     .unit = "technology readiness level"},
};
#define NFIELDS (sizeof fields / sizeof fields[0])

/* The record and, behind it, the pointer arrays of its string lists, so
 * that a record is one allocation besides its JSON. */
struct rec {
    struct kx_record r;
    size_t npool, used;
    const char *pool[];
};

/* ---- small helpers -------------------------------------------------- */

static enum kx_status bad(struct kx_error *err, enum kx_status st,
                          const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum kx_status bad(struct kx_error *err, enum kx_status st,
                          const char *field, const char *fmt, ...)
{
    char msg[sizeof err->msg];
    va_list ap;

    if (!err)
        return st;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return kx_error_set(err, st, field, "%s", msg);
}

static enum kx_status nomem(struct kx_error *err)
{
    return kx_error_set(err, KX_NOMEM, "", "out of memory");
}

/* Where a message may cut s[0..len) to quote it: at most REC_GOT_MAX
 * bytes, at a character boundary. */
static size_t clip_len(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    len = max;
    while (len && ((unsigned char)s[len] & 0xC0) == 0x80)
        len--;
    return len;
}

/* s[0..len) quoted and escaped like a JSON string, cut with "..." if
 * long, for messages; buf holds REC_QBUF bytes. */
static const char *quote(const char *s, size_t len, char *buf)
{
    size_t cut = clip_len(s, len, REC_GOT_MAX), i, o = 0;

    buf[o++] = '"';
    for (i = 0; i < cut; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(buf + o, REC_QBUF - o, "\\u%04x", c);
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o++] = '"';
    if (cut < len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

/* A short JSON rendering of v for "got ..." in messages. */
static const char *got(struct json_object *v, char *buf, size_t n)
{
    const char *s;
    size_t len;

    if (!v)
        return "null";
    if (json_object_is_type(v, json_type_string) && n >= REC_QBUF)
        return quote(json_object_get_string(v),
                     (size_t)json_object_get_string_len(v), buf);
    s = json_object_to_json_string_ext(v, REC_JSON_OUT);
    if (!s)
        return "(unprintable)";
    len = strlen(s);
    if (len < n && len <= REC_GOT_MAX) {
        memcpy(buf, s, len + 1);
        return buf;
    }
    len = clip_len(s, len, REC_GOT_MAX < n - 4 ? REC_GOT_MAX : n - 4);
    memcpy(buf, s, len);
    memcpy(buf + len, "...", 4);
    return buf;
}

/* A field name fit for err->field (which truncates bytewise), cut at a
 * character boundary; buf holds sizeof err->field bytes. */
static const char *clip_field(const char *name, char *buf)
{
    size_t n = clip_len(name, strlen(name),
                        sizeof ((struct kx_error *)0)->field - 1);

    memcpy(buf, name, n);
    buf[n] = '\0';
    return buf;
}

static const char *type_name(struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "a boolean";
    case json_type_double:
    case json_type_int:
        return "a number";
    case json_type_string:
        return "a string";
    case json_type_array:
        return "an array";
    case json_type_object:
        return "an object";
    }
    return "something else";
}

/* Offset of the first byte of s[0..n) that does not start a valid UTF-8
 * character (n if none). text_utf8_valid decides validity; this only
 * finds where it stops holding, by trying each character's possible
 * lengths, and runs only once a line is already known to be bad. */
static size_t utf8_bad_at(const char *s, size_t n)
{
    size_t i = 0, m;

    while (i < n) {
        if ((unsigned char)s[i] < 0x80) {
            if (!s[i])
                return i;
            i++;
            continue;
        }
        for (m = 2; m <= 4 && i + m <= n; m++)
            if (text_utf8_valid(s + i, m))
                break;
        if (m > 4 || i + m > n)
            return i;
        i += m;
    }
    return n;
}

/* Checks that a string value can be used as a C string of UTF-8 text. */
static enum kx_status check_cstr(struct json_object *v, const char *field,
                                 struct kx_error *err)
{
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v), at;

    if (text_utf8_valid(s, n))
        return KX_OK;
    at = utf8_bad_at(s, n);
    if (at < n && !s[at])
        return bad(err, KX_BADINPUT, field,
                   "NUL character (\\u0000) at byte %zu of the string", at);
    return bad(err, KX_BADINPUT, field, "invalid UTF-8 at byte %zu of the "
               "string", at);
}

/* Adds v (which may be NULL, JSON null) to o; json-c keeps v only on
 * success. */
static enum kx_status add_value(struct json_object *o, const char *key,
                                struct json_object *v, unsigned opts,
                                struct kx_error *err)
{
    if (json_object_object_add_ex(o, key, v, opts) != 0) {
        json_object_put(v);
        return nomem(err);
    }
    return KX_OK;
}

/* Adds a value just made: NULL here means the making ran out of memory. */
static enum kx_status add(struct json_object *o, const char *key,
                          struct json_object *v, unsigned opts,
                          struct kx_error *err)
{
    if (!v)
        return nomem(err);
    return add_value(o, key, v, opts, err);
}

/* ---- kinds, ids, keys ------------------------------------------------ */

const char *record_kind_name(enum kx_kind k)
{
    return (unsigned)k < KX_KIND_LAST ? kind_names[k] : NULL;
}

enum kx_kind record_kind_parse(const char *s)
{
    int k;

    if (!s)
        return KX_KIND_LAST;
    for (k = 0; k < KX_KIND_LAST; k++)
        if (strcmp(s, kind_names[k]) == 0)
            return (enum kx_kind)k;
    return KX_KIND_LAST;
}

static int id_valid(const char *id, size_t n)
{
    size_t i;

    if (n < 1 || n > KX_ID_MAX)
        return 0;
    for (i = 0; i < n; i++) {
        char c = id[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int record_id_valid(const char *id)
{
    return id && id_valid(id, strlen(id));
}

/* record_key_parse without the err plumbing: msg gets the reason. */
static int key_split(const char *key, enum kx_kind *kind, char *id,
                     char *msg, size_t n)
{
    const char *colon = key ? strchr(key, ':') : NULL;
    char kname[16], q1[REC_QBUF], q2[REC_QBUF];
    size_t kl;
    enum kx_kind k;

    if (!colon) {
        snprintf(msg, n, "expected a key \"kind:id\", got %s",
                 quote(key ? key : "", key ? strlen(key) : 0, q1));
        return 0;
    }
    kl = (size_t)(colon - key);
    k = KX_KIND_LAST;
    if (kl < sizeof kname) {
        memcpy(kname, key, kl);
        kname[kl] = '\0';
        k = record_kind_parse(kname);
    }
    if (k == KX_KIND_LAST) {
        snprintf(msg, n, "unknown kind %s in key %s (expected one of "
                 KIND_LIST ")", quote(key, kl, q1),
                 quote(key, strlen(key), q2));
        return 0;
    }
    if (!id_valid(colon + 1, strlen(colon + 1))) {
        snprintf(msg, n, "invalid id in key %s (expected " ID_RULE " after "
                 "the colon)", quote(key, strlen(key), q1));
        return 0;
    }
    if (kind)
        *kind = k;
    if (id)
        memcpy(id, colon + 1, strlen(colon + 1) + 1);
    return 1;
}

enum kx_status record_key_parse(const char *key, enum kx_kind *kind_out,
                                char *id_out, struct kx_error *err)
{
    char msg[sizeof err->msg];

    if (!key_split(key, kind_out, id_out, msg, sizeof msg))
        return kx_error_set(err, KX_BADINPUT, "", "%s", msg);
    return KX_OK;
}

/* "enterprise", "expert or academician", ... for messages. */
static const char *kinds_text(unsigned mask, char *buf, size_t n)
{
    size_t off = 0;
    int k, left = 0;

    for (k = 0; k < KX_KIND_LAST; k++)
        left += (int)((mask >> k) & 1u);
    buf[0] = '\0';
    for (k = 0; k < KX_KIND_LAST; k++) {
        if (!((mask >> k) & 1))
            continue;
        left--;
        off += (size_t)snprintf(buf + off, n - off, "%s%s", kind_names[k],
                                left > 1 ? ", " : left == 1 ? " or " : "");
        if (off >= n)
            break;
    }
    return buf;
}

/* ---- syntax checks --------------------------------------------------- */

/* Taxonomy codes are checked by shape first, so that a NULL taxonomy
 * still rejects obvious garbage; the taxonomy then decides. */
static int code_shape(enum taxo_kind k, const char *s)
{
    size_t n = strlen(s), i;

    switch (k) {
    case TAXO_INDUSTRY:
        if (n == 1)
            return s[0] >= 'A' && s[0] <= 'Z';
        if (n < 2 || n > 4)
            return 0;
        break;
    case TAXO_DISCIPLINE:
        if ((n != 3 && n != 5 && n != 7) || s[0] < 'A' || s[0] > 'Z')
            return 0;
        s++;
        n--;
        break;
    default:
        if (n != 6 && n != 9)
            return 0;
        break;
    }
    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static const char *const code_what[TAXO_KIND_LAST] = {
    [TAXO_INDUSTRY] = "GB/T 4754-2017 industry code",
    [TAXO_DISCIPLINE] = "NSFC discipline code",
    [TAXO_REGION] = "GB/T 2260 region code",
};

/* ---- e-mail addresses ------------------------------------------------ */

/* RFC 5322 atext: what a dot-atom local part is made of. */
static int atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static int ldh(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-';
}

static const char *local_check(const char *s, size_t n)
{
    if (n == 0)
        return "the local part before the @ is empty";
    if (n > RECORD_EMAIL_LOCAL_MAX)
        return "the local part before the @ is longer than 64 characters";
    if (s[0] == '"') {
        /* A quoted string, but only the plain kind: no quoted pairs, no
         * spaces, nothing a header or an SMTP command would need to
         * escape. */
        if (n < 3 || s[n - 1] != '"')
            return "a quoted local part must be \"...\" with at least one "
                   "character inside";
        for (size_t i = 1; i + 1 < n; i++)
            if (s[i] == '"' || s[i] == '\\')
                return "a quoted local part may not hold \" or \\";
        return NULL;
    }
    if (s[0] == '.' || s[n - 1] == '.')
        return "the local part may not begin or end with a dot";
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.' && i + 1 < n && s[i + 1] == '.')
            return "the local part may not hold two dots in a row";
        if (s[i] != '.' && !atext((unsigned char)s[i]))
            return "the local part may hold only letters, digits, dots and "
                   "!#$%&'*+-/=?^_`{|}~ (or be quoted)";
    }
    return NULL;
}

static int is_localhost(const char *s, size_t n)
{
    /* s is letters, digits and hyphens here: | 0x20 lowers letters only */
    for (size_t i = 0; i < n; i++)
        if (i >= 9 || (s[i] | 0x20) != "localhost"[i])
            return 0;
    return n == 9;
}

static const char *domain_check(const char *s, size_t n)
{
    size_t labels = 0, i = 0;
    int digits_only = 0;

    if (n == 0)
        return "the domain after the @ is empty";
    if (s[0] == '[')
        return "address literals like [192.0.2.1] are not accepted; give a "
               "domain name";
    if (s[n - 1] == '.')
        return "the domain may not end with a dot";
    while (i <= n) {
        size_t j = i;

        digits_only = 1;
        while (j < n && s[j] != '.') {
            if (!ldh((unsigned char)s[j]))
                return "a domain label may hold only letters, digits and "
                       "hyphens (write an international domain as "
                       "punycode, xn--...)";
            if (s[j] < '0' || s[j] > '9')
                digits_only = 0;
            j++;
        }
        if (j == i)
            return "the domain has an empty label (two dots in a row, or a "
                   "dot first)";
        if (j - i > RECORD_EMAIL_LABEL_MAX)
            return "a domain label is longer than 63 characters";
        if (s[i] == '-' || s[j - 1] == '-')
            return "a domain label may not begin or end with a hyphen";
        labels++;
        i = j + 1;
    }
    /* localhost alone: the default sender on a machine without a domain */
    if (labels < 2 && !is_localhost(s, n))
        return "the domain needs at least two labels, like example.org";
    if (digits_only)
        return "the top-level domain is all digits (IP addresses are not "
               "accepted)";
    return NULL;
}

const char *record_email_check(const char *s, size_t len)
{
    const char *at = NULL;

    if (!s || len == 0)
        return "the address is empty";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return "the address holds a control character";
        if (c == ' ')
            return "the address holds a space";
        if (c >= 0x80)
            return "the address holds a non-ASCII character (write an "
                   "international domain as punycode, xn--...)";
        if (c == '@') {
            if (at)
                return "the address holds more than one @";
            at = s + i;
        }
    }
    if (!at)
        return "the address has no @ between local part and domain";
    if (len > RECORD_EMAIL_MAX)
        return "the address is longer than 254 characters";
    {
        const char *why = local_check(s, (size_t)(at - s));
        if (why)
            return why;
    }
    return domain_check(at + 1, len - (size_t)(at + 1 - s));
}

int record_email_valid(const char *s)
{
    return s && !record_email_check(s, strlen(s));
}

static int two(const char *s)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

static int days_in(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

/* Checks an ISO 8601 date (date_only) or date / date-time; on failure
 * writes the reason to why and returns 0. */
static int datetime_valid(const char *s, int date_only, char *why, size_t n)
{
    static const char date_fmt[] = "YYYY-MM-DD";
    static const char dt_fmt[] =
        "YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][Z|+hh:mm|-hh:mm]";
    size_t len = strlen(s);
    char q[REC_QBUF];
    int y, mo, d, h, mi, sec = 0, oh, om;
    const char *p;

    quote(s, len, q);
    if (len < 10 || s[4] != '-' || s[7] != '-' || two(s) < 0 ||
        two(s + 2) < 0 || (mo = two(s + 5)) < 0 || (d = two(s + 8)) < 0)
        goto shape;
    y = two(s) * 100 + two(s + 2);
    if (y < 1) {
        snprintf(why, n, "year 0000 is out of range in %s", q);
        return 0;
    }
    if (mo < 1 || mo > 12) {
        snprintf(why, n, "month %02d is out of range (01-12) in %s", mo,
                 q);
        return 0;
    }
    if (d < 1 || d > days_in(y, mo)) {
        snprintf(why, n, "day %02d is out of range for %04d-%02d in %s",
                 d, y, mo, q);
        return 0;
    }
    if (len == 10)
        return 1;
    if (date_only)
        goto shape;
    if (len < 16 || s[10] != 'T' || (h = two(s + 11)) < 0 || s[13] != ':' ||
        (mi = two(s + 14)) < 0)
        goto shape;
    p = s + 16;
    if (p[0] == ':') {
        if ((sec = two(p + 1)) < 0)
            goto shape;
        p += 3;
    }
    if (p[0] == 'Z') {
        p++;
    } else if (p[0] == '+' || p[0] == '-') {
        if ((oh = two(p + 1)) < 0 || p[3] != ':' || (om = two(p + 4)) < 0)
            goto shape;
        if (oh > 23 || om > 59) {
            snprintf(why, n, "UTC offset %.6s is out of range in %s", p,
                     q);
            return 0;
        }
        p += 6;
    }
    if (*p)
        goto shape;
    if (h > 23 || mi > 59 || sec > 59) {
        snprintf(why, n, "time %.*s is out of range in %s",
                 s[16] == ':' ? 8 : 5, s + 11, q);
        return 0;
    }
    return 1;
shape:
    snprintf(why, n, "expected %s, got %s", date_only ? date_fmt : dt_fmt, q);
    return 0;
}

/* The shortest decimal that reads back as d, in fixed notation unless the
 * exponent is large (as JavaScript prints numbers), with '.' whatever the
 * locale says: equal numbers serialise to equal bytes. */
static void shortest(double d, char *buf, size_t n)
{
    int prec, exp;
    char *p;

    for (prec = 1; prec < 17; prec++) {
        snprintf(buf, n, "%.*e", prec - 1, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    if (prec == 17)
        snprintf(buf, n, "%.16e", d);
    p = strchr(buf, 'e');
    exp = p ? atoi(p + 1) : 0;
    if (exp >= -6 && exp < 21)
        snprintf(buf, n, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, d);
    p = strchr(buf, ',');
    if (p)
        *p = '.';
}

/* A finite double in its canonical spelling; a double stays one when read
 * again, so an integral value gets ".0". */
static struct json_object *double_new(double d)
{
    char buf[40];

    shortest(d, buf, sizeof buf - 2);
    if (!strpbrk(buf, ".eE"))
        strcat(buf, ".0");
    return json_object_new_double_s(d, buf);
}

/* ---- field validation ------------------------------------------------ */

/* What one record build needs at hand. */
struct build {
    struct rec *rec;
    struct json_object *out;   /* the canonical object being built */
    const taxo *t;
    struct kx_error *err;
};

/* Validates one string that must be there and be a string. */
static enum kx_status want_string(struct json_object *v, const char *field,
                                  const char *what, struct kx_error *err)
{
    char g[REC_QBUF];

    if (!json_object_is_type(v, json_type_string))
        return bad(err, KX_BADINPUT, field, "expected %s, got %s", what,
                   got(v, g, sizeof g));
    return check_cstr(v, field, err);
}

/* Refuses shown as the value of the integer field f, giving its rule;
 * note, if not NULL, says what else is wrong with it. */
static enum kx_status int_bad(struct kx_error *err, const struct field *f,
                              const char *shown, const char *note)
{
    return bad(err, KX_BADINPUT, f->name, "expected an integer from %lld to "
               "%lld%s%s%s, got %s%s%s%s", (long long)f->lo,
               (long long)f->hi, f->unit ? " (" : "", f->unit ? f->unit : "",
               f->unit ? ")" : "", shown, note ? " (" : "", note ? note : "",
               note ? ")" : "");
}

static int blank(const char *s)
{
    return s[strspn(s, " \t\r\n")] == '\0';
}

/* Validates one element (or the whole value) of a field as its type
 * wants and returns the canonical string; fname is "tags[2]" etc. */
static enum kx_status check_scalar(struct build *b, const struct field *f,
                                   struct json_object *v, const char *fname,
                                   const char **out)
{
    char g[REC_QBUF], why[512], kinds[96];
    enum kx_status st;
    const char *s;
    enum kx_kind k;
    size_t i;

    *out = NULL;
    switch (f->type) {
    case FT_NAME:
        st = want_string(v, fname, "a non-empty string", b->err);
        if (st == KX_OK && blank(json_object_get_string(v)))
            st = bad(b->err, KX_BADINPUT, fname, "expected a non-empty "
                     "string, got %s", got(v, g, sizeof g));
        break;
    case FT_STR:
    case FT_STRS:
        st = want_string(v, fname, "a string", b->err);
        break;
    case FT_TEXT:
        st = want_string(v, fname, "a string", b->err);
        if (st == KX_OK && json_object_get_string_len(v) > KX_TEXT_MAX)
            return bad(b->err, KX_TOOLARGE, fname, "text is %d bytes; at "
                       "most %d bytes are allowed",
                       json_object_get_string_len(v), KX_TEXT_MAX);
        break;
    case FT_TAGS:
        st = want_string(v, fname, "a non-empty string", b->err);
        if (st == KX_OK && blank(json_object_get_string(v)))
            st = bad(b->err, KX_BADINPUT, fname, "expected a non-empty "
                     "string, got %s", got(v, g, sizeof g));
        break;
    case FT_CODES:
    case FT_REGION:
        snprintf(why, sizeof why, "a %s (a string)", code_what[f->aux]);
        st = want_string(v, fname, why, b->err);
        if (st != KX_OK)
            break;
        s = json_object_get_string(v);
        if (!code_shape((enum taxo_kind)f->aux, s) ||
            (b->t && !taxo_valid(b->t, (enum taxo_kind)f->aux, s))) {
            if (f->type == FT_REGION)
                return bad(b->err, KX_BADINPUT, fname, "unknown %s %s "
                           "(expected 6 digits, or 9 for a township)",
                           code_what[f->aux], got(v, g, sizeof g));
            return bad(b->err, KX_BADINPUT, fname, "unknown %s %s",
                       code_what[f->aux], got(v, g, sizeof g));
        }
        break;
    case FT_ENUM:
        st = KX_BADINPUT;
        if (json_object_is_type(v, json_type_string)) {
            s = json_object_get_string(v);
            for (i = 0; f->vals[i]; i++)
                if (strcmp(s, f->vals[i]) == 0)
                    st = KX_OK;
        }
        if (st != KX_OK) {
            size_t off = 0;

            why[0] = '\0';
            for (i = 0; f->vals[i] && off < sizeof why; i++)
                off += (size_t)snprintf(why + off, sizeof why - off, "%s%s",
                                        i ? ", " : "", f->vals[i]);
            return bad(b->err, KX_BADINPUT, fname, "expected one of %s, got "
                       "%s", why, got(v, g, sizeof g));
        }
        break;
    case FT_EMAIL:
        st = want_string(v, fname, "an e-mail address", b->err);
        if (st == KX_OK &&
            (s = record_email_check(json_object_get_string(v),
                                    (size_t)json_object_get_string_len(v))))
            return bad(b->err, KX_BADINPUT, fname, "expected an e-mail "
                       "address like name@example.org, got %s: %s",
                       got(v, g, sizeof g), s);
        break;
    case FT_DATETIME:
    case FT_DATE:
        st = want_string(v, fname, f->type == FT_DATE ? "a date YYYY-MM-DD"
                         : "an ISO 8601 date or date-time", b->err);
        if (st == KX_OK && !datetime_valid(json_object_get_string(v),
                                           f->type == FT_DATE, why,
                                           sizeof why))
            return bad(b->err, KX_BADINPUT, fname, "%s", why);
        break;
    case FT_KEY:
    case FT_KEYS:
        kinds_text(f->aux, kinds, sizeof kinds);
        snprintf(why, sizeof why, "a key \"kind:id\" of kind %s", kinds);
        st = want_string(v, fname, why, b->err);
        if (st != KX_OK)
            break;
        s = json_object_get_string(v);
        if (!key_split(s, &k, NULL, why, sizeof why))
            return bad(b->err, KX_BADINPUT, fname, "%s", why);
        if (!((f->aux >> k) & 1))
            return bad(b->err, KX_BADINPUT, fname, "expected a key of kind %s,"
                       " got %s", kinds, got(v, g, sizeof g));
        break;
    default:
        return bad(b->err, KX_INTERNAL, fname, "field type %d is not a "
                   "string type", (int)f->type);
    }
    if (st == KX_OK)
        *out = json_object_get_string(v);
    return st;
}

static enum kx_status put_string(struct build *b, const struct field *f,
                                 const char *s, const char **slot)
{
    struct json_object *c = json_object_new_string(s);
    enum kx_status st;

    if (!c)
        return nomem(b->err);
    st = add(b->out, f->name, c, REC_KEY_FLAGS, b->err);
    if (st == KX_OK)
        *slot = json_object_get_string(c);
    return st;
}

static enum kx_status do_array(struct build *b, const struct field *f,
                               struct json_object *v)
{
    struct kx_strs *dst = (struct kx_strs *)((char *)&b->rec->r + f->off);
    struct json_object *arr;
    char fname[sizeof b->err->field], g[REC_QBUF];
    size_t n, i;
    enum kx_status st;

    if (!json_object_is_type(v, json_type_array))
        return bad(b->err, KX_BADINPUT, f->name, "expected an array of %s, "
                   "got %s", f->type == FT_CODES ? code_what[f->aux]
                   : f->type == FT_KEYS ? "keys" : "strings",
                   got(v, g, sizeof g));
    n = json_object_array_length(v);
    if (!n)
        return KX_OK;   /* [] says what absence says */
    arr = json_object_new_array_ext((int)n);
    if (!arr)
        return nomem(b->err);
    st = add(b->out, f->name, arr, REC_KEY_FLAGS, b->err);
    if (st != KX_OK)
        return st;
    dst->v = &b->rec->pool[b->rec->used];
    for (i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(v, i), *c;
        const char *s;

        snprintf(fname, sizeof fname, "%s[%zu]", f->name, i);
        st = check_scalar(b, f, e, fname, &s);
        if (st != KX_OK)
            return st;
        c = json_object_new_string_len(s, json_object_get_string_len(e));
        if (!c || json_object_array_add(arr, c) != 0) {
            json_object_put(c);
            return nomem(b->err);
        }
        if (b->rec->used == b->rec->npool)
            return bad(b->err, KX_INTERNAL, fname, "string pool overflow");
        b->rec->pool[b->rec->used++] = json_object_get_string(c);
    }
    dst->n = n;
    return KX_OK;
}

/* "lang" was not given: detect it from name and text, the two fields
 * that carry the record's language. */
static const char *detect_lang(const struct kx_record *r)
{
    const char *name = r->name ? r->name : "";
    size_t nl = strlen(name);
    size_t tl = r->text ? strlen(r->text) : 0;
    char stackbuf[1024], *buf = stackbuf;
    const char *lang;

    if (!tl)
        return text_detect_lang(name, nl);
    if (nl + 1 + tl > sizeof stackbuf) {
        buf = malloc(nl + 1 + tl);
        if (!buf)   /* the text alone decides then */
            return text_detect_lang(r->text, tl);
    }
    memcpy(buf, name, nl);
    buf[nl] = '\n';
    memcpy(buf + nl + 1, r->text, tl);
    lang = text_detect_lang(buf, nl + 1 + tl);
    if (buf != stackbuf)
        free(buf);
    return lang;
}

static enum kx_status do_field(struct build *b, const struct field *f,
                               struct json_object *v, int present)
{
    struct kx_record *r = &b->rec->r;
    void *slot = (char *)r + f->off;
    char g[REC_QBUF];
    const char *s;
    enum kx_status st;

    if (!present || !v) {   /* absent, or null, which means the same */
        if ((f->required >> r->kind) & 1)
            return bad(b->err, KX_BADINPUT, f->name, "required field \"%s\" "
                       "is missing", f->name);
        if (strcmp(f->name, "lang") == 0)
            return put_string(b, f, detect_lang(r), &r->lang);
        if (f->type == FT_ENUM && f->dflt)
            *(const char **)slot = f->dflt;
        return KX_OK;
    }
    switch (f->type) {
    case FT_STRS:
    case FT_TAGS:
    case FT_CODES:
    case FT_KEYS:
        return do_array(b, f, v);
    case FT_BOOL:
        if (!json_object_is_type(v, json_type_boolean))
            return bad(b->err, KX_BADINPUT, f->name, "expected true or "
                       "false, got %s", got(v, g, sizeof g));
        *(int *)slot = json_object_get_boolean(v) ? 1 : 0;
        return add(b->out, f->name,
                   json_object_new_boolean(*(int *)slot), REC_KEY_FLAGS,
                   b->err);
    case FT_INT:
    case FT_INT64: {
        int64_t i;

        /* A double was written with a fraction or an exponent: never an
         * integer field's value, whatever it would round to, and never
         * converted. A json-c int is exact (record_numbers_check saw to
         * that for text) and reads as INT64_MAX when it is a larger
         * uint64: out of range either way. */
        if (!json_object_is_type(v, json_type_int))
            return int_bad(b->err, f, got(v, g, sizeof g), NULL);
        i = json_object_get_int64(v);
        if (i < f->lo || i > f->hi)
            return int_bad(b->err, f, got(v, g, sizeof g), NULL);
        if (f->type == FT_INT)
            *(int *)slot = (int)i;
        else
            *(int64_t *)slot = i;
        if (f->has_dflt && i == f->idflt)
            return KX_OK;
        return add(b->out, f->name, json_object_new_int64(i), REC_KEY_FLAGS,
                   b->err);
    }
    case FT_DELETED:
        return KX_OK;   /* false: nothing to keep */
    default:
        break;
    }
    st = check_scalar(b, f, v, f->name, &s);
    if (st != KX_OK)
        return st;
    if (!*s && f->type == FT_STR)
        return KX_OK;   /* "" says what absence says */
    if (!*s && f->type == FT_TEXT)
        return KX_OK;
    if (f->type == FT_ENUM && f->dflt && strcmp(s, f->dflt) == 0) {
        *(const char **)slot = f->dflt;
        return KX_OK;
    }
    return put_string(b, f, s, (const char **)slot);
}

/* ---- custom x_ fields ------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A copy of v with object keys sorted and numbers in shortest form, so
 * that custom fields, too, serialise the same whatever the input order
 * and spelling of their content. */
static enum kx_status x_copy(struct json_object *v, int depth,
                             const char *field, struct kx_error *err,
                             struct json_object **out)
{
    char g[REC_QBUF];
    enum kx_status st = KX_OK;

    *out = NULL;
    if (depth > REC_DEPTH)
        return bad(err, KX_BADINPUT, field, "nesting deeper than %d levels",
                   REC_DEPTH);
    switch (json_object_get_type(v)) {
    case json_type_null:
        return KX_OK;
    case json_type_boolean:
        *out = json_object_new_boolean(json_object_get_boolean(v));
        break;
    case json_type_int: {
        int64_t i = json_object_get_int64(v);

        *out = i == INT64_MAX
                   ? json_object_new_uint64(json_object_get_uint64(v))
                   : json_object_new_int64(i);
        break;
    }
    case json_type_double: {
        double d = json_object_get_double(v);

        if (!isfinite(d))
            return bad(err, KX_BADINPUT, field, "expected a finite number, "
                       "got %s", got(v, g, sizeof g));
        *out = double_new(d == 0 ? 0 : d);   /* -0.0 is 0.0 */
        break;
    }
    case json_type_string:
        st = check_cstr(v, field, err);
        if (st != KX_OK)
            return st;
        *out = json_object_new_string_len(json_object_get_string(v),
                                          json_object_get_string_len(v));
        break;
    case json_type_array: {
        size_t n = json_object_array_length(v), i;

        *out = json_object_new_array_ext((int)n);
        for (i = 0; *out && i < n; i++) {
            struct json_object *c;

            st = x_copy(json_object_array_get_idx(v, i), depth + 1, field,
                        err, &c);
            if (st != KX_OK)
                break;
            if (json_object_array_add(*out, c) != 0) {
                json_object_put(c);
                st = nomem(err);
                break;
            }
        }
        break;
    }
    case json_type_object: {
        size_t n = (size_t)json_object_object_length(v), i = 0;
        const char **keys = malloc((n ? n : 1) * sizeof *keys);

        if (!keys)
            return nomem(err);
        json_object_object_foreach(v, key, val) {
            (void)val;
            keys[i++] = key;
        }
        qsort(keys, n, sizeof *keys, cmp_str);
        *out = json_object_new_object();
        for (i = 0; *out && i < n; i++) {
            struct json_object *c;

            if (!text_utf8_valid(keys[i], strlen(keys[i]))) {
                st = bad(err, KX_BADINPUT, field, "a member name is not "
                         "valid UTF-8");
                break;
            }
            st = x_copy(json_object_object_get(v, keys[i]), depth + 1,
                        field, err, &c);
            if (st != KX_OK)
                break;
            st = add_value(*out, keys[i], c, JSON_C_OBJECT_ADD_KEY_IS_NEW,
                           err);
            if (st != KX_OK)
                break;
        }
        free(keys);
        break;
    }
    }
    if (st == KX_OK && !*out)
        st = nomem(err);
    if (st != KX_OK) {
        json_object_put(*out);
        *out = NULL;
    }
    return st;
}

static enum kx_status do_custom(struct build *b, struct json_object *in,
                                size_t nx)
{
    const char **keys;
    char fb[sizeof b->err->field];
    size_t i = 0;
    enum kx_status st = KX_OK;

    if (!nx)
        return KX_OK;
    keys = malloc(nx * sizeof *keys);
    if (!keys)
        return nomem(b->err);
    json_object_object_foreach(in, key, val) {
        (void)val;
        if (strncmp(key, "x_", 2) == 0 && i < nx)
            keys[i++] = key;
    }
    qsort(keys, i, sizeof *keys, cmp_str);
    nx = i;
    for (i = 0; i < nx && st == KX_OK; i++) {
        struct json_object *c;

        st = x_copy(json_object_object_get(in, keys[i]), 1,
                    clip_field(keys[i], fb), b->err, &c);
        if (st == KX_OK)
            st = add_value(b->out, keys[i], c, JSON_C_OBJECT_ADD_KEY_IS_NEW,
                           b->err);
    }
    free(keys);
    return st;
}

/* ---- building a record ----------------------------------------------- */

static const struct field *field_find(const char *name)
{
    size_t i;

    for (i = 0; i < NFIELDS; i++)
        if (strcmp(fields[i].name, name) == 0)
            return &fields[i];
    return NULL;
}

enum record_shape record_field_shape(const char *name)
{
    const struct field *f;

    if (!name)
        return RECORD_SHAPE_UNKNOWN;
    if (strcmp(name, "kind") == 0 || strcmp(name, "id") == 0)
        return RECORD_SHAPE_TEXT;
    if (!(f = field_find(name)))
        return RECORD_SHAPE_UNKNOWN;
    switch (f->type) {
    case FT_STRS:
    case FT_TAGS:
    case FT_CODES:
    case FT_KEYS:
        return RECORD_SHAPE_LIST;
    case FT_INT:
    case FT_INT64:
        return RECORD_SHAPE_INT;
    case FT_BOOL:
    case FT_DELETED:
        return RECORD_SHAPE_BOOL;
    default:
        return RECORD_SHAPE_TEXT;
    }
}

static enum kx_status head_string(struct json_object *in, const char *name,
                                  struct json_object **v, struct kx_error *err)
{
    char g[REC_QBUF];

    if (!json_object_object_get_ex(in, name, v) || !*v)
        return bad(err, KX_BADINPUT, name, "required field \"%s\" is "
                   "missing", name);
    if (!json_object_is_type(*v, json_type_string))
        return bad(err, KX_BADINPUT, name, "expected a string, got %s",
                   got(*v, g, sizeof g));
    return check_cstr(*v, name, err);
}

static enum kx_status build(struct json_object *in, const taxo *t,
                            struct kx_record **out, struct kx_error *err)
{
    struct json_object *kv, *iv, *dv = NULL;
    struct build b = {NULL, NULL, t, err};
    struct kx_record *r;
    enum kx_kind kind;
    const char *id;
    char g[REC_QBUF], kinds[96], fb[sizeof err->field];
    size_t npool = 0, nx = 0, i;
    int deleted = 0;
    enum kx_status st;

    if (!json_object_is_type(in, json_type_object))
        return bad(err, KX_BADINPUT, "", "expected a JSON object, got %s",
                   type_name(in));
    st = head_string(in, "kind", &kv, err);
    if (st != KX_OK)
        return st;
    kind = record_kind_parse(json_object_get_string(kv));
    if (kind == KX_KIND_LAST)
        return bad(err, KX_BADINPUT, "kind", "unknown kind %s (expected one "
                   "of " KIND_LIST ")", got(kv, g, sizeof g));
    st = head_string(in, "id", &iv, err);
    if (st != KX_OK)
        return st;
    id = json_object_get_string(iv);
    if (!record_id_valid(id))
        return bad(err, KX_BADINPUT, "id", "invalid id %s (expected "
                   ID_RULE ")", got(iv, g, sizeof g));
    if (json_object_object_get_ex(in, "deleted", &dv) && dv) {
        if (!json_object_is_type(dv, json_type_boolean))
            return bad(err, KX_BADINPUT, "deleted", "expected true or false,"
                       " got %s", got(dv, g, sizeof g));
        deleted = json_object_get_boolean(dv);
    }

    /* every field must be known for this kind, deletion or not, so that
     * a typo never passes silently */
    json_object_object_foreach(in, key, val) {
        const struct field *f;

        if (strcmp(key, "kind") == 0 || strcmp(key, "id") == 0)
            continue;
        if (!text_utf8_valid(key, strlen(key)))
            return bad(err, KX_BADINPUT, "", "a field name is not valid "
                       "UTF-8");
        if (strncmp(key, "x_", 2) == 0) {
            nx++;
            continue;
        }
        f = field_find(key);
        if (!f)
            return bad(err, KX_BADINPUT, clip_field(key, fb), "unknown "
                       "field %s (custom fields must start with x_)",
                       quote(key, strlen(key), g));
        if (!((f->kinds >> kind) & 1))
            return bad(err, KX_BADINPUT, key, "field \"%s\" is not allowed "
                       "for kind %s (only for %s)", key, kind_names[kind],
                       kinds_text(f->kinds, kinds, sizeof kinds));
        if ((f->type == FT_STRS || f->type == FT_TAGS ||
             f->type == FT_CODES || f->type == FT_KEYS) &&
            json_object_is_type(val, json_type_array))
            npool += json_object_array_length(val);
    }

    b.rec = calloc(1, sizeof *b.rec + npool * sizeof b.rec->pool[0]);
    b.out = json_object_new_object();
    if (!b.rec || !b.out) {
        st = nomem(err);
        goto out;
    }
    b.rec->npool = npool;
    r = &b.rec->r;
    r->kind = kind;
    memcpy(r->id, id, strlen(id) + 1);
    snprintf(r->key, sizeof r->key, "%s:%s", kind_names[kind], id);
    r->deleted = deleted;
    r->capacity = (K_PERSON >> kind) & 1 ? KX_DEFAULT_CAPACITY : 0;
    r->has_kexie = -1;
    r->budget = -1;
    r->obj = b.out;

    st = add(b.out, "kind", json_object_new_string(kind_names[kind]),
             REC_KEY_FLAGS, err);
    if (st == KX_OK)
        st = add(b.out, "id", json_object_new_string(id), REC_KEY_FLAGS,
                 err);
    if (st != KX_OK)
        goto out;
    if (deleted) {
        /* a deletion carries nothing else: what else was sent is moot */
        st = add(b.out, "deleted", json_object_new_boolean(1), REC_KEY_FLAGS,
                 err);
        goto out;
    }
    for (i = 0; i < NFIELDS && st == KX_OK; i++) {
        const struct field *f = &fields[i];
        struct json_object *v = NULL;
        int present;

        if (!((f->kinds >> kind) & 1))
            continue;
        present = json_object_object_get_ex(in, f->name, &v);
        st = do_field(&b, f, v, present);
    }
    if (st == KX_OK)
        st = do_custom(&b, in, nx);
out:
    if (st != KX_OK) {
        json_object_put(b.out);
        free(b.rec);
        return st;
    }
    *out = &b.rec->r;
    return KX_OK;
}

enum kx_status record_from_json(struct json_object *obj, const taxo *t,
                                struct kx_record **out, struct kx_error *err)
{
    if (!out)
        return bad(err, KX_BADINPUT, "", "no place for the record");
    *out = NULL;
    return build(obj, t, out, err);
}

void record_free(struct kx_record *r)
{
    if (!r)
        return;
    json_object_put(r->obj);
    /* r is the first member of its struct rec */
    free((struct rec *)(void *)r);
}

/* ---- profiles ----------------------------------------------------- */

#define PROF_MAGIC "KP1"
#define PROF_ABSENT 0xffffu
#define PROF_NSTR 8
#define PROF_NLIST 4

struct prof_out {
    char *buf;
    size_t len, cap;
    enum kx_status st;
};

static void prof_put(struct prof_out *o, const void *p, size_t n)
{
    if (o->st != KX_OK)
        return;
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        char *b;
        while (cap < o->len + n)
            cap *= 2;
        if (!(b = realloc(o->buf, cap))) {
            o->st = KX_NOMEM;
            return;
        }
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
}

static void prof_u16(struct prof_out *o, size_t v)
{
    unsigned char b[2] = {(unsigned char)(v & 0xff),
                          (unsigned char)(v >> 8 & 0xff)};

    if (v > PROF_ABSENT && o->st == KX_OK)
        o->st = KX_TOOLARGE;
    prof_put(o, b, 2);
}

static void prof_i32(struct prof_out *o, int v)
{
    uint32_t u = (uint32_t)v;
    unsigned char b[4] = {(unsigned char)(u & 0xff),
                          (unsigned char)(u >> 8 & 0xff),
                          (unsigned char)(u >> 16 & 0xff),
                          (unsigned char)(u >> 24 & 0xff)};

    prof_put(o, b, 4);
}

static void prof_str(struct prof_out *o, const char *s)
{
    size_t n;

    if (!s) {
        prof_u16(o, PROF_ABSENT);
        return;
    }
    n = strlen(s);
    prof_u16(o, n >= PROF_ABSENT ? PROF_ABSENT + 1 : n);
    prof_put(o, s, n + 1);
}

/* The profile's strings and lists, in their stored order. */
static void prof_fields(struct kx_record *r, const char ***str,
                        struct kx_strs **lists)
{
    const char **s[PROF_NSTR] = {&r->name,   &r->org,    &r->title,
                                 &r->region, &r->owner,  &r->status,
                                 &r->enterprise, &r->visibility};
    struct kx_strs *l[PROF_NLIST] = {&r->industries, &r->disciplines,
                                     &r->conflicts, &r->members};

    memcpy(str, s, sizeof s);
    memcpy(lists, l, sizeof l);
}

enum kx_status record_profile_encode(const struct kx_record *r, char **out,
                                     size_t *len)
{
    struct prof_out o = {NULL, 0, 0, KX_OK};
    const char **str[PROF_NSTR];
    struct kx_strs *lists[PROF_NLIST];
    unsigned char kind = (unsigned char)r->kind;

    *out = NULL;
    *len = 0;
    prof_fields((struct kx_record *)r, str, lists);
    prof_put(&o, PROF_MAGIC, 3);
    prof_put(&o, &kind, 1);
    prof_i32(&o, r->capacity);
    prof_i32(&o, r->trl);
    prof_str(&o, r->id);
    for (size_t i = 0; i < PROF_NSTR; i++)
        prof_str(&o, *str[i]);
    for (size_t i = 0; i < PROF_NLIST; i++) {
        prof_u16(&o, lists[i]->n);
        for (size_t j = 0; j < lists[i]->n; j++)
            prof_str(&o, lists[i]->v[j]);
    }
    if (o.st != KX_OK) {
        free(o.buf);
        return o.st;
    }
    *out = o.buf;
    *len = o.len;
    return KX_OK;
}

struct prof_in {
    const unsigned char *p, *end;
    int bad;
};

static unsigned prof_get_u16(struct prof_in *in)
{
    unsigned v;

    if (in->end - in->p < 2) {
        in->bad = 1;
        return 0;
    }
    v = in->p[0] | (unsigned)in->p[1] << 8;
    in->p += 2;
    return v;
}

static int prof_get_i32(struct prof_in *in)
{
    uint32_t v;

    if (in->end - in->p < 4) {
        in->bad = 1;
        return 0;
    }
    v = in->p[0] | (uint32_t)in->p[1] << 8 | (uint32_t)in->p[2] << 16 |
        (uint32_t)in->p[3] << 24;
    in->p += 4;
    return (int)v;
}

/* A string of the profile, in place (the buffer is a private copy). */
static const char *prof_get_str(struct prof_in *in)
{
    unsigned n = prof_get_u16(in);
    const char *s;

    if (in->bad || n == PROF_ABSENT)
        return NULL;
    if ((size_t)(in->end - in->p) < (size_t)n + 1 || in->p[n] != '\0') {
        in->bad = 1;
        return NULL;
    }
    s = (const char *)in->p;
    in->p += n + 1;
    return s;
}

enum kx_status record_from_profile(const void *p, size_t len,
                                   struct kx_record **out)
{
    struct prof_in in = {p, (const unsigned char *)p + len, 0};
    const char **str[PROF_NSTR];
    struct kx_strs *lists[PROF_NLIST];
    size_t nitems = 0;
    const char *id;
    struct rec *rec;
    char *copy;
    int kind;

    *out = NULL;
    if (len < 4 + 8 || memcmp(p, PROF_MAGIC, 3) != 0)
        return KX_CORRUPT;
    kind = ((const unsigned char *)p)[3];
    if (kind >= KX_KIND_LAST)
        return KX_CORRUPT;
    /* First pass: how many list items (the pool of the record). */
    in.p += 4 + 8;
    for (size_t i = 0; i <= PROF_NSTR && !in.bad; i++) /* id + strings */
        prof_get_str(&in);
    for (size_t i = 0; i < PROF_NLIST && !in.bad; i++) {
        unsigned n = prof_get_u16(&in);
        nitems += n;
        for (unsigned j = 0; j < n && !in.bad; j++)
            if (!prof_get_str(&in))
                in.bad = 1;
    }
    if (in.bad || in.p != in.end)
        return KX_CORRUPT;
    rec = calloc(1, sizeof *rec + nitems * sizeof rec->pool[0] + len);
    if (!rec)
        return KX_NOMEM;
    rec->npool = nitems;
    copy = (char *)&rec->pool[nitems];
    memcpy(copy, p, len);
    /* Second pass over the copy: the strings point into it. */
    in.p = (const unsigned char *)copy + 4;
    in.end = (const unsigned char *)copy + len;
    rec->r.kind = (enum kx_kind)kind;
    rec->r.capacity = prof_get_i32(&in);
    rec->r.trl = prof_get_i32(&in);
    rec->r.has_kexie = -1;
    rec->r.budget = -1;
    prof_fields(&rec->r, str, lists);
    id = prof_get_str(&in);
    for (size_t i = 0; i < PROF_NSTR; i++)
        *str[i] = prof_get_str(&in);
    for (size_t i = 0; i < PROF_NLIST; i++) {
        unsigned n = prof_get_u16(&in);
        lists[i]->v = &rec->pool[rec->used];
        lists[i]->n = n;
        for (unsigned j = 0; j < n; j++)
            rec->pool[rec->used++] = prof_get_str(&in);
    }
    if (!id || strlen(id) > KX_ID_MAX) {
        free(rec);
        return KX_CORRUPT;
    }
    memcpy(rec->r.id, id, strlen(id) + 1);
    snprintf(rec->r.key, sizeof rec->r.key, "%s:%s",
             record_kind_name(rec->r.kind), id);
    *out = &rec->r;
    return KX_OK;
}

const char *record_canonical(struct kx_record *r, size_t *len)
{
    const char *s;
    size_t n = 0;

    if (!r || !r->obj) {
        if (len)
            *len = 0;
        return NULL;
    }
    s = json_object_to_json_string_length(r->obj, REC_JSON_OUT, &n);
    if (len)
        *len = s ? n : 0;
    return s;
}

size_t record_refs(const struct kx_record *r, const char **out, size_t max)
{
    size_t n = 0, i;

#define REC_REF(s)                                                         \
    do {                                                                   \
        if ((s) && n < max)                                                \
            out[n++] = (s);                                                \
    } while (0)
    if (!r)
        return 0;
    REC_REF(r->enterprise);
    REC_REF(r->owner);
    for (i = 0; i < r->members.n; i++)
        REC_REF(r->members.v[i]);
    for (i = 0; i < r->conflicts.n; i++)
        REC_REF(r->conflicts.v[i]);
#undef REC_REF
    return n;
}

/* ---- raw lines ------------------------------------------------------- */

/* Where in a raw JSON object a byte offset falls, found by a light scan
 * that knows strings and brackets only (it may run on text json-c has not
 * accepted). It also hands over the top-level member names as raw tokens,
 * since json-c keeps only the last of duplicate names and never says. */
struct scan_pos {
    size_t nkeys;
    size_t key_at, key_len;  /* raw token of the member at the stop */
    int in_string;           /* the stop is inside a string... */
    int in_key;              /* ...that is a member name */
    int depth;
    long index;              /* element of a depth-2 array, else -1 */
};

typedef int (*scan_fn)(void *ctx, const char *tok, size_t len);

static void scan_raw(const char *s, size_t n, size_t stop, scan_fn fn,
                     void *ctx, struct scan_pos *pos)
{
    size_t i = 0;
    int depth = 0, arr2 = 0;
    long idx = -1;
    char last = 0;   /* the last token at depth 1: '{' ',' ':' or 'v' */

    memset(pos, 0, sizeof *pos);
    if (stop > n)
        stop = n;
    while (i < stop) {
        char c = s[i];

        if (c == '"' || c == '\'') {
            size_t start = i++;
            int key = depth == 1 && (last == '{' || last == ',');

            /* the closing quote is the next one not preceded by an odd
             * run of backslashes */
            for (;;) {
                const char *q = memchr(s + i, c, n - i);
                size_t bs = 0;

                if (!q) {
                    i = n;
                    break;
                }
                i = (size_t)(q - s);
                while (i - bs > start + 1 && s[i - bs - 1] == '\\')
                    bs++;
                if (bs % 2 == 0)
                    break;
                i++;
            }
            if (stop <= i) {
                pos->in_string = 1;
                pos->in_key = key;
                break;
            }
            i++;
            if (key) {
                pos->key_at = start;
                pos->key_len = i - start;
                pos->nkeys++;
                if (fn && fn(ctx, s + start, i - start))
                    break;
            }
            if (depth == 1)
                last = 'v';
            continue;
        }
        switch (c) {
        case '{':
        case '[':
            depth++;
            if (depth == 1)
                last = '{';
            if (depth == 2) {
                arr2 = c == '[';
                idx = arr2 ? 0 : -1;
            }
            break;
        case '}':
        case ']':
            if (depth == 2)
                arr2 = 0;
            depth--;
            break;
        case ',':
            if (depth == 1)
                last = ',';
            else if (depth == 2 && arr2)
                idx++;
            break;
        case ':':
            if (depth == 1)
                last = ':';
            break;
        case ' ':
        case '\t':
        case '\r':
        case '\n':
            break;
        default:
            if (depth == 1)
                last = 'v';
            break;
        }
        i++;
    }
    pos->depth = depth;
    pos->index = depth >= 2 && arr2 ? idx : -1;
}

/* A raw member-name token decoded by json-c into buf (as it is if json-c
 * cannot read it). */
static void key_decode(const char *tok, size_t len, char *buf, size_t n)
{
    struct json_tokener *tk = json_tokener_new_ex(2);
    struct json_object *o = NULL;

    if (tk && len <= INT_MAX)
        o = json_tokener_parse_ex(tk, tok, (int)len);
    if (json_object_is_type(o, json_type_string))
        snprintf(buf, n, "%s", json_object_get_string(o));
    else
        snprintf(buf, n, "%.*s", (int)(len < n ? len : n - 1), tok);
    json_object_put(o);
    json_tokener_free(tk);
}

/* Finds the first member name that repeats; seen collects the names. */
struct dup_ctx {
    struct json_object *seen;
    char name[sizeof ((struct kx_error *)0)->field];
    int found, nomem;
};

static int dup_key(void *ctx, const char *tok, size_t len)
{
    struct dup_ctx *d = ctx;

    key_decode(tok, len, d->name, sizeof d->name);
    if (json_object_object_get_ex(d->seen, d->name, NULL)) {
        d->found = 1;
        return 1;
    }
    if (json_object_object_add(d->seen, d->name, NULL) != 0) {
        d->nomem = 1;
        return 1;
    }
    return 0;
}

static enum kx_status check_dups(const char *json, size_t len,
                                 struct json_object *obj,
                                 struct kx_error *err)
{
    struct scan_pos pos;
    struct dup_ctx d;
    char g[REC_QBUF], fb[sizeof err->field];

    /* counting is cheap; naming the duplicate is done only when needed */
    scan_raw(json, len, len, NULL, NULL, &pos);
    if (pos.nkeys == (size_t)json_object_object_length(obj))
        return KX_OK;
    memset(&d, 0, sizeof d);
    d.seen = json_object_new_object();
    if (!d.seen)
        return nomem(err);
    scan_raw(json, len, len, dup_key, &d, &pos);
    json_object_put(d.seen);
    if (d.nomem)
        return nomem(err);
    if (d.found)
        return bad(err, KX_BADINPUT, clip_field(d.name, fb), "duplicate "
                   "field %s (each field may appear once)",
                   quote(d.name, strlen(d.name), g));
    return KX_OK;
}

/* The bad byte of a line that is not UTF-8, named by the field it is in
 * when that can be told. */
static enum kx_status bad_utf8(const char *json, size_t len,
                               struct kx_error *err)
{
    size_t at = utf8_bad_at(json, len);
    struct scan_pos pos;
    char field[sizeof err->field] = "";
    const char *what = json[at] ? "invalid UTF-8" : "NUL byte";

    scan_raw(json, len, at, NULL, NULL, &pos);
    if (pos.in_string && pos.in_key)
        return bad(err, KX_BADINPUT, "", "%s at byte %zu (in a field name)",
                   what, at);
    if (pos.in_string && pos.depth >= 1 && pos.key_len) {
        size_t fl;

        key_decode(json + pos.key_at, pos.key_len, field, sizeof field);
        fl = strlen(field);
        if (pos.index >= 0 && fl < sizeof field)
            snprintf(field + fl, sizeof field - fl, "[%ld]", pos.index);
    }
    return bad(err, KX_BADINPUT, field, "%s at byte %zu", what, at);
}

/* ---- numbers as written --------------------------------------------- */

/* json-c reads numbers more loosely than JSON does, JSON_TOKENER_STRICT or
 * not: "5.", "5.e3", "00", "-01", NaN and Infinity pass, and an integer
 * beyond 64 bits becomes the nearest one that fits, without a word. What
 * a record keeps must be what it says, so each number is checked as
 * written before json-c's reading of it is used. */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* NULL if s[0..n) is a JSON number whose value json-c keeps: an integer
 * in -2^63..2^64-1, or one with a fraction or exponent (a double). Else
 * what is wrong with it; *range says it is a well-formed integer that
 * does not fit. */
static const char *number_why(const char *s, size_t n, int *range)
{
    static const char pos_lim[] = "18446744073709551615";   /* 2^64 - 1 */
    static const char neg_lim[] = "9223372036854775808";    /* -(-2^63) */
    size_t i = 0, d, nd, ll;
    int neg = 0, whole = 1;
    const char *lim;

    *range = 0;
    if (i < n && s[i] == '-') {
        neg = 1;
        i++;
    }
    if (i < n && is_alpha(s[i]))
        return "not a JSON number: NaN and Infinity are not JSON";
    d = i;
    while (i < n && is_digit(s[i]))
        i++;
    nd = i - d;
    if (!nd)
        return "not a JSON number: it must start with a digit";
    if (nd > 1 && s[d] == '0')
        return "not a JSON number: no leading zeros";
    if (i < n && s[i] == '.') {
        size_t f = ++i;

        whole = 0;
        while (i < n && is_digit(s[i]))
            i++;
        if (i == f)
            return "not a JSON number: a '.' must have digits after it";
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t e;

        whole = 0;
        if (++i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        e = i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i == e)
            return "not a JSON number: an exponent must have digits";
    }
    if (i < n)
        return "not a JSON number";
    lim = neg ? neg_lim : pos_lim;
    ll = strlen(lim);
    if (whole && (nd > ll || (nd == ll && memcmp(s + d, lim, ll) > 0))) {
        *range = 1;
        return "an integer outside -2^63..2^64-1, which json-c cannot hold";
    }
    return NULL;
}

/* A number token number_why refuses, and where it is. */
struct num_at {
    size_t at, len;          /* the token */
    size_t key_at, key_len;  /* raw name of the top-level member holding
                              * it (key_len 0: none) */
    int direct;              /* the member's value itself */
    int range;               /* well-formed, but too large to hold */
    const char *why;
};

/* Finds the first bad number in s[0..n): 1 and *b filled, or 0. Like
 * scan_raw it knows strings and brackets only, and json-c's own checks
 * stand for the rest; tokens end where JSON text says they do. */
static int number_find(const char *s, size_t n, struct num_at *b)
{
    size_t i = 0, key_at = 0, key_len = 0;
    int depth = 0;
    char last = 0;   /* the last token at depth 1: '{' ',' ':' or 'v' */

    while (i < n) {
        char c = s[i];

        if (c == '"' || c == '\'') {
            size_t start = i++, bs;

            /* the closing quote is the next one not preceded by an odd
             * run of backslashes; memchr keeps long text cheap */
            for (;;) {
                const char *q = memchr(s + i, c, n - i);

                if (!q)
                    return 0;   /* unterminated: json-c says so */
                i = (size_t)(q - s);
                for (bs = 0; i - bs > start + 1 && s[i - bs - 1] == '\\';)
                    bs++;
                i++;
                if (bs % 2 == 0)
                    break;
            }
            if (depth == 1 && (last == '{' || last == ',')) {
                key_at = start;
                key_len = i - start;
            }
            if (depth == 1)
                last = 'v';
            continue;
        }
        if (is_digit(c) || c == '-' || is_alpha(c)) {
            size_t start = i, len;
            int range = 0;
            const char *why;

            while (i < n && (is_digit(s[i]) || is_alpha(s[i]) ||
                             s[i] == '.' || s[i] == '+' || s[i] == '-'))
                i++;
            len = i - start;
            if ((len == 4 && (memcmp(s + start, "true", 4) == 0 ||
                              memcmp(s + start, "null", 4) == 0)) ||
                (len == 5 && memcmp(s + start, "false", 5) == 0))
                why = NULL;
            else
                why = number_why(s + start, len, &range);
            if (why) {
                b->at = start;
                b->len = len;
                b->key_at = depth >= 1 ? key_at : 0;
                b->key_len = depth >= 1 ? key_len : 0;
                b->direct = depth == 1 && last == ':';
                b->range = range;
                b->why = why;
                return 1;
            }
            if (depth == 1)
                last = 'v';
            continue;
        }
        if (c == '{' || c == '[') {
            if (++depth == 1)
                last = '{';
        } else if (c == '}' || c == ']') {
            if (--depth == 1)
                last = 'v';
        } else if ((c == ',' || c == ':') && depth == 1) {
            last = c;
        }
        i++;
    }
    return 0;
}

/* The message for a bad number: an integer field's rule when it is that
 * field's value, else what is wrong, in the member that holds it. */
static enum kx_status number_bad(const char *json, const struct num_at *b,
                                 struct kx_error *err)
{
    char name[REC_QBUF] = "", fb[sizeof err->field];
    char shown[REC_GOT_MAX + 4];
    const struct field *f = NULL;
    size_t cut = clip_len(json + b->at, b->len, REC_GOT_MAX);

    snprintf(shown, sizeof shown, "%.*s%s", (int)cut, json + b->at,
             cut < b->len ? "..." : "");
    if (b->key_len) {
        key_decode(json + b->key_at, b->key_len, name, sizeof name);
        f = b->direct ? field_find(name) : NULL;
    }
    if (f && (f->type == FT_INT || f->type == FT_INT64))
        return int_bad(err, f, shown, b->range ? NULL : b->why);
    return bad(err, KX_BADINPUT, clip_field(name, fb), "%s at byte %zu is "
               "%s", shown, b->at, b->why);
}

enum kx_status record_numbers_check(const char *json, size_t len,
                                    struct kx_error *err)
{
    struct num_at b;

    if (!json)
        return len ? bad(err, KX_BADINPUT, "", "no input") : KX_OK;
    if (!number_find(json, len, &b))
        return KX_OK;
    return number_bad(json, &b, err);
}

/* ---- duplicate names at any depth -------------------------------------- */

/* One member name of an object: its raw token and, when it has escapes,
 * what it decodes to (so "a" and "\u0061" are the same name). */
struct dname {
    const char *p;
    size_t n;
    char *decoded;
};

static int dname_cmp(const void *a, const void *b)
{
    const struct dname *x = a, *y = b;
    int c;

    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    c = memcmp(x->p, y->p, x->n);
    return c;
}

/* The index just past the string token that starts (with its quote) at
 * s[i], in text json-c has accepted. */
static size_t string_end(const char *s, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return n;
}

struct dscan {
    const char *s;
    size_t n, i;
    struct kx_error *err;
    enum kx_status st;
};

static void dscan_ws(struct dscan *d)
{
    while (d->i < d->n && strchr(" \t\r\n", d->s[d->i]) && d->s[d->i])
        d->i++;
}

/* json-c takes 'single-quoted' strings even in strict mode; JSON does not. */
static void dscan_quote(struct dscan *d)
{
    d->st = bad(d->err, KX_BADINPUT, "", "not JSON at byte %zu: strings "
                "and names take double quotes", d->i);
}

static void dscan_value(struct dscan *d);

/* Checks one object's names once it has been read: sorted, two equal
 * neighbours are a duplicate. O(n log n), so a body of 60,000 names costs
 * milliseconds, not a quadratic scan. */
static void dscan_names(struct dscan *d, struct dname *v, size_t k)
{
    char g[REC_QBUF], fb[sizeof d->err->field];

    for (size_t j = 0; j < k && d->st == KX_OK; j++) {
        char buf[1024];

        if (!memchr(v[j].p, '\\', v[j].n)) {
            v[j].p++;        /* the bytes between the quotes */
            v[j].n -= 2;
            continue;
        }
        key_decode(v[j].p, v[j].n, buf, sizeof buf);
        if (!(v[j].decoded = strdup(buf))) {
            d->st = nomem(d->err);
            break;
        }
        v[j].p = v[j].decoded;
        v[j].n = strlen(buf);
    }
    if (d->st == KX_OK && k > 1) {
        qsort(v, k, sizeof *v, dname_cmp);
        for (size_t j = 1; j < k; j++)
            if (dname_cmp(&v[j - 1], &v[j]) == 0) {
                char name[sizeof fb];
                snprintf(name, sizeof name, "%.*s", (int)v[j].n, v[j].p);
                d->st = bad(d->err, KX_BADINPUT, clip_field(name, fb),
                            "duplicate field %s (each name may appear once "
                            "in an object)",
                            quote(v[j].p, v[j].n, g));
                break;
            }
    }
    for (size_t j = 0; j < k; j++)
        free(v[j].decoded);
}

static void dscan_object(struct dscan *d)
{
    struct dname *v = NULL;
    size_t k = 0, cap = 0;

    d->i++; /* '{' */
    for (;;) {
        dscan_ws(d);
        if (d->i >= d->n || d->s[d->i] == '}')
            break;
        if (d->s[d->i] == ',') {
            d->i++;
            continue;
        }
        if (d->s[d->i] == '\'') {
            dscan_quote(d);
            break;
        }
        if (d->s[d->i] != '"')
            break; /* not JSON json-c took: nothing more to check */
        if (kx_grow(&v, &cap, k + 1, sizeof *v, 8) != 0) {
            d->st = nomem(d->err);
            break;
        }
        v[k].p = d->s + d->i;
        d->i = string_end(d->s, d->n, d->i);
        v[k].n = (size_t)(d->s + d->i - v[k].p);
        v[k].decoded = NULL;
        k++;
        dscan_ws(d);
        if (d->i < d->n && d->s[d->i] == ':')
            d->i++;
        dscan_value(d);
        if (d->st != KX_OK)
            break;
    }
    if (d->i < d->n && d->s[d->i] == '}')
        d->i++;
    if (d->st == KX_OK)
        dscan_names(d, v, k);
    else
        for (size_t j = 0; j < k; j++)
            free(v[j].decoded);
    free(v);
}

static void dscan_value(struct dscan *d)
{
    dscan_ws(d);
    if (d->i >= d->n)
        return;
    switch (d->s[d->i]) {
    case '{':
        dscan_object(d);
        return;
    case '[':
        d->i++;
        for (;;) {
            dscan_ws(d);
            if (d->i >= d->n || d->s[d->i] == ']')
                break;
            if (d->s[d->i] == ',') {
                d->i++;
                continue;
            }
            dscan_value(d);
            if (d->st != KX_OK)
                return;
        }
        if (d->i < d->n)
            d->i++;
        return;
    case '"':
        d->i = string_end(d->s, d->n, d->i);
        return;
    case '\'':
        dscan_quote(d);
        return;
    default: /* a number, true, false, null */
        while (d->i < d->n && !strchr(",]} \t\r\n", d->s[d->i]))
            d->i++;
        return;
    }
}

enum kx_status record_dups_check(const char *json, size_t len,
                                 struct kx_error *err)
{
    struct dscan d = {json, len, 0, err, KX_OK};

    if (!json)
        return KX_OK;
    dscan_value(&d);
    return d.st;
}

static size_t ws_span(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
                     s[i] == '\n'))
        i++;
    return i;
}

enum kx_status record_parse(const char *json, size_t len, const taxo *t,
                            struct kx_record **out, struct kx_error *err)
{
    struct json_tokener *tok = NULL;
    struct json_object *obj = NULL;
    enum json_tokener_error je;
    struct num_at nb;
    size_t end;
    enum kx_status st;

    if (!out)
        return bad(err, KX_BADINPUT, "", "no place for the record");
    *out = NULL;
    if (!json)
        return bad(err, KX_BADINPUT, "", "no input");
    if (len > KX_LINE_MAX)
        return bad(err, KX_TOOLARGE, "", "line is %zu bytes; at most %u bytes"
                   " are allowed", len, KX_LINE_MAX);
    if (!text_utf8_valid(json, len))
        return bad_utf8(json, len, err);
    tok = json_tokener_new_ex(REC_DEPTH);
    if (!tok)
        return nomem(err);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    obj = json_tokener_parse_ex(tok, json, (int)len);
    je = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (!obj && je == json_tokener_continue) {
        /* a bare number or literal ends only where the input does; a NUL
         * tells json-c so, and completes nothing else */
        obj = json_tokener_parse_ex(tok, "", 1);
        if (!obj && json_tokener_get_error(tok) != json_tokener_success)
            je = json_tokener_continue;
        else
            je = json_tokener_success;
        end = len;
    }
    if (!obj && je == json_tokener_success) {
        st = bad(err, KX_BADINPUT, "", "expected a JSON object, got null");
        goto out;
    }
    if (!obj && je == json_tokener_error_parse_number &&
        number_find(json, len, &nb) && nb.at <= end) {
        /* the number json-c stopped at, named by its field */
        st = number_bad(json, &nb, err);
        goto out;
    }
    if (!obj) {
        if (je == json_tokener_continue && ws_span(json, len) == len)
            st = bad(err, KX_BADINPUT, "", "malformed JSON: empty input");
        else if (je == json_tokener_continue)
            st = bad(err, KX_BADINPUT, "", "malformed JSON: unexpected end "
                     "of input at byte %zu", len);
        else if (je == json_tokener_error_depth)
            st = bad(err, KX_BADINPUT, "", "malformed JSON: nesting deeper "
                     "than %d levels at byte %zu", REC_DEPTH, end);
        else
            st = bad(err, KX_BADINPUT, "", "malformed JSON: %s at byte %zu",
                     json_tokener_error_desc(je), end);
        goto out;
    }
    if (end < len && end + ws_span(json + end, len - end) < len) {
        st = bad(err, KX_BADINPUT, "", "malformed JSON: unexpected text "
                 "after the object at byte %zu", end);
        goto out;
    }
    if (!json_object_is_type(obj, json_type_object)) {
        st = bad(err, KX_BADINPUT, "", "expected a JSON object, got %s",
                 type_name(obj));
        goto out;
    }
    if (number_find(json, len, &nb)) {
        st = number_bad(json, &nb, err);
        goto out;
    }
    st = check_dups(json, len, obj, err);
    if (st == KX_OK)
        st = build(obj, t, out, err);
out:
    json_object_put(obj);
    json_tokener_free(tok);
    return st;
}
