/* infer.h - inferring industry and discipline codes from free text, through
 * the taxonomies' Chinese and English names. This is what lets an English
 * need reach a Chinese expert (and the reverse) when no codes were given. */
#ifndef MATCH_INFER_H
#define MATCH_INFER_H

#include "score.h"
#include "text.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct match_infer match_infer;

/* Builds the name tables from t (a few milliseconds; build once, share
 * read-only between threads). tok is used only while building. */
enum kx_status match_infer_new(const taxo *t, text_tokenizer *tok,
                               match_infer **out);
void match_infer_free(match_infer *m);

/* Adds to ind and dis, with weight w, the codes whose (part of a) name
 * occurs in text: Chinese names of three or more characters as substrings,
 * English names of two or more words as stemmed word sequences. Codes are
 * borrowed from the taxonomy. At most max_per_kind per kind, most specific
 * first. */
void match_infer_codes(const match_infer *m, text_tokenizer *tok,
                       const char *text, double w, size_t max_per_kind,
                       struct match_codes *ind, struct match_codes *dis);

#ifdef __cplusplus
}
#endif
#endif
