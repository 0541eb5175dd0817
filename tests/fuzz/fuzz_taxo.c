/* fuzz_taxo.c - libFuzzer target for the taxonomy loaders (indexer/taxo.c):
 * taxo_load reads a directory, so the input becomes one of its six files
 * in a temporary directory, the first byte choosing which (its value
 * modulo 6, so '0' to '5' in the seeds: industries, disciplines,
 * provinces, cities, counties, Binzhou townships) and the rest the file.
 * The other five are excerpts of the shipped files in datasets/taxonomy,
 * written at start: industries of sections A and B, disciplines of G, the
 * provinces, Shandong's cities, Binzhou's counties and townships. Whole
 * files would cost 65 ms a load under ASan; these cost well under one,
 * and parent codes still meet across files.
 *
 * Invariants: no crash, undefined behaviour or leak; a refusal is
 * KX_CORRUPT (or KX_NOMEM) with a message and the file (one of the six)
 * and line it is about; an accepted taxonomy is consistent: every code is
 * valid, has a name, its level, and a parent one level up whose chain of
 * ancestors ends at level 1, and two codes meet at a common ancestor. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "taxo.h"

#define NFILES 6

static const char *const rel[NFILES] = {
    "industry/gbt4754_2017.csv",  "discipline/nsfc.jsonl",
    "region/provinces.csv",       "region/cities.csv",
    "region/areas.csv",           "region/streets_binzhou_3716.csv",
};

static char dir[64];
static char paths[NFILES][128];
static char *base[NFILES];   /* the excerpt written for each file */
static size_t base_len[NFILES];
static int dirty = -1;       /* the file holding the last input */

/* 1 if the line (after the header) belongs to the excerpt of file i. */
static int keep(int i, const char *line, size_t n)
{
    switch (i) {
    case 0: {   /* code,level,section,...: sections A and B */
        const char *c = memchr(line, ',', n);

        c = c ? memchr(c + 1, ',', n - (size_t)(c + 1 - line)) : NULL;
        return c && (c[1] == 'A' || c[1] == 'B');
    }
    case 1:
        return n > 10 && memcmp(line, "{\"_id\": \"G", 10) == 0;
    case 2:
        return 1;
    case 3:
        return n > 3 && memcmp(line + n - 3, ",37", 3) == 0;
    case 4:
        return strstr(line, ",3716,") != NULL;   /* line ends in a NUL */
    default:
        return 1;
    }
}

/* Writes first and truncates after: ext4 flushes a file truncated to
 * zero and written again when it is closed, which is slow. */
static void write_file(int i, const char *p, size_t n)
{
    int fd = open(paths[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0 || (n && pwrite(fd, p, n, 0) != (ssize_t)n) ||
        ftruncate(fd, (off_t)n) != 0 || close(fd) != 0) {
        fprintf(stderr, "fuzz_taxo: cannot write %s\n", paths[i]);
        exit(1);
    }
}

static void excerpt(int i)
{
    char src[4096], *line = NULL;
    size_t cap = 0, len = 0, lines = 0;
    ssize_t n;
    FILE *f, *out;

    snprintf(src, sizeof src, "%s/%s", KX_TAXONOMY_DIR, rel[i]);
    if (!(f = fopen(src, "r")) || !(out = open_memstream(&base[i], &len))) {
        fprintf(stderr, "fuzz_taxo: cannot read %s\n", src);
        exit(1);
    }
    while ((n = getline(&line, &cap, f)) > 0) {
        size_t l = (size_t)n;

        while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
            l--;
        if (lines++ == 0 || keep(i, line, l))
            fwrite(line, 1, (size_t)n, out);
    }
    free(line);
    fclose(f);
    fclose(out);
    base_len[i] = len;
    write_file(i, base[i], len);
}

static void cleanup(void)
{
    for (int i = 0; i < NFILES; i++) {
        unlink(paths[i]);
        free(base[i]);
    }
    for (int i = 0; i < NFILES; i++) {
        char sub[128];

        snprintf(sub, sizeof sub, "%s/%.*s", dir,
                 (int)(strchr(rel[i], '/') - rel[i]), rel[i]);
        rmdir(sub);
    }
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = getenv("TMPDIR");
    static const char *const subs[] = {"industry", "discipline", "region"};
    struct kx_error err;
    taxo *t = NULL;

    (void)argc;
    (void)argv;
    snprintf(dir, sizeof dir, "%.40s/kxfz-taxo-XXXXXX",
             tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("fuzz_taxo: mkdtemp");
        exit(1);
    }
    atexit(cleanup);
    for (int i = 0; i < 3; i++) {
        char sub[128];

        snprintf(sub, sizeof sub, "%s/%s", dir, subs[i]);
        if (mkdir(sub, 0700) != 0 && errno != EEXIST) {
            perror("fuzz_taxo: mkdir");
            exit(1);
        }
    }
    for (int i = 0; i < NFILES; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/%s", dir, rel[i]);
        excerpt(i);
    }
    kx_error_clear(&err);
    if (taxo_load(dir, &t, &err) != KX_OK) {
        fprintf(stderr, "fuzz_taxo: the excerpts do not load: %s:%ld: %s\n",
                err.file, err.line, err.msg);
        exit(1);
    }
    taxo_free(t);
    return 0;
}

struct walk {
    const taxo *t;
    enum taxo_kind k;
    const char *first;   /* the first code, to meet every other with */
    const uint8_t *data;
    size_t size;
};

static int check_code(void *ctx, const char *code, const char *name,
                      const char *name_en, const char *remark, int level)
{
    struct walk *w = ctx;
    const char *anc[16], *m;
    size_t n;

    (void)name_en;
    (void)remark;
    if (!taxo_valid(w->t, w->k, code))
        fz_fail("a listed code is not valid", w->data, w->size, code);
    if (!name || !name[0] || taxo_name(w->t, w->k, code) != name)
        fz_fail("a code without its name", w->data, w->size, code);
    if (level < 1 || taxo_level(w->t, w->k, code) != level)
        fz_fail("a code's level is wrong", w->data, w->size, code);
    n = taxo_ancestors(w->t, w->k, code, anc, 16);
    if (n != (size_t)level || strcmp(anc[0], code) != 0)
        fz_fail("a code's ancestors are not one per level", w->data, w->size,
                code);
    for (size_t i = 1; i < n; i++)
        if (taxo_level(w->t, w->k, anc[i]) != level - (int)i ||
            taxo_parent(w->t, w->k, anc[i - 1]) != anc[i])
            fz_fail("an ancestor is not one level up", w->data, w->size,
                    code);
    if (taxo_parent(w->t, w->k, anc[n - 1]) != NULL)
        fz_fail("a level-1 code has a parent", w->data, w->size, code);
    if (taxo_meet(w->t, w->k, code, code) != anc[0])
        fz_fail("a code does not meet itself", w->data, w->size, code);
    if (!w->first)
        w->first = code;
    m = taxo_meet(w->t, w->k, code, w->first);
    if (m && taxo_meet(w->t, w->k, w->first, code) != m)
        fz_fail("meet is not symmetric", w->data, w->size, code);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kx_error err;
    enum kx_status st;
    taxo *t = NULL;
    int i;

    if (!size || size > (1u << 20))
        return 0;
    i = data[0] % NFILES;
    if (dirty >= 0 && dirty != i)
        write_file(dirty, base[dirty], base_len[dirty]);
    write_file(i, (const char *)data + 1, size - 1);
    dirty = i;
    kx_error_clear(&err);
    st = taxo_load(dir, &t, &err);
    if (st != KX_OK) {
        int named = 0;

        if (t)
            fz_fail("refused, yet a taxonomy came back", data, size, NULL);
        if (st != KX_CORRUPT && st != KX_NOMEM)
            fz_fail("refused with an unexpected status", data, size,
                    kx_status_str(st));
        fz_check_refusal(&err, 0, data, size);
        for (int j = 0; j < NFILES; j++)
            named |= strcmp(err.file, paths[j]) == 0;
        if (st == KX_CORRUPT && (!named || err.line < 1))
            fz_fail("a refusal does not name the file and a line", data,
                    size, err.msg);
        return 0;
    }
    for (int k = 0; k < TAXO_KIND_LAST; k++) {
        struct walk w = {t, (enum taxo_kind)k, NULL, data, size};

        taxo_each(t, (enum taxo_kind)k, check_code, &w);
    }
    taxo_free(t);
    return 0;
}
