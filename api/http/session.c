/* session.c - people signing in and out: POST /v1/session (password),
 * POST /v1/session/link (a one-time link by mail), POST
 * /v1/session/redeem (using it), DELETE /v1/session, and POST /v1/tokens
 * (a signed-in person's own API token). */
#include "server.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "digest.h"
#include "mail.h"
#include "reply.h"
#include "util.h"

enum kx_status api_body_strings(json_object *o, const char *const *names,
                                const char **out, struct kx_error *err)
{
    size_t n = 0;

    while (names[n])
        out[n++] = NULL;
    json_object_object_foreach(o, key, v) {
        size_t i = 0;

        while (names[i] && strcmp(names[i], key) != 0)
            i++;
        if (!names[i])
            return kx_error_set(err, KX_BADINPUT, key,
                                "unknown field \"%.40s\"", key);
        if (!json_object_is_type(v, json_type_string))
            return kx_error_set(err, KX_BADINPUT, key, "expected a string");
        out[i] = json_object_get_string(v);
    }
    return KX_OK;
}

enum kx_status api_req_fields(struct api_req *r, const char *const *names,
                              const char **out, json_object **o,
                              struct kx_error *err)
{
    enum kx_status st;

    *o = NULL;
    if ((st = api_req_params_check(r, NULL, err)) != KX_OK ||
        (st = api_req_body(r, o, err)) != KX_OK)
        return st;
    return api_body_strings(*o, names, out, err);
}

/* The client's address as text into buf (64 bytes), "" if unknown. */
static void client_of(struct api_req *r, char *buf, size_t n)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
        r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;

    buf[0] = '\0';
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf,
                  (socklen_t)n);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
                  buf, (socklen_t)n);
}

/* The reply to a new session: its cookie, and who signed in. */
static enum MHD_Result session_reply(struct api_req *r,
                                     const struct api_session *s)
{
    json_object *o = api_account_json(&s->account);

    api_session_cookie(r->set_cookie, sizeof r->set_cookie, s->secret,
                       r->srv->secure_cookies);
    json_object_object_add(o, "user", json_object_new_string(s->account.id));
    json_object_object_add(o, "csrf", json_object_new_string(s->csrf));
    json_object_object_add(o, "expires", json_object_new_string(s->expires));
    return api_reply_json(r, 200, o);
}

enum MHD_Result api_route_session_post(struct api_req *r)
{
    static const char *const names[] = {"email", "password", NULL};
    const char *f[2];
    struct api_session s;
    struct kx_error err;
    json_object *o = NULL;
    char client[64];
    unsigned wait = 0;
    enum kx_status st;
    enum MHD_Result ret;

    kx_error_clear(&err);
    if ((st = api_req_fields(r, names, f, &o, &err)) == KX_OK && !f[0])
        st = kx_error_set(&err, KX_BADINPUT, "email", "missing: the e-mail "
                          "address of the account");
    if (st == KX_OK && !f[1])
        st = kx_error_set(&err, KX_BADINPUT, "password", "missing: the "
                          "password (or ask for a sign-in link)");
    if (st == KX_OK) {
        client_of(r, client, sizeof client);
        st = api_signin_password(r->srv->st, f[0], f[1], client, &s, &wait,
                                 &err);
    }
    json_object_put(o);
    if (st == KX_UNAUTHORIZED && wait)
        return api_reply_rate_limited(r, wait);
    if (st != KX_OK)
        return api_reply_kx(r, st, &err);
    ret = session_reply(r, &s);
    memset(&s, 0, sizeof s);
    return ret;
}

/* The mail that carries a sign-in link: plain text, base64. */
static char *link_mail(struct api_req *r, const struct api_account *a,
                       const char *url, size_t *len)
{
    char *subj_text = NULL, *subj = NULL, *from = NULL, *to = NULL;
    char *b64 = NULL, *msg = NULL, date[64], mid[40];
    struct kx_buf body = {0}, m = {0};
    unsigned char raw[8];
    time_t now = time(NULL);
    struct tm tm;

    localtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm);
    if (api_random(raw, sizeof raw) != KX_OK)
        return NULL;
    snprintf(mid, sizeof mid, "%02x%02x%02x%02x%02x%02x%02x%02x", raw[0],
             raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7]);
    kx_buf_printf(&body, "%s：\r\n\r\n您好！请点击以下链接登录%s对接平台"
                         "（%d 分钟内有效，只能使用一次）：\r\n\r\n%s\r\n\r\n"
                         "如果不是您本人申请登录，请忽略本邮件，您的账号不受"
                         "影响。\r\n\r\n%s\r\n",
                  a->name, r->srv->org_name, API_LINK_SECS / 60, url,
                  r->srv->org_name);
    kx_buf_printf(&m, "%s登录链接", r->srv->org_short);
    subj_text = kx_buf_take(&m);
    subj = api_digest_header_value(subj_text);
    from = api_digest_header_value(r->srv->from_name);
    to = api_digest_header_value(a->name);
    b64 = body.p ? api_digest_base64_lines(body.p, body.n) : NULL;
    if (subj && from && to && b64) {
        kx_buf_printf(&m,
                      "From: %s <%s>\r\nTo: %s <%s>\r\nSubject: %s\r\n"
                      "Date: %s\r\nMessage-ID: <signin.%s@%s>\r\n"
                      "MIME-Version: 1.0\r\n"
                      "Content-Type: text/plain; charset=UTF-8\r\n"
                      "Content-Transfer-Encoding: base64\r\n"
                      "Auto-Submitted: auto-generated\r\n\r\n%s",
                      from, r->srv->mail_from, to, a->email, subj, date, mid,
                      strchr(r->srv->mail_from, '@') + 1, b64);
        msg = kx_buf_take(&m);
        *len = msg ? strlen(msg) : 0;
    }
    kx_buf_free(&m);
    kx_buf_free(&body);
    free(subj_text);
    free(subj);
    free(from);
    free(to);
    free(b64);
    return msg;
}

/* Sends the link to a's address. */
static enum kx_status link_send(struct api_req *r,
                                const struct api_account *a,
                                const char *secret, struct kx_error *err)
{
    struct api_mail_config mc;
    api_mail *mail = NULL;
    enum api_mail_outcome out;
    struct api_mail_reply rep;
    char url[1024];
    const char *base = r->srv->base_url;
    size_t n = strlen(base), len = 0;
    char *msg;
    enum kx_status st;

    while (n && base[n - 1] == '/')
        n--;
    snprintf(url, sizeof url, "%.*s/signin.html#link=%s", (int)n, base,
             secret);
    if (!(msg = link_mail(r, a, url, &len)))
        return KX_NOMEM;
    memset(&mc, 0, sizeof mc);
    mc.url = r->srv->smtp_url;
    mc.user = r->srv->smtp_user;
    mc.password = r->srv->smtp_password;
    mc.attempts = 2;
    mc.timeout_ms = 15000;
    st = api_mail_open(&mc, &mail, err);
    if (st == KX_OK)
        st = api_mail_send(mail, r->srv->mail_from, a->email, msg, len, &out,
                           &rep, err);
    if (st == KX_OK && out != API_MAIL_SENT)
        st = kx_error_set(err, KX_UNAVAILABLE, "email",
                          "the mail server did not take the sign-in link "
                          "(%d %s)", rep.code, rep.text);
    api_mail_close(mail);
    free(msg);
    return st;
}

enum MHD_Result api_route_session_link(struct api_req *r)
{
    static const char *const names[] = {"email", NULL};
    const char *f[1];
    struct api_account a;
    struct kx_error err;
    json_object *o = NULL, *reply;
    char secret[API_SECRET_LEN + 1];
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_fields(r, names, f, &o, &err)) == KX_OK && !f[0])
        st = kx_error_set(&err, KX_BADINPUT, "email",
                          "missing: the e-mail address of the account");
    if (st == KX_OK && !r->srv->smtp_url[0])
        st = kx_error_set(&err, KX_UNAVAILABLE, "email",
                          "this server sends no sign-in links (no smtp_url "
                          "in [mail] of its configuration): sign in with "
                          "the password, or ask the administrator");
    if (st == KX_OK && (!r->srv->base_url[0] || !strchr(r->srv->mail_from, '@')))
        st = kx_error_set(&err, KX_UNAVAILABLE, "email",
                          "this server sends no sign-in links (base_url in "
                          "[organisation] and from in [mail] must be set)");
    if (st == KX_OK) {
        /* An unknown or disabled address gets the same answer as a known
         * one: the reply must not tell who has an account. */
        if (api_link_create(r->srv->st, f[0], secret, &a, &err) == KX_OK)
            st = link_send(r, &a, secret, &err);
        memset(secret, 0, sizeof secret);
    }
    json_object_put(o);
    if (st != KX_OK)
        return api_reply_kx(r, st, &err);
    reply = json_object_new_object();
    json_object_object_add(reply, "sent", json_object_new_boolean(1));
    json_object_object_add(reply, "expires_in_minutes",
                           json_object_new_int(API_LINK_SECS / 60));
    return api_reply_json(r, 202, reply);
}

enum MHD_Result api_route_session_redeem(struct api_req *r)
{
    static const char *const names[] = {"link", NULL};
    const char *f[1];
    struct api_session s;
    struct kx_error err;
    json_object *o = NULL;
    enum kx_status st;
    enum MHD_Result ret;

    kx_error_clear(&err);
    if ((st = api_req_fields(r, names, f, &o, &err)) == KX_OK && !f[0])
        st = kx_error_set(&err, KX_BADINPUT, "link",
                          "missing: the secret of the sign-in link");
    if (st == KX_OK)
        st = api_link_redeem(r->srv->st, f[0], &s, &err);
    json_object_put(o);
    if (st != KX_OK)
        return api_reply_kx(r, st, &err);
    ret = session_reply(r, &s);
    memset(&s, 0, sizeof s);
    return ret;
}

enum MHD_Result api_route_session_delete(struct api_req *r)
{
    struct kx_error err;
    json_object *o;
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_req_params_check(r, NULL, &err)) != KX_OK)
        return api_reply_kx(r, st, &err);
    if (r->by_session &&
        (st = api_session_end(r->srv->st, r->session)) != KX_OK)
        return api_reply_error(r, st, "", "ending the session: %s",
                               kx_status_str(st));
    api_session_cookie(r->set_cookie, sizeof r->set_cookie, NULL,
                       r->srv->secure_cookies);
    o = json_object_new_object();
    json_object_object_add(o, "signed_out",
                           json_object_new_boolean(r->by_session));
    return api_reply_json(r, 200, o);
}

enum MHD_Result api_route_token_post(struct api_req *r)
{
    static const char *const names[] = {"label", "expires", NULL};
    const char *f[2];
    struct api_principal p = r->who;
    struct kx_error err;
    json_object *o = NULL, *reply;
    char *token = NULL;
    enum kx_status st;

    kx_error_clear(&err);
    st = api_req_fields(r, names, f, &o, &err);
    if (st == KX_OK && !r->who.user[0])
        st = kx_error_set(&err, KX_FORBIDDEN, "", "tokens of scripts are "
                          "made with `kxmatch token create`; a person signed "
                          "in makes their own here");
    memset(p.label, 0, sizeof p.label);
    memset(p.expires, 0, sizeof p.expires);
    memset(p.last_used, 0, sizeof p.last_used);
    if (st == KX_OK && f[0])
        snprintf(p.label, sizeof p.label, "%s", f[0]);
    if (st == KX_OK && f[1])
        st = api_token_expiry(f[1], p.expires, &err);
    if (st == KX_OK)
        st = api_token_create(r->srv->st, r->srv->tx, &p, &token, &err);
    json_object_put(o);
    if (st != KX_OK)
        return api_reply_kx(r, st, &err);
    reply = json_object_new_object();
    json_object_object_add(reply, "token", json_object_new_string(token));
    json_object_object_add(reply, "id", json_object_new_string(p.id));
    json_object_object_add(reply, "role",
                           json_object_new_string(api_role_name(p.role)));
    if (p.expires[0])
        json_object_object_add(reply, "expires",
                               json_object_new_string(p.expires));
    memset(token, 0, strlen(token));
    free(token);
    return api_reply_json(r, 201, reply);
}
