/* records.c - GET /v1/records/{kind}/{id} and the reverse match
 * GET /v1/{kind}/{id}/matches, with the record helpers the other routes
 * share. */
#include "reply.h"
#include "server.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kx_status api_record_load(store_txn *t, const char *key,
                               struct kx_record **out, struct kx_error *err)
{
    const char *json;
    size_t len;
    enum kx_status st = store_record_get(t, key, &json, &len);

    *out = NULL;
    /* A deleted record answers as one that never was: whether a
     * confidential need existed is itself confidential. */
    if (st == KX_NOTFOUND)
        return kx_error_set(err, KX_NOTFOUND, "id", "no record %s", key);
    if (st != KX_OK)
        return kx_error_set(err, st, "", "cannot read %s: %s", key,
                            store_errmsg());
    if (record_parse(json, len, NULL, out, NULL) != KX_OK)
        return kx_error_set(err, KX_CORRUPT, "",
                            "stored record %s does not parse", key);
    return KX_OK;
}

const char *api_region_name(const taxo *tx, const char *code)
{
    const char *n = code ? taxo_name(tx, TAXO_REGION, code) : NULL;

    return n ? n : "";
}

/* code -> name; with en, code -> English name for the codes whose
 * taxonomy source has one (NULL if none has). */
static json_object *code_names(const taxo *tx, enum taxo_kind k,
                               const struct kx_strs *codes, int en)
{
    json_object *o = json_object_new_object();

    for (size_t i = 0; i < codes->n; i++) {
        const char *n = en ? taxo_name_en(tx, k, codes->v[i])
                           : taxo_name(tx, k, codes->v[i]);
        if (en && !n)
            continue;
        json_object_object_add(o, codes->v[i],
                               json_object_new_string(n ? n : ""));
    }
    if (en && json_object_object_length(o) == 0) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

/* The name of a referenced record, or "" if it cannot be read. */
static json_object *ref_name(store_txn *t, const char *key)
{
    struct kx_record *r = NULL;
    json_object *s;

    if (api_record_load(t, key, &r, NULL) != KX_OK)
        return json_object_new_string("");
    s = json_object_new_string(r->name ? r->name : "");
    record_free(r);
    return s;
}

json_object *api_record_view(struct api_req *r, store_txn *t,
                             const struct kx_record *rec)
{
    const taxo *tx = r->srv->tx;
    json_object *en;
    json_object *o = json_object_new_object(), *copy = NULL;
    json_object *labels = json_object_new_object();

    if (json_object_deep_copy(rec->obj, &copy, NULL) != 0) {
        json_object_put(o);
        json_object_put(labels);
        return NULL;
    }
    api_record_redact(copy, &r->who);
    if (rec->region) {
        const char *anc[8];
        size_t n = taxo_ancestors(tx, TAXO_REGION, rec->region, anc, 8);
        char path[512] = "";

        for (size_t i = n; i-- > 0;) {
            const char *name = taxo_name(tx, TAXO_REGION, anc[i]);
            snprintf(path + strlen(path), sizeof path - strlen(path), "%s%s",
                     path[0] ? " " : "", name ? name : anc[i]);
        }
        json_object_object_add(labels, "region", json_object_new_string(
                                                     api_region_name(tx, rec->region)));
        json_object_object_add(labels, "region_path",
                               json_object_new_string(path));
    }
    json_object_object_add(labels, "industries",
                           code_names(tx, TAXO_INDUSTRY, &rec->industries, 0));
    json_object_object_add(labels, "disciplines",
                           code_names(tx, TAXO_DISCIPLINE, &rec->disciplines, 0));
    if ((en = code_names(tx, TAXO_INDUSTRY, &rec->industries, 1)))
        json_object_object_add(labels, "industries_en", en);
    if ((en = code_names(tx, TAXO_DISCIPLINE, &rec->disciplines, 1)))
        json_object_object_add(labels, "disciplines_en", en);
    if (rec->enterprise)
        json_object_object_add(labels, "enterprise", ref_name(t, rec->enterprise));
    if (rec->owner)
        json_object_object_add(labels, "owner", ref_name(t, rec->owner));
    json_object_object_add(o, "record", copy);
    json_object_object_add(o, "labels", labels);
    return o;
}

/* ---- GET /v1/records/{kind}/{id} ---------------------------------------- */

enum MHD_Result api_route_record_get(struct api_req *r)
{
    struct kx_record *rec = NULL;
    struct kx_error err;
    store_txn *t = NULL;
    enum kx_kind kind = record_kind_parse(r->arg[0]);
    char key[KX_KEY_MAX];
    json_object *view;
    enum kx_status st;
    enum MHD_Result ret;

    kx_error_clear(&err);
    if ((st = api_req_params_check(r, NULL, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    if (kind == KX_KIND_LAST)
        return api_reply_error(r, KX_NOTFOUND, "kind",
                               "unknown kind \"%.40s\" (expected expert, "
                               "academician, society, enterprise, need or "
                               "result)", r->arg[0]);
    if (!record_id_valid(r->arg[1]))
        return api_reply_error(r, KX_BADINPUT, "id",
                               "invalid id \"%.64s\" (expected 1..64 of "
                               "A-Z a-z 0-9 . _ -)", r->arg[1]);
    snprintf(key, sizeof key, "%s:%s", record_kind_name(kind), r->arg[1]);
    if ((st = store_txn_begin(r->srv->st, 0, &t)) != KX_OK)
        return api_reply_error(r, st, "", "%s", store_errmsg());
    st = api_record_load(t, key, &rec, &err);
    if (st == KX_OK && kind == KX_KIND_NEED) {
        st = api_need_access(t, r->srv->tx, &r->who, rec);
        if (st == KX_NOTFOUND)
            kx_error_set(&err, st, "id", "no record %s", key);
        else if (st == KX_FORBIDDEN)
            kx_error_set(&err, st, "id", "%s is not one of the needs this "
                         "token may read", key);
    } else if (st == KX_OK && kind == KX_KIND_ENTERPRISE &&
               r->who.role == API_ROLE_ENTERPRISE &&
               strcmp(key, r->who.enterprise) != 0) {
        st = kx_error_set(&err, KX_FORBIDDEN, "id",
                          "an enterprise token reads only its own "
                          "enterprise record");
    }
    if (st != KX_OK) {
        record_free(rec);
        store_txn_abort(t);
        return api_reply_kx(r, st, &err);
    }
    view = api_record_view(r, t, rec);
    record_free(rec);
    store_txn_abort(t);
    ret = api_reply_json(r, 200, view);
    return ret;
}

/* ---- GET /v1/{kind}/{id}/matches: needs for a partner -------------------- */

/* Drops entry i of res (its strings are owned). */
static void drop_entry(struct match_result *res, size_t i)
{
    free(res->v[i].name);
    free(res->v[i].org);
    memmove(&res->v[i], &res->v[i + 1], (res->n - i - 1) * sizeof *res->v);
    res->n--;
}

void api_match_json_names(json_object *o, const taxo *tx, store *st)
{
    json_object *a, *why, *region, *code, *via;
    store_txn *t = NULL;

    if (!json_object_object_get_ex(o, "matches", &a))
        return;
    if (store_txn_begin(st, 0, &t) != KX_OK)
        t = NULL;
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        json_object *m = json_object_array_get_idx(a, i);
        if (!json_object_object_get_ex(m, "why", &why))
            continue;
        if (json_object_object_get_ex(why, "region", &region) &&
            json_object_object_get_ex(region, "partner", &code))
            json_object_object_add(region, "partner_name", json_object_new_string(
                api_region_name(tx, json_object_get_string(code))));
        if (t && json_object_object_get_ex(why, "via", &via))
            json_object_object_add(why, "via_name",
                                   ref_name(t, json_object_get_string(via)));
    }
    store_txn_abort(t);
}

/* A partner looking at its own matches (GET /v1/me/matches): each need's
 * pipeline stage and note for the pair, where it answered or was moved. */
static void own_answers(struct api_req *r, json_object *o, const char *me)
{
    json_object *a, *m, *k, *e, *v;
    store_txn *t = NULL;

    if (!json_object_object_get_ex(o, "matches", &a) ||
        store_txn_begin(r->srv->st, 0, &t) != KX_OK)
        return;
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        m = json_object_array_get_idx(a, i);
        if (!json_object_object_get_ex(m, "key", &k))
            continue;
        if (!(e = api_pipeline_get(t, json_object_get_string(k), me)))
            continue;
        if (json_object_object_get_ex(e, "stage", &v))
            json_object_object_add(m, "stage", json_object_get(v));
        if (json_object_object_get_ex(e, "note", &v))
            json_object_object_add(m, "note", json_object_get(v));
        json_object_put(e);
    }
    store_txn_abort(t);
}

enum MHD_Result api_route_partner_matches(struct api_req *r)
{
    static const char *const allowed[] = {"top", NULL};
    struct match_request req;
    struct match_result *res = NULL;
    struct kx_error err;
    struct api_slot *sl;
    enum kx_kind kind = record_kind_parse(r->arg[0]);
    char key[KX_KEY_MAX];
    unsigned top;
    store_txn *t = NULL;
    json_object *o;
    enum kx_status st;
    int tries = 0;

    kx_error_clear(&err);
    if (kind == KX_KIND_LAST || !(MATCH_PARTNER_KINDS & (1u << kind)))
        return api_reply_error(r, KX_NOTFOUND, "",
                               "no endpoint %s (reverse matches are for "
                               "expert, academician, society and result)",
                               r->url);
    if ((st = api_req_params_check(r, allowed, &err)) != KX_OK ||
        (st = api_req_uint(r, "top", 10, 1, 50, &top, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    if (!record_id_valid(r->arg[1]))
        return api_reply_error(r, KX_BADINPUT, "id",
                               "invalid id \"%.64s\" (expected 1..64 of "
                               "A-Z a-z 0-9 . _ -)", r->arg[1]);
    snprintf(key, sizeof key, "%s:%s", record_kind_name(kind), r->arg[1]);
    if (!(sl = api_req_slot(r, &st)))
        return api_reply_error(r, st, "", "cannot open a reader");
    memset(&req, 0, sizeof req);
    /* Admins see confidential needs too; a liaison's list is cut to its
     * region afterwards, so ask for more than it will show. */
    req.include_confidential = r->who.role == API_ROLE_ADMIN;
    req.top = r->who.role == API_ROLE_ADMIN ? top : 200;
    do {
        kx_error_clear(&err);
        st = match_partner(sl->mc, key, &req, &res, &err);
    } while (api_slot_stale(sl, st, &tries));
    if (st != KX_OK)
        return api_reply_kx(r, st, &err);
    if ((st = store_txn_begin(r->srv->st, 0, &t)) != KX_OK) {
        match_result_free(res);
        return api_reply_error(r, st, "", "%s", store_errmsg());
    }
    for (size_t i = 0; i < res->n;) {
        struct kx_record *need = NULL;
        int ok = api_record_load(t, res->v[i].key, &need, NULL) == KX_OK &&
                 api_need_access(t, r->srv->tx, &r->who, need) == KX_OK;

        record_free(need);
        if (ok)
            i++;
        else
            drop_entry(res, i);
    }
    store_txn_abort(t);
    while (res->n > top)
        drop_entry(res, res->n - 1);
    o = match_result_json(res, r->srv->tx);
    api_match_json_names(o, r->srv->tx, r->srv->st);
    match_result_free(res);
    if (r->who.record[0] && strcmp(r->who.record, key) == 0)
        own_answers(r, o, key);
    return api_reply_json(r, 200, o);
}
