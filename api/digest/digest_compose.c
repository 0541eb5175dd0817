/* digest_compose.c - loading a stored plan, finding its recipients, and
 * writing each recipient's message: Chinese text and HTML, wrapped as
 * RFC 5322 / MIME multipart/alternative. */
#include "config.h"
#include "digest_int.h"
#include "answer.h"
#include "util.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- loading ------------------------------------------------------------ */

void api_dplan_free(struct dplan *p)
{
    free(p->pairs);
    free(p->news);
    free(p->moves);
    memset(p, 0, sizeof *p);
}

struct load_ctx {
    struct dplan *p;
    size_t cap, skip;
    int oom;
};

static void copy_str(char *dst, size_t n, json_object *o, const char *field)
{
    const char *s = api_digest_str(o, field);

    snprintf(dst, n, "%s", s ? s : "");
}

static int pair_load(void *ctx, const void *key, size_t klen,
                     const void *val, size_t vlen)
{
    struct load_ctx *lc = ctx;
    struct dplan *p = lc->p;
    char k[2 * KX_KEY_MAX + 64], *bar;
    json_tokener *tok;
    json_object *o, *v;
    struct dpair *d;

    if (klen >= sizeof k)
        return 0;
    memcpy(k, key, klen);
    k[klen] = '\0';
    if (!(bar = strchr(k + lc->skip, '|')))
        return 0;
    *bar = '\0';
    if (kx_grow(&p->pairs, &lc->cap, p->npairs + 1,
                sizeof *p->pairs, 64) != 0) {
        lc->oom = 1;
        return 1;
    }
    if (!(tok = json_tokener_new())) {
        lc->oom = 1;
        return 1;
    }
    o = json_tokener_parse_ex(tok, val, (int)vlen);
    json_tokener_free(tok);
    if (!o)
        return 0;
    d = &p->pairs[p->npairs++];
    memset(d, 0, sizeof *d);
    snprintf(d->need, sizeof d->need, "%s", k + lc->skip);
    snprintf(d->partner, sizeof d->partner, "%s", bar + 1);
    copy_str(d->recipient, sizeof d->recipient, o, "recipient");
    copy_str(d->enterprise, sizeof d->enterprise, o, "enterprise");
    copy_str(d->region, sizeof d->region, o, "region");
    if (json_object_object_get_ex(o, "score", &v))
        d->score = json_object_get_double(v);
    json_object_put(o);
    return 0;
}

enum kx_status api_dplan_load(store_txn *t, const char *week, struct dplan *p,
                          struct kx_error *err)
{
    json_object *sum = NULL, *arr, *v;
    struct load_ctx lc = {p, 0, 0, 0};
    char key[64];
    enum kx_status st;

    memset(p, 0, sizeof *p);
    snprintf(p->week, sizeof p->week, "%s", week);
    snprintf(key, sizeof key, "plan:%s", week);
    st = api_digest_kv_json(t, STORE_DIGEST, key, &sum);
    if (st == KX_NOTFOUND)
        return kx_error_set(err, st, "week", "no plan for week %s (run "
                            "`kxmatch digest plan --week %s`)", week, week);
    if (st != KX_OK)
        return st;
    if (json_object_object_get_ex(sum, "created", &v))
        p->created = json_object_get_int64(v);
    copy_str(p->nonce, sizeof p->nonce, sum, "nonce");
    st = KX_NOMEM;
    if (json_object_object_get_ex(sum, "new_needs", &arr) &&
        json_object_is_type(arr, json_type_array)) {
        size_t n = json_object_array_length(arr);
        if (!(p->news = calloc(n + 1, sizeof *p->news)))
            goto out;
        for (size_t i = 0; i < n; i++) {
            json_object *o = json_object_array_get_idx(arr, i), *c;
            struct dnew *d = &p->news[p->nnews++];
            copy_str(d->need, sizeof d->need, o, "need");
            copy_str(d->region, sizeof d->region, o, "region");
            d->confidential =
                json_object_object_get_ex(o, "confidential", &c) &&
                json_object_get_boolean(c);
        }
    }
    if (json_object_object_get_ex(sum, "moves", &arr) &&
        json_object_is_type(arr, json_type_array)) {
        size_t n = json_object_array_length(arr);
        if (!(p->moves = calloc(n + 1, sizeof *p->moves)))
            goto out;
        for (size_t i = 0; i < n; i++) {
            json_object *o = json_object_array_get_idx(arr, i);
            struct dmove *d = &p->moves[p->nmoves++];
            copy_str(d->need, sizeof d->need, o, "need");
            copy_str(d->partner, sizeof d->partner, o, "partner");
            copy_str(d->stage, sizeof d->stage, o, "stage");
            copy_str(d->updated, sizeof d->updated, o, "updated");
            copy_str(d->region, sizeof d->region, o, "region");
        }
    }
    snprintf(key, sizeof key, "plan:%s:pair:", week);
    lc.skip = strlen(key);
    st = store_kv_each(t, STORE_DIGEST, key, strlen(key), pair_load, &lc);
    if (st == KX_OK && lc.oom)
        st = KX_NOMEM;
out:
    json_object_put(sum);
    if (st != KX_OK)
        api_dplan_free(p);
    return st;
}

/* ---- recipients --------------------------------------------------------- */

struct keyset {
    char **v;
    size_t n, cap;
    int oom;
};

static void keyset_add(struct keyset *s, const char *k)
{
    char *d;

    if (s->oom || !k || !*k)
        return;
    if (kx_grow(&s->v, &s->cap, s->n + 1, sizeof *s->v, 64) != 0) {
        s->oom = 1;
        return;
    }
    if (!(d = strdup(k))) {
        s->oom = 1;
        return;
    }
    s->v[s->n++] = d;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int society_of(void *ctx, const char *key)
{
    if (strncmp(key, "society:", 8) == 0)
        keyset_add(ctx, key);
    return 0;
}

struct liaison_scan {
    const struct dplan *p;
    struct keyset *ks;
};

static int region_has_news(const struct dplan *p, const char *region)
{
    for (size_t i = 0; i < p->nnews; i++)
        if (api_digest_region_in(p->news[i].region, region))
            return 1;
    for (size_t i = 0; i < p->npairs; i++)
        if (api_digest_region_in(p->pairs[i].region, region))
            return 1;
    for (size_t i = 0; i < p->nmoves; i++)
        if (api_digest_region_in(p->moves[i].region, region))
            return 1;
    return 0;
}

static int liaison_of(void *ctx, const void *key, size_t klen,
                      const void *val, size_t vlen)
{
    struct liaison_scan *ls = ctx;
    char region[32], k[48];

    (void)val, (void)vlen;
    if (klen - 8 >= sizeof region)
        return 0;
    memcpy(region, (const char *)key + 8, klen - 8);
    region[klen - 8] = '\0';
    if (region_has_news(ls->p, region)) {
        snprintf(k, sizeof k, "liaison:%s", region);
        keyset_add(ls->ks, k);
    }
    return 0;
}

static int is_person(const char *key)
{
    return strncmp(key, "expert:", 7) == 0 ||
           strncmp(key, "academician:", 12) == 0;
}

enum kx_status api_dplan_recipients(store_txn *t, const struct dplan *p,
                                char ***keys, size_t *n)
{
    struct keyset ks = {0};
    struct liaison_scan ls = {p, &ks};
    enum kx_status st = KX_OK;
    size_t u = 0;

    *keys = NULL;
    *n = 0;
    for (size_t i = 0; i < p->npairs && st == KX_OK; i++) {
        char tag[KX_KEY_MAX + 4];
        keyset_add(&ks, p->pairs[i].recipient);
        keyset_add(&ks, p->pairs[i].enterprise);
        if (!is_person(p->pairs[i].partner))
            continue;
        /* societies hear about their members */
        snprintf(tag, sizeof tag, "F:%s", p->pairs[i].partner);
        st = store_posting_each(t, tag, society_of, &ks);
    }
    if (st == KX_OK)
        st = store_kv_each(t, STORE_DIGEST, "liaison:", 8, liaison_of, &ls);
    if (st == KX_OK && ks.oom)
        st = KX_NOMEM;
    if (st != KX_OK) {
        for (size_t i = 0; i < ks.n; i++)
            free(ks.v[i]);
        free(ks.v);
        return st;
    }
    qsort(ks.v, ks.n, sizeof *ks.v, str_cmp);
    for (size_t i = 0; i < ks.n; i++) {
        if (u > 0 && strcmp(ks.v[u - 1], ks.v[i]) == 0) {
            free(ks.v[i]);
            continue;
        }
        ks.v[u++] = ks.v[i];
    }
    *keys = ks.v;
    *n = u;
    return KX_OK;
}

/* ---- what the messages say ---------------------------------------------- */

/* Both bodies, written side by side. */
struct body {
    struct kx_buf text, html;
    const struct api_digest_opts *o;
    const char *base;
    size_t base_len;
    store_txn *t;
    const taxo *tx;
    const char *unsub;            /* the recipient's unsubscribe link */
    const char *page;             /* the recipient's web page */
    const char *from_name;        /* who signs the greeting */
    const char *recipient;
    /* one-click answers (answer.h): the signing key, if there is one, and
     * whether this copy may carry them (not a preview for someone else) */
    unsigned char answer_key[API_ANSWER_KEY_LEN];
    int answers;
    long long answers_expire;
};

static const char *kind_label(const char *key)
{
    static const struct { const char *prefix, *label; } v[] = {
        {"expert:", "专家"},       {"academician:", "院士"},
        {"society:", "学会"},      {"result:", "科技成果"},
        {"enterprise:", "企业"},
    };

    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (strncmp(key, v[i].prefix, strlen(v[i].prefix)) == 0)
            return v[i].label;
    return "";
}

static const char *stage_label(const char *stage)
{
    static const struct { const char *stage, *label; } v[] = {
        {"shortlisted", "候选"}, {"contacted", "已联系"},
        {"declined", "已婉拒"},  {"signed", "已签约"},
        {"agreement_signed", "已签约"}, {"proposed", "已推荐"},
    };

    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (strcmp(stage, v[i].stage) == 0)
            return v[i].label;
    return stage;
}

/* Link to a record on the web pages: the recipient's own page (enterprises
 * enterprise.html, liaisons liaison.html, everyone else the front page)
 * with ?need=ID or ?partner=KIND:ID, which the page can open. Keep in step
 * with api/web. */
static void link_of(struct body *b, const char *key, const char *ctx_need,
                    char *buf, size_t n)
{
    const char *colon = strchr(key, ':');

    if (!colon)
        snprintf(buf, n, "%.*s/%s", (int)b->base_len, b->base, b->page);
    else if (strncmp(key, "need:", 5) == 0)
        snprintf(buf, n, "%.*s/%s?need=%s", (int)b->base_len, b->base,
                 b->page, colon + 1);
    else if (ctx_need) /* an enterprise's partner, on its need's page */
        snprintf(buf, n, "%.*s/%s?need=%s&partner=%s", (int)b->base_len,
                 b->base, b->page, strchr(ctx_need, ':') + 1, key);
    else
        snprintf(buf, n, "%.*s/%s?partner=%s", (int)b->base_len, b->base,
                 b->page, key);
}

/* A record's name (or its key if it has none), into buf. */
static void name_of(struct body *b, const char *key, char *buf, size_t n)
{
    json_object *o = api_digest_record(b->t, key);
    const char *s = api_digest_str(o, "name");

    snprintf(buf, n, "%s", s ? s : key);
    kx_utf8_trim(buf);
    json_object_put(o);
}

static void region_name(struct body *b, const char *code, char *buf, size_t n)
{
    const char *s = b->tx && code && *code
                        ? taxo_name(b->tx, TAXO_REGION, code) : NULL;

    snprintf(buf, n, "%s", s ? s : code ? code : "");
    kx_utf8_trim(buf);
}

static void para(struct body *b, const char *s)
{
    kx_buf_puts(&b->text, s);
    kx_buf_puts(&b->text, "\n\n");
    kx_buf_puts(&b->html, "<p>");
    kx_buf_html(&b->html, s);
    kx_buf_puts(&b->html, "</p>\n");
}

static void heading(struct body *b, const char *s)
{
    kx_buf_puts(&b->text, s);
    kx_buf_puts(&b->text, "\n\n");
    kx_buf_puts(&b->html, "<h3 style=\"font-size:16px;margin:18px 0 8px\">");
    kx_buf_html(&b->html, s);
    kx_buf_puts(&b->html, "</h3>\n");
}

/* A heading numbered 一、二、三、… in the order the sections appear, so
 * that a message without the first section does not start at 二、. */
static void section(struct body *b, unsigned *n, const char *title)
{
    static const char *const num[] = {"一", "二", "三", "四", "五", "六"};
    char line[256];

    snprintf(line, sizeof line, "%s、%s", num[*n < 6 ? *n : 5], title);
    (*n)++;
    heading(b, line);
}

static void list_begin(struct body *b)
{
    kx_buf_puts(&b->html, "<ol style=\"padding-left:20px\">\n");
}

static void list_end(struct body *b)
{
    kx_buf_puts(&b->html, "</ol>\n");
    kx_buf_puts(&b->text, "\n");
}

/* "N. title" linked, then detail lines. */
static void item(struct body *b, size_t num, const char *title,
                 const char *url, const char *const *lines, size_t nlines,
                 const char *answer)
{
    kx_buf_printf(&b->text, "%zu. %s\n", num, title);
    kx_buf_puts(&b->html, "<li style=\"margin-bottom:10px\"><a href=\"");
    kx_buf_html(&b->html, url);
    kx_buf_puts(&b->html, "\"><b>");
    kx_buf_html(&b->html, title);
    kx_buf_puts(&b->html, "</b></a>");
    for (size_t i = 0; i < nlines; i++) {
        if (!lines[i] || !*lines[i])
            continue;
        kx_buf_printf(&b->text, "   %s\n", lines[i]);
        kx_buf_puts(&b->html, "<br><span style=\"color:#555\">");
        kx_buf_html(&b->html, lines[i]);
        kx_buf_puts(&b->html, "</span>");
    }
    kx_buf_printf(&b->text, "   详情：%s\n", url);
    if (answer) {
        kx_buf_printf(&b->text, "   一键回复（有意向 / 不合适）：%s\n", answer);
        kx_buf_puts(&b->html, "<br><a href=\"");
        kx_buf_html(&b->html, answer);
        kx_buf_puts(&b->html, "\">一键回复：有意向 / 不合适</a>");
    }
    kx_buf_puts(&b->html, "</li>\n");
}

/* The one-click answer link of (need, partner) for this recipient into
 * buf; 0 if this copy carries none. */
static int answer_of(struct body *b, const char *need, const char *partner,
                     char *buf, size_t n)
{
    char tok[API_ANSWER_TOKEN_MAX];

    if (!b->answers || !partner ||
        api_answer_sign(b->answer_key, need, partner, b->recipient,
                        b->answers_expire, tok) != KX_OK)
        return 0;
    snprintf(buf, n, "%.*s/answer.html#t=%s", (int)b->base_len, b->base, tok);
    return 1;
}

/* A need as an item: name, enterprise, region, score; with partner, the
 * link that answers the proposal (need, partner). */
static void need_item(struct body *b, size_t num, const char *need,
                      double score, const char *extra, const char *partner)
{
    json_object *o = api_digest_record(b->t, need);
    const char *nm = api_digest_str(o, "name");
    const char *ent = api_digest_str(o, "enterprise");
    char ename[256] = "", reg[128], url[512], l1[512], l3[64], ans[1024];
    const char *lines[4];
    int has_answer = answer_of(b, need, partner, ans, sizeof ans);

    if (ent)
        name_of(b, ent, ename, sizeof ename);
    region_name(b, api_digest_str(o, "region"), reg, sizeof reg);
    link_of(b, need, NULL, url, sizeof url);
    snprintf(l1, sizeof l1, "提出单位：%s%s%s", ename[0] ? ename : "—",
             reg[0] ? "（" : "", reg[0] ? reg : "");
    if (reg[0])
        strncat(l1, "）", sizeof l1 - strlen(l1) - 1);
    kx_utf8_trim(l1);
    snprintf(l3, sizeof l3, "匹配度：%.0f%%", score * 100);
    lines[0] = l1;
    lines[1] = extra ? extra : "";
    lines[2] = score >= 0 ? l3 : "";
    item(b, num, nm ? nm : need, url, lines, 3, has_answer ? ans : NULL);
    json_object_put(o);
}

/* A partner as an item: name, kind, organisation and title (never an
 * address), score. */
static void partner_item(struct body *b, size_t num, const char *need,
                         const char *partner, double score)
{
    json_object *o = api_digest_record(b->t, partner);
    const char *nm = api_digest_str(o, "name");
    const char *org = api_digest_str(o, "org");
    const char *title = api_digest_str(o, "title");
    const char *owner = api_digest_str(o, "owner");
    char url[512], l1[512], l2[64], oname[256] = "";
    const char *lines[2];

    if (owner)
        name_of(b, owner, oname, sizeof oname);
    link_of(b, partner, need, url, sizeof url);
    snprintf(l1, sizeof l1, "%s%s%s%s%s%s%s", kind_label(partner),
             org ? " · " : "", org ? org : "", title ? " " : "",
             title ? title : "", owner ? " · 成果持有：" : "",
             owner ? oname : "");
    kx_utf8_trim(l1);
    snprintf(l2, sizeof l2, "匹配度：%.0f%%", score * 100);
    lines[0] = l1;
    lines[1] = l2;
    item(b, num, nm ? nm : partner, url, lines, 2, NULL);
    json_object_put(o);
}

/* Pair indexes, best score first (then by key, for stable output). */
struct pick {
    size_t *v, n;
};

static const struct dplan *sort_plan;

static int pick_cmp(const void *a, const void *b)
{
    const struct dpair *x = &sort_plan->pairs[*(const size_t *)a],
                       *y = &sort_plan->pairs[*(const size_t *)b];
    int c;

    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if ((c = strcmp(x->need, y->need)) != 0)
        return c;
    return strcmp(x->partner, y->partner);
}

static void pick_sort(const struct dplan *p, struct pick *k)
{
    sort_plan = p;
    qsort(k->v, k->n, sizeof *k->v, pick_cmp);
}

static int pick_add(struct pick *k, size_t i)
{
    size_t *v = realloc(k->v, (k->n + 1) * sizeof *v);

    if (!v)
        return -1;
    k->v = v;
    k->v[k->n++] = i;
    return 0;
}

struct week_info {
    char label[128];   /* 2026年第48周（11月23日—11月29日） */
    char short_label[32];
};

static void week_info(const char *week, struct week_info *w)
{
    int y = 1970, m = 1, d = 1, y2, m2, d2;

    api_digest_week_parse(week, &y, &m, &d, NULL);
    api_digest_civil_from_days(api_digest_days_from_civil(y, m, d) + 6, &y2,
                               &m2, &d2);
    snprintf(w->label, sizeof w->label, "%.4s年第%d周（%d月%d日—%s%d月%d日）",
             week, atoi(week + 6), m, d, y2 != y ? "次年" : "", m2, d2);
    snprintf(w->short_label, sizeof w->short_label, "%.4s年第%d周", week,
             atoi(week + 6));
}

/* The organisation as the configuration file names it (config.h). */
static const char *org_name(const struct body *b)
{
    return b->o && b->o->org_name ? b->o->org_name : API_ORG_NAME_DEFAULT;
}

static const char *org_short(const struct body *b)
{
    return b->o && b->o->org_short ? b->o->org_short : API_ORG_SHORT_DEFAULT;
}

static void footer(struct body *b, const char *why)
{
    const char *unsub = b->unsub;

    kx_buf_puts(&b->text, "——\n");
    kx_buf_puts(&b->text, why);
    kx_buf_printf(&b->text, "\n%s · %.*s\n退订每周推荐：%s\n", org_name(b),
                  (int)b->base_len, b->base, unsub);
    kx_buf_puts(&b->html, "<hr style=\"border:none;border-top:1px solid #ddd;"
                        "margin-top:24px\"><p style=\"color:#888;"
                        "font-size:12px\">");
    kx_buf_html(&b->html, why);
    kx_buf_puts(&b->html, "<br>");
    kx_buf_html(&b->html, org_name(b));
    kx_buf_puts(&b->html, "<br><a href=\"");
    kx_buf_html(&b->html, unsub);
    kx_buf_puts(&b->html, "\">退订每周推荐</a></p>\n");
}

/* Lists the picked pairs one need per item, best score first. A pair whose
 * partner is not `who` names that partner after the need: "匹配成果" for a
 * result of theirs, "推荐会员" for a society's member. Returns the number
 * of needs listed. */
static size_t need_list(struct body *b, const struct dplan *p,
                        struct pick *k, const char *who)
{
    size_t num = 0;

    pick_sort(p, k);
    list_begin(b);
    for (size_t a = 0; a < k->n; a++) {
        const struct dpair *x = &p->pairs[k->v[a]];
        struct kx_buf res = {0}, mem = {0}, extra = {0};
        size_t c;

        for (c = 0; c < a; c++)
            if (strcmp(p->pairs[k->v[c]].need, x->need) == 0)
                break;
        if (c < a)
            continue; /* listed with its best score already */
        for (c = a; c < k->n; c++) {
            const struct dpair *y = &p->pairs[k->v[c]];
            struct kx_buf *to;
            char nm[256];

            if (strcmp(y->need, x->need) != 0 || strcmp(y->partner, who) == 0)
                continue;
            to = is_person(y->partner) ? &mem : &res;
            name_of(b, y->partner, nm, sizeof nm);
            kx_buf_puts(to, to->n ? "、"
                            : to == &res ? "匹配成果：" : "推荐会员：");
            kx_buf_puts(to, nm);
        }
        if (res.n)
            kx_buf_puts(&extra, res.p);
        if (mem.n) {
            kx_buf_puts(&extra, extra.n ? "；" : "");
            kx_buf_puts(&extra, mem.p);
        }
        /* the answer is the recipient's own where the need was proposed
         * to them, else for the best of their results or members */
        for (c = a; c < k->n; c++)
            if (strcmp(p->pairs[k->v[c]].need, x->need) == 0 &&
                strcmp(p->pairs[k->v[c]].partner, who) == 0)
                break;
        need_item(b, ++num, x->need, x->score, extra.n ? extra.p : NULL,
                  c < k->n ? who
                  : strncmp(x->partner, "result:", 7) == 0 ? x->partner
                                                           : NULL);
        kx_buf_free(&res);
        kx_buf_free(&mem);
        kx_buf_free(&extra);
    }
    list_end(b);
    return num;
}

/* A person's needs: those proposed to them and to the results they own,
 * each need once. Returns the number of needs listed. */
static size_t partner_sections(struct body *b, const struct dplan *p,
                               const char *who, const char *own_heading)
{
    struct pick k = {0};
    size_t n = 0;

    for (size_t i = 0; i < p->npairs; i++)
        if (strcmp(p->pairs[i].recipient, who) == 0)
            pick_add(&k, i);
    if (k.n) {
        heading(b, own_heading);
        n = need_list(b, p, &k, who);
    }
    free(k.v);
    return n;
}

static int strs_has(json_object *arr, const char *s)
{
    if (!arr || !json_object_is_type(arr, json_type_array))
        return 0;
    for (size_t i = 0; i < json_object_array_length(arr); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)),
                   s) == 0)
            return 1;
    return 0;
}

/* A liaison's lists stop here; the rest is on the web pages. */
#define LIAISON_MAX_ITEMS 30

/* Says how many of `total` items a capped list left out. */
static void more(struct body *b, size_t total)
{
    char line[256];

    if (total <= LIAISON_MAX_ITEMS)
        return;
    snprintf(line, sizeof line, "……另有 %zu 项未列出，请登录平台查看：%.*s/",
             total - LIAISON_MAX_ITEMS, (int)b->base_len, b->base);
    para(b, line);
}

/* Writes the body for recipient; *items gets how many things it reports
 * (0: nothing to send). subject gets the subject. */
static void write_body(struct body *b, const struct dplan *p,
                       const char *recipient, const char *rname,
                       const struct week_info *w, char *subject, size_t sn,
                       size_t *items)
{
    char line[512];

    *items = 0;
    if (is_person(recipient)) {
        json_object *o = api_digest_record(b->t, recipient), *cap;
        const char *title = api_digest_str(o, "title");
        int c = json_object_object_get_ex(o, "capacity", &cap)
                    ? json_object_get_int(cap) : KX_DEFAULT_CAPACITY;
        char why[256];

        snprintf(line, sizeof line, "%s%s%s：", rname, title ? " " : "",
                 title ? title : "");
        para(b, line);
        snprintf(line, sizeof line, "您好！%s根据您的专业方向，为您推荐%s的"
                 "企业技术需求。", b->from_name, w->label);
        para(b, line);
        *items = partner_sections(b, p, recipient, "为您推荐的企业技术需求");
        para(b, "如有意向，请点击链接查看需求详情，或直接回复本邮件与我们联系。");
        snprintf(why, sizeof why, "您收到本邮件，是因为您在平台登记为服务"
                 "专家。每周直接推荐给您的需求不超过您的服务容量（%d 项），"
                 "与您的科技成果匹配的需求另计。", c);
        json_object_put(o);
        snprintf(subject, sn, "【%s】%s：为您推荐 %zu 项企业技术需求",
                 org_short(b), w->short_label, *items);
        footer(b, why);
        return;
    }
    if (strncmp(recipient, "society:", 8) == 0) {
        json_object *o = api_digest_record(b->t, recipient), *members = NULL;
        struct pick mp = {0};

        json_object_object_get_ex(o, "members", &members);
        snprintf(line, sizeof line, "%s：", rname);
        para(b, line);
        snprintf(line, sizeof line, "您好！以下是%s平台为贵学会及会员推荐的"
                 "企业技术需求。", w->label);
        para(b, line);
        /* the society's own pairs and its members', one item per need */
        for (size_t i = 0; i < p->npairs; i++)
            if (strcmp(p->pairs[i].recipient, recipient) == 0 ||
                (is_person(p->pairs[i].partner) &&
                 strcmp(p->pairs[i].recipient, p->pairs[i].partner) == 0 &&
                 strs_has(members, p->pairs[i].partner)))
                pick_add(&mp, i);
        if (mp.n) {
            heading(b, "推荐给贵学会及会员的需求");
            *items = need_list(b, p, &mp, recipient);
        }
        free(mp.v);
        json_object_put(o);
        snprintf(subject, sn, "【%s】%s：学会及会员匹配 %zu 项企业需求",
                 org_short(b), w->short_label, *items);
        footer(b, "您收到本邮件，是因为您是学会在平台登记的联系人。");
        return;
    }
    if (strncmp(recipient, "enterprise:", 11) == 0) {
        size_t needs = 0, partners = 0;

        snprintf(line, sizeof line, "%s：", rname);
        para(b, line);
        snprintf(line, sizeof line, "您好！%s，平台为贵单位发布的技术需求推荐了"
                 "以下合作方（专家、院士、学会和科技成果）。", w->label);
        para(b, line);
        for (size_t i = 0; i < p->npairs;) {
            struct pick pk = {0};
            size_t j = i;
            for (; j < p->npairs &&
                   strcmp(p->pairs[j].need, p->pairs[i].need) == 0;
                 j++)
                if (strcmp(p->pairs[j].enterprise, recipient) == 0)
                    pick_add(&pk, j);
            if (pk.n) {
                char nn[256], url[512];
                name_of(b, p->pairs[i].need, nn, sizeof nn);
                link_of(b, p->pairs[i].need, NULL, url, sizeof url);
                snprintf(line, sizeof line, "需求：%s", nn);
                heading(b, line);
                kx_buf_printf(&b->text, "需求页面：%s\n\n", url);
                kx_buf_puts(&b->html, "<p><a href=\"");
                kx_buf_html(&b->html, url);
                kx_buf_puts(&b->html, "\">查看需求页面</a></p>\n");
                pick_sort(p, &pk);
                list_begin(b);
                for (size_t k = 0; k < pk.n; k++)
                    partner_item(b, k + 1, p->pairs[i].need,
                                 p->pairs[pk.v[k]].partner,
                                 p->pairs[pk.v[k]].score);
                list_end(b);
                needs++;
                partners += pk.n;
            }
            free(pk.v);
            i = j;
        }
        para(b, "如需联系推荐的合作方，请在平台需求页面选择，或联系所在地科协"
                "联络员协助对接。");
        *items = partners;
        snprintf(subject, sn, "【%s】%s：为您的 %zu 项技术需求推荐 %zu 个"
                 "合作方", org_short(b), w->short_label, needs, partners);
        footer(b, "您收到本邮件，是因为贵单位在平台发布了技术需求。");
        return;
    }
    if (strncmp(recipient, "liaison:", 8) == 0) {
        const char *region = recipient + 8;
        char rn[128];
        size_t nn = 0, conf = 0, np = 0, covered = 0, nm = 0;

        region_name(b, region, rn, sizeof rn);
        for (size_t i = 0; i < p->nnews; i++)
            if (api_digest_region_in(p->news[i].region, region))
                p->news[i].confidential ? conf++ : nn++;
        for (size_t i = 0; i < p->npairs; i++)
            if (api_digest_region_in(p->pairs[i].region, region)) {
                np++;
                covered += i == 0 || strcmp(p->pairs[i - 1].need,
                                            p->pairs[i].need) != 0;
            }
        for (size_t i = 0; i < p->nmoves; i++)
            nm += api_digest_region_in(p->moves[i].region, region);
        snprintf(line, sizeof line, "%s科协联络员：", rn);
        para(b, line);
        snprintf(line, sizeof line, "%s科技对接概况：新增需求 %zu 项，推荐对接 "
                 "%zu 对（覆盖需求 %zu 项），对接进展 %zu 条。", w->label,
                 nn + conf, np, covered, nm);
        para(b, line);
        unsigned sec = 0; /* sections are numbered as they appear */
        if (nn + conf) {
            size_t k = 0;
            section(b, &sec, "新增需求");
            list_begin(b);
            for (size_t i = 0; i < p->nnews; i++)
                if (!p->news[i].confidential &&
                    api_digest_region_in(p->news[i].region, region) &&
                    k++ < LIAISON_MAX_ITEMS)
                    need_item(b, k, p->news[i].need, -1, NULL, NULL);
            list_end(b);
            more(b, k);
            if (conf) {
                snprintf(line, sizeof line, "另有 %zu 项保密需求，仅发布企业可见，"
                         "此处不列出。", conf);
                para(b, line);
            }
        }
        if (np) {
            size_t k = 0;
            section(b, &sec, "本周推荐");
            list_begin(b);
            for (size_t i = 0; i < p->npairs;) {
                size_t j = i;
                struct kx_buf who = {0};
                while (j < p->npairs &&
                       strcmp(p->pairs[j].need, p->pairs[i].need) == 0)
                    j++;
                if (api_digest_region_in(p->pairs[i].region, region) &&
                    k++ < LIAISON_MAX_ITEMS) {
                    kx_buf_puts(&who, "推荐：");
                    for (size_t q = i; q < j; q++) {
                        char pn[256];
                        name_of(b, p->pairs[q].partner, pn, sizeof pn);
                        kx_buf_printf(&who, "%s%s（%s %.0f%%）", q > i ? "、" : "",
                                    pn, kind_label(p->pairs[q].partner),
                                    p->pairs[q].score * 100);
                    }
                    char *ws = kx_buf_take(&who);
                    need_item(b, k, p->pairs[i].need, -1, ws ? ws : "", NULL);
                    free(ws);
                }
                kx_buf_free(&who);
                i = j;
            }
            list_end(b);
            more(b, k);
        }
        if (nm) {
            size_t k = 0;
            section(b, &sec, "对接进展");
            list_begin(b);
            for (size_t i = 0; i < p->nmoves; i++) {
                char pn[256], extra[512];
                if (!api_digest_region_in(p->moves[i].region, region) ||
                    k++ >= LIAISON_MAX_ITEMS)
                    continue;
                name_of(b, p->moves[i].partner, pn, sizeof pn);
                snprintf(extra, sizeof extra, "%s（%s）：%s %.10s", pn,
                         kind_label(p->moves[i].partner),
                         stage_label(p->moves[i].stage), p->moves[i].updated);
                need_item(b, k, p->moves[i].need, -1, extra, NULL);
            }
            list_end(b);
            more(b, k);
        }
        *items = nn + conf + np + nm;
        snprintf(subject, sn, "【%s】%s：%s科技对接周报", org_short(b),
                 w->short_label, rn);
        footer(b, "您收到本邮件，是因为您是该地区登记的科协联络员。");
    }
}

/* ---- MIME --------------------------------------------------------------- */

/* Normalises line ends to CRLF. */
static char *crlf(const char *s)
{
    struct kx_buf b = {0};

    for (const char *p = s; *p; p++) {
        if (*p == '\n' && (p == s || p[-1] != '\r'))
            kx_buf_add(&b, "\r", 1);
        kx_buf_add(&b, p, 1);
    }
    return kx_buf_take(&b);
}

static void rfc5322_date(long long t, char *buf, size_t n)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu",
                                       "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May",
                                         "Jun", "Jul", "Aug", "Sep", "Oct",
                                         "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;
    char zone[8];

    localtime_r(&tt, &tm);
    strftime(zone, sizeof zone, "%z", &tm);
    snprintf(buf, n, "%s, %02d %s %04d %02d:%02d:%02d %s", days[tm.tm_wday],
             tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
             tm.tm_min, tm.tm_sec, zone);
}

/* "From:"/"To:" value: the display name made a header value, then the
 * address (checked by the caller) on a folded line of its own. A name
 * that cleans to nothing is left out. */
static void address_header(struct kx_buf *b, const char *field,
                           const char *name, const char *addr)
{
    char *enc = api_digest_header_value(name);

    if (!enc)
        b->oom = 1;
    if (enc && *enc) {
        /* a plain ASCII name may hold spaces: quote it unless encoded */
        if (strncmp(enc, "=?", 2) == 0)
            kx_buf_printf(b, "%s: %s\r\n <%s>\r\n", field, enc, addr);
        else
            kx_buf_printf(b, "%s: \"%s\"\r\n <%s>\r\n", field, enc, addr);
    } else {
        kx_buf_printf(b, "%s: <%s>\r\n", field, addr);
    }
    free(enc);
}

static void mime_part(struct kx_buf *b, const char *boundary, const char *type,
                      const char *body)
{
    char *c = crlf(body), *enc = c ? api_digest_base64_lines(c, strlen(c))
                                   : NULL;

    kx_buf_printf(b, "--%s\r\nContent-Type: %s; charset=UTF-8\r\n"
                   "Content-Transfer-Encoding: base64\r\n\r\n", boundary,
                type);
    if (enc)
        kx_buf_puts(b, enc);
    else
        b->oom = 1;
    free(c);
    free(enc);
}

void api_dmsg_free(struct dmsg *m)
{
    if (!m)
        return;
    free(m->subject);
    free(m->text);
    free(m->html);
    free(m->raw);
    memset(m, 0, sizeof *m);
}

enum kx_status api_dmsg_compose(store_txn *t, const taxo *tx,
                            const struct api_digest_opts *o,
                            const struct dplan *p, const char *recipient,
                            const char *token, struct dmsg *out,
                            struct kx_error *err)
{
    struct body b;
    struct kx_buf raw = {0}, html = {0};
    struct week_info w;
    char addr[256], name[256], subject[512], unsub[512], date[64],
        domain[128], idpart[KX_KEY_MAX], boundary[64];
    const char *from = o && o->from ? o->from : DIGEST_DEFAULT_FROM;
    const char *from_name = o && o->from_name ? o->from_name
                            : o && o->org_name ? o->org_name
                                               : API_ORG_NAME_DEFAULT;
    const char *at;
    char *enc;
    size_t items = 0;
    enum kx_status st;

    memset(out, 0, sizeof *out);
    memset(&b, 0, sizeof b);
    if (api_digest_address(t, recipient, addr, name, sizeof addr) != KX_OK)
        return kx_error_set(err, KX_NOTFOUND, "recipient",
                            "%s has no usable e-mail address", recipient);
    b.o = o;
    b.from_name = from_name;
    b.base = o && o->base_url ? o->base_url : DIGEST_DEFAULT_BASE_URL;
    b.base_len = strlen(b.base);
    while (b.base_len > 0 && b.base[b.base_len - 1] == '/')
        b.base_len--;
    b.t = t;
    b.tx = tx;
    week_info(p->week, &w);
    snprintf(unsub, sizeof unsub, "%.*s/v1/digests/unsubscribe?token=%s",
             (int)b.base_len, b.base, token);
    if (strncmp(recipient, "liaison:", 8) == 0) {
        char rn[128];
        region_name(&b, recipient + 8, rn, sizeof rn);
        snprintf(name, sizeof name, "%s科协联络员", rn);
    }
    b.unsub = unsub;
    b.page = strncmp(recipient, "enterprise:", 11) == 0 ? "enterprise.html"
             : strncmp(recipient, "liaison:", 8) == 0   ? "liaison.html"
                                                        : "expert.html";
    b.recipient = recipient;
    /* A preview for someone else carries no answer links: they would
     * answer in the recipient's name. */
    b.answers = strcmp(token, API_DIGEST_TOKEN_REDACTED) != 0 &&
                api_answer_key_get(t, b.answer_key) == KX_OK;
    {   /* from the end of the digest's week: composing stays repeatable */
        int y, mo, d;
        long days = api_digest_week_parse(p->week, &y, &mo, &d, NULL) == KX_OK
                        ? api_digest_days_from_civil(y, mo, d) + 7
                        : (long)(time(NULL) / 86400);
        b.answers_expire = ((long long)days + API_ANSWER_DAYS) * 86400LL;
    }
    write_body(&b, p, recipient, name[0] ? name : recipient, &w, subject,
               sizeof subject, &items);
    if (items == 0) {
        kx_buf_free(&b.text);
        kx_buf_free(&b.html);
        return kx_error_set(err, KX_NOTFOUND, "recipient",
                            "nothing for %s in week %s", recipient, p->week);
    }
    kx_buf_puts(&html, "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head>"
                     "<meta charset=\"utf-8\"><meta name=\"viewport\" "
                     "content=\"width=device-width\"><title>");
    kx_buf_html(&html, subject);
    kx_buf_puts(&html, "</title></head>\n<body style=\"font-family:sans-serif;"
                     "font-size:14px;line-height:1.6;max-width:640px;"
                     "margin:auto;padding:12px\">\n");
    if (b.html.p)
        kx_buf_puts(&html, b.html.p);
    kx_buf_puts(&html, "</body></html>\n");
    if (b.html.oom)
        html.oom = 1;
    kx_buf_free(&b.html);
    out->html = kx_buf_take(&html);
    out->text = kx_buf_take(&b.text);
    /* what the outbox and previews show is what Subject: decodes to */
    out->subject = api_digest_header_clean(subject);
    out->items = items;
    snprintf(out->recipient, sizeof out->recipient, "%s", recipient);
    snprintf(out->to, sizeof out->to, "%s", addr);
    at = strrchr(from, '@');
    snprintf(domain, sizeof domain, "%s", at && at[1] ? at + 1 : "localhost");
    snprintf(idpart, sizeof idpart, "%s", recipient);
    for (char *c = idpart; *c; c++)
        if (*c == ':')
            *c = '.';
    snprintf(out->message_id, sizeof out->message_id,
             "<kxmatch.%.10s.%.80s.%.20s@%.100s>", p->week, idpart, p->nonce,
             domain);
    snprintf(boundary, sizeof boundary, "=_kxmatch_%s", p->nonce);
    rfc5322_date(p->created, date, sizeof date);

    address_header(&raw, "From", from_name, from);
    address_header(&raw, "To", name, addr);
    if (!(enc = api_digest_header_value(subject)))
        raw.oom = 1;
    kx_buf_printf(&raw, "Subject: %s\r\n", enc ? enc : "");
    free(enc);
    kx_buf_printf(&raw, "Date: %s\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n",
                date, out->message_id);
    kx_buf_printf(&raw, "List-Unsubscribe:\r\n <%s>\r\n", unsub);
    kx_buf_puts(&raw, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
                    "Auto-Submitted: auto-generated\r\n");
    kx_buf_printf(&raw, "X-Kxmatch-Digest: %s %s\r\n", p->week, recipient);
    kx_buf_printf(&raw, "Content-Type: multipart/alternative;\r\n"
                      " boundary=\"%s\"\r\n\r\n", boundary);
    kx_buf_puts(&raw, "This is a multi-part message in MIME format.\r\n\r\n");
    if (out->text && out->html) {
        mime_part(&raw, boundary, "text/plain", out->text);
        mime_part(&raw, boundary, "text/html", out->html);
    }
    kx_buf_printf(&raw, "--%s--\r\n", boundary);
    out->raw = kx_buf_take(&raw);
    st = out->raw && out->subject && out->text && out->html ? KX_OK
                                                            : KX_NOMEM;
    if (st != KX_OK)
        api_dmsg_free(out);
    return st;
}
