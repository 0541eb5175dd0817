/* taxo.c - the shipped taxonomies: loading, lookups, ancestry. */
#include "taxo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json.h>

#include "share.h"

#define TAXO_MAX_DEPTH 8   /* deepest chain any shipped taxonomy has is 4 */
#define TAXO_CSV_COLS 8    /* the widest file (industries) has 8 columns */
#define TAXO_BLK_MIN 65536

/* Storage comes from a few large blocks per kind (the file buffers
 * themselves plus bump blocks for the codes we have to synthesise), so a
 * load makes a handful of allocations instead of one per string. */
struct taxo_blk {
    struct taxo_blk *next;
    size_t used, cap;
    char data[];
};

struct taxo_entry {
    const char *code, *name, *name_en, *remark;
    const struct taxo_entry *parent;
    /* only meaningful while loading: */
    const char *parent_code;
    int line;
    unsigned char parent_len;
    unsigned char file;
    unsigned char level;
    unsigned char synthetic;   /* an industry group made up from its only
                                  class */
};

struct taxo_set {
    struct taxo_blk *blks;
    struct taxo_blk *bump;   /* the block set_alloc carves from */
    struct taxo_entry *ents;
    size_t n, cap;
    uint32_t *slots;   /* index + 1 into ents; 0 = empty */
    size_t nslots;     /* a power of two, at least 2n */
    const char *files[4];
};

struct taxo {
    struct taxo_set k[TAXO_KIND_LAST];
};

/* What a loader needs to report errors against the right file. */
struct taxo_ctx {
    struct taxo_set *set;
    const char *path;
    int file;
    struct kx_error *err;
};

const char *taxo_default_dir(void)
{
    const char *env = getenv("KXMATCH_TAXONOMY");

    if (env && *env)
        return env;
    return kx_share_path("taxonomy");
}

/* ---- memory --------------------------------------------------------- */

static struct taxo_blk *blk_new(struct taxo_set *s, size_t cap)
{
    struct taxo_blk *b = malloc(sizeof *b + cap);

    if (!b)
        return NULL;
    b->next = s->blks;
    b->used = 0;
    b->cap = cap;
    s->blks = b;
    return b;
}

/* Bump-allocates n bytes. File buffers are blocks too but never bump
 * blocks, so reading a file does not strand the free space of this one. */
static char *set_alloc(struct taxo_set *s, size_t n)
{
    struct taxo_blk *b = s->bump;
    char *p;

    if (!b || b->cap - b->used < n) {
        b = blk_new(s, n > TAXO_BLK_MIN ? n : TAXO_BLK_MIN);
        if (!b)
            return NULL;
        s->bump = b;
    }
    p = b->data + b->used;
    b->used += n;
    return p;
}

static char *set_strdup(struct taxo_set *s, const char *a, size_t alen,
                        const char *b, size_t blen)
{
    char *p = set_alloc(s, alen + blen + 1);

    if (!p)
        return NULL;
    memcpy(p, a, alen);
    memcpy(p + alen, b, blen);
    p[alen + blen] = '\0';
    return p;
}

/* Frees the block holding p, for a file whose strings were all copied. */
static void set_drop_blk(struct taxo_set *s, const char *p)
{
    struct taxo_blk **pb, *b;

    for (pb = &s->blks; (b = *pb) != NULL; pb = &b->next) {
        if (p >= b->data && p <= b->data + b->cap) {
            *pb = b->next;
            if (s->bump == b)
                s->bump = NULL;
            free(b);
            return;
        }
    }
}

static void set_free(struct taxo_set *s)
{
    struct taxo_blk *b = s->blks, *next;

    for (; b; b = next) {
        next = b->next;
        free(b);
    }
    free(s->ents);
    free(s->slots);
    memset(s, 0, sizeof *s);
}

void taxo_free(taxo *t)
{
    int k;

    if (!t)
        return;
    for (k = 0; k < TAXO_KIND_LAST; k++)
        set_free(&t->k[k]);
    free(t);
}

/* Records the file and line an error is about. A path too long for
 * err->file keeps its tail, where the file name is. */
static void err_where(struct taxo_ctx *c, long line)
{
    size_t n, cap;
    const char *p = c->path;

    if (!c->err)
        return;
    cap = sizeof c->err->file - 1;
    n = strlen(p);
    if (n > cap) {
        memcpy(c->err->file, "...", 3);
        memcpy(c->err->file + 3, p + n - (cap - 3), cap - 3);
        n = cap;
    } else {
        memcpy(c->err->file, p, n);
    }
    c->err->file[n] = '\0';
    c->err->line = line;
}

/* ---- hash table ----------------------------------------------------- */

static uint32_t hash_code(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static struct taxo_entry *set_find(const struct taxo_set *s, const char *code,
                                   size_t n)
{
    size_t mask, i;

    if (!s->nslots)
        return NULL;
    mask = s->nslots - 1;
    for (i = hash_code(code, n) & mask; s->slots[i]; i = (i + 1) & mask) {
        struct taxo_entry *e = &s->ents[s->slots[i] - 1];

        if (strncmp(e->code, code, n) == 0 && e->code[n] == '\0')
            return e;
    }
    return NULL;
}

static void slot_put(uint32_t *slots, size_t nslots, const char *code,
                     uint32_t idx1)
{
    size_t mask = nslots - 1, i;

    for (i = hash_code(code, strlen(code)) & mask; slots[i];
         i = (i + 1) & mask)
        ;
    slots[i] = idx1;
}

static enum kx_status corrupt(struct taxo_ctx *c, long line, const char *fmt,
                              ...) __attribute__((format(printf, 3, 4)));

/* Makes room for extra more entries, so that loading a file of known line
 * count neither reallocates the array nor rehashes midway. */
static enum kx_status set_reserve(struct taxo_set *s, size_t extra)
{
    size_t want = s->n + extra, n = s->nslots ? s->nslots : 1024, i;
    uint32_t *slots;

    if (want > s->cap) {
        struct taxo_entry *ents = realloc(s->ents, want * sizeof *ents);

        if (!ents)
            return KX_NOMEM;
        s->ents = ents;
        s->cap = want;
    }
    while (n < want * 2)
        n *= 2;
    if (n == s->nslots)
        return KX_OK;
    slots = calloc(n, sizeof *slots);
    if (!slots)
        return KX_NOMEM;
    for (i = 0; i < s->n; i++)
        slot_put(slots, n, s->ents[i].code, (uint32_t)(i + 1));
    free(s->slots);
    s->slots = slots;
    s->nslots = n;
    return KX_OK;
}

/* Appends a new entry for code and indexes it. Codes are unique within a
 * kind, so a repeat is a corrupt file (the caller decides otherwise for
 * the region overlap it knows about, before calling). */
static enum kx_status set_add(struct taxo_ctx *c, const char *code,
                              long line, struct taxo_entry **out)
{
    struct taxo_set *s = c->set;
    struct taxo_entry *e;
    size_t len = strlen(code), mask, i;

    *out = NULL;
    if ((s->n == s->cap || (s->n + 1) * 2 > s->nslots) &&
        set_reserve(s, s->n + 1) != KX_OK)
        return KX_NOMEM;
    mask = s->nslots - 1;
    for (i = hash_code(code, len) & mask; s->slots[i]; i = (i + 1) & mask) {
        if (strcmp(s->ents[s->slots[i] - 1].code, code) == 0)
            return corrupt(c, line, "duplicate code \"%s\"", code);
    }
    e = &s->ents[s->n];
    memset(e, 0, sizeof *e);
    e->code = code;
    e->line = (int)line;
    e->file = (unsigned char)c->file;
    s->slots[i] = (uint32_t)(s->n + 1);
    s->n++;
    *out = e;
    return KX_OK;
}

/* ---- reading files -------------------------------------------------- */

static enum kx_status corrupt(struct taxo_ctx *c, long line, const char *fmt,
                              ...)
{
    char msg[sizeof c->err->msg];
    va_list ap;

    if (!c->err)
        return KX_CORRUPT;
    err_where(c, line);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    kx_error_set(c->err, KX_CORRUPT, "", "%s", msg);
    return KX_CORRUPT;
}

/* Reads the whole file into a block of the set (the strings we hand out
 * point into it), NUL-terminated, without a UTF-8 byte order mark, and
 * makes room in the set for an entry per line. */
static enum kx_status file_slurp(struct taxo_ctx *c, char **out, size_t *len)
{
    struct taxo_blk *b;
    struct stat st;
    size_t got = 0, lines = 1;
    const char *p;
    int fd, e = 0;
    enum kx_status rc = KX_OK;

    *out = NULL;
    fd = open(c->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        e = errno;
        rc = e == ENOENT || e == ENOTDIR ? KX_NOTFOUND : KX_IO;
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        e = errno;
        rc = KX_IO;
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > (off_t)(256u << 20)) {
        e = S_ISREG(st.st_mode) ? EFBIG : EISDIR;
        rc = KX_IO;
        goto out;
    }
    b = blk_new(c->set, (size_t)st.st_size + 1);
    if (!b) {
        rc = KX_NOMEM;
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, b->data + got, (size_t)st.st_size - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            e = r < 0 ? errno : EIO;   /* EOF early: the file shrank */
            rc = KX_IO;
            goto out;
        }
        got += (size_t)r;
    }
    b->data[got] = '\0';
    for (p = b->data; (p = memchr(p, '\n', got - (size_t)(p - b->data)));
         p++)
        lines++;
    /* the parsers stop at a NUL: it would cut the file short silently */
    p = memchr(b->data, '\0', got);
    if (p) {
        size_t at = (size_t)(p - b->data), ln = 1, i;

        for (i = 0; i < at; i++)
            ln += b->data[i] == '\n';
        rc = corrupt(c, (long)ln, "NUL byte at offset %zu", at);
        goto out;
    }
    /* a few spare for the industry groups we synthesise */
    if (set_reserve(c->set, lines + lines / 8) != KX_OK) {
        rc = KX_NOMEM;
        goto out;
    }
    *out = b->data;
    *len = got;
    if (got >= 3 && memcmp(b->data, "\xEF\xBB\xBF", 3) == 0) {
        *out += 3;
        *len -= 3;
    }
out:
    if (fd >= 0)
        close(fd);
    if (rc == KX_OK || rc == KX_NOMEM || rc == KX_CORRUPT)
        return rc;
    err_where(c, 0);
    kx_error_set(c->err, rc, "", "cannot read: %s", strerror(e));
    return rc;
}

/* Splits the next CSV row at *pp in place: quoted fields lose their quotes
 * and "" becomes ", fields are NUL-terminated. Returns the number of
 * fields, 0 at end of input, -1 on a syntax error (msg says which). */
static int csv_row(char **pp, char **f, int max, long *line,
                   const char **msg)
{
    char *p = *pp;
    int n = 0;

    if (!*p)
        return 0;
    for (;;) {
        char *end, sep;

        if (n == max) {
            *msg = "too many columns";
            return -1;
        }
        f[n++] = p;
        if (*p == '"') {
            char *w = p, *r = p + 1;

            for (;;) {
                if (!*r) {
                    *msg = "unterminated quoted field";
                    return -1;
                }
                if (*r == '"') {
                    if (r[1] != '"')
                        break;
                    r++;
                }
                if (*r == '\n')
                    (*line)++;
                *w++ = *r++;
            }
            end = r + 1;
            if (*end && *end != ',' && *end != '\r' && *end != '\n') {
                *msg = "unexpected character after a closing quote";
                return -1;
            }
            sep = *end;
            *w = '\0';
        } else {
            end = p + strcspn(p, ",\r\n");
            sep = *end;
            *end = '\0';
        }
        if (sep == ',') {
            p = end + 1;
            continue;
        }
        if (sep == '\r') {
            end++;
            if (*end == '\n')
                end++;
        } else if (sep == '\n') {
            end++;
        }
        if (sep)
            (*line)++;
        *pp = end;
        return n;
    }
}

/* Iterates over the data rows of a CSV file with the given header. */
struct csv {
    char *p;
    long line;       /* line the current row started on */
    long next_line;
    int ncols;
};

static enum kx_status csv_open(struct taxo_ctx *c, struct csv *cv,
                               const char *header, int ncols)
{
    char *f[TAXO_CSV_COLS];
    const char *msg = NULL;
    size_t len, hl = strlen(header);
    enum kx_status st;
    int n;

    st = file_slurp(c, &cv->p, &len);
    if (st != KX_OK)
        return st;
    cv->next_line = 1;
    cv->ncols = ncols;
    n = csv_row(&cv->p, f, TAXO_CSV_COLS, &cv->next_line, &msg);
    if (n != ncols)
        return corrupt(c, 1, "expected the header \"%s\"", header);
    /* compare the rejoined header: the fields were split in place */
    {
        const char *h = header;
        int i;

        for (i = 0; i < n; i++) {
            size_t fl = strlen(f[i]);

            if (strncmp(h, f[i], fl) != 0 || (h[fl] != ',' && h[fl]))
                return corrupt(c, 1, "expected the header \"%s\"", header);
            h += fl + (h[fl] == ',');
        }
        if ((size_t)(h - header) != hl)
            return corrupt(c, 1, "expected the header \"%s\"", header);
    }
    return KX_OK;
}

/* Next data row into f[]; returns 1, 0 at the end, or -1 with err set.
 * Blank lines are skipped. */
static int csv_next(struct taxo_ctx *c, struct csv *cv, char **f,
                    enum kx_status *st)
{
    const char *msg = NULL;
    int n;

    for (;;) {
        cv->line = cv->next_line;
        n = csv_row(&cv->p, f, TAXO_CSV_COLS, &cv->next_line, &msg);
        if (n == 0)
            return 0;
        if (n < 0) {
            *st = corrupt(c, cv->line, "%s", msg);
            return -1;
        }
        if (n == 1 && !f[0][0])
            continue;
        if (n != cv->ncols) {
            *st = corrupt(c, cv->line, "expected %d columns, got %d",
                          cv->ncols, n);
            return -1;
        }
        return 1;
    }
}

static int all_digits(const char *s, size_t n)
{
    size_t i;

    if (strlen(s) != n)
        return 0;
    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* ---- GB/T 4754-2017 industries -------------------------------------- */

/* Known defects of the shipped file, repaired as it is read so that the
 * data stays byte-identical to its source. The source gives 飞机制造 as a
 * second group "374" with no class code; GB/T 4754-2017 has it as class
 * 3741. A corrected file simply never matches. */
static const struct {
    const char *code, *name, *fixed;
    int level;
} industry_errata[] = {
    {"374", "飞机制造", "3741", 4},
};

static enum kx_status load_industry(struct taxo_ctx *c)
{
    char *f[TAXO_CSV_COLS];
    struct csv cv;
    enum kx_status st;
    int r;

    st = csv_open(c, &cv, "code,level,section,division,group,class,name,"
                  "remark", 8);
    if (st != KX_OK)
        return st;
    while ((r = csv_next(c, &cv, f, &st)) > 0) {
        const char *code = f[0], *section = f[2];
        struct taxo_entry *e, *g;
        int level = f[1][0] - '0';
        size_t i;

        for (i = 0; i < sizeof industry_errata / sizeof industry_errata[0];
             i++) {
            if (strcmp(code, industry_errata[i].code) == 0 &&
                strcmp(f[6], industry_errata[i].name) == 0) {
                code = industry_errata[i].fixed;
                level = industry_errata[i].level;
            }
        }

        if ((code == f[0] && f[1][1]) || level < 1 || level > 4)
            return corrupt(c, cv.line, "level \"%s\" is not 1 to 4", f[1]);
        if (level == 1 ? !(code[0] >= 'A' && code[0] <= 'Z' && !code[1])
                       : !all_digits(code, (size_t)level))
            return corrupt(c, cv.line, "code \"%s\" does not fit its level",
                           code);
        if (!section[0] || section[1] || section[0] < 'A' || section[0] > 'Z')
            return corrupt(c, cv.line, "section \"%s\" is not a letter",
                           section);
        if (!f[6][0])
            return corrupt(c, cv.line, "code \"%s\" has no name", code);
        g = level == 3 ? set_find(c->set, code, 3) : NULL;
        if (g && g->synthetic) {
            /* the real group row came after its class: take its text */
            g->name = f[6];
            g->remark = f[7][0] ? f[7] : NULL;
            g->synthetic = 0;
            g->line = (int)cv.line;
            continue;
        }
        if (level == 4 && !set_find(c->set, code, 3)) {
            /* A group with a single class is printed as one row with both
             * codes; the file keeps only the class row, but "019" is as
             * valid a code as "0190" and must be its parent. */
            char *gc = set_strdup(c->set, code, 3, "", 0);

            if (!gc)
                return KX_NOMEM;
            st = set_add(c, gc, cv.line, &g);
            if (st != KX_OK)
                return st;
            g->name = f[6];
            g->remark = f[7][0] ? f[7] : NULL;
            g->level = 3;
            g->parent_code = code;
            g->parent_len = 2;
            g->synthetic = 1;
        }
        st = set_add(c, code, cv.line, &e);
        if (st != KX_OK)
            return st;
        e->name = f[6];
        e->remark = f[7][0] ? f[7] : NULL;
        e->level = (unsigned char)level;
        if (level == 2) {
            e->parent_code = section;
            e->parent_len = 1;
        } else if (level > 2) {
            e->parent_code = code;
            e->parent_len = (unsigned char)(level - 1);
        }
    }
    return r < 0 ? st : KX_OK;
}

/* ---- NSFC disciplines ----------------------------------------------- */

static const char *json_str(struct json_object *o, const char *key,
                            size_t *len)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    *len = (size_t)json_object_get_string_len(v);
    return json_object_get_string(v);
}

static enum kx_status nsfc_line(struct taxo_ctx *c, struct json_object *o,
                                long line)
{
    struct json_object *parents, *p0;
    const char *id, *name, *name_en, *pc;
    size_t idl = 0, nl = 0, nel = 0, pl = 0;
    struct taxo_entry *e;
    char *ids;
    enum kx_status st;
    int level;

    if (!json_object_is_type(o, json_type_object))
        return corrupt(c, line, "expected a JSON object");
    id = json_str(o, "_id", &idl);
    if (!id || (idl != 3 && idl != 5 && idl != 7) || id[0] < 'A' ||
        id[0] > 'Z' || !all_digits(id + 1, idl - 1))
        return corrupt(c, line,
                       "\"_id\" is not a letter and 2, 4 or 6 digits");
    level = (int)(idl - 1) / 2;
    name = json_str(o, "name", &nl);
    if (!name || !nl)
        return corrupt(c, line, "\"name\" is missing or empty");
    name_en = json_str(o, "name_en", &nel);
    if (!json_object_object_get_ex(o, "parents", &parents) ||
        !json_object_is_type(parents, json_type_array) ||
        json_object_array_length(parents) != (level > 1 ? 1u : 0u))
        return corrupt(c, line, "%s",
                       level > 1 ? "\"parents\" must hold one code"
                                 : "\"parents\" must be empty at level 1");
    pc = NULL;
    if (level > 1) {
        p0 = json_object_array_get_idx(parents, 0);
        if (!json_object_is_type(p0, json_type_string))
            return corrupt(c, line, "\"parents\" must hold one code");
        pc = json_object_get_string(p0);
        pl = (size_t)json_object_get_string_len(p0);
        if (pl >= idl)
            return corrupt(c, line, "\"parents\" must hold a shorter code");
    }
    /* one block for all strings of the line keeps the arena dense */
    ids = set_alloc(c->set, idl + 1 + nl + 1 + (name_en ? nel + 1 : 0) +
                    (pc ? pl + 1 : 0));
    if (!ids)
        return KX_NOMEM;
    memcpy(ids, id, idl + 1);
    st = set_add(c, ids, line, &e);
    if (st != KX_OK)
        return st;
    e->level = (unsigned char)level;
    e->name = memcpy(ids + idl + 1, name, nl + 1);
    ids += idl + 1 + nl + 1;
    if (name_en && nel) {
        e->name_en = memcpy(ids, name_en, nel + 1);
        ids += nel + 1;
    }
    if (pc) {
        e->parent_code = memcpy(ids, pc, pl + 1);
        e->parent_len = (unsigned char)pl;
    }
    return KX_OK;
}

static enum kx_status load_discipline(struct taxo_ctx *c)
{
    struct json_tokener *tok = NULL;
    char *buf, *p, *nl;
    size_t len;
    long line = 0;
    enum kx_status st;

    st = file_slurp(c, &buf, &len);
    if (st != KX_OK)
        return st;
    tok = json_tokener_new_ex(8);
    if (!tok) {
        st = KX_NOMEM;
        goto out;
    }
    for (p = buf; p < buf + len; p = nl + 1) {
        struct json_object *o;
        size_t ll;

        line++;
        nl = memchr(p, '\n', (size_t)(buf + len - p));
        if (!nl)
            nl = buf + len;
        ll = (size_t)(nl - p);
        if (ll && p[ll - 1] == '\r')
            ll--;
        if (strspn(p, " \t\r") >= ll)
            continue;
        json_tokener_reset(tok);
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        o = json_tokener_parse_ex(tok, p, (int)ll);
        if (!o) {
            enum json_tokener_error je = json_tokener_get_error(tok);

            st = corrupt(c, line, "malformed JSON: %s",
                         je == json_tokener_continue
                             ? "unexpected end of line"
                             : json_tokener_error_desc(je));
            goto out;
        }
        st = nsfc_line(c, o, line);
        json_object_put(o);
        if (st != KX_OK)
            goto out;
    }
    st = KX_OK;
out:
    json_tokener_free(tok);
    /* json-c handed us copies, which nsfc_line copied to the arena */
    set_drop_blk(c->set, buf);
    return st;
}

/* ---- GB/T 2260 regions ---------------------------------------------- */

/* Region codes are six digits (nine for townships); the files give
 * provinces and cities by their 2- and 4-digit prefixes, which we pad. */
static enum kx_status region_file(struct taxo_ctx *c, const char *header,
                                  int ncols, int level)
{
    char *f[TAXO_CSV_COLS];
    struct csv cv;
    enum kx_status st;
    int r;
    static const size_t digits[] = {0, 2, 4, 6, 9};

    st = csv_open(c, &cv, header, ncols);
    if (st != KX_OK)
        return st;
    while ((r = csv_next(c, &cv, f, &st)) > 0) {
        const char *code = f[0], *pcode = level > 1 ? f[2] : NULL;
        struct taxo_entry *e;
        size_t pdig = level > 1 ? digits[level - 1] : 0;
        char *full, *pfull = NULL;

        if (!all_digits(code, digits[level]))
            return corrupt(c, cv.line, "code \"%s\" has the wrong length",
                           code);
        if (pcode && (!all_digits(pcode, pdig) ||
                      strncmp(code, pcode, pdig) != 0))
            return corrupt(c, cv.line, "parent code \"%s\" does not fit",
                           pcode);
        if (!f[1][0])
            return corrupt(c, cv.line, "code \"%s\" has no name", code);
        if (level == 3 && strcmp(code + 4, "00") == 0) {
            /* Cities without counties (东莞 441900, 中山, 儋州) repeat
             * themselves as their only county: one unit, one entry. */
            continue;
        }
        if (level <= 2) {
            full = set_strdup(c->set, code, digits[level],
                              "0000", 6 - digits[level]);
            if (!full)
                return KX_NOMEM;
        } else {
            full = f[0];
        }
        if (level == 2 || level == 3) {
            pfull = set_strdup(c->set, pcode, pdig, "0000", 6 - pdig);
            if (!pfull)
                return KX_NOMEM;
        } else if (level == 4) {
            pfull = f[2];
        }
        st = set_add(c, full, cv.line, &e);
        if (st != KX_OK)
            return st;
        e->name = f[1];
        e->level = (unsigned char)level;
        if (pfull) {
            e->parent_code = pfull;
            e->parent_len = (unsigned char)strlen(pfull);
        }
    }
    return r < 0 ? st : KX_OK;
}

/* ---- loading -------------------------------------------------------- */

/* Turns parent codes into pointers once every entry of the kind exists
 * (the entry array no longer moves) and checks that each parent is there. */
static enum kx_status set_link(struct taxo_ctx *c)
{
    struct taxo_set *s = c->set;
    size_t i;

    /* not to zero: realloc(p, 0) frees p and returns NULL, which left
     * s->ents dangling (a file of no codes, then a double free) */
    if (s->n && s->n < s->cap) {
        struct taxo_entry *ents = realloc(s->ents, s->n * sizeof *ents);

        if (ents) {
            s->ents = ents;
            s->cap = s->n;
        }
    }
    for (i = 0; i < s->n; i++) {
        struct taxo_entry *e = &s->ents[i];

        if (!e->parent_code)
            continue;
        e->parent = set_find(s, e->parent_code, e->parent_len);
        if (!e->parent || e->parent->level != e->level - 1) {
            c->path = s->files[e->file];
            return corrupt(c, e->line, "parent code \"%.*s\" is %s",
                           (int)e->parent_len, e->parent_code,
                           e->parent ? "not one level up" : "unknown");
        }
    }
    return KX_OK;
}

static enum kx_status path_join(char *buf, size_t n, const char *dir,
                                const char *rel, struct kx_error *err)
{
    if ((size_t)snprintf(buf, n, "%s/%s", dir, rel) >= n)
        return kx_error_set(err, KX_BADINPUT, "",
                            "taxonomy directory path is too long");
    return KX_OK;
}

enum kx_status taxo_load(const char *dir, taxo **out, struct kx_error *err)
{
    static const struct {
        enum taxo_kind kind;
        const char *rel;
    } files[] = {
        {TAXO_INDUSTRY, "industry/gbt4754_2017.csv"},
        {TAXO_DISCIPLINE, "discipline/nsfc.jsonl"},
        {TAXO_REGION, "region/provinces.csv"},
        {TAXO_REGION, "region/cities.csv"},
        {TAXO_REGION, "region/areas.csv"},
        {TAXO_REGION, "region/streets_binzhou_3716.csv"},
    };
    char paths[sizeof files / sizeof files[0]][4096];
    taxo *t = NULL;
    struct taxo_ctx c;
    enum kx_status st = KX_OK;
    size_t i;
    int k;

    if (!out)
        return KX_BADINPUT;
    *out = NULL;
    if (!dir)
        dir = taxo_default_dir();
    t = calloc(1, sizeof *t);
    if (!t) {
        st = KX_NOMEM;
        goto out;
    }
    c.err = err;
    for (i = 0; i < sizeof files / sizeof files[0]; i++) {
        st = path_join(paths[i], sizeof paths[i], dir, files[i].rel, err);
        if (st != KX_OK)
            goto out;
        c.set = &t->k[files[i].kind];
        c.path = paths[i];
        c.file = 0;
        while (c.set->files[c.file])
            c.file++;
        c.set->files[c.file] = paths[i];
        switch (i) {
        case 0:
            st = load_industry(&c);
            break;
        case 1:
            st = load_discipline(&c);
            break;
        case 2:
            st = region_file(&c, "code,name", 2, 1);
            break;
        case 3:
            st = region_file(&c, "code,name,provinceCode", 3, 2);
            break;
        case 4:
            st = region_file(&c, "code,name,cityCode,provinceCode", 4, 3);
            break;
        default:
            st = region_file(&c, "code,name,areaCode,provinceCode,cityCode",
                             5, 4);
            break;
        }
        if (st != KX_OK)
            goto out;
    }
    for (k = 0; k < TAXO_KIND_LAST; k++) {
        c.set = &t->k[k];
        st = set_link(&c);
        if (st != KX_OK)
            goto out;
        /* the paths live on this stack frame */
        memset(c.set->files, 0, sizeof c.set->files);
    }
    *out = t;
    t = NULL;
out:
    if (st == KX_NOMEM)
        kx_error_set(err, st, "", "out of memory loading taxonomies");
    taxo_free(t);
    return st;
}

/* ---- queries -------------------------------------------------------- */

static const struct taxo_entry *lookup(const taxo *t, enum taxo_kind k,
                                       const char *code)
{
    if (!t || !code || (unsigned)k >= TAXO_KIND_LAST)
        return NULL;
    return set_find(&t->k[k], code, strlen(code));
}

int taxo_valid(const taxo *t, enum taxo_kind k, const char *code)
{
    return lookup(t, k, code) != NULL;
}

const char *taxo_name(const taxo *t, enum taxo_kind k, const char *code)
{
    const struct taxo_entry *e = lookup(t, k, code);

    return e ? e->name : NULL;
}

const char *taxo_name_en(const taxo *t, enum taxo_kind k, const char *code)
{
    const struct taxo_entry *e = lookup(t, k, code);

    return e ? e->name_en : NULL;
}

const char *taxo_remark(const taxo *t, enum taxo_kind k, const char *code)
{
    const struct taxo_entry *e = lookup(t, k, code);

    return e ? e->remark : NULL;
}

const char *taxo_parent(const taxo *t, enum taxo_kind k, const char *code)
{
    const struct taxo_entry *e = lookup(t, k, code);

    return e && e->parent ? e->parent->code : NULL;
}

int taxo_level(const taxo *t, enum taxo_kind k, const char *code)
{
    const struct taxo_entry *e = lookup(t, k, code);

    return e ? e->level : 0;
}

size_t taxo_ancestors(const taxo *t, enum taxo_kind k, const char *code,
                      const char **out, size_t max)
{
    const struct taxo_entry *e = lookup(t, k, code);
    size_t n = 0;

    for (; e && n < max; e = e->parent)
        out[n++] = e->code;
    return n;
}

const char *taxo_meet(const taxo *t, enum taxo_kind k, const char *a,
                      const char *b)
{
    const struct taxo_entry *ea = lookup(t, k, a), *eb = lookup(t, k, b);
    const struct taxo_entry *chain[TAXO_MAX_DEPTH];
    size_t n = 0, i;

    if (!ea || !eb)
        return NULL;
    for (; ea && n < TAXO_MAX_DEPTH; ea = ea->parent)
        chain[n++] = ea;
    for (; eb; eb = eb->parent)
        for (i = 0; i < n; i++)
            if (chain[i] == eb)
                return eb->code;
    return NULL;
}

void taxo_each(const taxo *t, enum taxo_kind k, taxo_fn fn, void *ctx)
{
    const struct taxo_set *s;
    size_t i;

    if (!t || !fn || (unsigned)k >= TAXO_KIND_LAST)
        return;
    s = &t->k[k];
    for (i = 0; i < s->n; i++) {
        const struct taxo_entry *e = &s->ents[i];

        if (fn(ctx, e->code, e->name, e->name_en, e->remark, e->level))
            break;
    }
}

size_t taxo_count(const taxo *t, enum taxo_kind k)
{
    if (!t || (unsigned)k >= TAXO_KIND_LAST)
        return 0;
    return t->k[k].n;
}
