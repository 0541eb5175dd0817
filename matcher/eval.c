/* eval.c - nDCG, precision and reciprocal rank over graded judgments. */
#include "eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int match_eval_grade(const struct match_judged *j, const char *key)
{
    for (size_t i = 0; i < j->n; i++)
        if (strcmp(j->keys[i], key) == 0)
            return j->grades[i];
    return 0;
}

static int grade_desc(const void *a, const void *b)
{
    return *(const int *)b - *(const int *)a;
}

double match_eval_ndcg(const struct match_judged *j, const char *const *ranked,
                       size_t n, size_t k)
{
    double dcg = 0, idcg = 0;
    int *ideal;

    for (size_t i = 0; i < n && i < k; i++)
        dcg += (pow(2.0, match_eval_grade(j, ranked[i])) - 1) /
               log2((double)i + 2);
    ideal = malloc((j->n ? j->n : 1) * sizeof *ideal);
    if (!ideal)
        return 0;
    memcpy(ideal, j->grades, j->n * sizeof *ideal);
    qsort(ideal, j->n, sizeof *ideal, grade_desc);
    for (size_t i = 0; i < j->n && i < k; i++)
        idcg += (pow(2.0, ideal[i]) - 1) / log2((double)i + 2);
    free(ideal);
    return idcg > 0 ? dcg / idcg : 0;
}

double match_eval_precision(const struct match_judged *j,
                            const char *const *ranked, size_t n, size_t k,
                            int min_grade)
{
    size_t hits = 0;

    if (k == 0)
        return 0;
    for (size_t i = 0; i < n && i < k; i++)
        if (match_eval_grade(j, ranked[i]) >= min_grade)
            hits++;
    return (double)hits / (double)k;
}

double match_eval_rr(const struct match_judged *j, const char *const *ranked,
                     size_t n, int min_grade)
{
    for (size_t i = 0; i < n; i++)
        if (match_eval_grade(j, ranked[i]) >= min_grade)
            return 1.0 / (double)(i + 1);
    return 0;
}
