/* fs.c — atomic writes, mkdir -p, bounded reads and a safe recursive remove.
 *
 * The concept: a store that is only ever changed by rename() is always consistent. We build
 * every file under a temporary name, fsync it, rename it into place and fsync the directory, so a
 * crash at any instant leaves the old state or the new one (crun status.c, git lockfile.c).
 *
 * Interface: lb_mkdir_p, lb_fsync_dir_at, lb_atomic_write_at, lb_replace_file_at, lb_read_file_at,
 * lb_rm_tree_at, lb_write_all, lb_read_full, lb_path_join, lb_path_clean_abs, lb_path_exists_at,
 *            lb_mkdtemp_at
 */
#include "core/fs.h"
#include "core/cleanup.h"
#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

int lb_mkdir_p(const char *path, mode_t mode, struct lb_error **err)
{
    if (*path == '\0')
        return lb_error_set(err, ENOENT, "cannot create directory ''");
    _cleanup_free_ char *p = lb_xstrdup(path);
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/')
        p[--len] = '\0';
    for (char *s = p + 1;; s++) {
        bool end = (*s == '\0');
        if (*s == '/' || end) {
            char saved = *s;
            *s = '\0';
            if (mkdir(p, mode) < 0 && errno != EEXIST)
                return lb_error_set(err, errno, "cannot create directory '%s'", p);
            struct stat st;
            if (stat(p, &st) < 0)
                return lb_error_set(err, errno, "cannot stat '%s'", p);
            if (!S_ISDIR(st.st_mode))
                return lb_error_set(err, ENOTDIR, "cannot create directory '%s'", p);
            *s = saved;
        }
        if (end)
            break;
    }
    return 0;
}

int lb_fsync_dir_at(int dirfd, const char *path, struct lb_error **err)
{
    _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return lb_error_set(err, errno, "cannot open directory '%s'", path);
    if (fsync(fd) < 0)
        return lb_error_set(err, errno, "cannot sync directory '%s'", path);
    return 0;
}

int lb_write_all(int fd, const void *buf, size_t len, struct lb_error **err)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return lb_error_set(err, errno, "write failed");
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

ssize_t lb_read_full(int fd, void *buf, size_t len, struct lb_error **err)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return lb_error_set(err, errno, "read failed");
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* Split "a/b/c" into its directory part ("a/b", or "." ) and base name ("c"). */
static void split_path(const char *path, char **dir, const char **base)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        *dir = lb_xstrdup(".");
        *base = path;
    } else {
        *dir = slash == path ? lb_xstrdup("/") : lb_xstrndup(path, (size_t)(slash - path));
        *base = slash + 1;
    }
}

int lb_atomic_write_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                       struct lb_error **err)
{
    return lb_replace_file_at(dirfd, name, data, len, mode, LB_DURABLE, err);
}

int lb_replace_file_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                       enum lb_durability durability, struct lb_error **err)
{
    bool durable = durability == LB_DURABLE;
    _cleanup_free_ char *dir = NULL;
    const char *base = NULL;
    split_path(name, &dir, &base);

    unsigned int r = 0;
    if (getrandom(&r, sizeof(r), 0) < 0)
        r = (unsigned int)getpid();
    _cleanup_free_ char *tmp = lb_xasprintf("%s/.tmp-%s-%08x", dir, base, r);

    _cleanup_close_ int fd =
        openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return lb_error_set(err, errno, "cannot create '%s'", tmp);
    if (lb_write_all(fd, data, len, err) < 0 || (durable && fsync(fd) < 0)) {
        int saved = errno;
        unlinkat(dirfd, tmp, 0);
        lb_error_set(err, saved, "cannot write '%s'", name);
        return lb_error_wrap(err, "writing '%s'", name);
    }
    if (fchmod(fd, mode) < 0 || renameat(dirfd, tmp, dirfd, name) < 0) {
        int saved = errno;
        unlinkat(dirfd, tmp, 0);
        return lb_error_set(err, saved, "cannot replace '%s'", name);
    }
    return durable ? lb_fsync_dir_at(dirfd, dir, err) : 0;
}

int lb_read_file_at(int dirfd, const char *path, size_t max_size, char **out, size_t *len,
                    struct lb_error **err)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below. */
    _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return lb_error_set(err, errno, "cannot open '%s'", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return lb_error_set(err, errno, "cannot stat '%s'", path);
    if (!S_ISREG(st.st_mode))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "'%s' is not a regular file", path);
    if ((uint64_t)st.st_size > max_size)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "'%s' is too large (%lld bytes, limit %zu)",
                             path, (long long)st.st_size, max_size);
    /* Files of /proc, /sys and cgroupfs say size 0 but have content: read them to EOF, in
     * growing steps, still bounded by max_size. Ordinary files are read in one step. */
    size_t cap = st.st_size > 0 ? (size_t)st.st_size : 4096, used = 0;
    _cleanup_free_ char *buf = lb_xmalloc(cap + 1);
    for (;;) {
        ssize_t n = lb_read_full(fd, buf + used, cap - used, err);
        if (n < 0)
            return lb_error_wrap(err, "reading '%s'", path);
        used += (size_t)n;
        if (used < cap || st.st_size > 0)
            break; /* EOF (or the stat size reached: a file that grows is read as it was) */
        if (cap > max_size)
            return lb_error_setk(err, LB_EKIND_INVALID, 0, "'%s' is too large (limit %zu bytes)",
                                 path, max_size);
        cap *= 2;
        buf = lb_xrealloc(buf, cap + 1);
    }
    if (used > max_size)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "'%s' is too large (limit %zu bytes)", path,
                             max_size);
    buf[used] = '\0';
    if (len)
        *len = used;
    *out = lb_steal_pointer(&buf);
    return 0;
}

/* Is dirfd/name the root of a mount? A different st_dev catches most mounts; statx's
 * STATX_ATTR_MOUNT_ROOT also catches a bind mount from the same file system. */
static bool is_mount_root(int dirfd, const char *name, dev_t parent_dev, dev_t dev)
{
    if (dev != parent_dev)
        return true;
#ifdef STATX_ATTR_MOUNT_ROOT
    struct statx stx;
    if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, 0, &stx) == 0 &&
        (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
        (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
        return true;
#endif
    return false;
}

/* Remove the contents of the directory open at fd, which lives on device dev. */
static int rm_contents(int fd, dev_t dev, const char *path, struct lb_error **err)
{
    int dupfd = dup(fd);
    if (dupfd < 0)
        return lb_error_set(err, errno, "cannot dup fd for '%s'", path);
    DIR *d = fdopendir(dupfd);
    if (d == NULL) {
        close(dupfd);
        return lb_error_set(err, errno, "cannot read directory '%s'", path);
    }
    int ret = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue;
            ret = lb_error_set(err, errno, "cannot stat '%s/%s'", path, de->d_name);
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            _cleanup_free_ char *sub = lb_path_join(path, de->d_name);
            if (is_mount_root(fd, de->d_name, dev, st.st_dev)) {
                ret = lb_error_set(err, EBUSY, "refusing to remove '%s': it is a mount point", sub);
                break;
            }
            _cleanup_close_ int sfd =
                openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sfd < 0) {
                ret = lb_error_set(err, errno, "cannot open directory '%s'", sub);
                break;
            }
            if (rm_contents(sfd, dev, sub, err) < 0) {
                ret = -1;
                break;
            }
            if (unlinkat(fd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
                ret = lb_error_set(err, errno, "cannot remove directory '%s'", sub);
                break;
            }
        } else if (unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT) {
            ret = lb_error_set(err, errno, "cannot remove '%s/%s'", path, de->d_name);
            break;
        }
    }
    closedir(d);
    return ret;
}

int lb_rm_tree_at(int dirfd, const char *path, struct lb_error **err)
{
    struct stat st;
    if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        return lb_error_set(err, errno, "cannot stat '%s'", path);
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(dirfd, path, 0) < 0 && errno != ENOENT)
            return lb_error_set(err, errno, "cannot remove '%s'", path);
        return 0;
    }
    if (is_mount_root(dirfd, path, st.st_dev, st.st_dev))
        return lb_error_set(err, EBUSY, "refusing to remove '%s': it is a mount point", path);
    _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return lb_error_set(err, errno, "cannot open directory '%s'", path);
    if (rm_contents(fd, st.st_dev, path, err) < 0)
        return -1;
    if (unlinkat(dirfd, path, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return lb_error_set(err, errno, "cannot remove directory '%s'", path);
    return 0;
}

char *lb_path_join(const char *a, const char *b)
{
    size_t la = strlen(a);
    while (*b == '/')
        b++;
    if (la > 0 && a[la - 1] == '/')
        return lb_xasprintf("%s%s", a, b);
    return lb_xasprintf("%s/%s", a, b);
}

char *lb_path_clean_abs(const char *path)
{
    struct lb_strbuf sb = LB_STRBUF_INIT;
    for (const char *p = path; *p;) {
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            char *slash = sb.len ? strrchr(sb.buf, '/') : NULL;
            if (slash) {
                sb.len = (size_t)(slash - sb.buf);
                sb.buf[sb.len] = '\0';
            }
        } else if (n > 0 && !(n == 1 && p[0] == '.')) {
            lb_strbuf_addc(&sb, '/');
            lb_strbuf_add(&sb, p, n);
        }
        p = *end ? end + 1 : end;
    }
    if (sb.len == 0)
        lb_strbuf_addc(&sb, '/');
    return lb_strbuf_detach(&sb);
}

bool lb_path_exists_at(int dirfd, const char *path)
{
    struct stat st;
    return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int lb_mkdtemp_at(int dirfd, const char *parent, const char *prefix, char **out,
                  struct lb_error **err)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned long long r = 0;
        if (getrandom(&r, sizeof(r), 0) < 0)
            r = (unsigned long long)getpid() * 1000003ULL + (unsigned long long)attempt;
        _cleanup_free_ char *p =
            lb_xasprintf("%s/%s%012llx", parent, prefix, r & 0xffffffffffffULL);
        if (mkdirat(dirfd, p, 0700) == 0) {
            *out = lb_steal_pointer(&p);
            return 0;
        }
        if (errno != EEXIST)
            return lb_error_set(err, errno, "cannot create directory '%s'", p);
    }
    return lb_error_set(err, EEXIST, "cannot create a unique directory in '%s'", parent);
}
