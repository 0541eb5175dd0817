/* match_json.c - a match result as JSON, the form the CLI's --json and the
 * HTTP API share (documented in README.md). */
#include "match.h"

#include <json-c/json.h>
#include <math.h>
#include <string.h>

/* Four decimals: enough to compare, short enough to read. */
static json_object *num(double x)
{
    return json_object_new_double(round(x * 10000.0) / 10000.0);
}

static const char *taxo_kind_name(enum taxo_kind k)
{
    return k == TAXO_INDUSTRY ? "industry" : "discipline";
}

static json_object *codes_json(const taxo *tx, enum taxo_kind k,
                               const struct match_codes *c)
{
    json_object *a = json_object_new_array();

    for (size_t i = 0; i < c->n; i++) {
        json_object *o = json_object_new_object();
        const char *name = taxo_name(tx, k, c->code[i]);
        const char *en = taxo_name_en(tx, k, c->code[i]);
        json_object_object_add(o, "code", json_object_new_string(c->code[i]));
        json_object_object_add(o, "name",
                               json_object_new_string(name ? name : ""));
        if (en) /* where the taxonomy's source has English names */
            json_object_object_add(o, "name_en", json_object_new_string(en));
        json_object_object_add(o, "inferred",
                               json_object_new_boolean(c->inferred[i]));
        json_object_array_add(a, o);
    }
    return a;
}

static json_object *why_json(const struct match_entry *e, const taxo *tx)
{
    json_object *why = json_object_new_object();
    json_object *comp = json_object_new_object(), *raw = json_object_new_object();
    json_object *terms = json_object_new_array(), *codes = json_object_new_array();
    json_object *region = json_object_new_object();

    for (int i = 0; i < MATCH_COMP_LAST; i++) {
        if (!e->parts.applies[i])
            continue;
        json_object_object_add(comp, match_comp_name(i),
                               num(e->parts.weighted[i]));
        json_object_object_add(raw, match_comp_name(i), num(e->parts.raw[i]));
    }
    json_object_object_add(why, "components", comp);
    json_object_object_add(why, "raw", raw);
    for (size_t i = 0; i < e->nterms; i++) {
        json_object *t = json_object_new_object();
        json_object_object_add(t, "term", json_object_new_string(e->terms[i].term));
        json_object_object_add(t, "share", num(e->terms[i].share));
        json_object_array_add(terms, t);
    }
    json_object_object_add(why, "terms", terms);
    for (size_t i = 0; i < e->nmeets; i++) {
        const struct match_meet *m = &e->meets[i];
        const char *name = m->meet ? taxo_name(tx, m->kind, m->meet) : NULL;
        json_object *c = json_object_new_object();

        json_object_object_add(c, "taxonomy",
                               json_object_new_string(taxo_kind_name(m->kind)));
        json_object_object_add(c, "need", json_object_new_string(m->need));
        json_object_object_add(c, "partner",
                               json_object_new_string(m->partner ? m->partner : ""));
        json_object_object_add(c, "meet",
                               json_object_new_string(m->meet ? m->meet : ""));
        json_object_object_add(c, "meet_name",
                               json_object_new_string(name ? name : ""));
        if (m->meet && (name = taxo_name_en(tx, m->kind, m->meet)))
            json_object_object_add(c, "meet_name_en",
                                   json_object_new_string(name));
        json_object_object_add(c, "level", json_object_new_int(m->level));
        json_object_object_add(c, "credit", num(m->credit));
        json_object_object_add(c, "inferred", json_object_new_boolean(m->inferred));
        json_object_array_add(codes, c);
    }
    json_object_object_add(why, "codes", codes);
    json_object_object_add(region, "relation",
                           json_object_new_string(match_region_rel_name(e->region_rel)));
    json_object_object_add(region, "partner", json_object_new_string(e->region));
    json_object_object_add(why, "region", region);
    if (e->via[0])
        json_object_object_add(why, "via", json_object_new_string(e->via));
    json_object_object_add(why, "evidence", num(e->evidence));
    return why;
}

json_object *match_result_json(const struct match_result *r, const taxo *tx)
{
    json_object *o = json_object_new_object(), *a = json_object_new_array();
    json_object *codes = json_object_new_object();

    json_object_object_add(o, "subject", json_object_new_string(r->subject));
    json_object_object_add(o, "pool", json_object_new_int64((int64_t)r->pool));
    json_object_object_add(codes, "industries",
                           codes_json(tx, TAXO_INDUSTRY, &r->industries));
    json_object_object_add(codes, "disciplines",
                           codes_json(tx, TAXO_DISCIPLINE, &r->disciplines));
    json_object_object_add(o, "codes", codes);
    if (r->evidence > 0) {
        /* a need's: below 1 it says too little to match well */
        json_object_object_add(o, "evidence", num(r->evidence));
        json_object_object_add(o, "thin", json_object_new_boolean(r->evidence < 1));
    }
    for (size_t i = 0; i < r->n; i++) {
        const struct match_entry *e = &r->v[i];
        json_object *m = json_object_new_object();

        json_object_object_add(m, "key", json_object_new_string(e->key));
        json_object_object_add(m, "kind",
                               json_object_new_string(record_kind_name(e->kind)));
        json_object_object_add(m, "name", json_object_new_string(e->name ? e->name : ""));
        if (e->org)
            json_object_object_add(m, "org", json_object_new_string(e->org));
        json_object_object_add(m, "score", num(e->parts.score));
        json_object_object_add(m, "why", why_json(e, tx));
        json_object_array_add(a, m);
    }
    json_object_object_add(o, "matches", a);
    return o;
}
