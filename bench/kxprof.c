/* kxprof.c - the indexer alone, for profiling: `kxprof DB FILE...` runs
 * the same idx_open + idx_ingest as `kxmatch index`, without the API layer,
 * and prints records/s with CPU time and peak RSS. */
#include "index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int show(void *ctx, const struct kx_error *e)
{
    char buf[1024];

    (void)ctx;
    kx_error_format(e, buf, sizeof buf);
    fprintf(stderr, "%s\n", buf);
    return 0;
}

int main(int argc, char **argv)
{
    struct idx_counts c;
    struct kx_error err;
    struct rusage ru;
    idx *x = NULL;
    enum kx_status st;
    double t0 = now(), t1;
    size_t n;

    if (argc < 3) {
        fprintf(stderr, "usage: kxprof DB FILE...\n");
        return 2;
    }
    kx_error_clear(&err);
    st = idx_open(argv[1], IDX_WRITE, NULL, &x, &err);
    if (st == KX_OK)
        st = idx_ingest(x, (const char *const *)argv + 2, (size_t)argc - 2, 0,
                        &c, show, NULL, NULL, &err);
    idx_close(x);
    t1 = now();
    if (st != KX_OK) {
        char buf[1024];
        kx_error_format(&err, buf, sizeof buf);
        fprintf(stderr, "kxprof: %s: %s\n", kx_status_str(st), buf);
        return 1;
    }
    getrusage(RUSAGE_SELF, &ru);
    n = c.added + c.updated + c.deleted + c.unchanged;
    printf("records %zu  wall %.2f s  %.0f rec/s  cpu %.2f s (user %.2f)  "
           "%.0f rec/cpu-s  maxrss %ld MiB\n",
           n, t1 - t0, n / (t1 - t0),
           ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
               ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
           ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
           n / (ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6),
           ru.ru_maxrss / 1024);
    return 0;
}
