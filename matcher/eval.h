/* eval.h - ranking quality measures for `kxmatch eval` (pure functions). */
#ifndef MATCH_EVAL_H
#define MATCH_EVAL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The graded judgments (0-3) of one need: keys and grades in parallel. A
 * key not listed counts as grade 0. */
struct match_judged {
    const char **keys;
    const int *grades;
    size_t n;
};

/* Grade of key (0 when not judged). */
int match_eval_grade(const struct match_judged *j, const char *key);

/* nDCG@k with gains 2^grade - 1 and log2(rank + 1) discounts, against the
 * ideal ordering of all judged keys. 0 when nothing is relevant. */
double match_eval_ndcg(const struct match_judged *j, const char *const *ranked,
                       size_t n, size_t k);

/* Share of the first k ranked keys with grade >= min_grade (over k, not
 * over n, so a short list is not rewarded). */
double match_eval_precision(const struct match_judged *j,
                            const char *const *ranked, size_t n, size_t k,
                            int min_grade);

/* 1 / rank of the first key with grade >= min_grade, 0 if none. */
double match_eval_rr(const struct match_judged *j, const char *const *ranked,
                     size_t n, int min_grade);

#ifdef __cplusplus
}
#endif
#endif
