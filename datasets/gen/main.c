/* main.c - `kxgen`: writes a synthetic kxmatch dataset (see gen.h). */
#include "gen.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#ifndef KXGEN_TAXONOMY_DIR
#define KXGEN_TAXONOMY_DIR "datasets/taxonomy"
#endif

static void usage(FILE *f)
{
    fprintf(f,
            "usage: kxgen --records N [--seed S] --out DIR [--taxonomy DIR]\n"
            "             [--english PCT] [--queries N] [--quiet]\n"
            "Writes experts.jsonl (with academicians), societies.jsonl,\n"
            "enterprises.jsonl, needs.jsonl, results.jsonl in the kxmatch\n"
            "record format, and queries.txt, words2.txt, need_keys.txt for\n"
            "benchmarks. The same seed gives the same bytes.\n");
}

static int number(const char *s, unsigned long long max,
                  unsigned long long *out)
{
    char *end;
    unsigned long long v;

    if (!*s || *s == '-')
        return -1;
    v = strtoull(s, &end, 10);
    /* 1k, 100k, 1M are easier to type */
    if (*end == 'k' || *end == 'K')
        v *= 1000, end++;
    else if (*end == 'm' || *end == 'M')
        v *= 1000000, end++;
    if (*end || v > max)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"records", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},
        {"out", required_argument, NULL, 'o'},
        {"taxonomy", required_argument, NULL, 't'},
        {"english", required_argument, NULL, 'e'},
        {"queries", required_argument, NULL, 'q'},
        {"quiet", no_argument, NULL, 'Q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct gen_opts o = {0, 1, NULL, NULL, 10, 1000, 0};
    unsigned long long v;
    char err[1024];
    int opt;

    o.taxonomy = getenv("KXMATCH_TAXONOMY");
    if (!o.taxonomy || !*o.taxonomy)
        o.taxonomy = KXGEN_TAXONOMY_DIR;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'n':
            if (number(optarg, 100000000ull, &v) != 0)
                goto bad;
            o.records = v;
            break;
        case 's':
            if (number(optarg, ~0ull, &v) != 0)
                goto bad;
            o.seed = v;
            break;
        case 'o': o.out = optarg; break;
        case 't': o.taxonomy = optarg; break;
        case 'e':
            if (number(optarg, 100, &v) != 0)
                goto bad;
            o.english_pct = (unsigned)v;
            break;
        case 'q':
            if (number(optarg, 1000000, &v) != 0)
                goto bad;
            o.queries = (unsigned)v;
            break;
        case 'Q': o.quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || !o.records || !o.out) {
        usage(stderr);
        return 2;
    }
    if (gen_run(&o, err, sizeof err) != 0) {
        fprintf(stderr, "kxgen: %s\n", err);
        return 1;
    }
    return 0;
bad:
    fprintf(stderr, "kxgen: bad number \"%s\" for --%s\n", optarg,
            opts[opt == 'n' ? 0 : opt == 's' ? 1 : opt == 'e' ? 4 : 5].name);
    return 2;
}
