/* gen_rng.c - portable pseudo-random numbers and discrete distributions. */
#include "gen.h"

#include <stdlib.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void gen_rng_seed(struct gen_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull);

    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t gen_rng_next(struct gen_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

uint32_t gen_rng_below(struct gen_rng *r, uint32_t n)
{
    /* Lemire's multiply-shift: the bias for n far below 2^32 is too small
     * to matter for synthetic data, and it needs no division. */
    return (uint32_t)(((gen_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

int gen_rng_pct(struct gen_rng *r, unsigned pct)
{
    return gen_rng_below(r, 100) < pct;
}

int gen_dist_weights(struct gen_dist *d, const uint64_t *w, size_t n)
{
    uint64_t acc = 0;

    memset(d, 0, sizeof *d);
    d->cum = malloc((n ? n : 1) * sizeof *d->cum);
    if (!d->cum)
        return -1;
    for (size_t i = 0; i < n; i++) {
        acc += w[i];
        d->cum[i] = acc;
    }
    d->n = n;
    return 0;
}

int gen_dist_zipf(struct gen_dist *d, size_t n, unsigned q)
{
    uint64_t *w = malloc((n ? n : 1) * sizeof *w);
    int rc;

    if (!w)
        return -1;
    /* Integer weights 2^40 / (rank + q): exact, hence portable. */
    for (size_t i = 0; i < n; i++)
        w[i] = (UINT64_C(1) << 40) / (uint64_t)(i + q);
    rc = gen_dist_weights(d, w, n);
    free(w);
    return rc;
}

size_t gen_dist_draw(const struct gen_dist *d, struct gen_rng *r)
{
    uint64_t total, x;
    size_t lo = 0, hi;

    if (d->n == 0)
        return 0;
    total = d->cum[d->n - 1];
    /* 64-bit product's high half: uniform in [0, total). */
    x = (uint64_t)(((unsigned __int128)gen_rng_next(r) * total) >> 64);
    hi = d->n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (d->cum[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

void gen_dist_free(struct gen_dist *d)
{
    free(d->cum);
    memset(d, 0, sizeof *d);
}
