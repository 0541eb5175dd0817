/* match.c - ranking partners for a need and needs for a partner: query
 * building, the candidate pool, full scoring and the explanation. */
#include "match.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Inferred codes kept per taxonomy. */
#define INFER_MAX 6
/* Candidate needs rescored per reverse match, at the least. */
#define REVERSE_MIN_POOL 30

struct match_ctx {
    store *st;
    xap_db *db;
    text_tokenizer *tok;
    const taxo *tx;
    const match_infer *infer;
    struct match_config cfg;
};

enum kx_status match_ctx_new(store *st, xap_db *db, text_tokenizer *tok,
                             const taxo *tx, const match_infer *infer,
                             const struct match_config *cfg,
                             match_ctx **out)
{
    match_ctx *m = calloc(1, sizeof *m);

    *out = NULL;
    if (!m)
        return KX_NOMEM;
    m->st = st;
    m->db = db;
    m->tok = tok;
    m->tx = tx;
    m->infer = infer;
    m->cfg = *cfg;
    *out = m;
    return KX_OK;
}

void match_ctx_free(match_ctx *m)
{
    free(m);
}

void match_result_free(struct match_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].name);
        free(r->v[i].org);
    }
    free(r->v);
    free(r);
}

/* The taxonomy's own copy of a code, so it outlives any record. */
static const char *taxo_own(const taxo *t, enum taxo_kind k, const char *code)
{
    const char *anc[1];

    return taxo_ancestors(t, k, code, anc, 1) ? anc[0] : NULL;
}

/* ---- the need ------------------------------------------------------------ */

struct need {
    char key[KX_KEY_MAX];
    const char *name, *text, *region, *enterprise;
    const struct kx_strs *tags;
    char ent_name[256];
    struct match_codes ind, dis;
    struct kx_record *rec, *ent; /* owned */
    const struct kx_record *r;   /* the need: rec, or the caller's */
};

static void need_free(struct need *n)
{
    record_free(n->rec);
    record_free(n->ent);
}

static enum kx_status load_record(store_txn *t, const char *key,
                                  struct kx_record **out)
{
    const char *json;
    size_t len;
    enum kx_status st = store_record_get(t, key, &json, &len);

    *out = NULL;
    if (st != KX_OK)
        return st;
    return record_parse(json, len, NULL, out, NULL) == KX_OK ? KX_OK
                                                             : KX_CORRUPT;
}

/* A candidate: its profile (no JSON to parse), or the whole record if the
 * store has no profiles (written before them and open read-only). */
static enum kx_status load_candidate(store_txn *t, const char *key,
                                     struct kx_record **out)
{
    const void *p;
    size_t len;
    enum kx_status st = store_profile_get(t, key, &p, &len);

    if (st == KX_NOTFOUND)
        return load_record(t, key, out);
    *out = NULL;
    if (st != KX_OK)
        return st;
    return record_from_profile(p, len, out);
}

static void add_codes(match_ctx *m, struct match_codes *c, enum taxo_kind k,
                      const char *const *codes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *own = taxo_own(m->tx, k, codes[i]);
        if (own)
            match_codes_add(c, own, 1.0);
    }
}

static void infer_codes(match_ctx *m, struct need *n, int baseline)
{
    if (baseline || !m->infer || m->cfg.taxo_inferred <= 0)
        return;
    match_infer_codes(m->infer, m->tok, n->name, m->cfg.taxo_inferred,
                      INFER_MAX, &n->ind, &n->dis);
    match_infer_codes(m->infer, m->tok, n->text, m->cfg.taxo_inferred,
                      INFER_MAX, &n->ind, &n->dis);
}

static enum kx_status need_load(match_ctx *m, store_txn *t, const char *key,
                                const struct kx_record *held, int baseline,
                                struct need *n, struct kx_error *err)
{
    const struct kx_record *rec;
    enum kx_kind kind;
    enum kx_status st;

    memset(n, 0, sizeof *n);
    if ((st = record_key_parse(key, &kind, NULL, err)) != KX_OK)
        return st;
    if (kind != KX_KIND_NEED)
        return kx_error_set(err, KX_BADINPUT, "need",
                            "%s is not a need (expected need:ID)", key);
    st = held ? KX_OK : load_record(t, key, &n->rec);
    if (st == KX_NOTFOUND)
        return kx_error_set(err, st, "need",
                            store_record_deleted(t, key) ? "%s was deleted"
                                                : "no record %s",
                            key);
    if (st != KX_OK)
        return kx_error_set(err, st, "need", "cannot read %s", key);
    rec = n->r = held ? held : n->rec;
    snprintf(n->key, sizeof n->key, "%s", key);
    n->name = rec->name;
    n->text = rec->text;
    n->tags = &rec->tags;
    n->region = rec->region;
    n->enterprise = rec->enterprise;
    if (n->enterprise && load_record(t, n->enterprise, &n->ent) == KX_OK) {
        snprintf(n->ent_name, sizeof n->ent_name, "%s",
                 n->ent->name ? n->ent->name : "");
        if (!n->region)
            n->region = n->ent->region;
    }
    add_codes(m, &n->ind, TAXO_INDUSTRY, rec->industries.v,
              rec->industries.n);
    add_codes(m, &n->dis, TAXO_DISCIPLINE, rec->disciplines.v,
              rec->disciplines.n);
    infer_codes(m, n, baseline);
    return KX_OK;
}

static enum kx_status need_adhoc(match_ctx *m, const struct match_request *r,
                                 struct need *n, struct kx_error *err)
{
    size_t ni = 0, nd = 0;

    memset(n, 0, sizeof *n);
    snprintf(n->key, sizeof n->key, "need:(text)");
    n->text = r->text;
    for (; ni < MATCH_MAX_CODES && r->industries[ni]; ni++)
        if (!taxo_valid(m->tx, TAXO_INDUSTRY, r->industries[ni]))
            return kx_error_set(err, KX_BADINPUT, "industry",
                                "unknown GB/T 4754-2017 industry code "
                                "\"%s\"", r->industries[ni]);
    for (; nd < MATCH_MAX_CODES && r->disciplines[nd]; nd++)
        if (!taxo_valid(m->tx, TAXO_DISCIPLINE, r->disciplines[nd]))
            return kx_error_set(err, KX_BADINPUT, "discipline",
                                "unknown NSFC discipline code \"%s\"",
                                r->disciplines[nd]);
    if (r->region && !taxo_valid(m->tx, TAXO_REGION, r->region))
        return kx_error_set(err, KX_BADINPUT, "region",
                            "unknown GB/T 2260 region code \"%s\"",
                            r->region);
    n->region = r->region;
    add_codes(m, &n->ind, TAXO_INDUSTRY, r->industries, ni);
    add_codes(m, &n->dis, TAXO_DISCIPLINE, r->disciplines, nd);
    infer_codes(m, n, r->baseline);
    return KX_OK;
}

/* ---- the query ----------------------------------------------------------- */

struct qterm {
    char *term;
    double w;      /* summed field weights, then damped */
    double idf;
};

struct qterms {
    struct qterm *v;
    size_t n, cap;
    enum kx_status st;
};

struct collect_ctx {
    struct qterms *q;
    double w;
};

static int collect_term(void *vctx, const struct text_token *tok)
{
    struct collect_ctx *c = vctx;
    struct qterms *q = c->q;

    if (tok->len >= 64)
        return 0;
    if (kx_grow(&q->v, &q->cap, q->n + 1, sizeof *q->v, 256) != 0) {
        q->st = KX_NOMEM;
        return 1;
    }
    q->v[q->n].term = strndup(tok->s, tok->len);
    if (!q->v[q->n].term) {
        q->st = KX_NOMEM;
        return 1;
    }
    q->v[q->n].w = c->w;
    q->v[q->n].idf = 0;
    q->n++;
    return 0;
}

static void collect(match_ctx *m, struct qterms *q, const char *s, double w)
{
    struct collect_ctx c = {q, w};
    unsigned pos = 0;

    if (s && *s && w > 0)
        text_tokenize(m->tok, s, strlen(s), TEXT_STEM | TEXT_STOPWORDS, &pos,
                      collect_term, &c);
}

static int by_term(const void *a, const void *b)
{
    return strcmp(((const struct qterm *)a)->term,
                  ((const struct qterm *)b)->term);
}

static int by_info_desc(const void *a, const void *b)
{
    const struct qterm *x = a, *y = b;
    double dx = x->w * x->idf, dy = y->w * y->idf;

    if (dx != dy)
        return dx < dy ? 1 : -1;
    return strcmp(x->term, y->term);
}

static void qterms_free(struct qterms *q)
{
    for (size_t i = 0; i < q->n; i++)
        free(q->v[i].term);
    free(q->v);
    memset(q, 0, sizeof *q);
}

/* Merges repeated terms, weighs them by idf, keeps the most informative
 * and sorts what is kept by term for lookups. */
static enum kx_status qterms_finish(match_ctx *m, struct qterms *q,
                                    size_t max, int damp)
{
    unsigned long ndocs = 0, tf;
    size_t out = 0;

    if (q->st != KX_OK)
        return q->st;
    if (xap_doccount(m->db, &ndocs) != KX_OK)
        return KX_XAPIAN;
    qsort(q->v, q->n, sizeof *q->v, by_term);
    for (size_t i = 0; i < q->n; i++) {
        if (out && strcmp(q->v[out - 1].term, q->v[i].term) == 0) {
            q->v[out - 1].w += q->v[i].w;
            free(q->v[i].term);
            continue;
        }
        q->v[out++] = q->v[i];
    }
    q->n = out;
    out = 0;
    for (size_t i = 0; i < q->n; i++) {
        if (xap_termfreq(m->db, q->v[i].term, &tf) != KX_OK || tf == 0) {
            free(q->v[i].term); /* in no document: no use to anyone */
            continue;
        }
        q->v[i].idf = log(1.0 + ((double)ndocs - tf + 0.5) / (tf + 0.5));
        /* A word repeated ten times is not ten times the need. */
        if (damp && q->v[i].w > 1)
            q->v[i].w = 1 + log(q->v[i].w);
        q->v[out++] = q->v[i];
    }
    q->n = out;
    qsort(q->v, q->n, sizeof *q->v, by_info_desc);
    for (size_t i = max; i < q->n; i++)
        free(q->v[i].term);
    if (q->n > max)
        q->n = max;
    qsort(q->v, q->n, sizeof *q->v, by_term);
    return KX_OK;
}

static const struct qterm *qterms_find(const struct qterms *q,
                                       const char *term)
{
    struct qterm key = {(char *)term, 0, 0};

    return bsearch(&key, q->v, q->n, sizeof *q->v, by_term);
}

/* Adds the need's codes (and their ancestors below the top level, at a
 * share of their depth) as ranking terms. */
static void add_code_terms(match_ctx *m, xap_query *q, enum taxo_kind k,
                           const struct match_codes *c)
{
    const char *prefix = k == TAXO_INDUSTRY ? "XI" : "XD";
    char term[64];

    for (size_t i = 0; i < c->n; i++) {
        const char *anc[8];
        size_t na = taxo_ancestors(m->tx, k, c->code[i], anc, 8);
        int top = taxo_level(m->tx, k, c->code[i]);

        for (size_t j = 0; j < na; j++) {
            int lv = taxo_level(m->tx, k, anc[j]);
            if (k == TAXO_INDUSTRY && lv < 2)
                break; /* a section is too broad to rank by */
            snprintf(term, sizeof term, "%s%s", prefix, anc[j]);
            xap_query_add_term(q, term, m->cfg.q_code * c->weight[i] *
                                            (double)lv / (double)top);
        }
    }
}

/* ---- scoring ------------------------------------------------------------- */

struct cand {
    struct match_entry e;
    struct kx_record *rec;  /* owned until the result is built */
    size_t hit;             /* index in the mset */
    double fit;             /* score before the profile, for aggregation */
    int excluded;
};

static int cand_by_key(const void *a, const void *b)
{
    return strcmp(((const struct cand *)a)->e.key,
                  ((const struct cand *)b)->e.key);
}

static int cand_by_score(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;

    if (x->excluded != y->excluded)
        return x->excluded - y->excluded;
    if (x->e.parts.score != y->e.parts.score)
        return x->e.parts.score < y->e.parts.score ? 1 : -1;
    return strcmp(x->e.key, y->e.key);
}

static int meet_by_credit(const void *a, const void *b)
{
    const struct match_meet *x = a, *y = b;

    if (x->credit != y->credit)
        return x->credit < y->credit ? 1 : -1;
    return x->level < y->level ? 1 : x->level > y->level ? -1 : 0;
}

static int strs_has(const struct kx_strs *s, const char *v)
{
    for (size_t i = 0; v && i < s->n; i++)
        if (strcmp(s->v[i], v) == 0)
            return 1;
    return 0;
}

/* Text, taxonomy and region of one candidate. */
static void score_fit(match_ctx *m, const struct need *n, struct cand *c,
                      double w, double upper, int baseline)
{
    struct match_meet mi[MATCH_MAX_CODES], md[MATCH_MAX_CODES], all[2 * MATCH_MAX_CODES];
    struct match_parts *p = &c->e.parts;
    const struct kx_record *r = c->rec;
    size_t na = 0;
    double si, sd;

    memset(p, 0, sizeof *p);
    c->e.bm25 = w;
    if (baseline) {
        p->raw[MATCH_TEXT] = upper > 0 ? w / upper : 0;
        p->applies[MATCH_TEXT] = 1;
        match_combine(&m->cfg, p);
        c->fit = p->score;
        return;
    }
    p->raw[MATCH_TEXT] = match_text_score(&m->cfg, w, upper);
    p->applies[MATCH_TEXT] = 1;

    si = match_taxo_kind_score(m->tx, &m->cfg, TAXO_INDUSTRY, &n->ind,
                               &r->industries, mi);
    sd = match_taxo_kind_score(m->tx, &m->cfg, TAXO_DISCIPLINE, &n->dis,
                               &r->disciplines, md);
    if (n->ind.n && n->dis.n)
        p->raw[MATCH_TAXONOMY] = m->cfg.taxo_industry_share * si +
                                 (1 - m->cfg.taxo_industry_share) * sd;
    else
        p->raw[MATCH_TAXONOMY] = n->ind.n ? si : sd;
    p->applies[MATCH_TAXONOMY] = n->ind.n || n->dis.n;
    for (size_t i = 0; i < n->ind.n; i++)
        if (mi[i].credit > 0)
            all[na++] = mi[i];
    for (size_t i = 0; i < n->dis.n; i++)
        if (md[i].credit > 0)
            all[na++] = md[i];
    qsort(all, na, sizeof *all, meet_by_credit);
    for (size_t i = 0; i < na && c->e.nmeets < MATCH_MAX_MEETS; i++) {
        all[i].partner = taxo_own(m->tx, all[i].kind, all[i].partner);
        c->e.meets[c->e.nmeets++] = all[i];
    }

    c->e.region_rel = match_region_relation(n->region, r->region);
    snprintf(c->e.region, sizeof c->e.region, "%s",
             r->region ? r->region : "");
    p->raw[MATCH_REGION] = match_region_score(&m->cfg, c->e.region_rel);
    p->applies[MATCH_REGION] = n->region != NULL;

    /* The fit that lifts a society or a result: everything but profile. */
    match_combine(&m->cfg, p);
    c->fit = p->score;
    p->applies[MATCH_PROFILE] = 1;
}

static struct cand *find_cand(struct cand *v, size_t n, const char *key)
{
    struct cand k;

    snprintf(k.e.key, sizeof k.e.key, "%s", key);
    return bsearch(&k, v, n, sizeof *v, cand_by_key);
}

/* Profile, exclusions and the final score of every candidate. */
/* How much a need gives to match on, in [0, 1]: its query terms, each
 * counted by its idf over the largest idf the index allows (a rare word
 * counts nearly 1, a common one little), and the codes it gives (1 each;
 * inferred ones are its text again), over thin_evidence. A need that says
 * little ("测试需求1: 冬枣保鲜") must not score higher than a detailed
 * one: every score of a thin need is scaled by this. */
static double need_evidence(match_ctx *m, const struct need *n,
                            const struct qterms *q)
{
    unsigned long ndocs = 0;
    double idf_max, mass = 0;

    if (m->cfg.thin_evidence <= 0)
        return 1;
    if (xap_doccount(m->db, &ndocs) != KX_OK)
        return 1;
    idf_max = log(1.0 + ((double)ndocs - 0.5) / 1.5); /* a term in one doc */
    for (size_t i = 0; i < q->n && idf_max > 0; i++)
        mass += q->v[i].idf / idf_max;
    for (size_t i = 0; i < n->ind.n; i++)
        mass += !n->ind.inferred[i];
    for (size_t i = 0; i < n->dis.n; i++)
        mass += !n->dis.inferred[i];
    return mass >= m->cfg.thin_evidence ? 1 : mass / m->cfg.thin_evidence;
}

/* Scales every candidate's score and its weighted parts (which sum to it)
 * by the need's evidence. */
static void apply_evidence(struct cand *v, size_t nc, double evidence)
{
    for (size_t i = 0; i < nc; i++) {
        struct match_parts *p = &v[i].e.parts;

        v[i].e.evidence = evidence;
        if (evidence >= 1)
            continue;
        for (int k = 0; k < MATCH_COMP_LAST; k++)
            p->weighted[k] *= evidence;
        p->score *= evidence;
    }
}

/* The part of an address after '@', or NULL. */
static const char *mail_domain(const char *addr)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;

    return at && at[1] ? at + 1 : NULL;
}

/* 1 if person record p works for the enterprise named ent_name. */
static int works_there(const char *ent_name, const struct kx_record *p)
{
    return ent_name && ent_name[0] && p->org && strcmp(p->org, ent_name) == 0;
}

/* 1 if society s belongs to the enterprise ent (named ent_name), which it
 * would then be brokered to: the enterprise's own 企业科协 (named after
 * it), a society whose contact writes from the enterprise's mail domain,
 * or one at least half of whose members work there. (A city's society
 * with one member from the enterprise stays: that member is left out
 * alone.) */
static int society_of_enterprise(store_txn *t, const char *ent_name,
                                 const struct kx_record *ent,
                                 const struct kx_record *s)
{
    const char *ed = ent ? mail_domain(ent->email) : NULL;
    const char *sd = mail_domain(s->contact);
    size_t there = 0;

    if (!ent_name || !ent_name[0])
        return 0;
    if (s->name && strstr(s->name, ent_name))
        return 1;
    if (ed && sd && strcasecmp(ed, sd) == 0)
        return 1;
    for (size_t i = 0; i < s->members.n; i++) {
        struct kx_record *p = NULL;

        there += load_candidate(t, s->members.v[i], &p) == KX_OK &&
                 works_there(ent_name, p);
        record_free(p);
    }
    return s->members.n && 2 * there >= s->members.n;
}

const char *match_conflict(store_txn *t, const struct kx_record *ent,
                           const struct kx_record *partner)
{
    const char *name = ent ? ent->name : NULL;
    struct kx_record *owner = NULL;
    const char *why = NULL;

    if (!ent || !partner)
        return NULL;
    switch (partner->kind) {
    case KX_KIND_EXPERT:
    case KX_KIND_ACADEMICIAN:
        if (strs_has(&partner->conflicts, ent->key))
            why = "the partner declared a conflict of interest with this "
                  "enterprise";
        else if (works_there(name, partner))
            why = "the partner works for this enterprise";
        break;
    case KX_KIND_SOCIETY:
        if (society_of_enterprise(t, name, ent, partner))
            why = "the society belongs to this enterprise (its own 企业科协, "
                  "its contact or most of its members)";
        break;
    case KX_KIND_RESULT:
        if (partner->owner && load_record(t, partner->owner, &owner) == KX_OK &&
            match_conflict(t, ent, owner))
            why = "the result's owner is in a conflict of interest with this "
                  "enterprise";
        record_free(owner);
        break;
    default:
        break;
    }
    return why;
}

static void score_profile(match_ctx *m, store_txn *t, const struct need *n,
                          struct cand *v, size_t nc, int baseline)
{
    qsort(v, nc, sizeof *v, cand_by_key);
    /* Exclusions first: an excluded person must not lift a society or a
     * result either. */
    for (size_t i = 0; i < nc; i++) {
        const struct kx_record *r = v[i].rec;

        if ((r->kind == KX_KIND_EXPERT || r->kind == KX_KIND_ACADEMICIAN) &&
            (r->capacity == 0 || strs_has(&r->conflicts, n->enterprise) ||
             works_there(n->ent_name, r)))
            v[i].excluded = 1;
        else if (r->kind == KX_KIND_SOCIETY &&
                 society_of_enterprise(t, n->ent_name, n->ent, r))
            v[i].excluded = 1;
    }
    for (size_t i = 0; i < nc && !baseline; i++) {
        struct cand *c = &v[i];
        const struct kx_record *r = c->rec;
        struct match_parts *p = &c->e.parts;

        switch (r->kind) {
        case KX_KIND_SOCIETY: {
            double best = 0;
            for (size_t j = 0; j < r->members.n; j++) {
                struct cand *mc = find_cand(v, nc, r->members.v[j]);
                if (mc && !mc->excluded && mc->fit > best) {
                    best = mc->fit;
                    snprintf(c->e.via, sizeof c->e.via, "%s", mc->e.key);
                }
            }
            p->raw[MATCH_PROFILE] = match_society_profile(&m->cfg, best);
            break;
        }
        case KX_KIND_RESULT: {
            struct cand *oc = r->owner ? find_cand(v, nc, r->owner) : NULL;
            if (oc && oc->excluded)
                oc = NULL;
            if (oc)
                snprintf(c->e.via, sizeof c->e.via, "%s", oc->e.key);
            p->raw[MATCH_PROFILE] =
                match_result_profile(&m->cfg, r->trl, oc ? oc->fit : 0);
            break;
        }
        default:
            p->raw[MATCH_PROFILE] =
                match_person_profile(&m->cfg, r->kind, r->title);
        }
        match_combine(&m->cfg, p);
    }
}

struct term_contrib {
    const char *term;
    double c;
};

static int contrib_desc(const void *a, const void *b)
{
    const struct term_contrib *x = a, *y = b;

    return x->c < y->c ? 1 : x->c > y->c ? -1 : strcmp(x->term, y->term);
}

/* The words that carried the text component of hit i: each matching term's
 * share of an estimate of its BM25 contribution (query weight x idf x
 * saturated wdf). */
static void explain_terms(match_ctx *m, const xap_mset *ms, size_t i,
                          const struct qterms *q, struct match_entry *e)
{
    const char **terms = NULL;
    unsigned *wdfs = NULL;
    struct term_contrib tc[128];
    char code_names[128][24];
    size_t n = 0, nt = 0;
    double sum = 0;

    if (xap_mset_matching_terms(ms, i, &terms, &wdfs, &nt) != KX_OK)
        return;
    for (size_t j = 0; j < nt && n < 128; j++) {
        const struct qterm *qt;
        unsigned wdf = wdfs[j];

        tc[n].term = terms[j];
        if (terms[j][0] == 'X') {
            /* a shared code counts in the text component too: name it
             * as the store does, I:2614 or D:B06 */
            snprintf(code_names[n], sizeof code_names[n], "%c:%s",
                     terms[j][1] == 'I' ? 'I' : 'D', terms[j] + 2);
            tc[n].term = code_names[n];
            tc[n].c = m->cfg.q_code * wdf / (wdf + m->cfg.bm25_k1);
        } else {
            qt = qterms_find(q, terms[j]);
            tc[n].c = (qt ? qt->w * qt->idf : m->cfg.rf_weight) * wdf /
                      (wdf + m->cfg.bm25_k1);
        }
        sum += tc[n].c;
        n++;
    }
    qsort(tc, n, sizeof *tc, contrib_desc);
    for (size_t j = 0; j < n && e->nterms < MATCH_MAX_TERMS; j++) {
        struct match_term *t = &e->terms[e->nterms++];
        snprintf(t->term, sizeof t->term, "%s", tc[j].term);
        t->share = sum > 0 ? tc[j].c / sum : 0;
    }
    free(terms);
    free(wdfs);
}

/* Expansion terms that say too little about a topic to be added to a
 * need: a single CJK character, a stopword, a one-letter word. */
static int weak_term(const char *t)
{
    unsigned char c = (unsigned char)t[0];
    size_t n = strlen(t);

    return (c >= 0xe0 && c < 0xf0 && n == 3) || (c >= 0xf0 && n == 4) ||
           n < 2 || text_is_stopword(t, n);
}

/* Runs the need against the index: the candidate pool, optionally
 * restricted to some keys, scored in full. *cands_out (sorted best first,
 * excluded ones last) and *ms_out are the caller's. */
static enum kx_status run(match_ctx *m, store_txn *t, const struct need *n,
                          int baseline, const char *const *only, size_t nonly,
                          struct cand **cands_out, size_t *ncands,
                          xap_mset **ms_out, struct qterms *q,
                          struct kx_error *err)
{
    xap_query *xq = NULL;
    xap_mset *ms = NULL;
    struct cand *v = NULL;
    size_t nv = 0;
    double upper;
    char term[KX_KEY_MAX + 4];
    enum kx_status st;

    *cands_out = NULL;
    *ncands = 0;
    *ms_out = NULL;
    memset(q, 0, sizeof *q);
    if (baseline) {
        collect(m, q, n->name, 1.0);
        collect(m, q, n->text, 1.0);
        st = qterms_finish(m, q, 100000, 0);
    } else {
        collect(m, q, n->name, m->cfg.q_name);
        for (size_t i = 0; n->tags && i < n->tags->n; i++)
            collect(m, q, n->tags->v[i], m->cfg.q_tags);
        collect(m, q, n->text, m->cfg.q_text);
        st = qterms_finish(m, q, (size_t)m->cfg.q_max_terms, 1);
    }
    if (st != KX_OK)
        goto out;
    if (q->n == 0 && n->ind.n == 0 && n->dis.n == 0) {
        st = kx_error_set(err, KX_BADINPUT, "text",
                          "%s has no text or codes to match on (no word of "
                          "it occurs in the index)", n->key);
        goto out;
    }
    if ((st = xap_query_new(&xq)) != KX_OK)
        goto out;
    xap_query_set_bm25(xq, m->cfg.bm25_k1, m->cfg.bm25_b);
    if (!baseline && m->cfg.q_boost_df > 0) {
        unsigned long ndocs = 0, above;

        xap_doccount(m->db, &ndocs);
        above = (unsigned long)(m->cfg.q_boost_df * (double)ndocs);
        if (above < (unsigned long)m->cfg.q_boost_min)
            above = (unsigned long)m->cfg.q_boost_min;
        xap_query_set_boost_above(xq, above);
    }
    for (size_t i = 0; i < q->n; i++)
        xap_query_add_term(xq, q->v[i].term, q->v[i].w);
    if (!baseline) {
        add_code_terms(m, xq, TAXO_INDUSTRY, &n->ind);
        add_code_terms(m, xq, TAXO_DISCIPLINE, &n->dis);
    }
    for (int k = 0; k < KX_KIND_LAST; k++) {
        if (!(MATCH_PARTNER_KINDS & (1u << k)))
            continue;
        snprintf(term, sizeof term, "XK%s", record_kind_name(k));
        xap_query_add_filter(xq, 1, term);
    }
    /* Relevance feedback from the unrestricted first round, so that a pair
     * scores the same whether reached from the need or from the partner. */
    if (!baseline && m->cfg.rf_terms > 0 && m->cfg.rf_docs > 0 &&
        q->n > 0) {
        const char *ids[50];
        char idbuf[50][KX_KEY_MAX + 2];
        char **et = NULL;
        double *ew = NULL;
        size_t ne = 0, nid;

        st = xap_query_run(m->db, xq, 0, (unsigned)m->cfg.rf_docs, 0, &ms);
        if (st != KX_OK)
            goto xerr;
        nid = xap_mset_size(ms);
        for (size_t i = 0; i < nid; i++) {
            snprintf(idbuf[i], sizeof idbuf[i], "Q%s", xap_mset_data(ms, i));
            ids[i] = idbuf[i];
        }
        if (nid) {
            /* Ask for more than we keep: weak terms are dropped. */
            st = xap_query_expand(m->db, xq, ids, nid,
                                  (size_t)m->cfg.rf_terms * 2, &et, &ew, &ne);
            if (st != KX_OK)
                goto xerr;
        }
        for (size_t i = 0, kept = 0; i < ne; i++) {
            if (kept < (size_t)m->cfg.rf_terms && !weak_term(et[i])) {
                xap_query_add_term(xq, et[i], m->cfg.rf_weight);
                kept++;
            }
            free(et[i]);
        }
        free(et);
        free(ew);
        xap_mset_free(ms);
        ms = NULL;
    }
    for (size_t i = 0; i < nonly; i++) {
        snprintf(term, sizeof term, "Q%s", only[i]);
        xap_query_add_filter(xq, 2, term);
    }
    st = xap_query_run(m->db, xq, 0, nonly ? (unsigned)nonly
                                           : (unsigned)m->cfg.pool, 0, &ms);
    if (st != KX_OK)
        goto xerr;
    upper = xap_mset_max_possible(ms);
    v = calloc(xap_mset_size(ms) + 1, sizeof *v);
    if (!v) {
        st = KX_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < xap_mset_size(ms); i++) {
        struct cand *c = &v[nv];
        const char *key = xap_mset_data(ms, i);

        if (load_candidate(t, key, &c->rec) != KX_OK)
            continue; /* Xapian a step ahead of this read: skip it */
        snprintf(c->e.key, sizeof c->e.key, "%s", key);
        c->e.kind = c->rec->kind;
        c->hit = i;
        score_fit(m, n, c, xap_mset_weight(ms, i), upper, baseline);
        nv++;
    }
    score_profile(m, t, n, v, nv, baseline);
    apply_evidence(v, nv, baseline ? 1 : need_evidence(m, n, q));
    qsort(v, nv, sizeof *v, cand_by_score);
    *cands_out = v;
    *ncands = nv;
    *ms_out = ms;
    v = NULL;
    ms = NULL;
    st = KX_OK;
    goto out;
xerr:
    kx_error_set(err, st, "", "search failed: %s", xap_errmsg(m->db));
out:
    xap_query_free(xq);
    xap_mset_free(ms);
    free(v);
    return st;
}

static void cands_free(struct cand *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        record_free(v[i].rec);
    free(v);
}

/* Moves the best `top` candidates of the requested kinds into r. */
static enum kx_status take_top(match_ctx *m, struct cand *v, size_t nv,
                               const xap_mset *ms, const struct qterms *q,
                               unsigned kinds, size_t top, int terms,
                               struct match_result *r)
{
    r->v = calloc(top ? top : 1, sizeof *r->v);
    if (!r->v)
        return KX_NOMEM;
    for (size_t i = 0; i < nv && r->n < top; i++) {
        struct cand *c = &v[i];
        size_t same_org = 0;

        if (c->excluded || !(kinds & (1u << c->rec->kind)))
            continue;
        if (m->cfg.per_org > 0 && c->rec->org) {
            for (size_t j = 0; j < r->n; j++)
                if (r->v[j].org && strcmp(r->v[j].org, c->rec->org) == 0)
                    same_org++;
            if (same_org >= (size_t)m->cfg.per_org)
                continue;
        }
        c->e.name = strdup(c->rec->name ? c->rec->name : "");
        c->e.org = c->rec->org ? strdup(c->rec->org) : NULL;
        if (!c->e.name)
            return KX_NOMEM;
        if (terms)
            explain_terms(m, ms, c->hit, q, &c->e);
        r->v[r->n++] = c->e;
        memset(&c->e, 0, sizeof c->e);
    }
    return KX_OK;
}

enum kx_status match_need(match_ctx *m, const struct match_request *req,
                          struct match_result **out, struct kx_error *err)
{
    struct match_result *r = NULL;
    struct need n;
    struct qterms q = {0};
    struct cand *v = NULL;
    xap_mset *ms = NULL;
    store_txn *t = NULL;
    size_t nv = 0;
    enum kx_status st;

    *out = NULL;
    memset(&n, 0, sizeof n);
    if ((st = store_txn_begin(m->st, 0, &t)) != KX_OK)
        return st;
    if (req->need_key) {
        st = need_load(m, t, req->need_key, req->need, req->baseline, &n,
                       err);
        if (st == KX_OK && n.r->status && strcmp(n.r->status, "closed") == 0)
            st = kx_error_set(err, KX_CONFLICT, "status",
                              "%s is closed: closed needs are not matched",
                              req->need_key);
    } else if (!req->text || !*req->text) {
        st = kx_error_set(err, KX_BADINPUT, "text",
                          "empty text: give a need key or some text");
    } else {
        st = need_adhoc(m, req, &n, err);
    }
    if (st != KX_OK)
        goto out;
    st = run(m, t, &n, req->baseline, NULL, 0, &v, &nv, &ms, &q, err);
    if (st != KX_OK)
        goto out;
    r = calloc(1, sizeof *r);
    if (!r) {
        st = KX_NOMEM;
        goto out;
    }
    snprintf(r->subject, sizeof r->subject, "%s", n.key);
    r->pool = nv;
    r->industries = n.ind;
    r->disciplines = n.dis;
    r->evidence = req->baseline ? 1 : need_evidence(m, &n, &q);
    st = take_top(m, v, nv, ms, &q, req->kinds ? req->kinds
                                               : MATCH_PARTNER_KINDS,
                  req->top ? req->top : 10, !req->no_terms, r);
    if (st != KX_OK)
        goto out;
    *out = r;
    r = NULL;
out:
    match_result_free(r);
    cands_free(v, nv);
    xap_mset_free(ms);
    qterms_free(&q);
    need_free(&n);
    store_txn_abort(t);
    return st;
}

/* ---- reverse: needs for a partner ---------------------------------------- */

static int entry_by_score(const void *a, const void *b)
{
    const struct match_entry *x = a, *y = b;

    if (x->parts.score != y->parts.score)
        return x->parts.score < y->parts.score ? 1 : -1;
    return strcmp(x->key, y->key);
}

/* Scores the pair (need, partner) exactly as match_need would. */
static enum kx_status score_pair(match_ctx *m, store_txn *t,
                                 const char *need_key,
                                 const struct kx_record *p,
                                 struct match_entry *out, int *found)
{
    const char *only[64];
    size_t nonly = 0;
    struct need n;
    struct qterms q = {0};
    struct cand *v = NULL;
    xap_mset *ms = NULL;
    size_t nv = 0;
    enum kx_status st;

    *found = 0;
    only[nonly++] = p->key;
    for (size_t i = 0; i < p->members.n && nonly < 64; i++)
        only[nonly++] = p->members.v[i];
    if (p->owner)
        only[nonly++] = p->owner;
    st = need_load(m, t, need_key, NULL, 0, &n, NULL);
    if (st == KX_OK)
        st = run(m, t, &n, 0, only, nonly, &v, &nv, &ms, &q, NULL);
    for (size_t i = 0; st == KX_OK && i < nv; i++) {
        if (strcmp(v[i].e.key, p->key) != 0 || v[i].excluded)
            continue;
        *out = v[i].e;
        explain_terms(m, ms, v[i].hit, &q, out);
        snprintf(out->key, sizeof out->key, "%s", need_key);
        out->kind = KX_KIND_NEED;
        out->name = strdup(n.name ? n.name : "");
        out->org = n.ent_name[0] ? strdup(n.ent_name) : NULL;
        if (!out->name)
            st = KX_NOMEM;
        *found = 1;
        break;
    }
    cands_free(v, nv);
    xap_mset_free(ms);
    qterms_free(&q);
    need_free(&n);
    return st == KX_BADINPUT ? KX_OK : st; /* a need with nothing to match */
}

enum kx_status match_partner(match_ctx *m, const char *partner_key,
                             const struct match_request *req,
                             struct match_result **out,
                             struct kx_error *err)
{
    struct match_result *r = NULL;
    struct kx_record *p = NULL;
    struct need as_query;
    struct qterms q = {0};
    xap_query *xq = NULL;
    xap_mset *ms = NULL;
    store_txn *t = NULL;
    enum kx_kind kind;
    size_t top = req->top ? req->top : 10, want;
    enum kx_status st;

    *out = NULL;
    memset(&as_query, 0, sizeof as_query);
    if ((st = record_key_parse(partner_key, &kind, NULL, err)) != KX_OK)
        return st;
    if (!(MATCH_PARTNER_KINDS & (1u << kind)))
        return kx_error_set(err, KX_BADINPUT, "partner",
                            "%s is not a partner (expected expert:, "
                            "academician:, society: or result: key)",
                            partner_key);
    if ((st = store_txn_begin(m->st, 0, &t)) != KX_OK)
        return st;
    st = load_record(t, partner_key, &p);
    if (st == KX_NOTFOUND) {
        st = kx_error_set(err, st, "partner",
                          store_record_deleted(t, partner_key) ? "%s was deleted"
                                                      : "no record %s",
                          partner_key);
        goto out;
    }
    if (st != KX_OK)
        goto out;

    /* Candidate needs: the partner's profile as a query over open needs. */
    snprintf(as_query.key, sizeof as_query.key, "%s", partner_key);
    collect(m, &q, p->name, m->cfg.q_name);
    for (size_t i = 0; i < p->tags.n; i++)
        collect(m, &q, p->tags.v[i], m->cfg.q_tags);
    collect(m, &q, p->text, m->cfg.q_text);
    add_codes(m, &as_query.ind, TAXO_INDUSTRY, p->industries.v,
              p->industries.n);
    add_codes(m, &as_query.dis, TAXO_DISCIPLINE, p->disciplines.v,
              p->disciplines.n);
    if ((st = qterms_finish(m, &q, (size_t)m->cfg.q_max_terms, 1)) != KX_OK ||
        (st = xap_query_new(&xq)) != KX_OK)
        goto out;
    for (size_t i = 0; i < q.n; i++)
        xap_query_add_term(xq, q.v[i].term, q.v[i].w);
    add_code_terms(m, xq, TAXO_INDUSTRY, &as_query.ind);
    add_code_terms(m, xq, TAXO_DISCIPLINE, &as_query.dis);
    xap_query_add_filter(xq, 1, "XKneed");
    xap_query_add_filter(xq, 2, "XSopen");
    if (!req->include_confidential)
        xap_query_add_exclude(xq, "XVconfidential");
    want = top * 3 > REVERSE_MIN_POOL ? top * 3 : REVERSE_MIN_POOL;
    st = xap_query_run(m->db, xq, 0, (unsigned)want, 0, &ms);
    if (st != KX_OK) {
        kx_error_set(err, st, "", "search failed: %s", xap_errmsg(m->db));
        goto out;
    }
    r = calloc(1, sizeof *r);
    if (!r || !(r->v = calloc(xap_mset_size(ms) + 1, sizeof *r->v))) {
        st = KX_NOMEM;
        goto out;
    }
    snprintf(r->subject, sizeof r->subject, "%s", partner_key);
    r->pool = xap_mset_size(ms);
    r->industries = as_query.ind;
    r->disciplines = as_query.dis;
    for (size_t i = 0; i < xap_mset_size(ms); i++) {
        int found;
        st = score_pair(m, t, xap_mset_data(ms, i), p, &r->v[r->n], &found);
        if (st != KX_OK)
            goto out;
        if (found)
            r->n++;
    }
    qsort(r->v, r->n, sizeof *r->v, entry_by_score);
    while (r->n > top) {
        r->n--;
        free(r->v[r->n].name);
        free(r->v[r->n].org);
    }
    *out = r;
    r = NULL;
out:
    match_result_free(r);
    record_free(p);
    qterms_free(&q);
    xap_query_free(xq);
    xap_mset_free(ms);
    store_txn_abort(t);
    return st;
}
