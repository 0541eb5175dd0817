/* auth.c - API tokens kept hashed in LMDB, what each role may see, and the
 * audit log of every write. */
#include "auth.h"
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define JSON_OUT (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define AUDIT_KEY_LEN 12

static const char *const role_names[API_ROLE_LAST] = {
    [API_ROLE_NONE] = "",
    [API_ROLE_ENTERPRISE] = "enterprise",
    [API_ROLE_LIAISON] = "liaison",
    [API_ROLE_ADMIN] = "admin",
    [API_ROLE_EXPERT] = "expert",
    [API_ROLE_SOCIETY] = "society",
};

const char *api_role_name(enum api_role r)
{
    return (unsigned)r < API_ROLE_LAST ? role_names[r] : "";
}

enum api_role api_role_parse(const char *s)
{
    for (int r = API_ROLE_ENTERPRISE; s && r < API_ROLE_LAST; r++)
        if (strcmp(s, role_names[r]) == 0)
            return (enum api_role)r;
    return API_ROLE_NONE;
}

void api_time_iso(char *buf, size_t n)
{
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

enum kx_status api_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return KX_IO;
    while (n) {
        ssize_t got = read(fd, p, n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            close(fd);
            return KX_IO;
        }
        p += got;
        n -= (size_t)got;
    }
    close(fd);
    return KX_OK;
}

/* ---- tokens -------------------------------------------------------------- */

static int token_wellformed(const char *s)
{
    if (!s || strlen(s) != API_TOKEN_LEN || strncmp(s, "kx_", 3) != 0)
        return 0;
    for (const char *p = s + 3; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

static json_object *principal_json(const struct api_principal *p)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "id", json_object_new_string(p->id));
    json_object_object_add(o, "role",
                           json_object_new_string(api_role_name(p->role)));
    if (p->role == API_ROLE_ENTERPRISE)
        json_object_object_add(o, "enterprise",
                               json_object_new_string(p->enterprise));
    if (p->role == API_ROLE_LIAISON)
        json_object_object_add(o, "region", json_object_new_string(p->region));
    if (p->record[0])
        json_object_object_add(o, "record", json_object_new_string(p->record));
    if (p->user[0]) {
        json_object_object_add(o, "user", json_object_new_string(p->user));
        json_object_object_add(o, "name", json_object_new_string(p->name));
    }
    if (p->label[0])
        json_object_object_add(o, "label", json_object_new_string(p->label));
    json_object_object_add(o, "created", json_object_new_string(p->created));
    if (p->expires[0])
        json_object_object_add(o, "expires", json_object_new_string(p->expires));
    if (p->last_used[0])
        json_object_object_add(o, "last_used",
                               json_object_new_string(p->last_used));
    return o;
}

static void copy_str(json_object *o, const char *key, char *dst, size_t n)
{
    json_object *v;

    dst[0] = '\0';
    if (json_object_object_get_ex(o, key, &v) &&
        json_object_is_type(v, json_type_string))
        snprintf(dst, n, "%s", json_object_get_string(v));
}

static enum kx_status principal_parse(const void *val, size_t len,
                                      struct api_principal *p)
{
    json_tokener *tok = json_tokener_new();
    json_object *o;
    char role[32];

    memset(p, 0, sizeof *p);
    if (!tok)
        return KX_NOMEM;
    o = json_tokener_parse_ex(tok, val, (int)len);
    json_tokener_free(tok);
    if (!o || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return KX_CORRUPT;
    }
    copy_str(o, "role", role, sizeof role);
    p->role = api_role_parse(role);
    copy_str(o, "id", p->id, sizeof p->id);
    copy_str(o, "enterprise", p->enterprise, sizeof p->enterprise);
    copy_str(o, "region", p->region, sizeof p->region);
    copy_str(o, "record", p->record, sizeof p->record);
    copy_str(o, "user", p->user, sizeof p->user);
    copy_str(o, "name", p->name, sizeof p->name);
    copy_str(o, "label", p->label, sizeof p->label);
    copy_str(o, "created", p->created, sizeof p->created);
    copy_str(o, "expires", p->expires, sizeof p->expires);
    copy_str(o, "last_used", p->last_used, sizeof p->last_used);
    json_object_put(o);
    return p->role == API_ROLE_NONE ? KX_CORRUPT : KX_OK;
}

enum kx_status api_token_create(store *st, const taxo *tx,
                                struct api_principal *p, char **token,
                                struct kx_error *err)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[20], hash[API_SHA256_LEN];
    char *tk = NULL;
    store_txn *t = NULL;
    json_object *o = NULL;
    const char *js;
    enum kx_kind kind;
    enum kx_status st_;

    *token = NULL;
    switch (p->role) {
    case API_ROLE_ENTERPRISE:
        st_ = record_key_parse(p->enterprise, &kind, NULL, err);
        if (st_ != KX_OK)
            return st_;
        if (kind != KX_KIND_ENTERPRISE)
            return kx_error_set(err, KX_BADINPUT, "enterprise",
                                "%s is not an enterprise key (expected "
                                "enterprise:ID)", p->enterprise);
        break;
    case API_ROLE_LIAISON:
        if (!taxo_valid(tx, TAXO_REGION, p->region))
            return kx_error_set(err, KX_BADINPUT, "region",
                                "unknown GB/T 2260 region code \"%s\"",
                                p->region);
        break;
    case API_ROLE_ADMIN:
        break;
    case API_ROLE_EXPERT:
    case API_ROLE_SOCIETY:
        if (!p->user[0]) /* a partner's token comes from its account */
            return kx_error_set(err, KX_BADINPUT, "role",
                                "an %s token is created by the account it "
                                "belongs to", api_role_name(p->role));
        break;
    default:
        return kx_error_set(err, KX_BADINPUT, "role",
                            "expected enterprise, liaison or admin");
    }
    if (api_random(raw, sizeof raw) != KX_OK)
        return kx_error_set(err, KX_IO, "", "cannot read /dev/urandom");
    if (!(tk = malloc(API_TOKEN_LEN + 1)))
        return KX_NOMEM;
    memcpy(tk, "kx_", 3);
    for (size_t i = 0; i < sizeof raw; i++) {
        tk[3 + 2 * i] = hex[raw[i] >> 4];
        tk[4 + 2 * i] = hex[raw[i] & 15];
    }
    tk[API_TOKEN_LEN] = '\0';
    snprintf(p->id, sizeof p->id, "%.*s", API_TOKEN_ID_LEN, tk);
    api_time_iso(p->created, sizeof p->created);
    api_sha256(tk, API_TOKEN_LEN, hash);

    if ((st_ = store_txn_begin(st, 1, &t)) != KX_OK)
        goto out;
    if (p->role == API_ROLE_ENTERPRISE) {
        const char *v;
        if (store_record_get(t, p->enterprise, &v, NULL) != KX_OK) {
            st_ = kx_error_set(err, KX_NOTFOUND, "enterprise",
                               "no record %s", p->enterprise);
            goto out;
        }
    }
    o = principal_json(p);
    js = json_object_to_json_string_ext(o, JSON_OUT);
    if ((st_ = store_kv_put(t, STORE_TOKENS, hash, sizeof hash, js,
                            strlen(js))) != KX_OK ||
        (st_ = api_audit_append(t, p, "token.create", p->id)) != KX_OK)
        goto out;
    st_ = store_txn_commit(t);
    t = NULL;
    if (st_ == KX_OK) {
        *token = tk;
        tk = NULL;
    }
out:
    store_txn_abort(t);
    json_object_put(o);
    free(tk);
    return st_;
}

/* Now plus secs, as ISO 8601 UTC into buf (32 bytes). */
static void iso_at(time_t secs, char *buf, size_t n)
{
    time_t at = time(NULL) + secs;
    struct tm tm;

    gmtime_r(&at, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

enum kx_status api_token_lookup(store_txn *t, const char *token,
                                struct api_principal *p,
                                struct api_token_ref *ref)
{
    unsigned char hash[API_SHA256_LEN];
    char now[32], expires[32];
    const void *v;
    size_t len;

    memset(p, 0, sizeof *p);
    if (!token_wellformed(token))
        return KX_UNAUTHORIZED;
    api_sha256(token, API_TOKEN_LEN, hash);
    if (store_kv_get(t, STORE_TOKENS, hash, sizeof hash, &v, &len) != KX_OK ||
        principal_parse(v, len, p) != KX_OK) {
        memset(p, 0, sizeof *p);
        return KX_UNAUTHORIZED;
    }
    api_time_iso(now, sizeof now);
    /* ISO 8601 UTC times of one shape compare as strings */
    if (p->expires[0] && strcmp(now, p->expires) >= 0) {
        snprintf(expires, sizeof expires, "%s", p->expires);
        memset(p, 0, sizeof *p);
        snprintf(p->expires, sizeof p->expires, "%s", expires);
        return KX_UNAUTHORIZED;
    }
    if (ref)
        memcpy(ref->hash, hash, sizeof hash);
    return KX_OK;
}

enum kx_status api_token_touch(store *st, const struct api_token_ref *ref,
                               const struct api_principal *p)
{
    struct api_principal cur;
    char hour_ago[32];
    store_txn *t = NULL;
    json_object *o = NULL;
    const void *v;
    const char *js;
    size_t len;
    enum kx_status s;

    iso_at(-3600, hour_ago, sizeof hour_ago);
    if (p->last_used[0] && strcmp(p->last_used, hour_ago) > 0)
        return KX_OK;
    if ((s = store_txn_begin(st, 1, &t)) != KX_OK)
        return s;
    s = store_kv_get(t, STORE_TOKENS, ref->hash, sizeof ref->hash, &v, &len);
    if (s == KX_NOTFOUND) { /* revoked meanwhile */
        s = KX_OK;
        goto out;
    }
    if (s != KX_OK || (s = principal_parse(v, len, &cur)) != KX_OK)
        goto out;
    api_time_iso(cur.last_used, sizeof cur.last_used);
    memcpy(cur.last_used + 13, ":00:00Z", 8); /* to the hour: less to learn */
    if (!(o = principal_json(&cur))) {
        s = KX_NOMEM;
        goto out;
    }
    js = json_object_to_json_string_ext(o, JSON_OUT);
    if ((s = store_kv_put(t, STORE_TOKENS, ref->hash, sizeof ref->hash, js,
                          strlen(js))) != KX_OK)
        goto out;
    s = store_txn_commit(t);
    t = NULL;
out:
    store_txn_abort(t);
    json_object_put(o);
    return s;
}

enum kx_status api_token_expiry(const char *when, char *buf,
                                struct kx_error *err)
{
    char today[32], *end;
    long days;
    int y, m, d;

    buf[0] = '\0';
    days = strtol(when, &end, 10);
    if (*when && !*end) {
        if (days < 1 || days > 3650)
            return kx_error_set(err, KX_BADINPUT, "expires",
                                "expected 1 to 3650 days, got %s", when);
        iso_at((time_t)days * 86400, buf, 32);
        return KX_OK;
    }
    api_time_iso(today, sizeof today);
    if (strlen(when) != 10 || sscanf(when, "%4d-%2d-%2d", &y, &m, &d) != 3 ||
        m < 1 || m > 12 || d < 1 || d > 31 || strncmp(when, today, 10) <= 0)
        return kx_error_set(err, KX_BADINPUT, "expires",
                            "expected a number of days or a date YYYY-MM-DD "
                            "after today, got \"%.40s\"", when);
    snprintf(buf, 32, "%sT00:00:00Z", when);
    return KX_OK;
}

struct revoke_ctx {
    const char *prefix, *label;
    unsigned char (*keys)[API_SHA256_LEN];
    struct api_principal *who;
    size_t n, cap;
    enum kx_status st;
};

static int revoke_pick(void *vctx, const void *key, size_t klen,
                       const void *val, size_t vlen)
{
    struct revoke_ctx *c = vctx;
    struct api_principal p;

    if (klen != API_SHA256_LEN || principal_parse(val, vlen, &p) != KX_OK)
        return 0;
    if (c->prefix ? strncmp(p.id, c->prefix, strlen(c->prefix)) != 0
                  : strcmp(p.label, c->label) != 0)
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        void *k = realloc(c->keys, cap * sizeof *c->keys);
        void *w = realloc(c->who, cap * sizeof *c->who);
        if (k)
            c->keys = k;
        if (w)
            c->who = w;
        if (!k || !w) {
            c->st = KX_NOMEM;
            return 1;
        }
        c->cap = cap;
    }
    memcpy(c->keys[c->n], key, API_SHA256_LEN);
    c->who[c->n++] = p;
    return 0;
}

enum kx_status api_token_revoke(store *st, const char *prefix,
                                const char *label, int all, size_t *n,
                                struct kx_error *err)
{
    struct revoke_ctx c = {prefix, label, NULL, NULL, 0, 0, KX_OK};
    struct api_principal cli = {.role = API_ROLE_ADMIN, .id = "cli"};
    store_txn *t = NULL;
    enum kx_status s;

    *n = 0;
    if ((!prefix || !*prefix) && (!label || !*label))
        return kx_error_set(err, KX_BADINPUT, "prefix",
                            "give a token id prefix (kx_...) or a label");
    if ((s = store_txn_begin(st, 1, &t)) != KX_OK)
        return s;
    if (prefix && token_wellformed(prefix)) {
        /* The whole token: find it by its hash. */
        unsigned char hash[API_SHA256_LEN];
        const void *v;
        size_t len;

        api_sha256(prefix, API_TOKEN_LEN, hash);
        if (store_kv_get(t, STORE_TOKENS, hash, sizeof hash, &v, &len) ==
            KX_OK) {
            c.keys = malloc(sizeof *c.keys);
            c.who = malloc(sizeof *c.who);
            if (!c.keys || !c.who) {
                s = KX_NOMEM;
                goto out;
            }
            memcpy(c.keys[0], hash, sizeof hash);
            if (principal_parse(v, len, &c.who[0]) != KX_OK)
                snprintf(c.who[0].id, sizeof c.who[0].id, "%.*s",
                         API_TOKEN_ID_LEN, prefix);
            c.n = 1;
        }
    } else {
        s = store_kv_each(t, STORE_TOKENS, "", 0, revoke_pick, &c);
        if (s == KX_OK)
            s = c.st;
        if (s != KX_OK)
            goto out;
    }
    if (c.n == 0) {
        s = kx_error_set(err, KX_NOTFOUND, prefix ? "prefix" : "label",
                         "no token %s %s", prefix ? "starts with" : "has label",
                         prefix ? prefix : label);
        goto out;
    }
    if (prefix && c.n > 1 && !all) {
        s = kx_error_set(err, KX_CONFLICT, "prefix",
                         "%zu tokens start with %s: give more of the id",
                         c.n, prefix);
        goto out;
    }
    for (size_t i = 0; i < c.n; i++)
        if ((s = store_kv_del(t, STORE_TOKENS, c.keys[i], API_SHA256_LEN)) !=
                KX_OK ||
            (s = api_audit_append(t, &cli, "token.revoke", c.who[i].id)) !=
                KX_OK)
            goto out;
    s = store_txn_commit(t);
    t = NULL;
    if (s == KX_OK)
        *n = c.n;
out:
    store_txn_abort(t);
    free(c.keys);
    free(c.who);
    return s;
}

struct each_ctx {
    api_token_fn fn;
    void *ctx;
};

static int each_one(void *vctx, const void *key, size_t klen, const void *val,
                    size_t vlen)
{
    struct each_ctx *c = vctx;
    struct api_principal p;

    (void)key;
    if (klen != API_SHA256_LEN || principal_parse(val, vlen, &p) != KX_OK)
        return 0;
    return c->fn(c->ctx, &p);
}

enum kx_status api_token_each(store_txn *t, api_token_fn fn, void *ctx)
{
    struct each_ctx c = {fn, ctx};

    return store_kv_each(t, STORE_TOKENS, "", 0, each_one, &c);
}

/* ---- what a principal may see ------------------------------------------- */

int api_region_within(const taxo *tx, const char *code, const char *scope)
{
    const char *anc[8];
    size_t n;

    if (!code || !scope || !*scope)
        return 0;
    n = taxo_ancestors(tx, TAXO_REGION, code, anc, 8);
    for (size_t i = 0; i < n; i++)
        if (strcmp(anc[i], scope) == 0)
            return 1;
    return 0;
}

/* The region of enterprise key, read from the store; 1 if it lies in
 * scope. */
static int enterprise_within(store_txn *t, const taxo *tx, const char *key,
                             const char *scope)
{
    struct kx_record *e = NULL;
    const char *json;
    size_t len;
    int in = 0;

    if (!key || store_record_get(t, key, &json, &len) != KX_OK ||
        record_parse(json, len, NULL, &e, NULL) != KX_OK)
        return 0;
    in = api_region_within(tx, e->region, scope);
    record_free(e);
    return in;
}

enum kx_status api_need_access(store_txn *t, const taxo *tx,
                               const struct api_principal *p,
                               const struct kx_record *r)
{
    int confidential =
        r->visibility && strcmp(r->visibility, "confidential") == 0;

    switch (p->role) {
    case API_ROLE_ADMIN:
        return KX_OK;
    case API_ROLE_ENTERPRISE:
        if (r->enterprise && strcmp(r->enterprise, p->enterprise) == 0)
            return KX_OK;
        break;
    case API_ROLE_LIAISON:
        if (confidential)
            break;
        if (api_region_within(tx, r->region, p->region) ||
            enterprise_within(t, tx, r->enterprise, p->region))
            return KX_OK;
        break;
    case API_ROLE_EXPERT:
    case API_ROLE_SOCIETY:
        /* a partner reads what is published: the needs proposed to it */
        if (!confidential)
            return KX_OK;
        break;
    default:
        break;
    }
    return confidential ? KX_NOTFOUND : KX_FORBIDDEN;
}

enum kx_status api_need_write_access(const struct api_principal *p,
                                     const struct kx_record *r)
{
    if (p->role == API_ROLE_ADMIN)
        return KX_OK;
    if (p->role == API_ROLE_ENTERPRISE && r->enterprise &&
        strcmp(r->enterprise, p->enterprise) == 0)
        return KX_OK;
    return KX_FORBIDDEN;
}

static const char *get_str(json_object *o, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

void api_record_redact(json_object *rec, const struct api_principal *p)
{
    const char *kind, *id, *ent;
    char key[KX_KEY_MAX + 8];

    if (!rec || p->role != API_ROLE_ENTERPRISE)
        return;
    kind = get_str(rec, "kind");
    id = get_str(rec, "id");
    ent = get_str(rec, "enterprise");
    snprintf(key, sizeof key, "%s:%s", kind ? kind : "", id ? id : "");
    if (strcmp(key, p->enterprise) == 0 ||
        (kind && strcmp(kind, "need") == 0 && ent &&
         strcmp(ent, p->enterprise) == 0))
        return;
    json_object_object_del(rec, "email");
    json_object_object_del(rec, "contact");
}

/* ---- audit --------------------------------------------------------------- */

static atomic_uint audit_seq;

enum kx_status api_audit_append(store_txn *t, const struct api_principal *p,
                                const char *what, const char *key)
{
    unsigned char k[AUDIT_KEY_LEN];
    struct timeval tv;
    uint64_t us;
    unsigned seq = atomic_fetch_add(&audit_seq, 1);
    char when[32];
    json_object *o = json_object_new_object();
    const char *js;
    enum kx_status st;

    gettimeofday(&tv, NULL);
    us = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
    for (int i = 0; i < 8; i++)
        k[i] = (unsigned char)(us >> (56 - 8 * i));
    for (int i = 0; i < 4; i++)
        k[8 + i] = (unsigned char)(seq >> (24 - 8 * i));
    api_time_iso(when, sizeof when);
    json_object_object_add(o, "who", json_object_new_string(p->id));
    /* the person (and the token, p->id, if one was used), or who answered
     * through a mailed link */
    if (p->user[0])
        json_object_object_add(o, "user", json_object_new_string(p->user));
    if (p->name[0])
        json_object_object_add(o, "name", json_object_new_string(p->name));
    json_object_object_add(o, "role",
                           json_object_new_string(api_role_name(p->role)));
    if (p->role == API_ROLE_ENTERPRISE)
        json_object_object_add(o, "scope", json_object_new_string(p->enterprise));
    else if (p->role == API_ROLE_LIAISON)
        json_object_object_add(o, "scope", json_object_new_string(p->region));
    else if (p->record[0])
        json_object_object_add(o, "scope", json_object_new_string(p->record));
    json_object_object_add(o, "when", json_object_new_string(when));
    json_object_object_add(o, "what", json_object_new_string(what));
    json_object_object_add(o, "key", json_object_new_string(key ? key : ""));
    js = json_object_to_json_string_ext(o, JSON_OUT);
    st = store_kv_put(t, STORE_AUDIT, k, sizeof k, js, strlen(js));
    json_object_put(o);
    return st;
}

enum kx_status api_audit_write(store *s, const struct api_principal *p,
                               const char *what, const char *key)
{
    store_txn *t = NULL;
    enum kx_status st = store_txn_begin(s, 1, &t);

    if (st != KX_OK)
        return st;
    if ((st = api_audit_append(t, p, what, key)) != KX_OK) {
        store_txn_abort(t);
        return st;
    }
    return store_txn_commit(t);
}

struct audit_ctx {
    size_t limit, n;     /* entries wanted, and held (newest first) */
    unsigned char (*keys)[AUDIT_KEY_LEN];
    char **vals;
    int more;            /* an older entry exists past the last held */
    enum kx_status st;
};

static int audit_collect(void *vctx, const void *key, size_t klen,
                         const void *val, size_t vlen)
{
    struct audit_ctx *c = vctx;

    if (klen != AUDIT_KEY_LEN)
        return 0;
    if (c->n == c->limit) {
        c->more = 1;
        return 1;
    }
    memcpy(c->keys[c->n], key, AUDIT_KEY_LEN);
    if (!(c->vals[c->n] = strndup(val, vlen))) {
        c->st = KX_NOMEM;
        return 1;
    }
    c->n++;
    return 0;
}

static void hex_key(const unsigned char *k, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (int i = 0; i < AUDIT_KEY_LEN; i++) {
        out[2 * i] = hex[k[i] >> 4];
        out[2 * i + 1] = hex[k[i] & 15];
    }
    out[2 * AUDIT_KEY_LEN] = '\0';
}

enum kx_status api_audit_list(store_txn *t, size_t limit, const char *before,
                              json_object **out, char next[32],
                              struct kx_error *err)
{
    struct audit_ctx c;
    unsigned char bkey[AUDIT_KEY_LEN];
    int has_before = 0;
    json_object *a = NULL;
    enum kx_status st;

    *out = NULL;
    memset(&c, 0, sizeof c);
    c.limit = limit ? limit : 1;
    if (before && *before) {
        if (strlen(before) != 2 * AUDIT_KEY_LEN)
            return kx_error_set(err, KX_BADINPUT, "before",
                                "expected %d hex digits (a \"next\" value)",
                                2 * AUDIT_KEY_LEN);
        for (int i = 0; i < AUDIT_KEY_LEN; i++) {
            unsigned v;
            if (sscanf(before + 2 * i, "%2x", &v) != 1 ||
                !strchr("0123456789abcdefABCDEF", before[2 * i]) ||
                !strchr("0123456789abcdefABCDEF", before[2 * i + 1]))
                return kx_error_set(err, KX_BADINPUT, "before",
                                    "expected hex digits (a \"next\" value)");
            bkey[i] = (unsigned char)v;
        }
        has_before = 1;
    }
    if (next) /* only now: it may be where `before` came from */
        next[0] = '\0';
    c.keys = calloc(c.limit, sizeof *c.keys);
    c.vals = calloc(c.limit, sizeof *c.vals);
    if (!c.keys || !c.vals) {
        st = KX_NOMEM;
        goto out;
    }
    st = store_kv_each_before(t, STORE_AUDIT, has_before ? bkey : NULL,
                              has_before ? AUDIT_KEY_LEN : 0, audit_collect,
                              &c);
    if (st == KX_OK)
        st = c.st;
    if (st != KX_OK)
        goto out;
    a = json_object_new_array();
    for (size_t i = 0; i < c.n; i++) {
        json_object *o = json_tokener_parse(c.vals[i]);
        char hk[2 * AUDIT_KEY_LEN + 1];

        hex_key(c.keys[i], hk);
        if (i == c.n - 1 && c.more && next)
            snprintf(next, 32, "%s", hk);
        if (!o)
            continue;
        json_object_object_add(o, "id", json_object_new_string(hk));
        json_object_array_add(a, o);
    }
    *out = a;
out:
    for (size_t i = 0; c.vals && i < c.limit; i++)
        free(c.vals[i]);
    free(c.vals);
    free(c.keys);
    return st;
}
