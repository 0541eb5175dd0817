/* assign.c - the weekly assignment as a min-cost flow (see assign.h), and
 * the greedy baseline. */
#include "assign.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Arc kinds a node can have been reached by (pred_kind). */
enum { ARC_NONE = 0, ARC_FWD, ARC_REV, ARC_PS, ARC_NS };

struct heap_item {
    int64_t d;
    uint32_t v;
};

struct net {
    size_t n, np, nv;       /* needs, partners, nodes (sink = n + np) */
    uint32_t sink;
    int64_t limit;          /* the search ignores paths this long or longer */
    int64_t big;            /* bonus on a need's first unit (0 if none) */
    /* candidate pairs in slots grouped by need (CSR), partners ascending */
    uint32_t *off, *slot_edge, *slot_need, *slot_part;
    int64_t *slot_score;
    unsigned char *slot_flow;
    /* per partner: capacity and the slots holding a unit */
    uint32_t *pcap, *aoff, *acount, *alist;
    /* per need */
    uint32_t *ncap, *nflow;
    /* Dijkstra state, per node */
    int64_t *pi, *dist;
    uint32_t *seen, *done, stamp;
    unsigned char *pred_kind;
    uint32_t *pred;         /* slot (FWD, REV) or node (PS, NS) */
    uint32_t *settled;
    size_t nsettled;
    struct heap_item *heap;
    size_t hn, hcap;
};

int64_t match_assign_scaled(double score)
{
    return (int64_t)llround(score * MATCH_ASSIGN_SCALE);
}

void match_assign_result_free(struct match_assign_result *out)
{
    if (!out)
        return;
    free(out->chosen);
    memset(out, 0, sizeof *out);
}

static void net_free(struct net *g)
{
    free(g->off);
    free(g->slot_edge);
    free(g->slot_need);
    free(g->slot_part);
    free(g->slot_score);
    free(g->slot_flow);
    free(g->pcap);
    free(g->aoff);
    free(g->acount);
    free(g->alist);
    free(g->ncap);
    free(g->nflow);
    free(g->pi);
    free(g->dist);
    free(g->seen);
    free(g->done);
    free(g->pred_kind);
    free(g->pred);
    free(g->settled);
    free(g->heap);
}

static const struct net *sort_net; /* qsort has no context argument */

static int slot_by_partner(const void *a, const void *b)
{
    uint32_t x = sort_net->slot_part[*(const uint32_t *)a];
    uint32_t y = sort_net->slot_part[*(const uint32_t *)b];

    return x < y ? -1 : x > y;
}

/* Checks p and lays its pairs out by need; fills everything the greedy
 * baseline needs as well. */
static enum kx_status net_build(struct net *g,
                                const struct match_assign_problem *p,
                                struct kx_error *err)
{
    size_t n = p->nneeds, np = p->npartners, ne = p->nedges;
    uint32_t *order = NULL, *tmp = NULL;
    enum kx_status st = KX_NOMEM;

    memset(g, 0, sizeof *g);
    if (n > UINT32_MAX / 2 || np > UINT32_MAX / 2 || ne > UINT32_MAX / 2)
        return kx_error_set(err, KX_TOOLARGE, "", "too many needs, "
                            "partners or pairs for one plan");
    g->n = n;
    g->np = np;
    g->nv = n + np + 1;
    g->sink = (uint32_t)(n + np);
    g->off = calloc(n + 1, sizeof *g->off);
    g->slot_edge = malloc((ne + 1) * sizeof *g->slot_edge);
    g->slot_need = malloc((ne + 1) * sizeof *g->slot_need);
    g->slot_part = malloc((ne + 1) * sizeof *g->slot_part);
    g->slot_score = malloc((ne + 1) * sizeof *g->slot_score);
    g->slot_flow = calloc(ne + 1, 1);
    g->pcap = calloc(np + 1, sizeof *g->pcap);
    g->ncap = calloc(n + 1, sizeof *g->ncap);
    g->nflow = calloc(n + 1, sizeof *g->nflow);
    tmp = calloc(n + 1, sizeof *tmp);
    if (!g->off || !g->slot_edge || !g->slot_need || !g->slot_part ||
        !g->slot_score || !g->slot_flow || !g->pcap || !g->ncap ||
        !g->nflow || !tmp)
        goto out;
    for (size_t i = 0; i < n; i++)
        g->ncap[i] = p->need_cap ? p->need_cap[i] : p->per_need;
    for (size_t j = 0; j < np; j++)
        g->pcap[j] = p->partner_cap[j];
    for (size_t e = 0; e < ne; e++) {
        const struct match_assign_edge *x = &p->edges[e];
        if (x->need >= n || x->partner >= np) {
            st = kx_error_set(err, KX_BADINPUT, "edges",
                              "pair %zu: need %u or partner %u out of range "
                              "(%zu needs, %zu partners)", e, x->need,
                              x->partner, n, np);
            goto out;
        }
        if (!isfinite(x->score) || x->score < 0 || x->score > 1000) {
            st = kx_error_set(err, KX_BADINPUT, "edges",
                              "pair %zu: score %g is not in [0, 1000]", e,
                              x->score);
            goto out;
        }
        g->off[x->need + 1]++;
    }
    for (size_t i = 0; i < n; i++)
        g->off[i + 1] += g->off[i];
    for (size_t e = 0; e < ne; e++) {
        const struct match_assign_edge *x = &p->edges[e];
        uint32_t s = g->off[x->need] + tmp[x->need]++;
        g->slot_edge[s] = (uint32_t)e;
        g->slot_need[s] = x->need;
        g->slot_part[s] = x->partner;
        g->slot_score[s] = match_assign_scaled(x->score);
    }
    /* Partners ascending within each need: finds repeated pairs, and makes
     * the search order (hence tie-breaking) independent of input order. */
    order = malloc((ne + 1) * sizeof *order);
    if (!order)
        goto out;
    for (size_t s = 0; s < ne; s++)
        order[s] = (uint32_t)s;
    sort_net = g;
    for (size_t i = 0; i < n; i++) {
        uint32_t a = g->off[i], b = g->off[i + 1];
        qsort(order + a, b - a, sizeof *order, slot_by_partner);
        for (uint32_t s = a + 1; s < b; s++)
            if (g->slot_part[order[s]] == g->slot_part[order[s - 1]]) {
                st = kx_error_set(err, KX_BADINPUT, "edges",
                                  "pairs %u and %u repeat need %zu with "
                                  "partner %u",
                                  g->slot_edge[order[s - 1]],
                                  g->slot_edge[order[s]], i,
                                  g->slot_part[order[s]]);
                goto out;
            }
    }
    {
        uint32_t *pe = malloc((ne + 1) * sizeof *pe),
                 *pp = malloc((ne + 1) * sizeof *pp);
        int64_t *ps = malloc((ne + 1) * sizeof *ps);
        if (!pe || !pp || !ps) {
            free(pe);
            free(pp);
            free(ps);
            goto out;
        }
        for (size_t s = 0; s < ne; s++) {
            pe[s] = g->slot_edge[order[s]];
            pp[s] = g->slot_part[order[s]];
            ps[s] = g->slot_score[order[s]];
        }
        free(g->slot_edge);
        free(g->slot_part);
        free(g->slot_score);
        g->slot_edge = pe;
        g->slot_part = pp;
        g->slot_score = ps;
    }
    st = KX_OK;
out:
    free(order);
    free(tmp);
    return st;
}

static int64_t cmp64(int64_t a, int64_t b) { return (a > b) - (a < b); }

static int slot_score_desc(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int64_t c = cmp64(sort_net->slot_score[y], sort_net->slot_score[x]);

    if (c)
        return (int)c;
    if (sort_net->slot_need[x] != sort_net->slot_need[y])
        return sort_net->slot_need[x] < sort_net->slot_need[y] ? -1 : 1;
    return sort_net->slot_part[x] < sort_net->slot_part[y] ? -1 : 1;
}

/* Fills out from the slots' flow. */
static enum kx_status result_fill(const struct net *g, size_t ne,
                                  struct match_assign_result *out)
{
    out->chosen = calloc(ne + 1, 1);
    if (!out->chosen)
        return KX_NOMEM;
    for (size_t i = 0; i < g->n; i++) {
        int any = 0;
        for (uint32_t s = g->off[i]; s < g->off[i + 1]; s++) {
            if (!g->slot_flow[s])
                continue;
            out->chosen[g->slot_edge[s]] = 1;
            out->npairs++;
            out->total_scaled += g->slot_score[s];
            any = 1;
        }
        out->covered += (size_t)any;
    }
    out->total = (double)out->total_scaled / MATCH_ASSIGN_SCALE;
    return KX_OK;
}

enum kx_status match_assign_greedy(const struct match_assign_problem *p,
                                   struct match_assign_result *out,
                                   struct kx_error *err)
{
    struct net g;
    uint32_t *order = NULL, *load = NULL;
    size_t ne = p->nedges;
    enum kx_status st;

    memset(out, 0, sizeof *out);
    if ((st = net_build(&g, p, err)) != KX_OK)
        goto out;
    st = KX_NOMEM;
    order = malloc((ne + 1) * sizeof *order);
    load = calloc(g.np + 1, sizeof *load);
    if (!order || !load)
        goto out;
    for (size_t s = 0; s < ne; s++)
        order[s] = (uint32_t)s;
    sort_net = &g;
    qsort(order, ne, sizeof *order, slot_score_desc);
    for (size_t k = 0; k < ne; k++) {
        uint32_t s = order[k], i = g.slot_need[s], j = g.slot_part[s];
        if (g.nflow[i] < g.ncap[i] && load[j] < g.pcap[j]) {
            g.slot_flow[s] = 1;
            g.nflow[i]++;
            load[j]++;
        }
    }
    st = result_fill(&g, ne, out);
out:
    free(order);
    free(load);
    net_free(&g);
    return st;
}

/* ---- the exact solver ---------------------------------------------------- */

/* Heap order: distance, then the sink first, so that a search ends as soon
 * as the sink is as near as anything else. */
static int heap_less(const struct net *g, const struct heap_item *a,
                     const struct heap_item *b)
{
    if (a->d != b->d)
        return a->d < b->d;
    return a->v == g->sink && b->v != g->sink;
}

static enum kx_status heap_push(struct net *g, int64_t d, uint32_t v)
{
    size_t i;

    if (kx_grow(&g->heap, &g->hcap, g->hn + 1, sizeof *g->heap, 1024) != 0)
        return KX_NOMEM;
    i = g->hn++;
    g->heap[i].d = d;
    g->heap[i].v = v;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!heap_less(g, &g->heap[i], &g->heap[up]))
            break;
        struct heap_item t = g->heap[i];
        g->heap[i] = g->heap[up];
        g->heap[up] = t;
        i = up;
    }
    return KX_OK;
}

static struct heap_item heap_pop(struct net *g)
{
    struct heap_item top = g->heap[0];
    size_t i = 0;

    g->heap[0] = g->heap[--g->hn];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < g->hn && heap_less(g, &g->heap[l], &g->heap[m]))
            m = l;
        if (r < g->hn && heap_less(g, &g->heap[r], &g->heap[m]))
            m = r;
        if (m == i)
            break;
        struct heap_item t = g->heap[i];
        g->heap[i] = g->heap[m];
        g->heap[m] = t;
        i = m;
    }
    return top;
}

/* Offers node v the distance d through arc (kind, via). A negative reduced
 * cost means the potentials are wrong: a bug, reported as such. */
static enum kx_status relax(struct net *g, int64_t du, int64_t rc, uint32_t v,
                            unsigned char kind, uint32_t via)
{
    int64_t d = du + rc;

    if (rc < 0)
        return KX_INTERNAL;
    if (g->done[v] == g->stamp)
        return KX_OK;
    if (g->seen[v] == g->stamp && g->dist[v] <= d)
        return KX_OK;
    /* Nothing as far as the sink's best offer would be settled before it
     * (ties go to the sink), so it need not be queued. */
    if (v != g->sink && g->seen[g->sink] == g->stamp && d >= g->dist[g->sink])
        return KX_OK;
    /* Nor anything at or beyond the distance where a path stops paying. */
    if (d >= g->limit)
        return KX_OK;
    g->seen[v] = g->stamp;
    g->dist[v] = d;
    g->pred_kind[v] = kind;
    g->pred[v] = via;
    return heap_push(g, d, v);
}

/* Shortest path (reduced costs) from need n0 to the sink over the residual
 * network, never leaving the sink. *found is 0 if the sink is unreachable
 * at a reduced distance below g->limit. */
static enum kx_status search(struct net *g, uint32_t n0, int *found)
{
    uint32_t N = (uint32_t)g->n, S = g->sink;
    enum kx_status st;

    *found = 0;
    g->stamp++;
    g->hn = 0;
    g->nsettled = 0;
    g->seen[n0] = g->stamp;
    g->dist[n0] = 0;
    if ((st = heap_push(g, 0, n0)) != KX_OK)
        return st;
    while (g->hn) {
        struct heap_item it = heap_pop(g);
        uint32_t u = it.v;
        int64_t du = it.d;

        if (g->done[u] == g->stamp || du > g->dist[u])
            continue;
        g->done[u] = g->stamp;
        g->settled[g->nsettled++] = u;
        if (u == S) {
            *found = 1;
            return KX_OK;
        }
        if (u < N) {
            for (uint32_t s = g->off[u]; s < g->off[u + 1]; s++) {
                uint32_t v = N + g->slot_part[s];
                if (g->slot_flow[s])
                    continue;
                st = relax(g, du, -g->slot_score[s] + g->pi[u] - g->pi[v], v,
                           ARC_FWD, s);
                if (st != KX_OK)
                    return st;
            }
            /* Taking a unit back from another need: free if it has two or
             * more, the bonus if it would lose its only one. */
            if (u != n0 && g->nflow[u] > 0) {
                int64_t c = g->nflow[u] >= 2 ? 0 : g->big;
                st = relax(g, du, c + g->pi[u] - g->pi[S], S, ARC_NS, u);
                if (st != KX_OK)
                    return st;
            }
        } else {
            uint32_t j = u - N;
            if (g->acount[j] < g->pcap[j]) {
                st = relax(g, du, g->pi[u] - g->pi[S], S, ARC_PS, u);
                if (st != KX_OK)
                    return st;
            }
            for (uint32_t k = 0; k < g->acount[j]; k++) {
                uint32_t s = g->alist[g->aoff[j] + k], w = g->slot_need[s];
                if (w == n0)
                    continue;
                st = relax(g, du, g->slot_score[s] + g->pi[u] - g->pi[w], w,
                           ARC_REV, s);
                if (st != KX_OK)
                    return st;
            }
        }
    }
    return KX_OK;
}

static void alist_remove(struct net *g, uint32_t j, uint32_t s)
{
    uint32_t *a = g->alist + g->aoff[j];

    for (uint32_t k = 0; k < g->acount[j]; k++)
        if (a[k] == s) {
            a[k] = a[--g->acount[j]];
            return;
        }
}

/* Moves one unit along the path found by search(), from the sink back to
 * n0, and into n0 from the source. */
static void augment(struct net *g, uint32_t n0)
{
    uint32_t N = (uint32_t)g->n, v = g->sink;

    while (v != n0) {
        uint32_t via = g->pred[v];
        switch (g->pred_kind[v]) {
        case ARC_PS:
            v = via;
            break;
        case ARC_NS:
            g->nflow[via]--;
            v = via;
            break;
        case ARC_FWD: {
            uint32_t j = g->slot_part[via];
            g->slot_flow[via] = 1;
            g->alist[g->aoff[j] + g->acount[j]++] = via;
            v = g->slot_need[via];
            break;
        }
        default: /* ARC_REV */
            g->slot_flow[via] = 0;
            alist_remove(g, g->slot_part[via], via);
            v = N + g->slot_part[via];
            break;
        }
    }
    g->nflow[n0]++;
}

enum kx_status match_assign_solve(const struct match_assign_problem *p,
                                  struct match_assign_result *out,
                                  struct kx_error *err)
{
    struct net g;
    size_t ne = p->nedges;
    int64_t maxscore = 0;
    enum kx_status st;

    memset(out, 0, sizeof *out);
    if ((st = net_build(&g, p, err)) != KX_OK)
        goto out;
    st = KX_NOMEM;
    g.aoff = calloc(g.np + 1, sizeof *g.aoff);
    g.acount = calloc(g.np + 1, sizeof *g.acount);
    g.pi = calloc(g.nv, sizeof *g.pi);
    g.dist = calloc(g.nv, sizeof *g.dist);
    g.seen = calloc(g.nv, sizeof *g.seen);
    g.done = calloc(g.nv, sizeof *g.done);
    g.pred_kind = calloc(g.nv, 1);
    g.pred = calloc(g.nv, sizeof *g.pred);
    g.settled = calloc(g.nv, sizeof *g.settled);
    if (!g.aoff || !g.acount || !g.pi || !g.dist || !g.seen || !g.done ||
        !g.pred_kind || !g.pred || !g.settled)
        goto out;
    /* A partner never holds more units than its capacity or its pairs. */
    {
        uint32_t *deg = calloc(g.np + 1, sizeof *deg);
        if (!deg)
            goto out;
        for (size_t s = 0; s < ne; s++)
            deg[g.slot_part[s]]++;
        for (size_t j = 0; j < g.np; j++)
            g.aoff[j + 1] = g.aoff[j] +
                            (deg[j] < g.pcap[j] ? deg[j] : g.pcap[j]);
        free(deg);
        g.alist = calloc(g.aoff[g.np] + 1, sizeof *g.alist);
        if (!g.alist)
            goto out;
    }
    /* BIG must exceed every plan's total: bound it by the best ncap[i]
     * scores of each need. */
    if (p->cover_first) {
        int64_t bound = 0;
        for (size_t i = 0; i < g.n; i++) {
            uint32_t a = g.off[i], b = g.off[i + 1], take = g.ncap[i];
            int64_t *v = malloc((b - a + 1) * sizeof *v);
            if (!v)
                goto out;
            memcpy(v, g.slot_score + a, (b - a) * sizeof *v);
            /* partial selection of the `take` largest (degrees are small) */
            for (uint32_t k = 0; k < take && k < b - a; k++) {
                uint32_t m = k;
                for (uint32_t q = k + 1; q < b - a; q++)
                    if (v[q] > v[m])
                        m = q;
                int64_t t = v[k];
                v[k] = v[m];
                v[m] = t;
                bound += v[k];
            }
            free(v);
        }
        g.big = bound + 1;
    }
    for (size_t s = 0; s < ne; s++)
        if (g.slot_score[s] > maxscore)
            maxscore = g.slot_score[s];
    /* Potentials stay within (nodes) x (largest arc cost). */
    if ((double)(g.big + maxscore + 1) * (double)(g.nv + 2) > 1e18) {
        st = kx_error_set(err, KX_TOOLARGE, "", "plan too large for 64-bit "
                          "costs (%zu needs, %zu pairs)", g.n, ne);
        goto out;
    }
    for (uint32_t n0 = 0; n0 < g.n; n0++) {
        uint32_t a = g.off[n0], b = g.off[n0 + 1];
        int64_t top = INT64_MIN;

        if (a == b || g.ncap[n0] == 0)
            continue;
        /* Reduced costs of n0's arcs start non-negative. */
        for (uint32_t s = a; s < b; s++) {
            int64_t v = g.pi[g.n + g.slot_part[s]] + g.slot_score[s];
            if (v > top)
                top = v;
        }
        g.pi[n0] = top;
        while (g.nflow[n0] < g.ncap[n0]) {
            int64_t src = (g.nflow[n0] == 0) ? -g.big : 0, D, cost;
            int found;

            /* A path of reduced length L gains src + L - pi[n0] + pi[sink]:
             * no longer one is worth finding. */
            g.limit = g.pi[n0] - g.pi[g.sink] - src;
            if ((st = search(&g, n0, &found)) != KX_OK) {
                if (st == KX_INTERNAL)
                    kx_error_set(err, st, "", "assignment: negative reduced "
                                 "cost at need %u", n0);
                goto out;
            }
            if (!found)
                break;
            D = g.dist[g.sink];
            cost = D - g.pi[n0] + g.pi[g.sink]; /* true cost of the path */
            if (src + cost >= 0)
                break; /* no gain: leave the potentials as they were */
            for (size_t k = 0; k < g.nsettled; k++) {
                uint32_t v = g.settled[k];
                g.pi[v] += g.dist[v] - D;
            }
            augment(&g, n0);
        }
    }
    st = result_fill(&g, ne, out);
out:
    if (st != KX_OK)
        match_assign_result_free(out);
    net_free(&g);
    return st;
}
