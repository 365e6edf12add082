/* rootfs.c — building the container's mount table inside its own mount namespace.
 *
 * Why targets are opened first and mounted through /proc/self/fd/N: a path string is looked up
 * again by mount(2), and an image (or a process in another container sharing a volume) could
 * swap a component for a symlink in between (CVE-2021-30465 in runc). openat2(RESOLVE_IN_ROOT)
 * resolves the target once, inside the rootfs, and the mount lands on exactly what was resolved.
 *
 * Why a bind remount needs the mount's existing flags: MS_REMOUNT replaces the per-mount flags,
 * so "make it read-only" must repeat nosuid/nodev/noexec or it would clear them (and in a user
 * namespace, clearing a locked flag is refused).
 *
 * Why not layer/safepath.h's walk: it refuses to cross mount points (right for unpacking a
 * layer), but here /dev/pts lies on the /dev tmpfs just mounted and /proc/sys on the new proc.
 *
 * Sits on: sys.h (every mount), layer/safepath.h (cleaning target paths), plan.h.
 * Interface: lb_rootfs_setup, lb_mount_kind_name
 */
#include "runtime/rootfs.h"
#include "core/cleanup.h"
#include "layer/safepath.h"
#include "runtime/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FD_PATH_MAX 32

const char *lb_mount_kind_name(enum lb_mount_kind kind)
{
    switch (kind) {
    case LB_MOUNT_PROC:
        return "proc";
    case LB_MOUNT_TMPFS:
        return "tmpfs";
    case LB_MOUNT_DEVPTS:
        return "devpts";
    case LB_MOUNT_MQUEUE:
        return "mqueue";
    case LB_MOUNT_SYSFS:
        return "sysfs";
    case LB_MOUNT_BIND:
        return "bind";
    case LB_MOUNT_DEVICE:
        return "device";
    }
    return "?";
}

static void fd_path(char buf[FD_PATH_MAX], int fd)
{
    snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

/* The hand walk, for kernels without openat2 (before 5.6; valgrind does not know it either):
 * one component at a time with O_NOFOLLOW from a held directory fd, symlinks (when followed)
 * read and spliced into the rest of the path with "/" meaning the root, ".." never above it. */
static int walk_in_root(int rootfd, const char *rel, bool follow)
{
    struct lb_strbuf todo = LB_STRBUF_INIT;
    lb_strbuf_adds(&todo, rel);
    char **done = NULL; /* the components resolved so far: real directories, no symlink */
    int cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    int links = 0;
    int e = 0;
    while (cur >= 0 && todo.len > 0) {
        size_t n = strcspn(todo.buf, "/");
        _cleanup_free_ char *name = lb_xstrndup(todo.buf, n);
        _cleanup_free_ char *rest = lb_xstrdup(todo.buf + n + (todo.buf[n] == '/'));
        lb_strbuf_reset(&todo);
        lb_strbuf_adds(&todo, rest);
        if (name[0] == '\0' || strcmp(name, ".") == 0)
            continue;
        if (strcmp(name, "..") == 0) {
            size_t depth = lb_strv_len(done);
            if (depth == 0)
                continue;
            free(done[depth - 1]);
            done[depth - 1] = NULL;
            /* re-walk the remaining real directories from the root */
            struct lb_strbuf again = LB_STRBUF_INIT;
            lb_strbuf_adds(&again, "");
            for (char **d = done; *d; d++)
                lb_strbuf_addf(&again, "%s%s", d == done ? "" : "/", *d);
            close(cur);
            cur = walk_in_root(rootfd, again.buf, false);
            e = errno;
            lb_strbuf_release(&again);
            continue;
        }
        int fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
            e = errno;
            if (fd >= 0)
                close(fd);
            close(cur);
            cur = -1;
            break;
        }
        if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t len = readlinkat(fd, "", target, sizeof(target) - 1);
            e = len < 0 ? errno : (!follow || ++links > 40) ? ELOOP : 0;
            close(fd);
            if (e != 0) {
                close(cur);
                cur = -1;
                break;
            }
            target[len] = '\0';
            _cleanup_free_ char *spliced =
                lb_xasprintf("%s%s%s", target, todo.len ? "/" : "", todo.buf);
            lb_strbuf_reset(&todo);
            lb_strbuf_adds(&todo, spliced[0] == '/' ? spliced + 1 : spliced);
            if (target[0] == '/') {
                lb_strv_free(done);
                done = NULL;
                close(cur);
                cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
                e = errno;
            }
            continue;
        }
        if (todo.len > 0 && !S_ISDIR(st.st_mode)) {
            close(fd);
            close(cur);
            cur = -1;
            e = ENOTDIR;
            break;
        }
        lb_strv_push(&done, name);
        close(cur);
        cur = fd;
    }
    lb_strv_free(done);
    lb_strbuf_release(&todo);
    if (cur < 0)
        errno = e ? e : ENOENT;
    return cur;
}

static bool openat2_missing;

/* rel (clean, relative; "" = the root) opened O_PATH inside the root, or -1 with errno.
 * LB_SAFEPATH_NO_OPENAT2=1 forces the hand walk (as for layer/safepath.h), for tests. */
static int open_in_root(int rootfd, const char *rel, bool follow)
{
    const char *force = getenv("LB_SAFEPATH_NO_OPENAT2");
    if (!openat2_missing && !(force && strcmp(force, "1") == 0)) {
        struct open_how how = {
            /* no O_NOFOLLOW: with it, O_PATH opens a final symlink itself instead of failing */
            .flags = O_PATH | O_CLOEXEC,
            .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (follow ? 0 : RESOLVE_NO_SYMLINKS),
        };
        int fd = (int)syscall(SYS_openat2, rootfd, rel[0] ? rel : ".", &how, sizeof(how));
        if (fd >= 0 || errno != ENOSYS)
            return fd;
        openat2_missing = true;
    }
    return walk_in_root(rootfd, rel, follow);
}

static int resolve_error(const char *target, int e, struct lb_error **err)
{
    if (e == ELOOP)
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "'%s' is or goes through a symlink in the image (refused)", target);
    return lb_error_set(err, e, "cannot resolve '%s' in the root file system", target);
}

/* Make every missing component of clean inside the root (directories; the last one a file when
 * `file`), then open it. */
static int create_in_root(int rootfd, const char *target, const char *clean, bool follow, bool file,
                          struct lb_error **err)
{
    size_t len = strlen(clean);
    for (size_t end = 0; end <= len; end++) {
        if (end < len && clean[end] != '/')
            continue;
        _cleanup_free_ char *prefix = lb_xstrndup(clean, end);
        int fd = open_in_root(rootfd, prefix, follow);
        if (fd >= 0) {
            close(fd);
            continue;
        }
        if (errno != ENOENT)
            return resolve_error(target, errno, err);
        const char *slash = strrchr(prefix, '/');
        const char *name = slash ? slash + 1 : prefix;
        _cleanup_free_ char *parent_rel = lb_xstrndup(prefix, slash ? (size_t)(slash - prefix) : 0);
        _cleanup_close_ int parent = open_in_root(rootfd, parent_rel, follow);
        if (parent < 0)
            return resolve_error(target, errno, err);
        if (file && end == len) {
            int f =
                openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
            if (f < 0 && errno != EEXIST)
                return lb_error_set(err, errno, "cannot create mount point '%s'", target);
            if (f >= 0)
                close(f);
        } else if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
            return lb_error_set(err, errno, "cannot create mount point '%s'", target);
        }
    }
    int fd = open_in_root(rootfd, clean, follow);
    if (fd < 0)
        return resolve_error(target, errno, err);
    return fd;
}

enum make { MAKE_NONE, MAKE_DIR, MAKE_FILE };

/* Open target (an absolute path inside the container) O_PATH inside the root. With MAKE_NONE a
 * missing target fails with errno ENOENT in the error's code. */
static int resolve(int rootfd, const char *target, bool follow, enum make make,
                   struct lb_error **err)
{
    _cleanup_free_ char *clean = NULL;
    const char *rel = target;
    while (*rel == '/')
        rel++;
    if (lb_safepath_clean(rel, &clean, err) < 0)
        return lb_error_wrap(err, "mount target '%s'", target);
    int fd = open_in_root(rootfd, clean, follow);
    if (fd >= 0)
        return fd;
    if (errno == ENOENT && make != MAKE_NONE)
        return create_in_root(rootfd, target, clean, follow, make == MAKE_FILE, err);
    return resolve_error(target, errno, err);
}

/* The per-mount flags of the mount at path, as MS_* flags for a bind remount. */
static unsigned long mount_flags_of(const char *path)
{
    struct statvfs sv;
    if (statvfs(path, &sv) < 0)
        return 0;
    static const struct {
        unsigned long st, ms;
    } map[] = {
        {ST_RDONLY, MS_RDONLY},     {ST_NOSUID, MS_NOSUID},
        {ST_NODEV, MS_NODEV},       {ST_NOEXEC, MS_NOEXEC},
        {ST_NOATIME, MS_NOATIME},   {ST_NODIRATIME, MS_NODIRATIME},
        {ST_RELATIME, MS_RELATIME}, {ST_SYNCHRONOUS, MS_SYNCHRONOUS},
    };
    unsigned long out = 0;
    for (size_t i = 0; i < LB_ARRAY_SIZE(map); i++)
        if (sv.f_flag & map[i].st)
            out |= map[i].ms;
    return out;
}

#define REMOUNT_FLAGS                                                                              \
    (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME |     \
     MS_SYNCHRONOUS)

/* After a bind on target: remount the new mount (looked up again: the old fd still points
 * below it) with `flags` added to the ones it has. */
static int bind_remount(int rootfd, const char *target, bool follow, unsigned long flags,
                        struct lb_error **err)
{
    _cleanup_close_ int fd = resolve(rootfd, target, follow, MAKE_NONE, err);
    if (fd < 0)
        return -1;
    char path[FD_PATH_MAX];
    fd_path(path, fd);
    unsigned long all = (mount_flags_of(path) | flags) & REMOUNT_FLAGS;
    if (lb_sys_mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | all, NULL) < 0)
        return lb_error_set(err, errno, "cannot remount '%s' with its flags", target);
    return 0;
}

static int mount_one(int rootfd, const struct lb_mount_spec *m, struct lb_error **err)
{
    const char *kind = lb_mount_kind_name(m->kind);
    if (m->target == NULL || m->target[0] != '/')
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s mount target '%s' is not absolute", kind,
                             m->target ? m->target : "(none)");
    bool bind = m->kind == LB_MOUNT_BIND || m->kind == LB_MOUNT_DEVICE;
    if (bind && m->source == NULL)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s mount on '%s' has no source", kind,
                             m->target);

    enum make make = MAKE_DIR;
    if (bind) {
        struct stat st;
        if (stat(m->source, &st) < 0)
            return lb_error_set(err, errno, "cannot use '%s' as the source of '%s'", m->source,
                                m->target);
        if (!S_ISDIR(st.st_mode))
            make = MAKE_FILE;
    }
    bool follow = m->kind == LB_MOUNT_BIND;
    _cleanup_close_ int fd = resolve(rootfd, m->target, follow, make, err);
    if (fd < 0)
        return -1;
    char path[FD_PATH_MAX];
    fd_path(path, fd);

    unsigned long flags = m->flags;
    int rc = 0;
    switch (m->kind) {
    case LB_MOUNT_PROC:
        rc = lb_sys_mount("proc", path, "proc", flags, m->data);
        break;
    case LB_MOUNT_TMPFS:
        rc = lb_sys_mount("tmpfs", path, "tmpfs", flags, m->data);
        break;
    case LB_MOUNT_DEVPTS:
        rc = lb_sys_mount("devpts", path, "devpts", flags,
                          m->data ? m->data : "newinstance,ptmxmode=0666,mode=0620");
        break;
    case LB_MOUNT_MQUEUE:
        rc = lb_sys_mount("mqueue", path, "mqueue", flags, m->data);
        break;
    case LB_MOUNT_SYSFS:
        rc = lb_sys_mount("sysfs", path, "sysfs", flags | MS_RDONLY, m->data);
        if (rc < 0 && errno == EPERM) {
            /* Not ours to mount (another network namespace's sysfs): bind the host's, without
             * MS_REC, so that no rw submount (cgroups) comes along. */
            if (lb_sys_mount(m->source ? m->source : "/sys", path, NULL, MS_BIND, NULL) < 0)
                return lb_error_set(err, errno, "cannot bind sysfs on '%s'", m->target);
            return bind_remount(rootfd, m->target, false, (flags | MS_RDONLY) & REMOUNT_FLAGS, err);
        }
        break;
    case LB_MOUNT_BIND:
    case LB_MOUNT_DEVICE:
        if (lb_sys_mount(m->source, path, NULL, MS_BIND | (flags & MS_REC), NULL) < 0)
            return lb_error_set(err, errno, "cannot bind '%s' on '%s'", m->source, m->target);
        if (flags & REMOUNT_FLAGS)
            return bind_remount(rootfd, m->target, follow, flags & REMOUNT_FLAGS, err);
        return 0;
    }
    if (rc < 0)
        return lb_error_set(err, errno, "cannot mount %s on '%s'", kind, m->target);
    return 0;
}

/* Like resolve(.., MAKE_NONE, ..) but a missing path sets *missing instead of an error. */
static int resolve_existing(int rootfd, const char *target, bool *missing, struct lb_error **err)
{
    struct lb_error *e = NULL;
    int fd = resolve(rootfd, target, false, MAKE_NONE, &e);
    if (fd >= 0)
        return fd;
    *missing = e->code == ENOENT;
    if (*missing || err == NULL || *err != NULL)
        lb_error_free(e);
    else
        *err = e;
    return -1;
}

static int readonly_path(int rootfd, const char *target, struct lb_error **err)
{
    bool missing = false;
    _cleanup_close_ int fd = resolve_existing(rootfd, target, &missing, err);
    if (fd < 0)
        return missing ? 0 : -1;
    char path[FD_PATH_MAX];
    fd_path(path, fd);
    if (lb_sys_mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
        return lb_error_set(err, errno, "cannot bind '%s' onto itself", target);
    return bind_remount(rootfd, target, false, MS_RDONLY, err);
}

static int masked_path(int rootfd, const char *target, struct lb_error **err)
{
    bool missing = false;
    _cleanup_close_ int fd = resolve_existing(rootfd, target, &missing, err);
    if (fd < 0)
        return missing ? 0 : -1;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return lb_error_set(err, errno, "cannot stat '%s'", target);
    char path[FD_PATH_MAX];
    fd_path(path, fd);
    int rc = S_ISDIR(st.st_mode) ? lb_sys_mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL)
                                 : lb_sys_mount("/dev/null", path, NULL, MS_BIND, NULL);
    if (rc < 0)
        return lb_error_set(err, errno, "cannot mask '%s'", target);
    return 0;
}

static bool plan_mounts_dev(const struct lb_run_plan *plan)
{
    for (size_t i = 0; i < plan->n_mounts; i++) {
        const char *t = plan->mounts[i].target;
        if (t && strcmp(t, "/dev") == 0)
            return true;
    }
    return false;
}

/* The /dev symlinks every container has (runc's defaults). An existing entry is kept. */
static int dev_symlinks(int rootfd, struct lb_error **err)
{
    static const char *const links[][2] = {
        {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},         {"/proc/kcore", "core"},
    };
    _cleanup_close_ int dev = resolve(rootfd, "/dev", false, MAKE_NONE, err);
    if (dev < 0)
        return -1;
    bool kcore = access("/proc/kcore", F_OK) == 0;
    for (size_t i = 0; i < LB_ARRAY_SIZE(links); i++) {
        if (strcmp(links[i][1], "core") == 0 && !kcore)
            continue;
        if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
            return lb_error_set(err, errno, "cannot create the symlink '/dev/%s'", links[i][1]);
    }
    return 0;
}

static int pivot(struct lb_error **err)
{
    /* With both arguments ".", the old root ends up stacked on top of the new one, at "/",
     * where it can be detached without needing a directory to park it in. */
    if (lb_sys_pivot_root(".", ".") < 0)
        return lb_error_set(err, errno, "cannot pivot_root into the root file system");
    if (lb_sys_umount2(".", MNT_DETACH) < 0)
        return lb_error_set(err, errno, "cannot detach the old root");
    if (chdir("/") < 0)
        return lb_error_set(err, errno, "cannot chdir to the new root");
    return 0;
}

int lb_rootfs_setup(const struct lb_run_plan *plan, struct lb_error **err)
{
    if (plan->rootfs == NULL || plan->rootfs[0] != '/')
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "the root file system '%s' is not absolute",
                             plan->rootfs ? plan->rootfs : "(none)");
    if (lb_sys_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return lb_error_set(err, errno, "cannot make the mounts private");
    if (lb_sys_mount(plan->rootfs, plan->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        return lb_error_set(err, errno, "cannot bind the root file system '%s' onto itself",
                            plan->rootfs);
    _cleanup_close_ int rootfd = open(plan->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return lb_error_set(err, errno, "cannot open the root file system '%s'", plan->rootfs);

    for (size_t i = 0; i < plan->n_mounts; i++)
        if (mount_one(rootfd, &plan->mounts[i], err) < 0)
            return -1;
    for (char **p = plan->readonly_paths; p && *p; p++)
        if (readonly_path(rootfd, *p, err) < 0)
            return -1;
    for (char **p = plan->masked_paths; p && *p; p++)
        if (masked_path(rootfd, *p, err) < 0)
            return -1;
    if (plan_mounts_dev(plan) && dev_symlinks(rootfd, err) < 0)
        return -1;
    if (plan->cwd && plan->cwd[0] == '/') {
        _cleanup_close_ int cwd = resolve(rootfd, plan->cwd, true, MAKE_DIR, err);
        if (cwd < 0)
            return lb_error_wrap(err, "working directory");
    }

    if (fchdir(rootfd) < 0)
        return lb_error_set(err, errno, "cannot chdir to the root file system");
    if (pivot(err) < 0)
        return -1;
    if (plan->readonly_rootfs) {
        unsigned long flags = (mount_flags_of("/") | MS_RDONLY) & REMOUNT_FLAGS;
        if (lb_sys_mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
            return lb_error_set(err, errno, "cannot make the root file system read-only");
    }
    return 0;
}
