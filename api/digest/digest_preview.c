/* digest_preview.c - what a recipient's weekly message says: for the
 * operator exactly the bytes sent (or to be sent); for someone looking
 * through the API, the same message without the recipient's unsubscribe
 * token and without the needs they may not read. */
#include "digest_int.h"
#include "answer.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

/* Copies p into out keeping only the entries whose need v may read. */
static enum kx_status plan_filter(store_txn *t, const struct dplan *p,
                                  const struct api_digest_viewer *v,
                                  struct dplan *out)
{
    *out = *p;
    out->pairs = NULL;
    out->news = NULL;
    out->moves = NULL;
    out->npairs = out->nnews = out->nmoves = 0;
    if ((p->npairs && !(out->pairs = calloc(p->npairs, sizeof *p->pairs))) ||
        (p->nnews && !(out->news = calloc(p->nnews, sizeof *p->news))) ||
        (p->nmoves && !(out->moves = calloc(p->nmoves, sizeof *p->moves)))) {
        api_dplan_free(out);
        return KX_NOMEM;
    }
    for (size_t i = 0; i < p->npairs; i++)
        if (v->may_read(v->ctx, t, p->pairs[i].need))
            out->pairs[out->npairs++] = p->pairs[i];
    for (size_t i = 0; i < p->nnews; i++)
        if (v->may_read(v->ctx, t, p->news[i].need))
            out->news[out->nnews++] = p->news[i];
    for (size_t i = 0; i < p->nmoves; i++)
        if (v->may_read(v->ctx, t, p->moves[i].need))
            out->moves[out->nmoves++] = p->moves[i];
    return KX_OK;
}

/* The viewer's message into m, composed now with the token redacted: of
 * every need in p, or (with may_read) of the readable ones, *withheld
 * counting the items that left out. Without may_read and with an outbox
 * copy there is nothing to compose: the copy is shown. */
static enum kx_status viewer_compose(store_txn *t, const taxo *tx,
                                     const struct api_digest_opts *o,
                                     const struct api_digest_viewer *v,
                                     const struct dplan *p, int have_copy,
                                     const char *recipient, struct dmsg *m,
                                     size_t *withheld, struct kx_error *err)
{
    struct dplan fp;
    struct dmsg all;
    enum kx_status s;

    *withheld = 0;
    if (!v->may_read)
        return have_copy ? KX_OK
                         : api_dmsg_compose(t, tx, o, p, recipient,
                                            API_DIGEST_TOKEN_REDACTED, m, err);
    if ((s = api_dmsg_compose(t, tx, o, p, recipient,
                              API_DIGEST_TOKEN_REDACTED, &all, err)) != KX_OK)
        return s;
    if ((s = plan_filter(t, p, v, &fp)) == KX_OK) {
        s = api_dmsg_compose(t, tx, o, &fp, recipient,
                             API_DIGEST_TOKEN_REDACTED, m, err);
        if (s == KX_NOTFOUND)
            s = kx_error_set(err, KX_FORBIDDEN, "recipient",
                             "every need in %s's digest of week %s is one "
                             "you may not read", recipient, p->week);
        else if (s == KX_OK)
            *withheld = all.items - m->items;
        api_dplan_free(&fp);
    }
    api_dmsg_free(&all);
    return s;
}

/* s with the value of every "token=" parameter (unsubscribe links) and
 * of every "#t=" fragment (one-click answer links, answer.h) replaced by
 * API_DIGEST_TOKEN_REDACTED, or NULL if out of memory. Any token, not only
 * the recipient's current one: an old message may carry an older one. */
static char *redact(const char *s)
{
    static const struct {
        const char *param, *chars;
    } kinds[] = {{"token=", "0123456789abcdefABCDEF"},
                 {"#t=", "0123456789abcdef."}};
    struct kx_buf b = {0};

    for (;;) {
        const char *at = NULL;
        size_t k = 0;

        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            const char *f = strstr(s, kinds[i].param);
            if (f && (!at || f < at)) {
                at = f;
                k = i;
            }
        }
        if (!at)
            break;
        at += strlen(kinds[k].param);
        kx_buf_add(&b, s, (size_t)(at - s));
        kx_buf_puts(&b, API_DIGEST_TOKEN_REDACTED);
        s = at + strspn(at, kinds[k].chars);
    }
    kx_buf_puts(&b, s);
    return kx_buf_take(&b);
}

static void add_str(json_object *res, const char *name, const char *val)
{
    json_object_object_add(res, name, json_object_new_string(val));
}

/* The outbox copy's fields into res; redacted: its tokens replaced, and
 * without the raw message. */
static enum kx_status add_copy(json_object *res, json_object *e, int redacted)
{
    static const char *const fields[] = {"state", "to", "subject",
                                         "message_id", "text", "html",
                                         "message", "reason"};
    json_object *x;

    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        int body = strcmp(fields[i], "text") == 0 ||
                   strcmp(fields[i], "html") == 0;
        char *clean;

        if (!json_object_object_get_ex(e, fields[i], &x))
            continue;
        if (redacted && strcmp(fields[i], "message") == 0)
            continue;
        if (!redacted || !body) {
            json_object_object_add(res, fields[i], json_object_get(x));
            continue;
        }
        if (!(clean = redact(json_object_get_string(x))))
            return KX_NOMEM;
        add_str(res, fields[i], clean);
        free(clean);
    }
    return KX_OK;
}

enum kx_status api_digest_preview(store *st, const taxo *tx,
                                  const struct api_digest_opts *o,
                                  const struct api_digest_viewer *v,
                                  const char *recipient, const char *week_in,
                                  json_object **out, struct kx_error *err)
{
    char week[API_DIGEST_WEEK_MAX], key[KX_KEY_MAX + 32],
        token[API_DIGEST_TOKEN_LEN + 1];
    json_object *res = NULL, *e = NULL, *x;
    struct dplan p;
    struct dmsg m;
    store_txn *t = NULL;
    size_t withheld = 0;
    enum kx_status s;
    const char *freq;
    int on;

    *out = NULL;
    memset(&p, 0, sizeof p);
    memset(&m, 0, sizeof m);
    if ((s = api_digest_week_pick(week_in, week, err)) != KX_OK)
        return s;
    if (!recipient || (strncmp(recipient, "liaison:", 8) != 0 &&
                       record_key_parse(recipient, NULL, NULL, err) != KX_OK))
        return kx_error_set(err, KX_BADINPUT, "recipient",
                            "\"%s\" is not a recipient key (kind:id or "
                            "liaison:REGION)", recipient ? recipient : "");
    api_digest_outbox_key(key, sizeof key, week, recipient);
    {   /* the key of the answer links, so that the preview shows what will
         * be sent; a store opened read-only shows it without them */
        unsigned char k[API_ANSWER_KEY_LEN];
        (void)api_answer_key(st, k);
    }
    if ((s = store_txn_begin(st, 0, &t)) != KX_OK)
        return s;
    s = api_digest_kv_json(t, STORE_OUTBOX, key, &e);
    if (s == KX_NOTFOUND)
        s = KX_OK;
    on = api_digest_frequency_in(t, recipient, week);
    freq = api_digest_frequency(t, recipient);
    /* Nothing will be composed for someone who switched the digest off:
     * a preview must not pretend otherwise (a copy sent before is still
     * shown). */
    if (s == KX_OK && !e && !on)
        s = strcmp(freq, "off") == 0
                ? kx_error_set(err, KX_NOTFOUND, "recipient",
                               "%s has switched the weekly digest off, so no "
                               "message will be composed (kxmatch digest "
                               "frequency %s weekly switches it back on)",
                               recipient, recipient)
                : kx_error_set(err, KX_NOTFOUND, "recipient",
                               "%s hears %s, not in week %s: no message will "
                               "be composed for it", recipient, freq, week);
    /* A copy is shown as it is, unless some of it may have to be withheld:
     * then the plan it came from says which needs it shows. */
    if (s == KX_OK && (!e || (v && v->may_read))) {
        s = api_dplan_load(t, week, &p, err);
        if (s == KX_NOTFOUND && e)
            s = kx_error_set(err, KX_FORBIDDEN, "week",
                             "the plan of week %s is gone, so what %s's "
                             "message shows cannot be checked against what "
                             "you may read", week, recipient);
    }
    if (s == KX_OK && v)
        s = viewer_compose(t, tx, o, v, &p, e != NULL, recipient, &m,
                           &withheld, err);
    store_txn_abort(t);
    t = NULL;
    if (s != KX_OK)
        goto out;
    if (!v && !e) {
        /* The operator sees the very bytes send would store, token and
         * all; making the token may write, so outside the read above. */
        if ((s = api_digest_token(st, recipient, token, err)) != KX_OK)
            goto out;
        if ((s = store_txn_begin(st, 0, &t)) != KX_OK)
            goto out;
        s = api_dmsg_compose(t, tx, o, &p, recipient, token, &m, err);
        store_txn_abort(t);
        if (s != KX_OK)
            goto out;
    }
    if (!(res = json_object_new_object())) {
        s = KX_NOMEM;
        goto out;
    }
    add_str(res, "recipient", recipient);
    add_str(res, "week", week);
    add_str(res, "frequency", freq);
    if (e && withheld == 0) {
        s = add_copy(res, e, v != NULL);
    } else {
        if (!e) {
            add_str(res, "state", "not composed");
            add_str(res, "message_id", m.message_id);
        } else {
            static const char *const kept[] = {"state", "message_id",
                                               "reason"};
            for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
                if (json_object_object_get_ex(e, kept[i], &x))
                    json_object_object_add(res, kept[i], json_object_get(x));
        }
        add_str(res, "to", m.to);
        add_str(res, "subject", m.subject);
        add_str(res, "text", m.text);
        add_str(res, "html", m.html);
        if (!v)
            add_str(res, "message", m.raw);
    }
    if (v)
        json_object_object_add(res, "withheld",
                               json_object_new_int64((int64_t)withheld));
out:
    api_dmsg_free(&m);
    api_dplan_free(&p);
    json_object_put(e);
    if (s != KX_OK) {
        json_object_put(res);
        return s;
    }
    *out = res;
    return KX_OK;
}
