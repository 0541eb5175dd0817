/* record.h - the kxmatch record format: parsing, validation and the
 * canonical JSON form that the store keeps. The format is a contract that
 * README.md documents; change both together. */
#ifndef RECORD_H
#define RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "kx.h"
#include "taxo.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_object;

enum kx_kind {
    KX_KIND_EXPERT = 0,
    KX_KIND_ACADEMICIAN,
    KX_KIND_SOCIETY,
    KX_KIND_ENTERPRISE,
    KX_KIND_NEED,
    KX_KIND_RESULT,
    KX_KIND_LAST
};

#define KX_ID_MAX 64            /* id: 1..64 of [A-Za-z0-9._-] */
#define KX_KEY_MAX 80           /* "academician:" + id + NUL fits */
#define KX_TEXT_MAX 65536       /* text: at most 64 KiB of UTF-8 */
#define KX_LINE_MAX (1u << 20)  /* one JSON line: at most 1 MiB */
#define KX_DEFAULT_CAPACITY 3
/* The numeric fields, all integers (README.md, record format): budget in
 * yuan, at most 10^15 so that any JSON reader holding numbers as doubles
 * (JavaScript) gets it exactly; capacity up to what the profile's i32
 * holds; trl a technology readiness level. */
#define KX_BUDGET_MAX 1000000000000000LL
#define KX_CAPACITY_MAX 2147483647
#define KX_TRL_MIN 1
#define KX_TRL_MAX 9

/* "expert", ...; NULL for an out-of-range kind. Static. */
const char *record_kind_name(enum kx_kind k);
/* The kind named s, or KX_KIND_LAST if none. */
enum kx_kind record_kind_parse(const char *s);

/* Splits "kind:id" into its parts; KX_BADINPUT (with err) if malformed:
 * unknown kind, bad id characters or length. kind_out/id_out may be NULL;
 * id_out must hold KX_ID_MAX + 1 bytes. */
enum kx_status record_key_parse(const char *key, enum kx_kind *kind_out,
                                char *id_out, struct kx_error *err);

/* 1 if id is 1..64 characters of [A-Za-z0-9._-]. */
int record_id_valid(const char *id);

/* E-mail addresses: the one rule for every address kxmatch keeps or sends
 * to (records' "email" and "contact", liaison addresses, the sender), an
 * RFC 5321 mailbox local@domain restricted to what every header and SMTP
 * command takes as it is:
 * - at most RECORD_EMAIL_MAX (254) characters, printable ASCII: no control
 *   character, no space, nothing non-ASCII; exactly one @;
 * - the local part 1..64 characters, a dot-atom (letters, digits and
 *   !#$%&'*+-/=?^_`{|}~, dots only between them) or a quoted string
 *   "..." of printable characters other than " and \ (no quoted pairs);
 * - the domain two or more dot-separated labels of 1..63 letters, digits
 *   and hyphens, no hyphen first or last, no trailing dot, a top-level
 *   label not all digits (or just "localhost", the default sender's);
 *   international domains as punycode (xn--...).
 *   Address literals ([192.0.2.1], [IPv6:...]) are refused. */
#define RECORD_EMAIL_MAX 254
#define RECORD_EMAIL_LOCAL_MAX 64
#define RECORD_EMAIL_LABEL_MAX 63

/* Checks s[0..len) against that rule: NULL if it holds, else a static
 * sentence naming the rule it breaks (for messages). s may be NULL. */
const char *record_email_check(const char *s, size_t len);

/* 1 if the NUL-terminated s passes record_email_check (NULL: 0). */
int record_email_valid(const char *s);

/* A parsed, validated record. Strings and arrays are borrowed from obj and
 * live as long as the record. Absent optional strings are NULL, absent
 * arrays have n == 0; null, "" and [] count as absent. Defaults are filled
 * in: a need's visibility "public" and status "open", a person's capacity 3
 * (other kinds 0). A deletion has only kind, id and deleted (lang NULL). */
struct kx_strs {
    const char **v;
    size_t n;
};

struct kx_record {
    enum kx_kind kind;
    char id[KX_ID_MAX + 1];
    char key[KX_KEY_MAX];     /* "kind:id" */
    int deleted;              /* "deleted": true */
    const char *name;
    const char *text;
    const char *lang;         /* "zh" or "en": given or detected */
    const char *region;
    const char *email;
    const char *updated;
    struct kx_strs tags, industries, disciplines;
    /* expert, academician */
    const char *org, *title, *academy;
    struct kx_strs roles, conflicts;
    int capacity;             /* default KX_DEFAULT_CAPACITY */
    /* society */
    const char *level, *contact;
    struct kx_strs members;
    /* enterprise */
    const char *size;
    int has_kexie;            /* -1 absent, 0, 1 */
    /* need */
    const char *enterprise, *visibility, *status, *deadline;
    int64_t budget;           /* yuan, 0..KX_BUDGET_MAX; -1 if absent */
    /* result */
    const char *owner;
    int trl;                  /* KX_TRL_MIN..KX_TRL_MAX; 0 if absent */

    struct json_object *obj;  /* canonical JSON, owned */
};

/* What a field's value looks like, for formats without JSON's types (a
 * spreadsheet's cells): kind and id are text. */
enum record_shape {
    RECORD_SHAPE_UNKNOWN = 0,  /* not a field of the record format */
    RECORD_SHAPE_TEXT,
    RECORD_SHAPE_LIST,         /* an array of strings (tags, codes, keys) */
    RECORD_SHAPE_INT,
    RECORD_SHAPE_BOOL
};
enum record_shape record_field_shape(const char *name);

/* Parses one JSON object (json[0..len), UTF-8) and validates it completely:
 * JSON syntax (numbers as written: see record_numbers_check), UTF-8, kind,
 * id, required fields, types, enumerations, text size, integer fields
 * (budget, capacity, trl: a JSON integer in the field's range, no
 * fraction or exponent), every code against t (t may be NULL to skip code
 * checks), reference syntax ("kind:id" of an allowed kind), unknown
 * fields (only x_* allowed).
 * A record with "deleted": true needs only kind and id.
 * Duplicate top-level keys are an error. On failure returns KX_BADINPUT
 * (or KX_TOOLARGE for oversized text/line) with err->field and err->msg
 * saying what was wrong and what was expected (byte offsets 0-based);
 * err->file/line are left for the caller. *out is the caller's
 * (record_free). */
enum kx_status record_parse(const char *json, size_t len, const taxo *t,
                            struct kx_record **out, struct kx_error *err);

/* Builds a record from an already-parsed object, with the same validation
 * as record_parse except what needs the text: duplicate keys, which json-c
 * has already dropped, and numbers as written (a caller that has the text
 * runs record_numbers_check on it first). An integer field still takes
 * only a json-c int in range, never a double. obj stays the caller's: the
 * record keeps its own copy. */
enum kx_status record_from_json(struct json_object *obj, const taxo *t,
                                struct kx_record **out, struct kx_error *err);

void record_free(struct kx_record *r);

/* Checks every number in the JSON text json[0..len) as written, since
 * json-c reads more than JSON and changes some of what it reads: "5.",
 * "00", "-01", NaN and Infinity are refused, and so is an integer outside
 * -2^63..2^64-1, which json-c would silently clamp. A bad number is
 * named by the top-level member it is in; the value of an integer field
 * (budget, capacity, trl) is refused with that field's rule. Returns KX_OK,
 * or KX_BADINPUT with err->field and err->msg (byte offsets 0-based).
 * Strings and brackets are followed, not checked: pair it with a JSON
 * parser. */
enum kx_status record_numbers_check(const char *json, size_t len,
                                    struct kx_error *err);

/* Checks that no object in the JSON text json[0..len) names a member
 * twice, at any depth ("a" and "\u0061" are the same name), since json-c
 * keeps the last and never says; and that no string or name is in single
 * quotes, which json-c takes even in strict mode. Run it on text a JSON
 * parser has accepted (it follows the structure, it does not check it).
 * KX_OK, KX_BADINPUT with err->field the duplicate name, or KX_NOMEM. */
enum kx_status record_dups_check(const char *json, size_t len,
                                 struct kx_error *err);

/* ---- profiles: what ranking reads of a candidate ----------------------
 *
 * A record's profile is a compact binary summary stored beside it (LMDB
 * "profiles"): kind, id, name, org, title, region, owner, status,
 * enterprise, visibility, capacity, trl, industries, disciplines,
 * conflicts, members. Everything else (text, tags, email, ...) is left
 * out, so reading a candidate costs no JSON parse. Layout (little-endian):
 * "KP1", kind u8, capacity i32, trl i32, then id and the eight strings
 * in that order as u16 length + bytes + NUL (length 0xffff: absent), then
 * the four lists as u16 count + that many strings. */

/* Encodes r's profile into a malloc'd buffer (*out, *len; free it).
 * KX_TOOLARGE if a string or list does not fit the u16 fields. */
enum kx_status record_profile_encode(const struct kx_record *r, char **out,
                                     size_t *len);

/* Builds a record holding only the profile's fields (text, tags, email
 * and obj are NULL; record_canonical gives NULL). Copies p, so *out does
 * not depend on p's lifetime. KX_CORRUPT if p is not a valid profile.
 * *out is the caller's (record_free). */
enum kx_status record_from_profile(const void *p, size_t len,
                                   struct kx_record **out);

/* The canonical serialisation stored in LMDB: compact JSON, fields in a
 * fixed order, "lang" filled in, defaults left out. Two records with the
 * same content serialise to the same bytes. Borrowed from r. Not safe from
 * two threads on the same record (json-c caches the string). */
const char *record_canonical(struct kx_record *r, size_t *len);

/* Every reference the record makes (need.enterprise, result.owner,
 * society.members, expert conflicts), as borrowed keys; returns the count
 * written (at most max). */
size_t record_refs(const struct kx_record *r, const char **out, size_t max);

#ifdef __cplusplus
}
#endif
#endif
