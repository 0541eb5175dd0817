/* cmd_bench.c - `kxmatch bench match|search`: in-process latency of the
 * matcher and of search over a list of needs or queries, the figures the
 * issue-6 bench reports next to the CLI and HTTP ones. */
#include "cli.h"
#include "match.h"
#include "search.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_DEFAULT_N 1000
#define BENCH_MAX_LINE 4096

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Lines of a file (need keys or queries), blank ones left out. */
struct lines {
    char **v;
    size_t n;
};

static void lines_free(struct lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static enum kx_status lines_push(struct lines *l, const char *s)
{
    char **v = realloc(l->v, (l->n + 1) * sizeof *v);

    if (!v)
        return KX_NOMEM;
    l->v = v;
    if (!(v[l->n] = strdup(s)))
        return KX_NOMEM;
    l->n++;
    return KX_OK;
}

static enum kx_status lines_load(const char *path, size_t max,
                                 struct lines *l, struct kx_error *err)
{
    FILE *f = fopen(path, "r");
    char buf[BENCH_MAX_LINE];
    enum kx_status st = KX_OK;

    memset(l, 0, sizeof *l);
    if (!f)
        return kx_error_set(err, KX_NOTFOUND, "", "cannot open %s", path);
    while (st == KX_OK && l->n < max && fgets(buf, sizeof buf, f)) {
        buf[strcspn(buf, "\r\n")] = '\0';
        if (buf[0])
            st = lines_push(l, buf);
    }
    fclose(f);
    if (st == KX_OK && l->n == 0)
        st = kx_error_set(err, KX_BADINPUT, "", "%s has no lines", path);
    return st;
}

/* Every k-th need key in the store, so that n of them spread evenly. */
struct sample_ctx {
    struct lines *l;
    size_t every, seen, max;
    enum kx_status st;
};

static int sample_key(void *vctx, const char *key)
{
    struct sample_ctx *c = vctx;

    if (c->seen++ % c->every == 0)
        c->st = lines_push(c->l, key);
    return c->st != KX_OK || c->l->n >= c->max;
}

static enum kx_status sample_needs(store *s, size_t n, struct lines *l)
{
    struct sample_ctx c = {l, 1, 0, n, KX_OK};
    store_txn *t = NULL;
    size_t total = 0;
    enum kx_status st;

    memset(l, 0, sizeof *l);
    if ((st = store_txn_begin(s, 0, &t)) != KX_OK)
        return st;
    if ((st = store_posting_count(t, "K:need", &total)) == KX_OK) {
        c.every = total > n ? total / n : 1;
        st = store_posting_each(t, "K:need", sample_key, &c);
        if (st == KX_OK)
            st = c.st;
    }
    store_txn_abort(t);
    return st;
}

/* Per-run percentiles, and the medians of those over the runs. */
struct stats {
    double *lat;     /* this run's latencies, ms */
    double *p50, *p99, *mean, *max;
    size_t n, runs;
    size_t errors, zero;
};

static enum kx_status stats_init(struct stats *s, size_t n, size_t runs)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    s->runs = runs;
    s->lat = calloc(n, sizeof *s->lat);
    s->p50 = calloc(runs, sizeof *s->p50);
    s->p99 = calloc(runs, sizeof *s->p99);
    s->mean = calloc(runs, sizeof *s->mean);
    s->max = calloc(runs, sizeof *s->max);
    return s->lat && s->p50 && s->p99 && s->mean && s->max ? KX_OK
                                                            : KX_NOMEM;
}

static void stats_free(struct stats *s)
{
    free(s->lat);
    free(s->p50);
    free(s->p99);
    free(s->mean);
    free(s->max);
}

static void stats_run_done(struct stats *s, size_t run)
{
    double sum = 0;

    for (size_t i = 0; i < s->n; i++)
        sum += s->lat[i];
    qsort(s->lat, s->n, sizeof *s->lat, cmp_double);
    s->p50[run] = s->lat[s->n / 2];
    s->p99[run] = s->lat[(size_t)((double)s->n * 0.99)];
    s->mean[run] = sum / (double)s->n;
    s->max[run] = s->lat[s->n - 1];
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return v[n / 2];
}

static void stats_print(struct stats *s, const char *what, int json)
{
    double p50 = median(s->p50, s->runs), p99 = median(s->p99, s->runs);
    double mean = median(s->mean, s->runs), max = median(s->max, s->runs);

    if (json) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "bench", json_object_new_string(what));
        json_object_object_add(o, "n", json_object_new_int64((int64_t)s->n));
        json_object_object_add(o, "runs",
                               json_object_new_int64((int64_t)s->runs));
        json_object_object_add(o, "p50_ms", json_object_new_double(p50));
        json_object_object_add(o, "p99_ms", json_object_new_double(p99));
        json_object_object_add(o, "mean_ms", json_object_new_double(mean));
        json_object_object_add(o, "max_ms", json_object_new_double(max));
        json_object_object_add(o, "errors",
                               json_object_new_int64((int64_t)s->errors));
        json_object_object_add(o, "zero",
                               json_object_new_int64((int64_t)s->zero));
        printf("%s\n", json_object_to_json_string_ext(o,
                                                      JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return;
    }
    printf("%s: n=%zu runs=%zu p50_ms=%.3f p99_ms=%.3f mean_ms=%.3f "
           "max_ms=%.3f errors=%zu zero=%zu\n",
           what, s->n, s->runs, p50, p99, mean, max, s->errors, s->zero);
}

/* Matches every need once untimed (the page cache and the allocator warm
 * up), then `runs` timed rounds. A closed need or one with nothing to
 * match on counts as an error, not as a latency. */
static enum kx_status bench_match(match_ctx *ctx, const struct lines *keys,
                                  size_t runs, size_t top, int json,
                                  FILE *dump, struct kx_error *err)
{
    struct stats s;
    enum kx_status st;

    if ((st = stats_init(&s, keys->n, runs)) != KX_OK)
        goto out;
    for (size_t run = 0; run <= runs; run++) {
        for (size_t i = 0; i < keys->n; i++) {
            struct match_request req;
            struct match_result *res = NULL;
            struct kx_error e;
            size_t got;
            double t0;

            memset(&req, 0, sizeof req);
            req.need_key = keys->v[i];
            req.top = top;
            t0 = now_ms();
            st = match_need(ctx, &req, &res, &e);
            got = res ? res->n : 0;
            if (run == 1 && dump) {
                fprintf(dump, "%s", keys->v[i]);
                for (size_t k = 0; k < got; k++)
                    fprintf(dump, "%c%s %.6f", k ? ' ' : '\t',
                            res->v[k].key, res->v[k].parts.score);
                fputc('\n', dump);
            }
            match_result_free(res);
            if (run > 0)
                s.lat[i] = now_ms() - t0;
            if (st != KX_OK && st != KX_BADINPUT && st != KX_CONFLICT &&
                st != KX_NOTFOUND) {
                *err = e;
                goto out;
            }
            if (run == 1) {
                s.errors += st != KX_OK;
                s.zero += st == KX_OK && got == 0;
            }
        }
        if (run > 0)
            stats_run_done(&s, run - 1);
    }
    st = KX_OK;
    stats_print(&s, "match", json);
out:
    stats_free(&s);
    return st;
}

static enum kx_status bench_search(idx *x, const struct lines *qs,
                                   size_t runs, size_t top, int facets,
                                   int json, FILE *dump, struct kx_error *err)
{
    struct stats s;
    enum kx_status st;

    if ((st = stats_init(&s, qs->n, runs)) != KX_OK)
        goto out;
    for (size_t run = 0; run <= runs; run++) {
        for (size_t i = 0; i < qs->n; i++) {
            struct match_search_opts so;
            struct match_search_result *res = NULL;
            double t0;

            memset(&so, 0, sizeof so);
            so.query = qs->v[i];
            so.count = (unsigned)top;
            so.facets = facets;
            t0 = now_ms();
            st = match_search(idx_xap(x), idx_tokenizer(x), idx_taxo(x), &so,
                              &res, err);
            if (run > 0)
                s.lat[i] = now_ms() - t0;
            if (run == 1) {
                s.errors += st != KX_OK;
                s.zero += st == KX_OK && res->nhits == 0;
            }
            if (run == 1 && dump) {
                fprintf(dump, "%s", qs->v[i]);
                for (size_t k = 0; res && k < res->nhits; k++)
                    fprintf(dump, "%c%s %.6f", k ? ' ' : '\t',
                            res->hits[k].key, res->hits[k].score);
                fputc('\n', dump);
            }
            match_search_result_free(res);
        }
        if (run > 0)
            stats_run_done(&s, run - 1);
    }
    st = KX_OK;
    stats_print(&s, facets ? "search+facets" : "search", json);
out:
    stats_free(&s);
    return st;
}

int api_cmd_bench(const struct api_common *common, int argc, char **argv)
{
    static const struct option opts[] = {
        API_COMMON_OPTS,
        {"keys", required_argument, NULL, 'k'},
        {"queries", required_argument, NULL, 'q'},
        {"n", required_argument, NULL, 'n'},
        {"runs", required_argument, NULL, 'r'},
        {"top", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"weights", required_argument, NULL, 'c'},
        {"dump", required_argument, NULL, 'o'},
        {"facets", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    struct api_common c = *common;
    struct api_matcher mt;
    struct lines items = {0};
    struct kx_error err;
    const char *file = NULL, *config = NULL, *dump_path = NULL, *what;
    FILE *dump = NULL;
    size_t n = BENCH_DEFAULT_N, runs = 3, top = 10;
    enum kx_status st;
    int opt, json = 0, facets = 0;

    kx_error_clear(&err);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (api_common_opt(&c, opt))
            continue;
        switch (opt) {
        case 'k':
        case 'q': file = optarg; break;
        case 'n':
        case 'r':
        case 't': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 1000000) {
                fprintf(stderr, "kxmatch: --%s expects 1..1000000, got "
                                "\"%s\"\n",
                        opt == 'n' ? "n" : opt == 'r' ? "runs" : "top",
                        optarg);
                return API_EXIT_BADINPUT;
            }
            if (opt == 'n')
                n = (size_t)v;
            else if (opt == 'r')
                runs = (size_t)v;
            else
                top = (size_t)v;
            break;
        }
        case 'j': json = 1; break;
        case 'f': facets = 1; break;
        case 'c': config = optarg; break;
        case 'o': dump_path = optarg; break;
        default: goto usage;
        }
    }
    if (optind + 1 != argc)
        goto usage;
    what = argv[optind];
    if (strcmp(what, "match") != 0 && strcmp(what, "search") != 0)
        goto usage;
    if (strcmp(what, "search") == 0 && !file)
        goto usage;
    if ((st = api_matcher_open(&c, config, what[0] == 'm', &mt, &err)) !=
        KX_OK)
        return api_fail(st, &err);
    if (file)
        st = lines_load(file, n, &items, &err);
    else
        st = sample_needs(idx_store(mt.x), n, &items);
    if (st == KX_OK && items.n == 0)
        st = kx_error_set(&err, KX_NOTFOUND, "", "no needs in %s", c.db);
    if (st == KX_OK && dump_path && !(dump = fopen(dump_path, "w")))
        st = kx_error_set(&err, KX_IO, "dump", "cannot write %s: %s",
                          dump_path, strerror(errno));
    if (st == KX_OK)
        st = what[0] == 'm'
                 ? bench_match(mt.ctx, &items, runs, top, json, dump, &err)
                 : bench_search(mt.x, &items, runs, top, facets, json, dump,
                                &err);
    if (dump && fclose(dump) != 0 && st == KX_OK)
        st = kx_error_set(&err, KX_IO, "dump", "cannot write %s",
                          dump_path);
    lines_free(&items);
    api_matcher_close(&mt);
    return st == KX_OK ? API_EXIT_OK : api_fail(st, &err);
usage:
    return api_usage("bench");
}
