/* diff_trees.c — the vfs way to a changeset: compare the container's full tree with the image's.
 *
 * The concept: without overlayfs nothing records what a container changed, so the diff walks
 * both trees side by side (names sorted bytewise, as the tar wants them) and writes a path that
 * is only in the new tree or differs (type, mode, owner, size, mtime, symlink target, xattrs),
 * and a `.wh.NAME` for one only in the old tree (docker's pkg/archive/changes.go, including its
 * "same size and mtime = unchanged" shortcut). A directory in both is written only when it
 * changed or something below it is written, before that (a stack of pending directories).
 *
 * Sits on: diff.c's tar writer (diff_internal.h), which also writes the new entries whole.
 *
 * Interface: lb_diff_trees
 */
#include "layer/diff.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "layer/diff_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

/* A directory present in both trees: written only when its metadata changed or something below
 * it is written (then it comes first, so apply recreates it with the right mode and owner). */
struct lb_diff_level {
    size_t len; /* w->path.len of this directory */
    struct stat st;
    struct lb_diff_xattrs xa;
    bool written;
};

static bool xattrs_equal(const struct lb_diff_xattrs *a, const struct lb_diff_xattrs *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].name, b->v[i].name) != 0 || a->v[i].size != b->v[i].size ||
            memcmp(a->v[i].value, b->v[i].value, a->v[i].size) != 0)
            return false;
    return true;
}

static int flush_parents(struct lb_diff_writer *w, struct lb_error **err)
{
    for (size_t i = 0; i < w->depth; i++) {
        struct lb_diff_level *l = &w->lv[i];
        if (l->written)
            continue;
        _cleanup_free_ char *p = lb_xstrndup(w->path.buf, l->len);
        if (lb_diff_put_dir(w, p, &l->st, &l->xa, err) < 0)
            return -1;
        l->written = true;
    }
    return 0;
}

static bool same_mtime(const struct stat *a, const struct stat *b)
{
    return a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Metadata every type shares. Directory sizes are the file system's business, not ours. */
static bool same_meta(const struct stat *a, const struct stat *b)
{
    return a->st_mode == b->st_mode && a->st_uid == b->st_uid && a->st_gid == b->st_gid &&
           same_mtime(a, b);
}

static int trees_walk(struct lb_diff_writer *w, int oldfd, int newfd, const struct stat *newdir,
                      struct lb_error **err);

static int trees_dirs(struct lb_diff_writer *w, int olddir, int newdir, const char *name,
                      struct lb_error **err)
{
    const char *path = lb_diff_path(w);
    _cleanup_close_ int ofd = openat(olddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (ofd < 0)
        return lb_error_set(err, errno, "cannot open directory '%s' of the old tree", path);
    _cleanup_close_ int nfd = openat(newdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (nfd < 0)
        return lb_error_set(err, errno, "cannot open directory '%s'", path);
    struct stat ost, nst;
    if (fstat(ofd, &ost) < 0 || fstat(nfd, &nst) < 0)
        return lb_error_set(err, errno, "cannot stat '%s'", path);
    struct lb_diff_xattrs oxa, nxa;
    if (lb_diff_xattrs_read(ofd, -1, NULL, path, &oxa, NULL, err) < 0)
        return -1;
    if (lb_diff_xattrs_read(nfd, -1, NULL, path, &nxa, NULL, err) < 0) {
        lb_diff_xattrs_release(&oxa);
        return -1;
    }
    bool changed = !same_meta(&ost, &nst) || !xattrs_equal(&oxa, &nxa);
    lb_diff_xattrs_release(&oxa);

    if (w->depth == w->lv_cap) {
        w->lv_cap = w->lv_cap ? w->lv_cap * 2 : 16;
        w->lv = lb_xrealloc(w->lv, w->lv_cap * sizeof(*w->lv));
    }
    struct lb_diff_level *l = &w->lv[w->depth++];
    l->len = w->path.len;
    l->st = nst;
    l->xa = nxa;
    l->written = false;
    int r = changed ? flush_parents(w, err) : 0;
    if (r == 0)
        r = trees_walk(w, ofd, nfd, &nst, err);
    lb_diff_xattrs_release(&w->lv[--w->depth].xa);
    return r;
}

/* Both trees have `name` and neither is a directory: is the new one different? Regular files
 * with the same size and mtime are taken as unchanged without reading them (docker's rule: a
 * tool that rewrites a file and restores its mtime at the same size goes unnoticed). */
static int trees_differ(int olddir, int newdir, const char *name, const char *path,
                        const struct stat *o, const struct stat *n, bool *differ,
                        struct lb_error **err)
{
    *differ = true;
    if (!same_meta(o, n))
        return 0;
    if ((S_ISREG(n->st_mode) || S_ISLNK(n->st_mode)) && o->st_size != n->st_size)
        return 0;
    if ((S_ISCHR(n->st_mode) || S_ISBLK(n->st_mode)) && o->st_rdev != n->st_rdev)
        return 0;
    if (S_ISLNK(n->st_mode)) {
        _cleanup_free_ char *ot = NULL;
        _cleanup_free_ char *nt = NULL;
        if (lb_diff_read_symlink(olddir, name, path, o, &ot, err) < 0 ||
            lb_diff_read_symlink(newdir, name, path, n, &nt, err) < 0)
            return -1;
        if (strcmp(ot, nt) != 0)
            return 0;
    }
    struct lb_diff_xattrs oxa, nxa;
    if (lb_diff_xattrs_read(-1, olddir, name, path, &oxa, NULL, err) < 0)
        return -1;
    if (lb_diff_xattrs_read(-1, newdir, name, path, &nxa, NULL, err) < 0) {
        lb_diff_xattrs_release(&oxa);
        return -1;
    }
    *differ = !xattrs_equal(&oxa, &nxa);
    lb_diff_xattrs_release(&oxa);
    lb_diff_xattrs_release(&nxa);
    return 0;
}

static int trees_both(struct lb_diff_writer *w, int olddir, int newdir, const char *name,
                      struct lb_error **err)
{
    const char *path = lb_diff_path(w);
    struct stat o, n;
    if (fstatat(olddir, name, &o, AT_SYMLINK_NOFOLLOW) < 0)
        return lb_error_set(err, errno, "cannot stat '%s' in the old tree", path);
    if (fstatat(newdir, name, &n, AT_SYMLINK_NOFOLLOW) < 0)
        return lb_error_set(err, errno, "cannot stat '%s'", path);
    if (S_ISDIR(o.st_mode) && S_ISDIR(n.st_mode))
        return trees_dirs(w, olddir, newdir, name, err);
    /* A type flip is written as the new entry: apply removes whatever was there (a directory
     * with all its contents) before creating it. */
    bool differ = true;
    if ((o.st_mode & S_IFMT) == (n.st_mode & S_IFMT) && !S_ISDIR(n.st_mode) &&
        trees_differ(olddir, newdir, name, path, &o, &n, &differ, err) < 0)
        return -1;
    if (!differ || (S_ISSOCK(n.st_mode) && S_ISSOCK(o.st_mode)))
        return 0;
    if (flush_parents(w, err) < 0)
        return -1;
    if (S_ISSOCK(n.st_mode)) {
        /* A socket cannot be stored, but what it replaced must not come back. */
        return lb_diff_put_whiteout(w, name, &n, err);
    }
    return lb_diff_emit_entry(w, newdir, name, false, err);
}

static int trees_walk(struct lb_diff_writer *w, int oldfd, int newfd, const struct stat *newdir,
                      struct lb_error **err)
{
    struct lb_diff_names on, nn;
    if (lb_diff_names_read(oldfd, lb_diff_path(w), &on, err) < 0)
        return -1;
    if (lb_diff_names_read(newfd, lb_diff_path(w), &nn, err) < 0) {
        lb_diff_names_release(&on);
        return -1;
    }
    int r = 0;
    size_t i = 0, j = 0;
    while (r == 0 && (i < on.n || j < nn.n)) {
        int c = i == on.n ? 1 : j == nn.n ? -1 : strcmp(on.v[i], nn.v[j]);
        const char *name = c <= 0 ? on.v[i] : nn.v[j];
        size_t old = lb_diff_path_push(w, name);
        if (c < 0) {
            /* Gone: one whiteout, even for a whole directory. Its header takes the mtime of the
             * directory it was removed from (deterministic, and when the removal happened at the
             * latest), owner root, mode 0600. */
            struct stat like = {.st_mtim = newdir->st_mtim};
            if ((r = lb_diff_reserved_name(w, name, err)) == 0 && (r = flush_parents(w, err)) == 0)
                r = lb_diff_put_whiteout(w, name, &like, err);
            i++;
        } else if (c > 0) {
            if ((r = flush_parents(w, err)) == 0)
                r = lb_diff_emit_entry(w, newfd, name, false, err);
            j++;
        } else {
            if ((r = lb_diff_reserved_name(w, name, err)) == 0)
                r = trees_both(w, oldfd, newfd, name, err);
            i++;
            j++;
        }
        lb_diff_path_pop(w, old);
    }
    lb_diff_names_release(&on);
    lb_diff_names_release(&nn);
    return r;
}

static int trees_run(struct lb_diff_writer *w, int old_fd, int new_fd, struct lb_error **err)
{
    struct stat ost, nst;
    _cleanup_close_ int oroot = lb_diff_open_root(old_fd, "old", &ost, err);
    if (oroot < 0)
        return -1;
    _cleanup_close_ int nroot = lb_diff_open_root(new_fd, "new", &nst, err);
    if (nroot < 0)
        return -1;
    return trees_walk(w, oroot, nroot, &nst, err);
}

int lb_diff_trees(int old_fd, int new_fd, int out_fd, struct lb_diff_stats *st,
                  struct lb_error **err)
{
    struct lb_diff_writer w;
    int r = lb_diff_writer_open(&w, out_fd, err);
    if (r == 0)
        r = trees_run(&w, old_fd, new_fd, err);
    if (r == 0)
        r = lb_diff_writer_finish(&w, err);
    if (r == 0 && st)
        *st = w.st;
    lb_diff_writer_release(&w);
    return r;
}
