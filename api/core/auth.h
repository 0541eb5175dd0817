/* auth.h - who is calling: API tokens (stored hashed in STORE_TOKENS),
 * roles and what each role may see, and the audit log (STORE_AUDIT).
 *
 * Roles:
 *   enterprise  reads and edits only the needs of its enterprise; sees the
 *               public profiles of partners, never their e-mail addresses;
 *   liaison     sees the needs whose region (or whose enterprise's region)
 *               lies in its region, every partner, and runs the pipeline;
 *   admin       everything, and the audit log;
 *   expert      a person linked to their expert or academician record:
 *               edits that record, sees and answers the needs proposed to
 *               them and reads public needs;
 *   society     a society's contact, linked to the society's record: the
 *               same for the society.
 * A confidential need is seen only by its own enterprise and by admins.
 * People sign in to accounts (account.h); an account's role and scope
 * become the principal of its sessions and of the tokens it creates.
 */
#ifndef API_AUTH_H
#define API_AUTH_H

#include <stddef.h>

#include "kx.h"
#include "record.h"
#include "sha256.h"
#include "store.h"
#include "taxo.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_object;

enum api_role {
    API_ROLE_NONE = 0,
    API_ROLE_ENTERPRISE,
    API_ROLE_LIAISON,
    API_ROLE_ADMIN,
    API_ROLE_EXPERT,
    API_ROLE_SOCIETY,
    API_ROLE_LAST
};

/* Role bits for route tables: 1u << role. */
#define API_R_ENTERPRISE (1u << API_ROLE_ENTERPRISE)
#define API_R_LIAISON (1u << API_ROLE_LIAISON)
#define API_R_ADMIN (1u << API_ROLE_ADMIN)
#define API_R_EXPERT (1u << API_ROLE_EXPERT)
#define API_R_SOCIETY (1u << API_ROLE_SOCIETY)
/* The roles of the pages that search and match (not experts, societies). */
#define API_R_ANY (API_R_ENTERPRISE | API_R_LIAISON | API_R_ADMIN)
/* A partner's own account: expert, academician or society. */
#define API_R_PARTNER (API_R_EXPERT | API_R_SOCIETY)
#define API_R_PEOPLE (API_R_ANY | API_R_PARTNER)

/* "enterprise", "liaison", "admin", "expert", "society" ("" for none).
 * Static. */
const char *api_role_name(enum api_role r);
/* The role named s, or API_ROLE_NONE. */
enum api_role api_role_parse(const char *s);

#define API_TOKEN_ID_LEN 11 /* "kx_" + 8 hex digits: shown, never secret */
#define API_TOKEN_LEN 43    /* "kx_" + 40 hex digits */

/* Who a request (or the command line) acts as. */
struct api_principal {
    enum api_role role;
    char id[API_TOKEN_ID_LEN + 1]; /* token id, or "cli" */
    char enterprise[KX_KEY_MAX];   /* enterprise role: "enterprise:ID" */
    char region[16];               /* liaison role: GB/T 2260 code */
    char record[KX_KEY_MAX];       /* expert role: "expert:ID" or
                                      "academician:ID"; society role:
                                      "society:ID" */
    char user[16];                 /* the account acting, "" for none */
    char name[128];                /* its display name */
    char label[64];                /* free text given at creation */
    char created[32];              /* ISO 8601 UTC */
    char expires[32];              /* ISO 8601 UTC, "" if it never does */
    char last_used[32];            /* ISO 8601 UTC to the hour, "" never */
};

/* A looked-up token: who, and the key its record is stored under. */
struct api_token_ref {
    unsigned char hash[API_SHA256_LEN];
};

/* ---- tokens -------------------------------------------------------------- */

/* Creates a token for p (role, scope, and expires if it should: "" or an
 * ISO 8601 UTC time; id and created are filled in),
 * stores its SHA-256 and returns the token text in *token (the caller's to
 * free(); it is never stored and cannot be shown again). The scope must
 * exist: an enterprise record for enterprise tokens (KX_NOTFOUND), a
 * region code in tx for liaison tokens (KX_BADINPUT). */
enum kx_status api_token_create(store *st, const taxo *tx,
                                struct api_principal *p, char **token,
                                struct kx_error *err);

/* Looks up a bearer token: KX_OK with *p filled and *ref (may be NULL)
 * saying where it is stored, KX_UNAUTHORIZED if it is malformed, unknown,
 * revoked or expired (then only p->expires is set, for the message). The
 * token is found by its SHA-256, so no comparison runs on the secret. */
enum kx_status api_token_lookup(store_txn *t, const char *token,
                                struct api_principal *p,
                                struct api_token_ref *ref);

/* Records that the token was used now, at most once an hour (p->last_used
 * says when it last was): a write transaction of its own, so call it
 * outside any other. KX_OK also when nothing needed writing or the token
 * is gone meanwhile. */
enum kx_status api_token_touch(store *st, const struct api_token_ref *ref,
                               const struct api_principal *p);

/* The expiry for `token create --expires WHEN` into buf (32 bytes): WHEN
 * is a number of days from now (1..3650) or a date YYYY-MM-DD after today
 * (the token stops at 00:00 UTC that day). KX_BADINPUT saying so else. */
enum kx_status api_token_expiry(const char *when, char *buf,
                                struct kx_error *err);

/* Revokes the tokens whose id starts with prefix (or the token given in
 * full), or, with prefix NULL, every token carrying label. *n gets how
 * many. A prefix matching more than one token is KX_CONFLICT unless all
 * is set; none is KX_NOTFOUND. */
enum kx_status api_token_revoke(store *st, const char *prefix,
                                const char *label, int all, size_t *n,
                                struct kx_error *err);

/* Calls fn for every stored token (never the secret), in hash order. */
typedef int (*api_token_fn)(void *ctx, const struct api_principal *p);
enum kx_status api_token_each(store_txn *t, api_token_fn fn, void *ctx);

/* ---- what a principal may see ------------------------------------------- */

/* 1 if region code lies within scope (scope itself or an ancestor of it). */
int api_region_within(const taxo *tx, const char *code, const char *scope);

/* May p read the need r? KX_OK; KX_NOTFOUND for a confidential need of
 * someone else (it is answered as if it did not exist); KX_FORBIDDEN for
 * another enterprise's need or one outside the liaison's region. t reads
 * the need's enterprise. */
enum kx_status api_need_access(store_txn *t, const taxo *tx,
                               const struct api_principal *p,
                               const struct kx_record *r);

/* May p change (PUT, DELETE) the need r: its own enterprise or an admin. */
enum kx_status api_need_write_access(const struct api_principal *p,
                                     const struct kx_record *r);

/* Removes what p may not see from a record object in place: partners'
 * "email" and "contact" for enterprises (except on their own records). */
void api_record_redact(struct json_object *rec,
                       const struct api_principal *p);

/* ---- audit --------------------------------------------------------------- */

/* Appends {who, role, scope, when, what, key} to the audit log inside the
 * write transaction t (so it commits, or not, with the change it records).
 * Keys are 8-byte big-endian microseconds then a 4-byte sequence number. */
enum kx_status api_audit_append(store_txn *t, const struct api_principal *p,
                                const char *what, const char *key);

/* The same in a transaction of its own. */
enum kx_status api_audit_write(store *st, const struct api_principal *p,
                               const char *what, const char *key);

/* The newest `limit` audit entries (older than `before`, a key in hex, if
 * non-NULL), newest first, as a new JSON array the caller owns. Bad
 * `before` is KX_BADINPUT. *next (may be NULL) gets the hex key to pass as
 * `before` for the next page, or "" at the end. */
enum kx_status api_audit_list(store_txn *t, size_t limit, const char *before,
                              struct json_object **out, char next[32],
                              struct kx_error *err);

/* Now as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
void api_time_iso(char *buf, size_t n);

/* n random bytes from /dev/urandom into buf: KX_IO if unreadable. */
enum kx_status api_random(void *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
