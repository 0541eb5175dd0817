/* score.h - the components of a match score: pure functions, no I/O, so
 * that each can be tested directly. Every component is in [0, 1]; the
 * score is their weighted sum with weights renormalised over the components
 * that apply, so it is in [0, 1] and comparable across needs. */
#ifndef MATCH_SCORE_H
#define MATCH_SCORE_H

#include <stddef.h>

#include "config.h"
#include "record.h"
#include "taxo.h"

#ifdef __cplusplus
extern "C" {
#endif

enum match_comp {
    MATCH_TEXT = 0,
    MATCH_TAXONOMY,
    MATCH_REGION,
    MATCH_PROFILE,
    MATCH_COMP_LAST
};

/* "text", "taxonomy", "region", "profile". Static. */
const char *match_comp_name(enum match_comp c);

struct match_parts {
    double raw[MATCH_COMP_LAST];      /* each in [0, 1] */
    int applies[MATCH_COMP_LAST];     /* 0: left out of the score */
    double weighted[MATCH_COMP_LAST]; /* raw x renormalised weight */
    double score;                     /* sum of weighted, in [0, 1] */
};

/* Fills p->weighted and p->score from p->raw and p->applies. */
void match_combine(const struct match_config *c, struct match_parts *p);

/* Text component from a BM25 weight and the query's upper bound:
 * 1 - exp(-(w / upper) / text_tau), 0 when upper <= 0. */
double match_text_score(const struct match_config *c, double w,
                        double upper);

/* ---- taxonomy ---------------------------------------------------------- */

/* A need's codes of one taxonomy, each with its weight (1 for a code given
 * in the record, taxo_inferred for one inferred from its text). */
#define MATCH_MAX_CODES 32
struct match_codes {
    const char *code[MATCH_MAX_CODES];
    double weight[MATCH_MAX_CODES];
    unsigned char inferred[MATCH_MAX_CODES]; /* 1: from the text */
    size_t n;
};

/* Adds a given code with weight w unless already there (keeping the
 * larger w; a code both given and inferred counts as given). */
void match_codes_add(struct match_codes *c, const char *code, double w);
/* The same for a code inferred from text. */
void match_codes_add_inferred(struct match_codes *c, const char *code,
                              double w);

/* How one need code was met by the partner's best code. */
struct match_meet {
    enum taxo_kind kind;
    const char *need;      /* borrowed: the need's code */
    const char *partner;   /* borrowed: the partner's code, NULL if none */
    const char *meet;      /* borrowed from taxo: common ancestor or NULL */
    int level;             /* level of meet (0 if none) */
    double credit;         /* in [0, 1] */
    int inferred;          /* the need code was inferred, not given */
};

/* Credit for need code a met by partner code b: (level(meet) /
 * max(level(a), level(b)))^gamma, 0 when they share no ancestor. */
double match_code_credit(const taxo *t, enum taxo_kind k, const char *a,
                         const char *b, double gamma, const char **meet,
                         int *level);

/* Taxonomy score of one kind: the weighted mean, over the need's codes, of
 * the best credit any partner code gives it. meets (may be NULL) receives
 * one entry per need code, in need order; returns the score in [0, 1]. */
double match_taxo_kind_score(const taxo *t, const struct match_config *c,
                             enum taxo_kind k, const struct match_codes *need,
                             const struct kx_strs *partner,
                             struct match_meet *meets);

/* ---- region ------------------------------------------------------------ */

enum match_region_rel {
    MATCH_REGION_UNKNOWN = 0,  /* one side has no region */
    MATCH_REGION_TOWNSHIP,     /* same township (乡镇/街道) */
    MATCH_REGION_COUNTY,       /* same county-level unit */
    MATCH_REGION_CITY,         /* same city */
    MATCH_REGION_PROVINCE,     /* same province */
    MATCH_REGION_ELSEWHERE
};

/* "same township", ... "elsewhere", "unknown". Static. */
const char *match_region_rel_name(enum match_region_rel r);

/* How GB/T 2260 codes a and b (6 or 9 digits) relate, from the structure
 * of the codes: 2 digits province, 4 city, 6 county, 9 township. A code
 * ending in 00 or 0000 names the city or province itself. */
enum match_region_rel match_region_relation(const char *a, const char *b);

/* The configured proximity of a relation; unknown counts as elsewhere. */
double match_region_score(const struct match_config *c,
                          enum match_region_rel r);

/* ---- profile ----------------------------------------------------------- */

/* Standing of a person from kind and title: academician, senior (教授,
 * 研究员, 正高级..., professor), associate (副教授, 高级工程师..., associate
 * professor), other. */
double match_person_profile(const struct match_config *c, enum kx_kind kind,
                            const char *title);

/* A result: trl/9 blended with the owner's fit (0 if unknown). */
double match_result_profile(const struct match_config *c, int trl,
                            double owner_fit);

/* A society: its best member's fit times society_member. */
double match_society_profile(const struct match_config *c,
                             double best_member_fit);

#ifdef __cplusplus
}
#endif
#endif
