/* union.c — the union view of a stack of layer directories, computed the way overlayfs shows it.
 *
 * The concept: a path of the union is found by asking the layers from the top down, one path
 * component at a time. In each layer, for the next component:
 *   - a whiteout of it (OVERLAY: a 0/0 character device named NAME; FILES: a `.wh.NAME` marker)
 *     hides it in this layer and every layer below: the search stops;
 *   - a non-directory is the answer (if nothing was found above) and hides everything below;
 *   - a directory joins the union directory; if it is opaque (OVERLAY: xattr
 *     trusted.overlay.opaque="y"; FILES: a `.wh..wh..opq` marker inside it), the layers below
 *     do not contribute to its children.
 * Nothing here follows a symlink: every step is fstatat(AT_SYMLINK_NOFOLLOW) or
 * openat(O_NOFOLLOW) on a layer's directory fd, so a layer cannot point a lookup elsewhere.
 *
 * lb_union_compare walks one new layer (sorted, so its results are deterministic) against the
 * union of the layers below it, carrying for each directory the fds of that directory in the
 * lower layers (one union step per entry, never a walk from the root per path).
 *
 * Sits on: layer/apply.h (whiteout formats), layer/layers.h (the whiteout list limit).
 * Interface: lb_union_lookup, lb_union_compare
 */
#include "layer/union.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "layer/layers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WH_PREFIX     ".wh."
#define WH_OPAQUE     ".wh..wh..opq"
#define OVERLAY_XATTR "trusted.overlay.opaque"

static bool is_overlay_whiteout(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && major(st->st_rdev) == 0 && minor(st->st_rdev) == 0;
}

/* FILES format: is there a `.wh.NAME` marker for name in the directory dfd? */
static bool has_files_whiteout(int dfd, const char *name)
{
    char marker[NAME_MAX + 1];
    int len = snprintf(marker, sizeof(marker), WH_PREFIX "%s", name);
    if (len < 0 || (size_t)len >= sizeof(marker))
        return false; /* a marker that long cannot exist */
    struct stat st;
    return fstatat(dfd, marker, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static bool dir_is_opaque(int dfd, enum lb_whiteout_format f)
{
    if (f == LB_WHITEOUT_FILES) {
        struct stat st;
        return fstatat(dfd, WH_OPAQUE, &st, AT_SYMLINK_NOFOLLOW) == 0;
    }
    char v[4];
    ssize_t n = fgetxattr(dfd, OVERLAY_XATTR, v, sizeof(v));
    return n == 1 && v[0] == 'y';
}

static void close_fds(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(fds);
}

/* One step down the union: look `name` up in the directories fds[0..n-1] (top first, all the
 * same union directory). Returns its kind; *found gets the stat of the entry that decides it.
 * With child != NULL and a directory result, *child gets (caller closes and frees) the fds of
 * every layer's directory that makes up the union directory, top first, down to the first
 * opaque one. */
static enum lb_union_kind union_step(const int *fds, size_t n, enum lb_whiteout_format f,
                                     const char *name, struct stat *found, int **child,
                                     size_t *nchild, struct lb_error **err)
{
    enum lb_union_kind kind = LB_UNION_ABSENT;
    int *c = NULL;
    size_t nc = 0;
    if (child) {
        *child = NULL;
        *nchild = 0;
    }
    /* Markers are instructions, not files: the union never shows them. */
    if (f == LB_WHITEOUT_FILES && lb_str_has_prefix(name, WH_PREFIX))
        return LB_UNION_ABSENT;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (fstatat(fds[i], name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT && errno != ENOTDIR) {
                lb_error_set(err, errno, "cannot stat '%s' in a lower layer", name);
                close_fds(c, nc);
                return LB_UNION_ABSENT;
            }
            if (f == LB_WHITEOUT_FILES && has_files_whiteout(fds[i], name))
                break;
            continue;
        }
        if (f == LB_WHITEOUT_OVERLAY && is_overlay_whiteout(&st))
            break;
        if (!S_ISDIR(st.st_mode)) {
            /* The answer if nothing was found above; hidden by the directory above otherwise.
             * Either way nothing below counts. */
            if (kind == LB_UNION_ABSENT) {
                kind = S_ISLNK(st.st_mode) ? LB_UNION_SYMLINK : LB_UNION_OTHER;
                *found = st;
            }
            break;
        }
        if (kind == LB_UNION_ABSENT) {
            kind = LB_UNION_DIR;
            *found = st;
        }
        if (child == NULL)
            break; /* the kind is decided: a directory */
        int dfd = openat(fds[i], name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0) {
            lb_error_set(err, errno, "cannot open directory '%s' in a lower layer", name);
            close_fds(c, nc);
            return LB_UNION_ABSENT;
        }
        c = lb_xrealloc(c, (nc + 1) * sizeof(*c));
        c[nc++] = dfd;
        if (dir_is_opaque(dfd, f))
            break;
    }
    if (child && kind == LB_UNION_DIR) {
        *child = c;
        *nchild = nc;
    } else {
        close_fds(c, nc);
    }
    return kind;
}

enum lb_union_kind lb_union_lookup(const int *fds, size_t n, enum lb_whiteout_format f,
                                   const char *clean)
{
    if (clean == NULL || *clean == '\0')
        return LB_UNION_DIR; /* the root of a union is always a directory */
    _cleanup_free_ char *copy = lb_xstrdup(clean);
    int *cur = NULL; /* owned fds of the current directory; NULL = the caller's fds */
    size_t ncur = n;
    enum lb_union_kind kind = LB_UNION_ABSENT;
    char *save = NULL;
    char *comp = strtok_r(copy, "/", &save);
    while (comp != NULL) {
        char *next = strtok_r(NULL, "/", &save);
        if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
            kind = LB_UNION_ABSENT; /* not a clean path: never climb */
            break;
        }
        struct stat st;
        struct lb_error *e = NULL;
        int *child = NULL;
        size_t nchild = 0;
        const int *dirs = cur ? cur : fds;
        kind =
            union_step(dirs, ncur, f, comp, &st, next ? &child : NULL, next ? &nchild : NULL, &e);
        lb_error_free(e);
        close_fds(cur, cur ? ncur : 0);
        cur = NULL;
        if (next == NULL)
            break;
        if (kind != LB_UNION_DIR) {
            kind = LB_UNION_ABSENT; /* a path through a non-directory does not exist */
            break;
        }
        cur = child;
        ncur = nchild;
        comp = next;
    }
    close_fds(cur, cur ? ncur : 0);
    return kind;
}

/* --- comparing a layer with the union below it -------------------------------------------- */

struct cmp_ctx {
    enum lb_whiteout_format f;
    struct lb_union_diff *out;
    size_t nwhiteouts;
    struct lb_strbuf path; /* the current path inside the layer, "" at its root */
};

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in directory dfd (without . and ..), sorted. */
static int read_sorted(int dfd, const char *path, char ***out, size_t *n, struct lb_error **err)
{
    *out = NULL;
    *n = 0;
    int dup_fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dup_fd < 0)
        return lb_error_set(err, errno, "cannot open directory '/%s'", path);
    DIR *d = fdopendir(dup_fd);
    if (d == NULL) {
        close(dup_fd);
        return lb_error_set(err, errno, "cannot read directory '/%s'", path);
    }
    char **v = NULL;
    size_t nv = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        v = lb_xrealloc(v, (nv + 2) * sizeof(*v));
        v[nv++] = lb_xstrdup(de->d_name);
        v[nv] = NULL;
        errno = 0;
    }
    int saved = errno;
    closedir(d);
    if (saved != 0) {
        lb_strv_free(v);
        return lb_error_set(err, saved, "cannot read directory '/%s'", path);
    }
    if (nv > 1)
        qsort(v, nv, sizeof(*v), cmp_names);
    *out = v;
    *n = nv;
    return 0;
}

static void record_whiteout(struct cmp_ctx *c, const char *dir, const char *name)
{
    c->out->deleted++;
    if (c->nwhiteouts >= LB_LAYER_MAX_WHITEOUT_NAMES)
        return;
    _cleanup_free_ char *p = *dir ? lb_xasprintf("%s/%s", dir, name) : lb_xstrdup(name);
    lb_strv_push(&c->out->whiteouts, p);
    c->nwhiteouts++;
}

/* A directory of the new layer over a directory below: only a new mode or owner is a change
 * (mtimes always differ, and most such directories are only there to hold their children). */
static bool dir_meta_differs(const struct stat *a, const struct stat *b)
{
    return (a->st_mode & 07777) != (b->st_mode & 07777) || a->st_uid != b->st_uid ||
           a->st_gid != b->st_gid;
}

static int cmp_dir(struct cmp_ctx *c, int topdir, const int *lower, size_t nlower,
                   struct lb_error **err)
{
    _cleanup_strv_ char **names = NULL;
    size_t n = 0;
    if (read_sorted(topdir, c->path.buf ? c->path.buf : "", &names, &n, err) < 0)
        return -1;
    _cleanup_free_ char *dir = lb_xstrdup(c->path.buf ? c->path.buf : "");
    size_t mark = c->path.len;
    for (size_t i = 0; i < n; i++) {
        const char *name = names[i];
        if (c->f == LB_WHITEOUT_FILES && strcmp(name, WH_OPAQUE) == 0)
            continue; /* counted with its directory (dir_is_opaque) */
        if (c->f == LB_WHITEOUT_FILES && lb_str_has_prefix(name, WH_PREFIX)) {
            record_whiteout(c, dir, name + strlen(WH_PREFIX));
            continue;
        }
        struct stat st;
        if (fstatat(topdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue;
            return lb_error_set(err, errno, "cannot stat '/%s%s%s'", dir, *dir ? "/" : "", name);
        }
        if (c->f == LB_WHITEOUT_OVERLAY && is_overlay_whiteout(&st)) {
            record_whiteout(c, dir, name);
            continue;
        }
        c->path.len = mark;
        if (c->path.buf)
            c->path.buf[mark] = '\0';
        if (mark > 0)
            lb_strbuf_addc(&c->path, '/');
        lb_strbuf_adds(&c->path, name);

        struct stat below;
        struct lb_error *e = NULL;
        int *child = NULL;
        size_t nchild = 0;
        bool is_dir = S_ISDIR(st.st_mode);
        enum lb_union_kind kind = union_step(lower, nlower, c->f, name, &below,
                                             is_dir ? &child : NULL, is_dir ? &nchild : NULL, &e);
        if (e != NULL) {
            *err = e;
            return lb_error_wrap(err, "comparing '/%s' with the layers below", c->path.buf);
        }
        if (!is_dir) {
            if (kind == LB_UNION_ABSENT)
                c->out->added++;
            else
                c->out->changed++;
            continue;
        }
        if (kind == LB_UNION_SYMLINK) {
            close_fds(child, nchild);
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 "directory '%s' would write through symlink '%s' of a lower layer",
                                 c->path.buf, c->path.buf);
        }
        int sub = openat(topdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            int saved = errno;
            close_fds(child, nchild);
            return lb_error_set(err, saved, "cannot open directory '/%s'", c->path.buf);
        }
        bool opaque = dir_is_opaque(sub, c->f);
        if (opaque)
            c->out->opaques++;
        if (kind == LB_UNION_ABSENT)
            c->out->added++;
        else if (kind == LB_UNION_OTHER)
            c->out->changed++; /* a file replaced by a directory */
        else if (!opaque && dir_meta_differs(&st, &below))
            c->out->changed++;
        int rc = cmp_dir(c, sub, child, nchild, err);
        close(sub);
        close_fds(child, nchild);
        if (rc < 0)
            return -1;
    }
    c->path.len = mark;
    if (c->path.buf)
        c->path.buf[mark] = '\0';
    return 0;
}

int lb_union_compare(int top, const int *lower, size_t n, enum lb_whiteout_format f,
                     struct lb_union_diff *out, struct lb_error **err)
{
    memset(out, 0, sizeof(*out));
    struct cmp_ctx c = {.f = f, .out = out, .path = LB_STRBUF_INIT};
    if (dir_is_opaque(top, f))
        out->opaques++;
    int rc = cmp_dir(&c, top, lower, n, err);
    lb_strbuf_release(&c.path);
    if (rc < 0) {
        lb_strv_free(out->whiteouts);
        memset(out, 0, sizeof(*out));
        return -1;
    }
    return 0;
}
