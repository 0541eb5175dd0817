/* mail.c - SMTP delivery through one reused libcurl handle (see mail.h). */
#include "mail.h"
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The SMTP command a reply answers: decides whose fault a failure is. */
enum smtp_cmd { CMD_NONE = 0, CMD_HELLO, CMD_AUTH, CMD_MAIL, CMD_RCPT,
                CMD_DATA, CMD_QUIT, CMD_OTHER };

struct api_mail {
    CURL *curl;
    char *url, *user, *password, *cainfo;
    int tls_required;   /* CURLUSESSL_ALL: credentials, or not loopback */
    unsigned attempts, delay_ms;
    long timeout_ms;
    char errbuf[CURL_ERROR_SIZE];
    /* what the debug callback saw of the current transfer */
    enum smtp_cmd last_cmd;
    char last_reply[256];
    int quitting;
    /* the message being uploaded */
    const char *data;
    size_t len, off;
};

static char *dup_or_null(const char *s, int *oom)
{
    char *d;

    if (!s)
        return NULL;
    if (!(d = strdup(s)))
        *oom = 1;
    return d;
}

static void wipe_free(char *s)
{
    if (s) {
        volatile char *p = s;
        while (*p)
            *p++ = 0;
    }
    free(s);
}

void api_mail_close(api_mail *m)
{
    if (!m)
        return;
    if (m->curl)
        curl_easy_cleanup(m->curl); /* sends QUIT on a live connection */
    free(m->url);
    free(m->user);
    wipe_free(m->password);
    free(m->cainfo);
    free(m);
}

/* Server replies and our commands, never data: keeps the last reply line
 * and which command it answers. AUTH lines are recognised by their first
 * word only, so credentials are never copied. */
static int on_debug(CURL *h, curl_infotype type, char *data, size_t size,
                    void *ctx)
{
    api_mail *m = ctx;
    static const struct { const char *w; enum smtp_cmd c; } cmds[] = {
        {"EHLO", CMD_HELLO}, {"HELO", CMD_HELLO}, {"AUTH", CMD_AUTH},
        {"MAIL", CMD_MAIL},  {"RCPT", CMD_RCPT},  {"DATA", CMD_DATA},
        {"QUIT", CMD_QUIT},
    };

    (void)h;
    if (type == CURLINFO_HEADER_OUT && size >= 4) {
        /* after a failure libcurl says QUIT: keep what the failure was */
        if (m->last_cmd != CMD_NONE && strncmp(data, "QUIT", 4) == 0) {
            m->quitting = 1;
            return 0;
        }
        m->last_cmd = CMD_OTHER;
        for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
            if (strncmp(data, cmds[i].w, 4) == 0)
                m->last_cmd = cmds[i].c;
    } else if (type == CURLINFO_HEADER_IN && size > 0 && !m->quitting) {
        size_t n = size;
        while (n > 0 && (data[n - 1] == '\r' || data[n - 1] == '\n'))
            n--;
        if (n >= sizeof m->last_reply)
            n = sizeof m->last_reply - 1;
        memcpy(m->last_reply, data, n);
        m->last_reply[n] = '\0';
    }
    return 0;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *ctx)
{
    api_mail *m = ctx;
    size_t n = size * nitems, left = m->len - m->off;

    if (n > left)
        n = left;
    memcpy(buf, m->data + m->off, n);
    m->off += n;
    return n;
}

enum kx_status api_mail_open(const struct api_mail_config *cfg,
                             api_mail **out, struct kx_error *err)
{
    api_mail *m;
    int oom = 0;

    *out = NULL;
    if (!cfg->url || (strncmp(cfg->url, "smtp://", 7) != 0 &&
                      strncmp(cfg->url, "smtps://", 8) != 0))
        return kx_error_set(err, KX_BADINPUT, "smtp",
                            "\"%s\" is not an SMTP URL (expected "
                            "smtp://host:port or smtps://host:port)",
                            cfg->url ? cfg->url : "");
    if ((cfg->user == NULL) != (cfg->password == NULL))
        return kx_error_set(err, KX_BADINPUT, "smtp",
                            "SMTP user and password go together: give both "
                            "or neither");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return KX_NOMEM;
    m = calloc(1, sizeof *m);
    if (!m)
        return KX_NOMEM;
    m->url = dup_or_null(cfg->url, &oom);
    m->user = dup_or_null(cfg->user, &oom);
    m->password = dup_or_null(cfg->password, &oom);
    m->cainfo = dup_or_null(cfg->cainfo, &oom);
    /* A password never crosses a link in clear text, and mail leaves this
     * machine only over TLS: plain SMTP is for a local MTA alone. */
    m->tls_required = cfg->user != NULL || !api_url_is_loopback(cfg->url);
    m->attempts = cfg->attempts ? cfg->attempts : 3;
    m->delay_ms = cfg->retry_delay_ms == API_MAIL_NO_DELAY ? 0
                  : cfg->retry_delay_ms ? cfg->retry_delay_ms : 1000;
    m->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
    m->curl = curl_easy_init();
    if (oom || !m->curl) {
        api_mail_close(m);
        return KX_NOMEM;
    }
    *out = m;
    return KX_OK;
}

/* Options that stay the same for every message on the handle. */
static void set_common(api_mail *m)
{
    CURL *c = m->curl;

    curl_easy_setopt(c, CURLOPT_URL, m->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    /* smtps:// is TLS from the start; smtp:// upgrades with STARTTLS,
     * which must succeed where TLS is required (else the send fails with
     * CURLE_USE_SSL_FAILED) and is tried anyway towards a local MTA. */
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     (long)(m->tls_required ? CURLUSESSL_ALL
                                            : CURLUSESSL_TRY));
    if (m->cainfo)
        curl_easy_setopt(c, CURLOPT_CAINFO, m->cainfo);
    if (m->user) {
        curl_easy_setopt(c, CURLOPT_USERNAME, m->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, m->password);
    }
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, m);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, m);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, m->errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, m->timeout_ms);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

enum kx_status api_mail_send(api_mail *m, const char *from, const char *rcpt,
                             const char *msg, size_t len,
                             enum api_mail_outcome *outcome,
                             struct api_mail_reply *reply,
                             struct kx_error *err)
{
    struct curl_slist *to = NULL;
    char addr[512];
    enum kx_status st = KX_OK;

    memset(reply, 0, sizeof *reply);
    *outcome = API_MAIL_TEMPFAIL;
    snprintf(addr, sizeof addr, "<%s>", rcpt);
    if (!(to = curl_slist_append(NULL, addr)))
        return KX_NOMEM;
    snprintf(addr, sizeof addr, "<%s>", from);
    for (unsigned a = 1; a <= m->attempts; a++) {
        CURLcode rc;
        long code = 0;

        if (a > 1 && m->delay_ms)
            sleep_ms(m->delay_ms << (a - 2 > 10 ? 10 : a - 2));
        set_common(m);
        curl_easy_setopt(m->curl, CURLOPT_MAIL_FROM, addr);
        curl_easy_setopt(m->curl, CURLOPT_MAIL_RCPT, to);
        curl_easy_setopt(m->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
        m->data = msg;
        m->len = len;
        m->off = 0;
        m->errbuf[0] = '\0';
        m->last_reply[0] = '\0';
        m->last_cmd = CMD_NONE;
        m->quitting = 0;
        rc = curl_easy_perform(m->curl);
        curl_easy_getinfo(m->curl, CURLINFO_RESPONSE_CODE, &code);
        reply->attempts = a;
        reply->code = rc == CURLE_OK ? 250 : (int)code;
        snprintf(reply->text, sizeof reply->text, "%s",
                 m->last_reply[0] ? m->last_reply
                                  : m->errbuf[0] ? m->errbuf
                                                 : curl_easy_strerror(rc));
        if (rc == CURLE_OK) {
            *outcome = API_MAIL_SENT;
            break;
        }
        if (rc == CURLE_USE_SSL_FAILED) {
            st = kx_error_set(err, KX_UNAVAILABLE, "smtp",
                              "%s offers no STARTTLS, and TLS is required "
                              "%s (use smtps:// or a server with STARTTLS)",
                              m->url, m->user ? "with a password"
                                              : "beyond this machine");
            break;
        }
        if (rc == CURLE_LOGIN_DENIED || m->last_cmd == CMD_AUTH ||
            code == 530 || code == 535) {
            st = kx_error_set(err, KX_UNAUTHORIZED, "smtp",
                              "%s: authentication failed: %s", m->url,
                              reply->text);
            break;
        }
        if (code >= 500) {
            if (m->last_cmd == CMD_RCPT || m->last_cmd == CMD_DATA) {
                *outcome = API_MAIL_PERMFAIL;
                break;
            }
            if (m->last_cmd == CMD_MAIL) {
                st = kx_error_set(err, KX_BADINPUT, "from",
                                  "%s refused the sender %s: %s", m->url,
                                  addr, reply->text);
                break;
            }
            st = kx_error_set(err, KX_UNAVAILABLE, "smtp",
                              "%s refuses service: %s", m->url, reply->text);
            break;
        }
        if (code < 400) {
            /* No reply, a broken connection, a timeout, no safe TLS
             * channel: whether the server took the message is unknown or
             * it was never offered. Stop rather than risk a second copy. */
            reply->uncertain = m->last_cmd == CMD_DATA && m->off == m->len;
            st = kx_error_set(err, KX_UNAVAILABLE, "smtp", "%s: %s", m->url,
                              m->errbuf[0] ? m->errbuf
                                           : curl_easy_strerror(rc));
            break;
        }
        /* 4xx: try again after a pause. A server that keeps refusing to
         * even start a session (421 greeting) is down for everyone. */
        if (a == m->attempts &&
            (m->last_cmd == CMD_NONE || m->last_cmd == CMD_HELLO)) {
            st = kx_error_set(err, KX_UNAVAILABLE, "smtp",
                              "%s: %s", m->url, reply->text);
            break;
        }
    }
    curl_easy_setopt(m->curl, CURLOPT_MAIL_RCPT, NULL);
    curl_slist_free_all(to);
    return st;
}
