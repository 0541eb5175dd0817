/* test_api_http.c - the HTTP API end to end: `kxmatch serve` on an
 * ephemeral port over the Binzhou dataset plus a few fixture records,
 * driven with libcurl: every endpoint, every role boundary, the error
 * cases, concurrent readers while needs are posted, a clean shutdown. */
#include "check.h"

#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static char kx[PATH_MAX];     /* the kxmatch binary */
static char dir[64];          /* scratch directory */
static char db[128];          /* data directory */
static char base[64];         /* http://127.0.0.1:PORT */
static pid_t server = -1;

/* Tokens, one per role and scope. */
static char t_ent_a[64], t_ent_b[64], t_city[64], t_county_a[64],
    t_county_b[64], t_admin[64];

/* Fixture records: two enterprises in two counties, their needs (one
 * confidential), an expert with an e-mail address. Words like zorblax
 * occur nowhere else, so searches for them have exact answers. */
static const char *const fixture[] = {
    "{\"kind\":\"enterprise\",\"id\":\"TA\",\"name\":\"滨城测试化工有限公司\","
    "\"region\":\"371602\",\"industries\":[\"2614\"],"
    "\"email\":\"ta@example.com\"}",
    "{\"kind\":\"enterprise\",\"id\":\"TB\",\"name\":\"惠民测试纺织有限公司\","
    "\"region\":\"371621\",\"industries\":[\"1711\"]}",
    "{\"kind\":\"need\",\"id\":\"TA1\",\"name\":\"重油催化裂化装置增产丙烯 "
    "zorblax\",\"enterprise\":\"enterprise:TA\",\"region\":\"371602\","
    "\"text\":\"催化裂化装置丙烯收率偏低,油浆产率高,需要催化剂助剂选型与工艺"
    "优化。zorblax\",\"industries\":[\"2511\"]}",
    "{\"kind\":\"need\",\"id\":\"TA2\",\"name\":\"加氢装置铵盐结晶腐蚀 "
    "quuxsecret\",\"enterprise\":\"enterprise:TA\",\"visibility\":"
    "\"confidential\",\"text\":\"高压空冷器铵盐结晶腐蚀,需要催化裂化与加氢工艺"
    "专家诊断。quuxsecret\",\"industries\":[\"2511\"]}",
    "{\"kind\":\"need\",\"id\":\"TB1\",\"name\":\"纺纱断头率高 florbnik\","
    "\"enterprise\":\"enterprise:TB\",\"region\":\"371621\",\"text\":"
    "\"环锭纺细纱断头率偏高,需要纺纱工艺专家。florbnik\","
    "\"industries\":[\"1711\"]}",
    "{\"kind\":\"expert\",\"id\":\"TX1\",\"name\":\"测试专家\",\"org\":"
    "\"测试大学\",\"title\":\"教授\",\"region\":\"371602\",\"email\":"
    "\"tx1@example.edu\",\"text\":\"催化裂化 丙烯 助剂 工艺优化 加氢 腐蚀 "
    "zorblax quuxsecret\",\"industries\":[\"2511\"]}",
};

/* ---- processes ----------------------------------------------------------- */

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    int rc;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Runs a command and keeps the first line it prints in out. */
static int run_line(char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int run_line(char *out, size_t n, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    FILE *p;
    int rc;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    out[0] = '\0';
    if (!(p = popen(cmd, "r")))
        return -1;
    if (fgets(out, (int)n, p))
        out[strcspn(out, "\n")] = '\0';
    while (fgetc(p) != EOF)
        ;
    rc = pclose(p);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void find_binary(void)
{
    const char *env = getenv("KXMATCH_BIN");
    char self[PATH_MAX];
    ssize_t n;

    if (env && *env) {
        snprintf(kx, sizeof kx, "%s", env);
        return;
    }
    /* Tests are built in BUILD/tests, the binary in BUILD. */
    n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    *strrchr(self, '/') = '\0';
    if (strlen(self) + 12 >= sizeof kx)
        return;
    memcpy(kx, self, strlen(self));
    memcpy(kx + strlen(self), "/../kxmatch", 12);
}

static int start_server(void)
{
    int fds[2];
    char line[256] = "";
    FILE *f;

    if (pipe(fds) != 0)
        return -1;
    server = fork();
    if (server == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(kx, kx, "serve", "--db", db, "--listen", "127.0.0.1:0",
              "--threads", "4", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    if (!f || !fgets(line, sizeof line, f)) {
        fprintf(stderr, "the server printed nothing\n");
        return -1;
    }
    line[strcspn(line, "\n")] = '\0';
    if (strncmp(line, "listening on http://127.0.0.1:", 30) != 0) {
        fprintf(stderr, "unexpected first line: %s\n", line);
        return -1;
    }
    snprintf(base, sizeof base, "%.60s", line + 13);
    fclose(f);
    return 0;
}

/* ---- HTTP ---------------------------------------------------------------- */

struct resp {
    long code;
    char *body;
    size_t len;
    char ctype[128];
    char allow[64];
    char auth[128];
    json_object *json;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ctx)
{
    struct resp *r = ctx;
    char *b = realloc(r->body, r->len + sz * n + 1);

    if (!b)
        return 0;
    memcpy(b + r->len, p, sz * n);
    r->body = b;
    r->len += sz * n;
    b[r->len] = '\0';
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ctx)
{
    struct resp *r = ctx;
    size_t len = sz * n;

    if (len > 14 && strncasecmp(p, "Content-Type: ", 14) == 0)
        snprintf(r->ctype, sizeof r->ctype, "%.*s", (int)(len - 16), p + 14);
    if (len > 7 && strncasecmp(p, "Allow: ", 7) == 0)
        snprintf(r->allow, sizeof r->allow, "%.*s", (int)(len - 9), p + 7);
    if (len > 18 && strncasecmp(p, "WWW-Authenticate: ", 18) == 0)
        snprintf(r->auth, sizeof r->auth, "%.*s", (int)(len - 20), p + 18);
    return len;
}

static void resp_free(struct resp *r)
{
    free(r->body);
    json_object_put(r->json);
    memset(r, 0, sizeof *r);
}

/* One request on handle h (NULL: a fresh one); fills r. */
static int http_on(CURL *h, const char *method, const char *path,
                   const char *token, const char *body, size_t blen,
                   const char *ctype, struct resp *r)
{
    CURL *own = h ? NULL : curl_easy_init();
    struct curl_slist *hdr = NULL;
    char url[2048], auth[128], ct[160];
    CURLcode rc;

    memset(r, 0, sizeof *r);
    if (!h)
        h = own;
    curl_easy_reset(h);
    snprintf(url, sizeof url, "%s%s", base, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hdr = curl_slist_append(hdr, auth);
    }
    if (body) {
        snprintf(ct, sizeof ct, "Content-Type: %s",
                 ctype ? ctype : "application/json");
        hdr = curl_slist_append(hdr, ct);
        hdr = curl_slist_append(hdr, "Expect:");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->code);
    curl_slist_free_all(hdr);
    if (own)
        curl_easy_cleanup(own);
    if (rc != CURLE_OK) {
        fprintf(stderr, "%s %s: %s\n", method, path, curl_easy_strerror(rc));
        return -1;
    }
    if (r->body && strncmp(r->ctype, "application/json", 16) == 0)
        r->json = json_tokener_parse(r->body);
    return 0;
}

static int http(const char *method, const char *path, const char *token,
                const char *body, struct resp *r)
{
    return http_on(NULL, method, path, token, body, body ? strlen(body) : 0,
                   NULL, r);
}

/* The status a request answers, for checks that need nothing else. */
static int status(const char *method, const char *path, const char *token,
                  const char *body)
{
    struct resp r;
    int code;

    http(method, path, token, body, &r);
    code = r.code;
    resp_free(&r);
    return code;
}

/* The value at a dotted path ("error.field", "hits.0.key"), or NULL. */
static json_object *jobj(json_object *o, const char *path)
{
    char buf[256], *save = NULL;
    json_object *cur = o;

    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = strtok_r(buf, ".", &save); p && cur;
         p = strtok_r(NULL, ".", &save)) {
        if (json_object_is_type(cur, json_type_array))
            cur = json_object_array_get_idx(cur, (size_t)atoi(p));
        else if (!json_object_object_get_ex(cur, p, &cur))
            cur = NULL;
    }
    return cur;
}

/* A string at a dotted path, or "". */
static const char *jget(json_object *o, const char *path)
{
    json_object *v = jobj(o, path);

    return v ? json_object_get_string(v) : "";
}

static size_t jlen(json_object *o, const char *path)
{
    json_object *a = jobj(o, path);

    return a && json_object_is_type(a, json_type_array)
               ? json_object_array_length(a) : 0;
}

/* 1 if any element of the array at path has field == value. */
static int jhas(json_object *o, const char *path, const char *field,
                const char *value)
{
    json_object *a = jobj(o, path), *v;

    for (size_t i = 0; a && i < json_object_array_length(a); i++)
        if (json_object_object_get_ex(json_object_array_get_idx(a, i), field,
                                      &v) &&
            strcmp(json_object_get_string(v), value) == 0)
            return 1;
    return 0;
}

/* Expects an error reply: status, error.code and error.field. */
#define CHECK_ERROR(r, want_http, want_code, want_field)                  \
    do {                                                                   \
        CHECK_INT((r).code, want_http);                                    \
        CHECK_STR(jget((r).json, "error.code"), want_code);                \
        CHECK_STR(jget((r).json, "error.field"), want_field);              \
        CHECK(strlen(jget((r).json, "error.message")) > 0);                \
    } while (0)

/* ---- the tests ----------------------------------------------------------- */

/* No words and no filters is browsing: an admin sees everything, a liaison
 * what its region allows, never an empty page (issue: admin got 0). */
static void test_search_browse(void)
{
    struct resp a, c;

    http("GET", "/v1/search?facets=0", t_admin, NULL, &a);
    http("GET", "/v1/search?facets=0", t_city, NULL, &c);
    CHECK_INT(a.code, 200);
    CHECK_INT(c.code, 200);
    CHECK(jlen(a.json, "hits") > 0);
    CHECK(atol(jget(a.json, "total")) >= atol(jget(c.json, "total")));
    CHECK(atol(jget(c.json, "total")) > 0);
    resp_free(&a);
    resp_free(&c);
}

static void test_service_endpoints(void)
{
    static const char *const paths[] = {
        "/v1/needs", "/v1/needs/{id}", "/v1/needs/{id}/matches",
        "/v1/search", "/v1/records/{kind}/{id}", "/v1/{kind}/{id}/matches",
        "/v1/pipeline", "/v1/stats", "/v1/audit", "/v1/whoami",
        "/v1/taxonomy/{taxonomy}", "/healthz", "/metrics",
        "/v1/openapi.json"};
    struct resp r;

    http("GET", "/healthz", NULL, NULL, &r);
    CHECK_INT(r.code, 200);
    CHECK_STR(jget(r.json, "status"), "ok");
    CHECK(atoi(jget(r.json, "records")) > 400);
    resp_free(&r);

    http("GET", "/v1/openapi.json", NULL, NULL, &r);
    CHECK_INT(r.code, 200);
    CHECK(strncmp(jget(r.json, "openapi"), "3.", 2) == 0);
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        json_object *ps = jobj(r.json, "paths"), *p = NULL;
        if (!json_object_object_get_ex(ps, paths[i], &p))
            fprintf(stderr, "openapi.json lacks %s\n", paths[i]);
        CHECK(p != NULL);
    }
    resp_free(&r);

    http("GET", "/metrics", NULL, NULL, &r);
    CHECK_INT(r.code, 200);
    CHECK(strncmp(r.ctype, "text/plain", 10) == 0);
    CHECK(r.body && strstr(r.body, "kxmatch_http_requests_total{route=\"healthz\",code=\"200\"} 1"));
    CHECK(r.body && strstr(r.body, "# TYPE kxmatch_http_request_duration_seconds histogram"));
    CHECK(r.body && strstr(r.body, "kxmatch_records{kind=\"need\"}"));
    resp_free(&r);

    http("GET", "/", NULL, NULL, &r);
    CHECK_INT(r.code, 200);
    CHECK(strncmp(r.ctype, "text/html", 9) == 0);
    resp_free(&r);
    http("GET", "/enterprise.html", NULL, NULL, &r);
    CHECK_INT(r.code, 200);
    resp_free(&r);
    http("GET", "/app.js", NULL, NULL, &r);
    CHECK_INT(r.code, 200);
    CHECK(strncmp(r.ctype, "text/javascript", 15) == 0);
    resp_free(&r);
    http("GET", "/../README.md", NULL, NULL, &r);
    CHECK_INT(r.code, 404);
    resp_free(&r);
    http("GET", "/.hidden.html", NULL, NULL, &r);
    CHECK_INT(r.code, 404);
    resp_free(&r);

    http("DELETE", "/v1/search", t_admin, NULL, &r);
    CHECK_INT(r.code, 405);
    CHECK_STR(r.allow, "GET");
    resp_free(&r);
    http("GET", "/v1/nothing", t_admin, NULL, &r);
    CHECK_ERROR(r, 404, "not_found", "");
    resp_free(&r);
}

static void test_auth(void)
{
    char tok[128], cmd_out[256];
    struct resp r;

    http("GET", "/v1/search?q=x", NULL, NULL, &r);
    CHECK_ERROR(r, 401, "unauthorized", "Authorization");
    CHECK(strstr(r.auth, "Bearer") != NULL);
    resp_free(&r);
    http("GET", "/v1/search?q=x", "kx_0000000000000000000000000000000000000000",
         NULL, &r);
    CHECK_ERROR(r, 401, "unauthorized", "Authorization");
    resp_free(&r);
    http("GET", "/v1/search?q=x", "not-a-token", NULL, &r);
    CHECK_INT(r.code, 401);
    resp_free(&r);

    http("GET", "/v1/whoami", t_ent_a, NULL, &r);
    CHECK_INT(r.code, 200);
    CHECK_STR(jget(r.json, "role"), "enterprise");
    CHECK_STR(jget(r.json, "enterprise"), "enterprise:TA");
    CHECK_STR(jget(r.json, "enterprise_name"), "滨城测试化工有限公司");
    resp_free(&r);
    http("GET", "/v1/whoami", t_county_b, NULL, &r);
    CHECK_STR(jget(r.json, "role"), "liaison");
    CHECK_STR(jget(r.json, "region"), "371621");
    CHECK_STR(jget(r.json, "region_name"), "惠民县");
    resp_free(&r);

    /* A token revoked from the command line stops working at once. */
    CHECK_INT(run_line(tok, sizeof tok,
                       "'%s' token create --db '%s' --role admin --label "
                       "short-lived 2>/dev/null", kx, db), 0);
    http("GET", "/v1/whoami", tok, NULL, &r);
    CHECK_INT(r.code, 200);
    resp_free(&r);
    CHECK_INT(run_line(cmd_out, sizeof cmd_out, "'%s' token revoke --db '%s' "
                       "%.11s", kx, db, tok), 0);
    CHECK_STR(cmd_out, "revoked 1 token");
    http("GET", "/v1/whoami", tok, NULL, &r);
    CHECK_INT(r.code, 401);
    resp_free(&r);
    CHECK_INT(run("'%s' token revoke --db '%s' kx_nomatch 2>/dev/null", kx,
                  db), 4);
    CHECK_INT(run("'%s' token create --db '%s' --role liaison --region 999999 "
                  ">/dev/null 2>&1", kx, db), 3);
    CHECK_INT(run("'%s' token create --db '%s' --role enterprise --enterprise "
                  "enterprise:NOPE >/dev/null 2>&1", kx, db), 4);
    /* Tokens are stored hashed: the secret is nowhere in the store. */
    CHECK_INT(run("mdb_dump -p -s tokens '%s/lmdb' | grep -q '%s'", db,
                  t_admin + 3), 1);
}

static long needs_total(void)
{
    struct resp r;
    long n;

    http("GET", "/v1/needs?per_page=1", t_admin, NULL, &r);
    n = r.code == 200 ? atol(jget(r.json, "total")) : -1;
    resp_free(&r);
    return n;
}

static void test_need_lifecycle(void)
{
    struct resp r;
    char path[256], id[80], key[96];

    http("POST", "/v1/needs", t_ent_a,
         "{\"name\":\"催化裂化油浆降低 wibblequx\",\"text\":\"重油催化裂化装置"
         "增产丙烯,降低油浆产率,催化剂助剂选型。wibblequx\",\"region\":"
         "\"371602\",\"industries\":[\"2511\"]}", &r);
    CHECK_INT(r.code, 201);
    snprintf(id, sizeof id, "%s", jget(r.json, "id"));
    snprintf(key, sizeof key, "%s", jget(r.json, "key"));
    /* A new id is scoped by its enterprise. */
    CHECK(strncmp(id, "TA-N", 4) == 0);
    CHECK_STR(jget(r.json, "record.enterprise"), "enterprise:TA");
    CHECK_STR(jget(r.json, "indexed"), "true");
    CHECK_STR(jget(r.json, "record.kind"), "need");
    CHECK(jlen(r.json, "matches") > 0);
    CHECK(strlen(jget(r.json, "matches.0.why.components.text")) > 0);
    CHECK_STR(jget(r.json, "labels.region"), "滨城区");
    resp_free(&r);

    /* Searchable at once, by the liaison of its county. */
    http("GET", "/v1/search?q=wibblequx", t_county_a, NULL, &r);
    CHECK_INT(r.code, 200);
    CHECK_STR(jget(r.json, "hits.0.key"), key);
    CHECK(strstr(jget(r.json, "hits.0.snippet"), "<mark>wibblequx</mark>") != NULL);
    resp_free(&r);

    snprintf(path, sizeof path, "/v1/needs/%s", id);
    http("GET", path, t_ent_a, NULL, &r);
    CHECK_INT(r.code, 200);
    CHECK_STR(jget(r.json, "record.id"), id);
    resp_free(&r);

    /* The same id with other content is a conflict. */
    {
        char body[512];
        snprintf(body, sizeof body, "{\"id\":\"%s\",\"name\":\"x\"}", id);
        http("POST", "/v1/needs", t_ent_a, body, &r);
        CHECK_ERROR(r, 409, "exists", "id");
        resp_free(&r);
    }

    http("PUT", path, t_ent_a,
         "{\"name\":\"催化裂化油浆降低(修订) wibblequx\",\"text\":\"重油催化"
         "裂化装置增产丙烯。wibblequx wobblequx\",\"status\":\"open\"}", &r);
    CHECK_INT(r.code, 200);
    CHECK(strstr(jget(r.json, "record.name"), "修订") != NULL);
    resp_free(&r);
    http("GET", "/v1/search?q=wobblequx", t_county_a, NULL, &r);
    CHECK_STR(jget(r.json, "hits.0.key"), key);
    resp_free(&r);

    snprintf(path, sizeof path, "/v1/needs/%s/matches?top=3&kinds=expert", id);
    http("GET", path, t_ent_a, NULL, &r);
    CHECK_INT(r.code, 200);
    CHECK(jlen(r.json, "matches") > 0 && jlen(r.json, "matches") <= 3);
    CHECK_STR(jget(r.json, "matches.0.kind"), "expert");
    CHECK(strlen(jget(r.json, "matches.0.why.region.relation")) > 0);
    resp_free(&r);

    snprintf(path, sizeof path, "/v1/needs/%s", id);
    http("DELETE", path, t_ent_a, NULL, &r);
    CHECK_INT(r.code, 200);
    CHECK_STR(jget(r.json, "deleted"), key);
    resp_free(&r);
    http("GET", path, t_ent_a, NULL, &r);
    /* A deleted need answers as one that never was. */
    CHECK_ERROR(r, 404, "not_found", "id");
    CHECK(strstr(jget(r.json, "error.message"), "no record") != NULL);
    resp_free(&r);
    http("GET", "/v1/search?q=wobblequx", t_county_a, NULL, &r);
    CHECK_INT(jlen(r.json, "hits"), 0);
    resp_free(&r);
}

/* Ids are scoped by enterprise, so a POST tells nothing of needs the
 * caller may not see; the same need posted twice is stored once. */
static void test_need_ids(void)
{
    static const char *const body =
        "{\"id\":\"%s\",\"name\":\"余热回收 idemquux\",\"region\":"
        "\"371602\"}";
    struct resp r, hidden, never;
    char buf[512], msg_h[512], msg_n[512];

    /* TA2 is TA's confidential need: for TB, its id is like any other. */
    snprintf(buf, sizeof buf, body, "TA2");
    http("POST", "/v1/needs", t_ent_b, buf, &hidden);
    snprintf(buf, sizeof buf, body, "NEVER1");
    http("POST", "/v1/needs", t_ent_b, buf, &never);
    CHECK_INT(hidden.code, 201);
    CHECK_INT(never.code, 201);
    CHECK_STR(jget(hidden.json, "id"), "TB-TA2");
    CHECK_STR(jget(never.json, "id"), "TB-NEVER1");
    snprintf(msg_h, sizeof msg_h, "%s", jget(hidden.json, "record.name"));
    snprintf(msg_n, sizeof msg_n, "%s", jget(never.json, "record.name"));
    CHECK_STR(msg_h, msg_n);
    resp_free(&hidden);
    resp_free(&never);
    /* TA's need itself is untouched, and still hidden from TB. */
    http("GET", "/v1/needs/TA2", t_ent_a, NULL, &r);
    CHECK_INT(r.code, 200);
    CHECK(strstr(jget(r.json, "record.name"), "idemquux") == NULL);
    resp_free(&r);
    CHECK_INT(status("GET", "/v1/needs/TA2", t_ent_b, NULL), 404);

    /* Posted again as it is (a retry, with or without the prefix): 200 and
     * the stored need, one need. */
    snprintf(buf, sizeof buf, body, "NEVER1");
    http("POST", "/v1/needs", t_ent_b, buf, &r);
    CHECK_INT(r.code, 200);
    CHECK_STR(jget(r.json, "id"), "TB-NEVER1");
    resp_free(&r);
    snprintf(buf, sizeof buf, body, "TB-NEVER1");
    CHECK_INT(status("POST", "/v1/needs", t_ent_b, buf), 200);
    http("GET", "/v1/search?q=idemquux&kind=need", t_admin, NULL, &r);
    CHECK_INT(jlen(r.json, "hits"), 2);
    resp_free(&r);
    /* An id too long once scoped is refused, naming the rule. */
    snprintf(buf, sizeof buf, body,
             "x12345678901234567890123456789012345678901234567890123456789012");
    http("POST", "/v1/needs", t_ent_b, buf, &r);
    CHECK_ERROR(r, 400, "bad_input", "id");
    CHECK(strstr(jget(r.json, "error.message"), "scoped") != NULL);
    resp_free(&r);
    /* An admin's chosen id is taken as it is. */
    http("POST", "/v1/needs", t_admin,
         "{\"id\":\"ADM1\",\"name\":\"n\",\"enterprise\":\"enterprise:TB\"}", &r);
    CHECK_INT(r.code, 201);
    CHECK_STR(jget(r.json, "id"), "ADM1");
    resp_free(&r);
    CHECK_INT(status("DELETE", "/v1/needs/ADM1", t_admin, NULL), 200);
    CHECK_INT(status("DELETE", "/v1/needs/TB-TA2", t_ent_b, NULL), 200);
    CHECK_INT(status("DELETE", "/v1/needs/TB-NEVER1", t_ent_b, NULL), 200);
}

static void test_bad_input(void)
{
    long before = needs_total();
    struct resp r;
    char *big, deep[256];

    http("POST", "/v1/needs", t_ent_a, "{\"name\": \"x\",", &r);
    CHECK_ERROR(r, 400, "bad_input", "body");
    resp_free(&r);
    http("POST", "/v1/needs", t_ent_a, "{\"name\": \"x\"} trailing", &r);
    CHECK_ERROR(r, 400, "bad_input", "body");
    resp_free(&r);
    http("POST", "/v1/needs", t_ent_a, "[1,2]", &r);
    CHECK_ERROR(r, 400, "bad_input", "body");
    resp_free(&r);
    http_on(NULL, "POST", "/v1/needs", t_ent_a, "", 0, NULL, &r);
    CHECK_ERROR(r, 400, "bad_input", "body");
    resp_free(&r);
    /* Only JSON is taken, and is said to be: 415 otherwise. */
    {
        static const char *const types[] = {
            "text/plain", "application/jsonx", "application/json; charset=latin1",
            "application/x-www-form-urlencoded", "multipart/form-data", ""};
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
            http_on(NULL, "POST", "/v1/needs", t_ent_a, "{\"name\":\"n\"}", 12,
                    types[i], &r);
            CHECK_ERROR(r, 415, "unsupported_media_type", "Content-Type");
            resp_free(&r);
        }
    }
    /* Duplicate names at any depth, however spelled, and single quotes,
     * which json-c would take. */
    {
        static const struct { const char *body, *field; } dups[] = {
            {"{\"name\":\"n\",\"visibility\":\"public\","
             "\"visibility\":\"confidential\"}", "visibility"},
            {"{\"name\":\"n\",\"nam\\u0065\":\"m\"}", "name"},
            {"{\"name\":\"n\",\"x_a\":{\"b\":1,\"c\":[{\"d\":1,\"d\":2}]}}",
             "d"},
            {"{\"name\":\"n\",'x_q':1}", ""},
        };
        for (size_t i = 0; i < sizeof dups / sizeof dups[0]; i++) {
            http("POST", "/v1/needs", t_ent_a, dups[i].body, &r);
            CHECK_ERROR(r, 400, "bad_input", dups[i].field);
            resp_free(&r);
        }
    }
    http_on(NULL, "POST", "/v1/needs", t_ent_a, "{\"name\":\"\xff\"}", 12,
            NULL, &r);
    CHECK_ERROR(r, 400, "bad_input", "body");
    resp_free(&r);

    /* 20 levels of nesting in an x_ field: past the depth cap. */
    snprintf(deep, sizeof deep, "{\"name\":\"n\",\"x_a\":%s1%s}",
             "[[[[[[[[[[[[[[[[[[[[", "]]]]]]]]]]]]]]]]]]]]");
    http("POST", "/v1/needs", t_ent_a, deep, &r);
    CHECK_ERROR(r, 400, "bad_input", "body");
    CHECK(strstr(jget(r.json, "error.message"), "nested") != NULL);
    resp_free(&r);

    big = malloc(300 * 1024 + 64);
    memset(big, 'a', 300 * 1024 + 64);
    memcpy(big, "{\"name\":\"", 9);
    memcpy(big + 300 * 1024 + 60, "\"}", 3);
    http("POST", "/v1/needs", t_ent_a, big, &r);
    CHECK_ERROR(r, 413, "too_large", "body");
    resp_free(&r);
    free(big);

    http("POST", "/v1/needs", t_ent_a, "{\"name\":\"n\",\"foo\":1}", &r);
    CHECK_ERROR(r, 400, "bad_input", "foo");
    resp_free(&r);
    http("POST", "/v1/needs", t_ent_a, "{\"name\":5}", &r);
    CHECK_ERROR(r, 400, "bad_input", "name");
    resp_free(&r);
    /* Numbers as written, as `index` reads them: not JSON, or past the
     * field's range, or past 64 bits (which json-c would clamp). */
    {
        static const char *const budgets[] = {
            "00", "5.", "30e18", "1000.0", "1000000000000001",
            "20222222222222222222", "-1"};
        char body[128];
        for (size_t i = 0; i < sizeof budgets / sizeof budgets[0]; i++) {
            snprintf(body, sizeof body, "{\"name\":\"n\",\"budget\":%s}",
                     budgets[i]);
            http("POST", "/v1/needs", t_ent_a, body, &r);
            CHECK_ERROR(r, 400, "bad_input", "budget");
            resp_free(&r);
        }
    }
    http("POST", "/v1/needs", t_ent_a,
         "{\"name\":\"n\",\"industries\":[\"2511\",\"99x\"]}", &r);
    CHECK_ERROR(r, 400, "bad_input", "industries[1]");
    resp_free(&r);
    http("POST", "/v1/needs", t_ent_a, "{\"name\":\"n\",\"region\":\"999999\"}",
         &r);
    CHECK_ERROR(r, 400, "bad_input", "region");
    resp_free(&r);
    http("POST", "/v1/needs", t_ent_a, "{\"name\":\"n\",\"visibility\":\"secret\"}",
         &r);
    CHECK_ERROR(r, 400, "bad_input", "visibility");
    resp_free(&r);
    http("POST", "/v1/needs", t_ent_a, "{\"kind\":\"expert\",\"name\":\"n\"}", &r);
    CHECK_ERROR(r, 400, "bad_input", "kind");
    resp_free(&r);
    http("POST", "/v1/needs", t_ent_a, "{\"id\":\"bad id!\",\"name\":\"n\"}", &r);
    CHECK_ERROR(r, 400, "bad_input", "id");
    resp_free(&r);
    http("POST", "/v1/needs", t_admin, "{\"name\":\"n\",\"enterprise\":"
         "\"enterprise:NOPE\"}", &r);
    CHECK_ERROR(r, 404, "not_found", "enterprise");
    resp_free(&r);
    http("POST", "/v1/needs", t_admin, "{\"name\":\"n\"}", &r);
    CHECK_ERROR(r, 400, "bad_input", "enterprise");
    resp_free(&r);
    http("PUT", "/v1/needs/TA1", t_ent_a, "{\"id\":\"TA9\",\"name\":\"n\"}", &r);
    CHECK_ERROR(r, 400, "bad_input", "id");
    resp_free(&r);
    http("PUT", "/v1/needs/NOPE", t_ent_a, "{\"name\":\"n\"}", &r);
    CHECK_ERROR(r, 404, "not_found", "id");
    resp_free(&r);

    http("GET", "/v1/needs/NOPE", t_admin, NULL, &r);
    CHECK_ERROR(r, 404, "not_found", "id");
    resp_free(&r);
    http("GET", "/v1/needs/bad%20id", t_admin, NULL, &r);
    CHECK_ERROR(r, 400, "bad_input", "id");
    resp_free(&r);
    http("GET", "/v1/records/expert/NOPE", t_admin, NULL, &r);
    CHECK_ERROR(r, 404, "not_found", "id");
    resp_free(&r);
    http("GET", "/v1/records/person/E0001", t_admin, NULL, &r);
    CHECK_ERROR(r, 404, "not_found", "kind");
    resp_free(&r);
    http("GET", "/v1/expert/NOPE/matches", t_admin, NULL, &r);
    CHECK_ERROR(r, 404, "not_found", "partner");
    resp_free(&r);
    http("GET", "/v1/search?q=x&colour=red", t_admin, NULL, &r);
    CHECK_ERROR(r, 400, "bad_input", "colour");
    resp_free(&r);
    http("GET", "/v1/search?industry=99x", t_admin, NULL, &r);
    CHECK_ERROR(r, 400, "bad_input", "industry");
    resp_free(&r);
    http("GET", "/v1/search?kind=person", t_admin, NULL, &r);
    CHECK_ERROR(r, 400, "bad_input", "kind");
    resp_free(&r);
    http("GET", "/v1/search?q=x&page=0", t_admin, NULL, &r);
    CHECK_ERROR(r, 400, "bad_input", "page");
    resp_free(&r);
    http("GET", "/v1/needs/TA1/matches?top=abc", t_admin, NULL, &r);
    CHECK_ERROR(r, 400, "bad_input", "top");
    resp_free(&r);

    /* None of that wrote anything. */
    CHECK_INT(needs_total(), before);
    http("GET", "/v1/needs/TA9", t_admin, NULL, &r);
    CHECK_INT(r.code, 404);
    resp_free(&r);
}

static void test_enterprise_boundaries(void)
{
    struct resp r;

    /* Its own needs, confidential included. */
    http("GET", "/v1/needs/TA2", t_ent_a, NULL, &r);
    CHECK_INT(r.code, 200);
    resp_free(&r);
    http("GET", "/v1/needs/TA2/matches", t_ent_a, NULL, &r);
    CHECK_INT(r.code, 200);
    resp_free(&r);
    http("GET", "/v1/needs", t_ent_a, NULL, &r);
    CHECK(jhas(r.json, "needs", "key", "need:TA1"));
    CHECK(jhas(r.json, "needs", "key", "need:TA2"));
    CHECK(!jhas(r.json, "needs", "key", "need:TB1"));
    CHECK(!jhas(r.json, "needs", "enterprise", "enterprise:C001"));
    resp_free(&r);

    /* Not another's: public ones are forbidden, confidential ones absent. */
    http("GET", "/v1/needs/TA1", t_ent_b, NULL, &r);
    CHECK_ERROR(r, 403, "forbidden", "id");
    resp_free(&r);
    http("GET", "/v1/needs/TA2", t_ent_b, NULL, &r);
    CHECK_ERROR(r, 404, "not_found", "id");
    resp_free(&r);
    http("GET", "/v1/needs/TA1/matches", t_ent_b, NULL, &r);
    CHECK_INT(r.code, 403);
    resp_free(&r);
    http("GET", "/v1/records/need/TA1", t_ent_b, NULL, &r);
    CHECK_INT(r.code, 403);
    resp_free(&r);
    http("PUT", "/v1/needs/TA1", t_ent_b, "{\"name\":\"hijack\"}", &r);
    CHECK_INT(r.code, 403);
    resp_free(&r);
    http("DELETE", "/v1/needs/TA1", t_ent_b, NULL, &r);
    CHECK_INT(r.code, 403);
    resp_free(&r);
    http("POST", "/v1/needs", t_ent_b,
         "{\"name\":\"n\",\"enterprise\":\"enterprise:TA\"}", &r);
    CHECK_ERROR(r, 403, "forbidden", "enterprise");
    resp_free(&r);
    http("PUT", "/v1/needs/TA1", t_ent_a,
         "{\"name\":\"n\",\"enterprise\":\"enterprise:TB\"}", &r);
    CHECK_ERROR(r, 403, "forbidden", "enterprise");
    resp_free(&r);
    http("GET", "/v1/records/enterprise/TA", t_ent_b, NULL, &r);
    CHECK_INT(r.code, 403);
    resp_free(&r);

    /* Partners' public profiles, never their e-mail addresses. */
    http("GET", "/v1/records/expert/TX1", t_ent_b, NULL, &r);
    CHECK_INT(r.code, 200);
    CHECK_STR(jget(r.json, "record.name"), "测试专家");
    CHECK(jobj(r.json, "record.email") == NULL);
    CHECK(!strstr(r.body, "@"));
    resp_free(&r);
    http("GET", "/v1/records/society/S001", t_ent_b, NULL, &r);
    CHECK_INT(r.code, 200);
    CHECK(jobj(r.json, "record.contact") == NULL);
    resp_free(&r);
    http("GET", "/v1/records/expert/TX1", t_county_b, NULL, &r);
    CHECK_STR(jget(r.json, "record.email"), "tx1@example.edu");
    resp_free(&r);
    http("GET", "/v1/records/enterprise/TA", t_ent_a, NULL, &r);
    CHECK_STR(jget(r.json, "record.email"), "ta@example.com");
    resp_free(&r);

    /* Search: partners only, and no e-mail anywhere. */
    http("GET", "/v1/search?q=zorblax", t_ent_b, NULL, &r);
    CHECK_INT(r.code, 200);
    CHECK(jhas(r.json, "hits", "key", "expert:TX1"));
    CHECK(!jhas(r.json, "hits", "kind", "need"));
    CHECK(!jhas(r.json, "facets.kind", "value", "need"));
    CHECK(!strstr(r.body, "tx1@example.edu"));
    resp_free(&r);
    http("GET", "/v1/search?q=x&kind=need", t_ent_b, NULL, &r);
    CHECK_ERROR(r, 403, "forbidden", "kind");
    resp_free(&r);
    http("GET", "/v1/needs/TA1/matches", t_ent_a, NULL, &r);
    CHECK(!strstr(r.body, "@"));
    resp_free(&r);

    /* What enterprises may not do at all. */
    http("GET", "/v1/stats", t_ent_a, NULL, &r);
    CHECK_ERROR(r, 403, "forbidden", "");
    resp_free(&r);
    http("GET", "/v1/pipeline", t_ent_a, NULL, &r);
    CHECK_INT(r.code, 403);
    resp_free(&r);
    http("POST", "/v1/pipeline", t_ent_a, "{}", &r);
    CHECK_INT(r.code, 403);
    resp_free(&r);
    http("GET", "/v1/expert/TX1/matches", t_ent_a, NULL, &r);
    CHECK_INT(r.code, 403);
    resp_free(&r);
    http("GET", "/v1/audit", t_ent_a, NULL, &r);
    CHECK_INT(r.code, 403);
    resp_free(&r);
}

static void test_liaison_boundaries(void)
{
    struct resp r;

    /* A county liaison sees its county's needs, not another county's. */
    http("GET", "/v1/needs/TA1", t_county_a, NULL, &r);
    CHECK_INT(r.code, 200);
    resp_free(&r);
    http("GET", "/v1/needs/TA1", t_county_b, NULL, &r);
    CHECK_ERROR(r, 403, "forbidden", "id");
    resp_free(&r);
    http("GET", "/v1/needs/TB1", t_county_b, NULL, &r);
    CHECK_INT(r.code, 200);
    resp_free(&r);
    http("GET", "/v1/search?q=zorblax", t_county_b, NULL, &r);
    CHECK(!jhas(r.json, "hits", "key", "need:TA1"));
    CHECK(jhas(r.json, "hits", "key", "expert:TX1"));
    resp_free(&r);
    http("GET", "/v1/search?q=florbnik", t_county_b, NULL, &r);
    CHECK(jhas(r.json, "hits", "key", "need:TB1"));
    resp_free(&r);
    http("GET", "/v1/search?q=zorblax", t_county_a, NULL, &r);
    CHECK(jhas(r.json, "hits", "key", "need:TA1"));
    resp_free(&r);
    http("GET", "/v1/search?kind=need&per_page=100", t_county_b, NULL, &r);
    CHECK(jlen(r.json, "hits") > 0);
    for (size_t i = 0; i < jlen(r.json, "hits"); i++) {
        char p[64];
        snprintf(p, sizeof p, "hits.%zu.key", i);
        CHECK(strcmp(jget(r.json, p), "need:TA1") != 0);
    }
    /* Only this county in the region facet's county level. */
    {
        json_object *a = jobj(r.json, "facets.region");
        for (size_t i = 0; a && i < json_object_array_length(a); i++) {
            json_object *e = json_object_array_get_idx(a, i);
            if (atoi(jget(e, "level")) == 3)
                CHECK_STR(jget(e, "value"), "371621");
        }
    }
    resp_free(&r);
    http("GET", "/v1/needs", t_county_b, NULL, &r);
    CHECK(jhas(r.json, "needs", "key", "need:TB1"));
    CHECK(!jhas(r.json, "needs", "key", "need:TA1"));
    resp_free(&r);
    http("GET", "/v1/needs?per_page=500", t_city, NULL, &r);
    CHECK(jhas(r.json, "needs", "key", "need:TB1"));
    CHECK(jhas(r.json, "needs", "key", "need:TA1"));
    resp_free(&r);

    /* Liaisons read needs; they do not write them. */
    http("POST", "/v1/needs", t_city, "{\"name\":\"n\"}", &r);
    CHECK_INT(r.code, 403);
    resp_free(&r);
    http("GET", "/v1/audit", t_city, NULL, &r);
    CHECK_INT(r.code, 403);
    resp_free(&r);
}

static void test_confidential_never_leaks(void)
{
    const char *outsiders[] = {t_city, t_county_a, t_ent_b};
    struct resp r, ra;
    long liaison_needs, admin_needs;

    for (size_t i = 0; i < 3; i++) {
        const char *t = outsiders[i];

        http("GET", "/v1/search?q=quuxsecret", t, NULL, &r);
        CHECK_INT(r.code, 200);
        CHECK(!jhas(r.json, "hits", "key", "need:TA2"));
        CHECK(!jhas(r.json, "facets.kind", "value", "need"));
        resp_free(&r);
        http("GET", "/v1/needs/TA2", t, NULL, &r);
        CHECK_INT(r.code, 404);
        resp_free(&r);
        http("GET", "/v1/needs/TA2/matches", t, NULL, &r);
        CHECK_INT(r.code, 404);
        resp_free(&r);
        http("GET", "/v1/records/need/TA2", t, NULL, &r);
        CHECK_INT(r.code, 404);
        resp_free(&r);
    }
    /* Facets: the kind=need count a city liaison sees is the public ones. */
    http("GET", "/v1/search?kind=need&per_page=1", t_city, NULL, &r);
    http("GET", "/v1/search?kind=need&per_page=1&region=371600", t_admin, NULL,
         &ra);
    CHECK(atol(jget(r.json, "facets.kind.0.count")) > 0);
    CHECK(atol(jget(r.json, "facets.kind.0.count")) <
          atol(jget(ra.json, "facets.kind.0.count")));
    /* Fewer matches than the facets may count: every one is counted, and
     * the reply says so; facets=0 leaves all three out. */
    CHECK_STR(jget(ra.json, "facets_exact"), "true");
    CHECK_INT(atol(jget(ra.json, "facets_counted")),
              atol(jget(ra.json, "facets.kind.0.count")));
    CHECK_INT(atol(jget(ra.json, "facets_counted")),
              atol(jget(ra.json, "total")));
    resp_free(&ra);
    http("GET", "/v1/search?kind=need&per_page=1&facets=0", t_admin, NULL,
         &ra);
    CHECK_INT(ra.code, 200);
    CHECK(jobj(ra.json, "facets") == NULL);
    CHECK(jobj(ra.json, "facets_exact") == NULL);
    CHECK(jobj(ra.json, "facets_counted") == NULL);
    CHECK(!strstr(r.body, "quuxsecret"));
    resp_free(&r);
    resp_free(&ra);
    http("GET", "/v1/search?q=quuxsecret", t_admin, NULL, &r);
    CHECK(jhas(r.json, "hits", "key", "need:TA2"));
    resp_free(&r);

    /* Reverse matches: TX1 fits TA2, but only an admin is offered it. */
    http("GET", "/v1/expert/TX1/matches?top=50", t_city, NULL, &r);
    CHECK_INT(r.code, 200);
    CHECK(!jhas(r.json, "matches", "key", "need:TA2"));
    CHECK(jhas(r.json, "matches", "key", "need:TA1"));
    resp_free(&r);
    http("GET", "/v1/expert/TX1/matches?top=50", t_county_b, NULL, &r);
    CHECK(!jhas(r.json, "matches", "key", "need:TA1"));
    resp_free(&r);
    http("GET", "/v1/expert/TX1/matches?top=50", t_admin, NULL, &r);
    CHECK(jhas(r.json, "matches", "key", "need:TA2"));
    resp_free(&r);

    /* Stats: a liaison counts what it may list, the admin everything. */
    http("GET", "/v1/stats", t_city, NULL, &r);
    CHECK_INT(r.code, 200);
    liaison_needs = atol(jget(r.json, "totals.needs"));
    resp_free(&r);
    http("GET", "/v1/needs?per_page=1", t_city, NULL, &r);
    CHECK_INT(atol(jget(r.json, "total")), liaison_needs);
    resp_free(&r);
    http("GET", "/v1/stats", t_admin, NULL, &r);
    admin_needs = atol(jget(r.json, "totals.needs"));
    CHECK(jlen(r.json, "by_county") > 0);
    CHECK(jlen(r.json, "by_industry") > 0);
    resp_free(&r);
    CHECK_INT(admin_needs, needs_total());
    CHECK(liaison_needs < admin_needs);
    http("GET", "/v1/needs?per_page=500", t_city, NULL, &r);
    CHECK(!jhas(r.json, "needs", "key", "need:TA2"));
    CHECK(!jhas(r.json, "needs", "visibility", "confidential"));
    resp_free(&r);
}

static void test_pipeline_and_audit(void)
{
    struct resp r;
    long matches_before, agreements_before;

    http("GET", "/v1/stats", t_county_a, NULL, &r);
    matches_before = atol(jget(r.json, "totals.matches"));
    agreements_before = atol(jget(r.json, "totals.agreements"));
    resp_free(&r);

    http("POST", "/v1/pipeline", t_county_a, "{\"need\":\"need:TA1\","
         "\"partner\":\"expert:TX1\",\"stage\":\"shortlisted\"}", &r);
    CHECK_INT(r.code, 201);
    CHECK_STR(jget(r.json, "stage"), "shortlisted");
    CHECK_STR(jget(r.json, "partner_name"), "测试专家");
    resp_free(&r);
    http("POST", "/v1/pipeline", t_county_a, "{\"need\":\"need:TA1\","
         "\"partner\":\"expert:TX1\",\"stage\":\"contacted\",\"note\":"
         "\"电话联系\"}", &r);
    CHECK_INT(r.code, 200);
    CHECK_INT(jlen(r.json, "history"), 2);
    resp_free(&r);
    http("POST", "/v1/pipeline", t_county_a, "{\"need\":\"need:TA1\","
         "\"partner\":\"expert:TX1\",\"stage\":\"agreement_signed\"}", &r);
    CHECK_INT(r.code, 200);
    /* a move without a note does not show the previous move's as its own
     * (issue 18 item 5); the history keeps it where it was said */
    CHECK(jobj(r.json, "note") == NULL);
    CHECK_STR(jget(r.json, "history.1.note"), "电话联系");
    CHECK(jobj(r.json, "history.2.note") == NULL);
    resp_free(&r);
    /* An admin records a pair for the confidential need: no liaison's
     * stats may count it. */
    http("POST", "/v1/pipeline", t_admin, "{\"need\":\"need:TA2\","
         "\"partner\":\"expert:TX1\",\"stage\":\"agreement_signed\"}", &r);
    CHECK_INT(r.code, 201);
    resp_free(&r);

    http("GET", "/v1/pipeline?need=need:TA1", t_county_a, NULL, &r);
    CHECK_INT(r.code, 200);
    CHECK_INT(atol(jget(r.json, "total")), 1);
    CHECK_STR(jget(r.json, "entries.0.stage"), "agreement_signed");
    resp_free(&r);
    http("GET", "/v1/pipeline", t_county_a, NULL, &r);
    CHECK(!jhas(r.json, "entries", "need", "need:TA2"));
    resp_free(&r);
    http("GET", "/v1/pipeline", t_admin, NULL, &r);
    CHECK(jhas(r.json, "entries", "need", "need:TA2"));
    resp_free(&r);
    http("GET", "/v1/stats", t_county_a, NULL, &r);
    CHECK_INT(atol(jget(r.json, "totals.matches")), matches_before + 1);
    CHECK_INT(atol(jget(r.json, "totals.agreements")), agreements_before + 1);
    CHECK(atol(jget(r.json, "pipeline.funnel.2.count")) >= 1);
    CHECK_STR(jget(r.json, "pipeline.funnel.0.stage"), "shortlisted");
    resp_free(&r);

    /* Boundaries and bad input. */
    http("POST", "/v1/pipeline", t_county_b, "{\"need\":\"need:TA1\","
         "\"partner\":\"expert:TX1\",\"stage\":\"shortlisted\"}", &r);
    CHECK_ERROR(r, 403, "forbidden", "need");
    resp_free(&r);
    http("POST", "/v1/pipeline", t_county_a, "{\"need\":\"need:TA2\","
         "\"partner\":\"expert:TX1\",\"stage\":\"shortlisted\"}", &r);
    CHECK_ERROR(r, 404, "not_found", "need");
    resp_free(&r);
    http("POST", "/v1/pipeline", t_county_a, "{\"need\":\"need:TA1\","
         "\"partner\":\"expert:TX1\",\"stage\":\"married\"}", &r);
    CHECK_ERROR(r, 400, "bad_input", "stage");
    resp_free(&r);
    http("POST", "/v1/pipeline", t_county_a, "{\"need\":\"need:TA1\","
         "\"partner\":\"expert:NOPE\",\"stage\":\"shortlisted\"}", &r);
    CHECK_ERROR(r, 404, "not_found", "partner");
    resp_free(&r);
    http("POST", "/v1/pipeline", t_county_a, "{\"need\":\"need:TA1\","
         "\"partner\":\"enterprise:TA\",\"stage\":\"shortlisted\"}", &r);
    CHECK_ERROR(r, 400, "bad_input", "partner");
    resp_free(&r);
    http("POST", "/v1/pipeline", t_county_a, "{\"need\":\"need:TA1\","
         "\"partner\":\"expert:TX1\",\"stage\":\"shortlisted\",\"x\":1}", &r);
    CHECK_ERROR(r, 400, "bad_input", "x");
    resp_free(&r);
    http("POST", "/v1/pipeline", t_county_a, "{\"need\":1}", &r);
    CHECK_ERROR(r, 400, "bad_input", "need");
    resp_free(&r);

    /* Every write is in the audit log, newest first. */
    http("GET", "/v1/audit?limit=500", t_admin, NULL, &r);
    CHECK_INT(r.code, 200);
    CHECK(jhas(r.json, "entries", "what", "pipeline.agreement_signed"));
    CHECK(jhas(r.json, "entries", "what", "need.create"));
    CHECK(jhas(r.json, "entries", "what", "need.delete"));
    CHECK(jhas(r.json, "entries", "what", "token.revoke"));
    CHECK_STR(jget(r.json, "entries.0.what"), "pipeline.agreement_signed");
    CHECK_STR(jget(r.json, "entries.0.key"), "need:TA2 expert:TX1");
    CHECK_STR(jget(r.json, "entries.0.role"), "admin");
    CHECK(strncmp(jget(r.json, "entries.0.who"), "kx_", 3) == 0);
    resp_free(&r);
    http("GET", "/v1/audit?limit=2", t_admin, NULL, &r);
    CHECK_INT(jlen(r.json, "entries"), 2);
    {
        char path[128];
        snprintf(path, sizeof path, "/v1/audit?limit=2&before=%s",
                 jget(r.json, "next"));
        resp_free(&r);
        http("GET", path, t_admin, NULL, &r);
        CHECK_INT(r.code, 200);
        CHECK_INT(jlen(r.json, "entries"), 2);
        CHECK_STR(jget(r.json, "entries.0.what"), "pipeline.contacted");
    }
    resp_free(&r);
    http("GET", "/v1/audit?before=zz", t_admin, NULL, &r);
    CHECK_ERROR(r, 400, "bad_input", "before");
    resp_free(&r);
}

/* ---- the pipeline as CSV ------------------------------------------------- */

/* A CSV file read back per RFC 4180, strictly: rows of cells. */
struct csv_file {
    struct kx_strv *row;
    size_t n, cap;
};

static void csv_file_free(struct csv_file *f)
{
    for (size_t i = 0; i < f->n; i++)
        kx_strv_free(&f->row[i]);
    free(f->row);
    memset(f, 0, sizeof *f);
}

/* Parses s[0..len): fields separated by commas, rows ended by CRLF (the
 * last one too), a quoted field may hold anything with quotes doubled.
 * -1 on anything else: a quote inside an unquoted field, text after a
 * closing quote, a bare CR or LF ending a row, an unclosed quote. */
static int csv_parse(const char *s, size_t len, struct csv_file *f)
{
    struct kx_strv cur = {0};
    struct kx_buf cell = {0};
    size_t i = 0;

    memset(f, 0, sizeof *f);
    while (i < len) {
        if (s[i] == '"') {
            for (i++;; i++) {
                if (i >= len)
                    goto bad;
                if (s[i] == '"' && i + 1 < len && s[i + 1] == '"')
                    kx_buf_add(&cell, "\"", 1), i++;
                else if (s[i] == '"')
                    break;
                else
                    kx_buf_add(&cell, s + i, 1);
            }
            i++;
        } else {
            for (; i < len && s[i] != ',' && s[i] != '\r' && s[i] != '\n';
                 i++) {
                if (s[i] == '"')
                    goto bad;
                kx_buf_add(&cell, s + i, 1);
            }
        }
        kx_strv_add(&cur, cell.p ? cell.p : "", (size_t)-1);
        kx_buf_free(&cell);
        if (i < len && s[i] == ',') {
            i++;
            continue;
        }
        if (i + 1 < len && s[i] == '\r' && s[i + 1] == '\n') {
            i += 2;
            if (kx_grow(&f->row, &f->cap, f->n + 1, sizeof *f->row, 16) != 0)
                goto bad;
            f->row[f->n++] = cur;
            memset(&cur, 0, sizeof cur);
            continue;
        }
        goto bad;
    }
    if (cur.n || cur.oom)
        goto bad;
    return 0;
bad:
    kx_strv_free(&cur);
    kx_buf_free(&cell);
    csv_file_free(f);
    return -1;
}

struct csv_resp {
    struct resp r;
    char disp[160];     /* Content-Disposition */
};

static size_t csv_on_header(char *p, size_t sz, size_t n, void *ctx)
{
    struct csv_resp *c = ctx;
    size_t len = sz * n;

    if (len > 21 && strncasecmp(p, "Content-Disposition: ", 21) == 0)
        snprintf(c->disp, sizeof c->disp, "%.*s", (int)(len - 23), p + 21);
    return on_header(p, sz, n, &c->r);
}

/* GET path with token; c->r holds the reply, c->disp its
 * Content-Disposition; f (if the reply is 200) the parsed file, without
 * its BOM. 0, or -1 if the transfer failed or the file does not parse. */
static int csv_get(const char *path, const char *token, struct csv_resp *c,
                   struct csv_file *f)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = NULL;
    char url[2048], auth[128];
    CURLcode rc;

    memset(c, 0, sizeof *c);
    memset(f, 0, sizeof *f);
    snprintf(url, sizeof url, "%s%s", base, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    hdr = curl_slist_append(hdr, auth);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, csv_on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->r.code);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK)
        return -1;
    if (c->r.body && strncmp(c->r.ctype, "application/json", 16) == 0)
        c->r.json = json_tokener_parse(c->r.body);
    if (c->r.code != 200)
        return 0;
    if (c->r.len < 3 || memcmp(c->r.body, "\xEF\xBB\xBF", 3) != 0)
        return -1;
    return csv_parse(c->r.body + 3, c->r.len - 3, f);
}

/* The data row of the pair, or NULL. */
static const struct kx_strv *csv_pair(const struct csv_file *f,
                                      const char *need, const char *partner)
{
    for (size_t i = 1; i < f->n; i++)
        if (f->row[i].n >= 3 && strcmp(f->row[i].v[0], need) == 0 &&
            strcmp(f->row[i].v[2], partner) == 0)
            return &f->row[i];
    return NULL;
}

/* The CSV a token downloads holds the pairs its JSON listing holds, no
 * more, no fewer; query is the filter ("" or "need=...&"). */
static void csv_same_as_json(const char *token, const char *query)
{
    struct csv_resp c;
    struct csv_file f;
    struct resp r;
    char path[512];

    snprintf(path, sizeof path, "/v1/pipeline?%sformat=csv", query);
    CHECK_INT(csv_get(path, token, &c, &f), 0);
    CHECK_INT(c.r.code, 200);
    snprintf(path, sizeof path, "/v1/pipeline?%sper_page=1000", query);
    http("GET", path, token, NULL, &r);
    CHECK_INT(r.code, 200);
    CHECK(f.n >= 1);
    CHECK_INT(f.n - 1, jlen(r.json, "entries"));
    CHECK_INT(f.n - 1, atol(jget(r.json, "total")));
    for (size_t i = 0; i < jlen(r.json, "entries"); i++) {
        char pn[64], pp[64];
        snprintf(pn, sizeof pn, "entries.%zu.need", i);
        snprintf(pp, sizeof pp, "entries.%zu.partner", i);
        CHECK(csv_pair(&f, jget(r.json, pn), jget(r.json, pp)) != NULL);
    }
    resp_free(&r);
    resp_free(&c.r);
    csv_file_free(&f);
}

/* Posts a need of enterprise TA in county 371602 named name; its key into
 * key (n bytes), "" on failure. */
static void csv_need(const char *name, char *key, size_t n)
{
    json_object *o = json_object_new_object(), *ind = json_object_new_array();
    struct resp r;

    json_object_object_add(o, "name", json_object_new_string(name));
    json_object_object_add(o, "text", json_object_new_string(
        "催化裂化装置丙烯收率偏低,需要催化剂助剂选型。"));
    json_object_object_add(o, "region", json_object_new_string("371602"));
    json_object_array_add(ind, json_object_new_string("2511"));
    json_object_object_add(o, "industries", ind);
    http("POST", "/v1/needs", t_ent_a, json_object_to_json_string(o), &r);
    CHECK_INT(r.code, 201);
    snprintf(key, n, "%s", r.code == 201 ? jget(r.json, "key") : "");
    resp_free(&r);
    json_object_put(o);
}

/* Shortlists (need, expert:TX1) with a note, as the county A liaison. */
static void csv_shortlist(const char *need, const char *note)
{
    json_object *o = json_object_new_object();
    struct resp r;

    json_object_object_add(o, "need", json_object_new_string(need));
    json_object_object_add(o, "partner", json_object_new_string("expert:TX1"));
    json_object_object_add(o, "stage", json_object_new_string("shortlisted"));
    json_object_object_add(o, "note", json_object_new_string(note));
    http("POST", "/v1/pipeline", t_county_a, json_object_to_json_string(o),
         &r);
    CHECK_INT(r.code, 201);
    resp_free(&r);
    json_object_put(o);
}

/* Issue 11: a need titled like a formula must reach the exported CSV as
 * text. Titles and notes start with each lead OWASP lists; the file is
 * parsed back and no cell may start with one; the titles survive behind
 * their apostrophe; roles and filters are the JSON listing's. */
static void test_pipeline_csv(void)
{
    static const char *const titles[] = {
        "=HYPERLINK(\"http://evil.example/x\",\"y\")",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "+1+1 催化剂, \"助剂\"",
    };
    static const char *const notes[] = {"-2+3", "\t=1+1", "\r=1+1\n第二行"};
    char keys[3][96], day[16], want[160], path[256];
    const char *const head[] = {"需求编号", "需求名称", "合作方编号",
                                "合作方名称", "类型", "单位", "阶段",
                                "更新时间", "备注"};
    struct csv_resp c;
    struct csv_file f;
    time_t now;

    for (size_t i = 0; i < 3; i++) {
        csv_need(titles[i], keys[i], sizeof keys[i]);
        csv_shortlist(keys[i], notes[i]);
    }

    CHECK_INT(csv_get("/v1/pipeline?format=csv", t_county_a, &c, &f), 0);
    CHECK_INT(c.r.code, 200);
    CHECK_STR(c.r.ctype, "text/csv; charset=utf-8");
    now = time(NULL);
    strftime(day, sizeof day, "%Y%m%d", gmtime(&now));
    snprintf(want, sizeof want,
             "attachment; filename=\"kxmatch-pipeline-%s.csv\"", day);
    CHECK_STR(c.disp, want);
    /* The header row, then one row per pair, every row as wide. */
    CHECK(f.n >= 4);
    CHECK_INT(f.n ? f.row[0].n : 0, 9);
    for (size_t i = 0; f.n && i < 9 && i < f.row[0].n; i++)
        CHECK_STR(f.row[0].v[i], head[i]);
    for (size_t i = 0; i < f.n; i++) {
        CHECK_INT(f.row[i].n, 9);
        for (size_t j = 0; j < f.row[i].n; j++)
            if (f.row[i].v[j][0] && strchr("=+-@\t\r", f.row[i].v[j][0])) {
                fprintf(stderr, "row %zu cell %zu starts a formula: %s\n", i,
                        j, f.row[i].v[j]);
                CHECK(!"a cell starts with a formula lead");
            }
    }
    for (size_t i = 0; i < 3; i++) {
        const struct kx_strv *row = csv_pair(&f, keys[i], "expert:TX1");
        char t[160], n[64];

        CHECK(row != NULL);
        if (!row || row->n < 9)
            continue;
        snprintf(t, sizeof t, "'%s", titles[i]);
        snprintf(n, sizeof n, "'%s", notes[i]);
        CHECK_STR(row->v[1], t);
        CHECK_STR(row->v[3], "测试专家");
        CHECK_STR(row->v[4], "专家");
        CHECK_STR(row->v[5], "测试大学");
        CHECK_STR(row->v[6], "候选");
        CHECK(strlen(row->v[7]) == 20 && row->v[7][10] == 'T');
        CHECK_STR(row->v[8], n);
    }
    resp_free(&c.r);
    csv_file_free(&f);

    /* Roles and filters: the same pairs as the JSON listing. The other
     * county's liaison gets none of these needs; the admin gets the
     * confidential need's pair, which the county liaison does not. */
    csv_same_as_json(t_county_a, "");
    csv_same_as_json(t_county_b, "");
    csv_same_as_json(t_city, "");
    csv_same_as_json(t_admin, "");
    csv_same_as_json(t_county_a, "stage=agreement_signed&");
    snprintf(path, sizeof path, "need=%s&", keys[0]);
    csv_same_as_json(t_county_a, path);
    CHECK_INT(csv_get("/v1/pipeline?format=csv", t_county_b, &c, &f), 0);
    for (size_t i = 0; i < 3; i++)
        CHECK(csv_pair(&f, keys[i], "expert:TX1") == NULL);
    CHECK(f.n >= 1);
    resp_free(&c.r);
    csv_file_free(&f);
    CHECK_INT(csv_get("/v1/pipeline?format=csv", t_admin, &c, &f), 0);
    CHECK(csv_pair(&f, "need:TA2", "expert:TX1") != NULL);
    CHECK(csv_pair(&f, keys[0], "expert:TX1") != NULL);
    resp_free(&c.r);
    csv_file_free(&f);
    CHECK_INT(csv_get("/v1/pipeline?format=csv", t_county_a, &c, &f), 0);
    CHECK(csv_pair(&f, "need:TA2", "expert:TX1") == NULL);
    resp_free(&c.r);
    csv_file_free(&f);
    /* One filtered need: the header and its one row. */
    snprintf(path, sizeof path, "/v1/pipeline?format=csv&need=%s", keys[1]);
    CHECK_INT(csv_get(path, t_county_a, &c, &f), 0);
    CHECK_INT(f.n, 2);
    resp_free(&c.r);
    csv_file_free(&f);
    /* English names on request; pages when asked for, as in JSON. */
    {
        struct resp r;
        char stage[64];

        http("GET", "/v1/pipeline?per_page=1", t_county_a, NULL, &r);
        snprintf(stage, sizeof stage, "%s", jget(r.json, "entries.0.stage"));
        if (strchr(stage, '_'))
            *strchr(stage, '_') = ' ';
        CHECK_INT(csv_get("/v1/pipeline?format=csv&lang=en&per_page=1&page=1",
                          t_county_a, &c, &f), 0);
        CHECK_INT(f.n, 2);
        CHECK_STR(f.n ? f.row[0].v[0] : NULL, "Need key");
        CHECK_STR(f.n ? f.row[0].v[8] : NULL, "Note");
        CHECK_STR(f.n > 1 ? f.row[1].v[0] : NULL, jget(r.json, "entries.0.need"));
        CHECK_STR(f.n > 1 ? f.row[1].v[4] : NULL,
                  jget(r.json, "entries.0.partner_kind"));
        CHECK_STR(f.n > 1 ? f.row[1].v[6] : NULL, stage);
        resp_free(&r);
        resp_free(&c.r);
        csv_file_free(&f);
    }

    /* The route's roles hold for the file; bad values name the parameter. */
    CHECK_INT(csv_get("/v1/pipeline?format=csv", t_ent_a, &c, &f), 0);
    CHECK_INT(c.r.code, 403);
    resp_free(&c.r);
    CHECK_INT(csv_get("/v1/pipeline?format=xlsx", t_county_a, &c, &f), 0);
    CHECK_ERROR(c.r, 400, "bad_input", "format");
    resp_free(&c.r);
    CHECK_INT(csv_get("/v1/pipeline?format=csv&lang=fr", t_county_a, &c, &f),
              0);
    CHECK_ERROR(c.r, 400, "bad_input", "lang");
    resp_free(&c.r);
    CHECK_INT(csv_get("/v1/pipeline?format=csv&stage=x", t_county_a, &c, &f),
              0);
    CHECK_ERROR(c.r, 400, "bad_input", "stage");
    resp_free(&c.r);
    /* The JSON listing is unchanged by the new parameter. */
    CHECK_INT(status("GET", "/v1/pipeline?format=json", t_county_a, NULL),
              200);
}

static void test_taxonomy(void)
{
    struct resp r;

    http("GET", "/v1/taxonomy/region?parent=371600", t_ent_a, NULL, &r);
    CHECK_INT(r.code, 200);
    CHECK(jhas(r.json, "items", "code", "371602"));
    resp_free(&r);
    http("GET", "/v1/taxonomy/industry?q=%E7%82%BC%E6%B2%B9", t_ent_a, NULL, &r);
    CHECK(jlen(r.json, "items") > 0);
    resp_free(&r);
    http("GET", "/v1/taxonomy/colour", t_ent_a, NULL, &r);
    CHECK_INT(r.code, 404);
    resp_free(&r);
}

/* ---- concurrency --------------------------------------------------------- */

#define READERS 4
#define POSTS 16

static atomic_int writing;

struct reader {
    pthread_t th;
    int requests, bad;
};

static void *reader_main(void *arg)
{
    struct reader *rd = arg;
    CURL *h = curl_easy_init();
    static const char *const qs[] = {
        "/v1/search?q=%E5%82%AC%E5%8C%96", "/v1/search?q=zorblax&kind=need",
        "/v1/needs/TB1/matches?top=5", "/v1/search?industry=26&per_page=50"};

    while (atomic_load(&writing) || rd->requests < 8) {
        struct resp r;
        const char *q = qs[rd->requests % 4];

        if (http_on(h, "GET", q, t_city, NULL, 0, NULL, &r) != 0 ||
            r.code != 200 || !r.json ||
            (!jobj(r.json, "hits") && !jobj(r.json, "matches"))) {
            fprintf(stderr, "reader: %s -> %ld %.200s\n", q, r.code,
                    r.body ? r.body : "");
            rd->bad++;
        }
        resp_free(&r);
        rd->requests++;
    }
    curl_easy_cleanup(h);
    return NULL;
}

static void test_concurrent_readers_and_writes(void)
{
    struct reader rd[READERS];
    CURL *h = curl_easy_init();
    int bad_posts = 0, unseen = 0, total = 0;

    memset(rd, 0, sizeof rd);
    atomic_store(&writing, 1);
    for (int i = 0; i < READERS; i++)
        pthread_create(&rd[i].th, NULL, reader_main, &rd[i]);
    for (int i = 0; i < POSTS; i++) {
        char body[512], q[128];
        struct resp r;

        snprintf(body, sizeof body, "{\"name\":\"并发测试需求 conc%dword\","
                 "\"text\":\"催化裂化 丙烯 助剂 conc%dword\",\"region\":"
                 "\"371602\"}", i, i);
        if (http_on(h, "POST", "/v1/needs", t_ent_a, body, strlen(body), NULL,
                    &r) != 0 || r.code != 201)
            bad_posts++;
        resp_free(&r);
        snprintf(q, sizeof q, "/v1/search?q=conc%dword", i);
        http_on(h, "GET", q, t_city, NULL, 0, NULL, &r);
        if (r.code != 200 || jlen(r.json, "hits") != 1)
            unseen++;
        resp_free(&r);
    }
    atomic_store(&writing, 0);
    for (int i = 0; i < READERS; i++) {
        pthread_join(rd[i].th, NULL);
        CHECK_INT(rd[i].bad, 0);
        total += rd[i].requests;
    }
    printf("     %d reads by %d threads during %d posts\n", total, READERS,
           POSTS);
    CHECK_INT(bad_posts, 0);
    CHECK_INT(unseen, 0);
    CHECK(total >= READERS * 8);
    curl_easy_cleanup(h);
}

static void test_locked_while_serving(void)
{
    char out[512];

    CHECK_INT(run_line(out, sizeof out, "'%s' index --db '%s' %s/fixture.jsonl"
                       " 2>&1", kx, db, dir), 5);
    CHECK(strstr(out, "locked") != NULL);
}

static void test_clean_shutdown(void)
{
    int status = 0;

    CHECK_INT(kill(server, SIGTERM), 0);
    CHECK_INT(waitpid(server, &status, 0), server);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    server = -1;
    /* The index is free again. */
    CHECK_INT(run("'%s' index --quiet --db '%s' %s/fixture.jsonl", kx, db,
                  dir), 0);
}

/* ---- set-up -------------------------------------------------------------- */

static int setup(void)
{
    char path[256];
    FILE *f;
    struct {
        char *out;
        const char *args;
    } toks[] = {
        {t_ent_a, "--role enterprise --enterprise enterprise:TA"},
        {t_ent_b, "--role enterprise --enterprise enterprise:TB"},
        {t_city, "--role liaison --region 371600"},
        {t_county_a, "--role liaison --region 371602"},
        {t_county_b, "--role liaison --region 371621"},
        {t_admin, "--role admin"},
    };

    find_binary();
    snprintf(dir, sizeof dir, "/tmp/kx_api_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(path, sizeof path, "%s/fixture.jsonl", dir);
    if (!(f = fopen(path, "w")))
        return -1;
    for (size_t i = 0; i < sizeof fixture / sizeof fixture[0]; i++)
        fprintf(f, "%s\n", fixture[i]);
    fclose(f);
    /* --skip-invalid: the shared dataset may be mid-edit; the fixture is
     * what the assertions rest on. */
    if (run("'%s' index --quiet --skip-invalid --db '%s' %s/datasets/binzhou/"
            "*.jsonl %s 2>/dev/null", kx, db, KX_SOURCE_DIR, path) != 0) {
        fprintf(stderr, "indexing failed\n");
        return -1;
    }
    for (size_t i = 0; i < sizeof toks / sizeof toks[0]; i++)
        if (run_line(toks[i].out, 64, "'%s' token create --db '%s' %s "
                     "2>/dev/null", kx, db, toks[i].args) != 0 ||
            strlen(toks[i].out) != 43) {
            fprintf(stderr, "token create %s failed\n", toks[i].args);
            return -1;
        }
    return start_server();
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (setup() != 0) {
        fprintf(stderr, "set-up failed\n");
        if (server > 0)
            kill(server, SIGKILL);
        return 1;
    }
    RUN(test_service_endpoints);
    RUN(test_auth);
    RUN(test_need_lifecycle);
    RUN(test_need_ids);
    RUN(test_bad_input);
    RUN(test_enterprise_boundaries);
    RUN(test_liaison_boundaries);
    RUN(test_confidential_never_leaks);
    RUN(test_pipeline_and_audit);
    RUN(test_pipeline_csv);
    RUN(test_taxonomy);
    RUN(test_search_browse);
    RUN(test_concurrent_readers_and_writes);
    RUN(test_locked_while_serving);
    RUN(test_clean_shutdown);
    if (server > 0) {
        kill(server, SIGKILL);
        waitpid(server, NULL, 0);
    }
    run("rm -rf '%s'", dir);
    curl_global_cleanup();
    return check_report();
}
