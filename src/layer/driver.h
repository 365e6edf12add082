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
    int root_fd;                    /* the store root */
    const char *root;               /* its absolute path */
    const struct lb_digest *layers; /* ChainIDs, TOP FIRST */
    size_t n_layers;
    const char *upper;  /* absolute path of a writable dir, or NULL (read-only) */
    const char *work;   /* overlay work dir next to upper, or NULL */
    const char *target; /* absolute path of the mount point (an existing dir) */
    /* The writable layer of a disposable (--rm) container: overlay's "volatile" option, no sync
     * of the upper file system, not even at unmount (which otherwise flushes the whole file
     * system the store is on). After a crash such an upper may have lost writes: nobody needs
     * them, the container is removed. Ignored by vfs and without an upper. */
    bool volatile_upper;
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

/* --- the pieces behind the drivers, public so that tests can check them --------------------- */

/* overlay's lowerdir= value for the layers' short link names, TOP FIRST: {"A","B"} → "l/A:l/B",
 * relative to ROOT/layers (the mount is made from there, as docker's overlay2 does, so 120+
 * layers fit in one page of mount options). A link name must be non-empty and made of
 * [A-Za-z0-9_-] only (anything else could break the option string): else LB_EKIND_INVALID.
 * Caller frees. */
char *lb_overlay_lowerdir(char *const *links, size_t n, struct lb_error **err);

/* The whole overlay mount option string: "lowerdir=…[,upperdir=…,workdir=…,redirect_dir=off,
 * metacopy=off]" (upper and work both or neither; ',' ':' and '\' in them are backslash-escaped,
 * as overlayfs expects; the two "off" options keep the upper dir a plain changeset that diff.c
 * can read, whatever the kernel's defaults). The
 * kernel takes at most one page of options: a string of limit bytes or more is an error that
 * names its length (limit 0 = the page size). Caller frees. */
char *lb_overlay_options(const char *lowerdir, const char *upper, const char *work, size_t limit,
                         struct lb_error **err);

/* Can this process mount overlayfs in this store? Not root → error "not root" (without trying);
 * else mkdir ROOT/tmp/probe-XXXX/{l,u,w,m}, mount lowerdir=l,upperdir=u,workdir=w on m, unmount,
 * remove. 0 on success, -1 with the reason (e.g. "overlayfs probe mount failed: <errno>"). */
int lb_overlay_probe(int root_fd, const char *root, struct lb_error **err);

/* The probe lb_driver_select uses; tests swap in a fake (NULL restores lb_overlay_probe). */
typedef int (*lb_driver_probe_fn)(int root_fd, const char *root, struct lb_error **err);
void lb_driver_set_probe(lb_driver_probe_fn fn);

/* Is target currently mounted by driver d? overlay: target is a mount point (statx
 * STATX_ATTR_MOUNT_ROOT, which also sees bind mounts of the same file system); vfs: target is
 * a non-empty directory (the copy). A missing target is "no". */
int lb_driver_is_mounted(const struct lb_driver *d, const char *target, bool *out,
                         struct lb_error **err);

/* --- mounted images (`image mount`) ----------------------------------------------------------
 *   ROOT/mounts/<image-id-hex>/merged   the mount point (or the vfs copy)
 *   ROOT/mounts/<image-id-hex>/count    how many `image mount`s are not yet undone ("2\n")
 * The caller holds the store lock around read-modify-write of the count. */

/* "mounts/<hex>" relative to the store root (caller frees). */
char *lb_image_mount_relpath(const struct lb_digest *image_id);

/* *count = the recorded mount count of the image, 0 when none is recorded. A count file that is
 * not a decimal number is an LB_EKIND_INVALID error. (rmi refuses to delete an image whose count
 * is > 0.) */
int lb_image_mount_count(int root_fd, const struct lb_digest *image_id, unsigned long *count,
                         struct lb_error **err);

/* Record count atomically (mkdir -p mounts/<hex> first); count 0 removes the count file. */
int lb_image_mount_set_count(int root_fd, const struct lb_digest *image_id, unsigned long count,
                             struct lb_error **err);

#endif
