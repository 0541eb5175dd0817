/* web.c - the web pages (api/web/: HTML, JS, CSS), served from the
 * directory resolved at start ($KXMATCH_WEB or the build's). */
#include "reply.h"
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

enum MHD_Result api_route_web(struct api_req *r)
{
    const char *rel = r->url + 1, *type = NULL, *dot;
    char path[4400], *body = NULL;
    size_t len = 0;
    enum MHD_Result ret;
    enum kx_status st;

    if (!*rel)
        rel = "index.html";
    if (!safe_path(rel) || !(dot = strrchr(rel, '.')))
        return api_reply_error(r, KX_NOTFOUND, "", "no page %.100s", r->url);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            type = types[i].type;
    if (!type)
        return api_reply_error(r, KX_NOTFOUND, "", "no page %.100s", r->url);
    snprintf(path, sizeof path, "%s/%s", r->srv->web_dir, rel);
    st = api_file_read(path, WEB_FILE_MAX, &body, &len);
    if (st == KX_NOTFOUND)
        return api_reply_error(r, st, "", "no page %.100s", r->url);
    if (st != KX_OK)
        return api_reply_error(r, st, "", "reading %s", path);
    ret = api_reply_body(r, 200, type, body, len);
    free(body);
    return ret;
}
