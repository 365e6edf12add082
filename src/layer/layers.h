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
 * image store. */
#ifndef LB_LAYER_LAYERS_H
#define LB_LAYER_LAYERS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "image/digest.h"
#include "layer/apply.h"

#define LB_LAYER_MAX_WHITEOUT_NAMES 64 /* meta.json lists at most this many deleted paths */

struct lb_layer_meta {
    struct lb_digest chain_id;
    struct lb_digest diff_id;
    bool has_parent;
    struct lb_digest parent; /* ChainID of the layer below */
    int64_t size;            /* sum of regular file sizes (docker's layer Size) */
    enum lb_whiteout_format format;
    char link[32];           /* short link name, "" until published */
    uint64_t added, changed, deleted, opaques;
    char **whiteouts;        /* deleted paths, at most LB_LAYER_MAX_WHITEOUT_NAMES, may be NULL */
};

void lb_layer_meta_release(struct lb_layer_meta *m);

/* Make ROOT/tmp/layer-XXXX/diff for unpacking; *stage_rel = "tmp/layer-XXXX" (caller frees),
 * *diff_fd = an O_DIRECTORY fd of its diff/ (caller closes). */
int lb_layers_stage(int root_fd, char **stage_rel, int *diff_fd, struct lb_error **err);

/* Publish a staged layer as layers/<chainhex>. meta must have chain_id, diff_id, parent,
 * size and format set. Before publishing, the staged diff is compared with the union of the layers
 * below it (its parent chain, which must already be published): counts of added, changed and
 * deleted paths are filled in, and a directory of the new layer that would shadow a symlink of a
 * lower layer is REJECTED (the "symlink planted in layer 1, written through in layer 2" attack).
 * When layers/<chainhex> already exists the staging is discarded and *shared set. */
int lb_layers_publish(int root_fd, const char *stage_rel, struct lb_layer_meta *meta, bool *shared,
                      struct lb_error **err);

bool lb_layers_exists(int root_fd, const struct lb_digest *chain_id);
int lb_layers_read_meta(int root_fd, const struct lb_digest *chain_id, struct lb_layer_meta *out,
                        struct lb_error **err);

/* Remove layers/<chainhex> and its short link. A mount point inside it is an error. Missing = ok. */
int lb_layers_remove(int root_fd, const struct lb_digest *chain_id, struct lb_error **err);

/* "layers/<chainhex>/diff" (caller frees). */
char *lb_layers_diff_relpath(const struct lb_digest *chain_id);

/* Open the diff/ directories of a chain, top first: fds[0] = chain_id's own diff, then its parent's,
 * ... *n gets the count; caller closes each fd and frees the array. */
int lb_layers_open_chain(int root_fd, const struct lb_digest *chain_id, int **fds, size_t *n,
                         struct lb_error **err);

#endif
