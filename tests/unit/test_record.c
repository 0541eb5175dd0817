/* test_record.c - unit tests for record.c: rules, messages, canonical form. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "check.h"
#include "record.h"
#include "taxo.h"

#ifndef KX_TAXONOMY_DIR
#error "build with -DKX_TAXONOMY_DIR=\"path/to/datasets/taxonomy\""
#endif

static taxo *T;

/* ---- helpers ---------------------------------------------------------- */

static struct kx_record *parse_ok_at(const char *json, int line)
{
    struct kx_record *r = NULL;
    struct kx_error err;
    enum kx_status st;

    kx_error_clear(&err);
    st = record_parse(json, strlen(json), T, &r, &err);
    if (st != KX_OK) {
        fprintf(stderr, "%s:%d: record_parse failed: %s: field \"%s\": %s\n"
                "  input: %s\n", __FILE__, line, kx_status_str(st),
                err.field, err.msg, json);
        check_test_failed_ = 1;
    }
    return r;
}
#define parse_ok(json) parse_ok_at((json), __LINE__)

/* Parses json expecting status want with err.field == field and msg
 * containing msg. */
static void reject_at(const char *json, size_t len, enum kx_status want,
                      const char *field, const char *msg, int line)
{
    struct kx_record *r = (struct kx_record *)1;
    struct kx_error err;
    enum kx_status st;

    kx_error_clear(&err);
    st = record_parse(json, len, T, &r, &err);
    if (st != want || r != NULL || strcmp(err.field, field) != 0 ||
        !strstr(err.msg, msg)) {
        fprintf(stderr, "%s:%d: expected %s, field \"%s\", msg ~ \"%s\"\n"
                "  got %s, field \"%s\", msg \"%s\"\n  input: %.200s\n",
                __FILE__, line, kx_status_str(want), field, msg,
                kx_status_str(st), err.field, err.msg, json);
        check_test_failed_ = 1;
    }
    if (st == KX_OK && r != (struct kx_record *)1)
        record_free(r);
}
#define REJECT(json, field, msg)                                           \
    reject_at((json), strlen(json), KX_BADINPUT, (field), (msg), __LINE__)
#define REJECT_ST(json, st, field, msg)                                    \
    reject_at((json), strlen(json), (st), (field), (msg), __LINE__)

/* The canonical form of json, as a malloc'd string (or NULL). */
static char *canon_at(const char *json, int line)
{
    struct kx_record *r = parse_ok_at(json, line);
    char *s = NULL;

    if (r) {
        size_t len = 0;
        const char *c = record_canonical(r, &len);

        if (c) {
            s = strdup(c);
            if (strlen(c) != len) {
                fprintf(stderr, "%s:%d: canonical length mismatch\n",
                        __FILE__, line);
                check_test_failed_ = 1;
            }
        }
        record_free(r);
    }
    return s;
}

#define CHECK_CANON(json, want)                                            \
    do {                                                                   \
        char *c_ = canon_at((json), __LINE__);                             \
        CHECK_STR(c_, (want));                                             \
        free(c_);                                                          \
    } while (0)

/* Expert with one field added. */
#define EXPERT(extra)                                                      \
    "{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"张三\"" extra "}"
#define NEED(extra)                                                        \
    "{\"kind\":\"need\",\"id\":\"N1\",\"name\":\"需求\",\"enterprise\":"  \
    "\"enterprise:ENT1\"" extra "}"

/* ---- valid records of each kind -------------------------------------- */

static void test_expert(void)
{
    const char *refs[4];
    struct kx_record *r = parse_ok(
        "{\"kind\":\"expert\",\"id\":\"E0001\",\"name\":\"张三\","
        "\"text\":\"从事有机化学原料制造工艺研究二十年\","
        "\"tags\":[\"化工\",\"催化\"],\"industries\":[\"2614\",\"C\"],"
        "\"disciplines\":[\"B06\",\"B060101\"],\"region\":\"371602\","
        "\"email\":\"zhangsan@bzu.edu.cn\",\"updated\":\"2024-05-01\","
        "\"org\":\"滨州学院\",\"title\":\"教授\",\"roles\":[\"顾问\",\"\"],"
        "\"capacity\":5,\"conflicts\":[\"enterprise:ENT1\"]}");

    if (!r)
        return;
    CHECK_INT(r->kind, KX_KIND_EXPERT);
    CHECK_STR(r->id, "E0001");
    CHECK_STR(r->key, "expert:E0001");
    CHECK_INT(r->deleted, 0);
    CHECK_STR(r->name, "张三");
    CHECK(strstr(r->text, "有机化学") != NULL);
    CHECK_STR(r->lang, "zh");
    CHECK_INT(r->tags.n, 2);
    CHECK_STR(r->tags.v[1], "催化");
    CHECK_INT(r->industries.n, 2);
    CHECK_STR(r->industries.v[0], "2614");
    CHECK_INT(r->disciplines.n, 2);
    CHECK_STR(r->disciplines.v[1], "B060101");
    CHECK_STR(r->region, "371602");
    CHECK_STR(r->email, "zhangsan@bzu.edu.cn");
    CHECK_STR(r->updated, "2024-05-01");
    CHECK_STR(r->org, "滨州学院");
    CHECK_STR(r->title, "教授");
    CHECK_INT(r->roles.n, 2);
    CHECK_STR(r->roles.v[1], "");
    CHECK_INT(r->capacity, 5);
    CHECK_INT(r->conflicts.n, 1);
    CHECK_STR(r->conflicts.v[0], "enterprise:ENT1");
    CHECK(r->academy == NULL);
    CHECK_INT(r->has_kexie, -1);
    CHECK(r->budget < 0);
    CHECK_INT(r->trl, 0);
    CHECK(r->obj != NULL);
    CHECK_INT(record_refs(r, refs, 4), 1);
    CHECK_STR(refs[0], "enterprise:ENT1");
    record_free(r);
}

static void test_academician(void)
{
    struct kx_record *r = parse_ok(
        "{\"kind\":\"academician\",\"id\":\"A.1_x-2\",\"name\":\"Li Si\","
        "\"academy\":\"CAE\",\"org\":\"Tsinghua\",\"region\":\"110101\"}");

    if (!r)
        return;
    CHECK_INT(r->kind, KX_KIND_ACADEMICIAN);
    CHECK_STR(r->key, "academician:A.1_x-2");
    CHECK_STR(r->academy, "CAE");
    CHECK_INT(r->capacity, KX_DEFAULT_CAPACITY);
    CHECK_STR(r->lang, "en");
    CHECK_INT(r->conflicts.n, 0);
    CHECK(r->conflicts.v == NULL);
    record_free(r);
    /* academy is free text beyond CAS / CAE */
    r = parse_ok("{\"kind\":\"academician\",\"id\":\"A2\",\"name\":\"王五\","
                 "\"academy\":\"中国社会科学院\"}");
    if (r)
        CHECK_STR(r->academy, "中国社会科学院");
    record_free(r);
}

static void test_society(void)
{
    const char *refs[4];
    struct kx_record *r = parse_ok(
        "{\"kind\":\"society\",\"id\":\"S1\",\"name\":\"滨州市化工学会\","
        "\"level\":\"municipal\",\"members\":[\"expert:E1\","
        "\"academician:A1\",\"expert:E2\"],\"contact\":\"hx@bzkx.org.cn\","
        "\"region\":\"371600\"}");

    if (!r)
        return;
    CHECK_STR(r->level, "municipal");
    CHECK_INT(r->members.n, 3);
    CHECK_STR(r->contact, "hx@bzkx.org.cn");
    CHECK_INT(r->capacity, 0);
    CHECK_INT(record_refs(r, refs, 4), 3);
    CHECK_STR(refs[0], "expert:E1");
    CHECK_STR(refs[2], "expert:E2");
    /* max bounds what is written */
    CHECK_INT(record_refs(r, refs, 2), 2);
    CHECK_INT(record_refs(r, refs, 0), 0);
    record_free(r);
}

static void test_enterprise(void)
{
    const char *refs[2];
    struct kx_record *r = parse_ok(
        "{\"kind\":\"enterprise\",\"id\":\"ENT1\",\"name\":\"滨州化工有限公司\","
        "\"size\":\"medium\",\"has_kexie\":false,\"industries\":[\"2614\"],"
        "\"region\":\"371602001\"}");

    if (!r)
        return;
    CHECK_STR(r->size, "medium");
    CHECK_INT(r->has_kexie, 0);
    CHECK_STR(r->region, "371602001");
    CHECK_INT(record_refs(r, refs, 2), 0);
    record_free(r);
    r = parse_ok("{\"kind\":\"enterprise\",\"id\":\"ENT2\",\"name\":\"X\","
                 "\"has_kexie\":true}");
    if (r)
        CHECK_INT(r->has_kexie, 1);
    record_free(r);
}

static void test_need(void)
{
    const char *refs[2];
    struct kx_record *r = parse_ok(
        "{\"kind\":\"need\",\"id\":\"N1\",\"name\":\"废水处理工艺改进\","
        "\"enterprise\":\"enterprise:ENT1\",\"visibility\":\"confidential\","
        "\"status\":\"matched\",\"budget\":500000,"
        "\"deadline\":\"2024-12-31\",\"industries\":[\"26\"]}");

    if (!r)
        return;
    CHECK_STR(r->enterprise, "enterprise:ENT1");
    CHECK_STR(r->visibility, "confidential");
    CHECK_STR(r->status, "matched");
    CHECK_INT(r->budget, 500000);
    CHECK_STR(r->deadline, "2024-12-31");
    CHECK_INT(record_refs(r, refs, 2), 1);
    CHECK_STR(refs[0], "enterprise:ENT1");
    record_free(r);
    /* defaults are filled in the struct, left out of the JSON */
    r = parse_ok(NEED(""));
    if (!r)
        return;
    CHECK_STR(r->visibility, "public");
    CHECK_STR(r->status, "open");
    CHECK_INT(r->budget, -1);
    CHECK(r->deadline == NULL);
    record_free(r);
}

static void test_result(void)
{
    const char *refs[2];
    struct kx_record *r = parse_ok(
        "{\"kind\":\"result\",\"id\":\"R1\",\"name\":\"一种催化剂\","
        "\"owner\":\"society:S1\",\"trl\":6}");

    if (!r)
        return;
    CHECK_STR(r->owner, "society:S1");
    CHECK_INT(r->trl, 6);
    CHECK_INT(record_refs(r, refs, 2), 1);
    CHECK_STR(refs[0], "society:S1");
    record_free(r);
    r = parse_ok("{\"kind\":\"result\",\"id\":\"R2\",\"name\":\"x\","
                 "\"owner\":\"academician:A1\",\"trl\":1}");
    record_free(r);
    r = parse_ok("{\"kind\":\"result\",\"id\":\"R3\",\"name\":\"x\","
                 "\"owner\":\"expert:E1\",\"trl\":9}");
    record_free(r);
}

/* ---- rules, one by one ------------------------------------------------ */

static void test_kind_and_id(void)
{
    char buf[256];

    REJECT("{\"id\":\"E1\",\"name\":\"x\"}", "kind",
           "required field \"kind\" is missing");
    REJECT("{\"kind\":\"person\",\"id\":\"E1\",\"name\":\"x\"}", "kind",
           "unknown kind \"person\" (expected one of expert, academician, "
           "society, enterprise, need, result)");
    REJECT("{\"kind\":3,\"id\":\"E1\",\"name\":\"x\"}", "kind",
           "expected a string, got 3");
    REJECT("{\"kind\":\"Expert\",\"id\":\"E1\",\"name\":\"x\"}", "kind",
           "unknown kind \"Expert\"");
    REJECT("{\"kind\":\"expert\",\"name\":\"x\"}", "id",
           "required field \"id\" is missing");
    REJECT("{\"kind\":\"expert\",\"id\":\"E 1\",\"name\":\"x\"}", "id",
           "invalid id \"E 1\" (expected 1-64 characters of A-Z, a-z, 0-9");
    REJECT("{\"kind\":\"expert\",\"id\":\"\",\"name\":\"x\"}", "id",
           "invalid id \"\"");
    REJECT("{\"kind\":\"expert\",\"id\":\"E:1\",\"name\":\"x\"}", "id",
           "invalid id");
    REJECT("{\"kind\":\"expert\",\"id\":\"专家1\",\"name\":\"x\"}", "id",
           "invalid id");
    REJECT("{\"kind\":\"expert\",\"id\":7,\"name\":\"x\"}", "id",
           "expected a string, got 7");
    /* 64 characters pass, 65 do not */
    snprintf(buf, sizeof buf, "{\"kind\":\"expert\",\"id\":\"%s\",\"name\":"
             "\"x\"}", "0123456789012345678901234567890123456789012345678901"
             "234567890123");
    record_free(parse_ok(buf));
    snprintf(buf, sizeof buf, "{\"kind\":\"expert\",\"id\":\"%s\",\"name\":"
             "\"x\"}", "0123456789012345678901234567890123456789012345678901"
             "2345678901234");
    REJECT(buf, "id", "invalid id");
}

static void test_name(void)
{
    REJECT("{\"kind\":\"expert\",\"id\":\"E1\"}", "name",
           "required field \"name\" is missing");
    REJECT("{\"kind\":\"expert\",\"id\":\"E1\",\"name\":null}", "name",
           "required field \"name\" is missing");
    REJECT("{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"\"}", "name",
           "expected a non-empty string, got \"\"");
    REJECT("{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\" \\t\"}", "name",
           "expected a non-empty string");
    REJECT("{\"kind\":\"expert\",\"id\":\"E1\",\"name\":[\"x\"]}", "name",
           "expected a non-empty string, got [\"x\"]");
    REJECT("{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"a\\u0000b\"}",
           "name", "NUL character (\\u0000) at byte 1");
}

static void test_text(void)
{
    size_t big = KX_TEXT_MAX + 1, n;
    const char *head = "{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"x\","
                       "\"text\":\"";
    char *buf = malloc(strlen(head) + big + 8);
    struct kx_record *r;

    if (!buf)
        return;
    n = strlen(head);
    memcpy(buf, head, n);
    memset(buf + n, 'a', big);
    strcpy(buf + n + big, "\"}");
    REJECT_ST(buf, KX_TOOLARGE, "text",
              "text is 65537 bytes; at most 65536 bytes are allowed");
    /* exactly the limit is fine */
    strcpy(buf + n + big - 1, "\"}");
    r = parse_ok(buf);
    if (r)
        CHECK_INT(strlen(r->text), KX_TEXT_MAX);
    record_free(r);
    free(buf);
    REJECT(EXPERT(",\"text\":42"), "text", "expected a string, got 42");
    /* "" is the same as no text */
    r = parse_ok(EXPERT(",\"text\":\"\""));
    if (r)
        CHECK(r->text == NULL);
    record_free(r);
}

static void test_tags(void)
{
    REJECT(EXPERT(",\"tags\":\"化工\""), "tags",
           "expected an array of strings, got \"化工\"");
    REJECT(EXPERT(",\"tags\":[\"a\",\"\"]"), "tags[1]",
           "expected a non-empty string, got \"\"");
    REJECT(EXPERT(",\"tags\":[3]"), "tags[0]",
           "expected a non-empty string, got 3");
    REJECT(EXPERT(",\"roles\":[\"a\",null]"), "roles[1]",
           "expected a string, got null");
}

static void test_codes(void)
{
    struct kx_record *r = NULL;
    struct kx_error err;

    REJECT(EXPERT(",\"industries\":[\"2614\",\"2699x\"]"), "industries[1]",
           "unknown GB/T 4754-2017 industry code \"2699x\"");
    REJECT(EXPERT(",\"industries\":[\"9999\"]"), "industries[0]",
           "unknown GB/T 4754-2017 industry code \"9999\"");
    REJECT(EXPERT(",\"industries\":[\"0170\"]"), "industries[0]",
           "unknown GB/T 4754-2017 industry code");
    REJECT(EXPERT(",\"industries\":[26]"), "industries[0]",
           "expected a GB/T 4754-2017 industry code (a string), got 26");
    REJECT(EXPERT(",\"industries\":\"26\""), "industries",
           "expected an array of GB/T 4754-2017 industry code");
    REJECT(EXPERT(",\"disciplines\":[\"B06\",\"Z99\"]"), "disciplines[1]",
           "unknown NSFC discipline code \"Z99\"");
    REJECT(EXPERT(",\"disciplines\":[\"B0699\"]"), "disciplines[0]",
           "unknown NSFC discipline code \"B0699\"");
    REJECT(EXPERT(",\"region\":\"371699\""), "region",
           "unknown GB/T 2260 region code \"371699\" (expected 6 digits, "
           "or 9 for a township)");
    REJECT(EXPERT(",\"region\":\"3716\""), "region",
           "unknown GB/T 2260 region code \"3716\"");
    REJECT(EXPERT(",\"region\":371602"), "region",
           "expected a GB/T 2260 region code (a string), got 371602");
    /* every level of every taxonomy */
    r = parse_ok(EXPERT(",\"industries\":[\"C\",\"26\",\"261\",\"2614\","
                        "\"019\",\"0190\"],\"disciplines\":[\"B06\","
                        "\"B0601\",\"B060101\"]"));
    record_free(r);
    record_free(parse_ok(EXPERT(",\"region\":\"370000\"")));
    record_free(parse_ok(EXPERT(",\"region\":\"371600\"")));
    record_free(parse_ok(EXPERT(",\"region\":\"371602001\"")));

    /* without a taxonomy only the shape is checked */
    r = NULL;
    kx_error_clear(&err);
    CHECK_INT(record_parse(EXPERT(",\"industries\":[\"9999\"],"
                                  "\"region\":\"999999\"")
                           , strlen(EXPERT(",\"industries\":[\"9999\"],"
                                           "\"region\":\"999999\"")),
                           NULL, &r, &err), KX_OK);
    record_free(r);
    r = NULL;
    CHECK_INT(record_parse(EXPERT(",\"industries\":[\"2699x\"]"),
                           strlen(EXPERT(",\"industries\":[\"2699x\"]")),
                           NULL, &r, &err), KX_BADINPUT);
    CHECK_STR(err.field, "industries[0]");
    CHECK(r == NULL);
}

static void test_lang(void)
{
    struct kx_record *r;

    REJECT(EXPERT(",\"lang\":\"fr\""), "lang",
           "expected one of zh, en, got \"fr\"");
    REJECT(EXPERT(",\"lang\":\"ZH\""), "lang", "expected one of zh, en");
    /* detected from name and text when absent */
    r = parse_ok("{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"John Smith\","
                 "\"text\":\"catalysis and process engineering\"}");
    if (r)
        CHECK_STR(r->lang, "en");
    record_free(r);
    r = parse_ok("{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"John Smith\","
                 "\"text\":\"长期从事催化与化工过程工程研究\"}");
    if (r)
        CHECK_STR(r->lang, "zh");
    record_free(r);
    /* given wins over detection */
    r = parse_ok(EXPERT(",\"lang\":\"en\""));
    if (r)
        CHECK_STR(r->lang, "en");
    record_free(r);
    CHECK_CANON(EXPERT(""), "{\"kind\":\"expert\",\"id\":\"E1\","
                            "\"name\":\"张三\",\"lang\":\"zh\"}");
}

static void test_email(void)
{
    struct kx_record *r;

    REJECT(EXPERT(",\"email\":\"zhangsan\""), "email",
           "expected an e-mail address like name@example.org, got "
           "\"zhangsan\"");
    REJECT(EXPERT(",\"email\":\"a@b\""), "email", "expected an e-mail");
    REJECT(EXPERT(",\"email\":\"a@@b.cn\""), "email", "expected an e-mail");
    REJECT(EXPERT(",\"email\":\"a@b@c.cn\""), "email", "expected an e-mail");
    REJECT(EXPERT(",\"email\":\"@b.cn\""), "email", "expected an e-mail");
    REJECT(EXPERT(",\"email\":\"a@.cn\""), "email", "expected an e-mail");
    REJECT(EXPERT(",\"email\":\"a@b.\""), "email", "expected an e-mail");
    REJECT(EXPERT(",\"email\":\"a b@c.cn\""), "email", "expected an e-mail");
    REJECT(EXPERT(",\"email\":1"), "email",
           "expected an e-mail address, got 1");
    r = parse_ok(EXPERT(",\"email\":\"a.b+c@mail.bzu.edu.cn\""));
    record_free(r);
}

/* RFC 5321 mailboxes: every address field of every kind, with the field
 * and the rule broken in the message. */
static void test_email_mailbox(void)
{
    char buf[1024], local[80], label[80], longest[400];
    struct kx_record *r;
    static const struct { const char *addr, *rule; } bad[] = {
        {"zhangsan.bzu.edu.cn", "has no @"},
        {"a@b@c.cn", "more than one @"},
        {"a@@b.cn", "more than one @"},
        {"a b@c.cn", "holds a space"},
        {" a@c.cn", "holds a space"},
        {"a@c.cn ", "holds a space"},
        {"a\\r\\n@c.cn", "control character"},
        {"a@c.cn\\r\\nBcc: x@y.cn", "control character"},
        {"a\\t@c.cn", "control character"},
        {"a\\u007f@c.cn", "control character"},
        {"a\\u0085@c.cn", "non-ASCII"},
        {"张@c.cn", "non-ASCII"},
        {"a@滨州.cn", "punycode"},
        {"@c.cn", "local part before the @ is empty"},
        {".a@c.cn", "may not begin or end with a dot"},
        {"a.@c.cn", "may not begin or end with a dot"},
        {"a..b@c.cn", "two dots in a row"},
        {"a(b)@c.cn", "may hold only letters"},
        {"a<b>@c.cn", "may hold only letters"},
        {"a,b@c.cn", "may hold only letters"},
        {"\\\"a\\\\b\\\"@c.cn", "may not hold"},
        {"\\\"\\\"@c.cn", "at least one character"},
        {"a@", "domain after the @ is empty"},
        {"a@.c.cn", "empty label"},
        {"a@b..cn", "empty label"},
        {"a@b.cn.", "may not end with a dot"},
        {"a@b", "at least two labels"},
        {"a@-b.cn", "begin or end with a hyphen"},
        {"a@b-.cn", "begin or end with a hyphen"},
        {"a@b_c.cn", "letters, digits and hyphens"},
        {"a@[192.0.2.1]", "address literals"},
        {"a@[IPv6:2001:db8::1]", "address literals"},
        {"a@192.0.2.1", "top-level domain is all digits"},
    };
    static const char *const good[] = {
        "zhang.san@bzu.edu.cn",
        "zhang+digest@bzu.edu.cn",            /* plus-addressing */
        "a@mail.chem.bzu.example.cn",          /* subdomains */
        "x@xn--fiqs8s.xn--55qx5d.cn",          /* IDN as punycode */
        "O'Brien-2_x@Example.ORG",
        "!#$%&'*+-/=?^_`{|}~@b.cn",
        "\\\"john..doe\\\"@b.cn",              /* quoted, restricted */
        "a@1b.cn",
        "a@b.c0",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(buf, sizeof buf, EXPERT(",\"email\":\"%s\""), bad[i].addr);
        reject_at(buf, strlen(buf), KX_BADINPUT, "email", bad[i].rule,
                  __LINE__);
        reject_at(buf, strlen(buf), KX_BADINPUT, "email",
                  "expected an e-mail address like name@example.org, got ",
                  __LINE__);
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(buf, sizeof buf, EXPERT(",\"email\":\"%s\""), good[i]);
        r = parse_ok_at(buf, __LINE__);
        record_free(r);
    }
    /* the limits: 64 before the @, 63 a label, 254 in all */
    memset(local, 'l', 64);
    local[64] = '\0';
    snprintf(buf, sizeof buf, EXPERT(",\"email\":\"%s@b.cn\""), local);
    r = parse_ok(buf);
    record_free(r);
    snprintf(buf, sizeof buf, EXPERT(",\"email\":\"%sl@b.cn\""), local);
    REJECT(buf, "email", "local part before the @ is longer than 64");
    memset(label, 'd', 63);
    label[63] = '\0';
    snprintf(buf, sizeof buf, EXPERT(",\"email\":\"a@%s.cn\""), label);
    r = parse_ok(buf);
    record_free(r);
    snprintf(buf, sizeof buf, EXPERT(",\"email\":\"a@%sd.cn\""), label);
    REJECT(buf, "email", "label is longer than 63");
    /* 64 + 1 + 63.63.61 = 254, then one more */
    snprintf(longest, sizeof longest, "%.64s@%.63s.%.63s.%.61s", local,
             label, label, label);
    CHECK_INT(strlen(longest), 254);
    CHECK(record_email_valid(longest));
    snprintf(buf, sizeof buf, EXPERT(",\"email\":\"%s\""), longest);
    r = parse_ok(buf);
    record_free(r);
    longest[253] = '\0';
    strcat(longest, "dd");
    CHECK_INT(strlen(longest), 255);
    snprintf(buf, sizeof buf, EXPERT(",\"email\":\"%s\""), longest);
    REJECT(buf, "email", "longer than 254 characters");
    /* the other address fields: academicians', enterprises', societies' */
    REJECT("{\"kind\":\"academician\",\"id\":\"A1\",\"name\":\"院士\","
           "\"email\":\"a@b.cn.\"}", "email", "may not end with a dot");
    REJECT("{\"kind\":\"enterprise\",\"id\":\"C1\",\"name\":\"企业\","
           "\"email\":\"a@b..cn\"}", "email", "empty label");
    REJECT("{\"kind\":\"society\",\"id\":\"S1\",\"name\":\"学会\","
           "\"contact\":\"office@[10.0.0.1]\"}", "contact",
           "address literals");
    REJECT("{\"kind\":\"society\",\"id\":\"S1\",\"name\":\"学会\","
           "\"contact\":\"office\\r\\n@bzkx.cn\"}", "contact",
           "control character");
    /* the function itself, as digests call it */
    CHECK(record_email_check("a@b.cn", 6) == NULL);
    CHECK(record_email_check("a@b.cn\0x", 8) != NULL);  /* NUL inside */
    CHECK(record_email_check(NULL, 0) != NULL);
    CHECK(record_email_check("", 0) != NULL);
    CHECK(record_email_valid("kxmatch@localhost"));
    CHECK(!record_email_valid("kxmatch@localhost2"));
    CHECK(!record_email_valid(NULL));
}

static void test_dates(void)
{
    static const char *const good[] = {
        "2024-05-01", "2024-02-29", "2000-02-29", "2024-05-01T08:30",
        "2024-05-01T08:30:59", "2024-05-01T08:30:00Z",
        "2024-05-01T08:30+08:00", "2024-05-01T23:59:59-05:30",
    };
    char buf[256];
    size_t i;

    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(buf, sizeof buf, EXPERT(",\"updated\":\"%s\""), good[i]);
        record_free(parse_ok(buf));
    }
    REJECT(EXPERT(",\"updated\":\"2024-13-01\""), "updated",
           "month 13 is out of range (01-12) in \"2024-13-01\"");
    REJECT(EXPERT(",\"updated\":\"2023-02-29\""), "updated",
           "day 29 is out of range for 2023-02");
    REJECT(EXPERT(",\"updated\":\"1900-02-29\""), "updated",
           "day 29 is out of range for 1900-02");
    REJECT(EXPERT(",\"updated\":\"2024-04-31\""), "updated",
           "day 31 is out of range");
    REJECT(EXPERT(",\"updated\":\"2024-04-00\""), "updated",
           "day 00 is out of range");
    REJECT(EXPERT(",\"updated\":\"0000-01-01\""), "updated", "year 0000");
    REJECT(EXPERT(",\"updated\":\"2024-05-01T24:00\""), "updated",
           "time 24:00 is out of range");
    REJECT(EXPERT(",\"updated\":\"2024-05-01T08:60:00\""), "updated",
           "time 08:60:00 is out of range");
    REJECT(EXPERT(",\"updated\":\"2024-05-01T08:30+24:00\""), "updated",
           "UTC offset +24:00 is out of range");
    REJECT(EXPERT(",\"updated\":\"2024-05-01 08:30\""), "updated",
           "expected YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][Z|+hh:mm|-hh:mm], "
           "got \"2024-05-01 08:30\"");
    REJECT(EXPERT(",\"updated\":\"2024-5-1\""), "updated", "expected YYYY");
    REJECT(EXPERT(",\"updated\":\"2024-05-01T08:30:00.5Z\""), "updated",
           "expected YYYY");
    REJECT(EXPERT(",\"updated\":\"2024-05-01T08:30:00z\""), "updated",
           "expected YYYY");
    REJECT(EXPERT(",\"updated\":\"2024-05-01T08:30+0800\""), "updated",
           "expected YYYY");
    REJECT(EXPERT(",\"updated\":20240501"), "updated",
           "expected an ISO 8601 date or date-time, got 20240501");
    REJECT(NEED(",\"deadline\":\"2024-06-31\""), "deadline",
           "day 31 is out of range for 2024-06");
    REJECT(NEED(",\"deadline\":\"2024-06-01T00:00\""), "deadline",
           "expected YYYY-MM-DD, got \"2024-06-01T00:00\"");
}

static void test_person_fields(void)
{
    REJECT(EXPERT(",\"capacity\":\"three\""), "capacity",
           "expected an integer from 0 to 2147483647 (matches per week), "
           "got \"three\"");
    REJECT(EXPERT(",\"capacity\":-1"), "capacity",
           "expected an integer from 0 to 2147483647 (matches per week), "
           "got -1");
    REJECT(EXPERT(",\"capacity\":2.5"), "capacity", "got 2.5");
    REJECT(EXPERT(",\"capacity\":99999999999"), "capacity",
           "got 99999999999");
    REJECT(EXPERT(",\"conflicts\":[\"expert:E2\"]"), "conflicts[0]",
           "expected a key of kind enterprise, got \"expert:E2\"");
    REJECT(EXPERT(",\"conflicts\":[\"ENT1\"]"), "conflicts[0]",
           "expected a key \"kind:id\", got \"ENT1\"");
    REJECT(EXPERT(",\"conflicts\":[\"enterprise:\"]"), "conflicts[0]",
           "invalid id in key \"enterprise:\"");
    REJECT(EXPERT(",\"conflicts\":[\"firm:F1\"]"), "conflicts[0]",
           "unknown kind \"firm\" in key \"firm:F1\"");
    REJECT(EXPERT(",\"org\":[]"), "org", "expected a string, got []");
    REJECT(EXPERT(",\"academy\":\"CAS\""), "academy",
           "field \"academy\" is not allowed for kind expert (only for "
           "academician)");
    REJECT(EXPERT(",\"trl\":5"), "trl",
           "field \"trl\" is not allowed for kind expert (only for result)");
    REJECT(EXPERT(",\"budget\":5"), "budget",
           "field \"budget\" is not allowed for kind expert");
    REJECT(EXPERT(",\"members\":[]"), "members",
           "field \"members\" is not allowed for kind expert");
}

static void test_society_fields(void)
{
    const char *s = "{\"kind\":\"society\",\"id\":\"S1\",\"name\":\"学会\"";
    char buf[256];

    snprintf(buf, sizeof buf, "%s,\"level\":\"city\"}", s);
    REJECT(buf, "level", "expected one of national, provincial, municipal, "
           "county, got \"city\"");
    snprintf(buf, sizeof buf, "%s,\"members\":[\"expert:E1\","
             "\"enterprise:X\"]}", s);
    REJECT(buf, "members[1]", "expected a key of kind expert or "
           "academician, got \"enterprise:X\"");
    snprintf(buf, sizeof buf, "%s,\"contact\":\"office\"}", s);
    REJECT(buf, "contact", "expected an e-mail address");
    snprintf(buf, sizeof buf, "%s,\"capacity\":3}", s);
    REJECT(buf, "capacity", "field \"capacity\" is not allowed for kind "
           "society (only for expert or academician)");
}

static void test_enterprise_fields(void)
{
    const char *s = "{\"kind\":\"enterprise\",\"id\":\"X\",\"name\":\"企业\"";
    char buf[256];

    snprintf(buf, sizeof buf, "%s,\"size\":\"huge\"}", s);
    REJECT(buf, "size", "expected one of micro, small, medium, large, got "
           "\"huge\"");
    snprintf(buf, sizeof buf, "%s,\"has_kexie\":\"yes\"}", s);
    REJECT(buf, "has_kexie", "expected true or false, got \"yes\"");
    snprintf(buf, sizeof buf, "%s,\"has_kexie\":1}", s);
    REJECT(buf, "has_kexie", "expected true or false, got 1");
    snprintf(buf, sizeof buf, "%s,\"enterprise\":\"enterprise:Y\"}", s);
    REJECT(buf, "enterprise", "not allowed for kind enterprise (only for "
           "need)");
}

static void test_need_fields(void)
{
    REJECT("{\"kind\":\"need\",\"id\":\"N1\",\"name\":\"需求\"}", "enterprise",
           "required field \"enterprise\" is missing");
    REJECT("{\"kind\":\"need\",\"id\":\"N1\",\"name\":\"需求\","
           "\"enterprise\":\"expert:E1\"}", "enterprise",
           "expected a key of kind enterprise, got \"expert:E1\"");
    REJECT("{\"kind\":\"need\",\"id\":\"N1\",\"name\":\"需求\","
           "\"enterprise\":[\"enterprise:E1\"]}", "enterprise",
           "expected a key \"kind:id\" of kind enterprise, got "
           "[\"enterprise:E1\"]");
    REJECT(NEED(",\"visibility\":\"secret\""), "visibility",
           "expected one of public, confidential, got \"secret\"");
    REJECT(NEED(",\"status\":\"pending\""), "status",
           "expected one of open, matched, closed, got \"pending\"");
    REJECT(NEED(",\"budget\":-1"), "budget",
           "expected an integer from 0 to 1000000000000000 (yuan), got -1");
    REJECT(NEED(",\"budget\":\"100\""), "budget",
           "expected an integer from 0 to 1000000000000000 (yuan), got "
           "\"100\"");
    REJECT(NEED(",\"budget\":NaN"), "budget",
           "expected an integer from 0 to 1000000000000000 (yuan), got NaN "
           "(not a JSON number: NaN and Infinity are not JSON)");
    REJECT(NEED(",\"org\":\"x\""), "org",
           "field \"org\" is not allowed for kind need");
}

static void test_result_fields(void)
{
    const char *s = "{\"kind\":\"result\",\"id\":\"R1\",\"name\":\"成果\"";
    char buf[256];

    snprintf(buf, sizeof buf, "%s,\"owner\":\"enterprise:X\"}", s);
    REJECT(buf, "owner", "expected a key of kind expert, academician or "
           "society, got \"enterprise:X\"");
    snprintf(buf, sizeof buf, "%s,\"trl\":0}", s);
    REJECT(buf, "trl", "expected an integer from 1 to 9 (technology "
           "readiness level), got 0");
    snprintf(buf, sizeof buf, "%s,\"trl\":10}", s);
    REJECT(buf, "trl", "expected an integer from 1 to 9 (technology "
           "readiness level), got 10");
    snprintf(buf, sizeof buf, "%s,\"trl\":\"5\"}", s);
    REJECT(buf, "trl", "expected an integer from 1 to 9 (technology "
           "readiness level), got \"5\"");
    snprintf(buf, sizeof buf, "%s,\"status\":\"open\"}", s);
    REJECT(buf, "status", "not allowed for kind result (only for need)");
}

static void test_unknown_and_duplicate_fields(void)
{
    REJECT(EXPERT(",\"foo\":1"), "foo",
           "unknown field \"foo\" (custom fields must start with x_)");
    REJECT(EXPERT(",\"X_foo\":1"), "X_foo", "unknown field \"X_foo\"");
    REJECT(EXPERT(",\"Name\":\"x\""), "Name", "unknown field \"Name\"");
    REJECT("{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"a\",\"name\":\"b\"}",
           "name", "duplicate field \"name\"");
    /* spelled differently, the same name */
    REJECT("{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"a\","
           "\"n\\u0061me\":\"b\"}", "name", "duplicate field \"name\"");
    REJECT("{\"kind\":\"expert\",\"kind\":\"expert\",\"id\":\"E1\","
           "\"name\":\"a\"}", "kind", "duplicate field \"kind\"");
    REJECT(EXPERT(",\"x_a\":1,\"x_a\":2"), "x_a", "duplicate field \"x_a\"");
    /* what looks like a name inside a string is not one */
    record_free(parse_ok(EXPERT(",\"org\":\"\\\",\\\"name\\\":\\\"y\\\\\"")));
    /* names are quoted and escaped in messages */
    REJECT(EXPERT(",\"fo\\\"o\":1"), "fo\"o",
           "unknown field \"fo\\\"o\" (custom fields");
    /* a long name is cut for err->field at a character boundary */
    {
        struct kx_record *r = NULL;
        struct kx_error err;
        const char *in = EXPERT(",\"字段字段字段字段字段字段字段字段字段字段字段"
                                "字段\":1");

        kx_error_clear(&err);
        CHECK_INT(record_parse(in, strlen(in), T, &r, &err), KX_BADINPUT);
        CHECK_INT(strlen(err.field), 63);   /* 21 characters of 3 bytes */
        CHECK(strncmp(err.field, "字段字段", 12) == 0);
        CHECK(strstr(err.msg, "unknown field \"字段字段") != NULL);
    }
    /* the same name nested is not a duplicate at the top */
    record_free(parse_ok(EXPERT(",\"x_a\":{\"name\":1,\"x\":\"name\"}")));
}

static void test_custom_fields(void)
{
    struct kx_record *r;

    CHECK_CANON(EXPERT(",\"x_zeta\":\"z\",\"x_alpha\":{\"b\":[1,2.50,1e3],"
                       "\"a\":null},\"x_mid\":true"),
                "{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"张三\","
                "\"lang\":\"zh\",\"x_alpha\":{\"a\":null,\"b\":[1,2.5,"
                "1000.0]},\"x_mid\":true,\"x_zeta\":\"z\"}");
    REJECT(EXPERT(",\"x_n\":[1,NaN]"), "x_n", "NaN at byte 52 is not a "
           "JSON number: NaN and Infinity are not JSON");
    REJECT(EXPERT(",\"x_n\":[1,1e400]"), "x_n", "expected a finite number");
    r = parse_ok(EXPERT(",\"x_big\":18446744073709551615,\"x_neg\":-5"));
    if (r)
        CHECK(strstr(record_canonical(r, NULL),
                     "\"x_big\":18446744073709551615,\"x_neg\":-5") != NULL);
    record_free(r);
}

static void test_canonical_order_and_defaults(void)
{
    static const char want[] =
        "{\"kind\":\"need\",\"id\":\"N1\",\"name\":\"废水处理\","
        "\"text\":\"COD/氨氮\",\"tags\":[\"环保\"],\"industries\":[\"2614\"],"
        "\"disciplines\":[\"B06\"],\"region\":\"371602\",\"lang\":\"zh\","
        "\"email\":\"a@b.cn\",\"updated\":\"2024-05-01\","
        "\"enterprise\":\"enterprise:ENT1\",\"status\":\"closed\","
        "\"budget\":1000,\"deadline\":\"2024-12-31\",\"x_a\":1,\"x_b\":2}";
    const char *a =
        "{\"kind\":\"need\",\"id\":\"N1\",\"name\":\"废水处理\","
        "\"text\":\"COD/氨氮\",\"tags\":[\"环保\"],\"industries\":[\"2614\"],"
        "\"disciplines\":[\"B06\"],\"region\":\"371602\","
        "\"email\":\"a@b.cn\",\"updated\":\"2024-05-01\","
        "\"enterprise\":\"enterprise:ENT1\",\"visibility\":\"public\","
        "\"status\":\"closed\",\"budget\":1000,\"deadline\":\"2024-12-31\","
        "\"x_a\":1,\"x_b\":2}";
    const char *b =
        "  {\"x_b\" : 2, \"deadline\":\"2024-12-31\",\"budget\":1000 ,\n"
        "\"status\":\"closed\",\"enterprise\":\"enterprise:ENT1\","
        "\"lang\":\"zh\",\"updated\":\"2024-05-01\",\"email\":\"a@b.cn\","
        "\"region\":\"371602\",\"disciplines\":[\"B06\"],\"industries\":"
        "[\"2614\"],\"tags\":[\"环保\"],\"text\":\"COD\\/\\u6c28\\u6c2e\","
        "\"name\":\"废水处理\",\"x_a\":1,\"id\":\"N1\",\"kind\":\"need\","
        "\"visibility\":null}\r\n";
    char *cb;

    CHECK_CANON(a, want);
    CHECK_CANON(b, want);
    /* a double stays a double, in its shortest form */
    cb = canon_at(NEED(",\"x_a\":1.0e0,\"x_b\":-0.0,\"x_c\":0.1"), __LINE__);
    CHECK(cb && strstr(cb, "\"x_a\":1.0,\"x_b\":0.0,\"x_c\":0.1}") != NULL);
    free(cb);
    /* defaults left out; non-defaults kept */
    CHECK_CANON(EXPERT(",\"capacity\":3"),
                "{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"张三\","
                "\"lang\":\"zh\"}");
    CHECK_CANON(EXPERT(",\"capacity\":0"),
                "{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"张三\","
                "\"lang\":\"zh\",\"capacity\":0}");
    CHECK_CANON(NEED(",\"visibility\":\"public\",\"status\":\"open\""),
                "{\"kind\":\"need\",\"id\":\"N1\",\"name\":\"需求\","
                "\"lang\":\"zh\",\"enterprise\":\"enterprise:ENT1\"}");
    /* an integer field is kept as the integer, -0 as 0 */
    CHECK_CANON(NEED(",\"visibility\":\"confidential\",\"budget\":-0"),
                "{\"kind\":\"need\",\"id\":\"N1\",\"name\":\"需求\","
                "\"lang\":\"zh\",\"enterprise\":\"enterprise:ENT1\","
                "\"visibility\":\"confidential\",\"budget\":0}");
    CHECK_CANON(NEED(",\"budget\":1000000000000000"),
                "{\"kind\":\"need\",\"id\":\"N1\",\"name\":\"需求\","
                "\"lang\":\"zh\",\"enterprise\":\"enterprise:ENT1\","
                "\"budget\":1000000000000000}");
    /* empty arrays, empty optional strings and nulls say nothing */
    CHECK_CANON(EXPERT(",\"tags\":[],\"org\":\"\",\"title\":null,"
                       "\"text\":\"\""),
                "{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"张三\","
                "\"lang\":\"zh\"}");
    /* no "/" escaping, non-ASCII as it is */
    CHECK_CANON(EXPERT(",\"org\":\"a/b \\u00e9\""),
                "{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"张三\","
                "\"lang\":\"zh\",\"org\":\"a/b é\"}");
    CHECK(record_canonical(NULL, NULL) == NULL);
}

/* The store keeps the canonical form and parses it again (without a
 * taxonomy): that must give the same record and the same bytes. */
static void test_canonical_round_trip(void)
{
    static const char *const in[] = {
        EXPERT(",\"capacity\":0,\"conflicts\":[\"enterprise:X\"],"
               "\"x_b\":{\"z\":1,\"a\":[0.5,\"s\"]},\"x_a\":null"),
        NEED(",\"budget\":1234,\"visibility\":\"confidential\","
             "\"text\":\"tab\\tquote\\\" slash/ \\u0001\""),
        "{\"kind\":\"society\",\"id\":\"S1\",\"name\":\"Society\","
        "\"members\":[\"expert:E1\"],\"level\":\"county\"}",
        "{\"kind\":\"enterprise\",\"id\":\"X\",\"name\":\"x\","
        "\"has_kexie\":false}",
        "{\"kind\":\"result\",\"id\":\"R\",\"name\":\"r\",\"trl\":3}",
        "{\"kind\":\"need\",\"id\":\"N9\",\"deleted\":true}",
    };
    size_t i;

    for (i = 0; i < sizeof in / sizeof in[0]; i++) {
        char *c1 = canon_at(in[i], __LINE__), *c2 = NULL;
        struct kx_record *r = NULL;
        struct kx_error err;

        if (!c1)
            continue;
        kx_error_clear(&err);
        CHECK_INT(record_parse(c1, strlen(c1), NULL, &r, &err), KX_OK);
        if (r) {
            c2 = strdup(record_canonical(r, NULL));
            CHECK_STR(c2, c1);
        }
        record_free(r);
        free(c1);
        free(c2);
    }
}

/* ---- numeric fields -------------------------------------------------- */

#define BUDGET_RULE                                                        \
    "expected an integer from 0 to 1000000000000000 (yuan), got "
#define CAPACITY_RULE                                                      \
    "expected an integer from 0 to 2147483647 (matches per week), got "
#define TRL_RULE                                                           \
    "expected an integer from 1 to 9 (technology readiness level), got "
#define RESULT(extra)                                                      \
    "{\"kind\":\"result\",\"id\":\"R1\",\"name\":\"成果\"" extra "}"

/* issue 19: what fuzzing found, and the forms around it */
static void test_budget(void)
{
    struct kx_record *r;
    struct kx_error err;
    char buf[1024];
    const char *in = NEED(",\"budget\":5.");

    /* the whole message, as kxmatch prints it */
    kx_error_clear(&err);
    r = (struct kx_record *)1;
    CHECK_INT(record_parse(in, strlen(in), T, &r, &err), KX_BADINPUT);
    CHECK(r == NULL);
    kx_error_format(&err, buf, sizeof buf);
    CHECK_STR(buf, "budget: " BUDGET_RULE "5. (not a JSON number: a '.' "
              "must have digits after it)");

    REJECT(NEED(",\"budget\":30e18"), "budget", BUDGET_RULE "30e18");
    REJECT(NEED(",\"budget\":92222222222222222222.8"), "budget",
           BUDGET_RULE "92222222222222222222.8");
    REJECT(NEED(",\"budget\":20222222222222222222."), "budget",
           BUDGET_RULE "20222222222222222222. (not a JSON number");
    /* json-c would clamp these to 2^64 - 1 and 2^63 - 1 without a word */
    REJECT(NEED(",\"budget\":92222222222222222222"), "budget",
           BUDGET_RULE "92222222222222222222");
    REJECT(NEED(",\"budget\":18446744073709551616"), "budget",
           BUDGET_RULE "18446744073709551616");
    REJECT(NEED(",\"budget\":18446744073709551615"), "budget",
           BUDGET_RULE "18446744073709551615");
    REJECT(NEED(",\"budget\":9223372036854775808"), "budget",
           BUDGET_RULE "9223372036854775808");
    REJECT(NEED(",\"budget\":-9223372036854775809"), "budget",
           BUDGET_RULE "-9223372036854775809");
    /* an integer number of yuan: no fraction or exponent, even when the
     * value is whole */
    REJECT(NEED(",\"budget\":1000.0"), "budget", BUDGET_RULE "1000.0");
    REJECT(NEED(",\"budget\":1e3"), "budget", BUDGET_RULE "1e3");
    REJECT(NEED(",\"budget\":1E+3"), "budget", BUDGET_RULE "1E+3");
    REJECT(NEED(",\"budget\":0.5"), "budget", BUDGET_RULE "0.5");
    REJECT(NEED(",\"budget\":5.e3"), "budget", BUDGET_RULE "5.e3 (not a JSON"
           " number: a '.' must have digits after it)");
    REJECT(NEED(",\"budget\":00"), "budget", BUDGET_RULE "00 (not a JSON "
           "number: no leading zeros)");
    REJECT(NEED(",\"budget\":-01"), "budget", BUDGET_RULE "-01 (not a JSON "
           "number: no leading zeros)");
    REJECT(NEED(",\"budget\":Infinity"), "budget", BUDGET_RULE "Infinity");
    REJECT(NEED(",\"budget\":-Infinity"), "budget", BUDGET_RULE "-Infinity");
    REJECT(NEED(",\"budget\":1e400"), "budget", BUDGET_RULE "1e400");
    REJECT(NEED(",\"budget\":true"), "budget", BUDGET_RULE "true");
    REJECT(NEED(",\"budget\":[1]"), "budget", BUDGET_RULE "[1]");
    /* the boundaries */
    REJECT(NEED(",\"budget\":1000000000000001"), "budget",
           BUDGET_RULE "1000000000000001");
    REJECT(NEED(",\"budget\":-1"), "budget", BUDGET_RULE "-1");
    r = parse_ok(NEED(",\"budget\":1000000000000000"));
    if (r)
        CHECK_INT(r->budget, 1000000000000000LL);
    record_free(r);
    r = parse_ok(NEED(",\"budget\":0"));
    if (r)
        CHECK_INT(r->budget, 0);
    record_free(r);
    r = parse_ok(NEED(",\"budget\":-0"));
    if (r)
        CHECK_INT(r->budget, 0);
    record_free(r);
    r = parse_ok(NEED(",\"budget\":null"));
    if (r)
        CHECK_INT(r->budget, -1);
    record_free(r);
    CHECK_INT(KX_BUDGET_MAX, 1000000000000000LL);
    /* every budget in 0..10^15 is exact as a double (JavaScript) */
    CHECK((double)KX_BUDGET_MAX < 9007199254740992.0);
}

static void test_capacity_and_trl(void)
{
    struct kx_record *r;

    r = parse_ok(EXPERT(",\"capacity\":2147483647"));
    if (r)
        CHECK_INT(r->capacity, 2147483647);
    record_free(r);
    r = parse_ok(EXPERT(",\"capacity\":0"));
    if (r)
        CHECK_INT(r->capacity, 0);
    record_free(r);
    REJECT(EXPERT(",\"capacity\":2147483648"), "capacity",
           CAPACITY_RULE "2147483648");
    REJECT(EXPERT(",\"capacity\":3.0"), "capacity", CAPACITY_RULE "3.0");
    REJECT(EXPERT(",\"capacity\":3."), "capacity", CAPACITY_RULE "3. (not a "
           "JSON number");
    REJECT(EXPERT(",\"capacity\":3e0"), "capacity", CAPACITY_RULE "3e0");
    REJECT(EXPERT(",\"capacity\":-0.0"), "capacity", CAPACITY_RULE "-0.0");
    REJECT(EXPERT(",\"capacity\":30e18"), "capacity", CAPACITY_RULE "30e18");
    REJECT(EXPERT(",\"capacity\":99999999999999999999999"), "capacity",
           CAPACITY_RULE "99999999999999999999999");
    REJECT(EXPERT(",\"capacity\":-9223372036854775808"), "capacity",
           CAPACITY_RULE "-9223372036854775808");

    r = parse_ok(RESULT(",\"trl\":1"));
    if (r)
        CHECK_INT(r->trl, 1);
    record_free(r);
    r = parse_ok(RESULT(",\"trl\":9"));
    if (r)
        CHECK_INT(r->trl, 9);
    record_free(r);
    REJECT(RESULT(",\"trl\":5.0"), "trl", TRL_RULE "5.0");
    REJECT(RESULT(",\"trl\":5."), "trl", TRL_RULE "5. (not a JSON number");
    REJECT(RESULT(",\"trl\":0.9e1"), "trl", TRL_RULE "0.9e1");
    REJECT(RESULT(",\"trl\":09"), "trl", TRL_RULE "09 (not a JSON number: "
           "no leading zeros)");
    REJECT(RESULT(",\"trl\":-1"), "trl", TRL_RULE "-1");
    REJECT(RESULT(",\"trl\":18446744073709551615"), "trl",
           TRL_RULE "18446744073709551615");
    /* a field of another kind is named as such even when it is numeric */
    REJECT(RESULT(",\"budget\":5"), "budget", "field \"budget\" is not "
           "allowed for kind result (only for need)");
}

/* Numbers elsewhere (x_ fields, nested) are checked as written too. */
static void test_numbers_as_written(void)
{
    struct kx_error err;
    struct kx_record *r;

    REJECT(EXPERT(",\"x_a\":5."), "x_a", "5. at byte 49 is not a JSON "
           "number: a '.' must have digits after it");
    REJECT(EXPERT(",\"x_a\":{\"b\":[1,{\"c\":00}]}"), "x_a", "00 at byte 62"
           " is not a JSON number: no leading zeros");
    REJECT(EXPERT(",\"x_a\":-Infinity"), "x_a", "-Infinity at byte 49 is "
           "not a JSON number: NaN and Infinity are not JSON");
    REJECT(EXPERT(",\"x_a\":18446744073709551616"), "x_a",
           "18446744073709551616 at byte 49 is an integer outside "
           "-2^63..2^64-1, which json-c cannot hold");
    REJECT(EXPERT(",\"x_a\":-9223372036854775809"), "x_a",
           "is an integer outside -2^63..2^64-1");
    /* the name of a budget nested in x_ is not the budget field */
    REJECT(EXPERT(",\"x_a\":{\"budget\":5.}"), "x_a", "5. at byte 59 is not "
           "a JSON number");
    /* a long token is cut in the message */
    REJECT(EXPERT(",\"x_a\":1111111111111111111111111111111111111111111111111"
                  "111111111111111111111111"), "x_a", "11111111111111111111"
           "1111111111111111111111111111111111111111... at byte 49 is an "
           "integer outside");
    /* a string ending in an escaped backslash ends there */
    REJECT(EXPERT(",\"org\":\"a\\\\\",\"x_a\":5."), "x_a", "5. at byte "
           "61 is not a JSON number");
    /* what is inside strings, names included, is not a number */
    r = parse_ok(EXPERT(",\"x_5.\":\"5.\",\"x_b\":{\"00\":\"-01\",\"e\":"
                        "\"NaN\"},\"org\":\"1e \\\" 5. \\\\\""));
    if (r)
        CHECK(strstr(record_canonical(r, NULL), "\"x_5.\":\"5.\"") != NULL);
    record_free(r);
    /* the 64-bit extremes are kept exactly; other numbers as doubles */
    r = parse_ok(EXPERT(",\"x_a\":[-9223372036854775808,18446744073709551615,"
                        "-0,0.5e-3,1E+2,1e-400,true,false,null]"));
    if (r)
        CHECK(strstr(record_canonical(r, NULL), "\"x_a\":[-922337203685477580"
                     "8,18446744073709551615,0,0.0005,100.0,0.0,true,false,"
                     "null]") != NULL);
    record_free(r);

    /* the check on its own */
    kx_error_clear(&err);
    CHECK_INT(record_numbers_check("{\"a\":[1,-2.5e+3,0]}", 19, &err),
              KX_OK);
    CHECK_INT(record_numbers_check("", 0, &err), KX_OK);
    CHECK_INT(record_numbers_check(NULL, 0, &err), KX_OK);
    CHECK_INT(record_numbers_check("[1.]", 4, &err), KX_BADINPUT);
    CHECK_STR(err.field, "");
    CHECK_STR(err.msg, "1. at byte 1 is not a JSON number: a '.' must have "
              "digits after it");
    kx_error_clear(&err);
    CHECK_INT(record_numbers_check("{\"budget\":1.5}", 14, &err), KX_OK);
    CHECK_INT(record_numbers_check("{\"budget\":1.5.}", 15, &err),
              KX_BADINPUT);
    CHECK_STR(err.field, "budget");
    CHECK(strstr(err.msg, BUDGET_RULE "1.5.") != NULL);
    /* only len bytes are read */
    CHECK_INT(record_numbers_check("{\"a\":1}.", 7, &err), KX_OK);
    CHECK_INT(record_numbers_check("{\"a\":1.", 7, NULL), KX_BADINPUT);
}

/* record_from_json sees json-c values, not text: a double is never an
 * integer field's value, and nothing is converted before it is checked. */
static void test_from_json_numbers(void)
{
    static const double dbl[] = {5.0, 30e18, 92222222222222222222.8,
                                 20222222222222222222.0, -0.0, 1e300};
    struct json_object *o;
    struct kx_record *r = NULL;
    struct kx_error err;
    size_t i;

    o = json_tokener_parse(NEED(",\"budget\":5."));
    CHECK(o != NULL);
    kx_error_clear(&err);
    CHECK_INT(record_from_json(o, T, &r, &err), KX_BADINPUT);
    CHECK_STR(err.field, "budget");
    CHECK(strstr(err.msg, BUDGET_RULE "5.") != NULL);
    for (i = 0; i < sizeof dbl / sizeof dbl[0]; i++) {
        json_object_object_add(o, "budget", json_object_new_double(dbl[i]));
        CHECK_INT(record_from_json(o, T, &r, &err), KX_BADINPUT);
        CHECK_STR(err.field, "budget");
        CHECK(strstr(err.msg, BUDGET_RULE) != NULL);
    }
    json_object_object_add(o, "budget",
                           json_object_new_uint64(18446744073709551615ULL));
    CHECK_INT(record_from_json(o, T, &r, &err), KX_BADINPUT);
    CHECK(strstr(err.msg, BUDGET_RULE "18446744073709551615") != NULL);
    json_object_object_add(o, "budget", json_object_new_int64(INT64_MIN));
    CHECK_INT(record_from_json(o, T, &r, &err), KX_BADINPUT);
    json_object_object_add(o, "budget",
                           json_object_new_int64(KX_BUDGET_MAX + 1));
    CHECK_INT(record_from_json(o, T, &r, &err), KX_BADINPUT);
    json_object_object_add(o, "budget", json_object_new_int64(KX_BUDGET_MAX));
    CHECK_INT(record_from_json(o, T, &r, &err), KX_OK);
    if (r)
        CHECK_INT(r->budget, KX_BUDGET_MAX);
    record_free(r);
    json_object_put(o);

    o = json_tokener_parse(RESULT(""));
    json_object_object_add(o, "trl", json_object_new_double(5.0));
    CHECK_INT(record_from_json(o, T, &r, &err), KX_BADINPUT);
    CHECK_STR(err.field, "trl");
    json_object_object_add(o, "trl", json_object_new_uint64(UINT64_MAX));
    CHECK_INT(record_from_json(o, T, &r, &err), KX_BADINPUT);
    json_object_put(o);
}

/* ---- the canonical form is a fixed point: a property test ------------ */

/* xorshift64*, seeded: every run makes the same records */
static uint64_t prop_state;

static uint64_t prop_rand(void)
{
    prop_state ^= prop_state >> 12;
    prop_state ^= prop_state << 25;
    prop_state ^= prop_state >> 27;
    return prop_state * 0x2545F4914F6CDD1DULL;
}

static unsigned prop_below(unsigned n)
{
    return (unsigned)(prop_rand() % n);
}

struct pbuf {
    char s[8192];
    size_t n;
    int bad_num;     /* a custom field holds a number to refuse */
    int other_bad;   /* something else is refused, or may be */
};

static void pput(struct pbuf *b, const char *s)
{
    size_t n = strlen(s);

    if (b->n + n < sizeof b->s) {
        memcpy(b->s + b->n, s, n);
        b->n += n;
        b->s[b->n] = '\0';
    } else {
        b->other_bad = 1;   /* cut: anything may happen */
    }
}

static void pspace(struct pbuf *b)
{
    static const char *const ws[] = {"", "", "", " ", "\n", "\t ", "\r\n"};

    pput(b, ws[prop_below(sizeof ws / sizeof ws[0])]);
}

static void pdigits(char *o, unsigned n, int lead_zero_ok)
{
    unsigned i;

    for (i = 0; i < n; i++)
        o[i] = (char)('0' + prop_below(10));
    if (!lead_zero_ok && n > 1 && o[0] == '0')
        o[0] = (char)('1' + prop_below(9));
    o[n] = '\0';
}

/* A number as JSON text might hold it, or nearly: valid, edge, junk. */
static void pnumber(char *o, size_t n)
{
    static const char *const edge[] = {
        "0", "-0", "1", "9", "10", "3", "1000000000000000",
        "1000000000000001", "999999999999999", "2147483647", "2147483648",
        "-2147483648", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "-9223372036854775809",
        "18446744073709551615", "18446744073709551616", "30e18",
        "92222222222222222222.8", "20222222222222222222.",
        "20222222222222222222", "5.", "5.0", "0.5", "1e6", "1E+2", "1e-7",
        "1.e3", "-", "-5.", "NaN", "Infinity", "-Infinity", "1e400",
        "-1e400", "1e-400", "4.9e-324", "1.7976931348623157e308", "0.1",
        "-0.0", "00", "-01", "0e0", "1e+22", "123456789012345678901234567",
        "9007199254740993", "-1", "0.30000000000000004",
        "100000000000000000000",
    };
    char d[32], f[8], e[8];

    switch (prop_below(8)) {
    case 0:
        snprintf(o, n, "%u", prop_below(20));
        break;
    case 1:
        pdigits(d, 1 + prop_below(20), 0);
        snprintf(o, n, "%s%s", prop_below(4) ? "" : "-", d);
        break;
    case 2:   /* any digits, leading zeros and all */
        pdigits(d, 1 + prop_below(25), 1);
        snprintf(o, n, "%s%s", prop_below(4) ? "" : "-", d);
        break;
    case 3:   /* a fraction, perhaps with no digits after the '.' */
        pdigits(d, 1 + prop_below(22), prop_below(8) == 0);
        pdigits(f, prop_below(5), 1);
        snprintf(o, n, "%s%s.%s", prop_below(4) ? "" : "-", d, f);
        break;
    case 4:   /* an exponent, perhaps empty */
        pdigits(d, 1 + prop_below(4), 0);
        pdigits(e, prop_below(4), 1);
        snprintf(o, n, "%s%s%s%s", d, prop_below(2) ? "e" : "E",
                 (const char *[]){"", "+", "-"}[prop_below(3)], e);
        break;
    default:
        snprintf(o, n, "%s", edge[prop_below(sizeof edge / sizeof edge[0])]);
        break;
    }
}

/* The test's own reading of JSON's number grammar, and of which integers
 * json-c holds exactly. 1 if json-c would keep tok. */
static int pnumber_ok(const char *t)
{
    const char *p = t;
    int whole = 1;

    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        p += strspn(p, "0123456789");
    else
        return 0;
    if (*p == '.') {
        whole = 0;
        if (!strchr("0123456789", p[1]) || !p[1])
            return 0;
        p += 1 + strspn(p + 1, "0123456789");
    }
    if (*p == 'e' || *p == 'E') {
        whole = 0;
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!*p || !strchr("0123456789", *p))
            return 0;
        p += strspn(p, "0123456789");
    }
    if (*p)
        return 0;
    if (whole) {
        const char *digits = t + (*t == '-');
        const char *lim = *t == '-' ? "9223372036854775808"
                                    : "18446744073709551615";
        size_t nd = strlen(digits), nl = strlen(lim);

        return nd < nl || (nd == nl && strcmp(digits, lim) <= 0);
    }
    return isfinite(strtod(t, NULL));
}

/* Whether an integer field lo..hi takes tok, and its value (*v). */
static int pint_ok(const char *t, long long lo, long long hi, long long *v)
{
    const char *d = t + (*t == '-');

    if (!*d || strspn(d, "0123456789") != strlen(d) ||
        (d[0] == '0' && d[1]) || strlen(d) > 18)
        return 0;
    *v = strtoll(t, NULL, 10);
    return *v >= lo && *v <= hi;
}

/* A JSON string: ASCII, CJK, escapes, astral characters, and now and then
 * something refused (an escaped NUL, a bad escape). */
static void pstring(struct pbuf *b, int nonblank)
{
    static const char *const piece[] = {
        "a", "Z", "7", " ", "张", "三", "é", "😀", "\\u00e9", "\\u5f20",
        "\\ud83d\\ude00", "\\n", "\\t", "\\\"", "\\\\", "\\/", "5.", "1e3",
        "{", "}", ",", ":", "[", "'", "-01", "NaN", "\\ud800", "科协",
    };
    unsigned n = prop_below(6), i;

    pput(b, "\"");
    if (nonblank)
        pput(b, "名");
    for (i = 0; i < n; i++) {
        unsigned k = prop_below(200);

        if (k == 0) {
            pput(b, "\\u0000");
            b->other_bad = 1;
        } else if (k == 1) {
            pput(b, "\\x");
            b->other_bad = 1;
        } else {
            pput(b, piece[k % (sizeof piece / sizeof piece[0])]);
        }
    }
    pput(b, "\"");
}

/* A custom value: numbers (checked by pnumber_ok), strings, literals,
 * arrays and objects a few levels deep. */
static void pvalue(struct pbuf *b, int depth)
{
    char num[64];
    unsigned k = prop_below(depth < 3 ? 6 : 4), i, n;

    switch (k) {
    case 0:
    case 1:
        pnumber(num, sizeof num);
        if (!pnumber_ok(num))
            b->bad_num = 1;
        pput(b, num);
        break;
    case 2:
        pstring(b, 0);
        break;
    case 3:
        pput(b, (const char *[]){"true", "false", "null"}[prop_below(3)]);
        break;
    case 4:
        pput(b, "[");
        n = prop_below(4);
        for (i = 0; i < n; i++) {
            if (i)
                pput(b, ",");
            pspace(b);
            pvalue(b, depth + 1);
            pspace(b);
        }
        pput(b, "]");
        break;
    default:
        pput(b, "{");
        n = prop_below(3);
        for (i = 0; i < n; i++) {
            char key[16];

            snprintf(key, sizeof key, "%s\"k%u\":", i ? "," : "", i);
            pput(b, key);
            pvalue(b, depth + 1);
        }
        pput(b, "}");
        break;
    }
}

/* One record of a kind with a numeric field; num gets the text of that
 * field's value ("" if left out), b->bad_num and b->other_bad what else
 * in it is to be refused. */
static void precord(struct pbuf *b, const char **field, char *num, size_t nn)
{
    static const char *const head[] = {
        "{\"kind\":\"need\",\"id\":\"N%u\",\"enterprise\":\"enterprise:E1\"",
        "{\"kind\":\"expert\",\"id\":\"E%u\"",
        "{\"kind\":\"result\",\"id\":\"R%u\",\"owner\":\"expert:E1\"",
    };
    static const char *const fname[] = {"budget", "capacity", "trl"};
    unsigned kind = prop_below(3), i, nx;
    char tmp[128];

    b->n = 0;
    b->s[0] = '\0';
    b->bad_num = b->other_bad = 0;
    snprintf(tmp, sizeof tmp, head[kind], prop_below(1000));
    pput(b, tmp);
    pput(b, ",\"name\":");
    pstring(b, 1);
    if (prop_below(2)) {
        pput(b, ",\"text\":");
        pstring(b, 0);
    }
    *field = fname[kind];
    num[0] = '\0';
    if (prop_below(8)) {
        pnumber(num, nn);
        snprintf(tmp, sizeof tmp, ",\"%s\"", *field);
        pput(b, tmp);
        pspace(b);
        pput(b, ":");
        pspace(b);
        pput(b, num);
        pspace(b);
    }
    nx = prop_below(4);
    for (i = 0; i < nx; i++) {
        snprintf(tmp, sizeof tmp, ",\"x_%u%s\":", i,
                 (const char *[]){"", "é", "_n", "数"}[prop_below(4)]);
        pput(b, tmp);
        pvalue(b, 0);
    }
    pput(b, "}");
}

static void test_canonical_fixed_point(void)
{
    enum { N = 5000 };
    unsigned i, ok = 0, refused = 0, judged = 0;

    prop_state = 0x6b786d61746368ULL;   /* "kxmatch" */
    for (i = 0; i < N; i++) {
        static struct pbuf b;
        char num[64];
        const char *field;
        struct kx_record *r = NULL, *r2 = NULL;
        struct kx_error err;
        enum kx_status st;
        long long want = -1, lo, hi;
        int want_ok;

        precord(&b, &field, num, sizeof num);
        lo = strcmp(field, "trl") == 0 ? 1 : 0;
        hi = strcmp(field, "budget") == 0 ? KX_BUDGET_MAX
             : strcmp(field, "trl") == 0 ? 9 : 2147483647;
        want_ok = (!num[0] || pint_ok(num, lo, hi, &want)) && !b.bad_num;
        kx_error_clear(&err);
        st = record_parse(b.s, b.n, T, &r, &err);
        if (!b.other_bad) {
            /* only the numbers decide: the test's own reading of the
             * rules must agree */
            judged++;
            if ((st == KX_OK) != want_ok) {
                fprintf(stderr, "%s:%d: %s %s wrongly: %s: %s\n  input: %s\n",
                        __FILE__, __LINE__, field, st == KX_OK ? "accepted"
                        : "refused", err.field, err.msg, b.s);
                check_test_failed_ = 1;
            }
            if (st != KX_OK && !want_ok && num[0] && !b.bad_num)
                CHECK_STR(err.field, field);
        }
        if (st != KX_OK) {
            refused++;
            CHECK(r == NULL);
            CHECK(st == KX_BADINPUT || st == KX_TOOLARGE);
            if (!err.msg[0]) {
                fprintf(stderr, "%s:%d: refused without a message: %s\n",
                        __FILE__, __LINE__, b.s);
                check_test_failed_ = 1;
            }
            continue;
        }
        ok++;
        if (num[0] && !b.other_bad && !b.bad_num) {
            long long got = strcmp(field, "budget") == 0 ? r->budget
                            : strcmp(field, "trl") == 0 ? r->trl
                            : r->capacity;

            CHECK_INT(got, want);
        }
        {
            size_t l1 = 0, l2 = 0;
            const char *c1 = record_canonical(r, &l1), *c2;

            /* as the store reads it back: no taxonomy */
            kx_error_clear(&err);
            CHECK_INT(record_numbers_check(c1, l1, &err), KX_OK);
            st = record_parse(c1, l1, NULL, &r2, &err);
            if (st != KX_OK) {
                fprintf(stderr, "%s:%d: canonical form refused: %s: %s\n"
                        "  input: %s\n  canonical: %s\n", __FILE__, __LINE__,
                        err.field, err.msg, b.s, c1);
                check_test_failed_ = 1;
            } else {
                c2 = record_canonical(r2, &l2);
                if (l1 != l2 || memcmp(c1, c2, l1) != 0) {
                    fprintf(stderr, "%s:%d: not a fixed point\n  input: %s\n"
                            "  canonical: %s\n  again:     %s\n", __FILE__,
                            __LINE__, b.s, c1, c2);
                    check_test_failed_ = 1;
                }
            }
        }
        record_free(r2);
        record_free(r);
    }
    /* enough of each that the property says something */
    CHECK(ok > N / 5);
    CHECK(refused > N / 5);
    CHECK(judged > N / 2);
}

static void test_deleted(void)
{
    struct kx_record *r;

    r = parse_ok("{\"kind\":\"need\",\"id\":\"N1\",\"deleted\":true}");
    if (r) {
        CHECK_INT(r->deleted, 1);
        CHECK_STR(r->key, "need:N1");
        CHECK(r->name == NULL);
        CHECK(r->lang == NULL);
        CHECK(r->enterprise == NULL);
        CHECK_STR(record_canonical(r, NULL),
                  "{\"kind\":\"need\",\"id\":\"N1\",\"deleted\":true}");
    }
    record_free(r);
    /* other known fields are ignored, even if they would be invalid */
    CHECK_CANON("{\"deleted\":true,\"name\":\"\",\"budget\":-5,\"x_q\":1,"
                "\"kind\":\"need\",\"id\":\"N1\"}",
                "{\"kind\":\"need\",\"id\":\"N1\",\"deleted\":true}");
    /* but unknown ones, or ones of another kind, are still errors */
    REJECT("{\"kind\":\"need\",\"id\":\"N1\",\"deleted\":true,\"foo\":1}",
           "foo", "unknown field \"foo\"");
    REJECT("{\"kind\":\"need\",\"id\":\"N1\",\"deleted\":true,\"trl\":1}",
           "trl", "field \"trl\" is not allowed for kind need");
    REJECT("{\"kind\":\"need\",\"deleted\":true}", "id",
           "required field \"id\" is missing");
    REJECT("{\"kind\":\"need\",\"id\":\"N1\",\"deleted\":\"yes\"}", "deleted",
           "expected true or false, got \"yes\"");
    /* false is an ordinary record, and says nothing */
    REJECT("{\"kind\":\"need\",\"id\":\"N1\",\"deleted\":false}", "name",
           "required field \"name\" is missing");
    CHECK_CANON(EXPERT(",\"deleted\":false"), "{\"kind\":\"expert\","
                "\"id\":\"E1\",\"name\":\"张三\",\"lang\":\"zh\"}");
}

/* ---- raw input ------------------------------------------------------- */

static void test_bad_utf8(void)
{
    /* byte offsets are 0-based from the start of the line */
    const char text[] = "{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"x\","
                        "\"text\":\"ab\xff\"}";
    const char tags[] = "{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"x\","
                        "\"tags\":[\"a\",\"\xe4\xb8\"]}";
    const char key[] =
        "{\"kind\":\"expert\",\"id\":\"E1\",\"na\xc0me\":\"x\"}";
    const char nul[] = "{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"a\0b\"}";
    const char sur[] = "{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"\xed\xa0"
                       "\x80\"}";

    REJECT(text, "text", "invalid UTF-8 at byte 48");
    CHECK_INT(strchr(text, '\xff') - text, 48);
    REJECT(tags, "tags[1]", "invalid UTF-8 at byte 51");
    CHECK_INT(strstr(tags, "\xe4\xb8") - tags, 51);
    REJECT(key, "", "invalid UTF-8 at byte 30 (in a field name)");
    reject_at(nul, sizeof nul - 1, KX_BADINPUT, "name", "NUL byte at byte 36",
              __LINE__);
    REJECT(sur, "name", "invalid UTF-8 at byte 35");   /* a surrogate */
    /* escaped quotes and backslashes do not end a string early */
    REJECT("{\"kind\":\"expert\",\"id\":\"E1\",\"org\":\"a\\\\\\\",\\\"text"
           "\\\":\\\"\\\\\",\"name\":\"x\",\"text\":\"\xff\"}",
           "text", "invalid UTF-8 at byte");
    /* an escaped lone surrogate is not invalid bytes: json-c makes it
     * U+FFFD */
    record_free(parse_ok(EXPERT(",\"org\":\"\\ud800x\"")));
}

static void test_malformed_json(void)
{
    const char *trunc = "{\"kind\":\"expert\",\"id\":\"E01\",\"name\":\"张三\","
                        "\"org\":\"滨州";

    CHECK_INT(strlen(trunc), 57);
    REJECT(trunc, "", "malformed JSON: unexpected end of input at byte 57");
    REJECT("", "", "malformed JSON: empty input");
    REJECT("  \n", "", "malformed JSON: empty input");
    REJECT(EXPERT(",\"org\":\"x\",") , "", "malformed JSON:");
    REJECT("{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"x\"} {}", "",
           "malformed JSON: unexpected character at byte 39");
    REJECT("{\"kind\":\"expert\",\"id\":\"E1\",\"name\":tru}", "",
           "malformed JSON: boolean expected at byte");
    REJECT("{\"kind\":\"expert\" \"id\":\"E1\"}", "", "malformed JSON:");
    /* json-c stops at some bad numbers itself: the field is still named */
    REJECT(EXPERT(",\"capacity\":01"), "capacity", "expected an integer "
           "from 0 to 2147483647 (matches per week), got 01 (not a JSON "
           "number: no leading zeros)");
    REJECT(EXPERT(",\"x_a\":[1,-]"), "x_a", "- at byte 52 is not a JSON "
           "number: it must start with a digit");
    REJECT(EXPERT(",\"x_a\":1e"), "x_a", "1e at byte 49 is not a JSON "
           "number: an exponent must have digits");
}

static void test_non_object(void)
{
    REJECT("[1,2]", "", "expected a JSON object, got an array");
    REJECT("42", "", "expected a JSON object, got a number");
    REJECT("\"expert\"", "", "expected a JSON object, got a string");
    REJECT("true", "", "expected a JSON object, got a boolean");
    REJECT("null", "", "expected a JSON object, got null");
}

static void test_depth_bomb(void)
{
    size_t n = 100000, i, off;
    char *buf = malloc(n * 2 + 128);

    if (!buf)
        return;
    /* 40 levels inside a custom field */
    off = (size_t)sprintf(buf, "{\"kind\":\"expert\",\"id\":\"E1\","
                          "\"name\":\"x\",\"x_deep\":");
    for (i = 0; i < 40; i++)
        buf[off++] = '[';
    for (i = 0; i < 40; i++)
        buf[off++] = ']';
    strcpy(buf + off, "}");
    REJECT(buf, "", "malformed JSON: nesting deeper than 32 levels at byte");
    /* 31 levels are fine (the object itself is the first) */
    off = (size_t)sprintf(buf, "{\"kind\":\"expert\",\"id\":\"E1\","
                          "\"name\":\"x\",\"x_deep\":");
    for (i = 0; i < 31; i++)
        buf[off++] = '[';
    for (i = 0; i < 31; i++)
        buf[off++] = ']';
    strcpy(buf + off, "}");
    record_free(parse_ok(buf));
    /* a hundred thousand brackets, no crash */
    memset(buf, '[', n);
    buf[n] = '\0';
    REJECT(buf, "", "nesting deeper than 32 levels");
    memset(buf, '{', n);
    REJECT(buf, "", "malformed JSON:");
    free(buf);
}

static void test_line_too_long(void)
{
    size_t n = KX_LINE_MAX + 1;
    char *buf = malloc(n + 1);

    if (!buf)
        return;
    memset(buf, ' ', n);
    memcpy(buf, EXPERT(""), strlen(EXPERT("")));
    buf[n] = '\0';
    reject_at(buf, n, KX_TOOLARGE, "", "line is 1048577 bytes; at most "
              "1048576 bytes are allowed", __LINE__);
    /* at the limit, trailing blanks are fine */
    {
        struct kx_record *r = NULL;

        CHECK_INT(record_parse(buf, n - 1, T, &r, NULL), KX_OK);
        record_free(r);
    }
    free(buf);
}

static void test_from_json(void)
{
    struct json_object *o = json_tokener_parse(
        "{\"kind\":\"enterprise\",\"id\":\"ENT1\",\"name\":\"滨化\","
        "\"size\":\"large\",\"x_k\":[1]}");
    struct json_object *arr = json_object_new_array();
    struct kx_record *r = NULL;
    struct kx_error err;

    kx_error_clear(&err);
    CHECK_INT(record_from_json(o, T, &r, &err), KX_OK);
    if (r) {
        CHECK_STR(r->size, "large");
        /* the record is independent of the caller's object */
        json_object_put(o);
        o = NULL;
        CHECK_STR(record_canonical(r, NULL),
                  "{\"kind\":\"enterprise\",\"id\":\"ENT1\",\"name\":\"滨化\","
                  "\"lang\":\"zh\",\"size\":\"large\",\"x_k\":[1]}");
        CHECK_STR(r->name, "滨化");
    }
    record_free(r);
    json_object_put(o);

    r = (struct kx_record *)1;
    CHECK_INT(record_from_json(arr, T, &r, &err), KX_BADINPUT);
    CHECK(r == NULL);
    CHECK(strstr(err.msg, "expected a JSON object, got an array") != NULL);
    CHECK_INT(record_from_json(NULL, T, &r, &err), KX_BADINPUT);
    CHECK(strstr(err.msg, "got null") != NULL);
    json_object_put(arr);

    /* strings built in memory are checked for UTF-8 too */
    o = json_object_new_object();
    json_object_object_add(o, "kind", json_object_new_string("expert"));
    json_object_object_add(o, "id", json_object_new_string("E1"));
    json_object_object_add(o, "name", json_object_new_string("ab\xff"));
    CHECK_INT(record_from_json(o, T, &r, &err), KX_BADINPUT);
    CHECK_STR(err.field, "name");
    CHECK(strstr(err.msg, "invalid UTF-8 at byte 2") != NULL);
    json_object_put(o);

    /* built in memory: nesting and numbers are checked here too */
    {
        struct json_object *deep = json_object_new_array(), *cur = deep;
        int i;

        for (i = 0; i < 40; i++) {
            struct json_object *n = json_object_new_array();

            json_object_array_add(cur, n);
            cur = n;
        }
        o = json_object_new_object();
        json_object_object_add(o, "kind", json_object_new_string("expert"));
        json_object_object_add(o, "id", json_object_new_string("E1"));
        json_object_object_add(o, "name", json_object_new_string("x"));
        json_object_object_add(o, "x_deep", deep);
        CHECK_INT(record_from_json(o, T, &r, &err), KX_BADINPUT);
        CHECK_STR(err.field, "x_deep");
        CHECK(strstr(err.msg, "nesting deeper than 32 levels") != NULL);
        json_object_object_add(o, "x_deep", json_object_new_double(HUGE_VAL));
        CHECK_INT(record_from_json(o, T, &r, &err), KX_BADINPUT);
        CHECK(strstr(err.msg, "expected a finite number") != NULL);
        json_object_put(o);
    }

    /* err->file and err->line are left for the caller */
    strcpy(err.file, "needs.jsonl");
    err.line = 7;
    CHECK_INT(record_parse("[]", 2, T, &r, &err), KX_BADINPUT);
    CHECK_STR(err.file, "needs.jsonl");
    CHECK_INT(err.line, 7);
    CHECK_INT(record_parse("[]", 2, T, NULL, &err), KX_BADINPUT);
    CHECK_INT(record_parse(NULL, 0, T, &r, &err), KX_BADINPUT);
    record_free(NULL);
}

static void test_keys_and_kinds(void)
{
    char id[KX_ID_MAX + 1];
    enum kx_kind k = KX_KIND_LAST;
    struct kx_error err;
    int i;

    for (i = 0; i < KX_KIND_LAST; i++)
        CHECK_INT(record_kind_parse(record_kind_name((enum kx_kind)i)), i);
    CHECK_STR(record_kind_name(KX_KIND_ACADEMICIAN), "academician");
    CHECK(record_kind_name(KX_KIND_LAST) == NULL);
    CHECK(record_kind_name((enum kx_kind)-1) == NULL);
    CHECK_INT(record_kind_parse("person"), KX_KIND_LAST);
    CHECK_INT(record_kind_parse(""), KX_KIND_LAST);
    CHECK_INT(record_kind_parse(NULL), KX_KIND_LAST);

    kx_error_clear(&err);
    CHECK_INT(record_key_parse("academician:A-1.x_y", &k, id, &err), KX_OK);
    CHECK_INT(k, KX_KIND_ACADEMICIAN);
    CHECK_STR(id, "A-1.x_y");
    CHECK_INT(record_key_parse("need:N1", NULL, NULL, &err), KX_OK);
    CHECK_INT(record_key_parse("person:P1", &k, id, &err), KX_BADINPUT);
    CHECK(strstr(err.msg, "unknown kind \"person\" in key \"person:P1\" "
                 "(expected one of expert, academician, society, "
                 "enterprise, need, result)") != NULL);
    CHECK_INT(record_key_parse("expert:", &k, id, &err), KX_BADINPUT);
    CHECK(strstr(err.msg, "invalid id") != NULL);
    CHECK_INT(record_key_parse("expert:a:b", &k, id, &err), KX_BADINPUT);
    CHECK_INT(record_key_parse("expert", &k, id, &err), KX_BADINPUT);
    CHECK(strstr(err.msg, "expected a key \"kind:id\", got \"expert\"") !=
          NULL);
    CHECK_INT(record_key_parse(":E1", &k, id, &err), KX_BADINPUT);
    CHECK_INT(record_key_parse(NULL, &k, id, NULL), KX_BADINPUT);
    CHECK_INT(record_key_parse("expertexpertexpertexpert:E1", &k, id, &err),
              KX_BADINPUT);

    CHECK(record_id_valid("E0001"));
    CHECK(record_id_valid("a.b_c-D9"));
    CHECK(!record_id_valid(""));
    CHECK(!record_id_valid(NULL));
    CHECK(!record_id_valid("a b"));
    CHECK(!record_id_valid("a/b"));
    CHECK(!record_id_valid("a:b"));
    CHECK(!record_id_valid("é"));
    CHECK(record_id_valid("0123456789012345678901234567890123456789012345678"
                          "901234567890123"));
    CHECK(!record_id_valid("012345678901234567890123456789012345678901234567"
                           "89012345678901234"));
}


/* ---- profiles ----------------------------------------------------------- */

/* The fields a profile keeps are equal in r and its decoded profile. */
static void same_profile(const struct kx_record *a, const struct kx_record *b)
{
    const char *const sa[] = {a->name, a->org, a->title, a->region, a->owner,
                              a->status, a->enterprise, a->visibility};
    const char *const sb[] = {b->name, b->org, b->title, b->region, b->owner,
                              b->status, b->enterprise, b->visibility};
    const struct kx_strs *la[] = {&a->industries, &a->disciplines,
                                  &a->conflicts, &a->members};
    const struct kx_strs *lb[] = {&b->industries, &b->disciplines,
                                  &b->conflicts, &b->members};

    CHECK_INT(a->kind, b->kind);
    CHECK_STR(a->id, b->id);
    CHECK_STR(a->key, b->key);
    CHECK_INT(a->capacity, b->capacity);
    CHECK_INT(a->trl, b->trl);
    for (size_t i = 0; i < sizeof sa / sizeof sa[0]; i++) {
        CHECK((sa[i] == NULL) == (sb[i] == NULL));
        if (sa[i] && sb[i])
            CHECK_STR(sa[i], sb[i]);
    }
    for (size_t i = 0; i < 4; i++) {
        CHECK_INT(la[i]->n, lb[i]->n);
        for (size_t j = 0; j < la[i]->n && j < lb[i]->n; j++)
            CHECK_STR(la[i]->v[j], lb[i]->v[j]);
    }
}

static void test_profile_roundtrip(void)
{
    static const char *const recs[] = {
        "{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"张伟\","
        "\"org\":\"滨州学院\",\"title\":\"教授\",\"region\":\"371602\","
        "\"industries\":[\"2614\",\"C\"],\"disciplines\":[\"B06\"],"
        "\"conflicts\":[\"enterprise:X1\"],\"capacity\":2,"
        "\"text\":\"催化剂 catalysts\",\"tags\":[\"催化\"]}",
        "{\"kind\":\"society\",\"id\":\"S1\",\"name\":\"Chemical Society\","
        "\"members\":[\"expert:E1\",\"academician:A1\"]}",
        "{\"kind\":\"need\",\"id\":\"N1\",\"name\":\"废水处理\","
        "\"text\":\"需要高盐废水处理技术\",\"enterprise\":\"enterprise:X1\","
        "\"status\":\"open\",\"visibility\":\"confidential\"}",
        "{\"kind\":\"result\",\"id\":\"R1\",\"name\":\"膜分离\","
        "\"owner\":\"expert:E1\",\"trl\":6}",
    };

    for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++) {
        struct kx_record *r = parse_ok(recs[i]), *p = NULL;
        char *buf = NULL;
        size_t len = 0;

        if (!r)
            continue;
        CHECK_INT(record_profile_encode(r, &buf, &len), KX_OK);
        CHECK_INT(record_from_profile(buf, len, &p), KX_OK);
        if (p) {
            same_profile(r, p);
            /* what a profile leaves out is absent, not empty */
            CHECK(p->text == NULL && p->tags.n == 0 && p->email == NULL);
            CHECK(record_canonical(p, NULL) == NULL);
        }
        /* every strict prefix and a trailing byte are refused */
        for (size_t cut = 0; cut < len; cut++) {
            struct kx_record *q = (struct kx_record *)1;
            CHECK_INT(record_from_profile(buf, cut, &q), KX_CORRUPT);
            CHECK(q == NULL);
        }
        {
            char *longer = realloc(buf, len + 1);
            struct kx_record *q = NULL;

            CHECK(longer != NULL);
            if (longer) {
                buf = longer;
                buf[len] = 'x';
                CHECK_INT(record_from_profile(buf, len + 1, &q), KX_CORRUPT);
                record_free(q);
            }
        }
        free(buf);
        record_free(p);
        record_free(r);
    }
}

static void test_profile_corrupt(void)
{
    struct kx_record *r = parse_ok("{\"kind\":\"expert\",\"id\":\"E9\","
                                   "\"name\":\"x\"}"), *p = NULL;
    char *buf = NULL;
    size_t len = 0;

    if (!r)
        return;
    CHECK_INT(record_profile_encode(r, &buf, &len), KX_OK);
    buf[0] = 'Z'; /* magic */
    CHECK_INT(record_from_profile(buf, len, &p), KX_CORRUPT);
    buf[0] = 'K';
    buf[3] = (char)KX_KIND_LAST; /* kind */
    CHECK_INT(record_from_profile(buf, len, &p), KX_CORRUPT);
    buf[3] = (char)KX_KIND_EXPERT;
    /* the NUL after the name "x": 7 absent strings (2 bytes each) and 4
     * empty lists (2 bytes each) follow it */
    CHECK_INT(buf[len - 1 - 22], '\0');
    CHECK_INT(buf[len - 2 - 22], 'x');
    buf[len - 1 - 22] = 'y';
    CHECK_INT(record_from_profile(buf, len, &p), KX_CORRUPT);
    CHECK(p == NULL);
    free(buf);
    record_free(r);
}

int main(void)
{
    struct kx_error err;

    kx_error_clear(&err);
    if (taxo_load(KX_TAXONOMY_DIR, &T, &err) != KX_OK) {
        char buf[1024];

        kx_error_format(&err, buf, sizeof buf);
        fprintf(stderr, "cannot load %s: %s\n", KX_TAXONOMY_DIR, buf);
        return 1;
    }
    RUN(test_expert);
    RUN(test_academician);
    RUN(test_society);
    RUN(test_enterprise);
    RUN(test_need);
    RUN(test_result);
    RUN(test_kind_and_id);
    RUN(test_name);
    RUN(test_text);
    RUN(test_tags);
    RUN(test_codes);
    RUN(test_lang);
    RUN(test_email);
    RUN(test_email_mailbox);
    RUN(test_dates);
    RUN(test_person_fields);
    RUN(test_society_fields);
    RUN(test_enterprise_fields);
    RUN(test_need_fields);
    RUN(test_result_fields);
    RUN(test_unknown_and_duplicate_fields);
    RUN(test_custom_fields);
    RUN(test_canonical_order_and_defaults);
    RUN(test_canonical_round_trip);
    RUN(test_budget);
    RUN(test_capacity_and_trl);
    RUN(test_numbers_as_written);
    RUN(test_from_json_numbers);
    RUN(test_canonical_fixed_point);
    RUN(test_deleted);
    RUN(test_bad_utf8);
    RUN(test_malformed_json);
    RUN(test_non_object);
    RUN(test_depth_bomb);
    RUN(test_line_too_long);
    RUN(test_from_json);
    RUN(test_keys_and_kinds);
    RUN(test_profile_roundtrip);
    RUN(test_profile_corrupt);
    taxo_free(T);
    return check_report();
}
