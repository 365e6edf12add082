/* rootfs.h — the container's view of the file system: its mounts, then pivot_root into it.
 *
 * The concept: a mount namespace starts as a copy of the host's mount table. The container's
 * process rearranges its copy — /proc, a small /dev, volumes, masked files — inside the directory
 * that will be its root, then swaps roots with pivot_root and detaches the old one, so the host's
 * file system is not hidden (as with chroot) but gone from the namespace altogether. */
#ifndef LB_RUNTIME_ROOTFS_H
#define LB_RUNTIME_ROOTFS_H

#include "core/error.h"
#include "runtime/plan.h"

/* Runs in the container's process, which must already be in its own mount namespace (and PID
 * namespace, for /proc). In order:
 *   1. mount propagation of / made private, recursively (nothing we do reaches the host);
 *   2. plan->rootfs bind-mounted onto itself (pivot_root needs a mount point);
 *   3. plan->mounts in order. Each target is resolved inside the rootfs with openat2
 *      RESOLVE_IN_ROOT (a '..' or a symlink cannot lead out of it) and mounted through its
 *      /proc/self/fd path; missing mount points are made (directories 0755, or an empty file
 *      when a file is bound). A symlink on the way to a target is refused, except for
 *      LB_MOUNT_BIND (volumes), where it is followed inside the rootfs as docker does: so an
 *      image whose /dev, /proc or /sys is a symlink is refused. LB_MOUNT_SYSFS is always
 *      read-only; when a fresh sysfs is refused (EPERM) the host's /sys is bound instead
 *      (non-recursively, read-only);
 *   4. plan->readonly_paths bound onto themselves and remounted read-only, then
 *      plan->masked_paths hidden (a directory under an empty read-only tmpfs, a file under
 *      /dev/null). Paths that do not exist are skipped;
 *   5. when a mount targets /dev: the symlinks fd, stdin, stdout, stderr (→ /proc/self/fd...),
 *      ptmx (→ pts/ptmx) and core (→ /proc/kcore, when the host has one);
 *   6. plan->cwd made when missing (docker's behaviour), inside the rootfs;
 *   7. pivot_root(".", ".") from inside the rootfs, then umount2(".", MNT_DETACH) of the old root
 *      stacked on top, and chdir("/"). Never chroot.
 *   8. with plan->readonly_rootfs, / remounted read-only.
 * Every mount goes through sys.h. On failure the error names the step and the target
 * ("cannot mount proc on '/proc'"). */
int lb_rootfs_setup(const struct lb_run_plan *plan, struct lb_error **err);

/* The name of a mount kind: "proc", "tmpfs", "devpts", "mqueue", "sysfs", "bind", "device". */
const char *lb_mount_kind_name(enum lb_mount_kind kind);

#endif
