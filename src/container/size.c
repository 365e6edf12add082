/* size.c — the size of a container's writable layer, docker's way (`ps -s`).
 *
 * The concept: a container costs only what it wrote. With overlay that is exactly the upper dir;
 * with vfs the container holds a full copy, and only the paths that differ from the image are
 * its own. "Virtual" adds the image underneath, shared by every container made from it.
 * Hardlinks count once (one inode, one set of blocks), as docker's directory.Size does.
 *
 * Sits on: image/store.h (driver, image size), layer/layers.h (a chain's diff dirs).
 * Interface: lb_size_tree_at, lb_size_changed_at, lb_container_rw_size, lb_container_size,
 *            lb_container_size_string
 */
#include "container/size.h"
#include "core/cleanup.h"
#include "core/human.h"
#include "core/util.h"
#include "image/image.h"
#include "layer/driver.h"
#include "layer/layers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct inode {
    dev_t dev;
    ino_t ino;
    uint64_t size;
};

struct walk {
    struct inode *v;
    size_t n, cap;
    const int *layers; /* vfs: the image's layers, top first; NULL = count everything */
    size_t n_layers;
};

/* --- what the image has at a path (vfs) --------------------------------------------------- */

static bool exists_at(int fd, const char *path, struct stat *st)
{
    struct stat tmp;
    return fstatat(fd, path, st ? st : &tmp, AT_SYMLINK_NOFOLLOW) == 0;
}

/* In one layer (whiteouts as files): 1 = the layer has rel (*st), 0 = the layer says nothing about
 * it (look below), -1 = the layer hides it (a whiteout or an opaque directory above it, or a
 * non-directory where rel needs a parent). Every parent is checked to be a real directory before
 * anything below it is looked at, so no symlink is followed. */
static int layer_lookup(int layer, const char *rel, struct stat *st)
{
    _cleanup_free_ char *buf = lb_xstrdup(rel);
    struct lb_strbuf parent = LB_STRBUF_INIT;
    lb_strbuf_adds(&parent, ".");
    int rc = 0;
    char *save = buf;
    for (;;) {
        char *slash = strchr(save, '/');
        if (slash)
            *slash = '\0';
        const char *name = save;
        _cleanup_free_ char *wh = lb_xasprintf("%s/.wh.%s", parent.buf, name);
        _cleanup_free_ char *opq = lb_xasprintf("%s/.wh..wh..opq", parent.buf);
        _cleanup_free_ char *here = lb_xasprintf("%s/%s", parent.buf, name);
        struct stat hs;
        bool has = exists_at(layer, here, &hs);
        if (exists_at(layer, wh, NULL) || (!has && exists_at(layer, opq, NULL))) {
            rc = -1;
            break;
        }
        if (!has) {
            rc = 0;
            break;
        }
        if (slash == NULL) {
            *st = hs;
            rc = 1;
            break;
        }
        if (!S_ISDIR(hs.st_mode)) {
            rc = -1;
            break;
        }
        lb_strbuf_addc(&parent, '/');
        lb_strbuf_adds(&parent, name);
        save = slash + 1;
    }
    lb_strbuf_release(&parent);
    return rc;
}

/* docker's naive diff: same type and mode, owner, size and mtime = unchanged. */
static bool unchanged(const struct walk *w, const char *rel, const struct stat *st)
{
    for (size_t i = 0; i < w->n_layers; i++) {
        struct stat old;
        int r = layer_lookup(w->layers[i], rel, &old);
        if (r < 0)
            return false;
        if (r > 0)
            return old.st_mode == st->st_mode && old.st_uid == st->st_uid &&
                   old.st_gid == st->st_gid && old.st_size == st->st_size &&
                   old.st_mtim.tv_sec == st->st_mtim.tv_sec &&
                   old.st_mtim.tv_nsec == st->st_mtim.tv_nsec;
    }
    return false;
}

/* --- the walk ------------------------------------------------------------------------------ */

static void add_inode(struct walk *w, const struct stat *st)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 64;
        w->v = lb_xrealloc(w->v, w->cap * sizeof(*w->v));
    }
    w->v[w->n++] = (struct inode){st->st_dev, st->st_ino, (uint64_t)st->st_size};
}

/* dfd is consumed. path names the directory in messages; rel is its path inside the tree ("" at
 * the top). */
static int walk_dir(struct walk *w, int dfd, const char *path, const char *rel,
                    struct lb_error **err)
{
    DIR *d = fdopendir(dfd);
    if (d == NULL) {
        int e = errno;
        close(dfd);
        return lb_error_set(err, e, "cannot read directory '%s'", path);
    }
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de == NULL) {
            if (errno != 0)
                rc = lb_error_set(err, errno, "cannot read directory '%s'", path);
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        _cleanup_free_ char *sub = lb_xasprintf("%s/%s", path, de->d_name);
        _cleanup_free_ char *subrel =
            *rel ? lb_xasprintf("%s/%s", rel, de->d_name) : lb_xstrdup(de->d_name);
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue; /* removed while we walk: docker ignores it too */
            rc = lb_error_set(err, errno, "cannot stat '%s'", sub);
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            int sfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sfd < 0 && errno == ENOENT)
                continue;
            if (sfd < 0) {
                rc = lb_error_set(err, errno, "cannot open directory '%s'", sub);
                break;
            }
            if ((rc = walk_dir(w, sfd, sub, subrel, err)) < 0)
                break;
            continue;
        }
        if (w->layers != NULL && unchanged(w, subrel, &st))
            continue;
        add_inode(w, &st);
    }
    closedir(d);
    return rc;
}

static int cmp_inode(const void *a, const void *b)
{
    const struct inode *x = a, *y = b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    if (x->ino != y->ino)
        return x->ino < y->ino ? -1 : 1;
    return 0;
}

static int walk_tree(struct walk *w, int dirfd, const char *path, uint64_t *out,
                     struct lb_error **err)
{
    *out = 0;
    int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return lb_error_set(err, errno, "cannot open directory '%s'", path);
    int rc = walk_dir(w, fd, path, "", err);
    if (rc == 0) {
        if (w->n > 0)
            qsort(w->v, w->n, sizeof(*w->v), cmp_inode);
        for (size_t i = 0; i < w->n; i++)
            if (i == 0 || cmp_inode(&w->v[i - 1], &w->v[i]) != 0)
                *out += w->v[i].size;
    }
    free(w->v);
    w->v = NULL;
    w->n = w->cap = 0;
    return rc;
}

int lb_size_tree_at(int dirfd, const char *path, uint64_t *out, struct lb_error **err)
{
    struct walk w = {0};
    return walk_tree(&w, dirfd, path, out, err);
}

int lb_size_changed_at(int dirfd, const char *path, const int *layer_fds, size_t n_layers,
                       uint64_t *out, struct lb_error **err)
{
    static const int none = -1;
    struct walk w = {.layers = n_layers ? layer_fds : &none, .n_layers = n_layers};
    return walk_tree(&w, dirfd, path, out, err);
}

/* --- a container's sizes ------------------------------------------------------------------- */

static int vfs_rw_size(struct lb_store *s, const struct lb_container *c, const char *path,
                       uint64_t *out, struct lb_error **err)
{
    struct lb_error *e = NULL;
    struct lb_image *img = c->image_id.str[0] ? lb_store_resolve(s, c->image_id.str, &e) : NULL;
    lb_error_free(e);
    if (img == NULL || img->n_layers == 0) { /* nothing to compare with: all of it is its own */
        lb_image_free(img);
        return lb_size_tree_at(AT_FDCWD, path, out, err);
    }
    int *fds = NULL;
    size_t n = 0;
    int rc =
        lb_layers_open_chain(s->root_fd, &img->layers[img->n_layers - 1].chain_id, &fds, &n, err);
    lb_image_free(img);
    if (rc < 0)
        return lb_error_wrap(err, "the image of container '%.12s'", c->id);
    rc = lb_size_changed_at(AT_FDCWD, path, fds, n, out, err);
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
    return rc;
}

int lb_container_rw_size(struct lb_store *s, const struct lb_container *c, uint64_t *out,
                         struct lb_error **err)
{
    *out = 0;
    const struct lb_driver *d = NULL;
    if (lb_store_driver(s, &d, err) < 0)
        return -1;
    bool vfs = strcmp(d->name, "vfs") == 0;
    _cleanup_free_ char *path =
        lb_xasprintf("%s/containers/%s/%s", s->root, c->id, vfs ? "rootfs" : "diff");
    struct stat st;
    if (lstat(path, &st) < 0 && errno == ENOENT)
        return 0;
    return vfs ? vfs_rw_size(s, c, path, out, err) : lb_size_tree_at(AT_FDCWD, path, out, err);
}

int lb_container_size(struct lb_store *s, const struct lb_container *c,
                      struct lb_container_size *out, struct lb_error **err)
{
    *out = (struct lb_container_size){0};
    if (lb_container_rw_size(s, c, &out->rw, err) < 0)
        return -1;
    struct lb_error *e = NULL;
    struct lb_image *img = c->image_id.str[0] ? lb_store_resolve(s, c->image_id.str, &e) : NULL;
    lb_error_free(e); /* an image that is gone: the writable layer alone, as docker */
    if (img != NULL && img->size > 0)
        out->root_fs = out->rw + (uint64_t)img->size;
    lb_image_free(img);
    return 0;
}

char *lb_container_size_string(const struct lb_container_size *sz)
{
    char rw[32], virt[32];
    lb_human_size(rw, sizeof(rw), (double)sz->rw);
    if (sz->root_fs == 0)
        return lb_xstrdup(rw);
    return lb_xasprintf("%s (virtual %s)", rw,
                        lb_human_size(virt, sizeof(virt), (double)sz->root_fs));
}
