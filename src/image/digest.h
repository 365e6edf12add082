/* digest.h — content addresses: "sha256:<64 lowercase hex>".
 *
 * A digest string from outside (an archive, a manifest, the command line) is validated with
 * lb_digest_parse BEFORE any path is built from it: "sha256:../x" never reaches the file system. */
#ifndef LB_IMAGE_DIGEST_H
#define LB_IMAGE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define LB_DIGEST_PREFIX  "sha256:"
#define LB_DIGEST_HEX_LEN 64

struct lb_digest {
    char str[7 + LB_DIGEST_HEX_LEN + 1]; /* "sha256:" + hex + NUL */
};

/* The 64 hex characters. */
static inline const char *lb_digest_hex(const struct lb_digest *d)
{
    return d->str + 7;
}

/* Validate and copy "sha256:<64 lowercase hex>". Anything else (uppercase, short, other
 * algorithm, "sha256:../x") is an LB_EKIND_INVALID error. */
int lb_digest_parse(struct lb_digest *out, const char *s, struct lb_error **err);

/* Same, for a bare 64-hex string (as in blobs/sha256/<hex> or an image ID without prefix). */
int lb_digest_from_hex(struct lb_digest *out, const char *hex, struct lb_error **err);

/* True when s is exactly n lowercase hex characters. */
bool lb_is_lower_hex(const char *s, size_t n);

bool lb_digest_equal(const struct lb_digest *a, const struct lb_digest *b);

/* Streaming SHA-256 (libcrypto's SHA256_* functions: see digest.c for why not EVP). */
struct lb_sha256 {
    void *ctx; /* SHA256_CTX */
    uint64_t bytes;
};
void lb_sha256_init(struct lb_sha256 *h);
void lb_sha256_update(struct lb_sha256 *h, const void *data, size_t len);
/* Writes the digest and releases the context. */
void lb_sha256_final(struct lb_sha256 *h, struct lb_digest *out);
/* Releases without a result (safe after final, and on a zeroed struct). */
void lb_sha256_release(struct lb_sha256 *h);

/* Digest of a buffer in one call. */
void lb_digest_buffer(struct lb_digest *out, const void *data, size_t len);

/* Digest of everything readable from fd (to EOF); *size gets the byte count when not NULL. */
int lb_digest_fd(struct lb_digest *out, uint64_t *size, int fd, struct lb_error **err);

#endif
