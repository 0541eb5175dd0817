/* config.c - reading the matcher's weights file. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "share.h"

enum ktype { K_DOUBLE, K_INT };

static const struct key {
    const char *name;
    enum ktype type;
    size_t off;
    double lo, hi, def;
} keys[] = {
#define D(n, lo, hi, def) {#n, K_DOUBLE, offsetof(struct match_config, n), lo, hi, def}
#define I(n, lo, hi, def) {#n, K_INT, offsetof(struct match_config, n), lo, hi, def}
    D(w_text, 0, 100, 0.50),      D(w_taxonomy, 0, 100, 0.30),
    D(w_region, 0, 100, 0.10),    D(w_profile, 0, 100, 0.10),
    D(q_name, 0, 100, 2.0),       D(q_tags, 0, 100, 1.5),
    D(q_text, 0, 100, 1.0),       D(q_code, 0, 100, 1.0),
    I(q_max_terms, 1, 1024, 64),
    D(q_boost_df, 0, 1, 0.01),       I(q_boost_min, 0, 100000000, 1000),
    D(bm25_k1, 0, 10, 1.2),       D(bm25_b, 0, 1, 0.75),
    D(text_tau, 0.001, 10, 0.12),
    I(rf_docs, 0, 50, 3),         I(rf_terms, 0, 100, 0),
    D(rf_weight, 0, 10, 0.3),     I(pool, 10, 100000, 300),
    D(taxo_gamma, 0.1, 10, 1.5),  D(taxo_inferred, 0, 1, 0.5),
    D(taxo_industry_share, 0, 1, 0.5),
    D(region_township, 0, 1, 1.0), D(region_county, 0, 1, 0.8),
    D(region_city, 0, 1, 0.6),    D(region_province, 0, 1, 0.4),
    D(region_elsewhere, 0, 1, 0.15),
    D(profile_academician, 0, 1, 1.0), D(profile_senior, 0, 1, 0.7),
    D(profile_associate, 0, 1, 0.5), D(profile_other, 0, 1, 0.3),
    D(society_member, 0, 1, 0.9), D(result_trl_share, 0, 1, 0.6),
    I(per_org, 0, 1000, 0),       D(thin_evidence, 0, 1000, 8),
#undef D
#undef I
};

void match_config_default(struct match_config *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char *p = (char *)c + keys[i].off;
        if (keys[i].type == K_DOUBLE)
            *(double *)p = keys[i].def;
        else
            *(int *)p = (int)keys[i].def;
    }
}

const char *match_config_default_path(void)
{
    const char *env = getenv("KXMATCH_WEIGHTS");

    return env && *env ? env : kx_share_path("weights.conf");
}

enum kx_status match_config_set(struct match_config *c, const char *key,
                                const char *value, struct kx_error *err)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const struct key *k = &keys[i];
        char *end;
        double v;

        if (strcmp(k->name, key) != 0)
            continue;
        errno = 0;
        v = strtod(value, &end);
        while (*end == ' ' || *end == '\t')
            end++;
        if (end == value || *end || errno || !isfinite(v) ||
            (k->type == K_INT && v != floor(v)) || v < k->lo || v > k->hi)
            return kx_error_set(err, KX_BADINPUT, key,
                                "expected %s in [%g, %g], got \"%s\"",
                                k->type == K_INT ? "an integer" : "a number",
                                k->lo, k->hi, value);
        if (k->type == K_DOUBLE)
            *(double *)((char *)c + k->off) = v;
        else
            *(int *)((char *)c + k->off) = (int)v;
        return KX_OK;
    }
    return kx_error_set(err, KX_BADINPUT, key, "unknown weight \"%s\"", key);
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
                     e[-1] == '\r'))
        *--e = '\0';
    return s;
}

enum kx_status match_config_load(const char *path, struct match_config *c,
                                 struct kx_error *err)
{
    struct match_config tmp = *c;
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    FILE *f = fopen(path, "r");
    int saved = errno;
    enum kx_status st = KX_OK;

    if (!f) {
        st = saved == ENOENT ? KX_NOTFOUND : KX_IO;
        kx_error_set(err, st, "", "cannot open weights file %s: %s", path,
                     strerror(saved));
        if (err)
            snprintf(err->file, sizeof err->file, "%s", path);
        return st;
    }
    /* getline: a line of any length is one line (fgets into a fixed
     * buffer read the rest of a long comment as a line of its own) */
    while (getline(&line, &cap, f) > 0) {
        char *hash = strchr(line, '#'), *eq, *key;

        lineno++;
        if (hash)
            *hash = '\0';
        key = trim(line);
        if (!*key)
            continue;
        eq = strchr(key, '=');
        if (!eq) {
            st = kx_error_set(err, KX_BADINPUT, "",
                              "expected `key = number`, got \"%s\"", key);
            break;
        }
        *eq = '\0';
        if ((st = match_config_set(&tmp, trim(key), trim(eq + 1), err)) !=
            KX_OK)
            break;
    }
    free(line);
    fclose(f);
    if (st != KX_OK) {
        if (err) {
            snprintf(err->file, sizeof err->file, "%s", path);
            err->line = lineno;
        }
        return st;
    }
    *c = tmp;
    return KX_OK;
}
