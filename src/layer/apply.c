/* apply.c — applying one OCI layer changeset (a tar stream) into a directory, safely.
 *
 * The concept: a layer is a list of changes, not an archive to "extract". Each tar entry says
 * "this path now looks like this" (a file, a directory, a link...) or, with a whiteout name,
 * "this path is gone" / "this directory's lower contents are hidden". Applying it means:
 *   1. clean the entry's path as a string (safepath.c: no '/' start, no '..');
 *   2. open its parent directory inside the root without following any symlink, creating
 *      missing parents and replacing a non-directory parent by a directory;
 *   3. remove what is at the name (never truncate: another hard link to that inode, maybe
 *      outside the layer, keeps its content), then create the new thing with *at() calls on the
 *      parent's fd and the base name only;
 *   4. set owner (privileged only), mode (after chown, which clears set-id bits), xattrs, times.
 * A directory's mode and times are set at the very end, deepest first: writing its contents
 * changes its mtime, and a read-only directory could not be filled.
 * Sits on: safepath.c, libarchive (reading), core. Used by: unpack.c.
 *
 * Interface: lb_layer_apply
 */
#include "layer/apply.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "core/util.h"
#include "layer/safepath.h"

#define WH_PREFIX      ".wh."
#define WH_META_PREFIX ".wh..wh."
#define WH_OPAQUE      ".wh..wh..opq"
#define OVERLAY_OPAQUE "trusted.overlay.opaque"

/* A directory whose mode and times are set once everything is written. */
struct dirfix {
    char *path; /* clean path, "" = the root */
    size_t depth;
    size_t seq;
    mode_t mode;
    struct timespec ts[2];
    bool dead; /* removed (or replaced) by a later entry */
};

struct applier {
    struct archive *tar;
    int rootfd;
    const struct lb_apply_opts *opts;
    struct lb_apply_stats *stats;
    struct dirfix *fix;
    size_t nfix, afix;
};

static int reject(struct lb_error **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int reject(struct lb_error **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_strbuf_ struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_strbuf_vaddf(&sb, fmt, ap);
    va_end(ap);
    return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s", sb.buf);
}

/* A name from a tar, fit for a one-line message: control bytes as \xNN, at most 200 bytes. */
static char *printable(const char *s)
{
    struct lb_strbuf sb = LB_STRBUF_INIT;
    size_t i = 0;
    for (; s[i] && i < 200; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            lb_strbuf_addf(&sb, "\\x%02x", c);
        else
            lb_strbuf_addc(&sb, (char)c);
    }
    if (s[i])
        lb_strbuf_adds(&sb, "...");
    return lb_strbuf_detach(&sb);
}

static int tar_error(struct applier *ap, struct lb_error **err)
{
    const char *msg = archive_error_string(ap->tar);
    /* no errno: libarchive's codes (EILSEQ for a bad header...) would only mislead */
    return lb_error_setk(err, LB_EKIND_INVALID, 0, "cannot read the tar: %s",
                         msg ? msg : "unknown error");
}

static const char *entry_name(const char *n, const char *n_utf8)
{
    return n ? n : n_utf8;
}

/* --- directory fix-ups ------------------------------------------------------------------- */

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
    ts[1].tv_sec = archive_entry_mtime_is_set(e) ? archive_entry_mtime(e) : 0;
    ts[1].tv_nsec = archive_entry_mtime_is_set(e) ? archive_entry_mtime_nsec(e) : 0;
    ts[0] = ts[1];
    /* docker: the access time, unless it is before the modification time */
    if (archive_entry_atime_is_set(e)) {
        struct timespec a = {archive_entry_atime(e), archive_entry_atime_nsec(e)};
        if (a.tv_sec > ts[1].tv_sec || (a.tv_sec == ts[1].tv_sec && a.tv_nsec > ts[1].tv_nsec))
            ts[0] = a;
    }
}

static void fix_add(struct applier *ap, const char *clean, struct archive_entry *e)
{
    if (ap->nfix == ap->afix) {
        ap->afix = ap->afix ? 2 * ap->afix : 64;
        ap->fix = lb_xrealloc(ap->fix, ap->afix * sizeof(*ap->fix));
    }
    struct dirfix *f = &ap->fix[ap->nfix];
    memset(f, 0, sizeof(*f));
    f->path = lb_xstrdup(clean);
    for (const char *c = clean; *c; c++)
        if (*c == '/')
            f->depth++;
    if (*clean)
        f->depth++;
    f->seq = ap->nfix++;
    f->mode = archive_entry_perm(e) & 07777;
    entry_times(e, f->ts);
}

/* `clean` was removed: forget the fix-ups of it and of everything below it. */
static void fix_forget(struct applier *ap, const char *clean)
{
    size_t n = strlen(clean);
    for (size_t i = 0; i < ap->nfix; i++) {
        const char *p = ap->fix[i].path;
        if (strncmp(p, clean, n) == 0 && (p[n] == '\0' || p[n] == '/'))
            ap->fix[i].dead = true;
    }
}

static int fix_cmp(const void *a, const void *b)
{
    const struct dirfix *x = a, *y = b;
    if (x->depth != y->depth)
        return x->depth > y->depth ? -1 : 1;
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

static int fix_apply(struct applier *ap, struct lb_error **err)
{
    if (ap->nfix > 1)
        qsort(ap->fix, ap->nfix, sizeof(*ap->fix), fix_cmp);
    for (size_t i = 0; i < ap->nfix; i++) {
        struct dirfix *f = &ap->fix[i];
        if (f->dead)
            continue;
        _cleanup_close_ int dfd = -1;
        if (f->path[0] == '\0') {
            dfd = openat(ap->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        } else {
            struct lb_error *e = NULL;
            const char *base = NULL;
            _cleanup_close_ int pfd =
                lb_safepath_open_parent(ap->rootfd, f->path, false, &base, &e);
            if (pfd < 0) {
                lb_error_free(e); /* a later entry took the path away: nothing to fix */
                continue;
            }
            dfd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (dfd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
                continue;
        }
        if (dfd < 0)
            return lb_error_set(err, errno, "cannot open directory '%s'", f->path);
        if (fchmod(dfd, f->mode) < 0)
            return lb_error_set(err, errno, "cannot chmod directory '%s'", f->path);
        if (futimens(dfd, f->ts) < 0)
            return lb_error_set(err, errno, "cannot set the times of directory '%s'", f->path);
    }
    return 0;
}

static void fix_release(struct applier *ap)
{
    for (size_t i = 0; i < ap->nfix; i++)
        free(ap->fix[i].path);
    free(ap->fix);
    ap->fix = NULL;
    ap->nfix = ap->afix = 0;
}

/* --- metadata ---------------------------------------------------------------------------- */

/* fd >= 0: the object itself (file or directory); else pfd/base through /proc, without
 * following a symlink (symlinks, FIFOs and devices cannot be opened for fsetxattr). */
static int set_xattrs(struct applier *ap, struct archive_entry *e, int fd, int pfd,
                      const char *base, struct lb_error **err)
{
    if (archive_entry_xattr_reset(e) == 0)
        return 0;
    _cleanup_free_ char *proc = fd < 0 ? lb_xasprintf("/proc/self/fd/%d/%s", pfd, base) : NULL;
    const char *name;
    const void *value;
    size_t size;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
        if (name == NULL || *name == '\0')
            return reject(err, "an xattr without a name");
        if (lb_str_has_prefix(name, "trusted.overlay.") ||
            lb_str_has_prefix(name, "user.overlay.")) {
            _cleanup_free_ char *q = printable(name);
            return reject(err, "xattr '%s' is reserved for the storage driver (use whiteouts)", q);
        }
        int r =
            fd >= 0 ? fsetxattr(fd, name, value, size, 0) : lsetxattr(proc, name, value, size, 0);
        if (r == 0)
            continue;
        int saved = errno;
        bool system_ns =
            lb_str_has_prefix(name, "trusted.") || lb_str_has_prefix(name, "security.");
        if (!ap->opts->privileged && system_ns &&
            (saved == EPERM || saved == ENOTSUP || saved == EOPNOTSUPP))
            continue;
        _cleanup_free_ char *q = printable(name);
        return lb_error_set(err, saved, "cannot set xattr '%s'", q);
    }
    return 0;
}

/* Owner (privileged), mode, xattrs and times of a regular file being written. */
static int finish_file(struct applier *ap, struct archive_entry *e, int fd, struct lb_error **err)
{
    if (ap->opts->privileged &&
        fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0)
        return lb_error_set(err, errno, "cannot chown");
    /* after chown: chown clears the set-user-ID and set-group-ID bits */
    if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
        return lb_error_set(err, errno, "cannot chmod");
    if (set_xattrs(ap, e, fd, -1, NULL, err) < 0)
        return -1;
    struct timespec ts[2];
    entry_times(e, ts);
    if (futimens(fd, ts) < 0)
        return lb_error_set(err, errno, "cannot set the times");
    return 0;
}

/* The same for something we cannot open (symlink, FIFO, device): by name under pfd. */
static int finish_node(struct applier *ap, struct archive_entry *e, int pfd, const char *base,
                       bool chmod_too, struct lb_error **err)
{
    if (ap->opts->privileged && fchownat(pfd, base, (uid_t)archive_entry_uid(e),
                                         (gid_t)archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
        return lb_error_set(err, errno, "cannot chown");
    /* base is the FIFO or device we just made in a directory nobody else writes */
    if (chmod_too && fchmodat(pfd, base, archive_entry_perm(e) & 07777, 0) < 0)
        return lb_error_set(err, errno, "cannot chmod");
    if (set_xattrs(ap, e, -1, pfd, base, err) < 0)
        return -1;
    struct timespec ts[2];
    entry_times(e, ts);
    if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return lb_error_set(err, errno, "cannot set the times");
    return 0;
}

/* --- creating things --------------------------------------------------------------------- */

/* Make room for `clean` (= pfd/base): unlink what is there, or remove a directory tree.
 * With keep_dir, an existing directory stays (*is_dir = true): directories merge. */
static int make_room(struct applier *ap, int pfd, const char *base, const char *clean,
                     bool keep_dir, bool *is_dir, struct lb_error **err)
{
    if (is_dir)
        *is_dir = false;
    struct stat st;
    if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        return lb_error_set(err, errno, "cannot stat '%s'", clean);
    }
    if (S_ISDIR(st.st_mode)) {
        if (keep_dir) {
            *is_dir = true;
            return 0;
        }
        fix_forget(ap, clean);
        return lb_rm_tree_at(pfd, base, err);
    }
    if (unlinkat(pfd, base, 0) < 0 && errno != ENOENT)
        return lb_error_set(err, errno, "cannot remove '%s'", clean);
    return 0;
}

static int write_data(struct applier *ap, struct archive_entry *e, int fd, struct lb_error **err)
{
    int64_t size = archive_entry_size(e);
    int64_t end = 0;
    for (;;) {
        const void *buf = NULL;
        size_t len = 0;
        la_int64_t off = 0;
        int r = archive_read_data_block(ap->tar, &buf, &len, &off);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN)
            return tar_error(ap, err);
        if (len == 0)
            continue;
        if (off < 0 || (int64_t)len > INT64_MAX - off || off + (int64_t)len > size)
            return reject(err, "data beyond the entry's size (%" PRId64 " bytes)", size);
        const char *p = buf;
        size_t left = len;
        while (left > 0) {
            ssize_t w = pwrite(fd, p, left, off);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                return lb_error_set(err, errno, "cannot write");
            }
            p += w;
            off += w;
            left -= (size_t)w;
        }
        if (off > end)
            end = off;
    }
    /* a sparse file that ends in a hole */
    if (end < size && ftruncate(fd, size) < 0)
        return lb_error_set(err, errno, "cannot extend to %" PRId64 " bytes", size);
    return 0;
}

static int apply_file(struct applier *ap, struct archive_entry *e, const char *clean,
                      struct lb_error **err)
{
    const char *base = NULL;
    _cleanup_close_ int pfd = lb_safepath_open_parent(ap->rootfd, clean, true, &base, err);
    if (pfd < 0 || make_room(ap, pfd, base, clean, false, NULL, err) < 0)
        return -1;
    _cleanup_close_ int fd =
        openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return lb_error_set(err, errno, "cannot create");
    if (write_data(ap, e, fd, err) < 0 || finish_file(ap, e, fd, err) < 0)
        return -1;
    ap->stats->files++;
    ap->stats->regular_bytes += (uint64_t)archive_entry_size(e);
    return 0;
}

static int apply_dir(struct applier *ap, struct archive_entry *e, const char *clean,
                     struct lb_error **err)
{
    const char *base = NULL;
    bool is_dir = false;
    _cleanup_close_ int pfd = lb_safepath_open_parent(ap->rootfd, clean, true, &base, err);
    if (pfd < 0 || make_room(ap, pfd, base, clean, true, &is_dir, err) < 0)
        return -1;
    /* owner-only until the fix-up sets the real mode: a 0555 directory must still be filled */
    if (!is_dir && mkdirat(pfd, base, 0700) < 0)
        return lb_error_set(err, errno, "cannot create directory");
    _cleanup_close_ int dfd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return lb_error_set(err, errno, "cannot open directory");
    if (ap->opts->privileged &&
        fchown(dfd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0)
        return lb_error_set(err, errno, "cannot chown");
    if (set_xattrs(ap, e, dfd, -1, NULL, err) < 0)
        return -1;
    fix_add(ap, clean, e);
    ap->stats->dirs++;
    return 0;
}

static int apply_root(struct applier *ap, struct archive_entry *e, bool hardlink,
                      struct lb_error **err)
{
    if (hardlink || archive_entry_filetype(e) != AE_IFDIR)
        return reject(err, "the root entry ('.') is not a directory");
    if (ap->opts->privileged &&
        fchown(ap->rootfd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0)
        return lb_error_set(err, errno, "cannot chown the root directory");
    if (set_xattrs(ap, e, ap->rootfd, -1, NULL, err) < 0)
        return -1;
    fix_add(ap, "", e);
    ap->stats->dirs++;
    return 0;
}

static int apply_symlink(struct applier *ap, struct archive_entry *e, const char *clean,
                         struct lb_error **err)
{
    const char *target = entry_name(archive_entry_symlink(e), archive_entry_symlink_utf8(e));
    if (target == NULL || *target == '\0')
        return reject(err, "symlink with an empty target");
    if (!lb_safepath_symlink_stays_inside(clean, target)) {
        _cleanup_free_ char *q = printable(target);
        return reject(err, "symlink target '%s' climbs above the layer root ('..')", q);
    }
    const char *base = NULL;
    _cleanup_close_ int pfd = lb_safepath_open_parent(ap->rootfd, clean, true, &base, err);
    if (pfd < 0 || make_room(ap, pfd, base, clean, false, NULL, err) < 0)
        return -1;
    if (symlinkat(target, pfd, base) < 0)
        return lb_error_set(err, errno, "cannot create symlink");
    if (finish_node(ap, e, pfd, base, false, err) < 0)
        return -1;
    ap->stats->symlinks++;
    return 0;
}

static int apply_hardlink(struct applier *ap, const char *clean, const char *link,
                          struct lb_error **err)
{
    _cleanup_free_ char *q = printable(link);
    _cleanup_free_ char *target = NULL;
    if (lb_safepath_clean(link, &target, err) < 0)
        return lb_error_wrap(err, "hardlink target '%s'", q);
    if (target[0] == '\0')
        return reject(err, "hardlink to the root directory");
    if (strcmp(target, clean) == 0)
        return reject(err, "hardlink to itself");
    const char *tbase = NULL;
    _cleanup_close_ int tpfd = lb_safepath_open_parent(ap->rootfd, target, false, &tbase, err);
    if (tpfd < 0)
        return lb_error_wrap(err, "hardlink target '%s'", q);
    struct stat st;
    if (fstatat(tpfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return reject(err, "hardlink target '%s' does not exist (in this layer)", q);
        return lb_error_set(err, errno, "cannot stat hardlink target '%s'", q);
    }
    if (S_ISDIR(st.st_mode))
        return reject(err, "hardlink target '%s' is a directory", q);
    const char *base = NULL;
    _cleanup_close_ int pfd = lb_safepath_open_parent(ap->rootfd, clean, true, &base, err);
    if (pfd < 0 || make_room(ap, pfd, base, clean, false, NULL, err) < 0)
        return -1;
    /* flags 0: a symlink target is linked itself, never followed */
    if (linkat(tpfd, tbase, pfd, base, 0) < 0)
        return lb_error_set(err, errno, "cannot link to '%s'", q);
    ap->stats->hardlinks++;
    return 0;
}

static int apply_node(struct applier *ap, struct archive_entry *e, const char *clean, mode_t type,
                      struct lb_error **err)
{
    bool device = type == AE_IFCHR || type == AE_IFBLK;
    const char *base = NULL;
    _cleanup_close_ int pfd = lb_safepath_open_parent(ap->rootfd, clean, true, &base, err);
    if (pfd < 0)
        return -1;
    if (device && !ap->opts->privileged) {
        ap->stats->skipped_devices++;
        return 0;
    }
    if (make_room(ap, pfd, base, clean, false, NULL, err) < 0)
        return -1;
    dev_t dev = device ? makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e)) : 0;
    if (mknodat(pfd, base, type | (archive_entry_perm(e) & 0777), dev) < 0)
        return lb_error_set(err, errno, "cannot create %s", device ? "device node" : "FIFO");
    if (finish_node(ap, e, pfd, base, true, err) < 0)
        return -1;
    ap->stats->others++;
    return 0;
}

/* An empty regular marker file (the FILES whiteout format). */
static int make_marker(struct applier *ap, int pfd, const char *base, const char *clean,
                       struct lb_error **err)
{
    if (make_room(ap, pfd, base, clean, false, NULL, err) < 0)
        return -1;
    _cleanup_close_ int fd =
        openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 || fchmod(fd, 0644) < 0)
        return lb_error_set(err, errno, "cannot create whiteout marker");
    return 0;
}

static int apply_whiteout(struct applier *ap, const char *clean, const char *base,
                          struct lb_error **err)
{
    bool opaque = strcmp(base, WH_OPAQUE) == 0;
    const char *name = base + strlen(WH_PREFIX);
    if (!opaque) {
        if (lb_str_has_prefix(base, WH_META_PREFIX))
            return reject(err, "reserved whiteout name (only '%s' is defined)", WH_OPAQUE);
        if (*name == '\0')
            return reject(err, "whiteout '.wh.' names no file");
        if (strcmp(name, ".") == 0)
            return reject(err, "whiteout '.wh..' would delete its own directory ('.')");
        if (strcmp(name, "..") == 0)
            return reject(err, "whiteout '.wh...' leaves its directory ('..')");
    }
    const char *pbase = NULL;
    _cleanup_close_ int pfd = lb_safepath_open_parent(ap->rootfd, clean, true, &pbase, err);
    if (pfd < 0)
        return -1;
    if (ap->opts->whiteouts == LB_WHITEOUT_FILES) {
        if (make_marker(ap, pfd, pbase, clean, err) < 0)
            return -1;
    } else if (opaque) {
        if (fsetxattr(pfd, OVERLAY_OPAQUE, "y", 1, 0) < 0)
            return lb_error_set(err, errno, "cannot mark the directory opaque (xattr '%s')",
                                OVERLAY_OPAQUE);
    } else {
        /* The whiteout takes NAME's place in this layer (and a later NAME takes its place). */
        size_t dlen = (size_t)(base - clean);
        _cleanup_free_ char *target = lb_xasprintf("%.*s%s", (int)dlen, clean, name);
        if (make_room(ap, pfd, name, target, false, NULL, err) < 0)
            return -1;
        if (mknodat(pfd, name, S_IFCHR | 0, makedev(0, 0)) < 0)
            return lb_error_set(err, errno, "cannot create the whiteout device for '%s'", target);
    }
    if (opaque)
        ap->stats->opaques++;
    else
        ap->stats->whiteouts++;
    return 0;
}

/* --- one entry --------------------------------------------------------------------------- */

static int apply_entry(struct applier *ap, struct archive_entry *e, const char *name,
                       struct lb_error **err)
{
    _cleanup_free_ char *clean = NULL;
    if (lb_safepath_clean(name, &clean, err) < 0)
        return -1;
    uint64_t max = ap->opts->max_entry_size;
    if (archive_entry_size_is_set(e) && archive_entry_size(e) < 0)
        return reject(err, "negative size");
    if (max && archive_entry_size_is_set(e) && (uint64_t)archive_entry_size(e) > max)
        return reject(err, "claims %" PRId64 " bytes, more than the limit of %" PRIu64 " bytes",
                      (int64_t)archive_entry_size(e), max);
    const char *link = entry_name(archive_entry_hardlink(e), archive_entry_hardlink_utf8(e));
    if (clean[0] == '\0')
        return apply_root(ap, e, link != NULL, err);
    const char *slash = strrchr(clean, '/');
    const char *base = slash ? slash + 1 : clean;
    /* A whiteout is a name, not a directory: nothing may live below one. */
    for (const char *c = clean; c < base; c = strchr(c, '/') + 1)
        if (lb_str_has_prefix(c, WH_PREFIX)) {
            size_t n = (size_t)(strchr(c, '/') - c);
            return reject(err, "'%.*s' is a whiteout name and cannot be a directory", (int)n, c);
        }
    if (lb_str_has_prefix(base, WH_PREFIX))
        return apply_whiteout(ap, clean, base, err);
    if (link)
        return apply_hardlink(ap, clean, link, err);
    mode_t type = archive_entry_filetype(e);
    switch (type) {
    case AE_IFREG:
        return apply_file(ap, e, clean, err);
    case AE_IFDIR:
        return apply_dir(ap, e, clean, err);
    case AE_IFLNK:
        return apply_symlink(ap, e, clean, err);
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
        return apply_node(ap, e, clean, type, err);
    default:
        return reject(err, "unsupported entry type (mode 0%o)", (unsigned)type);
    }
}

int lb_layer_apply(struct archive *tar, int dirfd, const struct lb_apply_opts *opts,
                   struct lb_apply_stats *stats, struct lb_error **err)
{
    struct lb_apply_stats local;
    if (stats == NULL)
        stats = &local;
    memset(stats, 0, sizeof(*stats));
    struct applier ap = {.tar = tar, .rootfd = dirfd, .opts = opts, .stats = stats};
    const char *what = opts->what ? opts->what : "layer";
    const char *sep = opts->what ? ": entry" : " entry";
    int rc = -1;
    struct archive_entry *e = NULL;
    int r;
    while ((r = archive_read_next_header(tar, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        stats->entries++;
        const char *name = entry_name(archive_entry_pathname(e), archive_entry_pathname_utf8(e));
        if (name == NULL) {
            lb_error_setk(err, LB_EKIND_INVALID, 0, "%s: entry #%" PRIu64 " has no path", what,
                          stats->entries);
            goto out;
        }
        if (apply_entry(&ap, e, name, err) < 0) {
            _cleanup_free_ char *q = printable(name);
            lb_error_wrap(err, "%s%s '%s'", what, sep, q);
            goto out;
        }
    }
    if (r != ARCHIVE_EOF) {
        tar_error(&ap, err);
        lb_error_wrap(err, "%s", what);
        goto out;
    }
    if (fix_apply(&ap, err) < 0) {
        lb_error_wrap(err, "%s", what);
        goto out;
    }
    rc = 0;
out:
    fix_release(&ap);
    return rc;
}
