/* test_assign.c - the weekly assignment: optimal against brute force on
 * small cases, optimal by certificate (no negative residual cycle) on larger
 * ones, capacities respected, the coverage rule, greedy never better.
 * `test_assign --bench [NEEDS PARTNERS DEGREE]` prints exact against greedy
 * on a generated instance instead (20000 5000 50 by default). */
#include "assign.h"
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static double urand(void) { return (double)(rng() >> 11) / 9007199254740992.0; }
static uint32_t irand(uint32_t n) { return (uint32_t)(rng() % n); }

/* A generated problem and the arrays behind it. */
struct inst {
    struct match_assign_problem p;
    struct match_assign_edge *e;
    uint32_t *ncap, *pcap;
};

static void inst_free(struct inst *x)
{
    free(x->e);
    free(x->ncap);
    free(x->pcap);
    memset(x, 0, sizeof *x);
}

/* Tiny random instance: up to maxn needs, maxp partners and maxe pairs.
 * Scores are sometimes coarse so that ties occur. */
static void inst_tiny(struct inst *x, uint32_t maxn, uint32_t maxp,
                      size_t maxe)
{
    size_t n = 1 + irand(maxn), np = 1 + irand(maxp), k = 0;
    int coarse = irand(2);

    memset(x, 0, sizeof *x);
    x->e = calloc(n * np, sizeof *x->e);
    x->ncap = calloc(n, sizeof *x->ncap);
    x->pcap = calloc(np, sizeof *x->pcap);
    for (size_t i = 0; i < n; i++)
        x->ncap[i] = irand(4);
    for (size_t j = 0; j < np; j++)
        x->pcap[j] = irand(3);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < np; j++) {
            if (urand() < 0.35 || k == maxe)
                continue;
            x->e[k].need = (uint32_t)i;
            x->e[k].partner = (uint32_t)j;
            x->e[k].score = coarse ? 0.1 * irand(11) : urand();
            k++;
        }
    x->p.nneeds = n;
    x->p.npartners = np;
    x->p.nedges = k;
    x->p.need_cap = x->ncap;
    x->p.partner_cap = x->pcap;
    x->p.edges = x->e;
}

/* Every need's candidates among the partners, popularity skewed like real
 * experts (a few are everyone's first choice), capacities 1..5. */
static void inst_random(struct inst *x, size_t n, size_t np, size_t deg,
                        uint32_t per_need)
{
    double *cum = calloc(np, sizeof *cum), total = 0;
    unsigned char *used = calloc(np, 1);
    size_t k = 0;

    memset(x, 0, sizeof *x);
    x->e = calloc(n * deg, sizeof *x->e);
    x->pcap = calloc(np, sizeof *x->pcap);
    for (size_t j = 0; j < np; j++) {
        total += 1.0 / pow((double)(j + 1), 0.8);
        cum[j] = total;
        x->pcap[j] = 1 + irand(5);
    }
    for (size_t i = 0; i < n; i++) {
        double quality = 0.3 + 0.7 * urand(); /* some needs match well */
        size_t got = 0;
        for (size_t tries = 0; got < deg && got < np && tries < deg * 20;
             tries++) {
            double u = urand() * total;
            size_t lo = 0, hi = np - 1;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (cum[mid] < u)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (used[lo])
                continue;
            used[lo] = 1;
            x->e[k].need = (uint32_t)i;
            x->e[k].partner = (uint32_t)lo;
            x->e[k].score = quality * (0.3 + 0.7 * urand() * urand());
            k++;
            got++;
        }
        for (size_t q = k - got; q < k; q++)
            used[x->e[q].partner] = 0;
    }
    x->p.nneeds = n;
    x->p.npartners = np;
    x->p.nedges = k;
    x->p.per_need = per_need;
    x->p.partner_cap = x->pcap;
    x->p.edges = x->e;
    free(cum);
    free(used);
}

static uint32_t need_cap(const struct match_assign_problem *p, size_t i)
{
    return p->need_cap ? p->need_cap[i] : p->per_need;
}

/* 1 if the chosen pairs respect every capacity; also counts. */
static int feasible(const struct match_assign_problem *p,
                    const unsigned char *chosen, size_t *covered,
                    int64_t *total)
{
    uint32_t *nl = calloc(p->nneeds + 1, 4), *pl = calloc(p->npartners + 1, 4);
    int ok = 1;

    *covered = 0;
    *total = 0;
    for (size_t e = 0; e < p->nedges; e++) {
        if (!chosen[e])
            continue;
        nl[p->edges[e].need]++;
        pl[p->edges[e].partner]++;
        *total += match_assign_scaled(p->edges[e].score);
    }
    for (size_t i = 0; i < p->nneeds; i++) {
        if (nl[i] > need_cap(p, i))
            ok = 0;
        *covered += nl[i] > 0;
    }
    for (size_t j = 0; j < p->npartners; j++)
        if (pl[j] > p->partner_cap[j])
            ok = 0;
    free(nl);
    free(pl);
    return ok;
}

/* The best (covered, total) over every subset of pairs: lexicographic when
 * cover_first, total only otherwise. */
static void brute(const struct match_assign_problem *p, size_t *bcov,
                  int64_t *btot)
{
    unsigned char chosen[32];

    if (p->nedges > 20)
        return;
    size_t cov;
    int64_t tot;

    *bcov = 0;
    *btot = -1;
    for (uint32_t m = 0; m < (1u << p->nedges); m++) {
        for (size_t e = 0; e < p->nedges; e++)
            chosen[e] = (m >> e) & 1;
        if (!feasible(p, chosen, &cov, &tot))
            continue;
        if (p->cover_first) {
            if (cov > *bcov || (cov == *bcov && tot > *btot)) {
                *bcov = cov;
                *btot = tot;
            }
        } else if (tot > *btot) {
            *btot = tot;
            *bcov = cov;
        }
    }
}

static void test_brute_force(void)
{
    int mismatches = 0, cases = 0;

    for (int c = 0; c < 5000; c++) {
        struct inst x;
        struct match_assign_result r, gr;
        size_t bcov = 0, cov;
        int64_t btot = -1, tot;

        /* mostly tiny; every tenth up to 5 x 4 with 15 pairs */
        if (c % 10 == 9)
            inst_tiny(&x, 5, 4, 15);
        else
            inst_tiny(&x, 4, 3, 12);
        x.p.cover_first = c & 1;
        CHECK_INT(match_assign_solve(&x.p, &r, NULL), KX_OK);
        CHECK_INT(match_assign_greedy(&x.p, &gr, NULL), KX_OK);
        brute(&x.p, &bcov, &btot);
        CHECK(feasible(&x.p, r.chosen, &cov, &tot));
        CHECK(feasible(&x.p, gr.chosen, &cov, &tot));
        if (r.total_scaled != btot ||
            (x.p.cover_first && r.covered != bcov)) {
            if (mismatches++ < 5)
                fprintf(stderr, "case %d (cover_first %d): solver "
                        "(%zu, %lld), brute force (%zu, %lld)\n", c,
                        x.p.cover_first, r.covered, (long long)r.total_scaled,
                        bcov, (long long)btot);
        }
        if (x.p.cover_first)
            CHECK(gr.covered <= r.covered);
        else
            CHECK(gr.total_scaled <= r.total_scaled);
        cases++;
        match_assign_result_free(&r);
        match_assign_result_free(&gr);
        inst_free(&x);
    }
    CHECK_INT(mismatches, 0);
    CHECK_INT(cases, 5000);
}

/* The residual network of a result has no negative cycle: the flow is a
 * min-cost flow. Bellman-Ford from a virtual root over
 * source/sink (merged), needs (two source arcs each) and partners. */
static int no_negative_cycle(const struct match_assign_problem *p,
                             const unsigned char *chosen, int64_t big)
{
    size_t n = p->nneeds, np = p->npartners, nv = n + np + 1, na = 0;
    uint32_t S = (uint32_t)(n + np);
    struct arc { uint32_t u, v; int64_t c; } *a;
    uint32_t *nl = calloc(n + 1, 4), *pl = calloc(np + 1, 4);
    int64_t *d = calloc(nv, sizeof *d);
    int ok = 0;

    a = calloc(4 * n + 2 * np + p->nedges + 1, sizeof *a);
    for (size_t e = 0; e < p->nedges; e++) {
        uint32_t i = p->edges[e].need, j = (uint32_t)n + p->edges[e].partner;
        int64_t s = match_assign_scaled(p->edges[e].score);
        if (chosen[e]) {
            a[na++] = (struct arc){j, i, s};
            nl[i]++;
            pl[p->edges[e].partner]++;
        } else {
            a[na++] = (struct arc){i, j, -s};
        }
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t cap = need_cap(p, i), f1 = nl[i] > 0, f2 = nl[i] - f1;
        int64_t b = p->cover_first ? big : 0;
        if (cap >= 1 && f1 == 0)
            a[na++] = (struct arc){S, (uint32_t)i, -b};
        if (f1 == 1)
            a[na++] = (struct arc){(uint32_t)i, S, b};
        if (cap >= 1 && f2 < cap - 1)
            a[na++] = (struct arc){S, (uint32_t)i, 0};
        if (f2 > 0)
            a[na++] = (struct arc){(uint32_t)i, S, 0};
    }
    for (size_t j = 0; j < np; j++) {
        if (pl[j] < p->partner_cap[j])
            a[na++] = (struct arc){(uint32_t)(n + j), S, 0};
        if (pl[j] > 0)
            a[na++] = (struct arc){S, (uint32_t)(n + j), 0};
    }
    /* all distances start at 0: a virtual root reaching every node */
    for (size_t round = 0; round <= nv; round++) {
        int changed = 0;
        for (size_t k = 0; k < na; k++)
            if (d[a[k].u] + a[k].c < d[a[k].v]) {
                d[a[k].v] = d[a[k].u] + a[k].c;
                changed = 1;
            }
        if (!changed) {
            ok = 1;
            break;
        }
    }
    free(a);
    free(nl);
    free(pl);
    free(d);
    return ok;
}

static void test_certificate_medium(void)
{
    for (int cover = 0; cover <= 1; cover++) {
        struct inst x;
        struct match_assign_result r, gr;
        size_t cov;
        int64_t tot, big = 1;

        inst_random(&x, 400, 120, 15, 3);
        x.p.cover_first = cover;
        for (size_t e = 0; e < x.p.nedges; e++)
            big += match_assign_scaled(x.e[e].score);
        CHECK_INT(match_assign_solve(&x.p, &r, NULL), KX_OK);
        CHECK_INT(match_assign_greedy(&x.p, &gr, NULL), KX_OK);
        CHECK(feasible(&x.p, r.chosen, &cov, &tot));
        CHECK_INT(cov, r.covered);
        CHECK_INT(tot, r.total_scaled);
        CHECK(feasible(&x.p, gr.chosen, &cov, &tot));
        CHECK(no_negative_cycle(&x.p, r.chosen, big));
        /* and the certificate catches a non-optimal answer */
        CHECK(!no_negative_cycle(&x.p, gr.chosen, big) ||
              gr.total_scaled == r.total_scaled);
        if (cover) {
            CHECK(gr.covered <= r.covered);
        } else {
            CHECK(gr.total_scaled <= r.total_scaled);
        }
        match_assign_result_free(&r);
        match_assign_result_free(&gr);
        inst_free(&x);
    }
}

/* The coverage rule: need B's only candidate is P, which need A would use
 * for more total score. With cover_first B gets P and A takes Q. */
static void test_coverage_rule(void)
{
    struct match_assign_edge e[] = {
        {0, 0, 0.9}, /* A-P */
        {0, 1, 0.3}, /* A-Q */
        {1, 0, 0.8}, /* B-P */
    };
    uint32_t pcap[] = {1, 1};
    struct match_assign_problem p = {2, 2, 3, NULL, 2, pcap, e, 0};
    struct match_assign_result r, gr;

    CHECK_INT(match_assign_solve(&p, &r, NULL), KX_OK);
    CHECK_INT(r.covered, 1); /* score alone: A-P + A-Q = 1.2 */
    CHECK_INT(r.total_scaled, 1200000);
    CHECK(r.chosen[0] && r.chosen[1] && !r.chosen[2]);
    match_assign_result_free(&r);

    p.cover_first = 1;
    CHECK_INT(match_assign_solve(&p, &r, NULL), KX_OK);
    CHECK_INT(r.covered, 2); /* every need covered: A-Q + B-P = 1.1 */
    CHECK_INT(r.total_scaled, 1100000);
    CHECK(!r.chosen[0] && r.chosen[1] && r.chosen[2]);
    CHECK_INT(match_assign_greedy(&p, &gr, NULL), KX_OK);
    CHECK_INT(gr.covered, 1); /* greedy takes A-P first and strands B */
    match_assign_result_free(&r);
    match_assign_result_free(&gr);

    /* When capacity does not allow it, nothing is forced: one partner
     * with room for one, two needs: the better need gets it. */
    pcap[0] = 1;
    pcap[1] = 0;
    CHECK_INT(match_assign_solve(&p, &r, NULL), KX_OK);
    CHECK_INT(r.covered, 1);
    CHECK(r.chosen[0] && !r.chosen[1] && !r.chosen[2]);
    match_assign_result_free(&r);
}

/* Coverage beats score even through a long chain of moves: need i < K
 * fits partner i (1.0) and partner i+1 (0.01); need K fits only partner 0
 * (0.5). Covering need K means moving every other need one partner on. */
static void test_coverage_chain(void)
{
    enum { K = 30 };
    struct match_assign_edge e[2 * K + 1];
    uint32_t pcap[K + 1];
    size_t ne = 0;
    struct match_assign_problem p;
    struct match_assign_result r;

    for (uint32_t i = 0; i < K; i++) {
        e[ne++] = (struct match_assign_edge){i, i, 1.0};
        e[ne++] = (struct match_assign_edge){i, i + 1, 0.01};
    }
    e[ne++] = (struct match_assign_edge){K, 0, 0.5};
    for (size_t j = 0; j <= K; j++)
        pcap[j] = 1;
    memset(&p, 0, sizeof p);
    p.nneeds = K + 1;
    p.npartners = K + 1;
    p.nedges = ne;
    p.per_need = 1;
    p.partner_cap = pcap;
    p.edges = e;
    CHECK_INT(match_assign_solve(&p, &r, NULL), KX_OK);
    CHECK_INT(r.covered, K);
    CHECK_INT(r.total_scaled, K * 1000000LL);
    match_assign_result_free(&r);
    p.cover_first = 1;
    CHECK_INT(match_assign_solve(&p, &r, NULL), KX_OK);
    CHECK_INT(r.covered, K + 1);
    CHECK_INT(r.total_scaled, 500000LL + K * 10000LL);
    match_assign_result_free(&r);
}

static void test_bad_input(void)
{
    struct match_assign_edge e[] = {{0, 0, 0.5}, {0, 0, 0.4}};
    uint32_t pcap[] = {1};
    struct match_assign_problem p = {1, 1, 2, NULL, 1, pcap, e, 1};
    struct match_assign_result r;
    struct kx_error err;

    CHECK_INT(match_assign_solve(&p, &r, &err), KX_BADINPUT);
    CHECK(strstr(err.msg, "repeat") != NULL);
    CHECK(r.chosen == NULL);
    CHECK_INT(match_assign_greedy(&p, &r, &err), KX_BADINPUT);
    e[1].partner = 3;
    CHECK_INT(match_assign_solve(&p, &r, &err), KX_BADINPUT);
    CHECK(strstr(err.msg, "out of range") != NULL);
    e[1].partner = 0;
    p.nedges = 1;
    e[0].score = NAN;
    CHECK_INT(match_assign_solve(&p, &r, &err), KX_BADINPUT);
    e[0].score = -0.1;
    CHECK_INT(match_assign_solve(&p, &r, &err), KX_BADINPUT);

    /* empty problems and zero capacities are fine */
    e[0].score = 0.5;
    pcap[0] = 0;
    CHECK_INT(match_assign_solve(&p, &r, NULL), KX_OK);
    CHECK_INT(r.npairs, 0);
    match_assign_result_free(&r);
    p.nedges = 0;
    CHECK_INT(match_assign_solve(&p, &r, NULL), KX_OK);
    CHECK_INT(r.covered, 0);
    match_assign_result_free(&r);
}

/* The same pairs in another order give the same plan. */
static void test_order_independent(void)
{
    struct inst x;
    struct match_assign_result a, b;
    size_t *perm;

    inst_random(&x, 200, 60, 12, 3);
    x.p.cover_first = 1;
    CHECK_INT(match_assign_solve(&x.p, &a, NULL), KX_OK);
    perm = malloc(x.p.nedges * sizeof *perm);
    for (size_t i = 0; i < x.p.nedges; i++)
        perm[i] = i;
    for (size_t i = x.p.nedges - 1; i > 0; i--) {
        size_t j = irand((uint32_t)(i + 1)), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    struct match_assign_edge *sh = malloc(x.p.nedges * sizeof *sh);
    for (size_t i = 0; i < x.p.nedges; i++)
        sh[i] = x.e[perm[i]];
    x.p.edges = sh;
    CHECK_INT(match_assign_solve(&x.p, &b, NULL), KX_OK);
    CHECK_INT(a.total_scaled, b.total_scaled);
    int same = 1;
    for (size_t i = 0; i < x.p.nedges; i++)
        if (a.chosen[perm[i]] != b.chosen[i])
            same = 0;
    CHECK(same);
    free(sh);
    free(perm);
    match_assign_result_free(&a);
    match_assign_result_free(&b);
    inst_free(&x);
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int bench(size_t n, size_t np, size_t deg)
{
    struct inst x;
    double t0, tg, te, tp;
    struct match_assign_result g, ex, pl;
    size_t with = 0, cov;
    int64_t tot;
    uint64_t supply = 0;

    t0 = now_ms();
    inst_random(&x, n, np, deg, 5);
    for (size_t j = 0; j < np; j++)
        supply += x.pcap[j];
    printf("instance: %zu needs x %zu partners, %zu pairs, per-need 5, "
           "partner capacity 1..5 (total %llu), generated in %.0f ms\n", n,
           np, x.p.nedges, (unsigned long long)supply, now_ms() - t0);
    for (size_t i = 0, e = 0; i < n; i++) {
        int any = 0;
        while (e < x.p.nedges && x.e[e].need == i) {
            any = 1;
            e++;
        }
        with += any;
    }
    x.p.cover_first = 1;
    t0 = now_ms();
    if (match_assign_greedy(&x.p, &g, NULL) != KX_OK)
        return 1;
    tg = now_ms() - t0;
    t0 = now_ms();
    if (match_assign_solve(&x.p, &ex, NULL) != KX_OK)
        return 1;
    te = now_ms() - t0;
    x.p.cover_first = 0;
    t0 = now_ms();
    if (match_assign_solve(&x.p, &pl, NULL) != KX_OK)
        return 1;
    tp = now_ms() - t0;
    printf("| method | pairs | total score | needs covered (of %zu) | time |\n"
           "|---|---:|---:|---:|---:|\n", with);
    printf("| greedy | %zu | %.3f | %zu | %.0f ms |\n", g.npairs, g.total,
           g.covered, tg);
    printf("| exact, score only | %zu | %.3f | %zu | %.0f ms |\n", pl.npairs,
           pl.total, pl.covered, tp);
    printf("| exact, coverage first | %zu | %.3f | %zu | %.0f ms |\n",
           ex.npairs, ex.total, ex.covered, te);
    if (!feasible(&x.p, ex.chosen, &cov, &tot) ||
        !feasible(&x.p, g.chosen, &cov, &tot) || g.total > pl.total ||
        g.covered > ex.covered) {
        printf("CHECK FAILED\n");
        return 1;
    }
    match_assign_result_free(&g);
    match_assign_result_free(&ex);
    match_assign_result_free(&pl);
    inst_free(&x);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--bench") == 0)
        return bench(argc > 2 ? strtoul(argv[2], NULL, 10) : 20000,
                     argc > 3 ? strtoul(argv[3], NULL, 10) : 5000,
                     argc > 4 ? strtoul(argv[4], NULL, 10) : 50);
    RUN(test_coverage_rule);
    RUN(test_coverage_chain);
    RUN(test_bad_input);
    RUN(test_brute_force);
    RUN(test_certificate_medium);
    RUN(test_order_independent);
    return check_report();
}
