/* cli_matcher.c - what every matching command opens: the weights, the
 * index, the code inference and a match context over them. */
#include "cli.h"

#include <string.h>
#include <unistd.h>

enum kx_status api_matcher_config(const char *config, struct match_config *cfg,
                                  struct kx_error *err)
{
    enum kx_status st;

    match_config_default(cfg);
    st = match_config_load(match_config_default_path(), cfg, err);
    if (st == KX_NOTFOUND) /* the defaults are compiled in as well */
        st = KX_OK;
    if (st == KX_OK && config)
        st = match_config_load(config, cfg, err);
    return st;
}

enum kx_status api_matcher_open(const struct api_common *c, const char *config,
                                int with_ctx, struct api_matcher *mt,
                                struct kx_error *err)
{
    enum kx_status st;

    memset(mt, 0, sizeof *mt);
    if ((st = idx_open(c->db, IDX_READ, c->taxonomy, &mt->x, err)) != KX_OK)
        return st;
    if (!with_ctx)
        return KX_OK;
    st = api_matcher_config(config, &mt->cfg, err);
    if (st == KX_OK)
        st = match_infer_new(idx_taxo(mt->x), idx_tokenizer(mt->x),
                             &mt->infer);
    if (st == KX_OK)
        st = match_ctx_new(idx_store(mt->x), idx_xap(mt->x),
                           idx_tokenizer(mt->x), idx_taxo(mt->x), mt->infer,
                           &mt->cfg, &mt->ctx);
    if (st != KX_OK)
        api_matcher_close(mt);
    return st;
}

enum kx_status api_matcher_workers(struct api_matcher *mt, size_t n)
{
    enum kx_status st = KX_OK;

    if (!mt->ctx)
        return KX_INTERNAL;
    if (n == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? (size_t)cores : 1;
    }
    if (n > API_MATCHER_MAX_WORKERS)
        n = API_MATCHER_MAX_WORKERS;
    mt->ctxs[0] = mt->ctx;
    if (mt->nctxs == 0)
        mt->nctxs = 1;
    while (mt->nctxs < n && st == KX_OK) {
        size_t i = mt->nctxs;

        if ((st = idx_xap_reader(mt->x, &mt->dbs[i])) == KX_OK &&
            (st = text_tokenizer_new(&mt->toks[i])) == KX_OK &&
            (st = match_ctx_new(idx_store(mt->x), mt->dbs[i], mt->toks[i],
                                idx_taxo(mt->x), mt->infer, &mt->cfg,
                                &mt->ctxs[i])) == KX_OK)
            mt->nctxs++;
    }
    return st;
}

void api_matcher_close(struct api_matcher *mt)
{
    /* the workers first: they borrow the index, inference and weights */
    for (size_t i = 1; i < API_MATCHER_MAX_WORKERS; i++) {
        match_ctx_free(mt->ctxs[i]);
        text_tokenizer_free(mt->toks[i]);
        xap_close(mt->dbs[i]);
    }
    match_ctx_free(mt->ctx);
    match_infer_free(mt->infer);
    idx_close(mt->x);
    memset(mt, 0, sizeof *mt);
}
