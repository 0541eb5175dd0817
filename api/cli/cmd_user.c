/* cmd_user.c - `kxmatch user`: people's accounts (add, list, disable,
 * enable, role, password, link). */
#include "cli.h"
#include "account.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *scope_of(const struct api_account *a)
{
    return a->region[0] ? a->region : a->record[0] ? a->record : "-";
}

static int print_user(void *ctx, const struct api_account *a)
{
    json_object *arr = ctx;

    if (arr) {
        json_object *o = api_account_json(a);
        json_object_object_add(o, "scope", json_object_new_string(
                                              scope_of(a)[0] == '-' ? ""
                                                                    : scope_of(a)));
        json_object_array_add(arr, o);
        return 0;
    }
    printf("%-11s %-10s %-20s %-9s %-8s %-30s %s\n", a->id,
           api_role_name(a->role), scope_of(a), a->has_password ? "yes" : "no",
           a->disabled ? "disabled" : "active", a->email, a->name);
    return 0;
}

/* A password from stdin: its first line, without the line break. */
static char *read_password(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);

    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

/* The sign-in URL of a link secret: the site's base URL, the sign-in
 * page, the secret in the fragment (which never reaches a server log). */
static void print_link(const struct api_common *c, const char *base,
                       const char *secret)
{
    const char *b = base              ? base
                    : c->cfg->base_url ? c->cfg->base_url
                                       : "http://127.0.0.1:8080";
    size_t n = strlen(b);

    while (n && b[n - 1] == '/')
        n--;
    printf("%.*s/signin.html#link=%s\n", (int)n, b, secret);
}

int api_cmd_user(const struct api_common *common, int argc, char **argv)
{
    static const struct option opts[] = {
        API_COMMON_OPTS,
        {"role", required_argument, NULL, 'r'},
        {"region", required_argument, NULL, 'g'},
        {"record", required_argument, NULL, 'R'},
        {"enterprise", required_argument, NULL, 'R'},
        {"email", required_argument, NULL, 'e'},
        {"name", required_argument, NULL, 'n'},
        {"password-stdin", no_argument, NULL, 'p'},
        {"off", no_argument, NULL, 'o'},
        {"base", required_argument, NULL, 'b'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct api_common c = *common;
    struct api_account a;
    struct kx_error err;
    const char *action, *role = NULL, *region = NULL, *record = NULL;
    const char *email = NULL, *name = NULL, *base = NULL, *who = NULL;
    char *password = NULL;
    store *st = NULL;
    taxo *tx = NULL;
    store_txn *t = NULL;
    enum kx_status s = KX_OK;
    int opt, json = 0, pw_stdin = 0, off = 0, rc = API_EXIT_OK;

    memset(&a, 0, sizeof a);
    kx_error_clear(&err);
    if (argc < 2)
        return api_usage("user");
    action = argv[1];
    optind = 2;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (api_common_opt(&c, opt))
            continue;
        switch (opt) {
        case 'r': role = optarg; break;
        case 'g': region = optarg; break;
        case 'R': record = optarg; break;
        case 'e': email = optarg; break;
        case 'n': name = optarg; break;
        case 'p': pw_stdin = 1; break;
        case 'o': off = 1; break;
        case 'b': base = optarg; break;
        case 'j': json = 1; break;
        default: return api_usage("user");
        }
    }
    if (strcmp(action, "add") != 0 && strcmp(action, "list") != 0) {
        if (optind + 1 != argc)
            return api_usage("user");
        who = argv[optind++];
    } else if (optind != argc) {
        return api_usage("user");
    }
    if (pw_stdin && !(password = read_password())) {
        fprintf(stderr, "kxmatch: --password-stdin: no password on standard "
                        "input\n");
        return API_EXIT_BADINPUT;
    }
    if ((s = store_open(c.db, 0, &st, &err)) != KX_OK)
        goto out;
    if (strcmp(action, "add") == 0) {
        if (!role || !email || !name) {
            free(password);
            store_close(st);
            return api_usage("user");
        }
        a.role = api_role_parse(role);
        snprintf(a.email, sizeof a.email, "%s", email);
        snprintf(a.name, sizeof a.name, "%s", name);
        snprintf(a.region, sizeof a.region, "%s", region ? region : "");
        snprintf(a.record, sizeof a.record, "%s", record ? record : "");
        if ((s = taxo_load(c.taxonomy, &tx, &err)) != KX_OK ||
            (s = api_account_add(st, tx, &a, password, NULL, &err)) != KX_OK)
            goto out;
        printf("%s\n", a.id);
        fprintf(stderr, "kxmatch: account %s for %s <%s>, %s%s%s, created%s\n",
                a.id, a.name, a.email, api_role_name(a.role),
                scope_of(&a)[0] != '-' ? " of " : "",
                scope_of(&a)[0] != '-' ? scope_of(&a) : "",
                password ? " with a password" : "; it signs in by link");
    } else if (strcmp(action, "list") == 0) {
        json_object *arr = json ? json_object_new_array() : NULL;

        if ((s = store_txn_begin(st, 0, &t)) != KX_OK) {
            json_object_put(arr);
            goto out;
        }
        if (!json)
            printf("%-11s %-10s %-20s %-9s %-8s %-30s %s\n", "ID", "ROLE",
                   "SCOPE", "PASSWORD", "STATE", "EMAIL", "NAME");
        s = api_account_each(t, print_user, arr);
        if (json && s == KX_OK)
            printf("%s\n", json_object_to_json_string_ext(
                               arr, JSON_C_TO_STRING_PLAIN |
                                        JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(arr);
    } else if (strcmp(action, "disable") == 0 ||
               strcmp(action, "enable") == 0 || strcmp(action, "role") == 0) {
        struct api_account_change ch = {NULL, NULL, NULL, NULL, -1};

        if (strcmp(action, "role") == 0) {
            if (!role)
                goto usage;
            ch.role = role;
            ch.region = region;
            ch.record = record;
        } else {
            ch.disabled = strcmp(action, "disable") == 0;
        }
        if ((s = taxo_load(c.taxonomy, &tx, &err)) != KX_OK ||
            (s = api_account_update(st, tx, who, &ch, NULL, &a, &err)) !=
                KX_OK)
            goto out;
        print_user(NULL, &a);
    } else if (strcmp(action, "password") == 0) {
        if (!off && !password) {
            fprintf(stderr, "kxmatch: user password takes the new password "
                            "on standard input (--password-stdin), or "
                            "--off\n");
            rc = API_EXIT_USAGE;
            goto out;
        }
        if ((s = api_account_set_password(st, who, off ? NULL : password,
                                          NULL, &err)) != KX_OK)
            goto out;
        printf("%s: password %s\n", who, off ? "removed" : "set");
    } else if (strcmp(action, "link") == 0) {
        char secret[API_SECRET_LEN + 1];

        if ((s = api_link_create(st, who, secret, &a, &err)) != KX_OK)
            goto out;
        print_link(&c, base, secret);
        fprintf(stderr, "kxmatch: a sign-in link for %s <%s>, valid for %d "
                        "minutes and once\n", a.name, a.email,
                API_LINK_SECS / 60);
    } else {
        goto usage;
    }
out:
    if (s != KX_OK)
        rc = api_fail(s, &err);
    if (password) {
        memset(password, 0, strlen(password));
        free(password);
    }
    store_txn_abort(t);
    store_close(st);
    taxo_free(tx);
    return rc;
usage:
    rc = api_usage("user");
    goto out;
}
