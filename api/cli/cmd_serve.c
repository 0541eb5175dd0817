/* cmd_serve.c - `kxmatch serve`: run the HTTP server until SIGINT or
 * SIGTERM. */
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
 * (an unsigned, or for write_rate an int of the same size) that takes
 * them. */
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
    {'W', "write-rate", 0, 100000, offsetof(struct api_serve_opts, write_rate)},
};
#define NUMS (sizeof nums / sizeof nums[0])

int api_cmd_serve(const struct api_common *common, int argc, char **argv)
{
    static const struct option opts[] = {
        API_COMMON_OPTS,
        {"listen", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 't'},
        {"web", required_argument, NULL, 'w'},
        {"weights", required_argument, NULL, 'c'},
        {"max-connections", required_argument, NULL, 'm'},
        {"per-ip-connections", required_argument, NULL, 'p'},
        {"header-timeout", required_argument, NULL, 'H'},
        {"body-timeout", required_argument, NULL, 'B'},
        {"write-rate", required_argument, NULL, 'W'},
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
    /* The configuration file's [serve], then the command line over it. */
    so.listen = c.cfg->listen ? c.cfg->listen : "127.0.0.1:8080";
    so.threads = c.cfg->threads;
    so.max_conns = c.cfg->max_conns;
    so.per_ip = c.cfg->per_ip;
    so.write_rate = c.cfg->write_rate;
    so.web_dir = c.cfg->web;
    so.config = c.cfg->weights;
    so.org_name = api_config_org_name(c.cfg);
    so.org_short = api_config_org_short(c.cfg);
    so.from_name = c.cfg->from_name;
    so.base_url = c.cfg->base_url;
    so.smtp_url = c.cfg->smtp_url;
    so.mail_from = c.cfg->from;
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
    return api_usage("serve");
}
