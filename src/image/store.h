/* store.h — the image store: an OCI image layout under ROOT/images that anyone can `ls`, and
 * skopeo or umoci can read directly.
 *
 *   ROOT/images/oci-layout        {"imageLayoutVersion":"1.0.0"}
 *   ROOT/images/index.json        one descriptor per (image, tag); an untagged image has one
 *                                 descriptor without the ref.name annotation
 *   ROOT/images/blobs/sha256/<hex>  manifests, configs, layers — named by their digest
 *   ROOT/layers/<chainid>/        one layer: diff/, meta.json, link (layer/layers.h)
 *   ROOT/layers/l/<short>         short links to the layers' diff/ directories
 *   ROOT/tmp/                     staging; cleared when the store is opened
 *   ROOT/lock                     store-wide flock for metadata changes
 *   ROOT/tmp.lock                 held shared by every process staging in tmp/; tmp/ is only
 *                                 cleared by a process that gets it exclusively (nobody staging)
 *
 * Conventions: every change is made under lb_store_lock() and written atomically; functions that
 * change index.json expect the caller to hold the lock (they check it). */
#ifndef LB_IMAGE_STORE_H
#define LB_IMAGE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "image/digest.h"
#include "image/image.h"

typedef char *(*lb_image_user_fn)(void *data, const struct lb_digest *id);

struct lb_driver;

struct lb_store {
    char *root;               /* absolute path of ROOT */
    int root_fd;              /* O_PATH|O_DIRECTORY fd of ROOT */
    int lock_fd;              /* >= 0 while the store lock is held */
    int lock_depth;           /* nested lb_store_lock calls */
    int tmp_lock_fd;          /* shared flock on ROOT/tmp.lock while this process stages in tmp/ */
    uint64_t skipped_devices; /* device nodes layers asked for but this process could not create
                                 (not root): the CLI says so in one warning line */
    lb_image_user_fn user_fn; /* the containers seam, see lb_store_set_image_user_check */
    void *user_data;
    const char *requested_driver;   /* --storage-driver (not owned), or NULL; set after open */
    const struct lb_driver *driver; /* selected by lb_store_driver on first use, else NULL */
    struct lb_blob_memo *memo;      /* small blobs already read and verified (lb_store_blob_read) */
    size_t n_memo;
};

/* A blob is named by its content, so once read and verified its bytes stay true for the
 * process: a command that loads the same image three times (run: resolve, mount, remove) reads
 * and hashes its manifest and config once. */
struct lb_blob_memo {
    struct lb_digest digest;
    char *data;
    size_t len;
};
#define LB_BLOB_MEMO_MAX      16         /* blobs remembered per store handle */
#define LB_BLOB_MEMO_MAX_SIZE (64 << 10) /* the largest one remembered */

/* The default root: $LAYERBOX_ROOT, else /var/lib/layerbox for root, else
 * $XDG_DATA_HOME/layerbox (default ~/.local/share/layerbox). Caller frees. */
char *lb_store_default_root(void);

/* Open the store at root, creating the layout when missing. Removes leftovers in tmp/ (taking the
 * lock briefly). */
int lb_store_open(struct lb_store *s, const char *root, struct lb_error **err);
void lb_store_release(struct lb_store *s);

int lb_store_lock(struct lb_store *s, struct lb_error **err);
void lb_store_unlock(struct lb_store *s);

/* The store's storage driver (layer/driver.h): selected once per lb_store with
 * lb_driver_select(root_fd, root, s->requested_driver, ...) — which records it in ROOT/driver on a
 * new store — then cached in s->driver. Unpackers write whiteouts in (*out)->whiteouts' format.
 * Errors are lb_driver_select's (LB_EKIND_USAGE for an unknown driver or a switch). */
int lb_store_driver(struct lb_store *s, const struct lb_driver **out, struct lb_error **err);

/* --- blobs ------------------------------------------------------------------------------- */

/* "images/blobs/sha256/<hex>" relative to root_fd (caller frees). */
char *lb_store_blob_relpath(const struct lb_digest *d);
bool lb_store_has_blob(struct lb_store *s, const struct lb_digest *d);
/* Open a blob read-only. */
int lb_store_blob_open(struct lb_store *s, const struct lb_digest *d, struct lb_error **err);
/* Read a small blob (JSON) of at most max bytes and verify its digest. */
int lb_store_blob_read(struct lb_store *s, const struct lb_digest *d, size_t max, char **out,
                       size_t *len, struct lb_error **err);
/* Store a buffer as a blob; *out gets its digest. Existing blob = success. */
int lb_store_blob_put(struct lb_store *s, struct lb_digest *out, const void *data, size_t len,
                      struct lb_error **err);

/* Streaming blob writer: bytes go to a temp file in ROOT/tmp while being hashed.
 * finish: fsync, compute digest and size, check the expected ones (expected may be NULL and
 * expected_size -1 for "don't check"; a mismatch is an LB_EKIND_INVALID error naming both and the
 * temp file is removed). The temp file then stays in tmp/ until publish renames it to
 * blobs/sha256/<hex> (an existing blob = success), so a loader can verify everything before it
 * publishes anything. commit = finish + publish. abort removes the temp file (safe at any point,
 * also after publish and on a zeroed writer). */
struct lb_blob_writer {
    struct lb_store *store;
    int fd;
    char *tmp_relpath; /* relative to root_fd, e.g. "tmp/blob-1a2b3c" */
    struct lb_sha256 hash;
    struct lb_digest digest; /* valid after finish */
    int64_t size;            /* valid after finish */
    int finished;
};
int lb_blob_writer_begin(struct lb_blob_writer *w, struct lb_store *s, struct lb_error **err);
int lb_blob_writer_write(struct lb_blob_writer *w, const void *data, size_t len,
                         struct lb_error **err);
int lb_blob_writer_finish(struct lb_blob_writer *w, const struct lb_digest *expected,
                          int64_t expected_size, struct lb_error **err);
int lb_blob_writer_publish(struct lb_blob_writer *w, struct lb_error **err);
int lb_blob_writer_commit(struct lb_blob_writer *w, struct lb_digest *out,
                          const struct lb_digest *expected, int64_t expected_size,
                          struct lb_error **err);
void lb_blob_writer_abort(struct lb_blob_writer *w);

/* --- layer metadata ---------------------------------------------------------------------- */
/* Thin wrappers over layer/layers.h (which owns ROOT/layers: unpacked layers, short links). */

/* Record a layer's unpacked size under layers/<chainid>/meta.json (atomic), for a layer whose
 * files are not unpacked; an unpacked layer's own meta.json is left as it is (lb_layers_record).
 * Issue 2's stop-gap: load and import now unpack every layer and publish it with
 * lb_layers_publish, so nothing in layerbox writes records any more; records found in stores
 * written before are still read (lb_store_layer_size) and replaced when the layer is unpacked. */
int lb_store_layer_record(struct lb_store *s, const struct lb_digest *chain_id,
                          const struct lb_digest *parent_chain, const struct lb_digest *diff_id,
                          int64_t size, struct lb_error **err);
/* Unpacked size of the layer (from its meta.json, unpacked or record), or -1 when unknown. */
int64_t lb_store_layer_size(struct lb_store *s, const struct lb_digest *chain_id);

/* lb_layers_stage under the store's shared tmp/ staging lock (so that no other process's
 * lb_store_open clears the staging directory meanwhile). Publish with lb_layers_publish
 * (s->root_fd) under lb_store_lock. */
int lb_store_layer_stage(struct lb_store *s, char **stage_rel, int *diff_fd, struct lb_error **err);

/* --- images ------------------------------------------------------------------------------ */

/* Every image in the store (one entry per distinct manifest, with all its names), sorted newest
 * first (config.created, then ID). */
int lb_store_list_images(struct lb_store *s, struct lb_image ***out, size_t *n,
                         struct lb_error **err);

/* Load one image by its manifest digest. */
struct lb_image *lb_store_load_image(struct lb_store *s, const struct lb_digest *manifest,
                                     struct lb_error **err);

/* Resolve a command-line argument in docker's order: full ID ("sha256:<hex>" or 64 hex), then a
 * name (normalised: "busybox" = "docker.io/library/busybox:latest"; name@digest matches a
 * manifest digest), then a unique ID prefix (at least 1 hex character; "sha256:" prefix allowed).
 * Errors: LB_EKIND_NOT_FOUND "no such image: 'x'"; LB_EKIND_INVALID for an ambiguous prefix,
 * listing the candidates' short IDs. */
struct lb_image *lb_store_resolve(struct lb_store *s, const char *arg, struct lb_error **err);

/* Add an image whose manifest (and everything it points to) is already stored as blobs.
 * names: full normalised references to point at it (may be NULL); a name that pointed at another
 * image moves (that image keeps its other names, or becomes dangling). parent: image ID or NULL.
 * Caller holds the lock. */
int lb_store_add_image(struct lb_store *s, const struct lb_digest *manifest, int64_t manifest_size,
                       char *const *names, const struct lb_digest *parent, struct lb_error **err);

/* Point full_ref at the image with this manifest (moves it from another image). Lock held. */
int lb_store_tag(struct lb_store *s, const struct lb_image *img, const char *full_ref,
                 struct lb_error **err);

/* Remove the name full_ref. Returns 1 when the image still has other names, 0 when it is now
 * untagged. Lock held. */
int lb_store_untag(struct lb_store *s, const char *full_ref, struct lb_error **err);

/* Remove the image (all its descriptors) and then every blob and layer (lb_layers_remove: its
 * directory and short link) no remaining image references. A mounted image (`image mount`) is
 * refused with LB_EKIND_CONFLICT. Lock held. */
int lb_store_delete_image(struct lb_store *s, const struct lb_image *img, struct lb_error **err);

/* Seam for the containers issue: the callback returns a newly allocated container name/ID using
 * image `id`, or NULL when none does. rmi asks it before deleting. */
void lb_store_set_image_user_check(struct lb_store *s, lb_image_user_fn fn, void *data);

/* Counts for `info`. */
struct lb_store_counts {
    size_t images;
    size_t blobs;
    size_t layers;
    int64_t blob_bytes;
};
int lb_store_count(struct lb_store *s, struct lb_store_counts *out, struct lb_error **err);

#endif
