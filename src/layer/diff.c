/* diff.c — from a writable layer back to an OCI changeset: the inverse of apply.
 *
 * The concept: a container's changes are a directory. With overlayfs that directory is the upper
 * dir, which already holds only what changed (deletions are 0/0 character devices, a directory
 * that hides everything below it carries trusted.overlay.opaque="y"); the diff just translates
 * those markers into OCI's `.wh.NAME` and `.wh..wh..opq`. That is lb_diff_overlay_upper, here.
 * With vfs the container has a full copy, so the diff compares it with the image's tree and
 * writes what differs: lb_diff_trees, in diff_trees.c, which writes through the same machinery.
 *
 * Determinism (the same tree gives the same bytes, so the same DiffID): depth-first walk with
 * siblings sorted bytewise, mtimes truncated to seconds, no atime/ctime, numeric owners only,
 * xattrs sorted, pax headers only where ustar cannot say it (see layer/tar.h), no padding after
 * the end-of-archive blocks. Inode numbers and creation order never show.
 *
 * Sits on: layer/tar.h (the tar writer), core/fs.h. Every file is opened relative to a directory fd
 * with O_NOFOLLOW, so a symlink in the tree is written as a symlink, never followed.
 *
 * Interface: lb_diff_overlay_upper; for diff_trees.c (diff_internal.h): lb_diff_xattrs_read,
 *            lb_diff_xattrs_release, lb_diff_names_read, lb_diff_names_release,
 *            lb_diff_writer_open, lb_diff_writer_finish, lb_diff_writer_release, lb_diff_path,
 *            lb_diff_path_push, lb_diff_path_pop, lb_diff_reserved_name, lb_diff_read_symlink,
 *            lb_diff_open_root, lb_diff_put_whiteout, lb_diff_put_dir, lb_diff_emit_entry
 */
#include "layer/diff.h"
#include "layer/diff_internal.h"
#include "core/cleanup.h"
#include "core/fs.h"
#include "core/util.h"
#include "layer/tar.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WH_PREFIX          ".wh."
#define WH_OPAQUE          ".wh..wh..opq"
#define OVL_XATTR_PREFIX   "trusted.overlay."
#define OVL_XATTR_OPAQUE   "trusted.overlay.opaque"
#define OVL_XATTR_METACOPY "trusted.overlay.metacopy"

/* ---- extended attributes ---- */

void lb_diff_xattrs_release(struct lb_diff_xattrs *xa)
{
    for (size_t i = 0; i < xa->n; i++) {
        free(xa->v[i].name);
        free(xa->v[i].value);
    }
    free(xa->v);
    xa->v = NULL;
    xa->n = 0;
}

static int xattr_cmp(const void *a, const void *b)
{
    return strcmp(((const struct lb_diff_xattr *)a)->name, ((const struct lb_diff_xattr *)b)->name);
}

/* fd >= 0: read through it; else through /proc/self/fd/DIRFD/NAME with the l* calls (symlinks,
 * devices and FIFOs cannot be opened safely; the kernel has no *xattrat before 6.13). A file
 * system without xattr support simply has none. */
static ssize_t xa_list(int fd, const char *proc, char *buf, size_t size)
{
    return fd >= 0 ? flistxattr(fd, buf, size) : llistxattr(proc, buf, size);
}

static ssize_t xa_get(int fd, const char *proc, const char *name, void *buf, size_t size)
{
    return fd >= 0 ? fgetxattr(fd, name, buf, size) : lgetxattr(proc, name, buf, size);
}

/* Skipped xattrs: trusted.overlay.* describe the union, not the file; security.selinux is the
 * host's label under the host's policy (docker does not carry it either). */
static bool xattr_skipped(const char *name)
{
    return lb_str_has_prefix(name, OVL_XATTR_PREFIX) || strcmp(name, "security.selinux") == 0;
}

static int xattr_value(int fd, const char *proc, const char *name, struct lb_diff_xattr *out,
                       const char *path, struct lb_error **err)
{
    for (;;) {
        ssize_t len = xa_get(fd, proc, name, NULL, 0);
        if (len < 0)
            return errno == ENODATA
                       ? 1
                       : lb_error_set(err, errno, "cannot read xattr '%s' of '%s'", name, path);
        char *buf = lb_xmalloc((size_t)len + 1);
        ssize_t got = xa_get(fd, proc, name, buf, (size_t)len);
        if (got < 0) {
            int e = errno;
            free(buf);
            if (e == ERANGE)
                continue; /* grew meanwhile */
            if (e == ENODATA)
                return 1;
            return lb_error_set(err, e, "cannot read xattr '%s' of '%s'", name, path);
        }
        out->name = lb_xstrdup(name);
        out->value = buf;
        out->size = (size_t)got;
        return 0;
    }
}

/* Read the xattrs of dirfd/name (or of fd), sorted by name, minus the skipped ones. */
int lb_diff_xattrs_read(int fd, int dirfd, const char *name, const char *path,
                        struct lb_diff_xattrs *out, struct lb_diff_ovl_marks *marks,
                        struct lb_error **err)
{
    _cleanup_free_ char *proc = fd >= 0 ? NULL : lb_xasprintf("/proc/self/fd/%d/%s", dirfd, name);
    _cleanup_free_ char *list = NULL;
    ssize_t len;

    memset(out, 0, sizeof(*out));
    if (marks)
        memset(marks, 0, sizeof(*marks));
    for (;;) {
        len = xa_list(fd, proc, NULL, 0);
        if (len < 0) {
            if (errno == ENOTSUP)
                return 0;
            return lb_error_set(err, errno, "cannot list the xattrs of '%s'", path);
        }
        if (len == 0)
            return 0;
        free(list);
        list = lb_xmalloc((size_t)len);
        len = xa_list(fd, proc, list, (size_t)len);
        if (len >= 0)
            break;
        if (errno != ERANGE)
            return lb_error_set(err, errno, "cannot list the xattrs of '%s'", path);
    }

    size_t cap = 0;
    for (const char *p = list; p < list + len; p += strlen(p) + 1) {
        if (*p == '\0')
            continue;
        if (marks && strcmp(p, OVL_XATTR_OPAQUE) == 0) {
            char v[2] = {0, 0};
            ssize_t n = xa_get(fd, proc, p, v, sizeof(v));
            marks->opaque = n == 1 && v[0] == 'y';
        } else if (marks && strcmp(p, OVL_XATTR_METACOPY) == 0) {
            marks->metacopy = true;
        }
        if (xattr_skipped(p))
            continue;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 4;
            out->v = lb_xrealloc(out->v, cap * sizeof(*out->v));
        }
        int r = xattr_value(fd, proc, p, &out->v[out->n], path, err);
        if (r < 0) {
            lb_diff_xattrs_release(out);
            return -1;
        }
        if (r == 0)
            out->n++;
    }
    if (out->n > 1)
        qsort(out->v, out->n, sizeof(*out->v), xattr_cmp);
    return 0;
}

/* ---- directory listing ---- */

void lb_diff_names_release(struct lb_diff_names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->v[i]);
    free(ns->v);
    ns->v = NULL;
    ns->n = 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b); /* strcmp orders bytes as unsigned */
}

/* The names in a directory (not . and ..), sorted bytewise: readdir order depends on the file
 * system and on creation history, and must not reach the tar. */
int lb_diff_names_read(int dirfd, const char *path, struct lb_diff_names *out,
                       struct lb_error **err)
{
    memset(out, 0, sizeof(*out));
    /* A new open file description: a dup would share (and move) the caller's offset. */
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return lb_error_set(err, errno, "cannot open directory '%s'", path);
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int e = errno;
        close(fd);
        return lb_error_set(err, e, "cannot open directory '%s'", path);
    }
    size_t cap = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de == NULL) {
            if (errno != 0) {
                int e = errno;
                closedir(d);
                lb_diff_names_release(out);
                return lb_error_set(err, e, "cannot list directory '%s'", path);
            }
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            out->v = lb_xrealloc(out->v, cap * sizeof(*out->v));
        }
        out->v[out->n++] = lb_xstrdup(de->d_name);
    }
    closedir(d);
    if (out->n > 1)
        qsort(out->v, out->n, sizeof(*out->v), name_cmp);
    return 0;
}

/* ---- the tar writer ---- */

struct lb_diff_link_slot {
    dev_t dev;
    ino_t ino;
    char *path; /* NULL = empty slot */
};

/* A tar header, filled from a stat and friends. */
struct hdr {
    const char *path;
    mode_t mode; /* type | permissions */
    uid_t uid;
    gid_t gid;
    time_t mtime;
    int64_t size;
    dev_t rdev;
    const char *symlink;
    const char *hardlink;
    const struct lb_diff_xattrs *xa;
};

const char *lb_diff_path(const struct lb_diff_writer *w)
{
    return w->path.len ? w->path.buf : ".";
}

size_t lb_diff_path_push(struct lb_diff_writer *w, const char *name)
{
    size_t old = w->path.len;
    if (old)
        lb_strbuf_addc(&w->path, '/');
    lb_strbuf_adds(&w->path, name);
    return old;
}

void lb_diff_path_pop(struct lb_diff_writer *w, size_t old)
{
    w->path.len = old;
    w->path.buf[old] = '\0';
}

int lb_diff_writer_open(struct lb_diff_writer *w, int out_fd, struct lb_error **err)
{
    memset(w, 0, sizeof(*w));
    /* Names go into the tar as the bytes on disk whatever the caller's locale: a UTF-8 name in a
     * pax "path" record as docker writes it, a name that is not UTF-8 flagged hdrcharset=BINARY,
     * an ASCII name that fits with no pax header at all (layer/tar.h). */
    return lb_tar_writer_init(&w->tar, out_fd, "layer tar", err);
}

void lb_diff_writer_release(struct lb_diff_writer *w)
{
    lb_tar_writer_release(&w->tar); /* writes nothing: an unfinished tar stays unfinished */
    lb_strbuf_release(&w->path);
    for (size_t i = 0; i < w->link_cap; i++)
        free(w->links[i].path);
    free(w->links);
    free(w->lv);
}

int lb_diff_writer_finish(struct lb_diff_writer *w, struct lb_error **err)
{
    return lb_tar_finish(&w->tar, err);
}

static size_t link_hash(dev_t dev, ino_t ino)
{
    uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15ULL ^ (uint64_t)dev * 0xC2B2AE3D27D4EB4FULL;
    return (size_t)(h ^ (h >> 29));
}

/* A non-directory with more than one name: the first path (in walk order) that was written for
 * its inode, or NULL after recording `path` as that first one. */
static const char *link_seen(struct lb_diff_writer *w, const struct stat *st, const char *path)
{
    if (2 * (w->nlinks + 1) > w->link_cap) {
        size_t cap = w->link_cap ? w->link_cap * 2 : 64;
        struct lb_diff_link_slot *v = lb_xmalloc(cap * sizeof(*v));
        for (size_t i = 0; i < w->link_cap; i++) {
            if (w->links[i].path == NULL)
                continue;
            size_t j = link_hash(w->links[i].dev, w->links[i].ino) & (cap - 1);
            while (v[j].path)
                j = (j + 1) & (cap - 1);
            v[j] = w->links[i];
        }
        free(w->links);
        w->links = v;
        w->link_cap = cap;
    }
    size_t j = link_hash(st->st_dev, st->st_ino) & (w->link_cap - 1);
    for (; w->links[j].path; j = (j + 1) & (w->link_cap - 1))
        if (w->links[j].dev == st->st_dev && w->links[j].ino == st->st_ino)
            return w->links[j].path;
    w->links[j].dev = st->st_dev;
    w->links[j].ino = st->st_ino;
    w->links[j].path = lb_xstrdup(path);
    w->nlinks++;
    return NULL;
}

static int put_header(struct lb_diff_writer *w, const struct hdr *h, struct lb_error **err)
{
    size_t n = h->xa ? h->xa->n : 0;
    _cleanup_free_ struct lb_tar_xattr *xv = n ? lb_xmalloc(n * sizeof(*xv)) : NULL;
    for (size_t i = 0; i < n; i++)
        xv[i] = (struct lb_tar_xattr){h->xa->v[i].name, h->xa->v[i].value, h->xa->v[i].size};
    struct lb_tar_header th = {
        .path = h->path,
        .mode = h->mode,
        .uid = h->uid,
        .gid = h->gid,
        .mtime = h->mtime,
        .size = h->size,
        .rdev = h->rdev,
        .linkname = h->hardlink ? h->hardlink : h->symlink,
        .hardlink = h->hardlink != NULL,
        .xattrs = xv,
        .n_xattrs = n,
    };
    if (lb_tar_write_header(&w->tar, &th, err) < 0)
        return -1;
    w->st.entries++;
    return 0;
}

static void hdr_from_stat(struct hdr *h, const char *path, const struct stat *st)
{
    memset(h, 0, sizeof(*h));
    h->path = path;
    h->mode = st->st_mode;
    h->uid = st->st_uid;
    h->gid = st->st_gid;
    h->mtime = st->st_mtim.tv_sec; /* nanoseconds dropped, as docker does */
}

static int copy_content(struct lb_diff_writer *w, int fd, off_t size, struct lb_error **err)
{
    if (lb_tar_write_file(&w->tar, fd, size, err) < 0)
        return -1;
    w->st.bytes += (uint64_t)size;
    return 0;
}

/* ---- writing a tree ---- */

static bool is_whiteout(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

/* `path` is parent + "/" + name, or name at the top. */
static char *whiteout_path(const struct lb_diff_writer *w, const char *name)
{
    size_t parent = w->path.len - strlen(name);
    return lb_xasprintf("%.*s" WH_PREFIX "%s", (int)parent, w->path.buf, name);
}

int lb_diff_put_whiteout(struct lb_diff_writer *w, const char *name, const struct stat *like,
                         struct lb_error **err)
{
    _cleanup_free_ char *p = whiteout_path(w, name);
    struct hdr h;
    hdr_from_stat(&h, p, like);
    h.mode = S_IFREG | 0600; /* docker's whiteout header: owner and mtime kept, mode 0600 */
    if (put_header(w, &h, err) < 0)
        return -1;
    w->st.whiteouts++;
    return 0;
}

int lb_diff_put_dir(struct lb_diff_writer *w, const char *path, const struct stat *st,
                    const struct lb_diff_xattrs *xa, struct lb_error **err)
{
    _cleanup_free_ char *p = lb_xasprintf("%s/", path); /* docker's style: "dir/" */
    struct hdr h;
    hdr_from_stat(&h, p, st);
    h.xa = xa;
    return put_header(w, &h, err);
}

/* `.wh..wh..opq` inside `dirpath` ("" = the root), with the directory's owner, permissions and
 * mtime (docker copies the first two and leaves the mtime zero; ours keeps it deterministic too).
 */
static int put_opaque(struct lb_diff_writer *w, const char *dirpath, const struct stat *dir,
                      struct lb_error **err)
{
    _cleanup_free_ char *p =
        *dirpath ? lb_xasprintf("%s/" WH_OPAQUE, dirpath) : lb_xstrdup(WH_OPAQUE);
    struct hdr h;
    hdr_from_stat(&h, p, dir);
    h.mode = S_IFREG | (dir->st_mode & 0777);
    if (put_header(w, &h, err) < 0)
        return -1;
    w->st.opaques++;
    return 0;
}

int lb_diff_reserved_name(const struct lb_diff_writer *w, const char *name, struct lb_error **err)
{
    if (!lb_str_has_prefix(name, WH_PREFIX))
        return 0;
    return lb_error_setk(err, LB_EKIND_INVALID, 0,
                         "cannot store '%s' in a layer: names starting with '" WH_PREFIX
                         "' are reserved for whiteouts",
                         lb_diff_path(w));
}

int lb_diff_read_symlink(int dirfd, const char *name, const char *path, const struct stat *st,
                         char **out, struct lb_error **err)
{
    size_t size = st->st_size > 0 ? (size_t)st->st_size + 1 : 256;
    for (;;) {
        char *buf = lb_xmalloc(size);
        ssize_t n = readlinkat(dirfd, name, buf, size);
        if (n < 0) {
            int e = errno;
            free(buf);
            return lb_error_set(err, e, "cannot read symlink '%s'", path);
        }
        if ((size_t)n < size) {
            buf[n] = '\0';
            *out = buf;
            return 0;
        }
        free(buf);
        size *= 2;
    }
}

/* Every entry of an open directory, in sorted order. */
static int emit_children(struct lb_diff_writer *w, int dirfd, bool overlay, struct lb_error **err)
{
    struct lb_diff_names ns;
    if (lb_diff_names_read(dirfd, lb_diff_path(w), &ns, err) < 0)
        return -1;
    int r = 0;
    for (size_t i = 0; i < ns.n && r == 0; i++) {
        size_t old = lb_diff_path_push(w, ns.v[i]);
        r = lb_diff_emit_entry(w, dirfd, ns.v[i], overlay, err);
        lb_diff_path_pop(w, old);
    }
    lb_diff_names_release(&ns);
    return r;
}

static int emit_dir(struct lb_diff_writer *w, int dirfd, const char *name, bool overlay,
                    struct lb_error **err)
{
    const char *path = lb_diff_path(w);
    _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return lb_error_set(err, errno, "cannot open directory '%s'", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return lb_error_set(err, errno, "cannot stat '%s'", path);
    struct lb_diff_xattrs xa;
    struct lb_diff_ovl_marks marks;
    if (lb_diff_xattrs_read(fd, -1, NULL, path, &xa, &marks, err) < 0)
        return -1;
    int r = lb_diff_put_dir(w, path, &st, &xa, err);
    lb_diff_xattrs_release(&xa);
    if (r < 0)
        return -1;
    if (overlay && marks.opaque && put_opaque(w, w->path.buf, &st, err) < 0)
        return -1;
    return emit_children(w, fd, overlay, err);
}

static int emit_file(struct lb_diff_writer *w, int dirfd, const char *name, struct lb_error **err)
{
    const char *path = lb_diff_path(w);
    /* O_NONBLOCK: if a FIFO was swapped in after the stat, fail instead of hanging. */
    _cleanup_close_ int fd =
        openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return lb_error_set(err, errno, "cannot open '%s'", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return lb_error_set(err, errno, "cannot stat '%s'", path);
    if (!S_ISREG(st.st_mode))
        return lb_error_set(err, 0, "'%s' changed while it was being read", path);
    struct lb_diff_xattrs xa;
    struct lb_diff_ovl_marks marks;
    if (lb_diff_xattrs_read(fd, -1, NULL, path, &xa, &marks, err) < 0)
        return -1;
    if (marks.metacopy) {
        lb_diff_xattrs_release(&xa);
        return lb_error_set(err, 0,
                            "'%s' is an overlay metacopy file (its data lives in a lower layer): "
                            "mount without metacopy=on to commit",
                            path);
    }
    struct hdr h;
    hdr_from_stat(&h, path, &st);
    h.xa = &xa;
    h.size = st.st_size;
    if (st.st_nlink > 1 && (h.hardlink = link_seen(w, &st, path)) != NULL)
        h.size = 0;
    int r = put_header(w, &h, err);
    lb_diff_xattrs_release(&xa);
    if (r < 0 || h.hardlink)
        return r;
    return copy_content(w, fd, st.st_size, err);
}

/* Symlinks, FIFOs, devices: nothing to open. */
static int emit_node(struct lb_diff_writer *w, int dirfd, const char *name, const struct stat *st,
                     struct lb_error **err)
{
    const char *path = lb_diff_path(w);
    _cleanup_free_ char *target = NULL;
    if (S_ISLNK(st->st_mode) && lb_diff_read_symlink(dirfd, name, path, st, &target, err) < 0)
        return -1;
    struct lb_diff_xattrs xa;
    if (lb_diff_xattrs_read(-1, dirfd, name, path, &xa, NULL, err) < 0)
        return -1;
    struct hdr h;
    hdr_from_stat(&h, path, st);
    h.xa = &xa;
    h.rdev = st->st_rdev;
    h.symlink = target;
    if (st->st_nlink > 1 && (h.hardlink = link_seen(w, st, path)) != NULL)
        h.symlink = NULL;
    int r = put_header(w, &h, err);
    lb_diff_xattrs_release(&xa);
    return r;
}

/* Write dirfd/name (w->path already names it) and, for a directory, all below it. overlay:
 * interpret overlayfs' whiteout devices and opaque directories. */
int lb_diff_emit_entry(struct lb_diff_writer *w, int dirfd, const char *name, bool overlay,
                       struct lb_error **err)
{
    if (lb_diff_reserved_name(w, name, err) < 0)
        return -1;
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return lb_error_set(err, errno, "cannot stat '%s'", lb_diff_path(w));
    /* A whiteout is never a hardlink target: kernels since 5.8 share one whiteout inode. */
    if (overlay && is_whiteout(&st))
        return lb_diff_put_whiteout(w, name, &st, err);
    switch (st.st_mode & S_IFMT) {
    case S_IFDIR:
        return emit_dir(w, dirfd, name, overlay, err);
    case S_IFREG:
        return emit_file(w, dirfd, name, err);
    case S_IFLNK:
    case S_IFIFO:
    case S_IFCHR:
    case S_IFBLK:
        return emit_node(w, dirfd, name, &st, err);
    default:
        return 0; /* sockets: tar cannot hold them (docker and GNU tar skip them too) */
    }
}

int lb_diff_open_root(int fd, const char *what, struct stat *st, struct lb_error **err)
{
    int r = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r < 0)
        return lb_error_set(err, errno, "cannot open the %s directory", what);
    if (fstat(r, st) < 0) {
        int e = errno;
        close(r);
        return lb_error_set(err, e, "cannot stat the %s directory", what);
    }
    return r;
}

static int overlay_run(struct lb_diff_writer *w, int upper_fd, struct lb_error **err)
{
    struct stat rst;
    _cleanup_close_ int root = lb_diff_open_root(upper_fd, "upper", &rst, err);
    if (root < 0)
        return -1;
    /* The root itself is not an entry (docker writes none), but it can be opaque. */
    struct lb_diff_xattrs xa;
    struct lb_diff_ovl_marks marks;
    if (lb_diff_xattrs_read(root, -1, NULL, ".", &xa, &marks, err) < 0)
        return -1;
    lb_diff_xattrs_release(&xa);
    if (marks.opaque && put_opaque(w, "", &rst, err) < 0)
        return -1;
    return emit_children(w, root, true, err);
}

int lb_diff_overlay_upper(int upper_fd, int out_fd, struct lb_diff_stats *st, struct lb_error **err)
{
    struct lb_diff_writer w;
    int r = lb_diff_writer_open(&w, out_fd, err);
    if (r == 0)
        r = overlay_run(&w, upper_fd, err);
    if (r == 0)
        r = lb_diff_writer_finish(&w, err);
    if (r == 0 && st)
        *st = w.st;
    lb_diff_writer_release(&w);
    return r;
}
