/* digest.c — SHA-256 content addresses, the names of everything in the image store.
 *
 * The concept: an image, a layer or a config is named by the hash of its bytes, so the same
 * content has the same name everywhere (docker, podman, a registry) and any change is detected.
 * Sits on libcrypto's SHA256_Init/Update/Final, streaming, so a 1 GB layer needs 64 KB of memory.
 * Those are deprecated in OpenSSL 3 in favour of EVP, on purpose not used here: the hash is the
 * same assembly (SHA-NI where the CPU has it), but EVP goes through the provider machinery,
 * which, linked statically, brings every algorithm's tables into the binary (7 MB instead of
 * 2.8 MB, 17,000 relocations instead of 900) and builds them on first use: ~0.5 ms of every
 * container start, for one hash function.
 *
 * Interface: lb_digest_parse, lb_digest_from_hex, lb_is_lower_hex, lb_digest_equal,
 *            lb_sha256_init/update/final/release, lb_digest_buffer, lb_digest_fd
 */
#include "image/digest.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_*: see above */
#include <openssl/sha.h>

bool lb_is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

int lb_digest_from_hex(struct lb_digest *out, const char *hex, struct lb_error **err)
{
    if (strlen(hex) != LB_DIGEST_HEX_LEN || !lb_is_lower_hex(hex, LB_DIGEST_HEX_LEN))
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "invalid digest 'sha256:%.80s': want 64 lowercase hex characters",
                             hex);
    snprintf(out->str, sizeof(out->str), "sha256:%s", hex);
    return 0;
}

int lb_digest_parse(struct lb_digest *out, const char *s, struct lb_error **err)
{
    if (!lb_str_has_prefix(s, LB_DIGEST_PREFIX))
        return lb_error_setk(
            err, LB_EKIND_INVALID, 0,
            "invalid digest '%.80s': want 'sha256:' and 64 lowercase hex characters", s);
    const char *hex = s + 7;
    if (strlen(hex) != LB_DIGEST_HEX_LEN || !lb_is_lower_hex(hex, LB_DIGEST_HEX_LEN))
        return lb_error_setk(
            err, LB_EKIND_INVALID, 0,
            "invalid digest '%.80s': want 'sha256:' and 64 lowercase hex characters", s);
    snprintf(out->str, sizeof(out->str), "%s", s);
    return 0;
}

bool lb_digest_equal(const struct lb_digest *a, const struct lb_digest *b)
{
    return strcmp(a->str, b->str) == 0;
}

void lb_sha256_init(struct lb_sha256 *h)
{
    SHA256_CTX *ctx = lb_xmalloc(sizeof(*ctx));
    SHA256_Init(ctx);
    h->ctx = ctx;
    h->bytes = 0;
}

void lb_sha256_update(struct lb_sha256 *h, const void *data, size_t len)
{
    SHA256_Update(h->ctx, data, len);
    h->bytes += len;
}

void lb_sha256_final(struct lb_sha256 *h, struct lb_digest *out)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    unsigned int n = SHA256_DIGEST_LENGTH;
    SHA256_Final(md, h->ctx);
    memcpy(out->str, "sha256:", 7);
    for (unsigned int i = 0; i < n; i++)
        snprintf(out->str + 7 + 2 * i, 3, "%02x", md[i]);
    lb_sha256_release(h);
}

void lb_sha256_release(struct lb_sha256 *h)
{
    free(h->ctx);
    h->ctx = NULL;
}

void lb_digest_buffer(struct lb_digest *out, const void *data, size_t len)
{
    struct lb_sha256 h;
    lb_sha256_init(&h);
    lb_sha256_update(&h, data, len);
    lb_sha256_final(&h, out);
}

int lb_digest_fd(struct lb_digest *out, uint64_t *size, int fd, struct lb_error **err)
{
    char buf[1 << 16];
    struct lb_sha256 h;
    lb_sha256_init(&h);
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            lb_sha256_release(&h);
            return lb_error_set(err, saved, "cannot read while hashing");
        }
        if (n == 0)
            break;
        lb_sha256_update(&h, buf, (size_t)n);
    }
    if (size)
        *size = h.bytes;
    lb_sha256_final(&h, out);
    return 0;
}
