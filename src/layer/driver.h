/* driver.h — storage drivers: how a stack of layers becomes one root file system.
 *
 *   overlay: the kernel's overlayfs; lowerdir = the image's layers (top first, through the short
 *            links in layers/l/), upperdir = the container's writable layer. O(1) to create.
 *   vfs:     plain copies, bottom layer first, whiteouts applied as real deletions; works without
 *            privileges or overlayfs, and is slow on purpose and honest about it.
 *
 * A store uses one driver for all its layers (whiteouts are stored in that driver's format): the
 * first command that needs one picks it — --storage-driver, else overlay when the kernel has it
 * and a probe mount succeeds, else vfs — and records it in ROOT/driver. */
#ifndef LB_LAYER_DRIVER_H
#define LB_LAYER_DRIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "image/digest.h"
#include "layer/apply.h"

struct lb_mount_request {
    int root_fd;                        /* the store root */
    const char *root;                   /* its absolute path */
    const struct lb_digest *layers;     /* ChainIDs, TOP FIRST */
    size_t n_layers;
    const char *upper;                  /* absolute path of a writable dir, or NULL (read-only) */
    const char *work;                   /* overlay work dir next to upper, or NULL */
    const char *target;                 /* absolute path of the mount point (an existing dir) */
};

struct lb_driver {
    const char *name;
    enum lb_whiteout_format whiteouts;
    int (*mount)(const struct lb_mount_request *req, struct lb_error **err);
    /* Undo mount: unmount (overlay) or remove the copy (vfs). */
    int (*umount)(const struct lb_mount_request *req, struct lb_error **err);
};

extern const struct lb_driver lb_driver_overlay;
extern const struct lb_driver lb_driver_vfs;

/* NULL when unknown. */
const struct lb_driver *lb_driver_by_name(const char *name);

/* The store's driver (see above). requested may be NULL. *why (caller frees) says why this one,
 * e.g. "overlay: recorded in ROOT/driver" or "vfs: overlayfs probe mount failed: Operation not
 * permitted". Asking for a driver other than the recorded one is an LB_EKIND_USAGE error. */
int lb_driver_select(int root_fd, const char *root, const char *requested,
                     const struct lb_driver **out, char **why, struct lb_error **err);

#endif
