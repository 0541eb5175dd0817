/* infer.c - codes from text through taxonomy names (see infer.h). */
#include "infer.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* A name (or a part of one) that points at a code. */
struct pat {
    char *s;            /* Chinese characters, or " w1 w2 " stemmed words */
    size_t len;
    const char *code;   /* borrowed from the taxonomy */
    enum taxo_kind kind;
    int level;
};

struct plist {
    struct pat *v;
    size_t n, cap;
};

struct match_infer {
    struct plist zh, en;
};

struct build_ctx {
    match_infer *m;
    text_tokenizer *tok;
    const taxo *t;
    enum taxo_kind kind;
    enum kx_status st;
};

static enum kx_status plist_add(struct plist *l, const char *s, size_t len,
                                const char *code, enum taxo_kind k, int level)
{
    if (kx_grow(&l->v, &l->cap, l->n + 1, sizeof *l->v, 1024) != 0)
        return KX_NOMEM;
    l->v[l->n].s = strndup(s, len);
    if (!l->v[l->n].s)
        return KX_NOMEM;
    l->v[l->n].len = len;
    l->v[l->n].code = code;
    l->v[l->n].kind = k;
    l->v[l->n].level = level;
    l->n++;
    return KX_OK;
}

/* Bytes of the UTF-8 character at s, and whether it is a CJK ideograph. */
static size_t u8len(const unsigned char *s, int *cjk)
{
    unsigned cp;
    size_t n;

    if (s[0] < 0x80) {
        *cjk = 0;
        return 1;
    }
    if ((s[0] & 0xe0) == 0xc0)
        n = 2, cp = s[0] & 0x1f;
    else if ((s[0] & 0xf0) == 0xe0)
        n = 3, cp = s[0] & 0x0f;
    else if ((s[0] & 0xf8) == 0xf0)
        n = 4, cp = s[0] & 0x07;
    else {
        *cjk = 0;
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *cjk = 0;
            return i;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    *cjk = (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf);
    return n;
}

/* Suffixes that name the kind of activity rather than its subject:
 * "合成橡胶制造" is found in text as "合成橡胶". */
static const char *const zh_suffixes[] = {"制造业", "制造", "服务业", "业"};

/* Adds every run of CJK characters of name, split at punctuation and at
 * the conjunctions 及/和/与: a whole name of three characters or more, a
 * fragment of a split name of four or more (short fragments such as
 * 资源化 or 反应器 occur in too many unrelated texts). */
static enum kx_status add_zh(struct build_ctx *c, const char *name,
                             const char *code, int level)
{
    const unsigned char *p = (const unsigned char *)name;
    int whole = 1;
    int cjk0;

    /* Each character's class is read before it is tested (the loop's
     * step would read it only after the first test). */
    for (const unsigned char *q = p; *q;) {
        size_t n = u8len(q, &cjk0);
        if (!cjk0 || memcmp(q, "及", 3) == 0 || memcmp(q, "和", 3) == 0 ||
            memcmp(q, "与", 3) == 0)
            whole = 0;
        q += n;
    }

    while (*p) {
        const unsigned char *start = p;
        size_t chars = 0;
        int cjk;

        while (*p) {
            size_t n = u8len(p, &cjk);
            if (!cjk || (n == 3 && (memcmp(p, "及", 3) == 0 ||
                                    memcmp(p, "和", 3) == 0 ||
                                    memcmp(p, "与", 3) == 0)))
                break;
            p += n;
            chars++;
        }
        size_t len = (size_t)(p - start);
        for (size_t i = 0; i < sizeof zh_suffixes / sizeof *zh_suffixes; i++) {
            size_t sl = strlen(zh_suffixes[i]);
            if (len > sl && memcmp(start + len - sl, zh_suffixes[i], sl) == 0) {
                len -= sl;
                chars -= sl / 3;
                break;
            }
        }
        if (chars >= (whole ? 3u : 4u)) {
            enum kx_status st = plist_add(&c->m->zh, (const char *)start, len,
                                          code, c->kind, level);
            if (st != KX_OK)
                return st;
        }
        if (*p)
            p += u8len(p, &cjk);
    }
    return KX_OK;
}

struct words {
    char buf[512];
    size_t len;
    int n;
};

static int collect_word(void *ctx, const struct text_token *tok)
{
    struct words *w = ctx;

    if (tok->type != TEXT_WORD)
        return 0;
    if (w->len + tok->len + 2 >= sizeof w->buf)
        return 1;
    memcpy(w->buf + w->len, tok->s, tok->len);
    w->len += tok->len;
    w->buf[w->len++] = ' ';
    w->buf[w->len] = '\0';
    w->n++;
    return 0;
}

static enum kx_status add_en(struct build_ctx *c, const char *name,
                             const char *code, int level)
{
    struct words w = {" ", 1, 0};
    unsigned pos = 0;

    text_tokenize(c->tok, name, strlen(name), TEXT_STEM | TEXT_STOPWORDS,
                  &pos, collect_word, &w);
    if (w.n < 2)
        return KX_OK;
    return plist_add(&c->m->en, w.buf, w.len, code, c->kind, level);
}

static int add_code(void *vctx, const char *code, const char *name,
                    const char *name_en, const char *remark, int level)
{
    struct build_ctx *c = vctx;

    (void)remark;
    /* Sections (A..T) are too broad to infer from a word. */
    if (c->kind == TAXO_INDUSTRY && level < 2)
        return 0;
    if (name && (c->st = add_zh(c, name, code, level)) != KX_OK)
        return 1;
    if (name_en && (c->st = add_en(c, name_en, code, level)) != KX_OK)
        return 1;
    return 0;
}

static int pat_cmp(const void *a, const void *b)
{
    const struct pat *x = a, *y = b;
    int r = strcmp(x->s, y->s);

    return r ? r : y->level - x->level;
}

/* The top of code's branch: its level-1 ancestor. */
static const char *branch(const taxo *t, enum taxo_kind k, const char *code)
{
    const char *anc[8];
    size_t n = taxo_ancestors(t, k, code, anc, 8);

    return n ? anc[n - 1] : code;
}

/* Removes every pattern whose text names codes in more than one branch
 * (the same words meaning different things), from a sorted list. */
static void drop_ambiguous(const taxo *t, struct plist *l)
{
    size_t out = 0;

    for (size_t i = 0; i < l->n;) {
        size_t j = i + 1;
        int mixed = 0;

        while (j < l->n && strcmp(l->v[j].s, l->v[i].s) == 0) {
            if (l->v[j].kind != l->v[i].kind ||
                strcmp(branch(t, l->v[j].kind, l->v[j].code),
                       branch(t, l->v[i].kind, l->v[i].code)) != 0)
                mixed = 1;
            j++;
        }
        for (size_t k = i; k < j; k++) {
            if (mixed)
                free(l->v[k].s);
            else
                l->v[out++] = l->v[k];
        }
        i = j;
    }
    l->n = out;
}

enum kx_status match_infer_new(const taxo *t, text_tokenizer *tok,
                               match_infer **out)
{
    struct build_ctx c = {NULL, tok, t, TAXO_INDUSTRY, KX_OK};

    *out = NULL;
    c.m = calloc(1, sizeof *c.m);
    if (!c.m)
        return KX_NOMEM;
    taxo_each(t, TAXO_INDUSTRY, add_code, &c);
    if (c.st == KX_OK) {
        c.kind = TAXO_DISCIPLINE;
        taxo_each(t, TAXO_DISCIPLINE, add_code, &c);
    }
    if (c.st != KX_OK) {
        match_infer_free(c.m);
        return c.st;
    }
    qsort(c.m->zh.v, c.m->zh.n, sizeof *c.m->zh.v, pat_cmp);
    qsort(c.m->en.v, c.m->en.n, sizeof *c.m->en.v, pat_cmp);
    drop_ambiguous(t, &c.m->zh);
    drop_ambiguous(t, &c.m->en);
    *out = c.m;
    return KX_OK;
}

static void plist_free(struct plist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].s);
    free(l->v);
}

void match_infer_free(match_infer *m)
{
    if (!m)
        return;
    plist_free(&m->zh);
    plist_free(&m->en);
    free(m);
}

/* Index of the first pattern whose first `key` bytes are >= s[0..key). */
static size_t lower_bound(const struct plist *l, const char *s, size_t key)
{
    size_t lo = 0, hi = l->n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strncmp(l->v[mid].s, s, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct found {
    const struct pat *v[64];
    size_t n;
};

static void found_add(struct found *f, const struct pat *p)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->v[i]->code == p->code)
            return;
    if (f->n < sizeof f->v / sizeof f->v[0])
        f->v[f->n++] = p;
}

/* Every pattern of l that occurs in s at a position where `at` says a
 * match may start, found by binary search on the first key bytes. */
static void scan(const struct plist *l, const char *s, size_t n,
                 size_t key, int words, struct found *f)
{
    for (size_t i = 0; i + key <= n;) {
        int cjk = 1;
        size_t step = words ? 1 : u8len((const unsigned char *)s + i, &cjk);

        if (words ? s[i] == ' ' : cjk) {
            for (size_t j = lower_bound(l, s + i, key);
                 j < l->n && strncmp(l->v[j].s, s + i, key) == 0; j++)
                if (l->v[j].len <= n - i &&
                    memcmp(l->v[j].s, s + i, l->v[j].len) == 0)
                    found_add(f, &l->v[j]);
        }
        i += step;
    }
}

static int by_level_desc(const void *a, const void *b)
{
    const struct pat *x = *(const struct pat *const *)a;
    const struct pat *y = *(const struct pat *const *)b;

    return y->level - x->level;
}

struct text_words {
    char *buf;
    size_t len, cap;
};

static int collect_text_word(void *ctx, const struct text_token *tok)
{
    struct text_words *w = ctx;

    if (tok->type != TEXT_WORD)
        return 0;
    if (w->len + tok->len + 2 > w->cap) {
        size_t cap = (w->cap + tok->len + 2) * 2;
        char *b = realloc(w->buf, cap);
        if (!b)
            return 1;
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, tok->s, tok->len);
    w->len += tok->len;
    w->buf[w->len++] = ' ';
    w->buf[w->len] = '\0';
    return 0;
}

void match_infer_codes(const match_infer *m, text_tokenizer *tok,
                       const char *text, double w, size_t max_per_kind,
                       struct match_codes *ind, struct match_codes *dis)
{
    struct found f = {{0}, 0};
    struct text_words tw = {NULL, 0, 0};
    size_t nind = 0, ndis = 0;
    unsigned pos = 0;

    if (!text || !*text)
        return;
    /* Chinese: names as substrings, keyed on their first character. */
    scan(&m->zh, text, strlen(text), 3, 0, &f);
    /* English: stemmed word sequences, keyed on the leading space. */
    if ((tw.buf = malloc(2)) != NULL) {
        tw.buf[0] = ' ';
        tw.buf[1] = '\0';
        tw.len = 1;
        tw.cap = 2;
        text_tokenize(tok, text, strlen(text), TEXT_STEM | TEXT_STOPWORDS,
                      &pos, collect_text_word, &tw);
        if (tw.len > 1)
            scan(&m->en, tw.buf, tw.len, 2, 1, &f);
        free(tw.buf);
    }
    qsort(f.v, f.n, sizeof f.v[0], by_level_desc);
    for (size_t i = 0; i < f.n; i++) {
        if (f.v[i]->kind == TAXO_INDUSTRY && nind < max_per_kind) {
            match_codes_add_inferred(ind, f.v[i]->code, w);
            nind++;
        } else if (f.v[i]->kind == TAXO_DISCIPLINE && ndis < max_per_kind) {
            match_codes_add_inferred(dis, f.v[i]->code, w);
            ndis++;
        }
    }
}
