/* unpack.c — one pass from a layer's compressed bytes to files on disk.
 *
 * The concept: a layer is read exactly once. stream.c pulls the compressed bytes, hashes them
 * (blob digest), decompresses and hashes again (DiffID); libarchive only parses tar headers out
 * of the already-decompressed bytes (no filters: decompression is not its job here); apply.c
 * turns each entry into files. The digests are known only at the end, so the caller unpacks into
 * a staging directory and publishes it only when both match.
 * Sits on: stream.c, apply.c, libarchive. Used by: the image store's load and import.
 *
 * Interface: lb_layer_unpack
 */
#include "layer/unpack.h"

#include <archive.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/util.h"

#define UNPACK_BUF (256 * 1024)

struct reader {
    struct lb_layer_stream *stream;
    struct lb_error *err; /* the stream's own error, more precise than libarchive's copy */
    unsigned char *buf;
};

static la_ssize_t read_cb(struct archive *a, void *data, const void **buf)
{
    struct reader *r = data;
    *buf = r->buf;
    if (r->err)
        return -1;
    ssize_t n = lb_layer_stream_read(r->stream, r->buf, UNPACK_BUF, &r->err);
    if (n < 0) {
        archive_set_error(a, EIO, "%s", r->err && r->err->msg ? r->err->msg : "read error");
        return -1;
    }
    return n;
}

/* The stream's size limit, which also bounds what one entry may claim (a 1 TB header in a
 * layer capped at 64 GiB is a lie: reject it before writing anything). */
static uint64_t stream_limit(const struct lb_layer_stream_opts *o)
{
    if (o->max_uncompressed)
        return o->max_uncompressed;
    const char *v = getenv("LB_MAX_LAYER_BYTES");
    if (v && *v >= '0' && *v <= '9') {
        char *end = NULL;
        errno = 0;
        unsigned long long x = strtoull(v, &end, 10);
        if (errno == 0 && *end == '\0' && x > 0)
            return x;
    }
    return LB_LAYER_MAX_BYTES_DEFAULT;
}

int lb_layer_unpack(const struct lb_layer_stream_opts *stream_opts, int dirfd,
                    const struct lb_apply_opts *apply_opts, struct lb_unpack_result *out,
                    struct lb_error **err)
{
    memset(out, 0, sizeof(*out));
    struct reader r = {.stream = lb_layer_stream_new(stream_opts, err)};
    if (r.stream == NULL)
        return -1;
    r.buf = lb_xmalloc(UNPACK_BUF);

    struct lb_apply_opts opts = *apply_opts;
    uint64_t limit = stream_limit(stream_opts);
    if (opts.max_entry_size == 0 || opts.max_entry_size > limit)
        opts.max_entry_size = limit;
    if (opts.what == NULL)
        opts.what = stream_opts->what;

    int rc = -1;
    struct lb_error *aerr = NULL;
    struct archive *a = archive_read_new();
    if (a == NULL)
        lb_oom();
    archive_read_support_format_tar(a);   /* ustar, pax and GNU tar */
    archive_read_support_format_empty(a); /* a 0-byte layer is an empty one (docker, GNU tar) */
    if (archive_read_open(a, &r, NULL, read_cb, NULL) != ARCHIVE_OK) {
        const char *m = archive_error_string(a);
        lb_error_setk(&aerr, LB_EKIND_INVALID, 0, "%s: cannot read the tar: %s",
                      opts.what ? opts.what : "layer", m ? m : "unknown error");
    } else if (lb_layer_apply(a, dirfd, &opts, &out->stats, &aerr) == 0) {
        rc = 0;
    }
    archive_read_free(a);
    if (rc < 0) {
        /* A stream failure (truncated gzip, size limit, source error) reaches libarchive as a
         * read error: report the stream's own message rather than libarchive's copy of it. */
        if (r.err) {
            lb_error_free(aerr);
            aerr = lb_steal_pointer(&r.err);
        }
        if (err && *err == NULL)
            *err = aerr;
        else
            lb_error_free(aerr);
        goto out;
    }
    rc = -1; /* the tar was fine; the bytes after it must be too (gzip trailer, garbage) */
    if (lb_layer_stream_finish(r.stream, &out->stream, err) < 0)
        goto out;
    rc = 0;
out:
    lb_error_free(r.err);
    free(r.buf);
    lb_layer_stream_free(r.stream);
    return rc;
}
