/* cmd_export.c - `kxmatch export` and `backup`: a data directory's records
 * as JSON Lines, and a consistent copy of the whole directory, both taken
 * while `serve` may be writing to it. */
#include "cli.h"
#include "index.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- export ------------------------------------------------------------- */

struct export_ctx {
    FILE *f;
    size_t n;
    int err;  /* errno of the first failed write, 0 if none */
};

/* The stored form is the canonical JSON that `index` reads, on one line:
 * written as it is, a second export of what the first one indexes is the
 * same bytes. */
static int export_one(void *vctx, const char *key, const char *json,
                      size_t len)
{
    struct export_ctx *c = vctx;

    (void)key;
    errno = 0;
    if (fwrite(json, 1, len, c->f) != len || putc('\n', c->f) == EOF) {
        c->err = errno ? errno : EIO;
        return 1;
    }
    c->n++;
    return 0;
}

/* Ends the writing: what stdio holds, then (a regular file) the disk. */
static int export_flush(struct export_ctx *c, int regular)
{
    if (!c->err && fflush(c->f) != 0)
        c->err = errno ? errno : EIO;
    if (!c->err && regular && fsync(fileno(c->f)) != 0)
        c->err = errno;
    return c->err;
}

int api_cmd_export(const struct api_common *common, int argc, char **argv)
{
    static const struct option opts[] = {
        API_COMMON_OPTS,
        {"kind", required_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    struct api_common c = *common;
    struct export_ctx ec = {NULL, 0, 0};
    struct kx_error err;
    struct stat sb;
    char prefix[32] = "";
    const char *file = "-", *shown;
    enum kx_kind kind;
    store *s = NULL;
    store_txn *t = NULL;
    enum kx_status st;
    int opt, rc, regular = 0, fd = -1;

    kx_error_clear(&err);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (api_common_opt(&c, opt))
            continue;
        if (opt != 'k')
            return api_usage("export");
        if ((kind = record_kind_parse(optarg)) == KX_KIND_LAST) {
            fprintf(stderr, "kxmatch: --kind expects one of");
            for (int k = 0; k < KX_KIND_LAST; k++)
                fprintf(stderr, " %s", record_kind_name(k));
            fprintf(stderr, ", got \"%s\"\n", optarg);
            return API_EXIT_BADINPUT;
        }
        snprintf(prefix, sizeof prefix, "%s:", record_kind_name(kind));
    }
    if (argc - optind > 1)
        return api_usage("export");
    if (optind < argc)
        file = argv[optind];
    shown = strcmp(file, "-") == 0 ? "standard output" : file;
    /* Read-only: the writer (serve) goes on, and a missing data directory
     * is reported before FILE is created or emptied. */
    if ((st = store_open(c.db, STORE_RDONLY, &s, &err)) != KX_OK)
        return api_fail(st, &err);
    if (strcmp(file, "-") == 0) {
        ec.f = stdout;
    } else if ((fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                          0600)) < 0 || !(ec.f = fdopen(fd, "w"))) {
        /* 0600: the export holds addresses and confidential needs */
        rc = errno;
        if (fd >= 0)
            close(fd);
        st = kx_error_set(&err, rc == ENOENT ? KX_NOTFOUND : KX_IO, "",
                          "cannot write %s: %s", file, strerror(rc));
        goto out;
    } else {
        regular = fstat(fileno(ec.f), &sb) == 0 && S_ISREG(sb.st_mode);
    }
    /* One read transaction: the records of one commit, whatever is
     * written meanwhile. */
    if ((st = store_txn_begin(s, 0, &t)) == KX_OK)
        st = store_record_each(t, prefix, export_one, &ec);
    store_txn_abort(t);
    if (st != KX_OK) {
        kx_error_set(&err, st, "", "reading the records of %s: %s", c.db,
                     store_errmsg()[0] ? store_errmsg() : kx_status_str(st));
        goto out;
    }
    if (export_flush(&ec, regular) == 0 && ec.f != stdout) {
        FILE *f = ec.f;

        ec.f = NULL;
        if (fclose(f) != 0)
            ec.err = errno ? errno : EIO;
    }
    if (ec.err) {
        st = kx_error_set(&err, KX_IO, "", "writing %s: %s; the export "
                          "is incomplete", shown, strerror(ec.err));
        goto out;
    }
    if (strcmp(file, "-") != 0)
        printf("exported %zu records to %s\n", ec.n, file);
out:
    if (ec.f && ec.f != stdout)
        fclose(ec.f);
    store_close(s);
    if (st == KX_OK)
        return API_EXIT_OK;
    rc = api_fail(st, &err);
    /* Read back, a partial export would lose records without a word. */
    if (regular && unlink(file) == 0)
        fprintf(stderr, "kxmatch: removed the incomplete %s\n", file);
    return rc;
}

/* ---- backup ------------------------------------------------------------- */

/* Whether dir can take a backup: KX_OK if it does not exist (*exists 0) or
 * is an empty directory (*exists 1); KX_BADINPUT if it is anything else;
 * KX_IO if it cannot be looked at. */
static enum kx_status backup_target(const char *dir, int *exists,
                                    struct kx_error *err)
{
    struct stat sb;
    struct dirent *e;
    DIR *d;
    int empty = 1;

    *exists = 0;
    if (stat(dir, &sb) != 0) {
        if (errno == ENOENT)
            return KX_OK;
        return kx_error_set(err, KX_IO, "", "cannot look at %s: %s", dir,
                            strerror(errno));
    }
    *exists = 1;
    if (!S_ISDIR(sb.st_mode))
        return kx_error_set(err, KX_BADINPUT, "", "%s exists and is not a "
                            "directory: a backup goes into a new or empty "
                            "directory", dir);
    if (!(d = opendir(dir)))
        return kx_error_set(err, KX_IO, "", "cannot read %s: %s", dir,
                            strerror(errno));
    while (empty && (e = readdir(d)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    if (!empty)
        return kx_error_set(err, KX_BADINPUT, "", "%s is not empty: a "
                            "backup goes into a new or empty directory",
                            dir);
    return KX_OK;
}

/* Opens the finished backup as any reader would and counts what it holds:
 * KX_OK with *records, or KX_CORRUPT if Xapian and LMDB disagree. */
static enum kx_status backup_verify(const char *dir, const char *taxo_dir,
                                    size_t *records, uint64_t *bytes,
                                    struct kx_error *err)
{
    unsigned long ndocs = 0;
    store_txn *t = NULL;
    idx *x = NULL;
    enum kx_status st;

    *records = 0;
    *bytes = 0;
    if ((st = idx_open(dir, IDX_READ, taxo_dir, &x, err)) != KX_OK)
        return st;
    if ((st = store_txn_begin(idx_store(x), 0, &t)) == KX_OK)
        st = store_record_count(t, records);
    store_txn_abort(t);
    if (st == KX_OK)
        st = xap_doccount(idx_xap(x), &ndocs);
    if (st == KX_OK)
        st = store_disk_usage(idx_store(x), bytes);
    if (st != KX_OK)
        kx_error_set(err, st, "", "reading the backup %s: %s", dir,
                     kx_status_str(st));
    else if (ndocs != *records)
        st = kx_error_set(err, KX_CORRUPT, "", "the backup %s holds %zu "
                          "records but %lu Xapian documents", dir, *records,
                          ndocs);
    idx_close(x);
    return st;
}

int api_cmd_backup(const struct api_common *common, int argc, char **argv)
{
    static const struct option opts[] = {
        API_COMMON_OPTS,
        {NULL, 0, NULL, 0},
    };
    struct api_common c = *common;
    struct kx_error err;
    char why[1024];
    const char *out;
    size_t records = 0;
    uint64_t bytes = 0;
    store *s = NULL;
    enum kx_status st;
    int opt, exists = 0;

    kx_error_clear(&err);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1)
        if (!api_common_opt(&c, opt))
            return api_usage("backup");
    if (argc - optind != 1)
        return api_usage("backup");
    out = argv[optind];
    /* Everything that can be refused is, before anything is created. */
    if ((st = backup_target(out, &exists, &err)) != KX_OK)
        return api_fail(st, &err);
    if ((st = store_open(c.db, STORE_RDONLY, &s, &err)) != KX_OK)
        return api_fail(st, &err);
    if (!exists && mkdir(out, 0700) != 0) {
        int e = errno;

        st = kx_error_set(&err, e == ENOENT ? KX_NOTFOUND : KX_IO, "",
                          "cannot create %s: %s", out, strerror(e));
        store_close(s);
        return api_fail(st, &err);
    }
    st = store_copy(s, out, &err);
    store_close(s);
    if (st != KX_OK) {
        if (!exists)
            rmdir(out); /* store_copy left it empty */
        return api_fail(st, &err);
    }
    if ((st = idx_copy_finish(out, c.taxonomy, &err)) != KX_OK) {
        kx_error_format(&err, why, sizeof why);
        kx_error_clear(&err);
        kx_error_set(&err, st, "", "%s; the records are copied into %s but "
                     "its Xapian index is not built: `kxmatch index --db %s "
                     "--rebuild` builds it", why, out, out);
        return api_fail(st, &err);
    }
    if ((st = backup_verify(out, c.taxonomy, &records, &bytes, &err)) !=
        KX_OK)
        return api_fail(st, &err);
    printf("backed up %s into %s: %zu records, %.1f MiB of LMDB, the Xapian "
           "index rebuilt\n", c.db, out, records, (double)bytes / 1048576.0);
    return API_EXIT_OK;
}
