/* text.c - the tokeniser: UTF-8 text to Latin words and CJK n-grams. */
#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WORD_MAX 64             /* bytes, after folding; longer words skipped */
#define STEM_MAX (WORD_MAX * 2) /* room for any stem of a WORD_MAX word */

/* Word kind bits, gathered while a word is built. */
#define WK_ALPHA 0x1u    /* has a letter: pure numbers are never stemmed */
#define WK_NONASCII 0x2u /* has a non-ASCII letter: never a stopword */

/* Stemming through Xapian costs a std::string round trip per word, ten
 * times the rest of the tokeniser; word frequencies are skewed enough that
 * a small direct-mapped cache of word -> stem answers most of them. */
#define CACHE_SLOTS 16384 /* power of two; 1 MiB per tokenizer, touched
                             only when stemming (4096 slots: 1.5x slower) */
#define CACHE_LEN 31      /* longer words and stems bypass the cache */

struct stem_slot {
    unsigned char wlen, slen; /* wlen 0: empty slot */
    char word[CACHE_LEN];
    char stem[CACHE_LEN];
};

struct text_tokenizer {
    xap_stemmer *stemmer;
    char word[WORD_MAX];  /* the word being built, folded */
    char stem[STEM_MAX];  /* its stem, handed to the callback */
    struct stem_slot cache[CACHE_SLOTS];
};

/* Folded form of each byte: a lowercase letter or a digit, 0 for anything
 * that separates words (bytes >= 0x80 start multi-byte sequences and are
 * handled apart). One table lookup per byte is the whole ASCII fast path. */
#define F_(c)                                                              \
    (((c) >= '0' && (c) <= '9') || ((c) >= 'a' && (c) <= 'z') ? (c)       \
     : ((c) >= 'A' && (c) <= 'Z')                             ? (c) + 32  \
                                                              : 0)
#define F4_(c) F_(c), F_((c) + 1), F_((c) + 2), F_((c) + 3)
#define F16_(c) F4_(c), F4_((c) + 4), F4_((c) + 8), F4_((c) + 12)
static const unsigned char ascii_fold[256] = {
    F16_(0x00), F16_(0x10), F16_(0x20), F16_(0x30),
    F16_(0x40), F16_(0x50), F16_(0x60), F16_(0x70),
};
#undef F16_
#undef F4_
#undef F_

#define STOPWORD_MAXLEN 10 /* "themselves", "yourselves" */

/* Sorted (strcmp order) for binary search. Left out on purpose, because
 * they are also acronyms people search for here: "it" (IT services), "us"
 * (US), "am" (additive manufacturing). "s" and "t" are in because splitting
 * at apostrophes leaves them behind ("it's", "don't"). */
static const char stopwords[][STOPWORD_MAXLEN + 1] = {
    "a", "about", "above", "after", "again", "against", "all", "an", "and",
    "any", "are", "as", "at", "be", "because", "been", "before", "being",
    "below", "between", "both", "but", "by", "can", "could", "did", "do",
    "does", "doing", "down", "during", "each", "few", "for", "from",
    "further", "had", "has", "have", "having", "he", "her", "here", "hers",
    "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is",
    "its", "itself", "just", "me", "more", "most", "my", "myself", "no",
    "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other",
    "our", "ours", "ourselves", "out", "over", "own", "s", "same", "she",
    "should", "so", "some", "such", "t", "than", "that", "the", "their",
    "theirs", "them", "themselves", "then", "there", "these", "they", "this",
    "those", "through", "to", "too", "under", "until", "up", "very", "was",
    "we", "were", "what", "when", "where", "which", "while", "who", "whom",
    "why", "will", "with", "would", "you", "your", "yours", "yourself",
    "yourselves",
};

int text_is_stopword(const char *word, size_t n)
{
    size_t lo = 0, hi = sizeof stopwords / sizeof stopwords[0];

    if (!word || n == 0 || n > STOPWORD_MAXLEN)
        return 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *w = stopwords[mid];
        /* entries are NUL-padded and words hold no NUL, so comparing n
         * bytes orders a longer word after its prefix; then a word that
         * is a proper prefix of w sorts before it */
        int c = memcmp(word, w, n);

        if (c == 0) {
            if (!w[n])
                return 1;
            c = -1;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

/* Decodes the multi-byte sequence at p (p < end, *p >= 0x80) strictly:
 * no overlongs, no surrogates, nothing above U+10FFFF, no truncation.
 * Returns its length, or 0 if the bytes at p do not start a valid one. */
static inline size_t utf8_decode(const unsigned char *p,
                                 const unsigned char *end, uint32_t *cp)
{
    size_t avail = (size_t)(end - p);
    uint32_t c = p[0], v;

    if (c < 0xC2)
        return 0; /* continuation byte, or an overlong 2-byte lead */
    if (c < 0xE0) {
        if (avail < 2 || (p[1] & 0xC0) != 0x80)
            return 0;
        *cp = ((c & 0x1F) << 6) | (p[1] & 0x3F);
        return 2;
    }
    if (c < 0xF0) {
        if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        v = ((c & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) |
            (p[2] & 0x3F);
        if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))
            return 0;
        *cp = v;
        return 3;
    }
    if (c < 0xF5) {
        if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80)
            return 0;
        v = ((c & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
            ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
        if (v < 0x10000 || v > 0x10FFFF)
            return 0;
        *cp = v;
        return 4;
    }
    return 0;
}

/* Ideographs, kana and hangul syllables: the characters that form n-gram
 * runs. The katakana middle dot U+30FB and double hyphen U+30A0 are
 * punctuation, so they separate ("ジョン・スミス" is two runs). */
static inline int is_cjk(uint32_t cp)
{
    if (cp >= 0x4E00 && cp <= 0x9FFF)
        return 1;
    if (cp < 0x3040)
        return 0;
    if (cp <= 0x30FF)
        return cp != 0x30FB && cp != 0x30A0;
    return (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0xAC00 && cp <= 0xD7AF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2FA1F);
}

/* The folded form of a non-CJK, non-ASCII character that belongs in a word,
 * or 0 if it separates. Full-width letters and digits become ASCII so that
 * "ＡＢＣ" and "abc" are one term. Latin letters with diacritics stay letters
 * (U+00C0-U+024F as asked, plus Latin Extended Additional U+1E00-U+1EFF for
 * Vietnamese names); Latin-1, Extended-A and Extended Additional are
 * lowercased, the irregular Extended-B is left as it is. */
static inline uint32_t fold_letter(uint32_t cp)
{
    if (cp >= 0xFF10 && cp <= 0xFF5A) {
        if (cp <= 0xFF19)
            return cp - 0xFF10 + '0';
        if (cp >= 0xFF21 && cp <= 0xFF3A)
            return cp - 0xFF21 + 'a';
        if (cp >= 0xFF41)
            return cp - 0xFF41 + 'a';
        return 0;
    }
    if (cp >= 0x1E00 && cp <= 0x1EFF) {
        if ((cp <= 0x1E95 || cp >= 0x1EA0) && !(cp & 1))
            return cp + 1;
        return cp;
    }
    if (cp < 0xC0 || cp > 0x24F || cp == 0xD7 || cp == 0xF7)
        return 0; /* symbols, and the multiplication and division signs */
    if (cp <= 0xDE)
        return cp + 0x20;
    if (cp < 0x100 || cp > 0x17E)
        return cp;
    if (cp == 0x130 || cp == 0x138 || cp == 0x149)
        return cp; /* İ would become dotless ı; ĸ and ŉ are lowercase */
    if (cp == 0x178)
        return 0xFF; /* Ÿ -> ÿ */
    /* Extended-A pairs upper/lower, with the parity flipping at 0x139 and
     * back at 0x14A, and again at 0x179. */
    if ((cp >= 0x139 && cp <= 0x148) || cp >= 0x179)
        return (cp & 1) ? cp + 1 : cp;
    return (cp & 1) ? cp : cp + 1;
}

/* State of one text_tokenize call; the word bytes live in the tokenizer. */
struct scan {
    text_tokenizer *t;
    unsigned flags;
    unsigned pos;  /* position of the last word or CJK character */
    text_fn fn;
    void *ctx;
    /* the word being built: wlen folded bytes (may exceed WORD_MAX, then
     * only the count goes on), from wstart to wend in the input */
    size_t wlen;
    unsigned wkind;
    const unsigned char *wstart, *wend;
    /* the current CJK run: its last character, and 0, 1 or 2 (= more) */
    const unsigned char *cprev;
    size_t cprev_len;
    unsigned cprev_pos;
    unsigned crun;
};

static inline int emit(struct scan *sc, const char *s, size_t len,
                       unsigned pos, enum text_tok_type type,
                       const unsigned char *raw, size_t raw_len)
{
    struct text_token tok;

    tok.s = s;
    tok.len = len;
    tok.pos = pos;
    tok.type = type;
    tok.raw = (const char *)raw;
    tok.raw_len = raw_len;
    return sc->fn(sc->ctx, &tok);
}

/* Hash of a word for the stem cache: 8 bytes at a time, the tail
 * zero-padded. */
static inline uint32_t word_hash(const char *w, size_t n)
{
    uint64_t h = n, v;

    while (n >= 8) {
        memcpy(&v, w, 8);
        h = (h ^ v) * 0x9E3779B97F4A7C15ull;
        w += 8;
        n -= 8;
    }
    if (n) {
        v = 0;
        memcpy(&v, w, n);
        h = (h ^ v) * 0x9E3779B97F4A7C15ull;
    }
    return (uint32_t)(h >> 40);
}

/* The stem of t->word[0..len), borrowed from t; its length in *out_len. */
static const char *stem(text_tokenizer *t, size_t len, size_t *out_len)
{
    struct stem_slot *slot = NULL;
    size_t sl;

    if (len <= CACHE_LEN) {
        slot = &t->cache[word_hash(t->word, len) & (CACHE_SLOTS - 1)];
        if (slot->wlen == len && memcmp(slot->word, t->word, len) == 0) {
            *out_len = slot->slen;
            return slot->stem;
        }
    }
    sl = xap_stem(t->stemmer, t->word, len, t->stem, sizeof t->stem);
    /* the contract truncates to n-1 bytes; an empty stem would be a term
     * that matches nothing, so keep the word then */
    if (sl == 0) {
        *out_len = len;
        return t->word;
    }
    if (sl >= sizeof t->stem)
        sl = sizeof t->stem - 1;
    if (slot && sl <= CACHE_LEN) {
        slot->wlen = (unsigned char)len;
        slot->slen = (unsigned char)sl;
        memcpy(slot->word, t->word, len);
        memcpy(slot->stem, t->stem, sl);
    }
    *out_len = sl;
    return t->stem;
}

/* Ends the word being built: a position always, a token unless the word is
 * too long or a dropped stopword (so query positions keep their gaps).
 * Returns non-zero if the callback asked to stop. */
static int word_flush(struct scan *sc)
{
    text_tokenizer *t = sc->t;
    size_t len = sc->wlen;
    const char *s = t->word;

    sc->wlen = 0;
    sc->pos++;
    if (len > WORD_MAX)
        return 0;
    if ((sc->flags & TEXT_STOPWORDS) && !(sc->wkind & WK_NONASCII) &&
        text_is_stopword(t->word, len))
        return 0;
    if ((sc->flags & TEXT_STEM) && (sc->wkind & WK_ALPHA))
        s = stem(t, len, &len);
    return emit(sc, s, len, sc->pos, TEXT_WORD, sc->wstart,
                (size_t)(sc->wend - sc->wstart));
}

/* Ends the CJK run. A lone character without TEXT_UNIGRAMS has produced no
 * token yet: it is its own unigram. */
static int cjk_flush(struct scan *sc)
{
    unsigned run = sc->crun;

    sc->crun = 0;
    if (run == 1 && !(sc->flags & TEXT_UNIGRAMS))
        return emit(sc, (const char *)sc->cprev, sc->cprev_len, sc->cprev_pos,
                    TEXT_CJK_UNI, sc->cprev, sc->cprev_len);
    return 0;
}

/* Appends the UTF-8 of folded letter f (>= 0x80) to the word. */
static inline void word_put(struct scan *sc, uint32_t f)
{
    char *w = sc->t->word + sc->wlen;

    if (f < 0x800) {
        if (sc->wlen + 2 <= WORD_MAX) {
            w[0] = (char)(0xC0 | (f >> 6));
            w[1] = (char)(0x80 | (f & 0x3F));
        }
        sc->wlen += 2;
    } else {
        if (sc->wlen + 3 <= WORD_MAX) {
            w[0] = (char)(0xE0 | (f >> 12));
            w[1] = (char)(0x80 | ((f >> 6) & 0x3F));
            w[2] = (char)(0x80 | (f & 0x3F));
        }
        sc->wlen += 3;
    }
}

enum kx_status text_tokenize(text_tokenizer *t, const char *s, size_t n,
                             unsigned flags, unsigned *pos_io, text_fn fn,
                             void *ctx)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    enum kx_status st = KX_CONFLICT; /* until the end is reached */
    struct scan sc;

    if (!t || !fn || (!s && n))
        return KX_BADINPUT;
    memset(&sc, 0, sizeof sc);
    sc.t = t;
    sc.flags = flags;
    sc.pos = pos_io ? *pos_io : 0;
    sc.fn = fn;
    sc.ctx = ctx;

    while (p < end) {
        unsigned c = *p;
        uint32_t cp, f;
        size_t len;

        if (c < 0x80) {
            unsigned fc = ascii_fold[c];

            if (fc) {
                /* the hot loop: a run of ASCII letters and digits */
                size_t wl = sc.wlen;
                unsigned kind = sc.wkind;
                char *w = t->word;

                if (sc.crun && cjk_flush(&sc))
                    goto out;
                if (!wl) {
                    sc.wstart = p;
                    kind = 0;
                }
                do {
                    if (wl < WORD_MAX)
                        w[wl] = (char)fc;
                    wl++;
                    kind |= fc >= 'a' ? WK_ALPHA : 0u;
                    p++;
                } while (p < end && (fc = ascii_fold[*p]) != 0);
                sc.wlen = wl;
                sc.wkind = kind;
                sc.wend = p;
                continue;
            }
            if (sc.wlen && word_flush(&sc))
                goto out;
            if (sc.crun && cjk_flush(&sc))
                goto out;
            p++;
            continue;
        }

        len = utf8_decode(p, end, &cp);
        if (len && is_cjk(cp)) {
            if (sc.wlen && word_flush(&sc))
                goto out;
            sc.pos++;
            if (sc.crun &&
                emit(&sc, (const char *)sc.cprev, sc.cprev_len + len,
                     sc.cprev_pos, TEXT_CJK_BI, sc.cprev, sc.cprev_len + len))
                goto out;
            if ((flags & TEXT_UNIGRAMS) &&
                emit(&sc, (const char *)p, len, sc.pos, TEXT_CJK_UNI, p, len))
                goto out;
            sc.cprev = p;
            sc.cprev_len = len;
            sc.cprev_pos = sc.pos;
            sc.crun = sc.crun ? 2 : 1;
            p += len;
            continue;
        }
        if (len && (f = fold_letter(cp)) != 0) {
            if (sc.crun && cjk_flush(&sc))
                goto out;
            if (!sc.wlen) {
                sc.wstart = p;
                sc.wkind = 0;
            }
            if (f < 0x80) {
                if (sc.wlen < WORD_MAX)
                    t->word[sc.wlen] = (char)f;
                sc.wlen++;
                sc.wkind |= f >= 'a' ? WK_ALPHA : 0u;
            } else {
                word_put(&sc, f);
                sc.wkind |= WK_ALPHA | WK_NONASCII;
            }
            p += len;
            sc.wend = p;
            continue;
        }
        /* a separator, or an invalid byte: skip one byte and resync */
        if (sc.wlen && word_flush(&sc))
            goto out;
        if (sc.crun && cjk_flush(&sc))
            goto out;
        p += len ? len : 1;
    }
    if ((sc.wlen && word_flush(&sc)) || (sc.crun && cjk_flush(&sc)))
        goto out;
    st = KX_OK;
out:
    if (pos_io)
        *pos_io = sc.pos;
    return st;
}

enum kx_status text_tokenizer_new(text_tokenizer **out)
{
    text_tokenizer *t = NULL;
    enum kx_status st;

    if (!out)
        return KX_BADINPUT;
    *out = NULL;
    /* calloc: the stem cache starts empty, and its pages stay untouched
     * (mapped lazily) in tokenizers that never stem */
    t = calloc(1, sizeof *t);
    if (!t)
        return KX_NOMEM;
    st = xap_stemmer_new("english", &t->stemmer);
    if (st != KX_OK)
        goto out;
    *out = t;
    t = NULL;
out:
    text_tokenizer_free(t);
    return st;
}

void text_tokenizer_free(text_tokenizer *t)
{
    if (!t)
        return;
    xap_stemmer_free(t->stemmer);
    free(t);
}

int text_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    uint32_t cp;

    if (!s)
        return n == 0;
    while (p < end) {
        size_t len;

        /* eight ASCII bytes at a time, none of them NUL */
        while (end - p >= 8) {
            uint64_t v;

            memcpy(&v, p, 8);
            if ((v & 0x8080808080808080ull) ||
                ((v - 0x0101010101010101ull) & ~v & 0x8080808080808080ull))
                break;
            p += 8;
        }
        if (p == end)
            break;
        if (*p < 0x80) {
            if (!*p)
                return 0;
            p++;
            continue;
        }
        len = utf8_decode(p, end, &cp);
        if (!len)
            return 0;
        p += len;
    }
    return 1;
}

const char *text_detect_lang(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    size_t cjk = 0, latin = 0;

    if (!s)
        return "en";
    while (p < end) {
        uint32_t cp, f;
        size_t len;

        if (*p < 0x80) {
            latin += ascii_fold[*p] >= 'a';
            p++;
            continue;
        }
        len = utf8_decode(p, end, &cp);
        if (!len) {
            p++;
            continue;
        }
        if (is_cjk(cp))
            cjk++;
        else if ((f = fold_letter(cp)) != 0)
            latin += f >= 'a';
        p += len;
    }
    /* no letters at all (empty, digits, punctuation): "en", since nothing
     * says Chinese and English processing leaves such text as it is */
    if (cjk == 0)
        return "en";
    return cjk * 5 >= cjk + latin ? "zh" : "en";
}
