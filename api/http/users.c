/* users.c - the administrator's accounts: GET and POST /v1/users, PUT
 * /v1/users/{id}; the CLI's `kxmatch user` does the same. */
#include "server.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "reply.h"

static int list_one(void *ctx, const struct api_account *a)
{
    json_object_array_add(ctx, api_account_json(a));
    return 0;
}

enum MHD_Result api_route_users_list(struct api_req *r)
{
    struct kx_error err;
    store_txn *t = NULL;
    json_object *a, *o;
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_params_check(r, NULL, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    if ((st = store_txn_begin(r->srv->st, 0, &t)) != KX_OK)
        return api_reply_error(r, st, "", "reading accounts: %s",
                               kx_status_str(st));
    a = json_object_new_array();
    st = api_account_each(t, list_one, a);
    store_txn_abort(t);
    if (st != KX_OK) {
        json_object_put(a);
        return api_reply_error(r, st, "", "reading accounts: %s",
                               kx_status_str(st));
    }
    o = json_object_new_object();
    json_object_object_add(o, "users", a);
    return api_reply_json(r, 200, o);
}

enum MHD_Result api_route_users_post(struct api_req *r)
{
    static const char *const names[] = {"email", "name", "role", "region",
                                        "record", "password", NULL};
    const char *f[6];
    struct api_account a;
    struct kx_error err;
    json_object *o = NULL;
    enum kx_status st;

    kx_error_clear(&err);
    memset(&a, 0, sizeof a);
    if ((st = api_req_fields(r, names, f, &o, &err)) == KX_OK) {
        for (int i = 0; i < 3 && st == KX_OK; i++)
            if (!f[i])
                st = kx_error_set(&err, KX_BADINPUT, names[i], "missing");
    }
    if (st == KX_OK) {
        snprintf(a.email, sizeof a.email, "%s", f[0]);
        snprintf(a.name, sizeof a.name, "%s", f[1]);
        a.role = api_role_parse(f[2]);
        snprintf(a.region, sizeof a.region, "%s", f[3] ? f[3] : "");
        snprintf(a.record, sizeof a.record, "%s", f[4] ? f[4] : "");
        st = api_account_add(r->srv->st, r->srv->tx, &a, f[5], &r->who,
                             &err);
    }
    json_object_put(o);
    if (st != KX_OK)
        return api_reply_kx(r, st, &err);
    return api_reply_json(r, 201, api_account_json(&a));
}

enum MHD_Result api_route_user_put(struct api_req *r)
{
    static const char *const names[] = {"name", "role", "region", "record",
                                        NULL};
    const char *f[4];
    struct api_account_change ch = {NULL, NULL, NULL, NULL, -1};
    struct api_account a;
    struct kx_error err;
    json_object *o = NULL, *dis;
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_params_check(r, NULL, &err)) != KX_OK ||
        (st = api_req_body(r, &o, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    /* "disabled" is the one boolean: take it out before the strings */
    if (json_object_object_get_ex(o, "disabled", &dis)) {
        if (!json_object_is_type(dis, json_type_boolean))
            st = kx_error_set(&err, KX_BADINPUT, "disabled",
                              "expected true or false");
        ch.disabled = json_object_get_boolean(dis);
        json_object_object_del(o, "disabled");
    }
    if (st == KX_OK && (st = api_body_strings(o, names, f, &err)) == KX_OK) {
        ch.name = f[0];
        ch.role = f[1];
        ch.region = f[2];
        ch.record = f[3];
        if (!ch.role && (f[2] || f[3]))
            st = kx_error_set(&err, KX_BADINPUT, "role", "a new scope "
                              "comes with its role");
    }
    if (st == KX_OK && strcmp(r->arg[0], r->who.user) == 0 &&
        (ch.disabled == 1 || (ch.role && strcmp(ch.role, "admin") != 0)))
        st = kx_error_set(&err, KX_CONFLICT, "role", "an administrator "
                          "cannot disable or demote their own account");
    if (st == KX_OK)
        st = api_account_update(r->srv->st, r->srv->tx, r->arg[0], &ch,
                                &r->who, &a, &err);
    json_object_put(o);
    if (st != KX_OK)
        return api_reply_kx(r, st, &err);
    return api_reply_json(r, 200, api_account_json(&a));
}
