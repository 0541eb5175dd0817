/* config.c - reading kxmatch.conf (libinih) and the loopback checks that
 * guard what mail points at. */
#include "config.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum cfg_type { CFG_STR, CFG_UINT, CFG_INT };

/* Every key the file may hold: section, key, type, bounds for numbers and
 * the field it fills. */
static const struct cfg_key {
    const char *section, *key;
    enum cfg_type type;
    long lo, hi;
    size_t off;
} keys[] = {
    {"organisation", "name", CFG_STR, 0, 0,
     offsetof(struct api_config, org_name)},
    {"organisation", "short_name", CFG_STR, 0, 0,
     offsetof(struct api_config, org_short)},
    {"organisation", "base_url", CFG_STR, 0, 0,
     offsetof(struct api_config, base_url)},
    {"mail", "from", CFG_STR, 0, 0, offsetof(struct api_config, from)},
    {"mail", "from_name", CFG_STR, 0, 0,
     offsetof(struct api_config, from_name)},
    {"mail", "smtp_url", CFG_STR, 0, 0,
     offsetof(struct api_config, smtp_url)},
    {"mail", "credentials", CFG_STR, 0, 0,
     offsetof(struct api_config, credentials)},
    {"serve", "listen", CFG_STR, 0, 0, offsetof(struct api_config, listen)},
    {"serve", "threads", CFG_UINT, 1, 256,
     offsetof(struct api_config, threads)},
    {"serve", "max_connections", CFG_UINT, 16, 1000000,
     offsetof(struct api_config, max_conns)},
    {"serve", "per_ip_connections", CFG_UINT, 1, 1000000,
     offsetof(struct api_config, per_ip)},
    {"serve", "write_rate", CFG_INT, 0, 100000,
     offsetof(struct api_config, write_rate)},
    {"serve", "web", CFG_STR, 0, 0, offsetof(struct api_config, web)},
    {"serve", "weights", CFG_STR, 0, 0, offsetof(struct api_config, weights)},
    {"data", "dir", CFG_STR, 0, 0, offsetof(struct api_config, db)},
    {"data", "taxonomy", CFG_STR, 0, 0, offsetof(struct api_config, taxonomy)},
};
#define NKEYS (sizeof keys / sizeof keys[0])

struct parse_state {
    struct api_config *cfg;
    struct kx_error *err;
    enum kx_status st;
    unsigned char seen[NKEYS];
};

/* libinih calls this once per "key = value"; returning 0 marks the line
 * as an error (ini_parse then returns its number). */
static int on_value(void *user, const char *section, const char *name,
                    const char *value)
{
    struct parse_state *ps = user;
    const struct cfg_key *k = NULL;
    char *end;
    long n;

    if (ps->st != KX_OK)
        return 0;
    for (size_t i = 0; i < NKEYS && !k; i++)
        if (strcmp(keys[i].section, section) == 0 &&
            strcmp(keys[i].key, name) == 0)
            k = &keys[i];
    if (!k) {
        ps->st = kx_error_set(ps->err, KX_BADINPUT, name,
                              "unknown key in [%s] (see the keys listed in "
                              "kxmatch(1))", section);
        return 0;
    }
    if (ps->seen[k - keys]++) {
        ps->st = kx_error_set(ps->err, KX_BADINPUT, name,
                              "set twice in [%s]", section);
        return 0;
    }
    if (!*value) /* "key =" leaves the default */
        return 1;
    if (k->type == CFG_STR) {
        char **slot = (char **)((char *)ps->cfg + k->off);
        if (!(*slot = strdup(value))) {
            ps->st = KX_NOMEM;
            return 0;
        }
        return 1;
    }
    errno = 0;
    n = strtol(value, &end, 10);
    if (*end || errno || n < k->lo || n > k->hi) {
        ps->st = kx_error_set(ps->err, KX_BADINPUT, name,
                              "expects a whole number %ld..%ld, got \"%s\"",
                              k->lo, k->hi, value);
        return 0;
    }
    if (k->type == CFG_UINT)
        *(unsigned *)((char *)ps->cfg + k->off) = (unsigned)n;
    else
        *(int *)((char *)ps->cfg + k->off) = (int)n;
    return 1;
}

enum kx_status api_config_load(const char *path, struct api_config *cfg,
                               struct kx_error *err)
{
    struct parse_state ps;
    int named = 1, line;

    memset(cfg, 0, sizeof *cfg);
    cfg->write_rate = -1;
    if (!path || !*path)
        path = getenv("KXMATCH_CONFIG");
    if (!path || !*path) {
        path = API_CONFIG_DEFAULT;
        named = 0;
        if (access(path, F_OK) != 0)
            return KX_OK;
    }
    memset(&ps, 0, sizeof ps);
    ps.cfg = cfg;
    ps.err = err;
    ps.st = KX_OK;
    line = ini_parse(path, on_value, &ps);
    if (line == -1) {
        api_config_free(cfg);
        cfg->write_rate = -1;
        return kx_error_set(err, KX_NOTFOUND, "config", "cannot open %s%s",
                            path, named ? "" : " (the default)");
    }
    if (line == -2)
        ps.st = KX_NOMEM;
    else if (line > 0 && ps.st == KX_OK)
        ps.st = kx_error_set(err, KX_BADINPUT, "",
                             "expected [section] or key = value (a line of "
                             "at most 200 bytes)");
    if (ps.st != KX_OK) {
        if (err && line > 0) {
            snprintf(err->file, sizeof err->file, "%s", path);
            err->line = line;
        }
        api_config_free(cfg);
        cfg->write_rate = -1;
        return ps.st;
    }
    if (!(cfg->path = strdup(path))) {
        api_config_free(cfg);
        return KX_NOMEM;
    }
    return KX_OK;
}

void api_config_free(struct api_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->path);
    for (size_t i = 0; i < NKEYS; i++)
        if (keys[i].type == CFG_STR)
            free(*(char **)((char *)cfg + keys[i].off));
    memset(cfg, 0, sizeof *cfg);
}

const char *api_config_org_name(const struct api_config *cfg)
{
    return cfg && cfg->org_name ? cfg->org_name : API_ORG_NAME_DEFAULT;
}

const char *api_config_org_short(const struct api_config *cfg)
{
    return cfg && cfg->org_short ? cfg->org_short : API_ORG_SHORT_DEFAULT;
}

/* 1 if host (as a URL or an address gives it: a name, an IPv4 literal or
 * a bracketed IPv6 one) is this machine. */
static int host_is_loopback(const char *host, size_t n)
{
    char buf[256];
    struct in_addr a4;
    struct in6_addr a6;

    if (n == 0 || n >= sizeof buf)
        return n == 0;
    memcpy(buf, host, n);
    buf[n] = '\0';
    if (n >= 2 && buf[0] == '[' && buf[n - 1] == ']') {
        buf[n - 1] = '\0';
        memmove(buf, buf + 1, n - 1);
        n -= 2;
    }
    while (n > 0 && buf[n - 1] == '.') /* "localhost." */
        buf[--n] = '\0';
    if (strcasecmp(buf, "localhost") == 0 ||
        (n > 10 && strcasecmp(buf + n - 10, ".localhost") == 0))
        return 1;
    if (inet_pton(AF_INET, buf, &a4) == 1) {
        unsigned long v = ntohl(a4.s_addr);
        return (v >> 24) == 127 || v == 0;
    }
    if (inet_pton(AF_INET6, buf, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) || IN6_IS_ADDR_UNSPECIFIED(&a6) ||
               (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    return 0;
}

int api_url_is_loopback(const char *url)
{
    CURLU *u;
    char *host = NULL;
    int r = 1;

    if (!url || !*url || !(u = curl_url()))
        return 1;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host)
        r = host_is_loopback(host, strlen(host));
    curl_free(host);
    curl_url_cleanup(u);
    return r;
}

int api_addr_is_loopback(const char *addr)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;

    return !at || host_is_loopback(at + 1, strlen(at + 1));
}
