/* procs.c — the processes of a container: one walk of /proc.
 *
 * The concept: a PID namespace is what makes a container's processes a set of their own; its
 * first process is pid 1 inside and an ordinary pid outside. Two processes share a namespace
 * when /proc/PID/ns/pid is the same inode. Descendants are followed too, because a process in a
 * nested namespace (or in a container without one) is still the container's.
 *
 * Sits on: /proc only.
 * Interface: lb_procs_in_pidns
 */
#include "runtime/procs.h"
#include "core/cleanup.h"
#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct proc {
    pid_t pid, ppid;
    bool same_ns; /* in init's PID namespace */
    bool keep;
};

static int ns_of(const char *pid, struct stat *st)
{
    char path[300];
    snprintf(path, sizeof(path), "/proc/%s/ns/pid", pid);
    return stat(path, st);
}

/* PPid from /proc/PID/stat: field 4, counted after the last ')' (comm may hold anything). */
static int ppid_of(const char *pid, pid_t *out)
{
    char path[300], buf[1024];
    snprintf(path, sizeof(path), "/proc/%s/stat", pid);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t len = read(fd, buf, sizeof(buf) - 1);
    if (len <= 0)
        return -1;
    buf[len] = '\0';
    const char *p = strrchr(buf, ')');
    char state;
    int ppid;
    if (p == NULL || sscanf(p + 1, " %c %d", &state, &ppid) != 2)
        return -1;
    *out = (pid_t)ppid;
    return 0;
}

static int cmp_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

int lb_procs_in_pidns(pid_t init_pid, pid_t **pids, size_t *n, struct lb_error **err)
{
    *pids = NULL;
    *n = 0;
    if (init_pid <= 0)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "invalid process id %d", (int)init_pid);
    char init_s[24];
    snprintf(init_s, sizeof(init_s), "%d", (int)init_pid);
    struct stat init_ns, self_ns;
    if (ns_of(init_s, &init_ns) < 0) {
        if (errno == ENOENT)
            return lb_error_set(err, ESRCH, "no process %d", (int)init_pid);
        return lb_error_set(err, errno, "cannot read the PID namespace of process %d",
                            (int)init_pid);
    }
    /* Our own namespace is no container's: then only the descendants say what belongs. */
    bool by_ns = !(ns_of("self", &self_ns) == 0 && self_ns.st_dev == init_ns.st_dev &&
                   self_ns.st_ino == init_ns.st_ino);

    DIR *d = opendir("/proc");
    if (d == NULL)
        return lb_error_set(err, errno, "cannot read '/proc'");
    struct proc *v = NULL;
    size_t nv = 0, cap = 0;
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de == NULL) {
            if (errno != 0)
                rc = lb_error_set(err, errno, "cannot read '/proc'");
            break;
        }
        char *end = NULL;
        long pid = strtol(de->d_name, &end, 10);
        if (end == de->d_name || *end != '\0' || pid <= 0)
            continue;
        struct proc p = {.pid = (pid_t)pid};
        if (ppid_of(de->d_name, &p.ppid) < 0)
            continue; /* gone meanwhile */
        struct stat st;
        p.same_ns = by_ns && ns_of(de->d_name, &st) == 0 && st.st_dev == init_ns.st_dev &&
                    st.st_ino == init_ns.st_ino;
        p.keep = p.same_ns || p.pid == init_pid;
        if (nv == cap) {
            cap = cap ? 2 * cap : 256;
            v = lb_xrealloc(v, cap * sizeof(*v));
        }
        v[nv++] = p;
    }
    closedir(d);
    if (rc < 0) {
        free(v);
        return -1;
    }
    /* Descendants of kept processes, until nothing changes (the table is small). */
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < nv; i++) {
            if (v[i].keep)
                continue;
            for (size_t k = 0; k < nv; k++) {
                if (v[k].keep && v[k].pid == v[i].ppid) {
                    v[i].keep = changed = true;
                    break;
                }
            }
        }
    }
    pid_t *out = lb_xmalloc((nv + 1) * sizeof(*out));
    size_t m = 0;
    bool init_seen = false;
    for (size_t i = 0; i < nv; i++) {
        if (v[i].keep) {
            out[m++] = v[i].pid;
            init_seen |= v[i].pid == init_pid;
        }
    }
    free(v);
    if (!init_seen) { /* it ended during the walk */
        free(out);
        return lb_error_set(err, ESRCH, "no process %d", (int)init_pid);
    }
    qsort(out, m, sizeof(*out), cmp_pid);
    *pids = out;
    *n = m;
    return 0;
}
