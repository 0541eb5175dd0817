/* digest_send.c - the outbox: composing the week's messages into it,
 * delivering them (SMTP or .eml files) and reporting on it. */
#include "digest_int.h"
#include "answer.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void iso_now(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_object *entry_new(const struct dmsg *m, const char *from)
{
    json_object *o = json_object_new_object();
    char now[32];

    iso_now(now, sizeof now);
    json_object_object_add(o, "state", json_object_new_string("planned"));
    json_object_object_add(o, "to", json_object_new_string(m->to));
    json_object_object_add(o, "from", json_object_new_string(from));
    json_object_object_add(o, "subject", json_object_new_string(m->subject));
    json_object_object_add(o, "message_id",
                           json_object_new_string(m->message_id));
    json_object_object_add(o, "message", json_object_new_string(m->raw));
    json_object_object_add(o, "text", json_object_new_string(m->text));
    json_object_object_add(o, "html", json_object_new_string(m->html));
    json_object_object_add(o, "attempts", json_object_new_int(0));
    json_object_object_add(o, "updated", json_object_new_string(now));
    return o;
}

enum kx_status api_digest_compose(store *st, const taxo *tx,
                                  const struct api_digest_opts *o,
                                  const char *week_in,
                                  struct api_digest_counts *c,
                                  struct kx_error *err)
{
    struct api_digest_counts cnt;
    char week[API_DIGEST_WEEK_MAX], **keys = NULL;
    const char *from = o && o->from ? o->from : DIGEST_DEFAULT_FROM;
    struct dplan p;
    store_txn *t = NULL;
    size_t n = 0;
    double t0 = now_ms();
    enum kx_status s;

    memset(&cnt, 0, sizeof cnt);
    memset(&p, 0, sizeof p);
    if ((s = api_digest_week_pick(week_in, week, err)) != KX_OK)
        return s;
    /* The key of the one-click answer links, made before the first. */
    {
        unsigned char k[API_ANSWER_KEY_LEN];
        if ((s = api_answer_key(st, k)) != KX_OK)
            return kx_error_set(err, s, "", "the answer links' key: %s",
                                kx_status_str(s));
    }
    if (!record_email_valid(from))
        return kx_error_set(err, KX_BADINPUT, "from",
                            "\"%s\" is not a plain e-mail address", from);
    if ((s = store_txn_begin(st, 1, &t)) != KX_OK)
        return s;
    if ((s = api_dplan_load(t, week, &p, err)) != KX_OK)
        goto out;
    if ((s = api_dplan_recipients(t, &p, &keys, &n)) != KX_OK)
        goto out;
    for (size_t i = 0; i < n && s == KX_OK; i++) {
        char key[KX_KEY_MAX + 32], token[API_DIGEST_TOKEN_LEN + 1];
        const void *v;
        size_t vl;
        struct dmsg m;
        json_object *e;

        api_digest_outbox_key(key, sizeof key, week, keys[i]);
        if (store_kv_get(t, STORE_OUTBOX, key, strlen(key), &v, &vl) == KX_OK)
            continue;
        if (!api_digest_frequency_in(t, keys[i], week)) {
            cnt.off++;
            continue;
        }
        if ((s = api_digest_token_ensure(t, keys[i], token)) != KX_OK)
            break;
        s = api_dmsg_compose(t, tx, o, &p, keys[i], token, &m, NULL);
        if (s == KX_NOTFOUND) {
            cnt.noaddr++;
            s = KX_OK;
            continue;
        }
        if (s != KX_OK)
            break;
        e = entry_new(&m, from);
        s = e ? api_digest_kv_put_json(t, STORE_OUTBOX, key, e) : KX_NOMEM;
        json_object_put(e);
        api_dmsg_free(&m);
        cnt.composed++;
    }
out:
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
    api_dplan_free(&p);
    if (s != KX_OK) {
        store_txn_abort(t);
        return s;
    }
    if ((s = store_txn_commit(t)) != KX_OK)
        return s;
    cnt.ms = now_ms() - t0;
    if (c)
        *c = cnt;
    return KX_OK;
}

/* ---- delivery ----------------------------------------------------------- */

/* Keys of the messages still to send: planned, or sending (in flight when
 * a run stopped). */
static int collect_unsent(void *ctx, const void *key, size_t klen,
                          const void *val, size_t vlen)
{
    struct kx_strv *kl = ctx;
    json_tokener *tok = json_tokener_new();
    json_object *o = tok ? json_tokener_parse_ex(tok, val, (int)vlen) : NULL;
    const char *state = api_digest_str(o, "state");

    json_tokener_free(tok);
    if (state && (strcmp(state, "planned") == 0 ||
                  strcmp(state, "sending") == 0))
        kx_strv_add(kl, key, klen);
    json_object_put(o);
    return kl->oom;
}

/* Records what became of one message, in its own transaction: the commit
 * is what makes a sent message stay sent. */
static enum kx_status entry_update(store *st, const char *key,
                                   const char *state,
                                   const struct api_mail_reply *r,
                                   const char *reason)
{
    store_txn *t = NULL;
    json_object *o = NULL, *a;
    char now[32];
    int attempts = 0;
    enum kx_status s;

    if ((s = store_txn_begin(st, 1, &t)) != KX_OK)
        return s;
    if ((s = api_digest_kv_json(t, STORE_OUTBOX, key, &o)) != KX_OK)
        goto out;
    iso_now(now, sizeof now);
    if (json_object_object_get_ex(o, "attempts", &a))
        attempts = json_object_get_int(a);
    json_object_object_add(o, "state", json_object_new_string(state));
    json_object_object_add(o, "attempts",
                           json_object_new_int(attempts +
                                               (r ? (int)r->attempts : 0)));
    json_object_object_add(o, "updated", json_object_new_string(now));
    if (r && r->code)
        json_object_object_add(o, "code", json_object_new_int(r->code));
    if (reason)
        json_object_object_add(o, "reason", json_object_new_string(reason));
    else
        json_object_object_del(o, "reason");
    s = api_digest_kv_put_json(t, STORE_OUTBOX, key, o);
out:
    json_object_put(o);
    if (s != KX_OK) {
        store_txn_abort(t);
        return s;
    }
    return store_txn_commit(t);
}

/* Writes msg as DIR/<week>_<kind>_<id>.eml, durably, replacing nothing
 * half-written: a temporary file, fsync, rename, fsync of the directory. */
static enum kx_status eml_write(const char *dir, const char *key,
                                const char *msg, struct kx_error *err)
{
    char path[4096], tmp[4200], name[KX_KEY_MAX + 32];
    size_t len = strlen(msg), off = 0;
    int fd, dfd;

    snprintf(name, sizeof name, "%s", key);
    for (char *c = name; *c; c++)
        if (*c == '|' || *c == ':')
            *c = '_';
    snprintf(path, sizeof path, "%s/%s.eml", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return kx_error_set(err, KX_IO, "outbox", "cannot write %s: %s", tmp,
                            strerror(errno));
    while (off < len) {
        ssize_t w = write(fd, msg + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return kx_error_set(err, KX_IO, "outbox", "cannot write %s: %s",
                                tmp, strerror(e));
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return kx_error_set(err, KX_IO, "outbox", "cannot write %s: %s",
                            path, strerror(e));
    }
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return KX_OK;
}

static int count_states(void *ctx, const void *key, size_t klen,
                        const void *val, size_t vlen)
{
    struct api_digest_counts *c = ctx;
    json_tokener *tok = json_tokener_new();
    json_object *o = tok ? json_tokener_parse_ex(tok, val, (int)vlen) : NULL;
    const char *s = api_digest_str(o, "state");

    (void)key, (void)klen;
    json_tokener_free(tok);
    if (s && strcmp(s, "planned") == 0)
        c->planned++;
    else if (s && strcmp(s, "sending") == 0)
        c->sending++;
    else if (s && strcmp(s, "sent") == 0)
        c->sent++;
    else if (s && strcmp(s, "failed") == 0)
        c->failed++;
    else if (s && strcmp(s, "skipped") == 0)
        c->skipped++;
    json_object_put(o);
    return 0;
}

/* Why a message from `from` to `to` may not go out, into buf (NULL if it
 * may): either address failing the record format's rule. */
static const char *addr_refused(const char *to, const char *from, char *buf,
                                size_t n)
{
    const char *who = "recipient", *a = to, *why;
    char shown[128];

    if (!(why = record_email_check(a, strlen(a)))) {
        who = "sender";
        a = from;
        if (!(why = record_email_check(a, strlen(a))))
            return NULL;
    }
    api_digest_addr_show(a, shown, sizeof shown);
    snprintf(buf, n, "not sent: %s address %s is not an e-mail address "
             "like name@example.org: %s", who, shown, why);
    return buf;
}

/* One sender per data directory: two runs could both see a message
 * planned and both send it. */
static enum kx_status send_lock(store *st, int *fd, struct kx_error *err)
{
    char path[4096];

    snprintf(path, sizeof path, "%s/digest-send.lock", store_dir(st));
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0)
        return kx_error_set(err, KX_IO, "", "cannot open %s: %s", path,
                            strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        close(*fd);
        *fd = -1;
        return kx_error_set(err, KX_LOCKED, "", "another `kxmatch digest "
                            "send` is running on %s", store_dir(st));
    }
    return KX_OK;
}

enum kx_status api_digest_send(store *st, const char *week_in,
                               const struct api_digest_send_opts *o,
                               struct api_digest_counts *c,
                               struct kx_error *err)
{
    struct api_digest_counts cnt;
    struct kx_strv kl = {0};
    char week[API_DIGEST_WEEK_MAX], prefix[32];
    api_mail *mail = NULL;
    store_txn *t = NULL;
    double t0 = now_ms();
    const char *why;
    int lock = -1;
    enum kx_status s;

    memset(&cnt, 0, sizeof cnt);
    if ((s = api_digest_week_pick(week_in, week, err)) != KX_OK)
        return s;
    if (!o->outbox_dir && !o->smtp)
        return kx_error_set(err, KX_BADINPUT, "smtp", "give an SMTP server "
                            "or an outbox directory");
    if (o->from && (why = record_email_check(o->from, strlen(o->from)))) {
        char shown[128];
        api_digest_addr_show(o->from, shown, sizeof shown);
        return kx_error_set(err, KX_BADINPUT, "from", "%s is not an e-mail "
                            "address like name@example.org: %s", shown, why);
    }
    if ((s = send_lock(st, &lock, err)) != KX_OK)
        return s;
    snprintf(prefix, sizeof prefix, "%s|", week);
    if ((s = store_txn_begin(st, 0, &t)) != KX_OK)
        goto out;
    s = store_kv_each(t, STORE_OUTBOX, prefix, strlen(prefix),
                      collect_unsent, &kl);
    store_txn_abort(t);
    t = NULL;
    if (s == KX_OK && kl.oom)
        s = KX_NOMEM;
    if (s != KX_OK || kl.n == 0)
        goto out;
    if (o->outbox_dir) {
        if (kx_mkdir_p(o->outbox_dir) != 0) {
            s = kx_error_set(err, KX_IO, "outbox", "cannot create %s: %s",
                             o->outbox_dir, strerror(errno));
            goto out;
        }
    } else if ((s = api_mail_open(o->smtp, &mail, err)) != KX_OK) {
        goto out;
    }
    for (size_t i = 0; i < kl.n; i++) {
        json_object *e = NULL;
        const char *state, *to, *from, *msg;
        const char *recipient = strchr(kl.v[i], '|') + 1;
        enum api_mail_outcome oc;
        struct api_mail_reply r;
        char reason[256];
        int on, interrupted;

        if ((s = store_txn_begin(st, 0, &t)) != KX_OK)
            break;
        s = api_digest_kv_json(t, STORE_OUTBOX, kl.v[i], &e);
        on = api_digest_frequency_on(t, recipient);
        store_txn_abort(t);
        t = NULL;
        if (s != KX_OK)
            break;
        state = api_digest_str(e, "state");
        to = api_digest_str(e, "to");
        msg = api_digest_str(e, "message");
        from = o->from ? o->from : api_digest_str(e, "from");
        if (!state || !to || !msg ||
            (strcmp(state, "planned") != 0 &&
             strcmp(state, "sending") != 0)) {
            json_object_put(e);
            continue;
        }
        interrupted = strcmp(state, "sending") == 0;
        /* The addresses again, as they stand in the outbox: an entry
         * composed before a rule tightened, or edited, is not sent. */
        if ((why = addr_refused(to, from ? from : DIGEST_DEFAULT_FROM,
                                reason, sizeof reason))) {
            json_object_put(e);
            if ((s = entry_update(st, kl.v[i], "failed", NULL, why)) !=
                KX_OK)
                break;
            cnt.failed_now++;
            continue;
        }
        if (!on) {
            json_object_put(e);
            if ((s = entry_update(st, kl.v[i], "skipped", NULL,
                                  "unsubscribed")) != KX_OK)
                break;
            continue;
        }
        if (o->outbox_dir) {
            s = eml_write(o->outbox_dir, kl.v[i], msg, err);
            memset(&r, 0, sizeof r);
            r.attempts = 1;
            oc = API_MAIL_SENT;
        } else {
            /* Committed before the server sees a byte: a crash from here
             * to the "sent" commit leaves the one message that may have
             * gone out marked, for the next run to send again knowingly. */
            if (!interrupted &&
                (s = entry_update(st, kl.v[i], "sending", NULL, NULL)) !=
                    KX_OK) {
                json_object_put(e);
                break;
            }
            s = api_mail_send(mail, from ? from : DIGEST_DEFAULT_FROM, to,
                              msg, strlen(msg), &oc, &r, err);
            /* Not offered at all (server down, login refused): as if
             * never tried. */
            if (s != KX_OK && !r.uncertain && !interrupted)
                entry_update(st, kl.v[i], "planned", NULL, NULL);
        }
        json_object_put(e);
        if (s != KX_OK)
            break; /* the server or the directory: nothing more can go */
        if (interrupted)
            cnt.resent++;
        /* Right after the server's acceptance, before anything else: the
         * shorter this gap, the smaller the chance of a second copy. */
        if (oc == API_MAIL_SENT) {
            s = entry_update(st, kl.v[i], "sent", &r, NULL);
            cnt.delivered++;
        } else if (oc == API_MAIL_PERMFAIL) {
            s = entry_update(st, kl.v[i], "failed", &r, r.text);
            cnt.failed_now++;
        } else {
            s = entry_update(st, kl.v[i], "planned", &r, r.text);
            cnt.deferred++;
        }
        if (s != KX_OK)
            break;
    }
out:
    api_mail_close(mail);
    kx_strv_free(&kl);
    if (lock >= 0)
        close(lock);
    if (store_txn_begin(st, 0, &t) == KX_OK) {
        store_kv_each(t, STORE_OUTBOX, prefix, strlen(prefix), count_states,
                      &cnt);
        store_txn_abort(t);
    }
    cnt.ms = now_ms() - t0;
    if (c)
        *c = cnt;
    return s;
}

/* ---- reporting ---------------------------------------------------------- */

struct status_ctx {
    json_object *msgs;
    struct api_digest_counts c;
};

static int status_row(void *ctx, const void *key, size_t klen,
                      const void *val, size_t vlen)
{
    struct status_ctx *sc = ctx;
    json_tokener *tok = json_tokener_new();
    json_object *o = tok ? json_tokener_parse_ex(tok, val, (int)vlen) : NULL,
                *row, *x;
    const char *bar = memchr(key, '|', klen);
    static const char *const fields[] = {"to", "state", "attempts", "code",
                                         "reason", "updated", "subject",
                                         "message_id"};

    json_tokener_free(tok);
    count_states(&sc->c, key, klen, val, vlen);
    if (!o || !bar)
        goto out;
    row = json_object_new_object();
    json_object_object_add(row, "recipient", json_object_new_string_len(
        bar + 1, (int)(klen - (size_t)(bar + 1 - (const char *)key))));
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (json_object_object_get_ex(o, fields[i], &x))
            json_object_object_add(row, fields[i], json_object_get(x));
    json_object_array_add(sc->msgs, row);
out:
    json_object_put(o);
    return 0;
}

enum kx_status api_digest_status(store *st, const char *week_in,
                                 json_object **out, struct kx_error *err)
{
    struct status_ctx sc;
    char week[API_DIGEST_WEEK_MAX], prefix[32];
    store_txn *t = NULL;
    json_object *o, *counts;
    enum kx_status s;

    *out = NULL;
    memset(&sc, 0, sizeof sc);
    if ((s = api_digest_week_pick(week_in, week, err)) != KX_OK)
        return s;
    snprintf(prefix, sizeof prefix, "%s|", week);
    if ((s = store_txn_begin(st, 0, &t)) != KX_OK)
        return s;
    sc.msgs = json_object_new_array();
    s = store_kv_each(t, STORE_OUTBOX, prefix, strlen(prefix), status_row,
                      &sc);
    store_txn_abort(t);
    if (s != KX_OK) {
        json_object_put(sc.msgs);
        return s;
    }
    o = json_object_new_object();
    counts = json_object_new_object();
    {
        const struct { const char *k; size_t v; } c[] = {
            {"planned", sc.c.planned}, {"sending", sc.c.sending},
            {"sent", sc.c.sent},
            {"failed", sc.c.failed}, {"skipped", sc.c.skipped}};
        for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
            json_object_object_add(counts, c[i].k,
                                   json_object_new_int64((int64_t)c[i].v));
    }
    json_object_object_add(o, "week", json_object_new_string(week));
    json_object_object_add(o, "counts", counts);
    json_object_object_add(o, "messages", sc.msgs);
    *out = o;
    return KX_OK;
}

enum kx_status api_digest_recipients(store *st, const char *week_in,
                                     json_object **out, struct kx_error *err)
{
    char week[API_DIGEST_WEEK_MAX], **keys = NULL;
    struct dplan p;
    store_txn *t = NULL;
    size_t n = 0;
    enum kx_status s;

    *out = NULL;
    if ((s = api_digest_week_pick(week_in, week, err)) != KX_OK)
        return s;
    if ((s = store_txn_begin(st, 0, &t)) != KX_OK)
        return s;
    s = api_dplan_load(t, week, &p, err);
    if (s == KX_OK) {
        s = api_dplan_recipients(t, &p, &keys, &n);
        api_dplan_free(&p);
    }
    store_txn_abort(t);
    if (s != KX_OK)
        return s;
    *out = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object_array_add(*out, json_object_new_string(keys[i]));
        free(keys[i]);
    }
    free(keys);
    return KX_OK;
}

/* ---- preview ------------------------------------------------------------ */
