/* index.h - a kxmatch data directory as one handle: the LMDB store (the
 * source of truth), the Xapian index derived from it, the taxonomies and a
 * tokeniser; ingest of record files; keeping Xapian in step with LMDB.
 *
 * Crash safety: records reach LMDB in batches, each batch one transaction
 * that also logs its changes with increasing numbers. The Xapian side
 * stores, atomically with each of its commits, the number of the last change
 * it has applied (metadata "kx_seq"). Opening for writing replays any
 * change that Xapian has not applied yet, so a run killed at any moment and
 * run again ends in the same state as an uninterrupted one.
 */
#ifndef INDEX_H
#define INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "kx.h"
#include "record.h"
#include "store.h"
#include "taxo.h"
#include "text.h"
#include "xap.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct idx idx;

#define IDX_READ 0  /* read-only; never blocks or is blocked by a writer */
#define IDX_WRITE 1 /* create if missing; one writer per data directory */

/* Opens the data directory dir (taxo_dir NULL: taxo_default_dir()).
 * IDX_WRITE takes the writer lock (KX_LOCKED with a message naming the
 * directory if another process holds it) and brings Xapian up to date with
 * LMDB. IDX_READ on a missing directory gives KX_NOTFOUND. err says what
 * went wrong. *out is the caller's (idx_close). */
enum kx_status idx_open(const char *dir, int mode, const char *taxo_dir,
                        idx **out, struct kx_error *err);

/* Closes the handle (committing nothing further). NULL allowed. */
void idx_close(idx *x);

/* Borrowed parts, valid until idx_close. The xap_db and tokeniser belong to
 * the thread that opened x; other threads open their own (idx_reader_*). */
store *idx_store(idx *x);
xap_db *idx_xap(idx *x);
const taxo *idx_taxo(const idx *x);
text_tokenizer *idx_tokenizer(idx *x);

/* A second read handle on the Xapian index of x, for another thread. */
enum kx_status idx_xap_reader(idx *x, xap_db **out);

/* Applies every logged change Xapian has not applied, then commits.
 * *applied (may be NULL) gets the number of changes replayed. Writer only. */
enum kx_status idx_sync(idx *x, uint64_t *applied);

/* Recreates the Xapian index from LMDB alone. Writer only. */
enum kx_status idx_rebuild(idx *x, void (*progress)(void *, size_t, size_t),
                           void *ctx);

/* Completes the data directory dir whose LMDB side store_copy wrote and
 * which has no Xapian index yet: builds the index from the records (its
 * change log is no help, being trimmed), then closes dir. The new index is
 * marked as being rebuilt before anything goes into it, so that a run
 * killed half way leaves a directory whose next open finishes the rebuild,
 * never one that looks complete. taxo_dir as for idx_open. Returns KX_OK;
 * KX_EXISTS if dir has a Xapian index already; else the statuses of
 * idx_open (KX_NOTFOUND, KX_CORRUPT, KX_LOCKED, KX_IO, KX_XAPIAN,
 * KX_NOMEM), with err saying why. */
enum kx_status idx_copy_finish(const char *dir, const char *taxo_dir,
                               struct kx_error *err);

/* Builds the Xapian document of r (terms, boolean filters, values, data).
 * *out is the caller's. Exposed so that benchmarks and tests can see it. */
enum kx_status idx_doc_build(idx *x, const struct kx_record *r,
                             xap_doc **out);

/* Writes r into the caller's write transaction t (store_txn_begin(.., 1,
 * ..)): the record, its postings and profile and its change-log entry, so
 * that whatever else the caller writes in t (an audit entry) lands or
 * fails with it. Xapian is not touched: after committing t, the caller
 * calls idx_follow. Also lets LMDB forget the changes Xapian already
 * holds. Validation is the caller's (record_parse / record_from_json).
 * *what (may be NULL) gets what changed. Returns the store's statuses
 * (KX_NOMEM, KX_IO, KX_CORRUPT); KX_INTERNAL on a reader. */
enum kx_status idx_stage(idx *x, store_txn *t, struct kx_record *r,
                         enum store_change *what);

/* Brings Xapian up to LMDB: applies every logged change it lacks and
 * commits. After a failed attempt the Xapian writer is closed (dropping
 * the failed transaction) and reopened here first, so a fault that has
 * gone away (a full disk, an unwritable folder) heals on the next call.
 * fresh (may be NULL) is a record the caller just staged and still holds:
 * its document is built from it rather than from parsing what LMDB holds.
 * KX_OK once caught up; otherwise KX_XAPIAN, KX_IO, KX_LOCKED ... with err
 * saying why, and idx_lag reporting the same. Writer only (KX_INTERNAL). */
enum kx_status idx_follow(idx *x, const struct kx_record *fresh,
                          struct kx_error *err);

/* How far Xapian is behind LMDB: the changes LMDB holds that Xapian has
 * not committed, why the last idx_follow failed ("" if it did not) and
 * since when (seconds since the epoch; 0 when caught up). Any thread. */
struct idx_lag {
    uint64_t pending;
    char error[256];
    double since;
};
enum kx_status idx_lag(idx *x, struct idx_lag *out);

/* Upserts one record: idx_stage in a transaction of its own, committed,
 * then idx_follow. KX_OK once LMDB committed; *indexed (may be NULL) says
 * whether Xapian followed (if not, idx_lag says why and a later
 * idx_follow catches up). Statuses as idx_stage. */
enum kx_status idx_put(idx *x, struct kx_record *r, enum store_change *what,
                       int *indexed);

/* ---- ingest ------------------------------------------------------------ */

struct idx_counts {
    size_t added, updated, deleted, unchanged, rejected;
};

/* Flags for idx_ingest. */
#define IDX_SKIP_INVALID 0x1u /* index the valid lines, count the rest */

/* Called for every rejected line (err has file, line, field, message).
 * Return non-zero to stop reporting (counting goes on). */
typedef int (*idx_error_fn)(void *ctx, const struct kx_error *err);
/* Called now and then with bytes done and total (total 0 if unknown). */
typedef void (*idx_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/* Validates every line of every file ("-" is stdin), then writes them.
 * Without IDX_SKIP_INVALID any invalid line (bad JSON, bad field, bad code,
 * a key repeated within one file) rejects the whole run: nothing is written
 * and KX_BADINPUT is returned. An unreadable file is KX_IO/KX_NOTFOUND with
 * err naming it, also before anything is written. */
enum kx_status idx_ingest(idx *x, const char *const *files, size_t nfiles,
                          unsigned flags, struct idx_counts *counts,
                          idx_error_fn on_error, idx_progress_fn on_progress,
                          void *ctx, struct kx_error *err);

#ifdef __cplusplus
}
#endif
#endif
