/* digest.c — SHA-256 content addresses, the names of everything in the image store.
 *
 * The concept: an image, a layer or a config is named by the hash of its bytes, so the same
 * content has the same name everywhere (docker, podman, a registry) and any change is detected.
 * Sits on OpenSSL libcrypto's EVP interface, streaming, so a 1 GB layer needs 64 KB of memory.
 *
 * Interface: lb_digest_parse, lb_digest_from_hex, lb_is_lower_hex, lb_digest_equal,
 *            lb_sha256_init/update/final/release, lb_digest_buffer, lb_sha256_small,
 *            lb_digest_fd
 */
#include "image/digest.h"
#include "core/util.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

/* One digest is all layerbox needs from libcrypto. Initialise it without reading openssl.cnf
 * (a host's config file has no say in what SHA-256 means, and reading it costs every command a
 * file lookup) and without the tables of every cipher and digest, then fetch SHA-256 from the
 * default provider once: EVP_DigestInit_ex with EVP_sha256() would fetch it again each time. */
static void sha256_setup(void)
{
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
                            OPENSSL_INIT_NO_ADD_ALL_DIGESTS,
                        NULL);
    sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

void lb_sha256_init(struct lb_sha256 *h)
{
    pthread_once(&sha256_once, sha256_setup);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (sha256_md == NULL || ctx == NULL || EVP_DigestInit_ex(ctx, sha256_md, NULL) != 1)
        lb_oom();
    h->ctx = ctx;
    h->bytes = 0;
}

void lb_sha256_update(struct lb_sha256 *h, const void *data, size_t len)
{
    EVP_DigestUpdate(h->ctx, data, len);
    h->bytes += len;
}

void lb_sha256_final(struct lb_sha256 *h, struct lb_digest *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(h->ctx, md, &n);
    memcpy(out->str, "sha256:", 7);
    for (unsigned int i = 0; i < n; i++)
        snprintf(out->str + 7 + 2 * i, 3, "%02x", md[i]);
    lb_sha256_release(h);
}

void lb_sha256_release(struct lb_sha256 *h)
{
    if (h->ctx)
        EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

/* ---- SHA-256, FIPS 180-4 section 6.2, for small buffers ---- */

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t ror(uint32_t x, int n)
{
    return (x >> n) | (x << (32 - n));
}

/* One 64-byte block into the state h (section 6.2.2). */
static void sha256_block(uint32_t h[8], const unsigned char *p)
{
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
               (uint32_t)p[4 * t + 2] << 8 | (uint32_t)p[4 * t + 3];
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = ror(w[t - 15], 7) ^ ror(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = ror(w[t - 2], 17) ^ ror(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int t = 0; t < 64; t++) {
        uint32_t t1 =
            hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + sha256_k[t] + w[t];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

void lb_sha256_small(const void *data, size_t len, unsigned char md[32])
{
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const unsigned char *p = data;
    size_t full = len / 64;
    for (size_t i = 0; i < full; i++)
        sha256_block(h, p + 64 * i);
    /* the padding (section 5.1.1): the rest, a 1 bit, zeros, the length in bits (64 bits) */
    unsigned char last[128] = {0};
    size_t rest = len % 64;
    memcpy(last, p + 64 * full, rest);
    last[rest] = 0x80;
    size_t n = rest < 56 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        last[n - 1 - i] = (unsigned char)(bits >> (8 * i));
    for (size_t off = 0; off < n; off += 64)
        sha256_block(h, last + off);
    for (int i = 0; i < 8; i++) {
        md[4 * i] = (unsigned char)(h[i] >> 24);
        md[4 * i + 1] = (unsigned char)(h[i] >> 16);
        md[4 * i + 2] = (unsigned char)(h[i] >> 8);
        md[4 * i + 3] = (unsigned char)h[i];
    }
}

void lb_digest_buffer(struct lb_digest *out, const void *data, size_t len)
{
    if (len <= LB_DIGEST_SMALL) {
        unsigned char md[32];
        lb_sha256_small(data, len, md);
        memcpy(out->str, "sha256:", 7);
        for (int i = 0; i < 32; i++)
            snprintf(out->str + 7 + 2 * i, 3, "%02x", md[i]);
        return;
    }
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
