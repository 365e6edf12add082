/* changes.h — what `diff CONTAINER` prints: docker's list of A(dded), C(hanged) and D(eleted)
 * paths of a container's file system against its image.
 *
 * docker's rules (moby, pkg/archive/changes.go ChangesDirs + changes_unix.go statDifferent; since
 * moby PR #37313, Docker 18.06, overlay2's Changes() uses this same comparison of the container's
 * merged tree with the image's merged tree, as vfs always did):
 *   - a path only in the container is A; everything below an added directory is A too;
 *   - a path only in the image is D (only the top of a deleted tree: nothing below it);
 *   - a path in both is C when the type and permission bits (st_mode), uid, gid or rdev differ,
 *     or security.capability differs, or — not for directories — the size differs or the mtime
 *     differs (nanoseconds only count when both have some: docker's sameFsTime);
 *   - a directory with any change below it is C, unless it is itself A or C (so an unchanged
 *     directory with nothing changed below it is never listed; the root never is);
 *   - the order: docker's daemon returns Go map order (random) and the CLI prints it as it comes;
 *     layerbox prints the list sorted bytewise by path, docker's own changesByPath order (the one
 *     its ExportChanges uses), so a parent always comes before what is below it.
 *
 * The image's merged tree is computed from its layers' diff/ directories (top first), applying
 * their whiteouts: overlay layers use character devices 0/0 and trusted.overlay.opaque="y";
 * vfs layers keep the marker files `.wh.NAME` and `.wh..wh..opq`.
 * Nothing is ever followed: every file is looked up relative to its directory's fd with
 * O_NOFOLLOW / AT_SYMLINK_NOFOLLOW. (docker's older OverlayChanges stat()ed through symlinks of
 * the layers and reported an opaque directory as D; both were bugs that PR fixed.)
 *
 * Library code: nothing here prints. */
#ifndef LB_LAYER_CHANGES_H
#define LB_LAYER_CHANGES_H

#include <stddef.h>

#include "core/error.h"

struct lb_change {
    char kind;  /* 'A', 'C' or 'D' */
    char *path; /* absolute in the container: "/etc/passwd" */
};

/* overlay: upper_fd is the container's writable layer (overlay's upper dir: whiteouts are 0/0
 * character devices, a directory made opaque hides what the layers had below it), layer_fds the
 * image's layers' diff/ directories TOP FIRST (overlay whiteout format). Only what the upper dir
 * holds is looked at, so the cost follows the change, not the image: a file copied up but not
 * changed (same metadata, size and mtime) is not listed, as docker does not list it.
 * *out (sorted by path, see above; caller frees with lb_changes_free) and *n_out are set on
 * success; nothing is allocated on failure. The fds are not closed or moved. */
int lb_changes_overlay(int upper_fd, const int *layer_fds, size_t n, struct lb_change **out,
                       size_t *n_out, struct lb_error **err);

/* vfs: root_fd is the container's full copy, layer_fds the image's layers' diff/ directories
 * TOP FIRST (whiteouts as `.wh.` marker files). The whole container tree is compared. */
int lb_changes_vfs(int root_fd, const int *layer_fds, size_t n, struct lb_change **out,
                   size_t *n_out, struct lb_error **err);

void lb_changes_free(struct lb_change *v, size_t n);

#endif
