/* ratelimit.c - see ratelimit.h. */
#include "ratelimit.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define PROBES 4

void api_rate_init(struct api_ratelimit *rl, unsigned per_min, unsigned burst)
{
    memset(rl->slot, 0, sizeof rl->slot);
    pthread_mutex_init(&rl->lock, NULL);
    rl->per_s = per_min / 60.0;
    rl->burst = burst ? burst : 1;
}

void api_rate_free(struct api_ratelimit *rl)
{
    pthread_mutex_destroy(&rl->lock);
}

static unsigned slot_of(const char *id)
{
    unsigned h = 2166136261u; /* FNV-1a */

    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 16777619u;
    return h % API_RATE_SLOTS;
}

unsigned api_rate_take(struct api_ratelimit *rl, const char *id, double now)
{
    struct api_rate_slot *s = NULL, *oldest = NULL;
    unsigned first = slot_of(id), wait = 0;

    if (rl->per_s <= 0)
        return 0;
    pthread_mutex_lock(&rl->lock);
    for (unsigned i = 0; i < PROBES && !s; i++) {
        struct api_rate_slot *c = &rl->slot[(first + i) % API_RATE_SLOTS];
        if (strcmp(c->id, id) == 0)
            s = c;
        else if (!oldest || c->at < oldest->at)
            oldest = c;
    }
    if (!s) {
        s = oldest;
        snprintf(s->id, sizeof s->id, "%s", id);
        s->tokens = rl->burst;
        s->at = now;
    }
    s->tokens = fmin(rl->burst, s->tokens + (now - s->at) * rl->per_s);
    s->at = now;
    if (s->tokens >= 1)
        s->tokens -= 1;
    else
        wait = (unsigned)ceil((1 - s->tokens) / rl->per_s);
    pthread_mutex_unlock(&rl->lock);
    return wait;
}
