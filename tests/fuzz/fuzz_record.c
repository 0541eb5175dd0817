/* fuzz_record.c - libFuzzer target for the record parser: no input may
 * crash it or reach undefined behaviour, a refusal always says why, and
 * an accepted record's canonical form parses back to the same bytes.
 * An input that starts with '{' or a blank is a whole line; any other is
 * its first byte choosing a field (budget, capacity, trl, x_a) and the
 * rest that field's value in a record that is otherwise valid, so that
 * mutations go where numbers are read.
 *
 * Built by tests/fuzz/CMakeLists.txt (-DKX_FUZZ=ON, clang) and run by
 * `make fuzz` with the corpus in tests/fuzz/corpus/record and
 * tests/fuzz/record.dict; by hand, from the source tree:
 *
 *   build-fuzz/tests/fuzz/fuzz_record -max_total_time=120 \
 *     -dict=tests/fuzz/record.dict CORPUS tests/fuzz/corpus/record
 *
 * (CORPUS a new directory: libFuzzer adds what it finds to the first.) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "taxo.h"

static taxo *T;

/* Records with one field left for the input's value: "%.*s" takes it. */
static const char *const tmpl[] = {
    "{\"kind\":\"need\",\"id\":\"N1\",\"name\":\"需求\","
    "\"enterprise\":\"enterprise:E1\",\"budget\":%.*s}",
    "{\"kind\":\"expert\",\"id\":\"E1\",\"name\":\"张三\","
    "\"capacity\":%.*s}",
    "{\"kind\":\"result\",\"id\":\"R1\",\"name\":\"r\",\"trl\":%.*s}",
    "{\"kind\":\"enterprise\",\"id\":\"C1\",\"name\":\"c\",\"x_a\":%.*s}",
};

static void fail(const char *what, const uint8_t *data, size_t size,
                 const char *more)
{
    fprintf(stderr, "fuzz_record: %s\n  input: %.*s\n  %s\n", what,
            (int)(size > 2000 ? 2000 : size), (const char *)data,
            more ? more : "");
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct kx_error err;

    (void)argc;
    (void)argv;
    kx_error_clear(&err);
    if (taxo_load(KX_TAXONOMY_DIR, &T, &err) != KX_OK) {
        fprintf(stderr, "fuzz_record: cannot load %s: %s\n", KX_TAXONOMY_DIR,
                err.msg);
        exit(1);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kx_record *r = NULL, *r2 = NULL;
    struct kx_error err;
    enum kx_status st;
    const char *c1, *c2;
    size_t l1 = 0, l2 = 0;
    char *copy;

    if (size && data[0] != '{' && data[0] != ' ' && data[0] != '\n' &&
        size < 65536) {
        const char *t = tmpl[data[0] % (sizeof tmpl / sizeof tmpl[0])];
        int n = snprintf(NULL, 0, t, (int)size - 1, (const char *)data + 1);
        char *line = malloc((size_t)n + 1);

        /* exact size again, without the NUL snprintf adds */
        copy = malloc(n ? (size_t)n : 1);
        if (!line || !copy) {
            free(line);
            free(copy);
            return 0;
        }
        snprintf(line, (size_t)n + 1, t, (int)size - 1,
                 (const char *)data + 1);
        memcpy(copy, line, (size_t)n);
        free(line);
        data = (const uint8_t *)copy;
        size = (size_t)n;
    } else {
        /* an exact-size copy, so that ASan sees any read past the end */
        copy = malloc(size ? size : 1);
        if (!copy)
            return 0;
        memcpy(copy, data, size);
    }
    kx_error_clear(&err);
    st = record_parse(copy, size, T, &r, &err);
    if (st != KX_OK) {
        if (r)
            fail("refused, yet a record came back", data, size, NULL);
        if (st != KX_BADINPUT && st != KX_TOOLARGE && st != KX_NOMEM)
            fail("refused with an unexpected status", data, size,
                 kx_status_str(st));
        if (!err.msg[0])
            fail("refused without a message", data, size, NULL);
        free(copy);
        return 0;
    }
    c1 = record_canonical(r, &l1);
    if (!c1 || strlen(c1) != l1)
        fail("no canonical form", data, size, NULL);
    if (record_numbers_check(c1, l1, &err) != KX_OK)
        fail("canonical form holds a bad number", data, size, c1);
    /* read back as the store does: without a taxonomy */
    kx_error_clear(&err);
    if (record_parse(c1, l1, NULL, &r2, &err) != KX_OK)
        fail("canonical form refused", data, size, err.msg);
    c2 = record_canonical(r2, &l2);
    if (l1 != l2 || memcmp(c1, c2, l1) != 0)
        fail("canonical form is not a fixed point", data, size, c2);
    {
        char *p = NULL;
        size_t pl = 0;
        struct kx_record *pr = NULL;

        if (record_profile_encode(r, &p, &pl) == KX_OK &&
            record_from_profile(p, pl, &pr) != KX_OK)
            fail("profile does not decode", data, size, NULL);
        record_free(pr);
        free(p);
    }
    record_free(r2);
    record_free(r);
    free(copy);
    return 0;
}
