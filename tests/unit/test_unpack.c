/* test_unpack.c — stream (decompress + hash) → libarchive → apply, in one pass.
 *
 * The tar is built in memory with libarchive's writer and compressed here with zlib and libzstd;
 * the expected digests are computed with OpenSSL's SHA-256 over those buffers, not by the code
 * under test. */
#include "unit.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "layer/unpack.h"

struct buf {
    unsigned char *data;
    size_t len;
};

/* A tar of: dir d/, file d/f ("hello"), symlink d/l -> f, then `copies` files of extra_len 'x's
 * named extra_name (extra_name0, extra_name1... when copies > 1). */
static struct buf make_tar_n(const char *extra_name, size_t extra_len, int copies)
{
    size_t cap = (size_t)copies * (extra_len + 4096) + (1 << 20);
    struct buf b = {lb_xmalloc(cap), 0};
    struct archive *w = archive_write_new();
    archive_write_set_format_pax_restricted(w);
    assert_int_equal(archive_write_open_memory(w, b.data, cap, &b.len), ARCHIVE_OK);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, "d/");
    archive_entry_set_filetype(e, AE_IFDIR);
    archive_entry_set_perm(e, 0755);
    assert_int_equal(archive_write_header(w, e), ARCHIVE_OK);
    archive_entry_clear(e);
    archive_entry_set_pathname(e, "d/f");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, 5);
    assert_int_equal(archive_write_header(w, e), ARCHIVE_OK);
    assert_int_equal(archive_write_data(w, "hello", 5), 5);
    archive_entry_clear(e);
    archive_entry_set_pathname(e, "d/l");
    archive_entry_set_filetype(e, AE_IFLNK);
    archive_entry_set_perm(e, 0777);
    archive_entry_set_symlink(e, "f");
    assert_int_equal(archive_write_header(w, e), ARCHIVE_OK);
    for (int i = 0; extra_name && i < copies; i++) {
        archive_entry_clear(e);
        char *name = copies > 1 ? lb_xasprintf("%s%d", extra_name, i) : lb_xstrdup(extra_name);
        archive_entry_set_pathname(e, name);
        free(name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)extra_len);
        assert_int_equal(archive_write_header(w, e), ARCHIVE_OK);
        unsigned char *x = lb_xmalloc(extra_len + 1);
        memset(x, 'x', extra_len);
        assert_int_equal(archive_write_data(w, x, extra_len), (la_ssize_t)extra_len);
        free(x);
    }
    archive_entry_free(e);
    assert_int_equal(archive_write_close(w), ARCHIVE_OK);
    archive_write_free(w);
    return b;
}

static struct buf make_tar(const char *extra_name, size_t extra_len)
{
    return make_tar_n(extra_name, extra_len, 1);
}

static struct buf gzip_of(struct buf in)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    struct buf out = {lb_xmalloc(deflateBound(&z, in.len) + 64), 0};
    z.next_in = in.data;
    z.avail_in = (uInt)in.len;
    z.next_out = out.data;
    z.avail_out = (uInt)(deflateBound(&z, in.len) + 64);
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.len = z.total_out;
    deflateEnd(&z);
    return out;
}

static struct buf zstd_of(struct buf in)
{
    size_t cap = ZSTD_compressBound(in.len);
    struct buf out = {lb_xmalloc(cap), 0};
    out.len = ZSTD_compress(out.data, cap, in.data, in.len, 3);
    assert_false(ZSTD_isError(out.len));
    return out;
}

static void sha256_str(char out[72], const void *data, size_t len)
{
    unsigned char md[32];
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(data, len, md, &n, EVP_sha256(), NULL), 1);
    int k = snprintf(out, 72, "sha256:");
    for (unsigned i = 0; i < 32; i++)
        k += snprintf(out + k, (size_t)(72 - k), "%02x", md[i]);
}

struct memsrc {
    const unsigned char *data;
    size_t len, pos;
};

static ssize_t mem_source(void *data, void *buf, size_t len, struct lb_error **err)
{
    (void)err;
    struct memsrc *m = data;
    size_t k = m->len - m->pos < len ? m->len - m->pos : len;
    memcpy(buf, m->data + m->pos, k);
    m->pos += k;
    return (ssize_t)k;
}

struct target {
    char *dir;
    int fd;
};

static struct target target_new(void)
{
    struct target t = {lb_unit_mkdtemp(), -1};
    t.fd = open(t.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(t.fd >= 0);
    return t;
}

static void target_free(struct target *t)
{
    close(t->fd);
    lb_unit_rmdir(t->dir);
}

static int unpack(struct buf blob, int fd, bool threaded, uint64_t max, struct lb_unpack_result *r,
                  struct lb_error **err)
{
    struct memsrc m = {blob.data, blob.len, 0};
    struct lb_layer_stream_opts so = {.source = mem_source,
                                      .source_data = &m,
                                      .max_uncompressed = max,
                                      .threaded = threaded,
                                      .what = "layer 'unit'"};
    struct lb_apply_opts ao = {LB_WHITEOUT_FILES, false, 0, NULL};
    return lb_layer_unpack(&so, fd, &ao, r, err);
}

static void unpacks_and_verifies(enum lb_compression comp, bool threaded)
{
    struct buf tar = make_tar(NULL, 0);
    struct buf blob = comp == LB_COMP_GZIP   ? gzip_of(tar)
                      : comp == LB_COMP_ZSTD ? zstd_of(tar)
                                             : tar;
    char want_blob[72], want_diff[72];
    sha256_str(want_blob, blob.data, blob.len);
    sha256_str(want_diff, tar.data, tar.len);
    struct target t = target_new();
    struct lb_unpack_result r;
    struct lb_error *err = NULL;
    if (unpack(blob, t.fd, threaded, 0, &r, &err) < 0)
        fail_msg("unpack: %s", err->msg);
    assert_int_equal(r.stream.compression, comp);
    assert_string_equal(r.stream.blob_digest.str, want_blob);
    assert_string_equal(r.stream.diff_id.str, want_diff);
    assert_int_equal(r.stream.blob_size, blob.len);
    assert_int_equal(r.stream.tar_size, tar.len);
    assert_int_equal(r.stats.entries, 3);
    assert_int_equal(r.stats.files, 1);
    assert_int_equal(r.stats.dirs, 1);
    assert_int_equal(r.stats.symlinks, 1);
    assert_int_equal(r.stats.regular_bytes, 5);
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(lb_read_file_at(t.fd, "d/f", 64, &data, &len, &err), 0);
    assert_string_equal(data, "hello");
    free(data);
    struct stat st;
    assert_int_equal(fstatat(t.fd, "d/l", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(S_ISLNK(st.st_mode));
    target_free(&t);
    if (blob.data != tar.data)
        free(blob.data);
    free(tar.data);
}

static void test_unpack__plain_tar_is_unpacked_and_both_digests_are_the_tars(void **state)
{
    (void)state;
    unpacks_and_verifies(LB_COMP_NONE, false);
}

static void test_unpack__gzip_layer_is_unpacked_with_blob_digest_and_diff_id(void **state)
{
    (void)state;
    unpacks_and_verifies(LB_COMP_GZIP, false);
}

static void test_unpack__zstd_layer_is_unpacked_with_blob_digest_and_diff_id(void **state)
{
    (void)state;
    unpacks_and_verifies(LB_COMP_ZSTD, false);
}

static void test_unpack__threaded_stream_gives_the_same_result(void **state)
{
    (void)state;
    unpacks_and_verifies(LB_COMP_GZIP, true);
    unpacks_and_verifies(LB_COMP_ZSTD, true);
}

static void test_unpack__a_rejected_entry_is_named_with_the_layer(void **state)
{
    (void)state;
    struct buf tar = make_tar("../evil", 3);
    struct buf gz = gzip_of(tar);
    struct target t = target_new();
    struct lb_unpack_result r;
    struct lb_error *err = NULL;
    assert_int_equal(unpack(gz, t.fd, false, 0, &r, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_string_equal(err->msg, "layer 'unit': entry '../evil': path leaves the layer ('..')");
    lb_error_free(err);
    char *parent = lb_xasprintf("%s/../evil", t.dir);
    assert_false(lb_path_exists_at(AT_FDCWD, parent));
    free(parent);
    target_free(&t);
    free(gz.data);
    free(tar.data);
}

/* The tar itself is complete; what follows the gzip stream is garbage. Unpack must fail (the
 * stream's finish reports it), not succeed with an error left behind. */
static void test_unpack__garbage_after_a_complete_gzip_layer_fails(void **state)
{
    (void)state;
    struct buf tar = make_tar("f", 3);
    struct buf gz = gzip_of(tar);
    gz.data = lb_xrealloc(gz.data, gz.len + 4);
    memcpy(gz.data + gz.len, "junk", 4);
    gz.len += 4;
    struct target t = target_new();
    struct lb_unpack_result r;
    struct lb_error *err = NULL;
    assert_int_equal(unpack(gz, t.fd, false, 0, &r, &err), -1);
    assert_error_contains(err, "after the end of the gzip stream");
    target_free(&t);
    free(gz.data);
    free(tar.data);
}

/* A stream failure reaches libarchive as a read error; the stream's own message is reported. */
static void test_unpack__truncated_compressed_input_reports_the_streams_error(void **state)
{
    (void)state;
    struct buf tar = make_tar("big", 200000);
    struct buf gz = gzip_of(tar);
    struct buf zs = zstd_of(tar);
    struct target t = target_new();
    struct lb_unpack_result r;
    struct lb_error *err = NULL;
    struct buf cut = {gz.data, gz.len / 2};
    assert_int_equal(unpack(cut, t.fd, false, 0, &r, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_string_equal(err->msg, "layer 'unit': gzip data is truncated");
    lb_error_free(err);
    err = NULL;
    cut = (struct buf){zs.data, zs.len / 2};
    assert_int_equal(unpack(cut, t.fd, true, 0, &r, &err), -1);
    assert_string_equal(err->msg, "layer 'unit': zstd data is truncated");
    lb_error_free(err);
    err = NULL;
    /* a plain tar cut inside a file's data: libarchive's message, with the entry */
    cut = (struct buf){tar.data, tar.len / 2};
    assert_int_equal(unpack(cut, t.fd, false, 0, &r, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err,
                          "layer 'unit': entry 'big': cannot read the tar: Truncated tar archive");
    target_free(&t);
    free(zs.data);
    free(gz.data);
    free(tar.data);
}

static void test_unpack__zero_bytes_are_an_empty_layer(void **state)
{
    (void)state;
    struct target t = target_new();
    struct lb_unpack_result r;
    struct lb_error *err = NULL;
    unsigned char none[1];
    if (unpack((struct buf){none, 0}, t.fd, false, 0, &r, &err) < 0)
        fail_msg("unpack: %s", err->msg);
    assert_int_equal(r.stats.entries, 0);
    assert_int_equal(r.stream.tar_size, 0);
    /* sha256 of nothing (FIPS 180-2) */
    assert_string_equal(r.stream.diff_id.str,
                        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    target_free(&t);
}

static void test_unpack__junk_input_is_not_a_tar(void **state)
{
    (void)state;
    unsigned char junk[4096];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (unsigned char)(i * 31 + 7);
    struct target t = target_new();
    struct lb_unpack_result r;
    struct lb_error *err = NULL;
    assert_int_equal(unpack((struct buf){junk, sizeof(junk)}, t.fd, false, 0, &r, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "layer 'unit': cannot read the tar: ");
    /* valid gzip of junk: still not a tar */
    struct buf gz = gzip_of((struct buf){junk, sizeof(junk)});
    assert_int_equal(unpack(gz, t.fd, false, 0, &r, &err), -1);
    assert_error_contains(err, "layer 'unit': cannot read the tar: ");
    free(gz.data);
    /* gzip magic then junk: the stream's error */
    junk[0] = 0x1f;
    junk[1] = 0x8b;
    assert_int_equal(unpack((struct buf){junk, sizeof(junk)}, t.fd, false, 0, &r, &err), -1);
    assert_error_contains(err, "layer 'unit': corrupt gzip data");
    target_free(&t);
}

/* An entry claiming more than the whole layer may hold is refused at its header, before any of
 * it is written, even though the caller gave no max_entry_size. */
static void test_unpack__entry_larger_than_the_layer_limit_is_refused_at_its_header(void **state)
{
    (void)state;
    struct buf tar = make_tar("big", 300000);
    struct buf gz = gzip_of(tar);
    struct target t = target_new();
    struct lb_unpack_result r;
    struct lb_error *err = NULL;
    assert_int_equal(unpack(gz, t.fd, false, 200000, &r, &err), -1);
    assert_string_equal(err->msg, "layer 'unit': entry 'big': claims 300000 bytes, more than the "
                                  "limit of 200000 bytes");
    lb_error_free(err);
    err = NULL;
    assert_false(lb_path_exists_at(t.fd, "big"));
    /* the same limit from the environment */
    setenv("LB_MAX_LAYER_BYTES", "250000", 1);
    assert_int_equal(unpack(gz, t.fd, false, 0, &r, &err), -1);
    unsetenv("LB_MAX_LAYER_BYTES");
    assert_string_equal(err->msg, "layer 'unit': entry 'big': claims 300000 bytes, more than the "
                                  "limit of 250000 bytes");
    lb_error_free(err);
    assert_false(lb_path_exists_at(t.fd, "big"));
    target_free(&t);
    free(gz.data);
    free(tar.data);
}

/* Entries each under the limit, more bytes in all: the stream's limit stops it mid-file. */
static void test_unpack__decompression_bomb_stops_at_the_stream_limit(void **state)
{
    (void)state;
    struct buf tar = make_tar_n("x", 600000, 8); /* 'x's compress about 1000:1 */
    struct buf gz = gzip_of(tar);
    assert_true(gz.len < tar.len / 100);
    struct target t = target_new();
    struct lb_unpack_result r;
    struct lb_error *err = NULL;
    struct memsrc m = {gz.data, gz.len, 0};
    struct lb_layer_stream_opts so = {.source = mem_source,
                                      .source_data = &m,
                                      .max_uncompressed = 1 << 20,
                                      .what = "layer 'bomb'"};
    struct lb_apply_opts ao = {LB_WHITEOUT_FILES, false, 0, NULL};
    assert_int_equal(lb_layer_unpack(&so, t.fd, &ao, &r, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_string_equal(err->msg, "layer 'bomb' expands beyond the 1048576-byte limit (a "
                                  "decompression bomb?)");
    lb_error_free(err);
    target_free(&t);
    free(gz.data);
    free(tar.data);
}

LB_UNIT_MAIN(
    cmocka_unit_test(test_unpack__garbage_after_a_complete_gzip_layer_fails),
    cmocka_unit_test(test_unpack__plain_tar_is_unpacked_and_both_digests_are_the_tars),
    cmocka_unit_test(test_unpack__gzip_layer_is_unpacked_with_blob_digest_and_diff_id),
    cmocka_unit_test(test_unpack__zstd_layer_is_unpacked_with_blob_digest_and_diff_id),
    cmocka_unit_test(test_unpack__threaded_stream_gives_the_same_result),
    cmocka_unit_test(test_unpack__a_rejected_entry_is_named_with_the_layer),
    cmocka_unit_test(test_unpack__truncated_compressed_input_reports_the_streams_error),
    cmocka_unit_test(test_unpack__zero_bytes_are_an_empty_layer),
    cmocka_unit_test(test_unpack__junk_input_is_not_a_tar),
    cmocka_unit_test(test_unpack__entry_larger_than_the_layer_limit_is_refused_at_its_header),
    cmocka_unit_test(test_unpack__decompression_bomb_stops_at_the_stream_limit))
