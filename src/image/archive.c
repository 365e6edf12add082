/* archive.c — the pieces load, save and import share: reading a layer tar, building a manifest,
 * and publishing into the store so that a failure can be undone.
 *
 * The concept: a layer is a tar, maybe compressed. Its DiffID is the sha256 of the *uncompressed*
 * tar (what the config's rootfs.diff_ids lists); its blob digest is the sha256 of the bytes as
 * stored (what the manifest lists). For a plain tar both are the same. One pass through
 * libarchive answers everything a loader must check: is it really a tar, what is its DiffID, how
 * big are its files. To get the DiffID and walk the tar in the same pass, two libarchive readers
 * are chained: a "raw" reader decompresses, and a tar reader pulls its input from it through a
 * callback that hashes every byte on the way.
 *
 * Sits on libarchive, image/digest, image/store.
 * Interface: lb_archive_format_parse, lb_compression_sniff, lb_compression_name,
 *            lb_layer_media_type, lb_layer_scan, lb_decompress_fd, lb_manifest_new,
 *            lb_manifest_add_layer, lb_publish_writer, lb_publish_blob, lb_publish_layer,
 *            lb_publish_rollback, lb_publish_release, lb_host_goarch, lb_short_digest
 */
#include "image/archive.h"
#include "core/cleanup.h"
#include "core/explain.h"
#include "core/fs.h"
#include "core/util.h"
#include "image/archive_internal.h"
#include "image/image.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

int lb_archive_format_parse(enum lb_archive_format *out, const char *s, struct lb_error **err)
{
    if (s && (strcmp(s, "docker-archive") == 0 || strcmp(s, "docker") == 0)) {
        *out = LB_ARCHIVE_DOCKER;
        return 0;
    }
    if (s && (strcmp(s, "oci-archive") == 0 || strcmp(s, "oci") == 0)) {
        *out = LB_ARCHIVE_OCI;
        return 0;
    }
    return lb_error_setk(err, LB_EKIND_USAGE, 0,
                         "unknown archive format '%s' (use docker-archive or oci-archive)",
                         s ? s : "");
}

const char *lb_host_goarch(void)
{
    static const struct {
        const char *machine, *goarch;
    } map[] = {
        {"x86_64", "amd64"},
        {"amd64", "amd64"},
        {"aarch64", "arm64"},
        {"arm64", "arm64"},
        {"armv7l", "arm"},
        {"armv6l", "arm"},
        {"armv5tel", "arm"},
        {"i386", "386"},
        {"i486", "386"},
        {"i586", "386"},
        {"i686", "386"},
        {"ppc64le", "ppc64le"},
        {"ppc64", "ppc64"},
        {"s390x", "s390x"},
        {"riscv64", "riscv64"},
        {"mips64", "mips64"},
        {"loongarch64", "loong64"},
    };
    static char machine[sizeof(((struct utsname *)0)->machine)];
    struct utsname u;
    if (uname(&u) < 0)
        return "amd64";
    for (size_t i = 0; i < LB_ARRAY_SIZE(map); i++)
        if (strcmp(u.machine, map[i].machine) == 0)
            return map[i].goarch;
    snprintf(machine, sizeof(machine), "%s", u.machine);
    return machine;
}

const char *lb_short_digest(char buf[20], const struct lb_digest *d)
{
    snprintf(buf, 20, "%.19s", d->str);
    return buf;
}

/* --- compression ------------------------------------------------------------------------- */

int lb_compression_sniff(int fd, enum lb_compression *out, struct lb_error **err)
{
    unsigned char m[6] = {0};
    ssize_t n;
    do
        n = pread(fd, m, sizeof(m), 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return lb_error_set(err, errno, "cannot read");
    if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
        *out = LB_COMP_GZIP;
    else if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
        *out = LB_COMP_ZSTD;
    else if ((n >= 6 && memcmp(m,
                               "\xfd"
                               "7zXZ\0",
                               6) == 0) ||
             (n >= 3 && memcmp(m, "BZh", 3) == 0))
        *out = LB_COMP_OTHER;
    else
        *out = LB_COMP_NONE;
    return 0;
}

const char *lb_compression_name(enum lb_compression c)
{
    switch (c) {
    case LB_COMP_NONE:
        return "plain";
    case LB_COMP_GZIP:
        return "gzip";
    case LB_COMP_ZSTD:
        return "zstd";
    default:
        return "compressed";
    }
}

const char *lb_layer_media_type(enum lb_compression c)
{
    switch (c) {
    case LB_COMP_NONE:
        return LB_MT_OCI_LAYER;
    case LB_COMP_GZIP:
        return LB_MT_OCI_LAYER_GZIP;
    case LB_COMP_ZSTD:
        return LB_MT_OCI_LAYER_ZSTD;
    default:
        return NULL;
    }
}

/* --- the chained readers ----------------------------------------------------------------- */

struct pipe {
    struct archive *raw; /* decompresses fd */
    struct lb_sha256 hash;
    bool hashing;
    lb_layer_sink sink;
    void *sink_data;
    struct lb_error **err;
    int64_t bytes;
    bool raw_failed;  /* decompression error: its message is in raw */
    bool sink_failed; /* the sink set *err */
};

/* Next block of uncompressed bytes: 0 at the end, -1 on error. */
static la_ssize_t pipe_next(struct pipe *p, const void **buf)
{
    size_t size = 0;
    la_int64_t off = 0;
    int r = archive_read_data_block(p->raw, buf, &size, &off);
    if (r == ARCHIVE_EOF)
        return 0;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
        p->raw_failed = true;
        return -1;
    }
    if (p->hashing)
        lb_sha256_update(&p->hash, *buf, size);
    if (p->sink && p->sink(p->sink_data, *buf, size, p->err) < 0) {
        p->sink_failed = true;
        return -1;
    }
    p->bytes += (int64_t)size;
    return (la_ssize_t)size;
}

static la_ssize_t pipe_read_cb(struct archive *a, void *data, const void **buf)
{
    struct pipe *p = data;
    la_ssize_t n = pipe_next(p, buf);
    if (n < 0)
        archive_set_error(a, EIO, "input failed");
    return n;
}

static struct archive *raw_reader_open(int fd, const char *what, struct lb_error **err)
{
    struct archive *raw = archive_read_new();
    if (raw == NULL)
        lb_oom();
    archive_read_support_filter_all(raw);
    archive_read_support_format_raw(raw);
    struct archive_entry *e = NULL;
    if (archive_read_open_fd(raw, fd, LB_ARCHIVE_BLOCK) != ARCHIVE_OK ||
        archive_read_next_header(raw, &e) != ARCHIVE_OK) {
        /* the raw format accepts any byte, so only an empty input is unrecognised */
        const char *msg = archive_error_string(raw);
        if (msg == NULL || strstr(msg, "Unrecognized archive format"))
            lb_error_setk(err, LB_EKIND_INVALID, 0, "%s is not a tar archive: it is empty", what);
        else
            lb_error_setk(err, LB_EKIND_INVALID, 0, "%s: cannot decompress: %s", what, msg);
        archive_read_free(raw);
        return NULL;
    }
    return raw;
}

/* Walk the tar a, summing regular files. The caller names the failure. */
static int walk_tar(struct archive *a, struct lb_layer_scan *out)
{
    struct archive_entry *e = NULL;
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        out->files++;
        if (archive_entry_filetype(e) == AE_IFREG && archive_entry_hardlink(e) == NULL &&
            archive_entry_size(e) > 0)
            out->unpacked_size += archive_entry_size(e);
    }
    return r == ARCHIVE_EOF ? 0 : -1;
}

static int tar_error(struct archive *a, int64_t bytes, const char *what, struct lb_error **err)
{
    const char *msg = archive_error_string(a);
    if (bytes == 0)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s is not a tar archive: it is empty",
                             what);
    if (msg && strstr(msg, "Unrecognized archive format"))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s is not a tar archive", what);
    return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s is not a valid tar archive: %s", what,
                         msg ? msg : "read error");
}

/* Plain tar on a seekable fd, nothing to hash: headers only, data skipped by lseek. */
static int scan_direct(int fd, const char *what, struct lb_layer_scan *out, struct lb_error **err)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return lb_error_set(err, errno, "%s: cannot stat", what);
    struct archive *a = archive_read_new();
    if (a == NULL)
        lb_oom();
    archive_read_support_format_tar(a);
    int rc = 0;
    if (archive_read_open_fd(a, fd, LB_ARCHIVE_BLOCK) != ARCHIVE_OK || walk_tar(a, out) < 0)
        rc = tar_error(a, (int64_t)st.st_size, what, err);
    archive_read_free(a);
    return rc;
}

int lb_layer_scan(int fd, bool hash, lb_layer_sink sink, void *sink_data, const char *what,
                  struct lb_layer_scan *out, struct lb_error **err)
{
    memset(out, 0, sizeof(*out));
    struct stat st;
    if (!hash && sink == NULL && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if (lb_compression_sniff(fd, &out->compression, err) < 0)
            return lb_error_wrap(err, "%s", what);
        if (out->compression == LB_COMP_NONE)
            return scan_direct(fd, what, out, err);
    }

    struct pipe p = {.hashing = hash, .sink = sink, .sink_data = sink_data, .err = err};
    p.raw = raw_reader_open(fd, what, err);
    if (p.raw == NULL)
        return -1;
    switch (archive_filter_code(p.raw, 0)) {
    case ARCHIVE_FILTER_NONE:
        out->compression = LB_COMP_NONE;
        break;
    case ARCHIVE_FILTER_GZIP:
        out->compression = LB_COMP_GZIP;
        break;
    case ARCHIVE_FILTER_ZSTD:
        out->compression = LB_COMP_ZSTD;
        break;
    default:
        out->compression = LB_COMP_OTHER;
    }
    if (hash)
        lb_sha256_init(&p.hash);
    struct archive *t = archive_read_new();
    if (t == NULL)
        lb_oom();
    archive_read_support_format_tar(t);
    int rc = 0;
    if (archive_read_open(t, &p, NULL, pipe_read_cb, NULL) != ARCHIVE_OK || walk_tar(t, out) < 0) {
        if (p.sink_failed)
            rc = -1;
        else if (p.raw_failed)
            rc = lb_error_setk(err, LB_EKIND_INVALID, 0, "%s: %s data is corrupt: %s", what,
                               lb_compression_name(out->compression), archive_error_string(p.raw));
        else
            rc = tar_error(t, p.bytes, what, err);
    }
    /* What follows the tar's end-of-archive blocks is part of the stream (and of the DiffID). */
    const void *buf = NULL;
    la_ssize_t n = 0;
    while (rc == 0 && (n = pipe_next(&p, &buf)) > 0)
        ;
    if (rc == 0 && n < 0)
        rc = p.sink_failed ? -1
                           : lb_error_setk(err, LB_EKIND_INVALID, 0, "%s: %s data is corrupt: %s",
                                           what, lb_compression_name(out->compression),
                                           archive_error_string(p.raw));
    archive_read_free(t);
    archive_read_free(p.raw);
    out->tar_size = p.bytes;
    if (hash) {
        if (rc == 0)
            lb_sha256_final(&p.hash, &out->diff_id);
        else
            lb_sha256_release(&p.hash);
    }
    return rc;
}

int lb_decompress_fd(int fd, lb_layer_sink sink, void *sink_data, const char *what,
                     struct lb_error **err)
{
    struct pipe p = {.sink = sink, .sink_data = sink_data, .err = err};
    p.raw = raw_reader_open(fd, what, err);
    if (p.raw == NULL)
        return -1;
    const void *buf = NULL;
    la_ssize_t n;
    while ((n = pipe_next(&p, &buf)) > 0)
        ;
    int rc = 0;
    if (n < 0 && !p.sink_failed)
        rc = lb_error_setk(err, LB_EKIND_INVALID, 0, "%s: compressed data is corrupt: %s", what,
                           archive_error_string(p.raw));
    else if (n < 0)
        rc = -1;
    archive_read_free(p.raw);
    return rc;
}

/* --- manifests --------------------------------------------------------------------------- */

json_t *lb_manifest_new(const struct lb_digest *config, int64_t config_size)
{
    json_t *m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:[]}", "schemaVersion", 2, "mediaType",
                          LB_MT_OCI_MANIFEST, "config", "mediaType", LB_MT_OCI_CONFIG, "digest",
                          config->str, "size", (json_int_t)config_size, "layers");
    if (m == NULL)
        lb_oom();
    return m;
}

void lb_manifest_add_layer(json_t *manifest, const char *media_type, const struct lb_digest *d,
                           int64_t size)
{
    json_t *l = json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", d->str, "size",
                          (json_int_t)size);
    if (l == NULL)
        lb_oom();
    json_array_append_new(json_object_get(manifest, "layers"), l);
}

/* --- publishing with undo ---------------------------------------------------------------- */

int lb_publish_writer(struct lb_publish *p, struct lb_blob_writer *w, struct lb_error **err)
{
    bool existed = lb_store_has_blob(p->store, &w->digest);
    struct lb_digest d = w->digest;
    if (lb_blob_writer_publish(w, err) < 0)
        return -1;
    if (!existed) {
        _cleanup_free_ char *rel = lb_store_blob_relpath(&d);
        lb_strv_push(&p->created, rel);
    }
    return 0;
}

int lb_publish_blob(struct lb_publish *p, struct lb_digest *out, const void *data, size_t len,
                    struct lb_error **err)
{
    struct lb_digest d;
    lb_digest_buffer(&d, data, len);
    bool existed = lb_store_has_blob(p->store, &d);
    if (lb_store_blob_put(p->store, out, data, len, err) < 0)
        return -1;
    if (!existed) {
        _cleanup_free_ char *rel = lb_store_blob_relpath(&d);
        lb_strv_push(&p->created, rel);
    }
    return 0;
}

int lb_publish_layer(struct lb_publish *p, const struct lb_digest *chain_id,
                     const struct lb_digest *parent, const struct lb_digest *diff_id, int64_t size,
                     struct lb_error **err)
{
    _cleanup_free_ char *dir = lb_xasprintf("layers/%s", lb_digest_hex(chain_id));
    bool existed = lb_path_exists_at(p->store->root_fd, dir);
    if (existed && lb_store_layer_size(p->store, chain_id) == size)
        return 0; /* recorded by an earlier load: leave it byte-for-byte alone */
    if (lb_store_layer_record(p->store, chain_id, parent, diff_id, size, err) < 0)
        return -1;
    if (!existed)
        lb_strv_push(&p->created, dir);
    char sc[20];
    lb_explain("store",
               "recorded layer %s… (its chain ID: sha256 of the parent chain ID + \" \" + DiffID): "
               "%lld bytes unpacked, in %s/meta.json",
               lb_short_digest(sc, chain_id), (long long)size, dir);
    return 0;
}

void lb_publish_rollback(struct lb_publish *p)
{
    size_t n = lb_strv_len(p->created);
    for (size_t i = n; i-- > 0;) {
        struct lb_error *e = NULL;
        lb_rm_tree_at(p->store->root_fd, p->created[i], &e);
        lb_error_free(e);
        lb_explain("store", "rolled back %s", p->created[i]);
    }
    lb_strv_free(p->created);
    p->created = NULL;
}

void lb_publish_release(struct lb_publish *p)
{
    lb_strv_free(p->created);
    p->created = NULL;
}
