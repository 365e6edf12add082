/* process.h — starting the container's first process from a plan, and waiting for it.
 *
 * The concept: a container is an ordinary process made with clone(2) into new namespaces (mount,
 * PID, UTS, IPC, maybe network). Before it becomes the user's program with execve, it rebuilds
 * its own world: hostname, root file system (rootfs.h), identity and capabilities (caps.h). The
 * parent puts it in its cgroups (cgroup.h) before it may run at all, and learns whether the exec
 * worked through a pipe that closes itself on exec (CLOEXEC): end-of-file means the program is
 * running; a message means a step failed, and which. */
#ifndef LB_RUNTIME_PROCESS_H
#define LB_RUNTIME_PROCESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/error.h"
#include "runtime/cgroup.h"
#include "runtime/plan.h"

/* How to start it. Initialise with LB_PROCESS_OPTS_INIT. */
struct lb_process_opts {
    int stdin_fd;            /* becomes the container's fd 0; -1 = ours */
    int stdout_fd;           /* fd 1; -1 = ours */
    int stderr_fd;           /* fd 2; -1 = ours */
    const char *cgroup_root; /* NULL = LB_CGROUP_ROOT (tests pass a fake tree) */
    const char *self_cgroup; /* the text of /proc/self/cgroup; NULL = read it */
};
#define LB_PROCESS_OPTS_INIT                                                                       \
    {                                                                                              \
        -1, -1, -1, NULL, NULL                                                                     \
    }

struct lb_process {
    pid_t pid;                     /* in our PID namespace; the container sees itself as 1 */
    unsigned long long start_time; /* /proc/PID/stat field 22: what "is it still running?" checks */
    struct lb_cgroup cgroup;       /* its groups (LB_CGROUP_NONE without limits); see cgroup.h */
    int exec_errno; /* after a failed start: execve's errno, 0 if another step failed */
};

/* Start plan's process: clone(plan->clone_flags | SIGCHLD), which must include CLONE_NEWNS.
 * The parent makes the cgroups, places the child in them and reads its start time before
 * letting it go on. The child then: resets signal handlers and mask, setsid, takes the stdio
 * fds, sets the hostname (CLONE_NEWUTS only), brings lo up (CLONE_NEWNET only), sets up the root
 * file system (lb_rootfs_setup), chdir(plan->cwd), takes the terminal as its controlling tty
 * (plan->tty and fd 0 is a terminal), becomes the plan's user with its capabilities
 * (lb_caps_apply), marks every fd above 2 close-on-exec, and execs plan->argv with plan->env,
 * looking argv[0] up in the PATH of plan->env (not ours; docker's default PATH when it has
 * none) when it has no '/'. Resource limits (rlimits) are the host's, inherited.
 *
 * On success proc is filled and the process runs: lb_process_wait it, then lb_cgroup_destroy
 * (&proc->cgroup) and lb_process_release. On failure the child has been reaped, its cgroups
 * removed, and proc->exec_errno tells an exec failure from the rest. Exec failures carry
 * docker's text with error code 0: 'exec: "x": executable file not found in $PATH',
 * 'exec: "/x": stat /x: no such file or directory', 'exec: "/x": permission denied',
 * 'exec: "/x": exec format error'; other failures name the step ("cannot mount proc on
 * '/proc'") with the errno as code. */
int lb_process_start(struct lb_process *proc, const struct lb_run_plan *plan,
                     const struct lb_process_opts *opts, struct lb_error **err);

/* Free what proc holds (the cgroup paths; the groups themselves stay). */
void lb_process_release(struct lb_process *proc);

/* The exit status docker gives when the container's command could not be started:
 * 127 for ENOENT (not found), 126 for EACCES or ENOEXEC (cannot be executed), 125 for anything
 * else, including 0 (layerbox's own failure). */
int lb_process_exit_code_for(int exec_errno);

/* Wait for pid to end (retrying on EINTR) and give its exit code as a shell would: the status
 * when it exited, 128 + N when signal N killed it (SIGKILL → 137). */
int lb_process_wait(pid_t pid, int *exit_code, struct lb_error **err);

/* Field 22 of /proc/PID/stat (starttime, clock ticks after boot): with the pid, it names one
 * process for good, since pids are reused but not at the same start time. */
int lb_process_start_time(pid_t pid, unsigned long long *out, struct lb_error **err);

/* Is pid alive (not a zombie) and started at start_time? "Running" is checked, not trusted. */
bool lb_process_is_running(pid_t pid, unsigned long long start_time);

/* Foreground mode: forward SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 received by
 * the calling process to pid (handlers with SA_RESTART, so lb_process_wait keeps waiting).
 * One target per process; call lb_process_forward_signals_stop to restore the old handlers. */
int lb_process_forward_signals(pid_t pid, struct lb_error **err);
void lb_process_forward_signals_stop(void);

#endif
