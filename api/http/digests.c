/* digests.c - the digests' two doors into the server: GET
 * /v1/digests/preview (what a recipient's weekly mail says, for liaison
 * officers and admins, without the recipient's token or needs the caller
 * may not read) and /v1/digests/unsubscribe (the List-Unsubscribe
 * link of every message: GET asks, POST does, so that link scanners do not
 * unsubscribe anybody). */
#include "digest.h"
#include "reply.h"
#include "server.h"
#include "util.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

/* May the liaison p see recipient's digest? Their region must hold the
 * recipient: a record's region, or the region of a liaison:REGION
 * summary. A need is never a recipient, and one the caller may not read
 * (GET /v1/needs/{id}'s rules) answers KX_NOTFOUND like an unknown key,
 * so that the preview tells nobody which confidential needs exist. */
static enum kx_status liaison_may_see(struct api_req *r, const char *recipient)
{
    const struct api_principal *p = &r->who;
    struct kx_record *rec = NULL;
    store_txn *t = NULL;
    enum kx_status st;
    int ok;

    if (p->role == API_ROLE_ADMIN)
        return KX_OK;
    if (strncmp(recipient, "liaison:", 8) == 0)
        return api_region_within(r->srv->tx, recipient + 8, p->region)
                   ? KX_OK : KX_FORBIDDEN;
    if ((st = store_txn_begin(r->srv->st, 0, &t)) != KX_OK)
        return st;
    st = api_record_load(t, recipient, &rec, NULL);
    if (st == KX_OK && rec->kind == KX_KIND_NEED &&
        api_need_access(t, r->srv->tx, p, rec) != KX_OK)
        st = KX_NOTFOUND;
    store_txn_abort(t);
    if (st != KX_OK) {
        record_free(rec);
        return st;
    }
    ok = rec->region && api_region_within(r->srv->tx, rec->region, p->region);
    record_free(rec);
    return ok ? KX_OK : KX_FORBIDDEN;
}

/* api_digest_viewer.may_read for r->who: the need rules of GET
 * /v1/needs/{id}, so that a preview shows no need that the same token
 * could not read. */
static int need_readable(void *ctx, store_txn *t, const char *need)
{
    struct api_req *r = ctx;
    struct kx_record *rec = NULL;
    int ok;

    if (api_record_load(t, need, &rec, NULL) != KX_OK)
        return 0;
    ok = api_need_access(t, r->srv->tx, &r->who, rec) == KX_OK;
    record_free(rec);
    return ok;
}

/* Links in a previewed message point where the sent one's do: the
 * configured base URL, else back at the host the page came from. */
static void base_url(struct api_req *r, char *buf, size_t n)
{
    const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_HOST);

    if (r->srv->base_url[0])
        snprintf(buf, n, "%s", r->srv->base_url);
    else
        snprintf(buf, n, "http://%s", host && *host ? host : "127.0.0.1:8080");
}

enum MHD_Result api_route_digest_preview(struct api_req *r)
{
    static const char *const allowed[] = {"recipient", "week", NULL};
    const char *recipient = api_req_param(r, "recipient");
    const char *week = api_req_param(r, "week");
    struct api_digest_opts o = {NULL, NULL, r->srv->from_name,
                                r->srv->org_name, r->srv->org_short};
    struct api_digest_viewer v = {NULL, r};
    struct kx_error err;
    json_object *out = NULL;
    char base[600];
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_params_check(r, allowed, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    if (!recipient || !*recipient)
        return api_reply_error(r, KX_BADINPUT, "recipient",
                               "expected ?recipient=KIND:ID (or "
                               "liaison:REGION)");
    if (strncmp(recipient, "liaison:", 8) != 0 &&
        (st = record_key_parse(recipient, NULL, NULL, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    st = liaison_may_see(r, recipient);
    if (st == KX_NOTFOUND)
        return api_reply_error(r, st, "recipient", "no record %s", recipient);
    if (st == KX_FORBIDDEN)
        return api_reply_error(r, st, "recipient",
                               "%s is outside your region %s", recipient,
                               r->who.region);
    if (st != KX_OK)
        return api_reply_error(r, st, "", "reading %s", recipient);
    base_url(r, base, sizeof base);
    o.base_url = base;
    /* Admins may read every need; the token is withheld from them too, as
     * it would let them unsubscribe the recipient in the recipient's name. */
    if (r->who.role != API_ROLE_ADMIN)
        v.may_read = need_readable;
    st = api_digest_preview(r->srv->st, r->srv->tx, &o, &v, recipient, week,
                            &out, &err);
    if (st != KX_OK)
        return api_reply_kx(r, st, &err);
    return api_reply_json(r, 200, out);
}

/* The unsubscribe link's pages: one frame (the site's style sheet, both
 * languages), a heading, a paragraph and at most one form. title and text
 * are this file's own; the organisation's name is escaped; of the request
 * only the token is used, which is 32 hex digits by then. */
static enum MHD_Result unsub_page(struct api_req *r, unsigned code,
                                  const char *title, const char *text,
                                  const char *token, int resubscribe,
                                  const char *button)
{
    struct kx_buf b = {0};
    enum MHD_Result ret;

    /* the organisation's name comes from the configuration file: escaped
     * like any text from outside */
    kx_buf_printf(&b,
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, "
        "initial-scale=1\"><link rel=\"icon\" href=\"/favicon.svg\" "
        "type=\"image/svg+xml\"><link rel=\"stylesheet\" href=\"/style.css\">"
        "<title>%s · ", title);
    kx_buf_html(&b, r->srv->org_name);
    kx_buf_puts(&b, "</title></head><body data-page=\"unsubscribe\">"
                    "<header class=\"top\"><a class=\"brand\" href=\"/\">"
                    "<b>kxmatch</b> <span>");
    kx_buf_html(&b, r->srv->org_name);
    kx_buf_printf(&b, "</span></a></header><main><section class=\"card\" "
                      "id=\"unsubscribe\"><h1>%s</h1><p>%s</p>", title, text);
    if (button)
        kx_buf_printf(&b,
            "<form method=\"post\" action=\"/v1/digests/unsubscribe?token=%s%s"
            "\"><input type=\"hidden\" name=\"List-Unsubscribe\" "
            "value=\"One-Click\"><button type=\"submit\" class=\"primary\">%s"
            "</button></form>", token, resubscribe ? "&amp;resubscribe=1" : "",
            button);
    kx_buf_puts(&b, "</section></main></body></html>");
    if (b.oom) {
        kx_buf_free(&b);
        return api_reply_error(r, KX_NOMEM, "", "out of memory");
    }
    ret = api_reply_body(r, code, "text/html; charset=utf-8", b.p, b.n);
    kx_buf_free(&b);
    return ret;
}

/* GET shows where the recipient stands and offers the one change that
 * makes sense (off when on, on again when off); POST makes it: the
 * List-Unsubscribe-Post one-click (RFC 8058), or with resubscribe=1 the
 * way back. A link scanner's GET changes nothing. Browsers get a page for
 * every outcome, errors too; other clients JSON. */
enum MHD_Result api_route_digest_unsubscribe(struct api_req *r)
{
    static const char *const allowed[] = {"token", "resubscribe", NULL};
    const char *token = api_req_param(r, "token");
    const char *resub = api_req_param(r, "resubscribe");
    const char *accept = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_ACCEPT);
    /* a browser (Accept: text/html, ...) gets pages; every other client
     * the API's JSON, errors included */
    int json = !accept || !strstr(accept, "text/html");
    int post = strcmp(r->method, "POST") == 0, on = 0;
    enum api_digest_token_action act;
    char recipient[KX_KEY_MAX + 32];
    struct kx_error err;
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_params_check(r, allowed, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    if (resub && strcmp(resub, "1") != 0)
        return api_reply_error(r, KX_BADINPUT, "resubscribe",
                               "expected resubscribe=1, got \"%s\"", resub);
    if (!token || !*token)
        st = kx_error_set(&err, KX_BADINPUT, "token",
                          "expected ?token=... from the message's "
                          "List-Unsubscribe link");
    else {
        act = !post ? API_DIGEST_TOKEN_ASK
              : resub ? API_DIGEST_TOKEN_ON : API_DIGEST_TOKEN_OFF;
        st = api_digest_token_apply(r->srv->st, token, act, recipient, &on,
                                    &err);
    }
    if (json) {
        json_object *o;
        if (st != KX_OK)
            return api_reply_kx(r, st, &err);
        o = json_object_new_object();
        json_object_object_add(o, "unsubscribed", json_object_new_boolean(
            post ? !resub : !on));
        return api_reply_json(r, 200, o);
    }
    if (st == KX_BADINPUT || st == KX_NOTFOUND)
        return unsub_page(r, st == KX_NOTFOUND ? 404 : 400, "退订链接无效",
                          "这个退订链接无效或已过期，请使用最近一封推荐邮件中"
                          "的链接。<br>This unsubscribe link is not valid; "
                          "use the one in your latest digest.",
                          NULL, 0, NULL);
    if (st != KX_OK)
        return api_reply_kx(r, st, &err);
    if (post && resub)
        return unsub_page(r, 200, "已恢复每周推荐",
                          "您将重新收到每周匹配推荐。<br>You will receive the "
                          "weekly digest again.", token, 0,
                          "再次退订 Unsubscribe");
    if (post || !on)
        return unsub_page(r, 200, post && on ? "已退订" : "已退订每周推荐",
                          post && on
                              ? "您将不再收到每周匹配推荐。<br>You will not "
                                "receive the weekly digest any more."
                              : "您此前已退订，不会再收到每周匹配推荐。<br>"
                                "You had already unsubscribed: no more "
                                "weekly digests.",
                          token, 1, "重新订阅 Resubscribe");
    return unsub_page(r, 200, "退订每周推荐邮件",
                      "确认后将不再收到每周匹配推荐。<br>Confirm to stop the "
                      "weekly match digest.", token, 0,
                      "确认退订 Unsubscribe");
}
