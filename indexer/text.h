/* text.h - turning UTF-8 text into index and query terms (our own tokeniser:
 * CJK n-grams and Latin words in tight C, so that Xapian's generic n-gram
 * path never runs and no query can fail to parse). */
#ifndef TEXT_H
#define TEXT_H

#include <stddef.h>

#include "kx.h"
#include "xap.h"

#ifdef __cplusplus
extern "C" {
#endif

enum text_tok_type {
    TEXT_WORD = 0,   /* a Latin/digit word, lowercased (and stemmed) */
    TEXT_CJK_UNI,    /* one CJK character */
    TEXT_CJK_BI      /* two adjacent CJK characters */
};

struct text_token {
    const char *s;          /* the term bytes, NOT NUL-terminated; borrowed
                               for the duration of the callback only */
    size_t len;
    unsigned pos;           /* 1-based position, increasing */
    enum text_tok_type type;
    const char *raw;        /* where the token starts in the input */
    size_t raw_len;         /* its length in the input */
};

/* Flags for text_tokenize. */
#define TEXT_UNIGRAMS  0x1u /* emit every CJK unigram (indexing). Without it
                               a CJK run of two or more characters gives only
                               bigrams, a lone character its unigram (queries). */
#define TEXT_STEM      0x2u /* stem Latin words (English) */
#define TEXT_STOPWORDS 0x4u /* drop English stopwords (queries) */

/* Called for every token; return non-zero to stop early. */
typedef int (*text_fn)(void *ctx, const struct text_token *tok);

typedef struct text_tokenizer text_tokenizer;

/* A tokeniser holds a stemmer and scratch space: one per thread. */
enum kx_status text_tokenizer_new(text_tokenizer **out);
void text_tokenizer_free(text_tokenizer *t);

/* Tokenises s[0..n). Latin letters and digits form words (ASCII lowercased,
 * full-width forms folded to ASCII; '-', '.', '_' inside a word split it),
 * words longer than 64 bytes are skipped. CJK ideographs, kana and hangul
 * form runs that become n-grams; everything else separates. Invalid UTF-8
 * bytes separate too (validation is the parser's job). pos continues from
 * *pos_io (start at 0) so that fields can be tokenised in sequence.
 * Returns KX_OK, or KX_CONFLICT if fn asked to stop. */
enum kx_status text_tokenize(text_tokenizer *t, const char *s, size_t n,
                             unsigned flags, unsigned *pos_io, text_fn fn,
                             void *ctx);

/* 1 if s[0..n) is valid UTF-8 with no NUL and no overlong/surrogate forms. */
int text_utf8_valid(const char *s, size_t n);

/* "zh" if at least 20% of the letters in s are CJK, else "en". Static. */
const char *text_detect_lang(const char *s, size_t n);

/* 1 if word (lowercase ASCII) is an English stopword. */
int text_is_stopword(const char *word, size_t n);

#ifdef __cplusplus
}
#endif
#endif
