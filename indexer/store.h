/* store.h - the LMDB side of a kxmatch data directory: records (the source
 * of truth), tag postings, metadata, the change log that the Xapian index
 * follows, and plain tables for the layers above (tokens, audit, pipeline,
 * outbox). Layout on disk:
 *
 *   DIR/lmdb/data.mdb, lock.mdb   one LMDB environment (mdb_stat, mdb_dump)
 *   DIR/xapian/                   the Xapian database derived from it
 *
 * Named databases:
 *   records   "kind:id" -> canonical record JSON
 *   postings  tag -> record key (MDB_DUPSORT, so keys come back sorted):
 *             "K:<kind>", "I:<industry code or ancestor>", "D:<discipline>",
 *             "R:<region or ancestor>", "T:<lowercased tag>",
 *             "S:<need status>", "V:<need visibility>",
 *             "F:<referenced key>" (who refers to a record: a society's
 *             members, a result's owner, a need's enterprise, conflicts)
 *   meta      "format" -> "1", "seq" -> last change number (decimal),
 *             "deleted:<key>" -> "1" for every record deleted (tombstone)
 *   changes   8-byte big-endian change number -> record key
 *   profiles  "kind:id" -> the record's profile (record_profile_encode):
 *             what ranking reads of a candidate, without parsing JSON;
 *             meta "profiles" -> "1" once the table covers every record
 *   and the tables of enum store_table.
 *
 * Thread safety: the store handle is shared; a transaction belongs to one
 * thread. One writer at a time (LMDB's rule); readers never block.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "kx.h"
#include "record.h"
#include "taxo.h"

#ifdef __cplusplus
extern "C" {
#endif

#define STORE_FORMAT "1"

typedef struct store store;
typedef struct store_txn store_txn;

#define STORE_RDONLY 0x1u /* open for reading only */
#define STORE_CREATE 0x2u /* create DIR and the environment if missing */

/* Opens the data directory dir. Without STORE_CREATE a missing directory
 * gives KX_NOTFOUND; a directory written by another format gives
 * KX_CORRUPT. err (may be NULL) says which. *out is the caller's. */
enum kx_status store_open(const char *dir, unsigned flags, store **out,
                          struct kx_error *err);

/* Closes s; every transaction must have ended. NULL allowed. */
void store_close(store *s);

/* The directory s was opened on. Borrowed. */
const char *store_dir(const store *s);

/* Path of the Xapian database inside the data directory, into buf. */
void store_xapian_path(const store *s, char *buf, size_t n);

/* Bytes used by the LMDB environment (pages in use, not the map size). */
enum kx_status store_disk_usage(store *s, uint64_t *bytes);

/* Writes LMDB's compacting copy (MDB_CP_COMPACT: free pages left out) of
 * one snapshot of s, every table, into the data directory dest: creates
 * dest/lmdb (mode 0700) holding data.mdb, fsynced; lock.mdb appears when
 * the copy is first opened. The Xapian side is not copied (see
 * idx_copy_finish). The copy is one read transaction, so the writer and
 * readers of s go on meanwhile; s may be open STORE_RDONLY. dest must
 * exist. On failure nothing of the copy is left. Returns KX_OK; KX_EXISTS
 * if dest/lmdb exists; KX_IO (no such dest, no permission, a full disk),
 * KX_NOMEM, KX_BADINPUT (path too long), each with err (may be NULL)
 * naming the path and the reason. */
enum kx_status store_copy(store *s, const char *dest, struct kx_error *err);

/* Begins a transaction; write != 0 for a write transaction (waits for
 * any other writer). *out is the caller's until commit or abort. */
enum kx_status store_txn_begin(store *s, int write, store_txn **out);
/* Commits and frees t. On failure t is aborted and freed all the same. */
enum kx_status store_txn_commit(store_txn *t);
/* Aborts and frees t. NULL allowed. */
void store_txn_abort(store_txn *t);
/* Renews a read transaction to see the latest commit (cheap). */
enum kx_status store_txn_refresh(store_txn *t);

/* ---- records ----------------------------------------------------------- */

/* 1 if key was deleted (its tombstone is there), 0 if it never was or was
 * written again since: "deleted" rather than "unknown" in messages. */
int store_record_deleted(store_txn *t, const char *key);

/* The canonical JSON of key. *json is borrowed from LMDB: valid until the
 * transaction ends (copy it before). KX_NOTFOUND if absent. */
enum kx_status store_record_get(store_txn *t, const char *key,
                                const char **json, size_t *len);

/* key's profile (record_profile_encode), borrowed like store_record_get.
 * KX_NOTFOUND if absent, or if the store was written before profiles and
 * is open read-only (then parse the record instead). */
enum kx_status store_profile_get(store_txn *t, const char *key,
                                 const void **prof, size_t *len);

/* Whether s keeps a profile for every record (false only for a store
 * written before profiles and opened read-only). */
int store_has_profiles(const store *s);

/* What store_record_put did. */
enum store_change { STORE_UNCHANGED = 0, STORE_ADDED, STORE_UPDATED,
                    STORE_DELETED };

/* Upserts r (a deletion record deletes), keeping postings and the change
 * log in step. Identical content changes nothing (STORE_UNCHANGED, no new
 * change number). Deleting an absent record is STORE_UNCHANGED. tx gives
 * code ancestors for postings. *what may be NULL. */
enum kx_status store_record_put(store_txn *t, struct kx_record *r,
                                const taxo *tx, enum store_change *what);

/* Calls fn for each record whose key starts with prefix ("" for all, or
 * "expert:"), in key order. Values are borrowed for the call only. Non-zero
 * from fn stops (KX_OK is still returned). */
typedef int (*store_record_fn)(void *ctx, const char *key, const char *json,
                               size_t len);
enum kx_status store_record_each(store_txn *t, const char *prefix,
                                 store_record_fn fn, void *ctx);

/* Calls fn(ctx, tag, n) for every posting tag starting with prefix ("I:",
 * "R:37"), with the number of keys it holds. Tags are borrowed. */
typedef int (*store_tag_fn)(void *ctx, const char *tag, size_t n);
enum kx_status store_tag_each(store_txn *t, const char *prefix,
                              store_tag_fn fn, void *ctx);

/* Calls fn for every record key posted under tag, in key order. */
typedef int (*store_key_fn)(void *ctx, const char *key);
enum kx_status store_posting_each(store_txn *t, const char *tag,
                                  store_key_fn fn, void *ctx);

/* Number of record keys posted under tag (0 if none). */
enum kx_status store_posting_count(store_txn *t, const char *tag,
                                   size_t *n);

/* Writes the posting tags of r (kind, codes with their ancestors, tags,
 * need status/visibility, references) through fn. Shared with the Xapian
 * side so both indexes agree. */
typedef int (*store_tagout_fn)(void *ctx, const char *tag);
void store_record_tags(const struct kx_record *r, const taxo *tx,
                       store_tagout_fn fn, void *ctx);

/* ---- change log -------------------------------------------------------- */

/* The number of the last change (0 for an empty store). */
enum kx_status store_seq(store_txn *t, uint64_t *seq);

/* Calls fn for every change numbered > after, in order. */
typedef int (*store_change_fn)(void *ctx, uint64_t seq, const char *key);
enum kx_status store_changes_each(store_txn *t, uint64_t after,
                                  store_change_fn fn, void *ctx);

/* Forgets changes numbered <= upto (the Xapian index has them). */
enum kx_status store_changes_trim(store_txn *t, uint64_t upto);

/* ---- plain tables for the layers above ---------------------------------- */

enum store_table {
    STORE_META = 0,   /* metadata: "format", "seq", ... */
    STORE_TOKENS,     /* API tokens (hashed) */
    STORE_AUDIT,      /* audit log */
    STORE_PIPELINE,   /* brokering pipeline */
    STORE_OUTBOX,     /* digest messages */
    STORE_DIGEST,     /* digest plans, sent pairs, unsubscribes */
    STORE_USERS,      /* people's accounts (api/core/account.h) */
    STORE_SESSIONS,   /* their sessions, sign-in links, failed sign-ins */
    STORE_TABLE_LAST
};

/* Gets the value of key in table. *val is borrowed until the transaction
 * ends. KX_NOTFOUND if absent. */
enum kx_status store_kv_get(store_txn *t, enum store_table tb,
                            const void *key, size_t klen, const void **val,
                            size_t *vlen);
/* Puts (overwrites) key -> val. */
enum kx_status store_kv_put(store_txn *t, enum store_table tb,
                            const void *key, size_t klen, const void *val,
                            size_t vlen);
/* Deletes key; absent is KX_NOTFOUND. */
enum kx_status store_kv_del(store_txn *t, enum store_table tb,
                            const void *key, size_t klen);
/* Calls fn for each entry whose key starts with prefix, in key order. */
typedef int (*store_kv_fn)(void *ctx, const void *key, size_t klen,
                           const void *val, size_t vlen);
enum kx_status store_kv_each(store_txn *t, enum store_table tb,
                             const void *prefix, size_t plen, store_kv_fn fn,
                             void *ctx);

/* Calls fn for each entry whose key sorts before `before` (every entry if
 * before is NULL), newest-key first, until fn returns non-zero: reading
 * the tail of a log costs what is read, not the log's length. */
enum kx_status store_kv_each_before(store_txn *t, enum store_table tb,
                                    const void *before, size_t blen,
                                    store_kv_fn fn, void *ctx);

/* Number of entries in a table, and in the records table. */
enum kx_status store_kv_count(store_txn *t, enum store_table tb, size_t *n);
enum kx_status store_record_count(store_txn *t, size_t *n);

/* The message of the last LMDB failure on this thread ("" if none). */
const char *store_errmsg(void);

#ifdef __cplusplus
}
#endif
#endif
