/* test_stream.c — a layer's bytes through the stream: sniffing, gzip (multi-member) and zstd
 * (multi-frame) decompression, both digests, the tees, the size cap, and the producer thread.
 *
 * Expected digests are computed independently: the blob digest with lb_digest_buffer over the
 * exact input buffer, the DiffID with lb_digest_buffer over the known bytes that this file
 * compressed itself with zlib or libzstd. "abc" and "" are also checked against the FIPS 180-2
 * vectors (as sha256sum prints them). Every stream is run inline and threaded, with several read
 * sizes, and the two modes must agree byte for byte and error for error. */
#include "unit.h"

#include "image/digest.h"
#include "layer/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define EMPTY_SHA "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC_SHA   "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define MiB       (1024u * 1024u)

/* --- helpers: buffers, compressors ----------------------------------------------------------- */

struct buf {
    unsigned char *data;
    size_t len;
};

static void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

static void buf_add(struct buf *b, const void *data, size_t len)
{
    b->data = lb_xrealloc(b->data, b->len + len + 1);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
}

/* Deterministic text-like bytes: compressible, but not trivially. */
static struct buf known_bytes(size_t len, unsigned seed)
{
    static const char *words[] = {"layer ",  "union ", "whiteout ", "overlay ",     "tar\n",
                                  "digest ", "chain ", "opaque ",   "\x00\x01\x02", "diff "};
    struct buf b = {lb_xmalloc(len + 1), 0};
    uint32_t x = seed * 2654435761u + 1;
    while (b.len < len) {
        x = x * 1103515245u + 12345u;
        const char *w = words[(x >> 16) % LB_ARRAY_SIZE(words)];
        size_t wl = strlen(w) ? strlen(w) : 1;
        if ((x >> 8) % 7 == 0) {
            b.data[b.len++] = (unsigned char)(x >> 3);
            continue;
        }
        for (size_t i = 0; i < wl && b.len < len; i++)
            b.data[b.len++] = (unsigned char)w[i];
    }
    return b;
}

static struct buf gzip_of(const void *data, size_t len, int level)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, len) + 64;
    struct buf out = {lb_xmalloc(cap), 0};
    z.next_in = (unsigned char *)data;
    z.avail_in = (uInt)len;
    z.next_out = out.data;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static struct buf zstd_of(const void *data, size_t len, int level, bool checksum)
{
    ZSTD_CCtx *c = ZSTD_createCCtx();
    assert_non_null(c);
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum ? 1 : 0);
    size_t cap = ZSTD_compressBound(len);
    struct buf out = {lb_xmalloc(cap), 0};
    size_t r = ZSTD_compress2(c, out.data, cap, data, len);
    assert_false(ZSTD_isError(r));
    out.len = r;
    ZSTD_freeCCtx(c);
    return out;
}

/* gzip of `total` zeros, compressed in 1 MiB steps so the test never holds them all. */
static struct buf gzip_zeros(uint64_t total)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    unsigned char *zeros = lb_xmalloc(MiB);
    size_t cap = (size_t)(total / 1000) + 4096; /* deflate's best ratio is 1032:1 */
    struct buf out = {lb_xmalloc(cap), 0};
    z.next_out = out.data;
    z.avail_out = (uInt)cap;
    for (uint64_t done = 0; done < total; done += MiB) {
        z.next_in = zeros;
        z.avail_in = (uInt)(total - done < MiB ? total - done : MiB);
        int flush = done + MiB >= total ? Z_FINISH : Z_NO_FLUSH;
        int r = deflate(&z, flush);
        assert_true(r == Z_OK || r == Z_STREAM_END);
        assert_int_equal(z.avail_in, 0);
    }
    out.len = cap - z.avail_out;
    deflateEnd(&z);
    free(zeros);
    return out;
}

/* --- helpers: a source, sinks, and one run of a stream -----------------------------------------
 */

struct memsrc {
    const unsigned char *data;
    size_t len, pos;
    size_t max_read; /* 0 = as much as asked: else short reads, as from a pipe */
    size_t fail_at;  /* 0 = never; else fail once this many bytes were given */
    unsigned delay_us;
    unsigned calls;
};

static ssize_t mem_source(void *data, void *buf, size_t len, struct lb_error **err)
{
    struct memsrc *m = data;
    m->calls++;
    if (m->delay_us)
        usleep(m->delay_us);
    if (m->fail_at && m->pos >= m->fail_at)
        return lb_error_set(err, EIO, "cannot read the test source");
    size_t k = m->len - m->pos;
    if (k > len)
        k = len;
    if (m->max_read && k > m->max_read)
        k = m->max_read;
    if (m->fail_at && k > m->fail_at - m->pos)
        k = m->fail_at - m->pos;
    if (k)
        memcpy(buf, m->data + m->pos, k);
    m->pos += k;
    return (ssize_t)k;
}

/* A tee that hashes and counts what it gets, and can fail. */
struct sink {
    struct lb_sha256 h;
    uint64_t bytes;
    unsigned calls;
    unsigned fail_on_call; /* 0 = never */
    bool silent_fail;      /* fail without setting an error */
};

static void sink_init(struct sink *k)
{
    memset(k, 0, sizeof(*k));
    lb_sha256_init(&k->h);
}

static int sink_fn(void *data, const void *buf, size_t len, struct lb_error **err)
{
    struct sink *k = data;
    if (++k->calls == k->fail_on_call) {
        if (k->silent_fail)
            return -1;
        return lb_error_set(err, ENOSPC, "cannot write the test blob");
    }
    lb_sha256_update(&k->h, buf, len);
    k->bytes += len;
    return 0;
}

static void sink_final(struct sink *k, struct lb_digest *d)
{
    lb_sha256_final(&k->h, d);
}

/* What one run of a stream gave. */
struct run {
    int rc; /* 0, or -1 when a read or finish failed */
    bool failed_in_finish;
    char *error; /* message (owned) */
    int error_kind;
    struct lb_layer_stream_result res;
    struct lb_digest out_digest; /* of every byte lb_layer_stream_read gave */
    uint64_t out_len;
    struct lb_digest tee_c, tee_u; /* what the tees got */
    uint64_t tee_c_len, tee_u_len;
};

static void run_free(struct run *r)
{
    free(r->error);
    r->error = NULL;
}

/* Read the stream to its end (or `stop_after` bytes) with reads of read_size, then finish. */
static void run_stream_ex(struct run *r, const struct buf *in, bool threaded, size_t read_size,
                          uint64_t max, size_t src_max_read, uint64_t stop_after)
{
    memset(r, 0, sizeof(*r));
    struct memsrc src = {.data = in->data, .len = in->len, .max_read = src_max_read};
    struct sink tc, tu;
    sink_init(&tc);
    sink_init(&tu);
    struct lb_layer_stream_opts o = {
        .source = mem_source,
        .source_data = &src,
        .tee_compressed = sink_fn,
        .tee_compressed_data = &tc,
        .tee_uncompressed = sink_fn,
        .tee_uncompressed_data = &tu,
        .max_uncompressed = max,
        .threaded = threaded,
        .what = "layer 'test'",
    };
    struct lb_error *err = NULL;
    struct lb_layer_stream *s = lb_layer_stream_new(&o, &err);
    assert_non_null(s);
    unsigned char *rbuf = lb_xmalloc(read_size);
    struct lb_sha256 h;
    lb_sha256_init(&h);
    for (;;) {
        size_t want = read_size;
        if (stop_after && stop_after - r->out_len < want)
            want = (size_t)(stop_after - r->out_len);
        if (want == 0)
            break;
        ssize_t n = lb_layer_stream_read(s, rbuf, want, &err);
        if (n < 0) {
            r->rc = -1;
            break;
        }
        if (n == 0)
            break;
        assert_true((size_t)n <= want);
        lb_sha256_update(&h, rbuf, (size_t)n);
        r->out_len += (uint64_t)n;
    }
    lb_sha256_final(&h, &r->out_digest);
    if (r->rc == 0) {
        r->rc = lb_layer_stream_finish(s, &r->res, &err);
        r->failed_in_finish = r->rc < 0;
    }
    if (r->rc < 0) {
        assert_non_null(err);
        r->error = lb_xstrdup(err->msg);
        r->error_kind = err->kind;
        lb_error_clear(&err);
    }
    assert_null(err);
    lb_layer_stream_free(s);
    free(rbuf);
    sink_final(&tc, &r->tee_c);
    sink_final(&tu, &r->tee_u);
    r->tee_c_len = tc.bytes;
    r->tee_u_len = tu.bytes;
}

/* Run inline and threaded with several read and source sizes: all must agree with the first.
 * Before a data error, how much of a damaged block the decompressor gives out depends on its
 * buffer sizes, so there only the error must agree (the size limit is exact, so it must too). */
static void run_all_modes(struct run *first, const struct buf *in, uint64_t max)
{
    static const size_t read_sizes[] = {64 * 1024, 1, 4093, MiB + 7, 3 * MiB};
    static const size_t src_sizes[] = {0, 3, 0, 65536, 0};
    run_stream_ex(first, in, false, read_sizes[0], max, src_sizes[0], 0);
    for (int threaded = 0; threaded < 2; threaded++) {
        for (size_t i = 0; i < LB_ARRAY_SIZE(read_sizes); i++) {
            if (read_sizes[i] == 1 && in->len > 600 * 1024)
                continue; /* byte-at-a-time over megabytes is slow under valgrind */
            struct run r;
            run_stream_ex(&r, in, threaded, read_sizes[i], max, src_sizes[i], 0);
            assert_int_equal(r.rc, first->rc);
            if (first->error)
                assert_string_equal(r.error, first->error);
            assert_memory_equal(&r.res, &first->res, sizeof(r.res));
            if (first->rc == 0 || strstr(first->error, "-byte limit")) {
                assert_string_equal(r.out_digest.str, first->out_digest.str);
                assert_int_equal(r.out_len, first->out_len);
                assert_string_equal(r.tee_u.str, first->tee_u.str);
            }
            run_free(&r);
        }
    }
}

/* Check a successful run against independently computed digests. */
static void assert_good_run(const struct run *r, const struct buf *in, const struct buf *plain,
                            enum lb_compression c)
{
    if (r->rc != 0)
        fail_msg("stream failed: %s", r->error);
    struct lb_digest blob, diff;
    lb_digest_buffer(&blob, in->data, in->len);
    lb_digest_buffer(&diff, plain->data, plain->len);
    assert_int_equal(r->res.compression, c);
    assert_string_equal(r->res.blob_digest.str, blob.str);
    assert_int_equal(r->res.blob_size, in->len);
    assert_string_equal(r->res.diff_id.str, diff.str);
    assert_int_equal(r->res.tar_size, plain->len);
    assert_string_equal(r->out_digest.str, diff.str);
    assert_int_equal(r->out_len, plain->len);
    assert_string_equal(r->tee_c.str, blob.str);
    assert_int_equal(r->tee_c_len, in->len);
    assert_string_equal(r->tee_u.str, diff.str);
    assert_int_equal(r->tee_u_len, plain->len);
}

/* Run in every mode and expect one error containing `needle`, of kind INVALID. */
static void assert_stream_fails(const struct buf *in, uint64_t max, const char *needle)
{
    struct run r;
    run_all_modes(&r, in, max);
    assert_int_equal(r.rc, -1);
    if (strstr(r.error, needle) == NULL)
        fail_msg("error '%s' does not contain '%s'", r.error, needle);
    assert_int_equal(r.error_kind, LB_EKIND_INVALID);
    run_free(&r);
}

/* --- sniffing ----------------------------------------------------------------------------------
 */

static void test_stream__detects_compression_from_the_magic_bytes(void **state)
{
    (void)state;
    assert_int_equal(lb_compression_detect("\x1f\x8b\x08\x00", 4), LB_COMP_GZIP);
    assert_int_equal(lb_compression_detect("\x28\xb5\x2f\xfd\x00", 5), LB_COMP_ZSTD);
    assert_int_equal(lb_compression_detect("\x28\xb5\x2f\xfe", 4), LB_COMP_NONE);
    assert_int_equal(lb_compression_detect("usr/", 4), LB_COMP_NONE);
    /* fewer than 4 bytes: no verdict */
    assert_int_equal(lb_compression_detect("\x1f\x8b\x08", 3), LB_COMP_NONE);
    assert_int_equal(lb_compression_detect("", 0), LB_COMP_NONE);
    assert_string_equal(lb_compression_name(LB_COMP_NONE), "plain");
    assert_string_equal(lb_compression_name(LB_COMP_GZIP), "gzip");
    assert_string_equal(lb_compression_name(LB_COMP_ZSTD), "zstd");
}

/* --- good streams ------------------------------------------------------------------------------
 */

static void test_stream__passes_plain_bytes_through_and_hashes_them_once(void **state)
{
    (void)state;
    struct buf abc = {(unsigned char *)lb_xstrdup("abc"), 3};
    struct run r;
    run_all_modes(&r, &abc, 0);
    assert_good_run(&r, &abc, &abc, LB_COMP_NONE);
    assert_string_equal(r.res.blob_digest.str, ABC_SHA); /* FIPS 180-2 B.1 */
    assert_string_equal(r.res.diff_id.str, ABC_SHA);
    run_free(&r);
    buf_free(&abc);

    struct buf big = known_bytes(3 * MiB + 12345, 1);
    run_all_modes(&r, &big, 0);
    assert_good_run(&r, &big, &big, LB_COMP_NONE);
    run_free(&r);
    buf_free(&big);
}

static void test_stream__empty_input_is_a_plain_empty_stream(void **state)
{
    (void)state;
    struct buf empty = {NULL, 0};
    struct run r;
    run_all_modes(&r, &empty, 0);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.res.compression, LB_COMP_NONE);
    assert_string_equal(r.res.blob_digest.str, EMPTY_SHA);
    assert_string_equal(r.res.diff_id.str, EMPTY_SHA);
    assert_int_equal(r.res.blob_size, 0);
    assert_int_equal(r.res.tar_size, 0);
    assert_int_equal(r.out_len, 0);
    run_free(&r);
}

static void test_stream__short_plain_inputs_are_plain(void **state)
{
    (void)state;
    /* 1 to 3 bytes: too short to sniff, passed through as they are (zstd's first 3 magic bytes
     * included) */
    static const char *inputs[] = {"a", "ab", "\x28\xb5\x2f"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(inputs); i++) {
        struct buf in = {(unsigned char *)lb_xstrdup(inputs[i]), strlen(inputs[i])};
        struct run r;
        run_all_modes(&r, &in, 0);
        assert_good_run(&r, &in, &in, LB_COMP_NONE);
        run_free(&r);
        buf_free(&in);
    }
}

static void test_stream__decompresses_gzip_and_hashes_both_sides(void **state)
{
    (void)state;
    struct buf abc = {(unsigned char *)lb_xstrdup("abc"), 3};
    struct buf gz = gzip_of(abc.data, abc.len, 6);
    struct run r;
    run_all_modes(&r, &gz, 0);
    assert_good_run(&r, &gz, &abc, LB_COMP_GZIP);
    assert_string_equal(r.res.diff_id.str, ABC_SHA);
    run_free(&r);
    buf_free(&gz);
    buf_free(&abc);

    struct buf plain = known_bytes(3 * MiB + 3, 2);
    gz = gzip_of(plain.data, plain.len, 6);
    run_all_modes(&r, &gz, 0);
    assert_good_run(&r, &gz, &plain, LB_COMP_GZIP);
    run_free(&r);
    buf_free(&gz);
    buf_free(&plain);
}

static void test_stream__decompresses_multi_member_gzip(void **state)
{
    (void)state;
    struct buf plain = known_bytes(2 * MiB + 77, 3);
    /* three members split at odd places, the middle one empty, as pigz and `cat a.gz b.gz` make */
    size_t cut = 1234567;
    struct buf m1 = gzip_of(plain.data, cut, 6);
    struct buf m2 = gzip_of("", 0, 6);
    struct buf m3 = gzip_of(plain.data + cut, plain.len - cut, 1);
    struct buf gz = {NULL, 0};
    buf_add(&gz, m1.data, m1.len);
    buf_add(&gz, m2.data, m2.len);
    buf_add(&gz, m3.data, m3.len);
    struct run r;
    run_all_modes(&r, &gz, 0);
    assert_good_run(&r, &gz, &plain, LB_COMP_GZIP);
    run_free(&r);
    buf_free(&gz);
    buf_free(&m1);
    buf_free(&m2);
    buf_free(&m3);
    buf_free(&plain);
}

static void test_stream__decompresses_zstd_and_hashes_both_sides(void **state)
{
    (void)state;
    struct buf abc = {(unsigned char *)lb_xstrdup("abc"), 3};
    struct buf zs = zstd_of(abc.data, abc.len, 3, true);
    struct run r;
    run_all_modes(&r, &zs, 0);
    assert_good_run(&r, &zs, &abc, LB_COMP_ZSTD);
    assert_string_equal(r.res.diff_id.str, ABC_SHA);
    run_free(&r);
    buf_free(&zs);
    buf_free(&abc);

    struct buf plain = known_bytes(3 * MiB + 5, 4);
    zs = zstd_of(plain.data, plain.len, 3, false);
    run_all_modes(&r, &zs, 0);
    assert_good_run(&r, &zs, &plain, LB_COMP_ZSTD);
    run_free(&r);
    buf_free(&zs);
    buf_free(&plain);
}

static void test_stream__decompresses_multi_frame_zstd(void **state)
{
    (void)state;
    struct buf plain = known_bytes(3 * MiB, 5);
    size_t cut = 2000001;
    struct buf f1 = zstd_of(plain.data, cut, 3, true);
    struct buf f2 = zstd_of(plain.data + cut, plain.len - cut, 9, false);
    /* a skippable frame in between (magic 0x184D2A50, little endian, 4-byte size, payload) */
    static const unsigned char skip[] = {0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'x', 'y', 'z'};
    struct buf zs = {NULL, 0};
    buf_add(&zs, f1.data, f1.len);
    buf_add(&zs, skip, sizeof(skip));
    buf_add(&zs, f2.data, f2.len);
    struct run r;
    run_all_modes(&r, &zs, 0);
    assert_good_run(&r, &zs, &plain, LB_COMP_ZSTD);
    run_free(&r);
    buf_free(&zs);
    buf_free(&f1);
    buf_free(&f2);
    buf_free(&plain);
}

static void test_stream__reads_a_file_descriptor_with_lb_source_fd(void **state)
{
    (void)state;
    char *dir = lb_unit_mkdtemp();
    struct buf plain = known_bytes(MiB + 99, 6);
    struct buf gz = gzip_of(plain.data, plain.len, 6);
    lb_unit_write(dir, "layer.gz", gz.data, gz.len);
    char *path = lb_path_join(dir, "layer.gz");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct lb_layer_stream_opts o = {.source = lb_source_fd, .source_data = &fd, .what = "x"};
    struct lb_error *err = NULL;
    struct lb_layer_stream *s = lb_layer_stream_new(&o, &err);
    assert_non_null(s);
    struct lb_layer_stream_result res;
    assert_int_equal(lb_layer_stream_finish(s, &res, &err), 0); /* finish alone drains it all */
    lb_layer_stream_free(s);
    struct lb_digest d;
    lb_digest_buffer(&d, gz.data, gz.len);
    assert_string_equal(res.blob_digest.str, d.str);
    lb_digest_buffer(&d, plain.data, plain.len);
    assert_string_equal(res.diff_id.str, d.str);
    assert_int_equal(res.tar_size, plain.len);

    /* a read error on the descriptor comes back as an error naming the layer */
    close(fd);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* read() on a directory: EISDIR */
    assert_true(fd >= 0);
    s = lb_layer_stream_new(&o, &err);
    assert_non_null(s);
    char b[16];
    assert_int_equal(lb_layer_stream_read(s, b, sizeof(b), &err), -1);
    assert_int_equal(err->code, EISDIR);
    assert_error_contains(err, "x: cannot read");
    lb_layer_stream_free(s);
    close(fd);
    free(path);
    buf_free(&gz);
    buf_free(&plain);
    lb_unit_rmdir(dir);
}

/* --- finish ------------------------------------------------------------------------------------
 */

static void test_stream__finish_drains_what_the_reader_left(void **state)
{
    (void)state;
    struct buf plain = known_bytes(3 * MiB, 7);
    struct buf zs = zstd_of(plain.data, plain.len, 3, true);
    for (int threaded = 0; threaded < 2; threaded++) {
        /* the reader stops after 100 bytes; the digests still cover every byte */
        struct run r;
        run_stream_ex(&r, &zs, threaded, 4096, 0, 0, 100);
        assert_int_equal(r.out_len, 100);
        struct lb_digest d;
        lb_digest_buffer(&d, plain.data, 100);
        assert_string_equal(r.out_digest.str, d.str);
        r.out_digest = r.res.diff_id; /* what the full read would have given */
        r.out_len = r.res.tar_size;
        assert_good_run(&r, &zs, &plain, LB_COMP_ZSTD);
        run_free(&r);
    }
    buf_free(&zs);
    buf_free(&plain);
}

static void test_stream__finish_twice_and_read_after_finish_are_harmless(void **state)
{
    (void)state;
    struct buf in = {(unsigned char *)lb_xstrdup("abc"), 3};
    for (int threaded = 0; threaded < 2; threaded++) {
        struct memsrc src = {.data = in.data, .len = in.len};
        struct lb_layer_stream_opts o = {
            .source = mem_source, .source_data = &src, .threaded = threaded};
        struct lb_error *err = NULL;
        struct lb_layer_stream *s = lb_layer_stream_new(&o, &err);
        struct lb_layer_stream_result a, b;
        assert_int_equal(lb_layer_stream_finish(s, &a, &err), 0);
        assert_int_equal(lb_layer_stream_finish(s, &b, &err), 0);
        assert_memory_equal(&a, &b, sizeof(a));
        assert_string_equal(a.diff_id.str, ABC_SHA);
        char c;
        assert_int_equal(lb_layer_stream_read(s, &c, 1, &err), 0);
        assert_null(err);
        lb_layer_stream_free(s);
    }
    buf_free(&in);
}

/* --- broken streams ----------------------------------------------------------------------------
 */

static void test_stream__truncated_gzip_is_an_error_naming_the_layer(void **state)
{
    (void)state;
    struct buf plain = known_bytes(MiB + 4321, 8);
    struct buf gz = gzip_of(plain.data, plain.len, 6);
    /* inside the magic, the header, the deflate data, the trailer (CRC-32, ISIZE) */
    size_t cuts[] = {2, 3, 9, 20, gz.len / 2, gz.len - 8, gz.len - 5, gz.len - 1};
    for (size_t i = 0; i < LB_ARRAY_SIZE(cuts); i++) {
        struct buf t = {gz.data, cuts[i]};
        assert_stream_fails(&t, 0, "layer 'test': gzip data is truncated");
    }
    /* a second member cut short */
    struct buf two = {NULL, 0};
    buf_add(&two, gz.data, gz.len);
    buf_add(&two, gz.data, 15);
    assert_stream_fails(&two, 0, "layer 'test': gzip data is truncated");
    buf_free(&two);
    buf_free(&gz);
    buf_free(&plain);
}

static void test_stream__corrupt_gzip_is_an_error_naming_the_layer(void **state)
{
    (void)state;
    struct buf plain = known_bytes(300000, 9);
    /* level 0: stored blocks, whose LEN/NLEN pair sits at bytes 11-14 after the 10-byte header */
    struct buf gz = gzip_of(plain.data, plain.len, 0);
    gz.data[13] ^= 0xff;
    assert_stream_fails(&gz, 0, "layer 'test': corrupt gzip data: invalid stored block lengths");
    buf_free(&gz);

    gz = gzip_of(plain.data, plain.len, 6);
    gz.data[gz.len - 8] ^= 0x01; /* CRC-32 */
    assert_stream_fails(&gz, 0, "layer 'test': corrupt gzip data: incorrect data check");
    gz.data[gz.len - 8] ^= 0x01;
    gz.data[gz.len - 4] ^= 0x01; /* ISIZE */
    assert_stream_fails(&gz, 0, "layer 'test': corrupt gzip data: incorrect length check");
    gz.data[gz.len - 4] ^= 0x01;
    gz.data[2] = 7; /* compression method: not deflate */
    assert_stream_fails(&gz, 0, "layer 'test': corrupt gzip data: unknown compression method");
    buf_free(&gz);
    buf_free(&plain);
}

static void test_stream__garbage_after_the_last_gzip_member_is_an_error(void **state)
{
    (void)state;
    struct buf plain = known_bytes(100000, 10);
    struct buf gz = gzip_of(plain.data, plain.len, 6);
    size_t end = gz.len;
    buf_add(&gz, "garbage", 7);
    assert_stream_fails(&gz, 0, "layer 'test': unexpected data after the end of the gzip stream");
    gz.len = end;
    buf_add(&gz, "\0", 1); /* a single zero byte of padding is garbage too */
    assert_stream_fails(&gz, 0, "unexpected data after the end of the gzip stream");
    gz.len = end;
    buf_add(&gz, "\x1f\x8b\x00\x00junk-junk-junk", 18); /* gzip magic, then junk */
    assert_stream_fails(&gz, 0, "layer 'test': corrupt gzip data");
    buf_free(&gz);
    buf_free(&plain);
}

static void test_stream__truncated_zstd_is_an_error_naming_the_layer(void **state)
{
    (void)state;
    struct buf plain = known_bytes(MiB + 4321, 11);
    struct buf zs = zstd_of(plain.data, plain.len, 3, true);
    size_t cuts[] = {4, 5, 9, zs.len / 2, zs.len - 4, zs.len - 1};
    for (size_t i = 0; i < LB_ARRAY_SIZE(cuts); i++) {
        struct buf t = {zs.data, cuts[i]};
        assert_stream_fails(&t, 0, "layer 'test': zstd data is truncated");
    }
    struct buf two = {NULL, 0};
    buf_add(&two, zs.data, zs.len);
    buf_add(&two, zs.data, 6); /* a second frame's header, cut */
    assert_stream_fails(&two, 0, "layer 'test': zstd data is truncated");
    buf_free(&two);
    buf_free(&zs);
    buf_free(&plain);
}

static void test_stream__corrupt_zstd_is_an_error_naming_the_layer(void **state)
{
    (void)state;
    struct buf plain = known_bytes(MiB, 12);
    struct buf zs = zstd_of(plain.data, plain.len, 3, true);
    zs.data[zs.len - 1] ^= 0x01; /* the content checksum */
    assert_stream_fails(&zs, 0, "layer 'test': corrupt zstd data: Restored data doesn't match");
    zs.data[zs.len - 1] ^= 0x01;
    for (size_t i = zs.len / 3; i < zs.len / 3 + 64; i++) /* the middle of the data */
        zs.data[i] ^= 0x5a;
    assert_stream_fails(&zs, 0, "layer 'test': corrupt zstd data: ");
    buf_free(&zs);
    buf_free(&plain);
}

static void test_stream__garbage_after_the_last_zstd_frame_is_an_error(void **state)
{
    (void)state;
    struct buf plain = known_bytes(100000, 13);
    struct buf zs = zstd_of(plain.data, plain.len, 3, false);
    buf_add(&zs, "garbage!", 8);
    assert_stream_fails(&zs, 0, "layer 'test': corrupt zstd data: Unknown frame descriptor");
    buf_free(&zs);
    buf_free(&plain);
}

/* --- the size cap ------------------------------------------------------------------------------
 */

static void test_stream__stops_at_the_uncompressed_size_limit(void **state)
{
    (void)state;
    struct buf plain = known_bytes(1000, 14);
    struct run r;
    /* exactly at the limit: fine; one byte over: an error, after exactly `limit` bytes */
    run_all_modes(&r, &plain, 1000);
    assert_good_run(&r, &plain, &plain, LB_COMP_NONE);
    run_free(&r);
    assert_stream_fails(&plain, 999, "layer 'test' goes beyond the 999-byte limit");
    run_all_modes(&r, &plain, 999);
    assert_int_equal(r.out_len, 999);
    assert_int_equal(r.tee_u_len, 999);
    run_free(&r);

    struct buf gz = gzip_of(plain.data, plain.len, 6);
    run_all_modes(&r, &gz, 1000);
    assert_good_run(&r, &gz, &plain, LB_COMP_GZIP);
    run_free(&r);
    assert_stream_fails(&gz, 10,
                        "layer 'test' expands beyond the 10-byte limit (a decompression bomb?)");
    struct buf zs = zstd_of(plain.data, plain.len, 3, false);
    assert_stream_fails(&zs, 500, "layer 'test' expands beyond the 500-byte limit");
    buf_free(&zs);
    buf_free(&gz);
    buf_free(&plain);
}

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void test_stream__a_gzip_bomb_fails_cleanly_in_fixed_memory(void **state)
{
    (void)state;
    struct buf bomb = gzip_zeros(100ull * MiB); /* 100 MB of zeros in about 100 KB */
    assert_true(bomb.len < 200 * 1024);
    long rss_before = max_rss_kb();
    uint64_t limit = 8 * MiB;
    for (int threaded = 0; threaded < 2; threaded++) {
        struct run r;
        run_stream_ex(&r, &bomb, threaded, 64 * 1024, limit, 0, 0);
        assert_int_equal(r.rc, -1);
        assert_string_equal(r.error, "layer 'test' expands beyond the 8388608-byte limit "
                                     "(a decompression bomb?)");
        assert_int_equal(r.out_len, limit); /* raised as the limit is crossed, not at the end */
        run_free(&r);
    }
    /* Memory stays a few MB (under valgrind the figure is valgrind's own: not checked). */
    const char *preload = getenv("LD_PRELOAD");
    if (!(preload && strstr(preload, "vgpreload")))
        assert_true(max_rss_kb() - rss_before < 24 * 1024);

    /* the same bomb under the default limit of a whole 100 MB passes, and is hashed right */
    struct run r;
    run_stream_ex(&r, &bomb, true, MiB, 0, 0, 0);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.res.tar_size, 100ull * MiB);
    unsigned char *zeros = lb_xmalloc(MiB);
    struct lb_sha256 h;
    lb_sha256_init(&h);
    for (int i = 0; i < 100; i++)
        lb_sha256_update(&h, zeros, MiB);
    struct lb_digest d;
    lb_sha256_final(&h, &d);
    assert_string_equal(r.res.diff_id.str, d.str);
    free(zeros);
    run_free(&r);
    buf_free(&bomb);
}

static void test_stream__the_limit_comes_from_lb_max_layer_bytes_when_not_given(void **state)
{
    (void)state;
    struct buf plain = known_bytes(5000, 15);
    struct buf gz = gzip_of(plain.data, plain.len, 6);
    setenv("LB_MAX_LAYER_BYTES", "4999", 1);
    assert_stream_fails(&gz, 0, "expands beyond the 4999-byte limit");
    struct run r;
    run_all_modes(&r, &gz, 5000); /* an explicit limit wins */
    assert_good_run(&r, &gz, &plain, LB_COMP_GZIP);
    run_free(&r);
    setenv("LB_MAX_LAYER_BYTES", "5000", 1);
    run_all_modes(&r, &gz, 0);
    assert_good_run(&r, &gz, &plain, LB_COMP_GZIP);
    run_free(&r);

    static const char *bad[] = {"lots", "-1", "12k", "0", "99999999999999999999999"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(bad); i++) {
        setenv("LB_MAX_LAYER_BYTES", bad[i], 1);
        struct memsrc src = {.data = gz.data, .len = gz.len};
        struct lb_layer_stream_opts o = {.source = mem_source, .source_data = &src};
        struct lb_error *err = NULL;
        assert_null(lb_layer_stream_new(&o, &err));
        assert_error_contains(err, "invalid LB_MAX_LAYER_BYTES");
    }
    unsetenv("LB_MAX_LAYER_BYTES");
    buf_free(&gz);
    buf_free(&plain);
}

/* --- source and tee errors ---------------------------------------------------------------------
 */

/* One stream with a failing source or tee, in one mode: the error message (owned). */
static char *failing_run(const struct buf *in, bool threaded, size_t fail_at, unsigned tee_c_fail,
                         unsigned tee_u_fail, bool silent)
{
    struct memsrc src = {.data = in->data, .len = in->len, .fail_at = fail_at, .max_read = 65536};
    struct sink tc, tu;
    sink_init(&tc);
    sink_init(&tu);
    tc.fail_on_call = tee_c_fail;
    tu.fail_on_call = tee_u_fail;
    tc.silent_fail = tu.silent_fail = silent;
    struct lb_layer_stream_opts o = {
        .source = mem_source,
        .source_data = &src,
        .tee_compressed = sink_fn,
        .tee_compressed_data = &tc,
        .tee_uncompressed = sink_fn,
        .tee_uncompressed_data = &tu,
        .threaded = threaded,
        .what = "layer 'test'",
    };
    struct lb_error *err = NULL;
    struct lb_layer_stream *s = lb_layer_stream_new(&o, &err);
    assert_non_null(s);
    char *buf = lb_xmalloc(MiB);
    ssize_t n;
    while ((n = lb_layer_stream_read(s, buf, MiB, &err)) > 0)
        ;
    assert_int_equal(n, -1);
    char *msg = lb_xstrdup(err->msg);
    int code = err->code;
    lb_error_clear(&err);
    /* the error is sticky: reads and finish report it again */
    assert_int_equal(lb_layer_stream_read(s, buf, MiB, &err), -1);
    assert_string_equal(err->msg, msg);
    assert_int_equal(err->code, code);
    lb_error_clear(&err);
    struct lb_layer_stream_result res;
    assert_int_equal(lb_layer_stream_finish(s, &res, &err), -1);
    assert_string_equal(err->msg, msg);
    lb_error_clear(&err);
    lb_layer_stream_free(s);
    free(buf);
    lb_sha256_release(&tc.h);
    lb_sha256_release(&tu.h);
    return msg;
}

static void test_stream__source_errors_come_back_naming_the_layer(void **state)
{
    (void)state;
    struct buf plain = known_bytes(3 * MiB, 16);
    struct buf gz = gzip_of(plain.data, plain.len, 6);
    struct buf zs = zstd_of(plain.data, plain.len, 3, false);
    const struct buf *ins[] = {&plain, &gz, &zs};
    for (size_t i = 0; i < LB_ARRAY_SIZE(ins); i++) {
        size_t fails[] = {1, 2, ins[i]->len / 2}; /* during the sniff, and in the middle */
        for (size_t f = 0; f < LB_ARRAY_SIZE(fails); f++) {
            for (int threaded = 0; threaded < 2; threaded++) {
                char *msg = failing_run(ins[i], threaded, fails[f], 0, 0, false);
                assert_string_equal(msg, "layer 'test': cannot read the test source");
                free(msg);
            }
        }
    }
    buf_free(&zs);
    buf_free(&gz);
    buf_free(&plain);
}

static void test_stream__tee_errors_come_back_naming_the_layer(void **state)
{
    (void)state;
    struct buf plain = known_bytes(3 * MiB, 17);
    struct buf gz = gzip_of(plain.data, plain.len, 6);
    const struct buf *ins[] = {&plain, &gz};
    for (size_t i = 0; i < LB_ARRAY_SIZE(ins); i++) {
        for (unsigned call = 1; call <= 3; call += 2) {
            for (int threaded = 0; threaded < 2; threaded++) {
                char *msg = failing_run(ins[i], threaded, 0, call, 0, false);
                assert_string_equal(msg, "layer 'test': cannot write the test blob");
                free(msg);
                msg = failing_run(ins[i], threaded, 0, 0, call, false);
                assert_string_equal(msg, "layer 'test': cannot write the test blob");
                free(msg);
                /* a sink that fails without saying why still gives an error */
                msg = failing_run(ins[i], threaded, 0, 0, call, true);
                assert_string_equal(msg, "layer 'test': cannot write a copy of the layer");
                free(msg);
            }
        }
    }
    buf_free(&gz);
    buf_free(&plain);
}

/* --- the producer thread -----------------------------------------------------------------------
 */

static void test_stream__threaded_and_inline_give_identical_results(void **state)
{
    (void)state;
    /* run_all_modes compares both modes on every stream; here, mixed read sizes on one stream
     * and a short-read source, where chunk boundaries fall differently in the two modes */
    struct buf plain = known_bytes(4 * MiB + 1, 18);
    struct buf gz = gzip_of(plain.data, plain.len, 6);
    struct run a, b;
    run_stream_ex(&a, &gz, false, 3 * MiB, 0, 1000, 0);
    run_stream_ex(&b, &gz, true, 777, 0, 1, 0);
    assert_good_run(&a, &gz, &plain, LB_COMP_GZIP);
    assert_good_run(&b, &gz, &plain, LB_COMP_GZIP);
    run_free(&a);
    run_free(&b);
    buf_free(&gz);
    buf_free(&plain);
}

static void test_stream__threaded_free_stops_the_producer_at_any_point(void **state)
{
    (void)state;
    struct buf plain = known_bytes(8 * MiB, 19);
    struct buf gz = gzip_of(plain.data, plain.len, 1);
    const struct buf *ins[] = {&plain, &gz};
    for (size_t i = 0; i < LB_ARRAY_SIZE(ins); i++) {
        /* right after new, after one byte (producer running or blocked on a full queue),
         * after a while, and with a slow source (producer inside a source read) */
        for (int step = 0; step < 4; step++) {
            struct memsrc src = {.data = ins[i]->data, .len = ins[i]->len};
            if (step == 3) {
                src.delay_us = 2000;
                src.max_read = 4096;
            }
            struct lb_layer_stream_opts o = {
                .source = mem_source, .source_data = &src, .threaded = true, .what = "x"};
            struct lb_error *err = NULL;
            struct lb_layer_stream *s = lb_layer_stream_new(&o, &err);
            assert_non_null(s);
            char b[4096];
            if (step >= 1)
                assert_int_equal(lb_layer_stream_read(s, b, 1, &err), 1);
            if (step == 2) {
                struct timespec ts = {0, 20 * 1000 * 1000};
                nanosleep(&ts, NULL); /* let the producer fill the queue and block */
                assert_true(lb_layer_stream_read(s, b, sizeof(b), &err) > 0);
            }
            lb_layer_stream_free(s);
            assert_null(err);
            assert_true(src.pos <= src.len);
            if (step == 2)
                assert_true(src.pos < src.len || ins[i]->len < 6 * MiB); /* it did stop early */
        }
    }
    lb_layer_stream_free(NULL);
    buf_free(&gz);
    buf_free(&plain);
}

static void test_stream__threaded_free_after_an_error(void **state)
{
    (void)state;
    struct buf plain = known_bytes(MiB, 20);
    struct buf gz = gzip_of(plain.data, plain.len, 6);
    gz.len /= 2;
    struct memsrc src = {.data = gz.data, .len = gz.len};
    struct lb_layer_stream_opts o = {.source = mem_source, .source_data = &src, .threaded = true};
    struct lb_error *err = NULL;
    struct lb_layer_stream *s = lb_layer_stream_new(&o, &err);
    struct lb_layer_stream_result res;
    assert_int_equal(lb_layer_stream_finish(s, &res, &err), -1);
    assert_error_contains(err, "layer: gzip data is truncated"); /* `what` defaults to "layer" */
    lb_layer_stream_free(s);
    buf_free(&gz);
    buf_free(&plain);
}

LB_UNIT_MAIN(cmocka_unit_test(test_stream__detects_compression_from_the_magic_bytes),
             cmocka_unit_test(test_stream__passes_plain_bytes_through_and_hashes_them_once),
             cmocka_unit_test(test_stream__empty_input_is_a_plain_empty_stream),
             cmocka_unit_test(test_stream__short_plain_inputs_are_plain),
             cmocka_unit_test(test_stream__decompresses_gzip_and_hashes_both_sides),
             cmocka_unit_test(test_stream__decompresses_multi_member_gzip),
             cmocka_unit_test(test_stream__decompresses_zstd_and_hashes_both_sides),
             cmocka_unit_test(test_stream__decompresses_multi_frame_zstd),
             cmocka_unit_test(test_stream__reads_a_file_descriptor_with_lb_source_fd),
             cmocka_unit_test(test_stream__finish_drains_what_the_reader_left),
             cmocka_unit_test(test_stream__finish_twice_and_read_after_finish_are_harmless),
             cmocka_unit_test(test_stream__truncated_gzip_is_an_error_naming_the_layer),
             cmocka_unit_test(test_stream__corrupt_gzip_is_an_error_naming_the_layer),
             cmocka_unit_test(test_stream__garbage_after_the_last_gzip_member_is_an_error),
             cmocka_unit_test(test_stream__truncated_zstd_is_an_error_naming_the_layer),
             cmocka_unit_test(test_stream__corrupt_zstd_is_an_error_naming_the_layer),
             cmocka_unit_test(test_stream__garbage_after_the_last_zstd_frame_is_an_error),
             cmocka_unit_test(test_stream__stops_at_the_uncompressed_size_limit),
             cmocka_unit_test(test_stream__a_gzip_bomb_fails_cleanly_in_fixed_memory),
             cmocka_unit_test(test_stream__the_limit_comes_from_lb_max_layer_bytes_when_not_given),
             cmocka_unit_test(test_stream__source_errors_come_back_naming_the_layer),
             cmocka_unit_test(test_stream__tee_errors_come_back_naming_the_layer),
             cmocka_unit_test(test_stream__threaded_and_inline_give_identical_results),
             cmocka_unit_test(test_stream__threaded_free_stops_the_producer_at_any_point),
             cmocka_unit_test(test_stream__threaded_free_after_an_error))
