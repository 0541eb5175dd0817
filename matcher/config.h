/* config.h - the matcher's weights, read from matcher/weights.conf (the
 * defaults are compiled in as well, so a missing file is not fatal). */
#ifndef MATCH_CONFIG_H
#define MATCH_CONFIG_H

#include "kx.h"

#ifdef __cplusplus
extern "C" {
#endif

struct match_config {
    double w_text, w_taxonomy, w_region, w_profile;
    double q_name, q_tags, q_text, q_code;
    int q_max_terms;
    double q_boost_df;
    int q_boost_min;
    double bm25_k1, bm25_b, text_tau;
    int rf_docs, rf_terms;
    double rf_weight;
    int pool;
    double taxo_gamma, taxo_inferred, taxo_industry_share;
    double region_township, region_county, region_city, region_province,
        region_elsewhere;
    double profile_academician, profile_senior, profile_associate,
        profile_other, society_member, result_trl_share;
    int per_org;
    double thin_evidence;
};

/* Fills c with the defaults (the values in weights.conf). */
void match_config_default(struct match_config *c);

/* Path of the shipped weights.conf: $KXMATCH_WEIGHTS, else the build's
 * default. Static or environment string; borrowed. */
const char *match_config_default_path(void);

/* Reads path over the values already in c. Unknown keys, bad numbers and
 * out-of-range values give KX_BADINPUT with err naming file, line and key;
 * a missing file gives KX_NOTFOUND. c is unchanged on failure. */
enum kx_status match_config_load(const char *path, struct match_config *c,
                                 struct kx_error *err);

/* Sets one key from text ("w_text", "0.4"); KX_BADINPUT if unknown or out
 * of range. Used by eval for baselines and by the loader. */
enum kx_status match_config_set(struct match_config *c, const char *key,
                                const char *value, struct kx_error *err);

#ifdef __cplusplus
}
#endif
#endif
