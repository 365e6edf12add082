/* apply.h — applying one OCI layer changeset (a tar stream) into an empty directory, safely.
 *
 * Rules (OCI image-spec "Applying Changesets"):
 *   - `.wh.NAME` records that NAME is deleted from the layers below; `.wh..wh..opq` that the
 *     directory's lower contents are hidden (wherever it appears in the tar).
 *   - an existing path is unlinked and recreated, never truncated in place (a hardlinked inode
 *     elsewhere keeps its content); a non-directory parent is replaced by a directory.
 *   - modes, mtimes, xattrs, symlinks, hardlinks, FIFOs; ownership and device nodes when
 *     privileged (otherwise devices are skipped and counted, and ownership is left as is).
 * How whiteouts are written depends on the storage driver:
 *   LB_WHITEOUT_OVERLAY: `.wh.NAME` → character device 0/0 named NAME;
 *                        opaque → xattr trusted.overlay.opaque="y" on the directory (root only);
 *   LB_WHITEOUT_FILES:   kept as the empty marker files `.wh.NAME` / `.wh..wh..opq` (vfs).
 * Safety: every path is resolved inside the target directory with no symlink followed
 * (safepath.h). An entry that would reach outside is REJECTED with an LB_EKIND_INVALID error that
 * names the entry and the rule it broke: "layer entry '../x': path leaves the layer ('..')".
 * Rejected cases: absolute paths, '..' components, a parent that is a symlink (even one the same
 * tar planted), a symlink whose relative target climbs above the root, hardlinks whose target is
 * absolute, contains '..', is missing, or goes through a symlink; `.wh.` alone, `.wh..`, `.wh...`;
 * a root entry ('.', './') that is not a directory; an entry claiming more than max_entry_size.
 * The caller applies into a staging directory and throws it away on error, so "nothing applied"
 * holds for the store. */
#ifndef LB_LAYER_APPLY_H
#define LB_LAYER_APPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

struct archive;

enum lb_whiteout_format {
    LB_WHITEOUT_OVERLAY,
    LB_WHITEOUT_FILES,
};

struct lb_apply_opts {
    enum lb_whiteout_format whiteouts;
    bool privileged;         /* chown, mknod; false → skip devices (counted), keep our owner */
    uint64_t max_entry_size; /* 0 = no limit beyond the stream's */
    const char *what;        /* names the layer in errors */
};

struct lb_apply_stats {
    uint64_t entries;       /* tar entries read */
    uint64_t regular_bytes; /* sum of regular file sizes (hardlinks once): docker's Size */
    uint64_t files, dirs, symlinks, hardlinks, others; /* a '.' root entry counts in dirs */
    uint64_t whiteouts;                                /* .wh.NAME entries */
    uint64_t opaques;                                  /* .wh..wh..opq entries */
    uint64_t skipped_devices;                          /* device nodes not created (unprivileged) */
};

/* Read every entry of `tar` (an archive already opened for reading, format tar) and apply it
 * under dirfd (an empty directory). */
int lb_layer_apply(struct archive *tar, int dirfd, const struct lb_apply_opts *opts,
                   struct lb_apply_stats *stats, struct lb_error **err);

#endif
