/* search.h - free-text search over the index with filters, used by the CLI
 * and the HTTP API alike. Queries are built term by term from our own
 * tokeniser, never parsed, so no input can fail to parse. */
#ifndef SEARCH_H
#define SEARCH_H

#include <stddef.h>

#include "index.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MATCH_SEARCH_MAX_FILTER 8
/* Facets count this many best matches by default (facet_docs = 0). */
#define MATCH_SEARCH_FACET_DOCS 1000

struct match_search_opts {
    const char *query;            /* user text, any language; may be "" */
    const char *kinds[KX_KIND_LAST]; /* NULL-terminated; none = all kinds */
    const char *region;           /* region code (matches everything below) */
    const char *industries[MATCH_SEARCH_MAX_FILTER];  /* NULL-terminated */
    const char *disciplines[MATCH_SEARCH_MAX_FILTER]; /* NULL-terminated */
    const char *tag;              /* exact tag, or NULL */
    const char *need_status;      /* "open", ... for needs, or NULL */
    int public_only;              /* hide confidential needs */
    int newest;                   /* 1: newest first (the records'
                                     "updated"), ties by relevance;
                                     0: by relevance */
    unsigned offset, count;       /* page */
    int facets;                   /* count kind/region/industry/discipline */
    unsigned facet_docs;          /* ... over this many best matches;
                                     0: MATCH_SEARCH_FACET_DOCS */
    /* Role scope on needs only (records of other kinds pass): when either
     * is set, a need must lie under need_region or belong to one of
     * need_enterprises ("enterprise:ID", NULL-terminated; may be NULL). */
    const char *need_region;
    const char *const *need_enterprises;
};

struct match_hit {
    char key[KX_KEY_MAX];
    double weight;                /* BM25 weight */
    double score;                 /* weight / max possible, in [0, 1] */
};

struct match_facet {
    char item[32];
    unsigned long count;
};

struct match_search_result {
    struct match_hit *hits;
    size_t nhits;
    unsigned long total;          /* number of matches, estimated above
                                     facet_docs (MATCH_SEARCH_FACET_DOCS) */
    int total_exact;              /* 1 if total is exact, 0 an estimate */
    struct match_facet *facets[XAP_SLOT_LAST];
    size_t nfacets[XAP_SLOT_LAST];
    unsigned long facet_docs;     /* matches the facets counted */
    int facets_exact;             /* 1: that was every match */
    char **terms;                 /* the query terms, for highlighting */
    size_t nterms;
};

/* Runs a search on db (a reader or the writer's handle; tok for the query
 * text). Bad filter codes give KX_BADINPUT with err naming the field.
 * *out is the caller's (match_search_result_free). */
enum kx_status match_search(xap_db *db, text_tokenizer *tok, const taxo *tx,
                            const struct match_search_opts *o,
                            struct match_search_result **out,
                            struct kx_error *err);
void match_search_result_free(struct match_search_result *r);

/* Adds the ranking terms of free text to q with weight w each occurrence
 * (stemmed, stopwords dropped, CJK bigrams). Returns the number of terms. */
size_t match_query_add_text(xap_query *q, text_tokenizer *tok,
                            const char *text, double w);

#ifdef __cplusplus
}
#endif
#endif
