/* needs_list.c - GET /v1/needs: the needs the caller may see, newest
 * first, filtered by status, region and enterprise. */
#include "reply.h"
#include "server.h"
#include "util.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct keys {
    char **v;
    size_t n, cap;
    const char *prefix;
    enum kx_status st;
};

static int keys_add(void *vctx, const char *key)
{
    struct keys *k = vctx;

    if (k->prefix && strncmp(key, k->prefix, strlen(k->prefix)) != 0)
        return 0;
    if (kx_grow(&k->v, &k->cap, k->n + 1, sizeof *k->v, 64) != 0) {
        k->st = KX_NOMEM;
        return 1;
    }
    if (!(k->v[k->n] = strdup(key))) {
        k->st = KX_NOMEM;
        return 1;
    }
    k->n++;
    return 0;
}

static void keys_free(struct keys *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->v[i]);
    free(k->v);
}

static int by_updated_desc(const void *a, const void *b)
{
    json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
    json_object *ux = NULL, *uy = NULL, *kx = NULL, *ky = NULL;
    int c;

    json_object_object_get_ex(x, "updated", &ux);
    json_object_object_get_ex(y, "updated", &uy);
    c = strcmp(uy ? json_object_get_string(uy) : "",
               ux ? json_object_get_string(ux) : "");
    if (c)
        return c;
    json_object_object_get_ex(x, "key", &kx);
    json_object_object_get_ex(y, "key", &ky);
    return strcmp(json_object_get_string(kx), json_object_get_string(ky));
}

static void add_opt(json_object *o, const char *k, const char *v)
{
    if (v)
        json_object_object_add(o, k, json_object_new_string(v));
}

enum MHD_Result api_route_needs_list(struct api_req *r)
{
    static const char *const allowed[] = {"status", "enterprise", "page",
                                          "per_page", NULL};
    struct keys keys = {NULL, 0, 0, "need:", KX_OK};
    struct kx_error err;
    store_txn *t = NULL;
    const char *status = api_req_param(r, "status");
    const char *ent = api_req_param(r, "enterprise");
    char tag[KX_KEY_MAX + 4];
    unsigned page, per;
    json_object **rows = NULL, *o, *a;
    size_t nrows = 0;
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_params_check(r, allowed, &err)) != KX_OK ||
        (st = api_req_uint(r, "page", 1, 1, 100000, &page, &err)) != KX_OK ||
        (st = api_req_uint(r, "per_page", 50, 1, 500, &per, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    if (status && strcmp(status, "open") != 0 &&
        strcmp(status, "matched") != 0 && strcmp(status, "closed") != 0)
        return api_reply_error(r, KX_BADINPUT, "status",
                               "expected open, matched or closed");
    if (r->who.role == API_ROLE_ENTERPRISE)
        ent = r->who.enterprise;
    if (ent && record_key_parse(ent, NULL, NULL, NULL) != KX_OK)
        return api_reply_error(r, KX_BADINPUT, "enterprise",
                               "expected enterprise:ID");
    snprintf(tag, sizeof tag, ent ? "F:%s" : "K:need", ent);
    if ((st = store_txn_begin(r->srv->st, 0, &t)) != KX_OK)
        return api_reply_error(r, st, "", "%s", store_errmsg());
    st = store_posting_each(t, tag, keys_add, &keys);
    if (st == KX_OK)
        st = keys.st;
    if (st == KX_OK && !(rows = calloc(keys.n + 1, sizeof *rows)))
        st = KX_NOMEM;
    for (size_t i = 0; st == KX_OK && i < keys.n; i++) {
        struct kx_record *rec = NULL;

        if (api_record_load(t, keys.v[i], &rec, NULL) != KX_OK)
            continue;
        if (api_need_access(t, r->srv->tx, &r->who, rec) == KX_OK &&
            (!status || strcmp(status, rec->status ? rec->status : "open") == 0)) {
            o = json_object_new_object();
            add_opt(o, "key", rec->key);
            add_opt(o, "id", rec->id);
            add_opt(o, "name", rec->name);
            add_opt(o, "enterprise", rec->enterprise);
            add_opt(o, "status", rec->status ? rec->status : "open");
            add_opt(o, "visibility", rec->visibility ? rec->visibility : "public");
            add_opt(o, "region", rec->region);
            if (rec->region)
                add_opt(o, "region_name", api_region_name(r->srv->tx, rec->region));
            add_opt(o, "deadline", rec->deadline);
            add_opt(o, "updated", rec->updated);
            rows[nrows++] = o;
        }
        record_free(rec);
    }
    store_txn_abort(t);
    keys_free(&keys);
    if (st != KX_OK) {
        for (size_t i = 0; i < nrows; i++)
            json_object_put(rows[i]);
        free(rows);
        return api_reply_error(r, st, "", "listing needs: %s", store_errmsg());
    }
    qsort(rows, nrows, sizeof *rows, by_updated_desc);
    o = json_object_new_object();
    a = json_object_new_array();
    for (size_t i = 0; i < nrows; i++) {
        if (i >= (size_t)(page - 1) * per && i < (size_t)page * per)
            json_object_array_add(a, rows[i]);
        else
            json_object_put(rows[i]);
    }
    free(rows);
    json_object_object_add(o, "total", json_object_new_int64((int64_t)nrows));
    json_object_object_add(o, "page", json_object_new_int((int)page));
    json_object_object_add(o, "per_page", json_object_new_int((int)per));
    json_object_object_add(o, "needs", a);
    return api_reply_json(r, 200, o);
}
