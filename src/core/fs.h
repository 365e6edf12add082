/* fs.h — file system helpers that make "nothing is ever half-written" true.
 *
 * Every *_at function takes a directory fd and a path relative to it (AT_FDCWD works).
 */
#ifndef LB_CORE_FS_H
#define LB_CORE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"

/* mkdir -p: creates every missing component of path with `mode`. Existing directories are fine;
 * an existing non-directory is an error. */
int lb_mkdir_p(const char *path, mode_t mode, struct lb_error **err);

/* fsync a directory so that a rename or create inside it survives a crash. */
int lb_fsync_dir_at(int dirfd, const char *path, struct lb_error **err);

/* How much of a file replaced by lb_replace_file_at must survive a crash (power loss, kernel
 * panic). Every reader, at every moment, sees either the old content or the new, never a mix:
 * that is the rename. The difference is only what is on disk after a crash. */
enum lb_durability {
    LB_DURABLE,  /* fsync the file, then its directory: after a crash, the old or the new file */
    LB_VOLATILE, /* no fsync (~0.3 ms each here): a crash may lose the change, or leave the file
                  * empty on a file system that does not order data before a replacing rename
                  * (ext4 does). For state that is re-derived anyway, such as a container's pid. */
};

/* Write data to dirfd/name atomically: a temp file in the same directory, rename over name. */
int lb_replace_file_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                       enum lb_durability durability, struct lb_error **err);

/* lb_replace_file_at(..., LB_DURABLE, ...). */
int lb_atomic_write_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                       struct lb_error **err);

/* Read a whole regular file, refusing files larger than max_size bytes. *out is NUL-terminated
 * (not counted in *len) and owned by the caller. */
int lb_read_file_at(int dirfd, const char *path, size_t max_size, char **out, size_t *len,
                    struct lb_error **err);

/* Remove dirfd/path and everything below it. Never follows a symlink (a symlink is removed, not
 * its target) and never descends into another mount point (that is an error: unmount first).
 * A missing path is success. */
int lb_rm_tree_at(int dirfd, const char *path, struct lb_error **err);

/* Write all of buf to fd, retrying on EINTR and short writes. */
int lb_write_all(int fd, const void *buf, size_t len, struct lb_error **err);

/* Read up to len bytes, retrying on EINTR; returns bytes read (< len only at EOF) or -1. */
ssize_t lb_read_full(int fd, void *buf, size_t len, struct lb_error **err);

/* "a" + "/" + "b", with no doubled slash. Caller frees. */
char *lb_path_join(const char *a, const char *b);

/* Go's path.Clean of path taken from "/" (how docker cleans a container path: -w, -v, cp,
 * VOLUME): "//" and "/./" collapse, ".." pops one name and never climbs above "/", no trailing
 * '/'; "" and "." are "/", "a/b" is "/a/b". Purely lexical. Caller frees. */
char *lb_path_clean_abs(const char *path);

/* True when path exists (lstat succeeds). */
bool lb_path_exists_at(int dirfd, const char *path);

/* Make a new uniquely-named directory under dirfd/parent (mkdtemp-style), returning its path
 * relative to dirfd in *out (caller frees). */
int lb_mkdtemp_at(int dirfd, const char *parent, const char *prefix, char **out,
                  struct lb_error **err);

#endif
