/* driver_overlay.c — the overlay driver: the kernel stacks the layers, nothing is copied.
 *
 *   mount -t overlay overlay -o lowerdir=l/TOP:…:l/BOTTOM[,upperdir=U,workdir=W] TARGET
 *
 * lowerdir lists the image's layers top first. Each is named by its short link
 * (ROOT/layers/l/<26 chars> → ../<chainhex>/diff) and the mount is made with ROOT/layers as the
 * working directory, so every layer costs ~29 bytes of mount options instead of ~100 for an
 * absolute path: the kernel takes one page of options, and 120 layers then still fit (docker's
 * overlay2 does the same). Without an upper directory the mount is read-only (`image mount`);
 * with one, writes land in the upper directory (a container's writable layer).
 *
 * This file and src/runtime/ are the only places that call mount(2) and umount2(2).
 *
 * Sits on: core/fs.h, layers.h (layers/<chainhex>/link or meta.json's link, layers/l/).
 * Interface: lb_driver_overlay, lb_overlay_lowerdir, lb_overlay_options, lb_overlay_probe
 */
#include "layer/driver.h"
#include "core/cleanup.h"
#include "core/explain.h"
#include "core/fs.h"
#include "core/lock.h"
#include "core/util.h"
#include "layer/layers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINK_MAX_LEN 64

static bool link_name_ok(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > LINK_MAX_LEN)
        return false;
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

char *lb_overlay_lowerdir(char *const *links, size_t n, struct lb_error **err)
{
    if (n == 0) {
        lb_error_setk(err, LB_EKIND_INVALID, 0, "overlay needs at least one lower layer");
        return NULL;
    }
    struct lb_strbuf sb = LB_STRBUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (!link_name_ok(links[i])) {
            lb_strbuf_release(&sb);
            lb_error_setk(err, LB_EKIND_INVALID, 0, "invalid short link name '%s' for layer %zu",
                          links[i] ? links[i] : "(null)", i);
            return NULL;
        }
        lb_strbuf_addf(&sb, "%sl/%s", i ? ":" : "", links[i]);
    }
    return lb_strbuf_detach(&sb);
}

/* overlayfs splits options at ',' and lowerdir at ':'; a backslash escapes either. */
static void add_escaped(struct lb_strbuf *sb, const char *s)
{
    for (; *s; s++) {
        if (*s == ',' || *s == ':' || *s == '\\')
            lb_strbuf_addc(sb, '\\');
        lb_strbuf_addc(sb, *s);
    }
}

char *lb_overlay_options(const char *lowerdir, const char *upper, const char *work, size_t limit,
                         struct lb_error **err)
{
    if ((upper == NULL) != (work == NULL)) {
        lb_error_setk(err, LB_EKIND_INVALID, 0, "overlay needs both an upper and a work directory");
        return NULL;
    }
    if (limit == 0)
        limit = (size_t)sysconf(_SC_PAGESIZE);
    struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_strbuf_addf(&sb, "lowerdir=%s", lowerdir);
    if (upper != NULL) {
        lb_strbuf_adds(&sb, ",upperdir=");
        add_escaped(&sb, upper);
        lb_strbuf_adds(&sb, ",workdir=");
        add_escaped(&sb, work);
        /* A writable layer must hold plain files and whiteouts only, so that diff.c can turn it
         * into a changeset: no directory renames recorded as redirect xattrs, no metadata-only
         * copy-ups. Kernels built with those features on by default would otherwise use them. */
        lb_strbuf_adds(&sb, ",redirect_dir=off,metacopy=off");
    }
    if (sb.len >= limit) {
        size_t len = sb.len;
        lb_strbuf_release(&sb);
        lb_error_setk(err, LB_EKIND_INVALID, E2BIG,
                      "overlay mount options are %zu bytes, over the kernel's limit of %zu", len,
                      limit - 1);
        return NULL;
    }
    return lb_strbuf_detach(&sb);
}

/* The short link name of a layer: layers/<chainhex>/link, else meta.json's "link". */
static int read_link_name(int root_fd, const struct lb_digest *chain, char **out,
                          struct lb_error **err)
{
    _cleanup_free_ char *rel = lb_xasprintf("layers/%s/link", lb_digest_hex(chain));
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    if (!lb_path_exists_at(root_fd, rel)) {
        struct lb_layer_meta meta;
        if (lb_layers_read_meta(root_fd, chain, &meta, err) < 0)
            return lb_error_wrap(err, "layer %s is not unpacked", chain->str);
        buf = lb_xstrdup(meta.link);
        lb_layer_meta_release(&meta);
        if (*buf == '\0')
            return lb_error_set(err, 0, "layer %s is not unpacked: it has no short link",
                                chain->str);
        len = strlen(buf);
    } else if (lb_read_file_at(root_fd, rel, 256, &buf, &len, err) < 0) {
        return lb_error_wrap(err, "layer %s is not unpacked", chain->str);
    }
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        buf[--len] = '\0';
    if (!link_name_ok(buf))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "'%s' holds an invalid short link name",
                             rel);
    _cleanup_free_ char *lrel = lb_xasprintf("layers/l/%s", buf);
    struct stat st;
    int code = fstatat(root_fd, lrel, &st, 0) < 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
    if (code != 0)
        return lb_error_set(err, code,
                            "layer %s: short link '%s' does not lead to its diff directory",
                            chain->str, lrel);
    *out = lb_steal_pointer(&buf);
    return 0;
}

/* Run mount(2) with ROOT/layers as the working directory, so that lowerdir's relative paths
 * resolve there; the caller's working directory is restored whatever happens. */
static int mount_in_layers_dir(int root_fd, const char *source, const char *target,
                               const char *fstype, unsigned long flags, const char *data,
                               int *mount_errno, struct lb_error **err)
{
    _cleanup_close_ int layers_fd =
        openat(root_fd, "layers", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (layers_fd < 0)
        return lb_error_set(err, errno, "cannot open the store's layers directory");
    _cleanup_close_ int cwd_fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cwd_fd < 0)
        return lb_error_set(err, errno, "cannot open the current directory");
    if (fchdir(layers_fd) < 0)
        return lb_error_set(err, errno, "cannot change to the store's layers directory");
    int rc = mount(source, target, fstype, flags, data);
    *mount_errno = rc < 0 ? errno : 0;
    if (fchdir(cwd_fd) < 0) {
        int saved = errno;
        if (rc == 0)
            umount2(target, MNT_DETACH);
        return lb_error_set(err, saved, "cannot return to the previous working directory");
    }
    return 0;
}

/* The kernel refuses a read-only overlay of a single layer ("at least 2 lowerdir are needed
 * while upperdir nonexistent"); the union of one layer is that layer, so bind it read-only. */
static int bind_single_layer(const struct lb_mount_request *req, const char *link,
                             struct lb_error **err)
{
    _cleanup_free_ char *src = lb_xasprintf("l/%s", link);
    int merr = 0;
    if (mount_in_layers_dir(req->root_fd, src, req->target, "none", MS_BIND, NULL, &merr, err) < 0)
        return -1;
    if (merr != 0)
        return lb_error_set(err, merr, "cannot bind-mount layer %s on '%s'", req->layers[0].str,
                            req->target);
    if (mount("none", req->target, "none", MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
              NULL) < 0) {
        int saved = errno;
        umount2(req->target, 0);
        return lb_error_set(err, saved, "cannot make the bind mount on '%s' read-only",
                            req->target);
    }
    lb_explain("mount",
               "bind layers/l/%s (one layer: overlayfs needs two lowers without an "
               "upper) → %s, read-only",
               link, req->target);
    return 0;
}

static int overlay_mount(const struct lb_mount_request *req, struct lb_error **err)
{
    if (req->n_layers == 0)
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "an image without layers has nothing to mount with overlay");
    char **links = lb_xmalloc((req->n_layers + 1) * sizeof(*links));
    int rc = -1;
    _cleanup_free_ char *lower = NULL, *opts = NULL;
    for (size_t i = 0; i < req->n_layers; i++)
        if (read_link_name(req->root_fd, &req->layers[i], &links[i], err) < 0)
            goto out;
    lower = lb_overlay_lowerdir(links, req->n_layers, err);
    if (lower == NULL)
        goto out;
    opts = lb_overlay_options(lower, req->upper, req->work, 0, err);
    if (opts == NULL) {
        lb_error_wrap(err, "mounting %zu layers", req->n_layers);
        goto out;
    }
    /* Read-only image views get nosuid,nodev: a set-uid binary of an image must not become one
     * of the host just because someone looked at the image. */
    unsigned long flags = req->upper ? 0 : (MS_RDONLY | MS_NOSUID | MS_NODEV);
    int merr = 0;
    if (req->upper && req->work) {
        /* A volatile mount leaves work/work/incompat/volatile, and overlayfs refuses to mount
         * that work dir again until it is gone: left by a crash, the upper may have lost writes
         * (only a disposable container's ever is volatile), so it goes. */
        _cleanup_free_ char *incompat = lb_xasprintf("%s/work/incompat", req->work);
        struct lb_error *e = NULL;
        lb_rm_tree_at(AT_FDCWD, incompat, &e);
        lb_error_free(e);
    }
    bool vol = req->volatile_upper && req->upper;
    if (vol) {
        _cleanup_free_ char *vopts = lb_xasprintf("%s,volatile", opts);
        if (mount_in_layers_dir(req->root_fd, "overlay", req->target, "overlay", flags, vopts,
                                &merr, err) < 0)
            goto out;
        if (merr == EINVAL) /* before Linux 5.10: no "volatile"; mount it the durable way */
            vol = false;
    }
    if (!vol && mount_in_layers_dir(req->root_fd, "overlay", req->target, "overlay", flags, opts,
                                    &merr, err) < 0)
        goto out;
    if (merr == EINVAL && req->n_layers == 1 && req->upper == NULL) {
        rc = bind_single_layer(req, links[0], err);
        goto out;
    }
    if (merr != 0) {
        lb_error_set(err, merr, "cannot mount overlay (%zu layers) on '%s'", req->n_layers,
                     req->target);
        goto out;
    }
    if (req->upper)
        lb_explain("mount", "overlay lowerdir=%s upperdir=%s workdir=%s%s → %s", lower, req->upper,
                   req->work, vol ? " volatile (--rm: no sync)" : "", req->target);
    else
        lb_explain("mount", "overlay lowerdir=%s (read-only, no upper) → %s", lower, req->target);
    rc = 0;
out:
    for (size_t i = 0; i < req->n_layers; i++)
        free(links[i]);
    free(links);
    return rc;
}

static int overlay_umount(const struct lb_mount_request *req, struct lb_error **err)
{
    if (umount2(req->target, 0) == 0) {
        lb_explain("mount", "unmounted %s", req->target);
        return 0;
    }
    int saved = errno;
    if (saved == EINVAL)
        return lb_error_set(err, 0, "'%s' is not mounted", req->target);
    if (saved != EBUSY)
        return lb_error_set(err, saved, "cannot unmount '%s'", req->target);
    /* Busy (a shell sits in it, a file is open): detach it from the tree now; the kernel frees
     * it when the last user lets go. The view is gone for everyone else at once. */
    if (umount2(req->target, MNT_DETACH) < 0)
        return lb_error_set(err, errno, "cannot unmount '%s'", req->target);
    lb_explain("mount", "%s was busy: detached (lazy unmount), freed when its last user leaves",
               req->target);
    return 0;
}

/* Make l, u, w, m in ROOT/<rel>, mount an overlay of them on m and unmount it. */
static int probe_in(int root_fd, const char *root, const char *rel, struct lb_error **err)
{
    static const char *const subdirs[] = {"l", "u", "w", "m"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(subdirs); i++) {
        _cleanup_free_ char *p = lb_xasprintf("%s/%s", rel, subdirs[i]);
        if (mkdirat(root_fd, p, 0700) < 0)
            return lb_error_set(err, errno, "cannot create '%s/%s'", root, p);
    }
    _cleanup_free_ char *base = lb_xasprintf("%s/%s", root, rel);
    _cleanup_free_ char *l = lb_xasprintf("%s/l", base);
    _cleanup_free_ char *u = lb_xasprintf("%s/u", base);
    _cleanup_free_ char *w = lb_xasprintf("%s/w", base);
    _cleanup_free_ char *m = lb_xasprintf("%s/m", base);
    struct lb_strbuf lowerdir = LB_STRBUF_INIT;
    add_escaped(&lowerdir, l);
    _cleanup_free_ char *lower = lb_strbuf_detach(&lowerdir);
    _cleanup_free_ char *opts = lb_overlay_options(lower, u, w, 0, err);
    if (opts == NULL)
        return -1;
    if (mount("overlay", m, "overlay", 0, opts) < 0) {
        if (errno == ENODEV)
            return lb_error_set(err, 0, "the kernel has no overlayfs");
        return lb_error_set(err, errno, "overlayfs probe mount failed");
    }
    if (umount2(m, 0) < 0 && umount2(m, MNT_DETACH) < 0)
        return lb_error_set(err, errno, "cannot unmount the overlayfs probe '%s'", m);
    return 0;
}

int lb_overlay_probe(int root_fd, const char *root, struct lb_error **err)
{
    if (geteuid() != 0)
        return lb_error_set(err, 0, "not root");
    if (mkdirat(root_fd, "tmp", 0700) < 0 && errno != EEXIST)
        return lb_error_set(err, errno, "cannot create '%s/tmp'", root);
    /* Hold the staging lock shared, so no other process clears tmp/ under the probe. */
    _cleanup_free_ char *lock_path = lb_xasprintf("%s/tmp.lock", root);
    int lock_fd = lb_lock_acquire(lock_path, false, err);
    if (lock_fd < 0)
        return -1;
    _cleanup_free_ char *rel = NULL;
    int rc = -1;
    if (lb_mkdtemp_at(root_fd, "tmp", "probe-", &rel, err) == 0) {
        rc = probe_in(root_fd, root, rel, err);
        struct lb_error *e = NULL;
        lb_rm_tree_at(root_fd, rel, &e);
        lb_error_free(e);
    }
    lb_lock_release(lock_fd);
    return rc;
}

const struct lb_driver lb_driver_overlay = {
    .name = "overlay",
    .whiteouts = LB_WHITEOUT_OVERLAY,
    .mount = overlay_mount,
    .umount = overlay_umount,
};
