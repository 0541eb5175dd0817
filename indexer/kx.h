/* kx.h - statuses and error details shared by every kxmatch module. */
#ifndef KX_H
#define KX_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every fallible function returns one of these. KX_NOTFOUND is a normal
 * result, not a failure. Keep kx_status_str() in status.c in step. */
enum kx_status {
    KX_OK = 0,
    KX_NOTFOUND,     /* no such record, key or file */
    KX_BADINPUT,     /* malformed or invalid input; nothing was changed */
    KX_EXISTS,       /* already exists */
    KX_LOCKED,       /* another process holds the index for writing */
    KX_IO,           /* read/write/open failed (errno kept in the message) */
    KX_NOMEM,        /* allocation failed */
    KX_CORRUPT,      /* on-disk data is not what this version expects */
    KX_XAPIAN,       /* Xapian raised an error (see xap_errmsg) */
    KX_UNAUTHORIZED, /* no valid credentials */
    KX_FORBIDDEN,    /* valid credentials, not allowed */
    KX_TOOLARGE,     /* input exceeds a documented limit */
    KX_UNAVAILABLE,  /* a server we depend on is down; try again later */
    KX_CONFLICT,     /* the operation conflicts with the current state */
    KX_UNSUPPORTED,  /* a format (media type) this operation does not take */
    KX_INTERNAL,     /* a bug: an invariant did not hold */
    KX_STATUS_LAST
};

/* Returns a short, static, lowercase description of st ("not found"). */
const char *kx_status_str(enum kx_status st);

/* Where and why input was rejected. Functions that validate input fill one of
 * these when given a non-NULL pointer; fields not known stay empty / 0. */
struct kx_error {
    char file[256];   /* input file name, "-" for stdin, "" if none */
    long line;        /* 1-based line number, 0 if none */
    char field[64];   /* offending field, e.g. "industries[1]", "" if none */
    char msg[512];    /* what was wrong and what was expected */
};

/* Clears e (NULL allowed). */
void kx_error_clear(struct kx_error *e);

/* Sets e->field and a printf-style e->msg, each cut (if too long) where a
 * UTF-8 character starts; returns st so callers can
 * `return kx_error_set(err, KX_BADINPUT, "region", "...")`. NULL e allowed. */
enum kx_status kx_error_set(struct kx_error *e, enum kx_status st,
                            const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Formats e as "file:line: field: msg" (parts left out when empty) into buf. */
void kx_error_format(const struct kx_error *e, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
