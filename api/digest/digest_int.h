/* digest_int.h - what the digest files share: record access, the plan as
 * loaded from STORE_DIGEST, and composing one recipient's message. Not for
 * use outside api/digest/. */
#ifndef API_DIGEST_INT_H
#define API_DIGEST_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <time.h>

#include "digest.h"
#include "util.h"

struct json_object;

#define DIGEST_DEFAULT_BASE_URL "http://127.0.0.1:8080"
#define DIGEST_DEFAULT_FROM "kxmatch@localhost"

/* ---- records and tables ------------------------------------------------- */

/* The record key as parsed JSON, or NULL if absent (or unreadable). The
 * caller's (json_object_put). */
struct json_object *api_digest_record(store_txn *t, const char *key);

/* A string field of o, or NULL. Borrowed from o. */
const char *api_digest_str(struct json_object *o, const char *field);

/* Gets a STORE_DIGEST / STORE_OUTBOX text value into a new string (the
 * caller's), KX_NOTFOUND if absent. */
enum kx_status api_digest_kv_dup(store_txn *t, enum store_table tb,
                             const char *key, char **out);
enum kx_status api_digest_kv_puts(store_txn *t, enum store_table tb,
                              const char *key, const char *val);
/* Gets a JSON value (the caller's), KX_NOTFOUND if absent, KX_CORRUPT if
 * not JSON. */
enum kx_status api_digest_kv_json(store_txn *t, enum store_table tb,
                              const char *key, struct json_object **out);
enum kx_status api_digest_kv_put_json(store_txn *t, enum store_table tb,
                                  const char *key, struct json_object *o);

/* s (NULL: "") in quotes for a message, control characters, quotes and
 * backslashes as \xNN, cut to fit buf's n bytes (at least 8). */
void api_digest_addr_show(const char *s, char *buf, size_t n);

/* The recipient's address and display name (into buffers of n bytes):
 * KX_NOTFOUND if it has none (or an unusable one). */
enum kx_status api_digest_address(store_txn *t, const char *recipient,
                              char *addr, char *name, size_t n);

/* The week to work on into buf (API_DIGEST_WEEK_MAX bytes): week, checked
 * (KX_BADINPUT naming it if malformed), or the current one if NULL. */
enum kx_status api_digest_week_pick(const char *week, char *buf,
                                    struct kx_error *err);

/* Days since 1970-01-01 of a Gregorian date. */
long api_digest_days_from_civil(int y, int m, int d);
void api_digest_civil_from_days(long days, int *y, int *m, int *d);

/* A fresh random token of API_DIGEST_TOKEN_LEN hex digits into buf. */
enum kx_status api_digest_random_hex(char *buf, size_t hexlen);

/* Creates the recipient's token inside t if it has none; copies it. */
enum kx_status api_digest_token_ensure(store_txn *t, const char *recipient,
                                   char *buf);

/* ---- the stored plan ---------------------------------------------------- */

struct dpair {
    char need[KX_KEY_MAX], partner[KX_KEY_MAX];
    char recipient[KX_KEY_MAX];   /* the partner-side recipient */
    char enterprise[KX_KEY_MAX];
    char region[16];              /* the need's */
    double score;
};

struct dnew {
    char need[KX_KEY_MAX];
    char region[16];
    int confidential;
};

struct dmove {
    char need[KX_KEY_MAX], partner[KX_KEY_MAX];
    char stage[32], updated[40], region[16];
};

struct dplan {
    char week[API_DIGEST_WEEK_MAX];
    long long created;
    char nonce[24];
    struct dpair *pairs;          /* in key order: need, then partner */
    size_t npairs;
    struct dnew *news;
    size_t nnews;
    struct dmove *moves;
    size_t nmoves;
};

/* Loads week's plan; KX_NOTFOUND (err says so) if there is none. */
enum kx_status api_dplan_load(store_txn *t, const char *week, struct dplan *p,
                          struct kx_error *err);
void api_dplan_free(struct dplan *p);

/* Everyone with something to hear in p, sorted, without duplicates: an
 * array of n keys, the caller's (free each, then the array). */
enum kx_status api_dplan_recipients(store_txn *t, const struct dplan *p,
                                char ***keys, size_t *n);

/* ---- one message -------------------------------------------------------- */

struct dmsg {
    char recipient[KX_KEY_MAX];
    char to[256];
    char message_id[256];
    char *subject, *text, *html;  /* UTF-8 */
    char *raw;                    /* the RFC 5322 message, CRLF */
    size_t items;                 /* needs (or counts) it reports */
};

/* Composes recipient's message for plan p. Deterministic: the same plan,
 * records, options and token give the same bytes. KX_NOTFOUND (err says
 * why) if the recipient has nothing in p or no address. */
enum kx_status api_dmsg_compose(store_txn *t, const taxo *tx,
                            const struct api_digest_opts *o,
                            const struct dplan *p, const char *recipient,
                            const char *token, struct dmsg *out,
                            struct kx_error *err);
void api_dmsg_free(struct dmsg *m);

/* Outbox key "<week>|<recipient>" into buf (at least 128 bytes). */
void api_digest_outbox_key(char *buf, size_t n, const char *week,
                       const char *recipient);

#endif
