/* cli.c - `kxmatch` subcommand dispatch, shared options and exit codes. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int api_exit_code(enum kx_status st)
{
    switch (st) {
    case KX_OK: return API_EXIT_OK;
    case KX_BADINPUT:
    case KX_UNSUPPORTED:
    case KX_TOOLARGE: return API_EXIT_BADINPUT;
    case KX_NOTFOUND: return API_EXIT_NOTFOUND;
    case KX_LOCKED: return API_EXIT_LOCKED;
    case KX_IO: return API_EXIT_IO;
    case KX_UNAVAILABLE: return API_EXIT_UNAVAILABLE;
    default: return API_EXIT_FAIL;
    }
}

int api_common_opt(struct api_common *c, int opt)
{
    if (opt == 'D') {
        c->db = optarg;
        return 1;
    }
    if (opt == 'T') {
        c->taxonomy = optarg;
        return 1;
    }
    return 0;
}

int api_fail(enum kx_status st, const struct kx_error *err)
{
    char buf[1024];

    if (err && (err->msg[0] || err->field[0])) {
        kx_error_format(err, buf, sizeof buf);
        fprintf(stderr, "kxmatch: %s\n", buf);
    } else {
        fprintf(stderr, "kxmatch: %s\n", kx_status_str(st));
    }
    return api_exit_code(st);
}

struct command {
    const char *name;
    int (*fn)(const struct api_common *, int, char **);
    const char *usage;
};

static const struct command commands[] = {
    {"index", api_cmd_index,
     "index [--rebuild] [--skip-invalid] FILE...   add/update records "
     "(- for stdin)"},
    {"get", api_cmd_get, "get KEY                  print a record (kind:id)"},
    {"search", api_cmd_search,
     "search [--kind K] [--region CODE] [--industry CODE] [--discipline "
     "CODE] [--top N] [--json] QUERY"},
    {"match", api_cmd_match,
     "match need:ID | expert:ID | --text \"...\" [--top K] [--kinds K,..] "
     "[--json]"},
    {"eval", api_cmd_eval,
     "eval [--judgments FILE] [--config FILE]...  nDCG@10, P@5, MRR"},
    {"check", api_cmd_check,
     "check                    report references to missing records"},
    {"stats", api_cmd_stats, "stats                    counts and sizes"},
    {"digest", api_cmd_digest,
     "digest plan|send|preview|status|frequency|unsubscribe|liaison ...  "
     "weekly match emails"},
    {"bench", api_cmd_bench,
     "bench match|search [--keys|--queries FILE] [--n N] [--runs R]  "
     "in-process latency"},
    {"serve", api_cmd_serve,
     "serve [--listen HOST:PORT] [--threads N]   the HTTP API and web pages"},
    {"token", api_cmd_token,
     "token create --role enterprise|liaison|admin ... | list | revoke ID"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: kxmatch [--db DIR] [--taxonomy DIR] COMMAND [ARGS]\n"
               "\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %s\n", commands[i].usage);
    fprintf(f, "\nThe data directory is --db, else $KXMATCH_DB, else "
               "./kxdata.\n");
}

int api_cli_main(int argc, char **argv)
{
    struct api_common c = {getenv("KXMATCH_DB"), NULL};
    int i = 1;

    if (!c.db || !*c.db)
        c.db = "kxdata";
    /* Common options may come before the command, or anywhere after it
     * (each command's parser accepts --db and --taxonomy too). */
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            c.db = argv[i + 1];
            i += 2;
        } else if (strcmp(argv[i], "--taxonomy") == 0 && i + 1 < argc) {
            c.taxonomy = argv[i + 1];
            i += 2;
        } else if (strcmp(argv[i], "-h") == 0 ||
                   strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return API_EXIT_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("kxmatch %s\n", KX_VERSION);
            return API_EXIT_OK;
        } else {
            fprintf(stderr, "kxmatch: unknown option %s\n", argv[i]);
            usage(stderr);
            return API_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return API_EXIT_USAGE;
    }
    if (strcmp(argv[i], "help") == 0 && i + 1 == argc) {
        usage(stdout);
        return API_EXIT_OK;
    }
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (strcmp(argv[i], commands[k].name) == 0)
            return commands[k].fn(&c, argc - i, argv + i);
    fprintf(stderr, "kxmatch: unknown command \"%s\"\n", argv[i]);
    usage(stderr);
    return API_EXIT_USAGE;
}
