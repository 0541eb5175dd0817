/* index_int.h - what index.c and ingest.c share and nobody else sees. */
#ifndef INDEX_INT_H
#define INDEX_INT_H

#include "index.h"

/* Records per LMDB transaction, and LMDB batches per Xapian commit. */
#define IDX_BATCH_RECORDS 2000
#define IDX_BATCHES_PER_COMMIT 10

struct idx {
    store *st;
    xap_db *xap;
    taxo *tx;
    text_tokenizer *tok;
    int write;
    char xpath[4096];
};

/* Records in Xapian that it holds every change up to seq, commits, and lets
 * LMDB forget those changes. */
enum kx_status idx_checkpoint(idx *x, uint64_t seq);

#endif
