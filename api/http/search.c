/* search.c - GET /v1/search: full-text search with filters, snippets
 * and facet counts, cut to what the caller's role may see. */
#include "reply.h"
#include "util.h"
#include "server.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNIP_BEFORE 45   /* bytes of context before the first hit */
#define SNIP_LEN 240     /* bytes of text in a snippet */
#define SNIP_SPANS 64
#define FACET_MAX 300    /* items per facet */

struct span {
    size_t off, len;
};

struct snip_ctx {
    const char *base;
    char *const *terms;
    size_t *term_len;
    size_t nterms;
    struct span spans[SNIP_SPANS];
    size_t n;
};

static int snip_token(void *vctx, const struct text_token *tok)
{
    struct snip_ctx *c = vctx;
    size_t off = (size_t)(tok->raw - c->base);

    /* The snippet ends SNIP_LEN bytes after it starts, at most
     * SNIP_BEFORE before the first word found: nothing far later shows
     * (the margin covers tokens emitted a little out of text order). */
    if (c->n && off >= c->spans[0].off + SNIP_BEFORE + SNIP_LEN)
        return 1;
    for (size_t i = 0; i < c->nterms; i++) {
        if (c->term_len[i] != tok->len ||
            memcmp(c->terms[i], tok->s, tok->len) != 0)
            continue;
        if (c->n == SNIP_SPANS)
            return 1;
        c->spans[c->n].off = off;
        c->spans[c->n].len = tok->raw_len;
        c->n++;
        break;
    }
    return 0;
}

static int span_cmp(const void *a, const void *b)
{
    const struct span *x = a, *y = b;

    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    return x->len < y->len ? 1 : x->len > y->len ? -1 : 0;
}

/* Moves i back (or forward) to the start of a UTF-8 character. */
static size_t char_start(const char *s, size_t i, size_t len, int forward)
{
    while (i > 0 && i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
        i += forward ? 1 : (size_t)-1;
    return i;
}

static void put_escaped(char **p, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *e = NULL;

        switch (s[i]) {
        case '&': e = "&amp;"; break;
        case '<': e = "&lt;"; break;
        case '>': e = "&gt;"; break;
        case '"': e = "&quot;"; break;
        case '\'': e = "&#39;"; break;
        default: *(*p)++ = s[i]; continue;
        }
        memcpy(*p, e, strlen(e));
        *p += strlen(e);
    }
}

/* A piece of text around the first query word, HTML-escaped, with the
 * words found marked <mark>...</mark>. New string, the caller's. */
static char *snippet(text_tokenizer *tok, const char *text, char *const *terms,
                     size_t nterms)
{
    struct snip_ctx c;
    size_t len, start = 0, end;
    unsigned pos = 0;
    char *out, *p;

    if (!text)
        return strdup("");
    len = strlen(text);
    memset(&c, 0, sizeof c);
    c.base = text;
    c.terms = terms;
    c.nterms = nterms;
    if (nterms) {
        if (!(c.term_len = malloc(nterms * sizeof *c.term_len)))
            return NULL;
        for (size_t i = 0; i < nterms; i++)
            c.term_len[i] = strlen(terms[i]);
        text_tokenize(tok, text, len, TEXT_UNIGRAMS | TEXT_STEM, &pos,
                      snip_token, &c);
        free(c.term_len);
    }
    qsort(c.spans, c.n, sizeof *c.spans, span_cmp);
    if (c.n && c.spans[0].off > SNIP_BEFORE)
        start = char_start(text, c.spans[0].off - SNIP_BEFORE, len, 1);
    end = start + SNIP_LEN < len ? char_start(text, start + SNIP_LEN, len, 0)
                                 : len;
    /* Escaping grows a byte to at most six; marks add 13 per span. */
    if (!(out = malloc((end - start) * 6 + c.n * 13 + 16)))
        return NULL;
    p = out;
    if (start > 0) {
        memcpy(p, "\xe2\x80\xa6", 3); /* … */
        p += 3;
    }
    for (size_t at = start, i = 0; at < end;) {
        size_t s, e;

        while (i < c.n && c.spans[i].off + c.spans[i].len <= at)
            i++;
        if (i == c.n || c.spans[i].off >= end) {
            put_escaped(&p, text + at, end - at);
            break;
        }
        s = c.spans[i].off > at ? c.spans[i].off : at;
        e = c.spans[i].off + c.spans[i].len;
        /* Overlapping bigrams (催化, 化剂) merge into one mark. */
        while (i + 1 < c.n && c.spans[i + 1].off <= e) {
            i++;
            if (c.spans[i].off + c.spans[i].len > e)
                e = c.spans[i].off + c.spans[i].len;
        }
        if (e > end)
            e = end;
        put_escaped(&p, text + at, s - at);
        memcpy(p, "<mark>", 6);
        p += 6;
        put_escaped(&p, text + s, e - s);
        memcpy(p, "</mark>", 7);
        p += 7;
        at = e;
        i++;
    }
    if (end < len) {
        memcpy(p, "\xe2\x80\xa6", 3);
        p += 3;
    }
    *p = '\0';
    return out;
}

static const char *facet_names[XAP_SLOT_LAST] = {
    [XAP_SLOT_KIND] = "kind",
    [XAP_SLOT_REGION] = "region",
    [XAP_SLOT_INDUSTRY] = "industry",
    [XAP_SLOT_DISCIPLINE] = "discipline",
};

static json_object *facets_json(const taxo *tx,
                                const struct match_search_result *res)
{
    static const int taxo_of[XAP_SLOT_LAST] = {
        [XAP_SLOT_KIND] = -1,
        [XAP_SLOT_REGION] = TAXO_REGION,
        [XAP_SLOT_INDUSTRY] = TAXO_INDUSTRY,
        [XAP_SLOT_DISCIPLINE] = TAXO_DISCIPLINE,
    };
    json_object *o = json_object_new_object();

    for (unsigned s = XAP_SLOT_KIND; s <= XAP_SLOT_DISCIPLINE; s++) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; i < res->nfacets[s] && i < FACET_MAX; i++) {
            const struct match_facet *f = &res->facets[s][i];
            json_object *e = json_object_new_object();

            json_object_object_add(e, "value", json_object_new_string(f->item));
            json_object_object_add(e, "count",
                                   json_object_new_int64((int64_t)f->count));
            if (taxo_of[s] >= 0) {
                const char *n = taxo_name(tx, taxo_of[s], f->item);
                json_object_object_add(e, "name",
                                       json_object_new_string(n ? n : ""));
                if ((n = taxo_name_en(tx, taxo_of[s], f->item)))
                    json_object_object_add(e, "name_en",
                                           json_object_new_string(n));
                json_object_object_add(e, "level", json_object_new_int(
                    taxo_level(tx, taxo_of[s], f->item)));
            }
            json_object_array_add(a, e);
        }
        json_object_object_add(o, facet_names[s], a);
    }
    return o;
}

struct ents {
    char **v;
    size_t n, cap;
    enum kx_status st;
};

static int ents_add(void *vctx, const char *key)
{
    struct ents *e = vctx;

    if (strncmp(key, "enterprise:", 11) != 0)
        return 0;
    if (kx_grow(&e->v, &e->cap, e->n + 2, sizeof *e->v, 64) != 0) {
        e->st = KX_NOMEM;
        return 1;
    }
    if (!(e->v[e->n] = strdup(key))) {
        e->st = KX_NOMEM;
        return 1;
    }
    e->v[++e->n] = NULL;
    return 0;
}

static void ents_free(struct ents *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i]);
    free(e->v);
}

static void add_str(json_object *o, const char *k, const char *v)
{
    if (v)
        json_object_object_add(o, k, json_object_new_string(v));
}

static json_object *hit_json(struct api_req *r, store_txn *t,
                             struct api_slot *sl,
                             const struct match_search_result *res, size_t i)
{
    const struct match_hit *h = &res->hits[i];
    struct kx_record *rec = NULL;
    json_object *o;
    char *snip;

    if (api_record_load(t, h->key, &rec, NULL) != KX_OK)
        return NULL; /* Xapian a step ahead of this read */
    /* The query filters already keep out what the role may not see; this
     * is the second lock on the door. */
    if (rec->kind == KX_KIND_NEED &&
        api_need_access(t, r->srv->tx, &r->who, rec) != KX_OK) {
        record_free(rec);
        return NULL;
    }
    o = json_object_new_object();
    add_str(o, "key", rec->key);
    add_str(o, "kind", record_kind_name(rec->kind));
    add_str(o, "id", rec->id);
    add_str(o, "name", rec->name);
    add_str(o, "org", rec->org);
    add_str(o, "title", rec->title);
    add_str(o, "region", rec->region);
    if (rec->region)
        add_str(o, "region_name", api_region_name(r->srv->tx, rec->region));
    add_str(o, "updated", rec->updated);
    if (rec->kind == KX_KIND_NEED) {
        add_str(o, "status", rec->status ? rec->status : "open");
        add_str(o, "visibility", rec->visibility ? rec->visibility : "public");
        add_str(o, "enterprise", rec->enterprise);
    }
    json_object_object_add(o, "score", json_object_new_double(
                                           (double)(long)(h->score * 1e4) / 1e4));
    snip = snippet(sl->tok, rec->text ? rec->text : rec->name, res->terms,
                   res->nterms);
    json_object_object_add(o, "snippet", json_object_new_string(snip ? snip : ""));
    free(snip);
    record_free(rec);
    return o;
}

enum MHD_Result api_route_search(struct api_req *r)
{
    static const char *const allowed[] = {
        "q", "kind", "region", "industry", "discipline", "tag", "status",
        "page", "per_page", "facets", "sort", NULL};
    static const char *const partner_kinds[] = {"expert", "academician",
                                                "society", "result", NULL};
    struct match_search_opts so;
    struct match_search_result *res = NULL;
    struct ents ents = {NULL, 0, 0, KX_OK};
    struct kx_error err;
    struct api_slot *sl;
    store_txn *t = NULL;
    char kbuf[256], ibuf[512], dbuf[512], tag[KX_KEY_MAX];
    unsigned page, per, facets;
    size_t nk, ni, nd;
    const char *q = api_req_param(r, "q");
    const char *sort = api_req_param(r, "sort");
    json_object *o, *hits;
    enum kx_status st;
    int tries = 0;

    kx_error_clear(&err);
    memset(&so, 0, sizeof so);
    if ((st = api_req_params_check(r, allowed, &err)) != KX_OK ||
        (st = api_req_uint(r, "page", 1, 1, 1000, &page, &err)) != KX_OK ||
        (st = api_req_uint(r, "per_page", 20, 1, 100, &per, &err)) != KX_OK ||
        (st = api_req_uint(r, "facets", 1, 0, 1, &facets, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    if (q && strlen(q) > 1000)
        return api_reply_error(r, KX_TOOLARGE, "q",
                               "the query is longer than 1000 bytes");
    nk = api_req_list(r, "kind", kbuf, sizeof kbuf, so.kinds, KX_KIND_LAST - 1);
    ni = api_req_list(r, "industry", ibuf, sizeof ibuf, so.industries,
                      MATCH_SEARCH_MAX_FILTER - 1);
    nd = api_req_list(r, "discipline", dbuf, sizeof dbuf, so.disciplines,
                      MATCH_SEARCH_MAX_FILTER - 1);
    if (nk >= KX_KIND_LAST || ni >= MATCH_SEARCH_MAX_FILTER ||
        nd >= MATCH_SEARCH_MAX_FILTER)
        return api_reply_error(r, KX_BADINPUT,
                               nk >= KX_KIND_LAST ? "kind"
                               : ni >= MATCH_SEARCH_MAX_FILTER ? "industry"
                                                               : "discipline",
                               "too many values");
    so.kinds[nk] = NULL;
    so.industries[ni] = NULL;
    so.disciplines[nd] = NULL;
    so.query = q ? q : "";
    so.region = api_req_param(r, "region");
    so.tag = api_req_param(r, "tag");
    so.need_status = api_req_param(r, "status");
    if (so.need_status && strcmp(so.need_status, "open") != 0 &&
        strcmp(so.need_status, "matched") != 0 &&
        strcmp(so.need_status, "closed") != 0)
        return api_reply_error(r, KX_BADINPUT, "status",
                               "expected open, matched or closed");
    /* Words rank by relevance; browsing without words shows the newest
     * first (a liaison's page opens on the needs that came in last). */
    if (sort && strcmp(sort, "newest") != 0 && strcmp(sort, "relevance") != 0)
        return api_reply_error(r, KX_BADINPUT, "sort",
                               "expected newest or relevance");
    so.newest = sort ? strcmp(sort, "newest") == 0 : !q || !*q;
    so.offset = (page - 1) * per;
    so.count = per;
    so.facets = (int)facets;

    switch (r->who.role) {
    case API_ROLE_ENTERPRISE:
        /* Enterprises look for partners; their own needs are at
         * GET /v1/needs. */
        for (size_t i = 0; i < nk; i++) {
            enum kx_kind k = record_kind_parse(so.kinds[i]);
            if (k != KX_KIND_LAST && !(MATCH_PARTNER_KINDS & (1u << k)))
                return api_reply_error(r, KX_FORBIDDEN, "kind",
                                       "an enterprise token searches "
                                       "partners (expert, academician, "
                                       "society, result); its own needs are "
                                       "at GET /v1/needs");
        }
        if (nk == 0)
            for (size_t i = 0; partner_kinds[i]; i++)
                so.kinds[i] = partner_kinds[i];
        so.public_only = 1;
        break;
    case API_ROLE_LIAISON:
        so.public_only = 1;
        so.need_region = r->who.region;
        if ((st = store_txn_begin(r->srv->st, 0, &t)) != KX_OK)
            return api_reply_error(r, st, "", "%s", store_errmsg());
        snprintf(tag, sizeof tag, "R:%s", r->who.region);
        st = store_posting_each(t, tag, ents_add, &ents);
        store_txn_abort(t);
        t = NULL;
        if (st == KX_OK)
            st = ents.st;
        if (st != KX_OK) {
            ents_free(&ents);
            return api_reply_error(r, st, "", "%s", store_errmsg());
        }
        so.need_enterprises = (const char *const *)ents.v;
        break;
    default:
        break;
    }
    if (!(sl = api_req_slot(r, &st))) {
        ents_free(&ents);
        return api_reply_error(r, st, "", "cannot open a reader");
    }
    do {
        kx_error_clear(&err);
        st = match_search(sl->db, sl->tok, r->srv->tx, &so, &res, &err);
    } while (api_slot_stale(sl, st, &tries));
    ents_free(&ents);
    if (st != KX_OK)
        return api_reply_kx(r, st, &err);
    if ((st = store_txn_begin(r->srv->st, 0, &t)) != KX_OK) {
        match_search_result_free(res);
        return api_reply_error(r, st, "", "%s", store_errmsg());
    }
    o = json_object_new_object();
    hits = json_object_new_array();
    for (size_t i = 0; i < res->nhits; i++) {
        json_object *h = hit_json(r, t, sl, res, i);
        if (h)
            json_object_array_add(hits, h);
    }
    store_txn_abort(t);
    json_object_object_add(o, "query", json_object_new_string(so.query));
    json_object_object_add(o, "total", json_object_new_int64((int64_t)res->total));
    json_object_object_add(o, "total_exact", json_object_new_boolean(res->total_exact));
    json_object_object_add(o, "sort", json_object_new_string(
                               so.newest ? "newest" : "relevance"));
    json_object_object_add(o, "page", json_object_new_int((int)page));
    json_object_object_add(o, "per_page", json_object_new_int((int)per));
    json_object_object_add(o, "hits", hits);
    if (facets) {
        json_object_object_add(o, "facets", facets_json(r->srv->tx, res));
        /* Facets count the best matches only (MATCH_SEARCH_FACET_DOCS):
         * say how many, and whether that was all of them. */
        json_object_object_add(o, "facets_counted", json_object_new_int64(
                                   (int64_t)res->facet_docs));
        json_object_object_add(o, "facets_exact",
                               json_object_new_boolean(res->facets_exact));
    }
    match_search_result_free(res);
    return api_reply_json(r, 200, o);
}
