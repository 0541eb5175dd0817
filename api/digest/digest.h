/* digest.h - weekly match digests by email: the week's plan (which
 * (need, partner) pairs to propose), the messages each recipient gets, the
 * outbox that makes delivery once (at most one repeat per crash), and the
 * two functions the HTTP
 * server exposes: preview and one-click unsubscribe.
 *
 * Recipients, by key:
 *   expert:ID, academician:ID  the needs proposed to them, and to the
 *                              results they own (address: "email")
 *   society:ID                 the needs proposed to the society, to the
 *                              results it owns and to its members
 *                              (address: "contact")
 *   enterprise:ID              the partners proposed for each of its needs
 *                              (address: "email")
 *   liaison:REGION             the week's summary for a region: new needs,
 *                              proposals, pipeline moves (address: set by
 *                              `kxmatch digest liaison add`)
 * Every message is multipart/alternative (text/plain + text/html, UTF-8,
 * base64), with an RFC 2047 subject, List-Unsubscribe and
 * List-Unsubscribe-Post (RFC 8058) carrying the recipient's token.
 *
 * The plan. For every open, public need the matcher's best `top` partners
 * (experts, academicians, societies, results) scoring at least `threshold`
 * are candidates, except pairs already proposed in another week, pairs in
 * the brokering pipeline (whatever the stage; "declined" ones in
 * particular), partners in conflict (the matcher leaves them out), and
 * partners nobody can write to (no address, or digests switched off).
 * Closed, matched and confidential needs are not proposed to anyone.
 * Capacities per week: an expert's or academician's "capacity" field
 * (default 3; 0 never), society_capacity per society (default 5),
 * result_capacity per result (default 3; the owner is written to, and a
 * result does not use its owner's capacity). At most per_need partners per
 * need (default 5). Among all plans within those limits the one chosen
 * first gives every need that has a candidate at least one partner, as far
 * as capacities allow, and then has the highest total score (exactly:
 * matcher/assign.h).
 *
 * Tables (keys and values UTF-8; values JSON unless said otherwise).
 * STORE_DIGEST:
 *   plan:<week>                        the plan's summary: {"week",
 *                                      "created" (unix time), "nonce",
 *                                      options, "stats": {...},
 *                                      "new_needs": [{"need", "region",
 *                                      "confidential"}], "moves": [...]}
 *   plan:<week>:pair:<need>|<partner>  {"score", "recipient" (who hears
 *                                      about it on the partner side),
 *                                      "enterprise", "region"}
 *   pair:<need>|<partner>              the week it was proposed in (text)
 *   seen:<need>                        the week a need was first reported
 *                                      to liaisons as new (text)
 *   freq:<recipient>                   "weekly" or "off" (text; absent:
 *                                      weekly)
 *   token:<token>                      recipient key (text)
 *   rtoken:<recipient>                 its unsubscribe token: 32 hex digits
 *   liaison:<region>                   the liaison officers' address (text)
 * STORE_OUTBOX:
 *   <week>|<recipient>                 {"state": "planned" | "sent" |
 *                                      "failed" | "skipped", "to", "from",
 *                                      "subject", "message_id", "message"
 *                                      (the exact bytes sent), "text",
 *                                      "html", "attempts", "code" and
 *                                      "reason" (the server's last reply),
 *                                      "updated" (ISO 8601 UTC)}
 * STORE_PIPELINE (written by the HTTP API, pipeline.c; only read
 * here):
 *   <need key> <partner key>
 *   value: {"stage": "shortlisted" | "contacted" | "declined" |
 *   "agreement_signed", "updated": "2026-11-24T09:30:00Z" (or "at"; ISO
 *   8601 or unix seconds), ...}. Any entry keeps its pair out of plans
 *   ("declined" ones in particular); entries whose date falls in the
 *   planned week or the week before are the liaison summary's pipeline
 *   moves.
 *
 * Once, and at most one repeat per crash: `send` first writes every
 * message of the week to the outbox as "planned" (one transaction), then,
 * in key order, marks a message "sending" (committed), hands it to the
 * server and marks it "sent" in its own transaction right after the
 * server's 250. No SMTP client can do better across a crash: the server
 * may have taken the message in flight when the process died, or not. So
 * a re-run sends what is "planned" and sends again what it finds
 * "sending" (only the one message in flight when a run stopped can be),
 * with the same Message-ID so that mail clients drop the copy, and counts
 * it in `resent`. A connection lost after the whole message went out
 * leaves it "sending" for the same reason. A server that is down leaves
 * everything planned; a 4xx reply is retried with backoff and, if it
 * persists, leaves the message planned for the next run; a 5xx reply for
 * a recipient marks the message failed with the server's reason.
 *
 * A week's plan is final once its messages are in the outbox.
 */
#ifndef API_DIGEST_H
#define API_DIGEST_H

#include <stddef.h>
#include <time.h>

#include "kx.h"
#include "mail.h"
#include "match.h"
#include "store.h"
#include "taxo.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_object;

#define API_DIGEST_WEEK_MAX 16  /* "2026-W48" and its NUL, with room */
#define API_DIGEST_TOKEN_LEN 32 /* hex digits */

/* ---- weeks ------------------------------------------------------------ */

/* Checks an ISO 8601 week "YYYY-Www" (week 53 only in years that have
 * one) and gives the date of its Monday (*y, *m, *d may be NULL).
 * KX_BADINPUT with err otherwise. */
enum kx_status api_digest_week_parse(const char *week, int *y, int *m,
                                     int *d, struct kx_error *err);

/* The ISO week that contains t (local time), into buf (at least
 * API_DIGEST_WEEK_MAX bytes). */
void api_digest_week_of(time_t t, char *buf);

/* The week before week (which must be valid), into buf. */
void api_digest_week_prev(const char *week, char *buf);

/* ---- planning ----------------------------------------------------------- */

struct api_digest_plan_opts {
    const char *week;          /* NULL: the current week */
    unsigned per_need;         /* 0: 5 */
    double threshold;          /* < 0: 0.3 */
    unsigned top;              /* 0: 50 candidates asked per need */
    unsigned society_capacity; /* 0: 5 (per week) */
    unsigned result_capacity;  /* 0: 3 (per week) */
};

/* One way of choosing pairs, for the comparison in the report. */
struct api_digest_method {
    size_t pairs, covered;     /* pairs chosen; needs with at least one */
    double total, ms;          /* total score; time to solve */
};

struct api_digest_plan_report {
    char week[API_DIGEST_WEEK_MAX];
    size_t needs_open;         /* open, public needs considered */
    size_t needs_with;         /* of those, with at least one candidate */
    size_t candidates;         /* candidate pairs given to the solver */
    size_t partners;           /* partners among them */
    size_t skip_threshold, skip_proposed, skip_pipeline, skip_off,
        skip_noaddr;           /* pairs left out, by reason */
    size_t new_needs, moves;   /* for liaisons */
    struct api_digest_method greedy, score_only, exact; /* exact = plan */
    double ms_match, ms_total;
};

/* Plans week o->week: asks the matcher for every open public need, solves,
 * and stores the plan, replacing an earlier plan of that week. ms[0..nm)
 * are contexts over the same store, each used by one thread (nm >= 1; the
 * needs are shared out among them; the plan does not depend on nm).
 * KX_CONFLICT if the week's messages are already in the outbox;
 * KX_BADINPUT for a bad week or option. rep (may be NULL) gets the
 * figures. */
enum kx_status api_digest_plan(match_ctx *const *ms, size_t nm, store *st,
                               const struct api_digest_plan_opts *o,
                               struct api_digest_plan_report *rep,
                               struct kx_error *err);

/* The stored plan of week as JSON: the summary, plus "pairs": [{"need",
 * "partner", "score", "recipient"}] in key order. KX_NOTFOUND if there is
 * none. New reference, the caller's. */
enum kx_status api_digest_plan_get(store *st, const char *week,
                                   struct json_object **out,
                                   struct kx_error *err);

/* ---- messages ----------------------------------------------------------- */

struct api_digest_opts {
    const char *base_url;      /* links; NULL: "http://127.0.0.1:8080" */
    const char *from;          /* address; NULL: "kxmatch@localhost" */
    const char *from_name;     /* NULL: org_name */
    const char *org_name;      /* footers; NULL: API_ORG_NAME_DEFAULT */
    const char *org_short;     /* subjects' 【】; NULL: API_ORG_SHORT_DEFAULT */
};

/* Every recipient of week's plan that has something to hear, in key order,
 * as a JSON array of keys. KX_NOTFOUND without a plan. New reference. */
enum kx_status api_digest_recipients(store *st, const char *week,
                                     struct json_object **out,
                                     struct kx_error *err);

/* Someone other than the operator looking at a preview. Their preview
 * carries no unsubscribe token (links show API_DIGEST_TOKEN_REDACTED) and
 * no raw message (its base64 parts would carry the token); with may_read,
 * only the needs for which may_read(ctx, t, "need:ID") answers 1 are shown
 * (t is the preview's read transaction). */
struct api_digest_viewer {
    int (*may_read)(void *ctx, store_txn *t, const char *need);
    void *ctx;
};

#define API_DIGEST_TOKEN_REDACTED "redacted"

/* Exactly what `send` sends (or sent) recipient for week: the outbox copy
 * if there is one, else the message composed now from the plan (the same
 * bytes `send` would store, the records being unchanged).
 * {"recipient", "week", "state" ("not composed" | "planned" | "sent" |
 * "failed" | "skipped"), "frequency", "to", "subject", "message_id",
 * "text", "html", "message"}. With a viewer (see above): no "message",
 * "withheld" counts the items left out because may_read refused their
 * needs, and when it is not 0, text and html are composed now from the
 * plan without them (state and message_id still tell what was sent).
 * week NULL: the current week. KX_NOTFOUND (err says why) with no plan for
 * the week, or nothing for this recipient in it, or no address, or (with
 * no copy in the outbox) a recipient who switched the digest off;
 * KX_FORBIDDEN when may_read refuses every need of the message, or the
 * plan it was sent from is gone so that it cannot be checked; KX_BADINPUT
 * for a malformed key or week. Without a viewer it may create the
 * recipient's unsubscribe token. Checks no permission on the recipient:
 * the caller decides who may see whose digest. tx may be NULL (region
 * codes are shown instead of names). New reference, the caller's. */
enum kx_status api_digest_preview(store *st, const taxo *tx,
                                  const struct api_digest_opts *o,
                                  const struct api_digest_viewer *v,
                                  const char *recipient, const char *week,
                                  struct json_object **out,
                                  struct kx_error *err);

/* ---- outbox and delivery ------------------------------------------------ */

struct api_digest_counts {
    size_t composed;     /* newly written to the outbox as planned */
    size_t noaddr;       /* recipients without an address */
    size_t off;          /* recipients with digests switched off */
    size_t planned, sending, sent, failed, skipped; /* outbox states after
                                                     * the run */
    size_t resent;       /* in flight when a run stopped, so sent again:
                          * their recipients may have two copies */
    size_t delivered;    /* sent (or written) by this run */
    size_t deferred;     /* left planned by temporary failures */
    size_t failed_now;   /* failed in this run */
    double ms;
};

/* Writes every message of week to the outbox as "planned", unless already
 * there. KX_NOTFOUND without a plan. c (may be NULL) gets the counts. */
enum kx_status api_digest_compose(store *st, const taxo *tx,
                                  const struct api_digest_opts *o,
                                  const char *week,
                                  struct api_digest_counts *c,
                                  struct kx_error *err);

struct api_digest_send_opts {
    const char *from;            /* envelope sender; NULL: as composed */
    const struct api_mail_config *smtp; /* SMTP, or */
    const char *outbox_dir;      /* one .eml file per message instead */
};

/* Delivers the week's planned (and interrupted) messages (see the top of this file for
 * the guarantees). A recipient switched off since composing is marked
 * "skipped". Returns KX_OK when every message was tried (c says how many
 * were deferred or failed), KX_UNAVAILABLE if the server could not be
 * reached (the rest stay planned), KX_UNAUTHORIZED / KX_BADINPUT for a
 * refused login or sender, KX_IO for an outbox directory that cannot be
 * written. */
enum kx_status api_digest_send(store *st, const char *week,
                               const struct api_digest_send_opts *o,
                               struct api_digest_counts *c,
                               struct kx_error *err);

/* The outbox of week: {"week", "counts": {state: n}, "messages":
 * [{"recipient", "to", "state", "attempts", "reason", "updated"}]}.
 * New reference. */
enum kx_status api_digest_status(store *st, const char *week,
                                 struct json_object **out,
                                 struct kx_error *err);

/* ---- recipients' settings ----------------------------------------------- */

/* One-click unsubscribe: sets the frequency of the token's recipient to
 * "off". Idempotent. KX_NOTFOUND for an unknown token, KX_BADINPUT for one
 * that is not 32 hex digits. recipient_out (may be NULL, KX_KEY_MAX bytes)
 * gets whose it was. This is what GET/POST
 * /v1/digests/unsubscribe?token=T does. */
enum kx_status api_digest_unsubscribe(store *st, const char *token,
                                      char *recipient_out,
                                      struct kx_error *err);

/* What the unsubscribe link's page does with its token. */
enum api_digest_token_action {
    API_DIGEST_TOKEN_ASK,   /* only look: whose, and whether it is on */
    API_DIGEST_TOKEN_OFF,   /* switch the digest off (unsubscribe) */
    API_DIGEST_TOKEN_ON     /* switch it back on (resubscribe) */
};

/* The token's recipient into recipient_out (may be NULL, KX_KEY_MAX
 * bytes), whether its digest was on before into *was_on (may be NULL),
 * then act. Idempotent. KX_NOTFOUND for an unknown token, KX_BADINPUT for
 * one that is not 32 hex digits, KX_IO/KX_NOMEM from the store. */
enum kx_status api_digest_token_apply(store *st, const char *token,
                                      enum api_digest_token_action act,
                                      char *recipient_out, int *was_on,
                                      struct kx_error *err);

/* Sets recipient's frequency: "weekly", "fortnightly", "monthly" or
 * "off". The recipient must exist
 * (a record of a recipient kind, or a configured liaison region):
 * KX_NOTFOUND otherwise; KX_BADINPUT for another frequency. */
enum kx_status api_digest_frequency_set(store *st, const char *recipient,
                                        const char *freq,
                                        struct kx_error *err);

/* 1 if recipient's digests are on (the default), 0 if off. */
int api_digest_frequency_on(store_txn *t, const char *recipient);

/* 1 if freq is one of the frequencies below. */
int api_digest_frequency_known(const char *freq);

/* Recipient's frequency: "weekly" (the default), "fortnightly", "monthly"
 * or "off". Static. */
const char *api_digest_frequency(store_txn *t, const char *recipient);

/* 1 if recipient hears in ISO week `week`: every week when weekly, the
 * even weeks when fortnightly, the week whose Monday is one of a month's
 * first seven days when monthly; never when off. Proposals wait for the
 * recipient's week: a pair not proposed stays open for a later plan. */
int api_digest_frequency_in(store_txn *t, const char *recipient,
                            const char *week);

/* The recipient's unsubscribe token, created on first use, into buf
 * (API_DIGEST_TOKEN_LEN + 1 bytes). */
enum kx_status api_digest_token(store *st, const char *recipient, char *buf,
                                struct kx_error *err);

/* Sets (or replaces) the address of region's liaison officers. region must
 * be a code in tx; email a plain address. KX_BADINPUT otherwise. */
enum kx_status api_digest_liaison_set(store *st, const taxo *tx,
                                      const char *region, const char *email,
                                      struct kx_error *err);
/* Removes it; KX_NOTFOUND if there was none. */
enum kx_status api_digest_liaison_del(store *st, const char *region,
                                      struct kx_error *err);
/* {"region": email, ...}. New reference. */
enum kx_status api_digest_liaison_list(store *st, struct json_object **out);

/* ---- building blocks, exposed for the unit tests ------------------------ */

/* 1 if region code r lies in region code area (GB/T 2260: "370000" holds
 * "371602001", "371600" holds "371602", a code holds itself). */
int api_digest_region_in(const char *r, const char *area);

/* At most this many bytes of text in one header value (about 66 Chinese
 * characters), cut at a character boundary. */
#define API_DIGEST_HEADER_TEXT_MAX 200

/* The one way text from records (and settings) becomes a header value:
 * display names in From: and To:, Subject:. Cleans text with
 * api_digest_header_clean, then encodes it with api_digest_encode_words,
 * so that nothing the value decodes to can break or reorder a line. The
 * caller's to free(); NULL if out of memory. */
char *api_digest_header_value(const char *text);

/* The cleaning half of api_digest_header_value, as UTF-8 text:
 * - removed: C0 controls other than those below (U+0000-U+001F), DEL
 *   (U+007F), C1 controls other than NEL (U+0080-U+009F), and the
 *   bidirectional formatting characters (U+202A-U+202E embeddings and
 *   overrides, U+2066-U+2069 isolates, U+200E, U+200F, U+061C marks);
 * - whitespace: TAB, LF, VT, FF, CR, NEL (U+0085), LINE and PARAGRAPH
 *   SEPARATOR (U+2028, U+2029), SPACE and the Unicode spaces (U+00A0,
 *   U+1680, U+2000-U+200A, U+202F, U+205F, U+3000): each run becomes one
 *   ASCII space, none at either end;
 * - a byte that starts no well-formed UTF-8 character becomes U+FFFD;
 * - at most API_DIGEST_HEADER_TEXT_MAX bytes, whole characters.
 * text may be NULL (""). The caller's to free(); NULL if out of memory. */
char *api_digest_header_clean(const char *text);

/* RFC 2047 B-encoded words for UTF-8 text (each at most 64 characters,
 * never splitting a character), folded with CRLF SP; plain ASCII without
 * specials, at most 64 characters, is returned as it is. Encodes, never
 * cleans: header values made from record data come from
 * api_digest_header_value instead. The caller's to free(); NULL if out of
 * memory. */
char *api_digest_encode_words(const char *utf8);

/* Base64 of data in lines of 76 characters, each ending in CRLF. The
 * caller's to free(); NULL if out of memory. */
char *api_digest_base64_lines(const char *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
