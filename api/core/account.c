/* account.c - accounts, sessions, sign-in links and failed sign-ins
 * (account.h). */
#include "account.h"

#include <ctype.h>
#include <json-c/json.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "record.h"
#include "sha256.h"
#include "text.h"
#include "util.h"

#define JSON_OUT (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define PW_MAX 128 /* crypto_pwhash_STRBYTES */

_Static_assert(crypto_pwhash_STRBYTES <= PW_MAX, "raise PW_MAX");

/* ---- small helpers ------------------------------------------------------- */

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_ok;

static void sodium_start(void)
{
    sodium_ok = sodium_init() >= 0;
}

int api_sodium_ready(void)
{
    pthread_once(&sodium_once, sodium_start);
    return sodium_ok;
}

/* A new secret: 32 random bytes in hex (API_SECRET_LEN + 1 bytes). */
static enum kx_status secret_new(char *out)
{
    unsigned char raw[API_SECRET_LEN / 2];

    if (api_random(raw, sizeof raw) != KX_OK)
        return KX_IO;
    sodium_bin2hex(out, API_SECRET_LEN + 1, raw, sizeof raw);
    return KX_OK;
}

static int secret_wellformed(const char *s)
{
    if (!s || strlen(s) != API_SECRET_LEN)
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}

/* "<prefix>:<sha256 hex of secret>" into key (80 bytes). */
static void secret_key(char prefix, const char *secret, char *key)
{
    key[0] = prefix;
    key[1] = ':';
    api_sha256_hex(secret, strlen(secret), key + 2);
}

static void iso_in(long secs, char *buf, size_t n)
{
    time_t t = time(NULL) + secs;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* 1 if the ISO 8601 UTC time iso is in the past (the format sorts). */
static int iso_past(const char *iso)
{
    char now[32];

    api_time_iso(now, sizeof now);
    return strcmp(iso, now) <= 0;
}

static const char *jstr(json_object *o, const char *k)
{
    json_object *v;

    return json_object_object_get_ex(o, k, &v) &&
                   json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : "";
}

/* The JSON object stored under key in table tb, or NULL. */
static json_object *table_json(store_txn *t, enum store_table tb,
                               const char *key)
{
    const void *v;
    size_t n;
    json_tokener *tok;
    json_object *o;

    if (store_kv_get(t, tb, key, strlen(key), &v, &n) != KX_OK)
        return NULL;
    if (!(tok = json_tokener_new()))
        return NULL;
    o = json_tokener_parse_ex(tok, v, (int)n);
    json_tokener_free(tok);
    if (o && !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = NULL;
    }
    return o;
}

static enum kx_status put_json(store_txn *t, enum store_table tb,
                               const char *key, json_object *o)
{
    const char *js = json_object_to_json_string_ext(o, JSON_OUT);

    return store_kv_put(t, tb, key, strlen(key), js, strlen(js));
}

static void copy(char *dst, size_t n, const char *s)
{
    snprintf(dst, n, "%s", s ? s : "");
}

/* ---- accounts ------------------------------------------------------------ */

json_object *api_account_json(const struct api_account *a)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "id", json_object_new_string(a->id));
    json_object_object_add(o, "email", json_object_new_string(a->email));
    json_object_object_add(o, "name", json_object_new_string(a->name));
    json_object_object_add(o, "role",
                           json_object_new_string(api_role_name(a->role)));
    if (a->region[0])
        json_object_object_add(o, "region", json_object_new_string(a->region));
    if (a->record[0])
        json_object_object_add(o, "record", json_object_new_string(a->record));
    json_object_object_add(o, "password",
                           json_object_new_boolean(a->has_password));
    json_object_object_add(o, "disabled", json_object_new_boolean(a->disabled));
    json_object_object_add(o, "created", json_object_new_string(a->created));
    return o;
}

/* The account as stored: its view and, if set, its Argon2id string. */
static json_object *account_json(const struct api_account *a, const char *pw)
{
    struct api_account v = *a;
    json_object *o;

    v.has_password = pw && *pw;
    o = api_account_json(&v);
    if (pw && *pw)
        json_object_object_add(o, "pw", json_object_new_string(pw));
    return o;
}

static void account_from(json_object *o, struct api_account *a, char *pw)
{
    json_object *v;

    memset(a, 0, sizeof *a);
    copy(a->id, sizeof a->id, jstr(o, "id"));
    copy(a->email, sizeof a->email, jstr(o, "email"));
    copy(a->name, sizeof a->name, jstr(o, "name"));
    a->role = api_role_parse(jstr(o, "role"));
    copy(a->region, sizeof a->region, jstr(o, "region"));
    copy(a->record, sizeof a->record, jstr(o, "record"));
    a->disabled = json_object_object_get_ex(o, "disabled", &v) &&
                  json_object_get_boolean(v);
    copy(a->created, sizeof a->created, jstr(o, "created"));
    a->has_password = *jstr(o, "pw") != '\0';
    if (pw)
        copy(pw, PW_MAX, jstr(o, "pw"));
}

/* 1 if s holds a control character (C0, DEL, C1, U+2028/2029). */
static int has_control(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    for (; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return 1;
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            return 1;
        if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
            return 1;
    }
    return 0;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

enum kx_status api_account_check(store_txn *t, const taxo *tx,
                                 struct api_account *a, struct kx_error *err)
{
    enum kx_kind kind;
    const char *json;

    for (char *p = a->email; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (!record_email_valid(a->email))
        return kx_error_set(err, KX_BADINPUT, "email",
                            "\"%.80s\" is not an e-mail address",
                            a->email);
    if (!a->name[0] || has_control(a->name) || utf8_chars(a->name) > 100 ||
        !text_utf8_valid(a->name, strlen(a->name)))
        return kx_error_set(err, KX_BADINPUT, "name",
                            "expected a name of 1 to 100 characters "
                            "without line breaks");
    switch (a->role) {
    case API_ROLE_ADMIN:
        a->region[0] = a->record[0] = '\0';
        return KX_OK;
    case API_ROLE_LIAISON:
        a->record[0] = '\0';
        if (!taxo_valid(tx, TAXO_REGION, a->region))
            return kx_error_set(err, KX_BADINPUT, "region",
                                "a liaison officer needs a GB/T 2260 region "
                                "code (--region), got \"%.20s\"", a->region);
        return KX_OK;
    case API_ROLE_ENTERPRISE:
    case API_ROLE_EXPERT:
    case API_ROLE_SOCIETY:
        a->region[0] = '\0';
        if (!a->record[0] ||
            record_key_parse(a->record, &kind, NULL, NULL) != KX_OK ||
            (a->role == API_ROLE_ENTERPRISE && kind != KX_KIND_ENTERPRISE) ||
            (a->role == API_ROLE_EXPERT && kind != KX_KIND_EXPERT &&
             kind != KX_KIND_ACADEMICIAN) ||
            (a->role == API_ROLE_SOCIETY && kind != KX_KIND_SOCIETY))
            return kx_error_set(
                err, KX_BADINPUT, "record",
                "the %s role is linked to %s (--record), got \"%.60s\"",
                api_role_name(a->role),
                a->role == API_ROLE_ENTERPRISE ? "an enterprise:ID"
                : a->role == API_ROLE_EXPERT   ? "an expert:ID or academician:ID"
                                               : "a society:ID",
                a->record);
        if (store_record_get(t, a->record, &json, NULL) != KX_OK)
            return kx_error_set(err, KX_NOTFOUND, "record", "no record %s",
                                a->record);
        return KX_OK;
    default:
        return kx_error_set(err, KX_BADINPUT, "role",
                            "expected admin, liaison, enterprise, expert or "
                            "society");
    }
}

static enum kx_status pw_hash(const char *password, char *out,
                              struct kx_error *err)
{
    size_t n = strlen(password);

    if (!api_sodium_ready())
        return kx_error_set(err, KX_INTERNAL, "", "libsodium did not start");
    if (utf8_chars(password) < API_PASSWORD_MIN)
        return kx_error_set(err, KX_BADINPUT, "password",
                            "a password needs at least %d characters",
                            API_PASSWORD_MIN);
    if (n > API_PASSWORD_MAX)
        return kx_error_set(err, KX_TOOLARGE, "password",
                            "a password has at most %d bytes",
                            API_PASSWORD_MAX);
    if (crypto_pwhash_str_alg(out, password, n,
                              crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return kx_error_set(err, KX_NOMEM, "password",
                            "not enough memory to hash the password");
    return KX_OK;
}

static enum kx_status audit(store_txn *t, const struct api_principal *by,
                            const char *what, const char *id)
{
    struct api_principal cli;

    if (!by) {
        memset(&cli, 0, sizeof cli);
        cli.role = API_ROLE_ADMIN;
        snprintf(cli.id, sizeof cli.id, "cli");
        by = &cli;
    }
    return api_audit_append(t, by, what, id);
}

enum kx_status api_account_add(store *st, const taxo *tx,
                               struct api_account *a, const char *password,
                               const struct api_principal *by,
                               struct kx_error *err)
{
    unsigned char raw[4];
    char key[300], pw[PW_MAX] = "";
    store_txn *t = NULL;
    json_object *o = NULL;
    enum kx_status s;

    if (password && (s = pw_hash(password, pw, err)) != KX_OK)
        return s;
    if ((s = store_txn_begin(st, 1, &t)) != KX_OK)
        return s;
    if ((s = api_account_check(t, tx, a, err)) != KX_OK)
        goto out;
    snprintf(key, sizeof key, "e:%s", a->email);
    {
        const void *v;
        size_t n;
        if (store_kv_get(t, STORE_USERS, key, strlen(key), &v, &n) == KX_OK) {
            s = kx_error_set(err, KX_EXISTS, "email",
                             "%s already has an account", a->email);
            goto out;
        }
    }
    for (int tries = 0;; tries++) { /* a fresh id: 2^32 of them */
        const void *v;
        size_t n;
        char ukey[32];

        if (api_random(raw, sizeof raw) != KX_OK) {
            s = kx_error_set(err, KX_IO, "", "cannot read /dev/urandom");
            goto out;
        }
        memcpy(a->id, "u_", 2);
        sodium_bin2hex(a->id + 2, sizeof a->id - 2, raw, sizeof raw);
        snprintf(ukey, sizeof ukey, "u:%s", a->id);
        if (store_kv_get(t, STORE_USERS, ukey, strlen(ukey), &v, &n) != KX_OK)
            break;
        if (tries > 8) {
            s = kx_error_set(err, KX_INTERNAL, "", "no free account id");
            goto out;
        }
    }
    api_time_iso(a->created, sizeof a->created);
    a->disabled = 0;
    a->has_password = pw[0] != '\0';
    o = account_json(a, pw);
    if ((s = store_kv_put(t, STORE_USERS, key, strlen(key), a->id,
                          strlen(a->id))) != KX_OK)
        goto out;
    snprintf(key, sizeof key, "u:%s", a->id);
    if ((s = put_json(t, STORE_USERS, key, o)) != KX_OK ||
        (s = audit(t, by, "user.add", a->id)) != KX_OK)
        goto out;
    s = store_txn_commit(t);
    t = NULL;
out:
    sodium_memzero(pw, sizeof pw);
    json_object_put(o);
    store_txn_abort(t);
    return s;
}

enum kx_status api_account_get(store_txn *t, const char *who,
                               struct api_account *a, char *pw)
{
    char key[300];
    json_object *o;

    if (!who || !*who)
        return KX_NOTFOUND;
    if (strchr(who, '@')) {
        const void *v;
        size_t n;
        char id[API_USER_ID_LEN + 1];

        snprintf(key, sizeof key, "e:%s", who);
        for (char *p = key; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (store_kv_get(t, STORE_USERS, key, strlen(key), &v, &n) != KX_OK ||
            n > API_USER_ID_LEN)
            return KX_NOTFOUND;
        memcpy(id, v, n);
        id[n] = '\0';
        snprintf(key, sizeof key, "u:%s", id);
    } else {
        snprintf(key, sizeof key, "u:%s", who);
    }
    if (!(o = table_json(t, STORE_USERS, key)))
        return KX_NOTFOUND;
    account_from(o, a, pw);
    json_object_put(o);
    return a->role == API_ROLE_NONE ? KX_CORRUPT : KX_OK;
}

struct each_ctx {
    api_account_fn fn;
    void *ctx;
};

static int each_one(void *vctx, const void *key, size_t klen, const void *val,
                    size_t vlen)
{
    struct each_ctx *c = vctx;
    struct api_account a;
    json_tokener *tok = json_tokener_new();
    json_object *o;
    int stop;

    (void)key;
    (void)klen;
    if (!tok)
        return 1;
    o = json_tokener_parse_ex(tok, val, (int)vlen);
    json_tokener_free(tok);
    if (!o)
        return 0;
    account_from(o, &a, NULL);
    json_object_put(o);
    stop = c->fn(c->ctx, &a);
    sodium_memzero(&a, sizeof a);
    return stop;
}

enum kx_status api_account_each(store_txn *t, api_account_fn fn, void *ctx)
{
    struct each_ctx c = {fn, ctx};

    return store_kv_each(t, STORE_USERS, "u:", 2, each_one, &c);
}

/* Removes every session and sign-in link of account id (in t). */
struct ends_ctx {
    const char *id;
    char **keys;
    size_t n, cap;
    int oom;
};

static int end_pick(void *vctx, const void *key, size_t klen, const void *val,
                    size_t vlen)
{
    struct ends_ctx *c = vctx;
    json_tokener *tok = json_tokener_new();
    json_object *o;

    if (!tok)
        return c->oom = 1;
    o = json_tokener_parse_ex(tok, val, (int)vlen);
    json_tokener_free(tok);
    if (o && strcmp(jstr(o, "user"), c->id) == 0) {
        if (kx_grow(&c->keys, &c->cap, c->n + 1, sizeof *c->keys, 16) != 0 ||
            !(c->keys[c->n] = strndup(key, klen)))
            c->oom = 1;
        else
            c->n++;
    }
    json_object_put(o);
    return c->oom;
}

static enum kx_status end_all(store_txn *t, const char *id)
{
    struct ends_ctx c = {id, NULL, 0, 0, 0};
    enum kx_status s = store_kv_each(t, STORE_SESSIONS, "s:", 2, end_pick, &c);

    if (s == KX_OK)
        s = store_kv_each(t, STORE_SESSIONS, "l:", 2, end_pick, &c);
    if (s == KX_OK && c.oom)
        s = KX_NOMEM;
    for (size_t i = 0; i < c.n; i++) {
        if (s == KX_OK)
            s = store_kv_del(t, STORE_SESSIONS, c.keys[i], strlen(c.keys[i]));
        free(c.keys[i]);
    }
    free(c.keys);
    return s;
}

/* Reads `who` for writing: the account, its password string, its key. */
static enum kx_status load_for_write(store_txn *t, const char *who,
                                     struct api_account *a, char *pw,
                                     char *key, size_t kn,
                                     struct kx_error *err)
{
    if (api_account_get(t, who, a, pw) != KX_OK)
        return kx_error_set(err, KX_NOTFOUND, "user", "no account %.80s",
                            who ? who : "");
    snprintf(key, kn, "u:%s", a->id);
    return KX_OK;
}

enum kx_status api_account_update(store *st, const taxo *tx, const char *who,
                                  const struct api_account_change *ch,
                                  const struct api_principal *by,
                                  struct api_account *out,
                                  struct kx_error *err)
{
    struct api_account a;
    char pw[PW_MAX], key[64];
    store_txn *t = NULL;
    json_object *o = NULL;
    enum kx_status s;

    if ((s = store_txn_begin(st, 1, &t)) != KX_OK)
        return s;
    if ((s = load_for_write(t, who, &a, pw, key, sizeof key, err)) != KX_OK)
        goto out;
    if (ch->name && *ch->name)
        copy(a.name, sizeof a.name, ch->name);
    if (ch->role && *ch->role) {
        a.role = api_role_parse(ch->role);
        copy(a.region, sizeof a.region, ch->region);
        copy(a.record, sizeof a.record, ch->record);
    }
    if (ch->disabled >= 0)
        a.disabled = ch->disabled != 0;
    if ((s = api_account_check(t, tx, &a, err)) != KX_OK)
        goto out;
    o = account_json(&a, pw);
    if ((s = put_json(t, STORE_USERS, key, o)) != KX_OK ||
        (a.disabled && (s = end_all(t, a.id)) != KX_OK) ||
        (s = audit(t, by, "user.change", a.id)) != KX_OK)
        goto out;
    if ((s = store_txn_commit(t)) == KX_OK && out)
        *out = a;
    t = NULL;
out:
    sodium_memzero(pw, sizeof pw);
    json_object_put(o);
    store_txn_abort(t);
    return s;
}

enum kx_status api_account_set_password(store *st, const char *who,
                                        const char *password,
                                        const struct api_principal *by,
                                        struct kx_error *err)
{
    struct api_account a;
    char pw[PW_MAX] = "", old[PW_MAX], key[64];
    store_txn *t = NULL;
    json_object *o = NULL;
    enum kx_status s;

    if (password && (s = pw_hash(password, pw, err)) != KX_OK)
        return s;
    if ((s = store_txn_begin(st, 1, &t)) != KX_OK)
        goto out;
    if ((s = load_for_write(t, who, &a, old, key, sizeof key, err)) != KX_OK)
        goto out;
    o = account_json(&a, pw);
    if ((s = put_json(t, STORE_USERS, key, o)) != KX_OK ||
        (s = audit(t, by, password ? "user.password" : "user.password_off",
                   a.id)) != KX_OK)
        goto out;
    s = store_txn_commit(t);
    t = NULL;
out:
    sodium_memzero(pw, sizeof pw);
    sodium_memzero(old, sizeof old);
    json_object_put(o);
    store_txn_abort(t);
    return s;
}

void api_account_principal(const struct api_account *a,
                           struct api_principal *p)
{
    memset(p, 0, sizeof *p);
    p->role = a->role;
    copy(p->id, sizeof p->id, a->id);
    copy(p->user, sizeof p->user, a->id);
    copy(p->name, sizeof p->name, a->name);
    copy(p->region, sizeof p->region, a->region);
    if (a->role == API_ROLE_ENTERPRISE)
        copy(p->enterprise, sizeof p->enterprise, a->record);
    else if (a->role == API_ROLE_EXPERT || a->role == API_ROLE_SOCIETY)
        copy(p->record, sizeof p->record, a->record);
    copy(p->created, sizeof p->created, a->created);
}

/* ---- failed sign-ins ----------------------------------------------------- */

/* The wait before `who` (an address, or "ip:..." ) may try again: 0 if
 * now. */
static unsigned fail_wait(store_txn *t, const char *who)
{
    char key[300];
    json_object *o, *v;
    long long next = 0;
    time_t now = time(NULL);

    snprintf(key, sizeof key, "f:%s", who);
    if (!(o = table_json(t, STORE_SESSIONS, key)))
        return 0;
    if (json_object_object_get_ex(o, "next", &v))
        next = json_object_get_int64(v);
    json_object_put(o);
    return next > now ? (unsigned)(next - now) : 0;
}

/* Counts a failure of `who`; returns how many in the window. */
static long fail_count(store_txn *t, const char *who)
{
    char key[300];
    json_object *o, *v;
    long long n = 0, first = 0;
    time_t now = time(NULL);

    snprintf(key, sizeof key, "f:%s", who);
    if ((o = table_json(t, STORE_SESSIONS, key))) {
        if (json_object_object_get_ex(o, "n", &v))
            n = json_object_get_int64(v);
        if (json_object_object_get_ex(o, "first", &v))
            first = json_object_get_int64(v);
        json_object_put(o);
    }
    if (first + API_SIGNIN_WINDOW < now) {
        n = 0;
        first = now;
    }
    n++;
    o = json_object_new_object();
    json_object_object_add(o, "n", json_object_new_int64(n));
    json_object_object_add(o, "first", json_object_new_int64(first));
    if (n >= API_SIGNIN_FREE) {
        long long d = 5LL << (n - API_SIGNIN_FREE < 16 ? n - API_SIGNIN_FREE : 16);
        json_object_object_add(o, "next", json_object_new_int64(
            now + (d < API_SIGNIN_WINDOW ? d : API_SIGNIN_WINDOW)));
    }
    (void)put_json(t, STORE_SESSIONS, key, o);
    json_object_put(o);
    return (long)n;
}

static void fail_clear(store_txn *t, const char *who)
{
    char key[300];

    snprintf(key, sizeof key, "f:%s", who);
    (void)store_kv_del(t, STORE_SESSIONS, key, strlen(key));
}

/* An Argon2id string of no password anyone knows, for unknown addresses:
 * they cost the same work as a wrong password. */
static char dummy_pw[PW_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_make(void)
{
    char junk[API_SECRET_LEN + 1];

    if (secret_new(junk) != KX_OK)
        snprintf(junk, sizeof junk, "%ld", (long)time(NULL));
    if (crypto_pwhash_str_alg(dummy_pw, junk, strlen(junk),
                              crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        dummy_pw[0] = '\0';
}

enum kx_status api_signin_password(store *st, const char *email,
                                   const char *password, const char *client,
                                   struct api_session *out,
                                   unsigned *retry_after,
                                   struct kx_error *err)
{
    struct api_account a;
    char pw[PW_MAX] = "", ip[80], addr[256];
    store_txn *t = NULL;
    enum kx_status s;
    unsigned w1, w2;
    int found, ok;
    long n;

    *retry_after = 0;
    if (!api_sodium_ready())
        return kx_error_set(err, KX_INTERNAL, "", "libsodium did not start");
    copy(addr, sizeof addr, email);
    for (char *p = addr; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    /* Per client only where the client is the person's own machine: behind
     * a reverse proxy every client is the proxy (loopback), and counting
     * it would let one person's mistakes lock everyone out. */
    if (client && *client && strcmp(client, "127.0.0.1") != 0 &&
        strcmp(client, "::1") != 0)
        snprintf(ip, sizeof ip, "ip:%s", client);
    else
        ip[0] = '\0';
    if ((s = store_txn_begin(st, 0, &t)) != KX_OK)
        return s;
    w1 = fail_wait(t, addr);
    w2 = ip[0] ? fail_wait(t, ip) : 0;
    found = addr[0] && api_account_get(t, addr, &a, pw) == KX_OK;
    store_txn_abort(t);
    t = NULL;
    if (w1 || w2) {
        *retry_after = w1 > w2 ? w1 : w2;
        return kx_error_set(err, KX_UNAUTHORIZED, "password",
                            "too many failed sign-ins: try again in %u s",
                            *retry_after);
    }
    pthread_once(&dummy_once, dummy_make);
    ok = password && strlen(password) <= API_PASSWORD_MAX &&
         crypto_pwhash_str_verify(found && pw[0] ? pw : dummy_pw, password,
                                  strlen(password)) == 0 &&
         found && pw[0];
    sodium_memzero(pw, sizeof pw);
    if ((s = store_txn_begin(st, 1, &t)) != KX_OK)
        return s;
    if (!ok) {
        struct api_principal anon;

        n = fail_count(t, addr);
        if (ip[0])
            fail_count(t, ip);
        memset(&anon, 0, sizeof anon);
        snprintf(anon.id, sizeof anon.id, "-");
        (void)api_audit_append(t, &anon, "signin.failed", addr);
        s = store_txn_commit(t);
        fprintf(stderr, "kxmatch: failed sign-in for %.80s from %s (%ld in "
                        "%d min)\n", addr, client && *client ? client : "-", n,
                API_SIGNIN_WINDOW / 60);
        return kx_error_set(err, s == KX_OK ? KX_UNAUTHORIZED : s, "password",
                            "wrong e-mail address or password");
    }
    fail_clear(t, addr);
    if (ip[0])
        fail_clear(t, ip);
    if ((s = store_txn_commit(t)) != KX_OK)
        return s;
    if (a.disabled)
        return kx_error_set(err, KX_FORBIDDEN, "email",
                            "the account of %s is disabled", a.email);
    return api_session_create(st, &a, out);
}

/* ---- sessions and links -------------------------------------------------- */

void api_session_cookie(char *buf, size_t n, const char *secret, int secure)
{
    if (secret)
        snprintf(buf, n, "%s=%s; Path=/; Max-Age=%d; HttpOnly; "
                         "SameSite=Lax%s", API_SESSION_COOKIE, secret,
                 API_SESSION_SECS, secure ? "; Secure" : "");
    else
        snprintf(buf, n, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s",
                 API_SESSION_COOKIE, secure ? "; Secure" : "");
}

int api_secret_differ(const char *a, const char *b, size_t n)
{
    return sodium_memcmp(a, b, n) != 0;
}

enum kx_status api_session_create(store *st, const struct api_account *a,
                                  struct api_session *out)
{
    char key[80], now[32];
    store_txn *t = NULL;
    json_object *o;
    struct api_principal p;
    enum kx_status s;

    memset(out, 0, sizeof *out);
    if (secret_new(out->secret) != KX_OK || secret_new(out->csrf) != KX_OK)
        return KX_IO;
    iso_in(API_SESSION_SECS, out->expires, sizeof out->expires);
    api_time_iso(now, sizeof now);
    out->account = *a;
    secret_key('s', out->secret, key);
    o = json_object_new_object();
    json_object_object_add(o, "user", json_object_new_string(a->id));
    json_object_object_add(o, "csrf", json_object_new_string(out->csrf));
    json_object_object_add(o, "created", json_object_new_string(now));
    json_object_object_add(o, "expires", json_object_new_string(out->expires));
    api_account_principal(a, &p);
    if ((s = store_txn_begin(st, 1, &t)) == KX_OK &&
        (s = put_json(t, STORE_SESSIONS, key, o)) == KX_OK &&
        (s = api_audit_append(t, &p, "signin", a->id)) == KX_OK) {
        s = store_txn_commit(t);
        t = NULL;
    }
    store_txn_abort(t);
    json_object_put(o);
    return s;
}

enum kx_status api_session_lookup(store_txn *t, const char *secret,
                                  struct api_principal *p, char *csrf)
{
    char key[80];
    json_object *o;
    struct api_account a;
    enum kx_status s = KX_UNAUTHORIZED;

    memset(p, 0, sizeof *p);
    if (!secret_wellformed(secret))
        return KX_UNAUTHORIZED;
    secret_key('s', secret, key);
    if (!(o = table_json(t, STORE_SESSIONS, key)))
        return KX_UNAUTHORIZED;
    if (!iso_past(jstr(o, "expires")) &&
        api_account_get(t, jstr(o, "user"), &a, NULL) == KX_OK &&
        !a.disabled) {
        api_account_principal(&a, p);
        copy(p->expires, sizeof p->expires, jstr(o, "expires"));
        if (csrf)
            copy(csrf, API_SECRET_LEN + 1, jstr(o, "csrf"));
        s = KX_OK;
    }
    json_object_put(o);
    return s;
}

enum kx_status api_session_end(store *st, const char *secret)
{
    char key[80];
    store_txn *t = NULL;
    enum kx_status s;

    if (!secret_wellformed(secret))
        return KX_OK;
    secret_key('s', secret, key);
    if ((s = store_txn_begin(st, 1, &t)) != KX_OK)
        return s;
    s = store_kv_del(t, STORE_SESSIONS, key, strlen(key));
    if (s == KX_NOTFOUND)
        s = KX_OK;
    if (s == KX_OK) {
        s = store_txn_commit(t);
        t = NULL;
    }
    store_txn_abort(t);
    return s;
}

enum kx_status api_link_create(store *st, const char *email, char *secret,
                               struct api_account *a, struct kx_error *err)
{
    char key[80], exp[32];
    store_txn *t = NULL;
    json_object *o;
    enum kx_status s;

    if ((s = store_txn_begin(st, 1, &t)) != KX_OK)
        return s;
    if (api_account_get(t, email, a, NULL) != KX_OK || a->disabled) {
        store_txn_abort(t);
        return kx_error_set(err, KX_NOTFOUND, "email",
                            "no active account for %.80s", email);
    }
    if (secret_new(secret) != KX_OK) {
        store_txn_abort(t);
        return KX_IO;
    }
    iso_in(API_LINK_SECS, exp, sizeof exp);
    secret_key('l', secret, key);
    o = json_object_new_object();
    json_object_object_add(o, "user", json_object_new_string(a->id));
    json_object_object_add(o, "expires", json_object_new_string(exp));
    json_object_object_add(o, "used", json_object_new_string(""));
    s = put_json(t, STORE_SESSIONS, key, o);
    json_object_put(o);
    if (s == KX_OK) {
        s = store_txn_commit(t);
        t = NULL;
    }
    store_txn_abort(t);
    return s;
}

enum kx_status api_link_redeem(store *st, const char *secret,
                               struct api_session *out, struct kx_error *err)
{
    char key[80], now[32];
    store_txn *t = NULL;
    json_object *o = NULL;
    struct api_account a;
    enum kx_status s;

    if (!secret_wellformed(secret))
        return kx_error_set(err, KX_UNAUTHORIZED, "link",
                            "this sign-in link is not valid: ask for a new "
                            "one");
    secret_key('l', secret, key);
    if ((s = store_txn_begin(st, 1, &t)) != KX_OK)
        return s;
    if (!(o = table_json(t, STORE_SESSIONS, key))) {
        s = kx_error_set(err, KX_UNAUTHORIZED, "link",
                         "this sign-in link is not valid: ask for a new one");
        goto out;
    }
    if (*jstr(o, "used")) {
        s = kx_error_set(err, KX_UNAUTHORIZED, "link",
                         "this sign-in link was used already (at %s): ask "
                         "for a new one", jstr(o, "used"));
        goto out;
    }
    if (iso_past(jstr(o, "expires"))) {
        s = kx_error_set(err, KX_UNAUTHORIZED, "link",
                         "this sign-in link expired at %s: ask for a new "
                         "one", jstr(o, "expires"));
        goto out;
    }
    if (api_account_get(t, jstr(o, "user"), &a, NULL) != KX_OK ||
        a.disabled) {
        s = kx_error_set(err, KX_UNAUTHORIZED, "link",
                         "the account of this sign-in link is disabled");
        goto out;
    }
    api_time_iso(now, sizeof now);
    json_object_object_add(o, "used", json_object_new_string(now));
    if ((s = put_json(t, STORE_SESSIONS, key, o)) != KX_OK)
        goto out;
    s = store_txn_commit(t);
    t = NULL;
    if (s == KX_OK)
        s = api_session_create(st, &a, out);
out:
    json_object_put(o);
    store_txn_abort(t);
    return s;
}
