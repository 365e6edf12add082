/* driver.c — which storage driver a store uses, and why.
 *
 * A store's layers are written in one driver's whiteout format (overlay: 0/0 character devices
 * and the opaque xattr; vfs: the `.wh.` marker files), so the choice is made once and recorded in
 * ROOT/driver ("overlay\n" or "vfs\n"). The first command that needs a driver decides:
 * --storage-driver if given, else overlay when a probe mount in this very store succeeds (being
 * root is not proof enough: a container, a user namespace or an overlay-on-overlay store may
 * still refuse), else vfs. Later commands read the record; asking for the other driver then is a
 * usage error, because the layers on disk could not be read by it.
 *
 * Also here: the bookkeeping of `image mount` (ROOT/mounts/<image-id>/count), which rmi reads.
 *
 * Sits on: core/fs.h (atomic writes), layer/driver_overlay.c (the probe, mount point test).
 * Interface: lb_driver_by_name, lb_driver_select, lb_driver_set_probe, lb_driver_is_mounted,
 *            lb_image_mount_relpath, lb_image_mount_count, lb_image_mount_set_count
 */
#include "layer/driver.h"
#include "core/cleanup.h"
#include "core/fs.h"
#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DRIVER_FILE "driver"

static lb_driver_probe_fn probe_fn = lb_overlay_probe;

void lb_driver_set_probe(lb_driver_probe_fn fn)
{
    probe_fn = fn ? fn : lb_overlay_probe;
}

const struct lb_driver *lb_driver_by_name(const char *name)
{
    if (name == NULL)
        return NULL;
    if (strcmp(name, lb_driver_overlay.name) == 0)
        return &lb_driver_overlay;
    if (strcmp(name, lb_driver_vfs.name) == 0)
        return &lb_driver_vfs;
    return NULL;
}

/* The recorded driver: 1 with *out set, 0 when nothing is recorded yet, -1 on error. */
static int read_record(int root_fd, const char *root, const struct lb_driver **out,
                       struct lb_error **err)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    if (!lb_path_exists_at(root_fd, DRIVER_FILE))
        return 0;
    if (lb_read_file_at(root_fd, DRIVER_FILE, 64, &buf, &len, err) < 0)
        return lb_error_wrap(err, "reading the storage driver of '%s'", root);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        buf[--len] = '\0';
    *out = lb_driver_by_name(buf);
    if (*out == NULL)
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "'%s/" DRIVER_FILE "' names an unknown storage driver '%s'", root,
                             buf);
    return 1;
}

/* Record d unless another process recorded something first: the record is written to a temp
 * name and hard-linked into place, and link() never replaces an existing file. *won tells
 * whether ours is the record now. */
static int write_record(int root_fd, const char *root, const struct lb_driver *d, bool *won,
                        struct lb_error **err)
{
    _cleanup_free_ char *tmp = lb_xasprintf(DRIVER_FILE ".%ld.tmp", (long)getpid());
    _cleanup_free_ char *text = lb_xasprintf("%s\n", d->name);
    *won = false;
    unlinkat(root_fd, tmp, 0);
    _cleanup_close_ int fd =
        openat(root_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return lb_error_set(err, errno, "cannot create '%s/%s'", root, tmp);
    int rc = -1;
    if (lb_write_all(fd, text, strlen(text), err) < 0)
        goto out;
    if (fsync(fd) < 0) {
        lb_error_set(err, errno, "cannot sync '%s/%s'", root, tmp);
        goto out;
    }
    if (linkat(root_fd, tmp, root_fd, DRIVER_FILE, 0) < 0) {
        if (errno != EEXIST) {
            lb_error_set(err, errno, "cannot record the storage driver in '%s/" DRIVER_FILE "'",
                         root);
            goto out;
        }
    } else {
        *won = true;
    }
    rc = lb_fsync_dir_at(root_fd, ".", err);
out:
    unlinkat(root_fd, tmp, 0);
    return rc;
}

int lb_driver_select(int root_fd, const char *root, const char *requested,
                     const struct lb_driver **out, char **why, struct lb_error **err)
{
    const struct lb_driver *want = NULL;
    if (requested != NULL) {
        want = lb_driver_by_name(requested);
        if (want == NULL)
            return lb_error_setk(err, LB_EKIND_USAGE, 0,
                                 "unknown storage driver '%s' (overlay, vfs)", requested);
    }

    for (int attempt = 0; attempt < 2; attempt++) {
        const struct lb_driver *rec = NULL;
        int r = read_record(root_fd, root, &rec, err);
        if (r < 0)
            return -1;
        if (r > 0) {
            if (want != NULL && want != rec)
                return lb_error_setk(err, LB_EKIND_USAGE, 0,
                                     "this store uses the '%s' driver (%s/" DRIVER_FILE
                                     "); it cannot switch to '%s'",
                                     rec->name, root, want->name);
            *out = rec;
            if (why)
                *why = lb_xasprintf("%s: recorded in %s/" DRIVER_FILE, rec->name, root);
            return 0;
        }
        if (attempt > 0)
            break;

        /* Nothing recorded: decide. */
        const struct lb_driver *pick;
        _cleanup_free_ char *reason = NULL;
        if (want == &lb_driver_vfs) {
            pick = want;
            reason = lb_xstrdup("vfs: requested with --storage-driver");
        } else {
            struct lb_error *perr = NULL;
            if (probe_fn(root_fd, root, &perr) == 0) {
                pick = &lb_driver_overlay;
                reason = lb_xstrdup(want ? "overlay: requested with --storage-driver, and a probe "
                                           "mount succeeded"
                                         : "overlay: overlayfs is available and a probe mount "
                                           "succeeded");
            } else {
                _cleanup_free_ char *msg =
                    perr ? lb_error_string(perr) : lb_xstrdup("the overlayfs probe failed");
                int code = perr ? perr->code : 0;
                lb_error_free(perr);
                if (want != NULL)
                    return lb_error_set(err, code,
                                        "storage driver 'overlay' cannot be used in '%s': %s", root,
                                        msg);
                pick = &lb_driver_vfs;
                reason = lb_xasprintf("vfs: %s", msg);
            }
        }
        bool won = false;
        if (write_record(root_fd, root, pick, &won, err) < 0)
            return -1;
        if (won) {
            *out = pick;
            if (why)
                *why = lb_steal_pointer(&reason);
            return 0;
        }
        /* Someone else recorded a driver meanwhile: theirs stands; read it again. */
    }
    return lb_error_set(err, 0, "cannot read the storage driver recorded in '%s/" DRIVER_FILE "'",
                        root);
}

int lb_driver_is_mounted(const struct lb_driver *d, const char *target, bool *out,
                         struct lb_error **err)
{
    *out = false;
    if (d == &lb_driver_overlay) {
        struct statx stx;
        if (statx(AT_FDCWD, target, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) < 0) {
            if (errno == ENOENT)
                return 0;
            return lb_error_set(err, errno, "cannot stat '%s'", target);
        }
        if (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) {
            *out = (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
            return 0;
        }
        /* Old kernel: a different device than the parent's. Misses same-device bind mounts. */
        struct stat st, pst;
        _cleanup_free_ char *parent = lb_path_join(target, "..");
        if (lstat(target, &st) < 0 || lstat(parent, &pst) < 0)
            return lb_error_set(err, errno, "cannot stat '%s'", target);
        *out = st.st_dev != pst.st_dev || st.st_ino == pst.st_ino;
        return 0;
    }
    DIR *dir = opendir(target);
    if (dir == NULL) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return lb_error_set(err, errno, "cannot open '%s'", target);
    }
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            *out = true;
            break;
        }
    }
    closedir(dir);
    return 0;
}

/* --- image mount counts ------------------------------------------------------------------- */

char *lb_image_mount_relpath(const struct lb_digest *image_id)
{
    return lb_xasprintf("mounts/%s", lb_digest_hex(image_id));
}

int lb_image_mount_count(int root_fd, const struct lb_digest *image_id, unsigned long *count,
                         struct lb_error **err)
{
    _cleanup_free_ char *rel = lb_xasprintf("mounts/%s/count", lb_digest_hex(image_id));
    _cleanup_free_ char *buf = NULL;
    *count = 0;
    if (!lb_path_exists_at(root_fd, rel))
        return 0;
    if (lb_read_file_at(root_fd, rel, 64, &buf, NULL, err) < 0)
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(buf, &end, 10);
    if (errno != 0 || end == buf || buf[0] < '0' || buf[0] > '9' ||
        (*end != '\0' && strcmp(end, "\n") != 0))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "'%s' is not a mount count", rel);
    *count = v;
    return 0;
}

int lb_image_mount_set_count(int root_fd, const struct lb_digest *image_id, unsigned long count,
                             struct lb_error **err)
{
    _cleanup_free_ char *dir = lb_image_mount_relpath(image_id);
    _cleanup_free_ char *rel = lb_xasprintf("%s/count", dir);
    if (count == 0) {
        if (unlinkat(root_fd, rel, 0) < 0 && errno != ENOENT)
            return lb_error_set(err, errno, "cannot remove '%s'", rel);
        return 0;
    }
    if (mkdirat(root_fd, "mounts", 0700) < 0 && errno != EEXIST)
        return lb_error_set(err, errno, "cannot create directory 'mounts'");
    if (mkdirat(root_fd, dir, 0700) < 0 && errno != EEXIST)
        return lb_error_set(err, errno, "cannot create directory '%s'", dir);
    char text[32];
    int len = snprintf(text, sizeof(text), "%lu\n", count);
    return lb_atomic_write_at(root_fd, rel, text, (size_t)len, 0644, err);
}
