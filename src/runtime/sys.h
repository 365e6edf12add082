/* sys.h — the one funnel for every kernel-mutating call layerbox makes for a container.
 *
 * The concept (crun's syscalls.h, bubblewrap's privileged_op()): mount, umount2, pivot_root,
 * unshare, setns, clone, sethostname, bringing an interface up, the capability and user calls
 * (prctl, capset, setgroups, setres[ug]id) and cgroup writes all pass through these thin
 * wrappers, so one place shows what layerbox asks of the kernel, and unit tests can watch the
 * calls, fake them or make them fail without root (lb_sys_set_hook).
 *
 * Every wrapper behaves like the system call it wraps: 0 (clone: the pid) on success, -1 with
 * errno set on failure. None of them allocates an lb_error: the callers know what they were doing
 * and say it ("cannot mount proc on '/proc'"), and code in a cloned child can use them freely. */
#ifndef LB_RUNTIME_SYS_H
#define LB_RUNTIME_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum lb_sys_op {
    LB_SYS_MOUNT,         /* path = target, source, fstype, data, flags */
    LB_SYS_UMOUNT2,       /* path = target, flags */
    LB_SYS_PIVOT_ROOT,    /* path = new_root, source = put_old */
    LB_SYS_UNSHARE,       /* flags */
    LB_SYS_SETNS,         /* num = fd, flags = nstype */
    LB_SYS_CLONE,         /* flags (SIGCHLD is added by the wrapper and not recorded) */
    LB_SYS_SETHOSTNAME,   /* path = the name */
    LB_SYS_LINK_UP,       /* path = the interface name ("lo") */
    LB_SYS_CAPBSET_DROP,  /* num = the capability number */
    LB_SYS_SET_KEEPCAPS,  /* num = 0 or 1 */
    LB_SYS_CAPSET,        /* caps[0] permitted, caps[1] effective, caps[2] inheritable */
    LB_SYS_AMBIENT_CLEAR, /* no argument */
    LB_SYS_NO_NEW_PRIVS,  /* no argument */
    LB_SYS_SETGROUPS,     /* groups, n_groups */
    LB_SYS_SETRESGID,     /* num = the gid (real, effective and saved) */
    LB_SYS_SETRESUID,     /* num = the uid (real, effective and saved) */
    LB_SYS_CGROUP_MKDIR,  /* path, num = mode */
    LB_SYS_CGROUP_RMDIR,  /* path */
    LB_SYS_CGROUP_WRITE,  /* path = the control file, source = the value written */
};

/* One call, as the hook sees it. Pointers are borrowed for the duration of the hook call. */
struct lb_sys_call {
    enum lb_sys_op op;
    const char *path;
    const char *source;
    const char *fstype;
    const char *data;
    unsigned long flags;
    long long num;
    uint64_t caps[3];
    const gid_t *groups;
    size_t n_groups;
};

/* What a hook returns: LB_SYS_PASS runs the real call; 0 pretends it succeeded without running
 * it; -1 (with errno set by the hook) makes the wrapper fail with that errno. */
#define LB_SYS_PASS 1
typedef int (*lb_sys_hook_fn)(const struct lb_sys_call *call, void *data);

/* Install (or, with NULL, remove) the process-wide hook. For tests; not thread-safe. A cloned
 * child inherits it. */
void lb_sys_set_hook(lb_sys_hook_fn hook, void *data);

/* The op's name as the system call is known ("mount", "pivot_root", "cgroup_write"...). */
const char *lb_sys_op_name(enum lb_sys_op op);

int lb_sys_mount(const char *source, const char *target, const char *fstype, unsigned long flags,
                 const char *data);
int lb_sys_umount2(const char *target, int flags);
int lb_sys_pivot_root(const char *new_root, const char *put_old);
int lb_sys_unshare(int flags);
int lb_sys_setns(int fd, int nstype);
/* clone(flags | SIGCHLD) with no new stack: fork-like, 0 in the child, the child's pid in the
 * parent. The child runs on a copy of the parent's memory (no CLONE_VM). */
pid_t lb_sys_clone(unsigned long flags);
int lb_sys_sethostname(const char *name);
/* Set IFF_UP on the interface `name` (SIOCGIFFLAGS then SIOCSIFFLAGS on an AF_INET socket). */
int lb_sys_link_up(const char *name);

int lb_sys_capbset_drop(int cap);
int lb_sys_set_keepcaps(bool on);
/* Set the three capability sets of the calling thread (libcap's cap_set_proc). Bit n = cap n. */
int lb_sys_capset(uint64_t permitted, uint64_t effective, uint64_t inheritable);
int lb_sys_ambient_clear(void);
int lb_sys_no_new_privs(void);
int lb_sys_setgroups(size_t n, const gid_t *groups);
int lb_sys_setresgid(gid_t gid);
int lb_sys_setresuid(uid_t uid);

/* cgroup file system: make or remove a group directory, write one control file (opened
 * O_WRONLY|O_CREAT|O_TRUNC, never following a symlink; the whole value in one write(2), as the
 * kernel wants it). */
int lb_sys_cgroup_mkdir(const char *path, mode_t mode);
int lb_sys_cgroup_rmdir(const char *path);
int lb_sys_cgroup_write(const char *path, const char *value);

/* Not a mutation, but the same kernel interface: read a file the kernel generates (/proc,
 * /sys, cgroup control files report st_size 0, so lb_read_file_at reads nothing) to its end,
 * up to max bytes (more is EFBIG). *out is NUL-terminated, owned by the caller. Not hooked. */
int lb_sys_read_file(const char *path, size_t max, char **out);

#endif
