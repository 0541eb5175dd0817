/* ratelimit.h - how fast one token may write: a token bucket per API
 * token, in memory (a restart forgets, which only ever lets more through).
 * The table is fixed: API_RATE_SLOTS buckets, each token hashed to a few
 * of them; a token finding none of its own takes the least recently used,
 * so memory stays bounded however many tokens call. */
#ifndef API_RATELIMIT_H
#define API_RATELIMIT_H

#include <pthread.h>

#include "auth.h"

#define API_RATE_SLOTS 1024
#define API_RATE_PER_MIN 600 /* writes a minute per token, sustained */
#define API_RATE_BURST 120   /* and at once */

struct api_rate_slot {
    char id[API_TOKEN_ID_LEN + 1];
    double tokens, at;   /* what was left, and when (monotonic seconds) */
};

struct api_ratelimit {
    pthread_mutex_t lock;
    double per_s, burst; /* per_s 0: no limit */
    struct api_rate_slot slot[API_RATE_SLOTS];
};

/* Sets rl up for per_min writes a minute with bursts of burst (0 per_min:
 * no limit). */
void api_rate_init(struct api_ratelimit *rl, unsigned per_min, unsigned burst);
void api_rate_free(struct api_ratelimit *rl);

/* Spends one write of token id at time now: 0 if it may write, else the
 * whole seconds (at least 1) until it may, for Retry-After. */
unsigned api_rate_take(struct api_ratelimit *rl, const char *id, double now);

#endif
