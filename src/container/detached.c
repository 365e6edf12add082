/* detached.c — starting a container detached: the monitor, the process that outlives the
 * command which started it (design.md "The runtime").
 *
 * layerbox forks; the child calls setsid and forks again, and the grandchild is the monitor: a
 * child subreaper with /dev/null as its stdio and no inherited fd but the store's. It starts the
 * container as the foreground does (lb_lifecycle_start_locked), its stdout and stderr on pipes
 * that it pumps into container.log (monitor.h), tells the caller "started" or the error over a
 * pipe, then waits for the process, records the exit, and removes the container when it was
 * created with --rm. The caller only reads that one message.
 *
 * Sits on: container/lifecycle_internal.h (start_locked, finish), container/monitor.h
 *          (lb_log_pump), runtime/process.h, core/explain.h (the monitor's own sink).
 * Interface: lb_lifecycle_start_detached
 */
#include "container/lifecycle_internal.h"
#include "container/monitor.h"

#include "core/cleanup.h"
#include "core/explain.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the monitor tells the CLI: "S" when the container runs, else "E<code> <errno> <kind>
 * <message>". */
static void report(int fd, const char *msg, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, msg, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        msg += n;
        len -= (size_t)n;
    }
}

static void report_error(int fd, int code, const struct lb_error *e)
{
    _cleanup_free_ char *msg =
        lb_xasprintf("E%d %d %d %s", code, e ? e->code : 0, e ? e->kind : 0, e ? e->msg : "failed");
    report(fd, msg, strlen(msg));
}

/* Close every fd above 2 but the ones in keep (sorted, -1 ignored). */
static void close_fds_but(const int *keep, size_t n)
{
    unsigned next = 3;
    for (size_t i = 0; i < n; i++) {
        if (keep[i] < (int)next)
            continue;
        if ((unsigned)keep[i] > next)
            close_range(next, (unsigned)keep[i] - 1, 0);
        next = (unsigned)keep[i] + 1;
    }
    close_range(next, ~0U, 0);
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* The monitor's --explain narration: to the stderr of the layerbox that started it (explain_fd),
 * until the container runs (monitor_main then closes it, so the caller's stderr is not held
 * open for the container's lifetime). The monitor is a program of its own with no CLI above
 * it; this sink is its CLI's. */
static void explain_to_fd(const char *topic, const char *text, void *data)
{
    dprintf(*(int *)data, "[%s] %s\n", topic, text);
}

static void __attribute__((noreturn))
monitor_main(struct lb_store *s, struct lb_container *c, int status_fd)
{
    struct lb_error *e = NULL;
    static int explain_fd = -1;
    if (lb_explain_enabled()) {
        explain_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        lb_explain_set_sink(explain_fd >= 0 ? explain_to_fd : NULL, &explain_fd);
    }
    int keep[4] = {s->root_fd, status_fd, s->tmp_lock_fd, explain_fd};
    qsort(keep, 4, sizeof(int), cmp_int);
    close_fds_but(keep, 4);
    lb_explain("monitor",
               "pid %d watches container %.12s: its own session, subreaper of the "
               "container's process, holder of its output pipes",
               (int)getpid(), c->id);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
        if (devnull > 2)
            close(devnull);
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

    int outp[2] = {-1, -1}, errp[2] = {-1, -1};
    _cleanup_free_ char *logrel = lb_lifecycle_record_rel(c->id, LB_LOG_FILE);
    int log_fd = -1;
    if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        lb_error_set(&e, errno, "cannot make the container's output pipes");
        report_error(status_fd, 125, e);
        _exit(1);
    }
    struct lb_process_opts po = LB_PROCESS_OPTS_INIT;
    po.stdin_fd = 0;
    po.stdout_fd = outp[1];
    po.stderr_fd = errp[1];
    struct lb_lifecycle_rootfs r = {0};
    struct lb_process proc = {0};
    /* The log is created under the lock, once the record is known to exist: created before,
     * it could land in a record that a concurrent rm -f is removing (its rmdir then fails and
     * the start goes on in a record without config.json, invisible to ps). */
    int rc = lb_store_lock(s, &e);
    if (rc == 0) {
        rc = lb_lifecycle_refresh_locked(s, c, &e);
        if (rc == 0) {
            log_fd = openat(s->root_fd, logrel, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
            if (log_fd < 0)
                rc = lb_error_set(&e, errno, "cannot open '%s/%s'", s->root, logrel);
        }
        if (rc == 0)
            rc = lb_lifecycle_start_locked(s, c, &r, &po, &proc, &e);
        lb_store_unlock(s);
    }
    close(outp[1]);
    close(errp[1]);
    if (rc < 0) {
        int code = lb_process_exit_code_for(proc.exec_errno);
        if (r.img != NULL)
            lb_lifecycle_finish(s, c, &r, &proc, false, code, NULL);
        report_error(status_fd, code, e);
        _exit(1);
    }
    lb_explain("monitor",
               "the container's output goes to containers/%.12s…/" LB_LOG_FILE
               "; layerbox returns, the monitor stays",
               c->id);
    lb_explain_set_sink(NULL, NULL);
    if (explain_fd >= 0)
        close(explain_fd);
    report(status_fd, "S", 1);
    close(status_fd);

    struct lb_error *pe = NULL;
    lb_log_pump(outp[0], errp[0], log_fd, &pe);
    lb_error_free(pe);
    close(outp[0]);
    close(errp[0]);
    close(log_fd);
    int code = 0;
    struct lb_error *we = NULL;
    if (lb_process_wait(proc.pid, &code, &we) < 0)
        code = -1;
    lb_error_free(we);
    lb_lifecycle_finish(s, c, &r, &proc, true, code, NULL);
    if (c->auto_remove) {
        struct lb_error *re = NULL;
        /* for a `wait` that is watching: the code outlives the record (container.h) */
        if (code >= 0 && lb_container_tombstone_write(s, c->id, code, &re) < 0)
            lb_error_clear(&re);
        lb_lifecycle_remove_with_volumes(s, c->id, true, NULL, &re);
        lb_error_free(re);
    }
    _exit(0);
}

int lb_lifecycle_start_detached(struct lb_store *s, struct lb_container *c, int *exit_code,
                                struct lb_error **err)
{
    *exit_code = 125;
    int sp[2];
    if (pipe2(sp, O_CLOEXEC) < 0)
        return lb_error_set(err, errno, "cannot make a pipe");
    fflush(NULL);
    pid_t child = fork();
    if (child < 0) {
        close(sp[0]);
        close(sp[1]);
        return lb_error_set(err, errno, "cannot fork the container monitor");
    }
    if (child == 0) {
        close(sp[0]);
        setsid();
        pid_t m = fork();
        if (m != 0)
            _exit(m < 0 ? 1 : 0);
        monitor_main(s, c, sp[1]);
    }
    close(sp[1]);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    struct lb_strbuf msg = LB_STRBUF_INIT;
    char buf[1024];
    for (;;) {
        ssize_t n = read(sp[0], buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        lb_strbuf_add(&msg, buf, (size_t)n);
    }
    close(sp[0]);
    int rc = -1;
    if (msg.len > 0 && msg.buf[0] == 'S') {
        rc = 0;
        lb_explain("container", "%.12s started under its monitor", c->id);
        /* the monitor recorded the start: refresh ours */
        struct lb_container *now = lb_container_load(s, c->id, NULL);
        if (now) {
            c->state = now->state;
            lb_container_free(now);
        }
    } else if (msg.len > 0 && msg.buf[0] == 'E') {
        int code = 125, errnum = 0, kind = 0, off = 0;
        if (sscanf(msg.buf + 1, "%d %d %d %n", &code, &errnum, &kind, &off) >= 3 && off > 0) {
            *exit_code = code;
            lb_error_setk(err, kind, errnum, "%s", msg.buf + 1 + off);
        } else {
            lb_error_set(err, 0, "the container monitor failed");
        }
    } else {
        lb_error_set(err, 0, "the container monitor ended before starting the container");
    }
    lb_strbuf_release(&msg);
    return rc;
}
