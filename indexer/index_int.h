/* index_int.h - what index.c and ingest.c share and nobody else sees. */
#ifndef INDEX_INT_H
#define INDEX_INT_H

#include "index.h"

#include <pthread.h>

/* Records per LMDB transaction, and LMDB batches per Xapian commit.
 * Xapian buffers a commit's postings in maps whose cost per posting grows
 * with their size: measured on 10k generated records (2 cores), 1,000
 * records per commit index 2.5x faster than 20,000 and use a fifth of the
 * memory; below 500 the commits themselves start to cost. */
#define IDX_BATCH_RECORDS 1000
#define IDX_BATCHES_PER_COMMIT 1

/* Bulk loads into an empty index of at least this many records (or bytes
 * of input) build partial indexes on every core and merge them. */
#define IDX_BULK_MIN_RECORDS 4000
#define IDX_BULK_MIN_BYTES (4u << 20)

/* Xapian metadata key: the last change number the index holds. */
#define IDX_META_SEQ "kx_seq"

struct idx {
    store *st;
    xap_db *xap;          /* NULL while the writer is closed after a fault */
    taxo *tx;
    text_tokenizer *tok;
    int write;
    char xpath[4096];
    /* Following LMDB (idx_follow): the change Xapian last committed, and
     * why the last attempt failed ("" once it caught up). The lock lets
     * idx_lag read them from other threads than the writer's. */
    pthread_mutex_t lag_lock;
    uint64_t xap_done;
    char lag_err[256];
    double lag_since;     /* when the index first fell behind, 0: it is not */
    /* During idx_follow: the record the caller just staged (borrowed), so
     * that its document is built without parsing it again. */
    const struct kx_record *fresh;
};

/* Records in Xapian that it holds every change up to seq, commits, and lets
 * LMDB forget those changes. */
enum kx_status idx_checkpoint(idx *x, uint64_t seq);

/* idx_doc_build with the tokeniser of the calling thread. */
enum kx_status idx_doc_build_tok(idx *x, text_tokenizer *tok,
                                 const struct kx_record *r, xap_doc **out);

/* Removes a directory tree; absent is KX_OK. */
enum kx_status idx_rm_tree(const char *path);

/* ---- bulk load (ingest.c) ----------------------------------------------
 * Worker threads build partial Xapian databases from LMDB, each from a
 * contiguous range of the change log or of the records, merged with
 * xap_compact and installed in place of the index by idx_bulk_finish.
 * Only for an index that is empty (or being rebuilt): until the install
 * the index is left as it was, and nothing is checkpointed. */
struct idx_bulk;

/* Starts the workers ($KXMATCH_INDEX_THREADS, else one per core, at most 8)
 * on about `count` changes numbered after `after` (records == 0: a load,
 * the changes arriving as idx_bulk_commit says), or on the `count`
 * records in LMDB (records == 1: a rebuild). *out stays NULL when fewer
 * than 2 workers would run: use the serial path then. */
enum kx_status idx_bulk_start(idx *x, int records, uint64_t after,
                              uint64_t count, struct idx_bulk **out);
/* Tells of change seq to key (what store_record_put did) before it is
 * committed: changes to keys the load already holds are kept for after
 * the merge. */
enum kx_status idx_bulk_note(struct idx_bulk *b, uint64_t seq,
                             const char *key, enum store_change what);
/* LMDB has committed every change up to seq: the workers may read them.
 * Returns a worker's failure, if any. */
enum kx_status idx_bulk_commit(struct idx_bulk *b, uint64_t seq);
/* Waits for the workers, merges, installs, applies the late changes and
 * checkpoints seq (the last change). */
enum kx_status idx_bulk_finish(struct idx_bulk *b, uint64_t seq);
/* What went wrong in the workers or the merge ("" if nothing). */
const char *idx_bulk_errmsg(const struct idx_bulk *b);
/* Stops the workers and removes the partial indexes. NULL allowed. */
void idx_bulk_free(struct idx_bulk *b);

/* Puts the complete Xapian database in directory newdir in place of the
 * index (which must hold nothing LMDB's change log would not bring back)
 * and reopens the writer on it. Writer only. */
enum kx_status idx_xap_install(idx *x, const char *newdir);

#endif
