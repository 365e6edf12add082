/* process.c — clone, set up, exec: the container's first process.
 *
 * The parent and the child talk over one socketpair, both ends close-on-exec:
 *   parent → child: one byte, "you are in your cgroups, go on" (the child waits for it, so its
 *                   first instruction already runs under its limits);
 *   child → parent: nothing when execve succeeds (the exec closes the child's end: the parent
 *                   reads end-of-file), or one report {errno, message} when a step failed.
 * A socketpair rather than pipes: send(MSG_NOSIGNAL) cannot kill the parent with SIGPIPE when
 * the child is already gone.
 *
 * The child is a copy of the parent made by the raw clone syscall (no new stack, like fork), so
 * it may use the heap (errors are built with lb_error) but leaves with _exit, never exit: the
 * parent's stdio buffers and atexit handlers are not its own.
 *
 * Sits on: sys.h (clone), rootfs.h, caps.h, cgroup.h, plan.h.
 * Interface: lb_process_start, lb_process_release, lb_process_exit_code_for, lb_process_wait,
 *            lb_process_start_time, lb_process_is_running, lb_process_forward_signals,
 *            lb_process_forward_signals_stop
 */
#include "runtime/process.h"
#include "core/cleanup.h"
#include "core/explain.h"
#include "core/fs.h"
#include "runtime/caps.h"
#include "runtime/rootfs.h"
#include "runtime/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* docker's PATH when the image's environment has none */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define CHILD_FAILED 125

struct child_report {
    int32_t code;       /* the lb_error's code */
    int32_t exec_errno; /* execve's errno when the exec step failed, else 0 */
    char msg[1024];
};

int lb_process_exit_code_for(int exec_errno)
{
    switch (exec_errno) {
    case ENOENT:
        return 127;
    case EACCES:
    case ENOEXEC:
        return 126;
    default:
        return 125;
    }
}

/* ---- the child ---- */

static _Noreturn void child_report(int fd, int code, int exec_errno, const char *msg)
{
    struct child_report r;
    memset(&r, 0, sizeof(r));
    r.code = code;
    r.exec_errno = exec_errno;
    snprintf(r.msg, sizeof(r.msg), "%s", msg);
    ssize_t n;
    do {
        n = write(fd, &r, sizeof(r)); /* < PIPE_BUF-sized: one write, read whole */
    } while (n < 0 && errno == EINTR);
    _exit(CHILD_FAILED);
}

static _Noreturn void child_fail(int fd, struct lb_error *e)
{
    child_report(fd, e ? e->code : 0, 0, e ? e->msg : "unknown error");
}

static void reset_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &sa, NULL); /* SIGKILL, SIGSTOP and glibc's own fail: fine */
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
}

/* fds[i] (or ours when -1) becomes fd i. Through copies above 2 first, so that fds[1] == 0 or
 * the like cannot be clobbered by an earlier dup2. */
static int take_stdio(const int fds[3], struct lb_error **err)
{
    int copies[3] = {-1, -1, -1};
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++) {
        if (fds[i] >= 0 && (copies[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) < 0)
            rc = lb_error_set(err, errno, "cannot duplicate fd %d", fds[i]);
    }
    for (int i = 0; i < 3 && rc == 0; i++) {
        if (copies[i] >= 0 && dup2(copies[i], i) < 0)
            rc = lb_error_set(err, errno, "cannot set up fd %d", i);
    }
    for (int i = 0; i < 3; i++)
        if (copies[i] >= 0)
            close(copies[i]);
    return rc;
}

/* Every inherited fd above 2 is closed by the exec (the report socket must live until then). */
static int cloexec_from_3(struct lb_error **err)
{
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return 0;
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > (1L << 20))
        max = 1L << 20;
    for (int fd = 3; fd < max; fd++) {
        int fl = fcntl(fd, F_GETFD);
        if (fl >= 0 && !(fl & FD_CLOEXEC) && fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
            return lb_error_set(err, errno, "cannot mark fd %d close-on-exec", fd);
    }
    return 0;
}

static const char *env_get(char *const *env, const char *name)
{
    size_t n = strlen(name);
    for (; env && *env; env++)
        if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
            return *env + n + 1;
    return NULL;
}

/* execvpe with the container's PATH. Returns only on failure, with the errno that explains
 * it best: EACCES if some candidate existed but could not be run, else ENOENT. */
static int exec_in_path(char *const *argv, char *const *env)
{
    const char *file = argv[0];
    if (strchr(file, '/') != NULL) {
        execve(file, argv, env);
        return errno;
    }
    const char *path = env_get(env, "PATH");
    if (path == NULL)
        path = DEFAULT_PATH;
    bool denied = false;
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
        char full[PATH_MAX];
        /* an empty entry is the current directory, as in execvp */
        int n = dlen ? snprintf(full, sizeof(full), "%.*s/%s", (int)dlen, p, file)
                     : snprintf(full, sizeof(full), "%s", file);
        if (n > 0 && (size_t)n < sizeof(full)) {
            execve(full, argv, env);
            switch (errno) {
            case EACCES:
                denied = true;
                break;
            case ENOENT:
            case ENOTDIR:
            case ESTALE:
            case ENODEV:
            case ETIMEDOUT:
            case ENAMETOOLONG:
                break;
            default:
                return errno; /* ENOEXEC, E2BIG, ...: this was the program, and it failed */
            }
        }
        if (colon == NULL)
            break;
        p = colon + 1;
    }
    return denied ? EACCES : ENOENT;
}

static _Noreturn void child_exec(int fd, const struct lb_run_plan *plan)
{
    const char *file = plan->argv[0];
    int e = exec_in_path(plan->argv, plan->env);
    char msg[PATH_MAX + 128];
    bool slash = strchr(file, '/') != NULL;
    if (e == ENOENT && !slash)
        snprintf(msg, sizeof(msg), "exec: \"%s\": executable file not found in $PATH", file);
    else if (e == ENOENT)
        snprintf(msg, sizeof(msg), "exec: \"%s\": stat %s: no such file or directory", file, file);
    else if (e == EACCES)
        snprintf(msg, sizeof(msg), "exec: \"%s\": permission denied", file);
    else if (e == ENOEXEC)
        snprintf(msg, sizeof(msg), "exec: \"%s\": exec format error", file);
    else
        snprintf(msg, sizeof(msg), "cannot execute \"%s\"", file);
    /* docker's texts say it all; anything else keeps its errno for the ": strerror" */
    bool docker_text = e == ENOENT || e == EACCES || e == ENOEXEC;
    child_report(fd, docker_text ? 0 : e, e, msg);
}

static _Noreturn void child_main(int fd, const struct lb_run_plan *plan,
                                 const struct lb_process_opts *opts)
{
    struct lb_error *err = NULL;
    reset_signals();

    char go = 0;
    ssize_t n;
    do {
        n = read(fd, &go, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1)
        _exit(CHILD_FAILED); /* the parent gave up on us */

    if (setsid() < 0)
        child_report(fd, errno, 0, "cannot start a new session");
    int fds[3] = {opts->stdin_fd, opts->stdout_fd, opts->stderr_fd};
    if (take_stdio(fds, &err) < 0)
        child_fail(fd, err);
    if ((plan->clone_flags & CLONE_NEWUTS) && plan->hostname && plan->hostname[0] &&
        lb_sys_sethostname(plan->hostname) < 0) {
        lb_error_set(&err, errno, "cannot set the hostname to '%s'", plan->hostname);
        child_fail(fd, err);
    }
    if ((plan->clone_flags & CLONE_NEWNET) && lb_sys_link_up("lo") < 0) {
        lb_error_set(&err, errno, "cannot bring up the loopback interface 'lo'");
        child_fail(fd, err);
    }
    if (lb_rootfs_setup(plan, &err) < 0)
        child_fail(fd, err);
    const char *cwd = plan->cwd && plan->cwd[0] ? plan->cwd : "/";
    if (chdir(cwd) < 0) {
        lb_error_set(&err, errno, "cannot change to the working directory '%s'", cwd);
        child_fail(fd, err);
    }
    if (plan->tty && isatty(0) && ioctl(0, TIOCSCTTY, 0) < 0) {
        lb_error_set(&err, errno, "cannot make the terminal the controlling terminal");
        child_fail(fd, err);
    }
    if (lb_caps_apply(plan, &err) < 0)
        child_fail(fd, err);
    if (cloexec_from_3(&err) < 0)
        child_fail(fd, err);
    child_exec(fd, plan);
}

/* ---- the parent ---- */

static void namespaces_text(int flags, char *buf, size_t len)
{
    static const struct {
        int flag;
        const char *name;
    } ns[] = {{CLONE_NEWNS, "mnt"},       {CLONE_NEWPID, "pid"}, {CLONE_NEWUTS, "uts"},
              {CLONE_NEWIPC, "ipc"},      {CLONE_NEWNET, "net"}, {CLONE_NEWUSER, "user"},
              {CLONE_NEWCGROUP, "cgroup"}};
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < LB_ARRAY_SIZE(ns); i++) {
        if (!(flags & ns[i].flag))
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? " " : "", ns[i].name);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
}

static void reap(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
}

static void abandon(struct lb_process *proc)
{
    if (proc->pid > 0) {
        kill(proc->pid, SIGKILL);
        reap(proc->pid);
        proc->pid = -1;
    }
    struct lb_error *e = NULL;
    if (lb_cgroup_destroy(&proc->cgroup, &e) < 0)
        lb_cgroup_release(&proc->cgroup);
    lb_error_free(e);
}

int lb_process_start(struct lb_process *proc, const struct lb_run_plan *plan,
                     const struct lb_process_opts *opts, struct lb_error **err)
{
    static const struct lb_process_opts no_opts = LB_PROCESS_OPTS_INIT;
    memset(proc, 0, sizeof(*proc));
    proc->pid = -1;
    if (opts == NULL)
        opts = &no_opts;
    if (plan->argv == NULL || plan->argv[0] == NULL || plan->argv[0][0] == '\0')
        return lb_error_setk(err, LB_EKIND_USAGE, 0, "no command specified");
    if (!(plan->clone_flags & CLONE_NEWNS))
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "the plan has no mount namespace (CLONE_NEWNS): refusing to "
                             "rearrange the host's mounts");

    if (lb_cgroup_create(&proc->cgroup, opts->cgroup_root, opts->self_cgroup, plan, err) < 0)
        return -1;

    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
        int e = errno;
        abandon(proc);
        return lb_error_set(err, e, "cannot create a socket pair");
    }
    _cleanup_close_ int parent_end = sp[0];
    int child_end = sp[1];

    pid_t pid = lb_sys_clone((unsigned long)(unsigned)plan->clone_flags);
    if (pid < 0) {
        int e = errno;
        close(child_end);
        abandon(proc);
        return lb_error_set(err, e, "cannot create the container's process (clone)");
    }
    if (pid == 0) {
        close(parent_end);
        child_main(child_end, plan, opts);
    }
    close(child_end);
    proc->pid = pid;
    char ns[64];
    namespaces_text(plan->clone_flags, ns, sizeof(ns));
    lb_explain("process", "cloned pid %ld into new namespaces: %s", (long)pid, ns);

    if (lb_cgroup_add_pid(&proc->cgroup, pid, err) < 0) {
        abandon(proc);
        return -1;
    }
    char go = 'g';
    if (send(parent_end, &go, 1, MSG_NOSIGNAL) != 1) {
        int e = errno;
        abandon(proc);
        return lb_error_set(err, e, "cannot signal the container's process to go on");
    }
    /* While the child sets up its root: its start time does not change at exec, and a child
     * that exits stays readable in /proc (a zombie) until we wait for it. */
    if (lb_process_start_time(pid, &proc->start_time, err) < 0) {
        abandon(proc);
        return -1;
    }

    struct child_report r;
    struct lb_error *read_err = NULL;
    ssize_t n = lb_read_full(parent_end, &r, sizeof(r), &read_err);
    if (n == 0) {
        lb_explain("process", "pid %ld runs '%s'", (long)pid, plan->argv[0]);
        return 0; /* end-of-file: the exec closed the child's end */
    }
    if (n < 0) {
        abandon(proc);
        if (err && *err == NULL)
            *err = read_err;
        else
            lb_error_free(read_err);
        return lb_error_wrap(err, "reading the container's start report");
    }
    reap(proc->pid);
    proc->pid = -1;
    abandon(proc);
    if ((size_t)n != sizeof(r))
        return lb_error_set(err, 0, "the container's process sent a truncated report");
    r.msg[sizeof(r.msg) - 1] = '\0';
    proc->exec_errno = r.exec_errno;
    return lb_error_set(err, r.code, "%s", r.msg);
}

void lb_process_release(struct lb_process *proc)
{
    lb_cgroup_release(&proc->cgroup);
}

int lb_process_wait(pid_t pid, int *exit_code, struct lb_error **err)
{
    int status = 0;
    for (;;) {
        if (waitpid(pid, &status, 0) >= 0)
            break;
        if (errno != EINTR)
            return lb_error_set(err, errno, "cannot wait for process %ld", (long)pid);
    }
    if (WIFEXITED(status))
        *exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        *exit_code = 128 + WTERMSIG(status);
    else
        *exit_code = 125;
    return 0;
}

/* Fields of /proc/PID/stat after "pid (comm) ": the comm may hold spaces and parentheses, so
 * the fields start after the last ')'. */
static int read_stat(pid_t pid, char *state, unsigned long long *start, struct lb_error **err)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    _cleanup_free_ char *text = NULL;
    if (lb_sys_read_file(path, 1 << 16, &text) < 0)
        return lb_error_set(err, errno, "cannot read '%s'", path);
    const char *p = strrchr(text, ')');
    if (p == NULL || p[1] != ' ')
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "cannot parse '%s'", path);
    p += 2;
    *state = *p;
    /* p is field 3 (state); starttime is field 22, 19 fields further */
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (p == NULL)
            return lb_error_setk(err, LB_EKIND_INVALID, 0, "cannot parse '%s'", path);
        p++;
    }
    char *end = NULL;
    errno = 0;
    *start = strtoull(p, &end, 10);
    if (errno != 0 || end == p)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "cannot parse '%s'", path);
    return 0;
}

int lb_process_start_time(pid_t pid, unsigned long long *out, struct lb_error **err)
{
    char state = 0;
    return read_stat(pid, &state, out, err);
}

bool lb_process_is_running(pid_t pid, unsigned long long start_time)
{
    if (pid <= 0)
        return false;
    char state = 0;
    unsigned long long start = 0;
    struct lb_error *e = NULL;
    if (read_stat(pid, &state, &start, &e) < 0) {
        lb_error_free(e);
        return false;
    }
    return start == start_time && state != 'Z' && state != 'X' && state != 'x';
}

/* ---- foreground signal forwarding ---- */

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
static struct sigaction saved_actions[LB_ARRAY_SIZE(forwarded)];
static volatile sig_atomic_t forward_pid;
static bool forwarding;

static void forward(int sig)
{
    int saved = errno;
    pid_t pid = (pid_t)forward_pid;
    if (pid > 0)
        kill(pid, sig);
    errno = saved;
}

int lb_process_forward_signals(pid_t pid, struct lb_error **err)
{
    if (pid <= 0)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "cannot forward signals to pid %ld",
                             (long)pid);
    forward_pid = pid;
    if (forwarding)
        return 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = forward;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < LB_ARRAY_SIZE(forwarded); i++) {
        if (sigaction(forwarded[i], &sa, &saved_actions[i]) < 0) {
            int e = errno;
            while (i-- > 0)
                sigaction(forwarded[i], &saved_actions[i], NULL);
            forward_pid = 0;
            return lb_error_set(err, e, "cannot install a signal handler");
        }
    }
    forwarding = true;
    return 0;
}

void lb_process_forward_signals_stop(void)
{
    if (!forwarding)
        return;
    for (size_t i = 0; i < LB_ARRAY_SIZE(forwarded); i++)
        sigaction(forwarded[i], &saved_actions[i], NULL);
    forwarding = false;
    forward_pid = 0;
}
