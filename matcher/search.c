/* search.c - free-text search with filters and facets over the index. */
#include "search.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Filter groups: terms within one are OR-ed, groups are AND-ed. */
enum { G_KIND = 1, G_REGION, G_INDUSTRY, G_DISCIPLINE, G_TAG, G_STATUS,
       G_VISIBILITY, G_SCOPE };

struct qterm_ctx {
    xap_query *q;
    double w;
    size_t n;
    char buf[80];
    char ***collect;
    size_t *ncollect;
};

static int add_qterm(void *vctx, const struct text_token *tok)
{
    struct qterm_ctx *c = vctx;

    if (tok->len >= sizeof c->buf)
        return 0;
    memcpy(c->buf, tok->s, tok->len);
    c->buf[tok->len] = '\0';
    if (xap_query_add_term(c->q, c->buf, c->w) == KX_OK)
        c->n++;
    if (c->collect) {
        char **v = realloc(*c->collect, (*c->ncollect + 1) * sizeof *v);
        if (v) {
            *c->collect = v;
            if ((v[*c->ncollect] = strdup(c->buf)) != NULL)
                (*c->ncollect)++;
        }
    }
    return 0;
}

static size_t add_text(xap_query *q, text_tokenizer *tok, const char *text,
                       double w, char ***collect, size_t *ncollect)
{
    struct qterm_ctx c = {q, w, 0, {0}, collect, ncollect};
    unsigned pos = 0;

    if (!text || !*text)
        return 0;
    text_tokenize(tok, text, strlen(text), TEXT_STEM | TEXT_STOPWORDS, &pos,
                  add_qterm, &c);
    return c.n;
}

/* The terms of one excluded word. */
#define EXCL_MAX 32
struct excl_ctx {
    char terms[EXCL_MAX][80];
    size_t n;
};

static int add_excl(void *vctx, const struct text_token *tok)
{
    struct excl_ctx *c = vctx;

    if (c->n < EXCL_MAX && tok->len < sizeof c->terms[0]) {
        memcpy(c->terms[c->n], tok->s, tok->len);
        c->terms[c->n++][tok->len] = '\0';
    }
    return 0;
}

/* Bytes of the space at p: ASCII white space or the ideographic space
 * U+3000; 0 if p is not one. */
static size_t space_len(const char *p)
{
    if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        return 1;
    return strncmp(p, "\xe3\x80\x80", 3) == 0 ? 3 : 0;
}

/* The search input: words between spaces. A word written -word (ASCII or
 * full-width minus, U+FF0D) excludes the documents that hold it, that is
 * all of its terms (a CJK word is its bigrams), and is neither ranked nor
 * highlighted; every other word ranks as text. Returns the number of
 * ranking terms; *st gets KX_NOMEM if memory ran out. */
static size_t add_query(xap_query *q, text_tokenizer *tok, const char *text,
                        char ***collect, size_t *ncollect, enum kx_status *st)
{
    struct kx_buf rest = {0};
    const char *p = text ? text : "";
    size_t n;

    *st = KX_OK;
    while (*p) {
        const char *w;
        size_t sp, minus = 0;

        while ((sp = space_len(p)) != 0)
            p += sp;
        if (!*p)
            break;
        w = p;
        while (*p && !space_len(p))
            p++;
        if (*w == '-')
            minus = 1;
        else if (strncmp(w, "\xef\xbc\x8d", 3) == 0)
            minus = 3;
        if (minus && w + minus < p) {
            struct excl_ctx ec;
            const char *ptr[EXCL_MAX];
            unsigned pos = 0;

            ec.n = 0;
            text_tokenize(tok, w + minus, (size_t)(p - w - minus),
                          TEXT_STEM | TEXT_STOPWORDS, &pos, add_excl, &ec);
            for (size_t i = 0; i < ec.n; i++)
                ptr[i] = ec.terms[i];
            if (ec.n && xap_query_add_exclude_all(q, ptr, ec.n) == KX_NOMEM)
                *st = KX_NOMEM;
            continue;
        }
        if (rest.n)
            kx_buf_puts(&rest, " ");
        kx_buf_add(&rest, w, (size_t)(p - w));
    }
    if (rest.oom)
        *st = KX_NOMEM;
    n = rest.n ? add_text(q, tok, rest.p, 1.0, collect, ncollect) : 0;
    kx_buf_free(&rest);
    return n;
}

size_t match_query_add_text(xap_query *q, text_tokenizer *tok,
                            const char *text, double w)
{
    return add_text(q, tok, text, w, NULL, NULL);
}

static enum kx_status add_filter(xap_query *q, int group, const char *prefix,
                                 const char *code)
{
    char term[128];
    int n = snprintf(term, sizeof term, "%s%s", prefix, code);

    if (n < 0 || (size_t)n >= sizeof term)
        return KX_BADINPUT;
    return xap_query_add_filter(q, group, term);
}

static enum kx_status add_codes(xap_query *q, const taxo *tx,
                                enum taxo_kind k, int group,
                                const char *prefix, const char *const *codes,
                                const char *field, struct kx_error *err)
{
    for (size_t i = 0; i < MATCH_SEARCH_MAX_FILTER && codes[i]; i++) {
        if (!taxo_valid(tx, k, codes[i]))
            return kx_error_set(err, KX_BADINPUT, field,
                                "unknown %s code \"%s\"",
                                k == TAXO_INDUSTRY ? "GB/T 4754-2017 industry"
                                                   : "NSFC discipline",
                                codes[i]);
        enum kx_status st = add_filter(q, group, prefix, codes[i]);
        if (st != KX_OK)
            return st;
    }
    return KX_OK;
}

static enum kx_status copy_facets(struct match_search_result *r,
                                  const xap_mset *m, unsigned slot)
{
    const char *const *items;
    const unsigned long *counts;
    size_t n;
    enum kx_status st = xap_mset_facets(m, slot, &items, &counts, &n);

    if (st != KX_OK)
        return st;
    if (n == 0)
        return KX_OK;
    r->facets[slot] = calloc(n, sizeof *r->facets[slot]);
    if (!r->facets[slot])
        return KX_NOMEM;
    for (size_t i = 0; i < n; i++) {
        snprintf(r->facets[slot][i].item, sizeof r->facets[slot][i].item,
                 "%s", items[i]);
        r->facets[slot][i].count = counts[i];
    }
    r->nfacets[slot] = n;
    return KX_OK;
}

enum kx_status match_search(xap_db *db, text_tokenizer *tok, const taxo *tx,
                            const struct match_search_opts *o,
                            struct match_search_result **out,
                            struct kx_error *err)
{
    struct match_search_result *r = NULL;
    xap_query *q = NULL;
    xap_mset *m = NULL;
    double maxw;
    size_t nterms;
    enum kx_status st;

    *out = NULL;
    if ((st = xap_query_new(&q)) != KX_OK)
        return st;
    r = calloc(1, sizeof *r);
    if (!r) {
        st = KX_NOMEM;
        goto out;
    }
    nterms = add_query(q, tok, o->query, &r->terms, &r->nterms, &st);
    if (st != KX_OK)
        goto out;
    /* Short input reads as "all of these words": with more than two terms
     * ask for most of them, so one common bigram cannot flood the page. */
    if (nterms > 2)
        xap_query_set_min_match(q, (unsigned)ceil(nterms * 0.6));
    /* No words and no filters is browsing everything the caller may see
     * (an admin's liaison page), not an empty page. */
    xap_query_set_match_all(q, 1);
    if (o->newest && (st = xap_query_set_sort(q, XAP_SLOT_UPDATED, 1)) != KX_OK)
        goto out;
    for (size_t i = 0; i < KX_KIND_LAST && o->kinds[i]; i++) {
        if (record_kind_parse(o->kinds[i]) == KX_KIND_LAST) {
            st = kx_error_set(err, KX_BADINPUT, "kind",
                              "unknown kind \"%s\" (expected expert, "
                              "academician, society, enterprise, need or "
                              "result)", o->kinds[i]);
            goto out;
        }
        if ((st = add_filter(q, G_KIND, "XK", o->kinds[i])) != KX_OK)
            goto out;
    }
    if (o->region) {
        if (!taxo_valid(tx, TAXO_REGION, o->region)) {
            st = kx_error_set(err, KX_BADINPUT, "region",
                              "unknown GB/T 2260 region code \"%s\"",
                              o->region);
            goto out;
        }
        if ((st = add_filter(q, G_REGION, "XR", o->region)) != KX_OK)
            goto out;
    }
    if ((st = add_codes(q, tx, TAXO_INDUSTRY, G_INDUSTRY, "XI",
                        o->industries, "industry", err)) != KX_OK ||
        (st = add_codes(q, tx, TAXO_DISCIPLINE, G_DISCIPLINE, "XD",
                        o->disciplines, "discipline", err)) != KX_OK)
        goto out;
    if (o->tag) {
        char low[128];
        size_t i;
        for (i = 0; o->tag[i] && i + 1 < sizeof low; i++)
            low[i] = (char)((o->tag[i] >= 'A' && o->tag[i] <= 'Z')
                                ? o->tag[i] + 32 : o->tag[i]);
        low[i] = '\0';
        if ((st = add_filter(q, G_TAG, "XT", low)) != KX_OK)
            goto out;
    }
    if (o->need_status &&
        (st = add_filter(q, G_STATUS, "XS", o->need_status)) != KX_OK)
        goto out;
    if (o->public_only) {
        /* Records that are not needs carry no visibility term: exclude the
         * confidential ones instead of requiring "public". */
        if ((st = xap_query_add_exclude(q, "XVconfidential")) != KX_OK)
            goto out;
    }
    if (o->need_region || o->need_enterprises) {
        /* One OR group: any other kind passes; a need passes by its region
         * (XR holds every ancestor) or by its enterprise (XF). */
        for (int k = 0; k < KX_KIND_LAST; k++)
            if (k != KX_KIND_NEED &&
                (st = add_filter(q, G_SCOPE, "XK", record_kind_name(k))) !=
                    KX_OK)
                goto out;
        if (o->need_region) {
            if (!taxo_valid(tx, TAXO_REGION, o->need_region)) {
                st = kx_error_set(err, KX_BADINPUT, "region",
                                  "unknown GB/T 2260 region code \"%s\"",
                                  o->need_region);
                goto out;
            }
            if ((st = add_filter(q, G_SCOPE, "XR", o->need_region)) != KX_OK)
                goto out;
        }
        for (size_t i = 0; o->need_enterprises && o->need_enterprises[i]; i++)
            if ((st = add_filter(q, G_SCOPE, "XF", o->need_enterprises[i])) !=
                KX_OK)
                goto out;
    }
    if (o->facets) {
        /* Counting every match means scoring every match: a common word
         * matches most of the index. The best ones are what a reader
         * narrows down from, and cost a bounded amount. */
        if ((st = xap_query_set_facet_limit(
                 q, o->facet_docs ? o->facet_docs : MATCH_SEARCH_FACET_DOCS)) !=
            KX_OK)
            goto out;
        for (unsigned s = XAP_SLOT_KIND; s <= XAP_SLOT_DISCIPLINE; s++)
            if ((st = xap_query_add_facet(q, s)) != KX_OK)
                goto out;
    }
    /* The total is counted the same way whatever the page shows (facets
     * or not, any page size): exactly up to the facet limit, estimated
     * above it, and it says which. */
    st = xap_query_run(db, q, o->offset, o->count,
                       (o->facet_docs ? o->facet_docs
                                      : MATCH_SEARCH_FACET_DOCS) + 1, &m);
    if (st != KX_OK) {
        kx_error_set(err, st, "", "search failed: %s", xap_errmsg(db));
        goto out;
    }
    r->nhits = xap_mset_size(m);
    r->total = xap_mset_estimated(m);
    r->total_exact = xap_mset_estimated_exact(m);
    r->hits = calloc(r->nhits ? r->nhits : 1, sizeof *r->hits);
    if (!r->hits) {
        st = KX_NOMEM;
        goto out;
    }
    maxw = xap_mset_max_possible(m);
    for (size_t i = 0; i < r->nhits; i++) {
        snprintf(r->hits[i].key, sizeof r->hits[i].key, "%s",
                 xap_mset_data(m, i));
        r->hits[i].weight = xap_mset_weight(m, i);
        r->hits[i].score = maxw > 0 ? r->hits[i].weight / maxw : 0;
    }
    if (o->facets) {
        r->facet_docs = xap_mset_facet_docs(m);
        r->facets_exact = xap_mset_facets_exact(m);
        for (unsigned s = XAP_SLOT_KIND; s <= XAP_SLOT_DISCIPLINE; s++)
            if ((st = copy_facets(r, m, s)) != KX_OK)
                goto out;
    }
    *out = r;
    r = NULL;
out:
    xap_mset_free(m);
    xap_query_free(q);
    match_search_result_free(r);
    return st;
}

void match_search_result_free(struct match_search_result *r)
{
    if (!r)
        return;
    free(r->hits);
    for (unsigned s = 0; s < XAP_SLOT_LAST; s++)
        free(r->facets[s]);
    for (size_t i = 0; i < r->nterms; i++)
        free(r->terms[i]);
    free(r->terms);
    free(r);
}
