/* stream.h — a layer's bytes on their way in: compressed bytes from a source, decompressed,
 * with both sides hashed in the same pass (blob digest = compressed, DiffID = uncompressed).
 *
 *   source ──read──▶ [sniff: plain | gzip | zstd] ──▶ hash(blob) ──▶ tee_compressed
 *                         │ decompress (zlib with CRC check, libzstd)
 *                         ▼
 *                    hash(DiffID) ──▶ tee_uncompressed ──▶ lb_layer_stream_read() (e.g. libarchive)
 *
 * Memory is fixed (a few MB whatever the layer size) and the number of uncompressed bytes is
 * capped (max_uncompressed), so a gzip bomb fails cleanly. With `threaded`, a producer thread does
 * the reading, hashing, teeing and decompressing while the consumer (the tar extractor) runs on the
 * other core; chunks pass through a bounded queue. */
#ifndef LB_LAYER_STREAM_H
#define LB_LAYER_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"
#include "image/digest.h"

enum lb_compression {
    LB_COMP_NONE,
    LB_COMP_GZIP,
    LB_COMP_ZSTD,
};

/* Detect from the first bytes (at least 4 needed for a verdict; fewer → LB_COMP_NONE). */
enum lb_compression lb_compression_detect(const void *buf, size_t len);
const char *lb_compression_name(enum lb_compression c); /* "plain", "gzip", "zstd" */

/* Pull up to len compressed bytes into buf: returns the count, 0 at end of input, -1 on error. */
typedef ssize_t (*lb_source_fn)(void *data, void *buf, size_t len, struct lb_error **err);
/* Receive bytes (a tee). Returns 0 or -1 with err. */
typedef int (*lb_sink_fn)(void *data, const void *buf, size_t len, struct lb_error **err);

/* A source reading a file descriptor to EOF (data = pointer to the int fd). */
ssize_t lb_source_fd(void *data, void *buf, size_t len, struct lb_error **err);

struct lb_layer_stream_opts {
    lb_source_fn source;
    void *source_data;
    lb_sink_fn tee_compressed; /* optional: every input byte, e.g. into a blob writer */
    void *tee_compressed_data;
    lb_sink_fn tee_uncompressed; /* optional: every decompressed byte (import stores the tar) */
    void *tee_uncompressed_data;
    uint64_t max_uncompressed; /* 0 = LB_LAYER_MAX_BYTES_DEFAULT (or $LB_MAX_LAYER_BYTES) */
    bool threaded;
    const char *what; /* names the layer in errors: "layer 'blobs/sha256/ab…'" */
};

#define LB_LAYER_MAX_BYTES_DEFAULT (64ULL << 30) /* 64 GiB */

struct lb_layer_stream;

struct lb_layer_stream *lb_layer_stream_new(const struct lb_layer_stream_opts *opts,
                                            struct lb_error **err);

/* Read up to len decompressed bytes: count, 0 at the end, -1 on error (truncated or corrupt
 * compressed data, source error, size limit, tee error). */
ssize_t lb_layer_stream_read(struct lb_layer_stream *s, void *buf, size_t len,
                             struct lb_error **err);

/* Consume whatever the reader did not (tar padding after the end-of-archive blocks), check the
 * compressed stream ended properly, and give both digests and sizes. */
struct lb_layer_stream_result {
    enum lb_compression compression;
    struct lb_digest blob_digest; /* of the compressed (as read) bytes */
    uint64_t blob_size;
    struct lb_digest diff_id; /* of the decompressed bytes */
    uint64_t tar_size;
};
int lb_layer_stream_finish(struct lb_layer_stream *s, struct lb_layer_stream_result *out,
                           struct lb_error **err);

/* Stops the producer thread if any and frees everything (safe at any point). */
void lb_layer_stream_free(struct lb_layer_stream *s);

#endif
