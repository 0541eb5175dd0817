/* fuzz.h - what the libFuzzer harnesses of tests/fuzz share: reporting a
 * broken invariant (abort(), which libFuzzer keeps as a crash) and the
 * checks every refusal must pass. */
#ifndef KX_FUZZ_H
#define KX_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kx.h"
#include "text.h"

/* Prints what broke, the input (at most 2,000 bytes) and more, then
 * aborts. */
static void fz_fail(const char *what, const void *data, size_t size,
                    const char *more) __attribute__((noreturn, unused));
static void fz_fail(const char *what, const void *data, size_t size,
                    const char *more)
{
    fprintf(stderr, "fuzz: invariant broken: %s\n  input (%zu bytes): %.*s\n"
            "  %s\n", what, size, (int)(size > 2000 ? 2000 : size),
            (const char *)data, more ? more : "");
    abort();
}

/* A refusal carries a message; with utf8 set, both it and the field are
 * UTF-8 text, as the server's JSON replies need (a message about a local
 * file, for stderr, may quote the file's bytes as they are). */
static void fz_check_refusal(const struct kx_error *err, int utf8,
                             const void *data, size_t size)
    __attribute__((unused));
static void fz_check_refusal(const struct kx_error *err, int utf8,
                             const void *data, size_t size)
{
    char more[sizeof err->msg + sizeof err->field + 32];

    snprintf(more, sizeof more, "field \"%s\", message \"%s\"", err->field,
             err->msg);
    if (!err->msg[0])
        fz_fail("refused without a message", data, size, more);
    if (!utf8)
        return;
    if (!text_utf8_valid(err->msg, strlen(err->msg)))
        fz_fail("the message is not valid UTF-8", data, size, more);
    if (!text_utf8_valid(err->field, strlen(err->field)))
        fz_fail("the field is not valid UTF-8", data, size, more);
}

/* An exact-size copy of data, so that ASan sees a read past its end, plus
 * a NUL after it when nul is set (for functions that take C strings).
 * NULL if out of memory. */
static char *fz_copy(const uint8_t *data, size_t size, int nul)
    __attribute__((unused));
static char *fz_copy(const uint8_t *data, size_t size, int nul)
{
    char *p = malloc(size + (nul ? 1 : 0) ? size + (nul ? 1 : 0) : 1);

    if (!p)
        return NULL;
    if (size)
        memcpy(p, data, size);
    if (nul)
        p[size] = '\0';
    return p;
}

#endif
