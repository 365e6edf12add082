/* cp_tar.c — `cp` with a tar stream on one side ("layerbox cp CTR:SRC -", "cp - CTR:DEST").
 *
 * The concept: a tar stream is one more kind of tree, so both directions reuse cp.c's pieces.
 * Out, SRC is resolved in the container's root like any container path and walked with the same
 * directory walker, each node written as a pax entry with its owner and mode as they are. In,
 * every entry's path is resolved under DEST as a layer entry is (safepath.h: no '..', no absolute
 * path, no symlink parent) and made by the same node copier as a host file, so a tar can no more
 * leave the root than a host file can; hardlinks are linked between two such resolved paths, and
 * directory times are set last, once their entries stop changing them.
 * Sits on: cp.c (through cp_internal.h: node copier, walker, container path resolution),
 * layer/tar.h (tar out), libarchive (tar in), layer/safepath.h (tar entries).
 *
 * Interface: lb_cp_out_tar, lb_cp_in_tar
 */
#include "container/cp.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container/cp_internal.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "layer/safepath.h"
#include "layer/tar.h"

static int tar_node(void *data, const struct node *n, const char *path, const char *shown,
                    struct lb_error **err);

struct tar_walk {
    struct lb_tar_writer *w;
    const char *prefix;
};

static int tar_child(void *data, const struct node *n, const char *name, const char *shown,
                     struct lb_error **err)
{
    struct tar_walk *t = data;
    _cleanup_free_ char *path = lb_xasprintf("%s/%s", t->prefix, name);
    return tar_node(t->w, n, path, shown, err);
}

static int tar_node(void *data, const struct node *n, const char *path, const char *shown,
                    struct lb_error **err)
{
    struct lb_tar_writer *w = data;
    if (S_ISSOCK(n->st.st_mode))
        return 0;
    struct lb_tar_header h = {
        .path = path,
        .mode = n->st.st_mode & (S_IFMT | 07777),
        .uid = n->st.st_uid,
        .gid = n->st.st_gid,
        .mtime = n->st.st_mtim.tv_sec,
        .size = S_ISREG(n->st.st_mode) ? n->st.st_size : 0,
        .rdev = n->st.st_rdev,
        .linkname = n->link,
    };
    if (lb_tar_write_header(w, &h, err) < 0)
        return -1;
    if (S_ISREG(n->st.st_mode))
        return lb_tar_write_file(w, n->fd, n->st.st_size, err);
    if (!S_ISDIR(n->st.st_mode))
        return 0;
    struct tar_walk t = {w, path};
    return lb_cp_each_child(n->fd, shown, tar_child, &t, err);
}

int lb_cp_out_tar(int rootfd, const char *src, int out_fd, const struct lb_cp_opts *o,
                  struct lb_error **err)
{
    struct node n;
    _cleanup_free_ char *rebase = NULL;
    bool contents = false;
    if (lb_cp_open_ctr_src(rootfd, src, o, &n, &rebase, &contents, err) < 0)
        return -1;
    struct lb_tar_writer w;
    int rc = -1;
    if (lb_tar_writer_init(&w, out_fd, "tar", err) == 0 && tar_node(&w, &n, rebase, src, err) == 0)
        rc = lb_tar_finish(&w, err);
    lb_tar_writer_release(&w);
    lb_cp_node_release(&n);
    return rc;
}

struct dir_time {
    char *path;
    struct timespec ts[2];
};

/* A hardlink entry: linkat between two paths resolved under dfd, following nothing. */
static int tar_hardlink(int dfd, int pfd, const char *base, const char *target, const char *shown,
                        struct lb_error **err)
{
    _cleanup_free_ char *tclean = NULL;
    const char *tbase = NULL;
    if (lb_safepath_clean(target, &tclean, err) < 0 || tclean[0] == '\0')
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "tar entry '%s': bad hardlink target '%s'",
                             shown, target);
    _cleanup_close_ int tfd = lb_safepath_open_parent(dfd, tclean, false, &tbase, err);
    if (tfd < 0)
        return lb_error_wrap(err, "tar entry '%s'", shown);
    struct stat cur;
    if (fstatat(pfd, base, &cur, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISDIR(cur.st_mode))
            return lb_error_setk(err, LB_EKIND_CONFLICT, 0,
                                 "cannot overwrite directory '%s' with a non-directory", shown);
        if (unlinkat(pfd, base, 0) < 0)
            return lb_error_set(err, errno, "cannot remove '%s'", shown);
    }
    if (linkat(tfd, tbase, pfd, base, 0) < 0)
        return lb_error_set(err, errno, "cannot link '%s' to '%s'", shown, target);
    return 0;
}

static int extract(struct ctx *x, struct archive *a, int dfd, const char *dest,
                   struct dir_time **dirs, size_t *n_dirs, struct lb_error **err)
{
    struct archive_entry *e = NULL;
    for (;;) {
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            return 0;
        if (r < ARCHIVE_WARN)
            return lb_error_setk(err, LB_EKIND_INVALID, 0, "cannot read the tar: %s",
                                 archive_error_string(a));
        const char *path = archive_entry_pathname(e);
        _cleanup_free_ char *clean = NULL;
        if (path == NULL || lb_safepath_clean(path, &clean, err) < 0)
            return lb_error_wrap(err, "tar entry '%s'", path ? path : "");
        if (clean[0] == '\0')
            continue; /* "." is DEST itself: its owner and mode stay as they are */
        _cleanup_free_ char *shown =
            lb_xasprintf("%s%s%s", dest, lb_str_has_suffix(dest, "/") ? "" : "/", clean);
        const char *base = NULL;
        _cleanup_close_ int pfd = lb_safepath_open_parent(dfd, clean, true, &base, err);
        if (pfd < 0)
            return lb_error_wrap(err, "tar entry '%s'", path);
        if (archive_entry_hardlink(e) != NULL) {
            if (tar_hardlink(dfd, pfd, base, archive_entry_hardlink(e), shown, err) < 0)
                return -1;
            continue;
        }
        struct node n = {.fd = -1, .st = *archive_entry_stat(e), .ar = a};
        const char *link = archive_entry_symlink(e);
        n.link = link ? lb_xstrdup(link) : NULL;
        int dir = -1;
        r = lb_cp_put_node(x, pfd, base, &n, &dir, shown, err);
        free(n.link);
        if (r < 0)
            return -1;
        if (dir >= 0) {
            close(dir);
            *dirs = lb_xrealloc(*dirs, (*n_dirs + 1) * sizeof(**dirs));
            (*dirs)[(*n_dirs)++] =
                (struct dir_time){lb_steal_pointer(&clean), {n.st.st_atim, n.st.st_mtim}};
        }
    }
}

int lb_cp_in_tar(int rootfd, int in_fd, const char *dest, const struct lb_cp_opts *o,
                 struct lb_error **err)
{
    struct cloc l = {.dirfd = -1};
    struct dest d;
    struct ctx x = {.owner = o->archive ? OWNER_KEEP : OWNER_ROOT, .container = lb_cp_ctr_name(o)};
    struct dir_time *dirs = NULL;
    size_t n_dirs = 0;
    int rc = -1;
    _cleanup_close_ int dfd = -1;
    struct archive *a = NULL;
    if (lb_cp_ctr_dest(rootfd, dest, o, &l, &d, err) < 0)
        goto out;
    if (!d.is_dir) {
        lb_error_setk(err, LB_EKIND_INVALID, 0, "destination '%s:%s' must be a directory",
                      lb_cp_ctr_name(o), dest);
        goto out;
    }
    dfd = d.name[0] == '\0'
              ? openat(d.dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
              : openat(d.dirfd, d.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        lb_error_set(err, errno, "cannot open directory '%s'", dest);
        goto out;
    }
    a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_empty(a);
    if (archive_read_open_fd(a, in_fd, 65536) != ARCHIVE_OK) {
        lb_error_setk(err, LB_EKIND_INVALID, 0, "cannot read the tar: %s", archive_error_string(a));
        goto out;
    }
    if (extract(&x, a, dfd, dest, &dirs, &n_dirs, err) < 0)
        goto out;
    /* Directory times last: their entries changed them. */
    for (size_t i = n_dirs; i-- > 0;) {
        _cleanup_close_ int fd = lb_safepath_open(dfd, dirs[i].path, O_RDONLY | O_DIRECTORY, err);
        if (fd < 0 || futimens(fd, dirs[i].ts) < 0) {
            if (fd >= 0)
                lb_error_set(err, errno, "cannot set the times of '%s'", dirs[i].path);
            goto out;
        }
    }
    rc = 0;
out:
    if (a)
        archive_read_free(a);
    for (size_t i = 0; i < n_dirs; i++)
        free(dirs[i].path);
    free(dirs);
    lb_cp_cloc_release(&l);
    return rc;
}
