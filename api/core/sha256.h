/* sha256.h - SHA-256 (FIPS 180-4), used to keep API tokens hashed at rest. */
#ifndef API_SHA256_H
#define API_SHA256_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define API_SHA256_LEN 32

struct api_sha256 {
    uint32_t h[8];
    uint64_t len;           /* bytes hashed so far */
    unsigned char buf[64];  /* the partial block */
    size_t nbuf;
};

/* Starts a hash in c (caller's storage). */
void api_sha256_init(struct api_sha256 *c);
/* Adds data[0..n) to the hash. */
void api_sha256_update(struct api_sha256 *c, const void *data, size_t n);
/* Finishes the hash into out; c must be initialised again before reuse. */
void api_sha256_final(struct api_sha256 *c, unsigned char out[API_SHA256_LEN]);

/* The digest of data[0..n) in one call, raw or as 64 lowercase hex digits
 * plus NUL. */
void api_sha256(const void *data, size_t n, unsigned char out[API_SHA256_LEN]);
void api_sha256_hex(const void *data, size_t n, char out[2 * API_SHA256_LEN + 1]);

#ifdef __cplusplus
}
#endif
#endif
