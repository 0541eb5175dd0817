/* match.h - ranking partners for a need, and needs for a partner.
 *
 * A match context reads through store.h and xap.h only; one context per
 * thread. Scores are in [0, 1] and mean the same for every need (see
 * score.h); every entry carries the explanation of its score.
 */
#ifndef MATCH_H
#define MATCH_H

#include <stddef.h>

#include "config.h"
#include "index.h"
#include "infer.h"
#include "score.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_object;

typedef struct match_ctx match_ctx;

/* A context over a store and a Xapian handle that the calling thread owns.
 * cfg is copied. infer may be NULL (no inference) and is shared. */
enum kx_status match_ctx_new(store *st, xap_db *db, text_tokenizer *tok,
                             const taxo *tx, const match_infer *infer,
                             const struct match_config *cfg,
                             match_ctx **out);
void match_ctx_free(match_ctx *m);

/* Partner kinds, as a bit mask of 1u << kind. */
#define MATCH_PARTNER_KINDS                                                \
    ((1u << KX_KIND_EXPERT) | (1u << KX_KIND_ACADEMICIAN) |                \
     (1u << KX_KIND_SOCIETY) | (1u << KX_KIND_RESULT))

/* What to match: a stored need (need_key), or an ad-hoc one (text, codes,
 * region). */
struct match_request {
    const char *need_key;            /* "need:ID", or NULL */
    const struct kx_record *need;    /* need_key's record when the caller
                                        holds it as stored (borrowed): not
                                        read again */
    const char *text;                /* ad-hoc need text */
    const char *industries[MATCH_MAX_CODES]; /* ad-hoc, NULL-terminated */
    const char *disciplines[MATCH_MAX_CODES];
    const char *region;
    unsigned kinds;                  /* partner kinds; 0 = all */
    size_t top;                      /* entries wanted (default 10) */
    int baseline;                    /* plain BM25 on the text alone */
    int include_confidential;        /* reverse match: offer them too */
    int no_terms;                    /* leave entries' terms[] empty (bulk
                                        use: saves a termlist read each) */
};

#define MATCH_MAX_TERMS 5
#define MATCH_MAX_MEETS 8

struct match_term {
    char term[64];
    double share;      /* of the text component */
};

struct match_entry {
    char key[KX_KEY_MAX];
    enum kx_kind kind;
    char *name, *org;                /* owned */
    struct match_parts parts;        /* raw, weighted, score */
    double bm25;
    struct match_term terms[MATCH_MAX_TERMS];
    size_t nterms;
    struct match_meet meets[MATCH_MAX_MEETS]; /* strings borrowed from
                                                 the taxonomy (codes of the
                                                 need: see match_result) */
    size_t nmeets;
    enum match_region_rel region_rel;
    char region[16];                 /* the partner's region code */
    char via[KX_KEY_MAX];            /* member or owner that lifted it */
    double evidence;                 /* what the need gives to match on, in
                                        [0, 1]; below 1 the need is thin and
                                        parts and score were scaled by it */
};

struct match_result {
    char subject[KX_KEY_MAX];        /* the need (or partner) matched */
    struct match_entry *v;
    size_t n;
    size_t pool;                     /* candidates scored */
    /* the need's codes, given and inferred; strings borrowed from the
     * taxonomy, which outlives the result */
    struct match_codes industries, disciplines;
    double evidence;                 /* a need's (match_entry.evidence);
                                        0 in a partner's result, where each
                                        match has its own */
};

/* Ranks partners for a need. Unknown need: KX_NOTFOUND ("no need:X" or
 * "need:X was deleted"); a closed need: KX_CONFLICT (field "status");
 * nothing to match on (no text, no codes): KX_BADINPUT; err says which.
 * *out is the caller's. */
enum kx_status match_need(match_ctx *m, const struct match_request *req,
                          struct match_result **out, struct kx_error *err);

/* Ranks open needs for a partner (expert, academician, society; a result
 * too), with the same score the need would give the partner. Confidential
 * needs are left out unless req->include_confidential. */
enum kx_status match_partner(match_ctx *m, const char *partner_key,
                             const struct match_request *req,
                             struct match_result **out,
                             struct kx_error *err);

void match_result_free(struct match_result *r);

/* Why partner may not be brokered to enterprise ent (its record; t reads
 * a society's members, a result's owner): a person who declared the
 * enterprise among their conflicts or works there, a society that belongs
 * to it (README, "How matching works"), a result whose owner is one of
 * these. NULL if none; else a static sentence. The matcher leaves such
 * partners out of every ranking; the pipeline refuses such pairs. */
const char *match_conflict(store_txn *t, const struct kx_record *ent,
                           const struct kx_record *partner);

/* The result as JSON: {"subject", "pool", "need_codes", "matches": [{key,
 * kind, name, org, score, why: {components, raw, terms, codes, region,
 * via}}]} (documented in README.md). New reference, the caller's. */
struct json_object *match_result_json(const struct match_result *r,
                                      const taxo *tx);

#ifdef __cplusplus
}
#endif
#endif
