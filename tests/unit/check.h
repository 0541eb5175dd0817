/* check.h - the few assertion macros the unit tests share. Each test file
 * defines main() calling its test functions through RUN(), then returns
 * check_report(). A failed CHECK records the failure and goes on. */
#ifndef CHECK_H
#define CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_failed_ = 0, check_passed_ = 0, check_test_failed_ = 0;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                      \
            check_test_failed_ = 1;                                        \
        }                                                                  \
    } while (0)

#define CHECK_STR(a, b)                                                    \
    do {                                                                   \
        const char *a_ = (a), *b_ = (b);                                   \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                           \
            fprintf(stderr, "%s:%d: CHECK_STR failed: %s == \"%s\", "      \
                    "expected \"%s\"\n", __FILE__, __LINE__, #a,           \
                    a_ ? a_ : "(null)", b_ ? b_ : "(null)");               \
            check_test_failed_ = 1;                                        \
        }                                                                  \
    } while (0)

#define CHECK_INT(a, b)                                                    \
    do {                                                                   \
        long long a_ = (long long)(a), b_ = (long long)(b);                \
        if (a_ != b_) {                                                    \
            fprintf(stderr, "%s:%d: CHECK_INT failed: %s == %lld, "        \
                    "expected %lld\n", __FILE__, __LINE__, #a, a_, b_);    \
            check_test_failed_ = 1;                                        \
        }                                                                  \
    } while (0)

#define CHECK_NEAR(a, b, eps)                                              \
    do {                                                                   \
        double x_ = (a), y_ = (b);                                         \
        if (!(fabs(x_ - y_) <= (eps))) {                                   \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s == %.9g, "       \
                    "expected %.9g\n", __FILE__, __LINE__, #a, x_, y_);    \
            check_test_failed_ = 1;                                        \
        }                                                                  \
    } while (0)

#define RUN(fn)                                                            \
    do {                                                                   \
        check_test_failed_ = 0;                                            \
        fn();                                                              \
        if (check_test_failed_) {                                          \
            check_failed_++;                                               \
            fprintf(stderr, "FAIL %s\n", #fn);                             \
        } else {                                                           \
            check_passed_++;                                               \
            printf("ok   %s\n", #fn);                                      \
        }                                                                  \
    } while (0)

static int check_report(void)
{
    printf("%d passed, %d failed\n", check_passed_, check_failed_);
    return check_failed_ ? 1 : 0;
}

#endif
