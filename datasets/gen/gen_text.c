/* gen_text.c - output buffers, and free text that reads like profiles,
 * needs and results: kind-specific sentence templates filled with the
 * record's topical words, verbatim GB/T 4754 remarks and Zipf-drawn words. */
#include "gen.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_MIN 100
#define TEXT_MAX 3000

/* ---- buffers ------------------------------------------------------------- */

static void grow(struct gen_buf *b, size_t more)
{
    size_t cap;
    char *p;

    if (b->n + more + 1 <= b->cap)
        return;
    cap = b->cap ? b->cap : 4096;
    while (cap < b->n + more + 1)
        cap *= 2;
    p = realloc(b->p, cap);
    if (!p) {
        fprintf(stderr, "kxgen: out of memory\n");
        exit(1);
    }
    b->p = p;
    b->cap = cap;
}

void gen_buf_put(struct gen_buf *b, const char *s, size_t n)
{
    grow(b, n);
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void gen_buf_puts(struct gen_buf *b, const char *s)
{
    gen_buf_put(b, s, strlen(s));
}

void gen_buf_printf(struct gen_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

void gen_buf_text(struct gen_buf *b, const char *s, size_t n)
{
    gen_buf_put(b, s, n);
    for (size_t i = 0; i < n; i++)
        b->chars += ((unsigned char)s[i] & 0xC0) != 0x80;
}

void gen_buf_json_str(struct gen_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;

    grow(b, n + 2);
    b->p[b->n++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];

        if (c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        gen_buf_put(b, s + i - run, run);
        run = 0;
        esc[0] = '\\';
        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
            gen_buf_put(b, esc, 2);
        } else if (c == '\n') {
            gen_buf_put(b, "\\n", 2);
        } else {
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            gen_buf_put(b, esc, 6);
        }
    }
    gen_buf_put(b, s + n - run, run);
    gen_buf_put(b, "\"", 1);
}

void gen_buf_free(struct gen_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- words --------------------------------------------------------------- */

static const char *zipf_word(struct gen_vocab *v, struct gen_rng *r,
                             size_t *len)
{
    size_t id = gen_dist_draw(&v->zipf, r);

    v->used[id]++;
    *len = v->len[id];
    return v->w[id];
}

const char *gen_topic_word(struct gen_taxo *t, struct gen_rng *r,
                           const struct gen_topic *tp, int english,
                           size_t *len)
{
    struct gen_vocab *v = english ? &t->en : &t->zh;
    const uint32_t *ids = NULL;
    size_t n = 0;

    /* English words come from the disciplines' English names only: the
     * industry taxonomy has none. */
    if (!english && tp->nind &&
        (!tp->ndis || gen_rng_below(r, 3) < 2)) {
        const struct gen_industry *g = &t->ind[tp->ind[gen_rng_below(
            r, (uint32_t)tp->nind)]];
        /* Half the time the word of a broader level: records on the same
         * division share vocabulary beyond their class. */
        if (g->parent >= 0 && gen_rng_pct(r, 35))
            g = &t->ind[g->parent];
        ids = g->words;
        n = g->nwords;
    } else if (tp->ndis) {
        const struct gen_discipline *d =
            &t->dis[tp->dis[gen_rng_below(r, (uint32_t)tp->ndis)]];
        if (d->parent >= 0 && gen_rng_pct(r, 35))
            d = &t->dis[d->parent];
        ids = english ? d->words_en : d->words;
        n = english ? d->nwords_en : d->nwords;
    }
    if (!n)
        return zipf_word(v, r, len);
    {
        uint32_t id = ids[gen_rng_below(r, (uint32_t)n)];

        v->used[id]++;
        *len = v->len[id];
        return v->w[id];
    }
}

/* ---- templates ----------------------------------------------------------- */

/* Slots: %t topical word, %T the same capitalised (English), %g global
 * Zipf word, %I industry name, %D discipline name, %R an industry remark,
 * %r region name, %n 2-99, %N 100-9999, %% a percent sign. */
static const char *const zh_open[GEN_KIND_LAST][3] = {
    [GEN_EXPERT] = {"主要从事%D与%D方向的研究与技术服务，长期关注%t、%t和%g。",
                    "长期从事%I领域的%t研究，%R。",
                    "研究方向为%D，重点围绕%t、%g开展应用基础研究和工程化开发。"},
    [GEN_ACADEMICIAN] = {"院士，%D专家。长期从事%t与%t研究，获国家科技进步奖%n项。",
                         "院士，长期致力于%I领域%t、%g关键技术攻关。",
                         "院士，%D领域学术带头人，主持国家重大专项%n项。"},
    [GEN_SOCIETY] = {"由%r从事%I、%D工作的科技工作者自愿组成的学术性社会团体。",
                     "学会挂靠%r，会员来自%t、%t和%g等领域的高校、院所与企业。",
                     "业务范围涵盖%D、%t与%g，组织学术交流、技术诊断和成果对接。"},
    [GEN_ENTERPRISE] = {"位于%r，主营%I，%R。",
                        "公司成立于20%n年，主营%I，拥有%t、%g生产线%n条。",
                        "位于%r工业园区，主要产品为%t、%t和%g，设有市级企业技术中心。"},
    [GEN_NEED] = {"背景：公司主营%I，%R。",
                  "背景：我公司%t生产线运行%n年，%t和%g问题日益突出。",
                  "现状与问题：目前%t%g偏高，%t不稳定，影响%g。"},
    [GEN_RESULT] = {"成果简介：针对%t中的%g问题，开发了%t新技术。",
                    "成果简介：本成果属于%I领域，%R。",
                    "成果简介：以%D为基础，形成了%t、%t成套技术。"},
};

static const char *const zh_body[GEN_KIND_LAST][6] = {
    [GEN_EXPERT] = {"主持%D相关项目%n项，在%t、%g方面形成了系统成果。",
                    "可提供%t工艺优化、%t检测评价和%g技术改造方案论证。",
                    "曾为%r多家企业开展%t诊断、%g优化和技术培训。",
                    "发表论文%n余篇，授权发明专利%n项，研究涉及%t、%g、%g。",
                    "熟悉%I，%R。",
                    "近年关注%t、%t与%g的结合，带领团队完成中试%n项。"},
    [GEN_ACADEMICIAN] = {"主持开发的%t成套技术在国内%n套装置应用。",
                         "近年关注%t、%g和%g，可通过院士工作站为企业提供战略咨询。",
                         "培养博士%n名，发表论文%N篇。",
                         "熟悉%I，%R。",
                         "在%t、%t方面提出了%g新方法。",
                         "担任%D领域多个国家级平台负责人。"},
    [GEN_SOCIETY] = {"每年举办%t学术年会和%g论坛，服务企业%n家。",
                     "下设%t、%g、%t等%n个专业委员会。",
                     "承担%r%t技术诊断、成果对接和继续教育。",
                     "会员%N人，其中高级职称%n%%。",
                     "近年组织%t、%g科普活动%n场。",
                     "与%I相关企业共建学会服务站%n个。"},
    [GEN_ENTERPRISE] = {"近年重点推进%t、%g和%g。",
                        "年产%t%N吨，产品销往全国%n个省份。",
                        "设有企业技术中心，研发人员%n人，拥有%t相关专利%n项。",
                        "%R。",
                        "与%n所高校在%t、%g方面开展产学研合作。",
                        "正在实施%t智能化改造和%g节能降耗项目。"},
    [GEN_NEED] = {"技术指标：%t提高%n%%以上，%g降低%n%%，%t达到%g要求。",
                  "合作方式：技术服务或联合攻关，希望合作方在%t、%g方面提供支持。",
                  "预算：%N万元。期限：%n个月内完成%t中试。",
                  "目前%t工艺存在%g、%g等问题，亟需%D方面的专家指导。",
                  "%R。",
                  "希望引进%t新技术，解决%g和%t难题。"},
    [GEN_RESULT] = {"技术指标：%g提高%n%%，%t降低%n%%。",
                    "应用情况：已在%n家企业推广应用，新增产值%N万元。",
                    "转化方式：专利许可或技术服务，可提供%t装置标定和%g跟踪。",
                    "核心技术包括%t、%t和%g。",
                    "%R。",
                    "获授权发明专利%n项，适用于%I。"},
};

static const char *const en_open[GEN_KIND_LAST][3] = {
    [GEN_EXPERT] = {"Works on %D and %D, with a focus on %t %t and %g. ",
                    "Professor of %D. Research covers %t, %t and %g %g. ",
                    "Engineer specialising in %t %g and %D. "},
    [GEN_ACADEMICIAN] = {"Academician and leading scientist in %D. ",
                         "Member of the academy, known for work on %t %t. ",
                         "Academician working on %D and %t %g. "},
    [GEN_SOCIETY] = {"A society of scientists and engineers in %D based in %r. ",
                     "Professional association for %t %t and %g. ",
                     "Learned society covering %D and %t. "},
    [GEN_ENTERPRISE] = {"Manufacturer of %t %t products located in %r. ",
                        "Company in %r producing %t and %g %g. ",
                        "Joint venture working on %D and %t %g. "},
    [GEN_NEED] = {"Background: our %t %t line has run for %n years and %g %g is now a problem. ",
                  "We need a partner to improve %t %g in our %t process. ",
                  "Problem: %t %t is unstable and %g is too high. "},
    [GEN_RESULT] = {"A %t %t technology that improves %g by %n percent. ",
                    "New %t process based on %D. ",
                    "Result: %t %g method for %t. "},
};

static const char *const en_body[GEN_KIND_LAST][4] = {
    [GEN_EXPERT] = {"Has led %n projects on %t %t for companies in %r. ",
                    "Offers consulting on %t, %g and %t %g. ",
                    "Published %n papers and holds %n patents on %t %g. ",
                    "Current interests include %t %g, %g and %D. "},
    [GEN_ACADEMICIAN] = {"Led national programmes on %t %t and %g. ",
                         "Advises enterprises on %t and %g strategy. ",
                         "Supervised %n doctoral students in %D. ",
                         "Recent work covers %t %g and %t %g. "},
    [GEN_SOCIETY] = {"Runs an annual conference on %t %g. ",
                     "Has %N members from universities and companies. ",
                     "Organises training on %t and %g for local firms. ",
                     "Committees cover %t, %g and %t. "},
    [GEN_ENTERPRISE] = {"Annual output of %N tonnes of %t %g. ",
                        "Runs a technology centre with %n engineers working on %t. ",
                        "Exports %t %g to %n countries. ",
                        "Currently upgrading its %t %g lines. "},
    [GEN_NEED] = {"Target: raise %t %g by %n percent and cut %g by %n percent. ",
                  "Cooperation: technical service or joint research on %t %g. ",
                  "Budget: %N thousand yuan; pilot within %n months. ",
                  "We look for experts in %D and %t %g. "},
    [GEN_RESULT] = {"Proven in %n plants with %t %g. ",
                    "Available for licensing or technical service on %t. ",
                    "Core techniques: %t, %t and %g %g. ",
                    "Holds %n patents covering %t %g. "},
};

/* Medians of text length per kind, in code points. */
static const unsigned median[GEN_KIND_LAST] = {
    [GEN_EXPERT] = 260, [GEN_ACADEMICIAN] = 480, [GEN_SOCIETY] = 220,
    [GEN_ENTERPRISE] = 180, [GEN_NEED] = 380, [GEN_RESULT] = 320,
};

/* exp(0.65 z) x 1000 at 32 evenly spaced normal quantiles: a log-normal
 * spread without calling exp(), so lengths are the same on every libm. */
static const unsigned lognorm[32] = {
    247, 336, 398, 450, 496, 540, 583, 624, 666, 707, 749,
    791, 835, 880, 926, 975, 1026, 1080, 1137, 1198, 1264, 1336,
    1414, 1502, 1601, 1716, 1850, 2015, 2224, 2513, 2972, 4055,
};

size_t gen_text_length(struct gen_rng *r, enum gen_kind k)
{
    uint32_t x = gen_rng_below(r, 31 * 1024);
    unsigned i = x / 1024, f = x % 1024;
    /* linear between neighbouring quantiles */
    uint64_t mult = (uint64_t)lognorm[i] * (1024 - f) +
                    (uint64_t)lognorm[i + 1] * f;
    size_t len = (size_t)(median[k] * mult / (1000u * 1024u));

    if (len < TEXT_MIN)
        len = TEXT_MIN;
    if (len > TEXT_MAX)
        len = TEXT_MAX;
    return len;
}

static const char *const en_places[] = {
    "Binzhou", "Shandong", "Zouping", "Boxing", "Huimin", "Jinan",
    "Qingdao", "Tianjin", "Shanghai", "Jiangsu",
};

struct fill {
    struct gen_taxo *t;
    struct gen_rng *r;
    const struct gen_topic *tp;
    int english;
    int remarks;        /* remarks quoted so far: one per text reads best */
};

static void put_remark(struct fill *f, struct gen_buf *out)
{
    const struct gen_taxo *t = f->t;

    /* the remark of a topic industry or of one of its ancestors, once
     * per text; later %R become a topical word */
    for (size_t k = 0; f->remarks == 0 && k < f->tp->nind; k++) {
        int i = (int)f->tp->ind[(k + gen_rng_below(f->r, 3)) % f->tp->nind];

        while (i >= 0) {
            const char *rm = t->ind[i].remark;
            size_t n = strlen(rm);

            /* a remark ending in 。 would double the full stop */
            if (n >= 3 && memcmp(rm + n - 3, "。", 3) == 0)
                n -= 3;
            if (n > 6 && strncmp(rm, "本门类", 9) != 0 &&
                strncmp(rm, "本类", 6) != 0) {
                gen_buf_text(out, rm, n);
                f->remarks++;
                return;
            }
            i = t->ind[i].parent;
        }
    }
    gen_buf_text(out, "涉及", 6);
    {
        size_t n;
        const char *w = gen_topic_word(f->t, f->r, f->tp, 0, &n);
        gen_buf_text(out, w, n);
    }
}

static void put_industry(struct fill *f, struct gen_buf *out)
{
    const struct gen_industry *g;

    if (!f->tp->nind) {
        gen_buf_text(out, "制造业", 9);
        return;
    }
    g = &f->t->ind[f->tp->ind[gen_rng_below(f->r, (uint32_t)f->tp->nind)]];
    gen_buf_text(out, g->name, strlen(g->name));
}

static void put_discipline(struct fill *f, struct gen_buf *out)
{
    const struct gen_discipline *d;
    const char *s;

    if (!f->tp->ndis) {
        gen_buf_text(out, f->english ? "engineering" : "工程技术",
                     f->english ? 11 : 12);
        return;
    }
    d = &f->t->dis[f->tp->dis[gen_rng_below(f->r, (uint32_t)f->tp->ndis)]];
    s = f->english && d->name_en[0] ? d->name_en : d->name;
    if (f->english) {
        /* NSFC capitalises some English names: in running text, lower. */
        size_t n = strlen(s), at = out->n;

        gen_buf_text(out, s, n);
        for (size_t i = at; i < out->n; i++)
            if (out->p[i] >= 'A' && out->p[i] <= 'Z')
                out->p[i] = (char)(out->p[i] + 32);
        return;
    }
    gen_buf_text(out, s, strlen(s));
}

static void put_region(struct fill *f, struct gen_buf *out)
{
    const char *s;

    if (f->english) {
        s = en_places[gen_rng_below(f->r, sizeof en_places /
                                              sizeof en_places[0])];
    } else {
        s = f->t->reg[f->tp->region].name;
    }
    gen_buf_text(out, s, strlen(s));
}

static void expand(struct fill *f, const char *tpl, struct gen_buf *out)
{
    const char *p = tpl;

    while (*p) {
        const char *pct = strchr(p, '%');
        const char *w;
        size_t n;
        char num[16];

        if (!pct) {
            gen_buf_text(out, p, strlen(p));
            break;
        }
        gen_buf_text(out, p, (size_t)(pct - p));
        switch (pct[1]) {
        case 't':
        case 'T':
            w = gen_topic_word(f->t, f->r, f->tp, f->english, &n);
            gen_buf_text(out, w, n);
            if (pct[1] == 'T' && out->p[out->n - n] >= 'a' &&
                out->p[out->n - n] <= 'z')
                out->p[out->n - n] = (char)(out->p[out->n - n] - 32);
            break;
        case 'g':
            w = zipf_word(f->english ? &f->t->en : &f->t->zh, f->r, &n);
            gen_buf_text(out, w, n);
            break;
        case 'I': put_industry(f, out); break;
        case 'D': put_discipline(f, out); break;
        case 'R': put_remark(f, out); break;
        case 'r': put_region(f, out); break;
        case 'n':
            n = (size_t)snprintf(num, sizeof num, "%u",
                                 2 + gen_rng_below(f->r, 98));
            gen_buf_text(out, num, n);
            break;
        case 'N':
            n = (size_t)snprintf(num, sizeof num, "%u",
                                 100 + gen_rng_below(f->r, 9900));
            gen_buf_text(out, num, n);
            break;
        case '%': gen_buf_text(out, "%", 1); break;
        default: gen_buf_text(out, pct, 2); break;
        }
        p = pct + 2;
    }
}

/* Cuts out back to at most max code points (at a character boundary). */
static void clip(struct gen_buf *out, size_t start, size_t max)
{
    size_t chars = 0, i;

    for (i = start; i < out->n; i++) {
        if (((unsigned char)out->p[i] & 0xC0) != 0x80 && ++chars > max)
            break;
    }
    out->n = i;
    out->p[i] = '\0';
    /* a trailing space of English text */
    while (out->n > start && out->p[out->n - 1] == ' ')
        out->p[--out->n] = '\0';
}

void gen_text(struct gen_taxo *t, struct gen_rng *r, enum gen_kind k,
              const struct gen_topic *tp, int english, size_t target,
              struct gen_buf *out)
{
    struct fill f = {t, r, tp, english, 0};
    size_t start = out->n, c0 = out->chars;

    if (english)
        expand(&f, en_open[k][gen_rng_below(r, 3)], out);
    else
        expand(&f, zh_open[k][gen_rng_below(r, 3)], out);
    while (out->chars - c0 < target) {
        unsigned pick = gen_rng_below(r, 10);

        if (english) {
            expand(&f, en_body[k][gen_rng_below(r, 4)], out);
        } else if (pick < 7) {
            expand(&f, zh_body[k][gen_rng_below(r, 6)], out);
        } else {
            /* free enumeration: the long tail of the vocabulary */
            expand(&f, pick == 7 ? "%t、%g、%g和%t等方面均有涉及。"
                       : pick == 8 ? "相关工作包括%g、%t及%g。"
                                   : "%R。", out);
        }
    }
    clip(out, start, TEXT_MAX);
}

static const char *const zh_title[2][6] = {
    {"%t%t技术攻关", "%t%g工艺优化", "提高%t%g的关键技术研究", "%t智能化改造",
     "%t%t检测方法开发", "%g%t问题技术需求"},
    {"%t%t技术", "新型%t制备工艺", "%t%g成套装备", "高效%t%t技术及应用",
     "%t%g在线监测系统", "%t绿色%t工艺"},
};
static const char *const en_title[2][4] = {
    {"Improving %t %g in %t production", "Reducing %t %t losses",
     "%T %t process upgrade", "Seeking partner for %t %g"},
    {"%T %t technology", "A new %t %g process", "%T %t monitoring system",
     "Low-cost %t %t method"},
};

void gen_title(struct gen_taxo *t, struct gen_rng *r, enum gen_kind k,
               const struct gen_topic *tp, int english, struct gen_buf *out)
{
    struct fill f = {t, r, tp, english, 0};
    int res = k == GEN_RESULT;

    if (english)
        expand(&f, en_title[res][gen_rng_below(r, 4)], out);
    else
        expand(&f, zh_title[res][gen_rng_below(r, 6)], out);
}
