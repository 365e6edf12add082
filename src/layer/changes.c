/* changes.c — a container's file system against its image, as docker's `diff` lists it.
 *
 * The concept: "what changed" is a comparison of two trees — the container's and the image's —
 * and the image's tree is not on disk: it is its layers seen through each other (an upper layer
 * hides a lower one's file, a whiteout deletes it, an opaque directory hides everything below).
 * So the old side here is a merged view computed on the fly: at each directory, the list of the
 * layers' directories that still show through (top first, ending at the first opaque one), in
 * which a name is looked up top-down until an entry or a whiteout answers. The new side is the
 * container's full tree (vfs) or only its overlay upper dir (overlay: what is not there cannot
 * have changed, and its whiteouts and opaque directories say what was deleted).
 * docker's rules are in changes.h.
 *
 * Sits on: core/util.h; layer/apply.h (the two whiteout formats).
 * Interface: lb_changes_overlay, lb_changes_vfs, lb_changes_free
 */
#include "layer/changes.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "layer/apply.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WH_PREFIX  ".wh."
#define WH_OPAQUE  ".wh..wh..opq"
#define OVL_OPAQUE "trusted.overlay.opaque"
#define CAP_XATTR  "security.capability"

/* The image's directories that show through at one path, top first; the fds are ours. */
struct olddir {
    int *fds;
    size_t n;
};

struct walk {
    bool upper;                    /* new side is an overlay upper dir (markers, partial) */
    enum lb_whiteout_format lower; /* whiteouts of the layers */
    struct lb_change *v;
    size_t n, cap;
    struct lb_strbuf path; /* "/a/b", "" at the root */
};

static void olddir_release(struct olddir *o)
{
    for (size_t i = 0; i < o->n; i++)
        close(o->fds[i]);
    free(o->fds);
    o->fds = NULL;
    o->n = 0;
}

static void olddir_push(struct olddir *o, int fd)
{
    o->fds = lb_xrealloc(o->fds, (o->n + 1) * sizeof(*o->fds));
    o->fds[o->n++] = fd;
}

static void add_change(struct walk *w, char kind, const char *path)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 32;
        w->v = lb_xrealloc(w->v, w->cap * sizeof(*w->v));
    }
    w->v[w->n++] = (struct lb_change){kind, lb_xstrdup(path)};
}

static const char *cur(const struct walk *w)
{
    return w->path.len ? w->path.buf : "/";
}

static size_t path_push(struct walk *w, const char *name)
{
    size_t old = w->path.len;
    lb_strbuf_addc(&w->path, '/');
    lb_strbuf_adds(&w->path, name);
    return old;
}

static void path_pop(struct walk *w, size_t old)
{
    w->path.len = old;
    w->path.buf[old] = '\0';
}

static bool is_whiteout_dev(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

/* Does the directory fd hide what the layers below have (an opaque directory)? */
static bool dir_is_opaque(int fd, enum lb_whiteout_format fmt)
{
    if (fmt == LB_WHITEOUT_FILES)
        return faccessat(fd, WH_OPAQUE, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
    char v[2] = {0, 0};
    return fgetxattr(fd, OVL_OPAQUE, v, sizeof(v)) == 1 && v[0] == 'y';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool names_has(char *const *v, size_t n, const char *name)
{
    return n && bsearch(&name, v, n, sizeof(*v), cmp_str) != NULL;
}

static void names_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* The names in directory fd (not . and ..), sorted bytewise. */
static int list_names(int fd, const char *what, char ***out, size_t *n_out, struct lb_error **err)
{
    *out = NULL;
    *n_out = 0;
    int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return lb_error_set(err, errno, "cannot open directory '%s'", what);
    DIR *d = fdopendir(dfd);
    if (d == NULL) {
        int e = errno;
        close(dfd);
        return lb_error_set(err, e, "cannot open directory '%s'", what);
    }
    char **v = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de == NULL) {
            if (errno != 0) {
                int e = errno;
                closedir(d);
                names_free(v, n);
                return lb_error_set(err, e, "cannot list directory '%s'", what);
            }
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            v = lb_xrealloc(v, cap * sizeof(*v));
        }
        v[n++] = lb_xstrdup(de->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(v, n, sizeof(*v), cmp_str);
    *out = v;
    *n_out = n;
    return 0;
}

/* Look name up in the image's merged view at this directory: *found and *st (the topmost entry).
 * When sub is not NULL and the entry is a directory, sub gets the directories that show through
 * at name (top first). A whiteout, or a non-directory under a directory, ends the search. */
static int old_lookup(struct walk *w, const struct olddir *o, const char *name, bool *found,
                      struct stat *st, struct olddir *sub, struct lb_error **err)
{
    *found = false;
    for (size_t k = 0; k < o->n; k++) {
        struct stat s;
        if (fstatat(o->fds[k], name, &s, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT)
                return lb_error_set(err, errno, "cannot stat '%s' in the image", cur(w));
            if (w->lower == LB_WHITEOUT_FILES) {
                _cleanup_free_ char *wh = lb_xasprintf(WH_PREFIX "%s", name);
                if (faccessat(o->fds[k], wh, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                    return 0; /* deleted by this layer */
            }
            continue;
        }
        if (w->lower == LB_WHITEOUT_OVERLAY && is_whiteout_dev(&s))
            return 0;
        if (*found && !S_ISDIR(s.st_mode))
            return 0; /* hidden by the directory above */
        if (!*found) {
            *found = true;
            *st = s;
            if (!S_ISDIR(s.st_mode) || sub == NULL)
                return 0;
        }
        int fd = openat(o->fds[k], name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return lb_error_set(err, errno, "cannot open directory '%s' in the image", cur(w));
        olddir_push(sub, fd);
        if (dir_is_opaque(fd, w->lower))
            return 0;
    }
    return 0;
}

/* The names the image's merged view shows in this directory, sorted. */
static int old_names(struct walk *w, const struct olddir *o, char ***out, size_t *n_out,
                     struct lb_error **err)
{
    char **v = NULL, **hidden = NULL;
    size_t n = 0, nh = 0;
    *out = NULL;
    *n_out = 0;
    for (size_t k = 0; k < o->n; k++) {
        char **names;
        size_t nn;
        if (list_names(o->fds[k], cur(w), &names, &nn, err) < 0) {
            names_free(v, n);
            names_free(hidden, nh);
            return -1;
        }
        size_t nh_above = nh; /* this layer's whiteouts hide only what is below it */
        for (size_t i = 0; i < nn; i++) {
            const char *nm = names[i];
            bool wh = false;
            if (w->lower == LB_WHITEOUT_FILES && lb_str_has_prefix(nm, WH_PREFIX)) {
                if (strcmp(nm, WH_OPAQUE) == 0)
                    continue;
                nm += strlen(WH_PREFIX);
                wh = true;
            } else if (w->lower == LB_WHITEOUT_OVERLAY) {
                struct stat s;
                wh = fstatat(o->fds[k], nm, &s, AT_SYMLINK_NOFOLLOW) == 0 && is_whiteout_dev(&s);
            }
            if (wh) {
                hidden = lb_xrealloc(hidden, (nh + 1) * sizeof(*hidden));
                hidden[nh++] = lb_xstrdup(nm);
                continue;
            }
            bool seen = false;
            for (size_t j = 0; j < nh_above && !seen; j++)
                seen = strcmp(hidden[j], nm) == 0;
            for (size_t j = 0; j < n && !seen; j++)
                seen = strcmp(v[j], nm) == 0;
            if (!seen) {
                v = lb_xrealloc(v, (n + 1) * sizeof(*v));
                v[n++] = lb_xstrdup(nm);
            }
        }
        names_free(names, nn);
    }
    names_free(hidden, nh);
    if (n > 1)
        qsort(v, n, sizeof(*v), cmp_str);
    *out = v;
    *n_out = n;
    return 0;
}

/* security.capability of dirfd/name (NULL when it has none), the one xattr docker compares. */
static int read_cap(int dirfd, const char *name, char **val, ssize_t *len)
{
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d/", dirfd);
    _cleanup_free_ char *p = lb_xasprintf("%s%s", proc, name);
    char buf[256];
    ssize_t r = lgetxattr(p, CAP_XATTR, buf, sizeof(buf));
    if (r < 0) {
        *val = NULL;
        *len = 0;
        return errno == ENODATA || errno == ENOTSUP ? 0 : -1;
    }
    *val = lb_xmalloc((size_t)r + 1);
    memcpy(*val, buf, (size_t)r);
    *len = r;
    return 0;
}

/* docker's sameFsTime: equal, or the same second and one of them without nanoseconds (a time
 * that went through a tar). */
static bool same_time(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec == b->tv_sec &&
           (a->tv_nsec == b->tv_nsec || a->tv_nsec == 0 || b->tv_nsec == 0);
}

/* docker's statDifferent, plus its security.capability comparison. */
static int differs(int newdir, const char *name, const struct stat *n, const struct olddir *o,
                   const struct stat *old, bool *out)
{
    *out = n->st_mode != old->st_mode || n->st_uid != old->st_uid || n->st_gid != old->st_gid ||
           n->st_rdev != old->st_rdev ||
           (!S_ISDIR(old->st_mode) &&
            (!same_time(&n->st_mtim, &old->st_mtim) || n->st_size != old->st_size));
    if (*out)
        return 0;
    /* The capability of the topmost old entry: find the layer that has it. */
    int odir = -1;
    for (size_t k = 0; k < o->n && odir < 0; k++) {
        struct stat s;
        if (fstatat(o->fds[k], name, &s, AT_SYMLINK_NOFOLLOW) == 0 && s.st_ino == old->st_ino &&
            s.st_dev == old->st_dev)
            odir = o->fds[k];
    }
    _cleanup_free_ char *a = NULL;
    _cleanup_free_ char *b = NULL;
    ssize_t la = 0, lb = 0;
    if (read_cap(newdir, name, &a, &la) < 0 || (odir >= 0 && read_cap(odir, name, &b, &lb) < 0))
        return -1;
    *out = la != lb || (la > 0 && memcmp(a, b, (size_t)la) != 0);
    return 0;
}

static int walk_dir(struct walk *w, int dirfd, const struct olddir *o, struct lb_error **err);

/* One entry of the new tree, w->path naming it. */
static int walk_entry(struct walk *w, int dirfd, const char *name, const struct olddir *o,
                      struct lb_error **err)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0; /* gone meanwhile (a running container): nothing to say about it */
        return lb_error_set(err, errno, "cannot stat '%s'", cur(w));
    }
    bool found = false;
    struct stat ost;
    struct olddir sub = {0};
    int rc = -1;
    if (w->upper && is_whiteout_dev(&st)) {
        if (old_lookup(w, o, name, &found, &ost, NULL, err) < 0)
            return -1;
        if (found)
            add_change(w, 'D', cur(w));
        return 0;
    }
    bool isdir = S_ISDIR(st.st_mode);
    if (old_lookup(w, o, name, &found, &ost, isdir ? &sub : NULL, err) < 0)
        goto out;
    size_t mark = w->n;
    bool listed = false;
    if (!found) {
        add_change(w, 'A', cur(w));
        listed = true;
    } else {
        bool d = false;
        if (differs(dirfd, name, &st, o, &ost, &d) < 0) {
            lb_error_set(err, errno, "cannot read the xattrs of '%s'", cur(w));
            goto out;
        }
        if (d) {
            add_change(w, 'C', cur(w));
            listed = true;
        }
    }
    if (isdir) {
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT) {
                rc = 0;
                goto out;
            }
            lb_error_set(err, errno, "cannot open directory '%s'", cur(w));
            goto out;
        }
        int r = walk_dir(w, fd, &sub, err);
        close(fd);
        if (r < 0)
            goto out;
        /* docker: a directory with changes below it is listed, even if it did not change */
        if (!listed && w->n > mark)
            add_change(w, 'C', cur(w));
    }
    rc = 0;
out:
    olddir_release(&sub);
    return rc;
}

/* The children of a directory of the new tree, o the image's view at the same path. */
static int walk_dir(struct walk *w, int dirfd, const struct olddir *o, struct lb_error **err)
{
    char **names;
    size_t nn;
    if (list_names(dirfd, cur(w), &names, &nn, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < nn && rc == 0; i++) {
        size_t old = path_push(w, names[i]);
        rc = walk_entry(w, dirfd, names[i], o, err);
        path_pop(w, old);
    }
    /* Deleted: vfs, whatever the image shows that the container has not; overlay, what an
     * opaque directory hides (its whiteouts were handled above). */
    if (rc == 0 && o->n > 0 && (!w->upper || dir_is_opaque(dirfd, LB_WHITEOUT_OVERLAY))) {
        char **on;
        size_t n_on;
        rc = old_names(w, o, &on, &n_on, err);
        for (size_t i = 0; rc == 0 && i < n_on; i++) {
            if (names_has(names, nn, on[i]))
                continue;
            size_t old = path_push(w, on[i]);
            add_change(w, 'D', cur(w));
            path_pop(w, old);
        }
        if (rc == 0)
            names_free(on, n_on);
    }
    names_free(names, nn);
    return rc;
}

static int cmp_change(const void *a, const void *b)
{
    return strcmp(((const struct lb_change *)a)->path, ((const struct lb_change *)b)->path);
}

void lb_changes_free(struct lb_change *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].path);
    free(v);
}

static int run(bool upper, int new_fd, const int *layer_fds, size_t n, struct lb_change **out,
               size_t *n_out, struct lb_error **err)
{
    struct walk w = {.upper = upper, .lower = upper ? LB_WHITEOUT_OVERLAY : LB_WHITEOUT_FILES};
    struct olddir root = {0};
    int rc = -1;
    *out = NULL;
    *n_out = 0;
    lb_strbuf_adds(&w.path, "");
    for (size_t k = 0; k < n; k++) {
        int fd = openat(layer_fds[k], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            lb_error_set(err, errno, "cannot open the image's layer %zu", k + 1);
            goto out;
        }
        olddir_push(&root, fd);
        if (dir_is_opaque(fd, w.lower))
            break;
    }
    int nfd = openat(new_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (nfd < 0) {
        lb_error_set(err, errno, "cannot open the container's %s", upper ? "upper dir" : "root");
        goto out;
    }
    rc = walk_dir(&w, nfd, &root, err);
    close(nfd);
out:
    olddir_release(&root);
    lb_strbuf_release(&w.path);
    if (rc < 0) {
        lb_changes_free(w.v, w.n);
        return -1;
    }
    if (w.n > 1)
        qsort(w.v, w.n, sizeof(*w.v), cmp_change);
    *out = w.v;
    *n_out = w.n;
    return 0;
}

int lb_changes_overlay(int upper_fd, const int *layer_fds, size_t n, struct lb_change **out,
                       size_t *n_out, struct lb_error **err)
{
    return run(true, upper_fd, layer_fds, n, out, n_out, err);
}

int lb_changes_vfs(int root_fd, const int *layer_fds, size_t n, struct lb_change **out,
                   size_t *n_out, struct lb_error **err)
{
    return run(false, root_fd, layer_fds, n, out, n_out, err);
}
