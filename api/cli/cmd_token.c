/* cmd_token.c - `kxmatch token`: create, list and revoke API tokens. */
#include "cli.h"
#include "auth.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        json_object_object_add(o, "expires", json_object_new_string(p->expires));
        json_object_object_add(o, "last_used",
                               json_object_new_string(p->last_used));
        json_object_array_add(a, o);
        return 0;
    }
    printf("%-12s %-10s %-24s %-20s %-20s %-20s %s\n", p->id,
           api_role_name(p->role),
           p->role == API_ROLE_ENTERPRISE ? p->enterprise
           : p->role == API_ROLE_LIAISON  ? p->region : "-",
           p->created, p->expires[0] ? p->expires : "never",
           p->last_used[0] ? p->last_used : "never", p->label);
    return 0;
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
        {"expires", required_argument, NULL, 'x'},
        {NULL, 0, NULL, 0},
    };
    struct api_common c = *common;
    struct api_principal p;
    struct kx_error err;
    const char *action, *role = NULL, *ent = NULL, *region = NULL;
    const char *label = NULL, *expires = NULL;
    store *st = NULL;
    taxo *tx = NULL;
    store_txn *t = NULL;
    enum kx_status s = KX_OK;
    int opt, json = 0, all = 0, rc = API_EXIT_OK;

    memset(&p, 0, sizeof p);
    kx_error_clear(&err);
    if (argc < 2)
        return api_usage("token");
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
        case 'x': expires = optarg; break;
        default: return api_usage("token");
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
        if (expires &&
            (s = api_token_expiry(expires, p.expires, &err)) != KX_OK)
            goto out;
        if ((s = taxo_load(c.taxonomy, &tx, &err)) != KX_OK ||
            (s = store_open(c.db, 0, &st, &err)) != KX_OK)
            goto out;
        if ((s = api_token_create(st, tx, &p, &token, &err)) != KX_OK)
            goto out;
        printf("%s\n", token);
        fprintf(stderr, "kxmatch: token %s for %s%s%s created%s%s; it is "
                        "shown only this once\n", p.id, api_role_name(p.role),
                p.enterprise[0] || p.region[0] ? " " : "",
                p.enterprise[0] ? p.enterprise : p.region,
                p.expires[0] ? ", valid until " : "", p.expires);
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
            printf("%-12s %-10s %-24s %-20s %-20s %-20s %s\n", "ID", "ROLE",
                   "SCOPE", "CREATED", "EXPIRES", "LAST USED", "LABEL");
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
    return api_usage("token");
}
