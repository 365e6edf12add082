/* export.h — `export CONTAINER`: a container's whole file system, flattened into one tar.
 *
 * The lesson next to `save`: save writes an image's layers and history as they are; export writes
 * what the container sees — the image's layers and its writable layer merged, whiteouts applied —
 * as one plain tar with no history, the input `import` turns into a one-layer image. */
#ifndef LB_CONTAINER_EXPORT_H
#define LB_CONTAINER_EXPORT_H

#include "container/container.h"
#include "core/error.h"
#include "image/store.h"

/* Write c's merged root file system to out_fd as a tar (layer/tar.h's pax format, entries
 * sorted bytewise by path with parents first, as layer/diff.h describes them: names relative
 * with no "./" and no entry for the root, numeric owners, mtimes in whole seconds, xattrs but
 * trusted.overlay.* and security.selinux, hardlinks as tar hardlinks, symlinks never followed,
 * sockets skipped). It is the merged view, so there is no whiteout in it. Works for running
 * containers (their mount is read as it is) and stopped ones (mounted for the duration, under
 * the store lock: lb_lifecycle_root_open). A file named `.wh.*` in the container cannot be
 * exported (it would read back as a whiteout): LB_EKIND_INVALID.
 * out_fd is written from its current position, never closed or rewound; on error a partial tar
 * may have been written. */
int lb_container_export(struct lb_store *s, struct lb_container *c, int out_fd,
                        struct lb_error **err);

#endif
