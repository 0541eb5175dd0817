/* test_digest.c - digests without a matcher: weeks, encodings, addresses,
 * regions; then, on a small store with a hand-written plan, recipients,
 * composing (deterministic, valid MIME pieces), preview = what is sent,
 * the outbox (down server leaves messages planned, re-runs send nothing),
 * unsubscribe tokens, frequency and liaison settings. */
#include "check.h"
#include "digest.h"
#include "index.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

static char dir[64];
static const char *W = "2026-W48";

/* ---- pure functions ----------------------------------------------------- */

static void test_weeks(void)
{
    int y, m, d;
    char buf[API_DIGEST_WEEK_MAX];
    struct kx_error e;

    CHECK_INT(api_digest_week_parse("2026-W48", &y, &m, &d, NULL), KX_OK);
    CHECK(y == 2026 && m == 11 && d == 23);
    CHECK_INT(api_digest_week_parse("2026-W01", &y, &m, &d, NULL), KX_OK);
    CHECK(y == 2025 && m == 12 && d == 29); /* week 1 holds 1 January */
    CHECK_INT(api_digest_week_parse("2026-W53", NULL, NULL, NULL, NULL), KX_OK);
    CHECK_INT(api_digest_week_parse("2025-W53", NULL, NULL, NULL, &e),
              KX_BADINPUT);
    CHECK(strstr(e.msg, "weeks 1 to 52") != NULL);
    CHECK_INT(api_digest_week_parse("2026-W00", NULL, NULL, NULL, NULL),
              KX_BADINPUT);
    CHECK_INT(api_digest_week_parse("2026W48", NULL, NULL, NULL, &e),
              KX_BADINPUT);
    CHECK(strstr(e.msg, "YYYY-Www") != NULL);
    CHECK_INT(api_digest_week_parse(NULL, NULL, NULL, NULL, NULL), KX_BADINPUT);
    setenv("TZ", "UTC", 1);
    tzset();
    api_digest_week_of(1798761600, buf); /* 2027-01-01, a Friday */
    CHECK_STR(buf, "2026-W53");
    api_digest_week_of(1795392000, buf); /* 2026-11-23, a Monday */
    CHECK_STR(buf, "2026-W48");
    api_digest_week_prev("2027-W01", buf);
    CHECK_STR(buf, "2026-W53");
    api_digest_week_prev("2026-W48", buf);
    CHECK_STR(buf, "2026-W47");
}

static int b64v(char c)
{
    const char *t =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = strchr(t, c);
    return c && p ? (int)(p - t) : -1;
}

/* Decodes base64 (skipping CR, LF) into out; returns its length. */
static size_t unb64(const char *s, size_t n, char *out)
{
    unsigned acc = 0;
    int bits = 0;
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        int v = b64v(s[i]);
        if (v < 0)
            continue;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    return o;
}

static int utf8_valid(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t l = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
        if (!l || i + l > n)
            return 0;
        for (size_t k = 1; k < l; k++)
            if (((unsigned char)s[i + k] & 0xc0) != 0x80)
                return 0;
        i += l;
    }
    return 1;
}

static void test_encoded_words(void)
{
    const char *zh = "【滨州科协】2026年第48周：为您推荐 3 项企业技术需求，"
                     "涉及高盐废水处理、催化裂化与聚丙烯新牌号开发";
    char *w = api_digest_encode_words(zh), whole[1024] = "", dec[512];
    int words = 0, ok = 1;

    CHECK(w != NULL);
    /* each word =?UTF-8?B?...?=, at most 64 characters, whole characters,
     * separated by CRLF SP; together they give the text back */
    for (char *p = w; p && *p;) {
        char *end = strstr(p, "?="), *next;
        CHECK(strncmp(p, "=?UTF-8?B?", 10) == 0);
        if (!end)
            break;
        CHECK(end + 2 - p <= 64);
        size_t n = unb64(p + 10, (size_t)(end - p - 10), dec);
        if (!utf8_valid(dec, n))
            ok = 0;
        strcat(whole, dec);
        words++;
        next = end + 2;
        if (*next) {
            CHECK(strncmp(next, "\r\n ", 3) == 0);
            next += 3;
        }
        p = next;
    }
    CHECK(ok);
    CHECK(words >= 3);
    CHECK_STR(whole, zh);
    free(w);
    w = api_digest_encode_words("Weekly digest 48");
    CHECK_STR(w, "Weekly digest 48");
    free(w);
    w = api_digest_encode_words("Li Jun (李军)");
    CHECK(strncmp(w, "=?UTF-8?B?", 10) == 0);
    free(w);
    w = api_digest_encode_words("x\r\nBcc: evil@example.com");
    CHECK(strchr(w, '\n') == NULL || strstr(w, "\r\n =?") != NULL);
    CHECK(strstr(w, "Bcc:") == NULL);
    free(w);
}

/* What a header value made by api_digest_encode_words decodes to, into
 * out (n bytes); 0 if it is not made of printable ASCII, folded only with
 * CRLF SP between encoded words, each at most 64 characters. */
static int header_decode(const char *v, char *out, size_t n)
{
    char dec[256];
    size_t o = 0;

    out[0] = '\0';
    for (const char *p = v; *p; p++)
        if ((*p < 0x20 || *p > 0x7e) &&
            !(p[0] == '\r' && p[1] == '\n' && p[2] == ' ') &&
            !(p[0] == '\n' && p > v && p[-1] == '\r' && p[1] == ' '))
            return 0;
    if (strncmp(v, "=?", 2) != 0) {
        snprintf(out, n, "%s", v);
        return strlen(v) <= 64;
    }
    for (const char *p = v; *p;) {
        const char *end = strstr(p, "?=");
        size_t k;
        if (strncmp(p, "=?UTF-8?B?", 10) != 0 || !end || end + 2 - p > 64)
            return 0;
        k = unb64(p + 10, (size_t)(end - p - 10), dec);
        if (o + k >= n)
            return 0;
        memcpy(out + o, dec, k + 1);
        o += k;
        p = end + 2;
        if (*p && strncmp(p, "\r\n ", 3) != 0)
            return 0;
        p += *p ? 3 : 0;
    }
    return 1;
}

/* 1 if UTF-8 s holds a control character, a line or paragraph separator
 * or a bidirectional embedding, override or isolate. */
static int has_forbidden(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    for (size_t i = 0; u[i];) {
        unsigned long c = u[i];
        size_t l = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        if (l > 1)
            c &= 0x7f >> l;
        for (size_t k = 1; k < l && u[i + k]; k++)
            c = c << 6 | (u[i + k] & 0x3f);
        if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 ||
            c == 0x2029 || (c >= 0x202a && c <= 0x202e) ||
            (c >= 0x2066 && c <= 0x2069))
            return 1;
        i += l;
    }
    return 0;
}

/* api_digest_header_value(in) decodes to want, and header_clean gives the
 * same text. */
static void header_is(const char *in, const char *want, int line)
{
    char *v = api_digest_header_value(in), *c = api_digest_header_clean(in);
    char dec[1024];
    int ok = v && c && header_decode(v, dec, sizeof dec) &&
             strcmp(dec, want) == 0 && strcmp(c, want) == 0 &&
             !has_forbidden(dec);

    if (!ok) {
        fprintf(stderr, "%s:%d: header value of \"%s\" is \"%s\", decodes "
                "to \"%s\", cleans to \"%s\"; want \"%s\"\n", __FILE__, line,
                in, v ? v : "(null)", dec, c ? c : "(null)", want);
        check_test_failed_ = 1;
    }
    free(v);
    free(c);
}
#define HEADER_IS(in, want) header_is((in), (want), __LINE__)

static void test_header_values(void)
{
    /* each line-breaking character becomes one space */
    HEADER_IS("张\r伟", "张 伟");
    HEADER_IS("张\n伟", "张 伟");
    HEADER_IS("张\r\n伟", "张 伟");
    HEADER_IS("张\xc2\x85伟", "张 伟");          /* NEL */
    HEADER_IS("张\xe2\x80\xa8伟", "张 伟");      /* LINE SEPARATOR */
    HEADER_IS("张\xe2\x80\xa9伟", "张 伟");      /* PARAGRAPH SEPARATOR */
    HEADER_IS("Li\tJun", "Li Jun");              /* TAB */
    HEADER_IS("Li\x0b\x0cJun", "Li Jun");        /* VT, FF */
    HEADER_IS("张\xe3\x80\x80伟", "张 伟");      /* IDEOGRAPHIC SPACE */
    /* the other controls and the bidi controls go */
    HEADER_IS("张\xc2\x90伟", "张伟");           /* C1: DCS */
    HEADER_IS("张\xc2\x9b" "31m伟", "张31m伟");  /* C1: CSI */
    HEADER_IS("张\xc2\x80\xc2\x9f伟", "张伟");   /* first and last C1 */
    HEADER_IS("a\x01\x07\x1b\x1f\x7f" "b", "ab");
    HEADER_IS("evil\xe2\x80\xae" "gpj.exe", "evilgpj.exe"); /* RLO */
    HEADER_IS("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad" "x", "x");
    HEADER_IS("\xe2\x81\xa6" "a\xe2\x81\xa7" "b\xe2\x81\xa8" "c\xe2\x81\xa9",
              "abc");                              /* isolates */
    HEADER_IS("a\xe2\x80\x8e" "b\xe2\x80\x8f", "ab"); /* LRM, RLM */
    /* runs collapse, ends are trimmed, nothing becomes empty words */
    HEADER_IS("  \t Li \r\n\xc2\x85 \xe2\x80\xa8 Jun \r\n ", "Li Jun");
    HEADER_IS("\r\n\xe2\x80\xae\t", "");
    HEADER_IS("", "");
    /* an injected header stays inside the one value */
    HEADER_IS("x\r\nBcc: evil@example.com", "x Bcc: evil@example.com");
    /* bytes that are not UTF-8 become U+FFFD */
    HEADER_IS("a\xff" "b", "a\xef\xbf\xbd" "b");
    HEADER_IS("a\xc0\xaf" "b", "a\xef\xbf\xbd\xef\xbf\xbd" "b"); /* overlong */
    HEADER_IS("a\xed\xa0\x80", "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    {
        char *v = api_digest_header_value(NULL);
        CHECK_STR(v, "");
        free(v);
    }
    /* long text: cut at a character boundary, and long ASCII is encoded
     * too so that no line of the header grows past 78 */
    {
        char in[1024] = "", dec[1024], *v, *c;
        for (int i = 0; i < 100; i++)
            strcat(in, "张");
        c = api_digest_header_clean(in);
        CHECK(c && strlen(c) == 198 && utf8_valid(c, strlen(c)));
        v = api_digest_header_value(in);
        CHECK(v && header_decode(v, dec, sizeof dec));
        CHECK_STR(dec, c);
        free(v);
        free(c);
        memset(in, 'a', 300);
        in[300] = '\0';
        in[150] = ' ';
        c = api_digest_header_clean(in);
        CHECK(c && strlen(c) == API_DIGEST_HEADER_TEXT_MAX);
        v = api_digest_header_value(in);
        CHECK(v && strncmp(v, "=?UTF-8?B?", 10) == 0);
        CHECK(v && header_decode(v, dec, sizeof dec));
        CHECK_STR(dec, c);
        /* a folded line: SP and one word */
        for (const char *p = v, *e; v && (e = strstr(p, "\r\n")); p = e + 2)
            CHECK(e - p <= 65);
        free(v);
        free(c);
    }
    /* plain short ASCII stays plain */
    {
        char *v = api_digest_header_value("  Li   Jun ");
        CHECK_STR(v, "Li Jun");
        free(v);
    }
}

static void test_base64_lines(void)
{
    char data[1000], dec[1400];
    char *b;
    size_t n;

    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 7 + 3);
    b = api_digest_base64_lines(data, sizeof data);
    CHECK(b != NULL);
    for (char *p = b, *e; (e = strstr(p, "\r\n")); p = e + 2)
        CHECK(e - p <= 76);
    n = unb64(b, strlen(b), dec);
    CHECK_INT(n, sizeof data);
    CHECK(memcmp(dec, data, sizeof data) == 0);
    free(b);
    b = api_digest_base64_lines("", 0);
    CHECK_STR(b, "");
    free(b);
    b = api_digest_base64_lines("ab", 2);
    CHECK_STR(b, "YWI=\r\n");
    free(b);
}

static void test_regions_addresses(void)
{
    CHECK(api_digest_region_in("371602001", "371600"));
    CHECK(api_digest_region_in("371602001", "370000"));
    CHECK(api_digest_region_in("371602001", "371602"));
    CHECK(api_digest_region_in("371602", "371602"));
    CHECK(!api_digest_region_in("371702", "371600"));
    CHECK(!api_digest_region_in("371603", "371602"));
    CHECK(!api_digest_region_in("371602", "37160"));
    CHECK(!api_digest_region_in(NULL, "371600"));
    CHECK(record_email_valid("sun.lf@upc.example.cn"));
    CHECK(!record_email_valid("sun lf@upc.example.cn"));
    CHECK(!record_email_valid("a@b\r\nBcc: x@y"));
    CHECK(!record_email_valid("<a@b.c>"));
    CHECK(!record_email_valid("nobody"));
    CHECK(!record_email_valid("a@@b"));
    CHECK(!record_email_valid("@b.c"));
    CHECK(!record_email_valid("张@b.c"));
    /* the record format's rule, the same everywhere */
    CHECK(record_email_valid("kxmatch@localhost"));
    CHECK(record_email_valid("a+tag@xn--fiqs8s.example.cn"));
    CHECK(!record_email_valid("a@[192.0.2.1]"));
    CHECK(!record_email_valid("a@b.cn."));
    CHECK(!record_email_valid("a@b..cn"));
    CHECK(!record_email_valid("a@b.cn\x7f"));
    CHECK(!record_email_valid(NULL));
    CHECK(!record_email_valid("a@b"));
}

static void test_mail_bad_url(void)
{
    struct api_mail_config c = {0};
    api_mail *m = NULL;
    struct kx_error e;

    c.url = "http://127.0.0.1:25";
    CHECK_INT(api_mail_open(&c, &m, &e), KX_BADINPUT);
    CHECK(m == NULL);
    CHECK(strstr(e.msg, "smtp://") != NULL);
    c.url = "smtp://127.0.0.1:25";
    c.user = "u";
    CHECK_INT(api_mail_open(&c, &m, &e), KX_BADINPUT);
}

/* ---- on a store --------------------------------------------------------- */

static const char records[] =
    "{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"张伟\",\"title\":\"教授\","
    "\"org\":\"滨州学院\",\"email\":\"zhang@example.cn\",\"capacity\":2,"
    "\"region\":\"371602\",\"text\":\"废水处理 催化\"}\n"
    "{\"kind\":\"expert\",\"id\":\"E2\",\"name\":\"李娜\",\"text\":\"无邮箱\","
    "\"region\":\"371602\"}\n"
    "{\"kind\":\"enterprise\",\"id\":\"C1\",\"name\":\"滨州测试化工有限公司\","
    "\"email\":\"c1@example.com\",\"region\":\"371602\"}\n"
    "{\"kind\":\"need\",\"id\":\"N1\",\"name\":\"高盐废水处理工艺优化\","
    "\"enterprise\":\"enterprise:C1\",\"region\":\"371602001\","
    "\"text\":\"高盐废水处理\"}\n"
    "{\"kind\":\"need\",\"id\":\"N2\",\"name\":\"保密的新工艺\","
    "\"enterprise\":\"enterprise:C1\",\"region\":\"371602\","
    "\"visibility\":\"confidential\",\"text\":\"保密\"}\n"
    "{\"kind\":\"society\",\"id\":\"S1\",\"name\":\"滨州市化工学会\","
    "\"contact\":\"s1@example.cn\",\"members\":[\"expert:E1\"],"
    "\"level\":\"municipal\",\"region\":\"371600\"}\n";

static idx *x;

static void put(enum store_table tb, const char *k, const char *v)
{
    store_txn *t = NULL;

    CHECK_INT(store_txn_begin(idx_store(x), 1, &t), KX_OK);
    CHECK_INT(store_kv_put(t, tb, k, strlen(k), v, strlen(v)), KX_OK);
    CHECK_INT(store_txn_commit(t), KX_OK);
}

static void setup(void)
{
    char path[128];
    const char *files[1] = {path};
    FILE *f;
    struct idx_counts c;
    struct kx_error e;

    snprintf(dir, sizeof dir, "/tmp/kx_test_digest_XXXXXX");
    if (!mkdtemp(dir))
        exit(1);
    snprintf(path, sizeof path, "%s/r.jsonl", dir);
    f = fopen(path, "w");
    fputs(records, f);
    fclose(f);
    strcat(dir, "/db");
    if (idx_open(dir, IDX_WRITE, KX_TAXONOMY_DIR, &x, &e) != KX_OK ||
        idx_ingest(x, files, 1, 0, &c, NULL, NULL, NULL, &e) != KX_OK) {
        fprintf(stderr, "setup: %s\n", e.msg);
        exit(1);
    }
    put(STORE_DIGEST, "plan:2026-W48",
        "{\"week\":\"2026-W48\",\"created\":1795420800,"
        "\"nonce\":\"0123456789abcdef\",\"new_needs\":["
        "{\"need\":\"need:N1\",\"region\":\"371602001\",\"confidential\":false},"
        "{\"need\":\"need:N2\",\"region\":\"371602\",\"confidential\":true}],"
        "\"moves\":[{\"need\":\"need:N1\",\"partner\":\"expert:E1\","
        "\"stage\":\"contacted\",\"updated\":\"2026-11-24T09:00:00Z\","
        "\"region\":\"371602001\"}]}");
    put(STORE_DIGEST, "plan:2026-W48:pair:need:N1|expert:E1",
        "{\"score\":0.8123,\"recipient\":\"expert:E1\","
        "\"enterprise\":\"enterprise:C1\",\"region\":\"371602001\"}");
    put(STORE_DIGEST, "plan:2026-W48:pair:need:N1|expert:E2",
        "{\"score\":0.5,\"recipient\":\"expert:E2\","
        "\"enterprise\":\"enterprise:C1\",\"region\":\"371602001\"}");
}

static void test_liaison_settings(void)
{
    struct kx_error e;
    json_object *o = NULL, *v;

    CHECK_INT(api_digest_liaison_set(idx_store(x), idx_taxo(x), "999999",
                                     "a@b.cn", &e), KX_BADINPUT);
    CHECK(strstr(e.msg, "region code") != NULL);
    CHECK_INT(api_digest_liaison_set(idx_store(x), idx_taxo(x), "371600",
                                     "not an address", &e), KX_BADINPUT);
    CHECK_INT(api_digest_liaison_set(idx_store(x), idx_taxo(x), "371600",
                                     "liaison@example.cn", NULL), KX_OK);
    CHECK_INT(api_digest_liaison_set(idx_store(x), idx_taxo(x), "371700",
                                     "heze@example.cn", NULL), KX_OK);
    CHECK_INT(api_digest_liaison_del(idx_store(x), "371700", NULL), KX_OK);
    CHECK_INT(api_digest_liaison_del(idx_store(x), "371700", &e), KX_NOTFOUND);
    CHECK_INT(api_digest_liaison_list(idx_store(x), &o), KX_OK);
    CHECK(json_object_object_get_ex(o, "371600", &v));
    CHECK_STR(json_object_get_string(v), "liaison@example.cn");
    CHECK_INT(json_object_object_length(o), 1);
    json_object_put(o);
}

static void test_recipients(void)
{
    json_object *o = NULL;
    struct kx_error e;
    char got[512] = "";

    CHECK_INT(api_digest_recipients(idx_store(x), W, &o, NULL), KX_OK);
    for (size_t i = 0; o && i < json_object_array_length(o); i++) {
        strcat(got, json_object_get_string(json_object_array_get_idx(o, i)));
        strcat(got, " ");
    }
    CHECK_STR(got, "enterprise:C1 expert:E1 expert:E2 liaison:371600 "
                   "society:S1 ");
    json_object_put(o);
    CHECK_INT(api_digest_recipients(idx_store(x), "2026-W47", &o, &e),
              KX_NOTFOUND);
    CHECK(strstr(e.msg, "no plan for week 2026-W47") != NULL);
}

static const char *jstr(json_object *o, const char *k)
{
    json_object *v;

    return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v)
                                               : NULL;
}

/* The text/plain part of a raw message, decoded. */
static void plain_part(const char *raw, char *out)
{
    const char *p = strstr(raw, "Content-Type: text/plain; charset=UTF-8");
    const char *body = p ? strstr(p, "\r\n\r\n") : NULL;
    const char *end = body ? strstr(body, "\r\n--") : NULL;

    out[0] = '\0';
    if (body && end)
        unb64(body + 4, (size_t)(end - body - 4), out);
}

static char preview_raw[65536];

static void test_preview(void)
{
    struct api_digest_opts o = {"http://kx.example.cn:8080/", "digest@bzkx.example.cn",
                                NULL, "测试市科学技术协会", "测试科协"};
    json_object *p = NULL, *q = NULL;
    struct kx_error e;
    static char text[65536];
    const char *raw;

    CHECK_INT(api_digest_preview(idx_store(x), idx_taxo(x), &o, NULL, "expert:E1",
                                 W, &p, &e), KX_OK);
    if (!p)
        return;
    CHECK_STR(jstr(p, "state"), "not composed");
    CHECK_STR(jstr(p, "to"), "zhang@example.cn");
    CHECK_STR(jstr(p, "frequency"), "weekly");
    CHECK(strstr(jstr(p, "subject"), "为您推荐 1 项企业技术需求") != NULL);
    /* the organisation is the configured one, named in subject, greeting
     * (the sender's name defaults to it) and footer */
    CHECK(strncmp(jstr(p, "subject"), "【测试科协】", strlen("【测试科协】")) == 0);
    CHECK(strstr(jstr(p, "text"), "您好！测试市科学技术协会根据") != NULL);
    CHECK(strstr(jstr(p, "text"), "\n测试市科学技术协会 · http://kx.example.cn:8080\n") != NULL);
    CHECK(strstr(jstr(p, "html"), "<br>测试市科学技术协会<br>") != NULL);
    CHECK(strstr(jstr(p, "text"), "高盐废水处理工艺优化") != NULL);
    CHECK(strstr(jstr(p, "text"), "滨州测试化工有限公司") != NULL);
    CHECK(strstr(jstr(p, "text"), "http://kx.example.cn:8080/expert.html?need=N1") != NULL);
    CHECK(strstr(jstr(p, "html"),
                 "<a href=\"http://kx.example.cn:8080/expert.html?need=N1\">") != NULL);
    /* and the proposal's one-click answer link */
    CHECK(strstr(jstr(p, "text"), "一键回复（有意向 / 不合适）：http://kx.example.cn:8080/answer.html#t=") != NULL);
    raw = jstr(p, "message");
    CHECK(strstr(raw, "\r\nMIME-Version: 1.0\r\n") != NULL);
    CHECK(strstr(raw, "Content-Type: multipart/alternative;\r\n boundary=\"=_kxmatch_0123456789abcdef\"") != NULL);
    CHECK(strstr(raw, "List-Unsubscribe:\r\n <http://kx.example.cn:8080/v1/digests/unsubscribe?token=") != NULL);
    CHECK(strstr(raw, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n") != NULL);
    CHECK(strstr(raw, "Message-ID: <kxmatch.2026-W48.expert.E1.0123456789abcdef@bzkx.example.cn>") != NULL);
    CHECK(strstr(raw, "From: =?UTF-8?B?") == raw);
    CHECK(strstr(raw, "<digest@bzkx.example.cn>") != NULL);
    CHECK(strstr(raw, "Subject: =?UTF-8?B?") != NULL);
    CHECK(strstr(raw, "text/html; charset=UTF-8") != NULL);
    CHECK(strstr(raw, "--=_kxmatch_0123456789abcdef--\r\n") != NULL);
    /* every line ends in CRLF and is short */
    for (const char *s = raw, *n; (n = strchr(s, '\n')); s = n + 1) {
        CHECK(n > s && n[-1] == '\r');
        CHECK(n - s <= 100);
    }
    plain_part(raw, text);
    CHECK(strstr(text, "张伟 教授：") != NULL);
    CHECK(strstr(text, "\r\n") != NULL);
    snprintf(preview_raw, sizeof preview_raw, "%s", raw);
    /* composing is deterministic */
    CHECK_INT(api_digest_preview(idx_store(x), idx_taxo(x), &o, NULL, "expert:E1",
                                 W, &q, NULL), KX_OK);
    CHECK_STR(jstr(q, "message"), raw);
    json_object_put(q);
    json_object_put(p);

    /* the enterprise sees its partners, never their addresses */
    CHECK_INT(api_digest_preview(idx_store(x), idx_taxo(x), &o, NULL,
                                 "enterprise:C1", W, &p, NULL), KX_OK);
    CHECK(p && strstr(jstr(p, "text"), "张伟") != NULL);
    CHECK(p && strstr(jstr(p, "text"), "zhang@example.cn") == NULL);
    CHECK(p && strstr(jstr(p, "text"), "http://kx.example.cn:8080/"
                                       "enterprise.html?need=N1&partner=expert:E1"));
    CHECK(p && !strstr(jstr(p, "text"), "一键回复")); /* not the enterprise's */
    json_object_put(p);
    /* the society hears about its member */
    CHECK_INT(api_digest_preview(idx_store(x), idx_taxo(x), &o, NULL, "society:S1",
                                 W, &p, NULL), KX_OK);
    CHECK(p && strstr(jstr(p, "text"), "推荐会员：张伟") != NULL);
    json_object_put(p);
    /* the liaison: new needs (the confidential one only counted), the
     * proposals and the pipeline move */
    CHECK_INT(api_digest_preview(idx_store(x), idx_taxo(x), &o, NULL,
                                 "liaison:371600", W, &p, NULL), KX_OK);
    if (p) {
        const char *t = jstr(p, "text");
        CHECK(strstr(t, "新增需求 2 项") != NULL);
        CHECK(strstr(t, "另有 1 项保密需求") != NULL);
        CHECK(strstr(t, "保密的新工艺") == NULL);
        CHECK(strstr(t, "已联系") != NULL);
        CHECK_STR(jstr(p, "to"), "liaison@example.cn");
    }
    json_object_put(p);
    /* who cannot be previewed, and why */
    CHECK_INT(api_digest_preview(idx_store(x), idx_taxo(x), &o, NULL, "expert:E2",
                                 W, &p, &e), KX_NOTFOUND);
    CHECK(strstr(e.msg, "no usable e-mail address") != NULL);
    CHECK_INT(api_digest_preview(idx_store(x), idx_taxo(x), &o, NULL,
                                 "expert:NOPE", W, &p, &e), KX_NOTFOUND);
    CHECK_INT(api_digest_preview(idx_store(x), idx_taxo(x), &o, NULL, "garbage",
                                 W, &p, &e), KX_BADINPUT);
    CHECK_INT(api_digest_preview(idx_store(x), idx_taxo(x), &o, NULL, "expert:E1",
                                 "2026-W47", &p, &e), KX_NOTFOUND);
    CHECK_INT(api_digest_preview(idx_store(x), idx_taxo(x), &o, NULL, "expert:E1",
                                 "W48", &p, &e), KX_BADINPUT);
}

/* A port nothing listens on. */
static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int s = socket(AF_INET, SOCK_STREAM, 0), port;

    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(s, (struct sockaddr *)&a, sizeof a);
    getsockname(s, (struct sockaddr *)&a, &len);
    port = ntohs(a.sin_port);
    close(s);
    return port;
}

static size_t count_files(const char *d)
{
    DIR *dp = opendir(d);
    struct dirent *de;
    size_t n = 0;

    while (dp && (de = readdir(dp)))
        n += strstr(de->d_name, ".eml") != NULL;
    if (dp)
        closedir(dp);
    return n;
}

static void test_outbox(void)
{
    struct api_digest_opts o = {"http://kx.example.cn:8080/", "digest@bzkx.example.cn",
                                NULL, "测试市科学技术协会", "测试科协"};
    struct api_digest_counts c;
    struct api_mail_config mc = {0};
    struct api_digest_send_opts so = {0};
    struct kx_error e;
    json_object *p = NULL;
    char url[64], out[128];

    CHECK_INT(api_digest_compose(idx_store(x), idx_taxo(x), &o, W, &c, NULL),
              KX_OK);
    CHECK_INT(c.composed, 4); /* E2 has no address */
    CHECK_INT(c.noaddr, 1);
    /* composing again adds nothing */
    CHECK_INT(api_digest_compose(idx_store(x), idx_taxo(x), &o, W, &c, NULL),
              KX_OK);
    CHECK_INT(c.composed, 0);
    /* preview now shows the outbox copy: the very bytes previewed before */
    CHECK_INT(api_digest_preview(idx_store(x), idx_taxo(x), &o, NULL, "expert:E1",
                                 W, &p, NULL), KX_OK);
    CHECK_STR(jstr(p, "state"), "planned");
    CHECK_STR(jstr(p, "message"), preview_raw);
    json_object_put(p);

    /* the SMTP server is down: exit "unavailable", nothing lost */
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", closed_port());
    mc.url = url;
    so.smtp = &mc;
    CHECK_INT(api_digest_send(idx_store(x), W, &so, &c, &e), KX_UNAVAILABLE);
    CHECK_INT(c.planned, 4);
    CHECK_INT(c.sent, 0);
    CHECK_INT(c.delivered, 0);

    /* to files instead: all four, then nothing on a re-run */
    snprintf(out, sizeof out, "%s/../outbox", dir);
    so.smtp = NULL;
    so.outbox_dir = out;
    CHECK_INT(api_digest_send(idx_store(x), W, &so, &c, &e), KX_OK);
    CHECK_INT(c.delivered, 4);
    CHECK_INT(c.sent, 4);
    CHECK_INT(c.planned, 0);
    CHECK_INT(count_files(out), 4);
    CHECK_INT(api_digest_send(idx_store(x), W, &so, &c, &e), KX_OK);
    CHECK_INT(c.delivered, 0);
    CHECK_INT(c.sent, 4);
    CHECK_INT(count_files(out), 4);
    {
        char path[256], buf[65536];
        FILE *f;
        size_t n;
        snprintf(path, sizeof path, "%s/2026-W48_expert_E1.eml", out);
        f = fopen(path, "rb");
        CHECK(f != NULL);
        n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        buf[n] = '\0';
        if (f)
            fclose(f);
        CHECK_STR(buf, preview_raw);
    }
    CHECK_INT(api_digest_status(idx_store(x), W, &p, NULL), KX_OK);
    {
        json_object *cnt = NULL, *sent = NULL;
        CHECK(p && json_object_object_get_ex(p, "counts", &cnt) &&
              json_object_object_get_ex(cnt, "sent", &sent));
        CHECK_INT(json_object_get_int(sent), 4);
    }
    json_object_put(p);
}

static void test_unsubscribe(void)
{
    char token[API_DIGEST_TOKEN_LEN + 1], who[KX_KEY_MAX], bad[40];
    struct kx_error e;
    store_txn *t = NULL;

    CHECK_INT(api_digest_token(idx_store(x), "expert:E1", token, NULL), KX_OK);
    CHECK_INT(strlen(token), API_DIGEST_TOKEN_LEN);
    CHECK(strstr(preview_raw, token) != NULL); /* the one in the message */
    CHECK_INT(api_digest_unsubscribe(idx_store(x), token, who, NULL), KX_OK);
    CHECK_STR(who, "expert:E1");
    CHECK_INT(store_txn_begin(idx_store(x), 0, &t), KX_OK);
    CHECK_INT(api_digest_frequency_on(t, "expert:E1"), 0);
    CHECK_INT(api_digest_frequency_on(t, "enterprise:C1"), 1);
    store_txn_abort(t);
    /* again: still fine (one-click links get clicked twice) */
    CHECK_INT(api_digest_unsubscribe(idx_store(x), token, NULL, NULL), KX_OK);
    snprintf(bad, sizeof bad, "%s", token);
    bad[0] = bad[0] == 'a' ? 'b' : 'a';
    CHECK_INT(api_digest_unsubscribe(idx_store(x), bad, NULL, &e), KX_NOTFOUND);
    CHECK(strstr(e.msg, "unknown unsubscribe token") != NULL);
    CHECK_INT(api_digest_unsubscribe(idx_store(x), "xyz", NULL, &e), KX_BADINPUT);
    CHECK_INT(api_digest_unsubscribe(idx_store(x), NULL, NULL, &e), KX_BADINPUT);
    /* back on, by hand */
    CHECK_INT(api_digest_frequency_set(idx_store(x), "expert:E1", "weekly",
                                       NULL), KX_OK);
    CHECK_INT(store_txn_begin(idx_store(x), 0, &t), KX_OK);
    CHECK_INT(api_digest_frequency_on(t, "expert:E1"), 1);
    store_txn_abort(t);
    CHECK_INT(api_digest_frequency_set(idx_store(x), "expert:E1", "daily", &e),
              KX_BADINPUT);
    CHECK_INT(api_digest_frequency_set(idx_store(x), "expert:NOPE", "off", &e),
              KX_NOTFOUND);
    CHECK_INT(api_digest_frequency_set(idx_store(x), "need:N1", "off", &e),
              KX_BADINPUT);
    CHECK_INT(api_digest_frequency_set(idx_store(x), "liaison:371600", "off",
                                       NULL), KX_OK);
    CHECK_INT(api_digest_frequency_set(idx_store(x), "liaison:110000", "off",
                                       &e), KX_NOTFOUND);
    /* the same recipient keeps the same token */
    {
        char again[API_DIGEST_TOKEN_LEN + 1];
        CHECK_INT(api_digest_token(idx_store(x), "expert:E1", again, NULL), KX_OK);
        CHECK_STR(again, token);
    }
}

/* A record whose name and organisation carry every kind of line break and
 * a bidi override: the To: display name holds none of it, decoded, and
 * every header line ends in CRLF. */
static void test_hostile_names(void)
{
    static const char rec[] =
        "{\"kind\":\"expert\",\"id\":\"E3\",\"name\":\"赵\\r\\n伟\\u0085明"
        "\\u2028\\u2029\\u202e\\u0090\\tBcc: x@evil.example\","
        "\"org\":\"滨州\\r\\n学院\",\"email\":\"zhao+kx@bzu.example.cn\","
        "\"region\":\"371602\",\"text\":\"废水\"}\n";
    struct api_digest_opts o = {"http://kx.example.cn", "digest@bzkx.example.cn",
                                NULL, NULL, NULL};
    char path[128], name[512];
    const char *files[1] = {path};
    struct idx_counts c;
    struct kx_error e;
    json_object *p = NULL;
    FILE *f;

    snprintf(path, sizeof path, "%.*s/e3.jsonl", (int)(strlen(dir) - 3), dir);
    f = fopen(path, "w");
    fputs(rec, f);
    fclose(f);
    CHECK_INT(idx_ingest(x, files, 1, 0, &c, NULL, NULL, NULL, &e), KX_OK);
    put(STORE_DIGEST, "plan:2026-W49",
        "{\"week\":\"2026-W49\",\"created\":1796025600,"
        "\"nonce\":\"fedcba9876543210\",\"new_needs\":[],\"moves\":[]}");
    put(STORE_DIGEST, "plan:2026-W49:pair:need:N1|expert:E3",
        "{\"score\":0.7,\"recipient\":\"expert:E3\","
        "\"enterprise\":\"enterprise:C1\",\"region\":\"371602001\"}");
    CHECK_INT(api_digest_preview(idx_store(x), idx_taxo(x), &o, NULL,
                                 "expert:E3", "2026-W49", &p, &e), KX_OK);
    if (!p)
        return;
    {
        const char *raw = jstr(p, "message"), *to = strstr(raw, "\r\nTo: ");
        const char *end = strstr(raw, "\r\n\r\n"), *addr;
        char val[1024];
        size_t n;

        CHECK(to && end && to < end);
        if (!to || !end)
            goto out;
        /* the header block: CRLF line ends only, no Bcc: of its own */
        for (const char *s = raw; s < end; s++)
            if (*s == '\n' || *s == '\r')
                CHECK(s[0] == '\r' ? s[1] == '\n' : s[-1] == '\r');
        CHECK(strstr(raw, "\r\nBcc:") == NULL || strstr(raw, "\r\nBcc:") > end);
        to += 6;
        addr = strstr(to, "\r\n <zhao+kx@bzu.example.cn>\r\n");
        CHECK(addr != NULL);
        if (!addr)
            goto out;
        n = (size_t)(addr - to);
        snprintf(val, sizeof val, "%.*s", (int)n, to);
        CHECK(header_decode(val, name, sizeof name));
        CHECK_STR(name, "赵 伟 明 Bcc: x@evil.example");
        CHECK(!has_forbidden(name));
    }
out:
    json_object_put(p);
}

/* Before sending, the addresses are checked again: an outbox entry that
 * fails is marked failed with the rule it breaks, and nothing is written
 * or sent for it. */
static void test_presend_check(void)
{
    struct api_digest_send_opts so = {0};
    struct api_digest_counts c;
    struct kx_error e;
    json_object *p = NULL, *msgs;
    char out[128];
    int failed = 0;

    put(STORE_OUTBOX, "2026-W50|expert:E1",
        "{\"state\":\"planned\",\"to\":\"zhang@example.cn\\r\\nBcc: x@y.cn\","
        "\"from\":\"digest@bzkx.example.cn\",\"subject\":\"s\","
        "\"message\":\"Subject: s\\r\\n\\r\\nx\\r\\n\",\"attempts\":0}");
    put(STORE_OUTBOX, "2026-W50|enterprise:C1",
        "{\"state\":\"planned\",\"to\":\"c1@example.com\","
        "\"from\":\"digest@[192.0.2.1]\",\"subject\":\"s\","
        "\"message\":\"Subject: s\\r\\n\\r\\nx\\r\\n\",\"attempts\":0}");
    snprintf(out, sizeof out, "%s/../outbox50", dir);
    so.outbox_dir = out;
    /* a bad sender given for the run stops it before anything */
    so.from = "digest@bzkx.example.cn.";
    CHECK_INT(api_digest_send(idx_store(x), "2026-W50", &so, &c, &e),
              KX_BADINPUT);
    CHECK_STR(e.field, "from");
    CHECK(strstr(e.msg, "may not end with a dot") != NULL);
    so.from = NULL;
    CHECK_INT(api_digest_send(idx_store(x), "2026-W50", &so, &c, &e), KX_OK);
    CHECK_INT(c.delivered, 0);
    CHECK_INT(c.failed, 2);
    CHECK_INT(c.planned, 0);
    CHECK_INT(count_files(out), 0);
    CHECK_INT(api_digest_status(idx_store(x), "2026-W50", &p, NULL), KX_OK);
    if (p && json_object_object_get_ex(p, "messages", &msgs))
        for (size_t i = 0; i < json_object_array_length(msgs); i++) {
            json_object *m = json_object_array_get_idx(msgs, i);
            const char *who = jstr(m, "recipient"), *why = jstr(m, "reason");
            CHECK_STR(jstr(m, "state"), "failed");
            CHECK(why != NULL);
            if (!who || !why)
                continue;
            failed++;
            if (strcmp(who, "expert:E1") == 0)
                CHECK(strstr(why, "not sent: recipient address") &&
                      strstr(why, "control character") &&
                      strstr(why, "\\x0d\\x0a") && !strchr(why, '\r'));
            else
                CHECK(strstr(why, "not sent: sender address") &&
                      strstr(why, "address literals"));
        }
    CHECK_INT(failed, 2);
    json_object_put(p);
    /* the liaison setting says which rule an address breaks */
    CHECK_INT(api_digest_liaison_set(idx_store(x), idx_taxo(x), "371600",
                                     "li aison@example.cn", &e), KX_BADINPUT);
    CHECK_STR(e.field, "email");
    CHECK(strstr(e.msg, "holds a space") != NULL);
    CHECK_INT(api_digest_liaison_set(idx_store(x), idx_taxo(x), "371600",
                                     "liaison@example.cn\r\nBcc: x@y.cn", &e),
              KX_BADINPUT);
    CHECK(strstr(e.msg, "control character") != NULL);
    CHECK(strchr(e.msg, '\r') == NULL && strchr(e.msg, '\n') == NULL);
}

int main(void)
{
    RUN(test_weeks);
    RUN(test_encoded_words);
    RUN(test_header_values);
    RUN(test_base64_lines);
    RUN(test_regions_addresses);
    RUN(test_mail_bad_url);
    setup();
    RUN(test_liaison_settings);
    RUN(test_recipients);
    RUN(test_preview);
    RUN(test_outbox);
    RUN(test_unsubscribe);
    RUN(test_hostile_names);
    RUN(test_presend_check);
    idx_close(x);
    {
        char cmd[160];
        snprintf(cmd, sizeof cmd, "rm -rf '%.*s'", (int)(strlen(dir) - 3), dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return check_report();
}
