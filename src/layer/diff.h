/* diff.h — from a container-style writable layer back to an OCI changeset tar (what commit and
 * `diff` use). Output is deterministic: entries sorted bytewise by path with parents first,
 * numeric uid/gid and no user/group names, mtimes as on disk, xattrs sorted, hardlinks within the
 * layer written as tar hardlinks to the first path in that order.
 *
 * The exact shape of the tar (docker's, where docker is deterministic):
 *   - order: depth first, the entries of each directory sorted bytewise by name; a `.wh.NAME`
 *     takes NAME's place; `DIR/.wh..wh..opq` comes right after DIR/ (and first of all for an
 *     opaque root). The root directory itself is never an entry.
 *   - names relative with no leading "./"; directories end in '/' ("etc/").
 *   - pax "restricted": a pax header only where ustar cannot say it (xattrs, a non-ASCII or long
 *     name, a large id or size). UTF-8 names are written as they are; a name that is not UTF-8
 *     is kept as raw bytes (hdrcharset=BINARY). The caller's locale does not matter.
 *   - mtime in whole seconds (nanoseconds dropped, as docker does); no atime, ctime, uname,
 *     gname; nothing after the two zero blocks that end the archive.
 *   - xattrs as SCHILY.xattr.*, sorted by name; trusted.overlay.* and security.selinux are never
 *     written (they describe the union and the host's policy, not the file).
 *   - a whiteout `.wh.NAME` is an empty regular file, mode 0600; overlay: owner and mtime of the
 *     0/0 device (docker's header); trees: owner 0:0, mtime of the directory it was removed from.
 *     `.wh..wh..opq` is an empty regular file with its directory's permissions, owner and mtime.
 *   - a non-directory whose inode was already written (st_nlink > 1, same dev and inode) becomes
 *     a hardlink to the first path; whiteout devices never count (kernels share their inode).
 *   - sockets are skipped (tar cannot hold them).
 * Refused (LB_EKIND_INVALID): a name starting with ".wh." in the tree (OCI reserves it: it would
 * be read back as a whiteout). Overlay metacopy files (data in a lower layer) are an error.
 *
 * Stats (filled on success; st may be NULL): entries = every tar entry written, markers
 * included; whiteouts = `.wh.NAME` entries; opaques = `.wh..wh..opq` entries; bytes = regular
 * file content written (hardlinks count once).
 * out_fd is written from its current position and never closed, fsynced or rewound; it must be
 * open for writing. On error a partial tar may have been written: discard it. */
#ifndef LB_LAYER_DIFF_H
#define LB_LAYER_DIFF_H

#include <stdint.h>

#include "core/error.h"

struct lb_diff_stats {
    uint64_t entries, whiteouts, opaques, bytes;
};

/* An overlay upper directory: character device 0/0 → `.wh.NAME`; a directory with xattr
 * trusted.overlay.opaque="y" → the directory, then `DIR/.wh..wh..opq`; trusted.overlay.* xattrs
 * are never copied into the tar. Writes a plain tar to out_fd.
 * trusted.overlay.redirect is ignored: writable layers are mounted with redirect_dir=off (and
 * metacopy=off), so a renamed lower directory is a full copy in the upper plus a whiteout. */
int lb_diff_overlay_upper(int upper_fd, int out_fd, struct lb_diff_stats *st,
                          struct lb_error **err);

/* vfs: compare a container's full tree `new_fd` with the image's tree `old_fd`: paths only in new
 * or different (type, mode, owner, size, mtime, symlink target, xattrs) are written; paths only
 * in old become `.wh.NAME` (one whiteout for a removed directory, not one per file).
 * Details: mtimes are compared to the nanosecond (so the container's copy must preserve them, as
 * `cp -a` does); a regular file with the same size and mtime is unchanged without reading it
 * (docker's rule); directories compare mode, owner, mtime and xattrs (not size) and are written
 * when they differ or when anything below them is written, before it; a type change writes the
 * new entry (and a new directory's whole contents), which replaces the old one on apply; a path
 * that became a socket (which tar cannot hold) is written as a whiteout. Character devices 0/0
 * are ordinary devices here. */
int lb_diff_trees(int old_fd, int new_fd, int out_fd, struct lb_diff_stats *st,
                  struct lb_error **err);

#endif
