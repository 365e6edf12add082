/* test_procs.c — a container's processes: those in its PID namespace and the descendants of its
 * first process, never the caller's; a pid that does not exist is an error. */
#include "unit.h"

#include "runtime/procs.h"
#include "runtime/sys.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static bool contains(const pid_t *v, size_t n, pid_t p)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == p)
            return true;
    return false;
}

/* The host pid of the calling process, from the host's /proc (whatever PID namespace we are in). */
static pid_t host_pid(void)
{
    char buf[32] = {0};
    if (readlink("/proc/self", buf, sizeof(buf) - 1) < 0)
        _exit(9);
    return (pid_t)atoi(buf);
}

static pid_t read_pid(int fd)
{
    pid_t p = 0;
    if (read(fd, &p, sizeof(p)) != (ssize_t)sizeof(p))
        fail_msg("child did not report its pid");
    return p;
}

/* A child that forks a grandchild; both pause. Reports both host pids. */
static void test_procs__lists_a_process_and_its_descendants_but_not_the_caller(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        if (fork() == 0) {
            pid_t g = getpid();
            if (write(p[1], &g, sizeof(g)) < 0)
                _exit(1);
            pause();
            _exit(0);
        }
        pause();
        _exit(0);
    }
    pid_t grandchild = read_pid(p[0]);
    pid_t *pids = NULL;
    size_t n = 0;
    struct lb_error *err = NULL;
    assert_int_equal(lb_procs_in_pidns(child, &pids, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(pids[0], child < grandchild ? child : grandchild);
    assert_true(contains(pids, n, child) && contains(pids, n, grandchild));
    assert_false(contains(pids, n, getpid()));
    free(pids);
    kill(grandchild, SIGKILL);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    close(p[0]);
    close(p[1]);
}

/* Root: a child unshares a PID namespace and forks its pid 1, which forks again; then it forks
 * a second process into the namespace, which is no descendant of pid 1 (as a process `exec`ed
 * into a container is not): the listing is those three, not the child that made the namespace
 * (it stays in ours) nor us. */
static void test_procs__lists_the_processes_of_a_pid_namespace(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    int p[2], pi[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(pipe(pi), 0);
    pid_t maker = fork();
    assert_true(maker >= 0);
    if (maker == 0) {
        if (lb_sys_unshare(CLONE_NEWPID) < 0)
            _exit(2);
        if (fork() == 0) { /* pid 1 of the new namespace */
            pid_t init = host_pid();
            if (write(pi[1], &init, sizeof(init)) < 0)
                _exit(1);
            if (fork() == 0) {
                pid_t g = host_pid();
                if (write(p[1], &g, sizeof(g)) < 0)
                    _exit(1);
                pause();
                _exit(0);
            }
            pause();
            _exit(0);
        }
        if (fork() == 0) { /* in the namespace, its parent outside */
            pid_t s = host_pid();
            if (write(p[1], &s, sizeof(s)) < 0)
                _exit(1);
            pause();
            _exit(0);
        }
        pause();
        _exit(0);
    }
    pid_t init = read_pid(pi[0]);
    pid_t got[3] = {init, read_pid(p[0]), read_pid(p[0])}; /* + the inner one and the sibling */
    pid_t *pids = NULL;
    size_t n = 0;
    struct lb_error *err = NULL;
    assert_int_equal(lb_procs_in_pidns(init, &pids, &n, &err), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < 3; i++)
        assert_true(contains(pids, n, got[i]));
    assert_false(contains(pids, n, maker));
    assert_false(contains(pids, n, getpid()));
    assert_false(contains(pids, n, 1));
    free(pids);
    for (size_t i = 0; i < 3; i++)
        kill(got[i], SIGKILL);
    kill(maker, SIGKILL);
    waitpid(maker, NULL, 0);
    close(p[0]);
    close(p[1]);
    close(pi[0]);
    close(pi[1]);
}

static void test_procs__a_pid_that_does_not_exist_is_an_error(void **state)
{
    (void)state;
    pid_t gone = fork(); /* a pid that surely existed and is free once reaped */
    assert_true(gone >= 0);
    if (gone == 0)
        _exit(0);
    assert_int_equal(waitpid(gone, NULL, 0), gone);
    pid_t *pids = NULL;
    size_t n = 7;
    struct lb_error *err = NULL;
    assert_int_equal(lb_procs_in_pidns(gone, &pids, &n, &err), -1);
    assert_null(pids);
    assert_int_equal(n, 0);
    assert_int_equal(err->code, ESRCH);
    char want[32];
    snprintf(want, sizeof(want), "no process %d", (int)gone);
    assert_error_contains(err, want);
}

static void test_procs__a_pid_that_is_not_positive_is_an_error(void **state)
{
    (void)state;
    pid_t *pids = NULL;
    size_t n = 0;
    struct lb_error *err = NULL;
    assert_int_equal(lb_procs_in_pidns(0, &pids, &n, &err), -1);
    assert_error_contains(err, "invalid process id 0");
    assert_int_equal(lb_procs_in_pidns(-5, &pids, &n, &err), -1);
    assert_error_contains(err, "invalid process id -5");
}

LB_UNIT_MAIN(cmocka_unit_test(test_procs__lists_a_process_and_its_descendants_but_not_the_caller),
             cmocka_unit_test(test_procs__lists_the_processes_of_a_pid_namespace),
             cmocka_unit_test(test_procs__a_pid_that_does_not_exist_is_an_error),
             cmocka_unit_test(test_procs__a_pid_that_is_not_positive_is_an_error))
