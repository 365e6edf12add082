/* archive_internal.h — what load.c, save.c and import.c share (not a public contract).
 *
 *   - reading a layer tar (plain or compressed) in one pass: is it a tar, its DiffID, the sum of
 *     its file sizes (lb_layer_scan);
 *   - building an OCI image manifest in the key order docker 25 writes;
 *   - a publish transaction: blobs and layer records written into the store, removed again when
 *     a later step fails, so that a failed load or import leaves the store as it was;
 *   - the staging table of load (staging.c): an archive's files in ROOT/tmp, found by name. */
#ifndef LB_IMAGE_ARCHIVE_INTERNAL_H
#define LB_IMAGE_ARCHIVE_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "image/digest.h"
#include "image/store.h"

/* Read buffers: big enough to be fast, small enough for the 32 MB peak-RSS budget. */
#define LB_ARCHIVE_BLOCK (64 * 1024)

enum lb_compression {
    LB_COMP_NONE,
    LB_COMP_GZIP,
    LB_COMP_ZSTD,
    LB_COMP_OTHER, /* bzip2, xz, ...: readable, but no OCI layer media type */
};

/* Look at the first bytes of fd (pread, the offset is unchanged). */
int lb_compression_sniff(int fd, enum lb_compression *out, struct lb_error **err);
const char *lb_compression_name(enum lb_compression c);
/* The OCI layer media type of a tar stored with this compression (NULL for LB_COMP_OTHER). */
const char *lb_layer_media_type(enum lb_compression c);

/* Receives the uncompressed bytes of a layer while it is scanned (import's blob writer). */
typedef int (*lb_layer_sink)(void *data, const void *buf, size_t len, struct lb_error **err);

struct lb_layer_scan {
    enum lb_compression compression;
    struct lb_digest diff_id; /* sha256 of the uncompressed stream (only when hashed) */
    int64_t tar_size;         /* bytes of the uncompressed stream (only when hashed) */
    int64_t unpacked_size;    /* sum of the regular files' sizes: docker's layer Size */
    int64_t files;            /* number of entries in the tar */
};

/* Read the layer at fd (from its current offset) as a tar, plain or compressed: check that it is
 * one (a clear LB_EKIND_INVALID error naming `what` otherwise) and sum its file sizes. With hash
 * (or a sink, which gets every uncompressed byte) the uncompressed stream is decompressed in the
 * same pass and hashed into diff_id. Without either, a plain tar on a regular fd is read header by
 * header, its data skipped with lseek. */
int lb_layer_scan(int fd, bool hash, lb_layer_sink sink, void *sink_data, const char *what,
                  struct lb_layer_scan *out, struct lb_error **err);

/* Decompress fd (any compression libarchive knows, or none) into sink. */
int lb_decompress_fd(int fd, lb_layer_sink sink, void *sink_data, const char *what,
                     struct lb_error **err);

/* {"schemaVersion":2,"mediaType":<OCI manifest>,"config":{mediaType,digest,size},"layers":[]}
 * (new reference); add layers with lb_manifest_add_layer. */
json_t *lb_manifest_new(const struct lb_digest *config, int64_t config_size);
void lb_manifest_add_layer(json_t *manifest, const char *media_type, const struct lb_digest *d,
                           int64_t size);

/* What a load or import has put into the store so far, to undo it when a later step fails. */
struct lb_publish {
    struct lb_store *store;
    char **created; /* paths relative to root_fd that did not exist before: blobs, layer dirs */
};
/* Publish a finished writer (blob already present = success, nothing to undo). */
int lb_publish_writer(struct lb_publish *p, struct lb_blob_writer *w, struct lb_error **err);
/* Store a buffer as a blob. */
int lb_publish_blob(struct lb_publish *p, struct lb_digest *out, const void *data, size_t len,
                    struct lb_error **err);
/* lb_store_layer_record, remembering a record that is new. */
int lb_publish_layer(struct lb_publish *p, const struct lb_digest *chain_id,
                     const struct lb_digest *parent, const struct lb_digest *diff_id, int64_t size,
                     struct lb_error **err);
/* Remove everything created (newest first). */
void lb_publish_rollback(struct lb_publish *p);
void lb_publish_release(struct lb_publish *p);

/* This machine's architecture as Go (and so OCI) names it: "amd64", "arm64", "arm", "386"... */
const char *lb_host_goarch(void);

/* "sha256:0123456789ab" for narration (static buffer of the caller). */
const char *lb_short_digest(char buf[20], const struct lb_digest *d);

/* --- staging (staging.c) ----------------------------------------------------------------- */

/* One file of an archive: staged into ROOT/tmp, or a link to another entry. */
struct lb_staged {
    char *name;              /* normalised path inside the archive ("blobs/sha256/ab…") */
    char *link;              /* hard or symbolic link: the normalised target; NULL for a file */
    bool escapes;            /* a symlink whose target leaves the archive */
    struct lb_blob_writer w; /* finished: w.digest, w.size, w.tmp_relpath */
    bool published;
    bool scanned; /* scan is valid (a layer is read once however often it is used) */
    struct lb_layer_scan scan;
};

/* The files of one archive. Zero it, set store, what (owned, e.g. "'x.tar'") and dirfd (an OCI
 * layout directory, or -1). */
struct lb_staging {
    struct lb_store *store;
    char *what;
    int dirfd;
    struct lb_staged **v;
    size_t n;
};

/* Split path (joined to dir when not NULL) on '/', dropping "" and "." components. ".." removes
 * the previous component (NULL when it would leave the root) unless keep_dotdot. Caller frees. */
char *lb_archive_path_normalise(const char *dir, const char *path, bool keep_dotdot);

/* The one pass over a tar read from fd (plain, gzip, zstd...): every regular file is staged. */
int lb_staging_read_tar(struct lb_staging *g, int fd, struct lb_error **err);

/* The staged file called name, links followed; NULL when absent (err set only for a real error,
 * such as a symlink leaving the archive). */
struct lb_staged *lb_staging_lookup(struct lb_staging *g, const char *name, struct lb_error **err);

/* Same, and an absent file is the error "<what> '<name>' is missing from <archive>". */
struct lb_staged *lb_staging_require(struct lb_staging *g, const char *name, const char *what,
                                     struct lb_error **err);

/* Parse a staged JSON file (at most LB_JSON_MAX_SIZE bytes); what names it in errors. */
json_t *lb_staging_read_json(struct lb_staging *g, struct lb_staged *st, const char *what,
                             struct lb_error **err);

/* Abort every writer (removing the staged files that were not published) and free the table. */
void lb_staging_release(struct lb_staging *g);

#endif
