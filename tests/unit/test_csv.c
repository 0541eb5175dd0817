/* test_csv.c - the CSV writer: RFC 4180 quoting, CRLF rows, the OWASP
 * formula neutralisation of text cells, bare numbers, the BOM. */
#include "check.h"

#include <stdlib.h>

#include "csv_write.h"

/* The file that one row of text cells makes (without the final CRLF, to
 * keep the expectations short), or NULL. Caller frees. */
static char *row(const char *const *cells, size_t n)
{
    struct kx_csv c = {0};
    char *out = NULL;
    size_t len = 0;

    for (size_t i = 0; i < n; i++)
        kx_csv_text(&c, cells[i]);
    kx_csv_row_end(&c);
    if (kx_csv_take(&c, &out, &len) != KX_OK)
        return NULL;
    if (len < 2 || strcmp(out + len - 2, "\r\n") != 0 ||
        strlen(out) != len) {
        free(out);
        return NULL;
    }
    out[len - 2] = '\0';
    return out;
}

/* One cell as written. */
static char *one(const char *s)
{
    return row(&s, 1);
}

#define CHECK_CELL(in, want)                                               \
    do {                                                                   \
        char *got_ = one(in);                                              \
        CHECK_STR(got_, want);                                             \
        free(got_);                                                        \
    } while (0)

static void test_plain_cells_pass_through(void)
{
    const char *cells[] = {"need:TA1", "催化裂化 丙烯", "a b", "2024-05-01T08:00:00Z"};
    char *got = row(cells, 4);

    CHECK_STR(got, "need:TA1,催化裂化 丙烯,a b,2024-05-01T08:00:00Z");
    free(got);
    /* Not a lead character anywhere but first: no quote, no apostrophe. */
    CHECK_CELL("a=b", "a=b");
    CHECK_CELL("1-2", "1-2");
    CHECK_CELL("x@example.com", "x@example.com");
    /* Leading space: no spreadsheet starts a formula with it. */
    CHECK_CELL(" =1", " =1");
}

static void test_empty_and_null_cells(void)
{
    const char *cells[] = {NULL, "", "x", NULL};
    char *got = row(cells, 4);

    CHECK_STR(got, ",,x,");
    free(got);
}

static void test_rfc4180_quoting(void)
{
    CHECK_CELL("a,b", "\"a,b\"");
    CHECK_CELL("say \"hi\"", "\"say \"\"hi\"\"\"");
    CHECK_CELL("\"", "\"\"\"\"");
    CHECK_CELL("line1\nline2", "\"line1\nline2\"");
    CHECK_CELL("line1\r\nline2", "\"line1\r\nline2\"");
    CHECK_CELL("end\r", "\"end\r\"");
}

static void test_formula_leads_neutralised(void)
{
    /* Each lead of OWASP's list, with the ' inside the quotes. */
    CHECK_CELL("=1+1", "\"'=1+1\"");
    CHECK_CELL("+1", "\"'+1\"");
    CHECK_CELL("-1", "\"'-1\"");
    CHECK_CELL("@SUM(A1)", "\"'@SUM(A1)\"");
    CHECK_CELL("\tx", "\"'\tx\"");
    CHECK_CELL("\rx", "\"'\rx\"");
    /* A lone lead too: the writer does not guess what is harmless. */
    CHECK_CELL("-", "\"'-\"");
    CHECK_CELL("=", "\"'=\"");
    /* Quotes inside a neutralised cell are still doubled. */
    CHECK_CELL("=HYPERLINK(\"http://evil.example/x\",\"y\")",
               "\"'=HYPERLINK(\"\"http://evil.example/x\"\",\"\"y\"\")\"");
    /* Already starting with an apostrophe: not a lead, left alone. */
    CHECK_CELL("'=1", "'=1");
}

static void test_numbers_are_bare(void)
{
    struct kx_csv c = {0};
    char *out = NULL;
    size_t len = 0;

    kx_csv_int(&c, 42);
    kx_csv_int(&c, -7);
    kx_csv_int(&c, 0);
    kx_csv_text(&c, "-7");
    kx_csv_row_end(&c);
    CHECK_INT(kx_csv_take(&c, &out, &len), KX_OK);
    /* A number the server made stays a number; the same text from a
     * record is neutralised. */
    CHECK_STR(out, "42,-7,0,\"'-7\"\r\n");
    CHECK_INT(len, strlen("42,-7,0,\"'-7\"\r\n"));
    free(out);
}

static void test_rows_bom_and_take(void)
{
    struct kx_csv c = {0};
    char *out = NULL;
    size_t len = 0;

    kx_csv_bom(&c);
    kx_csv_text(&c, "a");
    kx_csv_text(&c, "b");
    kx_csv_row_end(&c);
    kx_csv_text(&c, "c");
    kx_csv_row_end(&c);
    CHECK_INT(kx_csv_take(&c, &out, &len), KX_OK);
    CHECK_INT(len, 3 + 5 + 3);
    CHECK(out && memcmp(out, "\xEF\xBB\xBF" "a,b\r\nc\r\n", len) == 0);
    free(out);
    /* The writer is empty again: a new file starts with no separator. */
    kx_csv_text(&c, "d");
    CHECK_INT(kx_csv_take(&c, &out, &len), KX_OK);
    CHECK_STR(out, "d");
    free(out);
    /* Nothing written: an empty file, not NULL. */
    CHECK_INT(kx_csv_take(&c, &out, &len), KX_OK);
    CHECK_STR(out, "");
    CHECK_INT(len, 0);
    free(out);
    kx_csv_text(&c, "x");
    kx_csv_free(&c);
    CHECK(c.out.p == NULL && c.cells == 0);
    kx_csv_free(&c); /* twice is fine */
}

static void test_out_of_memory_latches(void)
{
    struct kx_csv c = {0};
    char *out = (char *)"not null";
    size_t len = 99;

    kx_csv_text(&c, "a");
    c.out.oom = 1; /* as kx_buf leaves it after a failed realloc */
    kx_csv_text(&c, "b");
    CHECK_INT(kx_csv_take(&c, &out, &len), KX_NOMEM);
    CHECK(out == NULL);
    CHECK_INT(len, 0);
    CHECK(c.out.p == NULL && c.out.oom == 0);
}

int main(void)
{
    RUN(test_plain_cells_pass_through);
    RUN(test_empty_and_null_cells);
    RUN(test_rfc4180_quoting);
    RUN(test_formula_leads_neutralised);
    RUN(test_numbers_are_bare);
    RUN(test_rows_bom_and_take);
    RUN(test_out_of_memory_latches);
    return check_report();
}
