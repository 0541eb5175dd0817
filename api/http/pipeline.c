/* pipeline.c - the brokering pipeline: POST /v1/pipeline records a
 * stage for a (need, partner) pair, GET /v1/pipeline lists the pairs.
 * STORE_PIPELINE holds "need:ID partner-kind:ID" -> {need, partner, stage,
 * note (the last move's, if it had one), updated, by, history: [{stage,
 * when, by, note}]}. The listing
 * also comes as a CSV file (format=csv) for spreadsheets. */
#include "csv_write.h"
#include "reply.h"
#include "server.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JSON_OUT (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define NOTE_MAX 2000

static const struct {
    const char *name;
    int rank;
} stages[] = {
    {"shortlisted", 1},
    {"interested", 1},   /* the partner answered a proposal: interested */
    {"contacted", 2},
    {"declined", 0},
    {"agreement_signed", 3},
};

int api_stage_rank(const char *stage)
{
    for (size_t i = 0; stage && i < sizeof stages / sizeof stages[0]; i++)
        if (strcmp(stage, stages[i].name) == 0)
            return stages[i].rank;
    return -1;
}

struct each_ctx {
    api_pipeline_fn fn;
    void *ctx;
};

static int each_one(void *vctx, const void *key, size_t klen, const void *val,
                    size_t vlen)
{
    struct each_ctx *c = vctx;
    json_tokener *tok = json_tokener_new();
    json_object *o;
    int stop = 0;

    (void)key;
    (void)klen;
    if (!tok)
        return 1;
    o = json_tokener_parse_ex(tok, val, (int)vlen);
    json_tokener_free(tok);
    if (o && json_object_is_type(o, json_type_object))
        stop = c->fn(c->ctx, o);
    json_object_put(o);
    return stop;
}

enum kx_status api_pipeline_each(store_txn *t, const char *need_key,
                                 api_pipeline_fn fn, void *ctx)
{
    struct each_ctx c = {fn, ctx};
    char prefix[KX_KEY_MAX + 2] = "";

    if (need_key)
        snprintf(prefix, sizeof prefix, "%s ", need_key);
    return store_kv_each(t, STORE_PIPELINE, prefix, strlen(prefix), each_one,
                         &c);
}

static const char *get_str(json_object *o, const char *k)
{
    json_object *v;

    if (!json_object_object_get_ex(o, k, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* Names (and kind, org) of the pair, for people reading the list. */
static void add_names(json_object *e, store_txn *t, const taxo *tx)
{
    struct kx_record *n = NULL, *p = NULL;
    const char *nk = get_str(e, "need"), *pk = get_str(e, "partner");

    if (nk && api_record_load(t, nk, &n, NULL) == KX_OK) {
        json_object_object_add(e, "need_name",
                               json_object_new_string(n->name ? n->name : ""));
        if (n->region)
            json_object_object_add(e, "need_region_name",
                                   json_object_new_string(api_region_name(tx, n->region)));
    }
    if (pk && api_record_load(t, pk, &p, NULL) == KX_OK) {
        json_object_object_add(e, "partner_name",
                               json_object_new_string(p->name ? p->name : ""));
        json_object_object_add(e, "partner_kind", json_object_new_string(
                                                      record_kind_name(p->kind)));
        if (p->org)
            json_object_object_add(e, "partner_org", json_object_new_string(p->org));
    }
    record_free(n);
    record_free(p);
}

/* Checks the body: {need, partner, stage[, note]} and nothing else. */
static enum kx_status check_body(json_object *o, const char **need,
                                 const char **partner, const char **stage,
                                 const char **note, struct kx_error *err)
{
    enum kx_kind k;

    *need = *partner = *stage = *note = NULL;
    json_object_object_foreach(o, key, v) {
        const char **slot = strcmp(key, "need") == 0      ? need
                            : strcmp(key, "partner") == 0 ? partner
                            : strcmp(key, "stage") == 0   ? stage
                            : strcmp(key, "note") == 0    ? note : NULL;
        if (!slot)
            return kx_error_set(err, KX_BADINPUT, key,
                                "unknown field \"%.40s\" (expected need, "
                                "partner, stage, note)", key);
        if (!json_object_is_type(v, json_type_string))
            return kx_error_set(err, KX_BADINPUT, key, "expected a string");
        *slot = json_object_get_string(v);
    }
    if (!*need)
        return kx_error_set(err, KX_BADINPUT, "need",
                            "missing: the need key (need:ID)");
    if (record_key_parse(*need, &k, NULL, NULL) != KX_OK ||
        k != KX_KIND_NEED)
        return kx_error_set(err, KX_BADINPUT, "need",
                            "expected a need key (need:ID), got \"%.70s\"",
                            *need);
    if (!*partner)
        return kx_error_set(err, KX_BADINPUT, "partner",
                            "missing: the partner key (expert:ID, ...)");
    if (record_key_parse(*partner, &k, NULL, NULL) != KX_OK ||
        !(MATCH_PARTNER_KINDS & (1u << k)))
        return kx_error_set(err, KX_BADINPUT, "partner",
                            "expected an expert:, academician:, society: or "
                            "result: key, got \"%.70s\"", *partner);
    if (!*stage)
        return kx_error_set(err, KX_BADINPUT, "stage",
                            "missing: shortlisted, interested, contacted, "
                            "declined or agreement_signed");
    if (api_stage_rank(*stage) < 0)
        return kx_error_set(err, KX_BADINPUT, "stage",
                            "expected shortlisted, interested, contacted, "
                            "declined or agreement_signed, got \"%.40s\"",
                            *stage);
    if (*note && strlen(*note) > NOTE_MAX)
        return kx_error_set(err, KX_TOOLARGE, "note",
                            "the note is longer than %d bytes", NOTE_MAX);
    return KX_OK;
}

json_object *api_pipeline_get(store_txn *t, const char *need,
                              const char *partner)
{
    char key[2 * KX_KEY_MAX + 2];
    const char *v;
    size_t n;
    json_tokener *tok;
    json_object *e;

    snprintf(key, sizeof key, "%s %s", need, partner);
    if (store_kv_get(t, STORE_PIPELINE, key, strlen(key), (const void **)&v,
                     &n) != KX_OK || !(tok = json_tokener_new()))
        return NULL;
    e = json_tokener_parse_ex(tok, v, (int)n);
    json_tokener_free(tok);
    if (e && !json_object_is_type(e, json_type_object)) {
        json_object_put(e);
        e = NULL;
    }
    return e;
}

enum kx_status api_pipeline_move(store *sto, const struct api_principal *who,
                                 const char *nk, const char *pk,
                                 const char *stage, const char *note,
                                 json_object **entry, int *created)
{
    store_txn *t = NULL;
    json_object *e = NULL, *hist, *h;
    const char *v;
    char key[2 * KX_KEY_MAX + 2], when[32];
    size_t vlen;
    enum kx_status st;

    *entry = NULL;
    *created = 0;
    snprintf(key, sizeof key, "%s %s", nk, pk);
    api_time_iso(when, sizeof when);
    if ((st = store_txn_begin(sto, 1, &t)) != KX_OK)
        goto fail;
    st = store_kv_get(t, STORE_PIPELINE, key, strlen(key), (const void **)&v,
                      &vlen);
    if (st == KX_OK) {
        json_tokener *tok = json_tokener_new();
        e = tok ? json_tokener_parse_ex(tok, v, (int)vlen) : NULL;
        json_tokener_free(tok);
    } else if (st != KX_NOTFOUND) {
        goto fail;
    }
    if (!e || !json_object_is_type(e, json_type_object)) {
        json_object_put(e);
        e = json_object_new_object();
        json_object_object_add(e, "need", json_object_new_string(nk));
        json_object_object_add(e, "partner", json_object_new_string(pk));
        json_object_object_add(e, "created", json_object_new_string(when));
        *created = 1;
    }
    json_object_object_add(e, "stage", json_object_new_string(stage));
    /* "note" is this move's note: a move without one must not show the
     * previous move's as its own (history keeps every note). */
    if (note)
        json_object_object_add(e, "note", json_object_new_string(note));
    else
        json_object_object_del(e, "note");
    json_object_object_add(e, "updated", json_object_new_string(when));
    json_object_object_add(e, "by", json_object_new_string(who->id));
    if (who->name[0])
        json_object_object_add(e, "by_name", json_object_new_string(who->name));
    else
        json_object_object_del(e, "by_name");
    if (!json_object_object_get_ex(e, "history", &hist) ||
        !json_object_is_type(hist, json_type_array)) {
        hist = json_object_new_array();
        json_object_object_add(e, "history", hist);
    }
    h = json_object_new_object();
    json_object_object_add(h, "stage", json_object_new_string(stage));
    json_object_object_add(h, "when", json_object_new_string(when));
    json_object_object_add(h, "by", json_object_new_string(who->id));
    if (who->name[0])
        json_object_object_add(h, "by_name", json_object_new_string(who->name));
    if (note)
        json_object_object_add(h, "note", json_object_new_string(note));
    json_object_array_add(hist, h);
    v = json_object_to_json_string_ext(e, JSON_OUT);
    {
        char what[64];
        snprintf(what, sizeof what, "pipeline.%s", stage);
        if ((st = store_kv_put(t, STORE_PIPELINE, key, strlen(key), v,
                               strlen(v))) != KX_OK ||
            (st = api_audit_append(t, who, what, key)) != KX_OK)
            goto fail;
    }
    if ((st = store_txn_commit(t)) == KX_OK) {
        *entry = e;
        return KX_OK;
    }
    t = NULL;
fail:
    store_txn_abort(t);
    json_object_put(e);
    return st;
}

enum MHD_Result api_route_pipeline_post(struct api_req *r)
{
    struct kx_error err;
    struct kx_record *need = NULL, *partner = NULL;
    store_txn *t = NULL;
    json_object *o = NULL, *e = NULL;
    const char *nk, *pk, *stage, *note;
    int created = 0;
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_params_check(r, NULL, &err)) != KX_OK ||
        (st = api_req_body(r, &o, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    if ((st = check_body(o, &nk, &pk, &stage, &note, &err)) != KX_OK)
        goto out;
    if ((st = store_txn_begin(r->srv->st, 0, &t)) != KX_OK)
        goto out;
    st = api_record_load(t, nk, &need, &err);
    if (st == KX_OK) {
        st = api_need_access(t, r->srv->tx, &r->who, need);
        if (st == KX_NOTFOUND)
            kx_error_set(&err, st, "need", "no record %s", nk);
        else if (st == KX_FORBIDDEN)
            kx_error_set(&err, st, "need", "%s is outside this token's "
                         "region", nk);
    } else if (st == KX_NOTFOUND) {
        snprintf(err.field, sizeof err.field, "need");
    }
    if (st == KX_OK && (st = api_record_load(t, pk, &partner, &err)) ==
                           KX_NOTFOUND)
        snprintf(err.field, sizeof err.field, "partner");
    /* a pair in conflict of interest is not brokered, whatever the stage */
    if (st == KX_OK && strcmp(stage, "declined") != 0) {
        struct kx_record *ent = NULL;
        const char *why = NULL;

        if (need->enterprise &&
            api_record_load(t, need->enterprise, &ent, NULL) == KX_OK)
            why = match_conflict(t, ent, partner);
        if (why)
            st = kx_error_set(&err, KX_CONFLICT, "partner",
                              "%s may not be brokered to %s: %s", pk,
                              need->enterprise, why);
        record_free(ent);
    }
    store_txn_abort(t);
    t = NULL;
    if (st != KX_OK)
        goto out;

    if ((st = api_pipeline_move(r->srv->st, &r->who, nk, pk, stage, note,
                                &e, &created)) != KX_OK)
        goto out;
    if (store_txn_begin(r->srv->st, 0, &t) == KX_OK)
        add_names(e, t, r->srv->tx);
out:
    store_txn_abort(t);
    record_free(need);
    record_free(partner);
    json_object_put(o);
    if (st != KX_OK) {
        json_object_put(e);
        if (!err.msg[0] && st != KX_BADINPUT)
            kx_error_set(&err, st, "", "pipeline: %s", store_errmsg());
        return api_reply_kx(r, st, &err);
    }
    return api_reply_json(r, created ? 201 : 200, e);
}

struct list_ctx {
    struct api_req *r;
    store_txn *t;
    const char *partner, *stage;
    json_object *a;
    size_t total, skip, take;
    char last_need[KX_KEY_MAX];
    int last_ok;
};

static int list_one(void *vctx, json_object *e)
{
    struct list_ctx *c = vctx;
    const char *nk = get_str(e, "need"), *pk = get_str(e, "partner");
    const char *stage = get_str(e, "stage");

    if (!nk || !pk || (c->partner && strcmp(pk, c->partner) != 0) ||
        (c->stage && (!stage || strcmp(stage, c->stage) != 0)))
        return 0;
    /* Entries come sorted by need: decide once per need. */
    if (strcmp(nk, c->last_need) != 0) {
        struct kx_record *n = NULL;
        snprintf(c->last_need, sizeof c->last_need, "%s", nk);
        c->last_ok = api_record_load(c->t, nk, &n, NULL) == KX_OK &&
                     api_need_access(c->t, c->r->srv->tx, &c->r->who, n) ==
                         KX_OK;
        record_free(n);
    }
    if (!c->last_ok)
        return 0;
    if (c->total++ < c->skip || json_object_array_length(c->a) >= c->take)
        return 0;
    add_names(e, c->t, c->r->srv->tx);
    json_object_array_add(c->a, json_object_get(e));
    return 0;
}

/* ---- the listing as CSV (format=csv) ------------------------------------ */

/* The columns of the file, in the two languages of the pages: what the
 * liaison page's export held when it built the file itself. */
enum { L_ZH, L_EN, L_LAST };
static const char *const csv_head[][L_LAST] = {
    {"需求编号", "Need key"},   {"需求名称", "Need"},
    {"合作方编号", "Partner key"}, {"合作方名称", "Partner"},
    {"类型", "Kind"},           {"单位", "Organisation"},
    {"阶段", "Stage"},          {"更新时间", "Updated"},
    {"备注", "Note"},
};
static const struct {
    const char *code, *name[L_LAST];
} csv_names[] = {
    {"shortlisted", {"候选", "shortlisted"}},
    {"interested", {"有意向", "interested"}},
    {"contacted", {"已联系", "contacted"}},
    {"declined", {"已婉拒", "declined"}},
    {"agreement_signed", {"已签约", "agreement signed"}},
    {"expert", {"专家", "expert"}},
    {"academician", {"院士", "academician"}},
    {"society", {"学会", "society"}},
    {"result", {"成果", "result"}},
};

/* A stage or kind for people in language l; an unknown code as it is. */
static const char *csv_name(const char *code, int l)
{
    for (size_t i = 0; code && i < sizeof csv_names / sizeof csv_names[0]; i++)
        if (strcmp(code, csv_names[i].code) == 0)
            return csv_names[i].name[l];
    return code;
}

/* One file, header row first, from the entries the JSON listing would
 * hold: the same filters and access checks made them. */
static enum kx_status csv_write(json_object *a, int l, char **out,
                                size_t *len)
{
    struct kx_csv c = {0};

    /* UTF-8 with a byte order mark: without it Excel reads the file in the
     * machine's ANSI code page and the Chinese comes out garbled. */
    kx_csv_bom(&c);
    for (size_t i = 0; i < sizeof csv_head / sizeof csv_head[0]; i++)
        kx_csv_text(&c, csv_head[i][l]);
    kx_csv_row_end(&c);
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        json_object *e = json_object_array_get_idx(a, i);

        /* Every cell is record or user text, names included: all of it
         * goes through the neutraliser (kx_csv_text). */
        kx_csv_text(&c, get_str(e, "need"));
        kx_csv_text(&c, get_str(e, "need_name"));
        kx_csv_text(&c, get_str(e, "partner"));
        kx_csv_text(&c, get_str(e, "partner_name"));
        kx_csv_text(&c, csv_name(get_str(e, "partner_kind"), l));
        kx_csv_text(&c, get_str(e, "partner_org"));
        kx_csv_text(&c, csv_name(get_str(e, "stage"), l));
        kx_csv_text(&c, get_str(e, "updated"));
        kx_csv_text(&c, get_str(e, "note"));
        kx_csv_row_end(&c);
    }
    return kx_csv_take(&c, out, len);
}

/* Sends a CSV file as a download. Here rather than in reply.c for now:
 * the same headers as reply.c's (nosniff, no referrer) plus the
 * attachment's name; no-store, as the JSON listing, because the file
 * names people and their organisations. */
static enum MHD_Result csv_reply(struct api_req *r, char *body, size_t len)
{
    struct MHD_Response *resp;
    char disp[96], day[16];
    time_t now = time(NULL);
    struct tm tm;
    enum MHD_Result ret;

    resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return api_reply_error(r, KX_NOMEM, "", "pipeline: out of memory");
    }
    /* The day in UTC, as every time the API hands out. */
    gmtime_r(&now, &tm);
    strftime(day, sizeof day, "%Y%m%d", &tm);
    snprintf(disp, sizeof disp,
             "attachment; filename=\"kxmatch-pipeline-%s.csv\"", day);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/csv; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    r->http = 200;
    ret = MHD_queue_response(r->conn, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result api_route_pipeline_list(struct api_req *r)
{
    static const char *const allowed[] = {"need", "partner", "stage", "page",
                                          "per_page", "format", "lang", NULL};
    struct list_ctx c;
    struct kx_error err;
    const char *need = api_req_param(r, "need");
    const char *format = api_req_param(r, "format");
    const char *lang = api_req_param(r, "lang");
    unsigned page, per;
    int csv, l;
    json_object *o;
    char *body = NULL;
    size_t blen = 0;
    enum kx_status st;

    kx_error_clear(&err);
    memset(&c, 0, sizeof c);
    if ((st = api_req_params_check(r, allowed, &err)) != KX_OK ||
        (st = api_req_uint(r, "page", 1, 1, 100000, &page, &err)) != KX_OK ||
        (st = api_req_uint(r, "per_page", 100, 1, 1000, &per, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    if (format && strcmp(format, "json") != 0 && strcmp(format, "csv") != 0)
        return api_reply_error(r, KX_BADINPUT, "format",
                               "expected json or csv, got \"%.40s\"", format);
    if (lang && strcmp(lang, "zh") != 0 && strcmp(lang, "en") != 0)
        return api_reply_error(r, KX_BADINPUT, "lang",
                               "expected zh or en, got \"%.40s\"", lang);
    csv = format && strcmp(format, "csv") == 0;
    l = lang && strcmp(lang, "en") == 0 ? L_EN : L_ZH;
    c.partner = api_req_param(r, "partner");
    c.stage = api_req_param(r, "stage");
    if (need && record_key_parse(need, NULL, NULL, NULL) != KX_OK)
        return api_reply_error(r, KX_BADINPUT, "need", "expected need:ID");
    if (c.stage && api_stage_rank(c.stage) < 0)
        return api_reply_error(r, KX_BADINPUT, "stage",
                               "expected shortlisted, contacted, declined or "
                               "agreement_signed");
    c.r = r;
    c.skip = (size_t)(page - 1) * per;
    c.take = per;
    /* An export is the whole list unless a page is asked for: the
     * pipeline is pairs people entered one by one, not a bulk table. */
    if (csv && !api_req_param(r, "per_page") && !api_req_param(r, "page"))
        c.take = SIZE_MAX;
    c.a = json_object_new_array();
    if ((st = store_txn_begin(r->srv->st, 0, &c.t)) == KX_OK)
        st = api_pipeline_each(c.t, need, list_one, &c);
    store_txn_abort(c.t);
    if (st != KX_OK) {
        json_object_put(c.a);
        return api_reply_error(r, st, "", "pipeline: %s", store_errmsg());
    }
    if (csv) {
        st = csv_write(c.a, l, &body, &blen);
        json_object_put(c.a);
        if (st != KX_OK)
            return api_reply_error(r, st, "", "pipeline: out of memory");
        return csv_reply(r, body, blen);
    }
    o = json_object_new_object();
    json_object_object_add(o, "total", json_object_new_int64((int64_t)c.total));
    json_object_object_add(o, "page", json_object_new_int((int)page));
    json_object_object_add(o, "per_page", json_object_new_int((int)per));
    json_object_object_add(o, "entries", c.a);
    return api_reply_json(r, 200, o);
}
