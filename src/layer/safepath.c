/* safepath.c — resolving paths inside a root directory: refusing symlinks, or confining them.
 *
 * The concept: a path read from a tar is data, not a place. It is first cleaned as a string
 * (no absolute path, no '..'), then opened one directory at a time relative to the root's fd,
 * refusing every symlink and every mount point on the way. With openat2(2) the kernel does the
 * whole walk in one call (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_XDEV); without it (ENOSYS, or LB_SAFEPATH_NO_OPENAT2=1 for tests) the same rules
 * are applied by hand, component by component with O_NOFOLLOW. The hand walk is also what runs
 * when openat2 fails, because it knows which component was wrong (and can create what is missing),
 * so error messages say "parent 'a/b' is a symlink" rather than "ELOOP".
 * The second rule, for a container's own paths (docker cp): symlinks are followed, but confined
 * to the root — "/" and ".." stop there, as chroot would — with openat2 RESOLVE_IN_ROOT, or by
 * hand with a stack of directory fds, so ".." pops to an fd we hold, never to a path that could
 * have moved. Either way a symlink the container swaps in meanwhile cannot lead out of the root.
 * Sits on: core (errors, strings). Used by: apply.c (refusing), container/cp.c (confining).
 *
 * Interface: lb_safepath_clean, lb_safepath_open_parent, lb_safepath_open,
 *            lb_safepath_symlink_stays_inside, lb_safepath_open_dir_in_root
 */
#include "layer/safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"

int lb_safepath_clean(const char *path, char **out, struct lb_error **err)
{
    *out = NULL;
    if (path[0] == '/')
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "path is absolute (it would leave the layer)");
    _cleanup_strbuf_ struct lb_strbuf sb = LB_STRBUF_INIT;
    for (const char *p = path; *p;) {
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return lb_error_setk(err, LB_EKIND_INVALID, 0, "path leaves the layer ('..')");
        if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (sb.len > 0)
                lb_strbuf_addc(&sb, '/');
            lb_strbuf_add(&sb, p, n);
        }
        p = *end ? end + 1 : end;
    }
    *out = lb_strbuf_detach(&sb);
    return 0;
}

/* Set once the kernel said ENOSYS: every later call walks by hand. */
static bool openat2_missing;

static bool openat2_wanted(void)
{
    if (openat2_missing)
        return false;
    const char *e = getenv("LB_SAFEPATH_NO_OPENAT2");
    return e == NULL || *e == '\0' || strcmp(e, "0") == 0;
}

/* The kernel's walk: fd, or -1 with errno. */
static int open_beneath(int rootfd, const char *rel)
{
    struct open_how how = {
        .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
    };
    long fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
    if (fd < 0 && errno == ENOSYS)
        openat2_missing = true;
    return (int)fd;
}

/* One step of the hand walk: open directory `name` under fd (the path so far is
 * clean[0..end)), creating it or replacing a non-directory by it when `create`. */
static int step(int fd, const char *name, const char *clean, size_t end, dev_t dev, bool create,
                struct lb_error **err)
{
    for (int tries = 0; tries < 8; tries++) {
        bool made = false;
        int n = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (n >= 0) {
            struct stat st;
            if (fstat(n, &st) < 0) {
                int e = errno;
                close(n);
                return lb_error_set(err, e, "cannot stat '%.*s'", (int)end, clean);
            }
            if (st.st_dev != dev) {
                close(n);
                return lb_error_setk(err, LB_EKIND_INVALID, EXDEV,
                                     "parent '%.*s' is another file system (a mount point)",
                                     (int)end, clean);
            }
            return n;
        }
        int open_errno = errno;
        struct stat st;
        if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT)
                return lb_error_set(err, errno, "cannot stat '%.*s'", (int)end, clean);
            if (!create)
                return lb_error_setk(err, LB_EKIND_INVALID, 0, "parent '%.*s' does not exist",
                                     (int)end, clean);
        } else if (S_ISLNK(st.st_mode)) {
            return lb_error_setk(err, LB_EKIND_INVALID, 0, "parent '%.*s' is a symlink", (int)end,
                                 clean);
        } else if (S_ISDIR(st.st_mode)) {
            return lb_error_set(err, open_errno, "cannot open directory '%.*s'", (int)end, clean);
        } else if (!create) {
            return lb_error_setk(err, LB_EKIND_INVALID, 0, "parent '%.*s' is not a directory",
                                 (int)end, clean);
        } else if (unlinkat(fd, name, 0) < 0 && errno != ENOENT) {
            return lb_error_set(err, errno, "cannot remove '%.*s'", (int)end, clean);
        }
        if (mkdirat(fd, name, 0755) < 0) {
            if (errno != EEXIST)
                return lb_error_set(err, errno, "cannot create directory '%.*s'", (int)end, clean);
        } else {
            made = true;
        }
        if (made) {
            /* 0755 whatever the umask, as docker makes implied parents. */
            n = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (n >= 0 && fchmod(n, 0755) < 0) {
                int e = errno;
                close(n);
                return lb_error_set(err, e, "cannot chmod '%.*s'", (int)end, clean);
            }
            if (n >= 0)
                close(n);
        }
        /* loop: open what is there now */
    }
    return lb_error_set(err, EAGAIN, "'%.*s' keeps changing while it is opened", (int)end, clean);
}

/* The hand walk over clean[0..plen). */
static int walk(int rootfd, const char *clean, size_t plen, bool create, struct lb_error **err)
{
    struct stat rst;
    if (fstat(rootfd, &rst) < 0)
        return lb_error_set(err, errno, "cannot stat the root directory");
    _cleanup_close_ int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return lb_error_set(err, errno, "cannot open the root directory");
    const char *stop = clean + plen;
    for (const char *p = clean; p < stop;) {
        const char *end = memchr(p, '/', (size_t)(stop - p));
        if (end == NULL)
            end = stop;
        size_t n = (size_t)(end - p);
        char name[NAME_MAX + 1];
        if (n == 0 || n > NAME_MAX)
            return lb_error_setk(err, LB_EKIND_INVALID, n ? ENAMETOOLONG : EINVAL,
                                 "bad path component in '%.*s'", (int)plen, clean);
        memcpy(name, p, n);
        name[n] = '\0';
        int next = step(fd, name, clean, (size_t)(end - clean), rst.st_dev, create, err);
        if (next < 0)
            return -1;
        close(fd);
        fd = next;
        p = end + 1;
    }
    return lb_steal_fd(&fd);
}

int lb_safepath_open_parent(int rootfd, const char *clean, bool create, const char **base,
                            struct lb_error **err)
{
    *base = NULL;
    const char *slash = strrchr(clean, '/');
    const char *b = slash ? slash + 1 : clean;
    if (*b == '\0' || clean[0] == '/')
        return lb_error_setk(err, LB_EKIND_INVALID, EINVAL,
                             "'%s' is not a clean path below the root", clean);
    *base = b;
    if (slash == NULL) {
        int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return lb_error_set(err, errno, "cannot open the root directory");
        return fd;
    }
    size_t plen = (size_t)(slash - clean);
    if (openat2_wanted()) {
        _cleanup_free_ char *rel = lb_xstrndup(clean, plen);
        int fd = open_beneath(rootfd, rel);
        if (fd >= 0)
            return fd;
        /* Anything else (missing, symlink, file, mount point): the hand walk says which
         * component and creates what may be created. */
    }
    return walk(rootfd, clean, plen, create, err);
}

int lb_safepath_open(int rootfd, const char *clean, int flags, struct lb_error **err)
{
    if (clean[0] == '\0') {
        int fd = openat(rootfd, ".", flags | O_CLOEXEC);
        if (fd < 0)
            return lb_error_set(err, errno, "cannot open the root directory");
        return fd;
    }
    const char *base = NULL;
    _cleanup_close_ int pfd = lb_safepath_open_parent(rootfd, clean, false, &base, err);
    if (pfd < 0)
        return -1;
    int fd = openat(pfd, base, flags | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno == ELOOP)
            return lb_error_setk(err, LB_EKIND_INVALID, 0, "'%s' is a symlink", clean);
        return lb_error_set(err, errno, "cannot open '%s'", clean);
    }
    return fd;
}

bool lb_safepath_symlink_stays_inside(const char *clean, const char *target)
{
    if (target[0] == '/')
        return true;
    /* The link lives in dirname(clean): one level per '/' in clean. */
    long depth = 0;
    for (const char *c = clean; *c; c++)
        if (*c == '/')
            depth++;
    for (const char *p = target; *p;) {
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (--depth < 0)
                return false;
        } else if (n > 0 && !(n == 1 && p[0] == '.')) {
            depth++;
        }
        p = *end ? end + 1 : end;
    }
    return true;
}

/* --- inside a root, following symlinks: RESOLVE_IN_ROOT ------------------------------------ */

/* The kernel's symlink limit (MAXSYMLINKS), which the hand walk copies. */
#define MAX_LINKS 40

/* The walk the kernel does for RESOLVE_IN_ROOT, by hand: every directory passed is kept open in
 * a stack, so ".." pops to an fd we hold (never to a path that could have moved), a symlink's
 * target is spliced into what is left to walk, and an absolute one restarts from the root.
 * Returns an O_RDONLY|O_DIRECTORY fd, or -1 with errno. */
static int walk_in_root(int rootfd, const char *rel)
{
    struct stat rst;
    if (fstat(rootfd, &rst) < 0)
        return -1;
    int *stack = lb_xmalloc(sizeof(int));
    size_t depth = 0; /* stack[0] is the root */
    stack[0] = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    int links = 0, rc = -1, saved = 0;
    _cleanup_free_ char *todo = lb_xstrdup(rel);
    if (stack[0] < 0) {
        free(stack);
        return -1;
    }
    size_t pos = 0;
    while (todo[pos]) {
        if (todo[pos] == '/') {
            pos++;
            continue;
        }
        size_t n = strcspn(todo + pos, "/");
        char name[NAME_MAX + 1];
        if (n > NAME_MAX) {
            saved = ENAMETOOLONG;
            goto out;
        }
        memcpy(name, todo + pos, n);
        name[n] = '\0';
        pos += n;
        if (strcmp(name, ".") == 0)
            continue;
        if (strcmp(name, "..") == 0) {
            if (depth > 0)
                close(stack[depth--]);
            continue;
        }
        int fd = openat(stack[depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
            saved = errno;
            if (fd >= 0)
                close(fd);
            goto out;
        }
        if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t len = readlinkat(fd, "", target, sizeof(target) - 1);
            saved = errno;
            close(fd);
            if (len < 0)
                goto out;
            if (++links > MAX_LINKS) {
                saved = ELOOP;
                goto out;
            }
            target[len] = '\0';
            char *next = lb_xasprintf("%s/%s", target, todo + pos);
            free(todo);
            todo = next;
            pos = 0;
            if (target[0] == '/')
                while (depth > 0)
                    close(stack[depth--]);
            continue;
        }
        if (!S_ISDIR(st.st_mode) || st.st_dev != rst.st_dev) {
            close(fd);
            saved = S_ISDIR(st.st_mode) ? EXDEV : ENOTDIR;
            goto out;
        }
        stack = lb_xrealloc(stack, (depth + 2) * sizeof(int));
        stack[++depth] = fd;
    }
    rc = openat(stack[depth], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    saved = errno;
out:
    for (size_t i = 0; i <= depth; i++)
        close(stack[i]);
    free(stack);
    errno = saved;
    return rc;
}

/* fd, or -1 with errno. */
static int open_dir_in_root(int rootfd, const char *path)
{
    const char *rel = path + strspn(path, "/");
    if (*rel == '\0')
        return openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (openat2_wanted()) {
        struct open_how how = {
            .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
            .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        for (int tries = 0; tries < 16; tries++) {
            long fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
            if (fd >= 0)
                return (int)fd;
            /* EAGAIN: a rename raced the walk (the kernel refuses to guess); try again. */
            if (errno != EAGAIN)
                break;
        }
        if (errno != ENOSYS)
            return -1;
        openat2_missing = true;
    }
    return walk_in_root(rootfd, rel);
}

int lb_safepath_open_dir_in_root(int rootfd, const char *path, struct lb_error **err)
{
    int fd = open_dir_in_root(rootfd, path);
    if (fd < 0)
        return lb_error_set(err, errno, "cannot open the directory '%s' inside the root", path);
    return fd;
}
