/* test_api_auth.c - the API's own pieces without a server: SHA-256, tokens
 * (hashed at rest, revocable), what each role may see, the audit log, and
 * the one status-to-HTTP mapping. */
#include "ratelimit.h"
#include "auth.h"
#include "check.h"
#include "reply.h"
#include "sha256.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static taxo *tx;
static store *st;

static void test_sha256_vectors(void)
{
    /* FIPS 180-4 examples, and lengths around the padding boundary. */
    static const struct {
        const char *in;
        const char *hex;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
         "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    char hex[65];
    struct api_sha256 c;
    unsigned char d[32], d2[32];
    char *a = malloc(1000000);

    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        api_sha256_hex(v[i].in, strlen(v[i].in), hex);
        CHECK_STR(hex, v[i].hex);
    }
    memset(a, 'a', 1000000);
    api_sha256_hex(a, 1000000, hex);
    CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* Fed in odd pieces, the same digest. */
    api_sha256_init(&c);
    for (size_t off = 0, step = 1; off < 1000000; off += step, step = step * 7 % 997 + 1)
        api_sha256_update(&c, a + off, off + step > 1000000 ? 1000000 - off : step);
    api_sha256_final(&c, d);
    api_sha256(a, 1000000, d2);
    CHECK(memcmp(d, d2, 32) == 0);
    free(a);
}

static struct kx_record *rec(const char *json)
{
    struct kx_record *r = NULL;
    struct kx_error e;

    if (record_parse(json, strlen(json), tx, &r, &e) != KX_OK)
        fprintf(stderr, "parse: %s: %s\n", e.field, e.msg);
    return r;
}

static void put(const char *json)
{
    store_txn *t = NULL;
    struct kx_record *r = rec(json);

    CHECK_INT(store_txn_begin(st, 1, &t), KX_OK);
    CHECK_INT(store_record_put(t, r, tx, NULL), KX_OK);
    CHECK_INT(store_txn_commit(t), KX_OK);
    record_free(r);
}

static int count_tokens(void *ctx, const struct api_principal *p)
{
    (void)p;
    (*(int *)ctx)++;
    return 0;
}

static void test_tokens(void)
{
    struct api_principal p, got;
    struct kx_error err;
    store_txn *t = NULL;
    char *tok = NULL, *tok2 = NULL;
    size_t n = 0;
    int count = 0;

    memset(&p, 0, sizeof p);
    p.role = API_ROLE_ENTERPRISE;
    snprintf(p.enterprise, sizeof p.enterprise, "enterprise:E1");
    snprintf(p.label, sizeof p.label, "t");
    CHECK_INT(api_token_create(st, tx, &p, &tok, &err), KX_OK);
    CHECK(tok && strlen(tok) == API_TOKEN_LEN && strncmp(tok, "kx_", 3) == 0);
    CHECK(strncmp(p.id, tok, API_TOKEN_ID_LEN) == 0);

    CHECK_INT(store_txn_begin(st, 0, &t), KX_OK);
    CHECK_INT(api_token_lookup(t, tok, &got, NULL), KX_OK);
    CHECK_INT(got.role, API_ROLE_ENTERPRISE);
    CHECK_STR(got.enterprise, "enterprise:E1");
    CHECK_STR(got.id, p.id);
    /* One changed digit, a short one, garbage: all unauthorized. */
    {
        char keep = tok[10];
        tok[10] = keep == '0' ? '1' : '0';
        CHECK_INT(api_token_lookup(t, tok, &got, NULL), KX_UNAUTHORIZED);
        tok[10] = keep;
    }
    CHECK_INT(api_token_lookup(t, "kx_abc", &got, NULL), KX_UNAUTHORIZED);
    CHECK_INT(api_token_lookup(t, "", &got, NULL), KX_UNAUTHORIZED);
    CHECK_INT(api_token_each(t, count_tokens, &count), KX_OK);
    CHECK_INT(count, 1);
    store_txn_abort(t);

    /* Bad scopes change nothing. */
    memset(&p, 0, sizeof p);
    p.role = API_ROLE_ENTERPRISE;
    snprintf(p.enterprise, sizeof p.enterprise, "enterprise:NOPE");
    CHECK_INT(api_token_create(st, tx, &p, &tok2, &err), KX_NOTFOUND);
    snprintf(p.enterprise, sizeof p.enterprise, "expert:X1");
    CHECK_INT(api_token_create(st, tx, &p, &tok2, &err), KX_BADINPUT);
    p.role = API_ROLE_LIAISON;
    snprintf(p.region, sizeof p.region, "999999");
    CHECK_INT(api_token_create(st, tx, &p, &tok2, &err), KX_BADINPUT);
    CHECK(tok2 == NULL);
    snprintf(p.region, sizeof p.region, "371602");
    CHECK_INT(api_token_create(st, tx, &p, &tok2, &err), KX_OK);

    /* Revoke by id prefix; the token stops working. */
    CHECK_INT(api_token_revoke(st, "kx_", NULL, 0, &n, &err), KX_CONFLICT);
    CHECK_INT(api_token_revoke(st, "kx_zzz", NULL, 0, &n, &err), KX_NOTFOUND);
    CHECK_INT(api_token_revoke(st, tok2, NULL, 0, &n, &err), KX_OK);
    CHECK_INT(n, 1);
    CHECK_INT(store_txn_begin(st, 0, &t), KX_OK);
    CHECK_INT(api_token_lookup(t, tok2, &got, NULL), KX_UNAUTHORIZED);
    CHECK_INT(api_token_lookup(t, tok, &got, NULL), KX_OK);
    store_txn_abort(t);
    CHECK_INT(api_token_revoke(st, NULL, "t", 1, &n, &err), KX_OK);
    CHECK_INT(n, 1);
    CHECK_INT(store_txn_begin(st, 0, &t), KX_OK);
    CHECK_INT(api_token_lookup(t, tok, &got, NULL), KX_UNAUTHORIZED);
    store_txn_abort(t);
    free(tok);
    free(tok2);
}

static void test_need_access(void)
{
    struct api_principal ent_a = {.role = API_ROLE_ENTERPRISE, .id = "a", .enterprise = "enterprise:E1"};
    struct api_principal ent_b = {.role = API_ROLE_ENTERPRISE, .id = "b", .enterprise = "enterprise:E2"};
    struct api_principal county = {.role = API_ROLE_LIAISON, .id = "c", .region = "371602"};
    struct api_principal other = {.role = API_ROLE_LIAISON, .id = "d", .region = "371621"};
    struct api_principal city = {.role = API_ROLE_LIAISON, .id = "e", .region = "371600"};
    struct api_principal admin = {.role = API_ROLE_ADMIN, .id = "f"};
    struct kx_record *pub = rec("{\"kind\":\"need\",\"id\":\"N1\",\"name\":\"n\","
                                "\"enterprise\":\"enterprise:E1\",\"region\":\"371602001\"}");
    struct kx_record *conf = rec("{\"kind\":\"need\",\"id\":\"N2\",\"name\":\"n\","
                                 "\"enterprise\":\"enterprise:E1\",\"visibility\":\"confidential\"}");
    /* No region of its own: its enterprise's (371602) decides. */
    struct kx_record *noreg = rec("{\"kind\":\"need\",\"id\":\"N3\",\"name\":\"n\","
                                  "\"enterprise\":\"enterprise:E1\"}");
    store_txn *t = NULL;

    CHECK_INT(store_txn_begin(st, 0, &t), KX_OK);
    CHECK_INT(api_need_access(t, tx, &ent_a, pub), KX_OK);
    CHECK_INT(api_need_access(t, tx, &ent_a, conf), KX_OK);
    CHECK_INT(api_need_access(t, tx, &ent_b, pub), KX_FORBIDDEN);
    CHECK_INT(api_need_access(t, tx, &ent_b, conf), KX_NOTFOUND);
    CHECK_INT(api_need_access(t, tx, &county, pub), KX_OK);
    CHECK_INT(api_need_access(t, tx, &city, pub), KX_OK);
    CHECK_INT(api_need_access(t, tx, &other, pub), KX_FORBIDDEN);
    CHECK_INT(api_need_access(t, tx, &county, conf), KX_NOTFOUND);
    CHECK_INT(api_need_access(t, tx, &city, conf), KX_NOTFOUND);
    CHECK_INT(api_need_access(t, tx, &county, noreg), KX_OK);
    CHECK_INT(api_need_access(t, tx, &other, noreg), KX_FORBIDDEN);
    CHECK_INT(api_need_access(t, tx, &admin, conf), KX_OK);
    store_txn_abort(t);
    CHECK_INT(api_need_write_access(&ent_a, pub), KX_OK);
    CHECK_INT(api_need_write_access(&ent_b, pub), KX_FORBIDDEN);
    CHECK_INT(api_need_write_access(&county, pub), KX_FORBIDDEN);
    CHECK_INT(api_need_write_access(&admin, pub), KX_OK);
    CHECK(api_region_within(tx, "371602001", "371600"));
    CHECK(api_region_within(tx, "371602", "371602"));
    CHECK(!api_region_within(tx, "371602", "371602001"));
    CHECK(!api_region_within(tx, NULL, "371600"));
    record_free(pub);
    record_free(conf);
    record_free(noreg);
}

static void test_redact(void)
{
    struct api_principal ent = {.role = API_ROLE_ENTERPRISE, .id = "a", .enterprise = "enterprise:E1"};
    struct api_principal liaison = {.role = API_ROLE_LIAISON, .id = "c", .region = "371602"};
    json_object *expert = json_tokener_parse(
        "{\"kind\":\"expert\",\"id\":\"X\",\"email\":\"x@y.cn\"}");
    json_object *society = json_tokener_parse(
        "{\"kind\":\"society\",\"id\":\"S\",\"contact\":\"s@y.cn\"}");
    json_object *own = json_tokener_parse(
        "{\"kind\":\"enterprise\",\"id\":\"E1\",\"email\":\"e@y.cn\"}");
    json_object *v;

    api_record_redact(expert, &liaison);
    CHECK(json_object_object_get_ex(expert, "email", &v));
    api_record_redact(expert, &ent);
    CHECK(!json_object_object_get_ex(expert, "email", &v));
    api_record_redact(society, &ent);
    CHECK(!json_object_object_get_ex(society, "contact", &v));
    api_record_redact(own, &ent);
    CHECK(json_object_object_get_ex(own, "email", &v));
    json_object_put(expert);
    json_object_put(society);
    json_object_put(own);
}

static void test_audit(void)
{
    struct api_principal who = {.role = API_ROLE_LIAISON, .id = "kx_12345678", .region = "371602"};
    store_txn *t = NULL;
    json_object *a = NULL;
    struct kx_error err;
    char next[32], key[16];

    for (int i = 0; i < 5; i++) {
        snprintf(key, sizeof key, "need:N%d", i);
        CHECK_INT(api_audit_write(st, &who, "need.update", key), KX_OK);
    }
    CHECK_INT(store_txn_begin(st, 0, &t), KX_OK);
    CHECK_INT(api_audit_list(t, 2, NULL, &a, next, &err), KX_OK);
    CHECK_INT(json_object_array_length(a), 2);
    CHECK_STR(json_object_get_string(json_object_object_get(
                  json_object_array_get_idx(a, 0), "key")), "need:N4");
    CHECK_STR(json_object_get_string(json_object_object_get(
                  json_object_array_get_idx(a, 0), "who")), "kx_12345678");
    CHECK_STR(json_object_get_string(json_object_object_get(
                  json_object_array_get_idx(a, 0), "scope")), "371602");
    CHECK(strlen(next) == 24);
    json_object_put(a);
    CHECK_INT(api_audit_list(t, 2, next, &a, next, &err), KX_OK);
    CHECK_STR(json_object_get_string(json_object_object_get(
                  json_object_array_get_idx(a, 0), "key")), "need:N2");
    CHECK_STR(json_object_get_string(json_object_object_get(
                  json_object_array_get_idx(a, 1), "key")), "need:N1");
    json_object_put(a);
    /* Page on to the end (other tests wrote entries before ours): every
     * entry once, N0 next, and no pointer past the last page. */
    {
        size_t total = 0, seen = 4, pages = 0;
        int n0 = 0;

        CHECK_INT(store_kv_count(t, STORE_AUDIT, &total), KX_OK);
        while (next[0] && pages++ < 100) {
            CHECK_INT(api_audit_list(t, 2, next, &a, next, &err), KX_OK);
            for (size_t i = 0; i < json_object_array_length(a); i++) {
                const char *k = json_object_get_string(json_object_object_get(
                    json_object_array_get_idx(a, i), "key"));
                n0 += k && strcmp(k, "need:N0") == 0 && seen == 4;
                seen++;
            }
            json_object_put(a);
        }
        CHECK_INT(seen, total);
        CHECK_INT(n0, 1);
        /* exactly as many entries as asked for: no next page */
        CHECK_INT(api_audit_list(t, total, NULL, &a, next, &err), KX_OK);
        CHECK_INT(json_object_array_length(a), total);
        CHECK_STR(next, "");
        json_object_put(a);
    }
    CHECK_INT(api_audit_list(t, 2, "xyz", &a, next, &err), KX_BADINPUT);
    CHECK_STR(err.field, "before");
    CHECK(a == NULL);
    store_txn_abort(t);
}

static void test_http_mapping(void)
{
    CHECK_INT(api_http_status(KX_OK), 200);
    CHECK_INT(api_http_status(KX_BADINPUT), 400);
    CHECK_INT(api_http_status(KX_UNAUTHORIZED), 401);
    CHECK_INT(api_http_status(KX_FORBIDDEN), 403);
    CHECK_INT(api_http_status(KX_NOTFOUND), 404);
    CHECK_INT(api_http_status(KX_EXISTS), 409);
    CHECK_INT(api_http_status(KX_CONFLICT), 409);
    CHECK_INT(api_http_status(KX_TOOLARGE), 413);
    CHECK_INT(api_http_status(KX_UNAVAILABLE), 503);
    CHECK_INT(api_http_status(KX_XAPIAN), 500);
    CHECK_INT(api_http_status(KX_INTERNAL), 500);
    for (int s = 0; s < KX_STATUS_LAST; s++) {
        CHECK(api_http_status(s) >= 200 && api_http_status(s) < 600);
        CHECK(strlen(api_error_code(s)) > 0);
    }
    CHECK_STR(api_error_code(KX_BADINPUT), "bad_input");
}

/* Expiry: a past expiry answers like a bad token but says when; a future
 * one works. Last use is written once an hour, to the hour. */
static void test_token_expiry_and_use(void)
{
    struct api_principal p, got;
    struct api_token_ref ref;
    struct kx_error err;
    store_txn *t = NULL;
    char *old = NULL, *fresh = NULL, when[32];

    memset(&p, 0, sizeof p);
    p.role = API_ROLE_ADMIN;
    snprintf(p.expires, sizeof p.expires, "2001-01-01T00:00:00Z");
    CHECK_INT(api_token_create(st, tx, &p, &old, &err), KX_OK);
    memset(&p, 0, sizeof p);
    p.role = API_ROLE_ADMIN;
    CHECK_INT(api_token_expiry("30", p.expires, &err), KX_OK);
    CHECK(strlen(p.expires) == 20 && p.expires[19] == 'Z');
    CHECK_INT(api_token_create(st, tx, &p, &fresh, &err), KX_OK);

    CHECK_INT(store_txn_begin(st, 0, &t), KX_OK);
    CHECK_INT(api_token_lookup(t, old, &got, &ref), KX_UNAUTHORIZED);
    CHECK_STR(got.expires, "2001-01-01T00:00:00Z");
    CHECK_INT(got.role, API_ROLE_NONE);
    CHECK_INT(api_token_lookup(t, fresh, &got, &ref), KX_OK);
    CHECK_STR(got.last_used, "");
    store_txn_abort(t);
    CHECK_INT(api_token_touch(st, &ref, &got), KX_OK);
    CHECK_INT(store_txn_begin(st, 0, &t), KX_OK);
    CHECK_INT(api_token_lookup(t, fresh, &got, &ref), KX_OK);
    store_txn_abort(t);
    api_time_iso(when, sizeof when);
    CHECK(strncmp(got.last_used, when, 13) == 0);
    CHECK_STR(got.last_used + 13, ":00:00Z");

    /* What --expires takes, and what it refuses, naming the rule. */
    CHECK_INT(api_token_expiry("0", when, &err), KX_BADINPUT);
    CHECK_STR(err.field, "expires");
    CHECK_INT(api_token_expiry("3651", when, &err), KX_BADINPUT);
    CHECK_INT(api_token_expiry("2001-02-03", when, &err), KX_BADINPUT);
    CHECK_INT(api_token_expiry("2999-13-01", when, &err), KX_BADINPUT);
    CHECK_INT(api_token_expiry("soon", when, &err), KX_BADINPUT);
    CHECK_INT(api_token_expiry("2999-02-03", when, &err), KX_OK);
    CHECK_STR(when, "2999-02-03T00:00:00Z");
    free(old);
    free(fresh);
}

/* The write limit: a burst, then one per 1/rate, per token. */
static void test_rate_limit(void)
{
    struct api_ratelimit rl;

    api_rate_init(&rl, 60, 3); /* one a second, three at once */
    for (int i = 0; i < 3; i++)
        CHECK_INT(api_rate_take(&rl, "kx_aaaaaaaa", 100.0), 0);
    CHECK_INT(api_rate_take(&rl, "kx_aaaaaaaa", 100.0), 1);
    CHECK_INT(api_rate_take(&rl, "kx_bbbbbbbb", 100.0), 0);
    CHECK_INT(api_rate_take(&rl, "kx_aaaaaaaa", 101.0), 0);
    CHECK_INT(api_rate_take(&rl, "kx_aaaaaaaa", 101.0), 1);
    /* Many tokens later, the table stays bounded and a returning token
     * starts afresh rather than being refused for others' writes. */
    for (int i = 0; i < 5000; i++) {
        char id[16];
        snprintf(id, sizeof id, "kx_%08x", (unsigned)i);
        api_rate_take(&rl, id, 102.0);
    }
    CHECK_INT(api_rate_take(&rl, "kx_aaaaaaaa", 200.0), 0);
    api_rate_free(&rl);
    api_rate_init(&rl, 0, 0); /* no limit */
    for (int i = 0; i < 1000; i++)
        CHECK_INT(api_rate_take(&rl, "kx_cccccccc", 0.0), 0);
    api_rate_free(&rl);
}

int main(void)
{
    struct kx_error err;

    snprintf(dir, sizeof dir, "/tmp/kx_auth_XXXXXX");
    if (!mkdtemp(dir) || taxo_load(KX_TAXONOMY_DIR, &tx, &err) != KX_OK ||
        store_open(dir, STORE_CREATE, &st, &err) != KX_OK) {
        fprintf(stderr, "set-up failed: %s\n", err.msg);
        return 1;
    }
    put("{\"kind\":\"enterprise\",\"id\":\"E1\",\"name\":\"甲\",\"region\":\"371602\"}");
    put("{\"kind\":\"enterprise\",\"id\":\"E2\",\"name\":\"乙\",\"region\":\"371621\"}");
    RUN(test_sha256_vectors);
    RUN(test_tokens);
    RUN(test_token_expiry_and_use);
    RUN(test_rate_limit);
    RUN(test_need_access);
    RUN(test_redact);
    RUN(test_audit);
    RUN(test_http_mapping);
    store_close(st);
    taxo_free(tx);
    {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return check_report();
}
