/* answer.c - signed one-click answer links (answer.h). */
#include "answer.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "auth.h"
#include "sha256.h"

#define META_KEY "answer_key"

_Static_assert(KX_KEY_MAX == 80, "the %79s of api_answer_verify");

enum kx_status api_answer_key_get(store_txn *t,
                                  unsigned char key[API_ANSWER_KEY_LEN])
{
    const void *v;
    size_t n;
    enum kx_status st = store_kv_get(t, STORE_META, META_KEY,
                                     strlen(META_KEY), &v, &n);

    if (st != KX_OK)
        return st;
    if (n != API_ANSWER_KEY_LEN)
        return KX_CORRUPT;
    memcpy(key, v, n);
    return KX_OK;
}

enum kx_status api_answer_key(store *st, unsigned char key[API_ANSWER_KEY_LEN])
{
    store_txn *t = NULL;
    enum kx_status s;

    if ((s = store_txn_begin(st, 0, &t)) != KX_OK)
        return s;
    s = api_answer_key_get(t, key);
    store_txn_abort(t);
    if (s != KX_NOTFOUND)
        return s;
    if ((s = store_txn_begin(st, 1, &t)) != KX_OK)
        return s;
    /* another writer may have made it meanwhile */
    if ((s = api_answer_key_get(t, key)) == KX_NOTFOUND &&
        (s = api_random(key, API_ANSWER_KEY_LEN)) == KX_OK &&
        (s = store_kv_put(t, STORE_META, META_KEY, strlen(META_KEY), key,
                          API_ANSWER_KEY_LEN)) == KX_OK) {
        s = store_txn_commit(t);
        t = NULL;
    }
    store_txn_abort(t);
    return s;
}

/* Lower-case hex of n bytes at s into out (libsodium): -1 for any other
 * text, upper case included, so that one token has one spelling (its
 * once-only marker is the SHA-256 of the text). */
static int unhex(const char *s, size_t n, unsigned char *out)
{
    size_t got = 0;

    if (strspn(s, "0123456789abcdef") < 2 * n)
        return -1;
    return sodium_hex2bin(out, n, s, 2 * n, NULL, &got, NULL) == 0 && got == n
               ? 0 : -1;
}

enum kx_status api_answer_sign(const unsigned char key[API_ANSWER_KEY_LEN],
                               const char *need, const char *partner,
                               const char *recipient, long long expires,
                               char *out)
{
    char payload[3 * KX_KEY_MAX + 32];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    int n = snprintf(payload, sizeof payload, "%s %s %s %lld", need, partner,
                     recipient, expires);

    if (!api_sodium_ready())
        return KX_INTERNAL;
    if (n < 0 || (size_t)n >= sizeof payload ||
        2 * (size_t)n + 1 + 2 * sizeof mac + 1 > API_ANSWER_TOKEN_MAX)
        return KX_TOOLARGE;
    crypto_auth_hmacsha256(mac, (const unsigned char *)payload, (size_t)n,
                           key);
    sodium_bin2hex(out, 2 * (size_t)n + 1, (const unsigned char *)payload,
                   (size_t)n);
    out[2 * n] = '.';
    sodium_bin2hex(out + 2 * n + 1, 2 * sizeof mac + 1, mac, sizeof mac);
    return KX_OK;
}

enum kx_status api_answer_verify(const unsigned char key[API_ANSWER_KEY_LEN],
                                 const char *token,
                                 struct api_answer_link *out,
                                 struct kx_error *err)
{
    unsigned char payload[API_ANSWER_TOKEN_MAX / 2],
        mac[crypto_auth_hmacsha256_BYTES];
    const char *dot = token ? strchr(token, '.') : NULL;
    size_t plen;
    char text[API_ANSWER_TOKEN_MAX / 2 + 1];

    memset(out, 0, sizeof *out);
    if (!api_sodium_ready())
        return kx_error_set(err, KX_INTERNAL, "", "libsodium did not start");
    if (!dot || (size_t)(dot - token) % 2 || strlen(dot + 1) != 2 * sizeof mac ||
        (size_t)(dot - token) / 2 >= sizeof payload)
        return kx_error_set(err, KX_FORBIDDEN, "t",
                            "this answer link is not valid");
    plen = (size_t)(dot - token) / 2;
    if (unhex(token, plen, payload) != 0 || unhex(dot + 1, sizeof mac, mac) != 0 ||
        crypto_auth_hmacsha256_verify(mac, payload, plen, key) != 0)
        return kx_error_set(err, KX_FORBIDDEN, "t",
                            "this answer link is not valid");
    memcpy(text, payload, plen);
    text[plen] = '\0';
    if (sscanf(text, "%79s %79s %79s %lld", out->need, out->partner,
               out->recipient, &out->expires) != 4)
        return kx_error_set(err, KX_FORBIDDEN, "t",
                            "this answer link is not valid");
    api_sha256_hex(token, strlen(token), out->id);
    if (out->expires < (long long)time(NULL))
        return kx_error_set(err, KX_UNAUTHORIZED, "t",
                            "this answer link expired: sign in to answer "
                            "from your page");
    return KX_OK;
}
