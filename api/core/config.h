/* config.h - the kxmatch configuration file (/etc/kxmatch/kxmatch.conf):
 * who the organisation is, how mail goes out, where serve listens and
 * where the data lives.
 *
 * The file is INI (read with libinih): [section] headers, "key = value"
 * lines, comments from '#' or ';' at the start of a line. Every key is
 * listed in dist/kxmatch.conf, which is also the installed file. An
 * unknown section or key is an error, so that a misspelt key is not
 * silently ignored.
 *
 * Which file: kxmatch --config FILE, else $KXMATCH_CONFIG, else
 * API_CONFIG_DEFAULT if it exists (a missing default is no error; a
 * missing named file is). What the command line gives wins over the file,
 * and the file over the built-in defaults.
 */
#ifndef API_CONFIG_H
#define API_CONFIG_H

#include "kx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The installed default (KX_SYSCONFDIR comes from CMake's
 * CMAKE_INSTALL_FULL_SYSCONFDIR: /etc for the Debian package). */
#ifndef KX_SYSCONFDIR
#define KX_SYSCONFDIR "/etc"
#endif
#define API_CONFIG_DEFAULT KX_SYSCONFDIR "/kxmatch/kxmatch.conf"

/* What the digests and pages call the organisation when no file says:
 * the product, not a city. */
#define API_ORG_NAME_DEFAULT "kxmatch 科技服务平台"
#define API_ORG_SHORT_DEFAULT "kxmatch"

/* Every setting; a string is NULL where the file does not set it, a number
 * 0. Strings are owned by the struct (api_config_free). */
struct api_config {
    char *path;           /* the file read, NULL if none */
    /* [organisation] */
    char *org_name;       /* name: 滨州市科学技术协会 (footers, pages) */
    char *org_short;      /* short_name: 滨州科协 (the 【】 of subjects) */
    char *base_url;       /* base_url: the site's public URL, for links */
    /* [mail] */
    char *from;           /* from: the sender address */
    char *from_name;      /* from_name: the sender's display name */
    char *smtp_url;       /* smtp_url: smtp://HOST:PORT or smtps://... */
    char *credentials;    /* credentials: file with user and password */
    /* [serve] */
    char *listen;         /* listen: HOST:PORT */
    unsigned threads;     /* threads: worker threads */
    unsigned max_conns;   /* max_connections */
    unsigned per_ip;      /* per_ip_connections */
    int write_rate;       /* write_rate: writes a minute per token; -1 unset */
    char *web;            /* web: the pages' folder */
    char *weights;        /* weights: matcher weights over the shipped ones */
    /* [data] */
    char *db;             /* dir: the data directory */
    char *taxonomy;       /* taxonomy: the taxonomies' folder */
};

/* Reads path (NULL: $KXMATCH_CONFIG, else API_CONFIG_DEFAULT if it
 * exists) into *cfg, which is zeroed first; with no file, *cfg keeps only
 * the defaults. Returns KX_OK; KX_NOTFOUND if a named file cannot be
 * opened; KX_BADINPUT (err names file, line and key) for an unknown
 * section or key, a number out of range or a line libinih cannot read;
 * KX_NOMEM. On failure *cfg holds nothing. */
enum kx_status api_config_load(const char *path, struct api_config *cfg,
                               struct kx_error *err);

/* Frees what api_config_load allocated and zeroes *cfg; safe on a zeroed
 * struct. */
void api_config_free(struct api_config *cfg);

/* The organisation's name and short name, or the defaults above. cfg may
 * be NULL. */
const char *api_config_org_name(const struct api_config *cfg);
const char *api_config_org_short(const struct api_config *cfg);

/* 1 if url's host is a loopback name or address (localhost, *.localhost,
 * 127.0.0.0/8, [::1]) or url has no host; 0 otherwise. Mail links must
 * not point there. */
int api_url_is_loopback(const char *url);

/* 1 if addr's domain (after the last '@') is a loopback name or address,
 * or addr has no '@'; 0 otherwise. */
int api_addr_is_loopback(const char *addr);

#ifdef __cplusplus
}
#endif
#endif
