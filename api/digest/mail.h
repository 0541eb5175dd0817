/* mail.h - sending finished RFC 5322 messages over SMTP with libcurl: one
 * connection reused for every message, STARTTLS when the server offers it
 * (smtp://) or implicit TLS (smtps://), AUTH when credentials are given,
 * and retry with backoff on temporary (4xx) failures.
 *
 * Credentials come from the caller (the CLI reads them from the
 * environment or a configuration file, never from its command line); this
 * module never prints or logs them.
 */
#ifndef API_MAIL_H
#define API_MAIL_H

#include <stddef.h>

#include "kx.h"

#ifdef __cplusplus
extern "C" {
#endif

struct api_mail_config {
    const char *url;            /* smtp://host[:port] or smtps://... */
    const char *user, *password; /* both NULL: no AUTH */
    const char *cainfo;         /* CA bundle for TLS; NULL: system's */
    unsigned attempts;          /* tries per message on 4xx (0: 3) */
    unsigned retry_delay_ms;    /* first backoff, doubled per retry (0:
                                   1000); API_MAIL_NO_DELAY for none */
    long timeout_ms;            /* per message (0: 30000) */
};

#define API_MAIL_NO_DELAY ((unsigned)-1)

typedef struct api_mail api_mail;

/* What became of one message. */
enum api_mail_outcome {
    API_MAIL_SENT = 0,   /* the server accepted it (250 after DATA) */
    API_MAIL_TEMPFAIL,   /* 4xx on every attempt: try again later */
    API_MAIL_PERMFAIL    /* 5xx for this recipient or message */
};

/* The server's last reply, for the outbox's record. */
struct api_mail_reply {
    int code;            /* 0 if the server never answered */
    char text[256];      /* its last reply line, "" if none */
    unsigned attempts;   /* tries made */
    int uncertain;       /* the whole message went out but no reply came:
                          * the server may have taken it */
};

/* Checks cfg (KX_BADINPUT for a URL that is not smtp:// or smtps://) and
 * prepares a handle; nothing is sent until the first message. cfg's
 * strings are copied. *out is the caller's (api_mail_close). */
enum kx_status api_mail_open(const struct api_mail_config *cfg,
                             api_mail **out, struct kx_error *err);

/* Closes the connection (QUIT) and frees m. NULL allowed. */
void api_mail_close(api_mail *m);

/* Sends msg[0..len) (CRLF line endings) from `from` to the one address
 * `rcpt`, retrying 4xx replies with backoff. KX_OK with *outcome saying
 * what happened to the message (reply filled in either way). Failures that
 * are not about this message stop the caller and leave it unsent:
 * KX_UNAVAILABLE (no connection, no reply, or the server refuses service),
 * KX_UNAUTHORIZED (AUTH failed or required), KX_BADINPUT (the sender
 * address was refused), KX_NOMEM; err says which. */
enum kx_status api_mail_send(api_mail *m, const char *from, const char *rcpt,
                             const char *msg, size_t len,
                             enum api_mail_outcome *outcome,
                             struct api_mail_reply *reply,
                             struct kx_error *err);

#ifdef __cplusplus
}
#endif
#endif
