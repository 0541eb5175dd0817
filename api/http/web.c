/* web.c - the web pages (api/web/: HTML, JS, CSS), served from the
 * directory resolved at start (--web, $KXMATCH_WEB or the share
 * directory's web/): its regular files only, reached without following
 * any symbolic link. */
#define _GNU_SOURCE /* O_PATH */
#include "reply.h"
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WEB_FILE_MAX (4u << 20)

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
};

/* 1 if path is a plain relative file name: [A-Za-z0-9._-/], no "..",
 * no hidden part, no empty part. */
static int safe_path(const char *p)
{
    const char *seg = p;

    if (!*p)
        return 0;
    for (const char *c = p;; c++) {
        if (*c == '/' || *c == '\0') {
            if (c == seg || *seg == '.')
                return 0;
            if (!*c)
                return 1;
            seg = c + 1;
        } else if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                     (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' ||
                     *c == '-')) {
            return 0;
        }
    }
}

/* Opens rel (safe_path() holds) beneath the folder dir for reading, one
 * component at a time with O_NOFOLLOW: no symbolic link is followed, not
 * even one inside the folder pointing inside it. We ship none, and a
 * Debian package that symlinks a shared JS library into the folder must
 * copy it instead. O_NONBLOCK so that a FIFO opens at once instead of
 * holding a worker until someone writes to it (on a regular file it
 * changes nothing, so it stays set). Not openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS): safe_path() already refuses "..", and one walk
 * that every kernel runs is the path the tests check. The descriptor is the
 * caller's to close; *sb is its fstat. -1 with errno set on failure,
 * EISDIR for anything but a regular file (directory, FIFO, socket,
 * device). */
static int web_open(int dir, const char *rel, struct stat *sb)
{
    char name[NAME_MAX + 1];
    int cur = dir, fd = -1, e;

    for (;;) {
        size_t n = strcspn(rel, "/");

        if (n >= sizeof name) {
            e = ENAMETOOLONG;
            goto out;
        }
        memcpy(name, rel, n);
        name[n] = '\0';
        if (!rel[n])
            break;
        /* O_PATH|O_DIRECTORY|O_NOFOLLOW refuses a symlink (ENOTDIR). */
        fd = openat(cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        e = errno;
        if (cur != dir)
            close(cur);
        cur = fd;
        fd = -1;
        if (cur < 0) {
            cur = dir;
            goto out;
        }
        rel += n + 1;
    }
    fd = openat(cur, name,
                O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    e = errno;
    if (fd >= 0 && fstat(fd, sb) != 0) {
        e = errno;
        close(fd);
        fd = -1;
    } else if (fd >= 0 && !S_ISREG(sb->st_mode)) {
        e = EISDIR;
        close(fd);
        fd = -1;
    }
out:
    if (cur != dir)
        close(cur);
    errno = e;
    return fd;
}

/* The status for an errno of web_open(): what the client may have asked
 * for wrongly is NOTFOUND, the rest is the server's fault. */
static enum kx_status open_status(int e)
{
    switch (e) {
    case ENOENT: case ENOTDIR: case ELOOP: case EISDIR: case ENAMETOOLONG:
    case EACCES: case ENXIO: case ENODEV:
        return KX_NOTFOUND;
    case EMFILE: case ENFILE: case ENOMEM:
        return KX_UNAVAILABLE;
    default:
        return KX_IO;
    }
}

/* Reads the regular file fd of size sb->st_size into a new buffer. */
static enum kx_status read_fd(int fd, const struct stat *sb, char **out,
                              size_t *len)
{
    size_t size = (size_t)sb->st_size, n = 0;
    char *buf = malloc(size ? size : 1);

    *out = NULL;
    if (!buf)
        return KX_NOMEM;
    /* A file that shrinks meanwhile is sent as far as it goes; one that
     * grows, as far as fstat saw it. */
    while (n < size) {
        ssize_t got = read(fd, buf + n, size - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            free(buf);
            return KX_IO;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    *out = buf;
    *len = n;
    return KX_OK;
}

/* 1 if the If-None-Match value inm names etag (or is "*"): a list of
 * entity tags, each maybe weak (W/), separated by commas. */
static int etag_matches(const char *inm, const char *etag)
{
    size_t n = strlen(etag);

    if (!inm)
        return 0;
    for (const char *p = inm;;) {
        p += strspn(p, " \t,");
        if (!*p)
            return 0;
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' ||
                                         p[n] == ' ' || p[n] == '\t'))
            return 1;
        p += strcspn(p, ",");
    }
}

enum MHD_Result api_route_web(struct api_req *r)
{
    const char *rel = r->url + 1, *type = NULL, *dot;
    char *body = NULL, etag[80];
    size_t len = 0;
    struct stat sb;
    enum MHD_Result ret;
    enum kx_status st;
    int dir, fd, e;

    if (!*rel)
        rel = "index.html";
    if (!safe_path(rel) || !(dot = strrchr(rel, '.')))
        return api_reply_error(r, KX_NOTFOUND, "", "no page %.100s", r->url);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            type = types[i].type;
    if (!type)
        return api_reply_error(r, KX_NOTFOUND, "", "no page %.100s", r->url);
    /* Opened per request rather than held from start: an O_PATH open
     * reads nothing, and the server then keeps no descriptor for it. The
     * folder itself may be a symlink (the build tree's is): that is the
     * operator's choice, not the client's. A server without pages answers
     * 404, as for any missing page. */
    dir = open(r->srv->web_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
        e = errno;
        if ((st = open_status(e)) == KX_NOTFOUND)
            return api_reply_error(r, st, "", "no page %.100s", r->url);
        return api_reply_error(r, st, "", "opening the web folder %s: %s",
                               r->srv->web_dir, strerror(e));
    }
    fd = web_open(dir, rel, &sb);
    e = errno;
    close(dir);
    if (fd < 0) {
        if ((st = open_status(e)) == KX_NOTFOUND)
            return api_reply_error(r, st, "", "no page %.100s", r->url);
        return api_reply_error(r, st, "", "opening %s/%s: %s",
                               r->srv->web_dir, rel, strerror(e));
    }
    /* The version a browser may already hold: pages are sent with
     * no-cache, so each load asks, and an unchanged file costs a 304
     * instead of its bytes (app.js alone is 46 kB; a township office on
     * a slow line loads it on every page). */
    snprintf(etag, sizeof etag, "\"%jx-%jx-%jx.%lx\"", (uintmax_t)sb.st_ino,
             (uintmax_t)sb.st_size, (uintmax_t)sb.st_mtim.tv_sec,
             (unsigned long)sb.st_mtim.tv_nsec);
    if (etag_matches(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_IF_NONE_MATCH),
                     etag)) {
        close(fd);
        return api_reply_file(r, 304, type, NULL, 0, etag);
    }
    /* Read from the descriptor checked, never again by name. */
    if (sb.st_size > (off_t)WEB_FILE_MAX)
        st = KX_TOOLARGE;
    else
        st = read_fd(fd, &sb, &body, &len);
    e = errno;
    close(fd);
    if (st == KX_TOOLARGE)
        return api_reply_error(r, KX_IO, "", "%s/%s is over %u bytes",
                               r->srv->web_dir, rel, WEB_FILE_MAX);
    if (st != KX_OK)
        return api_reply_error(r, st, "", "reading %s/%s: %s",
                               r->srv->web_dir, rel, strerror(e));
    ret = api_reply_file(r, 200, type, body ? body : "", len, etag);
    free(body);
    return ret;
}
