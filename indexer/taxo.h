/* taxo.h - the shipped taxonomies: GB/T 4754-2017 industries, NSFC
 * disciplines, GB/T 2260 regions. Loaded once, read-only, thread-safe. */
#ifndef TAXO_H
#define TAXO_H

#include <stddef.h>

#include "kx.h"

#ifdef __cplusplus
extern "C" {
#endif

enum taxo_kind { TAXO_INDUSTRY = 0, TAXO_DISCIPLINE, TAXO_REGION, TAXO_KIND_LAST };

typedef struct taxo taxo;

/* Directory with industry/gbt4754_2017.csv, discipline/nsfc.jsonl and
 * region/{provinces,cities,areas,streets_binzhou_3716}.csv: the one given,
 * else $KXMATCH_TAXONOMY, else the build's default. Static or dir; borrowed. */
const char *taxo_default_dir(void);

/* Loads the taxonomies from dir (NULL = taxo_default_dir()). Missing or
 * malformed files give KX_NOTFOUND / KX_CORRUPT with err naming the file
 * and line. *out is the caller's (taxo_free). */
enum kx_status taxo_load(const char *dir, taxo **out, struct kx_error *err);
void taxo_free(taxo *t);

/* 1 if code exists in the taxonomy of kind k.
 * Industries: section letter "C", division "26", group "261", class "2614".
 * Disciplines: "B06", "B0601", "B060101".
 * Regions: 6-digit GB/T 2260 codes (province "370000", city "371600",
 * county "371602") and 9-digit township codes ("371602001"). */
int taxo_valid(const taxo *t, enum taxo_kind k, const char *code);

/* Chinese name of a code, or NULL if unknown. Borrowed from t. */
const char *taxo_name(const taxo *t, enum taxo_kind k, const char *code);

/* English name (disciplines have one; industries and regions do not and
 * give NULL), borrowed from t. */
const char *taxo_name_en(const taxo *t, enum taxo_kind k, const char *code);

/* Official remark / note text for an industry class, or NULL. Borrowed. */
const char *taxo_remark(const taxo *t, enum taxo_kind k, const char *code);

/* The parent of code, or NULL at the top (or if unknown). Borrowed.
 * Industry "2614" -> "261" -> "26" -> "C"; a group with a single class
 * such as "0190" -> "019" -> "01" -> "A" (the group exists although the
 * file lists only its class). Discipline "B060101" -> "B0601" -> "B06".
 * Region "371602001" -> "371602" -> "371600" -> "370000"; cities without
 * counties (441900 东莞) appear once, at city level. */
const char *taxo_parent(const taxo *t, enum taxo_kind k, const char *code);

/* Depth of code: 1 for the top level (section, level-1 discipline,
 * province), increasing downwards; 0 if unknown. */
int taxo_level(const taxo *t, enum taxo_kind k, const char *code);

/* Fills out[] with code and its ancestors, most specific first; returns how
 * many (at most max). Unknown code gives 0. Strings borrowed from t. */
size_t taxo_ancestors(const taxo *t, enum taxo_kind k, const char *code,
                      const char **out, size_t max);

/* The most specific common ancestor of a and b (possibly a or b itself), or
 * NULL when they share none. Borrowed from t. */
const char *taxo_meet(const taxo *t, enum taxo_kind k, const char *a,
                      const char *b);

/* Iterates over every code of kind k in file order: fn(ctx, code, name,
 * name_en (may be NULL), remark (may be NULL), level). Non-zero from fn
 * stops. Used to infer codes from free text. */
typedef int (*taxo_fn)(void *ctx, const char *code, const char *name,
                       const char *name_en, const char *remark, int level);
void taxo_each(const taxo *t, enum taxo_kind k, taxo_fn fn, void *ctx);

/* Number of codes of kind k. */
size_t taxo_count(const taxo *t, enum taxo_kind k);

#ifdef __cplusplus
}
#endif
#endif
