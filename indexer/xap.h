/* xap.h - a C API over Xapian: the only door to the full-text index.
 *
 * Handles are opaque. Every function returns a kx_status and hands results
 * through out-parameters, which are set to NULL/0 on failure. No C++
 * exception ever crosses this boundary: Xapian errors become KX_XAPIAN (or
 * KX_LOCKED, KX_NOTFOUND, KX_CORRUPT where Xapian tells us which), with the
 * message readable through xap_errmsg() until the next call on that handle.
 * A handle is used by one thread at a time, like an LMDB transaction.
 *
 * Term conventions (the indexer decides, the wrapper only stores):
 *   Q<key>        unique id term, e.g. "Qexpert:E0042"
 *   XK<kind>      kind, boolean      XR<code>  region and its ancestors
 *   XI<code>      industry (+ancestors)  XD<code> discipline (+ancestors),
 *                 both as wdf-1 terms so that queries can rank by codes
 *   XT<tag>       tag, boolean       XS<status> need status
 *   XV<vis>       need visibility    XE<key>   the need's enterprise
 *   S<word>       name words         XO<word>  org words   XG<word> tag words
 *   <word>        every free-text word (name, tags, org, text), unprefixed.
 * Words are already normalised by the caller (lowercased, stemmed, CJK
 * n-grams); the wrapper never tokenises.
 */
#ifndef XAP_H
#define XAP_H

#include <stddef.h>

#include "kx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xap_db xap_db;
typedef struct xap_doc xap_doc;
typedef struct xap_query xap_query;
typedef struct xap_mset xap_mset;
typedef struct xap_stemmer xap_stemmer;

/* Value slots. Multi-valued slots hold codes joined with '\n'. */
enum xap_slot {
    XAP_SLOT_KIND = 0,        /* "expert", ... */
    XAP_SLOT_REGION = 1,      /* region code and ancestors, '\n'-joined */
    XAP_SLOT_INDUSTRY = 2,    /* industry codes and ancestors, '\n'-joined */
    XAP_SLOT_DISCIPLINE = 3,  /* discipline codes and ancestors */
    XAP_SLOT_UPDATED = 4,     /* sortable number: seconds since epoch */
    XAP_SLOT_LAST
};

/* ---- database ---------------------------------------------------------- */

#define XAP_OPEN_READ 0
#define XAP_OPEN_WRITE 1 /* create if missing; takes Xapian's write lock */
#define XAP_OPEN_SCRATCH 2 /* XAP_OPEN_WRITE without fsync: for a partial
                              index that is merged (xap_compact) and
                              deleted, never one that must survive a crash */

/* Opens the Xapian database in directory path. With XAP_OPEN_WRITE a
 * database held by another writer gives KX_LOCKED. With XAP_OPEN_READ a
 * missing database gives KX_NOTFOUND. *out is the caller's (xap_close). */
enum kx_status xap_open(const char *path, int mode, xap_db **out);

/* Merges the databases in directories srcs[0..n) into a new, compact
 * database in directory dst (which must not exist: KX_EXISTS), numbering
 * documents anew; a metadata key set in several sources keeps the value of
 * the first. Sources are only read. On failure dst may hold a partial
 * database for the caller to remove; the message is xap_errmsg(NULL). */
enum kx_status xap_compact(const char *const *srcs, size_t n,
                           const char *dst);

/* Discards every change not yet committed (writes run in a Xapian
 * transaction that only xap_commit ends), releases the lock and frees db.
 * Result sets taken from a writer stop working once it is closed. NULL
 * allowed. */
void xap_close(xap_db *db);

/* Last error message on db, or "" if none. Borrowed: valid until the next
 * call on db. NULL db gives the message of the last failed xap_open or
 * xap_compact in this thread. */
const char *xap_errmsg(const xap_db *db);

/* Makes a reader see the latest committed revision (no-op for a writer). */
enum kx_status xap_reopen(xap_db *db);

/* Number of documents. */
enum kx_status xap_doccount(xap_db *db, unsigned long *out);

/* Number of documents indexing term (0 if none). */
enum kx_status xap_termfreq(xap_db *db, const char *term, unsigned long *out);

/* User metadata. xap_meta_get gives "" (not NOTFOUND) for an unset key; *out
 * is the caller's to free(). xap_meta_set is written by the next commit. */
enum kx_status xap_meta_get(xap_db *db, const char *key, char **out);
enum kx_status xap_meta_set(xap_db *db, const char *key, const char *val);

/* Adds or replaces the document carrying unique term idterm (writer only).
 * doc should carry idterm; otherwise a copy with it added is stored. An
 * empty term is KX_BADINPUT everywhere (Xapian reads it as "all"). */
enum kx_status xap_replace(xap_db *db, const char *idterm, const xap_doc *doc);

/* Deletes the document carrying idterm; absent is KX_OK (idempotent). */
enum kx_status xap_delete(xap_db *db, const char *idterm);

/* Makes every change since the last commit durable and visible, atomically
 * with the metadata set since then. */
enum kx_status xap_commit(xap_db *db);

/* Fetches the data blob stored with the document carrying idterm.
 * KX_NOTFOUND if absent. *out (NUL-terminated) is the caller's to free(). */
enum kx_status xap_doc_data(xap_db *db, const char *idterm, char **out,
                            size_t *len);

/* ---- documents --------------------------------------------------------- */

enum kx_status xap_doc_new(xap_doc **out);
void xap_doc_free(xap_doc *doc);

/* Adds term at position pos (1-based; 0 means no positional info),
 * increasing its within-document frequency by wdf_inc (field weighting). */
enum kx_status xap_doc_add_term(xap_doc *doc, const char *term, size_t len,
                                unsigned pos, unsigned wdf_inc);

/* Adds a boolean (filter) term: no wdf, no effect on ranking. */
enum kx_status xap_doc_add_boolean(xap_doc *doc, const char *term);

/* Sets a value slot to raw bytes, or to a sortable-serialised number. */
enum kx_status xap_doc_set_value(xap_doc *doc, unsigned slot, const char *v,
                                 size_t n);
enum kx_status xap_doc_set_value_num(xap_doc *doc, unsigned slot, double v);

/* Sets the document data (we store the record key, "kind:id"). */
enum kx_status xap_doc_set_data(xap_doc *doc, const char *data, size_t n);

/* ---- queries ----------------------------------------------------------- */

enum kx_status xap_query_new(xap_query **out);
void xap_query_free(xap_query *q);

/* Adds a ranking term: the query is a weighted OR (never a boolean AND of
 * everything), each term's BM25 contribution scaled by weight > 0. Adding
 * the same term again adds to its weight. */
enum kx_status xap_query_add_term(xap_query *q, const char *term,
                                  double weight);

/* Ranking terms indexing more than tf documents (0: no limit) only add
 * their weight to documents that the other terms match (AND_MAYBE): they
 * cannot bring a document in by themselves, and their long posting lists
 * are skipped through instead of read whole. If every term is that common
 * they all match as usual. Ignored when min_match > 1. */
enum kx_status xap_query_set_boost_above(xap_query *q, unsigned long tf);

/* Adds a phrase of terms that must appear in order (needs positions),
 * weighted like a term. Used for quoted search input. */
enum kx_status xap_query_add_phrase(xap_query *q, const char *const *terms,
                                    size_t n, double weight);

/* Adds a boolean filter term to filter group `group` (any small integer).
 * Terms in one group are OR-ed, groups are AND-ed, and the ranking part is
 * restricted to documents passing every group. A query with filters but no
 * ranking terms matches every passing document with weight 0. */
enum kx_status xap_query_add_filter(xap_query *q, int group,
                                    const char *term);

/* Excludes documents carrying term (AND_NOT). */
enum kx_status xap_query_add_exclude(xap_query *q, const char *term);

/* Excludes documents carrying every one of the n terms (AND_NOT of their
 * AND): a word of the search input given as -word, whose n-grams must all
 * be present. KX_OK; KX_BADINPUT for no terms or an empty one; KX_NOMEM. */
enum kx_status xap_query_add_exclude_all(xap_query *q,
                                         const char *const *terms, size_t n);

/* Requires at least `n` ranking terms to match (0 = any). Useful for short
 * search input so that one common n-gram does not flood the results. Only
 * xap_query_add_term terms count; n above their number matches nothing;
 * a filter-only query ignores it. */
enum kx_status xap_query_set_min_match(xap_query *q, unsigned n);

/* A query with neither terms nor filters matches every document (minus
 * excludes) rather than none: browsing with no words. Off by default, so
 * that an empty need matches nothing. */
enum kx_status xap_query_set_match_all(xap_query *q, int on);

/* Orders matches by value slot `slot` (ascending, or descending when
 * `descending`), ties by relevance; slot -1 (the default) orders by
 * relevance alone. KX_BADINPUT for a slot that is not an enum xap_slot. */
enum kx_status xap_query_set_sort(xap_query *q, int slot, int descending);

/* BM25 parameters (defaults k1=1.2, b=0.75). */
enum kx_status xap_query_set_bm25(xap_query *q, double k1, double b);

/* Asks the next run to count every '\n' separated item of value slot
 * `slot` (facets) over the matching documents: see
 * xap_query_set_facet_limit for which. */
enum kx_status xap_query_add_facet(xap_query *q, unsigned slot);

/* Facets count the n best matching documents (by the ranking, as the hits
 * are), or, with n = 0 (the default), every document the match examines:
 * with check_at_least at least the number of matches that is every match,
 * but it means scoring every one of them. The hits are the same either
 * way. xap_mset_facet_docs and xap_mset_facets_exact tell what was
 * counted. */
enum kx_status xap_query_set_facet_limit(xap_query *q, unsigned n);

/* Runs q, returning hits [offset, offset+count) best first. With
 * check_at_least > 0 the match counts at least that many documents, so that
 * estimates (and facets without a facet limit) are exact up to it. *out is
 * the caller's. */
enum kx_status xap_query_run(xap_db *db, const xap_query *q, unsigned offset,
                             unsigned count, unsigned check_at_least,
                             xap_mset **out);

/* Relevance feedback: the n best expansion terms from the documents with
 * the given idterms (e.g. the top hits), excluding the query's own terms.
 * terms_out[i] are malloc'd, as is the array; weights_out likewise. */
enum kx_status xap_query_expand(xap_db *db, const xap_query *q,
                                const char *const *idterms, size_t nrel,
                                size_t n, char ***terms_out,
                                double **weights_out, size_t *count_out);

/* ---- results ----------------------------------------------------------- */

void xap_mset_free(xap_mset *m);
size_t xap_mset_size(const xap_mset *m);
/* Lower/upper estimates are folded into one best estimate. */
unsigned long xap_mset_estimated(const xap_mset *m);
/* 1 if that estimate is the exact number of matches (Xapian's lower and
 * upper bounds agree: the match saw every one), 0 if it is an estimate. */
int xap_mset_estimated_exact(const xap_mset *m);
/* The largest weight any document could get for this query: the BM25
 * upper bound, used to normalise weights into [0, 1]. */
double xap_mset_max_possible(const xap_mset *m);
/* The i-th hit's data (record key) and BM25 weight. Borrowed until
 * xap_mset_free. */
const char *xap_mset_data(const xap_mset *m, size_t i);
double xap_mset_weight(const xap_mset *m, size_t i);
/* The ranking terms of the query that the i-th hit contains, in query
 * order, and (if wdfs is not NULL) the within-document frequency of each,
 * from one walk of the document's termlist. *terms and *wdfs are malloc'd
 * (free them), the strings are borrowed from m. */
enum kx_status xap_mset_matching_terms(const xap_mset *m, size_t i,
                                       const char ***terms, unsigned **wdfs,
                                       size_t *n);
/* Within-document frequency of term in the i-th hit, and its length. */
enum kx_status xap_mset_term_wdf(const xap_mset *m, size_t i,
                                 const char *term, unsigned *wdf);
enum kx_status xap_mset_doclen(const xap_mset *m, size_t i, unsigned *len);

/* Facet counts for slot (after xap_query_add_facet): parallel arrays of
 * items and counts, sorted by count descending then item ascending.
 * Borrowed until xap_mset_free. KX_NOTFOUND for a slot not requested. */
enum kx_status xap_mset_facets(const xap_mset *m, unsigned slot,
                               const char *const **items,
                               const unsigned long **counts, size_t *n);

/* The number of documents the facets counted, and whether that was every
 * matching document (1) or the best of more (0). 0 and 1 without facets. */
unsigned long xap_mset_facet_docs(const xap_mset *m);
int xap_mset_facets_exact(const xap_mset *m);

/* ---- stemming ---------------------------------------------------------- */

/* Stemmer for a language name Xapian knows ("english"). */
enum kx_status xap_stemmer_new(const char *lang, xap_stemmer **out);
void xap_stemmer_free(xap_stemmer *s);
/* Stems word into buf (NUL-terminated, truncated to n-1 bytes); returns the
 * number of bytes written to buf. Never fails: on error the word is copied
 * as it is. */
size_t xap_stem(xap_stemmer *s, const char *word, size_t len, char *buf,
                size_t n);

#ifdef __cplusplus
}
#endif
#endif
