/* test_config.c - the configuration file (api/core/config.c): every key,
 * the errors that name file, line and key, and the loopback checks that
 * keep digests from linking to this machine. */
#include "check.h"
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[] = "/tmp/kx_test_config_XXXXXX";

/* Writes text to dir/name and returns the path (static buffer). */
static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    if (!f)
        return path;
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_every_key(void)
{
    const char *p = write_file("full.conf",
        "# comment\n"
        "; another\n"
        "[organisation]\n"
        "name = 滨州市科学技术协会\n"
        "short_name = 滨州科协\n"
        "base_url = https://kx.bz.example.cn\n"
        "[mail]\n"
        "from = digest@bz.example.cn\n"
        "from_name = 滨州市科协 科技服务平台\n"
        "smtp_url = smtps://mail.bz.example.cn:465\n"
        "credentials = /etc/kxmatch/smtp-credentials\n"
        "[serve]\n"
        "listen = 127.0.0.1:9090\n"
        "threads = 8\n"
        "max_connections = 2048\n"
        "per_ip_connections = 4096\n"
        "write_rate = 0\n"
        "web = /srv/web\n"
        "weights = /etc/kxmatch/weights.conf\n"
        "[data]\n"
        "dir = /var/lib/kxmatch\n"
        "taxonomy = /usr/share/kxmatch/taxonomy\n");
    struct api_config c;
    struct kx_error e;

    kx_error_clear(&e);
    CHECK_INT(api_config_load(p, &c, &e), KX_OK);
    CHECK_STR(c.path, p);
    CHECK_STR(c.org_name, "滨州市科学技术协会");
    CHECK_STR(api_config_org_name(&c), "滨州市科学技术协会");
    CHECK_STR(api_config_org_short(&c), "滨州科协");
    CHECK_STR(c.base_url, "https://kx.bz.example.cn");
    CHECK_STR(c.from, "digest@bz.example.cn");
    CHECK_STR(c.from_name, "滨州市科协 科技服务平台");
    CHECK_STR(c.smtp_url, "smtps://mail.bz.example.cn:465");
    CHECK_STR(c.credentials, "/etc/kxmatch/smtp-credentials");
    CHECK_STR(c.listen, "127.0.0.1:9090");
    CHECK_INT(c.threads, 8);
    CHECK_INT(c.max_conns, 2048);
    CHECK_INT(c.per_ip, 4096);
    CHECK_INT(c.write_rate, 0);
    CHECK_STR(c.web, "/srv/web");
    CHECK_STR(c.weights, "/etc/kxmatch/weights.conf");
    CHECK_STR(c.db, "/var/lib/kxmatch");
    CHECK_STR(c.taxonomy, "/usr/share/kxmatch/taxonomy");
    api_config_free(&c);
    CHECK(c.org_name == NULL && c.path == NULL);
}

static void test_defaults(void)
{
    const char *p = write_file("empty.conf", "[organisation]\nname =\n");
    struct api_config c;
    struct kx_error e;

    /* an empty value leaves the default; a missing default file is none */
    CHECK_INT(api_config_load(p, &c, &e), KX_OK);
    CHECK(c.org_name == NULL);
    CHECK_STR(api_config_org_name(&c), API_ORG_NAME_DEFAULT);
    CHECK_STR(api_config_org_short(NULL), API_ORG_SHORT_DEFAULT);
    CHECK_INT(c.write_rate, -1);
    api_config_free(&c);
}

/* Loads text and expects st with err naming line and key. */
static void expect_error(const char *text, enum kx_status st, int line,
                         const char *field)
{
    const char *p = write_file("bad.conf", text);
    struct api_config c;
    struct kx_error e;

    kx_error_clear(&e);
    CHECK_INT(api_config_load(p, &c, &e), st);
    CHECK_INT(e.line, line);
    CHECK_STR(e.field, field);
    CHECK_STR(e.file, p);
    CHECK(c.org_name == NULL && c.path == NULL);
}

static void test_errors(void)
{
    struct api_config c;
    struct kx_error e;

    expect_error("[organisation]\nname = A\nnmae = B\n", KX_BADINPUT, 3,
                 "nmae");
    expect_error("[serve]\nlisten = a\n[orgnisation]\nname = A\n",
                 KX_BADINPUT, 4, "name");
    expect_error("[serve]\nthreads = 0\n", KX_BADINPUT, 2, "threads");
    expect_error("[serve]\nthreads = 4x\n", KX_BADINPUT, 2, "threads");
    expect_error("[serve]\nwrite_rate = 99999999999999999999\n",
                 KX_BADINPUT, 2, "write_rate");
    expect_error("[mail]\nfrom = a@b.cn\nfrom = c@d.cn\n", KX_BADINPUT, 3,
                 "from");
    expect_error("[mail]\njust words\n", KX_BADINPUT, 2, "");
    expect_error("name = outside any section\n", KX_BADINPUT, 1, "name");
    kx_error_clear(&e);
    CHECK_INT(api_config_load("/nonexistent/kxmatch.conf", &c, &e),
              KX_NOTFOUND);
    CHECK(strstr(e.msg, "/nonexistent/kxmatch.conf") != NULL);
}

static void test_environment(void)
{
    const char *p = write_file("env.conf", "[organisation]\nname = 某市科协\n");
    struct api_config c;
    struct kx_error e;

    setenv("KXMATCH_CONFIG", p, 1);
    CHECK_INT(api_config_load(NULL, &c, &e), KX_OK);
    CHECK_STR(c.org_name, "某市科协");
    api_config_free(&c);
    setenv("KXMATCH_CONFIG", "/nonexistent/x.conf", 1);
    CHECK_INT(api_config_load(NULL, &c, &e), KX_NOTFOUND);
    unsetenv("KXMATCH_CONFIG");
}

/* The installed file parses, and names no organisation of its own. */
static void test_shipped_file(void)
{
    struct api_config c;
    struct kx_error e;

    kx_error_clear(&e);
    CHECK_INT(api_config_load(KX_SOURCE_DIR "/dist/kxmatch.conf", &c, &e),
              KX_OK);
    if (e.msg[0])
        fprintf(stderr, "%s:%ld: %s: %s\n", e.file, e.line, e.field, e.msg);
    CHECK_STR(c.db, "/var/lib/kxmatch");
    CHECK_STR(c.listen, "127.0.0.1:8080");
    CHECK_INT(c.per_ip, 4096);
    CHECK(c.org_name == NULL && c.base_url == NULL && c.from == NULL);
    api_config_free(&c);
}

static void test_loopback(void)
{
    static const char *const local[] = {
        NULL, "", "http://127.0.0.1:8080", "http://localhost/",
        "https://LOCALHOST.:8443/x", "http://kx.localhost", "http://[::1]:80",
        "http://127.9.8.7", "http://0.0.0.0:8080", "not a url",
        "http://[::ffff:127.0.0.1]/",
    };
    static const char *const public[] = {
        "https://kx.bz.example.cn", "http://10.1.2.3:8080",
        "http://localhost.example.cn", "http://[2001:db8::1]/",
        "http://128.0.0.1",
    };

    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
        CHECK(api_url_is_loopback(local[i]) == 1);
    for (size_t i = 0; i < sizeof public / sizeof public[0]; i++)
        CHECK(api_url_is_loopback(public[i]) == 0);
    CHECK(api_addr_is_loopback(NULL) == 1);
    CHECK(api_addr_is_loopback("kxmatch@localhost") == 1);
    CHECK(api_addr_is_loopback("kx@127.0.0.1") == 1);
    CHECK(api_addr_is_loopback("no-at-sign") == 1);
    CHECK(api_addr_is_loopback("digest@bz.example.cn") == 0);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    RUN(test_every_key);
    RUN(test_defaults);
    RUN(test_errors);
    RUN(test_environment);
    RUN(test_shipped_file);
    RUN(test_loopback);
    unlink(write_file("full.conf", ""));
    unlink(write_file("empty.conf", ""));
    unlink(write_file("bad.conf", ""));
    unlink(write_file("env.conf", ""));
    rmdir(dir);
    return check_report();
}
