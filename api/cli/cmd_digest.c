/* cmd_digest.c - `kxmatch digest`: plan the week's proposals, compose and
 * send the weekly emails, preview them, and manage recipients' settings. */
#include "cli.h"
#include "digest.h"
#include "mail.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char usage_text[] =
    "usage: kxmatch digest plan [--week YYYY-Www] [--per-need N] "
    "[--threshold X] [--top N]\n"
    "                           [--society-capacity N] [--result-capacity N] "
    "[--threads N] [--json]\n"
    "       kxmatch digest send [--week W] (--smtp smtp[s]://HOST:PORT | "
    "--outbox DIR)\n"
    "                           [--from ADDR] [--from-name NAME] "
    "[--base-url URL] [--smtp-config FILE]\n"
    "                           [--attempts N] [--retry-delay-ms MS] "
    "[plan options]\n"
    "       kxmatch digest preview KEY [--week W] [--base-url URL] "
    "[--json | --raw]\n"
    "       kxmatch digest status [--week W] [--json]\n"
    "       kxmatch digest recipients [--week W]\n"
    "       kxmatch digest frequency KEY weekly|fortnightly|monthly|off\n"
    "       kxmatch digest unsubscribe TOKEN\n"
    "       kxmatch digest liaison add --region CODE --email ADDR | "
    "remove --region CODE | list\n"
    "SMTP credentials: $KXMATCH_SMTP_USER and $KXMATCH_SMTP_PASSWORD, or "
    "user/password\n"
    "in --smtp-config FILE ($KXMATCH_SMTP_CONFIG), never the command line.\n";

void api_digest_usage(FILE *f)
{
    fputs(usage_text, f);
}

static int usage(void)
{
    return api_usage("digest");
}

/* Options shared by the digest subcommands. */
struct dopts {
    struct api_common c;
    struct api_digest_plan_opts plan;
    struct api_digest_opts msg;
    const char *week, *smtp, *outbox, *config, *region, *email;
    unsigned attempts, delay_ms, threads; /* threads 0: one per core */
    int have_delay, json, raw;
};

enum {
    O_WEEK = 256, O_PER_NEED, O_THRESHOLD, O_TOP, O_SOC_CAP, O_RES_CAP,
    O_JSON, O_SMTP, O_OUTBOX, O_FROM, O_FROM_NAME, O_BASE_URL, O_CONFIG,
    O_ATTEMPTS, O_DELAY, O_RAW, O_REGION, O_EMAIL, O_THREADS
};

static int parse_uint(const char *name, const char *s, unsigned lo,
                      unsigned hi, unsigned *out)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*end || end == s || v < (long)lo || v > (long)hi) {
        fprintf(stderr, "kxmatch: %s expects %u..%u, got \"%s\"\n", name, lo,
                hi, s);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

/* Parses everything after `digest SUB`; positional arguments are left in
 * argv[optind..]. Returns 0, or an exit code. */
static int parse(const struct api_common *common, int argc, char **argv,
                 struct dopts *d)
{
    static const struct option opts[] = {
        API_COMMON_OPTS,
        {"week", required_argument, NULL, O_WEEK},
        {"per-need", required_argument, NULL, O_PER_NEED},
        {"threshold", required_argument, NULL, O_THRESHOLD},
        {"top", required_argument, NULL, O_TOP},
        {"society-capacity", required_argument, NULL, O_SOC_CAP},
        {"result-capacity", required_argument, NULL, O_RES_CAP},
        {"json", no_argument, NULL, O_JSON},
        {"raw", no_argument, NULL, O_RAW},
        {"smtp", required_argument, NULL, O_SMTP},
        {"outbox", required_argument, NULL, O_OUTBOX},
        {"from", required_argument, NULL, O_FROM},
        {"from-name", required_argument, NULL, O_FROM_NAME},
        {"base-url", required_argument, NULL, O_BASE_URL},
        {"smtp-config", required_argument, NULL, O_CONFIG},
        {"attempts", required_argument, NULL, O_ATTEMPTS},
        {"retry-delay-ms", required_argument, NULL, O_DELAY},
        {"region", required_argument, NULL, O_REGION},
        {"email", required_argument, NULL, O_EMAIL},
        {"threads", required_argument, NULL, O_THREADS},
        {NULL, 0, NULL, 0},
    };
    int opt;

    memset(d, 0, sizeof *d);
    d->c = *common;
    d->plan.threshold = -1;
    d->config = getenv("KXMATCH_SMTP_CONFIG");
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (api_common_opt(&d->c, opt))
            continue;
        switch (opt) {
        case O_WEEK: d->week = optarg; break;
        case O_PER_NEED:
            if (parse_uint("--per-need", optarg, 1, 100, &d->plan.per_need))
                return API_EXIT_BADINPUT;
            break;
        case O_THRESHOLD: {
            char *end;
            d->plan.threshold = strtod(optarg, &end);
            if (*end || end == optarg || d->plan.threshold < 0 ||
                d->plan.threshold > 1) {
                fprintf(stderr, "kxmatch: --threshold expects 0..1, got "
                                "\"%s\"\n", optarg);
                return API_EXIT_BADINPUT;
            }
            break;
        }
        case O_TOP:
            if (parse_uint("--top", optarg, 1, 1000, &d->plan.top))
                return API_EXIT_BADINPUT;
            break;
        case O_SOC_CAP:
            if (parse_uint("--society-capacity", optarg, 1, 1000,
                           &d->plan.society_capacity))
                return API_EXIT_BADINPUT;
            break;
        case O_RES_CAP:
            if (parse_uint("--result-capacity", optarg, 1, 1000,
                           &d->plan.result_capacity))
                return API_EXIT_BADINPUT;
            break;
        case O_JSON: d->json = 1; break;
        case O_RAW: d->raw = 1; break;
        case O_SMTP: d->smtp = optarg; break;
        case O_OUTBOX: d->outbox = optarg; break;
        case O_FROM: d->msg.from = optarg; break;
        case O_FROM_NAME: d->msg.from_name = optarg; break;
        case O_BASE_URL: d->msg.base_url = optarg; break;
        case O_CONFIG: d->config = optarg; break;
        case O_ATTEMPTS:
            if (parse_uint("--attempts", optarg, 1, 20, &d->attempts))
                return API_EXIT_BADINPUT;
            break;
        case O_DELAY:
            if (parse_uint("--retry-delay-ms", optarg, 0, 600000,
                           &d->delay_ms))
                return API_EXIT_BADINPUT;
            d->have_delay = 1;
            break;
        case O_THREADS:
            if (parse_uint("--threads", optarg, 1, API_MATCHER_MAX_WORKERS,
                           &d->threads))
                return API_EXIT_BADINPUT;
            break;
        case O_REGION: d->region = optarg; break;
        case O_EMAIL: d->email = optarg; break;
        default: return usage();
        }
    }
    /* What the command line leaves open comes from the configuration
     * file: [organisation] and [mail]. */
    if (!d->msg.base_url)
        d->msg.base_url = common->cfg->base_url;
    if (!d->msg.from_name)
        d->msg.from_name = common->cfg->from_name;
    if (!d->config)
        d->config = common->cfg->credentials;
    d->msg.org_name = api_config_org_name(common->cfg);
    d->msg.org_short = api_config_org_short(common->cfg);
    d->plan.week = d->week;
    return 0;
}

static void print_json(json_object *o)
{
    printf("%s\n", json_object_to_json_string_ext(
                       o, JSON_C_TO_STRING_PRETTY |
                              JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* ---- planning ----------------------------------------------------------- */

static void print_plan(const struct api_digest_plan_report *r)
{
    const struct {
        const char *name;
        const struct api_digest_method *m;
    } rows[] = {
        {"greedy (baseline)", &r->greedy},
        {"exact, score only", &r->score_only},
        {"exact, coverage first (plan)", &r->exact},
    };

    printf("week %s: %zu open public needs, %zu with candidates; %zu "
           "candidate pairs over %zu partners\n", r->week, r->needs_open,
           r->needs_with, r->candidates, r->partners);
    printf("  left out: %zu below threshold, %zu proposed before, %zu in the "
           "pipeline, %zu unsubscribed, %zu without address\n",
           r->skip_threshold, r->skip_proposed, r->skip_pipeline, r->skip_off,
           r->skip_noaddr);
    printf("  %-30s %6s %12s %14s %10s\n", "method", "pairs", "total score",
           "needs covered", "time");
    for (size_t i = 0; i < 3; i++)
        printf("  %-30s %6zu %12.4f %8zu/%-5zu %8.2f ms\n", rows[i].name,
               rows[i].m->pairs, rows[i].m->total, rows[i].m->covered,
               r->needs_with, rows[i].m->ms);
    printf("  for liaisons: %zu new needs, %zu pipeline moves\n",
           r->new_needs, r->moves);
    printf("planned in %.0f ms (matching %.0f ms)\n", r->ms_total,
           r->ms_match);
}

static int cmd_plan(struct dopts *d)
{
    struct api_matcher dc;
    struct api_digest_plan_report rep;
    struct kx_error err;
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_matcher_open(&d->c, NULL, 1, &dc, &err)) != KX_OK)
        return api_fail(st, &err);
    st = api_matcher_workers(&dc, d->threads);
    if (st == KX_OK)
        st = api_digest_plan(dc.ctxs, dc.nctxs, idx_store(dc.x), &d->plan,
                             &rep, &err);
    if (st == KX_OK && d->json) {
        json_object *o = NULL;
        st = api_digest_plan_get(idx_store(dc.x), rep.week, &o, &err);
        if (st == KX_OK)
            print_json(o);
        json_object_put(o);
    } else if (st == KX_OK) {
        print_plan(&rep);
    }
    api_matcher_close(&dc);
    return st == KX_OK ? API_EXIT_OK : api_fail(st, &err);
}

/* ---- sending ------------------------------------------------------------ */

struct smtp_file {
    char *url, *from, *user, *password, *cainfo;
    unsigned attempts, delay_ms;
    int have_attempts, have_delay;
};

static void smtp_file_free(struct smtp_file *f)
{
    free(f->url);
    free(f->from);
    free(f->user);
    if (f->password)
        memset(f->password, 0, strlen(f->password));
    free(f->password);
    free(f->cainfo);
    memset(f, 0, sizeof f[0]);
}

/* Reads "key = value" lines: url, from, user, password, cainfo, attempts,
 * retry_delay_ms. A file holding a password must not be readable by group
 * or others. */
static enum kx_status smtp_file_load(const char *path, struct smtp_file *f,
                                     struct kx_error *err)
{
    FILE *fp = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    struct stat sb;
    enum kx_status st = KX_OK;

    memset(f, 0, sizeof *f);
    if (!fp)
        return kx_error_set(err, KX_NOTFOUND, "smtp-config", "cannot open %s",
                            path);
    while (st == KX_OK && getline(&line, &cap, fp) > 0) {
        char *k = line, *v, *e;
        char **slot = NULL;
        lineno++;
        while (*k == ' ' || *k == '\t')
            k++;
        if (*k == '#' || *k == '\n' || *k == '\0')
            continue;
        if (!(v = strchr(k, '='))) {
            st = kx_error_set(err, KX_BADINPUT, "", "expected key = value");
            break;
        }
        e = v++;
        while (e > k && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        *e = '\0';
        while (*v == ' ' || *v == '\t')
            v++;
        e = v + strlen(v);
        while (e > v && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '))
            e--;
        *e = '\0';
        if (strcmp(k, "url") == 0)
            slot = &f->url;
        else if (strcmp(k, "from") == 0)
            slot = &f->from;
        else if (strcmp(k, "user") == 0)
            slot = &f->user;
        else if (strcmp(k, "password") == 0)
            slot = &f->password;
        else if (strcmp(k, "cainfo") == 0)
            slot = &f->cainfo;
        else if (strcmp(k, "attempts") == 0) {
            f->attempts = (unsigned)strtoul(v, NULL, 10);
            f->have_attempts = f->attempts > 0;
        } else if (strcmp(k, "retry_delay_ms") == 0) {
            f->delay_ms = (unsigned)strtoul(v, NULL, 10);
            f->have_delay = 1;
        } else
            st = kx_error_set(err, KX_BADINPUT, k, "unknown key (expected "
                              "url, from, user, password, cainfo, attempts, "
                              "retry_delay_ms)");
        if (slot) {
            free(*slot);
            if (!(*slot = strdup(v)))
                st = KX_NOMEM;
        }
    }
    free(line);
    if (st == KX_OK && f->password && fstat(fileno(fp), &sb) == 0 &&
        (sb.st_mode & 077))
        st = kx_error_set(err, KX_BADINPUT, "smtp-config",
                          "%s holds a password but others can read it "
                          "(chmod 600 %s)", path, path);
    fclose(fp);
    if (st != KX_OK && err) {
        snprintf(err->file, sizeof err->file, "%s", path);
        err->line = lineno;
    }
    if (st != KX_OK)
        smtp_file_free(f);
    return st;
}

/* $name if set and not empty, else dflt. */
static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);

    return v && *v ? v : dflt;
}

static void print_counts(const char *week, const struct api_digest_counts *c,
                         const char *where)
{
    printf("week %s: %zu delivered to %s, %zu failed, %zu deferred; outbox: "
           "%zu sent, %zu planned, %zu sending, %zu failed, %zu skipped "
           "(%.0f ms)\n", week, c->delivered, where, c->failed_now,
           c->deferred, c->sent, c->planned, c->sending, c->failed,
           c->skipped, c->ms);
    if (c->resent)
        fprintf(stderr, "kxmatch: %zu message%s in flight when an earlier "
                        "run stopped went out again; %s may have two "
                        "copies, with the same Message-ID\n", c->resent,
                c->resent == 1 ? " that was" : "s that were",
                c->resent == 1 ? "its recipient" : "their recipients");
}

static int cmd_send(struct dopts *d)
{
    struct api_matcher dc;
    struct kx_error err;
    struct smtp_file f;
    struct api_mail_config mc;
    struct api_digest_send_opts so;
    struct api_digest_counts cc, sc;
    char week[API_DIGEST_WEEK_MAX];
    json_object *plan = NULL;
    enum kx_status st;
    int rc = API_EXIT_OK;

    kx_error_clear(&err);
    memset(&f, 0, sizeof f);
    memset(&mc, 0, sizeof mc);
    memset(&so, 0, sizeof so);
    if (d->config && (st = smtp_file_load(d->config, &f, &err)) != KX_OK)
        return api_fail(st, &err);
    if (!d->smtp && !d->outbox && !f.url && !d->c.cfg->smtp_url) {
        smtp_file_free(&f);
        fprintf(stderr, "kxmatch: digest send needs --smtp URL, --outbox DIR, "
                        "a url in --smtp-config or smtp_url in [mail] of "
                        "the configuration file\n");
        return usage();
    }
    if (d->smtp && d->outbox) {
        smtp_file_free(&f);
        fprintf(stderr, "kxmatch: give --smtp or --outbox, not both\n");
        return usage();
    }
    if (d->week) {
        if ((st = api_digest_week_parse(d->week, NULL, NULL, NULL, &err)) !=
            KX_OK) {
            smtp_file_free(&f);
            return api_fail(st, &err);
        }
        snprintf(week, sizeof week, "%s", d->week);
    } else {
        api_digest_week_of(time(NULL), week);
    }
    d->plan.week = week;
    if (!d->msg.from)
        d->msg.from = f.from ? f.from : d->c.cfg->from;
    mc.url = d->smtp ? d->smtp : f.url ? f.url : d->c.cfg->smtp_url;
    mc.user = env_or("KXMATCH_SMTP_USER", f.user);
    mc.password = env_or("KXMATCH_SMTP_PASSWORD", f.password);
    mc.cainfo = f.cainfo;
    mc.attempts = d->attempts ? d->attempts : f.attempts;
    mc.retry_delay_ms = d->have_delay ? d->delay_ms
                        : f.have_delay ? f.delay_ms : 0;
    if ((d->have_delay || f.have_delay) && mc.retry_delay_ms == 0)
        mc.retry_delay_ms = API_MAIL_NO_DELAY;
    so.from = d->msg.from;
    so.smtp = d->outbox ? NULL : &mc;
    so.outbox_dir = d->outbox;
    /* Bad settings fail before anything is planned or composed. */
    if (so.smtp) {
        api_mail *probe = NULL;
        if ((st = api_mail_open(so.smtp, &probe, &err)) != KX_OK) {
            smtp_file_free(&f);
            return api_fail(st, &err);
        }
        api_mail_close(probe);
    }
    if (d->msg.from && !record_email_valid(d->msg.from)) {
        smtp_file_free(&f);
        fprintf(stderr, "kxmatch: --from \"%s\" is not a plain e-mail "
                        "address\n", d->msg.from);
        return API_EXIT_BADINPUT;
    }
    /* Mail that leaves for real people must link to the site they can
     * reach and come from an address they can answer. */
    if (so.smtp && api_url_is_loopback(d->msg.base_url)) {
        smtp_file_free(&f);
        fprintf(stderr, "kxmatch: digest send over SMTP needs the site's "
                        "public address for its links, not %s: set "
                        "base_url in [organisation] of the configuration "
                        "file or give --base-url\n",
                d->msg.base_url ? d->msg.base_url : "the default "
                                                    "http://127.0.0.1:8080");
        return API_EXIT_BADINPUT;
    }
    if (so.smtp && api_addr_is_loopback(d->msg.from)) {
        smtp_file_free(&f);
        fprintf(stderr, "kxmatch: digest send over SMTP needs a sender "
                        "address recipients can answer, not %s: set from in "
                        "[mail] of the configuration file or give --from\n",
                d->msg.from ? d->msg.from : "the default kxmatch@localhost");
        return API_EXIT_BADINPUT;
    }

    if ((st = api_matcher_open(&d->c, NULL, 0, &dc, &err)) != KX_OK) {
        smtp_file_free(&f);
        return api_fail(st, &err);
    }
    /* No plan yet: make one with the options given. */
    st = api_digest_plan_get(idx_store(dc.x), week, &plan, NULL);
    json_object_put(plan);
    if (st == KX_NOTFOUND) {
        struct api_digest_plan_report rep;
        api_matcher_close(&dc);
        if ((st = api_matcher_open(&d->c, NULL, 1, &dc, &err)) == KX_OK &&
            (st = api_matcher_workers(&dc, d->threads)) == KX_OK &&
            (st = api_digest_plan(dc.ctxs, dc.nctxs, idx_store(dc.x),
                                  &d->plan, &rep, &err)) == KX_OK)
            printf("week %s: planned %zu pairs for %zu of %zu needs "
                   "(%.0f ms)\n", week, rep.exact.pairs, rep.exact.covered,
                   rep.needs_with, rep.ms_total);
    }
    if (st == KX_OK) {
        st = api_digest_compose(idx_store(dc.x), idx_taxo(dc.x), &d->msg,
                                week, &cc, &err);
        if (st == KX_OK)
            printf("week %s: %zu messages composed (%zu recipients without "
                   "address, %zu switched off) in %.0f ms\n", week,
                   cc.composed, cc.noaddr, cc.off, cc.ms);
    }
    if (st == KX_OK || st == KX_UNAVAILABLE) {
        memset(&sc, 0, sizeof sc);
        if (st == KX_OK)
            st = api_digest_send(idx_store(dc.x), week, &so, &sc, &err);
        print_counts(week, &sc, d->outbox ? d->outbox : mc.url);
        if (st == KX_OK && sc.deferred) {
            fprintf(stderr, "kxmatch: %zu messages deferred by temporary "
                            "failures; run again later\n", sc.deferred);
            rc = API_EXIT_UNAVAILABLE;
        }
        if (st == KX_OK && sc.failed_now)
            fprintf(stderr, "kxmatch: %zu messages failed permanently "
                            "(see `kxmatch digest status`)\n", sc.failed_now);
    }
    api_matcher_close(&dc);
    smtp_file_free(&f);
    if (st != KX_OK)
        return api_fail(st, &err);
    return rc;
}

/* ---- the rest ----------------------------------------------------------- */

static int cmd_preview(struct dopts *d, int argc, char **argv)
{
    struct api_matcher dc;
    struct kx_error err;
    json_object *o = NULL, *x;
    enum kx_status st;

    if (optind + 1 != argc)
        return usage();
    kx_error_clear(&err);
    if ((st = api_matcher_open(&d->c, NULL, 0, &dc, &err)) != KX_OK)
        return api_fail(st, &err);
    st = api_digest_preview(idx_store(dc.x), idx_taxo(dc.x), &d->msg, NULL,
                            argv[optind], d->week, &o, &err);
    if (st == KX_OK) {
        if (d->json)
            print_json(o);
        else if (json_object_object_get_ex(o, d->raw ? "message" : "text", &x))
        {
            if (!d->raw) {
                json_object *s, *to, *state;
                json_object_object_get_ex(o, "subject", &s);
                json_object_object_get_ex(o, "to", &to);
                json_object_object_get_ex(o, "state", &state);
                printf("To: %s\nSubject: %s\nState: %s\n\n",
                       json_object_get_string(to), json_object_get_string(s),
                       json_object_get_string(state));
            }
            fputs(json_object_get_string(x), stdout);
        }
    }
    json_object_put(o);
    api_matcher_close(&dc);
    return st == KX_OK ? API_EXIT_OK : api_fail(st, &err);
}

static int cmd_status(struct dopts *d)
{
    struct api_matcher dc;
    struct kx_error err;
    json_object *o = NULL, *msgs, *counts;
    enum kx_status st;

    kx_error_clear(&err);
    if ((st = api_matcher_open(&d->c, NULL, 0, &dc, &err)) != KX_OK)
        return api_fail(st, &err);
    st = api_digest_status(idx_store(dc.x), d->week, &o, &err);
    if (st == KX_OK && d->json) {
        print_json(o);
    } else if (st == KX_OK) {
        json_object_object_get_ex(o, "messages", &msgs);
        json_object_object_get_ex(o, "counts", &counts);
        for (size_t i = 0; i < json_object_array_length(msgs); i++) {
            json_object *m = json_object_array_get_idx(msgs, i), *v;
            const char *r = "";
            if (json_object_object_get_ex(m, "reason", &v))
                r = json_object_get_string(v);
            json_object_object_get_ex(m, "state", &v);
            printf("%-8s ", json_object_get_string(v));
            json_object_object_get_ex(m, "recipient", &v);
            printf("%-22s ", json_object_get_string(v));
            json_object_object_get_ex(m, "to", &v);
            printf("%s%s%s\n", json_object_get_string(v), *r ? "  " : "", r);
        }
        printf("%s\n", json_object_to_json_string_ext(counts,
                                                      JSON_C_TO_STRING_PLAIN));
    }
    json_object_put(o);
    api_matcher_close(&dc);
    return st == KX_OK ? API_EXIT_OK : api_fail(st, &err);
}

static int cmd_simple(const char *sub, struct dopts *d, int argc, char **argv)
{
    struct api_matcher dc;
    struct kx_error err;
    json_object *o = NULL;
    char who[KX_KEY_MAX];
    enum kx_status st;
    int n = argc - optind;
    char **a = argv + optind;

    kx_error_clear(&err);
    if (strcmp(sub, "frequency") == 0 && n != 2)
        return usage();
    if (strcmp(sub, "unsubscribe") == 0 && n != 1)
        return usage();
    if (strcmp(sub, "recipients") == 0 && n != 0)
        return usage();
    if (strcmp(sub, "liaison") == 0 &&
        (n != 1 || (strcmp(a[0], "add") == 0 && (!d->region || !d->email)) ||
         (strcmp(a[0], "remove") == 0 && !d->region) ||
         (strcmp(a[0], "add") != 0 && strcmp(a[0], "remove") != 0 &&
          strcmp(a[0], "list") != 0)))
        return usage();
    if ((st = api_matcher_open(&d->c, NULL, 0, &dc, &err)) != KX_OK)
        return api_fail(st, &err);
    if (strcmp(sub, "frequency") == 0) {
        st = api_digest_frequency_set(idx_store(dc.x), a[0], a[1], &err);
        if (st == KX_OK)
            printf("%s: %s\n", a[0], a[1]);
    } else if (strcmp(sub, "unsubscribe") == 0) {
        st = api_digest_unsubscribe(idx_store(dc.x), a[0], who, &err);
        if (st == KX_OK)
            printf("%s: off\n", who);
    } else if (strcmp(sub, "recipients") == 0) {
        st = api_digest_recipients(idx_store(dc.x), d->week, &o, &err);
        for (size_t i = 0; st == KX_OK && i < json_object_array_length(o); i++)
            printf("%s\n", json_object_get_string(
                               json_object_array_get_idx(o, i)));
    } else if (strcmp(a[0], "add") == 0) {
        st = api_digest_liaison_set(idx_store(dc.x), idx_taxo(dc.x),
                                    d->region, d->email, &err);
        if (st == KX_OK)
            printf("liaison:%s: %s\n", d->region, d->email);
    } else if (strcmp(a[0], "remove") == 0) {
        st = api_digest_liaison_del(idx_store(dc.x), d->region, &err);
    } else {
        st = api_digest_liaison_list(idx_store(dc.x), &o);
        if (st == KX_OK) {
            json_object_object_foreach(o, k, v)
                printf("liaison:%s %s\n", k, json_object_get_string(v));
        }
    }
    json_object_put(o);
    api_matcher_close(&dc);
    return st == KX_OK ? API_EXIT_OK : api_fail(st, &err);
}

int api_cmd_digest(const struct api_common *common, int argc, char **argv)
{
    struct dopts d;
    const char *sub;
    int rc;

    if (argc < 2)
        return usage();
    sub = argv[1];
    if ((rc = parse(common, argc - 1, argv + 1, &d)) != 0)
        return rc;
    argv++;
    argc--;
    if (strcmp(sub, "plan") == 0)
        return optind == argc ? cmd_plan(&d) : usage();
    if (strcmp(sub, "send") == 0)
        return optind == argc ? cmd_send(&d) : usage();
    if (strcmp(sub, "preview") == 0)
        return cmd_preview(&d, argc, argv);
    if (strcmp(sub, "status") == 0)
        return optind == argc ? cmd_status(&d) : usage();
    if (strcmp(sub, "frequency") == 0 || strcmp(sub, "unsubscribe") == 0 ||
        strcmp(sub, "recipients") == 0 || strcmp(sub, "liaison") == 0)
        return cmd_simple(sub, &d, argc, argv);
    fprintf(stderr, "kxmatch: unknown digest command \"%s\"\n", sub);
    return usage();
}
