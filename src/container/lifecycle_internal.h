/* lifecycle_internal.h — what the files of the lifecycle share and nobody else uses.
 *
 * lifecycle.c (create, foreground start, remove), detached.c (the monitor), stop.c (stop, kill,
 * wait), inspect.c and root.c implement lifecycle.h between them; this header is the seam
 * between those files. Not a contract for other modules: include lifecycle.h instead. */
#ifndef LB_CONTAINER_LIFECYCLE_INTERNAL_H
#define LB_CONTAINER_LIFECYCLE_INTERNAL_H

#include <stdbool.h>

#include "container/lifecycle.h"
#include "layer/driver.h"

/* --- root.c: the container's root, its layers and where they are mounted ------------------ */

struct lb_lifecycle_rootfs {
    const struct lb_driver *driver;
    struct lb_image *img;     /* NULL when the image cannot be loaded (then no layers) */
    struct lb_digest *chains; /* TOP FIRST */
    char *upper, *work, *target;
    bool volatile_upper; /* mount the upper as overlay's "volatile" (--rm containers) */
};

/* Fill r for container id (image_id: its image). need_image: fail when the image cannot be
 * loaded (start); else go on without layers (remove, inspect). Release with
 * lb_lifecycle_rootfs_release, also after a failure. */
int lb_lifecycle_rootfs_open(struct lb_lifecycle_rootfs *r, struct lb_store *s, const char *id,
                             const struct lb_digest *image_id, bool need_image,
                             struct lb_error **err);

/* Free what r holds and zero it. */
void lb_lifecycle_rootfs_release(struct lb_lifecycle_rootfs *r);

/* Mount r's layers + upper on its target, unless something is mounted there already (vfs: the
 * copy made by create; overlay: a mount left by a crash, reused). */
int lb_lifecycle_rootfs_mount(struct lb_store *s, struct lb_lifecycle_rootfs *r,
                              struct lb_error **err);

/* Unmount r's target when something is mounted there (vfs: removes the copy). */
int lb_lifecycle_rootfs_umount(struct lb_store *s, struct lb_lifecycle_rootfs *r,
                               struct lb_error **err);

/* True for the vfs driver: its "mount" is a copy that lives as long as the container. */
bool lb_lifecycle_driver_is_vfs(const struct lb_driver *d);

/* --- lifecycle.c: the start both ways share ------------------------------------------------ */

/* "containers/<id>/<file>", relative to the store's root_fd. Caller frees. */
char *lb_lifecycle_record_rel(const char *id, const char *file);

/* Re-read c's state under the lock: another command may have changed it (a concurrent start
 * ran it) or removed it (rm -f) since c was loaded; then "no such container". */
int lb_lifecycle_refresh_locked(struct lb_store *s, struct lb_container *c, struct lb_error **err);

/* Everything start needs between taking the lock and starting the process: refresh, liveness
 * check, state machine (START; "already running" is LB_EKIND_CONFLICT), directories, the root
 * opened into r and mounted, the plan, the process started into proc with popts' stdio, its
 * cgroups saved and c recorded running with this process as its monitor. On failure r may hold
 * an opened root (r->img != NULL: it got as far as the mount; see lb_lifecycle_finish) and
 * proc->exec_errno says why the command could not run. */
int lb_lifecycle_start_locked(struct lb_store *s, struct lb_container *c,
                              struct lb_lifecycle_rootfs *r, const struct lb_process_opts *popts,
                              struct lb_process *proc, struct lb_error **err);

/* After the process ended (started) or failed to start (!started, code its 125/126/127): under
 * the lock, record the exit (or the code), remove its cgroups and unmount its root (overlay).
 * Errors are collected in *err only when err is not NULL and *err is still empty. */
void lb_lifecycle_finish(struct lb_store *s, struct lb_container *c, struct lb_lifecycle_rootfs *r,
                         struct lb_process *proc, bool started, int code, struct lb_error **err);

#endif
