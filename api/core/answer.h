/* answer.h - one-click answers to a digest's proposal: a link that lets the
 * person a need was proposed to say "interested" or "not for me" without
 * signing in. The link's token names the need, the partner and the
 * recipient and when it expires, signed with HMAC-SHA-256 (libsodium's
 * crypto_auth_hmacsha256) under a key kept in the store's meta table
 * ("answer_key", 32 random bytes, made on first use), so it cannot be
 * forged, bound to another pair or person, or stretched. Each token answers
 * once (the HTTP API keeps a marker per token in STORE_DIGEST). Opening the
 * link shows the proposal; only a POST answers, so a mail scanner that
 * prefetches links changes nothing. */
#ifndef API_ANSWER_H
#define API_ANSWER_H

#include <stddef.h>

#include "kx.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define API_ANSWER_KEY_LEN 32
#define API_ANSWER_DAYS 30          /* a digest's links answer this long */
#define API_ANSWER_TOKEN_MAX 512    /* bytes of a token, with its NUL */

/* The signing key, made and stored if there is none yet (a write
 * transaction of its own: call it outside any other). */
enum kx_status api_answer_key(store *st, unsigned char key[API_ANSWER_KEY_LEN]);

/* The key as stored, read in t: KX_NOTFOUND before the first digest. */
enum kx_status api_answer_key_get(store_txn *t,
                                  unsigned char key[API_ANSWER_KEY_LEN]);

/* The token for (need, partner) proposed to recipient, valid until
 * `expires` (unix seconds), into out (API_ANSWER_TOKEN_MAX bytes): hex of
 * "need partner recipient expires", '.', hex of its HMAC. KX_TOOLARGE if
 * the keys are too long for it. */
enum kx_status api_answer_sign(const unsigned char key[API_ANSWER_KEY_LEN],
                               const char *need, const char *partner,
                               const char *recipient, long long expires,
                               char *out);

struct api_answer_link {
    char need[KX_KEY_MAX], partner[KX_KEY_MAX], recipient[KX_KEY_MAX];
    long long expires;
    char id[65];             /* SHA-256 hex of the token: its marker's key */
};

/* Checks token against key: KX_FORBIDDEN (err says so) if it is malformed
 * or its signature is wrong, KX_UNAUTHORIZED if it expired; KX_OK with
 * *out filled otherwise. */
enum kx_status api_answer_verify(const unsigned char key[API_ANSWER_KEY_LEN],
                                 const char *token,
                                 struct api_answer_link *out,
                                 struct kx_error *err);

#ifdef __cplusplus
}
#endif
#endif
