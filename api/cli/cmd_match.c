/* cmd_match.c - `kxmatch match` and `kxmatch eval`: ranking partners for
 * needs (and needs for partners), and measuring how well it ranks. */
#include "cli.h"
#include "eval.h"
#include "match.h"
#include "share.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Parses "expert,academician" into a kind mask. */
static enum kx_status parse_kinds(const char *s, unsigned *mask,
                                  struct kx_error *err)
{
    char buf[256], *save = NULL;

    snprintf(buf, sizeof buf, "%s", s);
    *mask = 0;
    for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        enum kx_kind k = record_kind_parse(p);
        if (k == KX_KIND_LAST || !(MATCH_PARTNER_KINDS & (1u << k)))
            return kx_error_set(err, KX_BADINPUT, "kinds",
                                "\"%s\" is not a partner kind (expected "
                                "expert, academician, society, result)", p);
        *mask |= 1u << k;
    }
    return KX_OK;
}

static void print_text(const struct match_result *r, const taxo *tx)
{
    printf("%s: %zu candidates scored\n", r->subject, r->pool);
    for (size_t i = 0; i < r->n; i++) {
        const struct match_entry *e = &r->v[i];

        printf("%3zu  %.3f  %-20s %s%s%s%s\n", i + 1, e->parts.score, e->key,
               e->name, e->org ? " (" : "", e->org ? e->org : "",
               e->org ? ")" : "");
        printf("       ");
        for (int c = 0; c < MATCH_COMP_LAST; c++)
            if (e->parts.applies[c])
                printf(" %s %.3f", match_comp_name(c), e->parts.weighted[c]);
        if (e->nterms) {
            printf("  words:");
            for (size_t t = 0; t < e->nterms && t < 4; t++)
                printf(" %s", e->terms[t].term);
        }
        if (e->nmeets) {
            const struct match_meet *m = &e->meets[0];
            const char *name = taxo_name(tx, m->kind, m->meet);
            printf("  codes: %s~%s at %s %s", m->need, m->partner, m->meet,
                   name ? name : "");
        }
        printf("  %s", match_region_rel_name(e->region_rel));
        if (e->via[0])
            printf("  via %s", e->via);
        printf("\n");
    }
}

int api_cmd_match(const struct api_common *common, int argc, char **argv)
{
    static const struct option opts[] = {
        API_COMMON_OPTS,
        {"top", required_argument, NULL, 'n'},
        {"kinds", required_argument, NULL, 'k'},
        {"text", required_argument, NULL, 't'},
        {"industry", required_argument, NULL, 'i'},
        {"discipline", required_argument, NULL, 'd'},
        {"region", required_argument, NULL, 'r'},
        {"weights", required_argument, NULL, 'c'},
        {"baseline", no_argument, NULL, 'b'},
        {"confidential", no_argument, NULL, 'C'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct api_common c = *common;
    struct match_request req;
    struct match_result *res = NULL;
    struct api_matcher mt;
    struct kx_error err;
    const char *config = NULL, *key = NULL;
    size_t ni = 0, nd = 0;
    enum kx_kind kind = KX_KIND_NEED;
    enum kx_status st;
    int opt, json = 0, have_text = 0;

    memset(&req, 0, sizeof req);
    kx_error_clear(&err);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (api_common_opt(&c, opt))
            continue;
        switch (opt) {
        case 'n': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 1000) {
                fprintf(stderr, "kxmatch: --top expects 1..1000, got \"%s\"\n",
                        optarg);
                return API_EXIT_BADINPUT;
            }
            req.top = (size_t)v;
            break;
        }
        case 'k':
            if ((st = parse_kinds(optarg, &req.kinds, &err)) != KX_OK)
                return api_fail(st, &err);
            break;
        case 't': req.text = optarg; have_text = 1; break;
        case 'i':
            if (ni + 1 >= MATCH_MAX_CODES)
                goto usage;
            req.industries[ni++] = optarg;
            break;
        case 'd':
            if (nd + 1 >= MATCH_MAX_CODES)
                goto usage;
            req.disciplines[nd++] = optarg;
            break;
        case 'r': req.region = optarg; break;
        case 'c': config = optarg; break;
        case 'b': req.baseline = 1; break;
        case 'C': req.include_confidential = 1; break;
        case 'j': json = 1; break;
        default: goto usage;
        }
    }
    if (optind < argc)
        key = argv[optind++];
    if (optind < argc || (!key && !have_text) || (key && have_text))
        goto usage;
    if (key && (st = record_key_parse(key, &kind, NULL, &err)) != KX_OK)
        return api_fail(st, &err);
    if ((st = api_matcher_open(&c, config, 1, &mt, &err)) != KX_OK)
        return api_fail(st, &err);
    if (kind == KX_KIND_NEED) {
        req.need_key = key;
        st = match_need(mt.ctx, &req, &res, &err);
    } else {
        st = match_partner(mt.ctx, key, &req, &res, &err);
    }
    if (st != KX_OK) {
        api_matcher_close(&mt);
        /* A closed need is input this command cannot take: exit 3, as the
         * README's table says (HTTP answers the same status with 409). */
        return st == KX_CONFLICT ? (api_fail(st, &err), API_EXIT_BADINPUT)
                                 : api_fail(st, &err);
    }
    if (json) {
        json_object *o = match_result_json(res, idx_taxo(mt.x));
        printf("%s\n", json_object_to_json_string_ext(
                           o, JSON_C_TO_STRING_PLAIN |
                                  JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
    } else {
        print_text(res, idx_taxo(mt.x));
    }
    match_result_free(res);
    api_matcher_close(&mt);
    return API_EXIT_OK;
usage:
    return api_usage("match");
}

/* ---- eval --------------------------------------------------------------- */

struct judged_need {
    char *need;
    char *lang;
    char **keys;
    int *grades;
    size_t n;
};

struct judgments {
    struct judged_need *v;
    size_t n;
};

static void judgments_free(struct judgments *j)
{
    for (size_t i = 0; i < j->n; i++) {
        for (size_t k = 0; k < j->v[i].n; k++)
            free(j->v[i].keys[k]);
        free(j->v[i].keys);
        free(j->v[i].grades);
        free(j->v[i].need);
        free(j->v[i].lang);
    }
    free(j->v);
}

/* Reads {"need": KEY, "lang": "zh", "judgments": {KEY: 0..3, ...}} lines. */
static enum kx_status judgments_load(const char *path, struct judgments *j,
                                     struct kx_error *err)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    enum kx_status st = KX_OK;

    memset(j, 0, sizeof *j);
    if (!f)
        return kx_error_set(err, KX_NOTFOUND, "", "cannot open %s", path);
    while (st == KX_OK && getline(&line, &cap, f) > 0) {
        json_object *o, *need, *lang, *js;
        struct judged_need *jn;

        lineno++;
        if (line[0] == '\n')
            continue;
        o = json_tokener_parse(line);
        if (!o || !json_object_object_get_ex(o, "need", &need) ||
            !json_object_object_get_ex(o, "judgments", &js) ||
            !json_object_is_type(js, json_type_object)) {
            st = kx_error_set(err, KX_BADINPUT, "",
                              "expected {\"need\": KEY, \"judgments\": "
                              "{KEY: GRADE}}");
            json_object_put(o);
            break;
        }
        jn = realloc(j->v, (j->n + 1) * sizeof *j->v);
        if (!jn) {
            json_object_put(o);
            st = KX_NOMEM;
            break;
        }
        j->v = jn;
        jn = &j->v[j->n++];
        memset(jn, 0, sizeof *jn);
        jn->need = strdup(json_object_get_string(need));
        jn->lang = strdup(json_object_object_get_ex(o, "lang", &lang)
                              ? json_object_get_string(lang) : "zh");
        size_t cnt = (size_t)json_object_object_length(js);
        jn->keys = calloc(cnt + 1, sizeof *jn->keys);
        jn->grades = calloc(cnt + 1, sizeof *jn->grades);
        if (!jn->need || !jn->lang || !jn->keys || !jn->grades) {
            json_object_put(o);
            st = KX_NOMEM;
            break;
        }
        json_object_object_foreach(js, k, v) {
            int g = json_object_get_int(v);
            if (g < 0 || g > 3) {
                st = kx_error_set(err, KX_BADINPUT, k,
                                  "grade must be 0..3, got %d", g);
                break;
            }
            jn->keys[jn->n] = strdup(k);
            jn->grades[jn->n++] = g;
        }
        json_object_put(o);
    }
    free(line);
    fclose(f);
    if (st != KX_OK && err) {
        snprintf(err->file, sizeof err->file, "%s", path);
        err->line = lineno;
    }
    if (st != KX_OK)
        judgments_free(j);
    return st;
}

struct scores {
    double ndcg, p5, mrr;
    size_t needs;
    double ms_total;
};

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Runs every judged need whose language matches `lang` ("" for all). */
static enum kx_status evaluate(struct api_matcher *mt, const struct judgments *j,
                               int baseline, const char *lang,
                               struct scores *s, struct kx_error *err)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < j->n; i++) {
        const struct judged_need *jn = &j->v[i];
        struct match_judged jd = {(const char **)jn->keys, jn->grades, jn->n};
        struct match_request req;
        struct match_result *res = NULL;
        const char *ranked[10];
        enum kx_status st;
        double t0;

        if (lang[0] && strcmp(lang, jn->lang) != 0)
            continue;
        memset(&req, 0, sizeof req);
        req.need_key = jn->need;
        req.top = 10;
        req.baseline = baseline;
        t0 = now_ms();
        st = match_need(mt->ctx, &req, &res, err);
        s->ms_total += now_ms() - t0;
        if (st != KX_OK)
            return st;
        for (size_t k = 0; k < res->n; k++)
            ranked[k] = res->v[k].key;
        s->ndcg += match_eval_ndcg(&jd, ranked, res->n, 10);
        s->p5 += match_eval_precision(&jd, ranked, res->n, 5, 2);
        s->mrr += match_eval_rr(&jd, ranked, res->n, 2);
        s->needs++;
        match_result_free(res);
    }
    if (s->needs) {
        s->ndcg /= s->needs;
        s->p5 /= s->needs;
        s->mrr /= s->needs;
    }
    return KX_OK;
}

int api_cmd_eval(const struct api_common *common, int argc, char **argv)
{
    static const struct option opts[] = {
        API_COMMON_OPTS,
        {"judgments", required_argument, NULL, 'J'},
        {"weights", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    static const char *const langs[] = {"", "zh", "en"};
    struct api_common c = *common;
    const char *jpath = kx_share_path("eval/judgments.jsonl");
    const char *configs[16];
    size_t nconf = 0;
    struct judgments j;
    struct kx_error err;
    json_object *out = NULL;
    enum kx_status st;
    int opt, json = 0;

    kx_error_clear(&err);
    optind = 1;
    configs[nconf++] = NULL; /* the default */
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (api_common_opt(&c, opt))
            continue;
        switch (opt) {
        case 'J': jpath = optarg; break;
        case 'c':
            if (nconf < 16)
                configs[nconf++] = optarg;
            break;
        case 'j': json = 1; break;
        default:
            return api_usage("eval");
        }
    }
    if ((st = judgments_load(jpath, &j, &err)) != KX_OK)
        return api_fail(st, &err);
    if (json)
        out = json_object_new_array();
    else
        printf("%-28s %-4s %6s %8s %6s %6s %9s\n", "configuration", "lang",
               "needs", "nDCG@10", "P@5", "MRR", "ms/need");
    /* Row 0 is the BM25 baseline, then the default, then each --config. */
    for (size_t r = 0; r <= nconf; r++) {
        struct api_matcher mt;
        const char *label = r == 0 ? "BM25 text only (baseline)"
                            : r == 1 ? "kxmatch (weights.conf)" : configs[r - 1];

        if ((st = api_matcher_open(&c, r >= 2 ? configs[r - 1] : NULL, 1, &mt,
                               &err)) != KX_OK)
            break;
        for (size_t l = 0; l < 3; l++) {
            struct scores s;
            st = evaluate(&mt, &j, r == 0, langs[l], &s, &err);
            if (st != KX_OK)
                break;
            if (!s.needs)
                continue;
            if (json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "configuration", json_object_new_string(label));
                json_object_object_add(o, "lang", json_object_new_string(langs[l][0] ? langs[l] : "all"));
                json_object_object_add(o, "needs", json_object_new_int64((int64_t)s.needs));
                json_object_object_add(o, "ndcg10", json_object_new_double(s.ndcg));
                json_object_object_add(o, "p5", json_object_new_double(s.p5));
                json_object_object_add(o, "mrr", json_object_new_double(s.mrr));
                json_object_array_add(out, o);
            } else {
                printf("%-28.28s %-4s %6zu %8.3f %6.3f %6.3f %9.2f\n", label,
                       langs[l][0] ? langs[l] : "all", s.needs, s.ndcg, s.p5,
                       s.mrr, s.ms_total / s.needs);
            }
        }
        api_matcher_close(&mt);
        if (st != KX_OK)
            break;
    }
    judgments_free(&j);
    if (st != KX_OK) {
        json_object_put(out);
        return api_fail(st, &err);
    }
    if (json) {
        printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
        json_object_put(out);
    }
    return API_EXIT_OK;
}
