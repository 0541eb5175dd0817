/* xap.cc - the C API of xap.h over Xapian 1.4: no C++ exception crosses it. */
#include "xap.h"

#include <xapian.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <sys/stat.h>

/* Glass refuses (at replace/commit time, far from the caller) any term longer
 * than this; we drop such terms when they are added instead. */
static const size_t xap_max_term = 245;

/* Messages of failed xap_open calls: there is no handle to keep them on. */
static thread_local std::string open_err;

/* The facet values of the documents in one value slot, each decoded once
 * per revision, when a run first counts that document: a value is the
 * document's items joined with '\n' (a code and its ancestors), most
 * documents share one of few values, and reading a value from Xapian is a
 * B-tree walk. Measured with `kxmatch bench search --facets` at 100k
 * records: reading and splitting values was 63% of a search with facets.
 * Loading a whole slot at once instead took 3.8 s at 1M records, on the
 * first search after every change. */
static const uint32_t facet_unread = UINT32_MAX;

struct facet_slot {
    std::vector<uint32_t> value_of; /* docid -> value id; 0: none */
    std::vector<std::vector<uint32_t>> items_of; /* value id -> item ids, each once */
    std::unordered_map<std::string, uint32_t> value_ids;
    /* Scratch of the run in progress: counts per value id, kept zero
     * between runs by resetting the ones touched. */
    std::vector<unsigned long> count;
    std::vector<uint32_t> touched;
};

struct facet_cache {
    std::map<unsigned, facet_slot> slots; /* the slots loaded so far */
    std::vector<std::string> items;       /* item id -> item */
    std::unordered_map<std::string, uint32_t> item_ids;

    /* Whenever the handle may see other documents: reopen, replace, delete. */
    void clear()
    {
        slots.clear();
        items.clear();
        item_ids.clear();
    }
};

struct xap_db {
    /* rd is the handle every read goes through; for a writer it is the
     * WritableDatabase itself and wr aliases it. */
    std::unique_ptr<Xapian::Database> rd;
    Xapian::WritableDatabase *wr = nullptr;
    /* Writes always happen inside a flushed transaction, so that xap_close
     * can discard them: a plain WritableDatabase commits when closed. */
    bool in_txn = false;
    std::string err;
    facet_cache facets;
};

struct xap_doc {
    Xapian::Document doc;
    std::string scratch; /* reused per term: keeps its capacity */
};

struct xap_phrase {
    std::vector<std::string> terms;
    double weight;
};

struct xap_query {
    std::vector<std::string> terms; /* ranking terms, insertion order */
    std::vector<double> weights;    /* parallel to terms */
    std::unordered_map<std::string, size_t> index; /* term -> position */
    std::vector<xap_phrase> phrases;
    std::map<int, std::vector<std::string>> filters; /* ordered: stable query */
    std::vector<std::string> excludes;
    std::vector<std::vector<std::string>> exclude_sets; /* AND of each */
    std::vector<unsigned> facets;
    unsigned facet_limit = 0; /* 0: facets over every match */
    unsigned min_match = 0;
    bool match_all = false;
    int sort_slot = -1;       /* -1: by relevance */
    bool sort_descending = false;
    unsigned long boost_above = 0; /* 0: every term may bring a document in */
    double k1 = 1.2;
    double b = 0.75;
};

struct xap_facet {
    unsigned slot;
    std::vector<std::string> items;
    std::vector<const char *> ptrs; /* into items, built once items is final */
    std::vector<unsigned long> counts;
};

struct xap_mset {
    /* Shares the searched database, for termlists and document lengths. */
    Xapian::Database db;
    std::vector<Xapian::docid> ids;
    std::vector<double> weights;
    std::vector<std::string> data;
    std::vector<std::string> terms;  /* the query's ranking terms */
    std::vector<size_t> term_sorted; /* indices into terms, by term bytes */
    std::vector<xap_facet> facets;
    unsigned long facet_docs = 0; /* documents the facets counted */
    bool facets_exact = true;     /* ... and that was every match */
    unsigned long estimated = 0;
    bool estimated_exact = false; /* lower bound == upper bound */
    double max_possible = 0.0;
};

struct xap_stemmer {
    Xapian::Stem stem;
    std::string scratch;
};

/* ---- error mapping ------------------------------------------------------ */

static enum kx_status keep_msg(std::string *err, enum kx_status st,
                               const char *msg) noexcept
{
    if (!err)
        return st;
    try {
        err->assign(msg);
    } catch (...) {
        err->clear();
    }
    return st;
}

static enum kx_status keep(std::string *err, enum kx_status st,
                           const Xapian::Error &e) noexcept
{
    if (!err)
        return st;
    try {
        const std::string &ctx = e.get_context();
        const char *sys = e.get_error_string();

        err->assign(e.get_type());
        err->append(": ");
        err->append(e.get_msg());
        if (!ctx.empty() || (sys && *sys)) {
            err->append(" (");
            err->append(ctx);
            if (!ctx.empty() && sys && *sys)
                err->append("; ");
            if (sys)
                err->append(sys);
            err->append(")");
        }
    } catch (...) {
        err->clear();
    }
    return st;
}

/* Runs body, turning every exception into a status (and a message in *err
 * when err is not NULL). The order of the handlers matters: the Xapian
 * classes are caught most derived first. */
template <typename Body>
static enum kx_status guard(std::string *err, Body body) noexcept
{
    try {
        return body();
    } catch (const Xapian::DatabaseLockError &e) {
        return keep(err, KX_LOCKED, e);
    } catch (const Xapian::DatabaseVersionError &e) {
        return keep(err, KX_CORRUPT, e);
    } catch (const Xapian::DatabaseNotFoundError &e) {
        return keep(err, KX_NOTFOUND, e);
    } catch (const Xapian::DatabaseCorruptError &e) {
        return keep(err, KX_CORRUPT, e);
    } catch (const Xapian::DocNotFoundError &e) {
        return keep(err, KX_NOTFOUND, e);
    } catch (const Xapian::Error &e) {
        return keep(err, KX_XAPIAN, e);
    } catch (const std::bad_alloc &) {
        return keep_msg(err, KX_NOMEM, "out of memory");
    } catch (const std::exception &e) {
        return keep_msg(err, KX_INTERNAL, e.what());
    } catch (...) {
        return keep_msg(err, KX_INTERNAL, "unknown C++ exception");
    }
}

static bool path_missing(const char *path)
{
    struct stat st;

    return stat(path, &st) != 0 && errno == ENOENT;
}

/* malloc'd NUL-terminated copy, for results the caller free()s. */
static char *dup_bytes(const std::string &s)
{
    char *p = static_cast<char *>(malloc(s.size() + 1));

    if (!p)
        throw std::bad_alloc();
    memcpy(p, s.data(), s.size());
    p[s.size()] = '\0';
    return p;
}

static bool valid_weight(double w)
{
    return std::isfinite(w) && w > 0.0;
}

static void ensure_txn(xap_db *db)
{
    if (!db->in_txn) {
        db->wr->begin_transaction(true);
        db->in_txn = true;
    }
}

/* ---- database ----------------------------------------------------------- */

extern "C" enum kx_status xap_open(const char *path, int mode, xap_db **out)
{
    xap_db *db = nullptr;
    enum kx_status st;

    if (out)
        *out = nullptr;
    if (!path || !*path || !out ||
        (mode != XAP_OPEN_READ && mode != XAP_OPEN_WRITE &&
         mode != XAP_OPEN_SCRATCH))
        return keep_msg(&open_err, KX_BADINPUT,
                        "xap_open: need a path, an out pointer and a mode");
    st = guard(&open_err, [&]() -> enum kx_status {
        std::unique_ptr<xap_db> h(new xap_db());

        if (mode != XAP_OPEN_READ) {
            Xapian::WritableDatabase *w = new Xapian::WritableDatabase(
                path, Xapian::DB_CREATE_OR_OPEN |
                          (mode == XAP_OPEN_SCRATCH ? Xapian::DB_NO_SYNC : 0));
            h->rd.reset(w);
            h->wr = w;
        } else {
            try {
                h->rd.reset(new Xapian::Database(path));
            } catch (const Xapian::DatabaseLockError &) {
                throw;
            } catch (const Xapian::DatabaseVersionError &) {
                throw;
            } catch (const Xapian::DatabaseOpeningError &e) {
                /* Older releases say "opening error" for a missing
                 * directory; to the caller that is simply not there. */
                if (path_missing(path))
                    return keep(&open_err, KX_NOTFOUND, e);
                throw;
            }
        }
        db = h.release();
        return KX_OK;
    });
    if (st == KX_OK)
        *out = db;
    return st;
}

extern "C" enum kx_status xap_compact(const char *const *srcs, size_t n,
                                      const char *dst)
{
    if (!srcs || n == 0 || !dst || !*dst)
        return keep_msg(&open_err, KX_BADINPUT,
                        "xap_compact: need sources and a destination");
    for (size_t i = 0; i < n; i++)
        if (!srcs[i] || !*srcs[i])
            return keep_msg(&open_err, KX_BADINPUT,
                            "xap_compact: empty source path");
    if (!path_missing(dst))
        return keep_msg(&open_err, KX_EXISTS,
                        "xap_compact: the destination already exists");
    return guard(&open_err, [&]() -> enum kx_status {
        Xapian::Database all;

        for (size_t i = 0; i < n; i++)
            all.add_database(Xapian::Database(srcs[i]));
        all.compact(dst);
        return KX_OK;
    });
}

extern "C" void xap_close(xap_db *db)
{
    if (!db)
        return;
    try {
        if (db->wr) {
            /* Cancelling drops the uncommitted changes; close() then
             * releases the lock even if an mset still shares the db. */
            if (db->in_txn) {
                db->in_txn = false;
                db->wr->cancel_transaction();
            }
            db->wr->close();
        }
    } catch (...) {
        /* Nothing a caller could do: the handle goes away regardless. */
    }
    delete db;
}

extern "C" const char *xap_errmsg(const xap_db *db)
{
    return db ? db->err.c_str() : open_err.c_str();
}

extern "C" enum kx_status xap_reopen(xap_db *db)
{
    if (!db)
        return KX_BADINPUT;
    db->err.clear();
    if (db->wr)
        return KX_OK;
    return guard(&db->err, [&]() -> enum kx_status {
        if (db->rd->reopen())
            db->facets.clear();
        return KX_OK;
    });
}

extern "C" enum kx_status xap_doccount(xap_db *db, unsigned long *out)
{
    if (out)
        *out = 0;
    if (!db || !out)
        return KX_BADINPUT;
    db->err.clear();
    return guard(&db->err, [&]() -> enum kx_status {
        *out = db->rd->get_doccount();
        return KX_OK;
    });
}

extern "C" enum kx_status xap_termfreq(xap_db *db, const char *term,
                                       unsigned long *out)
{
    if (out)
        *out = 0;
    if (!db || !out)
        return KX_BADINPUT;
    db->err.clear();
    /* The empty term means "every document" to Xapian. */
    if (!term || !*term)
        return keep_msg(&db->err, KX_BADINPUT, "xap_termfreq: empty term");
    return guard(&db->err, [&]() -> enum kx_status {
        *out = db->rd->get_termfreq(term);
        return KX_OK;
    });
}

extern "C" enum kx_status xap_meta_get(xap_db *db, const char *key,
                                       char **out)
{
    if (out)
        *out = nullptr;
    if (!db || !out)
        return KX_BADINPUT;
    db->err.clear();
    if (!key || !*key)
        return keep_msg(&db->err, KX_BADINPUT, "xap_meta_get: empty key");
    return guard(&db->err, [&]() -> enum kx_status {
        *out = dup_bytes(db->rd->get_metadata(key));
        return KX_OK;
    });
}

extern "C" enum kx_status xap_meta_set(xap_db *db, const char *key,
                                       const char *val)
{
    if (!db)
        return KX_BADINPUT;
    db->err.clear();
    if (!db->wr)
        return keep_msg(&db->err, KX_BADINPUT,
                        "xap_meta_set: database opened read-only");
    if (!key || !*key || !val)
        return keep_msg(&db->err, KX_BADINPUT,
                        "xap_meta_set: need a key and a value");
    return guard(&db->err, [&]() -> enum kx_status {
        ensure_txn(db);
        db->wr->set_metadata(key, val);
        return KX_OK;
    });
}

/* Whether doc already carries term: a walk over its (in-memory) termlist. */
static bool doc_has_term(const Xapian::Document &doc, const std::string &term)
{
    Xapian::TermIterator t = doc.termlist_begin();

    t.skip_to(term);
    return t != doc.termlist_end() && *t == term;
}

/* A deep copy of src (Xapian's Document copy shares its contents), so that
 * adding the id term does not change the caller's const document. */
static Xapian::Document doc_clone(const Xapian::Document &src)
{
    Xapian::Document c;

    c.set_data(src.get_data());
    for (Xapian::ValueIterator v = src.values_begin(); v != src.values_end();
         ++v)
        c.add_value(v.get_valueno(), *v);
    for (Xapian::TermIterator t = src.termlist_begin();
         t != src.termlist_end(); ++t) {
        const std::string term = *t;

        for (Xapian::PositionIterator p = t.positionlist_begin();
             p != t.positionlist_end(); ++p)
            c.add_posting(term, *p, 0);
        c.add_term(term, t.get_wdf());
    }
    return c;
}

extern "C" enum kx_status xap_replace(xap_db *db, const char *idterm,
                                      const xap_doc *doc)
{
    size_t n;

    if (!db)
        return KX_BADINPUT;
    db->err.clear();
    if (!db->wr)
        return keep_msg(&db->err, KX_BADINPUT,
                        "xap_replace: database opened read-only");
    /* An empty unique term would name every document in the database. */
    n = idterm ? strlen(idterm) : 0;
    if (!doc || n == 0 || n > xap_max_term)
        return keep_msg(&db->err, KX_BADINPUT,
                        "xap_replace: need a document and an id term of "
                        "1 to 245 bytes");
    return guard(&db->err, [&]() -> enum kx_status {
        const std::string id(idterm, n);

        ensure_txn(db);
        db->facets.clear();
        /* The stored document must carry its id term, or the next replace
         * or delete would not find it. */
        if (doc_has_term(doc->doc, id)) {
            db->wr->replace_document(id, doc->doc);
        } else {
            Xapian::Document c = doc_clone(doc->doc);

            c.add_boolean_term(id);
            db->wr->replace_document(id, c);
        }
        return KX_OK;
    });
}

extern "C" enum kx_status xap_delete(xap_db *db, const char *idterm)
{
    if (!db)
        return KX_BADINPUT;
    db->err.clear();
    if (!db->wr)
        return keep_msg(&db->err, KX_BADINPUT,
                        "xap_delete: database opened read-only");
    /* delete_document("") would delete every document. */
    if (!idterm || !*idterm)
        return keep_msg(&db->err, KX_BADINPUT, "xap_delete: empty id term");
    if (strlen(idterm) > xap_max_term)
        return KX_OK; /* no document can carry it */
    return guard(&db->err, [&]() -> enum kx_status {
        ensure_txn(db);
        db->facets.clear();
        db->wr->delete_document(idterm);
        return KX_OK;
    });
}

extern "C" enum kx_status xap_commit(xap_db *db)
{
    if (!db)
        return KX_BADINPUT;
    db->err.clear();
    if (!db->wr)
        return keep_msg(&db->err, KX_BADINPUT,
                        "xap_commit: database opened read-only");
    if (!db->in_txn)
        return KX_OK; /* nothing changed since the last commit */
    return guard(&db->err, [&]() -> enum kx_status {
        /* Whatever the outcome, the transaction is over (Xapian's rule). */
        db->in_txn = false;
        db->wr->commit_transaction();
        return KX_OK;
    });
}

extern "C" enum kx_status xap_doc_data(xap_db *db, const char *idterm,
                                       char **out, size_t *len)
{
    if (out)
        *out = nullptr;
    if (len)
        *len = 0;
    if (!db || !out)
        return KX_BADINPUT;
    db->err.clear();
    if (!idterm || !*idterm)
        return keep_msg(&db->err, KX_BADINPUT, "xap_doc_data: empty id term");
    return guard(&db->err, [&]() -> enum kx_status {
        Xapian::PostingIterator p = db->rd->postlist_begin(idterm);
        std::string data;

        if (p == db->rd->postlist_end(idterm))
            return KX_NOTFOUND;
        data = db->rd->get_document(*p).get_data();
        *out = dup_bytes(data);
        if (len)
            *len = data.size();
        return KX_OK;
    });
}

/* ---- documents ---------------------------------------------------------- */

extern "C" enum kx_status xap_doc_new(xap_doc **out)
{
    if (!out)
        return KX_BADINPUT;
    *out = nullptr;
    return guard(nullptr, [&]() -> enum kx_status {
        *out = new xap_doc();
        return KX_OK;
    });
}

extern "C" void xap_doc_free(xap_doc *doc)
{
    delete doc;
}

extern "C" enum kx_status xap_doc_add_term(xap_doc *doc, const char *term,
                                           size_t len, unsigned pos,
                                           unsigned wdf_inc)
{
    if (!doc || !term || len == 0)
        return KX_BADINPUT;
    if (len > xap_max_term)
        return KX_OK; /* skipped: the database could not store it */
    return guard(nullptr, [&]() -> enum kx_status {
        doc->scratch.assign(term, len);
        if (pos)
            doc->doc.add_posting(doc->scratch, pos, wdf_inc);
        else
            doc->doc.add_term(doc->scratch, wdf_inc);
        return KX_OK;
    });
}

extern "C" enum kx_status xap_doc_add_boolean(xap_doc *doc, const char *term)
{
    size_t len;

    if (!doc || !term || !*term)
        return KX_BADINPUT;
    len = strlen(term);
    if (len > xap_max_term)
        return KX_OK; /* skipped, as in xap_doc_add_term */
    return guard(nullptr, [&]() -> enum kx_status {
        doc->scratch.assign(term, len);
        doc->doc.add_boolean_term(doc->scratch);
        return KX_OK;
    });
}

extern "C" enum kx_status xap_doc_set_value(xap_doc *doc, unsigned slot,
                                            const char *v, size_t n)
{
    if (!doc || (!v && n) || slot == Xapian::BAD_VALUENO)
        return KX_BADINPUT;
    return guard(nullptr, [&]() -> enum kx_status {
        doc->doc.add_value(slot, n ? std::string(v, n) : std::string());
        return KX_OK;
    });
}

extern "C" enum kx_status xap_doc_set_value_num(xap_doc *doc, unsigned slot,
                                                double v)
{
    if (!doc || slot == Xapian::BAD_VALUENO || std::isnan(v))
        return KX_BADINPUT;
    return guard(nullptr, [&]() -> enum kx_status {
        doc->doc.add_value(slot, Xapian::sortable_serialise(v));
        return KX_OK;
    });
}

extern "C" enum kx_status xap_doc_set_data(xap_doc *doc, const char *data,
                                           size_t n)
{
    if (!doc || (!data && n))
        return KX_BADINPUT;
    return guard(nullptr, [&]() -> enum kx_status {
        doc->doc.set_data(n ? std::string(data, n) : std::string());
        return KX_OK;
    });
}

/* ---- queries ------------------------------------------------------------ */

extern "C" enum kx_status xap_query_new(xap_query **out)
{
    if (!out)
        return KX_BADINPUT;
    *out = nullptr;
    return guard(nullptr, [&]() -> enum kx_status {
        *out = new xap_query();
        return KX_OK;
    });
}

extern "C" void xap_query_free(xap_query *q)
{
    delete q;
}

extern "C" enum kx_status xap_query_add_term(xap_query *q, const char *term,
                                             double weight)
{
    /* The empty term is Xapian's match-everything. */
    if (!q || !term || !*term || !valid_weight(weight))
        return KX_BADINPUT;
    return guard(nullptr, [&]() -> enum kx_status {
        std::string t(term);
        auto it = q->index.find(t);

        if (it != q->index.end()) {
            q->weights[it->second] += weight;
            return KX_OK;
        }
        /* Reserve first, so that once the index has the term nothing can
         * throw and the three containers stay in step. */
        q->terms.reserve(q->terms.size() + 1);
        q->weights.reserve(q->weights.size() + 1);
        q->index.emplace(t, q->terms.size());
        q->terms.push_back(std::move(t));
        q->weights.push_back(weight);
        return KX_OK;
    });
}

extern "C" enum kx_status xap_query_set_boost_above(xap_query *q,
                                                    unsigned long tf)
{
    if (!q)
        return KX_BADINPUT;
    q->boost_above = tf;
    return KX_OK;
}

extern "C" enum kx_status xap_query_add_phrase(xap_query *q,
                                               const char *const *terms,
                                               size_t n, double weight)
{
    if (!q || !terms || n == 0 || !valid_weight(weight))
        return KX_BADINPUT;
    for (size_t i = 0; i < n; i++)
        if (!terms[i] || !*terms[i])
            return KX_BADINPUT;
    return guard(nullptr, [&]() -> enum kx_status {
        xap_phrase ph;

        ph.terms.assign(terms, terms + n);
        ph.weight = weight;
        q->phrases.push_back(std::move(ph));
        return KX_OK;
    });
}

extern "C" enum kx_status xap_query_add_filter(xap_query *q, int group,
                                               const char *term)
{
    if (!q || !term || !*term)
        return KX_BADINPUT;
    return guard(nullptr, [&]() -> enum kx_status {
        q->filters[group].emplace_back(term);
        return KX_OK;
    });
}

extern "C" enum kx_status xap_query_add_exclude_all(xap_query *q,
                                                   const char *const *terms,
                                                   size_t n)
{
    if (!q || !terms || n == 0)
        return KX_BADINPUT;
    for (size_t i = 0; i < n; i++)
        if (!terms[i] || !*terms[i])
            return KX_BADINPUT;
    return guard(nullptr, [&]() -> enum kx_status {
        q->exclude_sets.emplace_back(terms, terms + n);
        return KX_OK;
    });
}

extern "C" enum kx_status xap_query_add_exclude(xap_query *q, const char *term)
{
    if (!q || !term || !*term)
        return KX_BADINPUT;
    return guard(nullptr, [&]() -> enum kx_status {
        q->excludes.emplace_back(term);
        return KX_OK;
    });
}

extern "C" enum kx_status xap_query_set_min_match(xap_query *q, unsigned n)
{
    if (!q)
        return KX_BADINPUT;
    q->min_match = n;
    return KX_OK;
}

extern "C" enum kx_status xap_query_set_match_all(xap_query *q, int on)
{
    if (!q)
        return KX_BADINPUT;
    q->match_all = on != 0;
    return KX_OK;
}

extern "C" enum kx_status xap_query_set_sort(xap_query *q, int slot,
                                             int descending)
{
    if (!q || slot < -1 || slot >= XAP_SLOT_LAST)
        return KX_BADINPUT;
    q->sort_slot = slot;
    q->sort_descending = descending != 0;
    return KX_OK;
}

extern "C" enum kx_status xap_query_set_bm25(xap_query *q, double k1, double b)
{
    /* The ranges BM25Weight accepts; checked here so nothing throws later. */
    if (!q || !std::isfinite(k1) || k1 < 0.0 || !(b >= 0.0 && b <= 1.0))
        return KX_BADINPUT;
    q->k1 = k1;
    q->b = b;
    return KX_OK;
}

extern "C" enum kx_status xap_query_add_facet(xap_query *q, unsigned slot)
{
    if (!q || slot == Xapian::BAD_VALUENO)
        return KX_BADINPUT;
    return guard(nullptr, [&]() -> enum kx_status {
        if (std::find(q->facets.begin(), q->facets.end(), slot) ==
            q->facets.end())
            q->facets.push_back(slot);
        return KX_OK;
    });
}

extern "C" enum kx_status xap_query_set_facet_limit(xap_query *q,
                                                    unsigned n)
{
    if (!q)
        return KX_BADINPUT;
    q->facet_limit = n;
    return KX_OK;
}

/* The cache of slot, empty at first. */
static facet_slot &facet_slot_get(xap_db &db, unsigned slot)
{
    auto found = db.facets.slots.find(slot);

    if (found != db.facets.slots.end())
        return found->second;

    facet_slot fs;

    fs.value_of.assign(static_cast<size_t>(db.rd->get_lastdocid()) + 1,
                       facet_unread);
    fs.items_of.emplace_back(); /* value id 0: no value */
    fs.count.push_back(0);
    return db.facets.slots.emplace(slot, std::move(fs)).first->second;
}

/* The value id of val in fs, interning it and its items if new. */
static uint32_t facet_intern(facet_cache &c, facet_slot &fs,
                             const std::string &val)
{
    std::vector<uint32_t> items;

    if (val.empty())
        return 0;
    auto found = fs.value_ids.find(val);
    if (found != fs.value_ids.end())
        return found->second;
    /* A document counts once per item, even when two of its codes share an
     * ancestor and the value holds it twice. */
    for (size_t start = 0; start < val.size();) {
        size_t end = val.find('\n', start);

        if (end == std::string::npos)
            end = val.size();
        if (end > start) {
            auto it = c.item_ids.emplace(val.substr(start, end - start),
                                         static_cast<uint32_t>(c.items.size()));
            if (it.second)
                c.items.push_back(it.first->first);
            items.push_back(it.first->second);
        }
        start = end + 1;
    }
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
    const uint32_t id = static_cast<uint32_t>(fs.items_of.size());
    fs.items_of.push_back(std::move(items));
    fs.count.push_back(0);
    fs.value_ids.emplace(val, id);
    return id;
}

/* Counts facet values of documents, one run at a time. */
class facet_counter {
  public:
    facet_counter(xap_db &db, const std::vector<unsigned> &slots) : db_(db)
    {
        for (unsigned slot : slots) {
            facet_slot &fs = facet_slot_get(db, slot);

            /* Left over by a run that threw half way. */
            for (uint32_t v : fs.touched)
                fs.count[v] = 0;
            fs.touched.clear();
            slots_.push_back(&fs);
            slots_no_.push_back(slot);
        }
    }

    /* Counts a document the matcher hands over (doc streams its values). */
    void add(const Xapian::Document &doc)
    {
        const Xapian::docid did = doc.get_docid();

        ++docs;
        for (size_t i = 0; i < slots_.size(); i++) {
            facet_slot &fs = *slots_[i];

            if (did >= fs.value_of.size())
                continue;
            if (fs.value_of[did] == facet_unread)
                fs.value_of[did] =
                    facet_intern(db_.facets, fs, doc.get_value(slots_no_[i]));
            tally(fs, fs.value_of[did]);
        }
    }

    /* Counts documents by id: the values not read yet are read with one
     * forward walk of each slot's value stream. */
    void add(std::vector<Xapian::docid> ids)
    {
        const Xapian::Database &d = *db_.rd;

        std::sort(ids.begin(), ids.end());
        docs += ids.size();
        for (size_t i = 0; i < slots_.size(); i++) {
            facet_slot &fs = *slots_[i];
            const Xapian::valueno slot = slots_no_[i];
            Xapian::ValueIterator v;
            bool open = false;

            for (Xapian::docid did : ids) {
                if (did >= fs.value_of.size())
                    continue;
                if (fs.value_of[did] == facet_unread) {
                    if (!open) {
                        v = d.valuestream_begin(slot);
                        open = true;
                    }
                    if (v != d.valuestream_end(slot))
                        v.skip_to(did);
                    fs.value_of[did] =
                        v != d.valuestream_end(slot) && v.get_docid() == did
                            ? facet_intern(db_.facets, fs, *v)
                            : 0;
                }
                tally(fs, fs.value_of[did]);
            }
        }
    }

    /* Item counts of the i-th slot, count descending then item ascending;
     * resets that slot for the next run. */
    void fill(size_t i, unsigned slot, const facet_cache &c, xap_facet &f)
    {
        facet_slot &fs = *slots_[i];
        std::unordered_map<uint32_t, unsigned long> per_item;
        std::vector<std::pair<uint32_t, unsigned long>> v;

        for (uint32_t val : fs.touched) {
            for (uint32_t item : fs.items_of[val])
                per_item[item] += fs.count[val];
            fs.count[val] = 0;
        }
        fs.touched.clear();
        v.assign(per_item.begin(), per_item.end());
        std::sort(v.begin(), v.end(),
                  [&c](const std::pair<uint32_t, unsigned long> &a,
                       const std::pair<uint32_t, unsigned long> &b) {
                      if (a.second != b.second)
                          return a.second > b.second;
                      return c.items[a.first] < c.items[b.first];
                  });
        f.slot = slot;
        f.items.reserve(v.size());
        f.counts.reserve(v.size());
        for (const auto &p : v) {
            f.items.push_back(c.items[p.first]);
            f.counts.push_back(p.second);
        }
        /* Only now: pointers into short strings move with the string. */
        f.ptrs.reserve(f.items.size());
        for (const std::string &str : f.items)
            f.ptrs.push_back(str.c_str());
    }

    unsigned long docs = 0;

  private:
    static void tally(facet_slot &fs, uint32_t v)
    {
        if (v && fs.count[v]++ == 0)
            fs.touched.push_back(v);
    }

    xap_db &db_;
    std::vector<facet_slot *> slots_;
    std::vector<Xapian::valueno> slots_no_;
};

/* Feeds every document the matcher accepts to a facet_counter (the facet
 * limit 0). */
class facet_spy : public Xapian::MatchSpy {
  public:
    explicit facet_spy(facet_counter &c) : c_(c) {}

    void operator()(const Xapian::Document &doc, double) override
    {
        c_.add(doc);
    }

  private:
    facet_counter &c_;
};

/* Minimum-should-match over the ranking terms.
 *
 * Xapian 1.4 has no such operator, and spelling "n of k" as an OR of
 * AND-combinations grows as C(k, n) and adds each combination's weight into
 * the score. Instead the ranking query stays a plain weighted OR (weights
 * and max_possible untouched) and this decider accepts a candidate only if
 * at least n of the k ranking terms index it. It keeps one postlist cursor
 * per term and moves it with skip_to: the 1.4 matcher over one database
 * hands candidates over in ascending docid order, so each postlist is read
 * once per query, not once per candidate (we still rewind if the order ever
 * goes backwards, so correctness does not hang on that). Cursors are ordered
 * rarest first: most candidates in the case this exists for (one common
 * n-gram flooding the results) are then rejected after k - n + 1 cheap
 * misses. The matcher consults the decider before the match spy, so facets
 * only count accepted documents. When n == k the query uses an OP_AND filter
 * instead, which lets the matcher skip; when n > k nothing can match. */
class min_match_decider : public Xapian::MatchDecider {
  public:
    /* rare_first: the query's terms, rarest first (borrowed). */
    min_match_decider(const Xapian::Database &db,
                      const std::vector<const std::string *> &rare_first,
                      unsigned need)
        : db_(db), terms_(rare_first), need_(need), last_(0)
    {
        rewind();
    }

    bool operator()(const Xapian::Document &doc) const override
    {
        const Xapian::docid did = doc.get_docid();
        unsigned have = 0;
        size_t left = cur_.size();

        if (did < last_)
            rewind();
        last_ = did;
        for (Xapian::PostingIterator &p : cur_) {
            left--;
            if (p != end_) {
                p.skip_to(did);
                if (p != end_ && *p == did && ++have >= need_)
                    return true;
            }
            if (have + left < need_)
                return false;
        }
        return false;
    }

  private:
    void rewind() const
    {
        cur_.clear();
        for (const std::string *t : terms_)
            cur_.push_back(db_.postlist_begin(*t));
        last_ = 0;
    }

    Xapian::Database db_;
    std::vector<const std::string *> terms_; /* borrowed from the query */
    unsigned need_;
    const Xapian::PostingIterator end_;
    mutable std::vector<Xapian::PostingIterator> cur_;
    mutable Xapian::docid last_;
};

static Xapian::Query scaled(const Xapian::Query &sub, double w)
{
    if (w == 1.0)
        return sub;
    return Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, sub, w);
}

/* The indices of terms, rarest first. */
static std::vector<size_t> rare_first(const Xapian::Database &d,
                                      const std::vector<std::string> &terms)
{
    std::vector<std::pair<Xapian::doccount, size_t>> tf;
    std::vector<size_t> order;

    tf.reserve(terms.size());
    for (size_t i = 0; i < terms.size(); i++)
        tf.emplace_back(d.get_termfreq(terms[i]), i);
    std::stable_sort(tf.begin(), tf.end(),
                     [](const std::pair<Xapian::doccount, size_t> &a,
                        const std::pair<Xapian::doccount, size_t> &b) {
                         return a.first < b.first;
                     });
    order.reserve(tf.size());
    for (const auto &p : tf)
        order.push_back(p.second);
    return order;
}

/* Builds the Xapian query for q on d. *ranked tells whether it has a
 * ranking part (else it is boolean: weights 0); when the min_match decider
 * must run, *decide gets the terms rarest first, else it is left empty.
 *
 * min_match counts the xap_query_add_term terms only; a query without any
 * is not affected (a filter-only query would otherwise match nothing). A
 * document holding min_match of the k terms holds one of the
 * k - min_match + 1 rarest (else it would lack too many): those bring
 * documents in, the others and phrases only add their weight (AND_MAYBE),
 * and the decider counts. With min_match == k all terms are ANDed. Same
 * matches and weights as an OR of everything filtered by the rare ones, but
 * each posting list is read once, and the long ones are skipped through.
 * Measured with `kxmatch bench search` (1,000 generated queries, 100k
 * records): the OR filtered by an OR of the rare terms, 1.2-1.4 ms p50. */
static Xapian::Query build_query(const Xapian::Database &d, const xap_query &q,
                                 bool *ranked,
                                 std::vector<const std::string *> *decide)
{
    const bool min_match = q.min_match > 1 && !q.terms.empty();
    std::vector<Xapian::Query> parts;
    std::vector<Xapian::Query> common;
    std::vector<bool> brings(q.terms.size(), true);
    Xapian::Query query;

    *ranked = false;
    decide->clear();
    if (min_match && q.min_match > q.terms.size())
        return Xapian::Query();
    if (min_match && q.min_match < q.terms.size()) {
        const std::vector<size_t> order = rare_first(d, q.terms);

        for (size_t i = q.terms.size() - q.min_match + 1; i < order.size(); i++)
            brings[order[i]] = false;
        for (size_t i : order)
            decide->push_back(&q.terms[i]);
    }
    parts.reserve(q.terms.size() + q.phrases.size());
    for (size_t i = 0; i < q.terms.size(); i++) {
        Xapian::Query t = scaled(Xapian::Query(q.terms[i]), q.weights[i]);

        if (!brings[i] || (q.boost_above && !min_match &&
                           d.get_termfreq(q.terms[i]) > q.boost_above))
            common.push_back(t);
        else
            parts.push_back(t);
    }
    for (const xap_phrase &ph : q.phrases)
        (min_match ? common : parts)
            .push_back(scaled(Xapian::Query(Xapian::Query::OP_PHRASE,
                                            ph.terms.begin(), ph.terms.end()),
                              ph.weight));
    if (parts.empty()) { /* nothing rare: every term brings documents in */
        parts.swap(common);
    }
    if (!parts.empty()) {
        *ranked = true;
        query = parts.size() == 1
                    ? parts[0]
                    : Xapian::Query(min_match && q.min_match == q.terms.size()
                                        ? Xapian::Query::OP_AND
                                        : Xapian::Query::OP_OR,
                                    parts.begin(), parts.end());
        /* Common terms only add to documents the rare ones found: their
         * long posting lists are skipped through, never read whole. */
        if (!common.empty())
            query = Xapian::Query(Xapian::Query::OP_AND_MAYBE, query,
                                  Xapian::Query(Xapian::Query::OP_OR,
                                                common.begin(), common.end()));
    }
    if (!q.filters.empty()) {
        std::vector<Xapian::Query> groups;
        Xapian::Query filter;

        groups.reserve(q.filters.size());
        for (const auto &g : q.filters)
            groups.push_back(Xapian::Query(Xapian::Query::OP_OR,
                                           g.second.begin(), g.second.end()));
        filter = groups.size() == 1
                     ? groups[0]
                     : Xapian::Query(Xapian::Query::OP_AND, groups.begin(),
                                     groups.end());
        /* Without ranking terms the filter alone is the query: that is
         * MatchAll filtered, without reading the all-documents list. */
        query = *ranked ? Xapian::Query(Xapian::Query::OP_FILTER, query,
                                        filter)
                        : filter;
    }
    if (query.empty() && q.match_all)
        query = Xapian::Query::MatchAll;
    if ((!q.excludes.empty() || !q.exclude_sets.empty()) && !query.empty()) {
        std::vector<Xapian::Query> out;
        for (const std::string &t : q.excludes)
            out.emplace_back(t);
        for (const std::vector<std::string> &set : q.exclude_sets)
            out.emplace_back(Xapian::Query::OP_AND, set.begin(), set.end());
        query = Xapian::Query(Xapian::Query::OP_AND_NOT, query,
                              Xapian::Query(Xapian::Query::OP_OR, out.begin(),
                                            out.end()));
    }
    return query;
}

static void run_match(xap_db &db, const xap_query &q, unsigned offset,
                      unsigned count, unsigned check_at_least, xap_mset &m)
{
    const Xapian::Database &d = *db.rd;
    bool ranked;
    std::vector<const std::string *> decide;
    const Xapian::Query query = build_query(d, q, &ranked, &decide);
    /* With a facet limit the facets count the best facet_limit matches:
     * the match keeps that many (the hits are a slice of them, ranked
     * exactly as without facets) and checks one more, which tells whether
     * they were all. Without one, a spy counts every match the matcher
     * sees, which means scoring every match: no weight pruning. */
    const bool best = !q.facets.empty() && q.facet_limit > 0;
    const Xapian::doccount first = best ? 0 : offset;
    const Xapian::doccount want =
        best ? static_cast<Xapian::doccount>(
                   std::min<unsigned long long>(
                       std::max<unsigned long long>(
                           q.facet_limit,
                           static_cast<unsigned long long>(offset) + count),
                       Xapian::doccount(-1)))
             : count;
    facet_counter counter(db, q.facets);
    /* Declared before the Enquire, which keeps a raw pointer to it. */
    facet_spy spy(counter);
    std::unique_ptr<min_match_decider> decider;
    Xapian::Enquire enq(d);
    Xapian::MSet ms;

    enq.set_query(query);
    if (ranked) {
        enq.set_weighting_scheme(Xapian::BM25Weight(q.k1, 0, 1, q.b, 0.5));
    } else {
        /* All weights are 0: skip weight computation and let the matcher
         * stop as soon as it holds enough documents. */
        enq.set_weighting_scheme(Xapian::BoolWeight());
        enq.set_docid_order(Xapian::Enquire::DONT_CARE);
    }
    if (q.sort_slot >= 0) {
        const Xapian::valueno slot = static_cast<Xapian::valueno>(q.sort_slot);
        if (ranked)
            enq.set_sort_by_value_then_relevance(slot, q.sort_descending);
        else
            enq.set_sort_by_value(slot, q.sort_descending);
    }
    if (best && check_at_least <= q.facet_limit)
        check_at_least = q.facet_limit + 1;
    if (!q.facets.empty() && !best)
        enq.add_matchspy(&spy);
    if (!decide.empty())
        decider.reset(new min_match_decider(d, decide, q.min_match));
    ms = enq.get_mset(first, want, check_at_least, nullptr, decider.get());

    m.db = d;
    m.estimated = ms.get_matches_estimated();
    m.estimated_exact =
        ms.get_matches_lower_bound() == ms.get_matches_upper_bound();
    m.max_possible = ms.get_max_possible();
    /* Hits [offset, offset + count) of the ranking; ms starts at first. */
    Xapian::MSetIterator it = ms.begin();
    const Xapian::doccount skip = offset - first;
    const Xapian::doccount nhits =
        ms.size() > skip ? std::min<Xapian::doccount>(ms.size() - skip, count)
                         : 0;
    m.ids.reserve(nhits);
    m.weights.reserve(nhits);
    m.data.reserve(nhits);
    if (nhits)
        it += skip;
    for (Xapian::doccount i = 0; i < nhits; i++, ++it) {
        m.ids.push_back(*it);
        m.weights.push_back(it.get_weight());
        m.data.push_back(it.get_document().get_data());
    }
    m.terms = q.terms;
    m.term_sorted.resize(m.terms.size());
    for (size_t i = 0; i < m.term_sorted.size(); i++)
        m.term_sorted[i] = i;
    std::sort(m.term_sorted.begin(), m.term_sorted.end(),
              [&m](size_t a, size_t b) { return m.terms[a] < m.terms[b]; });
    if (q.facets.empty())
        return;
    if (best) {
        std::vector<Xapian::docid> ids;

        ids.reserve(std::min<Xapian::doccount>(ms.size(), q.facet_limit));
        for (Xapian::MSetIterator f = ms.begin();
             f != ms.end() && ids.size() < q.facet_limit; ++f)
            ids.push_back(*f);
        counter.add(std::move(ids));
    }
    m.facet_docs = counter.docs;
    /* Every match was counted when no more than that many can exist. */
    m.facets_exact = ms.get_matches_upper_bound() <= m.facet_docs;
    m.facets.resize(q.facets.size());
    for (size_t i = 0; i < q.facets.size(); i++)
        counter.fill(i, q.facets[i], db.facets, m.facets[i]);
}

extern "C" enum kx_status xap_query_run(xap_db *db, const xap_query *q,
                                        unsigned offset, unsigned count,
                                        unsigned check_at_least,
                                        xap_mset **out)
{
    if (out)
        *out = nullptr;
    if (!db || !out)
        return KX_BADINPUT;
    db->err.clear();
    if (!q)
        return keep_msg(&db->err, KX_BADINPUT, "xap_query_run: no query");
    return guard(&db->err, [&]() -> enum kx_status {
        std::unique_ptr<xap_mset> m(new xap_mset());
        /* A writer committed twice while we read an old revision
         * (DatabaseModifiedError, or a block it reused read as corrupt):
         * move to the latest one and try once more. */
        auto again = [&]() {
            db->facets.clear();
            db->rd->reopen();
            m.reset(new xap_mset());
            run_match(*db, *q, offset, count, check_at_least, *m);
        };

        try {
            run_match(*db, *q, offset, count, check_at_least, *m);
        } catch (const Xapian::DatabaseModifiedError &) {
            if (db->wr)
                throw;
            again();
        } catch (const Xapian::DatabaseCorruptError &) {
            if (db->wr)
                throw;
            again();
        }
        *out = m.release();
        return KX_OK;
    });
}

/* Rejects expansion terms the query already has and prefixed (boolean or
 * field) terms, which the convention starts with an uppercase letter. */
class expand_filter : public Xapian::ExpandDecider {
  public:
    explicit expand_filter(const xap_query *q) : q_(q) {}

    bool operator()(const std::string &term) const override
    {
        if (term.empty() || (term[0] >= 'A' && term[0] <= 'Z'))
            return false;
        if (!q_)
            return true;
        if (q_->index.find(term) != q_->index.end())
            return false;
        for (const xap_phrase &ph : q_->phrases)
            if (std::find(ph.terms.begin(), ph.terms.end(), term) !=
                ph.terms.end())
                return false;
        return true;
    }

  private:
    const xap_query *q_;
};

/* Hands the expansion terms over as malloc'd C arrays; no C++ from here on,
 * so the C cleanup below cannot be skipped by an exception. */
static enum kx_status expand_export(
    const std::vector<std::pair<std::string, double>> &v, char ***terms_out,
    double **weights_out, size_t *count_out)
{
    enum kx_status st = KX_NOMEM;
    char **terms = NULL;
    double *weights = NULL;
    size_t i, done = 0;

    if (v.empty())
        return KX_OK;
    terms = static_cast<char **>(calloc(v.size(), sizeof *terms));
    weights = static_cast<double *>(malloc(v.size() * sizeof *weights));
    if (!terms || !weights)
        goto out;
    for (done = 0; done < v.size(); done++) {
        const std::string &t = v[done].first;

        terms[done] = static_cast<char *>(malloc(t.size() + 1));
        if (!terms[done])
            goto out;
        memcpy(terms[done], t.data(), t.size());
        terms[done][t.size()] = '\0';
        weights[done] = v[done].second;
    }
    *terms_out = terms;
    *weights_out = weights;
    *count_out = v.size();
    terms = NULL;
    weights = NULL;
    st = KX_OK;
out:
    if (terms)
        for (i = 0; i < done; i++)
            free(terms[i]);
    free(terms);
    free(weights);
    return st;
}

extern "C" enum kx_status xap_query_expand(xap_db *db, const xap_query *q,
                                           const char *const *idterms,
                                           size_t nrel, size_t n,
                                           char ***terms_out,
                                           double **weights_out,
                                           size_t *count_out)
{
    if (terms_out)
        *terms_out = nullptr;
    if (weights_out)
        *weights_out = nullptr;
    if (count_out)
        *count_out = 0;
    if (!db || !terms_out || !weights_out || !count_out)
        return KX_BADINPUT;
    db->err.clear();
    if (!idterms && nrel)
        return keep_msg(&db->err, KX_BADINPUT, "xap_query_expand: no idterms");
    return guard(&db->err, [&]() -> enum kx_status {
        std::vector<std::pair<std::string, double>> v;
        const Xapian::Database &d = *db->rd;
        Xapian::RSet rset;

        for (size_t i = 0; i < nrel; i++) {
            if (!idterms[i] || !*idterms[i])
                continue;
            Xapian::PostingIterator p = d.postlist_begin(idterms[i]);
            if (p != d.postlist_end(idterms[i]))
                rset.add_document(*p);
        }
        if (rset.empty() || n == 0)
            return KX_OK;

        const expand_filter decider(q);
        Xapian::Enquire enq(d);
        const Xapian::termcount max =
            n > Xapian::termcount(-1) ? Xapian::termcount(-1)
                                      : Xapian::termcount(n);
        const Xapian::ESet es = enq.get_eset(max, rset, 0, &decider);

        v.reserve(es.size());
        for (Xapian::ESetIterator it = es.begin(); it != es.end(); ++it)
            v.emplace_back(*it, it.get_weight());
        return expand_export(v, terms_out, weights_out, count_out);
    });
}

/* ---- results ------------------------------------------------------------ */

extern "C" void xap_mset_free(xap_mset *m)
{
    delete m;
}

extern "C" size_t xap_mset_size(const xap_mset *m)
{
    return m ? m->ids.size() : 0;
}

extern "C" int xap_mset_estimated_exact(const xap_mset *m)
{
    return m && m->estimated_exact;
}

extern "C" unsigned long xap_mset_estimated(const xap_mset *m)
{
    return m ? m->estimated : 0;
}

extern "C" double xap_mset_max_possible(const xap_mset *m)
{
    return m ? m->max_possible : 0.0;
}

extern "C" const char *xap_mset_data(const xap_mset *m, size_t i)
{
    if (!m || i >= m->data.size())
        return nullptr;
    return m->data[i].c_str();
}

extern "C" double xap_mset_weight(const xap_mset *m, size_t i)
{
    if (!m || i >= m->weights.size())
        return 0.0;
    return m->weights[i];
}

extern "C" enum kx_status xap_mset_matching_terms(const xap_mset *m, size_t i,
                                                  const char ***terms,
                                                  unsigned **wdfs, size_t *n)
{
    if (terms)
        *terms = nullptr;
    if (wdfs)
        *wdfs = nullptr;
    if (n)
        *n = 0;
    if (!m || !terms || !n || i >= m->ids.size())
        return KX_BADINPUT;
    return guard(nullptr, [&]() -> enum kx_status {
        std::vector<Xapian::termcount> hit(m->terms.size(), 0);
        size_t found = 0, k = 0;
        const char **arr;
        unsigned *w = nullptr;
        Xapian::TermIterator t = m->db.termlist_begin(m->ids[i]);
        const Xapian::TermIterator end = m->db.termlist_end(m->ids[i]);

        /* One forward walk of the document's sorted termlist, visiting the
         * query terms in the same (byte) order. A matching term has wdf
         * >= 1 (a ranking term is never boolean). */
        for (size_t j : m->term_sorted) {
            t.skip_to(m->terms[j]);
            if (t == end)
                break;
            if (*t == m->terms[j]) {
                hit[j] = std::max<Xapian::termcount>(t.get_wdf(), 1);
                found++;
            }
        }
        if (!found)
            return KX_OK;
        arr = static_cast<const char **>(malloc(found * sizeof *arr));
        if (wdfs)
            w = static_cast<unsigned *>(malloc(found * sizeof *w));
        if (!arr || (wdfs && !w)) {
            free(arr);
            free(w);
            return KX_NOMEM;
        }
        for (size_t j = 0; j < hit.size(); j++)
            if (hit[j]) {
                if (w)
                    w[k] = hit[j];
                arr[k++] = m->terms[j].c_str();
            }
        *terms = arr;
        if (wdfs)
            *wdfs = w;
        *n = found;
        return KX_OK;
    });
}

extern "C" enum kx_status xap_mset_term_wdf(const xap_mset *m, size_t i,
                                            const char *term, unsigned *wdf)
{
    if (wdf)
        *wdf = 0;
    if (!m || !term || !*term || !wdf || i >= m->ids.size())
        return KX_BADINPUT;
    return guard(nullptr, [&]() -> enum kx_status {
        const std::string want(term);
        Xapian::TermIterator t = m->db.termlist_begin(m->ids[i]);

        t.skip_to(want);
        if (t != m->db.termlist_end(m->ids[i]) && *t == want)
            *wdf = t.get_wdf();
        return KX_OK;
    });
}

extern "C" enum kx_status xap_mset_doclen(const xap_mset *m, size_t i,
                                          unsigned *len)
{
    if (len)
        *len = 0;
    if (!m || !len || i >= m->ids.size())
        return KX_BADINPUT;
    return guard(nullptr, [&]() -> enum kx_status {
        *len = m->db.get_doclength(m->ids[i]);
        return KX_OK;
    });
}

extern "C" enum kx_status xap_mset_facets(const xap_mset *m, unsigned slot,
                                          const char *const **items,
                                          const unsigned long **counts,
                                          size_t *n)
{
    if (items)
        *items = nullptr;
    if (counts)
        *counts = nullptr;
    if (n)
        *n = 0;
    if (!m || !items || !counts || !n)
        return KX_BADINPUT;
    for (const xap_facet &f : m->facets) {
        if (f.slot != slot)
            continue;
        if (!f.items.empty()) {
            *items = f.ptrs.data();
            *counts = f.counts.data();
            *n = f.items.size();
        }
        return KX_OK;
    }
    return KX_NOTFOUND; /* slot was not asked for with xap_query_add_facet */
}

extern "C" unsigned long xap_mset_facet_docs(const xap_mset *m)
{
    return m ? m->facet_docs : 0;
}

extern "C" int xap_mset_facets_exact(const xap_mset *m)
{
    return m ? m->facets_exact : 0;
}

/* ---- stemming ----------------------------------------------------------- */

extern "C" enum kx_status xap_stemmer_new(const char *lang, xap_stemmer **out)
{
    if (!out)
        return KX_BADINPUT;
    *out = nullptr;
    if (!lang || !*lang)
        return KX_BADINPUT;
    return guard(nullptr, [&]() -> enum kx_status {
        try {
            *out = new xap_stemmer{Xapian::Stem(lang), std::string()};
        } catch (const Xapian::InvalidArgumentError &) {
            return KX_BADINPUT; /* a language Xapian does not know */
        }
        return KX_OK;
    });
}

extern "C" void xap_stemmer_free(xap_stemmer *s)
{
    delete s;
}

/* memmove: callers may stem a word in place. */
static size_t copy_out(const char *src, size_t len, char *buf, size_t n)
{
    if (len > n - 1)
        len = n - 1;
    if (len)
        memmove(buf, src, len);
    buf[len] = '\0';
    return len;
}

extern "C" size_t xap_stem(xap_stemmer *s, const char *word, size_t len,
                           char *buf, size_t n)
{
    if (!buf || n == 0)
        return 0;
    if (!word)
        len = 0;
    if (s && len) {
        try {
            s->scratch.assign(word, len);
            const std::string r = s->stem(s->scratch);
            return copy_out(r.data(), r.size(), buf, n);
        } catch (...) {
            /* fall through: the word as it is */
        }
    }
    return copy_out(word, len, buf, n);
}
