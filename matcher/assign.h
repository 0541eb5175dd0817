/* assign.h - choosing which (need, partner) pairs to propose in a week:
 * maximise the total match score subject to each partner's capacity and
 * each need's number of candidates, solved exactly as a min-cost flow; and
 * the greedy baseline it is measured against. Pure functions, no I/O.
 *
 * The network: source -> need i (at most need_cap[i] units) -> partner j
 * (one unit per candidate pair, cost -score) -> sink (at most
 * partner_cap[j] units). With cover_first, the first unit into each need
 * costs an extra -BIG, where BIG exceeds any total score a plan can reach:
 * the solution then maximises the number of needs with at least one
 * candidate first, and the total score among those plans second. Without
 * it, only the total score counts.
 *
 * Scores are compared as integers in millionths (MATCH_ASSIGN_SCALE), so
 * "exact" means exact for the scores rounded to six decimals.
 *
 * The solver adds the needs one at a time and, for each, pushes units along
 * shortest augmenting paths that start at that need (Dijkstra with node
 * potentials, stopping at the sink), while the marginal gain is positive.
 * Each addition keeps the flow a min-cost flow of the needs added so far, so
 * the last one is optimal for the whole problem. Searches start at one need
 * rather than at the source, so they stay local: O(F (E + V) log V) in the
 * worst case (F units in the plan), far less in practice.
 */
#ifndef MATCH_ASSIGN_H
#define MATCH_ASSIGN_H

#include <stddef.h>
#include <stdint.h>

#include "kx.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MATCH_ASSIGN_SCALE 1000000.0

/* One candidate pair: need and partner are indexes into the problem's
 * need_cap and partner_cap. */
struct match_assign_edge {
    uint32_t need, partner;
    double score;            /* finite, >= 0 */
};

struct match_assign_problem {
    size_t nneeds, npartners, nedges;
    const uint32_t *need_cap;     /* per need; NULL: per_need for all */
    uint32_t per_need;            /* used when need_cap is NULL */
    const uint32_t *partner_cap;  /* per partner */
    const struct match_assign_edge *edges; /* each (need, partner) once */
    int cover_first;              /* two-tier objective (see above) */
};

/* A chosen set of pairs. */
struct match_assign_result {
    unsigned char *chosen;   /* per edge: 1 if proposed; owned */
    size_t npairs;           /* edges chosen */
    size_t covered;          /* needs with at least one chosen edge */
    int64_t total_scaled;    /* sum of chosen scores in millionths */
    double total;            /* the same as a double */
};

/* Solves p exactly. KX_BADINPUT (err says which edge) for an index out of
 * range, a repeated (need, partner) pair or a score that is negative, not
 * finite or above 1000; KX_TOOLARGE if the scaled costs could overflow;
 * KX_NOMEM. out is filled on KX_OK (match_assign_result_free), zeroed
 * otherwise. */
enum kx_status match_assign_solve(const struct match_assign_problem *p,
                                  struct match_assign_result *out,
                                  struct kx_error *err);

/* The greedy baseline: pairs by score, highest first (ties by need, then
 * partner index), each taken if both ends still have room. Same errors. */
enum kx_status match_assign_greedy(const struct match_assign_problem *p,
                                   struct match_assign_result *out,
                                   struct kx_error *err);

/* Frees what out owns and zeroes it. NULL allowed. */
void match_assign_result_free(struct match_assign_result *out);

/* A score in millionths, as the solver compares it. */
int64_t match_assign_scaled(double score);

#ifdef __cplusplus
}
#endif
#endif
