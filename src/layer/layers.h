/* layers.h — unpacked layers in the store, keyed by ChainID.
 *
 *   ROOT/layers/<chainhex>/diff/       the layer's files (whiteouts in the driver's format)
 *   ROOT/layers/<chainhex>/meta.json   {"chain_id","diff_id","parent","size","format","link",
 *                                       "added","changed","deleted","opaques","whiteouts":[…]}
 *   ROOT/layers/<chainhex>/link        the short name, e.g. "Q2HXJ5VZ6T3KSKGMLRCOJ3XNYF"
 *   ROOT/layers/l/<short>              symlink → ../<chainhex>/diff (overlay's lowerdir= uses
 *                                       these, so an image of 120+ layers fits in one page of
 *                                       mount options, as docker's overlay2 does)
 *
 * A layer shared by ten images is unpacked once. Whether a layer is still needed is derived from
 * the images in index.json (store_index.c), never from a reference counter that can drift.
 * These functions take the store root's directory fd, so the layer module does not depend on the
 * image store.
 *
 * Locking: stage may run at any time (the caller holds the store's tmp/ staging lock, see
 * store.h, so that no other process clears tmp/ meanwhile); publish, record and remove check and
 * then rename, so they must run under the caller's store lock (lb_store_lock): two publishers of
 * the same layer, or a publish racing a remove, are serialised by it, not by this module.
 *
 * A layer directory without diff/ is a record only: meta.json with its DiffID, parent and size,
 * written by lb_layers_record before layers were unpacked (issue 2 stores). It is not "existing"
 * for lb_layers_exists; publishing the same ChainID replaces it. */
#ifndef LB_LAYER_LAYERS_H
#define LB_LAYER_LAYERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "image/digest.h"
#include "layer/apply.h"

#define LB_LAYER_MAX_WHITEOUT_NAMES 64   /* meta.json lists at most this many deleted paths */
#define LB_LAYER_LINK_LEN           26   /* short link names: random base32 [A-Z2-7] */
#define LB_LAYER_MAX_CHAIN          4096 /* open_chain refuses longer parent chains (a loop) */

struct lb_layer_meta {
    struct lb_digest chain_id;
    struct lb_digest diff_id;
    bool has_parent;
    struct lb_digest parent; /* ChainID of the layer below */
    int64_t size;            /* sum of regular file sizes (docker's layer Size) */
    enum lb_whiteout_format format;
    char link[32]; /* short link name, "" until published */
    uint64_t added, changed, deleted, opaques;
    char **whiteouts; /* deleted paths, at most LB_LAYER_MAX_WHITEOUT_NAMES, may be NULL */
};

void lb_layer_meta_release(struct lb_layer_meta *m);

/* Make ROOT/tmp/layer-XXXX/diff for unpacking; *stage_rel = "tmp/layer-XXXX" (caller frees),
 * *diff_fd = an O_DIRECTORY fd of its diff/ (caller closes). To give up, lb_rm_tree_at(root_fd,
 * *stage_rel). */
int lb_layers_stage(int root_fd, char **stage_rel, int *diff_fd, struct lb_error **err);

/* Publish a staged layer as layers/<chainhex>. meta must have chain_id, diff_id, parent,
 * size and format set. Before publishing, the staged diff is compared with the union of the layers
 * below it (its parent chain, which must already be published): counts of added, changed and
 * deleted paths are filled in, and a directory of the new layer that would shadow a symlink of a
 * lower layer is REJECTED (the "symlink planted in layer 1, written through in layer 2" attack).
 * When layers/<chainhex> already exists the staging is discarded and *shared set (meta then gets
 * the existing layer's link and counts).
 * meta->chain_id must be ChainID(parent, diff_id) (checked). On success meta->link and the counts
 * are filled in. The staging directory is consumed either way: renamed into place, or removed
 * (also on failure). meta.json and link are fsynced; the files of diff/ are the unpacker's to
 * sync (or not) before calling this. Caller holds the store lock.
 * Errors: LB_EKIND_NOT_FOUND for a parent that is not unpacked; LB_EKIND_INVALID for a mismatched
 * chain ID or the symlink shadowing, e.g.
 * "layer 0123456789ab: directory 'a' would write through symlink 'a' of a lower layer". */
int lb_layers_publish(int root_fd, const char *stage_rel, struct lb_layer_meta *meta, bool *shared,
                      struct lb_error **err);

/* True when the layer is unpacked: layers/<chainhex>/diff is a directory and meta.json is there
 * (a record without diff/ is not). */
bool lb_layers_exists(int root_fd, const struct lb_digest *chain_id);

/* Read layers/<chainhex>/meta.json (a full one, or a record: link "" and zero counts then).
 * Release *out with lb_layer_meta_release. Missing: LB_EKIND_NOT_FOUND. */
int lb_layers_read_meta(int root_fd, const struct lb_digest *chain_id, struct lb_layer_meta *out,
                        struct lb_error **err);

/* Write a record: layers/<chainhex>/meta.json with chain_id, diff_id, parent and size only, for a
 * layer whose files are not unpacked (what lb_store_layer_record keeps for issue 2's loaders).
 * An unpacked layer is left untouched (its own meta.json wins). Caller holds the store lock. */
int lb_layers_record(int root_fd, const struct lb_layer_meta *meta, struct lb_error **err);

/* How many layer directories (unpacked or records) layers/ holds: names of 64 hex characters,
 * so layers/l is not counted. */
size_t lb_layers_count(int root_fd);

/* Remove layers/<chainhex> and its short link (l/<link> first, then the directory). A mount point
 * at layers/<chainhex> or its diff/ is refused before anything is removed (EBUSY), one deeper
 * inside by lb_rm_tree_at. Missing = ok. Caller holds the store lock. */
int lb_layers_remove(int root_fd, const struct lb_digest *chain_id, struct lb_error **err);

/* "layers/<chainhex>/diff" (caller frees). */
char *lb_layers_diff_relpath(const struct lb_digest *chain_id);

/* Open the diff/ directories of a chain, top first: fds[0] = chain_id's own diff, then its
 * parent's, ... following meta.json's parent pointers (each checked: ChainID(parent, diff_id) =
 * chain ID). *n gets the count; caller closes each fd and frees the array. A layer of the chain
 * that is not unpacked is an LB_EKIND_NOT_FOUND error naming it ("parent layer sha256:… of layer
 * sha256:… is not unpacked"). */
int lb_layers_open_chain(int root_fd, const struct lb_digest *chain_id, int **fds, size_t *n,
                         struct lb_error **err);

#endif
