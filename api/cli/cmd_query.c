/* cmd_query.c - `kxmatch get` and `kxmatch search`: reading the index. */
#include "cli.h"
#include "index.h"
#include "search.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int api_cmd_get(const struct api_common *common, int argc, char **argv)
{
    static const struct option opts[] = {
        API_COMMON_OPTS,
        {NULL, 0, NULL, 0},
    };
    struct api_common c = *common;
    struct kx_error err;
    store_txn *t = NULL;
    const char *json;
    size_t len;
    idx *x = NULL;
    enum kx_status st;
    int opt;

    kx_error_clear(&err);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1)
        if (!api_common_opt(&c, opt))
            goto usage;
    if (optind + 1 != argc)
        goto usage;
    st = record_key_parse(argv[optind], NULL, NULL, &err);
    if (st != KX_OK)
        return api_fail(st, &err);
    st = idx_open(c.db, IDX_READ, c.taxonomy, &x, &err);
    if (st != KX_OK)
        return api_fail(st, &err);
    if ((st = store_txn_begin(idx_store(x), 0, &t)) == KX_OK)
        st = store_record_get(t, argv[optind], &json, &len);
    if (st == KX_OK)
        printf("%.*s\n", (int)len, json);
    else if (st == KX_NOTFOUND)
        kx_error_set(&err, st, "", "no record %s", argv[optind]);
    store_txn_abort(t);
    idx_close(x);
    return st == KX_OK ? API_EXIT_OK : api_fail(st, &err);
usage:
    return api_usage("get");
}

/* Looks up name (and org) of key for display; "" if absent. */
static void record_label(store_txn *t, const char *key, char *name,
                         size_t n, char *org, size_t on)
{
    const char *json;
    size_t len;
    struct kx_record *r = NULL;

    name[0] = org[0] = '\0';
    if (store_record_get(t, key, &json, &len) != KX_OK ||
        record_parse(json, len, NULL, &r, NULL) != KX_OK)
        return;
    snprintf(name, n, "%s", r->name ? r->name : "");
    snprintf(org, on, "%s", r->org ? r->org : "");
    record_free(r);
}

int api_cmd_search(const struct api_common *common, int argc, char **argv)
{
    static const struct option opts[] = {
        API_COMMON_OPTS,
        {"kind", required_argument, NULL, 'k'},
        {"region", required_argument, NULL, 'r'},
        {"industry", required_argument, NULL, 'i'},
        {"discipline", required_argument, NULL, 'd'},
        {"top", required_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct api_common c = *common;
    struct match_search_opts so;
    struct match_search_result *res = NULL;
    struct kx_error err;
    size_t nkind = 0, nind = 0, ndis = 0;
    char query[4096] = "", name[256], org[256];
    store_txn *t = NULL;
    idx *x = NULL;
    enum kx_status st;
    int opt, json = 0;
    long top = 10;

    memset(&so, 0, sizeof so);
    kx_error_clear(&err);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (api_common_opt(&c, opt))
            continue;
        switch (opt) {
        case 'k':
            if (nkind + 1 >= KX_KIND_LAST)
                goto usage;
            so.kinds[nkind++] = optarg;
            break;
        case 'r': so.region = optarg; break;
        case 'i':
            if (nind + 1 >= MATCH_SEARCH_MAX_FILTER)
                goto usage;
            so.industries[nind++] = optarg;
            break;
        case 'd':
            if (ndis + 1 >= MATCH_SEARCH_MAX_FILTER)
                goto usage;
            so.disciplines[ndis++] = optarg;
            break;
        case 'n': {
            char *end;
            top = strtol(optarg, &end, 10);
            if (*end || top < 1 || top > 10000) {
                fprintf(stderr, "kxmatch: --top expects 1..10000, got "
                                "\"%s\"\n", optarg);
                return API_EXIT_BADINPUT;
            }
            break;
        }
        case 'j': json = 1; break;
        default: goto usage;
        }
    }
    for (int i = optind; i < argc; i++) {
        size_t have = strlen(query);
        snprintf(query + have, sizeof query - have, "%s%s", have ? " " : "",
                 argv[i]);
    }
    if (!query[0] && !nkind && !so.region && !nind && !ndis)
        goto usage;
    so.query = query;
    so.count = (unsigned)top;
    st = idx_open(c.db, IDX_READ, c.taxonomy, &x, &err);
    if (st != KX_OK)
        return api_fail(st, &err);
    st = match_search(idx_xap(x), idx_tokenizer(x), idx_taxo(x), &so, &res,
                      &err);
    if (st == KX_OK)
        st = store_txn_begin(idx_store(x), 0, &t);
    if (st != KX_OK) {
        match_search_result_free(res);
        idx_close(x);
        return api_fail(st, &err);
    }
    if (json) {
        json_object *o = json_object_new_object(), *hits = json_object_new_array();
        json_object_object_add(o, "query", json_object_new_string(query));
        json_object_object_add(o, "total", json_object_new_int64((int64_t)res->total));
        json_object_object_add(o, "total_exact", json_object_new_boolean(res->total_exact));
        for (size_t i = 0; i < res->nhits; i++) {
            json_object *h = json_object_new_object();
            const char *colon = strchr(res->hits[i].key, ':');
            record_label(t, res->hits[i].key, name, sizeof name, org,
                         sizeof org);
            json_object_object_add(h, "key", json_object_new_string(res->hits[i].key));
            json_object_object_add(h, "kind", json_object_new_string_len(
                res->hits[i].key, colon ? (int)(colon - res->hits[i].key) : 0));
            json_object_object_add(h, "name", json_object_new_string(name));
            json_object_object_add(h, "score", json_object_new_double(res->hits[i].score));
            json_object_array_add(hits, h);
        }
        json_object_object_add(o, "hits", hits);
        printf("%s\n", json_object_to_json_string_ext(
                           o, JSON_C_TO_STRING_PLAIN |
                                  JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
    } else {
        for (size_t i = 0; i < res->nhits; i++) {
            record_label(t, res->hits[i].key, name, sizeof name, org,
                         sizeof org);
            printf("%3zu  %.3f  %-22s %s%s%s%s\n", i + 1, res->hits[i].score,
                   res->hits[i].key, name, org[0] ? " (" : "", org,
                   org[0] ? ")" : "");
        }
        printf("%zu of about %lu matches\n", res->nhits, res->total);
    }
    store_txn_abort(t);
    match_search_result_free(res);
    idx_close(x);
    return API_EXIT_OK;
usage:
    return api_usage("search");
}
