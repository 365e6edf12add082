/* sys.c — the funnel: every kernel-mutating call of the runtime, one thin wrapper each.
 *
 * Why a funnel: these are the calls that change the machine (mounts, namespaces, identities,
 * cgroups). Keeping them in one file shows a student the whole list at a glance, and the hook
 * lets unit tests record the exact sequence a setup makes — or fail one step — without root.
 *
 * Sits on: libc, libcap (capset), the kernel. Nothing of ours.
 * Interface: lb_sys_set_hook, lb_sys_op_name, lb_sys_mount, lb_sys_umount2, lb_sys_pivot_root,
 *            lb_sys_unshare, lb_sys_setns, lb_sys_clone, lb_sys_sethostname, lb_sys_link_up,
 *            lb_sys_capbset_drop, lb_sys_set_keepcaps, lb_sys_capset, lb_sys_ambient_clear,
 *            lb_sys_no_new_privs, lb_sys_setgroups, lb_sys_setresgid, lb_sys_setresuid,
 *            lb_sys_cgroup_mkdir, lb_sys_cgroup_rmdir, lb_sys_cgroup_write, lb_sys_read_file
 */
#include "runtime/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static lb_sys_hook_fn sys_hook;
static void *sys_hook_data;

void lb_sys_set_hook(lb_sys_hook_fn hook, void *data)
{
    sys_hook = hook;
    sys_hook_data = data;
}

const char *lb_sys_op_name(enum lb_sys_op op)
{
    switch (op) {
    case LB_SYS_MOUNT:
        return "mount";
    case LB_SYS_UMOUNT2:
        return "umount2";
    case LB_SYS_PIVOT_ROOT:
        return "pivot_root";
    case LB_SYS_UNSHARE:
        return "unshare";
    case LB_SYS_SETNS:
        return "setns";
    case LB_SYS_CLONE:
        return "clone";
    case LB_SYS_SETHOSTNAME:
        return "sethostname";
    case LB_SYS_LINK_UP:
        return "link_up";
    case LB_SYS_CAPBSET_DROP:
        return "capbset_drop";
    case LB_SYS_SET_KEEPCAPS:
        return "set_keepcaps";
    case LB_SYS_CAPSET:
        return "capset";
    case LB_SYS_AMBIENT_CLEAR:
        return "ambient_clear";
    case LB_SYS_NO_NEW_PRIVS:
        return "no_new_privs";
    case LB_SYS_SETGROUPS:
        return "setgroups";
    case LB_SYS_SETRESGID:
        return "setresgid";
    case LB_SYS_SETRESUID:
        return "setresuid";
    case LB_SYS_CGROUP_MKDIR:
        return "cgroup_mkdir";
    case LB_SYS_CGROUP_RMDIR:
        return "cgroup_rmdir";
    case LB_SYS_CGROUP_WRITE:
        return "cgroup_write";
    }
    return "?";
}

/* LB_SYS_PASS: do the real call; otherwise the wrapper's result (0, or -1 with errno). */
static int hook(const struct lb_sys_call *call)
{
    if (sys_hook == NULL)
        return LB_SYS_PASS;
    int saved = errno;
    int r = sys_hook(call, sys_hook_data);
    if (r == LB_SYS_PASS) {
        errno = saved;
        return LB_SYS_PASS;
    }
    if (r < 0) {
        if (errno == 0)
            errno = EIO;
        return -1;
    }
    return 0;
}

int lb_sys_mount(const char *source, const char *target, const char *fstype, unsigned long flags,
                 const char *data)
{
    struct lb_sys_call c = {.op = LB_SYS_MOUNT,
                            .path = target,
                            .source = source,
                            .fstype = fstype,
                            .data = data,
                            .flags = flags};
    int r = hook(&c);
    if (r != LB_SYS_PASS)
        return r;
    /* Bind mounts, remounts and propagation changes ignore source and type; the kernel takes NULL
     * for them, but "none" keeps memory checkers (valgrind) from seeing a NULL string. */
    return mount(source ? source : "none", target, fstype ? fstype : "none", flags, data);
}

int lb_sys_umount2(const char *target, int flags)
{
    struct lb_sys_call c = {.op = LB_SYS_UMOUNT2, .path = target, .flags = (unsigned long)flags};
    int r = hook(&c);
    if (r != LB_SYS_PASS)
        return r;
    return umount2(target, flags);
}

int lb_sys_pivot_root(const char *new_root, const char *put_old)
{
    struct lb_sys_call c = {.op = LB_SYS_PIVOT_ROOT, .path = new_root, .source = put_old};
    int r = hook(&c);
    if (r != LB_SYS_PASS)
        return r;
    return (int)syscall(SYS_pivot_root, new_root, put_old);
}

int lb_sys_unshare(int flags)
{
    struct lb_sys_call c = {.op = LB_SYS_UNSHARE, .flags = (unsigned long)flags};
    int r = hook(&c);
    if (r != LB_SYS_PASS)
        return r;
    return unshare(flags);
}

int lb_sys_setns(int fd, int nstype)
{
    struct lb_sys_call c = {.op = LB_SYS_SETNS, .num = fd, .flags = (unsigned long)nstype};
    int r = hook(&c);
    if (r != LB_SYS_PASS)
        return r;
    return setns(fd, nstype);
}

pid_t lb_sys_clone(unsigned long flags)
{
    /* A hook may fail the clone but not fake it: 0 would mean "you are the child". */
    struct lb_sys_call c = {.op = LB_SYS_CLONE, .flags = flags};
    if (hook(&c) < 0)
        return -1;
    /* No stack argument: the child continues on a copy of ours, as after fork(). glibc's
     * fork() cannot take namespace flags, and clone()'s wrapper insists on a new stack. */
    return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

int lb_sys_sethostname(const char *name)
{
    struct lb_sys_call c = {.op = LB_SYS_SETHOSTNAME, .path = name};
    int r = hook(&c);
    if (r != LB_SYS_PASS)
        return r;
    return sethostname(name, strlen(name));
}

int lb_sys_link_up(const char *name)
{
    struct lb_sys_call c = {.op = LB_SYS_LINK_UP, .path = name};
    int r = hook(&c);
    if (r != LB_SYS_PASS)
        return r;
    struct ifreq ifr;
    if (strlen(name) >= sizeof(ifr.ifr_name)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, name, strlen(name));
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
    if (rc == 0) {
        ifr.ifr_flags |= IFF_UP;
        rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int lb_sys_capbset_drop(int cap)
{
    struct lb_sys_call c = {.op = LB_SYS_CAPBSET_DROP, .num = cap};
    int r = hook(&c);
    if (r != LB_SYS_PASS)
        return r;
    return prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0);
}

int lb_sys_set_keepcaps(bool on)
{
    struct lb_sys_call c = {.op = LB_SYS_SET_KEEPCAPS, .num = on ? 1 : 0};
    int r = hook(&c);
    if (r != LB_SYS_PASS)
        return r;
    return prctl(PR_SET_KEEPCAPS, on ? 1UL : 0UL, 0, 0, 0);
}

static int set_flags(cap_t caps, cap_flag_t which, uint64_t mask)
{
    for (int n = 0; n < 64; n++) {
        if (!(mask & (UINT64_C(1) << n)))
            continue;
        cap_value_t v = n;
        if (cap_set_flag(caps, which, 1, &v, CAP_SET) < 0)
            return -1;
    }
    return 0;
}

int lb_sys_capset(uint64_t permitted, uint64_t effective, uint64_t inheritable)
{
    struct lb_sys_call c = {.op = LB_SYS_CAPSET, .caps = {permitted, effective, inheritable}};
    int r = hook(&c);
    if (r != LB_SYS_PASS)
        return r;
    cap_t caps = cap_init(); /* all three sets empty */
    if (caps == NULL)
        return -1;
    int rc = -1;
    if (set_flags(caps, CAP_PERMITTED, permitted) == 0 &&
        set_flags(caps, CAP_EFFECTIVE, effective) == 0 &&
        set_flags(caps, CAP_INHERITABLE, inheritable) == 0)
        rc = cap_set_proc(caps);
    int saved = errno;
    cap_free(caps);
    errno = saved;
    return rc;
}

int lb_sys_ambient_clear(void)
{
    struct lb_sys_call c = {.op = LB_SYS_AMBIENT_CLEAR};
    int r = hook(&c);
    if (r != LB_SYS_PASS)
        return r;
    return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

int lb_sys_no_new_privs(void)
{
    struct lb_sys_call c = {.op = LB_SYS_NO_NEW_PRIVS};
    int r = hook(&c);
    if (r != LB_SYS_PASS)
        return r;
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

int lb_sys_setgroups(size_t n, const gid_t *groups)
{
    struct lb_sys_call c = {.op = LB_SYS_SETGROUPS, .groups = groups, .n_groups = n};
    int r = hook(&c);
    if (r != LB_SYS_PASS)
        return r;
    return setgroups(n, groups);
}

int lb_sys_setresgid(gid_t gid)
{
    struct lb_sys_call c = {.op = LB_SYS_SETRESGID, .num = gid};
    int r = hook(&c);
    if (r != LB_SYS_PASS)
        return r;
    return setresgid(gid, gid, gid);
}

int lb_sys_setresuid(uid_t uid)
{
    struct lb_sys_call c = {.op = LB_SYS_SETRESUID, .num = uid};
    int r = hook(&c);
    if (r != LB_SYS_PASS)
        return r;
    return setresuid(uid, uid, uid);
}

int lb_sys_cgroup_mkdir(const char *path, mode_t mode)
{
    struct lb_sys_call c = {.op = LB_SYS_CGROUP_MKDIR, .path = path, .num = mode};
    int r = hook(&c);
    if (r != LB_SYS_PASS)
        return r;
    return mkdir(path, mode);
}

int lb_sys_cgroup_rmdir(const char *path)
{
    struct lb_sys_call c = {.op = LB_SYS_CGROUP_RMDIR, .path = path};
    int r = hook(&c);
    if (r != LB_SYS_PASS)
        return r;
    return rmdir(path);
}

int lb_sys_cgroup_write(const char *path, const char *value)
{
    struct lb_sys_call c = {.op = LB_SYS_CGROUP_WRITE, .path = path, .source = value};
    int r = hook(&c);
    if (r != LB_SYS_PASS)
        return r;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t len = strlen(value);
    ssize_t n;
    do {
        n = write(fd, value, len);
    } while (n < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    if (n < 0) {
        errno = saved;
        return -1;
    }
    if ((size_t)n != len) {
        errno = EIO; /* a control file takes the value in one write or not at all */
        return -1;
    }
    return 0;
}

int lb_sys_read_file(const char *path, size_t max, char **out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -1;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    for (;;) {
        if (len + 1 >= cap) {
            if (cap > max) {
                free(buf);
                close(fd);
                errno = EFBIG;
                return -1;
            }
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                close(fd);
                errno = ENOMEM;
                return -1;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            free(buf);
            close(fd);
            errno = saved;
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (len > max) {
        free(buf);
        errno = EFBIG;
        return -1;
    }
    buf[len] = '\0';
    *out = buf;
    return 0;
}
