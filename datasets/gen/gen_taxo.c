/* gen_taxo.c - the taxonomies read for kxgen, and the vocabularies (words
 * ranked by frequency) cut from their names and remarks. */
#include "gen.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define CSV_MAX_FIELDS 12
#define SEG_MAX_CHARS 6   /* longer segments are cut into 2-4 char words */

static void seterr(char *err, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (!q) {
        fprintf(stderr, "kxgen: out of memory\n");
        exit(1);
    }
    return q;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;

    return memcpy(xrealloc(NULL, n), s, n);
}

/* Splits a CSV line in place: fields quoted with '"' ("" inside a quoted
 * field is one quote). Returns the number of fields. */
static size_t csv_split(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *p = line, *w;

    line[strcspn(line, "\r\n")] = '\0';
    while (n < max) {
        if (*p == '"') {
            f[n++] = w = ++p;
            while (*p) {
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *w++ = *p++;
                }
            }
            *w = '\0';
            /* skip to the comma after the closing quote */
            while (*p && *p != ',')
                p++;
        } else {
            f[n++] = p;
            p += strcspn(p, ",");
        }
        if (*p != ',') {
            if (*p)
                *p = '\0';
            break;
        }
        *p++ = '\0';
    }
    return n;
}

/* ---- vocabulary ----------------------------------------------------------- */

/* Word -> id while the taxonomies are read; ids are first-seen order. */
struct wmap {
    uint32_t *slot;     /* id + 1, 0 empty */
    size_t cap;
    struct gen_vocab *v;
    uint64_t *count;
};

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;

    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static uint32_t wmap_add(struct wmap *m, const char *s, size_t n)
{
    struct gen_vocab *v = m->v;
    size_t i;

    if (v->n * 2 >= m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 4096;
        uint32_t *slot = calloc(cap, sizeof *slot);

        if (!slot) {
            fprintf(stderr, "kxgen: out of memory\n");
            exit(1);
        }
        for (size_t k = 0; k < m->cap; k++) {
            if (!m->slot[k])
                continue;
            uint32_t id = m->slot[k] - 1;
            size_t j = fnv(v->w[id], v->len[id]) & (cap - 1);
            while (slot[j])
                j = (j + 1) & (cap - 1);
            slot[j] = id + 1;
        }
        free(m->slot);
        m->slot = slot;
        m->cap = cap;
    }
    i = fnv(s, n) & (m->cap - 1);
    while (m->slot[i]) {
        uint32_t id = m->slot[i] - 1;
        if (v->len[id] == n && memcmp(v->w[id], s, n) == 0) {
            m->count[id]++;
            return id;
        }
        i = (i + 1) & (m->cap - 1);
    }
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 1024;
        v->w = xrealloc(v->w, v->cap * sizeof *v->w);
        v->len = xrealloc(v->len, v->cap * sizeof *v->len);
        v->chars = xrealloc(v->chars, v->cap * sizeof *v->chars);
        m->count = xrealloc(m->count, v->cap * sizeof *m->count);
    }
    v->w[v->n] = xrealloc(NULL, n + 1);
    memcpy(v->w[v->n], s, n);
    v->w[v->n][n] = '\0';
    v->len[v->n] = n;
    v->chars[v->n] = utf8_chars(s, n);
    m->count[v->n] = 1;
    m->slot[i] = (uint32_t)v->n + 1;
    return (uint32_t)v->n++;
}

/* Words of one text, as ids appended to *ids. */
struct idlist {
    uint32_t *v;
    size_t n, cap;
};

static void idlist_add(struct idlist *l, uint32_t id)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = id;
}

static uint32_t decode(const unsigned char *p, size_t *len)
{
    if (p[0] < 0x80) {
        *len = 1;
        return p[0];
    }
    if ((p[0] & 0xE0) == 0xC0 && p[1]) {
        *len = 2;
        return ((uint32_t)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
    }
    if ((p[0] & 0xF0) == 0xE0 && p[1] && p[2]) {
        *len = 3;
        return ((uint32_t)(p[0] & 0x0F) << 12) |
               ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    }
    *len = 1;
    return 0xFFFD;
}

/* Function words that separate content words in the remarks. Multi-char
 * ones first: they are tried before single characters. */
static const char *const delims[] = {
    "本门类", "本大类", "本类", "大类", "不包括", "包括", "以及", "其他",
    "其它", "主要", "用于", "各种", "各类", "以上", "以下", "等等",
    "的", "和", "及", "与", "或", "等",
    "并", "指", "对", "以", "为", "在", "从", "由", "将", "是", "其", "所",
    "之", "而", "但", "如", "即", "含", "凡", "也", "均", "该", "此", "这",
};

static size_t delim_at(const char *p, const char *end)
{
    for (size_t i = 0; i < sizeof delims / sizeof delims[0]; i++) {
        size_t n = strlen(delims[i]);

        if ((size_t)(end - p) >= n && memcmp(p, delims[i], n) == 0)
            return n;
    }
    return 0;
}

/* One segment of 2+ CJK characters (3 bytes each) becomes one word, or
 * several of 2-4 characters when it is long. */
static void add_segment(struct wmap *m, struct idlist *ids, const char *s,
                        size_t nchars)
{
    if (nchars < 2)
        return;
    if (nchars <= SEG_MAX_CHARS) {
        idlist_add(ids, wmap_add(m, s, nchars * 3));
        return;
    }
    while (nchars > 0) {
        size_t take = nchars <= 4 ? nchars : (nchars % 2 ? 3 : 2);

        if (take >= 2)
            idlist_add(ids, wmap_add(m, s, take * 3));
        s += take * 3;
        nchars -= take;
    }
}

static void segment_zh(struct wmap *m, struct idlist *ids, const char *text)
{
    const char *p = text, *end = text + strlen(text), *seg = NULL;
    size_t nchars = 0, len, d;

    while (p < end) {
        uint32_t cp = decode((const unsigned char *)p, &len);
        int cjk = cp >= 0x4E00 && cp <= 0x9FFF && len == 3;

        if (cjk && (d = delim_at(p, end)) == 0) {
            if (!seg) {
                seg = p;
                nchars = 0;
            }
            nchars++;
            p += len;
            continue;
        }
        if (seg)
            add_segment(m, ids, seg, nchars);
        seg = NULL;
        p += cjk ? d : len;
    }
    if (seg)
        add_segment(m, ids, seg, nchars);
}

static const char *const en_stop[] = {
    "and", "of", "the", "in", "for", "with", "on", "to", "by", "from", "as",
    "at", "its", "or", "an", "into", "other", "than", "under", "non", "etc",
    "related", "based", "their", "via",
};

static void segment_en(struct wmap *m, struct idlist *ids, const char *text)
{
    char w[64];
    size_t n = 0;

    for (const char *p = text;; p++) {
        char c = *p;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            if (n < sizeof w - 1)
                w[n++] = (char)(c | 0x20);
            continue;
        }
        if (n >= 3 && n < sizeof w - 1) {
            int stop = 0;

            w[n] = '\0';
            for (size_t i = 0; i < sizeof en_stop / sizeof en_stop[0]; i++)
                stop |= strcmp(w, en_stop[i]) == 0;
            if (!stop)
                idlist_add(ids, wmap_add(m, w, n));
        }
        n = 0;
        if (!c)
            break;
    }
}

/* Ranks the vocabulary by count (descending, first seen first on ties)
 * and sets up its Zipf distribution. Returns the old id -> new id map
 * (malloc'd) for renumbering the word lists. */
struct rank_ent {
    uint64_t count;
    uint32_t id;
};

static int by_count(const void *a, const void *b)
{
    const struct rank_ent *x = a, *y = b;

    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static uint32_t *rank_vocab(struct wmap *m)
{
    struct gen_vocab *v = m->v;
    struct rank_ent *r = xrealloc(NULL, v->n * sizeof *r);
    uint32_t *newid = xrealloc(NULL, v->n * sizeof *newid);
    char **w = xrealloc(NULL, v->n * sizeof *w);
    size_t *len = xrealloc(NULL, v->n * sizeof *len);
    size_t *chars = xrealloc(NULL, v->n * sizeof *chars);

    for (size_t i = 0; i < v->n; i++) {
        r[i].count = m->count[i];
        r[i].id = (uint32_t)i;
    }
    qsort(r, v->n, sizeof *r, by_count);
    for (size_t i = 0; i < v->n; i++) {
        newid[r[i].id] = (uint32_t)i;
        w[i] = v->w[r[i].id];
        len[i] = v->len[r[i].id];
        chars[i] = v->chars[r[i].id];
    }
    free(v->w);
    free(v->len);
    free(v->chars);
    v->w = w;
    v->len = len;
    v->chars = chars;
    v->cap = v->n;
    v->used = calloc(v->n ? v->n : 1, sizeof *v->used);
    /* q = 3: the head is a little flatter than pure 1/r, as in real text
     * once the function words are gone. */
    if (!v->used || gen_dist_zipf(&v->zipf, v->n, 3) != 0) {
        fprintf(stderr, "kxgen: out of memory\n");
        exit(1);
    }
    free(r);
    return newid;
}

static void renumber(uint32_t *ids, size_t n, const uint32_t *newid)
{
    for (size_t i = 0; i < n; i++)
        ids[i] = newid[ids[i]];
}

/* ---- the three taxonomies ----------------------------------------------- */

static FILE *open_in(const char *dir, const char *rel, char *err, size_t n)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, rel);
    f = fopen(path, "r");
    if (!f)
        seterr(err, n, "cannot open %s: %s", path, strerror(errno));
    return f;
}

static int load_industries(struct gen_taxo *t, const char *dir,
                           struct wmap *m, char *err, size_t n)
{
    FILE *f = open_in(dir, "industry/gbt4754_2017.csv", err, n);
    char *line = NULL, *fld[CSV_MAX_FIELDS];
    size_t cap = 0, last[5] = {0, 0, 0, 0, 0};
    long lineno = 0;

    if (!f)
        return -1;
    while (getline(&line, &cap, f) > 0) {
        struct gen_industry *g;
        struct idlist ids = {0};
        int level;

        if (++lineno == 1)
            continue; /* header */
        if (csv_split(line, fld, CSV_MAX_FIELDS) < 8 ||
            (level = atoi(fld[1])) < 1 || level > 4 ||
            strlen(fld[0]) >= sizeof g->code) {
            seterr(err, n, "industry/gbt4754_2017.csv:%ld: malformed line",
                   lineno);
            free(line);
            fclose(f);
            return -1;
        }
        t->ind = xrealloc(t->ind, (t->nind + 1) * sizeof *t->ind);
        g = &t->ind[t->nind];
        memset(g, 0, sizeof *g);
        snprintf(g->code, sizeof g->code, "%s", fld[0]);
        g->level = level;
        /* The file lists every code right after its parent's subtree
         * starts, so the last code seen one level up is the parent. */
        g->parent = level > 1 ? (int)last[level - 1] : -1;
        last[level] = t->nind;
        g->name = xstrdup(fld[6]);
        g->remark = xstrdup(fld[7]);
        segment_zh(m, &ids, g->name);
        segment_zh(m, &ids, g->remark);
        g->words = ids.v;
        g->nwords = ids.n;
        if (level == 4) {
            t->classes = xrealloc(t->classes,
                                  (t->nclasses + 1) * sizeof *t->classes);
            t->classes[t->nclasses++] = t->nind;
        }
        t->nind++;
    }
    free(line);
    fclose(f);
    if (!t->nclasses) {
        seterr(err, n, "industry/gbt4754_2017.csv: no classes");
        return -1;
    }
    return 0;
}

static const char *json_str(json_object *o, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static int load_disciplines(struct gen_taxo *t, const char *dir,
                            struct wmap *zh, struct wmap *en, char *err,
                            size_t n)
{
    FILE *f = open_in(dir, "discipline/nsfc.jsonl", err, n);
    char *line = NULL;
    size_t cap = 0, last[3] = {0, 0, 0};
    long lineno = 0;

    if (!f)
        return -1;
    while (getline(&line, &cap, f) > 0) {
        json_object *o = json_tokener_parse(line);
        const char *id = o ? json_str(o, "_id") : NULL;
        const char *name = o ? json_str(o, "name") : NULL;
        const char *name_en = o ? json_str(o, "name_en") : NULL;
        struct gen_discipline *d;
        struct idlist ids = {0}, ids_en = {0};
        size_t idlen = id ? strlen(id) : 0;
        int level = idlen == 3 ? 0 : idlen == 5 ? 1 : idlen == 7 ? 2 : -1;

        lineno++;
        if (!id || !name || level < 0) {
            json_object_put(o);
            seterr(err, n, "discipline/nsfc.jsonl:%ld: malformed line",
                   lineno);
            free(line);
            fclose(f);
            return -1;
        }
        t->dis = xrealloc(t->dis, (t->ndis + 1) * sizeof *t->dis);
        d = &t->dis[t->ndis];
        memset(d, 0, sizeof *d);
        snprintf(d->code, sizeof d->code, "%s", id);
        d->parent = level ? (int)last[level - 1] : -1;
        last[level] = t->ndis;
        d->name = xstrdup(name);
        d->name_en = xstrdup(name_en ? name_en : "");
        segment_zh(zh, &ids, d->name);
        segment_en(en, &ids_en, d->name_en);
        d->words = ids.v;
        d->nwords = ids.n;
        d->words_en = ids_en.v;
        d->nwords_en = ids_en.n;
        t->ndis++;
        json_object_put(o);
    }
    free(line);
    fclose(f);
    return 0;
}

static void push(size_t **v, size_t *n, size_t x)
{
    *v = xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = x;
}

static int load_regions(struct gen_taxo *t, const char *dir,
                        const char *rel, int towns, char *err, size_t n)
{
    FILE *f = open_in(dir, rel, err, n);
    char *line = NULL, *fld[CSV_MAX_FIELDS];
    size_t cap = 0;
    long lineno = 0;

    if (!f)
        return -1;
    while (getline(&line, &cap, f) > 0) {
        struct gen_region *g;
        size_t nf;

        if (++lineno == 1)
            continue;
        nf = csv_split(line, fld, CSV_MAX_FIELDS);
        if (nf < 3 || strlen(fld[0]) != (towns ? 9u : 6u)) {
            seterr(err, n, "%s:%ld: malformed line", rel, lineno);
            free(line);
            fclose(f);
            return -1;
        }
        t->reg = xrealloc(t->reg, (t->nreg + 1) * sizeof *t->reg);
        g = &t->reg[t->nreg];
        snprintf(g->code, sizeof g->code, "%s", fld[0]);
        g->name = xstrdup(fld[1]);
        g->binzhou = strncmp(g->code, "3716", 4) == 0;
        if (towns)
            push(&t->bz_town, &t->nbz_town, t->nreg);
        else if (g->binzhou)
            push(&t->bz_county, &t->nbz_county, t->nreg);
        else
            push(&t->other_county, &t->nother_county, t->nreg);
        t->nreg++;
    }
    free(line);
    fclose(f);
    return 0;
}

int gen_taxo_load(struct gen_taxo *t, const char *dir, char *err, size_t n)
{
    struct wmap zh = {0}, en = {0};
    uint32_t *newid;
    int rc = -1;

    memset(t, 0, sizeof *t);
    zh.v = &t->zh;
    en.v = &t->en;
    if (load_industries(t, dir, &zh, err, n) != 0 ||
        load_disciplines(t, dir, &zh, &en, err, n) != 0 ||
        load_regions(t, dir, "region/areas.csv", 0, err, n) != 0 ||
        load_regions(t, dir, "region/streets_binzhou_3716.csv", 1, err,
                     n) != 0)
        goto out;
    if (!t->nbz_town || !t->nbz_county || !t->nother_county || !t->ndis ||
        !t->zh.n || !t->en.n) {
        seterr(err, n, "%s: taxonomies are incomplete", dir);
        goto out;
    }
    newid = rank_vocab(&zh);
    for (size_t i = 0; i < t->nind; i++)
        renumber(t->ind[i].words, t->ind[i].nwords, newid);
    for (size_t i = 0; i < t->ndis; i++)
        renumber(t->dis[i].words, t->dis[i].nwords, newid);
    free(newid);
    newid = rank_vocab(&en);
    for (size_t i = 0; i < t->ndis; i++)
        renumber(t->dis[i].words_en, t->dis[i].nwords_en, newid);
    free(newid);
    rc = 0;
out:
    free(zh.slot);
    free(zh.count);
    free(en.slot);
    free(en.count);
    return rc;
}

void gen_taxo_free(struct gen_taxo *t)
{
    for (size_t i = 0; i < t->nind; i++) {
        free(t->ind[i].name);
        free(t->ind[i].remark);
        free(t->ind[i].words);
    }
    for (size_t i = 0; i < t->ndis; i++) {
        free(t->dis[i].name);
        free(t->dis[i].name_en);
        free(t->dis[i].words);
        free(t->dis[i].words_en);
    }
    for (size_t i = 0; i < t->nreg; i++)
        free(t->reg[i].name);
    free(t->ind);
    free(t->classes);
    free(t->dis);
    free(t->reg);
    free(t->bz_town);
    free(t->bz_county);
    free(t->other_county);
    for (struct gen_vocab *v = &t->zh; v <= &t->en; v++) {
        for (size_t i = 0; i < v->n; i++)
            free(v->w[i]);
        free(v->w);
        free(v->len);
        free(v->chars);
        free(v->used);
        gen_dist_free(&v->zipf);
    }
    memset(t, 0, sizeof *t);
}
