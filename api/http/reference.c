/* reference.c - what the pages and clients look up: GET /v1/openapi.json
 * (the API's description), /v1/whoami (the caller's role and scope) and
 * /v1/taxonomy/{industry,discipline,region} (codes and names). */
#include "reply.h"
#include "server.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a whole file (at most max bytes) into a new buffer. */
static enum kx_status slurp(const char *path, size_t max, char **out,
                            size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0, got;

    *out = NULL;
    if (!f)
        return KX_NOTFOUND;
    do {
        if (n + 65536 > cap) {
            char *p;
            cap = cap ? cap * 2 : 65536;
            if (cap > max + 65536 || !(p = realloc(buf, cap))) {
                free(buf);
                fclose(f);
                return cap > max + 65536 ? KX_TOOLARGE : KX_NOMEM;
            }
            buf = p;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *out = buf;
    *len = n;
    return KX_OK;
}

enum MHD_Result api_route_openapi(struct api_req *r)
{
    char *body;
    size_t len;
    enum MHD_Result ret;
    enum kx_status st = slurp(r->srv->openapi_path, 4u << 20, &body, &len);

    if (st != KX_OK)
        return api_reply_error(r, st == KX_NOTFOUND ? KX_IO : st, "",
                               "cannot read %s", r->srv->openapi_path);
    ret = api_reply_body(r, 200, "application/json; charset=utf-8", body, len);
    free(body);
    return ret;
}

enum kx_status api_file_read(const char *path, size_t max, char **out,
                             size_t *len)
{
    return slurp(path, max, out, len);
}

enum MHD_Result api_route_site(struct api_req *r)
{
    json_object *o = json_object_new_object(), *org = json_object_new_object();

    json_object_object_add(org, "name",
                           json_object_new_string(r->srv->org_name));
    json_object_object_add(org, "short_name",
                           json_object_new_string(r->srv->org_short));
    json_object_object_add(o, "organisation", org);
    if (r->srv->base_url[0])
        json_object_object_add(o, "base_url",
                               json_object_new_string(r->srv->base_url));
    json_object_object_add(o, "version", json_object_new_string(KX_VERSION));
    return api_reply_json(r, 200, o);
}

enum MHD_Result api_route_whoami(struct api_req *r)
{
    json_object *o = json_object_new_object();
    store_txn *t = NULL;

    json_object_object_add(o, "id", json_object_new_string(r->who.id));
    json_object_object_add(o, "role", json_object_new_string(
                                          api_role_name(r->who.role)));
    if (r->who.role == API_ROLE_ENTERPRISE) {
        struct kx_record *e = NULL;
        json_object_object_add(o, "enterprise",
                               json_object_new_string(r->who.enterprise));
        if (store_txn_begin(r->srv->st, 0, &t) == KX_OK &&
            api_record_load(t, r->who.enterprise, &e, NULL) == KX_OK) {
            json_object_object_add(o, "enterprise_name", json_object_new_string(
                                                             e->name ? e->name : ""));
            if (e->region)
                json_object_object_add(o, "enterprise_region",
                                       json_object_new_string(e->region));
        }
        record_free(e);
        store_txn_abort(t);
    }
    if (r->who.role == API_ROLE_LIAISON) {
        json_object_object_add(o, "region", json_object_new_string(r->who.region));
        json_object_object_add(o, "region_name", json_object_new_string(
                                                     api_region_name(r->srv->tx, r->who.region)));
    }
    if (r->who.record[0]) {
        struct kx_record *e = NULL;
        json_object_object_add(o, "record",
                               json_object_new_string(r->who.record));
        if (store_txn_begin(r->srv->st, 0, &t) == KX_OK &&
            api_record_load(t, r->who.record, &e, NULL) == KX_OK)
            json_object_object_add(o, "record_name", json_object_new_string(
                                                         e->name ? e->name : ""));
        record_free(e);
        store_txn_abort(t);
    }
    if (r->who.user[0]) { /* a person: their name, and how they came in */
        json_object_object_add(o, "user", json_object_new_string(r->who.user));
        json_object_object_add(o, "name", json_object_new_string(r->who.name));
    }
    json_object_object_add(o, "session", json_object_new_boolean(r->by_session));
    if (r->by_session) /* what every write with the cookie sends back */
        json_object_object_add(o, "csrf", json_object_new_string(r->csrf));
    if (r->who.label[0])
        json_object_object_add(o, "label", json_object_new_string(r->who.label));
    return api_reply_json(r, 200, o);
}

struct taxo_ctx {
    const taxo *tx;
    enum taxo_kind k;
    const char *parent, *q;
    json_object *a;
    size_t limit;
};

static int taxo_one(void *vctx, const char *code, const char *name,
                    const char *name_en, const char *remark, int level)
{
    struct taxo_ctx *c = vctx;
    const char *p = taxo_parent(c->tx, c->k, code);
    json_object *o;

    (void)remark;
    if (c->parent ? !p || strcmp(p, c->parent) != 0
        : c->q    ? !strstr(name, c->q) && strncmp(code, c->q, strlen(c->q)) != 0 &&
                     !(name_en && strstr(name_en, c->q))
                  : level != 1)
        return 0;
    o = json_object_new_object();
    json_object_object_add(o, "code", json_object_new_string(code));
    json_object_object_add(o, "name", json_object_new_string(name));
    if (name_en)
        json_object_object_add(o, "name_en", json_object_new_string(name_en));
    json_object_object_add(o, "level", json_object_new_int(level));
    json_object_array_add(c->a, o);
    return json_object_array_length(c->a) >= c->limit;
}

enum MHD_Result api_route_taxonomy(struct api_req *r)
{
    static const char *const allowed[] = {"parent", "q", "limit", NULL};
    struct taxo_ctx c;
    struct kx_error err;
    unsigned limit;
    json_object *o;
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_params_check(r, allowed, &err)) != KX_OK ||
        (st = api_req_uint(r, "limit", 100, 1, 1000, &limit, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    memset(&c, 0, sizeof c);
    if (strcmp(r->arg[0], "industry") == 0)
        c.k = TAXO_INDUSTRY;
    else if (strcmp(r->arg[0], "discipline") == 0)
        c.k = TAXO_DISCIPLINE;
    else if (strcmp(r->arg[0], "region") == 0)
        c.k = TAXO_REGION;
    else
        return api_reply_error(r, KX_NOTFOUND, "", "no taxonomy \"%.40s\" "
                               "(expected industry, discipline or region)",
                               r->arg[0]);
    c.tx = r->srv->tx;
    c.parent = api_req_param(r, "parent");
    c.q = api_req_param(r, "q");
    if (c.parent && !taxo_valid(c.tx, c.k, c.parent))
        return api_reply_error(r, KX_BADINPUT, "parent", "unknown code "
                               "\"%.40s\"", c.parent);
    if (c.q && !*c.q)
        c.q = NULL;
    c.limit = limit;
    c.a = json_object_new_array();
    taxo_each(c.tx, c.k, taxo_one, &c);
    o = json_object_new_object();
    json_object_object_add(o, "taxonomy", json_object_new_string(r->arg[0]));
    json_object_object_add(o, "items", c.a);
    return api_reply_json(r, 200, o);
}
