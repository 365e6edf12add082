/* size.h — how much a container's writable layer holds, as `ps -s` shows it (docker's SizeRw
 * and SizeRootFs).
 *
 * docker's rule (overlay2's DiffSize = pkg/directory.Size of the upper dir): the sum of st_size
 * of every entry that is not a directory — regular files, symlinks (the length of the target),
 * devices and FIFOs (0, so an overlay whiteout counts nothing) — each inode once, so a file
 * hardlinked under two names counts once. Directories count nothing.
 * With vfs the writable layer is the whole copy (rootfs/): only what differs from the image
 * counts (docker's naive diff: a path the image has with the same type, mode, owner, size and
 * mtime is unchanged). */
#ifndef LB_CONTAINER_SIZE_H
#define LB_CONTAINER_SIZE_H

#include <stddef.h>
#include <stdint.h>

#include "container/container.h"
#include "core/error.h"
#include "image/store.h"

/* docker's directory.Size of the tree at path (relative to dirfd, or absolute): see above.
 * Errors (an unreadable directory, a missing tree) name the path that failed. */
int lb_size_tree_at(int dirfd, const char *path, uint64_t *out, struct lb_error **err);

/* vfs: the size (rule above) of what the tree at path (relative to dirfd) adds or changes
 * compared with the image whose layers' diff directories are layer_fds, TOP FIRST, whiteouts as
 * files (`.wh.NAME`, `.wh..wh..opq`: layer/apply.h LB_WHITEOUT_FILES). */
int lb_size_changed_at(int dirfd, const char *path, const int *layer_fds, size_t n_layers,
                       uint64_t *out, struct lb_error **err);

/* The size of c's writable layer: containers/<id>/diff (overlay), or what containers/<id>/rootfs
 * changes from c's image (vfs). A container without the directory (nothing made yet) is 0. */
int lb_container_rw_size(struct lb_store *s, const struct lb_container *c, uint64_t *out,
                         struct lb_error **err);

struct lb_container_size {
    uint64_t rw;      /* the writable layer (lb_container_rw_size) */
    uint64_t root_fs; /* rw + the image's size (what `images` shows as SIZE); 0 when the image
                         is gone (docker then shows the writable size alone) */
};

/* Both sizes of c. */
int lb_container_size(struct lb_store *s, const struct lb_container *c,
                      struct lb_container_size *out, struct lb_error **err);

/* docker's SIZE column: "<rw> (virtual <root_fs>)", or "<rw>" when root_fs is 0, in
 * lb_human_size units ("1kB (virtual 2.8MB)"). Caller frees. */
char *lb_container_size_string(const struct lb_container_size *sz);

#endif
