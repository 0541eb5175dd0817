/* cmd_serve.c - `kxmatch serve` (run the HTTP server until SIGINT or
 * SIGTERM) and `kxmatch token` (create, list, revoke API tokens). */
#include "cli.h"
#include "server.h"

#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Each connection is a descriptor, and the soft open-file limit (often
 * 1,024) would cap the server far below --max-connections while the hard
 * limit allows more; the server lowers its limit to what this leaves. */
static void nofile_raise(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
        return;
    /* An unlimited hard limit is more than the kernel takes (fs.nr_open);
     * its default will do. */
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 1u << 20 : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

/* A whole number in [lo, hi] for option name, else a message and -1. */
static long serve_num(const char *name, const char *arg, long lo, long hi)
{
    char *end;
    long n = strtol(arg, &end, 10);

    if (!*arg || *end || n < lo || n > hi) {
        fprintf(stderr, "kxmatch: --%s expects %ld..%ld, got \"%s\"\n", name,
                lo, hi, arg);
        return -1;
    }
    return n;
}

/* The numeric options: their bounds and the field of api_serve_opts
 * (each an unsigned) that takes them. */
static const struct {
    int opt;
    const char *name;
    long lo, hi;
    size_t off;
} nums[] = {
    {'t', "threads", 1, 256, offsetof(struct api_serve_opts, threads)},
    {'m', "max-connections", 16, 1000000,
     offsetof(struct api_serve_opts, max_conns)},
    {'p', "per-ip-connections", 1, 1000000,
     offsetof(struct api_serve_opts, per_ip)},
    {'H', "header-timeout", 1, 3600, offsetof(struct api_serve_opts, header_s)},
    {'B', "body-timeout", 1, 3600, offsetof(struct api_serve_opts, body_s)},
};
#define NUMS (sizeof nums / sizeof nums[0])

int api_cmd_serve(const struct api_common *common, int argc, char **argv)
{
    static const struct option opts[] = {
        API_COMMON_OPTS,
        {"listen", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 't'},
        {"web", required_argument, NULL, 'w'},
        {"config", required_argument, NULL, 'c'},
        {"max-connections", required_argument, NULL, 'm'},
        {"per-ip-connections", required_argument, NULL, 'p'},
        {"header-timeout", required_argument, NULL, 'H'},
        {"body-timeout", required_argument, NULL, 'B'},
        {NULL, 0, NULL, 0},
    };
    struct api_common c = *common;
    struct api_serve_opts so;
    long n;
    struct api_server *srv = NULL;
    struct kx_error err;
    sigset_t set;
    unsigned port = 0;
    char host[256];
    const char *colon;
    enum kx_status st;
    int opt, sig = 0;

    memset(&so, 0, sizeof so);
    kx_error_clear(&err);
    so.listen = "127.0.0.1:8080";
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (api_common_opt(&c, opt))
            continue;
        switch (opt) {
        case 'l': so.listen = optarg; break;
        case 'w': so.web_dir = optarg; break;
        case 'c': so.config = optarg; break;
        default: {
            size_t i = 0;
            while (i < NUMS && nums[i].opt != opt)
                i++;
            if (i == NUMS)
                goto usage;
            if ((n = serve_num(nums[i].name, optarg, nums[i].lo,
                               nums[i].hi)) < 0)
                return API_EXIT_BADINPUT;
            *(unsigned *)((char *)&so + nums[i].off) = (unsigned)n;
            break;
        }
        }
    }
    if (optind != argc)
        goto usage;
    so.db = c.db;
    so.taxonomy = c.taxonomy;

    /* Every thread the server starts inherits this mask, so the signals
     * reach only sigwait() below. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    nofile_raise();

    st = api_server_start(&so, &srv, &port, &err);
    if (st != KX_OK)
        return api_fail(st, &err);
    if (srv->conn_max < (so.max_conns ? so.max_conns : API_CONN_MAX))
        fprintf(stderr, "kxmatch serve: at most %u connections, all the "
                        "open-file limit (ulimit -n) leaves room for\n",
                srv->conn_max);
    colon = strrchr(so.listen, ':');
    snprintf(host, sizeof host, "%.*s",
             colon ? (int)(colon - so.listen) : 0, so.listen);
    if (!host[0] || strcmp(host, "0.0.0.0") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    printf("listening on http://%s:%u\n", host, port);
    fflush(stdout);
    sigwait(&set, &sig);
    fprintf(stderr, "kxmatch serve: %s, shutting down\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    api_server_stop(srv);
    return API_EXIT_OK;
usage:
    fprintf(stderr, "usage: kxmatch serve [--db DIR] [--listen HOST:PORT] "
                    "[--threads N] [--web DIR] [--config FILE]\n"
                    "                     [--max-connections N] "
                    "[--per-ip-connections N] [--header-timeout S] "
                    "[--body-timeout S]\n");
    return API_EXIT_USAGE;
}

/* ---- token --------------------------------------------------------------- */

static int print_token(void *ctx, const struct api_principal *p)
{
    json_object *a = ctx;

    if (a) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(p->id));
        json_object_object_add(o, "role",
                               json_object_new_string(api_role_name(p->role)));
        json_object_object_add(o, "scope", json_object_new_string(
            p->role == API_ROLE_ENTERPRISE ? p->enterprise
            : p->role == API_ROLE_LIAISON  ? p->region : ""));
        json_object_object_add(o, "label", json_object_new_string(p->label));
        json_object_object_add(o, "created", json_object_new_string(p->created));
        json_object_array_add(a, o);
        return 0;
    }
    printf("%-12s %-10s %-24s %-20s %s\n", p->id, api_role_name(p->role),
           p->role == API_ROLE_ENTERPRISE ? p->enterprise
           : p->role == API_ROLE_LIAISON  ? p->region : "-",
           p->created, p->label);
    return 0;
}

static void token_usage(FILE *f)
{
    fprintf(f,
            "usage: kxmatch token create --role enterprise --enterprise "
            "enterprise:ID [--label TEXT] [--db DIR]\n"
            "       kxmatch token create --role liaison --region CODE "
            "[--label TEXT]\n"
            "       kxmatch token create --role admin [--label TEXT]\n"
            "       kxmatch token list [--json]\n"
            "       kxmatch token revoke PREFIX | --label TEXT [--all]\n");
}

int api_cmd_token(const struct api_common *common, int argc, char **argv)
{
    static const struct option opts[] = {
        API_COMMON_OPTS,
        {"role", required_argument, NULL, 'r'},
        {"enterprise", required_argument, NULL, 'e'},
        {"region", required_argument, NULL, 'g'},
        {"label", required_argument, NULL, 'L'},
        {"json", no_argument, NULL, 'j'},
        {"all", no_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    struct api_common c = *common;
    struct api_principal p;
    struct kx_error err;
    const char *action, *role = NULL, *ent = NULL, *region = NULL;
    const char *label = NULL;
    store *st = NULL;
    taxo *tx = NULL;
    store_txn *t = NULL;
    enum kx_status s = KX_OK;
    int opt, json = 0, all = 0, rc = API_EXIT_OK;

    memset(&p, 0, sizeof p);
    kx_error_clear(&err);
    if (argc < 2) {
        token_usage(stderr);
        return API_EXIT_USAGE;
    }
    action = argv[1];
    optind = 2;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (api_common_opt(&c, opt))
            continue;
        switch (opt) {
        case 'r': role = optarg; break;
        case 'e': ent = optarg; break;
        case 'g': region = optarg; break;
        case 'L': label = optarg; break;
        case 'j': json = 1; break;
        case 'a': all = 1; break;
        default: token_usage(stderr); return API_EXIT_USAGE;
        }
    }
    if (strcmp(action, "create") == 0) {
        char *token = NULL;

        if (optind != argc || !role)
            goto usage;
        p.role = api_role_parse(role);
        if (p.role == API_ROLE_NONE) {
            fprintf(stderr, "kxmatch: unknown role \"%s\" (expected "
                            "enterprise, liaison or admin)\n", role);
            return API_EXIT_BADINPUT;
        }
        if ((p.role == API_ROLE_ENTERPRISE) != (ent != NULL) ||
            (p.role == API_ROLE_LIAISON) != (region != NULL)) {
            fprintf(stderr, "kxmatch: --role enterprise takes --enterprise "
                            "enterprise:ID, --role liaison takes --region "
                            "CODE, --role admin neither\n");
            return API_EXIT_USAGE;
        }
        if (ent)
            snprintf(p.enterprise, sizeof p.enterprise, "%s", ent);
        if (region)
            snprintf(p.region, sizeof p.region, "%s", region);
        if (label)
            snprintf(p.label, sizeof p.label, "%s", label);
        if ((s = taxo_load(c.taxonomy, &tx, &err)) != KX_OK ||
            (s = store_open(c.db, 0, &st, &err)) != KX_OK)
            goto out;
        if ((s = api_token_create(st, tx, &p, &token, &err)) != KX_OK)
            goto out;
        printf("%s\n", token);
        fprintf(stderr, "kxmatch: token %s for %s%s%s created; it is shown "
                        "only this once\n", p.id, api_role_name(p.role),
                p.enterprise[0] || p.region[0] ? " " : "",
                p.enterprise[0] ? p.enterprise : p.region);
        free(token);
    } else if (strcmp(action, "list") == 0) {
        json_object *a = json ? json_object_new_array() : NULL;

        if (optind != argc)
            goto usage;
        if ((s = store_open(c.db, 0, &st, &err)) != KX_OK ||
            (s = store_txn_begin(st, 0, &t)) != KX_OK) {
            json_object_put(a);
            goto out;
        }
        if (!json)
            printf("%-12s %-10s %-24s %-20s %s\n", "ID", "ROLE", "SCOPE",
                   "CREATED", "LABEL");
        s = api_token_each(t, print_token, a);
        if (json && s == KX_OK)
            printf("%s\n", json_object_to_json_string_ext(
                               a, JSON_C_TO_STRING_PLAIN |
                                      JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(a);
    } else if (strcmp(action, "revoke") == 0) {
        const char *prefix = optind < argc ? argv[optind++] : NULL;
        size_t n = 0;

        if (optind != argc || (!prefix == !label))
            goto usage;
        if ((s = store_open(c.db, 0, &st, &err)) != KX_OK ||
            (s = api_token_revoke(st, prefix, label, all || label != NULL, &n,
                                  &err)) != KX_OK)
            goto out;
        printf("revoked %zu token%s\n", n, n == 1 ? "" : "s");
    } else {
        goto usage;
    }
out:
    if (s != KX_OK)
        rc = api_fail(s, &err);
    store_txn_abort(t);
    store_close(st);
    taxo_free(tx);
    return rc;
usage:
    token_usage(stderr);
    return API_EXIT_USAGE;
}
