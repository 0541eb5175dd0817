/* status.c - kx_status names and kx_error helpers. */
#include "kx.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[KX_STATUS_LAST] = {
    [KX_OK] = "ok",
    [KX_NOTFOUND] = "not found",
    [KX_BADINPUT] = "bad input",
    [KX_EXISTS] = "already exists",
    [KX_LOCKED] = "locked",
    [KX_IO] = "i/o error",
    [KX_NOMEM] = "out of memory",
    [KX_CORRUPT] = "corrupt data",
    [KX_XAPIAN] = "xapian error",
    [KX_UNAUTHORIZED] = "unauthorized",
    [KX_FORBIDDEN] = "forbidden",
    [KX_TOOLARGE] = "too large",
    [KX_UNAVAILABLE] = "unavailable",
    [KX_CONFLICT] = "conflict",
    [KX_UNSUPPORTED] = "unsupported format",
    [KX_INTERNAL] = "internal error",
};

const char *kx_status_str(enum kx_status st)
{
    if ((unsigned)st >= KX_STATUS_LAST || !status_names[st])
        return "unknown status";
    return status_names[st];
}

void kx_error_clear(struct kx_error *e)
{
    if (e)
        memset(e, 0, sizeof *e);
}

/* s was cut to len bytes by a buffer too small for it: drops a UTF-8
 * character the cut split, so that a long field or message stays text
 * (the server sends both in JSON). */
static void cut_whole(char *s, size_t len)
{
    size_t i = len, need;
    unsigned char c;

    while (i > 0 && len - i < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return;
    c = (unsigned char)s[i - 1];
    need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (len - (i - 1) < need)
        s[i - 1] = '\0';
}

enum kx_status kx_error_set(struct kx_error *e, enum kx_status st,
                            const char *field, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!e)
        return st;
    n = snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    if (n >= (int)sizeof e->field)
        cut_whole(e->field, sizeof e->field - 1);
    va_start(ap, fmt);
    n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof e->msg)
        cut_whole(e->msg, sizeof e->msg - 1);
    return st;
}

/* Appends to buf[0..n) at *off, keeping it NUL-terminated when full. */
static void append(char *buf, size_t n, size_t *off, const char *fmt, ...)
{
    va_list ap;
    int w;

    if (*off + 1 >= n)
        return;
    va_start(ap, fmt);
    w = vsnprintf(buf + *off, n - *off, fmt, ap);
    va_end(ap);
    if (w > 0)
        *off = (size_t)w >= n - *off ? n - 1 : *off + (size_t)w;
}

void kx_error_format(const struct kx_error *e, char *buf, size_t n)
{
    size_t off = 0;

    if (!n)
        return;
    buf[0] = '\0';
    if (!e)
        return;
    if (e->file[0])
        append(buf, n, &off, "%s:", e->file);
    if (e->line > 0)
        append(buf, n, &off, "%ld:", e->line);
    if (off)
        append(buf, n, &off, " ");
    if (e->field[0])
        append(buf, n, &off, "%s: ", e->field);
    append(buf, n, &off, "%s", e->msg[0] ? e->msg : "error");
}
