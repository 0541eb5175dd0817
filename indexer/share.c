/* share.c - finding the share directory at run time (see share.h). */
#include "share.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef KX_SHARE_DIR
#define KX_SHARE_DIR "/usr/local/share/kxmatch"
#endif

/* The shipped files a binary asks for: a handful, resolved once each. */
#define SHARE_SLOTS 16

static pthread_once_t share_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t share_mu = PTHREAD_MUTEX_INITIALIZER;
static char share_dir[PATH_MAX];
static struct {
    const char *rel;
    char path[PATH_MAX];
} slots[SHARE_SLOTS];
static char share_last[PATH_MAX]; /* past SHARE_SLOTS distinct names */

static int is_dir(const char *p)
{
    struct stat sb;

    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static void share_find(void)
{
    static const char *const rels[] = {"/../share/kxmatch", "/share/kxmatch"};
    const char *env = getenv("KXMATCH_SHARE");
    char exe[PATH_MAX], cand[PATH_MAX + 32];
    ssize_t n;
    char *slash;

    if (env && *env && strlen(env) < sizeof share_dir) {
        snprintf(share_dir, sizeof share_dir, "%s", env);
        return;
    }
    /* The executable's own location, so that an installed tree can be
     * moved (cmake --install --prefix, a relocated package) and a build
     * tree finds its sources without any absolute path compiled in. */
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        if ((slash = strrchr(exe, '/')) != NULL) {
            *slash = '\0';
            for (size_t i = 0; i < sizeof rels / sizeof rels[0]; i++) {
                snprintf(cand, sizeof cand, "%s%s", exe, rels[i]);
                if (is_dir(cand) && realpath(cand, share_dir) != NULL)
                    return;
            }
        }
    }
    snprintf(share_dir, sizeof share_dir, "%s", KX_SHARE_DIR);
}

const char *kx_share_dir(void)
{
    pthread_once(&share_once, share_find);
    return share_dir;
}

const char *kx_share_path(const char *rel)
{
    const char *dir = kx_share_dir();
    char joined[PATH_MAX], *dst;
    size_t i;
    int n;

    pthread_mutex_lock(&share_mu);
    for (i = 0; i < SHARE_SLOTS && slots[i].rel; i++)
        if (strcmp(slots[i].rel, rel) == 0)
            goto out;
    dst = i < SHARE_SLOTS ? slots[i].path : share_last;
    n = snprintf(joined, sizeof joined, "%s/%s", dir, rel);
    if (n < 0 || (size_t)n >= sizeof joined || realpath(joined, dst) == NULL)
        memcpy(dst, joined, sizeof joined); /* not there (yet): as named */
    if (i < SHARE_SLOTS)
        slots[i].rel = rel;
out:
    pthread_mutex_unlock(&share_mu);
    return i < SHARE_SLOTS ? slots[i].path : share_last;
}
