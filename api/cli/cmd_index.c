/* cmd_index.c - `kxmatch index`, `check` and `stats`: writing the data
 * directory and reporting on it. */
#include "cli.h"
#include "index.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_ERRORS_SHOWN 50

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct index_ui {
    size_t shown, hidden;
    int tty;
    double t0;
};

static int show_error(void *ctx, const struct kx_error *e)
{
    struct index_ui *ui = ctx;
    char buf[1024];

    if (ui->shown >= MAX_ERRORS_SHOWN) {
        ui->hidden++;
        return 0;
    }
    kx_error_format(e, buf, sizeof buf);
    fprintf(stderr, "%s\n", buf);
    ui->shown++;
    return 0;
}

static void show_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct index_ui *ui = ctx;
    int width = 40, fill;
    double pct;

    if (!ui->tty || total < (8u << 20))
        return;
    pct = total ? (double)done / (double)total : 0;
    fill = (int)(pct * width);
    /* Two passes: validation is the first half of the bar. */
    fprintf(stderr, "\r[%.*s%*s] %5.1f%% %s  %.0f s",
            fill, "########################################", width - fill,
            "", pct * 100, pct < 0.5 ? "checking" : "indexing ",
            now_s() - ui->t0);
    if (done >= total)
        fputc('\n', stderr);
}

int api_cmd_index(const struct api_common *common, int argc, char **argv)
{
    static const struct option opts[] = {
        API_COMMON_OPTS,
        {"rebuild", no_argument, NULL, 'r'},
        {"skip-invalid", no_argument, NULL, 's'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    struct api_common c = *common;
    struct index_ui ui = {0, 0, 0, now_s()};
    struct idx_counts counts;
    struct kx_error err;
    unsigned flags = 0;
    int rebuild = 0, quiet = 0, opt;
    idx *x = NULL;
    enum kx_status st;

    kx_error_clear(&err);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (api_common_opt(&c, opt))
            continue;
        switch (opt) {
        case 'r': rebuild = 1; break;
        case 's': flags |= IDX_SKIP_INVALID; break;
        case 'q': quiet = 1; break;
        default:
            return api_usage("index");
        }
    }
    if (optind >= argc && !rebuild) {
        fprintf(stderr, "kxmatch: no input files (use - for stdin)\n");
        return api_usage("index");
    }
    ui.tty = isatty(STDERR_FILENO) && !quiet;
    st = idx_open(c.db, IDX_WRITE, c.taxonomy, &x, &err);
    if (st != KX_OK)
        return api_fail(st, &err);
    if (optind < argc) {
        st = idx_ingest(x, (const char *const *)argv + optind,
                        (size_t)(argc - optind), flags, &counts, show_error,
                        show_progress, &ui, &err);
        if (ui.hidden)
            fprintf(stderr, "... and %zu more invalid lines\n", ui.hidden);
        if (st != KX_OK) {
            idx_close(x);
            return api_fail(st, &err);
        }
        if (!quiet)
            printf("added %zu, updated %zu, deleted %zu, unchanged %zu, "
                   "rejected %zu (%.2f s)\n",
                   counts.added, counts.updated, counts.deleted,
                   counts.unchanged, counts.rejected, now_s() - ui.t0);
    }
    if (rebuild) {
        double t = now_s();
        st = idx_rebuild(x, NULL, NULL);
        if (st != KX_OK) {
            kx_error_set(&err, st, "", "rebuilding the Xapian index: %s",
                         xap_errmsg(idx_xap(x)));
            idx_close(x);
            return api_fail(st, &err);
        }
        if (!quiet)
            printf("rebuilt the Xapian index from LMDB (%.2f s)\n",
                   now_s() - t);
    }
    idx_close(x);
    return API_EXIT_OK;
}

/* ---- check -------------------------------------------------------------- */

struct check_ctx {
    store_txn *t;
    size_t records, dangling, stale;
    int profiles; /* the store keeps profiles (see store_has_profiles) */
};

/* The stored profile must be the record's. */
static void check_profile(struct check_ctx *c, const char *key,
                          const struct kx_record *r)
{
    const void *have;
    size_t hlen, wlen;
    char *want = NULL;
    enum kx_status st = store_profile_get(c->t, key, &have, &hlen);

    if (record_profile_encode(r, &want, &wlen) != KX_OK || st != KX_OK ||
        hlen != wlen || memcmp(have, want, wlen) != 0) {
        printf("%s: its profile (what ranking reads) %s\n", key,
               st == KX_NOTFOUND ? "is missing" : "differs from the record");
        c->stale++;
    }
    free(want);
}

static int check_record(void *vctx, const char *key, const char *json,
                        size_t len)
{
    struct check_ctx *c = vctx;
    struct kx_record *r = NULL;
    const char *refs[512], *v;
    size_t n;

    c->records++;
    if (record_parse(json, len, NULL, &r, NULL) != KX_OK) {
        printf("%s: stored record does not parse\n", key);
        c->dangling++;
        return 0;
    }
    n = record_refs(r, refs, sizeof refs / sizeof refs[0]);
    for (size_t i = 0; i < n; i++) {
        if (store_record_get(c->t, refs[i], &v, NULL) == KX_NOTFOUND) {
            printf("%s: refers to %s, which does not exist\n", key, refs[i]);
            c->dangling++;
        }
    }
    if (c->profiles)
        check_profile(c, key, r);
    record_free(r);
    return 0;
}

int api_cmd_check(const struct api_common *common, int argc, char **argv)
{
    static const struct option opts[] = {
        API_COMMON_OPTS,
        {NULL, 0, NULL, 0},
    };
    struct api_common c = *common;
    struct check_ctx cc = {NULL, 0, 0, 0, 0};
    struct kx_error err;
    unsigned long ndocs = 0;
    idx *x = NULL;
    enum kx_status st;
    int opt, rc = API_EXIT_OK;

    kx_error_clear(&err);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1)
        if (!api_common_opt(&c, opt)) {
            return api_usage("check");
        }
    st = idx_open(c.db, IDX_READ, c.taxonomy, &x, &err);
    if (st != KX_OK)
        return api_fail(st, &err);
    cc.profiles = store_has_profiles(idx_store(x));
    if ((st = store_txn_begin(idx_store(x), 0, &cc.t)) == KX_OK)
        st = store_record_each(cc.t, "", check_record, &cc);
    if (st == KX_OK)
        st = xap_doccount(idx_xap(x), &ndocs);
    store_txn_abort(cc.t);
    if (st != KX_OK) {
        idx_close(x);
        return api_fail(st, NULL);
    }
    if (ndocs != cc.records) {
        printf("the Xapian index holds %lu documents but LMDB %zu records: "
               "run `kxmatch index --rebuild`\n", ndocs, cc.records);
        rc = API_EXIT_FAIL;
    }
    printf("%zu records checked, %zu dangling reference%s\n", cc.records,
           cc.dangling, cc.dangling == 1 ? "" : "s");
    if (cc.dangling)
        rc = API_EXIT_BADINPUT;
    if (cc.stale) {
        printf("%zu profile%s out of step with the records\n", cc.stale,
               cc.stale == 1 ? "" : "s");
        rc = API_EXIT_FAIL;
    }
    idx_close(x);
    return rc;
}

/* ---- stats -------------------------------------------------------------- */

static uint64_t dir_bytes(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    struct stat sb;
    char p[4400];
    uint64_t sum = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode))
            sum += (uint64_t)sb.st_blocks * 512;
    }
    closedir(d);
    return sum;
}

int api_cmd_stats(const struct api_common *common, int argc, char **argv)
{
    static const struct option opts[] = {
        API_COMMON_OPTS,
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct api_common c = *common;
    struct kx_error err;
    store_txn *t = NULL;
    size_t counts[KX_KIND_LAST], total = 0;
    unsigned long ndocs = 0;
    uint64_t seq = 0, lmdb_bytes = 0, xap_bytes;
    char xpath[4096], tag[32];
    idx *x = NULL;
    enum kx_status st;
    int opt, json = 0;

    kx_error_clear(&err);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (api_common_opt(&c, opt))
            continue;
        if (opt == 'j') {
            json = 1;
            continue;
        }
        return api_usage("stats");
    }
    st = idx_open(c.db, IDX_READ, c.taxonomy, &x, &err);
    if (st != KX_OK)
        return api_fail(st, &err);
    st = store_txn_begin(idx_store(x), 0, &t);
    for (int k = 0; st == KX_OK && k < KX_KIND_LAST; k++) {
        snprintf(tag, sizeof tag, "K:%s", record_kind_name(k));
        st = store_posting_count(t, tag, &counts[k]);
        total += counts[k];
    }
    if (st == KX_OK)
        st = store_seq(t, &seq);
    store_txn_abort(t);
    if (st == KX_OK)
        st = store_disk_usage(idx_store(x), &lmdb_bytes);
    if (st == KX_OK)
        st = xap_doccount(idx_xap(x), &ndocs);
    if (st != KX_OK) {
        idx_close(x);
        return api_fail(st, NULL);
    }
    store_xapian_path(idx_store(x), xpath, sizeof xpath);
    xap_bytes = dir_bytes(xpath);
    if (json) {
        printf("{\"records\":%zu,\"by_kind\":{", total);
        for (int k = 0; k < KX_KIND_LAST; k++)
            printf("%s\"%s\":%zu", k ? "," : "", record_kind_name(k),
                   counts[k]);
        printf("},\"xapian_documents\":%lu,\"lmdb_bytes\":%llu,"
               "\"xapian_bytes\":%llu,\"change_seq\":%llu}\n",
               ndocs, (unsigned long long)lmdb_bytes,
               (unsigned long long)xap_bytes, (unsigned long long)seq);
    } else {
        printf("data directory  %s\n", c.db);
        for (int k = 0; k < KX_KIND_LAST; k++)
            printf("%-15s %zu\n", record_kind_name(k), counts[k]);
        printf("%-15s %zu\n", "records", total);
        printf("%-15s %lu\n", "xapian docs", ndocs);
        printf("%-15s %.1f MiB\n", "lmdb size", lmdb_bytes / 1048576.0);
        printf("%-15s %.1f MiB\n", "xapian size", xap_bytes / 1048576.0);
        printf("%-15s %llu\n", "changes", (unsigned long long)seq);
    }
    idx_close(x);
    return API_EXIT_OK;
}
