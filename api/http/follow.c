/* follow.c - keeps the Xapian index following LMDB while the server runs:
 * after each write, and from a thread of its own while a fault (a full
 * disk, an unwritable index folder) keeps the index behind. */
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum kx_status api_index_follow(struct api_server *s,
                                const struct kx_record *fresh)
{
    struct kx_error err;
    enum kx_status st;
    int was_lagging;

    kx_error_clear(&err);
    st = idx_follow(s->x, fresh, &err);
    was_lagging = atomic_load(&s->m.index_lagging) != 0;
    if (st != KX_OK) {
        /* One line per fault, not one per write while it lasts. */
        if (!was_lagging)
            fprintf(stderr, "kxmatch serve: the search index lags behind "
                            "the store: %s (writes are kept; retrying)\n",
                    err.msg);
        atomic_store(&s->m.index_lagging, 1);
        atomic_fetch_add(&s->m.index_failures, 1);
        pthread_mutex_lock(&s->flock);
        pthread_cond_signal(&s->fwake);
        pthread_mutex_unlock(&s->flock);
        return st;
    }
    if (was_lagging) {
        fprintf(stderr, "kxmatch serve: the search index caught up\n");
        atomic_store(&s->m.index_lagging, 0);
    }
    return KX_OK;
}

static void *follower(void *arg)
{
    struct api_server *s = arg;

    pthread_mutex_lock(&s->flock);
    while (!s->fstop) {
        struct timespec until;

        if (!atomic_load(&s->m.index_lagging)) {
            pthread_cond_wait(&s->fwake, &s->flock);
            continue;
        }
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += API_FOLLOW_RETRY_MS / 1000;
        until.tv_nsec += (long)(API_FOLLOW_RETRY_MS % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (pthread_cond_timedwait(&s->fwake, &s->flock, &until) != ETIMEDOUT ||
            s->fstop)
            continue;
        pthread_mutex_unlock(&s->flock);
        api_write_lock(s);
        /* A caught-up index counts as a write: readers reopen. */
        api_write_unlock(s, api_index_follow(s, NULL) == KX_OK);
        pthread_mutex_lock(&s->flock);
    }
    pthread_mutex_unlock(&s->flock);
    return NULL;
}

enum kx_status api_follower_start(struct api_server *s)
{
    pthread_mutex_init(&s->flock, NULL);
    pthread_cond_init(&s->fwake, NULL);
    s->fstop = 0;
    if (pthread_create(&s->follower, NULL, follower, s) != 0) {
        pthread_cond_destroy(&s->fwake);
        pthread_mutex_destroy(&s->flock);
        return KX_NOMEM;
    }
    s->follower_on = 1;
    return KX_OK;
}

void api_follower_stop(struct api_server *s)
{
    if (!s || !s->follower_on)
        return;
    pthread_mutex_lock(&s->flock);
    s->fstop = 1;
    pthread_cond_signal(&s->fwake);
    pthread_mutex_unlock(&s->flock);
    pthread_join(s->follower, NULL);
    pthread_cond_destroy(&s->fwake);
    pthread_mutex_destroy(&s->flock);
    s->follower_on = 0;
}
