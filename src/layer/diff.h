/* diff.h — from a container-style writable layer back to an OCI changeset tar (what commit and
 * `diff` use). Output is deterministic: entries sorted bytewise by path with parents first,
 * numeric uid/gid and no user/group names, mtimes as on disk, xattrs sorted, hardlinks within the
 * layer written as tar hardlinks to the first path in that order. */
#ifndef LB_LAYER_DIFF_H
#define LB_LAYER_DIFF_H

#include <stdint.h>

#include "core/error.h"

struct lb_diff_stats {
    uint64_t entries, whiteouts, opaques, bytes;
};

/* An overlay upper directory: character device 0/0 → `.wh.NAME`; a directory with xattr
 * trusted.overlay.opaque="y" → the directory, then `DIR/.wh..wh..opq`; trusted.overlay.* xattrs
 * are never copied into the tar. Writes a plain tar to out_fd. */
int lb_diff_overlay_upper(int upper_fd, int out_fd, struct lb_diff_stats *st,
                          struct lb_error **err);

/* vfs: compare a container's full tree `new_fd` with the image's tree `old_fd`: paths only in new
 * or different (type, mode, owner, size, mtime, symlink target, xattrs) are written; paths only
 * in old become `.wh.NAME` (one whiteout for a removed directory, not one per file). */
int lb_diff_trees(int old_fd, int new_fd, int out_fd, struct lb_diff_stats *st,
                  struct lb_error **err);

#endif
