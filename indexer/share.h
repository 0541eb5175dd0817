/* share.h - where kxmatch's shipped files are: the web pages, the API
 * reference, the matcher's weights, the taxonomies, the labelled set. */
#ifndef KX_SHARE_H
#define KX_SHARE_H

#ifdef __cplusplus
extern "C" {
#endif

/* The share directory, found once per process: $KXMATCH_SHARE if set and
 * not empty; else EXE/../share/kxmatch, then EXE/share/kxmatch, where EXE
 * is the directory of the running executable (/proc/self/exe), the first
 * that is a directory (an installed prefix, then a build tree, which CMake
 * fills with links into the sources); else the compiled-in
 * KX_SHARE_DIR (CMAKE_INSTALL_FULL_DATADIR/kxmatch). Never NULL; static,
 * borrowed for the life of the process. Thread-safe. */
const char *kx_share_dir(void);

/* The file or directory rel (e.g. "web", "weights.conf") inside
 * kx_share_dir(), with links resolved when it exists (so a build tree
 * names the source file), else as joined. rel is kept: a string literal.
 * Never NULL; static, borrowed for the life of the process (each distinct
 * rel is resolved once; the 17th distinct one only until the next such
 * call). Thread-safe. */
const char *kx_share_path(const char *rel);

#ifdef __cplusplus
}
#endif
#endif
