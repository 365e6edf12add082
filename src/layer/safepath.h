/* safepath.h — resolving paths inside a root directory: archive paths never follow a symlink;
 * a container's own paths follow symlinks confined to the root (lb_safepath_open_dir_in_root).
 *
 * The concept: a path from a tar is data, not a place. "a/b/c" is opened one component at a time
 * relative to the root fd (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV where
 * the kernel has it, else an O_NOFOLLOW walk), so no '..', absolute path or symlink — even one
 * swapped in meanwhile — can take a write outside the root (the CVE-2018-15664 class).
 * LB_SAFEPATH_NO_OPENAT2=1 in the environment forces the walks by hand (tests run both). */
#ifndef LB_LAYER_SAFEPATH_H
#define LB_LAYER_SAFEPATH_H

#include <stdbool.h>

#include "core/error.h"

/* Normalise an archive path: strip leading "./" and trailing '/', collapse "//" and "/./".
 * Rejects (LB_EKIND_INVALID) absolute paths and any '..' component; the message states the rule
 * only ("path is absolute (it would leave the layer)"): callers add the entry's name. "." and ""
 * become "" (the root itself). Caller frees *out. */
int lb_safepath_clean(const char *path, char **out, struct lb_error **err);

/* Open the directory that contains `clean` (a lb_safepath_clean result, not the root itself)
 * under rootfd, with no symlink followed; *base points into clean at the last component.
 * With create, missing parents are made (mode 0755) and a parent that is a regular file, FIFO or
 * device is replaced by a directory; a parent that is a symlink is an error either way. */
int lb_safepath_open_parent(int rootfd, const char *clean, bool create, const char **base,
                            struct lb_error **err);

/* Open `clean` itself under rootfd with flags (O_NOFOLLOW is added: a final symlink fails). */
int lb_safepath_open(int rootfd, const char *clean, int flags, struct lb_error **err);

/* Does a relative symlink target, seen from the directory of `clean`, stay inside the root?
 * (Absolute targets are interpreted inside the root at run time, so they are allowed.) */
bool lb_safepath_symlink_stays_inside(const char *clean, const char *target);

/* The other rule, for paths a container gives its own files (cp): open the directory `path`
 * inside rootfd with RESOLVE_IN_ROOT semantics — symlinks ARE followed, but an absolute target
 * and every ".." stop at rootfd, as if it were "/" (chroot); an absolute `path` is taken relative
 * to rootfd, and "", "/" give rootfd itself. No magic link (/proc/self/...) and no mount point
 * is crossed. openat2 does the walk (retried on EAGAIN), else a walk by hand that holds every
 * directory passed as an fd (at most 40 symlinks). `path` need not be cleaned: "." and ".." are
 * resolved as the kernel does, after symlinks. Returns an O_RDONLY|O_DIRECTORY|O_CLOEXEC fd the
 * caller closes, or -1 with err->code ENOENT (missing), ENOTDIR (a non-directory on the way or
 * at the end), ELOOP (too many symlinks), EXDEV (a mount point) or another errno. */
int lb_safepath_open_dir_in_root(int rootfd, const char *path, struct lb_error **err);

#endif
