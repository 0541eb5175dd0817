/* cli.h - the `kxmatch` command line: subcommands and what they share. */
#ifndef CLI_H
#define CLI_H

#include "config.h"
#include "index.h"
#include "kx.h"
#include "match.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exit codes, documented in README.md. */
enum api_exit {
    API_EXIT_OK = 0,
    API_EXIT_FAIL = 1,      /* anything not listed below */
    API_EXIT_USAGE = 2,     /* bad command line */
    API_EXIT_BADINPUT = 3,  /* invalid records, codes or arguments */
    API_EXIT_NOTFOUND = 4,  /* unknown key, missing data directory or file */
    API_EXIT_LOCKED = 5,    /* another process holds the index */
    API_EXIT_IO = 6,        /* read/write error */
    API_EXIT_UNAVAILABLE = 7 /* a server we need (SMTP) is down */
};

/* The one place a status becomes an exit code. */
int api_exit_code(enum kx_status st);

/* Options every subcommand takes. */
struct api_common {
    const char *db;        /* --db DIR, $KXMATCH_DB, [data] dir, "kxdata" */
    const char *taxonomy;  /* --taxonomy DIR, [data] taxonomy, or NULL */
    const struct api_config *cfg; /* the configuration file, never NULL */
};

/* getopt_long entries for the shared options, and their handling: returns
 * 1 if opt (from getopt_long) was --db ('D'), --taxonomy ('T') or
 * --config (read before the command started). */
#define API_OPT_CONFIG 0x10000
#define API_COMMON_OPTS                                                    \
    {"db", required_argument, NULL, 'D'},                                  \
    {"taxonomy", required_argument, NULL, 'T'},                            \
    {"config", required_argument, NULL, API_OPT_CONFIG}
int api_common_opt(struct api_common *c, int opt);

/* Runs `kxmatch argv[1] ...`; returns the process exit code. */
int api_cli_main(int argc, char **argv);

/* Prints the usage of command name to stderr; returns API_EXIT_USAGE. */
int api_usage(const char *name);

/* The usage of `kxmatch digest` (cmd_digest.c), to f. */
void api_digest_usage(FILE *f);

/* Prints "kxmatch: " + the error (file:line: field: msg) to stderr and
 * returns the exit code of st. */
int api_fail(enum kx_status st, const struct kx_error *err);

#define API_MATCHER_MAX_WORKERS 8

/* Everything a matching command holds open. */
struct api_matcher {
    idx *x;
    match_infer *infer;
    match_ctx *ctx;          /* NULL unless opened with_ctx */
    struct match_config cfg;
    /* api_matcher_workers: ctxs[0] is ctx, the others have their own
     * Xapian handle and tokenizer, one per thread */
    size_t nctxs;
    match_ctx *ctxs[API_MATCHER_MAX_WORKERS];
    xap_db *dbs[API_MATCHER_MAX_WORKERS];
    text_tokenizer *toks[API_MATCHER_MAX_WORKERS];
};

/* Reads the weights: the shipped matcher/weights.conf (the compiled-in
 * defaults if it is missing), then `config` over it if not NULL. */
enum kx_status api_matcher_config(const char *config, struct match_config *cfg,
                                  struct kx_error *err);

/* Opens c->db for reading and, if with_ctx, a matcher over it with the
 * weights of api_matcher_config(config). On failure nothing stays open. */
enum kx_status api_matcher_open(const struct api_common *c, const char *config,
                                int with_ctx, struct api_matcher *mt,
                                struct kx_error *err);
/* Makes mt->ctxs hold n contexts (n <= API_MATCHER_MAX_WORKERS; 0 means
 * one per online core), for matching on n threads. mt must have been
 * opened with_ctx. */
enum kx_status api_matcher_workers(struct api_matcher *mt, size_t n);

/* Closes what api_matcher_open opened; safe on a zeroed struct. */
void api_matcher_close(struct api_matcher *mt);

/* Subcommands: argv[0] is the subcommand name. */
int api_cmd_index(const struct api_common *c, int argc, char **argv);
int api_cmd_check(const struct api_common *c, int argc, char **argv);
int api_cmd_stats(const struct api_common *c, int argc, char **argv);
int api_cmd_get(const struct api_common *c, int argc, char **argv);
int api_cmd_search(const struct api_common *c, int argc, char **argv);
int api_cmd_match(const struct api_common *c, int argc, char **argv);
int api_cmd_eval(const struct api_common *c, int argc, char **argv);
int api_cmd_digest(const struct api_common *c, int argc, char **argv);
int api_cmd_bench(const struct api_common *c, int argc, char **argv);
int api_cmd_serve(const struct api_common *c, int argc, char **argv);
int api_cmd_token(const struct api_common *c, int argc, char **argv);
int api_cmd_user(const struct api_common *c, int argc, char **argv);
int api_cmd_import(const struct api_common *c, int argc, char **argv);
int api_cmd_export(const struct api_common *c, int argc, char **argv);
int api_cmd_backup(const struct api_common *c, int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
