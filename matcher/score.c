/* score.c - the components of a match score (pure functions). */
#define _GNU_SOURCE /* strcasestr */
#include "score.h"

#include <math.h>
#include <string.h>

static const char *const comp_names[MATCH_COMP_LAST] = {
    "text", "taxonomy", "region", "profile",
};

const char *match_comp_name(enum match_comp c)
{
    return (unsigned)c < MATCH_COMP_LAST ? comp_names[c] : "?";
}

static double clamp01(double x)
{
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

void match_combine(const struct match_config *c, struct match_parts *p)
{
    const double w[MATCH_COMP_LAST] = {c->w_text, c->w_taxonomy, c->w_region,
                                       c->w_profile};
    double total = 0;

    for (int i = 0; i < MATCH_COMP_LAST; i++)
        if (p->applies[i])
            total += w[i];
    p->score = 0;
    for (int i = 0; i < MATCH_COMP_LAST; i++) {
        p->raw[i] = clamp01(p->raw[i]);
        p->weighted[i] =
            p->applies[i] && total > 0 ? p->raw[i] * w[i] / total : 0;
        p->score += p->weighted[i];
    }
    p->score = clamp01(p->score);
}

double match_text_score(const struct match_config *c, double w, double upper)
{
    if (upper <= 0 || w <= 0)
        return 0;
    return clamp01(1.0 - exp(-(w / upper) / c->text_tau));
}

/* ---- taxonomy ------------------------------------------------------------ */

static void codes_add(struct match_codes *c, const char *code, double w,
                      int inferred)
{
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->code[i], code) == 0) {
            if (w > c->weight[i])
                c->weight[i] = w;
            if (!inferred)
                c->inferred[i] = 0; /* given beats inferred */
            return;
        }
    }
    if (c->n < MATCH_MAX_CODES) {
        c->code[c->n] = code;
        c->weight[c->n] = w;
        c->inferred[c->n] = (unsigned char)(inferred != 0);
        c->n++;
    }
}

void match_codes_add(struct match_codes *c, const char *code, double w)
{
    codes_add(c, code, w, 0);
}

void match_codes_add_inferred(struct match_codes *c, const char *code,
                              double w)
{
    codes_add(c, code, w, 1);
}

double match_code_credit(const taxo *t, enum taxo_kind k, const char *a,
                         const char *b, double gamma, const char **meet,
                         int *level)
{
    const char *m = taxo_meet(t, k, a, b);
    int la = taxo_level(t, k, a), lb = taxo_level(t, k, b), lm;

    *meet = m;
    *level = 0;
    if (!m || la <= 0 || lb <= 0)
        return 0;
    lm = taxo_level(t, k, m);
    /* Two industries that share only a section (C, manufacturing) share
     * nothing a partner could act on: no credit, as in the query. */
    if (k == TAXO_INDUSTRY && lm < 2) {
        *meet = NULL;
        return 0;
    }
    *level = lm;
    return pow((double)lm / (double)(la > lb ? la : lb), gamma);
}

double match_taxo_kind_score(const taxo *t, const struct match_config *c,
                             enum taxo_kind k, const struct match_codes *need,
                             const struct kx_strs *partner,
                             struct match_meet *meets)
{
    double sum = 0, wsum = 0;

    for (size_t i = 0; i < need->n; i++) {
        struct match_meet best = {k, need->code[i], NULL, NULL, 0, 0,
                                  need->inferred[i]};

        for (size_t j = 0; j < partner->n; j++) {
            const char *m;
            int lv;
            double cr = match_code_credit(t, k, need->code[i], partner->v[j],
                                          c->taxo_gamma, &m, &lv);
            if (cr > best.credit) {
                best.credit = cr;
                best.partner = partner->v[j];
                best.meet = m;
                best.level = lv;
            }
        }
        if (meets)
            meets[i] = best;
        sum += need->weight[i] * best.credit;
        wsum += need->weight[i];
    }
    return wsum > 0 ? clamp01(sum / wsum) : 0;
}

/* ---- region -------------------------------------------------------------- */

static const char *const region_names[] = {
    "unknown", "same township", "same county", "same city", "same province",
    "elsewhere",
};

const char *match_region_rel_name(enum match_region_rel r)
{
    return (unsigned)r <= MATCH_REGION_ELSEWHERE ? region_names[r] : "?";
}

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return s[n] == '\0';
}

/* How deep a code goes: 4 township, 3 county, 2 city, 1 province, 0 bad. */
static int region_depth(const char *s)
{
    size_t n = strlen(s);

    if (n == 9 && digits(s, 9))
        return 4;
    if (n != 6 || !digits(s, 6))
        return 0;
    if (strcmp(s + 2, "0000") == 0)
        return 1;
    if (strcmp(s + 4, "00") == 0)
        return 2;
    return 3;
}

enum match_region_rel match_region_relation(const char *a, const char *b)
{
    static const size_t prefix[] = {0, 2, 4, 6, 9};
    int da, db, d;

    if (!a || !b || !(da = region_depth(a)) || !(db = region_depth(b)))
        return MATCH_REGION_UNKNOWN;
    /* The deepest level both codes reach and agree on. */
    for (d = da < db ? da : db; d >= 1; d--)
        if (strncmp(a, b, prefix[d]) == 0)
            break;
    switch (d) {
    case 4: return MATCH_REGION_TOWNSHIP;
    case 3: return MATCH_REGION_COUNTY;
    case 2: return MATCH_REGION_CITY;
    case 1: return MATCH_REGION_PROVINCE;
    default: return MATCH_REGION_ELSEWHERE;
    }
}

double match_region_score(const struct match_config *c,
                          enum match_region_rel r)
{
    switch (r) {
    case MATCH_REGION_TOWNSHIP: return c->region_township;
    case MATCH_REGION_COUNTY: return c->region_county;
    case MATCH_REGION_CITY: return c->region_city;
    case MATCH_REGION_PROVINCE: return c->region_province;
    default: return c->region_elsewhere;
    }
}

/* ---- profile ------------------------------------------------------------- */

static int has(const char *s, const char *needle)
{
    return s && strstr(s, needle) != NULL;
}

static int has_ci(const char *s, const char *needle)
{
    return s && strcasestr(s, needle) != NULL;
}

double match_person_profile(const struct match_config *c, enum kx_kind kind,
                            const char *title)
{
    if (kind == KX_KIND_ACADEMICIAN || has(title, "院士") ||
        has_ci(title, "academician"))
        return c->profile_academician;
    /* The order matters: 助理研究员 and assistant professor are junior
     * although they contain 研究员 / professor; 正高级工程师 and
     * 教授级高级工程师 are senior although they contain 高级; 副主任医师 is
     * associate although it contains 主任医师. */
    if (has(title, "助理") || has_ci(title, "assistant"))
        return c->profile_other;
    if (has(title, "正高") || has(title, "教授级") || has(title, "研究员级"))
        return c->profile_senior;
    if (has(title, "副") || has_ci(title, "associate") ||
        has(title, "高级") || has_ci(title, "senior"))
        return c->profile_associate;
    /* 主任医师, 主任中医师, 主任药师, 主任技师, 主任护师 (not 车间主任) */
    if (has(title, "教授") || has(title, "研究员") ||
        (has(title, "主任") && has(strstr(title, "主任"), "师")) ||
        has_ci(title, "professor"))
        return c->profile_senior;
    return c->profile_other;
}

double match_result_profile(const struct match_config *c, int trl,
                            double owner_fit)
{
    double t = trl > 0 ? (trl > 9 ? 1.0 : trl / 9.0) : 0;

    return clamp01(c->result_trl_share * t +
                   (1 - c->result_trl_share) * clamp01(owner_fit));
}

double match_society_profile(const struct match_config *c,
                             double best_member_fit)
{
    return clamp01(c->society_member * best_member_fit);
}
