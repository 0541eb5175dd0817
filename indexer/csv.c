/* csv.c - the CSV writer: RFC 4180 quoting and OWASP formula
 * neutralisation (the rules are in csv_write.h). */
#include "csv_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Spreadsheets (Excel, LibreOffice, Google Sheets) start a formula, or
 * turn a cell into one through DDE, on these first characters; TAB and CR
 * are listed because some strip them first and then see what follows. */
static int formula_lead(unsigned char c)
{
    return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' ||
           c == '\r';
}

static void cell_sep(struct kx_csv *c)
{
    if (c->cells++ > 0)
        kx_buf_add(&c->out, ",", 1);
}

void kx_csv_bom(struct kx_csv *c)
{
    kx_buf_add(&c->out, "\xEF\xBB\xBF", 3);
}

void kx_csv_text(struct kx_csv *c, const char *s)
{
    int neutralise, quote;
    const char *p, *q;

    cell_sep(c);
    if (!s || !*s)
        return;
    neutralise = formula_lead((unsigned char)s[0]);
    /* A neutralised cell is quoted even when nothing else asks for it:
     * OWASP's advice, and it keeps the quote visibly part of the text. */
    quote = neutralise || strpbrk(s, ",\"\r\n") != NULL;
    if (!quote) {
        kx_buf_puts(&c->out, s);
        return;
    }
    kx_buf_add(&c->out, "\"", 1);
    if (neutralise)
        kx_buf_add(&c->out, "'", 1);
    for (p = s; (q = strchr(p, '"')) != NULL; p = q + 1) {
        kx_buf_add(&c->out, p, (size_t)(q - p));
        kx_buf_add(&c->out, "\"\"", 2);
    }
    kx_buf_puts(&c->out, p);
    kx_buf_add(&c->out, "\"", 1);
}

void kx_csv_int(struct kx_csv *c, long long v)
{
    cell_sep(c);
    kx_buf_printf(&c->out, "%lld", v);
}

void kx_csv_row_end(struct kx_csv *c)
{
    kx_buf_add(&c->out, "\r\n", 2);
    c->cells = 0;
}

enum kx_status kx_csv_take(struct kx_csv *c, char **out, size_t *len)
{
    size_t n = c->out.n;

    c->cells = 0;
    *out = kx_buf_take(&c->out);
    *len = *out ? n : 0;
    return *out ? KX_OK : KX_NOMEM;
}

void kx_csv_free(struct kx_csv *c)
{
    kx_buf_free(&c->out);
    c->cells = 0;
}
