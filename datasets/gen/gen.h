/* gen.h - kxgen, the synthetic dataset generator: taxonomies in, record
 * files in the kxmatch record format out, deterministic from a seed.
 *
 * Independent of kxmatch's own code on purpose: peers (scriptindex, SQLite)
 * index the same files, and a generator that shared the indexer's parser
 * could not catch the indexer disagreeing with the format.
 */
#ifndef GEN_H
#define GEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- random numbers (gen_rng.c) ------------------------------------------ */

/* xoshiro256** seeded through splitmix64. Only integer arithmetic, so the
 * same seed gives the same stream on every platform. */
struct gen_rng {
    uint64_t s[4];
};

/* Seeds r from (seed, stream): each record draws from its own stream, so a
 * record's content does not depend on the order records are made in. */
void gen_rng_seed(struct gen_rng *r, uint64_t seed, uint64_t stream);
uint64_t gen_rng_next(struct gen_rng *r);
/* Uniform in [0, n); n > 0. */
uint32_t gen_rng_below(struct gen_rng *r, uint32_t n);
/* 1 with probability pct/100. */
int gen_rng_pct(struct gen_rng *r, unsigned pct);

/* A discrete distribution: cumulative integer weights, sampled by binary
 * search. Integer weights keep the sampling exact and portable. */
struct gen_dist {
    uint64_t *cum;
    size_t n;
};

/* Zipf over ranks 0..n-1: weight of rank r proportional to 1/(r + q). */
int gen_dist_zipf(struct gen_dist *d, size_t n, unsigned q);
/* From explicit weights (copied). */
int gen_dist_weights(struct gen_dist *d, const uint64_t *w, size_t n);
size_t gen_dist_draw(const struct gen_dist *d, struct gen_rng *r);
void gen_dist_free(struct gen_dist *d);

/* ---- taxonomies and vocabulary (gen_taxo.c) ------------------------------ */

struct gen_industry {
    char code[8];
    int level;          /* 1 section .. 4 class */
    int parent;         /* index, -1 at the top */
    char *name, *remark;
    uint32_t *words;    /* vocabulary ids of name and remark */
    size_t nwords;
};

struct gen_discipline {
    char code[8];
    int parent;
    char *name, *name_en;
    uint32_t *words, *words_en;
    size_t nwords, nwords_en;
};

struct gen_region {
    char code[10];
    char *name;
    int binzhou;        /* 1 for Binzhou counties and townships */
};

/* One vocabulary: words ranked by frequency in the taxonomy text, most
 * frequent first; a Zipf distribution over the ranks. used[] counts how
 * often each word went into the output (for queries that must hit). */
struct gen_vocab {
    char **w;
    size_t *len;        /* bytes */
    size_t *chars;      /* code points */
    uint64_t *used;
    size_t n, cap;
    struct gen_dist zipf;
};

struct gen_taxo {
    struct gen_industry *ind;
    size_t nind;
    size_t *classes;    /* indexes of level-4 industries */
    size_t nclasses;
    struct gen_discipline *dis;
    size_t ndis;
    struct gen_region *reg;
    size_t nreg;
    size_t *bz_town, *bz_county, *other_county;
    size_t nbz_town, nbz_county, nother_county;
    struct gen_vocab zh, en;
};

/* Loads dir/industry/gbt4754_2017.csv, dir/discipline/nsfc.jsonl and
 * dir/region/{areas,streets_binzhou_3716}.csv and builds the vocabularies.
 * Returns 0, or -1 with a message in err. */
int gen_taxo_load(struct gen_taxo *t, const char *dir, char *err, size_t n);
void gen_taxo_free(struct gen_taxo *t);

/* ---- output buffers (gen_text.c) ----------------------------------------- */

struct gen_buf {
    char *p;
    size_t n, cap;
    size_t chars;       /* code points appended through gen_buf_text */
};

void gen_buf_put(struct gen_buf *b, const char *s, size_t n);
void gen_buf_puts(struct gen_buf *b, const char *s);
void gen_buf_printf(struct gen_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends UTF-8 text and counts its code points in b->chars. */
void gen_buf_text(struct gen_buf *b, const char *s, size_t n);
/* Appends s as a JSON string literal (quotes and escapes included). */
void gen_buf_json_str(struct gen_buf *b, const char *s, size_t n);
void gen_buf_free(struct gen_buf *b);

/* ---- text synthesis (gen_text.c) ----------------------------------------- */

/* What a record is about: the words its text draws on besides the global
 * Zipf vocabulary. */
struct gen_topic {
    size_t ind[3];      /* industry indexes (classes or groups) */
    size_t nind;
    size_t dis[3];      /* discipline indexes */
    size_t ndis;
    size_t region;      /* region index */
};

enum gen_kind { GEN_EXPERT, GEN_ACADEMICIAN, GEN_SOCIETY, GEN_ENTERPRISE,
                GEN_NEED, GEN_RESULT, GEN_KIND_LAST };

/* Writes a free-text description of about `target` code points (never
 * fewer than 100 nor more than 3,000) into out, in Chinese or English. */
void gen_text(struct gen_taxo *t, struct gen_rng *r, enum gen_kind k,
              const struct gen_topic *tp, int english, size_t target,
              struct gen_buf *out);
/* A short title for a need or a result. */
void gen_title(struct gen_taxo *t, struct gen_rng *r, enum gen_kind k,
               const struct gen_topic *tp, int english, struct gen_buf *out);
/* A topical word (Chinese or English), borrowed from t; counts its use. */
const char *gen_topic_word(struct gen_taxo *t, struct gen_rng *r,
                           const struct gen_topic *tp, int english,
                           size_t *len);
/* A target length in code points for kind k: log-normal around the kind's
 * median, clipped to 100..3,000. */
size_t gen_text_length(struct gen_rng *r, enum gen_kind k);

/* ---- records (gen_records.c) --------------------------------------------- */

struct gen_opts {
    uint64_t records;   /* total records over all kinds */
    uint64_t seed;
    const char *out;    /* output directory (created) */
    const char *taxonomy;
    unsigned english_pct;  /* share of English records, default 10 */
    unsigned queries;   /* bench queries to write, default 1000 */
    int quiet;
};

/* Writes the record files and the bench side files into o->out. Returns 0,
 * or -1 with a message in err. */
int gen_run(const struct gen_opts *o, char *err, size_t n);

#endif
