/* archive_internal.h — what load.c, staging.c, save.c and import.c share (not a public contract).
 *
 *   - what a blob is from its first bytes (plain, gzip, zstd, or a compression the store has no
 *     layer media type for), and decompressing a stored layer (save);
 *   - unpacking a layer into a staging directory of ROOT/tmp with the store's driver
 *     (lb_archive_unpack), the one pass that also hashes both of its digests;
 *   - building an OCI image manifest in the key order docker 25 writes;
 *   - a publish transaction: blobs and unpacked layers put into the store, removed again when a
 *     later step fails, so that a failed load or import leaves the store as it was;
 *   - the staging table of load (staging.c): an archive's files in ROOT/tmp, found by name, and
 *     the layers among them unpacked during the same pass. */
#ifndef LB_IMAGE_ARCHIVE_INTERNAL_H
#define LB_IMAGE_ARCHIVE_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "image/digest.h"
#include "image/store.h"
#include "layer/apply.h"
#include "layer/stream.h"
#include "layer/unpack.h"

/* Read buffers: big enough to be fast, small enough for the 32 MB peak-RSS budget. */
#define LB_ARCHIVE_BLOCK (64 * 1024)

/* The compression of the blob at fd from its first bytes (pread: the offset is unchanged).
 * A compression that libarchive reads but the store has no layer media type for (xz, bzip2) sets
 * *unsupported to its name ("xz", "bzip2"); otherwise *unsupported is NULL and *out says plain,
 * gzip or zstd. */
int lb_blob_sniff(int fd, enum lb_compression *out, const char **unsupported,
                  struct lb_error **err);
/* The OCI layer media type of a tar stored with this compression. */
const char *lb_layer_media_type(enum lb_compression c);

/* Receives the uncompressed bytes of a stored layer (save's writers). */
typedef int (*lb_layer_sink)(void *data, const void *buf, size_t len, struct lb_error **err);

/* Decompress the layer blob at fd (plain, gzip or zstd) into sink; `what` names it in errors. */
int lb_decompress_fd(int fd, lb_layer_sink sink, void *sink_data, const char *what,
                     struct lb_error **err);

/* --- unpacking --------------------------------------------------------------------------- */

/* A layer unpacked into ROOT/tmp, waiting to be published (lb_publish_layer). */
struct lb_unpacked {
    char *stage;                    /* "tmp/layer-XXXX" (its diff/ holds the files), owned;
                                       NULL when there is none (published, removed, or never) */
    enum lb_whiteout_format format; /* the whiteouts in diff/ (the store's driver's) */
    struct lb_unpack_result res;    /* compression, blob digest and size, DiffID, file counts */
};

/* Unpack the layer read through opts (lb_layer_unpack) into a new staging directory
 * (lb_store_layer_stage), with the store's driver's whiteout format (lb_store_driver) and owners
 * and devices when running as root. On failure the staging directory is removed and out->stage
 * is NULL; content errors (not a tar, an unsafe entry, corrupt compression, size limit) are
 * LB_EKIND_INVALID. */
int lb_archive_unpack(struct lb_store *s, const struct lb_layer_stream_opts *opts,
                      struct lb_unpacked *out, struct lb_error **err);

/* Remove the staging directory, if any (safe on a zeroed struct). */
void lb_unpacked_release(struct lb_store *s, struct lb_unpacked *u);

/* syncfs() the store's file system: the files of every layer staged so far reach the disk
 * before a rename publishes one (a crash never leaves a published layer with missing data).
 * Once per load or import, not per file. */
int lb_archive_sync(struct lb_store *s, struct lb_error **err);

/* --- manifests --------------------------------------------------------------------------- */

/* {"schemaVersion":2,"mediaType":<OCI manifest>,"config":{mediaType,digest,size},"layers":[]}
 * (new reference); add layers with lb_manifest_add_layer. */
json_t *lb_manifest_new(const struct lb_digest *config, int64_t config_size);
void lb_manifest_add_layer(json_t *manifest, const char *media_type, const struct lb_digest *d,
                           int64_t size);

/* --- publishing with undo ---------------------------------------------------------------- */

/* What a load or import has put into the store so far, to undo it when a later step fails. */
struct lb_publish {
    struct lb_store *store;
    char **created;           /* blobs (paths relative to root_fd) that did not exist before */
    struct lb_digest *layers; /* ChainIDs of the layers this transaction published */
    size_t n_layers;
    bool made_link_dir; /* layers/l did not exist before: remove it on rollback */
    bool synced;        /* lb_archive_sync was done */
};
/* Publish a finished writer (blob already present = success, nothing to undo). */
int lb_publish_writer(struct lb_publish *p, struct lb_blob_writer *w, struct lb_error **err);
/* Store a buffer as a blob. */
int lb_publish_blob(struct lb_publish *p, struct lb_digest *out, const void *data, size_t len,
                    struct lb_error **err);
/* Make the layer `chain` (parent: the chain below, NULL for a bottom layer; diff_id: its DiffID)
 * exist in ROOT/layers. Already there → shared: nothing to do (u's staging is dropped). Else u's
 * staging directory is published with lb_layers_publish (size = the regular files' bytes,
 * format = u->format), after one lb_archive_sync per transaction; u->stage is consumed either
 * way. A layer that is neither in the store nor staged (u->stage NULL: it was in the store when
 * checked and has been removed since) is an error. Caller holds the store lock. */
int lb_publish_layer(struct lb_publish *p, struct lb_unpacked *u, const struct lb_digest *chain,
                     const struct lb_digest *parent, const struct lb_digest *diff_id,
                     struct lb_error **err);
/* Remove everything published (layers first, newest first, then blobs). */
void lb_publish_rollback(struct lb_publish *p);
void lb_publish_release(struct lb_publish *p);

/* This machine's architecture as Go (and so OCI) names it: "amd64", "arm64", "arm", "386"... */
const char *lb_host_goarch(void);

/* "sha256:0123456789ab" for narration (static buffer of the caller). */
const char *lb_short_digest(char buf[20], const struct lb_digest *d);

/* --- staging (staging.c) ----------------------------------------------------------------- */

/* One file of an archive: staged into ROOT/tmp, already in the store, or a link to another
 * entry. A file that looks like a layer (gzip or zstd magic, or a tar header) is unpacked while it
 * is staged: the same bytes go to the blob writer and through the unpacker. */
struct lb_staged {
    char *name;              /* normalised path inside the archive ("blobs/sha256/ab…") */
    char *link;              /* hard or symbolic link: the normalised target; NULL for a file */
    bool escapes;            /* a symlink whose target leaves the archive */
    struct lb_blob_writer w; /* finished: w.digest, w.size, w.tmp_relpath */
    bool in_store;           /* "blobs/sha256/<hex>" the store already has: not read from the
                                archive; w.digest and w.size describe the store's blob */
    bool published;
    /* The blob as a layer: */
    bool layer_known; /* compression, diff_id (and layer_size when >= 0) valid */
    enum lb_compression compression;
    struct lb_digest diff_id;
    int64_t layer_size;         /* regular files' bytes, -1 when not unpacked */
    struct lb_unpacked spare;   /* unpacked and not yet given to a chain (stage NULL: none) */
    struct lb_error *not_layer; /* the content error of unpacking it in the pass, if any */
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

/* The one pass over a tar read from fd (plain, gzip, zstd...): every regular file is staged, the
 * ones that look like layers are unpacked in the same pass, and blobs the store has already are
 * skipped. A layer that fails to unpack because of its content keeps the error in not_layer (it
 * may not be a layer at all); read and write errors fail the pass. */
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

/* Open the staged bytes of st read-only (its file in ROOT/tmp, or the store's blob). */
int lb_staging_open(struct lb_staging *g, struct lb_staged *st, struct lb_error **err);

/* Unpack st's staged bytes into a new staging directory (a second read, for a blob the pass did
 * not unpack or whose unpacked copy is used by another chain). A compression the store cannot
 * keep as a layer, or bytes that differ from st's digest, are errors; what names the layer. */
int lb_staging_unpack(struct lb_staging *g, struct lb_staged *st, const char *what,
                      struct lb_unpacked *out, struct lb_error **err);

/* Abort every writer (removing the staged files that were not published), remove the unused
 * unpacked layers, and free the table. */
void lb_staging_release(struct lb_staging *g);

#endif
