/* account.h - people: accounts (STORE_USERS), their sessions, one-time
 * sign-in links and failed sign-ins (STORE_SESSIONS). Passwords are hashed
 * with Argon2id by libsodium (crypto_pwhash_str_alg); session ids and link
 * secrets are 32 random bytes, stored only as their SHA-256.
 *
 * Tables (keys are text):
 *   users     "u:<id>" -> the account as JSON (with "pw", the Argon2id
 *             string, when a password is set); "e:<email>" -> id
 *   sessions  "s:<sha256 hex>" -> {user, csrf, created, expires}
 *             "l:<sha256 hex>" -> {user, expires, used}
 *             "f:<email or client address>" -> {n, first, next}: failed
 *             sign-ins in the current window
 * An account's role and scope are read again on every request, so a role
 * change or a disabled account takes effect at once, in every session. */
#ifndef API_ACCOUNT_H
#define API_ACCOUNT_H

#include <stddef.h>

#include "auth.h"
#include "kx.h"
#include "store.h"
#include "taxo.h"

#ifdef __cplusplus
extern "C" {
#endif

#define API_USER_ID_LEN 10          /* "u_" + 8 hex digits */
#define API_SECRET_LEN 64           /* hex of 32 random bytes */
#define API_PASSWORD_MIN 10         /* characters (not bytes) */
#define API_PASSWORD_MAX 1024       /* bytes */
#define API_SESSION_SECS (7 * 24 * 3600)
#define API_LINK_SECS (15 * 60)
/* Failed sign-ins are counted per e-mail address and per client over this
 * window; from the API_SIGNIN_FREE-th on, the next try waits, twice as
 * long each time (5 s, 10 s, 20 s ... at most the window). */
#define API_SIGNIN_WINDOW (15 * 60)
#define API_SIGNIN_FREE 3

/* Starts libsodium once (sodium_init); 0 if it could not start. */
int api_sodium_ready(void);

struct api_account {
    char id[API_USER_ID_LEN + 1];
    char email[256];             /* lower case, unique */
    char name[128];              /* display name */
    enum api_role role;
    char region[16];             /* liaison: GB/T 2260 code, any level */
    char record[KX_KEY_MAX];     /* enterprise: enterprise:ID; expert:
                                    expert:ID or academician:ID; society:
                                    society:ID */
    int disabled;
    int has_password;
    char created[32];            /* ISO 8601 UTC */
};

/* An account as the API and `user list --json` show it: id, email, name,
 * role, region or record, password (whether one is set), disabled,
 * created; never the hash. New reference. */
struct json_object *api_account_json(const struct api_account *a);

/* Checks a's e-mail address, name, role and scope against the store (the
 * linked record must exist and be of the role's kind; a liaison's region
 * must be a code of tx), lower-cases the address. KX_BADINPUT or
 * KX_NOTFOUND with err naming the field. */
enum kx_status api_account_check(store_txn *t, const taxo *tx,
                                 struct api_account *a, struct kx_error *err);

/* Creates the account a (id and created are filled in) with password (may
 * be NULL: sign-in by link only), recording "user.add" by `by` in the audit
 * log in the same transaction. An address already taken: KX_EXISTS. A
 * password shorter than API_PASSWORD_MIN characters: KX_BADINPUT. */
enum kx_status api_account_add(store *st, const taxo *tx,
                               struct api_account *a, const char *password,
                               const struct api_principal *by,
                               struct kx_error *err);

/* Reads the account whose id or e-mail address is `who`: KX_NOTFOUND if
 * none. pw (may be NULL, else 128 bytes) gets the Argon2id string, "" if
 * no password is set. */
enum kx_status api_account_get(store_txn *t, const char *who,
                               struct api_account *a, char *pw);

/* Calls fn for every account, in id order; fn returns non-zero to stop. */
typedef int (*api_account_fn)(void *ctx, const struct api_account *a);
enum kx_status api_account_each(store_txn *t, api_account_fn fn, void *ctx);

/* What api_account_update changes: fields left "" (or -1) stay. */
struct api_account_change {
    const char *name;
    const char *role;            /* with its scope: */
    const char *region, *record;
    int disabled;                /* 0, 1, or -1: unchanged */
};

/* Changes the account `who` (id or address), checked as api_account_check
 * does, and records "user.change" by `by`. *out (may be NULL) gets the
 * account as stored. Disabling ends its sessions and sign-in links. */
enum kx_status api_account_update(store *st, const taxo *tx, const char *who,
                                  const struct api_account_change *ch,
                                  const struct api_principal *by,
                                  struct api_account *out,
                                  struct kx_error *err);

/* Sets (or, with NULL, removes) the password of `who`. */
enum kx_status api_account_set_password(store *st, const char *who,
                                        const char *password,
                                        const struct api_principal *by,
                                        struct kx_error *err);

/* The principal an account acts as (role, scope, user, name; id "u_...",
 * replaced by the token's id when a token of the account is used). */
void api_account_principal(const struct api_account *a,
                           struct api_principal *p);

/* ---- sessions ------------------------------------------------------------ */

/* The session cookie: HttpOnly, SameSite=Lax (a link from a mail keeps
 * the session, a form posted from another site does not carry it), Secure
 * when the site is served over TLS. */
#define API_SESSION_COOKIE "kx_session"

/* The Set-Cookie value for session `secret` (NULL: one that ends it in
 * the browser) into buf. */
void api_session_cookie(char *buf, size_t n, const char *secret, int secure);

/* 0 if a[0..n) and b[0..n) are equal, in time independent of where they
 * differ (sodium_memcmp). */
int api_secret_differ(const char *a, const char *b, size_t n);

struct api_session {
    char secret[API_SECRET_LEN + 1]; /* the cookie's value; never stored */
    char csrf[API_SECRET_LEN + 1];   /* sent back on every write */
    char expires[32];
    struct api_account account;
};

/* Signs in by password. Unknown address, no password, wrong password:
 * KX_UNAUTHORIZED, all with the same message and after the same work; a
 * disabled account (right password): KX_FORBIDDEN. While the address or
 * the client (its IP address) has failed too often, KX_UNAUTHORIZED
 * without trying, *retry_after saying in how many seconds it may try
 * again (0 otherwise). Each failure is counted and printed to stderr. */
enum kx_status api_signin_password(store *st, const char *email,
                                   const char *password, const char *client,
                                   struct api_session *out,
                                   unsigned *retry_after,
                                   struct kx_error *err);

/* A new session of account a. */
enum kx_status api_session_create(store *st, const struct api_account *a,
                                  struct api_session *out);

/* The principal of session `secret` (csrf gets its CSRF token, 65 bytes):
 * KX_UNAUTHORIZED if unknown, ended or expired, or its account is gone or
 * disabled. */
enum kx_status api_session_lookup(store_txn *t, const char *secret,
                                  struct api_principal *p, char *csrf);

/* Ends session `secret` (KX_OK also if it had ended). */
enum kx_status api_session_end(store *st, const char *secret);

/* A one-time sign-in link for the account with address email: secret (65
 * bytes) gets its secret, *a the account. KX_NOTFOUND for an unknown or
 * disabled account (the HTTP API answers the same either way). */
enum kx_status api_link_create(store *st, const char *email, char *secret,
                               struct api_account *a, struct kx_error *err);

/* Uses the sign-in link `secret` once: a new session in *out.
 * KX_UNAUTHORIZED, err saying whether it is unknown, expired or used. */
enum kx_status api_link_redeem(store *st, const char *secret,
                               struct api_session *out, struct kx_error *err);

#ifdef __cplusplus
}
#endif
#endif
