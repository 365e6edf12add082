/* cp.c — copying files between a container's file system and the host (docker cp).
 *
 * The concept: a container path is the container's data, not a host place. It is cleaned as a
 * string (docker's filepath.Join("/", p): '..' cannot climb above "/"), its directory is opened
 * inside the root with lb_safepath_open_dir_in_root (openat2 RESOLVE_IN_ROOT: symlinks followed,
 * but "/" and ".." stop at the container's root), and everything after that — reading, walking,
 * creating — is done relative to directory fds with O_NOFOLLOW. A container that swaps a
 * directory for a symlink while we copy can make a copy fail, never make it leave the root. Host
 * paths are the user's and follow normal rules. Both directions share one node copier (put_node)
 * and one tree walker; the tar stream directions (cp_tar.c) reuse them through cp_internal.h.
 * Sits on: layer/safepath.h (container paths), libarchive (a regular file's content read from a
 * tar stream), container/lifecycle.h (the root as an fd). See cp.h for docker's rules.
 *
 * Interface: lb_cp_out, lb_cp_in, lb_cp_split_arg, lb_cp
 * Internal (cp_internal.h, for cp_tar.c): lb_cp_cloc_release, lb_cp_node_release, lb_cp_put_node,
 * lb_cp_each_child, lb_cp_ctr_name, lb_cp_open_ctr_src, lb_cp_ctr_dest
 */
#include "container/cp.h"

#include <archive.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "container/container.h"
#include "container/cp_internal.h"
#include "container/lifecycle.h"
#include "core/cleanup.h"
#include "core/explain.h"
#include "core/fs.h"
#include "core/util.h"
#include "layer/safepath.h"

/* Final symlinks followed in a row before ELOOP: the kernel's limit, as safepath's walk. */
#define MAX_LINKS 40

/* --- container paths: clean, then open inside the root ---------------------------------- */

struct cpath {
    char *clean;   /* "/a/b": absolute, no ".", "..", "//" */
    bool ends_sep; /* the user wrote a trailing '/' */
    bool ends_dot; /* the user wrote a trailing "/." (or just ".") */
};

static void cpath_release(struct cpath *p)
{
    free(p->clean);
    p->clean = NULL;
}

static void cpath_init(struct cpath *p, const char *user)
{
    size_t n = strlen(user);
    p->clean = lb_path_clean_abs(user);
    p->ends_sep = n > 0 && user[n - 1] == '/';
    p->ends_dot = strcmp(user, ".") == 0 || (n >= 2 && strcmp(user + n - 2, "/.") == 0);
}

void lb_cp_cloc_release(struct cloc *l)
{
    if (l->dirfd >= 0)
        close(l->dirfd);
    free(l->dir);
    free(l->base);
    *l = (struct cloc){.dirfd = -1};
}

/* -1 with errno (ENOENT, ENOTDIR, ELOOP...) when the directory cannot be opened. */
static int cloc_open(struct cloc *l, int rootfd, const char *clean)
{
    *l = (struct cloc){.dirfd = -1};
    const char *slash = strrchr(clean, '/');
    l->dir = slash == clean ? lb_xstrdup("/") : lb_xstrndup(clean, (size_t)(slash - clean));
    l->base = lb_xstrdup(slash + 1);
    struct lb_error *e = NULL;
    l->dirfd = lb_safepath_open_dir_in_root(rootfd, l->dir, &e);
    if (l->dirfd >= 0)
        return 0;
    /* The callers word the message themselves, by errno (docker's "no such directory"). */
    errno = e->code;
    lb_error_free(e);
    return -1;
}

/* Follow a final symlink inside the root until l names something that is not one (or nothing:
 * *exists false). The link's target is read through the directory fd, then resolved in the root
 * like any other container path. */
static int cloc_follow(struct cloc *l, int rootfd, struct stat *st, bool *exists)
{
    for (int n = 0;; n++) {
        if (l->base[0] == '\0') {
            *exists = true;
            return fstat(l->dirfd, st);
        }
        if (fstatat(l->dirfd, l->base, st, AT_SYMLINK_NOFOLLOW) < 0) {
            *exists = false;
            return errno == ENOENT ? 0 : -1;
        }
        *exists = true;
        if (!S_ISLNK(st->st_mode))
            return 0;
        if (n >= MAX_LINKS) {
            errno = ELOOP;
            return -1;
        }
        char target[PATH_MAX];
        ssize_t len = readlinkat(l->dirfd, l->base, target, sizeof(target) - 1);
        if (len < 0)
            return -1;
        target[len] = '\0';
        _cleanup_free_ char *joined =
            target[0] == '/' ? lb_xstrdup(target) : lb_xasprintf("%s/%s", l->dir, target);
        _cleanup_free_ char *clean = lb_path_clean_abs(joined);
        lb_cp_cloc_release(l);
        if (cloc_open(l, rootfd, clean) < 0) {
            if (errno == ENOENT) {
                *exists = false;
                return 0;
            }
            return -1;
        }
    }
}

/* --- one node: the copier both directions share ------------------------------------------ */

void lb_cp_node_release(struct node *n)
{
    if (n->fd >= 0)
        close(n->fd);
    free(n->link);
    *n = (struct node){.fd = -1};
}

/* Open the node dirfd/name without following it; "" is dirfd itself. A node that changes type
 * between the look and the open is refused: what was opened is what is described. */
static int node_open(struct node *n, int dirfd, const char *name, const char *shown,
                     struct lb_error **err)
{
    *n = (struct node){.fd = -1};
    if (name[0] == '\0') {
        n->fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (n->fd < 0 || fstat(n->fd, &n->st) < 0)
            return lb_error_set(err, errno, "cannot open '%s'", shown);
        return 0;
    }
    if (fstatat(dirfd, name, &n->st, AT_SYMLINK_NOFOLLOW) < 0)
        return lb_error_set(err, errno, "cannot stat '%s'", shown);
    if (S_ISLNK(n->st.st_mode)) {
        char target[PATH_MAX];
        ssize_t len = readlinkat(dirfd, name, target, sizeof(target) - 1);
        if (len < 0)
            return lb_error_set(err, errno, "cannot read the symlink '%s'", shown);
        n->link = lb_xstrndup(target, (size_t)len);
        return 0;
    }
    if (!S_ISDIR(n->st.st_mode) && !S_ISREG(n->st.st_mode))
        return 0; /* devices and FIFOs are never opened: opening one can have effects */
    int flags = S_ISDIR(n->st.st_mode) ? O_RDONLY | O_DIRECTORY : O_RDONLY | O_NONBLOCK;
    n->fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    struct stat now;
    if (n->fd < 0 && errno != ELOOP && errno != ENOTDIR)
        return lb_error_set(err, errno, "cannot open '%s'", shown);
    if (n->fd < 0 || fstat(n->fd, &now) < 0 || (now.st_mode & S_IFMT) != (n->st.st_mode & S_IFMT))
        return lb_error_set(err, EAGAIN, "'%s' changed while it was being copied", shown);
    n->st = now;
    return 0;
}

static int copy_content(int out, const struct node *src, const char *shown, struct lb_error **err)
{
    char buf[65536];
    for (;;) {
        ssize_t r;
        if (src->fd >= 0) {
            r = read(src->fd, buf, sizeof(buf));
            if (r < 0 && errno == EINTR)
                continue;
        } else {
            r = archive_read_data(src->ar, buf, sizeof(buf));
            if (r < 0)
                return lb_error_setk(err, LB_EKIND_INVALID, 0, "cannot read '%s' from the tar: %s",
                                     shown, archive_error_string(src->ar));
        }
        if (r < 0)
            return lb_error_set(err, errno, "cannot read the source of '%s'", shown);
        if (r == 0)
            return 0;
        if (lb_write_all(out, buf, (size_t)r, err) < 0)
            return lb_error_wrap(err, "writing '%s'", shown);
    }
}

/* Owner, mode and times of what was just made as dirfd/name (fd: it, open, or -1). */
static int set_meta(const struct ctx *x, int dirfd, const char *name, int fd, const struct stat *st,
                    bool times, const char *shown, struct lb_error **err)
{
    mode_t mode = st->st_mode & 07777;
    if (x->owner != OWNER_CALLER) {
        uid_t uid = x->owner == OWNER_KEEP ? st->st_uid : 0;
        gid_t gid = x->owner == OWNER_KEEP ? st->st_gid : 0;
        int r =
            fd >= 0 ? fchown(fd, uid, gid) : fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
        if (r < 0 && !(errno == EPERM && geteuid() != 0))
            return lb_error_set(err, errno, "cannot chown '%s'", shown);
    } else {
        /* The copy is ours, not the source owner's: keep no setuid/setgid for them (cp(1)). */
        if (st->st_uid != geteuid())
            mode &= (mode_t)~S_ISUID;
        if (st->st_gid != getegid())
            mode &= (mode_t)~S_ISGID;
    }
    if (!S_ISLNK(st->st_mode)) {
        int r = fd >= 0 ? fchmod(fd, mode) : fchmodat(dirfd, name, mode, AT_SYMLINK_NOFOLLOW);
        if (r < 0 && errno != EOPNOTSUPP)
            return lb_error_set(err, errno, "cannot chmod '%s'", shown);
    }
    if (times) {
        struct timespec ts[2] = {st->st_atim, st->st_mtim};
        int r = fd >= 0 ? futimens(fd, ts) : utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW);
        if (r < 0)
            return lb_error_set(err, errno, "cannot set the times of '%s'", shown);
    }
    return 0;
}

/* Make dirfd/name as src describes; a directory is left open in *dir_out (its times are set by
 * the caller once its contents are in). Returns 1 when the node was skipped. */
int lb_cp_put_node(struct ctx *x, int dirfd, const char *name, const struct node *src, int *dir_out,
                   const char *shown, struct lb_error **err)
{
    *dir_out = -1;
    mode_t type = src->st.st_mode & S_IFMT;
    if (type == S_IFSOCK || (x->to_host && (type == S_IFCHR || type == S_IFBLK))) {
        x->skipped++;
        return 1;
    }
    struct stat cur;
    bool exists = fstatat(dirfd, name, &cur, AT_SYMLINK_NOFOLLOW) == 0;
    if (!exists && errno != ENOENT)
        return lb_error_set(err, errno, "cannot stat '%s'", shown);
    if (type == S_IFDIR) {
        if (exists && !S_ISDIR(cur.st_mode))
            return lb_error_setk(err, LB_EKIND_CONFLICT, 0,
                                 "cannot overwrite non-directory '%s' with a directory", shown);
        if (!exists && mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
            return lb_error_set(err, errno, "cannot create directory '%s'", shown);
        _cleanup_close_ int fd =
            openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return lb_error_set(err, errno == ELOOP ? EAGAIN : errno, "cannot open directory '%s'",
                                shown);
        if (set_meta(x, dirfd, name, fd, &src->st, false, shown, err) < 0)
            return -1;
        *dir_out = lb_steal_fd(&fd);
        return 0;
    }
    if (exists && S_ISDIR(cur.st_mode))
        return lb_error_setk(err, LB_EKIND_CONFLICT, 0,
                             "cannot overwrite directory '%s' with a non-directory", shown);
    /* Replaced, never written through: whatever is there (a symlink to a host file included)
     * goes, and the new node is made with O_EXCL / symlinkat / mknodat, which follow nothing. */
    if (exists && unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
        return lb_error_set(err, errno, "cannot remove '%s'", shown);
    if (type == S_IFREG) {
        _cleanup_close_ int fd =
            openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
            return lb_error_set(err, errno, "cannot create '%s'", shown);
        if (copy_content(fd, src, shown, err) < 0 ||
            set_meta(x, dirfd, name, fd, &src->st, true, shown, err) < 0)
            return -1;
        if (close(lb_steal_fd(&fd)) < 0)
            return lb_error_set(err, errno, "cannot write '%s'", shown);
        return 0;
    }
    if (type == S_IFLNK) {
        if (symlinkat(src->link, dirfd, name) < 0)
            return lb_error_set(err, errno, "cannot create the symlink '%s'", shown);
    } else if (mknodat(dirfd, name, type | 0600, src->st.st_rdev) < 0) {
        return lb_error_set(err, errno, "cannot create '%s'", shown);
    }
    return set_meta(x, dirfd, name, -1, &src->st, true, shown, err);
}

static int copy_tree(struct ctx *x, const struct node *src, int dirfd, const char *name,
                     const char *shown, struct lb_error **err);

/* Call fn for each entry of the open directory sfd, opened without following it. */
int lb_cp_each_child(int sfd, const char *shown, child_fn fn, void *data, struct lb_error **err)
{
    int dup_fd = openat(sfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dup_fd < 0 ? NULL : fdopendir(dup_fd);
    if (d == NULL) {
        int e = errno;
        if (dup_fd >= 0)
            close(dup_fd);
        return lb_error_set(err, e, "cannot read directory '%s'", shown);
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        _cleanup_free_ char *child =
            lb_xasprintf("%s%s%s", shown, lb_str_has_suffix(shown, "/") ? "" : "/", de->d_name);
        struct node n;
        rc = node_open(&n, sfd, de->d_name, child, err);
        if (rc == 0)
            rc = fn(data, &n, de->d_name, child, err);
        lb_cp_node_release(&n);
    }
    if (rc == 0 && errno != 0)
        rc = lb_error_set(err, errno, "cannot read directory '%s'", shown);
    closedir(d);
    return rc;
}

struct copy_into {
    struct ctx *x;
    int dfd;
};

static int copy_child(void *data, const struct node *n, const char *name, const char *shown,
                      struct lb_error **err)
{
    struct copy_into *c = data;
    return copy_tree(c->x, n, c->dfd, name, shown, err);
}

/* The entries of the open source directory sfd, into the open directory dfd. */
static int copy_children(struct ctx *x, int sfd, int dfd, const char *shown, struct lb_error **err)
{
    struct copy_into c = {x, dfd};
    return lb_cp_each_child(sfd, shown, copy_child, &c, err);
}

static int copy_tree(struct ctx *x, const struct node *src, int dirfd, const char *name,
                     const char *shown, struct lb_error **err)
{
    int dfd = -1;
    int r = lb_cp_put_node(x, dirfd, name, src, &dfd, shown, err);
    if (r != 0 || dfd < 0)
        return r < 0 ? -1 : 0;
    _cleanup_close_ int d = dfd;
    if (copy_children(x, src->fd, d, shown, err) < 0)
        return -1;
    struct timespec ts[2] = {src->st.st_atim, src->st.st_mtim};
    if (futimens(d, ts) < 0)
        return lb_error_set(err, errno, "cannot set the times of '%s'", shown);
    return 0;
}

/* --- docker's rules: where SRC goes under DEST --------------------------------------------- */

static int place(struct ctx *x, const struct node *src, const char *rebase, bool contents,
                 const struct dest *d, struct lb_error **err)
{
    bool src_dir = S_ISDIR(src->st.st_mode);
    if (d->exists && d->is_dir) {
        _cleanup_close_ int fd =
            d->name[0] == '\0'
                ? openat(d->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                : openat(d->dirfd, d->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return lb_error_set(err, errno, "cannot open directory '%s'", d->shown);
        if (src_dir && contents)
            return copy_children(x, src->fd, fd, d->shown, err);
        _cleanup_free_ char *shown =
            lb_xasprintf("%s%s%s", d->shown, lb_str_has_suffix(d->shown, "/") ? "" : "/", rebase);
        return copy_tree(x, src, fd, rebase, shown, err);
    }
    if (d->exists && d->asserts_dir)
        return lb_error_setk(err, LB_EKIND_INVALID, ENOTDIR, "destination '%s'", d->shown);
    if (d->exists && src_dir)
        return lb_error_setk(err, LB_EKIND_CONFLICT, 0,
                             "cannot copy a directory onto the file '%s'", d->shown);
    if (!d->exists && !src_dir && d->asserts_dir)
        return lb_error_setk(err, LB_EKIND_NOT_FOUND, 0, "destination directory '%s': %s", d->shown,
                             "no such directory");
    return copy_tree(x, src, d->dirfd, d->name, d->shown, err);
}

const char *lb_cp_ctr_name(const struct lb_cp_opts *o)
{
    return o->container ? o->container : "container";
}

/* SRC inside the container: the node (opened), the name it is copied under, "/." or not. */
int lb_cp_open_ctr_src(int rootfd, const char *src, const struct lb_cp_opts *o, struct node *n,
                       char **rebase, bool *contents, struct lb_error **err)
{
    *n = (struct node){.fd = -1};
    struct cpath p;
    cpath_init(&p, src);
    struct cloc l;
    int rc = -1;
    bool exists = true;
    struct stat st;
    if (cloc_open(&l, rootfd, p.clean) < 0) {
        exists = false;
        if (errno != ENOENT && errno != ENOTDIR) {
            lb_error_set(err, errno, "cannot resolve '%s' in container '%s'", src,
                         lb_cp_ctr_name(o));
            goto out;
        }
    } else if (l.base[0] != '\0') {
        *rebase = lb_xstrdup(l.base);
        if (o->follow_link) {
            if (cloc_follow(&l, rootfd, &st, &exists) < 0) {
                lb_error_set(err, errno, "cannot resolve '%s' in container '%s'", src,
                             lb_cp_ctr_name(o));
                goto out;
            }
        } else if (fstatat(l.dirfd, l.base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            exists = false;
        }
    }
    if (!exists) {
        lb_error_setk(err, LB_EKIND_NOT_FOUND, 0, "could not find the file '%s' in container '%s'",
                      src, lb_cp_ctr_name(o));
        goto out;
    }
    if (node_open(n, l.dirfd, l.base, src, err) < 0)
        goto out;
    if ((p.ends_sep || p.ends_dot) && !S_ISDIR(n->st.st_mode)) {
        lb_error_setk(err, LB_EKIND_INVALID, ENOTDIR, "'%s' in container '%s'", src,
                      lb_cp_ctr_name(o));
        goto out;
    }
    if (*rebase == NULL || p.ends_dot) {
        free(*rebase);
        *rebase = lb_xstrdup(".");
    }
    *contents = p.ends_dot;
    rc = 0;
out:
    if (rc < 0) {
        lb_cp_node_release(n);
        free(*rebase);
        *rebase = NULL;
    }
    lb_cp_cloc_release(&l);
    cpath_release(&p);
    return rc;
}

/* DEST inside the container. *dir_fd and *name own what d borrows. */
int lb_cp_ctr_dest(int rootfd, const char *dest, const struct lb_cp_opts *o, struct cloc *l,
                   struct dest *d, struct lb_error **err)
{
    struct cpath p;
    cpath_init(&p, dest);
    *d = (struct dest){
        .dirfd = -1, .name = "", .asserts_dir = p.ends_sep || p.ends_dot, .shown = dest};
    int rc = -1;
    struct stat st;
    bool exists = false;
    if (cloc_open(l, rootfd, p.clean) < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            lb_error_setk(err, LB_EKIND_NOT_FOUND, 0, "directory '%s' in container '%s': %s",
                          l->dir, lb_cp_ctr_name(o), "no such directory");
        else
            lb_error_set(err, errno, "cannot resolve '%s' in container '%s'", dest,
                         lb_cp_ctr_name(o));
        goto out;
    }
    if (cloc_follow(l, rootfd, &st, &exists) < 0) {
        lb_error_set(err, errno, "cannot resolve '%s' in container '%s'", dest, lb_cp_ctr_name(o));
        goto out;
    }
    if (l->dirfd < 0) { /* a symlink whose target's directory is missing */
        lb_error_setk(err, LB_EKIND_NOT_FOUND, 0, "directory '%s' in container '%s': %s", l->dir,
                      lb_cp_ctr_name(o), "no such directory");
        goto out;
    }
    d->dirfd = l->dirfd;
    d->name = l->base;
    d->exists = exists;
    d->is_dir = exists && S_ISDIR(st.st_mode);
    rc = 0;
out:
    cpath_release(&p);
    return rc;
}

/* A host path split into its directory (opened, following symlinks: the user's paths follow
 * normal rules) and last name; "" when the path names a directory to use as it is ("/", ".",
 * ".."). Trailing '/' and "/." are taken off; *ends tells which. */
static int host_split(const char *path, int *dirfd, char **name, bool *ends_sep, bool *ends_dot,
                      struct lb_error **err)
{
    size_t n = strlen(path);
    *ends_sep = n > 0 && path[n - 1] == '/';
    *ends_dot = strcmp(path, ".") == 0 || (n >= 2 && strcmp(path + n - 2, "/.") == 0);
    _cleanup_free_ char *p = lb_xstrdup(path);
    for (;;) {
        n = strlen(p);
        if (n > 1 && p[n - 1] == '/')
            p[n - 1] = '\0';
        else if (n > 2 && strcmp(p + n - 2, "/.") == 0)
            p[n - 2] = '\0';
        else
            break;
    }
    char *slash = strrchr(p, '/');
    const char *base = slash ? slash + 1 : p;
    if (strcmp(p, "/") == 0 || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
        *dirfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        *name = lb_xstrdup("");
    } else {
        _cleanup_free_ char *dir =
            slash == NULL ? lb_xstrdup(".") : lb_xstrndup(p, slash == p ? 1 : (size_t)(slash - p));
        *dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        *name = lb_xstrdup(base);
        if (*dirfd < 0)
            return lb_error_set(err, errno, "cannot open directory '%s'", dir);
    }
    if (*dirfd < 0)
        return lb_error_set(err, errno, "cannot open directory '%s'", p);
    return 0;
}

/* SRC on the host. */
static int open_host_src(const char *src, bool follow, struct node *n, char **rebase,
                         bool *contents, struct lb_error **err)
{
    *n = (struct node){.fd = -1};
    _cleanup_close_ int dirfd = -1;
    _cleanup_free_ char *name = NULL;
    bool ends_sep = false, ends_dot = false;
    if (host_split(src, &dirfd, &name, &ends_sep, &ends_dot, err) < 0)
        return -1;
    struct stat st;
    if (name[0] != '\0' && fstatat(dirfd, name, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) < 0)
        return lb_error_set(err, errno, "cannot find '%s'", src);
    if (name[0] != '\0' && follow && !S_ISLNK(st.st_mode)) {
        /* -L: copy what the link names, under the link's name (docker's rebase). */
        _cleanup_free_ char *target = realpath(src, NULL);
        _cleanup_close_ int tdir = -1;
        _cleanup_free_ char *tname = NULL;
        bool s1, s2;
        if (target == NULL)
            return lb_error_set(err, errno, "cannot find '%s'", src);
        if (host_split(target, &tdir, &tname, &s1, &s2, err) < 0 ||
            node_open(n, tdir, tname, src, err) < 0)
            return -1;
    } else if (node_open(n, dirfd, name, src, err) < 0) {
        return -1;
    }
    if ((ends_sep || ends_dot) && !S_ISDIR(n->st.st_mode)) {
        lb_cp_node_release(n);
        return lb_error_setk(err, LB_EKIND_INVALID, ENOTDIR, "'%s'", src);
    }
    *contents = ends_dot || name[0] == '\0';
    *rebase = lb_xstrdup(*contents ? "." : name);
    return 0;
}

/* DEST on the host. */
static int host_dest(const char *dest, int *dirfd, char **name, struct dest *d,
                     struct lb_error **err)
{
    size_t n = strlen(dest);
    *d = (struct dest){
        .dirfd = -1, .name = "", .shown = dest, .asserts_dir = n > 0 && dest[n - 1] == '/'};
    struct stat st;
    int sr = stat(dest, &st), serr = errno;
    if (sr == 0 && S_ISDIR(st.st_mode)) {
        *dirfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (*dirfd < 0)
            return lb_error_set(err, errno, "cannot open directory '%s'", dest);
        *name = lb_xstrdup("");
        d->exists = d->is_dir = true;
    } else if (sr == 0 || serr == ENOENT) {
        bool exists = sr == 0, s1, s2;
        /* An existing file reached through symlinks is replaced where it is. */
        _cleanup_free_ char *real = exists ? realpath(dest, NULL) : NULL;
        if (host_split(real ? real : dest, dirfd, name, &s1, &s2, err) < 0)
            return -1;
        if ((*name)[0] == '\0')
            return lb_error_set(err, EISDIR, "'%s'", dest);
        d->exists = exists;
    } else {
        return lb_error_set(err, serr, "cannot stat '%s'", dest);
    }
    d->dirfd = *dirfd;
    d->name = *name;
    return 0;
}

int lb_cp_out(int rootfd, const char *src, const char *dest, const struct lb_cp_opts *o,
              struct lb_error **err)
{
    struct node n;
    _cleanup_free_ char *rebase = NULL, *name = NULL;
    _cleanup_close_ int dirfd = -1;
    bool contents = false;
    if (lb_cp_open_ctr_src(rootfd, src, o, &n, &rebase, &contents, err) < 0)
        return -1;
    struct dest d;
    struct ctx x = {.owner = OWNER_CALLER, .to_host = true, .container = lb_cp_ctr_name(o)};
    int rc = -1;
    if (host_dest(dest, &dirfd, &name, &d, err) == 0)
        rc = place(&x, &n, rebase, contents, &d, err);
    lb_cp_node_release(&n);
    return rc;
}

int lb_cp_in(int rootfd, const char *src, const char *dest, const struct lb_cp_opts *o,
             struct lb_error **err)
{
    struct node n;
    _cleanup_free_ char *rebase = NULL;
    bool contents = false;
    if (open_host_src(src, o->follow_link, &n, &rebase, &contents, err) < 0)
        return -1;
    struct cloc l = {.dirfd = -1};
    struct dest d;
    struct ctx x = {.owner = o->archive ? OWNER_KEEP : OWNER_ROOT, .container = lb_cp_ctr_name(o)};
    int rc = -1;
    if (lb_cp_ctr_dest(rootfd, dest, o, &l, &d, err) == 0)
        rc = place(&x, &n, rebase, contents, &d, err);
    lb_cp_cloc_release(&l);
    lb_cp_node_release(&n);
    return rc;
}

/* --- the command ------------------------------------------------------------------------- */

void lb_cp_split_arg(const char *arg, char **container, const char **path)
{
    *container = NULL;
    *path = arg;
    const char *colon = strchr(arg, ':');
    if (arg[0] == '/' || arg[0] == '.' || colon == NULL)
        return; /* an explicit local path: "/x", "./a:b", or no ':' at all */
    *container = lb_xstrndup(arg, (size_t)(colon - arg));
    *path = colon + 1;
}

int lb_cp(struct lb_store *s, const char *src, const char *dest, const struct lb_cp_opts *o,
          int in_fd, int out_fd, struct lb_error **err)
{
    _cleanup_free_ char *csrc = NULL, *cdest = NULL;
    const char *psrc = NULL, *pdest = NULL;
    lb_cp_split_arg(src, &csrc, &psrc);
    lb_cp_split_arg(dest, &cdest, &pdest);
    if (csrc && cdest)
        return lb_error_setk(err, LB_EKIND_USAGE, 0,
                             "copying between containers is not supported (see 'layerbox cp "
                             "--help')");
    if (!csrc && !cdest)
        return lb_error_setk(err, LB_EKIND_USAGE, 0,
                             "must specify at least one container source (see 'layerbox cp "
                             "--help')");
    const char *cname = csrc ? csrc : cdest;
    const char *cpath = csrc ? psrc : pdest;
    if (*cpath == '\0' || *(csrc ? pdest : psrc) == '\0')
        return lb_error_setk(err, LB_EKIND_USAGE, 0,
                             "a path cannot be empty (see 'layerbox cp --help')");
    struct lb_container *c = lb_container_resolve(s, cname, err);
    if (c == NULL)
        return -1;
    struct lb_container_root r;
    int rc = -1;
    if (lb_lifecycle_root_open(s, c, &r, err) < 0)
        goto out;
    struct lb_cp_opts opts = *o;
    opts.container = cname;
    lb_explain("cp", "'%s' is resolved inside the root of container %.12s (%s), never on the host",
               cpath, c->id, r.running ? "running" : "stopped, mounted for the copy");
    if (csrc)
        rc = strcmp(pdest, "-") == 0 ? lb_cp_out_tar(r.fd, psrc, out_fd, &opts, err)
                                     : lb_cp_out(r.fd, psrc, pdest, &opts, err);
    else
        rc = strcmp(psrc, "-") == 0 ? lb_cp_in_tar(r.fd, in_fd, pdest, &opts, err)
                                    : lb_cp_in(r.fd, psrc, pdest, &opts, err);
    if (lb_lifecycle_root_release(&r, rc == 0 ? err : NULL) < 0)
        rc = -1;
out:
    lb_container_free(c);
    return rc;
}
