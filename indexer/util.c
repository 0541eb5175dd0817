/* util.c - see util.h. */
#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- strings ------------------------------------------------------------ */

void kx_buf_add(struct kx_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *p;
        while (cap < b->n + n + 1)
            cap *= 2;
        if (!(p = realloc(b->p, cap))) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void kx_buf_puts(struct kx_buf *b, const char *s)
{
    kx_buf_add(b, s, strlen(s));
}

void kx_buf_printf(struct kx_buf *b, const char *fmt, ...)
{
    char small[512], *big;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        kx_buf_add(b, small, (size_t)n);
        return;
    }
    if (!(big = malloc((size_t)n + 1))) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    kx_buf_add(b, big, (size_t)n);
    free(big);
}

void kx_buf_html(struct kx_buf *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&': kx_buf_puts(b, "&amp;"); break;
        case '<': kx_buf_puts(b, "&lt;"); break;
        case '>': kx_buf_puts(b, "&gt;"); break;
        case '"': kx_buf_puts(b, "&quot;"); break;
        default: kx_buf_add(b, p, 1);
        }
    }
}

char *kx_buf_take(struct kx_buf *b)
{
    char *p = b->oom ? NULL : b->p;

    if (b->oom)
        free(b->p);
    else if (!p)
        p = strdup(""); /* NULL if even that fails */
    memset(b, 0, sizeof *b);
    return p;
}

void kx_buf_free(struct kx_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- vectors of strings ------------------------------------------------- */

void kx_strv_add(struct kx_strv *sv, const char *s, size_t n)
{
    char *copy;

    if (sv->oom)
        return;
    if (kx_grow(&sv->v, &sv->cap, sv->n + 1, sizeof *sv->v, 64) != 0) {
        sv->oom = 1;
        return;
    }
    if (!(copy = n == (size_t)-1 ? strdup(s) : strndup(s, n))) {
        sv->oom = 1;
        return;
    }
    sv->v[sv->n++] = copy;
}

void kx_strv_free(struct kx_strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    memset(sv, 0, sizeof *sv);
}

/* ---- arrays ------------------------------------------------------------- */

int kx_grow(void *pv, size_t *cap, size_t need, size_t elem, size_t first)
{
    void **p = pv, *grown;
    size_t c = *cap ? *cap : first ? first : 1;

    if (need <= *cap)
        return 0;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return -1;
        c *= 2;
    }
    if (c > SIZE_MAX / elem || !(grown = realloc(*p, c * elem)))
        return -1;
    *p = grown;
    *cap = c;
    return 0;
}

void kx_utf8_trim(char *s)
{
    size_t n = strlen(s), i = n;

    while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
        i--;
    if (i > 0 && (unsigned char)s[i - 1] >= 0xc0) {
        unsigned char c = (unsigned char)s[i - 1];
        size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        if (n - (i - 1) < want)
            s[i - 1] = '\0';
    }
}

/* ---- files -------------------------------------------------------------- */

int kx_mkdir_p(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof buf) {
        errno = n ? ENAMETOOLONG : ENOENT;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}
