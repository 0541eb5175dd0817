/* csv_write.h - writing CSV files that spreadsheets open safely: fields quoted
 * per RFC 4180, and text that a spreadsheet would run as a formula
 * neutralised as OWASP recommends ("CSV Injection").
 *
 * The rules, for every text cell (kx_csv_text):
 *   - a cell whose first byte is '=', '+', '-', '@', TAB (0x09) or CR
 *     (0x0D) gets a leading single quote ' and is then always quoted, so
 *     =HYPERLINK("x") is written "'=HYPERLINK(""x"")". No exception for a
 *     lone "-" or for text that looks like a negative number ("-5"): the
 *     writer does not guess what a spreadsheet will parse, and record text
 *     is never a number the file promises to keep numeric;
 *   - any other cell containing a comma, a double quote, CR or LF is
 *     quoted, and its double quotes doubled;
 *   - everything else is written as it is (UTF-8 passes through).
 * Numbers the caller computes itself (kx_csv_int) are written bare and
 * never neutralised: a negative count stays a number. Rows end in CRLF.
 *
 * Like kx_buf, a writer latches allocation failure: after one, every call
 * is a no-op and kx_csv_take reports KX_NOMEM, so a caller writes a whole
 * file and checks once. */
#ifndef KX_CSV_H
#define KX_CSV_H

#include <stddef.h>

#include "kx.h"
#include "util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A CSV file being written; {0} is an empty one. */
struct kx_csv {
    struct kx_buf out;
    size_t cells;   /* cells in the row being written */
};

/* Writes the UTF-8 byte order mark (EF BB BF); call before any cell. */
void kx_csv_bom(struct kx_csv *c);
/* Writes one text cell from s (NULL: an empty cell) by the rules above.
 * s is borrowed for the call. */
void kx_csv_text(struct kx_csv *c, const char *s);
/* Writes one cell holding v in decimal, bare: only for numbers the caller
 * produced, never for text read from a record. */
void kx_csv_int(struct kx_csv *c, long long v);
/* Ends the row (CRLF); the next cell starts a new one. */
void kx_csv_row_end(struct kx_csv *c);
/* Hands over the file: *out (the caller's to free()) and its length in
 * bytes. KX_OK, or KX_NOMEM if an allocation failed on the way (*out is
 * then NULL). c is empty afterwards either way. */
enum kx_status kx_csv_take(struct kx_csv *c, char **out, size_t *len);
/* Frees what was written; c is empty afterwards. */
void kx_csv_free(struct kx_csv *c);

#ifdef __cplusplus
}
#endif
#endif
