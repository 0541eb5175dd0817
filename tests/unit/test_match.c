/* test_match.c - the matcher's pure functions: score components, weights
 * file, evaluation measures and code inference from text. */
#define _POSIX_C_SOURCE 200809L /* setenv, mkstemp */
#include "check.h"
#include "config.h"
#include "eval.h"
#include "infer.h"
#include "score.h"
#include "taxo.h"
#include "text.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef KX_TAXONOMY_DIR
#error "build with -DKX_TAXONOMY_DIR=\"path/to/datasets/taxonomy\""
#endif
#ifndef KX_SOURCE_DIR
#error "build with -DKX_SOURCE_DIR=\"path/to/source\""
#endif

#define EPS 1e-9

static taxo *T;


static struct match_config defaults(void)
{
    struct match_config c;

    match_config_default(&c);
    return c;
}

static double comp_weight(const struct match_config *c, int i)
{
    const double w[MATCH_COMP_LAST] = {c->w_text, c->w_taxonomy, c->w_region,
                                       c->w_profile};
    return w[i];
}

/* ---- match_combine ------------------------------------------------------- */

static void test_combine_all_apply(void)
{
    struct match_config c = defaults();
    struct match_parts p;
    const double raw[MATCH_COMP_LAST] = {0.8, 0.6, 0.4, 0.2};
    double wsum = 0, sum = 0;

    memset(&p, 0, sizeof p);
    for (int i = 0; i < MATCH_COMP_LAST; i++) {
        p.raw[i] = raw[i];
        p.applies[i] = 1;
        wsum += comp_weight(&c, i);
    }
    match_combine(&c, &p);
    for (int i = 0; i < MATCH_COMP_LAST; i++) {
        CHECK_NEAR(p.weighted[i], raw[i] * comp_weight(&c, i) / wsum, EPS);
        CHECK_NEAR(p.raw[i], raw[i], EPS);
        sum += p.weighted[i];
    }
    CHECK_NEAR(p.score, sum, EPS);
    /* shipped weights: 0.5*0.8 + 0.3*0.6 + 0.1*0.4 + 0.1*0.2 */
    CHECK_NEAR(p.score, 0.64, 1e-9);
}

/* Weights are renormalised over the components that apply: all raw at 1
 * gives 1 whatever applies, and a component left out contributes 0 even
 * with a raw value. */
static void test_combine_renormalises(void)
{
    struct match_config c = defaults();

    for (unsigned mask = 1; mask < (1u << MATCH_COMP_LAST); mask++) {
        struct match_parts p;
        double wsum = 0, sum = 0;

        memset(&p, 0, sizeof p);
        for (int i = 0; i < MATCH_COMP_LAST; i++) {
            p.raw[i] = 1.0;
            p.applies[i] = (mask >> i) & 1;
            if (p.applies[i])
                wsum += comp_weight(&c, i);
        }
        match_combine(&c, &p);
        CHECK_NEAR(p.score, 1.0, 1e-12);
        for (int i = 0; i < MATCH_COMP_LAST; i++) {
            if (p.applies[i])
                CHECK_NEAR(p.weighted[i], comp_weight(&c, i) / wsum, 1e-12);
            else
                CHECK(p.weighted[i] == 0.0);
            sum += p.weighted[i];
        }
        CHECK_NEAR(sum, p.score, 1e-12);
    }
}

static void test_combine_not_applying_is_zero(void)
{
    struct match_config c = defaults();
    struct match_parts p;

    memset(&p, 0, sizeof p);
    p.raw[MATCH_TEXT] = 0.5;
    p.applies[MATCH_TEXT] = 1;
    p.raw[MATCH_TAXONOMY] = 1.0; /* high, but does not apply */
    p.raw[MATCH_REGION] = 1.0;
    p.raw[MATCH_PROFILE] = 0.0;
    p.applies[MATCH_PROFILE] = 1;
    match_combine(&c, &p);
    CHECK(p.weighted[MATCH_TAXONOMY] == 0.0);
    CHECK(p.weighted[MATCH_REGION] == 0.0);
    CHECK(p.weighted[MATCH_PROFILE] == 0.0);
    /* text alone carries 0.5 / (0.5 + 0.1) of the score */
    CHECK_NEAR(p.weighted[MATCH_TEXT], 0.5 * 0.5 / 0.6, 1e-12);
    CHECK_NEAR(p.score, 0.5 * 0.5 / 0.6, 1e-12);

    /* nothing applies: score 0 */
    memset(&p, 0, sizeof p);
    for (int i = 0; i < MATCH_COMP_LAST; i++)
        p.raw[i] = 1;
    match_combine(&c, &p);
    CHECK(p.score == 0.0);
}

static void test_combine_clamps(void)
{
    struct match_config c = defaults();
    struct match_parts p;

    memset(&p, 0, sizeof p);
    p.raw[MATCH_TEXT] = 1.7;
    p.raw[MATCH_TAXONOMY] = -0.4;
    p.raw[MATCH_REGION] = 2.0;
    p.raw[MATCH_PROFILE] = -1.0;
    for (int i = 0; i < MATCH_COMP_LAST; i++)
        p.applies[i] = 1;
    match_combine(&c, &p);
    CHECK(p.raw[MATCH_TEXT] == 1.0);
    CHECK(p.raw[MATCH_TAXONOMY] == 0.0);
    CHECK(p.raw[MATCH_REGION] == 1.0);
    CHECK(p.raw[MATCH_PROFILE] == 0.0);
    CHECK_NEAR(p.score, 0.5 + 0.1, 1e-12);
    CHECK(p.weighted[MATCH_TAXONOMY] == 0.0);
}

/* Weights that do not sum to 1, and random raw values: the score stays in
 * [0, 1] and is the sum of the weighted parts. */
static void test_combine_range(void)
{
    struct match_config c = defaults();
    unsigned long seed = 12345;

    c.w_text = 3;
    c.w_taxonomy = 2;
    c.w_region = 0;
    c.w_profile = 7;
    for (int n = 0; n < 2000; n++) {
        struct match_parts p;
        double sum = 0;

        memset(&p, 0, sizeof p);
        for (int i = 0; i < MATCH_COMP_LAST; i++) {
            seed = seed * 6364136223846793005UL + 1442695040888963407UL;
            p.raw[i] = (double)(seed >> 40) / (double)(1UL << 24) * 1.4 - 0.2;
            p.applies[i] = (seed >> 20) & 1;
        }
        match_combine(&c, &p);
        for (int i = 0; i < MATCH_COMP_LAST; i++) {
            CHECK(p.raw[i] >= 0 && p.raw[i] <= 1);
            sum += p.weighted[i];
        }
        CHECK(p.score >= 0 && p.score <= 1);
        CHECK_NEAR(sum, p.score, 1e-12);
        if (check_test_failed_)
            break;
    }
    /* all weights 0: nothing to renormalise by, score 0 */
    {
        struct match_parts p;
        c.w_text = c.w_taxonomy = c.w_region = c.w_profile = 0;
        memset(&p, 0, sizeof p);
        p.raw[MATCH_TEXT] = 1;
        p.applies[MATCH_TEXT] = 1;
        match_combine(&c, &p);
        CHECK(p.score == 0.0);
        CHECK(p.weighted[MATCH_TEXT] == 0.0);
    }
}

static void test_comp_names(void)
{
    CHECK_STR(match_comp_name(MATCH_TEXT), "text");
    CHECK_STR(match_comp_name(MATCH_TAXONOMY), "taxonomy");
    CHECK_STR(match_comp_name(MATCH_REGION), "region");
    CHECK_STR(match_comp_name(MATCH_PROFILE), "profile");
    CHECK_STR(match_comp_name(MATCH_COMP_LAST), "?");
}

/* ---- text ---------------------------------------------------------------- */

static void test_text_score(void)
{
    struct match_config c = defaults();
    double prev = 0;

    CHECK(match_text_score(&c, 0, 10) == 0.0);
    CHECK(match_text_score(&c, -1, 10) == 0.0);
    CHECK(match_text_score(&c, 5, 0) == 0.0);
    CHECK(match_text_score(&c, 5, -3) == 0.0);
    /* the documented formula */
    CHECK_NEAR(match_text_score(&c, 2.5, 10), 1 - exp(-0.25 / c.text_tau),
               1e-12);
    /* monotonic in w, strictly below 1 up to the upper bound */
    for (int i = 1; i <= 100; i++) {
        double s = match_text_score(&c, i / 10.0, 10);
        CHECK(s > prev);
        CHECK(s < 1.0);
        prev = s;
    }
    /* only w / upper matters */
    CHECK_NEAR(match_text_score(&c, 3, 12), match_text_score(&c, 1, 4),
               1e-12);
    /* a larger tau spreads scores lower; a smaller one saturates sooner */
    {
        struct match_config hi = c, lo = c;
        hi.text_tau = 0.5;
        lo.text_tau = 0.05;
        CHECK(match_text_score(&hi, 2, 10) < match_text_score(&c, 2, 10));
        CHECK(match_text_score(&lo, 2, 10) > match_text_score(&c, 2, 10));
        CHECK_NEAR(match_text_score(&hi, 2, 10), 1 - exp(-0.2 / 0.5), 1e-12);
    }
}

/* ---- taxonomy ------------------------------------------------------------ */

static void test_code_credit(void)
{
    const char *meet = (const char *)1;
    int level = -1;
    double g = 1.5;

    CHECK_NEAR(match_code_credit(T, TAXO_INDUSTRY, "2614", "2614", g, &meet,
                                 &level), 1.0, 1e-12);
    CHECK_STR(meet, "2614");
    CHECK_INT(level, 4);

    CHECK_NEAR(match_code_credit(T, TAXO_INDUSTRY, "2614", "2619", g, &meet,
                                 &level), pow(3.0 / 4.0, g), 1e-12);
    CHECK_STR(meet, "261");
    CHECK_INT(level, 3);
    /* symmetric */
    CHECK_NEAR(match_code_credit(T, TAXO_INDUSTRY, "2619", "2614", g, &meet,
                                 &level), pow(3.0 / 4.0, g), 1e-12);
    CHECK_STR(meet, "261");
    /* gamma shapes the partial credit */
    CHECK_NEAR(match_code_credit(T, TAXO_INDUSTRY, "2614", "2619", 1.0, &meet,
                                 &level), 0.75, 1e-12);
    CHECK_NEAR(match_code_credit(T, TAXO_INDUSTRY, "2614", "2619", 3.0, &meet,
                                 &level), 0.421875, 1e-12);
    /* a class against its division */
    CHECK_NEAR(match_code_credit(T, TAXO_INDUSTRY, "2614", "26", g, &meet,
                                 &level), pow(2.0 / 4.0, g), 1e-12);
    CHECK_STR(meet, "26");
    CHECK_INT(level, 2);

    CHECK_NEAR(match_code_credit(T, TAXO_DISCIPLINE, "B0601", "B06", g, &meet,
                                 &level), pow(1.0 / 2.0, g), 1e-12);
    CHECK_STR(meet, "B06");
    CHECK_INT(level, 1);
    CHECK_NEAR(match_code_credit(T, TAXO_DISCIPLINE, "B060101", "B060102", g,
                                 &meet, &level), pow(2.0 / 3.0, g), 1e-12);
    CHECK_STR(meet, "B0601");

    /* unrelated: different sections, different level-1 disciplines */
    CHECK(match_code_credit(T, TAXO_INDUSTRY, "2614", "0111", g, &meet,
                            &level) == 0.0);
    CHECK(meet == NULL);
    CHECK_INT(level, 0);
    CHECK(match_code_credit(T, TAXO_DISCIPLINE, "B0601", "A0101", g, &meet,
                            &level) == 0.0);
    CHECK(meet == NULL);
    CHECK_INT(level, 0);
    /* unknown codes meet nothing */
    CHECK(match_code_credit(T, TAXO_INDUSTRY, "2614", "9999", g, &meet,
                            &level) == 0.0);
    CHECK_INT(level, 0);
    CHECK(match_code_credit(T, TAXO_DISCIPLINE, "Z99", "Z99", g, &meet,
                            &level) == 0.0);
}

static void test_taxo_kind_score(void)
{
    struct match_config c = defaults();
    struct match_codes need;
    struct match_meet meets[MATCH_MAX_CODES];
    const char *pv[] = {"2619", "2614", "3216"};
    struct kx_strs partner = {pv, 3};
    struct kx_strs none = {NULL, 0};
    double s, cr = pow(0.75, c.taxo_gamma);

    memset(&need, 0, sizeof need);
    match_codes_add(&need, "2614", 1.0);
    match_codes_add_inferred(&need, "2613", c.taxo_inferred);
    match_codes_add(&need, "0111", 1.0);             /* nobody meets it */
    CHECK_INT(need.n, 3);

    memset(meets, 0xab, sizeof meets);
    s = match_taxo_kind_score(T, &c, TAXO_INDUSTRY, &need, &partner, meets);
    /* weighted mean of the best credit per need code */
    CHECK_NEAR(s, (1.0 * 1.0 + c.taxo_inferred * cr + 1.0 * 0.0) /
                      (2.0 + c.taxo_inferred), 1e-12);

    CHECK_STR(meets[0].need, "2614");
    CHECK_STR(meets[0].partner, "2614"); /* the best of the partner codes */
    CHECK_STR(meets[0].meet, "2614");
    CHECK_INT(meets[0].level, 4);
    CHECK_NEAR(meets[0].credit, 1.0, 1e-12);
    CHECK_INT(meets[0].inferred, 0);
    CHECK_INT(meets[0].kind, TAXO_INDUSTRY);

    CHECK_STR(meets[1].need, "2613");
    CHECK_STR(meets[1].meet, "261");
    CHECK_INT(meets[1].level, 3);
    CHECK_NEAR(meets[1].credit, cr, 1e-12);
    CHECK_INT(meets[1].inferred, 1);

    CHECK_STR(meets[2].need, "0111");
    CHECK(meets[2].partner == NULL);
    CHECK(meets[2].meet == NULL);
    CHECK(meets[2].credit == 0.0);
    CHECK_INT(meets[2].level, 0);

    /* meets may be NULL; the score is the same */
    CHECK_NEAR(match_taxo_kind_score(T, &c, TAXO_INDUSTRY, &need, &partner,
                                     NULL), s, 1e-12);
    /* a partner without codes, a need without codes */
    CHECK(match_taxo_kind_score(T, &c, TAXO_INDUSTRY, &need, &none, NULL) ==
          0.0);
    {
        struct match_codes empty;
        memset(&empty, 0, sizeof empty);
        CHECK(match_taxo_kind_score(T, &c, TAXO_INDUSTRY, &empty, &partner,
                                    NULL) == 0.0);
    }
    /* disciplines: B0601 met by a partner coded B06 */
    {
        struct match_codes nd;
        const char *dv[] = {"B06"};
        struct kx_strs dp = {dv, 1};

        memset(&nd, 0, sizeof nd);
        match_codes_add(&nd, "B0601", 1.0);
        s = match_taxo_kind_score(T, &c, TAXO_DISCIPLINE, &nd, &dp, meets);
        CHECK_NEAR(s, pow(0.5, c.taxo_gamma), 1e-12);
        CHECK_STR(meets[0].meet, "B06");
        CHECK_STR(meets[0].partner, "B06");
        CHECK_INT(meets[0].kind, TAXO_DISCIPLINE);
    }
}

static void test_codes_add(void)
{
    struct match_codes c;
    char buf[MATCH_MAX_CODES + 5][16];

    memset(&c, 0, sizeof c);
    match_codes_add(&c, "2614", 0.5);
    match_codes_add(&c, "2614", 1.0); /* the larger weight is kept */
    match_codes_add(&c, "2614", 0.2);
    CHECK_INT(c.n, 1);
    CHECK_NEAR(c.weight[0], 1.0, 0);
    for (int i = 0; i < MATCH_MAX_CODES + 5; i++) {
        snprintf(buf[i], sizeof buf[i], "X%d", i);
        match_codes_add(&c, buf[i], 1.0);
    }
    CHECK_INT(c.n, MATCH_MAX_CODES); /* capped, no overflow */
}

/* ---- region -------------------------------------------------------------- */

static void test_region_relation(void)
{
    static const struct {
        const char *a, *b;
        enum match_region_rel want;
    } cases[] = {
        {"371602001", "371602001", MATCH_REGION_TOWNSHIP},
        {"371602001", "371602005", MATCH_REGION_COUNTY},
        {"371602001", "371602", MATCH_REGION_COUNTY},
        {"371602", "371602", MATCH_REGION_COUNTY},
        {"371602", "371603", MATCH_REGION_CITY},
        {"371600", "371600", MATCH_REGION_CITY},      /* the city itself */
        {"370000", "370000", MATCH_REGION_PROVINCE},
        {"371600", "371602", MATCH_REGION_CITY},
        {"371600", "371602001", MATCH_REGION_CITY},
        {"371602001", "371603107", MATCH_REGION_CITY},
        {"371602", "370102", MATCH_REGION_PROVINCE},
        {"370000", "371602", MATCH_REGION_PROVINCE},
        {"371602001", "370211", MATCH_REGION_PROVINCE},
        {"371602", "110108", MATCH_REGION_ELSEWHERE},
        {"370000", "110000", MATCH_REGION_ELSEWHERE},
        {"371602001", "110108001", MATCH_REGION_ELSEWHERE},
        {"371602", NULL, MATCH_REGION_UNKNOWN},
        {NULL, NULL, MATCH_REGION_UNKNOWN},
        {"371602", "", MATCH_REGION_UNKNOWN},
        {"371602", "abc", MATCH_REGION_UNKNOWN},
        {"371602", "37160", MATCH_REGION_UNKNOWN},
        {"371602", "3716020011", MATCH_REGION_UNKNOWN},
        {"371602", "37160200a", MATCH_REGION_UNKNOWN},
        {"371602", "3716 2", MATCH_REGION_UNKNOWN},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum match_region_rel ab = match_region_relation(cases[i].a,
                                                         cases[i].b);
        enum match_region_rel ba = match_region_relation(cases[i].b,
                                                         cases[i].a);
        if (ab != cases[i].want || ba != cases[i].want)
            fprintf(stderr, "  case %s vs %s: got %s / %s, want %s\n",
                    cases[i].a ? cases[i].a : "NULL",
                    cases[i].b ? cases[i].b : "NULL",
                    match_region_rel_name(ab), match_region_rel_name(ba),
                    match_region_rel_name(cases[i].want));
        CHECK_INT(ab, cases[i].want);
        CHECK_INT(ba, cases[i].want); /* symmetric */
    }
}

static void test_region_names_and_score(void)
{
    struct match_config c = defaults();

    CHECK_STR(match_region_rel_name(MATCH_REGION_UNKNOWN), "unknown");
    CHECK_STR(match_region_rel_name(MATCH_REGION_TOWNSHIP), "same township");
    CHECK_STR(match_region_rel_name(MATCH_REGION_COUNTY), "same county");
    CHECK_STR(match_region_rel_name(MATCH_REGION_CITY), "same city");
    CHECK_STR(match_region_rel_name(MATCH_REGION_PROVINCE), "same province");
    CHECK_STR(match_region_rel_name(MATCH_REGION_ELSEWHERE), "elsewhere");

    CHECK(match_region_score(&c, MATCH_REGION_TOWNSHIP) == c.region_township);
    CHECK(match_region_score(&c, MATCH_REGION_COUNTY) == c.region_county);
    CHECK(match_region_score(&c, MATCH_REGION_CITY) == c.region_city);
    CHECK(match_region_score(&c, MATCH_REGION_PROVINCE) == c.region_province);
    CHECK(match_region_score(&c, MATCH_REGION_ELSEWHERE) ==
          c.region_elsewhere);
    CHECK(match_region_score(&c, MATCH_REGION_UNKNOWN) == c.region_elsewhere);
    /* nearer is never worse with the shipped weights */
    for (int r = MATCH_REGION_TOWNSHIP; r < MATCH_REGION_ELSEWHERE; r++)
        CHECK(match_region_score(&c, r) >= match_region_score(&c, r + 1));
    /* the configured values are what is returned */
    c.region_city = 0.33;
    CHECK(match_region_score(&c, MATCH_REGION_CITY) == 0.33);
}

/* ---- profile ------------------------------------------------------------- */

struct title_case {
    enum kx_kind kind;
    const char *title;
    int cls; /* 0 academician, 1 senior, 2 associate, 3 other */
};

static void check_titles(const struct title_case *cases, size_t n)
{
    struct match_config c = defaults();
    const double cls[] = {c.profile_academician, c.profile_senior,
                          c.profile_associate, c.profile_other};

    CHECK(c.profile_academician > c.profile_senior &&
          c.profile_senior > c.profile_associate &&
          c.profile_associate > c.profile_other);
    for (size_t i = 0; i < n; i++) {
        double got = match_person_profile(&c, cases[i].kind, cases[i].title);
        if (got != cls[cases[i].cls])
            fprintf(stderr, "  title \"%s\": got %g, want %g\n",
                    cases[i].title ? cases[i].title : "(null)", got,
                    cls[cases[i].cls]);
        CHECK(got == cls[cases[i].cls]);
    }
}

static void test_person_profile(void)
{
    static const struct title_case cases[] = {
        {KX_KIND_ACADEMICIAN, "教授", 0},
        {KX_KIND_ACADEMICIAN, NULL, 0},
        {KX_KIND_EXPERT, "中国工程院院士", 0},
        {KX_KIND_EXPERT, "Academician of CAS", 0},
        {KX_KIND_EXPERT, "正高级工程师", 1},
        {KX_KIND_EXPERT, "正高级农艺师", 1},
        {KX_KIND_EXPERT, "教授", 1},
        {KX_KIND_EXPERT, "研究员", 1},
        {KX_KIND_EXPERT, "主任医师", 1},
        {KX_KIND_EXPERT, "主任药师", 1},
        {KX_KIND_EXPERT, "Professor", 1},
        {KX_KIND_EXPERT, "professor", 1},
        {KX_KIND_EXPERT, "副教授", 2},
        {KX_KIND_EXPERT, "副研究员", 2},
        {KX_KIND_EXPERT, "高级工程师", 2},
        {KX_KIND_EXPERT, "副主任医师", 2},
        {KX_KIND_EXPERT, "Associate Professor", 2},
        {KX_KIND_EXPERT, "associate professor", 2},
        {KX_KIND_EXPERT, "讲师", 3},
        {KX_KIND_EXPERT, "工程师", 3},
        {KX_KIND_EXPERT, "", 3},
        {KX_KIND_EXPERT, NULL, 3},
    };

    check_titles(cases, sizeof cases / sizeof cases[0]);
}

/* Titles in the Binzhou data (or their plain peers) that substring rules
 * get wrong: 教授级高级工程师 is the former name of 正高级工程师; 主任中医师
 * and 主任技师 are 正高 like 主任医师; 助理研究员 and assistant professor
 * are junior titles, not senior ones. */
static void test_person_profile_tricky_titles(void)
{
    static const struct title_case cases[] = {
        {KX_KIND_EXPERT, "教授级高级工程师", 1},
        {KX_KIND_EXPERT, "主任中医师", 1},
        {KX_KIND_EXPERT, "主任技师", 1},
        {KX_KIND_EXPERT, "助理研究员", 3},
        {KX_KIND_EXPERT, "Assistant Professor", 3},
    };

    check_titles(cases, sizeof cases / sizeof cases[0]);
}

static void test_result_profile(void)
{
    struct match_config c = defaults();
    double s = c.result_trl_share;

    CHECK_NEAR(match_result_profile(&c, 9, 1.0), 1.0, 1e-12);
    CHECK_NEAR(match_result_profile(&c, 0, 0.0), 0.0, 1e-12);
    CHECK_NEAR(match_result_profile(&c, 9, 0.0), s, 1e-12);
    CHECK_NEAR(match_result_profile(&c, 0, 1.0), 1 - s, 1e-12);
    CHECK_NEAR(match_result_profile(&c, 6, 0.5), s * 6 / 9 + (1 - s) * 0.5,
               1e-12);
    /* out-of-range inputs are clamped */
    CHECK_NEAR(match_result_profile(&c, 12, 1.0), 1.0, 1e-12);
    CHECK_NEAR(match_result_profile(&c, -3, 0.0), 0.0, 1e-12);
    CHECK_NEAR(match_result_profile(&c, 9, 4.0), 1.0, 1e-12);
    CHECK_NEAR(match_result_profile(&c, 0, -1.0), 0.0, 1e-12);
    /* a higher TRL never scores lower */
    for (int t = 0; t < 9; t++)
        CHECK(match_result_profile(&c, t + 1, 0.3) >
              match_result_profile(&c, t, 0.3));
}

static void test_society_profile(void)
{
    struct match_config c = defaults();

    CHECK_NEAR(match_society_profile(&c, 0), 0, 1e-12);
    CHECK_NEAR(match_society_profile(&c, 1), c.society_member, 1e-12);
    CHECK_NEAR(match_society_profile(&c, 0.5), 0.5 * c.society_member, 1e-12);
    CHECK(match_society_profile(&c, 7) <= 1.0);
    CHECK(match_society_profile(&c, -1) >= 0.0);
    c.society_member = 0.5;
    CHECK_NEAR(match_society_profile(&c, 0.8), 0.4, 1e-12);
}

/* ---- config -------------------------------------------------------------- */

/* Every field of struct match_config, by name. */
#define CONFIG_DOUBLES(X)                                                   \
    X(w_text) X(w_taxonomy) X(w_region) X(w_profile) X(q_name) X(q_tags)    \
    X(q_text) X(q_code) X(bm25_k1) X(bm25_b) X(text_tau) X(rf_weight)       \
    X(taxo_gamma) X(taxo_inferred) X(taxo_industry_share)                   \
    X(region_township) X(region_county) X(region_city) X(region_province)   \
    X(region_elsewhere) X(profile_academician) X(profile_senior)            \
    X(profile_associate) X(profile_other) X(society_member)                 \
    X(result_trl_share) X(q_boost_df) X(thin_evidence)
#define CONFIG_INTS(X) X(q_max_terms) X(q_boost_min) X(rf_docs) X(rf_terms) X(pool) X(per_org)

static const char *const config_keys[] = {
#define NAME(f) #f,
    CONFIG_DOUBLES(NAME) CONFIG_INTS(NAME)
#undef NAME
};
#define NKEYS (sizeof config_keys / sizeof config_keys[0])

static int key_known(const char *k)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(config_keys[i], k) == 0)
            return 1;
    return 0;
}

/* Fields that differ between a and b, reported by name. */
static int config_diff(const struct match_config *a,
                       const struct match_config *b, const char *what)
{
    int nd = 0;
#define CMP_D(f)                                                            \
    if (a->f != b->f) {                                                     \
        fprintf(stderr, "  %s: %s %g vs %g\n", what, #f, a->f, b->f);      \
        nd++;                                                               \
    }
#define CMP_I(f)                                                            \
    if (a->f != b->f) {                                                     \
        fprintf(stderr, "  %s: %s %d vs %d\n", what, #f, a->f, b->f);      \
        nd++;                                                               \
    }
    CONFIG_DOUBLES(CMP_D)
    CONFIG_INTS(CMP_I)
#undef CMP_D
#undef CMP_I
    return nd;
}

static void config_poison(struct match_config *c)
{
#define POISON(f) c->f = -12345;
    CONFIG_DOUBLES(POISON)
    CONFIG_INTS(POISON)
#undef POISON
}

/* The compiled-in defaults are the values of the shipped weights.conf, and
 * that file sets every key (loaded over poisoned values, none survives). */
static void test_config_defaults_match_file(void)
{
    const char *path = KX_SOURCE_DIR "/matcher/weights.conf";
    struct match_config def, file;
    struct kx_error err;
    FILE *f;
    char line[512];
    size_t nfile = 0;

    match_config_default(&def);
    config_poison(&file);
    kx_error_clear(&err);
    CHECK_INT(match_config_load(path, &file, &err), KX_OK);
    CHECK_INT(config_diff(&def, &file, "default vs weights.conf"), 0);

    /* the file and this test know the same keys */
    f = fopen(path, "r");
    CHECK(f != NULL);
    while (f && fgets(line, sizeof line, f)) {
        char key[64];
        if (sscanf(line, " %63[a-z0-9_] =", key) == 1 && line[0] != '#') {
            nfile++;
            if (!key_known(key)) {
                fprintf(stderr, "  weights.conf key %s not in this test\n",
                        key);
                CHECK(key_known(key));
            }
        }
    }
    if (f)
        fclose(f);
    CHECK_INT(nfile, NKEYS);
    /* every key this test knows is settable, by name, to its default */
    {
        struct match_config c;
        char v[64];

        config_poison(&c);
#define SET_D(f)                                                            \
        snprintf(v, sizeof v, "%.17g", def.f);                              \
        if (match_config_set(&c, #f, v, &err) != KX_OK) {                   \
            fprintf(stderr, "  key %s: %s\n", #f, err.msg);                 \
            CHECK(0);                                                       \
        }
#define SET_I(f)                                                            \
        snprintf(v, sizeof v, "%d", def.f);                                 \
        if (match_config_set(&c, #f, v, &err) != KX_OK) {                   \
            fprintf(stderr, "  key %s: %s\n", #f, err.msg);                 \
            CHECK(0);                                                       \
        }
        CONFIG_DOUBLES(SET_D)
        CONFIG_INTS(SET_I)
#undef SET_D
#undef SET_I
        CHECK_INT(config_diff(&def, &c, "default vs set by name"), 0);
    }
}

static void test_config_default_path(void)
{
    const char *p;

    setenv("KXMATCH_WEIGHTS", "/somewhere/w.conf", 1);
    CHECK_STR(match_config_default_path(), "/somewhere/w.conf");
    setenv("KXMATCH_WEIGHTS", "", 1);
    p = match_config_default_path();
    CHECK(p && strstr(p, "matcher/weights.conf") != NULL);
    unsetenv("KXMATCH_WEIGHTS");
    p = match_config_default_path();
    CHECK(p && strstr(p, "matcher/weights.conf") != NULL);
}

/* set_err KEY VALUE: must fail with BADINPUT, name the key, change nothing */
static void expect_set_error(const char *key, const char *value,
                             const char *msg_part)
{
    struct match_config c = defaults(), before = c;
    struct kx_error err;
    char buf[1024];

    kx_error_clear(&err);
    CHECK_INT(match_config_set(&c, key, value, &err), KX_BADINPUT);
    kx_error_format(&err, buf, sizeof buf);
    if (!strstr(buf, key) || (msg_part && !strstr(buf, msg_part))) {
        fprintf(stderr, "  set %s = \"%s\": message \"%s\"\n", key, value,
                buf);
        CHECK(strstr(buf, key) != NULL);
        CHECK(!msg_part || strstr(buf, msg_part) != NULL);
    }
    CHECK_INT(config_diff(&before, &c, key), 0);
}

static void test_config_set(void)
{
    struct match_config c = defaults();
    struct kx_error err;

    CHECK_INT(match_config_set(&c, "w_text", "0.4", &err), KX_OK);
    CHECK(c.w_text == 0.4);
    CHECK_INT(match_config_set(&c, "w_text", " 0.25 ", &err), KX_OK);
    CHECK(c.w_text == 0.25);
    CHECK_INT(match_config_set(&c, "q_max_terms", "32", &err), KX_OK);
    CHECK_INT(c.q_max_terms, 32);
    CHECK_INT(match_config_set(&c, "per_org", "0", &err), KX_OK);
    /* bounds are inclusive */
    CHECK_INT(match_config_set(&c, "bm25_b", "1", &err), KX_OK);
    CHECK_INT(match_config_set(&c, "bm25_b", "0", &err), KX_OK);

    expect_set_error("w_nope", "0.1", "unknown");
    expect_set_error("", "0.1", NULL);
    expect_set_error("w_text", "abc", "w_text");
    expect_set_error("w_text", "", NULL);
    expect_set_error("w_text", "0.5x", NULL);
    expect_set_error("w_text", "nan", NULL);
    expect_set_error("w_text", "inf", NULL);
    expect_set_error("w_text", "-0.1", NULL);
    expect_set_error("w_text", "101", NULL);
    expect_set_error("bm25_b", "1.5", NULL);
    expect_set_error("text_tau", "0", NULL);
    expect_set_error("taxo_gamma", "0.05", NULL);
    expect_set_error("region_city", "1.01", NULL);
    expect_set_error("q_max_terms", "2.5", "integer");
    expect_set_error("q_max_terms", "0", NULL);
    expect_set_error("pool", "5", NULL);
    expect_set_error("rf_docs", "1e9", NULL);
    expect_set_error("per_org", "-1", NULL);
}

static void write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");

    if (f) {
        fputs(s, f);
        fclose(f);
    }
}

static void test_config_load(void)
{
    char path[] = "/tmp/kx_test_match_XXXXXX";
    int fd = mkstemp(path);
    struct match_config c = defaults(), before;
    struct kx_error err;
    char buf[1024];

    CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);

    /* a good file sets what it names and nothing else */
    write_file(path, "# comment\n\n  w_text = 0.7   # trailing\r\n"
                     "pool=500\n\t\n");
    kx_error_clear(&err);
    CHECK_INT(match_config_load(path, &c, &err), KX_OK);
    CHECK(c.w_text == 0.7);
    CHECK_INT(c.pool, 500);
    before = defaults();
    before.w_text = 0.7;
    before.pool = 500;
    CHECK_INT(config_diff(&before, &c, "after good file"), 0);

    /* a bad value on line 4: file and line, the key, nothing changed
     * (not even w_region, set on a good line before it) */
    c = defaults();
    before = c;
    write_file(path, "w_region = 0.2\n# ok so far\nw_text = 0.1\n"
                     "w_profile = lots\nw_taxonomy = 0.9\n");
    kx_error_clear(&err);
    CHECK_INT(match_config_load(path, &c, &err), KX_BADINPUT);
    CHECK_STR(err.file, path);
    CHECK_INT(err.line, 4);
    kx_error_format(&err, buf, sizeof buf);
    CHECK(strstr(buf, path) != NULL);
    CHECK(strstr(buf, ":4") != NULL);
    CHECK(strstr(buf, "w_profile") != NULL);
    CHECK_INT(config_diff(&before, &c, "after bad value"), 0);

    /* an unknown key */
    write_file(path, "w_text = 0.1\nw_txet = 0.2\n");
    kx_error_clear(&err);
    CHECK_INT(match_config_load(path, &c, &err), KX_BADINPUT);
    CHECK_INT(err.line, 2);
    kx_error_format(&err, buf, sizeof buf);
    CHECK(strstr(buf, "w_txet") != NULL);
    CHECK_INT(config_diff(&before, &c, "after unknown key"), 0);

    /* a line that is not key = number */
    write_file(path, "w_text = 0.1\n\n\nw_text 0.3\n");
    kx_error_clear(&err);
    CHECK_INT(match_config_load(path, &c, &err), KX_BADINPUT);
    CHECK_STR(err.file, path);
    CHECK_INT(err.line, 4);
    CHECK_INT(config_diff(&before, &c, "after bad line"), 0);

    /* a missing file: NOTFOUND, naming it, nothing changed */
    unlink(path);
    kx_error_clear(&err);
    CHECK_INT(match_config_load(path, &c, &err), KX_NOTFOUND);
    kx_error_format(&err, buf, sizeof buf);
    CHECK(strstr(buf, path) != NULL);
    CHECK_INT(config_diff(&before, &c, "after missing file"), 0);
}

/* ---- eval ---------------------------------------------------------------- */

static const char *jkeys[] = {"a", "b", "c", "d"};
static const int jgrades[] = {3, 2, 0, 1};
static const struct match_judged J = {jkeys, jgrades, 4};

static void test_eval_grade(void)
{
    CHECK_INT(match_eval_grade(&J, "a"), 3);
    CHECK_INT(match_eval_grade(&J, "d"), 1);
    CHECK_INT(match_eval_grade(&J, "c"), 0);
    CHECK_INT(match_eval_grade(&J, "zz"), 0);
}

static void test_eval_ndcg(void)
{
    const char *perfect[] = {"a", "b", "d", "c"};
    const char *reversed[] = {"c", "d", "b", "a"};
    const char *some[] = {"b", "x", "a"};
    const char *none[] = {"c", "x", "y"};
    const char *zeros_k[] = {"x"};
    const int zg[] = {0, 0};
    const char *zk[] = {"x", "y"};
    struct match_judged Z = {zk, zg, 2};
    double ideal = 7 + 3 / log2(3) + 1 / log2(4);

    CHECK_NEAR(match_eval_ndcg(&J, perfect, 4, 10), 1.0, 1e-12);
    CHECK_NEAR(match_eval_ndcg(&J, perfect, 3, 10), 1.0, 1e-12);
    CHECK(match_eval_ndcg(&J, reversed, 4, 10) < 1.0);
    CHECK(match_eval_ndcg(&J, reversed, 4, 10) > 0.0);
    /* by hand: gains 2^g - 1, discount log2(rank + 1) */
    CHECK_NEAR(match_eval_ndcg(&J, reversed, 4, 10),
               (0 + 1 / log2(3) + 3 / log2(4) + 7 / log2(5)) / ideal, 1e-12);
    CHECK_NEAR(match_eval_ndcg(&J, some, 3, 10),
               (3 / log2(2) + 0 + 7 / log2(4)) / ideal, 1e-12);
    CHECK_NEAR(match_eval_ndcg(&J, some, 3, 10), 0.692020, 1e-6);
    /* @k cuts both the ranking and the ideal */
    CHECK_NEAR(match_eval_ndcg(&J, some, 3, 1), 3.0 / 7.0, 1e-12);
    CHECK_NEAR(match_eval_ndcg(&J, some, 3, 2), 3.0 / (7 + 3 / log2(3)),
               1e-12);
    CHECK(match_eval_ndcg(&J, none, 3, 10) == 0.0);
    CHECK(match_eval_ndcg(&J, NULL, 0, 10) == 0.0);
    /* nothing relevant at all: 0, not a division by zero */
    CHECK(match_eval_ndcg(&Z, zeros_k, 1, 10) == 0.0);
}

static void test_eval_precision_rr(void)
{
    const char *r1[] = {"a", "x", "b"};
    const char *r2[] = {"x", "c", "d", "b", "a", "y"};

    /* over k, not n: a short list is not rewarded */
    CHECK_NEAR(match_eval_precision(&J, r1, 3, 5, 2), 2.0 / 5.0, 1e-12);
    CHECK_NEAR(match_eval_precision(&J, r1, 3, 2, 2), 1.0 / 2.0, 1e-12);
    CHECK_NEAR(match_eval_precision(&J, r1, 3, 1, 2), 1.0, 1e-12);
    CHECK_NEAR(match_eval_precision(&J, r2, 6, 5, 2), 2.0 / 5.0, 1e-12);
    CHECK_NEAR(match_eval_precision(&J, r2, 6, 5, 1), 3.0 / 5.0, 1e-12);
    CHECK_NEAR(match_eval_precision(&J, r2, 6, 3, 3), 0.0, 1e-12);
    CHECK(match_eval_precision(&J, r2, 6, 0, 2) == 0.0);

    CHECK_NEAR(match_eval_rr(&J, r1, 3, 2), 1.0, 1e-12);
    CHECK_NEAR(match_eval_rr(&J, r2, 6, 2), 1.0 / 4.0, 1e-12);
    CHECK_NEAR(match_eval_rr(&J, r2, 6, 1), 1.0 / 3.0, 1e-12);
    CHECK_NEAR(match_eval_rr(&J, r2, 6, 3), 1.0 / 5.0, 1e-12);
    CHECK_NEAR(match_eval_rr(&J, r2, 2, 2), 0.0, 1e-12);
    CHECK(match_eval_rr(&J, NULL, 0, 1) == 0.0);
}

/* ---- infer --------------------------------------------------------------- */

static match_infer *MI;
static text_tokenizer *TOK;

static int codes_has(const struct match_codes *c, const char *code,
                     double w)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->code[i], code) == 0)
            return c->weight[i] == w;
    return 0;
}

static void dump_codes(const char *what, const struct match_codes *c)
{
    fprintf(stderr, "  %s:", what);
    for (size_t i = 0; i < c->n; i++)
        fprintf(stderr, " %s(%g)", c->code[i], c->weight[i]);
    fprintf(stderr, "\n");
}

static void test_infer_chinese(void)
{
    struct match_codes ind, dis;

    CHECK(MI != NULL);
    if (!MI)
        return;
    /* GB/T 4754 2652 合成橡胶制造: its subject, without 制造, is enough */
    CHECK_STR(taxo_name(T, TAXO_INDUSTRY, "2652"), "合成橡胶制造");
    memset(&ind, 0, sizeof ind);
    memset(&dis, 0, sizeof dis);
    match_infer_codes(MI, TOK, "我公司需要提升合成橡胶的耐老化性能", 0.5, 6,
                      &ind, &dis);
    if (!codes_has(&ind, "2652", 0.5))
        dump_codes("合成橡胶 industries", &ind);
    CHECK(codes_has(&ind, "2652", 0.5));
    /* the bare subject alone */
    memset(&ind, 0, sizeof ind);
    memset(&dis, 0, sizeof dis);
    match_infer_codes(MI, TOK, "合成橡胶", 1.0, 6, &ind, &dis);
    CHECK(codes_has(&ind, "2652", 1.0));
    /* codes are the taxonomy's own strings, valid */
    for (size_t i = 0; i < ind.n; i++)
        CHECK(taxo_valid(T, TAXO_INDUSTRY, ind.code[i]));
    for (size_t i = 0; i < dis.n; i++)
        CHECK(taxo_valid(T, TAXO_DISCIPLINE, dis.code[i]));

    /* a discipline by its Chinese name: B060306 膜分离 is too short (two
     * characters); B0604 化学反应工程 is found */
    memset(&ind, 0, sizeof ind);
    memset(&dis, 0, sizeof dis);
    match_infer_codes(MI, TOK, "希望在化学反应工程方面合作", 1.0, 6, &ind,
                      &dis);
    if (!codes_has(&dis, "B0604", 1.0))
        dump_codes("化学反应工程 disciplines", &dis);
    CHECK(codes_has(&dis, "B0604", 1.0));
}

static void test_infer_english(void)
{
    struct match_codes ind, dis;

    if (!MI)
        return;
    CHECK_STR(taxo_name_en(T, TAXO_DISCIPLINE, "B060306"),
              "Membrane separation");
    memset(&ind, 0, sizeof ind);
    memset(&dis, 0, sizeof dis);
    /* stemmed and case-folded: "membranes separations" */
    match_infer_codes(MI, TOK,
                      "We need help with MEMBRANES SEPARATIONS of solvents "
                      "in our plant.", 0.5, 6, &ind, &dis);
    if (!codes_has(&dis, "B060306", 0.5))
        dump_codes("membrane separation disciplines", &dis);
    CHECK(codes_has(&dis, "B060306", 0.5));
    /* the words must be adjacent, in order */
    memset(&ind, 0, sizeof ind);
    memset(&dis, 0, sizeof dis);
    match_infer_codes(MI, TOK, "separation of the membrane", 0.5, 6, &ind,
                      &dis);
    CHECK(!codes_has(&dis, "B060306", 0.5));
}

static void test_infer_nothing(void)
{
    struct match_codes ind, dis;
    static const char *const texts[] = {
        "", "今天天气很好，我们去公园散步吧", "the weather is nice today",
        "12345 67890",
    };

    if (!MI)
        return;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        memset(&ind, 0, sizeof ind);
        memset(&dis, 0, sizeof dis);
        match_infer_codes(MI, TOK, texts[i], 0.5, 6, &ind, &dis);
        if (ind.n || dis.n) {
            fprintf(stderr, "  \"%s\":\n", texts[i]);
            dump_codes("industries", &ind);
            dump_codes("disciplines", &dis);
        }
        CHECK_INT(ind.n, 0);
        CHECK_INT(dis.n, 0);
    }
    memset(&ind, 0, sizeof ind);
    memset(&dis, 0, sizeof dis);
    match_infer_codes(MI, TOK, NULL, 0.5, 6, &ind, &dis);
    CHECK_INT(ind.n + dis.n, 0);
}

/* At most max_per_kind per kind, most specific first. */
static void test_infer_limits(void)
{
    struct match_codes ind, dis;
    const char *text = "合成橡胶 有机化学原料 无机酸 无机碱 无机盐 化学试剂 "
                       "化学反应工程 membrane separation catalyst "
                       "engineering polymerization engineering";

    if (!MI)
        return;
    memset(&ind, 0, sizeof ind);
    memset(&dis, 0, sizeof dis);
    match_infer_codes(MI, TOK, text, 0.5, 2, &ind, &dis);
    CHECK(ind.n <= 2);
    CHECK(dis.n <= 2);
    CHECK(ind.n > 0 && dis.n > 0);
    for (size_t i = 1; i < dis.n; i++)
        CHECK(taxo_level(T, TAXO_DISCIPLINE, dis.code[i - 1]) >=
              taxo_level(T, TAXO_DISCIPLINE, dis.code[i]));
    for (size_t i = 1; i < ind.n; i++)
        CHECK(taxo_level(T, TAXO_INDUSTRY, ind.code[i - 1]) >=
              taxo_level(T, TAXO_INDUSTRY, ind.code[i]));
}

int main(void)
{
    struct kx_error err;

    kx_error_clear(&err);
    if (taxo_load(KX_TAXONOMY_DIR, &T, &err) != KX_OK ||
        text_tokenizer_new(&TOK) != KX_OK) {
        fprintf(stderr, "setup failed: %s\n", err.msg);
        return 1;
    }
    if (match_infer_new(T, TOK, &MI) != KX_OK)
        MI = NULL;
    RUN(test_combine_all_apply);
    RUN(test_combine_renormalises);
    RUN(test_combine_not_applying_is_zero);
    RUN(test_combine_clamps);
    RUN(test_combine_range);
    RUN(test_comp_names);
    RUN(test_text_score);
    RUN(test_code_credit);
    RUN(test_taxo_kind_score);
    RUN(test_codes_add);
    RUN(test_region_relation);
    RUN(test_region_names_and_score);
    RUN(test_person_profile);
    RUN(test_person_profile_tricky_titles);
    RUN(test_result_profile);
    RUN(test_society_profile);
    RUN(test_config_defaults_match_file);
    RUN(test_config_default_path);
    RUN(test_config_set);
    RUN(test_config_load);
    RUN(test_eval_grade);
    RUN(test_eval_ndcg);
    RUN(test_eval_precision_rr);
    RUN(test_infer_chinese);
    RUN(test_infer_english);
    RUN(test_infer_nothing);
    RUN(test_infer_limits);
    match_infer_free(MI);
    text_tokenizer_free(TOK);
    taxo_free(T);
    return check_report();
}
