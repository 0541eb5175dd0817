/* test_taxo.c - unit tests for taxo.c: shipped taxonomies, loader errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "taxo.h"

#ifndef KX_TAXONOMY_DIR
#error "build with -DKX_TAXONOMY_DIR=\"path/to/datasets/taxonomy\""
#endif

static taxo *T;

/* ---- helpers ---------------------------------------------------------- */

struct level_count {
    size_t n[8];
    size_t total;
    int in_order;        /* every code's parent came before it */
    const taxo *t;
    enum taxo_kind k;
};

static int count_levels(void *ctx, const char *code, const char *name,
                        const char *name_en, const char *remark, int level)
{
    struct level_count *c = ctx;
    (void)name_en;
    (void)remark;
    if (level >= 0 && level < 8)
        c->n[level]++;
    c->total++;
    if (!name || !*name || taxo_level(c->t, c->k, code) != level)
        c->in_order = 0;
    return 0;
}

static struct level_count levels(enum taxo_kind k)
{
    struct level_count c;

    memset(&c, 0, sizeof c);
    c.in_order = 1;
    c.t = T;
    c.k = k;
    taxo_each(T, k, count_levels, &c);
    return c;
}

static int stop_after_two(void *ctx, const char *code, const char *name,
                          const char *name_en, const char *remark, int level)
{
    int *n = ctx;
    (void)code;
    (void)name;
    (void)name_en;
    (void)remark;
    (void)level;
    return ++*n == 2;
}

static int first_code(void *ctx, const char *code, const char *name,
                      const char *name_en, const char *remark, int level)
{
    (void)name;
    (void)name_en;
    (void)remark;
    (void)level;
    *(const char **)ctx = code;
    return 1;
}

/* A scratch taxonomy directory with small files we can break at will. */
static char fx_dir[64];

static void fx_write(const char *rel, const char *content)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", fx_dir, rel);
    f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    fputs(content, f);
    fclose(f);
}

static const char fx_industry[] =
    "code,level,section,division,group,class,name,remark\n"
    "A,1,A,,,,\"农、林、牧、渔业\",\"本门类包括01～05大类\"\n"
    "01,2,A,01,,,\"农业\",\"\"\n"
    "011,3,A,01,011,,\"谷物种植\",\"指以收获籽实为主\"\n"
    "0111,4,A,01,011,0111,\"稻谷种植\",\"\"\n"
    "0190,4,A,01,019,0190,\"其他农业\",\"a \"\"quoted\"\", comma\r\n"
    "and a second line\"\r\n"
    "\n"
    "C,1,C,,,,\"制造业\",\"\"\n"
    "37,2,C,37,,,\"运输设备\",\"\"\n"
    "374,3,C,37,374,,\"航空、航天器及设备制造\",\"\"\n"
    "374,3,C,37,374,,\"飞机制造\",\"\"\n"
    "3742,4,C,37,374,3742,\"航天器及运载火箭制造\",\"\"\n";

static const char fx_nsfc[] =
    "{\"_id\": \"B06\", \"name\": \"化学工程\", \"name_en\": \"Chemical "
    "Engineering\", \"parents\": [], \"children\": [\"B0601\"], "
    "\"is_leaf\": false}\n"
    "{\"_id\": \"B0601\", \"name\": \"化工热力学\", \"name_en\": \"\", "
    "\"parents\": [\"B06\"], \"children\": [], \"is_leaf\": true}\n";

static const char fx_prov[] = "code,name\n37,\"山东省\"\n44,\"广东省\"\n";
static const char fx_city[] =
    "code,name,provinceCode\n3716,\"滨州市\",37\n4419,\"东莞市\",44\n";
static const char fx_area[] = "code,name,cityCode,provinceCode\n"
                              "371602,\"滨城区\",3716,37\n"
                              "441900,\"东莞市\",4419,44\n";
static const char fx_street[] = "code,name,areaCode,provinceCode,cityCode\n"
                                "371602001,\"市中街道\",371602,37,3716\n";

static void fx_reset(void)
{
    fx_write("industry/gbt4754_2017.csv", fx_industry);
    fx_write("discipline/nsfc.jsonl", fx_nsfc);
    fx_write("region/provinces.csv", fx_prov);
    fx_write("region/cities.csv", fx_city);
    fx_write("region/areas.csv", fx_area);
    fx_write("region/streets_binzhou_3716.csv", fx_street);
}

static void fx_setup(void)
{
    char sub[128];
    static const char *const dirs[] = {"industry", "discipline", "region"};
    size_t i;

    snprintf(fx_dir, sizeof fx_dir, "/tmp/kx_taxo_XXXXXX");
    if (!mkdtemp(fx_dir)) {
        perror("mkdtemp");
        exit(2);
    }
    for (i = 0; i < 3; i++) {
        snprintf(sub, sizeof sub, "%s/%s", fx_dir, dirs[i]);
        mkdir(sub, 0700);
    }
    fx_reset();
}

static void fx_teardown(void)
{
    static const char *const files[] = {
        "industry/gbt4754_2017.csv", "discipline/nsfc.jsonl",
        "region/provinces.csv", "region/cities.csv", "region/areas.csv",
        "region/streets_binzhou_3716.csv", "industry", "discipline", "region",
    };
    char path[256];
    size_t i;

    for (i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", fx_dir, files[i]);
        remove(path);
    }
    rmdir(fx_dir);
}

/* Loads the fixture after replacing one file; checks the error. */
static void expect_corrupt(const char *rel, const char *content,
                           enum kx_status want, long line, const char *msg)
{
    struct kx_error err;
    taxo *t = (taxo *)1;
    enum kx_status st;

    fx_reset();
    fx_write(rel, content);
    kx_error_clear(&err);
    st = taxo_load(fx_dir, &t, &err);
    if (st != want || t != NULL || err.line != line ||
        !strstr(err.file, rel) || !strstr(err.msg, msg))
        fprintf(stderr, "  %s: got %s, line %ld, file \"%s\", msg \"%s\"\n",
                rel, kx_status_str(st), err.line, err.file, err.msg);
    CHECK_INT(st, want);
    CHECK(t == NULL);
    CHECK_INT(err.line, line);
    CHECK(strstr(err.file, rel) != NULL);
    CHECK(strstr(err.msg, msg) != NULL);
}

/* ---- the shipped files ---------------------------------------------- */

static void test_counts(void)
{
    struct level_count c;

    c = levels(TAXO_INDUSTRY);
    CHECK_INT(c.n[1], 20);     /* 门类 A..T */
    CHECK_INT(c.n[2], 97);     /* 大类 */
    CHECK_INT(c.n[3], 473);    /* 中类, incl. single-class groups */
    CHECK_INT(c.n[4], 1381);   /* 小类, incl. 3741 repaired */
    CHECK_INT(c.total, taxo_count(T, TAXO_INDUSTRY));
    CHECK_INT(taxo_count(T, TAXO_INDUSTRY), 1971);
    CHECK(c.in_order);

    c = levels(TAXO_DISCIPLINE);
    CHECK_INT(c.n[1], 86);
    CHECK_INT(c.n[2], 1013);
    CHECK_INT(c.n[3], 1817);
    CHECK_INT(taxo_count(T, TAXO_DISCIPLINE), 2916);
    CHECK(c.in_order);

    c = levels(TAXO_REGION);
    CHECK_INT(c.n[1], 31);
    CHECK_INT(c.n[2], 342);
    CHECK_INT(c.n[3], 2975);   /* 2978 rows less 东莞, 中山, 儋州 */
    CHECK_INT(c.n[4], 92);     /* 滨州 townships */
    CHECK_INT(taxo_count(T, TAXO_REGION), 3440);
    CHECK(c.in_order);

    CHECK_INT(taxo_count(T, TAXO_KIND_LAST), 0);
    CHECK_INT(taxo_count(NULL, TAXO_REGION), 0);
}

static void test_industry_levels(void)
{
    static const char *const ok[] = {"A", "C", "T", "26", "261", "2614",
                                     "2619", "65", "6513", "96", "97", "9700"};
    static const char *const no[] = {"", "U", "c", "Z", "2", "00", "2699x",
                                     "26140", "269", "0170", " 261", "261 ",
                                     "C26"};
    size_t i;

    for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (!taxo_valid(T, TAXO_INDUSTRY, ok[i]))
            fprintf(stderr, "  expected valid: \"%s\"\n", ok[i]);
        CHECK(taxo_valid(T, TAXO_INDUSTRY, ok[i]));
    }
    for (i = 0; i < sizeof no / sizeof no[0]; i++) {
        if (taxo_valid(T, TAXO_INDUSTRY, no[i]))
            fprintf(stderr, "  expected invalid: \"%s\"\n", no[i]);
        CHECK(!taxo_valid(T, TAXO_INDUSTRY, no[i]));
    }
    CHECK_INT(taxo_level(T, TAXO_INDUSTRY, "C"), 1);
    CHECK_INT(taxo_level(T, TAXO_INDUSTRY, "26"), 2);
    CHECK_INT(taxo_level(T, TAXO_INDUSTRY, "261"), 3);
    CHECK_INT(taxo_level(T, TAXO_INDUSTRY, "2614"), 4);
    CHECK_INT(taxo_level(T, TAXO_INDUSTRY, "2699x"), 0);
    CHECK_STR(taxo_parent(T, TAXO_INDUSTRY, "2614"), "261");
    CHECK_STR(taxo_parent(T, TAXO_INDUSTRY, "261"), "26");
    CHECK_STR(taxo_parent(T, TAXO_INDUSTRY, "26"), "C");
    CHECK(taxo_parent(T, TAXO_INDUSTRY, "C") == NULL);
    CHECK(taxo_parent(T, TAXO_INDUSTRY, "2699x") == NULL);
    /* a division's parent is its section column, not a code prefix */
    CHECK_STR(taxo_parent(T, TAXO_INDUSTRY, "65"), "I");
    CHECK_STR(taxo_parent(T, TAXO_INDUSTRY, "01"), "A");
    CHECK_STR(taxo_parent(T, TAXO_INDUSTRY, "96"), "S");
    CHECK_STR(taxo_parent(T, TAXO_INDUSTRY, "97"), "T");
}

static void test_industry_single_class_groups(void)
{
    const char *anc[8];

    /* 017 is printed with its own row and two classes */
    CHECK(taxo_valid(T, TAXO_INDUSTRY, "017"));
    CHECK_STR(taxo_name(T, TAXO_INDUSTRY, "017"), "中药材种植");
    CHECK_STR(taxo_parent(T, TAXO_INDUSTRY, "0171"), "017");
    CHECK_STR(taxo_parent(T, TAXO_INDUSTRY, "017"), "01");
    CHECK(!taxo_valid(T, TAXO_INDUSTRY, "0170"));
    /* 019 appears only as its class 0190: the group exists all the same */
    CHECK(taxo_valid(T, TAXO_INDUSTRY, "019"));
    CHECK_INT(taxo_level(T, TAXO_INDUSTRY, "019"), 3);
    CHECK_STR(taxo_name(T, TAXO_INDUSTRY, "019"), "其他农业");
    CHECK_STR(taxo_parent(T, TAXO_INDUSTRY, "0190"), "019");
    CHECK_STR(taxo_parent(T, TAXO_INDUSTRY, "019"), "01");
    CHECK_INT(taxo_ancestors(T, TAXO_INDUSTRY, "0190", anc, 8), 4);
    CHECK_STR(anc[0], "0190");
    CHECK_STR(anc[1], "019");
    CHECK_STR(anc[2], "01");
    CHECK_STR(anc[3], "A");
    CHECK_STR(taxo_parent(T, TAXO_INDUSTRY, "0220"), "022");
    CHECK_STR(taxo_name(T, TAXO_INDUSTRY, "022"), "造林和更新");
    CHECK_STR(taxo_meet(T, TAXO_INDUSTRY, "0190", "019"), "019");
}

static void test_industry_erratum_3741(void)
{
    /* the source file has 飞机制造 as a second "374" row */
    CHECK(taxo_valid(T, TAXO_INDUSTRY, "3741"));
    CHECK_STR(taxo_name(T, TAXO_INDUSTRY, "3741"), "飞机制造");
    CHECK_INT(taxo_level(T, TAXO_INDUSTRY, "3741"), 4);
    CHECK_STR(taxo_parent(T, TAXO_INDUSTRY, "3741"), "374");
    CHECK_STR(taxo_name(T, TAXO_INDUSTRY, "374"), "航空、航天器及设备制造");
    CHECK(strstr(taxo_remark(T, TAXO_INDUSTRY, "3741"), "飞机发动机") != NULL);
}

static void test_industry_names_remarks(void)
{
    const char *r;

    CHECK_STR(taxo_name(T, TAXO_INDUSTRY, "A"), "农、林、牧、渔业");
    CHECK_STR(taxo_name(T, TAXO_INDUSTRY, "2614"), "有机化学原料制造");
    CHECK_STR(taxo_name(T, TAXO_INDUSTRY, "6513"), "应用软件开发");
    CHECK(taxo_name(T, TAXO_INDUSTRY, "2699x") == NULL);
    CHECK(taxo_name_en(T, TAXO_INDUSTRY, "2614") == NULL);
    CHECK_STR(taxo_remark(T, TAXO_INDUSTRY, "A"), "本门类包括01～05大类");
    r = taxo_remark(T, TAXO_INDUSTRY, "6513");
    CHECK(r && strncmp(r, "指独立销售的面向应用需求的软件", 15 * 3) == 0);
    /* an ASCII comma inside a quoted remark stays in the remark */
    r = taxo_remark(T, TAXO_INDUSTRY, "7212");
    CHECK(r && strstr(r, "投资活动,不包括资本活动的投资") != NULL);
    CHECK(taxo_remark(T, TAXO_INDUSTRY, "0111") == NULL);   /* "" */
    CHECK(taxo_remark(T, TAXO_INDUSTRY, "2699x") == NULL);
}

static void test_discipline(void)
{
    const char *anc[4];

    CHECK(taxo_valid(T, TAXO_DISCIPLINE, "B06"));
    CHECK(taxo_valid(T, TAXO_DISCIPLINE, "B0601"));
    CHECK(taxo_valid(T, TAXO_DISCIPLINE, "B060101"));
    CHECK(taxo_valid(T, TAXO_DISCIPLINE, "F0201"));
    CHECK(!taxo_valid(T, TAXO_DISCIPLINE, "B"));
    CHECK(!taxo_valid(T, TAXO_DISCIPLINE, "b06"));
    CHECK(!taxo_valid(T, TAXO_DISCIPLINE, "B0699"));
    CHECK(!taxo_valid(T, TAXO_DISCIPLINE, "Z01"));
    CHECK(!taxo_valid(T, TAXO_DISCIPLINE, "2614"));   /* other kind */
    CHECK_INT(taxo_level(T, TAXO_DISCIPLINE, "B06"), 1);
    CHECK_INT(taxo_level(T, TAXO_DISCIPLINE, "B0601"), 2);
    CHECK_INT(taxo_level(T, TAXO_DISCIPLINE, "B060101"), 3);
    CHECK_STR(taxo_parent(T, TAXO_DISCIPLINE, "B060101"), "B0601");
    CHECK_STR(taxo_parent(T, TAXO_DISCIPLINE, "B0601"), "B06");
    CHECK(taxo_parent(T, TAXO_DISCIPLINE, "B06") == NULL);
    CHECK_INT(taxo_ancestors(T, TAXO_DISCIPLINE, "B060101", anc, 4), 3);
    CHECK_STR(anc[2], "B06");
    CHECK_STR(taxo_name(T, TAXO_DISCIPLINE, "B06"), "化学工程及工业化学");
    CHECK_STR(taxo_name_en(T, TAXO_DISCIPLINE, "B06"),
              "Chemical Engineering and Industrial Chemistry");
    CHECK_STR(taxo_name(T, TAXO_DISCIPLINE, "A01"), "数学");
    CHECK_STR(taxo_name_en(T, TAXO_DISCIPLINE, "A01"), "mathematics");
    CHECK_STR(taxo_name(T, TAXO_DISCIPLINE, "F02"), "计算机科学");
    CHECK(taxo_remark(T, TAXO_DISCIPLINE, "B06") == NULL);
    CHECK(taxo_name_en(T, TAXO_DISCIPLINE, "Z01") == NULL);
}

static void test_region(void)
{
    const char *anc[8];

    CHECK(taxo_valid(T, TAXO_REGION, "370000"));
    CHECK(taxo_valid(T, TAXO_REGION, "371600"));
    CHECK(taxo_valid(T, TAXO_REGION, "371602"));
    CHECK(taxo_valid(T, TAXO_REGION, "371681"));
    CHECK(taxo_valid(T, TAXO_REGION, "371602001"));
    CHECK(!taxo_valid(T, TAXO_REGION, "37"));
    CHECK(!taxo_valid(T, TAXO_REGION, "3716"));
    CHECK(!taxo_valid(T, TAXO_REGION, "371699"));
    CHECK(!taxo_valid(T, TAXO_REGION, "371602999"));
    CHECK(!taxo_valid(T, TAXO_REGION, "810000"));   /* no HK/MO/TW */
    CHECK_INT(taxo_level(T, TAXO_REGION, "370000"), 1);
    CHECK_INT(taxo_level(T, TAXO_REGION, "371600"), 2);
    CHECK_INT(taxo_level(T, TAXO_REGION, "371602"), 3);
    CHECK_INT(taxo_level(T, TAXO_REGION, "371602001"), 4);
    CHECK_INT(taxo_ancestors(T, TAXO_REGION, "371602001", anc, 8), 4);
    CHECK_STR(anc[0], "371602001");
    CHECK_STR(anc[1], "371602");
    CHECK_STR(anc[2], "371600");
    CHECK_STR(anc[3], "370000");
    CHECK_STR(taxo_name(T, TAXO_REGION, "371602001"), "市中街道");
    CHECK_STR(taxo_name(T, TAXO_REGION, "371602"), "滨城区");
    CHECK_STR(taxo_name(T, TAXO_REGION, "371600"), "滨州市");
    CHECK_STR(taxo_name(T, TAXO_REGION, "370000"), "山东省");
    CHECK(taxo_name_en(T, TAXO_REGION, "370000") == NULL);
    /* municipalities: the city level is "市辖区" and is kept as such */
    CHECK_STR(taxo_name(T, TAXO_REGION, "110100"), "市辖区");
    CHECK_STR(taxo_parent(T, TAXO_REGION, "110101"), "110100");
    CHECK_STR(taxo_parent(T, TAXO_REGION, "110100"), "110000");
    /* a city without counties is one unit, at the city level */
    CHECK_INT(taxo_level(T, TAXO_REGION, "441900"), 2);
    CHECK_STR(taxo_name(T, TAXO_REGION, "441900"), "东莞市");
    CHECK_STR(taxo_parent(T, TAXO_REGION, "441900"), "440000");
}

static void test_meet_and_ancestors(void)
{
    const char *anc[8];

    CHECK_STR(taxo_meet(T, TAXO_INDUSTRY, "2614", "2619"), "261");
    CHECK_STR(taxo_meet(T, TAXO_INDUSTRY, "2614", "2621"), "26");
    CHECK_STR(taxo_meet(T, TAXO_INDUSTRY, "2614", "3742"), "C");
    CHECK_STR(taxo_meet(T, TAXO_INDUSTRY, "2614", "2614"), "2614");
    CHECK_STR(taxo_meet(T, TAXO_INDUSTRY, "26", "2614"), "26");
    CHECK(taxo_meet(T, TAXO_INDUSTRY, "2614", "0111") == NULL);
    CHECK(taxo_meet(T, TAXO_INDUSTRY, "2614", "2699x") == NULL);
    CHECK(taxo_meet(T, TAXO_INDUSTRY, NULL, "2614") == NULL);
    CHECK_STR(taxo_meet(T, TAXO_DISCIPLINE, "B0601", "B06"), "B06");
    CHECK_STR(taxo_meet(T, TAXO_DISCIPLINE, "B060101", "B060102"), "B0601");
    CHECK(taxo_meet(T, TAXO_DISCIPLINE, "B06", "F02") == NULL);
    CHECK_STR(taxo_meet(T, TAXO_REGION, "371602001", "371603"), "371600");
    CHECK_STR(taxo_meet(T, TAXO_REGION, "371602001", "370100"), "370000");
    CHECK(taxo_meet(T, TAXO_REGION, "371602", "110101") == NULL);

    CHECK_INT(taxo_ancestors(T, TAXO_INDUSTRY, "2614", anc, 8), 4);
    CHECK_STR(anc[3], "C");
    /* max bounds the output, most specific first */
    anc[2] = "untouched";
    CHECK_INT(taxo_ancestors(T, TAXO_INDUSTRY, "2614", anc, 2), 2);
    CHECK_STR(anc[0], "2614");
    CHECK_STR(anc[1], "261");
    CHECK_STR(anc[2], "untouched");
    CHECK_INT(taxo_ancestors(T, TAXO_INDUSTRY, "2614", anc, 0), 0);
    CHECK_INT(taxo_ancestors(T, TAXO_INDUSTRY, "nope", anc, 8), 0);
}

static void test_each_order_and_stop(void)
{
    const char *first = NULL;
    int n = 0;

    taxo_each(T, TAXO_INDUSTRY, first_code, &first);
    CHECK_STR(first, "A");
    taxo_each(T, TAXO_DISCIPLINE, first_code, &first);
    CHECK_STR(first, "A01");
    taxo_each(T, TAXO_REGION, first_code, &first);
    CHECK_STR(first, "110000");
    taxo_each(T, TAXO_REGION, stop_after_two, &n);
    CHECK_INT(n, 2);
    taxo_each(NULL, TAXO_REGION, stop_after_two, &n);
    taxo_each(T, TAXO_KIND_LAST, stop_after_two, &n);
    CHECK_INT(n, 2);
}

static void test_null_and_bad_args(void)
{
    CHECK(!taxo_valid(NULL, TAXO_INDUSTRY, "C"));
    CHECK(!taxo_valid(T, TAXO_INDUSTRY, NULL));
    CHECK(!taxo_valid(T, TAXO_KIND_LAST, "C"));
    CHECK(!taxo_valid(T, (enum taxo_kind)-1, "C"));
    CHECK(taxo_name(NULL, TAXO_INDUSTRY, "C") == NULL);
    CHECK_INT(taxo_level(NULL, TAXO_INDUSTRY, "C"), 0);
    taxo_free(NULL);
}

static void test_load_time(void)
{
    struct timespec a, b;
    taxo *t = NULL;
    double ms;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    CHECK_INT(taxo_load(KX_TAXONOMY_DIR, &t, NULL), KX_OK);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    ms = (double)(b.tv_sec - a.tv_sec) * 1e3 +
         (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    printf("     taxonomy load: %.2f ms CPU\n", ms);
    /* generous enough for sanitizers and valgrind; catches a loader that
     * went quadratic, not a slow machine */
    CHECK(ms < 2000);
    taxo_free(t);
}

static void test_default_dir(void)
{
    char *saved = getenv("KXMATCH_TAXONOMY") ? strdup(getenv("KXMATCH_TAXONOMY")) : NULL;
    struct kx_error err;
    taxo *t = NULL;

    unsetenv("KXMATCH_TAXONOMY");
    CHECK_STR(taxo_default_dir(), KX_TAXONOMY_DIR);
    setenv("KXMATCH_TAXONOMY", "", 1);
    CHECK_STR(taxo_default_dir(), KX_TAXONOMY_DIR);
    setenv("KXMATCH_TAXONOMY", fx_dir, 1);
    CHECK_STR(taxo_default_dir(), fx_dir);
    fx_reset();
    kx_error_clear(&err);
    CHECK_INT(taxo_load(NULL, &t, &err), KX_OK);
    CHECK_INT(taxo_count(t, TAXO_DISCIPLINE), 2);
    taxo_free(t);
    if (saved)
        setenv("KXMATCH_TAXONOMY", saved, 1);
    else
        unsetenv("KXMATCH_TAXONOMY");
    free(saved);
}

/* ---- the loader on small files -------------------------------------- */

static void test_fixture_parsing(void)
{
    struct kx_error err;
    taxo *t = NULL;

    fx_reset();
    kx_error_clear(&err);
    CHECK_INT(taxo_load(fx_dir, &t, &err), KX_OK);
    if (!t)
        return;
    /* doubled quotes, a comma and a quoted CRLF newline in one remark */
    CHECK_STR(taxo_remark(t, TAXO_INDUSTRY, "0190"),
              "a \"quoted\", comma\r\nand a second line");
    CHECK_STR(taxo_remark(t, TAXO_INDUSTRY, "019"),
              "a \"quoted\", comma\r\nand a second line");
    CHECK_STR(taxo_parent(t, TAXO_INDUSTRY, "019"), "01");
    CHECK_STR(taxo_parent(t, TAXO_INDUSTRY, "3741"), "374");
    CHECK_STR(taxo_name(t, TAXO_INDUSTRY, "374"), "航空、航天器及设备制造");
    CHECK_INT(taxo_count(t, TAXO_INDUSTRY), 11);
    CHECK(taxo_name_en(t, TAXO_DISCIPLINE, "B0601") == NULL);   /* "" */
    CHECK_STR(taxo_name_en(t, TAXO_DISCIPLINE, "B06"),
              "Chemical Engineering");
    CHECK_STR(taxo_parent(t, TAXO_REGION, "371602001"), "371602");
    CHECK_INT(taxo_level(t, TAXO_REGION, "441900"), 2);
    CHECK_INT(taxo_count(t, TAXO_REGION), 6);
    taxo_free(t);
}

static void test_missing_files(void)
{
    struct kx_error err;
    taxo *t = (taxo *)1;
    char path[256];

    kx_error_clear(&err);
    CHECK_INT(taxo_load("/nonexistent/kx-taxonomy", &t, &err), KX_NOTFOUND);
    CHECK(t == NULL);
    CHECK_STR(err.file, "/nonexistent/kx-taxonomy/industry/gbt4754_2017.csv");
    CHECK(strstr(err.msg, "No such file") != NULL);

    /* the first file present, a later one missing: its name is reported */
    fx_reset();
    snprintf(path, sizeof path, "%s/region/areas.csv", fx_dir);
    remove(path);
    kx_error_clear(&err);
    t = (taxo *)1;
    CHECK_INT(taxo_load(fx_dir, &t, &err), KX_NOTFOUND);
    CHECK(t == NULL);
    CHECK(strstr(err.file, "region/areas.csv") != NULL);
    CHECK_INT(err.line, 0);

    /* a directory where a file should be is an I/O error, not "missing" */
    mkdir(path, 0700);
    kx_error_clear(&err);
    CHECK_INT(taxo_load(fx_dir, &t, &err), KX_IO);
    CHECK(strstr(err.file, "region/areas.csv") != NULL);
    CHECK(strstr(err.msg, "Is a directory") != NULL);
    rmdir(path);

    /* a path too long for the loader is refused up front */
    {
        char *longdir = malloc(5000);

        if (longdir) {
            memset(longdir, 'a', 4999);
            longdir[0] = '/';
            longdir[4999] = '\0';
            kx_error_clear(&err);
            CHECK_INT(taxo_load(longdir, &t, &err), KX_BADINPUT);
            CHECK(strstr(err.msg, "too long") != NULL);
            free(longdir);
        }
    }
    CHECK_INT(taxo_load(fx_dir, NULL, &err), KX_BADINPUT);
}

static void test_corrupt_files(void)
{
    expect_corrupt("industry/gbt4754_2017.csv",
                   "code,level,section,division,group,class,name\n",
                   KX_CORRUPT, 1, "expected the header");
    expect_corrupt("industry/gbt4754_2017.csv",
                   "code,level,section,division,group,class,name,remark\n"
                   "A,1,A,,,,\"农业\",\"\"\n"
                   "01,2,A,01,,,\"农业\"\n",
                   KX_CORRUPT, 3, "expected 8 columns, got 7");
    expect_corrupt("industry/gbt4754_2017.csv",
                   "code,level,section,division,group,class,name,remark\n"
                   "A,1,A,,,,\"农业\",\"\"\n"
                   "01,2,A,01,,,\"农业\",\"never closed\n",
                   KX_CORRUPT, 3, "unterminated quoted field");
    expect_corrupt("industry/gbt4754_2017.csv",
                   "code,level,section,division,group,class,name,remark\n"
                   "A,1,A,,,,\"农业\"x,\"\"\n",
                   KX_CORRUPT, 2, "after a closing quote");
    expect_corrupt("industry/gbt4754_2017.csv",
                   "code,level,section,division,group,class,name,remark\n"
                   "A,1,A,,,,\"农业\",\"\"\n"
                   "A,1,A,,,,\"农业\",\"\"\n",
                   KX_CORRUPT, 3, "duplicate code \"A\"");
    expect_corrupt("industry/gbt4754_2017.csv",
                   "code,level,section,division,group,class,name,remark\n"
                   "A,1,A,,,,\"农业\",\"\"\n"
                   "02,2,B,02,,,\"林业\",\"\"\n",
                   KX_CORRUPT, 3, "parent code \"B\" is unknown");
    expect_corrupt("industry/gbt4754_2017.csv",
                   "code,level,section,division,group,class,name,remark\n"
                   "A,5,A,,,,\"农业\",\"\"\n",
                   KX_CORRUPT, 2, "level \"5\" is not 1 to 4");
    expect_corrupt("industry/gbt4754_2017.csv",
                   "code,level,section,division,group,class,name,remark\n"
                   "A,1,A,,,,\"农业\",\"\"\n"
                   "011,2,A,01,,,\"农业\",\"\"\n",
                   KX_CORRUPT, 3, "does not fit its level");
    expect_corrupt("discipline/nsfc.jsonl",
                   "{\"_id\": \"B06\", \"name\": \"x\", \"parents\": []}\n"
                   "{\"_id\": \"B0601\", \"name\": \"y\", "
                   "\"parents\": [\"B06\"]\n",
                   KX_CORRUPT, 2, "malformed JSON");
    expect_corrupt("discipline/nsfc.jsonl",
                   "{\"_id\": \"B06\", \"name\": \"x\", \"parents\": []}\n"
                   "\n"
                   "{\"_id\": \"B0601\", \"name\": \"y\", "
                   "\"parents\": [\"B07\"]}\n",
                   KX_CORRUPT, 3, "parent code \"B07\" is unknown");
    expect_corrupt("discipline/nsfc.jsonl",
                   "{\"_id\": \"b06\", \"name\": \"x\", \"parents\": []}\n",
                   KX_CORRUPT, 1, "\"_id\"");
    expect_corrupt("discipline/nsfc.jsonl",
                   "{\"_id\": \"B06\", \"parents\": []}\n",
                   KX_CORRUPT, 1, "\"name\" is missing");
    expect_corrupt("region/cities.csv",
                   "code,name,provinceCode\n3716,\"滨州市\",37\n"
                   "4419,\"东莞市\",45\n",
                   KX_CORRUPT, 3, "parent code \"45\" does not fit");
    expect_corrupt("region/cities.csv",
                   "code,name,provinceCode\n3716,\"滨州市\",37\n"
                   "4519,\"某市\",45\n",
                   KX_CORRUPT, 3, "parent code \"450000\" is unknown");
    expect_corrupt("region/areas.csv",
                   "code,name,cityCode,provinceCode\n"
                   "37160,\"滨城区\",3716,37\n",
                   KX_CORRUPT, 2, "wrong length");
    expect_corrupt("region/streets_binzhou_3716.csv",
                   "code,name,areaCode,provinceCode,cityCode\n"
                   "371603001,\"某街道\",371603,37,3716\n",
                   KX_CORRUPT, 2, "parent code \"371603\" is unknown");
    expect_corrupt("region/provinces.csv", "code,name\n37,\"\"\n",
                   KX_CORRUPT, 2, "has no name");
    /* a NUL byte would end the parse early; it is an error instead */
    {
        static const char nul[] = "code,name\n37,\"山东省\"\n44,\"广\0东省\"\n";
        char path[256];
        struct kx_error err;
        taxo *t = NULL;
        FILE *f;

        fx_reset();
        snprintf(path, sizeof path, "%s/region/provinces.csv", fx_dir);
        f = fopen(path, "w");
        if (f) {
            fwrite(nul, 1, sizeof nul - 1, f);
            fclose(f);
        }
        kx_error_clear(&err);
        CHECK_INT(taxo_load(fx_dir, &t, &err), KX_CORRUPT);
        CHECK_INT(err.line, 3);
        CHECK(strstr(err.msg, "NUL byte at offset") != NULL);
        CHECK(t == NULL);
    }
    fx_reset();
}

int main(void)
{
    struct kx_error err;

    kx_error_clear(&err);
    if (taxo_load(KX_TAXONOMY_DIR, &T, &err) != KX_OK) {
        char buf[1024];

        kx_error_format(&err, buf, sizeof buf);
        fprintf(stderr, "cannot load %s: %s\n", KX_TAXONOMY_DIR, buf);
        return 1;
    }
    fx_setup();
    RUN(test_counts);
    RUN(test_industry_levels);
    RUN(test_industry_single_class_groups);
    RUN(test_industry_erratum_3741);
    RUN(test_industry_names_remarks);
    RUN(test_discipline);
    RUN(test_region);
    RUN(test_meet_and_ancestors);
    RUN(test_each_order_and_stop);
    RUN(test_null_and_bad_args);
    RUN(test_load_time);
    RUN(test_default_dir);
    RUN(test_fixture_parsing);
    RUN(test_missing_files);
    RUN(test_corrupt_files);
    fx_teardown();
    taxo_free(T);
    return check_report();
}
