/* audit.c - GET /v1/audit: the log of every write, for admins. */
#include "reply.h"
#include "server.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum MHD_Result api_route_audit(struct api_req *r)
{
    static const char *const allowed[] = {"limit", "before", NULL};
    struct kx_error err;
    store_txn *t = NULL;
    json_object *a = NULL, *o;
    char next[32];
    unsigned limit;
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_params_check(r, allowed, &err)) != KX_OK ||
        (st = api_req_uint(r, "limit", 100, 1, 1000, &limit, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    if ((st = store_txn_begin(r->srv->st, 0, &t)) == KX_OK)
        st = api_audit_list(t, limit, api_req_param(r, "before"), &a, next,
                            &err);
    store_txn_abort(t);
    if (st != KX_OK)
        return api_reply_kx(r, st, &err);
    o = json_object_new_object();
    json_object_object_add(o, "entries", a);
    json_object_object_add(o, "next", json_object_new_string(next));
    return api_reply_json(r, 200, o);
}
