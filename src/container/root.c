/* root.c — a container's root: its image's layers stacked under its writable layer, and where
 * the driver mounts them (ROOT/containers/<id>/rootfs).
 *
 * The lifecycle mounts the root to start a container and unmounts it when the process ends;
 * the commands that read or write a container's files from outside (export, cp, diff, commit)
 * get it as an fd, mounted for the duration when the container is stopped, with the store lock
 * held meanwhile so that no start, rm or second mount of the same writable layer interleaves.
 *
 * Sits on: layer/driver.h (mount/umount, is-mounted), image/store.h (the image's layers),
 *          container/container.h (liveness), core/explain.h.
 * Interface: lb_lifecycle_root_open, lb_lifecycle_root_release
 *            (lifecycle_internal.h: lb_lifecycle_rootfs_open/_release/_mount/_umount,
 *            lb_lifecycle_driver_is_vfs)
 */
#include "container/lifecycle_internal.h"

#include "core/cleanup.h"
#include "core/explain.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- the container's root: its layers and where they are mounted -------------------------- */

void lb_lifecycle_rootfs_release(struct lb_lifecycle_rootfs *r)
{
    lb_image_free(r->img);
    free(r->chains);
    free(r->upper);
    free(r->work);
    free(r->target);
    *r = (struct lb_lifecycle_rootfs){0};
}

static struct lb_mount_request rootfs_request(const struct lb_store *s,
                                              const struct lb_lifecycle_rootfs *r)
{
    return (struct lb_mount_request){.root_fd = s->root_fd,
                                     .root = s->root,
                                     .layers = r->chains,
                                     .n_layers = r->img ? r->img->n_layers : 0,
                                     .upper = r->upper,
                                     .work = r->work,
                                     .target = r->target,
                                     .volatile_upper = r->volatile_upper};
}

/* need_image: fail when the image cannot be loaded (start); else go on without layers (remove,
 * inspect). */
int lb_lifecycle_rootfs_open(struct lb_lifecycle_rootfs *r, struct lb_store *s, const char *id,
                             const struct lb_digest *image_id, bool need_image,
                             struct lb_error **err)
{
    *r = (struct lb_lifecycle_rootfs){0};
    if (lb_store_driver(s, &r->driver, err) < 0)
        return -1;
    struct lb_error *e = NULL;
    if (image_id->str[0] != '\0')
        r->img = lb_store_resolve(s, image_id->str, &e);
    else
        lb_error_set(&e, 0, "no image recorded");
    if (r->img == NULL) {
        if (need_image) {
            *err = e;
            return lb_error_wrap(err, "the image of container '%.12s'", id);
        }
        lb_error_free(e);
    } else {
        size_t n = r->img->n_layers;
        r->chains = lb_xmalloc((n + 1) * sizeof(*r->chains));
        for (size_t i = 0; i < n; i++)
            r->chains[i] = r->img->layers[n - 1 - i].chain_id;
    }
    r->upper = lb_xasprintf("%s/containers/%s/diff", s->root, id);
    r->work = lb_xasprintf("%s/containers/%s/work", s->root, id);
    r->target = lb_xasprintf("%s/containers/%s/rootfs", s->root, id);
    return 0;
}

bool lb_lifecycle_driver_is_vfs(const struct lb_driver *d)
{
    return strcmp(d->name, "vfs") == 0;
}

int lb_lifecycle_rootfs_mount(struct lb_store *s, struct lb_lifecycle_rootfs *r,
                              struct lb_error **err)
{
    bool mounted = false;
    if (lb_driver_is_mounted(r->driver, r->target, &mounted, err) < 0)
        return -1;
    if (mounted) /* vfs: the copy made by create; overlay: left by a crash, reuse it */
        return 0;
    struct lb_mount_request req = rootfs_request(s, r);
    if (r->driver->mount(&req, err) < 0)
        return lb_error_wrap(err, "mounting the root of the container");
    return 0;
}

int lb_lifecycle_rootfs_umount(struct lb_store *s, struct lb_lifecycle_rootfs *r,
                               struct lb_error **err)
{
    bool mounted = false;
    if (lb_driver_is_mounted(r->driver, r->target, &mounted, err) < 0)
        return -1;
    if (!mounted)
        return 0;
    struct lb_mount_request req = rootfs_request(s, r);
    return r->driver->umount(&req, err);
}

/* --- the root seen from outside: export, cp, diff, commit ---------------------------------- */

int lb_lifecycle_root_open(struct lb_store *s, struct lb_container *c,
                           struct lb_container_root *out, struct lb_error **err)
{
    *out = (struct lb_container_root){.fd = -1, .store_ = s};
    if (lb_store_lock(s, err) < 0)
        return -1;
    out->locked_ = true;
    struct lb_lifecycle_rootfs r;
    int rc = -1;
    if (lb_container_check(s, c, err) < 0 ||
        lb_lifecycle_rootfs_open(&r, s, c->id, &c->image_id, false, err) < 0)
        goto fail;
    bool vfs = lb_lifecycle_driver_is_vfs(r.driver);
    if (r.img == NULL && !vfs) {
        lb_error_setk(err, LB_EKIND_NOT_FOUND, 0,
                      "the image of container '%s' is gone: its layers cannot be mounted", c->name);
        goto fail_r;
    }
    out->running = c->state.status == LB_STATE_RUNNING;
    if (!out->running && !vfs) {
        bool mounted = false;
        if (lb_driver_is_mounted(r.driver, r.target, &mounted, err) < 0)
            goto fail_r;
        if (!mounted) {
            /* Volatile: unmounting a durable overlay syncs the whole file system the store is
             * on, an export's 500 MB output file included if it is there too. What cp writes
             * into a stopped container is then as durable as any write nobody fsyncs. */
            r.volatile_upper = true;
            if (lb_lifecycle_rootfs_mount(s, &r, err) < 0)
                goto fail_r;
            out->mounted_ = true;
            lb_explain("container", "mounted the root of stopped container %.12s for this command",
                       c->id);
        }
    }
    out->fd = open(r.target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (out->fd < 0) {
        lb_error_set(err, errno, "cannot open '%s'", r.target);
        goto fail_r;
    }
    out->path = lb_steal_pointer(&r.target);
    if (!vfs)
        out->upper = lb_steal_pointer(&r.upper);
    if (r.img != NULL) {
        out->layer_fds = lb_xmalloc((r.img->n_layers + 1) * sizeof(int));
        for (size_t i = 0; i < r.img->n_layers; i++) {
            _cleanup_free_ char *rel = lb_xasprintf("layers/%s/diff", r.chains[i].str + 7);
            int fd = openat(s->root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0) {
                lb_error_set(err, errno, "cannot open '%s/%s'", s->root, rel);
                goto fail_r;
            }
            out->layer_fds[out->n_layers++] = fd;
        }
    }
    /* A running container's mount is its own: nobody else mounts it, and rm -f waits for the
     * lock only to remove it; keep the lock only while we hold a mount of our own. */
    if (out->running) {
        lb_store_unlock(s);
        out->locked_ = false;
    }
    lb_lifecycle_rootfs_release(&r);
    return 0;
fail_r:
    if (out->mounted_) {
        struct lb_error *ue = NULL;
        lb_lifecycle_rootfs_umount(s, &r, &ue);
        lb_error_free(ue);
        out->mounted_ = false;
    }
    lb_lifecycle_rootfs_release(&r);
fail:
    lb_lifecycle_root_release(out, NULL);
    return rc;
}

int lb_lifecycle_root_release(struct lb_container_root *r, struct lb_error **err)
{
    int rc = 0;
    if (r->fd >= 0)
        close(r->fd);
    for (size_t i = 0; i < r->n_layers; i++)
        close(r->layer_fds[i]);
    free(r->layer_fds);
    if (r->mounted_) {
        const struct lb_driver *d = NULL;
        if (lb_store_driver(r->store_, &d, err) < 0 ||
            d->umount(&(struct lb_mount_request){.root_fd = r->store_->root_fd,
                                                 .root = r->store_->root,
                                                 .target = r->path},
                      err) < 0)
            rc = -1;
    }
    if (r->locked_)
        lb_store_unlock(r->store_);
    free(r->path);
    free(r->upper);
    *r = (struct lb_container_root){.fd = -1};
    return rc;
}
