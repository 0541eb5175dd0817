/* fuzz_weights.c - libFuzzer target for the matcher's weights file
 * (matcher/config.c): the input is written to a temporary file and read
 * with match_config_load over the defaults; its text up to the first '='
 * (or the end) and after it also go to match_config_set as key and value.
 *
 * Invariants: no crash, undefined behaviour or leak; a refusal is
 * KX_BADINPUT with a message naming the file and a line, and leaves the
 * weights as they were; accepted weights are finite numbers, the names
 * of the shipped weights.conf (read at start), and reading the file again
 * over them changes nothing; the whole input made into one comment line
 * ('#' first, its line breaks spaces) is accepted and changes nothing;
 * match_config_set accepts only known names. */
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

#define NAMES_MAX 128

static char path[64];
static int fd = -1;
static char *names[NAMES_MAX];
static size_t nnames;

/* The doubles of struct match_config, for the finite check (one added
 * later and missing here is still covered by reading twice). */
#define D(f) offsetof(struct match_config, f)
static const size_t doubles[] = {
    D(w_text), D(w_taxonomy), D(w_region), D(w_profile), D(q_name),
    D(q_tags), D(q_text), D(q_code), D(q_boost_df), D(bm25_k1), D(bm25_b),
    D(text_tau), D(rf_weight), D(taxo_gamma), D(taxo_inferred),
    D(taxo_industry_share), D(region_township), D(region_county),
    D(region_city), D(region_province), D(region_elsewhere),
    D(profile_academician), D(profile_senior), D(profile_associate),
    D(profile_other), D(society_member), D(result_trl_share),
    D(thin_evidence),
};
#undef D

static void cleanup(void)
{
    if (fd >= 0)
        close(fd);
    if (path[0])
        unlink(path);
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
}

/* The names the shipped file sets: every weight there is. */
static void read_names(void)
{
    FILE *f = fopen(KX_WEIGHTS_FILE, "r");
    char line[512];

    if (!f) {
        fprintf(stderr, "fuzz_weights: cannot open %s\n", KX_WEIGHTS_FILE);
        exit(1);
    }
    while (fgets(line, sizeof line, f) && nnames < NAMES_MAX) {
        size_t n = strspn(line, "abcdefghijklmnopqrstuvwxyz0123456789_");

        if (n && line[0] != '#' && strchr(line + n, '='))
            names[nnames++] = strndup(line, n);
    }
    fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = getenv("TMPDIR");

    (void)argc;
    (void)argv;
    snprintf(path, sizeof path, "%.40s/kxfz-weights-XXXXXX",
             tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if ((fd = mkstemp(path)) < 0) {
        perror("fuzz_weights: mkstemp");
        exit(1);
    }
    read_names();
    atexit(cleanup);
    return 0;
}

/* Writes first and truncates after: ext4 flushes a file truncated to
 * zero and written again when it is closed, which cost 90% of the time. */
static void put(const void *p, size_t n)
{
    if ((n && pwrite(fd, p, n, 0) != (ssize_t)n) || ftruncate(fd, (off_t)n)) {
        perror("fuzz_weights: writing the file");
        exit(1);
    }
}

static int known(const char *key)
{
    for (size_t i = 0; i < nnames; i++)
        if (strcmp(names[i], key) == 0)
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct match_config def, c, c2;
    struct kx_error err;
    enum kx_status st;
    char *text;

    if (size > 65536)
        return 0;
    match_config_default(&def);
    c = def;
    put(data, size);
    kx_error_clear(&err);
    st = match_config_load(path, &c, &err);
    if (st != KX_OK) {
        if (st != KX_BADINPUT)
            fz_fail("refused with an unexpected status", data, size,
                    kx_status_str(st));
        fz_check_refusal(&err, 0, data, size);
        if (strcmp(err.file, path) != 0 || err.line < 1)
            fz_fail("a refusal does not name the file and a line", data,
                    size, err.msg);
        if (memcmp(&c, &def, sizeof c) != 0)
            fz_fail("refused, yet the weights changed", data, size, NULL);
    } else {
        for (size_t i = 0; i < sizeof doubles / sizeof doubles[0]; i++) {
            double v;

            memcpy(&v, (char *)&c + doubles[i], sizeof v);
            if (!isfinite(v))
                fz_fail("a weight is not finite", data, size, NULL);
        }
        c2 = c;
        if (match_config_load(path, &c2, &err) != KX_OK ||
            memcmp(&c, &c2, sizeof c) != 0)
            fz_fail("reading the file twice gives other weights", data,
                    size, NULL);
    }

    /* the same bytes as one comment line */
    if (!(text = malloc(size + 2)))
        return 0;
    text[0] = '#';
    for (size_t i = 0; i < size; i++)
        text[i + 1] = data[i] == '\n' || data[i] == '\r' ? ' ' : (char)data[i];
    text[size + 1] = '\n';
    put(text, size + 2);
    c = def;
    kx_error_clear(&err);
    if (match_config_load(path, &c, &err) != KX_OK)
        fz_fail("a comment line is refused", data, size, err.msg);
    if (memcmp(&c, &def, sizeof c) != 0)
        fz_fail("a comment line changed the weights", data, size, NULL);

    /* key=value straight to match_config_set */
    memcpy(text, data, size);
    text[size] = '\0';
    {
        char *eq = strchr(text, '=');
        const char *key = text, *value = eq ? eq + 1 : "";

        if (eq)
            *eq = '\0';
        c = def;
        kx_error_clear(&err);
        st = match_config_set(&c, key, value, &err);
        if (st == KX_OK && !known(key))
            fz_fail("match_config_set took an unknown name", data, size,
                    key);
        if (st != KX_OK) {
            if (st != KX_BADINPUT)
                fz_fail("match_config_set: unexpected status", data, size,
                        kx_status_str(st));
            fz_check_refusal(&err, 0, data, size);
            if (memcmp(&c, &def, sizeof c) != 0)
                fz_fail("match_config_set refused, yet changed a weight",
                        data, size, NULL);
        }
    }
    free(text);
    return 0;
}
