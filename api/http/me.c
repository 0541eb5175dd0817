/* me.c - a partner's own account (expert, academician, society):
 * GET and PUT /v1/me/record (their profile and digest frequency), GET
 * /v1/me/matches (open needs that fit them), GET /v1/me/proposals (needs
 * the digests proposed to them, with their answers) and POST
 * /v1/me/answers (interested / not for me, into the pipeline). */
#include "server.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "answer.h"
#include "digest.h"
#include "reply.h"

#define ANSWER_NOTE_MAX 500

enum MHD_Result api_route_me_record_get(struct api_req *r)
{
    struct kx_record *rec = NULL;
    struct kx_error err;
    store_txn *t = NULL;
    json_object *o;
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_params_check(r, NULL, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    if ((st = store_txn_begin(r->srv->st, 0, &t)) != KX_OK)
        return api_reply_error(r, st, "", "%s", kx_status_str(st));
    if ((st = api_record_load(t, r->who.record, &rec, &err)) != KX_OK) {
        store_txn_abort(t);
        return api_reply_kx(r, st, &err);
    }
    o = api_record_view(r, t, rec);
    if (o)
        json_object_object_add(o, "digest", json_object_new_string(
                                   api_digest_frequency(t, r->who.record)));
    store_txn_abort(t);
    record_free(rec);
    return o ? api_reply_json(r, 200, o)
             : api_reply_error(r, KX_NOMEM, "", "out of memory");
}

/* The record a partner may write is its own, as stored. */
static enum kx_status own_check(struct api_req *r, store_txn *t,
                                struct kx_record *rec, int *same,
                                struct kx_error *err)
{
    const char *v;
    size_t n, cn;
    const char *canon = record_canonical(rec, &cn);

    (void)r;
    if (store_record_get(t, rec->key, &v, &n) != KX_OK)
        return kx_error_set(err, KX_NOTFOUND, "", "no record %s", rec->key);
    *same = canon && n == cn && memcmp(v, canon, n) == 0;
    return KX_OK;
}

/* Which fields a partner edits of its own record; the rest (its key, name,
 * e-mail address, memberships) is the 科协's. */
static int editable(enum kx_kind k, const char *field)
{
    static const char *const person[] = {"text", "tags", "industries",
                                         "disciplines", "capacity", "org",
                                         "title", NULL};
    static const char *const society[] = {"text", "tags", "industries",
                                          "disciplines", NULL};
    const char *const *f = k == KX_KIND_SOCIETY ? society : person;

    for (; *f; f++)
        if (strcmp(*f, field) == 0)
            return 1;
    return 0;
}

enum MHD_Result api_route_me_record_put(struct api_req *r)
{
    struct kx_record *old = NULL, *rec = NULL;
    struct kx_error err;
    store_txn *t = NULL;
    json_object *body = NULL, *stored = NULL, *dig = NULL;
    const char *freq = NULL, *js;
    int indexed = 0, same = 0;
    enum kx_status st;
    enum MHD_Result ret;

    kx_error_clear(&err);
    if ((st = api_req_params_check(r, NULL, &err)) != KX_OK ||
        (st = api_req_body(r, &body, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    if ((st = store_txn_begin(r->srv->st, 0, &t)) != KX_OK)
        goto out;
    if ((st = api_record_load(t, r->who.record, &old, &err)) != KX_OK)
        goto out;
    stored = json_tokener_parse(record_canonical(old, NULL));
    store_txn_abort(t);
    t = NULL;
    if (!stored) {
        st = kx_error_set(&err, KX_NOMEM, "", "out of memory");
        goto out;
    }
    if (json_object_object_get_ex(body, "digest", &dig)) {
        if (!json_object_is_type(dig, json_type_string) ||
            !api_digest_frequency_known(json_object_get_string(dig))) {
            st = kx_error_set(&err, KX_BADINPUT, "digest",
                              "expected weekly, fortnightly, monthly or off");
            goto out;
        }
        freq = json_object_get_string(dig);
    }
    json_object_object_foreach(body, key, v) {
        if (strcmp(key, "digest") == 0)
            continue;
        if (!editable(old->kind, key)) {
            st = kx_error_set(&err, KX_BADINPUT, key,
                              "\"%.40s\" is not a field you may change here "
                              "(text, tags, industries, disciplines%s)",
                              key, old->kind == KX_KIND_SOCIETY
                                       ? "" : ", capacity, org, title");
            goto out;
        }
        json_object_object_add(stored, key, json_object_get(v));
    }
    js = json_object_to_json_string_ext(stored, JSON_C_TO_STRING_PLAIN);
    /* The record format's own checks: types, codes, capacity's range. */
    if ((st = record_parse(js, strlen(js), r->srv->tx, &rec, &err)) != KX_OK)
        goto out;
    if ((st = api_record_store(r, rec, own_check, "record.update", &indexed,
                               &same, &err)) != KX_OK)
        goto out;
    if (freq && (st = api_digest_frequency_set(r->srv->st, r->who.record,
                                               freq, &err)) != KX_OK) {
        snprintf(err.field, sizeof err.field, "digest");
        goto out;
    }
out:
    store_txn_abort(t);
    json_object_put(body);
    json_object_put(stored);
    record_free(old);
    if (st != KX_OK) {
        record_free(rec);
        return api_reply_kx(r, st, &err);
    }
    if ((st = store_txn_begin(r->srv->st, 0, &t)) != KX_OK) {
        record_free(rec);
        return api_reply_error(r, st, "", "%s", kx_status_str(st));
    }
    body = api_record_view(r, t, rec);
    if (body) {
        json_object_object_add(body, "digest", json_object_new_string(
                                   api_digest_frequency(t, r->who.record)));
        json_object_object_add(body, "indexed",
                               json_object_new_boolean(indexed || same));
    }
    store_txn_abort(t);
    record_free(rec);
    ret = body ? api_reply_json(r, 200, body)
               : api_reply_error(r, KX_NOMEM, "", "out of memory");
    return ret;
}

enum MHD_Result api_route_me_matches(struct api_req *r)
{
    char buf[KX_KEY_MAX], *colon;

    snprintf(buf, sizeof buf, "%s", r->who.record);
    if (!(colon = strchr(buf, ':')))
        return api_reply_error(r, KX_INTERNAL, "", "account without record");
    *colon = '\0';
    r->arg[0] = buf;
    r->arg[1] = colon + 1;
    return api_route_partner_matches(r);
}

/* ---- proposals ----------------------------------------------------------- */

struct prop_ctx {
    const char *me;
    store_txn *t;
    json_object *a;
};

/* plan:<week>:pair:<need>|<partner> -> {score, recipient, ...}: the pairs
 * proposed to me (as partner or as the recipient for my results). */
static int prop_one(void *vctx, const void *key, size_t klen, const void *val,
                    size_t vlen)
{
    struct prop_ctx *c = vctx;
    char k[3 * KX_KEY_MAX + 64], week[16], *pair, *bar;
    json_tokener *tok;
    json_object *o, *rcpt, *score, *p;

    if (klen >= sizeof k)
        return 0;
    memcpy(k, key, klen);
    k[klen] = '\0';
    if (!(pair = strstr(k, ":pair:")) || (size_t)(pair - k) < 5 ||
        (size_t)(pair - k - 5) >= sizeof week)
        return 0;
    snprintf(week, sizeof week, "%.*s", (int)(pair - k - 5), k + 5);
    pair += 6;
    if (!(bar = strchr(pair, '|')))
        return 0;
    *bar = '\0';
    if (!(tok = json_tokener_new()))
        return 1;
    o = json_tokener_parse_ex(tok, val, (int)vlen);
    json_tokener_free(tok);
    if (!o)
        return 0;
    if (json_object_object_get_ex(o, "recipient", &rcpt) &&
        strcmp(json_object_get_string(rcpt), c->me) == 0) {
        json_object *e;

        p = json_object_new_object();
        json_object_object_add(p, "need", json_object_new_string(pair));
        json_object_object_add(p, "partner", json_object_new_string(bar + 1));
        json_object_object_add(p, "week", json_object_new_string(week));
        if (json_object_object_get_ex(o, "score", &score))
            json_object_object_add(p, "score", json_object_get(score));
        if ((e = api_pipeline_get(c->t, pair, bar + 1)) != NULL) {
            json_object *stg, *note;
            if (json_object_object_get_ex(e, "stage", &stg))
                json_object_object_add(p, "stage", json_object_get(stg));
            if (json_object_object_get_ex(e, "note", &note))
                json_object_object_add(p, "note", json_object_get(note));
            json_object_put(e);
        }
        json_object_array_add(c->a, p);
    }
    json_object_put(o);
    return 0;
}

enum MHD_Result api_route_me_proposals(struct api_req *r)
{
    struct kx_error err;
    struct prop_ctx c = {r->who.record, NULL, NULL};
    json_object *o;
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_params_check(r, NULL, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    if ((st = store_txn_begin(r->srv->st, 0, &c.t)) != KX_OK)
        return api_reply_error(r, st, "", "%s", kx_status_str(st));
    c.a = json_object_new_array();
    st = store_kv_each(c.t, STORE_DIGEST, "plan:", 5, prop_one, &c);
    for (size_t i = 0; st == KX_OK && i < json_object_array_length(c.a); i++) {
        json_object *p = json_object_array_get_idx(c.a, i);
        json_object *nk;
        struct kx_record *need = NULL;

        if (json_object_object_get_ex(p, "need", &nk) &&
            api_record_load(c.t, json_object_get_string(nk), &need, NULL) ==
                KX_OK) {
            json_object_object_add(p, "need_name", json_object_new_string(
                                       need->name ? need->name : ""));
            json_object_object_add(p, "need_status", json_object_new_string(
                                       need->status ? need->status : "open"));
        }
        record_free(need);
        need = NULL;
        /* the partner: the person, or a result of theirs */
        if (json_object_object_get_ex(p, "partner", &nk) &&
            api_record_load(c.t, json_object_get_string(nk), &need, NULL) ==
                KX_OK)
            json_object_object_add(p, "partner_name", json_object_new_string(
                                       need->name ? need->name : ""));
        record_free(need);
    }
    store_txn_abort(c.t);
    if (st != KX_OK) {
        json_object_put(c.a);
        return api_reply_error(r, st, "", "%s", kx_status_str(st));
    }
    o = json_object_new_object();
    json_object_object_add(o, "proposals", c.a);
    return api_reply_json(r, 200, o);
}

enum kx_status api_answer_check(store_txn *t, const char *me,
                                const char *need, const char *partner,
                                const char *answer, const char *note,
                                struct kx_error *err)
{
    struct kx_record *n = NULL, *p = NULL;
    enum kx_status st = KX_OK;

    if (!answer || (strcmp(answer, "interested") != 0 &&
                    strcmp(answer, "declined") != 0))
        return kx_error_set(err, KX_BADINPUT, "answer",
                            "expected interested or declined");
    if (note && strlen(note) > ANSWER_NOTE_MAX)
        return kx_error_set(err, KX_TOOLARGE, "note",
                            "the note is longer than %d bytes",
                            ANSWER_NOTE_MAX);
    if (!need || api_record_load(t, need, &n, NULL) != KX_OK ||
        n->kind != KX_KIND_NEED ||
        (n->visibility && strcmp(n->visibility, "confidential") == 0))
        st = kx_error_set(err, KX_NOTFOUND, "need", "no need %.60s",
                          need ? need : "");
    else if (n->status && strcmp(n->status, "closed") == 0)
        st = kx_error_set(err, KX_CONFLICT, "need",
                          "%s is closed: it takes no answers", need);
    else if (strcmp(partner, me) != 0 &&
             (api_record_load(t, partner, &p, NULL) != KX_OK ||
              p->kind != KX_KIND_RESULT || !p->owner ||
              strcmp(p->owner, me) != 0))
        st = kx_error_set(err, KX_FORBIDDEN, "partner",
                          "%.60s is neither you nor a result of yours",
                          partner);
    if (st == KX_OK && strcmp(answer, "interested") == 0) {
        struct kx_record *who = NULL, *ent = NULL;
        const char *why = NULL;

        if (api_record_load(t, partner, &who, NULL) == KX_OK && n->enterprise &&
            api_record_load(t, n->enterprise, &ent, NULL) == KX_OK)
            why = match_conflict(t, ent, who);
        if (why)
            st = kx_error_set(err, KX_CONFLICT, "need", "%s is not for you "
                              "to take on: %s", need, why);
        record_free(who);
        record_free(ent);
    }
    record_free(n);
    record_free(p);
    return st;
}

enum MHD_Result api_route_me_answer(struct api_req *r)
{
    static const char *const names[] = {"need", "partner", "answer", "note",
                                        NULL};
    const char *f[4];
    struct kx_error err;
    store_txn *t = NULL;
    json_object *o = NULL, *e = NULL;
    int created = 0;
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_fields(r, names, f, &o, &err)) == KX_OK &&
        (st = store_txn_begin(r->srv->st, 0, &t)) == KX_OK) {
        if (!f[1])
            f[1] = r->who.record;
        st = api_answer_check(t, r->who.record, f[0], f[1], f[2], f[3], &err);
        store_txn_abort(t);
    }
    if (st == KX_OK)
        st = api_pipeline_move(r->srv->st, &r->who, f[0], f[1], f[2], f[3],
                               &e, &created);
    json_object_put(o);
    if (st != KX_OK)
        return api_reply_kx(r, st, &err);
    return api_reply_json(r, created ? 201 : 200, e);
}

/* ---- one-click answers from a digest (answer.h) -------------------------- */

/* Verifies the link t: *l filled, *answered (may be NULL) the marker of an
 * earlier answer through it (the caller's), or an error reply's status. */
static enum kx_status link_open(struct api_req *r, store_txn *t,
                                const char *tok, struct api_answer_link *l,
                                json_object **answered, struct kx_error *err)
{
    unsigned char key[API_ANSWER_KEY_LEN];
    char mk[80];
    const void *v;
    size_t n;
    enum kx_status st;

    (void)r;
    if (answered)
        *answered = NULL;
    if (!tok || !*tok)
        return kx_error_set(err, KX_BADINPUT, "t", "missing: the link's token");
    if (api_answer_key_get(t, key) != KX_OK)
        return kx_error_set(err, KX_FORBIDDEN, "t",
                            "this answer link is not valid");
    st = api_answer_verify(key, tok, l, err);
    sodium_memzero(key, sizeof key);
    if (st != KX_OK)
        return st;
    snprintf(mk, sizeof mk, "answered:%s", l->id);
    if (answered &&
        store_kv_get(t, STORE_DIGEST, mk, strlen(mk), &v, &n) == KX_OK)
        *answered = json_tokener_parse(v);
    return KX_OK;
}

static void add_name(json_object *o, store_txn *t, const char *field,
                     const char *key)
{
    struct kx_record *rec = NULL;

    if (api_record_load(t, key, &rec, NULL) == KX_OK && rec->name)
        json_object_object_add(o, field, json_object_new_string(rec->name));
    record_free(rec);
}

enum MHD_Result api_route_answer_get(struct api_req *r)
{
    static const char *const allowed[] = {"t", NULL};
    struct api_answer_link l;
    struct kx_error err;
    store_txn *t = NULL;
    json_object *o, *done = NULL;
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_params_check(r, allowed, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    if ((st = store_txn_begin(r->srv->st, 0, &t)) != KX_OK)
        return api_reply_error(r, st, "", "%s", kx_status_str(st));
    if ((st = link_open(r, t, api_req_param(r, "t"), &l, &done, &err)) !=
        KX_OK) {
        store_txn_abort(t);
        return api_reply_kx(r, st, &err);
    }
    o = json_object_new_object();
    json_object_object_add(o, "need", json_object_new_string(l.need));
    add_name(o, t, "need_name", l.need);
    json_object_object_add(o, "partner", json_object_new_string(l.partner));
    add_name(o, t, "partner_name", l.partner);
    json_object_object_add(o, "recipient", json_object_new_string(l.recipient));
    json_object_object_add(o, "expires", json_object_new_int64(l.expires));
    json_object_object_add(o, "answered", done ? done : NULL);
    store_txn_abort(t);
    return api_reply_json(r, 200, o);
}

enum MHD_Result api_route_answer_post(struct api_req *r)
{
    static const char *const names[] = {"t", "answer", "note", NULL};
    const char *f[3];
    struct api_answer_link l;
    struct api_principal who;
    struct kx_error err;
    store_txn *t = NULL;
    json_object *o = NULL, *done = NULL, *e = NULL, *mark;
    char mk[80], when[32];
    const char *js;
    int created = 0;
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_fields(r, names, f, &o, &err)) != KX_OK ||
        (st = store_txn_begin(r->srv->st, 0, &t)) != KX_OK)
        goto out;
    st = link_open(r, t, f[0], &l, &done, &err);
    if (st == KX_OK && done)
        st = kx_error_set(&err, KX_CONFLICT, "t",
                          "this proposal was answered through this link "
                          "already");
    if (st == KX_OK)
        st = api_answer_check(t, l.recipient, l.need, l.partner, f[1], f[2],
                              &err);
    memset(&who, 0, sizeof who);
    if (st == KX_OK) {
        struct kx_record *rec = NULL;
        enum kx_kind k = KX_KIND_LAST;

        record_key_parse(l.recipient, &k, NULL, NULL);
        who.role = k == KX_KIND_SOCIETY ? API_ROLE_SOCIETY : API_ROLE_EXPERT;
        snprintf(who.id, sizeof who.id, "link");
        snprintf(who.record, sizeof who.record, "%s", l.recipient);
        if (api_record_load(t, l.recipient, &rec, NULL) == KX_OK && rec->name)
            snprintf(who.name, sizeof who.name, "%s", rec->name);
        record_free(rec);
    }
    store_txn_abort(t);
    t = NULL;
    if (st != KX_OK)
        goto out;
    /* The marker first: a link answers once, even when two clicks race. */
    api_time_iso(when, sizeof when);
    mark = json_object_new_object();
    json_object_object_add(mark, "answer", json_object_new_string(f[1]));
    json_object_object_add(mark, "when", json_object_new_string(when));
    js = json_object_to_json_string_ext(mark, JSON_C_TO_STRING_PLAIN);
    snprintf(mk, sizeof mk, "answered:%s", l.id);
    if ((st = store_txn_begin(r->srv->st, 1, &t)) == KX_OK) {
        const void *v;
        size_t n;
        if (store_kv_get(t, STORE_DIGEST, mk, strlen(mk), &v, &n) == KX_OK)
            st = kx_error_set(&err, KX_CONFLICT, "t", "this proposal was "
                              "answered through this link already");
        else if ((st = store_kv_put(t, STORE_DIGEST, mk, strlen(mk), js,
                                    strlen(js))) == KX_OK) {
            st = store_txn_commit(t);
            t = NULL;
        }
    }
    json_object_put(mark);
    if (st == KX_OK)
        st = api_pipeline_move(r->srv->st, &who, l.need, l.partner, f[1],
                               f[2], &e, &created);
out:
    store_txn_abort(t);
    json_object_put(o);
    json_object_put(done);
    if (st != KX_OK)
        return api_reply_kx(r, st, &err);
    return api_reply_json(r, created ? 201 : 200, e);
}
