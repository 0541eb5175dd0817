/* util.h - the small helpers every module uses: a growable string buffer,
 * a growable vector of strings, and creating a directory with its parents.
 *
 * Both containers latch allocation failure: after one, every call is a
 * no-op and `oom` stays set, so a caller builds a whole value and checks
 * once at the end. */
#ifndef KX_UTIL_H
#define KX_UTIL_H

#include <stdarg.h>
#include <stddef.h>

/* ---- strings ------------------------------------------------------------ */

/* A NUL-terminated string that grows; {0} is an empty one. */
struct kx_buf {
    char *p;
    size_t n, cap;
    int oom;
};

/* Appends n bytes of s. */
void kx_buf_add(struct kx_buf *b, const char *s, size_t n);
/* Appends the string s. */
void kx_buf_puts(struct kx_buf *b, const char *s);
/* Appends what printf would print. */
void kx_buf_printf(struct kx_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s with &, <, > and " escaped for HTML. */
void kx_buf_html(struct kx_buf *b, const char *s);
/* The string, the caller's to free(): "" if nothing was added, NULL after
 * an allocation failure. b is empty afterwards either way. */
char *kx_buf_take(struct kx_buf *b);
/* Frees the string; b is empty afterwards. */
void kx_buf_free(struct kx_buf *b);

/* ---- vectors of strings ------------------------------------------------- */

/* Owned strings in the order added; {0} is an empty vector. */
struct kx_strv {
    char **v;
    size_t n, cap;
    int oom;
};

/* Appends a copy of the first n bytes of s (all of it for n == (size_t)-1). */
void kx_strv_add(struct kx_strv *sv, const char *s, size_t n);
/* Frees every string and the vector; sv is empty afterwards. */
void kx_strv_free(struct kx_strv *sv);

/* ---- arrays ------------------------------------------------------------- */

/* Makes room in the array *pv, which holds *cap elements of elem bytes,
 * for at least need of them: doubles *cap (starting from first) and
 * reallocates. 0, or -1 if out of memory or the size would overflow (the
 * array and *cap are then unchanged). pv is the address of the array's
 * pointer: kx_grow(&a->v, &a->cap, a->n + 1, sizeof *a->v, 64). */
int kx_grow(void *pv, size_t *cap, size_t need, size_t elem, size_t first);

/* Cuts a UTF-8 sequence that a truncating snprintf left incomplete at
 * the end of s (s stays valid UTF-8 if it was before the cut). */
void kx_utf8_trim(char *s);

/* ---- files -------------------------------------------------------------- */

/* Creates directory path and any missing parents, mode 0700: what
 * kxmatch creates holds people's addresses and enterprises' confidential
 * needs, so it is the owner's alone (the umask may only narrow it). 0, or -1
 * with errno set (ENAMETOOLONG for a path of 4096 bytes or more). */
int kx_mkdir_p(const char *path);

#endif
