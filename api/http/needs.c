/* needs.c - one need of an enterprise: POST /v1/needs, GET, PUT, DELETE
 * /v1/needs/{id} and GET /v1/needs/{id}/matches (the list is in
 * needs_list.c). */
#include "reply.h"
#include "util.h"
#include "server.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POST_MATCHES 5 /* matches in the reply to a POST or PUT */

static enum kx_status need_key(struct api_req *r, char *key,
                               struct kx_error *err)
{
    if (!record_id_valid(r->arg[0]))
        return kx_error_set(err, KX_BADINPUT, "id",
                            "invalid need id \"%.64s\" (expected 1..64 of "
                            "A-Z a-z 0-9 . _ -)", r->arg[0]);
    snprintf(key, KX_KEY_MAX, "need:%s", r->arg[0]);
    return KX_OK;
}

static const char *obj_str(json_object *o, const char *k, json_object **v)
{
    if (!json_object_object_get_ex(o, k, v))
        return NULL;
    return json_object_is_type(*v, json_type_string)
               ? json_object_get_string(*v) : NULL;
}

/* The id of a posted need. Ids are scoped by enterprise: what a caller
 * other than an admin names X is stored as ENTERPRISE_ID-X (an X that
 * already starts so is kept), and a new id is ENTERPRISE_ID-Nyyyymmdd-
 * and 8 random hex digits. So an id a caller chooses can only ever meet
 * its own enterprise's needs, and a POST tells nothing of the needs it
 * may not see. */
static enum kx_status need_new_id(struct api_req *r, json_object *o,
                                  struct kx_error *err)
{
    json_object *v = NULL;
    const char *ent = obj_str(o, "enterprise", &v), *given = NULL, *eid = "";
    char scope[KX_ID_MAX + 2] = "", id[3 * KX_ID_MAX];

    if (ent && strncmp(ent, "enterprise:", 11) == 0 &&
        record_id_valid(ent + 11))
        eid = ent + 11;
    if (json_object_object_get_ex(o, "id", &v) &&
        !(given = obj_str(o, "id", &v)))
        return kx_error_set(err, KX_BADINPUT, "id",
                            "expected a string of 1..64 of A-Z a-z 0-9 . _ "
                            "-");
    if (!given) {
        unsigned char rnd[4];
        char day[16];

        /* A long enterprise id leaves no room: the random part alone. */
        if (*eid && strlen(eid) + 1 + 18 <= KX_ID_MAX)
            snprintf(scope, sizeof scope, "%s-", eid);
        if (api_random(rnd, sizeof rnd) != KX_OK)
            return kx_error_set(err, KX_IO, "", "cannot read /dev/urandom");
        api_time_iso(day, sizeof day);
        snprintf(id, sizeof id, "%sN%.4s%.2s%.2s-%02x%02x%02x%02x", scope,
                 day, day + 5, day + 8, rnd[0], rnd[1], rnd[2], rnd[3]);
    } else if (r->who.role == API_ROLE_ADMIN || !*eid) {
        return KX_OK; /* an admin sees every need: nothing to hide */
    } else {
        snprintf(scope, sizeof scope, "%s-", eid);
        if (strncmp(given, scope, strlen(scope)) == 0)
            return KX_OK;
        snprintf(id, sizeof id, "%s%s", scope, given);
        if (strlen(id) > KX_ID_MAX || !record_id_valid(given))
            return kx_error_set(err, KX_BADINPUT, "id",
                                "ids are scoped by enterprise: \"%.64s\" "
                                "would be stored as %s-ID, which must be "
                                "1..64 of A-Z a-z 0-9 . _ -", given, eid);
    }
    json_object_object_add(o, "id", json_object_new_string(id));
    return KX_OK;
}

/* Fills what the server decides in a need body before validation: kind,
 * id (from the path, or a new one), the enterprise of an enterprise token,
 * "updated". Refuses what the caller may not set. */
static enum kx_status need_prepare(struct api_req *r, json_object *o,
                                   const char *path_id, struct kx_error *err)
{
    json_object *v = NULL;
    const char *s;
    char buf[64];

    if (json_object_object_get_ex(o, "kind", &v)) {
        s = obj_str(o, "kind", &v);
        if (!s || strcmp(s, "need") != 0)
            return kx_error_set(err, KX_BADINPUT, "kind",
                                "expected \"need\" (or leave it out)");
    } else {
        json_object_object_add(o, "kind", json_object_new_string("need"));
    }
    if (json_object_object_get_ex(o, "deleted", &v))
        return kx_error_set(err, KX_BADINPUT, "deleted",
                            "use DELETE /v1/needs/{id} to delete a need");
    if (r->who.role == API_ROLE_ENTERPRISE) {
        if (!json_object_object_get_ex(o, "enterprise", &v)) {
            json_object_object_add(o, "enterprise",
                                   json_object_new_string(r->who.enterprise));
        } else if ((s = obj_str(o, "enterprise", &v)) != NULL &&
                   strcmp(s, r->who.enterprise) != 0) {
            return kx_error_set(err, KX_FORBIDDEN, "enterprise",
                                "this token posts needs for %s only",
                                r->who.enterprise);
        }
    }
    if (path_id) {
        if (json_object_object_get_ex(o, "id", &v)) {
            s = obj_str(o, "id", &v);
            if (!s || strcmp(s, path_id) != 0)
                return kx_error_set(err, KX_BADINPUT, "id",
                                    "the id in the body must match the URL "
                                    "(%s) or be left out", path_id);
        } else {
            json_object_object_add(o, "id", json_object_new_string(path_id));
        }
    } else {
        enum kx_status st = need_new_id(r, o, err);

        if (st != KX_OK)
            return st;
    }
    if (!json_object_object_get_ex(o, "updated", &v)) {
        api_time_iso(buf, sizeof buf);
        json_object_object_add(o, "updated", json_object_new_string(buf));
    }
    return KX_OK;
}

/* The top matches of a stored need as a JSON array, or NULL with *why
 * saying why there are none (a closed need, nothing to match on). */
static json_object *top_matches(struct api_req *r,
                                const struct kx_record *need, size_t top,
                                char *why, size_t wn)
{
    struct match_request req;
    struct match_result *res = NULL;
    struct kx_error err;
    struct api_slot *sl;
    json_object *o, *a = NULL;
    enum kx_status st;
    int tries = 0;

    why[0] = '\0';
    kx_error_clear(&err);
    if (!(sl = api_req_slot(r, &st))) {
        snprintf(why, wn, "%s", kx_status_str(st));
        return NULL;
    }
    memset(&req, 0, sizeof req);
    req.need_key = need->key;
    req.need = need;
    req.top = top;
    do {
        kx_error_clear(&err);
        st = match_need(sl->mc, &req, &res, &err);
    } while (api_slot_stale(sl, st, &tries));
    if (st != KX_OK) {
        snprintf(why, wn, "%s", err.msg[0] ? err.msg : kx_status_str(st));
        return NULL;
    }
    o = match_result_json(res, r->srv->tx);
    api_match_json_names(o, r->srv->tx, r->srv->st);
    match_result_free(res);
    if (json_object_object_get_ex(o, "matches", &a))
        json_object_get(a);
    json_object_put(o);
    return a;
}

/* The reply to a write of rec, as stored: {id, key, record, labels,
 * indexed, matches[, match_note]}. indexed: whether search sees the change
 * yet. stored: rec is what the store holds (else it is read again, as
 * after a retry whose "updated" differs from the stored one). */
static enum MHD_Result reply_written(struct api_req *r, unsigned http,
                                     const struct kx_record *rec, int stored,
                                     int indexed)
{
    struct kx_record *loaded = NULL;
    struct kx_error err;
    store_txn *t = NULL;
    json_object *o, *m;
    char why[600];
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = store_txn_begin(r->srv->st, 0, &t)) != KX_OK ||
        (!stored &&
         (st = api_record_load(t, rec->key, &loaded, &err)) != KX_OK)) {
        store_txn_abort(t);
        return api_reply_kx(r, st, &err);
    }
    if (loaded)
        rec = loaded;
    o = api_record_view(r, t, rec);
    store_txn_abort(t);
    if (!o) {
        record_free(loaded);
        return api_reply_error(r, KX_NOMEM, "", "out of memory");
    }
    json_object_object_add(o, "id", json_object_new_string(rec->id));
    json_object_object_add(o, "key", json_object_new_string(rec->key));
    json_object_object_add(o, "indexed", json_object_new_boolean(indexed));
    m = top_matches(r, rec, POST_MATCHES, why, sizeof why);
    record_free(loaded);
    json_object_object_add(o, "matches", m ? m : json_object_new_array());
    if (!m)
        json_object_object_add(o, "match_note", json_object_new_string(why));
    return api_reply_json(r, http, o);
}

/* Validates a need body into *rec (the caller's). */
static enum kx_status need_parse(struct api_req *r, const char *path_id,
                                 struct kx_record **rec, struct kx_error *err)
{
    json_object *o = NULL;
    enum kx_status st;

    *rec = NULL;
    if ((st = api_req_body(r, &o, err)) != KX_OK)
        return st;
    if ((st = need_prepare(r, o, path_id, err)) == KX_OK)
        st = record_from_json(o, r->srv->tx, rec, err);
    json_object_put(o); /* the record holds its own reference */
    return st;
}

/* Under the write lock: the need's enterprise must exist. */
static enum kx_status check_enterprise(store_txn *t, const struct kx_record *rec,
                                       struct kx_error *err)
{
    const char *v;

    if (store_record_get(t, rec->enterprise, &v, NULL) != KX_OK)
        return kx_error_set(err, KX_NOTFOUND, "enterprise", "no record %s",
                            rec->enterprise);
    return KX_OK;
}

/* Stores rec as one unit: in one LMDB transaction the check, the record
 * with its postings, profile and change-log entry, and the audit entry
 * `what`; then Xapian follows. A Xapian failure does not undo an
 * acknowledged write: the reply says indexed: false, /healthz says the
 * index lags, and the next write or the server's follower catches up.
 * rec stays the caller's. *indexed gets whether Xapian holds the change;
 * *same whether nothing needed writing. */
enum kx_status api_record_store(struct api_req *r, struct kx_record *rec,
                                api_record_check_fn check, const char *what,
                                int *indexed, int *same,
                                struct kx_error *err)
{
    enum store_change ch = STORE_UNCHANGED;
    store_txn *t = NULL;
    enum kx_status st;

    *indexed = 0;
    *same = 0;
    api_write_lock(r->srv);
    if ((st = store_txn_begin(r->srv->st, 1, &t)) != KX_OK) {
        kx_error_set(err, st, "", "cannot write to the store: %s",
                     kx_status_str(st));
        goto out;
    }
    if ((st = check(r, t, rec, same, err)) != KX_OK || *same)
        goto out;
    if (rec->kind == KX_KIND_NEED && !rec->deleted &&
        (st = check_enterprise(t, rec, err)) != KX_OK)
        goto out;
    if ((st = idx_stage(r->srv->x, t, rec, &ch)) != KX_OK ||
        (ch != STORE_UNCHANGED &&
         (st = api_audit_append(t, &r->who, what, rec->key)) != KX_OK)) {
        kx_error_set(err, st, "", "writing %s: %s", rec->key,
                     kx_status_str(st));
        goto out;
    }
    st = store_txn_commit(t);
    t = NULL;
    if (st != KX_OK) {
        kx_error_set(err, st, "", "writing %s: %s", rec->key,
                     kx_status_str(st));
        goto out;
    }
out:
    store_txn_abort(t);
    if (st == KX_OK)
        *indexed = api_index_follow(r->srv, rec) == KX_OK;
    api_write_unlock(r->srv, st == KX_OK && ch != STORE_UNCHANGED);
    return st;
}

/* POST and PUT: store, and reply with the need and its matches. */
static enum MHD_Result need_write(struct api_req *r, struct kx_record *rec,
                                  api_record_check_fn check, const char *what,
                                  unsigned http, struct kx_error *err)
{
    enum MHD_Result ret;
    int indexed, same;
    enum kx_status st;

    st = api_record_store(r, rec, check, what, &indexed, &same, err);
    ret = st != KX_OK ? api_reply_kx(r, st, err)
                      : reply_written(r, same ? 200 : http, rec, !same,
                                      indexed);
    record_free(rec);
    return ret;
}

/* Loads a need the caller may read; err says why not. NOTFOUND answers
 * alike for a need that never was, was deleted, or is hidden. */
static enum kx_status load_readable(struct api_req *r, store_txn *t,
                                    const char *key, struct kx_record **rec,
                                    struct kx_error *err)
{
    enum kx_status st = api_record_load(t, key, rec, err);

    if (st != KX_OK)
        return st;
    st = api_need_access(t, r->srv->tx, &r->who, *rec);
    if (st == KX_NOTFOUND)
        kx_error_set(err, st, "id", "no record %s", key);
    else if (st == KX_FORBIDDEN)
        kx_error_set(err, st, "id",
                     "%s is not one of the needs this token may read", key);
    if (st != KX_OK) {
        record_free(*rec);
        *rec = NULL;
    }
    return st;
}

/* 1 if a and b hold the same need, "updated" aside (a retry stamps a new
 * one). */
static int same_need(struct kx_record *a, struct kx_record *b)
{
    json_object *x = json_tokener_parse(record_canonical(a, NULL));
    json_object *y = json_tokener_parse(record_canonical(b, NULL));
    int eq;

    if (x && y) {
        json_object_object_del(x, "updated");
        json_object_object_del(y, "updated");
    }
    eq = x && y && json_object_equal(x, y);
    json_object_put(x);
    json_object_put(y);
    return eq;
}

/* POST: the id must be new, or the same need posted again (idempotent). */
static enum kx_status check_new(struct api_req *r, store_txn *t,
                                struct kx_record *rec, int *same,
                                struct kx_error *err)
{
    struct kx_record *old = NULL;
    enum kx_status st = load_readable(r, t, rec->key, &old, NULL);

    if (st == KX_NOTFOUND && !old) {
        const char *v;
        /* Hidden from this caller (ids are scoped, so only an admin's
         * chosen id can get here): refuse without saying more. */
        if (store_record_get(t, rec->key, &v, NULL) == KX_OK)
            return kx_error_set(err, KX_EXISTS, "id",
                                "choose another id, or leave it out");
        return KX_OK;
    }
    if (st == KX_FORBIDDEN) /* public, not this caller's */
        return kx_error_set(err, KX_EXISTS, "id",
                            "%s exists and is not this token's to change",
                            rec->key);
    if (st != KX_OK)
        return kx_error_set(err, st, "", "reading %s: %s", rec->key,
                            kx_status_str(st));
    *same = same_need(old, rec);
    record_free(old);
    if (*same)
        return KX_OK;
    return kx_error_set(err, KX_EXISTS, "id",
                        "%s exists with other content (change it with PUT "
                        "/v1/needs/%s)", rec->key, rec->id);
}

/* PUT and DELETE: the need exists, this token sees it and may change it. */
static enum kx_status check_writable(struct api_req *r, store_txn *t,
                                     struct kx_record *rec, int *same,
                                     struct kx_error *err)
{
    struct kx_record *old = NULL;
    enum kx_status st = load_readable(r, t, rec->key, &old, err);

    (void)same;
    if (st == KX_OK)
        st = api_need_write_access(&r->who, old);
    if (st == KX_FORBIDDEN)
        kx_error_set(err, st, "id", "this token may not change %s",
                     rec->key);
    record_free(old);
    return st;
}

enum MHD_Result api_route_need_post(struct api_req *r)
{
    struct kx_record *rec = NULL;
    struct kx_error err;
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_params_check(r, NULL, &err)) != KX_OK ||
        (st = need_parse(r, NULL, &rec, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    return need_write(r, rec, check_new, "need.create", 201, &err);
}

enum MHD_Result api_route_need_put(struct api_req *r)
{
    struct kx_record *rec = NULL;
    struct kx_error err;
    char key[KX_KEY_MAX];
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_params_check(r, NULL, &err)) != KX_OK ||
        (st = need_key(r, key, &err)) != KX_OK ||
        (st = need_parse(r, r->arg[0], &rec, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    return need_write(r, rec, check_writable, "need.update", 200, &err);
}

enum MHD_Result api_route_need_delete(struct api_req *r)
{
    struct kx_record *del = NULL;
    struct kx_error err;
    char key[KX_KEY_MAX];
    json_object *o;
    int indexed, same;
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_params_check(r, NULL, &err)) != KX_OK ||
        (st = need_key(r, key, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    o = json_object_new_object();
    json_object_object_add(o, "kind", json_object_new_string("need"));
    json_object_object_add(o, "id", json_object_new_string(r->arg[0]));
    json_object_object_add(o, "deleted", json_object_new_boolean(1));
    st = record_from_json(o, r->srv->tx, &del, &err);
    json_object_put(o);
    if (st == KX_OK)
        st = api_record_store(r, del, check_writable, "need.delete", &indexed,
                        &same, &err);
    record_free(del);
    if (st != KX_OK)
        return api_reply_kx(r, st, &err);
    o = json_object_new_object();
    json_object_object_add(o, "deleted", json_object_new_string(key));
    json_object_object_add(o, "indexed", json_object_new_boolean(indexed));
    return api_reply_json(r, 200, o);
}

enum MHD_Result api_route_need_get(struct api_req *r)
{
    struct kx_record *rec = NULL;
    struct kx_error err;
    store_txn *t = NULL;
    char key[KX_KEY_MAX];
    json_object *o;
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_params_check(r, NULL, &err)) != KX_OK ||
        (st = need_key(r, key, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    if ((st = store_txn_begin(r->srv->st, 0, &t)) != KX_OK)
        return api_reply_error(r, st, "", "%s", store_errmsg());
    if ((st = load_readable(r, t, key, &rec, &err)) != KX_OK) {
        store_txn_abort(t);
        return api_reply_kx(r, st, &err);
    }
    o = api_record_view(r, t, rec);
    record_free(rec);
    store_txn_abort(t);
    return api_reply_json(r, 200, o);
}

enum MHD_Result api_route_need_matches(struct api_req *r)
{
    static const char *const allowed[] = {"top", "kinds", NULL};
    struct match_request req;
    struct match_result *res = NULL;
    struct kx_record *rec = NULL;
    struct kx_error err;
    struct api_slot *sl;
    store_txn *t = NULL;
    const char *kinds[KX_KIND_LAST + 1];
    char key[KX_KEY_MAX], kbuf[256];
    unsigned top;
    size_t nk;
    json_object *o;
    enum kx_status st;
    int tries = 0;

    kx_error_clear(&err);
    memset(&req, 0, sizeof req);
    if ((st = api_req_params_check(r, allowed, &err)) != KX_OK ||
        (st = api_req_uint(r, "top", 10, 1, 50, &top, &err)) != KX_OK ||
        (st = need_key(r, key, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    nk = api_req_list(r, "kinds", kbuf, sizeof kbuf, kinds, KX_KIND_LAST);
    if (nk > KX_KIND_LAST)
        return api_reply_error(r, KX_BADINPUT, "kinds", "too many kinds");
    for (size_t i = 0; i < nk; i++) {
        enum kx_kind k = record_kind_parse(kinds[i]);
        if (k == KX_KIND_LAST || !(MATCH_PARTNER_KINDS & (1u << k)))
            return api_reply_error(r, KX_BADINPUT, "kinds",
                                   "\"%.40s\" is not a partner kind "
                                   "(expected expert, academician, society, "
                                   "result)", kinds[i]);
        req.kinds |= 1u << k;
    }
    if ((st = store_txn_begin(r->srv->st, 0, &t)) != KX_OK)
        return api_reply_error(r, st, "", "%s", store_errmsg());
    st = load_readable(r, t, key, &rec, &err);
    store_txn_abort(t);
    if (st != KX_OK)
        return api_reply_kx(r, st, &err);
    if (!(sl = api_req_slot(r, &st))) {
        record_free(rec);
        return api_reply_error(r, st, "", "cannot open a reader");
    }
    /* The matcher answers for a closed need (KX_CONFLICT); the record read
     * for the access check is the one it matches. */
    req.need_key = key;
    req.need = rec;
    req.top = top;
    do {
        kx_error_clear(&err);
        st = match_need(sl->mc, &req, &res, &err);
    } while (api_slot_stale(sl, st, &tries));
    record_free(rec);
    if (st != KX_OK)
        return api_reply_kx(r, st, &err);
    o = match_result_json(res, r->srv->tx);
    api_match_json_names(o, r->srv->tx, r->srv->st);
    match_result_free(res);
    return api_reply_json(r, 200, o);
}
