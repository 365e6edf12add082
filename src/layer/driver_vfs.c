/* driver_vfs.c — the vfs driver: the union is built by copying, bottom layer first.
 *
 * What overlayfs computes at lookup time, vfs does once, on disk:
 *
 *   for each layer, bottom → top, walking its diff/ (whiteouts as `.wh.` marker files):
 *     DIR/.wh..wh..opq   empty DIR in the copy (the lower layers' contents are hidden)
 *     DIR/.wh.NAME       remove DIR/NAME (a whole tree if it is a directory)
 *     anything else      copy it: a non-directory replaces what was there; a directory is merged
 *                        into an existing one and takes the upper layer's mode, owner and times
 *
 * Modes, owners (when root), times, xattrs, symlinks, FIFOs, device nodes (when root) and hard
 * links within a layer are preserved. Nothing is ever followed: every file is opened relative
 * to its parent's fd with O_NOFOLLOW, and a directory of an upper layer replaces a symlink of a
 * lower one instead of being written through it. It works anywhere (no mount, no privilege),
 * costs a full copy per mount, and the copy itself is writable (upper/work are not used).
 *
 * Sits on: core/fs.h; layers.h's on-disk layout (layers/<chainhex>/diff).
 * Interface: lb_driver_vfs
 */
#include "layer/driver.h"
#include "core/cleanup.h"
#include "core/explain.h"
#include "core/fs.h"
#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

struct hardlink {
    dev_t dev;
    ino_t ino;
    char *rel; /* where its first name was copied, relative to the target */
};

struct vfs_copy {
    bool privileged; /* root: chown, mknod, trusted.* xattrs */
    int target_fd;
    const char *layer; /* the layer being copied, for error messages */
    struct hardlink *links;
    size_t n_links, cap_links;
    uint64_t files, dirs, symlinks, hardlinks, others, whiteouts, opaques, skipped;
};

static void links_reset(struct vfs_copy *c)
{
    for (size_t i = 0; i < c->n_links; i++)
        free(c->links[i].rel);
    c->n_links = 0;
}

static char *child_rel(const char *rel, const char *name)
{
    return *rel ? lb_xasprintf("%s/%s", rel, name) : lb_xstrdup(name);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in the directory open at fd, sorted (so hard links always point at the same first
 * name), without "." and "..". */
static int list_dir(int fd, const char *rel, char ***out, size_t *n, struct lb_error **err)
{
    int dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dupfd < 0)
        return lb_error_set(err, errno, "cannot read directory '/%s'", rel);
    DIR *d = fdopendir(dupfd);
    if (d == NULL) {
        close(dupfd);
        return lb_error_set(err, errno, "cannot read directory '/%s'", rel);
    }
    rewinddir(d);
    char **v = NULL;
    size_t len = 0, cap = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (len + 1 >= cap) {
            cap = cap ? cap * 2 : 16;
            v = lb_xrealloc(v, cap * sizeof(*v));
        }
        v[len++] = lb_xstrdup(de->d_name);
        errno = 0;
    }
    int saved = errno;
    closedir(d);
    if (saved != 0) {
        for (size_t i = 0; i < len; i++)
            free(v[i]);
        free(v);
        return lb_error_set(err, saved, "cannot read directory '/%s'", rel);
    }
    if (len > 1)
        qsort(v, len, sizeof(*v), cmp_str);
    if (v != NULL)
        v[len] = NULL;
    *out = v;
    *n = len;
    return 0;
}

static int remove_tree_at(int dfd, const char *name, const char *rel, bool privileged,
                          struct lb_error **err);

/* Remove everything inside the directory open at fd. Directories are made writable first (an
 * unprivileged copy of a 0555 /proc could not be emptied otherwise), and a mount point inside
 * (a volume of a container using this copy) is refused, never descended into. */
static int empty_dir(int fd, const char *rel, bool privileged, struct lb_error **err)
{
    _cleanup_strv_ char **names = NULL;
    size_t n = 0;
    if (list_dir(fd, rel, &names, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *crel = child_rel(rel, names[i]);
        if (remove_tree_at(fd, names[i], crel, privileged, err) < 0)
            return -1;
    }
    return 0;
}

static int remove_tree_at(int dfd, const char *name, const char *rel, bool privileged,
                          struct lb_error **err)
{
    struct statx stx;
    if (statx(dfd, name, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx) < 0) {
        if (errno == ENOENT)
            return 0;
        return lb_error_set(err, errno, "cannot stat '/%s'", rel);
    }
    if (!S_ISDIR(stx.stx_mode)) {
        if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
            return lb_error_set(err, errno, "cannot remove '/%s'", rel);
        return 0;
    }
    if (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT)
        return lb_error_set(err, EBUSY, "refusing to remove '/%s': it is a mount point", rel);
    _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == EACCES && !privileged && fchmodat(dfd, name, 0700, 0) == 0)
        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return lb_error_set(err, errno, "cannot open directory '/%s'", rel);
    if (!privileged && fchmod(fd, 0700) < 0)
        return lb_error_set(err, errno, "cannot make '/%s' writable", rel);
    if (empty_dir(fd, rel, privileged, err) < 0)
        return -1;
    if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return lb_error_set(err, errno, "cannot remove directory '/%s'", rel);
    return 0;
}

/* Failures to set an xattr that a copy can live without: the target file system has no xattrs,
 * or (unprivileged) a trusted.* / security.* name we may not set. */
static bool xattr_failure_ok(const struct vfs_copy *c, int e)
{
    return e == ENOTSUP || (!c->privileged && (e == EPERM || e == EACCES));
}

/* Copy the xattrs of the source to the copy: through fds (sfd/dfd >= 0) or, for symlinks and
 * device nodes, through the /proc/self/fd path of their parent (spath/dpath), never following
 * the entry itself. overlayfs's own trusted.overlay.* attributes are not copied. */
static int copy_xattrs(struct vfs_copy *c, int sfd, int dfd, const char *spath, const char *dpath,
                       const char *rel, struct lb_error **err)
{
    ssize_t len = spath ? llistxattr(spath, NULL, 0) : flistxattr(sfd, NULL, 0);
    if (len < 0) {
        if (errno == ENOTSUP || errno == ENOENT)
            return 0;
        return lb_error_set(err, errno, "cannot list the xattrs of '/%s'", rel);
    }
    if (len == 0)
        return 0;
    _cleanup_free_ char *names = lb_xmalloc((size_t)len + 1);
    len = spath ? llistxattr(spath, names, (size_t)len) : flistxattr(sfd, names, (size_t)len);
    if (len < 0)
        return lb_error_set(err, errno, "cannot list the xattrs of '/%s'", rel);
    for (char *name = names; name < names + len; name += strlen(name) + 1) {
        if (lb_str_has_prefix(name, "trusted.overlay."))
            continue;
        ssize_t vlen = spath ? lgetxattr(spath, name, NULL, 0) : fgetxattr(sfd, name, NULL, 0);
        if (vlen < 0)
            return lb_error_set(err, errno, "cannot read xattr '%s' of '/%s'", name, rel);
        _cleanup_free_ char *val = lb_xmalloc((size_t)vlen + 1);
        vlen = spath ? lgetxattr(spath, name, val, (size_t)vlen)
                     : fgetxattr(sfd, name, val, (size_t)vlen);
        if (vlen < 0)
            return lb_error_set(err, errno, "cannot read xattr '%s' of '/%s'", name, rel);
        int r = dpath ? lsetxattr(dpath, name, val, (size_t)vlen, 0)
                      : fsetxattr(dfd, name, val, (size_t)vlen, 0);
        if (r < 0 && !xattr_failure_ok(c, errno))
            return lb_error_set(err, errno, "cannot set xattr '%s' on '/%s'", name, rel);
    }
    return 0;
}

/* Owner, mode, xattrs, times of an open file or directory — in that order: chown clears the
 * set-uid bits and security.capability, so it goes first; writing times last keeps them. */
static int set_meta_fd(struct vfs_copy *c, int sfd, int dfd, const struct stat *st, const char *rel,
                       struct lb_error **err)
{
    if (c->privileged && fchown(dfd, st->st_uid, st->st_gid) < 0)
        return lb_error_set(err, errno, "cannot set the owner of '/%s'", rel);
    if (fchmod(dfd, st->st_mode & 07777) < 0)
        return lb_error_set(err, errno, "cannot set the mode of '/%s'", rel);
    if (copy_xattrs(c, sfd, dfd, NULL, NULL, rel, err) < 0)
        return -1;
    const struct timespec ts[2] = {st->st_atim, st->st_mtim};
    if (futimens(dfd, ts) < 0)
        return lb_error_set(err, errno, "cannot set the times of '/%s'", rel);
    return 0;
}

/* The same for an entry that cannot be opened (symlink, device, FIFO, socket). */
static int set_meta_at(struct vfs_copy *c, int src, int dst, const char *name,
                       const struct stat *st, const char *rel, struct lb_error **err)
{
    if (c->privileged && fchownat(dst, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
        return lb_error_set(err, errno, "cannot set the owner of '/%s'", rel);
    if (!S_ISLNK(st->st_mode) && fchmodat(dst, name, st->st_mode & 07777, 0) < 0)
        return lb_error_set(err, errno, "cannot set the mode of '/%s'", rel);
    _cleanup_free_ char *spath = lb_xasprintf("/proc/self/fd/%d/%s", src, name);
    _cleanup_free_ char *dpath = lb_xasprintf("/proc/self/fd/%d/%s", dst, name);
    if (copy_xattrs(c, -1, -1, spath, dpath, rel, err) < 0)
        return -1;
    const struct timespec ts[2] = {st->st_atim, st->st_mtim};
    if (utimensat(dst, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return lb_error_set(err, errno, "cannot set the times of '/%s'", rel);
    return 0;
}

static int copy_data(int sfd, int dfd, const char *rel, struct lb_error **err)
{
    bool copied = false;
    for (;;) {
        ssize_t n = copy_file_range(sfd, NULL, dfd, NULL, 1 << 30, 0);
        if (n == 0)
            return 0;
        if (n > 0) {
            copied = true;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (!copied &&
            (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP))
            break; /* no in-kernel copy between these two: read and write */
        return lb_error_set(err, errno, "cannot copy '/%s'", rel);
    }
    _cleanup_free_ char *buf = lb_xmalloc(128 * 1024);
    for (;;) {
        ssize_t n = read(sfd, buf, 128 * 1024);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return lb_error_set(err, errno, "cannot read '/%s'", rel);
        if (n == 0)
            return 0;
        if (lb_write_all(dfd, buf, (size_t)n, err) < 0)
            return lb_error_wrap(err, "copying '/%s'", rel);
    }
}

static int copy_regular(struct vfs_copy *c, int src, int dst, const char *name,
                        const struct stat *st, const char *rel, struct lb_error **err)
{
    if (st->st_nlink > 1) {
        for (size_t i = 0; i < c->n_links; i++) {
            if (c->links[i].dev == st->st_dev && c->links[i].ino == st->st_ino) {
                if (linkat(c->target_fd, c->links[i].rel, dst, name, 0) < 0)
                    return lb_error_set(err, errno, "cannot link '/%s' to '/%s'", rel,
                                        c->links[i].rel);
                c->hardlinks++;
                return 0;
            }
        }
    }
    _cleanup_close_ int sfd = openat(src, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
    if (sfd < 0)
        return lb_error_set(err, errno, "cannot open '/%s' in layer %s", rel, c->layer);
    _cleanup_close_ int dfd =
        openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (dfd < 0)
        return lb_error_set(err, errno, "cannot create '/%s'", rel);
    if (copy_data(sfd, dfd, rel, err) < 0 || set_meta_fd(c, sfd, dfd, st, rel, err) < 0)
        return -1;
    c->files++;
    if (st->st_nlink > 1) {
        if (c->n_links == c->cap_links) {
            c->cap_links = c->cap_links ? c->cap_links * 2 : 16;
            c->links = lb_xrealloc(c->links, c->cap_links * sizeof(*c->links));
        }
        c->links[c->n_links++] = (struct hardlink){st->st_dev, st->st_ino, lb_xstrdup(rel)};
    }
    return 0;
}

static int copy_dir(struct vfs_copy *c, int src, int dst, const char *rel, struct lb_error **err);

static int copy_directory(struct vfs_copy *c, int src, int dst, const char *name,
                          const struct stat *st, bool dst_is_dir, const char *rel,
                          struct lb_error **err)
{
    if (!dst_is_dir) {
        if (mkdirat(dst, name, 0700) < 0)
            return lb_error_set(err, errno, "cannot create directory '/%s'", rel);
        c->dirs++;
    }
    _cleanup_close_ int sfd = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sfd < 0)
        return lb_error_set(err, errno, "cannot open '/%s' in layer %s", rel, c->layer);
    _cleanup_close_ int dfd = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0 && errno == EACCES && !c->privileged && fchmodat(dst, name, 0700, 0) == 0)
        dfd = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return lb_error_set(err, errno, "cannot open directory '/%s'", rel);
    /* Writable while we fill it; the layer's mode is set afterwards. */
    if (!c->privileged && fchmod(dfd, 0700) < 0)
        return lb_error_set(err, errno, "cannot make '/%s' writable", rel);
    if (copy_dir(c, sfd, dfd, rel, err) < 0)
        return -1;
    return set_meta_fd(c, sfd, dfd, st, rel, err);
}

/* Copy one entry of a layer directory over whatever the lower layers left at that name. */
static int copy_entry(struct vfs_copy *c, int src, int dst, const char *name, const char *rel,
                      struct lb_error **err)
{
    struct stat st, dst_st;
    if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return lb_error_set(err, errno, "cannot stat '/%s' in layer %s", rel, c->layer);
    bool exists = true;
    if (fstatat(dst, name, &dst_st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT)
            return lb_error_set(err, errno, "cannot stat '/%s'", rel);
        exists = false;
    }
    if (S_ISDIR(st.st_mode)) {
        /* A directory replaces a lower non-directory — a symlink included: it is removed, never
         * written through. */
        if (exists && !S_ISDIR(dst_st.st_mode)) {
            if (unlinkat(dst, name, 0) < 0)
                return lb_error_set(err, errno, "cannot remove '/%s'", rel);
            exists = false;
        }
        return copy_directory(c, src, dst, name, &st, exists, rel, err);
    }
    if (exists && remove_tree_at(dst, name, rel, c->privileged, err) < 0)
        return -1;

    switch (st.st_mode & S_IFMT) {
    case S_IFREG:
        return copy_regular(c, src, dst, name, &st, rel, err);
    case S_IFLNK: {
        if (st.st_size <= 0 || st.st_size > 65536)
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 "symlink '/%s' in layer %s has a bad size", rel, c->layer);
        _cleanup_free_ char *target = lb_xmalloc((size_t)st.st_size + 2);
        ssize_t n = readlinkat(src, name, target, (size_t)st.st_size + 1);
        if (n < 0)
            return lb_error_set(err, errno, "cannot read symlink '/%s' in layer %s", rel, c->layer);
        if (n > st.st_size)
            return lb_error_set(err, 0, "symlink '/%s' changed while being copied", rel);
        target[n] = '\0';
        if (symlinkat(target, dst, name) < 0)
            return lb_error_set(err, errno, "cannot create symlink '/%s'", rel);
        c->symlinks++;
        return set_meta_at(c, src, dst, name, &st, rel, err);
    }
    case S_IFCHR:
    case S_IFBLK:
        if (!c->privileged) {
            c->skipped++;
            return 0;
        }
        /* fall through */
    case S_IFIFO:
    case S_IFSOCK:
        if (mknodat(dst, name, (st.st_mode & S_IFMT) | 0600, st.st_rdev) < 0)
            return lb_error_set(err, errno, "cannot create '/%s'", rel);
        c->others++;
        return set_meta_at(c, src, dst, name, &st, rel, err);
    default:
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "'/%s' in layer %s has an unknown type", rel,
                             c->layer);
    }
}

/* Apply one directory of a layer onto the copy: opaque marker, then whiteouts, then entries.
 * Deleting before copying means a layer may delete a lower NAME and add its own NAME. */
static int copy_dir(struct vfs_copy *c, int src, int dst, const char *rel, struct lb_error **err)
{
    _cleanup_strv_ char **names = NULL;
    size_t n = 0;
    if (list_dir(src, rel, &names, &n, err) < 0)
        return lb_error_wrap(err, "layer %s", c->layer);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], WH_OPAQUE) == 0) {
            if (empty_dir(dst, rel, c->privileged, err) < 0)
                return -1;
            c->opaques++;
            lb_explain("mount", "vfs: /%s is opaque in layer %s: lower contents removed", rel,
                       c->layer);
            break;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!lb_str_has_prefix(names[i], WH_PREFIX) || strcmp(names[i], WH_OPAQUE) == 0)
            continue;
        const char *victim = names[i] + strlen(WH_PREFIX);
        _cleanup_free_ char *vrel = child_rel(rel, victim);
        if (lb_str_has_prefix(victim, WH_PREFIX))
            continue; /* aufs metadata (.wh..wh.plnk, ...): not a deletion */
        if (*victim == '\0' || strcmp(victim, ".") == 0 || strcmp(victim, "..") == 0) {
            _cleanup_free_ char *wrel = child_rel(rel, names[i]);
            return lb_error_setk(err, LB_EKIND_INVALID, 0, "layer %s: invalid whiteout '/%s'",
                                 c->layer, wrel);
        }
        if (remove_tree_at(dst, victim, vrel, c->privileged, err) < 0)
            return -1;
        c->whiteouts++;
    }
    for (size_t i = 0; i < n; i++) {
        if (lb_str_has_prefix(names[i], WH_PREFIX))
            continue;
        _cleanup_free_ char *crel = child_rel(rel, names[i]);
        if (copy_entry(c, src, dst, names[i], crel, err) < 0)
            return -1;
    }
    return 0;
}

static int open_target(const char *target, struct lb_error **err)
{
    int fd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return lb_error_set(err, errno, "cannot open mount target '%s'", target);
    return fd;
}

static int vfs_mount(const struct lb_mount_request *req, struct lb_error **err)
{
    _cleanup_close_ int tfd = open_target(req->target, err);
    if (tfd < 0)
        return -1;
    _cleanup_strv_ char **existing = NULL;
    size_t n_existing = 0;
    if (list_dir(tfd, "", &existing, &n_existing, err) < 0)
        return lb_error_wrap(err, "reading '%s'", req->target);
    if (n_existing > 0)
        return lb_error_setk(err, LB_EKIND_CONFLICT, 0,
                             "'%s' is not empty: vfs copies the layers into an empty directory",
                             req->target);

    struct vfs_copy c = {.privileged = geteuid() == 0, .target_fd = tfd};
    int rc = -1;
    for (size_t k = req->n_layers; k-- > 0;) {
        const struct lb_digest *layer = &req->layers[k];
        c.layer = layer->str;
        _cleanup_free_ char *rel = lb_xasprintf("layers/%s/diff", lb_digest_hex(layer));
        _cleanup_close_ int sfd =
            openat(req->root_fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sfd < 0) {
            lb_error_set(err, errno, "layer %s is not unpacked: cannot open '%s'", layer->str, rel);
            goto out;
        }
        struct stat st;
        if (fstat(sfd, &st) < 0) {
            lb_error_set(err, errno, "cannot stat '%s'", rel);
            goto out;
        }
        if (!c.privileged && fchmod(tfd, 0700) < 0) {
            lb_error_set(err, errno, "cannot make '%s' writable", req->target);
            goto out;
        }
        if (copy_dir(&c, sfd, tfd, "", err) < 0 || set_meta_fd(&c, sfd, tfd, &st, "", err) < 0) {
            lb_error_wrap(err, "vfs: copying layer %s into '%s'", layer->str, req->target);
            goto out;
        }
        links_reset(&c);
    }
    rc = 0;
    lb_explain("mount",
               "vfs copied %zu layers (%llu files, %llu directories, %llu symlinks, %llu hard "
               "links, %llu others; %llu whiteouts and %llu opaque directories applied) into %s",
               req->n_layers, (unsigned long long)c.files, (unsigned long long)c.dirs,
               (unsigned long long)c.symlinks, (unsigned long long)c.hardlinks,
               (unsigned long long)c.others, (unsigned long long)c.whiteouts,
               (unsigned long long)c.opaques, req->target);
    if (c.skipped > 0)
        lb_explain("mount", "vfs skipped %llu device nodes (creating them needs root)",
                   (unsigned long long)c.skipped);
out:
    if (rc < 0) {
        struct lb_error *e = NULL;
        empty_dir(tfd, "", c.privileged, &e); /* leave no half-made copy behind */
        lb_error_free(e);
    }
    links_reset(&c);
    free(c.links);
    return rc;
}

static int vfs_umount(const struct lb_mount_request *req, struct lb_error **err)
{
    _cleanup_close_ int tfd = open_target(req->target, err);
    if (tfd < 0)
        return -1;
    if (empty_dir(tfd, "", geteuid() == 0, err) < 0)
        return lb_error_wrap(err, "removing the vfs copy in '%s'", req->target);
    lb_explain("mount", "vfs removed the copy in %s", req->target);
    return 0;
}

const struct lb_driver lb_driver_vfs = {
    .name = "vfs",
    .whiteouts = LB_WHITEOUT_FILES,
    .mount = vfs_mount,
    .umount = vfs_umount,
};
