/* gen_records.c - the records: who exists, what each is about, who refers
 * to whom, and the JSON Lines files plus the side files the bench reads. */
#include "gen.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Streams of the per-record generators: one per (kind, index, purpose). */
enum { P_TOPIC = 0, P_NAME, P_BODY, P_LANG };
#define STREAM(kind, i, purpose)                                           \
    (((uint64_t)(kind) << 56) | ((uint64_t)(i) << 4) | (uint64_t)(purpose))
#define STREAM_QUERIES (UINT64_C(0xFF) << 56)
#define STREAM_SETUP ((UINT64_C(0xFE) << 56) | 1)

static const char *const kind_name[GEN_KIND_LAST] = {
    "expert", "academician", "society", "enterprise", "need", "result",
};
static const char *const id_fmt[GEN_KIND_LAST] = {
    "E%07llu", "A%06llu", "S%06llu", "C%07llu", "N%07llu", "R%07llu",
};

/* Percent of each kind in the mix, in tenths (sums to 1000). */
static const unsigned mix[GEN_KIND_LAST] = {
    [GEN_EXPERT] = 400, [GEN_ACADEMICIAN] = 10, [GEN_SOCIETY] = 10,
    [GEN_ENTERPRISE] = 150, [GEN_NEED] = 330, [GEN_RESULT] = 100,
};

/* ---- name parts ------------------------------------------------------------ */

static const char *const surnames[] = {
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙",
    "马", "朱", "胡", "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋",
    "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁",
    "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金",
    "石", "廖", "贾", "夏", "韦", "付", "方", "白", "邹", "孟", "熊", "秦",
    "邱", "江", "尹", "薛", "闫", "段", "雷", "侯", "龙", "史", "陶", "黎",
    "贺", "顾", "毛", "郝", "龚", "邵", "万", "钱", "严", "覃", "武", "戴",
};
static const char *const given[] = {
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳",
    "杰", "娟", "涛", "明", "超", "秀", "霞", "平", "刚", "桂", "文", "华",
    "建", "国", "志", "海", "峰", "立", "新", "红", "玉", "春", "晓", "光",
    "德", "振", "宏", "永", "林", "云", "东", "晨", "宇", "思", "佳", "嘉",
    "博", "浩", "鹏", "飞", "辉", "俊", "凯", "斌", "鑫", "欣", "雪", "梅",
    "兰", "琳", "颖", "婷", "倩", "慧", "瑞", "轩", "昊", "泽", "远", "航",
};
static const char *const first_en[] = {
    "Anna", "Peter", "Maria", "David", "Laura", "Thomas", "Sarah", "Daniel",
    "Elena", "Michael", "Julia", "Robert", "Sophie", "Martin", "Nina", "Paul",
    "Wei", "Lei", "Jing", "Hao", "Min", "Yan", "Jun", "Xin",
};
static const char *const last_en[] = {
    "Mueller", "Schmidt", "Rossi", "Novak", "Smith", "Brown", "Garcia",
    "Kowalski", "Nakamura", "Kim", "Wang", "Li", "Zhang", "Liu", "Chen",
    "Yang", "Zhao", "Huang", "Johansson", "Dubois", "Silva", "Petrov",
};
static const char *const universities[] = {
    "滨州学院", "滨州医学院", "滨州职业学院", "山东大学", "中国石油大学(华东)",
    "青岛科技大学", "齐鲁工业大学", "山东理工大学", "山东农业大学",
    "中国海洋大学", "青岛大学", "济南大学", "山东科技大学", "天津大学",
    "华东理工大学", "大连理工大学", "浙江大学", "清华大学", "北京化工大学",
    "中南大学", "东北大学", "江南大学", "中国农业大学", "西北农林科技大学",
    "哈尔滨工业大学", "华南理工大学", "四川大学", "武汉理工大学",
    "东华大学", "北京科技大学",
};
static const char *const institutes[] = {
    "中国科学院化学研究所", "中国科学院过程工程研究所", "中国科学院金属研究所",
    "中国农业科学院", "山东省科学院", "山东省农业科学院", "中国石化石油化工科学研究院",
    "中国科学院大连化学物理研究所", "滨州市农业科学院", "中国纺织科学研究院",
    "中国医学科学院", "山东省医学科学院",
};
static const char *const institutes_en[] = {
    "Shandong University", "Tianjin University", "University of Stuttgart",
    "Delft University of Technology", "Binzhou University",
    "Fraunhofer Institute", "Tsinghua University", "Zhejiang University",
    "University of Manchester", "Politecnico di Milano",
};
static const char *const titles[] = {
    "教授", "研究员", "副教授", "高级工程师", "正高级工程师", "副研究员",
    "主任医师", "高级农艺师", "教授级高级工程师", "讲师",
};
static const char *const titles_en[] = {
    "Professor", "Associate Professor", "Senior Engineer", "Researcher",
    "Principal Scientist",
};
static const char *const roles[] = {
    "专家服务团", "博士生导师", "学会理事", "科技特派员", "三长", "院长",
    "所长", "总工程师", "学会副理事长", "产业教授",
};
static const char *const brand[] = {
    "鑫", "泰", "华", "宏", "盛", "源", "恒", "嘉", "润", "利", "达", "丰",
    "瑞", "安", "兴", "信", "诚", "博", "海", "渤", "滨", "裕", "昌", "鼎",
};
static const char *const brand_en[] = {
    "Bohai", "Yellow River", "Lubei", "Huanghe", "Sino", "Orient", "Golden",
    "Binhai", "Xintai", "Hengyuan", "Jiaxing", "Ruida",
};
static const char *const places_en[] = {"Binzhou", "Zouping", "Boxing",
                                       "Huimin", "Wudi", "Yangxin"};
static const char *const academies[] = {"CAS", "CAE", "CAS", "CAE",
                                        "中国农业科学院"};
static const char *const levels[] = {"national", "provincial", "municipal",
                                     "county"};
static const char *const sizes[] = {"micro", "small", "small", "medium",
                                    "medium", "large"};

#define PICK(r, a) (a)[gen_rng_below((r), sizeof(a) / sizeof((a)[0]))]

/* ---- the plan: counts, and topics recomputable from an index --------------- */

struct gen {
    const struct gen_opts *o;
    struct gen_taxo t;
    uint64_t n[GEN_KIND_LAST];
    struct gen_dist classes;      /* industry class popularity */
    struct gen_dist ent_pop;      /* how many needs an enterprise posts */
    /* level-1 disciplines and, for each, its descendants */
    size_t *dis_top, ndis_top;
    size_t **dis_desc, *ndis_desc;
    /* per industry division (2-digit), three level-1 disciplines */
    size_t div_map[100][3];
    unsigned char *need_status;   /* 0 open, 1 matched, 2 closed */
    struct gen_buf line, text;
};

/* The NSFC department letter whose disciplines serve an industry
 * division: agriculture to life sciences, chemicals to chemistry, and so
 * on, so that a record's disciplines suit its industry. */
static char dept_of(char section, int div)
{
    switch (section) {
    case 'A': return 'C';
    case 'B': return 'D';
    case 'C':
        if (div >= 13 && div <= 16) return 'C';
        if (div == 27) return 'H';
        if (div >= 25 && div <= 29) return 'B';
        if (div >= 38 && div <= 40) return 'F';
        return 'E';
    case 'D': case 'E': return 'E';
    case 'I': return 'F';
    case 'M': return div == 73 ? 'A' : 'F';
    case 'N': return 'D';
    case 'Q': return 'H';
    default: return 'G';
    }
}

/* Percent of class picks per GB/T 4754 section (tenths); 0 = never. */
static unsigned section_weight(char s)
{
    switch (s) {
    case 'A': return 120;
    case 'B': return 30;
    case 'C': return 580;
    case 'D': return 40;
    case 'E': return 20;
    case 'F': return 10;
    case 'G': return 20;
    case 'I': return 50;
    case 'M': return 50;
    case 'N': return 30;
    case 'O': return 10;
    case 'Q': return 30;
    case 'R': return 10;
    default: return 0;
    }
}

static char section_of(const struct gen_taxo *t, size_t i)
{
    while (t->ind[i].parent >= 0)
        i = (size_t)t->ind[i].parent;
    return t->ind[i].code[0];
}

static int plan(struct gen *g)
{
    struct gen_taxo *t = &g->t;
    struct gen_rng r;
    uint64_t *w = calloc(t->nclasses, sizeof *w);
    size_t *order = malloc(t->nclasses * sizeof *order);
    uint64_t total = 0;

    if (!w || !order) {
        free(w);
        free(order);
        return -1;
    }
    gen_rng_seed(&r, g->o->seed, STREAM_SETUP);
    /* Within a section, classes are popular in a seeded random order with
     * Zipf weights; the sections then get their shares. */
    for (size_t i = 0; i < t->nclasses; i++)
        order[i] = i;
    for (size_t i = t->nclasses; i > 1; i--) {
        size_t j = gen_rng_below(&r, (uint32_t)i), x = order[i - 1];
        order[i - 1] = order[j];
        order[j] = x;
    }
    for (char s = 'A'; s <= 'T'; s++) {
        double hs = 0;
        size_t rank = 0;

        for (size_t k = 0; k < t->nclasses; k++)
            if (section_of(t, t->classes[order[k]]) == s)
                hs += 1.0 / (double)(++rank + 1);
        rank = 0;
        for (size_t k = 0; k < t->nclasses; k++)
            if (section_of(t, t->classes[order[k]]) == s)
                w[order[k]] = (uint64_t)(section_weight(s) * 1e9 /
                                         (double)(++rank + 1) / hs);
    }
    free(order);
    for (size_t i = 0; i < t->nclasses; i++)
        total += w[i];
    if (!total || gen_dist_weights(&g->classes, w, t->nclasses) != 0) {
        free(w);
        return -1;
    }
    free(w);
    if (gen_dist_zipf(&g->ent_pop, g->n[GEN_ENTERPRISE], 8) != 0)
        return -1;

    for (size_t i = 0; i < t->ndis; i++) {
        if (t->dis[i].parent >= 0)
            continue;
        g->dis_top = realloc(g->dis_top,
                             (g->ndis_top + 1) * sizeof *g->dis_top);
        if (!g->dis_top)
            return -1;
        g->dis_top[g->ndis_top++] = i;
    }
    g->dis_desc = calloc(g->ndis_top, sizeof *g->dis_desc);
    g->ndis_desc = calloc(g->ndis_top, sizeof *g->ndis_desc);
    if (!g->dis_desc || !g->ndis_desc)
        return -1;
    for (size_t k = 0; k < g->ndis_top; k++) {
        for (size_t i = 0; i < t->ndis; i++) {
            size_t a = i;

            while (t->dis[a].parent >= 0)
                a = (size_t)t->dis[a].parent;
            if (a != g->dis_top[k])
                continue;
            g->dis_desc[k] = realloc(g->dis_desc[k], (g->ndis_desc[k] + 1) *
                                                         sizeof **g->dis_desc);
            if (!g->dis_desc[k])
                return -1;
            g->dis_desc[k][g->ndis_desc[k]++] = i;
        }
    }
    for (int d = 0; d < 100; d++) {
        char sec = 'C';
        size_t cand[128], nc = 0;
        char dept;

        for (size_t i = 0; i < t->nind; i++)
            if (t->ind[i].level == 2 && atoi(t->ind[i].code) == d)
                sec = section_of(t, i);
        dept = dept_of(sec, d);
        for (size_t k = 0; k < g->ndis_top && nc < 128; k++)
            if (t->dis[g->dis_top[k]].code[0] == dept)
                cand[nc++] = k;
        for (int j = 0; j < 3; j++)
            g->div_map[d][j] = nc ? cand[gen_rng_below(&r, (uint32_t)nc)]
                                  : gen_rng_below(&r, (uint32_t)g->ndis_top);
    }
    g->need_status = calloc(g->n[GEN_NEED] ? g->n[GEN_NEED] : 1, 1);
    return g->need_status ? 0 : -1;
}

static size_t pick_region(struct gen *g, struct gen_rng *r, unsigned bz_pct,
                          unsigned town_pct)
{
    struct gen_taxo *t = &g->t;

    if (gen_rng_pct(r, bz_pct)) {
        if (gen_rng_pct(r, town_pct))
            return t->bz_town[gen_rng_below(r, (uint32_t)t->nbz_town)];
        return t->bz_county[gen_rng_below(r, (uint32_t)t->nbz_county)];
    }
    return t->other_county[gen_rng_below(r, (uint32_t)t->nother_county)];
}

/* Disciplines for an industry class: from the division's three NSFC
 * subjects, at level 2 or 3. */
static void topic_disciplines(struct gen *g, struct gen_rng *r,
                              struct gen_topic *tp, size_t cls, size_t want)
{
    int div = atoi(g->t.ind[cls].code) / 100;

    if (div < 0 || div > 99)
        div = 0;
    tp->ndis = 0;
    while (tp->ndis < want) {
        size_t top = g->div_map[div][gen_rng_below(r, 3)];
        size_t pick = g->dis_desc[top][gen_rng_below(
            r, (uint32_t)g->ndis_desc[top])];
        int dup = 0;

        for (size_t i = 0; i < tp->ndis; i++)
            dup |= tp->dis[i] == pick;
        if (!dup)
            tp->dis[tp->ndis++] = pick;
        else if (g->ndis_desc[top] < 4)
            break;
    }
}

/* What record i of kind k is about; the same every time it is asked. */
static void topic_of(struct gen *g, enum gen_kind k, uint64_t i,
                     struct gen_topic *tp)
{
    struct gen_rng r;
    size_t cls;

    memset(tp, 0, sizeof *tp);
    gen_rng_seed(&r, g->o->seed, STREAM(k, i, P_TOPIC));
    cls = g->t.classes[gen_dist_draw(&g->classes, &r)];
    tp->ind[tp->nind++] = cls;
    if (gen_rng_pct(&r, 40)) {
        /* a second class, usually a sibling in the same division */
        size_t c2 = g->t.classes[gen_dist_draw(&g->classes, &r)];

        if (gen_rng_pct(&r, 70)) {
            int grp = g->t.ind[cls].parent;
            int div = grp >= 0 ? g->t.ind[grp].parent : -1;

            for (size_t tries = 0; tries < 40 && div >= 0; tries++) {
                size_t c = g->t.classes[gen_rng_below(
                    &r, (uint32_t)g->t.nclasses)];
                int cg = g->t.ind[c].parent;

                if (cg >= 0 && g->t.ind[cg].parent == div) {
                    c2 = c;
                    break;
                }
            }
        }
        if (c2 != cls)
            tp->ind[tp->nind++] = c2;
    }
    topic_disciplines(g, &r, tp, cls, 1 + gen_rng_below(&r, 3));
    switch (k) {
    case GEN_EXPERT: tp->region = pick_region(g, &r, 50, 60); break;
    case GEN_ACADEMICIAN: tp->region = pick_region(g, &r, 15, 30); break;
    case GEN_ENTERPRISE: tp->region = pick_region(g, &r, 80, 70); break;
    default: tp->region = pick_region(g, &r, 70, 50); break;
    }
}

static int english_of(struct gen *g, enum gen_kind k, uint64_t i)
{
    struct gen_rng r;

    gen_rng_seed(&r, g->o->seed, STREAM(k, i, P_LANG));
    return gen_rng_pct(&r, g->o->english_pct);
}

/* ---- JSON writing helpers ---------------------------------------------------- */

static void j_key(struct gen_buf *b, const char *key)
{
    gen_buf_printf(b, ",\"%s\":", key);
}

static void j_str(struct gen_buf *b, const char *key, const char *v)
{
    j_key(b, key);
    gen_buf_json_str(b, v, strlen(v));
}

static void j_head(struct gen_buf *b, enum gen_kind k, uint64_t i)
{
    char id[32];

    snprintf(id, sizeof id, id_fmt[k], (unsigned long long)(i + 1));
    gen_buf_printf(b, "{\"kind\":\"%s\",\"id\":\"%s\"", kind_name[k], id);
}

static void key_of(enum gen_kind k, uint64_t i, char *buf, size_t n)
{
    int m = snprintf(buf, n, "%s:", kind_name[k]);

    snprintf(buf + m, n - (size_t)m, id_fmt[k], (unsigned long long)(i + 1));
}

static void j_codes(struct gen *g, struct gen_rng *r, struct gen_buf *b,
                    const struct gen_topic *tp)
{
    j_key(b, "industries");
    gen_buf_puts(b, "[");
    for (size_t i = 0; i < tp->nind; i++) {
        const struct gen_industry *ind = &g->t.ind[tp->ind[i]];

        /* Codes at any level: most records name the class, some only
         * the group or the division. */
        if (gen_rng_pct(r, 20) && ind->parent >= 0)
            ind = &g->t.ind[ind->parent];
        if (gen_rng_pct(r, 5) && ind->parent >= 0)
            ind = &g->t.ind[ind->parent];
        gen_buf_printf(b, "%s\"%s\"", i ? "," : "", ind->code);
    }
    gen_buf_puts(b, "]");
    if (!tp->ndis)
        return;
    j_key(b, "disciplines");
    gen_buf_puts(b, "[");
    for (size_t i = 0; i < tp->ndis; i++)
        gen_buf_printf(b, "%s\"%s\"", i ? "," : "", g->t.dis[tp->dis[i]].code);
    gen_buf_puts(b, "]");
}

static void j_tags(struct gen *g, struct gen_rng *r, struct gen_buf *b,
                   const struct gen_topic *tp, int english, const char *extra)
{
    const char *seen[6];
    size_t ns = 0, want = 2 + gen_rng_below(r, 4);

    j_key(b, "tags");
    gen_buf_puts(b, "[");
    for (size_t tries = 0; ns < want && tries < 12; tries++) {
        size_t n;
        const char *w = gen_topic_word(&g->t, r, tp, english, &n);
        int dup = 0;

        for (size_t i = 0; i < ns; i++)
            dup |= seen[i] == w;
        if (dup)
            continue;
        if (ns)
            gen_buf_puts(b, ",");
        gen_buf_json_str(b, w, n);
        seen[ns++] = w;
    }
    if (extra)
        gen_buf_printf(b, "%s\"%s\"", ns ? "," : "", extra);
    gen_buf_puts(b, "]");
}

static void j_text(struct gen *g, struct gen_rng *r, struct gen_buf *b,
                   enum gen_kind k, const struct gen_topic *tp, int english)
{
    g->text.n = 0;
    g->text.chars = 0;
    gen_text(&g->t, r, k, tp, english, gen_text_length(r, k), &g->text);
    j_key(b, "text");
    gen_buf_json_str(b, g->text.p, g->text.n);
}

static void j_updated(struct gen_rng *r, struct gen_buf *b)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                                31};
    int y = 2024 + (int)gen_rng_below(r, 3), m = 1 + (int)gen_rng_below(r, 12);
    int d = 1 + (int)gen_rng_below(r, (uint32_t)mdays[m - 1]);

    j_key(b, "updated");
    if (gen_rng_pct(r, 30))
        gen_buf_printf(b, "\"%04d-%02d-%02dT%02u:%02u:00+08:00\"", y, m, d,
                       gen_rng_below(r, 24), gen_rng_below(r, 60));
    else
        gen_buf_printf(b, "\"%04d-%02d-%02d\"", y, m, d);
}

static void person_name(struct gen_rng *r, int english, struct gen_buf *b)
{
    if (english) {
        gen_buf_printf(b, "%s %s", PICK(r, first_en), PICK(r, last_en));
        return;
    }
    gen_buf_puts(b, PICK(r, surnames));
    gen_buf_puts(b, PICK(r, given));
    if (gen_rng_pct(r, 70))
        gen_buf_puts(b, PICK(r, given));
}

/* The first word of an industry name, up to four characters: "原油加工
 * 及石油制品制造" gives "原油加工". */
static void industry_short(const struct gen_industry *ind, struct gen_buf *b)
{
    const char *s = ind->name;
    size_t n = 0, chars = 0;

    while (s[n] && chars < 4) {
        if (!strncmp(s + n, "及", 3) || !strncmp(s + n, "和", 3) ||
            !strncmp(s + n, "、", 3) || !strncmp(s + n, "（", 3))
            break;
        n += ((unsigned char)s[n] >= 0xE0) ? 3 : 1;
        chars++;
    }
    gen_buf_put(b, s, n);
}

/* Enterprise j's name: the same wherever it is needed (experts' orgs). */
static void enterprise_name(struct gen *g, uint64_t j, struct gen_buf *b)
{
    struct gen_rng r;
    struct gen_topic tp;
    const struct gen_region *reg;

    topic_of(g, GEN_ENTERPRISE, j, &tp);
    gen_rng_seed(&r, g->o->seed, STREAM(GEN_ENTERPRISE, j, P_NAME));
    if (english_of(g, GEN_ENTERPRISE, j)) {
        gen_buf_printf(b, "%s %s %s Co., Ltd.", PICK(&r, places_en),
                       PICK(&r, brand_en),
                       PICK(&r, ((const char *const[]){
                                    "Chemical", "Materials", "Machinery",
                                    "Foods", "Textile", "Biotech",
                                    "Electronics", "Aluminium"})));
        gen_buf_printf(b, " %llu", (unsigned long long)(j + 1));
        return;
    }
    reg = &g->t.reg[tp.region];
    if (reg->binzhou && strlen(reg->code) == 6 && strlen(reg->name) >= 6 &&
        gen_rng_pct(&r, 50))
        gen_buf_put(b, reg->name, 6); /* "邹平", "博兴" */
    else
        gen_buf_puts(b, "滨州");
    gen_buf_puts(b, PICK(&r, brand));
    gen_buf_puts(b, PICK(&r, brand));
    industry_short(&g->t.ind[tp.ind[0]], b);
    gen_buf_puts(b, PICK(&r, ((const char *const[]){
                          "有限公司", "股份有限公司", "集团有限公司",
                          "科技有限公司"})));
}

static void email(struct gen_buf *b, const char *key, enum gen_kind k,
                  uint64_t i, const char *domain)
{
    j_key(b, key);
    gen_buf_printf(b, "\"%c%llu@%s\"", kind_name[k][0],
                   (unsigned long long)(i + 1), domain);
}

/* ---- one record of each kind ---------------------------------------------------- */

static void person(struct gen *g, enum gen_kind k, uint64_t i)
{
    struct gen_buf *b = &g->line;
    struct gen_topic tp;
    struct gen_rng r;
    int en = english_of(g, k, i), acad = k == GEN_ACADEMICIAN;
    unsigned nroles;

    topic_of(g, k, i, &tp);
    gen_rng_seed(&r, g->o->seed, STREAM(k, i, P_BODY));
    j_head(b, k, i);
    j_key(b, "name");
    g->text.n = 0;
    person_name(&r, en, &g->text);
    gen_buf_json_str(b, g->text.p, g->text.n);
    if (en) {
        j_str(b, "org", PICK(&r, institutes_en));
        j_str(b, "title", PICK(&r, titles_en));
    } else if (!acad && gen_rng_pct(&r, 20) && g->n[GEN_ENTERPRISE]) {
        g->text.n = 0;
        enterprise_name(g, gen_rng_below(&r, (uint32_t)g->n[GEN_ENTERPRISE]),
                        &g->text);
        j_str(b, "org", g->text.p);
        j_str(b, "title", "高级工程师");
    } else {
        j_str(b, "org", gen_rng_pct(&r, 70) ? PICK(&r, universities)
                                            : PICK(&r, institutes));
        j_str(b, "title", PICK(&r, titles));
    }
    if (acad)
        j_str(b, "academy", PICK(&r, academies));
    /* academicians are 院士 and maybe more; experts have 0-2 roles */
    nroles = gen_rng_below(&r, 3);
    if (acad || nroles) {
        const char *r1 = PICK(&r, roles), *r2 = PICK(&r, roles);

        j_key(b, "roles");
        gen_buf_printf(b, "[\"%s\"", acad ? "院士" : r1);
        if (nroles == 2 && r2 != r1)
            gen_buf_printf(b, ",\"%s\"", acad ? r1 : r2);
        gen_buf_puts(b, "]");
    }
    j_key(b, "capacity");
    gen_buf_printf(b, "%u", acad ? gen_rng_below(&r, 2) : gen_rng_below(&r, 7));
    if (gen_rng_pct(&r, 5) && g->n[GEN_ENTERPRISE]) {
        char key[64];
        uint64_t c1 = gen_rng_below(&r, (uint32_t)g->n[GEN_ENTERPRISE]);
        uint64_t c2 = gen_rng_below(&r, (uint32_t)g->n[GEN_ENTERPRISE]);

        j_key(b, "conflicts");
        key_of(GEN_ENTERPRISE, c1, key, sizeof key);
        gen_buf_printf(b, "[\"%s\"", key);
        if (c2 != c1 && gen_rng_pct(&r, 30)) {
            key_of(GEN_ENTERPRISE, c2, key, sizeof key);
            gen_buf_printf(b, ",\"%s\"", key);
        }
        gen_buf_puts(b, "]");
    }
    j_text(g, &r, b, k, &tp, en);
    j_tags(g, &r, b, &tp, en, NULL);
    j_codes(g, &r, b, &tp);
    j_str(b, "region", g->t.reg[tp.region].code);
    if (en)
        j_str(b, "lang", "en");
    email(b, "email", k, i, acad ? "academy.example.cn" : "univ.example.cn");
    j_updated(&r, b);
    if (gen_rng_pct(&r, 3))
        j_str(b, "x_source", "kxgen");
    gen_buf_puts(b, "}\n");
}

static void society(struct gen *g, uint64_t i)
{
    struct gen_buf *b = &g->line;
    struct gen_topic tp;
    struct gen_rng r;
    int en = english_of(g, GEN_SOCIETY, i);
    const char *level;
    const char *region;
    uint64_t people = g->n[GEN_EXPERT] + g->n[GEN_ACADEMICIAN];
    unsigned nmem;

    topic_of(g, GEN_SOCIETY, i, &tp);
    gen_rng_seed(&r, g->o->seed, STREAM(GEN_SOCIETY, i, P_BODY));
    level = PICK(&r, levels);
    j_head(b, GEN_SOCIETY, i);
    g->text.n = 0;
    if (en) {
        gen_buf_printf(&g->text, "%s Society of ",
                       level[0] == 'n' ? "China" : "Shandong");
        {
            const char *s = g->t.dis[tp.dis[0]].name_en;
            gen_buf_puts(&g->text, s[0] ? s : "Engineering");
        }
    } else {
        gen_buf_puts(&g->text, level[0] == 'n'   ? "中国"
                               : level[0] == 'p' ? "山东省"
                               : level[0] == 'm' ? "滨州市"
                                                 : "");
        if (level[0] == 'c')
            gen_buf_puts(&g->text,
                         g->t.reg[g->t.bz_county[i % g->t.nbz_county]].name);
        gen_buf_puts(&g->text, g->t.dis[tp.dis[0]].name);
        gen_buf_puts(&g->text, gen_rng_pct(&r, 70) ? "学会" : "协会");
    }
    j_key(b, "name");
    gen_buf_json_str(b, g->text.p, g->text.n);
    j_str(b, "level", level);
    if (people) {
        nmem = 5 + gen_rng_below(&r, 36);
        if (nmem > people)
            nmem = (unsigned)people;
        j_key(b, "members");
        gen_buf_puts(b, "[");
        /* distinct members: a random start and a stride coprime to the
         * number of people */
        {
            uint64_t start = gen_rng_below(&r, (uint32_t)people), stride = 1;
            char key[64];

            for (uint64_t s = 1 + gen_rng_below(&r, 997); s < people + 1000;
                 s++) {
                uint64_t a = s, bb = people;
                while (bb) {
                    uint64_t tmp = a % bb;
                    a = bb;
                    bb = tmp;
                }
                if (a == 1) {
                    stride = s;
                    break;
                }
            }
            for (unsigned m = 0; m < nmem; m++) {
                uint64_t p = (start + m * stride) % people;

                if (p < g->n[GEN_ACADEMICIAN])
                    key_of(GEN_ACADEMICIAN, p, key, sizeof key);
                else
                    key_of(GEN_EXPERT, p - g->n[GEN_ACADEMICIAN], key,
                           sizeof key);
                gen_buf_printf(b, "%s\"%s\"", m ? "," : "", key);
            }
        }
        gen_buf_puts(b, "]");
    }
    email(b, "contact", GEN_SOCIETY, i, "kexie.example.cn");
    j_text(g, &r, b, GEN_SOCIETY, &tp, en);
    j_tags(g, &r, b, &tp, en, NULL);
    j_codes(g, &r, b, &tp);
    region = level[0] == 'n'   ? "110000"
             : level[0] == 'p' ? "370000"
             : level[0] == 'm' ? "371600"
                               : g->t.reg[g->t.bz_county[i % g->t.nbz_county]]
                                     .code;
    j_str(b, "region", region);
    if (en)
        j_str(b, "lang", "en");
    j_updated(&r, b);
    gen_buf_puts(b, "}\n");
}

static void enterprise(struct gen *g, uint64_t i)
{
    struct gen_buf *b = &g->line;
    struct gen_topic tp;
    struct gen_rng r;
    int en = english_of(g, GEN_ENTERPRISE, i), kexie;

    topic_of(g, GEN_ENTERPRISE, i, &tp);
    gen_rng_seed(&r, g->o->seed, STREAM(GEN_ENTERPRISE, i, P_BODY));
    j_head(b, GEN_ENTERPRISE, i);
    g->text.n = 0;
    enterprise_name(g, i, &g->text);
    j_key(b, "name");
    gen_buf_json_str(b, g->text.p, g->text.n);
    kexie = gen_rng_pct(&r, 30);
    j_text(g, &r, b, GEN_ENTERPRISE, &tp, en);
    j_tags(g, &r, b, &tp, en, kexie && !en ? "企业科协" : NULL);
    j_codes(g, &r, b, &tp);
    j_str(b, "region", g->t.reg[tp.region].code);
    if (en)
        j_str(b, "lang", "en");
    email(b, "email", GEN_ENTERPRISE, i, "corp.example.com");
    j_updated(&r, b);
    j_str(b, "size", PICK(&r, sizes));
    j_key(b, "has_kexie");
    gen_buf_puts(b, kexie ? "true" : "false");
    gen_buf_puts(b, "}\n");
}

static void need(struct gen *g, uint64_t i)
{
    struct gen_buf *b = &g->line;
    struct gen_topic tp, etp;
    struct gen_rng r;
    uint64_t ent;
    int en;
    unsigned st;
    char key[64];

    gen_rng_seed(&r, g->o->seed, STREAM(GEN_NEED, i, P_BODY));
    /* Half the needs come from a few prolific enterprises. */
    ent = gen_rng_pct(&r, 50)
              ? gen_dist_draw(&g->ent_pop, &r)
              : gen_rng_below(&r, (uint32_t)g->n[GEN_ENTERPRISE]);
    topic_of(g, GEN_NEED, i, &tp);
    topic_of(g, GEN_ENTERPRISE, ent, &etp);
    /* Mostly about what the enterprise does, in its language. */
    if (gen_rng_pct(&r, 80)) {
        tp.ind[0] = etp.ind[0];
        tp.nind = 1;
        topic_disciplines(g, &r, &tp, tp.ind[0], 1 + gen_rng_below(&r, 2));
    }
    tp.region = etp.region;
    en = english_of(g, GEN_ENTERPRISE, ent);
    j_head(b, GEN_NEED, i);
    g->text.n = 0;
    gen_title(&g->t, &r, GEN_NEED, &tp, en, &g->text);
    j_key(b, "name");
    gen_buf_json_str(b, g->text.p, g->text.n);
    key_of(GEN_ENTERPRISE, ent, key, sizeof key);
    j_str(b, "enterprise", key);
    if (gen_rng_pct(&r, 10))
        j_str(b, "visibility", "confidential");
    st = gen_rng_below(&r, 100);
    st = st < 80 ? 0 : st < 92 ? 1 : 2;
    g->need_status[i] = (unsigned char)st;
    if (st || gen_rng_pct(&r, 50))
        j_str(b, "status", st == 0 ? "open" : st == 1 ? "matched" : "closed");
    if (gen_rng_pct(&r, 70)) {
        j_key(b, "budget");
        gen_buf_printf(b, "%u", (5 + gen_rng_below(&r, 496)) * 10000);
    }
    if (gen_rng_pct(&r, 60)) {
        j_key(b, "deadline");
        gen_buf_printf(b, "\"2027-%02u-%02u\"", 1 + gen_rng_below(&r, 12),
                       1 + gen_rng_below(&r, 28));
    }
    j_text(g, &r, b, GEN_NEED, &tp, en);
    j_tags(g, &r, b, &tp, en, NULL);
    if (gen_rng_pct(&r, 50)) {
        j_codes(g, &r, b, &tp);
    } else {
        /* industries only: the matcher infers disciplines */
        size_t nd = tp.ndis;
        tp.ndis = 0;
        j_codes(g, &r, b, &tp);
        tp.ndis = nd;
    }
    j_str(b, "region", g->t.reg[tp.region].code);
    if (en)
        j_str(b, "lang", "en");
    j_updated(&r, b);
    gen_buf_puts(b, "}\n");
}

static void result(struct gen *g, uint64_t i)
{
    struct gen_buf *b = &g->line;
    struct gen_topic tp;
    struct gen_rng r;
    enum gen_kind ok;
    uint64_t owner;
    int en;
    unsigned x;
    char key[64];

    gen_rng_seed(&r, g->o->seed, STREAM(GEN_RESULT, i, P_BODY));
    x = gen_rng_below(&r, 100);
    ok = x < 85 ? GEN_EXPERT : x < 90 ? GEN_ACADEMICIAN : GEN_SOCIETY;
    if (!g->n[ok])
        ok = GEN_EXPERT;
    owner = gen_rng_below(&r, (uint32_t)g->n[ok]);
    topic_of(g, ok, owner, &tp);
    en = english_of(g, ok, owner);
    j_head(b, GEN_RESULT, i);
    g->text.n = 0;
    gen_title(&g->t, &r, GEN_RESULT, &tp, en, &g->text);
    j_key(b, "name");
    gen_buf_json_str(b, g->text.p, g->text.n);
    key_of(ok, owner, key, sizeof key);
    j_str(b, "owner", key);
    j_key(b, "trl");
    gen_buf_printf(b, "%u", 1 + gen_rng_below(&r, 9));
    j_text(g, &r, b, GEN_RESULT, &tp, en);
    j_tags(g, &r, b, &tp, en, NULL);
    j_codes(g, &r, b, &tp);
    j_str(b, "region", g->t.reg[tp.region].code);
    if (en)
        j_str(b, "lang", "en");
    j_updated(&r, b);
    gen_buf_puts(b, "}\n");
}

/* ---- files --------------------------------------------------------------------- */

static FILE *create(const char *dir, const char *name, char *err, size_t n)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    if (!f) {
        snprintf(err, n, "cannot create %s: %s", path, strerror(errno));
        return NULL;
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    return f;
}

static int close_file(FILE *f, const char *name, char *err, size_t n)
{
    if (ferror(f) | (fclose(f) != 0)) {
        snprintf(err, n, "writing %s: %s", name, strerror(errno));
        return -1;
    }
    return 0;
}

static int write_kind(struct gen *g, FILE *f, enum gen_kind k)
{
    for (uint64_t i = 0; i < g->n[k]; i++) {
        g->line.n = 0;
        switch (k) {
        case GEN_EXPERT:
        case GEN_ACADEMICIAN: person(g, k, i); break;
        case GEN_SOCIETY: society(g, i); break;
        case GEN_ENTERPRISE: enterprise(g, i); break;
        case GEN_NEED: need(g, i); break;
        case GEN_RESULT: result(g, i); break;
        default: break;
        }
        if (fwrite(g->line.p, 1, g->line.n, f) != g->line.n)
            return -1;
    }
    return 0;
}

/* A vocabulary word that the records used, drawn by Zipf rank. */
static const char *used_word(struct gen_vocab *v, struct gen_rng *r,
                             size_t chars, size_t *len)
{
    for (int tries = 0; tries < 10000; tries++) {
        size_t id = gen_dist_draw(&v->zipf, r);

        if (v->used[id] && (!chars || v->chars[id] == chars)) {
            *len = v->len[id];
            return v->w[id];
        }
    }
    return NULL;
}

/* queries.txt: short searches of 2-4 words, Chinese, English and mixed;
 * words2.txt: two-character Chinese words that occur in the data;
 * need_keys.txt: open needs, spread evenly, for match latency. */
static int write_side(struct gen *g, char *err, size_t n)
{
    struct gen_rng r;
    FILE *f;
    const char *seen[256];
    size_t nseen = 0;

    gen_rng_seed(&r, g->o->seed, STREAM_QUERIES);
    if (!(f = create(g->o->out, "queries.txt", err, n)))
        return -1;
    for (unsigned q = 0; q < g->o->queries; q++) {
        unsigned kind = gen_rng_below(&r, 100), words = 2 + gen_rng_below(&r, 3);

        for (unsigned w = 0; w < words; w++) {
            /* 80% Chinese, 15% English, 5% mixed like "machine 燃料电池
             * learning" (English words around a Chinese one) */
            int en = kind >= 80 && (kind < 95 || w != 1);
            size_t len;
            const char *s = used_word(en ? &g->t.en : &g->t.zh, &r, 0, &len);

            if (s)
                fprintf(f, "%s%.*s", w ? " " : "", (int)len, s);
        }
        fputc('\n', f);
    }
    if (close_file(f, "queries.txt", err, n) != 0)
        return -1;

    if (!(f = create(g->o->out, "words2.txt", err, n)))
        return -1;
    for (int tries = 0; tries < 20000 && nseen < 200; tries++) {
        size_t len;
        const char *s = used_word(&g->t.zh, &r, 2, &len);
        int dup = 0;

        if (!s)
            break;
        for (size_t i = 0; i < nseen; i++)
            dup |= seen[i] == s;
        if (dup)
            continue;
        seen[nseen++] = s;
        fprintf(f, "%.*s\n", (int)len, s);
    }
    if (close_file(f, "words2.txt", err, n) != 0)
        return -1;

    if (!(f = create(g->o->out, "need_keys.txt", err, n)))
        return -1;
    {
        uint64_t open = 0, step, want = 1000, k = 0;
        char key[64];

        for (uint64_t i = 0; i < g->n[GEN_NEED]; i++)
            open += g->need_status[i] != 2;
        step = open > want ? open / want : 1;
        for (uint64_t i = 0, seenopen = 0; i < g->n[GEN_NEED] && k < want;
             i++) {
            if (g->need_status[i] == 2)
                continue;
            if (seenopen++ % step == 0) {
                key_of(GEN_NEED, i, key, sizeof key);
                fprintf(f, "%s\n", key);
                k++;
            }
        }
    }
    return close_file(f, "need_keys.txt", err, n);
}

int gen_run(const struct gen_opts *o, char *err, size_t n)
{
    static const struct {
        const char *file;
        enum gen_kind kinds[2];
        size_t nkinds;
    } files[] = {
        {"experts.jsonl", {GEN_ACADEMICIAN, GEN_EXPERT}, 2},
        {"societies.jsonl", {GEN_SOCIETY}, 1},
        {"enterprises.jsonl", {GEN_ENTERPRISE}, 1},
        {"needs.jsonl", {GEN_NEED}, 1},
        {"results.jsonl", {GEN_RESULT}, 1},
    };
    struct gen g;
    uint64_t rest = o->records;
    int rc = -1;

    memset(&g, 0, sizeof g);
    g.o = o;
    if (o->records < 10) {
        snprintf(err, n, "--records must be at least 10");
        return -1;
    }
    if (o->records > 100000000) {
        snprintf(err, n, "--records must be at most 100000000");
        return -1;
    }
    /* Every kind gets at least one record; needs take the remainder. */
    for (int k = 0; k < GEN_KIND_LAST; k++) {
        if (k == GEN_NEED)
            continue;
        g.n[k] = o->records * mix[k] / 1000;
        if (!g.n[k])
            g.n[k] = 1;
        rest -= g.n[k];
    }
    g.n[GEN_NEED] = rest;
    if (mkdir(o->out, 0777) != 0 && errno != EEXIST) {
        snprintf(err, n, "cannot create %s: %s", o->out, strerror(errno));
        return -1;
    }
    if (gen_taxo_load(&g.t, o->taxonomy, err, n) != 0)
        return -1;
    if (plan(&g) != 0) {
        snprintf(err, n, "out of memory");
        goto out;
    }
    for (size_t fi = 0; fi < sizeof files / sizeof files[0]; fi++) {
        FILE *f = create(o->out, files[fi].file, err, n);

        if (!f)
            goto out;
        for (size_t k = 0; k < files[fi].nkinds; k++)
            if (write_kind(&g, f, files[fi].kinds[k]) != 0)
                break;
        if (close_file(f, files[fi].file, err, n) != 0)
            goto out;
        if (!o->quiet)
            fprintf(stderr, "kxgen: %s written\n", files[fi].file);
    }
    if (write_side(&g, err, n) != 0)
        goto out;
    if (!o->quiet)
        fprintf(stderr,
                "kxgen: %llu experts, %llu academicians, %llu societies, "
                "%llu enterprises, %llu needs, %llu results in %s\n",
                (unsigned long long)g.n[GEN_EXPERT],
                (unsigned long long)g.n[GEN_ACADEMICIAN],
                (unsigned long long)g.n[GEN_SOCIETY],
                (unsigned long long)g.n[GEN_ENTERPRISE],
                (unsigned long long)g.n[GEN_NEED],
                (unsigned long long)g.n[GEN_RESULT], o->out);
    rc = 0;
out:
    gen_dist_free(&g.classes);
    gen_dist_free(&g.ent_pop);
    for (size_t k = 0; k < g.ndis_top; k++)
        free(g.dis_desc ? g.dis_desc[k] : NULL);
    free(g.dis_desc);
    free(g.ndis_desc);
    free(g.dis_top);
    free(g.need_status);
    gen_buf_free(&g.line);
    gen_buf_free(&g.text);
    gen_taxo_free(&g.t);
    return rc;
}
