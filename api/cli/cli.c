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
    /* read before the command started (api_cli_main) */
    return opt == API_OPT_CONFIG;
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

/* Every command: its name, its function, a one-line summary for `kxmatch
 * help` and its full usage for `kxmatch help COMMAND`, `COMMAND --help`
 * and bad usage (kxmatch(1) says the same at more length). */
struct command {
    const char *name;
    int (*fn)(const struct api_common *, int, char **);
    const char *summary;
    const char *usage;
};

static const struct command commands[] = {
    {"index", api_cmd_index, "add or update records from JSON Lines",
     "usage: kxmatch index [--rebuild] [--skip-invalid] [--quiet] FILE...\n"
     "Reads every FILE (- for stdin) completely, validates each line, then\n"
     "upserts the records; --rebuild recreates the Xapian index from LMDB.\n"},
    {"export", api_cmd_export, "write the records as JSON Lines",
     "usage: kxmatch export [--kind K] [FILE]\n"
     "Writes every record (or every record of kind K) to FILE, or to stdout "
     "if FILE\nis - or missing, one snapshot even while serve writes, in the "
     "form that\n`kxmatch index` reads back. Deleted records are left out.\n"},
    {"backup", api_cmd_backup, "a consistent copy of the data directory",
     "usage: kxmatch backup OUTDIR\n"
     "Copies the data directory into OUTDIR (new, or an empty directory) "
     "while serve\nmay run: LMDB's compacting copy of one snapshot, then "
     "the Xapian index rebuilt\nfrom it. OUTDIR is then a data directory "
     "like any other.\n"},
    {"get", api_cmd_get, "print a record",
     "usage: kxmatch get KIND:ID\n"},
    {"search", api_cmd_search, "full-text search with filters",
     "usage: kxmatch search [--kind K]... [--region CODE] [--industry CODE]..."
     "\n                      [--discipline CODE]... [--top N] [--json] "
     "QUERY\n"},
    {"match", api_cmd_match, "rank partners for a need, or needs for one",
     "usage: kxmatch match need:ID [--top K] "
     "[--kinds expert,academician,society,result] [--json]\n"
     "       kxmatch match --text \"...\" [--industry CODE]... "
     "[--discipline CODE]... [--region CODE]\n"
     "       kxmatch match expert:ID|academician:ID|society:ID [--top K] "
     "[--json]\n"
     "  also: --weights FILE (weights over the shipped weights.conf),\n"
     "        --baseline (BM25 on the text alone), --confidential\n"},
    {"eval", api_cmd_eval, "ranking quality on a labelled set",
     "usage: kxmatch eval [--judgments FILE] [--weights FILE]... [--json]\n"
     "nDCG@10, P@5 and MRR of BM25, the shipped weights and each "
     "--weights.\n"},
    {"check", api_cmd_check, "report references to missing records",
     "usage: kxmatch check\n"},
    {"stats", api_cmd_stats, "counts and sizes",
     "usage: kxmatch stats [--json]\n"},
    {"digest", api_cmd_digest, "weekly match e-mails", NULL /* its own */},
    {"bench", api_cmd_bench, "in-process latency of match and search",
     "usage: kxmatch bench match [--keys FILE | --n N] [--runs R] [--top K] "
     "[--weights FILE]\n"
     "                     [--dump FILE] [--json]\n"
     "       kxmatch bench search --queries FILE [--n N] [--runs R] "
     "[--top K]\n"
     "                     [--facets] [--dump FILE] [--json]\n"
     "Times each need or query in process: one untimed warm-up round, then "
     "R rounds;\nprints the medians over the rounds of p50, p99, mean and "
     "max (ms).\n--dump writes each need's or query's ranked keys and "
     "scores (first timed round),\none line each. --facets counts the "
     "facets as GET /v1/search does by default.\n"},
    {"serve", api_cmd_serve, "the HTTP API and web pages",
     "usage: kxmatch serve [--listen HOST:PORT] [--threads N] [--web DIR] "
     "[--weights FILE]\n"
     "                     [--max-connections N] [--per-ip-connections N]\n"
     "                     [--header-timeout S] [--body-timeout S] "
     "[--write-rate N]\n"
     "Options not given come from the configuration file ([serve]).\n"},
    {"token", api_cmd_token, "API tokens for scripts",
     "usage: kxmatch token create --role enterprise --enterprise "
     "enterprise:ID [--label TEXT] [--expires DAYS|YYYY-MM-DD]\n"
     "       kxmatch token create --role liaison --region CODE "
     "[--label TEXT] [--expires ...]\n"
     "       kxmatch token create --role admin [--label TEXT] "
     "[--expires ...]\n"
     "       kxmatch token list [--json]\n"
     "       kxmatch token revoke PREFIX | --label TEXT [--all]\n"},
    {"import", api_cmd_import, "records from spreadsheets saved as CSV",
     "usage: kxmatch import [--kind KIND] [--skip-invalid] [--quiet] FILE.csv...\n"
     "The header row names the record format's fields (kind,id,name,org,...);\n"
     "list fields (tags, industries, disciplines, members, ...) separate their\n"
     "items with ';'. UTF-8 (Excel's \"CSV UTF-8\"), at most 16 MiB a file. As\n"
     "with index, every row is checked first and one bad row writes nothing;\n"
     "errors name the file, the row (the header is row 1) and the field.\n"},
    {"user", api_cmd_user, "people's accounts and sign-in links",
     "usage: kxmatch user add --role ROLE [--region CODE | --record KIND:ID] "
     "--email ADDRESS --name NAME\n"
     "                        [--password-stdin]\n"
     "       kxmatch user list [--json]\n"
     "       kxmatch user disable|enable ID|ADDRESS\n"
     "       kxmatch user role ID|ADDRESS --role ROLE [--region CODE | "
     "--record KIND:ID]\n"
     "       kxmatch user password ID|ADDRESS --password-stdin | --off\n"
     "       kxmatch user link ID|ADDRESS [--base URL]\n"
     "Roles: admin; liaison --region CODE (any level, down to a township);\n"
     "enterprise --record enterprise:ID; expert --record expert:ID or "
     "academician:ID;\nsociety --record society:ID. Passwords (at least 10 "
     "characters) are read from\nstandard input and kept as Argon2id hashes. "
     "`link` prints a one-time sign-in\nURL (15 minutes) under --base, else "
     "base_url of [organisation].\n"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const char common_text[] =
    "Every command also takes --db DIR (else $KXMATCH_DB, else [data] dir "
    "of the\nconfiguration file, else ./kxdata), --taxonomy DIR, --config "
    "FILE and --help.\n";

static const struct command *command_find(const char *name)
{
    for (size_t k = 0; k < NCOMMANDS; k++)
        if (strcmp(name, commands[k].name) == 0)
            return &commands[k];
    return NULL;
}

static void command_usage(const struct command *cmd, FILE *f)
{
    if (cmd->usage)
        fputs(cmd->usage, f);
    else
        api_digest_usage(f);
    fputs(common_text, f);
}

int api_usage(const char *name)
{
    const struct command *cmd = command_find(name);

    if (cmd)
        command_usage(cmd, stderr);
    return API_EXIT_USAGE;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: kxmatch [--db DIR] [--taxonomy DIR] [--config FILE] "
               "COMMAND [ARGS]\n"
               "       kxmatch --version | help [COMMAND]\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nkxmatch help COMMAND (or COMMAND --help) shows its "
               "options.\n"
               "The configuration file is --config, else $KXMATCH_CONFIG, "
               "else %s.\n", API_CONFIG_DEFAULT);
}

/* --config FILE or --config=FILE among the arguments after the command
 * (before any "--"), so that the file is read before the command starts;
 * the command's own parser then accepts and skips the option. */
static const char *config_arg(int argc, char **argv)
{
    const char *found = NULL;

    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            found = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            found = argv[i] + 9;
    }
    return found;
}

/* 1 if --help or -h is among the arguments after the command. */
static int help_arg(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

int api_cli_main(int argc, char **argv)
{
    struct api_config cfg;
    struct api_common c = {NULL, NULL, &cfg};
    const char *config = NULL, *env;
    const struct command *cmd;
    struct kx_error err;
    enum kx_status st;
    int i = 1, rc;

    /* Common options may come before the command, or anywhere after it
     * (each command's parser accepts --db, --taxonomy and --config too). */
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            c.db = argv[i + 1];
            i += 2;
        } else if (strcmp(argv[i], "--taxonomy") == 0 && i + 1 < argc) {
            c.taxonomy = argv[i + 1];
            i += 2;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config = argv[i + 1];
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
    if (strcmp(argv[i], "help") == 0) {
        if (i + 1 == argc) {
            usage(stdout);
            return API_EXIT_OK;
        }
        if (i + 2 == argc && (cmd = command_find(argv[i + 1])) != NULL) {
            command_usage(cmd, stdout);
            return API_EXIT_OK;
        }
        fprintf(stderr, "kxmatch: no command \"%s\"\n", argv[i + 1]);
        usage(stderr);
        return API_EXIT_USAGE;
    }
    if (!(cmd = command_find(argv[i]))) {
        fprintf(stderr, "kxmatch: unknown command \"%s\"\n", argv[i]);
        usage(stderr);
        return API_EXIT_USAGE;
    }
    if (help_arg(argc - i, argv + i)) {
        command_usage(cmd, stdout);
        return API_EXIT_OK;
    }
    if ((env = config_arg(argc - i, argv + i)) != NULL)
        config = env;
    kx_error_clear(&err);
    if ((st = api_config_load(config, &cfg, &err)) != KX_OK)
        return api_fail(st, &err);
    /* --db, else $KXMATCH_DB, else the file's [data] dir, else ./kxdata */
    if (!c.db && (env = getenv("KXMATCH_DB")) != NULL && *env)
        c.db = env;
    if (!c.db)
        c.db = cfg.db ? cfg.db : "kxdata";
    if (!c.taxonomy)
        c.taxonomy = cfg.taxonomy;
    rc = cmd->fn(&c, argc - i, argv + i);
    api_config_free(&cfg);
    return rc;
}
